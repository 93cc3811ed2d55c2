#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/fspec.h"
#include "common/log.h"
#include "worker/filter.h"
#include "worker/filter_kernel.h"

struct filter_kernel {
	const char		*name;		/* the row of common/fspec.c it computes */
	filter_prepare_fn	*prepare;	/* NULL: needs no scratch */
	filter_apply_fn		*apply;
	filter_planes_fn	*planes;	/* NULL: reads and writes all */
};

struct filter_chain {
	int			 n;
	struct filter_inst	 f[FSPEC_CHAIN_MAX];
	int			 width, height;			/* 0 until prepared */
	struct filter_format	 fmt;				/* the frames' layout */
	struct fspec		*fs;				/* what was parsed */
};

static filter_apply_fn	filter_none_apply;
static filter_planes_fn	filter_none_planes;

/*
 * The kernel of each filter of the table (common/fspec.c, where the names, parameters and
 * defaults are); see each kernel for the maths.
 */
static const struct filter_kernel filter_kernels[] = {
	{ "grayscale", filter_color_grayscale_prepare, filter_color_apply, filter_color_planes },
	{ "blur", filter_blur_prepare, filter_blur_apply, NULL },
	{ "sepia", filter_rgb_sepia_prepare, filter_rgb_apply, NULL },
	{ "brightness", filter_color_brightness_prepare, filter_color_apply, filter_color_planes },
	{ "contrast", filter_color_contrast_prepare, filter_color_apply, filter_color_planes },
	{ "saturation", filter_color_saturation_prepare, filter_color_apply, filter_color_planes },
	{ "warm_tone", filter_rgb_warm_prepare, filter_rgb_apply, NULL },
	{ "cool_tone", filter_rgb_cool_prepare, filter_rgb_apply, NULL },
	{ "edge_detection", filter_edge_prepare, filter_edge_apply, NULL },
	{ "invert", filter_color_invert_prepare, filter_color_apply, filter_color_planes },
	{ "sharpen", filter_blur_sharpen_prepare, filter_blur_apply, NULL },
	{ "pixelate", filter_pixelate_prepare, filter_pixelate_apply, NULL },
	{ "vignette", filter_vignette_prepare, filter_vignette_apply, NULL },
	{ "color", filter_color_adjust_prepare, filter_color_apply, filter_color_planes },
	{ "none", NULL, filter_none_apply, filter_none_planes },
};

#define FILTER_KERNELS	((int)(sizeof filter_kernels / sizeof filter_kernels[0]))

static void
filter_none_apply(struct filter_inst *fi, struct frame *f)
{
}

static void
filter_none_planes(const struct filter_inst *fi, unsigned *reads, unsigned *writes)
{
	*reads = *writes = 0;
}

static const struct filter_kernel *
filter_kernel_find(const char *name)
{
	int	i;

	for (i = 0; i < FILTER_KERNELS; i++)
		if (strcmp(filter_kernels[i].name, name) == 0)
			return &filter_kernels[i];
	return NULL;
}

const struct filter_format filter_format_yuv420p = { 8, 1, 1 };

int
filter_format_from_name(const char *pix_fmt, struct filter_format *fmt)
{
	static const struct {
		const char		*name;
		struct filter_format	 fmt;
	} known[] = {
		{ "yuv420p", { 8, 1, 1 } }, { "yuv422p", { 8, 1, 0 } }, { "yuv444p", { 8, 0, 0 } },
		{ "yuv420p10le", { 10, 1, 1 } }, { "yuv422p10le", { 10, 1, 0 } },
		{ "yuv444p10le", { 10, 0, 0 } },
	};
	size_t	i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strcmp(pix_fmt, known[i].name) == 0) {
			*fmt = known[i].fmt;
			return 0;
		}
	}
	return -1;
}

int
filter_format_plane_width(const struct filter_format *fmt, int width, int plane)
{
	return plane == 0 ? width : (width + (1 << fmt->cw_log2) - 1) >> fmt->cw_log2;
}

int
filter_format_plane_height(const struct filter_format *fmt, int height, int plane)
{
	return plane == 0 ? height : (height + (1 << fmt->ch_log2) - 1) >> fmt->ch_log2;
}

void
filter_fill_row(uint8_t *row, int depth, int v, size_t n)
{
	uint16_t	*row16 = (uint16_t *)(void *)row;
	size_t		 i;

	if (depth == 8) {
		memset(row, v, n);
		return;
	}
	for (i = 0; i < n; i++)
		row16[i] = (uint16_t)v;
}

size_t
filter_align(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

void *
filter_carve(char **cursor, size_t n)
{
	void	*p = *cursor;

	*cursor += filter_align(n);
	return p;
}

const char *
filter_inst_name(const struct filter_inst *fi)
{
	return fi->def->name;
}

double
filter_inst_param(const struct filter_inst *fi, const char *name)
{
	int	i = fspec_param_find(fi->def, name, strlen(name));

	if (i < 0)
		fatal("filter %s has no parameter %s", fi->def->name, name);
	return fi->param[i];
}

void *
filter_state_alloc(struct filter_inst *fi, size_t n, char *err, size_t errlen)
{
	void	*p;
	int	 rc;

	rc = posix_memalign(&p, 64, filter_align(n));
	if (rc != 0) {
		snprintf(err, errlen, "filter %s: cannot allocate %zu bytes of scratch: %s",
		    fi->def->name, n, strerror(rc));
		return NULL;
	}
	memset(p, 0, filter_align(n));
	return p;
}

struct filter_chain *
filter_chain_parse(const char *spec, char *err, size_t errlen)
{
	struct filter_chain	*fc = NULL;
	struct fspec		*fs;
	int			 k;

	fs = fspec_parse(spec, err, errlen);
	if (fs == NULL)
		return NULL;
	fc = calloc(1, sizeof *fc);
	if (fc == NULL) {
		snprintf(err, errlen, "cannot allocate a filter chain: %s", strerror(errno));
		goto fail;
	}
	fc->fs = fs;
	for (k = 0; k < fs->n; k++) {
		fc->f[k].def = fs->def[k];
		fc->f[k].kernel = filter_kernel_find(fs->def[k]->name);
		/* a row of the table without its kernel: a bug, which test_filter catches */
		if (fc->f[k].kernel == NULL) {
			snprintf(err, errlen, "filter %s: this worker has no kernel for it",
			    fs->def[k]->name);
			goto fail;
		}
		memcpy(fc->f[k].param, fs->param[k], sizeof fc->f[k].param);
	}
	fc->n = fs->n;
	return fc;

fail:
	if (fc != NULL)
		filter_chain_free(fc);
	else
		fspec_free(fs);
	return NULL;
}

const char *
filter_chain_spec(const struct filter_chain *fc)
{
	return fspec_string(fc->fs);
}

int
filter_chain_prepare(struct filter_chain *fc, int width, int height, enum filter_matrix m,
    char *err, size_t errlen)
{
	return filter_chain_prepare_format(fc, width, height, &filter_format_yuv420p, m, err,
	    errlen);
}

int
filter_chain_prepare_format(struct filter_chain *fc, int width, int height,
    const struct filter_format *fmt, enum filter_matrix m, char *err, size_t errlen)
{
	struct filter_inst	*fi;
	int			 k;

	fc->width = fc->height = 0;
	if (fmt->depth < 8 || fmt->depth > FILTER_DEPTH_MAX || fmt->cw_log2 < 0 ||
	    fmt->cw_log2 > 1 || fmt->ch_log2 < 0 || fmt->ch_log2 > fmt->cw_log2) {
		snprintf(err, errlen, "cannot filter %d-bit frames with 1/%d x 1/%d chroma: 8 to "
		    "%d bits, 4:2:0, 4:2:2 or 4:4:4", fmt->depth, 1 << fmt->cw_log2,
		    1 << fmt->ch_log2, FILTER_DEPTH_MAX);
		return -1;
	}
	if (width < 1 || height < 1 || width > 16384 || height > 16384) {
		snprintf(err, errlen, "cannot filter %dx%d frames: sizes go from 1x1 to "
		    "16384x16384", width, height);
		return -1;
	}
	if (m != FILTER_BT601 && m != FILTER_BT709 && m != FILTER_BT2020) {
		snprintf(err, errlen, "unknown colour matrix %d", (int)m);
		return -1;
	}
	for (k = 0; k < fc->n; k++) {
		fi = &fc->f[k];
		free(fi->state);
		fi->state = NULL;
		if (fi->kernel->prepare != NULL &&
		    fi->kernel->prepare(fi, width, height, fmt, m, err, errlen) != 0)
			return -1;
	}
	fc->width = width;
	fc->height = height;
	fc->fmt = *fmt;
	return 0;
}

void
filter_chain_apply(struct filter_chain *fc, struct frame *f)
{
	int	k, p;

	/* A mismatch is a bug in the caller; filtering anyway would write out of bounds. */
	if (fc->width == 0 || f->width != fc->width || f->height != fc->height)
		fatal("filter chain %s prepared for %dx%d, applied to a %dx%d frame", filter_chain_spec(fc),
		    fc->width, fc->height, f->width, f->height);
	for (p = 0; p < 3; p++) {
		if (f->data[p] == NULL || f->linesize[p] <
		    filter_format_plane_width(&fc->fmt, f->width, p) * (fc->fmt.depth > 8 ? 2 : 1))
			fatal("filter chain %s: plane %d of a %dx%d frame has linesize %d",
			    filter_chain_spec(fc), p, f->width, f->height, f->linesize[p]);
	}
	for (k = 0; k < fc->n; k++)
		fc->f[k].kernel->apply(&fc->f[k], f);
}

void
filter_chain_planes(const struct filter_chain *fc, unsigned *reads, unsigned *writes)
{
	unsigned	r, w;
	int		k;

	/* the union over the chain: a plane one filter writes and the next reads is read from
	 * the input too, which costs a copy but is never wrong */
	*reads = *writes = 0;
	for (k = 0; k < fc->n; k++) {
		r = w = FILTER_PLANES_ALL;
		if (fc->f[k].kernel->planes != NULL)
			fc->f[k].kernel->planes(&fc->f[k], &r, &w);
		*reads |= r;
		*writes |= w;
	}
}

void
filter_chain_free(struct filter_chain *fc)
{
	int	k;

	if (fc == NULL)
		return;
	for (k = 0; k < fc->n; k++)
		free(fc->f[k].state);
	fspec_free(fc->fs);
	free(fc);
}
