#ifndef WORKER_FILTER_H
#define WORKER_FILTER_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

/* One planar 8-bit YUV 4:2:0 frame, limited range (ffmpeg's yuv420p).
 * Chroma planes are ((width+1)/2) x ((height+1)/2). The worker reads frames from ffmpeg's
 * rawvideo output, so in practice linesize == plane width (no padding) and width/height are
 * even, but kernels must be correct for any size >= 1x1 and any linesize >= plane width. */
struct frame {
	uint8_t *data[3];
	int linesize[3];
	int width, height;
};

enum filter_matrix { FILTER_BT601, FILTER_BT709, FILTER_BT2020 };

struct filter_chain;

/* Parses a chain spec (common/fspec.h: "blur:sigma=3,grayscale") and picks each filter's
 * kernel. NULL with the spec language's message on error. */
struct filter_chain *filter_chain_parse(const char *spec, char *err, size_t errlen);
/* Its canonical spec (fspec_string). */
const char *filter_chain_spec(const struct filter_chain *fc);
/* Allocates whatever scratch the kernels need for frames of this size, once per segment:
 * filter_chain_apply must never allocate. -1 with message on failure. */
int filter_chain_prepare(struct filter_chain *fc, int width, int height, enum filter_matrix m, char *err, size_t errlen);
/* Applies every filter left to right, in place, in one pass per filter, no encode between. */
void filter_chain_apply(struct filter_chain *fc, struct frame *f);
/* The planes a prepared chain reads and writes, as bit masks: the worker passes the planes it
 * does not touch from the decoder to the encoder without reading them, and drops the input
 * of those it writes without reading (grayscale's chroma). */
#define FILTER_PLANE_Y		1u
#define FILTER_PLANE_U		2u
#define FILTER_PLANE_V		4u
#define FILTER_PLANES_ALL	7u
void filter_chain_planes(const struct filter_chain *fc, unsigned *reads, unsigned *writes);
void filter_chain_free(struct filter_chain *fc);

#endif
