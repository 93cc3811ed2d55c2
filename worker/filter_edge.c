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
 */

struct filter_edge_state {
	int16_t		 threshold;
	uint8_t		*buf[3];	/* one column of padding each side */
	uint8_t		*out;
	size_t		 wide;
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

/* Copies a row with its first and last samples repeated into the padding. */
static void
filter_edge_copy(const struct filter_edge_state *st, uint8_t *dst, const uint8_t *src, int w)
{
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

	filter_edge_copy(st, prev, f->data[0], w);
	filter_edge_copy(st, cur, f->data[0], w);
	filter_edge_copy(st, next, f->data[0] + (h > 1 ? ls : 0), w);
	for (y = 0; y < h; y++) {
		row = f->data[0] + (size_t)y * ls;
		filter_edge_row(st->out, prev + 1, cur + 1, next + 1, st->threshold, w);
		memcpy(row, st->out, (size_t)w);
		tmp = prev;
		prev = cur;
		cur = next;
		next = tmp;
		filter_edge_copy(st, next, f->data[0] + (size_t)(y + 2 < h ? y + 2 : h - 1) * ls,
		    w);
	}
	for (p = 1; p < 3; p++) {
		for (y = 0; y < filter_plane_height(f, p); y++) {
			memset(f->data[p] + (size_t)y * (size_t)f->linesize[p], 128,
			    (size_t)filter_plane_width(f, p));
		}
	}
}

int
filter_edge_prepare(struct filter_inst *fi, int w, int h, enum filter_matrix m, char *err,
    size_t errlen)
{
	struct filter_edge_state	*st;
	size_t				 wide = (size_t)FILTER_VEC_CEIL(w), size;
	char				*cursor;
	int				 i;

	size = filter_align(sizeof *st) + 3 * filter_align(wide + 2) + filter_align(wide);
	if ((cursor = filter_state_alloc(fi, size, err, errlen)) == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->wide = wide;
	for (i = 0; i < 3; i++)
		st->buf[i] = filter_carve(&cursor, wide + 2);
	st->out = filter_carve(&cursor, wide);
	/* The magnitude is an integer: reaching t means reaching ceil(t). */
	st->threshold = (int16_t)ceil(filter_inst_param(fi, "threshold"));
	return 0;
}
