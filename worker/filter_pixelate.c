#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Pixelate: the frame is cut into size x size luma blocks from the top-left corner (smaller
 * at the right and bottom edges) and each block takes its mean. A chroma sample belongs to
 * the block of the luma it covers (column 2i for sample i), so colour blocks line up with
 * luma blocks even for odd sizes.
 *
 * Per band of rows: column sums (16 bits: at most 256 rows of 255), then one mean per block
 * spread into an output row that is copied to every row of the band. Above 8 bits the sums
 * are 32-bit (256 rows of 4095). In 4:2:2 and 4:4:4 a chroma axis at full resolution has
 * the luma's blocks.
 */

struct filter_pixelate_plane {
	int	 w, h;
	int	 nx, ny;	/* blocks across and down */
	int	*xs, *ys;	/* block starts, nx+1 and ny+1 entries (last = w, h) */
};

struct filter_pixelate_state {
	int				 depth;
	struct filter_pixelate_plane	 plane[3];
	uint16_t			*colsum;
	uint32_t			*colsum32;	/* above 8 bits */
	uint8_t				*out;
};

FILTER_CLONES static void
filter_pixelate_add(uint16_t *restrict sum, const uint8_t *restrict row, int n)
{
	int	x, nv = n & ~(FILTER_VEC - 1);

	for (x = 0; x < nv; x++)
		sum[x] = (uint16_t)(sum[x] + row[x]);
	for (; x < n; x++)
		sum[x] = (uint16_t)(sum[x] + row[x]);
}

static void
filter_pixelate_add16(uint32_t *restrict sum, const uint16_t *restrict row, int n)
{
	int	x;

	for (x = 0; x < n; x++)
		sum[x] += row[x];
}

static void
filter_pixelate_plane16(const struct filter_pixelate_state *st,
    const struct filter_pixelate_plane *pp, uint8_t *data, int linesize)
{
	uint16_t	*out = (uint16_t *)(void *)st->out;
	uint32_t	 sum, cnt;
	int		 bx, by, x, y;

	for (by = 0; by < pp->ny; by++) {
		memset(st->colsum32, 0, (size_t)pp->w * sizeof(uint32_t));
		for (y = pp->ys[by]; y < pp->ys[by + 1]; y++) {
			filter_pixelate_add16(st->colsum32,
			    (const uint16_t *)(void *)(data + (size_t)y * (size_t)linesize), pp->w);
		}
		for (bx = 0; bx < pp->nx; bx++) {
			sum = 0;
			for (x = pp->xs[bx]; x < pp->xs[bx + 1]; x++)
				sum += st->colsum32[x];
			cnt = (uint32_t)(pp->xs[bx + 1] - pp->xs[bx]) *
			    (uint32_t)(pp->ys[by + 1] - pp->ys[by]);
			for (x = pp->xs[bx]; x < pp->xs[bx + 1]; x++)
				out[x] = (uint16_t)((sum + cnt / 2) / cnt);
		}
		for (y = pp->ys[by]; y < pp->ys[by + 1]; y++)
			memcpy(data + (size_t)y * (size_t)linesize, out, (size_t)pp->w * 2);
	}
}

static void
filter_pixelate_plane(const struct filter_pixelate_state *st,
    const struct filter_pixelate_plane *pp, uint8_t *data, int linesize)
{
	uint32_t	 sum, cnt;
	int		 bx, by, x, y;

	for (by = 0; by < pp->ny; by++) {
		memset(st->colsum, 0, (size_t)pp->w * sizeof(uint16_t));
		for (y = pp->ys[by]; y < pp->ys[by + 1]; y++)
			filter_pixelate_add(st->colsum, data + (size_t)y * (size_t)linesize, pp->w);
		for (bx = 0; bx < pp->nx; bx++) {
			sum = 0;
			for (x = pp->xs[bx]; x < pp->xs[bx + 1]; x++)
				sum += st->colsum[x];
			cnt = (uint32_t)(pp->xs[bx + 1] - pp->xs[bx]) *
			    (uint32_t)(pp->ys[by + 1] - pp->ys[by]);
			memset(st->out + pp->xs[bx], (int)((sum + cnt / 2) / cnt),
			    (size_t)(pp->xs[bx + 1] - pp->xs[bx]));
		}
		for (y = pp->ys[by]; y < pp->ys[by + 1]; y++)
			memcpy(data + (size_t)y * (size_t)linesize, st->out, (size_t)pp->w);
	}
}

void
filter_pixelate_apply(struct filter_inst *fi, struct frame *f)
{
	const struct filter_pixelate_state	*st = fi->state;
	int					 p;

	for (p = 0; p < 3; p++) {
		if (st->depth > 8)
			filter_pixelate_plane16(st, &st->plane[p], f->data[p], f->linesize[p]);
		else
			filter_pixelate_plane(st, &st->plane[p], f->data[p], f->linesize[p]);
	}
}

/* Block starts along one axis of n samples, each covering `sub` luma: ceil(b size / sub). */
static int
filter_pixelate_starts(int *starts, int n, int size, int sub)
{
	int	b = 0;

	for (;;) {
		int	s = (b * size + sub - 1) / sub;

		if (s >= n)
			break;
		starts[b++] = s;
	}
	starts[b] = n;
	return b;
}

int
filter_pixelate_prepare(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    enum filter_matrix m, char *err, size_t errlen)
{
	struct filter_pixelate_state	*st;
	struct filter_pixelate_plane	*pp;
	int				 size = (int)filter_inst_param(fi, "size"), p;
	size_t				 bytes;
	char				*cursor;

	/* Start arrays are sized for the luma plane, the largest, at one block per sample. */
	bytes = filter_align(sizeof *st) + 6 * filter_align(((size_t)w + (size_t)h + 2) *
	    sizeof(int)) + filter_align((size_t)w * sizeof(uint16_t)) +
	    filter_align((size_t)w * sizeof(uint32_t)) + filter_align((size_t)w * 2);
	if ((cursor = filter_state_alloc(fi, bytes, err, errlen)) == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->depth = fmt->depth;
	for (p = 0; p < 3; p++) {
		pp = &st->plane[p];
		pp->w = filter_format_plane_width(fmt, w, p);
		pp->h = filter_format_plane_height(fmt, h, p);
		pp->xs = filter_carve(&cursor, ((size_t)w + (size_t)h + 2) * sizeof(int));
		pp->ys = filter_carve(&cursor, ((size_t)w + (size_t)h + 2) * sizeof(int));
		pp->nx = filter_pixelate_starts(pp->xs, pp->w, size, p == 0 ? 1 : 1 << fmt->cw_log2);
		pp->ny = filter_pixelate_starts(pp->ys, pp->h, size, p == 0 ? 1 : 1 << fmt->ch_log2);
	}
	st->colsum = filter_carve(&cursor, (size_t)w * sizeof(uint16_t));
	st->colsum32 = filter_carve(&cursor, (size_t)w * sizeof(uint32_t));
	st->out = filter_carve(&cursor, (size_t)w * 2);
	return 0;
}
