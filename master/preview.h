#ifndef MASTER_PREVIEW_H
#define MASTER_PREVIEW_H

#include <stddef.h>

struct event_base;
struct probe;

/*
 * One frame of a video through a filter chain, as a PNG or JPEG, rendered by a worker: a
 * preview task ("kind": "preview", worker/still.h) to a worker process forked for it (a pool
 * of one, master/pool.h), which decodes the frame at `t` seconds, filters it with the kernels
 * segments use and encodes the image into a file of tmpdir; the master reads the image back.
 * A fork and two short ffmpeg children, so a preview takes a fraction of a second.
 */
/* Frames larger than this are scaled down to it (4K): the memory a preview holds is bounded. */
#define PREVIEW_MAX_PIXELS	(3840 * 2160)

typedef void (*preview_cb)(const char *image, size_t len, const char *error, void *arg);

struct preview_req {
	const char *input;
	const struct probe *probe;
	const char *filter;     /* a valid chain spec */
	double t;               /* seconds; clamped into the video */
	int jpeg;               /* 0: PNG */
	const char *tmpdir;     /* where the worker writes the image */
};

/* Starts; the callback runs once, in the loop. -1 with a message if it could not start. */
int preview_start(struct event_base *base, const struct preview_req *r, preview_cb cb, void *arg,
    char *err, size_t errlen);

#endif
