#ifndef WORKER_ENCODE_H
#define WORKER_ENCODE_H

struct argv;
struct render_task;

/* argv slots encode_args adds at most */
#define ENCODE_ARGS 32

/* Appends the encoder options of t to a: codec, preset or speed, crf or bitrate, one thread
 * (so the output is byte-identical whatever the number of workers), pixel format and colour
 * tags. */
void encode_args(const struct render_task *t, struct argv *a);

#endif
