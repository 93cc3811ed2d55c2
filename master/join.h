#ifndef MASTER_JOIN_H
#define MASTER_JOIN_H

#include <stddef.h>
#include <stdint.h>

struct probe;
struct format;
struct format_plan;

/* strings join_argv keeps: four paths, six per audio stream (PROBE_MAX_AUDIO) and five per
 * extra stream (PROBE_MAX_EXTRA) */
#define JOIN_BUFS (4 + 6 * 8 + 5 * 16)
/* argv slots join_argv needs at most */
#define JOIN_ARGV 200

/* Writes DIR/concat.txt naming SUBDIR/out_NNNNN.mp4 for n segments, for the concat demuxer. */
int join_write_list(const char *dir, const char *subdir, int n, char *err, size_t errlen);

/* The same for the pieces with frames[i] > 0 (a piece that decoded nothing has no file);
 * with starts (the pieces' times in the input, or NULL), each file lasts until the next
 * listed one starts, whatever its frames' own length. -1 with a message, also when no piece
 * has a frame. */
int join_write_kept(const char *dir, const char *subdir, int n, const int64_t *frames,
    const double *starts, char *err, size_t errlen);

/* The ffmpeg command that concatenates the encoded segments (stream copy) into f's container
 * and brings back from the original what the plan keeps: its audio (copied or encoded), its
 * subtitle and attachment streams, its global, video-stream and chapter metadata (the other
 * streams' metadata follows them). argv needs JOIN_ARGV slots. */
void join_argv(const char *dir, const char *input, const struct probe *p, const struct format *f,
    const struct format_plan *pl, const char *output, char **argv, char bufs[JOIN_BUFS][4096]);

#endif
