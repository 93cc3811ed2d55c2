#ifndef MASTER_TRIM_H
#define MASTER_TRIM_H

#include <stddef.h>
#include <stdint.h>

/*
 * A time range of the input (the command line's --start/--end), made a file of its own before
 * the job: frame-exact, which a cut on keyframes is not, and with the sound trimmed to the same
 * span. The picture is re-encoded losslessly (x264 -qp 0, its pixel format, colour tags and
 * global metadata carried over) and the sound as FLAC, so the job renders exactly those
 * frames and joins exactly that sound; the price is one extra encode of the range.
 */

struct argv;

/* "90", "90.5", "1:30", "01:02:03.250" -> seconds; -1 when it is none of these. */
int trim_time_parse(const char *s, double *out);
/* The ffmpeg command writing [start, end) of input to output (Matroska); end 0: to the end.
 * a needs 48 slots and 3 x 4096 bytes of words. It prints its progress on stdout. */
void trim_argv(const char *input, double start, double end, const char *output, struct argv *a);
/* The frames trim_argv's command wrote, from its stdout (the last "frame=N"). */
int64_t trim_frames(const char *out, size_t len);

#endif
