#ifndef WORKER_FILTER_H
#define WORKER_FILTER_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

/* One planar YUV frame, limited range, in the layout the chain was prepared for (struct
 * filter_format): by default 8-bit 4:2:0 (ffmpeg's yuv420p), chroma planes
 * ((width+1)/2) x ((height+1)/2). Above 8 bits a sample is a uint16_t in the machine's order
 * (yuv420p10le...) and linesize still counts bytes. The worker reads frames from ffmpeg's
 * rawvideo output, so in practice linesize == plane width (no padding) and width/height are
 * even, but kernels must be correct for any size >= 1x1 and any linesize >= plane width. */
struct frame {
	uint8_t *data[3];
	int linesize[3];
	int width, height;
};

enum filter_matrix { FILTER_BT601, FILTER_BT709, FILTER_BT2020 };

/* The sample layout of a frame: bits per sample (8: one byte; 9 or 10: two bytes, the value
 * in the low bits) and the chroma subsampling as log2 of the luma samples per chroma sample
 * across and down (4:2:0: 1 1, 4:2:2: 1 0, 4:4:4: 0 0). */
struct filter_format {
	int depth;
	int cw_log2, ch_log2;
};

/* the blur's 16-bit lanes keep enough fraction bits for 10-bit samples, not for 12 */
#define FILTER_DEPTH_MAX	10
extern const struct filter_format filter_format_yuv420p;

/* The layout of one of ffmpeg's planar YUV pix_fmts (yuv420p, yuv422p10le...); -1 when the
 * kernels have no path for it. */
int filter_format_from_name(const char *pix_fmt, struct filter_format *fmt);
/* A plane's size in samples for a width x height frame. */
int filter_format_plane_width(const struct filter_format *fmt, int width, int plane);
int filter_format_plane_height(const struct filter_format *fmt, int height, int plane);

struct filter_chain;

/* Parses a chain spec (common/fspec.h: "blur:sigma=3,grayscale") and picks each filter's
 * kernel. NULL with the spec language's message on error. */
struct filter_chain *filter_chain_parse(const char *spec, char *err, size_t errlen);
/* Its canonical spec (fspec_string). */
const char *filter_chain_spec(const struct filter_chain *fc);
/* Allocates whatever scratch the kernels need for frames of this size, once per segment:
 * filter_chain_apply must never allocate. -1 with message on failure. */
int filter_chain_prepare(struct filter_chain *fc, int width, int height, enum filter_matrix m, char *err, size_t errlen);
/* The same for frames of another layout (filter_chain_prepare is yuv420p). */
int filter_chain_prepare_format(struct filter_chain *fc, int width, int height,
    const struct filter_format *fmt, enum filter_matrix m, char *err, size_t errlen);
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
