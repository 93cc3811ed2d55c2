#include <math.h>
#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Edge detection on luma: Sobel gradient, L1 magnitude |gx| + |gy| (0..2040, what OpenCV's
 * Canny compares its thresholds with), white (235) where it reaches the threshold, black
 * (16) elsewhere, chroma neutral. Edges clamp, so a flat frame has no gradient anywhere.
 *
 * In place: the 3x3 window needs the originals of rows y-1..y+1 while row y is written, so
 * three padded copies rotate: row y+1 is copied before row y is overwritten.
 *
 * Above 8 bits the samples are 16-bit, the magnitude 32-bit and the threshold (in 8-bit
 * units) scaled by 2^(depth-8), as are black, white and neutral.
 */

struct filter_edge_state {
	struct filter_format	 fmt;
	int			 w, h;
	int16_t			 threshold;
	int32_t			 threshold32;	/* above 8 bits */
	uint8_t			*buf[3];	/* one column of padding each side */
	uint8_t			*out;
	size_t			 wide;
};

static inline int16_t
filter_edge_abs(int16_t v)
{
	return v < 0 ? (int16_t)-v : v;
}

FILTER_CLONES static void
filter_edge_row(uint8_t *restrict out, const uint8_t *restrict p, const uint8_t *restrict c,
    const uint8_t *restrict nx, int16_t threshold, int n)
{
	int	x;

	n = FILTER_VEC_CEIL(n);
	for (x = 0; x < n; x++) {
		int16_t	gx = (int16_t)((p[x + 1] + 2 * c[x + 1] + nx[x + 1]) -
			    (p[x - 1] + 2 * c[x - 1] + nx[x - 1]));
		int16_t	gy = (int16_t)((nx[x - 1] + 2 * nx[x] + nx[x + 1]) -
			    (p[x - 1] + 2 * p[x] + p[x + 1]));
		int16_t	mag = (int16_t)(filter_edge_abs(gx) + filter_edge_abs(gy));

		out[x] = mag >= threshold ? 235 : 16;
	}
}

static void
filter_edge_row16(uint16_t *restrict out, const uint16_t *restrict p,
    const uint16_t *restrict c, const uint16_t *restrict nx, int32_t threshold, uint16_t hi,
    uint16_t lo, int n)
{
	int	x;

	for (x = 0; x < n; x++) {
		int32_t	gx = (p[x + 1] + 2 * c[x + 1] + nx[x + 1]) -
			    (p[x - 1] + 2 * c[x - 1] + nx[x - 1]);
		int32_t	gy = (nx[x - 1] + 2 * nx[x] + nx[x + 1]) -
			    (p[x - 1] + 2 * p[x] + p[x + 1]);

		out[x] = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy) >= threshold ? hi : lo;
	}
}

/* Copies a row with its first and last samples repeated into the padding. */
static void
filter_edge_copy(const struct filter_edge_state *st, uint8_t *dst, const uint8_t *src, int w)
{
	uint16_t	*d16 = (uint16_t *)(void *)dst;
	const uint16_t	*s16 = (const uint16_t *)(const void *)src;
	size_t		 x;

	if (st->fmt.depth > 8) {
		d16[0] = s16[0];
		memcpy(d16 + 1, s16, (size_t)w * 2);
		for (x = (size_t)w + 1; x < st->wide + 2; x++)
			d16[x] = s16[w - 1];
		return;
	}
	dst[0] = src[0];
	memcpy(dst + 1, src, (size_t)w);
	memset(dst + 1 + w, src[w - 1], st->wide + 2 - (size_t)(w + 1));
}

void
filter_edge_apply(struct filter_inst *fi, struct frame *f)
{
	struct filter_edge_state	*st = fi->state;
	uint8_t				*prev = st->buf[0], *cur = st->buf[1];
	uint8_t				*next = st->buf[2], *tmp, *row;
	int				 w = f->width, h = f->height, y, p;
	size_t				 ls = (size_t)f->linesize[0];
	size_t				 bps = st->fmt.depth > 8 ? 2 : 1;

	filter_edge_copy(st, prev, f->data[0], w);
	filter_edge_copy(st, cur, f->data[0], w);
	filter_edge_copy(st, next, f->data[0] + (h > 1 ? ls : 0), w);
	for (y = 0; y < h; y++) {
		row = f->data[0] + (size_t)y * ls;
		if (bps == 2) {
			filter_edge_row16((uint16_t *)(void *)st->out,
			    (uint16_t *)(void *)prev + 1, (uint16_t *)(void *)cur + 1,
			    (uint16_t *)(void *)next + 1, st->threshold32,
			    (uint16_t)FILTER_LEVEL(&st->fmt, 235), (uint16_t)FILTER_LEVEL(&st->fmt, 16),
			    w);
		} else
			filter_edge_row(st->out, prev + 1, cur + 1, next + 1, st->threshold, w);
		memcpy(row, st->out, (size_t)w * bps);
		tmp = prev;
		prev = cur;
		cur = next;
		next = tmp;
		filter_edge_copy(st, next, f->data[0] + (size_t)(y + 2 < h ? y + 2 : h - 1) * ls,
		    w);
	}
	for (p = 1; p < 3; p++) {
		for (y = 0; y < filter_format_plane_height(&st->fmt, h, p); y++) {
			filter_fill_row(f->data[p] + (size_t)y * (size_t)f->linesize[p],
			    st->fmt.depth, FILTER_LEVEL(&st->fmt, 128),
			    (size_t)filter_format_plane_width(&st->fmt, w, p));
		}
	}
}

int
filter_edge_prepare(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    enum filter_matrix m, char *err, size_t errlen)
{
	struct filter_edge_state	*st;
	size_t				 wide = (size_t)FILTER_VEC_CEIL(w), size;
	size_t				 bps = fmt->depth > 8 ? 2 : 1;
	char				*cursor;
	int				 i;

	size = filter_align(sizeof *st) + 3 * filter_align((wide + 2) * bps) +
	    filter_align(wide * bps);
	if ((cursor = filter_state_alloc(fi, size, err, errlen)) == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->fmt = *fmt;
	st->w = w;
	st->h = h;
	st->wide = wide;
	for (i = 0; i < 3; i++)
		st->buf[i] = filter_carve(&cursor, (wide + 2) * bps);
	st->out = filter_carve(&cursor, wide * bps);
	/* The magnitude is an integer: reaching t means reaching ceil(t). */
	st->threshold = (int16_t)ceil(filter_inst_param(fi, "threshold"));
	st->threshold32 = (int32_t)ceil(filter_inst_param(fi, "threshold") *
	    (1 << (fmt->depth - 8)));
	return 0;
}
