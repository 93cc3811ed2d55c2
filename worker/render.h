#ifndef WORKER_RENDER_H
#define WORKER_RENDER_H

#include <stdint.h>
#include <stddef.h>

#include "worker/filter.h"

/* One segment to render: decode -> filter -> encode. Strings are borrowed. */
struct render_task {
	int task;               /* index in the pool's map, echoed back */
	int segment;            /* segment number, for messages */
	const char *input;      /* the cut segment, or a concat list of several */
	int concat;             /* 1: input is an ffconcat list of the files to decode in turn */
	const char *output;     /* the encoded result (written to OUTPUT.tmp, then renamed) */
	const char *filter;     /* filter chain spec */
	const char *fps;        /* output frame rate as a rational, "30000/1001" */
	const char *preset;     /* x264 preset */
	const char *matrix;     /* "bt601", "bt709" or "bt2020": how the RGB filters convert */
	const char *codec;      /* h264, hevc, av1, vp9 */
	const char *pix_fmt;    /* what the decoder writes, the filters work on and the encoder writes */
	/* colour tags for the encoder, as ffmpeg names them ("" when unknown); a full-range
	 * ("pc") picture is filtered in limited range and turned back to full range to encode */
	const char *color_range, *color_primaries, *color_trc, *colorspace;
	int bitrate;            /* kbit/s; 0: crf */
	int cfr;                /* 1: pass frames through as they are; 0: resample to fps */
	int timed;              /* 1: pass frames through with their own times (a variable rate) */
	int width, height;      /* output size: upright and even */
	int rotation;           /* clockwise degrees to turn the decoded picture: 0, 90, 180, 270 */
	int crf;
	int64_t skip;           /* decoded frames to drop first (a split inside a keyframe interval) */
	int64_t count;          /* frames to keep after that, 0 = all */
};

struct render_result {
	int64_t frames;         /* frames encoded; 0: nothing decoded, no output written */
	int64_t decoded;        /* of them, frames the decoder gave (the rest hold the last one) */
	double wall;            /* seconds, the whole segment */
	double filter_time;     /* seconds in the filter kernels */
	double decode_cpu;      /* CPU seconds of the ffmpeg decoder child */
	double encode_cpu;      /* CPU seconds of the ffmpeg encoder child */
	double worker_cpu;      /* CPU seconds of the worker itself during the segment */
	long max_rss_kb;        /* the worker's peak resident memory so far (not its children) */
	int64_t copied;         /* bytes of frames the worker read into its memory; planes it
	                         * leaves alone and pre-roll frames are spliced past it (route.h) */
	int retry;              /* a failure worth retrying (a child killed by a signal) */
};

/* Called every so often with the frames done so far. */
typedef void (*render_progress_fn)(void *arg, int64_t frames);

/* Set from a signal handler: the render stops, kills its children and fails. */
extern volatile int render_stop;

int render_segment(const struct render_task *t, render_progress_fn progress, void *arg,
    struct render_result *res, char *err, size_t errlen);

/* The matrix the filters use for a task's "matrix" name. */
enum filter_matrix render_matrix(const char *name);

/* Points f at a packed yuv420p frame of an even width x height in buf (as ffmpeg's rawvideo
 * writes it); returns the frame's size in bytes. */
size_t render_frame_wrap(struct frame *f, uint8_t *buf, int width, int height);
/* The same for a frame of another layout (yuv422p10le...: two bytes a sample above 8 bits). */
size_t render_frame_wrap_format(struct frame *f, uint8_t *buf, int width, int height,
    const struct filter_format *fmt);

/* Builds the decoder's -vf graph for a task: rotation, crop to even size, limited range,
 * the task's pix_fmt. */
int render_vf(const struct render_task *t, char *buf, size_t n);

#endif
