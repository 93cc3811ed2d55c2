#ifndef MASTER_JOIN_H
#define MASTER_JOIN_H

#include <stddef.h>
#include <stdint.h>

struct argv;
struct probe;
struct format;
struct format_plan;

/* join_argv's inputs, in the order ffmpeg opens them */
#define JOIN_IN_ORIGINAL 0  /* the original: audio, subtitles, metadata */
#define JOIN_IN_WAIT 1      /* stdin, read to its end before the list is opened */
#define JOIN_IN_LIST 2      /* DIR/concat.txt: the pieces */
#define JOIN_IN_AUDIO 3     /* the audio encoded beside the render, if any */

/* join_argv's words at most: the head, the four inputs, eight per audio stream
 * (PROBE_MAX_AUDIO), six per extra stream (PROBE_MAX_EXTRA), the metadata and the output */
#define JOIN_ARGV 224
/* the buffer its formatted words need: four paths and the streams' small words */
#define JOIN_WORDS (5 * 4096)

/* Writes DIR/concat.txt naming SUBDIR/out_NNNNN.mp4, for the concat demuxer, for the pieces
 * with frames[i] > 0 (a piece that decoded nothing has no file);
 * with starts (the pieces' times in the input, or NULL), each file lasts until the next
 * listed one starts, whatever its frames' own length. -1 with a message, also when no piece
 * has a frame. */
int join_write_kept(const char *dir, const char *subdir, int n, const int64_t *frames,
    const double *starts, char *err, size_t errlen);

/* The ffmpeg command that concatenates the encoded segments (stream copy) into f's container
 * and brings back from the original what the plan keeps: its audio (copied, or encoded here,
 * or copied from `audio`, the file audio_argv encoded beside the render, when not NULL), its
 * subtitle and attachment streams, its global, video-stream and chapter metadata (the other
 * streams' metadata follows them). It reads DIR/concat.txt only once its stdin has ended, so
 * it can be started before the list is written. a needs JOIN_ARGV slots and JOIN_WORDS bytes
 * of words. */
void join_argv(const char *dir, const char *input, const char *audio, const struct probe *p,
    const struct format *f, const struct format_plan *pl, const char *output, struct argv *a);

#endif
