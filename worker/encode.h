#ifndef WORKER_ENCODE_H
#define WORKER_ENCODE_H

struct render_task;

/* strings encode_args keeps */
#define ENCODE_BUFS 4
/* argv slots encode_args adds at most */
#define ENCODE_ARGS 32

/* Appends the encoder options of t to argv from slot k: codec, preset or speed, crf or bitrate,
 * one thread (so the output is byte-identical whatever the number of workers), pixel format
 * and colour tags. Returns the new count. */
int encode_args(const struct render_task *t, char **argv, int k, char bufs[ENCODE_BUFS][64]);

#endif
