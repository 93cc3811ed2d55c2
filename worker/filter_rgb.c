#include <math.h>
#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Filters defined on RGB (sepia, warm_tone, cool_tone): RGB' = clip(M * clip(RGB)) with a
 * 3x3 matrix M, computed per pixel in fixed point and converted back to 4:2:0.
 *
 * Limited range with luma weights Kr, Kb (Kg = 1 - Kr - Kb), y = Y-16, u = U-128, v = V-128:
 *   R = 255/219 y                         + 255/112 (1-Kr) v
 *   G = 255/219 y - 255/112 (1-Kb) Kb/Kg u - 255/112 (1-Kr) Kr/Kg v
 *   B = 255/219 y + 255/112 (1-Kb) u
 *   Y = 16  + 219/255 (Kr R + Kg G + Kb B)
 *   U = 128 + 112/255 (B - (Kr R + Kg G + Kb B)) / (1-Kb)
 *   V = 128 + 112/255 (R - (Kr R + Kg G + Kb B)) / (1-Kr)
 * BT.601 (Kr .299, Kb .114):  R = 1.164y + 1.596v, G = 1.164y - 0.392u - 0.813v,
 *   B = 1.164y + 2.017u; Y = 16 + .257R + .504G + .098B, U = 128 - .148R - .291G + .439B,
 *   V = 128 + .439R - .368G - .071B.
 * BT.709 (Kr .2126, Kb .0722): R = 1.164y + 1.793v, G = 1.164y - 0.213u - 0.533v,
 *   B = 1.164y + 2.112u; Y = 16 + .183R + .614G + .062B, U = 128 - .101R - .339G + .439B,
 *   V = 128 + .439R - .399G - .040B.
 *
 * Per pixel everything stays in 16-bit lanes, the multiplies being unsigned multiply-highs
 * (a * W >> 16, one pmulhuw) by coefficients below 1:
 *  - RGB before clipping spans about -290..550 and is held in Q5 (fits int16), then clipped
 *    to 0..8160. The luma part is (Y << 8) * (255/219 in Q13) >> 16, minus 16's share.
 *  - M's entries are at most 1.45 and only diagonal ones reach 1 (tones); each splits into
 *    an integer part d (0 or 1: a mask) and a fraction (Q15), so R' = (R & d) + sum of
 *    (C << 3) * f >> 16, in Q7, at most 1.45 * 32640 (fits uint16), clipped to 32640.
 *  - Y' = sum of (C' << 1) * Ky >> 16, in Q8 (Ky < 1), rounded.
 * Chroma works the same way from R'G'B' summed over the two rows of a pair (at most 65280:
 * still 16 bits). Multiply-highs being unsigned, terms with negative coefficients are
 * subtracted: the signs of the matrices above are the same for BT.601 and BT.709.
 *
 * 4:2:0: each pixel uses the chroma sample of its 2x2 block; the new chroma is that of the
 * block's mean RGB' (the conversion is linear, so that is the mean of the pixels' chroma).
 * Rows go in pairs: the pair's chroma contributions are expanded to luma width first, each
 * row is converted in a scratch copy adding its R'G'B' to per-column sums, then two columns
 * make one chroma sample. A missing row or column at an odd edge repeats the last one, so
 * edge blocks average the pixels they have.
 *
 * Any other layout (above 8 bits, 4:2:2, 4:4:4) takes filter_rgb_apply_any: the same maths
 * per chroma block of any shape, one pixel at a time in 64-bit integers (RGB in Q14 of the
 * frame's levels, M in Q12), every level scaled by 2^(depth-8). Slower, but exact to the
 * rounding, and the 8-bit 4:2:0 path stays as it is.
 */

#define FILTER_RGB_RMAX		8160	/* 255 in Q5 */
#define FILTER_RGB_OMAX		32640	/* 255 in Q7 */

struct filter_rgb_state {
	uint16_t	 cy;			/* 255/219, Q13 */
	int16_t		 cy16;			/* 16 * 255/219, Q5 */
	uint16_t	 crv, cgu, cgv, cbu;	/* YUV -> RGB chroma parts, |c|, Q13 */
	int16_t		 rc0, gc0, bc0;		/* their value at u = v = 0, Q5 */
	uint16_t	 ky[3];			/* RGB -> Y, Q16 */
	uint16_t	 ku[3], kv[3];		/* RGB -> U, V, |k|, Q16 */
	uint16_t	 mask[3];		/* integer part of M's diagonal */
	uint16_t	 f[3][3];		/* fraction of M, Q15 */
	size_t		 wide;			/* elements in each scratch row */
	int16_t		*rc, *gc, *bc;		/* chroma part of R G B, Q5, per luma column */
	uint16_t	*sum[3];		/* R'G'B' of a pair of rows, Q7 */
	uint8_t		*yrow, *urow, *vrow;
	/* filter_rgb_apply_any */
	struct filter_format fmt;
	int32_t		 c14[5];		/* cy, crv, cgu, cgv, cbu, Q14 */
	int32_t		 m12[3][3];		/* M, Q12 */
};

static inline uint16_t
filter_rgb_mulhi(uint16_t a, uint16_t w)
{
	return (uint16_t)(((uint32_t)a * w) >> 16);
}

/* Chroma's share of R, G, B for the two columns of each sample (U, V: copies of a row). */
FILTER_CLONES static void
filter_rgb_expand(const struct filter_rgb_state *st, const uint8_t *restrict U,
    const uint8_t *restrict V, int16_t *restrict rc, int16_t *restrict gc,
    int16_t *restrict bc, int n)
{
	uint16_t	crv = st->crv, cgu = st->cgu, cgv = st->cgv, cbu = st->cbu;
	int16_t		rc0 = st->rc0, gc0 = st->gc0, bc0 = st->bc0;
	int		i;

	n = FILTER_VEC_CEIL(n);
	for (i = 0; i < n; i++) {
		uint16_t	u = (uint16_t)(U[i] << 8), v = (uint16_t)(V[i] << 8);
		int16_t		r = (int16_t)(filter_rgb_mulhi(v, crv) - rc0);
		int16_t		g = (int16_t)(gc0 - filter_rgb_mulhi(u, cgu) -
				    filter_rgb_mulhi(v, cgv));
		int16_t		b = (int16_t)(filter_rgb_mulhi(u, cbu) - bc0);

		rc[2 * i] = rc[2 * i + 1] = r;
		gc[2 * i] = gc[2 * i + 1] = g;
		bc[2 * i] = bc[2 * i + 1] = b;
	}
}

static inline uint16_t
filter_rgb_clip(int16_t v)
{
	v = v < 0 ? 0 : v;
	v = v > FILTER_RGB_RMAX ? FILTER_RGB_RMAX : v;
	return (uint16_t)v;
}

/* One output channel of M: integer part plus three fractions, Q5 in, Q7 out, clipped. */
static inline uint16_t
filter_rgb_channel(uint16_t own, uint16_t mask, uint16_t r, uint16_t g, uint16_t b,
    uint16_t f0, uint16_t f1, uint16_t f2)
{
	uint16_t	v = (uint16_t)(((own << 2) & mask) +
			    filter_rgb_mulhi((uint16_t)(r << 3), f0) +
			    filter_rgb_mulhi((uint16_t)(g << 3), f1) +
			    filter_rgb_mulhi((uint16_t)(b << 3), f2));

	return v > FILTER_RGB_OMAX ? FILTER_RGB_OMAX : v;
}

/* One luma row in place (yrow), adding R'G'B' to the sums (keep: 0 for a pair's first). */
FILTER_CLONES static void
filter_rgb_row(const struct filter_rgb_state *st, uint8_t *restrict yrow,
    const int16_t *restrict rc, const int16_t *restrict gc, const int16_t *restrict bc,
    uint16_t *restrict rs, uint16_t *restrict gs, uint16_t *restrict bs, uint16_t keep,
    int n)
{
	uint16_t	cy = st->cy, kr = st->ky[0], kg = st->ky[1], kb = st->ky[2];
	uint16_t	mr = st->mask[0], mg = st->mask[1], mb = st->mask[2];
	uint16_t	f00 = st->f[0][0], f01 = st->f[0][1], f02 = st->f[0][2];
	uint16_t	f10 = st->f[1][0], f11 = st->f[1][1], f12 = st->f[1][2];
	uint16_t	f20 = st->f[2][0], f21 = st->f[2][1], f22 = st->f[2][2];
	int16_t		cy16 = st->cy16;
	int		x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		int16_t		yy = (int16_t)(filter_rgb_mulhi((uint16_t)(yrow[x] << 8), cy) -
				    cy16);
		uint16_t	r = filter_rgb_clip((int16_t)(yy + rc[x]));
		uint16_t	g = filter_rgb_clip((int16_t)(yy + gc[x]));
		uint16_t	b = filter_rgb_clip((int16_t)(yy + bc[x]));
		uint16_t	r2 = filter_rgb_channel(r, mr, r, g, b, f00, f01, f02);
		uint16_t	g2 = filter_rgb_channel(g, mg, r, g, b, f10, f11, f12);
		uint16_t	b2 = filter_rgb_channel(b, mb, r, g, b, f20, f21, f22);
		uint16_t	y2 = (uint16_t)(filter_rgb_mulhi((uint16_t)(r2 << 1), kr) +
				    filter_rgb_mulhi((uint16_t)(g2 << 1), kg) +
				    filter_rgb_mulhi((uint16_t)(b2 << 1), kb));

		yrow[x] = (uint8_t)(16 + ((y2 + 128) >> 8));
		rs[x] = (uint16_t)((rs[x] & keep) + r2);
		gs[x] = (uint16_t)((gs[x] & keep) + g2);
		bs[x] = (uint16_t)((bs[x] & keep) + b2);
	}
}

/*
 * Chroma from R'G'B' sums, two columns per sample. Halving each column sum before adding
 * gives the block's mean in Q8 (for a lone last row, `rows` 1, the sums are already half).
 */
FILTER_CLONES static void
filter_rgb_chroma(const struct filter_rgb_state *st, const uint16_t *restrict rs,
    const uint16_t *restrict gs, const uint16_t *restrict bs, uint8_t *restrict urow,
    uint8_t *restrict vrow, int rows, int n)
{
	uint16_t	ur = st->ku[0], ug = st->ku[1], ub = st->ku[2];
	uint16_t	vr = st->kv[0], vg = st->kv[1], vb = st->kv[2];
	int		i, sh = rows - 1;

	n = FILTER_VEC_CEIL(n);
	for (i = 0; i < n; i++) {
		uint16_t	r = (uint16_t)((rs[2 * i] >> sh) + (rs[2 * i + 1] >> sh));
		uint16_t	g = (uint16_t)((gs[2 * i] >> sh) + (gs[2 * i + 1] >> sh));
		uint16_t	b = (uint16_t)((bs[2 * i] >> sh) + (bs[2 * i + 1] >> sh));
		int16_t		u = (int16_t)(filter_rgb_mulhi(b, ub) - filter_rgb_mulhi(r, ur) -
				    filter_rgb_mulhi(g, ug));
		int16_t		v = (int16_t)(filter_rgb_mulhi(r, vr) - filter_rgb_mulhi(g, vg) -
				    filter_rgb_mulhi(b, vb));

		urow[i] = (uint8_t)(128 + ((u + 128) >> 8));
		vrow[i] = (uint8_t)(128 + ((v + 128) >> 8));
	}
}

static inline int64_t
filter_rgb_get(const uint8_t *row, int wide, int x)
{
	return wide ? ((const uint16_t *)(const void *)row)[x] : row[x];
}

static inline void
filter_rgb_set(uint8_t *row, int wide, int x, int64_t v, int64_t max)
{
	v = v < 0 ? 0 : v > max ? max : v;
	if (wide)
		((uint16_t *)(void *)row)[x] = (uint16_t)v;
	else
		row[x] = (uint8_t)v;
}

static inline int64_t
filter_rgb_clip64(int64_t v, int64_t max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

/* num / den rounded to the nearest, halves up, for a positive den. */
static inline int64_t
filter_rgb_div(int64_t num, int64_t den)
{
	int64_t	t = num + den / 2;

	return t >= 0 ? t / den : -((-t + den - 1) / den);
}

/* One chroma sample and the luma samples it covers. */
static void
filter_rgb_block(const struct filter_rgb_state *st, struct frame *f, int cx, int cy)
{
	const int32_t	*c = st->c14;
	int		 wide = st->fmt.depth > 8, sx = 1 << st->fmt.cw_log2;
	int		 sy = 1 << st->fmt.ch_log2, x, y, i, n = 0;
	int64_t		 k = 1 << (st->fmt.depth - 8), max = (1 << st->fmt.depth) - 1;
	int64_t		 rmax = (255 * k) << 14, sum[3] = { 0, 0, 0 }, in[3], out[3], u, v;
	uint8_t		*urow = f->data[1] + (size_t)cy * (size_t)f->linesize[1];
	uint8_t		*vrow = f->data[2] + (size_t)cy * (size_t)f->linesize[2];
	uint8_t		*row;

	u = filter_rgb_get(urow, wide, cx) - 128 * k;
	v = filter_rgb_get(vrow, wide, cx) - 128 * k;
	for (y = cy * sy; y < cy * sy + sy && y < f->height; y++) {
		row = f->data[0] + (size_t)y * (size_t)f->linesize[0];
		for (x = cx * sx; x < cx * sx + sx && x < f->width; x++) {
			int64_t	yy = c[0] * (filter_rgb_get(row, wide, x) - 16 * k);

			in[0] = filter_rgb_clip64(yy + c[1] * v, rmax);
			in[1] = filter_rgb_clip64(yy - c[2] * u - c[3] * v, rmax);
			in[2] = filter_rgb_clip64(yy + c[4] * u, rmax);
			for (i = 0; i < 3; i++) {
				out[i] = filter_rgb_clip64((st->m12[i][0] * in[0] +
				    st->m12[i][1] * in[1] + st->m12[i][2] * in[2]) >> 12, rmax);
				sum[i] += out[i];
			}
			filter_rgb_set(row, wide, x, 16 * k + filter_rgb_div(st->ky[0] * out[0] +
			    st->ky[1] * out[1] + st->ky[2] * out[2], (int64_t)1 << 30), max);
			n++;
		}
	}
	filter_rgb_set(urow, wide, cx, 128 * k + filter_rgb_div(st->ku[2] * sum[2] -
	    st->ku[0] * sum[0] - st->ku[1] * sum[1], (int64_t)n << 30), max);
	filter_rgb_set(vrow, wide, cx, 128 * k + filter_rgb_div(st->kv[0] * sum[0] -
	    st->kv[1] * sum[1] - st->kv[2] * sum[2], (int64_t)n << 30), max);
}

static void
filter_rgb_apply_any(const struct filter_rgb_state *st, struct frame *f)
{
	int	cx, cy;

	for (cy = 0; cy < filter_format_plane_height(&st->fmt, f->height, 1); cy++) {
		for (cx = 0; cx < filter_format_plane_width(&st->fmt, f->width, 1); cx++)
			filter_rgb_block(st, f, cx, cy);
	}
}

void
filter_rgb_apply(struct filter_inst *fi, struct frame *f)
{
	const struct filter_rgb_state	*st = fi->state;
	int				 w = f->width, h = f->height, cw = (w + 1) / 2;
	int				 cy, y, c, ch = (h + 1) / 2;
	uint8_t				*row, *urow, *vrow;

	if (st->fmt.depth != 8 || st->fmt.cw_log2 != 1 || st->fmt.ch_log2 != 1) {
		filter_rgb_apply_any(st, f);
		return;
	}

	for (cy = 0; cy < ch; cy++) {
		urow = f->data[1] + (size_t)cy * (size_t)f->linesize[1];
		vrow = f->data[2] + (size_t)cy * (size_t)f->linesize[2];
		memcpy(st->urow, urow, (size_t)cw);
		memcpy(st->vrow, vrow, (size_t)cw);
		filter_rgb_expand(st, st->urow, st->vrow, st->rc, st->gc, st->bc, cw);
		for (y = 2 * cy; y < 2 * cy + 2 && y < h; y++) {
			row = f->data[0] + (size_t)y * (size_t)f->linesize[0];
			memcpy(st->yrow, row, (size_t)w);
			filter_rgb_row(st, st->yrow, st->rc, st->gc, st->bc, st->sum[0],
			    st->sum[1], st->sum[2], y & 1 ? 0xffff : 0, w);
			memcpy(row, st->yrow, (size_t)w);
		}
		if (w & 1) {
			for (c = 0; c < 3; c++)
				st->sum[c][w] = st->sum[c][w - 1];
		}
		filter_rgb_chroma(st, st->sum[0], st->sum[1], st->sum[2], st->urow, st->vrow,
		    2 * cy + 1 < h ? 2 : 1, cw);
		memcpy(urow, st->urow, (size_t)cw);
		memcpy(vrow, st->vrow, (size_t)cw);
	}
}

static int32_t
filter_rgb_q(double v, int q)
{
	return (int32_t)lrint(ldexp(v, q));
}

static int
filter_rgb_setup(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    enum filter_matrix mat, const double m[3][3], char *err, size_t errlen)
{
	struct filter_rgb_state	*st;
	double			 kr = mat == FILTER_BT709 ? 0.2126 : mat == FILTER_BT2020 ? 0.2627 : 0.299;
	double			 kb = mat == FILTER_BT709 ? 0.0722 : mat == FILTER_BT2020 ? 0.0593 : 0.114;
	double			 kg = 1 - kr - kb, cu = 112 / 255.0 / (1 - kb);
	double			 cv = 112 / 255.0 / (1 - kr), cl = 219 / 255.0;
	size_t			 wide, size;
	char			*cursor;
	int			 i, j;

	/* Scratch rows cover both the luma width and two columns per chroma sample, rounded
	 * up for the vector loops of the chroma pass. */
	wide = (size_t)2 * FILTER_VEC_CEIL((w + 1) / 2) + FILTER_VEC;
	size = filter_align(sizeof *st) + 6 * filter_align(wide * sizeof(uint16_t)) +
	    3 * filter_align(wide);
	if ((cursor = filter_state_alloc(fi, size, err, errlen)) == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->wide = wide;
	st->rc = filter_carve(&cursor, wide * sizeof(int16_t));
	st->gc = filter_carve(&cursor, wide * sizeof(int16_t));
	st->bc = filter_carve(&cursor, wide * sizeof(int16_t));
	for (i = 0; i < 3; i++)
		st->sum[i] = filter_carve(&cursor, wide * sizeof(uint16_t));
	st->yrow = filter_carve(&cursor, wide);
	st->urow = filter_carve(&cursor, wide);
	st->vrow = filter_carve(&cursor, wide);

	st->fmt = *fmt;
	st->c14[0] = filter_rgb_q(255 / 219.0, 14);
	st->c14[1] = filter_rgb_q(255 / 112.0 * (1 - kr), 14);
	st->c14[2] = filter_rgb_q(255 / 112.0 * (1 - kb) * kb / kg, 14);
	st->c14[3] = filter_rgb_q(255 / 112.0 * (1 - kr) * kr / kg, 14);
	st->c14[4] = filter_rgb_q(255 / 112.0 * (1 - kb), 14);
	st->cy = (uint16_t)filter_rgb_q(255 / 219.0, 13);
	st->cy16 = (int16_t)filter_rgb_q(16 * 255 / 219.0, 5);
	st->crv = (uint16_t)filter_rgb_q(255 / 112.0 * (1 - kr), 13);
	st->cgu = (uint16_t)filter_rgb_q(255 / 112.0 * (1 - kb) * kb / kg, 13);
	st->cgv = (uint16_t)filter_rgb_q(255 / 112.0 * (1 - kr) * kr / kg, 13);
	st->cbu = (uint16_t)filter_rgb_q(255 / 112.0 * (1 - kb), 13);
	/* mulhi(c << 8, C) is c * C / 256: the offsets are those of c = 128, same scale. */
	st->rc0 = (int16_t)(128 * st->crv / 256);
	st->gc0 = (int16_t)(128 * st->cgu / 256 + 128 * st->cgv / 256);
	st->bc0 = (int16_t)(128 * st->cbu / 256);
	st->ky[0] = (uint16_t)filter_rgb_q(cl * kr, 16);
	st->ky[1] = (uint16_t)filter_rgb_q(cl * kg, 16);
	st->ky[2] = (uint16_t)filter_rgb_q(cl * kb, 16);
	st->ku[0] = (uint16_t)filter_rgb_q(cu * kr, 16);
	st->ku[1] = (uint16_t)filter_rgb_q(cu * kg, 16);
	st->ku[2] = (uint16_t)filter_rgb_q(cu * (1 - kb), 16);
	st->kv[0] = (uint16_t)filter_rgb_q(cv * (1 - kr), 16);
	st->kv[1] = (uint16_t)filter_rgb_q(cv * kg, 16);
	st->kv[2] = (uint16_t)filter_rgb_q(cv * kb, 16);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			double	v = fmin(fmax(m[i][j], 0), 1.99);
			int	d = i == j && v >= 1;

			if (d)
				st->mask[i] = 0xffff;
			st->f[i][j] = (uint16_t)filter_rgb_q(v - d, 15);
			st->m12[i][j] = filter_rgb_q(v, 12);
		}
	}
	return 0;
}

/*
 * The classic sepia matrix, rows R' G' B' of R G B. amount blends it with the identity, which
 * is mixing with the original except where full sepia clips.
 */
int
filter_rgb_sepia_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix mat, char *err, size_t errlen)
{
	static const double	sepia[3][3] = {
		{ 0.393, 0.769, 0.189 },
		{ 0.349, 0.686, 0.168 },
		{ 0.272, 0.534, 0.131 },
	};
	double			a = filter_inst_param(fi, "amount"), m[3][3];
	int			i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++)
			m[i][j] = a * sepia[i][j] + (i == j ? 1 - a : 0);
	}
	return filter_rgb_setup(fi, w, h, fmt, mat, m, err, errlen);
}

/* Channel gains: amount 1 is the original's R x1.1, G x1.05, B x0.9. */
int
filter_rgb_warm_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix mat, char *err, size_t errlen)
{
	double	a = filter_inst_param(fi, "amount");
	double	m[3][3] = {
		{ 1 + 0.10 * a, 0, 0 },
		{ 0, 1 + 0.05 * a, 0 },
		{ 0, 0, fmax(0, 1 - 0.10 * a) },
	};

	return filter_rgb_setup(fi, w, h, fmt, mat, m, err, errlen);
}

/* Channel gains: amount 1 is the original's B x1.15, G x1.05, R x0.9. */
int
filter_rgb_cool_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix mat, char *err, size_t errlen)
{
	double	a = filter_inst_param(fi, "amount");
	double	m[3][3] = {
		{ fmax(0, 1 - 0.10 * a), 0, 0 },
		{ 0, 1 + 0.05 * a, 0 },
		{ 0, 0, 1 + 0.15 * a },
	};

	return filter_rgb_setup(fi, w, h, fmt, mat, m, err, errlen);
}
