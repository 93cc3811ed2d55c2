#ifndef WORKER_FILTER_KERNEL_H
#define WORKER_FILTER_KERNEL_H

/* What the chain (filter.c) and the kernels (filter_*.c) share. Not for the rest of the
 * program: it codes against worker/filter.h. */

#include <stdint.h>
#include <stddef.h>

#include "common/fspec.h"
#include "worker/filter.h"

#define FILTER_MAX_PARAMS	FSPEC_MAX_PARAMS

struct filter_kernel;

/* One filter of a chain: its table row (common/fspec.h), its kernel, its parameter values in
 * table order, and the scratch its prepare function made. The state is a single malloc'd block
 * that the chain frees, so a kernel needs no free function; filter_carve() lays several arrays
 * out inside it. */
struct filter_inst {
	const struct fspec_def		*def;
	const struct filter_kernel	*kernel;
	double				 param[FILTER_MAX_PARAMS];
	void				*state;
};

/* Makes fi->state for frames of this size and layout (no prepare: the kernel needs no
 * scratch). The layout is checked by the chain (filter_format_from_name's formats only). */
typedef int	filter_prepare_fn(struct filter_inst *fi, int width, int height,
		    const struct filter_format *fmt, enum filter_matrix m, char *err,
		    size_t errlen);
/* Filters f in place; never allocates. */
typedef void	filter_apply_fn(struct filter_inst *fi, struct frame *f);
/* The planes a prepared instance reads and writes (FILTER_PLANE_* bits). A plane it writes
 * without reading must be written whole: the worker does not fill it from the input. */
typedef void	filter_planes_fn(const struct filter_inst *fi, unsigned *reads, unsigned *writes);

/*
 * gcc 12 vectorises at -O2 with the "very cheap" cost model, which only accepts a loop whose
 * trip count is known to be a multiple of the vector length. Kernels therefore run their
 * inner loops over FILTER_VEC_CEIL(n) elements of scratch rows allocated that wide, and copy
 * the real width out with memcpy, or split a loop into a vector part over n rounded down
 * and a scalar tail. 32 covers bytes in 256-bit vectors.
 */
#define FILTER_VEC		32
#define FILTER_VEC_CEIL(n)	(((n) + FILTER_VEC - 1) & ~(FILTER_VEC - 1))

/*
 * The hot loops are also built for AVX2 and picked at load time (an ifunc): -O2 without
 * -march gives SSE2 only, which has no 32-bit multiply and half the width.
 * -DFILTER_NO_CLONES measures the SSE2 code alone. Either way they stay out of line: once
 * inlined, gcc forgets that their restrict pointers do not alias and leaves loops scalar.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(FILTER_NO_CLONES)
#define FILTER_CLONES	__attribute__((target_clones("avx2", "default"), noinline))
#else
#define FILTER_CLONES	__attribute__((noinline))
#endif

/* Helpers for kernels, in filter.c. */
/* A sample row of a frame above 8 bits. */
#define FILTER_ROW16(f, p, y) \
	((uint16_t *)(void *)((f)->data[p] + (size_t)(y) * (size_t)(f)->linesize[p]))
/* What 8-bit level v is at this depth: limited range scales by 2^(depth-8). */
#define FILTER_LEVEL(fmt, v)	((v) << ((fmt)->depth - 8))
/* Fills n samples of a row (one or two bytes each) with v. */
void	 filter_fill_row(uint8_t *row, int depth, int v, size_t n);
/* A scratch size rounded up so that arrays carved out of a state block stay 64-byte
 * aligned; filter_carve hands out the next n bytes of a block sized with it. */
size_t	 filter_align(size_t n);
void	*filter_carve(char **cursor, size_t n);
/* One 64-byte aligned block of n bytes (zeroed), or NULL with a message naming the filter. */
void	*filter_state_alloc(struct filter_inst *fi, size_t n, char *err, size_t errlen);
const char *filter_inst_name(const struct filter_inst *fi);
/* The value of a parameter by its table name (prepare time only; the name must exist). */
double	 filter_inst_param(const struct filter_inst *fi, const char *name);

/* filter_color.c: per-plane maps (no neighbours). */
filter_prepare_fn	filter_color_grayscale_prepare;
filter_prepare_fn	filter_color_invert_prepare;
filter_prepare_fn	filter_color_brightness_prepare;
filter_prepare_fn	filter_color_contrast_prepare;
filter_prepare_fn	filter_color_saturation_prepare;
filter_prepare_fn	filter_color_adjust_prepare;
filter_apply_fn		filter_color_apply;
filter_planes_fn	filter_color_planes;

/* filter_rgb.c: filters defined on RGB, through a per-pixel YUV->RGB->YUV conversion. */
filter_prepare_fn	filter_rgb_sepia_prepare;
filter_prepare_fn	filter_rgb_warm_prepare;
filter_prepare_fn	filter_rgb_cool_prepare;
filter_apply_fn		filter_rgb_apply;

/* filter_blur.c: separable Gaussian, and the unsharp mask built on it. */
filter_prepare_fn	filter_blur_prepare;
filter_prepare_fn	filter_blur_sharpen_prepare;
filter_apply_fn		filter_blur_apply;

/* filter_edge.c */
filter_prepare_fn	filter_edge_prepare;
filter_apply_fn		filter_edge_apply;

/* filter_pixelate.c */
filter_prepare_fn	filter_pixelate_prepare;
filter_apply_fn		filter_pixelate_apply;

/* filter_vignette.c */
filter_prepare_fn	filter_vignette_prepare;
filter_apply_fn		filter_vignette_apply;

#endif
