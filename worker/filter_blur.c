#include <math.h>
#include <stdio.h>
#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Separable Gaussian blur (and the unsharp mask built on it), in place, one plane at a time.
 *
 * Kernel: radius r = ceil(3 sigma), weights exp(-k^2 / 2 sigma^2) normalised over [-r, r],
 * edges clamped (the first and last row and column repeat). Chroma planes, half size in
 * 4:2:0, use sigma / 2.
 *
 * Every pass stays in 16-bit lanes, 16 per AVX2 instruction:
 *  - Weights are Q16 and every tap is one unsigned multiply-high (pmulhuw): a * W >> 16.
 *    Taps come in symmetric pairs, p[x-k] + p[x+k], so a pair costs one multiply; pair
 *    weights are stored doubled, 2 w_k < 1, to fit 16 bits.
 *  - The horizontal pass reads the row widened to x << 6, so that a pair sum fits 16 bits,
 *    and leaves 7 fraction bits: H = sum of 128 w_k (a+b), at most 32640.
 *  - The vertical pass adds pairs of those (still within 16 bits); the doubled weights
 *    bring the result to 8 fraction bits, rounded away at the end.
 *  - A multiply-high rounds down, which over the 300 taps of sigma 50 would darken the
 *    image by almost a level, and even over 17 taps shifts flat areas once the unsharp mask
 *    multiplies the difference. So in each group of four nonzero taps two round up instead:
 *    a - (a * (65536 - W) >> 16) is ceil(a * W / 65536). The errors cancel on average, and
 *    a black frame stays exactly black, which a constant bias could not give.
 * Both passes add 4 tap pairs per sweep over an accumulator row that stays in L1; weights
 * past r are zero, so the radius rounds up to a multiple of 4 at no cost but the multiply.
 *
 * Rows go through a ring of 2r+1 horizontally blurred rows: output row y is written once rows
 * up to y+r are in the ring, so the original of row y is still in the plane (the unsharp
 * mask reads it) and rows above are no longer needed.
 *
 * Above 8 bits the same passes run unchanged: a d-bit row is widened to x << (13 - d)
 * instead of x << 6, so the vertical sums end in Q(15 - d), below 32768: the half of the
 * range left free absorbs the rounded-up taps of the widest kernels. The last pass rounds
 * them to d bits. A chroma axis keeps sigma in luma pixels: halved where the
 * chroma is subsampled, whole where it is not (4:2:2's vertical, 4:4:4).
 */

#define FILTER_BLUR_GROUP	4
/* The table caps sigma at 50; the weight scratch in filter_blur_weights relies on it. */
#define FILTER_BLUR_SIGMA_MAX	50.0
#define FILTER_BLUR_RADIUS_MAX	150

/* The weights along one axis. */
struct filter_blur_axis {
	int		 r;		/* true radius */
	int		 taps;		/* r rounded up to FILTER_BLUR_GROUP */
	uint16_t	 center;	/* w_0, Q16 */
	uint16_t	*coef;		/* [taps]: distance k at k-1, 2 w_k in Q16 ... */
	uint8_t		*up;		/* ... or 65536 - 2 w_k for a rounded-up tap of a
					 * group of four where up[group] */
};

struct filter_blur_plane {
	int			 w, h;
	struct filter_blur_axis	 ax[2];		/* across, down */
};

struct filter_blur_state {
	int				 depth;
	int				 nplanes;	/* 3 for blur, 1 (luma) for sharpen */
	int				 sharpen;
	uint16_t			 gain_orig;	/* sharpen: 1 + amount, Q12 */
	uint16_t			 gain_blur;	/* sharpen: amount, Q12 */
	struct filter_blur_plane	 plane[3];
	uint16_t			*pad;		/* widened row, taps columns each side */
	uint16_t			*ring;
	size_t				 ring_stride;	/* elements */
	uint16_t			*acc;
	uint8_t				*out;
	const uint16_t			**lo, **hi;	/* ring rows above and below, per distance */
};

static inline uint16_t
filter_blur_mulhi(uint16_t a, uint16_t w)
{
	return (uint16_t)(((uint32_t)a * w) >> 16);
}

FILTER_CLONES static void
filter_blur_widen(uint16_t *restrict dst, const uint8_t *restrict src, int n)
{
	int	x, nv = n & ~(FILTER_VEC - 1);

	for (x = 0; x < nv; x++)
		dst[x] = (uint16_t)(src[x] << 6);
	for (; x < n; x++)
		dst[x] = (uint16_t)(src[x] << 6);
}

static void
filter_blur_widen16(uint16_t *restrict dst, const uint16_t *restrict src, int shift, int n)
{
	int	x;

	for (x = 0; x < n; x++)
		dst[x] = (uint16_t)(src[x] << shift);
}

/* ceil(a * w / 65536), given wc = 65536 - w. */
static inline uint16_t
filter_blur_mulhi_up(uint16_t a, uint16_t wc)
{
	return (uint16_t)(a - filter_blur_mulhi(a, wc));
}

/* acc = w_0 s[x], for the horizontal pass (s is x << 6, so 2s is x << 7). */
FILTER_CLONES static void
filter_blur_hcenter(uint16_t *restrict acc, const uint16_t *restrict s, uint16_t w0, int n)
{
	int	x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++)
		acc[x] = filter_blur_mulhi((uint16_t)(s[x] + s[x]), w0);
}

/* acc += 4 tap pairs at distances k..k+3, all rounded down. */
FILTER_CLONES static void
filter_blur_hsweep(uint16_t *restrict acc, const uint16_t *restrict s,
    const uint16_t *restrict wk, int k, int n)
{
	uint16_t	w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3];
	int		x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		acc[x] = (uint16_t)(acc[x] +
		    filter_blur_mulhi((uint16_t)(s[x - k] + s[x + k]), w0) +
		    filter_blur_mulhi((uint16_t)(s[x - k - 1] + s[x + k + 1]), w1) +
		    filter_blur_mulhi((uint16_t)(s[x - k - 2] + s[x + k + 2]), w2) +
		    filter_blur_mulhi((uint16_t)(s[x - k - 3] + s[x + k + 3]), w3));
	}
}

/* The same with the first and third pair rounded up (wk holds their complements). */
FILTER_CLONES static void
filter_blur_hsweep_up(uint16_t *restrict acc, const uint16_t *restrict s,
    const uint16_t *restrict wk, int k, int n)
{
	uint16_t	w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3];
	int		x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		acc[x] = (uint16_t)(acc[x] +
		    filter_blur_mulhi_up((uint16_t)(s[x - k] + s[x + k]), w0) +
		    filter_blur_mulhi((uint16_t)(s[x - k - 1] + s[x + k + 1]), w1) +
		    filter_blur_mulhi_up((uint16_t)(s[x - k - 2] + s[x + k + 2]), w2) +
		    filter_blur_mulhi((uint16_t)(s[x - k - 3] + s[x + k + 3]), w3));
	}
}

FILTER_CLONES static void
filter_blur_vcenter(uint16_t *restrict acc, const uint16_t *restrict c, uint16_t w0, int n)
{
	int	x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++)
		acc[x] = filter_blur_mulhi((uint16_t)(c[x] + c[x]), w0);
}

FILTER_CLONES static void
filter_blur_vsweep(uint16_t *restrict acc, const uint16_t *const *lo,
    const uint16_t *const *hi, const uint16_t *restrict wk, int n)
{
	const uint16_t	*restrict a0 = lo[0], *restrict a1 = lo[1];
	const uint16_t	*restrict a2 = lo[2], *restrict a3 = lo[3];
	const uint16_t	*restrict b0 = hi[0], *restrict b1 = hi[1];
	const uint16_t	*restrict b2 = hi[2], *restrict b3 = hi[3];
	uint16_t	 w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3];
	int		 x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		acc[x] = (uint16_t)(acc[x] +
		    filter_blur_mulhi((uint16_t)(a0[x] + b0[x]), w0) +
		    filter_blur_mulhi((uint16_t)(a1[x] + b1[x]), w1) +
		    filter_blur_mulhi((uint16_t)(a2[x] + b2[x]), w2) +
		    filter_blur_mulhi((uint16_t)(a3[x] + b3[x]), w3));
	}
}

FILTER_CLONES static void
filter_blur_vsweep_up(uint16_t *restrict acc, const uint16_t *const *lo,
    const uint16_t *const *hi, const uint16_t *restrict wk, int n)
{
	const uint16_t	*restrict a0 = lo[0], *restrict a1 = lo[1];
	const uint16_t	*restrict a2 = lo[2], *restrict a3 = lo[3];
	const uint16_t	*restrict b0 = hi[0], *restrict b1 = hi[1];
	const uint16_t	*restrict b2 = hi[2], *restrict b3 = hi[3];
	uint16_t	 w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3];
	int		 x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		acc[x] = (uint16_t)(acc[x] +
		    filter_blur_mulhi_up((uint16_t)(a0[x] + b0[x]), w0) +
		    filter_blur_mulhi((uint16_t)(a1[x] + b1[x]), w1) +
		    filter_blur_mulhi_up((uint16_t)(a2[x] + b2[x]), w2) +
		    filter_blur_mulhi((uint16_t)(a3[x] + b3[x]), w3));
	}
}

/* Q8 to 8 bits, rounded, without the +128 that could overflow 16 bits. */
FILTER_CLONES static void
filter_blur_round(uint8_t *restrict out, const uint16_t *restrict acc, int n)
{
	int	x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		uint16_t	v = (uint16_t)((acc[x] >> 8) + ((acc[x] >> 7) & 1));

		out[x] = (uint8_t)(v > 255 ? 255 : v);
	}
}

/* Q(15 - depth) to depth bits, rounded. */
static void
filter_blur_round16(uint16_t *restrict out, const uint16_t *restrict acc, int sh,
    uint16_t max, int n)
{
	int	x;

	for (x = 0; x < n; x++) {
		uint16_t	v = (uint16_t)((acc[x] >> sh) + ((acc[x] >> (sh - 1)) & 1));

		out[x] = v > max ? max : v;
	}
}

/* The unsharp mask above 8 bits: the same two multiply-highs on x << (16 - depth) and on
 * the blurred row brought to the same scale leave 12 - depth fraction bits, in 32 bits. */
static void
filter_blur_unsharp16(uint16_t *restrict out, const uint16_t *restrict acc,
    uint16_t gain_orig, uint16_t gain_blur, int depth, int n)
{
	int	x, fb = 12 - depth;
	int32_t	half = fb > 0 ? 1 << (fb - 1) : 0, max = (1 << depth) - 1;

	for (x = 0; x < n; x++) {
		int32_t	v = (int32_t)filter_blur_mulhi((uint16_t)(out[x] << (16 - depth)),
			    gain_orig) - (int32_t)filter_blur_mulhi((uint16_t)(acc[x] << 1), gain_blur);

		v = (v + half) >> fb;
		v = v < 0 ? 0 : v;
		out[x] = (uint16_t)(v > max ? max : v);
	}
}

/*
 * out = orig + amount (orig - blurred) = (1 + amount) orig - amount blurred, two unsigned
 * multiply-highs giving 4 fraction bits (gains up to 6 keep the difference within int16).
 * In place on a copy of the original row.
 */
FILTER_CLONES static void
filter_blur_unsharp(uint8_t *restrict out, const uint16_t *restrict acc, uint16_t gain_orig,
    uint16_t gain_blur, int n)
{
	int	x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		int16_t	v = (int16_t)(filter_blur_mulhi((uint16_t)(out[x] << 8), gain_orig) -
			    filter_blur_mulhi(acc[x], gain_blur));

		v = (int16_t)((v + 8) >> 4);
		v = v < 0 ? 0 : v;
		v = v > 255 ? 255 : v;
		out[x] = (uint8_t)v;
	}
}

static void
filter_blur_hrow(struct filter_blur_state *st, const struct filter_blur_plane *bp,
    const uint8_t *src, uint16_t *dst)
{
	const struct filter_blur_axis	*ax = &bp->ax[0];
	uint16_t			*s = st->pad + ax->taps;
	int				 x, k, end = FILTER_VEC_CEIL(bp->w) + ax->taps;

	if (st->depth > 8)
		filter_blur_widen16(s, (const uint16_t *)(const void *)src, 13 - st->depth, bp->w);
	else
		filter_blur_widen(s, src, bp->w);
	for (x = 1; x <= ax->taps; x++)
		s[-x] = s[0];
	for (x = bp->w; x < end; x++)
		s[x] = s[bp->w - 1];
	filter_blur_hcenter(dst, s, ax->center, bp->w);
	for (k = 1; k <= ax->taps; k += FILTER_BLUR_GROUP) {
		if (ax->up[k / FILTER_BLUR_GROUP])
			filter_blur_hsweep_up(dst, s, ax->coef + k - 1, k, bp->w);
		else
			filter_blur_hsweep(dst, s, ax->coef + k - 1, k, bp->w);
	}
}

/* The blurred row (acc) out to the plane's row, or the unsharp mask of it. */
static void
filter_blur_out(struct filter_blur_state *st, const struct filter_blur_plane *bp, uint8_t *row)
{
	size_t	bytes = (size_t)bp->w * (st->depth > 8 ? 2 : 1);

	if (st->depth > 8 && st->sharpen) {
		memcpy(st->out, row, bytes);
		filter_blur_unsharp16((uint16_t *)(void *)st->out, st->acc, st->gain_orig,
		    st->gain_blur, st->depth, bp->w);
	} else if (st->depth > 8) {
		filter_blur_round16((uint16_t *)(void *)st->out, st->acc, 15 - st->depth,
		    (uint16_t)((1 << st->depth) - 1), bp->w);
	} else if (st->sharpen) {
		memcpy(st->out, row, bytes);
		filter_blur_unsharp(st->out, st->acc, st->gain_orig, st->gain_blur, bp->w);
	} else
		filter_blur_round(st->out, st->acc, bp->w);
	memcpy(row, st->out, bytes);
}

static void
filter_blur_plane(struct filter_blur_state *st, const struct filter_blur_plane *bp,
    uint8_t *data, int linesize)
{
	const struct filter_blur_axis	*ax = &bp->ax[1];
	const uint16_t			*center;
	size_t				 ring_rows = (size_t)(2 * ax->r + 1);
	int				 y, k, next = 0, last = bp->h - 1;

#define FILTER_BLUR_RING(j) (st->ring + ((size_t)(j) % ring_rows) * st->ring_stride)
	for (y = 0; y < bp->h; y++) {
		for (; next <= y + ax->r && next <= last; next++) {
			filter_blur_hrow(st, bp, data + (size_t)next * (size_t)linesize,
			    FILTER_BLUR_RING(next));
		}
		center = FILTER_BLUR_RING(y);
		for (k = 1; k <= ax->taps; k++) {
			if (k <= ax->r) {
				st->lo[k - 1] = FILTER_BLUR_RING(y - k < 0 ? 0 : y - k);
				st->hi[k - 1] = FILTER_BLUR_RING(y + k > last ? last : y + k);
			} else
				st->lo[k - 1] = st->hi[k - 1] = center;
		}
		filter_blur_vcenter(st->acc, center, ax->center, bp->w);
		for (k = 0; k < ax->taps; k += FILTER_BLUR_GROUP) {
			if (ax->up[k / FILTER_BLUR_GROUP]) {
				filter_blur_vsweep_up(st->acc, st->lo + k, st->hi + k,
				    ax->coef + k, bp->w);
			} else {
				filter_blur_vsweep(st->acc, st->lo + k, st->hi + k,
				    ax->coef + k, bp->w);
			}
		}
		filter_blur_out(st, bp, data + (size_t)y * (size_t)linesize);
	}
#undef FILTER_BLUR_RING
}

void
filter_blur_apply(struct filter_inst *fi, struct frame *f)
{
	struct filter_blur_state	*st = fi->state;
	int				 p;

	for (p = 0; p < st->nplanes; p++)
		filter_blur_plane(st, &st->plane[p], f->data[p], f->linesize[p]);
}

static int
filter_blur_radius(double sigma)
{
	int	r = (int)ceil(3 * sigma);

	return r < 1 ? 1 : r;
}

static int
filter_blur_taps(int r)
{
	return (r + FILTER_BLUR_GROUP - 1) / FILTER_BLUR_GROUP * FILTER_BLUR_GROUP;
}

/* Radius and quantised weights; the centre weight absorbs the rounding so they sum to 1. */
static void
filter_blur_weights(struct filter_blur_axis *bp, double sigma)
{
	double	g[FILTER_BLUR_RADIUS_MAX + 1], sum;
	int	k, i, total = 0;

	bp->r = filter_blur_radius(sigma);
	bp->taps = filter_blur_taps(bp->r);
	sum = g[0] = 1;
	for (k = 1; k <= bp->r; k++) {
		g[k] = exp(-(double)k * k / (2 * sigma * sigma));
		sum += 2 * g[k];
	}
	for (k = 1; k <= bp->taps; k++) {
		bp->coef[k - 1] = k <= bp->r ? (uint16_t)lrint(2 * g[k] / sum * 65536) : 0;
		total += bp->coef[k - 1];
	}
	bp->center = (uint16_t)(65536 - total > 65535 ? 65535 : 65536 - total);
	for (k = 0; k < bp->taps; k += FILTER_BLUR_GROUP) {
		bp->up[k / FILTER_BLUR_GROUP] = 1;
		for (i = 0; i < FILTER_BLUR_GROUP; i++) {
			if (bp->coef[k + i] == 0)
				bp->up[k / FILTER_BLUR_GROUP] = 0;
		}
		if (bp->up[k / FILTER_BLUR_GROUP]) {
			bp->coef[k] = (uint16_t)(65536 - bp->coef[k]);
			bp->coef[k + 2] = (uint16_t)(65536 - bp->coef[k + 2]);
		}
	}
}

static int
filter_blur_setup(struct filter_inst *fi, int width, int height,
    const struct filter_format *fmt, double sigma, int sharpen, double amount, char *err,
    size_t errlen)
{
	struct filter_blur_state	*st;
	double				 sig[3][2];
	size_t				 size, ring = 0, wide = 0, taps = 0;
	size_t				 bps = fmt->depth > 8 ? 2 : 1;
	char				*cursor;
	int				 p, a, np = sharpen ? 1 : 3;
	int				 pw[3], ph[3];

	if (!(sigma > 0 && sigma <= FILTER_BLUR_SIGMA_MAX)) {
		snprintf(err, errlen, "filter %s: sigma must be above 0 and at most %g, got %g",
		    filter_inst_name(fi), FILTER_BLUR_SIGMA_MAX, sigma);
		return -1;
	}
	for (p = 0; p < np; p++) {
		pw[p] = filter_format_plane_width(fmt, width, p);
		ph[p] = filter_format_plane_height(fmt, height, p);
		sig[p][0] = p == 0 ? sigma : sigma / (1 << fmt->cw_log2);
		sig[p][1] = p == 0 ? sigma : sigma / (1 << fmt->ch_log2);
		if ((size_t)FILTER_VEC_CEIL(pw[p]) > wide)
			wide = (size_t)FILTER_VEC_CEIL(pw[p]);
		for (a = 0; a < 2; a++) {
			if ((size_t)filter_blur_taps(filter_blur_radius(sig[p][a])) > taps)
				taps = (size_t)filter_blur_taps(filter_blur_radius(sig[p][a]));
			if ((size_t)(2 * filter_blur_radius(sig[p][a]) + 1) > ring)
				ring = (size_t)(2 * filter_blur_radius(sig[p][a]) + 1);
		}
	}
	size = filter_align(sizeof *st) +
	    (size_t)np * 2 * (filter_align(taps * sizeof(uint16_t)) + filter_align(taps)) +
	    filter_align((wide + 2 * taps + FILTER_VEC) * sizeof(uint16_t)) +
	    filter_align(ring * wide * sizeof(uint16_t)) +
	    filter_align(wide * sizeof(uint16_t)) +
	    filter_align(wide * bps) +
	    2 * filter_align(taps * sizeof(uint16_t *));
	cursor = filter_state_alloc(fi, size, err, errlen);
	if (cursor == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->depth = fmt->depth;
	st->nplanes = np;
	st->sharpen = sharpen;
	st->gain_orig = (uint16_t)lrint((1 + amount) * 4096);
	st->gain_blur = (uint16_t)lrint(amount * 4096);
	for (p = 0; p < np; p++) {
		st->plane[p].w = pw[p];
		st->plane[p].h = ph[p];
		for (a = 0; a < 2; a++) {
			st->plane[p].ax[a].coef = filter_carve(&cursor, taps * sizeof(uint16_t));
			st->plane[p].ax[a].up = filter_carve(&cursor, taps);
			filter_blur_weights(&st->plane[p].ax[a], sig[p][a]);
		}
	}
	st->pad = filter_carve(&cursor, (wide + 2 * taps + FILTER_VEC) * sizeof(uint16_t));
	st->ring = filter_carve(&cursor, ring * wide * sizeof(uint16_t));
	st->ring_stride = wide;
	st->acc = filter_carve(&cursor, wide * sizeof(uint16_t));
	st->out = filter_carve(&cursor, wide * bps);
	st->lo = filter_carve(&cursor, taps * sizeof(uint16_t *));
	st->hi = filter_carve(&cursor, taps * sizeof(uint16_t *));
	return 0;
}

int
filter_blur_prepare(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    enum filter_matrix m, char *err, size_t errlen)
{
	return filter_blur_setup(fi, w, h, fmt, filter_inst_param(fi, "sigma"), 0, 0, err,
	    errlen);
}

/* Sharpens luma only: sharpening chroma mostly adds colour fringes. */
int
filter_blur_sharpen_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m, char *err, size_t errlen)
{
	return filter_blur_setup(fi, w, h, fmt, filter_inst_param(fi, "sigma"), 1,
	    filter_inst_param(fi, "amount"), err, errlen);
}
