#ifndef WORKER_STILL_H
#define WORKER_STILL_H

#include <stddef.h>
#include <jansson.h>

/*
 * A still: one frame of a video through a filter chain, as a PNG or JPEG (the master's
 * previews). A task of its own ("kind": "preview"): an ffmpeg child decodes the frame at `t`
 * (upright, limited range, 8-bit 4:2:0, scaled to the image's size), the chain filters it
 * here with the kernels segments use, a second ffmpeg child encodes the image into `output`.
 * Strings are borrowed from the task's JSON.
 */
struct still_task {
	int task;               /* index in the pool's map, echoed back */
	const char *input;      /* the video, as the master probed it */
	const char *formats;    /* the demuxers ffmpeg may use on it (-format_whitelist) */
	const char *filter;     /* filter chain spec */
	const char *matrix;     /* "bt601", "bt709" or "bt2020" */
	const char *color_range;  /* "tv" or "pc" */
	const char *output;     /* where the image is written */
	double t;               /* seconds into the video, already inside it */
	int width, height;      /* the video's upright size (even) */
	int rotation;           /* clockwise degrees to turn the decoded picture */
	int out_width, out_height;  /* the image's size (even; smaller for frames over 4K) */
	int jpeg;               /* 0: PNG */
};

int still_parse(json_t *j, struct still_task *t, char *err, size_t errlen);
/* Writes the image; -1 with a message saying which step failed and why. */
int still_render(const struct still_task *t, char *err, size_t errlen);

#endif
