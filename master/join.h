#ifndef MASTER_JOIN_H
#define MASTER_JOIN_H

#include <stddef.h>

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

/* The ffmpeg command that concatenates the encoded segments (stream copy) into f's container
 * and brings back from the original what the plan keeps: its audio (copied or encoded), its
 * subtitle and attachment streams, its global, video-stream and chapter metadata (the other
 * streams' metadata follows them). The segments are read through DIR/concat.txt, or with
 * `feed` as one MPEG-TS stream on stdin (join_feed_argv), so the join runs beside the render.
 * argv needs JOIN_ARGV slots. */
void join_argv(const char *dir, const char *input, const struct probe *p, const struct format *f,
    const struct format_plan *pl, const char *output, int feed, char **argv, char bufs[JOIN_BUFS][4096]);

/*
 * Whether the pieces of f can be fed to the join as MPEG-TS (H.264, HEVC; not VP9 or AV1).
 * MPEG-TS streams written one after the other make one stream: each piece is remuxed onto
 * the join's stdin as it is rendered, in order, and the output is complete a remux of the
 * last piece after it.
 */
int join_feedable(const struct format *f);
/* The ffmpeg command that writes the piece (an encoded segment) to stdout as MPEG-TS, its
 * times moved by offset seconds (the frames before it); argv needs 24 slots. */
void join_feed_argv(const char *piece, double offset, char **argv, char bufs[2][4096]);

#endif
