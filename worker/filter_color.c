#include <math.h>
#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Filters that map each sample of a plane on its own: grayscale, invert, brightness, contrast,
 * saturation and color. Each prepare function reduces its filter to one operation per plane,
 * and filter_color_apply runs those.
 *
 * Limited range: black is Y=16, white Y=235, neutral chroma 128. A filter defined on RGB that
 * scales all three channels by g (brightness) is, by linearity of the YUV matrix, exactly
 * Y' = 16 + g(Y-16) and C' = 128 + g(C-128), whichever matrix the video uses; contrast around
 * mid-grey is the same with Y=125.5 as the centre. Only clipping at 0/255 differs from RGB.
 * Above 8 bits every level scales by 2^(depth-8) (10-bit: black 64, neutral 512), and the
 * affine map runs in 32-bit lanes on 16-bit samples (gain in Q12).
 */

enum filter_color_op {
	FILTER_COLOR_KEEP,
	FILTER_COLOR_FILL,	/* every sample = fill */
	FILTER_COLOR_AFFINE,	/* gain * x + offset, see filter_color_affine_px */
	FILTER_COLOR_NEGATE,	/* negate - x */
	FILTER_COLOR_LUT,
};

struct filter_color_plane {
	enum filter_color_op	op;
	uint8_t			fill;
	uint16_t		mul;
	int16_t			add;
	int16_t			negate;
	uint8_t			lut[256];
	int32_t			mul32, add32;	/* above 8 bits: gain and offset + 0.5, Q12 */
	uint16_t		*lut16;		/* above 8 bits: 2^depth entries */
};

struct filter_color_state {
	struct filter_format		fmt;
	int				w, h;
	int				scale;		/* 2^(depth-8) */
	struct filter_color_plane	plane[3];
};

#define FILTER_COLOR_Q32	12

/*
 * gain * x + offset in 16-bit lanes: (x << 7) * mul >> 16 (one pmulhuw) is x * mul / 512, so
 * mul = gain * 2^(9+4) leaves the result with 4 fraction bits, and add holds
 * (offset + 0.5) * 16 so that the final shift rounds. The fixed shift keeps the lanes 16-bit
 * (a variable one makes gcc widen them) and fits every gain up to 5 without overflow.
 */
#define FILTER_COLOR_SHIFT	4
#define FILTER_COLOR_GAIN_MAX	5.0

static inline uint8_t
filter_color_affine_px(uint8_t x, uint16_t mul, int16_t add)
{
	uint16_t	hi = (uint16_t)(((uint32_t)(uint16_t)(x << 7) * mul) >> 16);
	int16_t		v = (int16_t)((int16_t)hi + add) >> FILTER_COLOR_SHIFT;

	v = v < 0 ? 0 : v;
	v = v > 255 ? 255 : v;
	return (uint8_t)v;
}

static inline uint8_t
filter_color_negate_px(uint8_t x, int16_t negate)
{
	int16_t	v = (int16_t)(negate - x);

	v = v < 0 ? 0 : v;
	v = v > 255 ? 255 : v;
	return (uint8_t)v;
}

FILTER_CLONES static void
filter_color_affine_run(uint8_t *restrict p, size_t n, uint16_t mul, int16_t add)
{
	size_t	i, nv = n & ~(size_t)(FILTER_VEC - 1);

	for (i = 0; i < nv; i++)
		p[i] = filter_color_affine_px(p[i], mul, add);
	for (; i < n; i++)
		p[i] = filter_color_affine_px(p[i], mul, add);
}

FILTER_CLONES static void
filter_color_negate_run(uint8_t *restrict p, size_t n, int16_t negate)
{
	size_t	i, nv = n & ~(size_t)(FILTER_VEC - 1);

	for (i = 0; i < nv; i++)
		p[i] = filter_color_negate_px(p[i], negate);
	for (; i < n; i++)
		p[i] = filter_color_negate_px(p[i], negate);
}

static void
filter_color_lut_run(uint8_t *restrict p, size_t n, const uint8_t *restrict lut)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = lut[p[i]];
}

/* 12-bit samples times a gain up to 5 in Q12 stay below 2^31. */
static void
filter_color_affine_run16(uint16_t *restrict p, size_t n, int32_t mul, int32_t add,
    int32_t max)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		int32_t	v = (p[i] * mul + add) >> FILTER_COLOR_Q32;

		v = v < 0 ? 0 : v;
		p[i] = (uint16_t)(v > max ? max : v);
	}
}

static void
filter_color_negate_run16(uint16_t *restrict p, size_t n, int32_t negate, int32_t max)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		int32_t	v = negate - p[i];

		v = v < 0 ? 0 : v;
		p[i] = (uint16_t)(v > max ? max : v);
	}
}

static void
filter_color_lut_run16(uint16_t *restrict p, size_t n, const uint16_t *restrict lut)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = lut[p[i]];
}

/* Gains come from the table's ranges, which stay within FILTER_COLOR_GAIN_MAX. The offset
 * is in 8-bit levels; st->scale brings it to the frame's depth. */
static void
filter_color_set_affine(const struct filter_color_state *st, struct filter_color_plane *cp,
    double gain, double offset)
{
	if (gain == 1 && offset == 0) {
		cp->op = FILTER_COLOR_KEEP;
		return;
	}
	gain = fmin(fmax(gain, 0), FILTER_COLOR_GAIN_MAX);
	cp->op = FILTER_COLOR_AFFINE;
	cp->mul = (uint16_t)lrint(gain * (1 << (9 + FILTER_COLOR_SHIFT)));
	cp->add = (int16_t)lrint((offset + 0.5) * (1 << FILTER_COLOR_SHIFT));
	cp->mul32 = (int32_t)lrint(gain * (1 << FILTER_COLOR_Q32));
	cp->add32 = (int32_t)lrint((offset * st->scale + 0.5) * (1 << FILTER_COLOR_Q32));
}

/* The state, with room for a luma table at depths above 8 when lut is set. */
static struct filter_color_state *
filter_color_alloc(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    int lut, char *err, size_t errlen)
{
	struct filter_color_state	*st;
	size_t				 lut16 = lut && fmt->depth > 8 ?
					    ((size_t)1 << fmt->depth) * sizeof(uint16_t) : 0;
	char				*cursor;

	cursor = filter_state_alloc(fi, filter_align(sizeof *st) + filter_align(lut16), err,
	    errlen);
	if (cursor == NULL)
		return NULL;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->fmt = *fmt;
	st->w = w;
	st->h = h;
	st->scale = 1 << (fmt->depth - 8);
	if (lut16 > 0)
		st->plane[0].lut16 = filter_carve(&cursor, lut16);
	return st;
}

int
filter_color_grayscale_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;

	if ((st = filter_color_alloc(fi, w, h, fmt, 0, err, errlen)) == NULL)
		return -1;
	st->plane[0].op = FILTER_COLOR_KEEP;
	st->plane[1].op = st->plane[2].op = FILTER_COLOR_FILL;
	st->plane[1].fill = st->plane[2].fill = 128;
	return 0;
}

/*
 * The RGB negative 255-R is Y' = 251 - Y and C' = 256 - C in limited range; it maps
 * [16,235] and [16,240] onto themselves, so inverting twice gives the frame back. Samples
 * outside those ranges clip.
 */
int
filter_color_invert_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;
	int				 p;

	if ((st = filter_color_alloc(fi, w, h, fmt, 0, err, errlen)) == NULL)
		return -1;
	for (p = 0; p < 3; p++) {
		st->plane[p].op = FILTER_COLOR_NEGATE;
		st->plane[p].negate = p == 0 ? 251 : 256;
	}
	return 0;
}

/* The original scaled HSV value by 1.2: RGB times (1 + amount), hue and saturation kept. */
int
filter_color_brightness_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;
	double				 g = 1 + filter_inst_param(fi, "amount");

	if ((st = filter_color_alloc(fi, w, h, fmt, 0, err, errlen)) == NULL)
		return -1;
	filter_color_set_affine(st, &st->plane[0], g, 16 * (1 - g));
	filter_color_set_affine(st, &st->plane[1], g, 128 * (1 - g));
	st->plane[2] = st->plane[1];
	return 0;
}

/* RGB' = 127.5 + (1 + amount)(RGB - 127.5): luma around 125.5, chroma scaled alike. */
int
filter_color_contrast_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;
	double				 g = 1 + filter_inst_param(fi, "amount");

	if ((st = filter_color_alloc(fi, w, h, fmt, 0, err, errlen)) == NULL)
		return -1;
	filter_color_set_affine(st, &st->plane[0], g, 125.5 * (1 - g));
	filter_color_set_affine(st, &st->plane[1], g, 128 * (1 - g));
	st->plane[2] = st->plane[1];
	return 0;
}

/* Scaling chroma around neutral keeps luma and hue, as the original's HSV S * 1.25 did. */
int
filter_color_saturation_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;
	double				 g = 1 + filter_inst_param(fi, "amount");

	if ((st = filter_color_alloc(fi, w, h, fmt, 0, err, errlen)) == NULL)
		return -1;
	st->plane[0].op = FILTER_COLOR_KEEP;
	filter_color_set_affine(st, &st->plane[1], g, 128 * (1 - g));
	st->plane[2] = st->plane[1];
	return 0;
}

/*
 * ffmpeg eq's order on t = (Y-16)/219: contrast around 0.5, then brightness added, then
 * gamma (t^(1/gamma), only inside [0,1], where it is defined; outside the line continues),
 * all on luma through one table. Saturation scales chroma.
 */
int
filter_color_adjust_prepare(struct filter_inst *fi, int w, int h,
    const struct filter_format *fmt, enum filter_matrix m,
    char *err, size_t errlen)
{
	struct filter_color_state	*st;
	double				 bright = filter_inst_param(fi, "brightness");
	double				 contrast = filter_inst_param(fi, "contrast");
	double				 sat = filter_inst_param(fi, "saturation");
	double				 gamma = filter_inst_param(fi, "gamma");
	double				 t;
	int				 x;

	if ((st = filter_color_alloc(fi, w, h, fmt, gamma != 1, err, errlen)) == NULL)
		return -1;
	if (gamma == 1) {
		/* 16 + 219 t' with t' = (t - 0.5) contrast + 0.5 + bright is affine in Y. */
		filter_color_set_affine(st, &st->plane[0], contrast,
		    16 + 219 * (0.5 + bright) - contrast * 125.5);
	} else {
		st->plane[0].op = FILTER_COLOR_LUT;
		for (x = 0; x < 256; x++) {
			t = (x - 16) / 219.0;
			t = (t - 0.5) * contrast + 0.5 + bright;
			if (t > 0 && t < 1)
				t = pow(t, 1 / gamma);
			st->plane[0].lut[x] = (uint8_t)lrint(fmin(fmax(16 + 219 * t, 0), 255));
		}
		for (x = 0; st->plane[0].lut16 != NULL && x < 1 << fmt->depth; x++) {
			t = (x - 16.0 * st->scale) / (219.0 * st->scale);
			t = (t - 0.5) * contrast + 0.5 + bright;
			if (t > 0 && t < 1)
				t = pow(t, 1 / gamma);
			st->plane[0].lut16[x] = (uint16_t)lrint(fmin(fmax(st->scale * (16 + 219 * t),
			    0), (1 << fmt->depth) - 1));
		}
	}
	filter_color_set_affine(st, &st->plane[1], sat, 128 * (1 - sat));
	st->plane[2] = st->plane[1];
	return 0;
}

void
filter_color_planes(const struct filter_inst *fi, unsigned *reads, unsigned *writes)
{
	const struct filter_color_state	*st = fi->state;
	int				 p;

	*reads = *writes = 0;
	for (p = 0; p < 3; p++) {
		if (st->plane[p].op != FILTER_COLOR_KEEP)
			*writes |= 1u << p;
		/* a fill writes every sample without looking at one */
		if (st->plane[p].op != FILTER_COLOR_KEEP && st->plane[p].op != FILTER_COLOR_FILL)
			*reads |= 1u << p;
	}
}

/* One row of n samples above 8 bits. */
static void
filter_color_row16(const struct filter_color_state *st, const struct filter_color_plane *cp,
    uint16_t *row, size_t n)
{
	int32_t	max = (1 << st->fmt.depth) - 1;

	switch (cp->op) {
	case FILTER_COLOR_FILL:
		filter_fill_row((uint8_t *)row, st->fmt.depth, cp->fill * st->scale, n);
		break;
	case FILTER_COLOR_AFFINE:
		filter_color_affine_run16(row, n, cp->mul32, cp->add32, max);
		break;
	case FILTER_COLOR_NEGATE:
		filter_color_negate_run16(row, n, cp->negate * st->scale, max);
		break;
	case FILTER_COLOR_LUT:
		filter_color_lut_run16(row, n, cp->lut16);
		break;
	case FILTER_COLOR_KEEP:
		break;
	}
}

void
filter_color_apply(struct filter_inst *fi, struct frame *f)
{
	const struct filter_color_state	*st = fi->state;
	const struct filter_color_plane	*cp;
	uint8_t				*row;
	size_t				 n, bps = st->fmt.depth > 8 ? 2 : 1;
	int				 p, y, rows;

	for (p = 0; p < 3; p++) {
		cp = &st->plane[p];
		if (cp->op == FILTER_COLOR_KEEP)
			continue;
		/* Without padding the plane is one long row, and only one tail is scalar. */
		n = (size_t)filter_format_plane_width(&st->fmt, st->w, p);
		rows = filter_format_plane_height(&st->fmt, st->h, p);
		if ((size_t)f->linesize[p] == n * bps) {
			n *= (size_t)rows;
			rows = 1;
		}
		for (y = 0; y < rows; y++) {
			row = f->data[p] + (size_t)y * (size_t)f->linesize[p];
			if (bps == 2) {
				filter_color_row16(st, cp, (uint16_t *)(void *)row, n);
				continue;
			}
			switch (cp->op) {
			case FILTER_COLOR_FILL:
				memset(row, cp->fill, n);
				break;
			case FILTER_COLOR_AFFINE:
				filter_color_affine_run(row, n, cp->mul, cp->add);
				break;
			case FILTER_COLOR_NEGATE:
				filter_color_negate_run(row, n, cp->negate);
				break;
			case FILTER_COLOR_LUT:
				filter_color_lut_run(row, n, cp->lut);
				break;
			case FILTER_COLOR_KEEP:
				break;
			}
		}
	}
}
