#ifndef MASTER_PREVIEW_H
#define MASTER_PREVIEW_H

#include <stddef.h>

struct event_base;
struct probe;

/*
 * One frame of a video through a filter chain, as a PNG or JPEG, with the same kernels the
 * workers use: an ffmpeg child decodes the frame at `t` seconds (upright, 8-bit 4:2:0), the
 * chain filters it here, a second ffmpeg child encodes the image. Two short children, so a
 * preview takes a fraction of a second.
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
	const char *tmpdir;     /* where the raw frame is kept between the two children */
};

/* Starts; the callback runs once, in the loop. -1 with a message if it could not start. */
int preview_start(struct event_base *base, const struct preview_req *r, preview_cb cb, void *arg,
    char *err, size_t errlen);

#endif
