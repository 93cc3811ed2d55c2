#ifndef MASTER_JOIN_H
#define MASTER_JOIN_H

#include <stddef.h>

struct probe;

/* strings join_argv keeps: four paths and two options per audio stream (PROBE_MAX_AUDIO) */
#define JOIN_BUFS (4 + 2 * 8)

/* Writes DIR/concat.txt naming SUBDIR/out_NNNNN.mp4 for n segments, for the concat demuxer. */
int join_write_list(const char *dir, const char *subdir, int n, char *err, size_t errlen);

/* The ffmpeg command that concatenates the encoded segments (stream copy) and muxes the
 * original's audio back: copied when it is AAC or MP3 (what MP4 players and browsers all
 * play), else encoded to AAC. Output is MP4 with +faststart. argv needs 64 slots. */
void join_argv(const char *dir, const char *input, const struct probe *p, const char *output,
    char **argv, char bufs[JOIN_BUFS][4096]);

/* True when this audio codec is copied as it is. */
int join_audio_copyable(const char *codec);

#endif
