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
 */

#define FILTER_BLUR_GROUP	4
/* The table caps sigma at 50; the weight scratch in filter_blur_weights relies on it. */
#define FILTER_BLUR_SIGMA_MAX	50.0
#define FILTER_BLUR_RADIUS_MAX	150

struct filter_blur_plane {
	int		 w, h;
	int		 r;		/* true radius */
	int		 taps;		/* r rounded up to FILTER_BLUR_GROUP */
	uint16_t	 center;	/* w_0, Q16 */
	uint16_t	*coef;		/* [taps]: distance k at k-1, 2 w_k in Q16 ... */
	uint8_t		*up;		/* ... or 65536 - 2 w_k for a rounded-up tap of a
					 * group of four where up[group] */
};

struct filter_blur_state {
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
	uint16_t	*s = st->pad + bp->taps;
	int		 x, k, end = FILTER_VEC_CEIL(bp->w) + bp->taps;

	filter_blur_widen(s, src, bp->w);
	for (x = 1; x <= bp->taps; x++)
		s[-x] = s[0];
	for (x = bp->w; x < end; x++)
		s[x] = s[bp->w - 1];
	filter_blur_hcenter(dst, s, bp->center, bp->w);
	for (k = 1; k <= bp->taps; k += FILTER_BLUR_GROUP) {
		if (bp->up[k / FILTER_BLUR_GROUP])
			filter_blur_hsweep_up(dst, s, bp->coef + k - 1, k, bp->w);
		else
			filter_blur_hsweep(dst, s, bp->coef + k - 1, k, bp->w);
	}
}

static void
filter_blur_plane(struct filter_blur_state *st, const struct filter_blur_plane *bp,
    uint8_t *data, int linesize)
{
	const uint16_t	*center;
	size_t		 ring_rows = (size_t)(2 * bp->r + 1);
	uint8_t		*row;
	int		 y, k, next = 0, last = bp->h - 1;

#define FILTER_BLUR_RING(j) (st->ring + ((size_t)(j) % ring_rows) * st->ring_stride)
	for (y = 0; y < bp->h; y++) {
		for (; next <= y + bp->r && next <= last; next++) {
			filter_blur_hrow(st, bp, data + (size_t)next * (size_t)linesize,
			    FILTER_BLUR_RING(next));
		}
		center = FILTER_BLUR_RING(y);
		for (k = 1; k <= bp->taps; k++) {
			if (k <= bp->r) {
				st->lo[k - 1] = FILTER_BLUR_RING(y - k < 0 ? 0 : y - k);
				st->hi[k - 1] = FILTER_BLUR_RING(y + k > last ? last : y + k);
			} else
				st->lo[k - 1] = st->hi[k - 1] = center;
		}
		filter_blur_vcenter(st->acc, center, bp->center, bp->w);
		for (k = 0; k < bp->taps; k += FILTER_BLUR_GROUP) {
			if (bp->up[k / FILTER_BLUR_GROUP]) {
				filter_blur_vsweep_up(st->acc, st->lo + k, st->hi + k,
				    bp->coef + k, bp->w);
			} else {
				filter_blur_vsweep(st->acc, st->lo + k, st->hi + k,
				    bp->coef + k, bp->w);
			}
		}
		row = data + (size_t)y * (size_t)linesize;
		if (st->sharpen) {
			memcpy(st->out, row, (size_t)bp->w);
			filter_blur_unsharp(st->out, st->acc, st->gain_orig, st->gain_blur,
			    bp->w);
		} else
			filter_blur_round(st->out, st->acc, bp->w);
		memcpy(row, st->out, (size_t)bp->w);
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
filter_blur_weights(struct filter_blur_plane *bp, double sigma, int w, int h)
{
	double	g[FILTER_BLUR_RADIUS_MAX + 1], sum;
	int	k, i, total = 0;

	bp->w = w;
	bp->h = h;
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
filter_blur_setup(struct filter_inst *fi, int width, int height, double sigma, int sharpen,
    double amount, char *err, size_t errlen)
{
	struct filter_blur_state	*st;
	double				 sig[3];
	size_t				 size, ring = 0, wide = 0, taps = 0;
	char				*cursor;
	int				 p, np = sharpen ? 1 : 3;
	int				 pw[3], ph[3], pr[3], pt[3];

	if (!(sigma > 0 && sigma <= FILTER_BLUR_SIGMA_MAX)) {
		snprintf(err, errlen, "filter %s: sigma must be above 0 and at most %g, got %g",
		    filter_inst_name(fi), FILTER_BLUR_SIGMA_MAX, sigma);
		return -1;
	}
	sig[0] = sigma;
	sig[1] = sig[2] = sigma / 2;
	for (p = 0; p < np; p++) {
		pw[p] = p == 0 ? width : (width + 1) / 2;
		ph[p] = p == 0 ? height : (height + 1) / 2;
		pr[p] = filter_blur_radius(sig[p]);
		pt[p] = filter_blur_taps(pr[p]);
		if ((size_t)FILTER_VEC_CEIL(pw[p]) > wide)
			wide = (size_t)FILTER_VEC_CEIL(pw[p]);
		if ((size_t)pt[p] > taps)
			taps = (size_t)pt[p];
		if ((size_t)(2 * pr[p] + 1) > ring)
			ring = (size_t)(2 * pr[p] + 1);
	}
	size = filter_align(sizeof *st) +
	    (size_t)np * (filter_align(taps * sizeof(uint16_t)) + filter_align(taps)) +
	    filter_align((wide + 2 * taps + FILTER_VEC) * sizeof(uint16_t)) +
	    filter_align(ring * wide * sizeof(uint16_t)) +
	    filter_align(wide * sizeof(uint16_t)) +
	    filter_align(wide) +
	    2 * filter_align(taps * sizeof(uint16_t *));
	cursor = filter_state_alloc(fi, size, err, errlen);
	if (cursor == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->nplanes = np;
	st->sharpen = sharpen;
	st->gain_orig = (uint16_t)lrint((1 + amount) * 4096);
	st->gain_blur = (uint16_t)lrint(amount * 4096);
	for (p = 0; p < np; p++) {
		st->plane[p].coef = filter_carve(&cursor, taps * sizeof(uint16_t));
		st->plane[p].up = filter_carve(&cursor, taps);
		filter_blur_weights(&st->plane[p], sig[p], pw[p], ph[p]);
	}
	st->pad = filter_carve(&cursor, (wide + 2 * taps + FILTER_VEC) * sizeof(uint16_t));
	st->ring = filter_carve(&cursor, ring * wide * sizeof(uint16_t));
	st->ring_stride = wide;
	st->acc = filter_carve(&cursor, wide * sizeof(uint16_t));
	st->out = filter_carve(&cursor, wide);
	st->lo = filter_carve(&cursor, taps * sizeof(uint16_t *));
	st->hi = filter_carve(&cursor, taps * sizeof(uint16_t *));
	return 0;
}

int
filter_blur_prepare(struct filter_inst *fi, int w, int h, enum filter_matrix m, char *err,
    size_t errlen)
{
	return filter_blur_setup(fi, w, h, filter_inst_param(fi, "sigma"), 0, 0, err, errlen);
}

/* Sharpens luma only: sharpening chroma mostly adds colour fringes. */
int
filter_blur_sharpen_prepare(struct filter_inst *fi, int w, int h, enum filter_matrix m,
    char *err, size_t errlen)
{
	return filter_blur_setup(fi, w, h, filter_inst_param(fi, "sigma"), 1,
	    filter_inst_param(fi, "amount"), err, errlen);
}
