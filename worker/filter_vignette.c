#include <math.h>
#include <string.h>

#include "worker/filter_kernel.h"

/*
 * Vignette: every sample moves towards black by f = 1 - strength * d^2, clipped at 0, where
 * d^2 = ((x - cx)^2 + (y - cy)^2) / ((W/2)^2 + (H/2)^2) is 1 at the corners. Darkening RGB
 * by f is Y' = 16 + f (Y-16) and C' = 128 + f (C-128). A chroma sample sits at the centre of
 * its 2x2 luma block.
 *
 * d^2 is a sum of an x part and a y part, so f = fy[y] - fx[x], both Q16 tables made once,
 * and each row costs a saturating subtraction and two multiply-highs per sample:
 * x f + base (1 - f) with x << 8 and base << 8 keeps 8 fraction bits in 16-bit lanes.
 * Above 8 bits the same sum runs in 32-bit lanes on the 16-bit samples. A chroma sample
 * sits at the centre of the luma samples it covers, whatever the subsampling.
 */

struct filter_vignette_plane {
	int		 w, h;
	uint16_t	 base;
	uint16_t	*fx, *fy;
};

struct filter_vignette_state {
	int				depth;
	struct filter_vignette_plane	plane[3];
};

static inline uint8_t
filter_vignette_px(uint8_t x, uint16_t fx, uint16_t fy, uint16_t base)
{
	uint16_t	f = fy > fx ? (uint16_t)(fy - fx) : 0;
	uint16_t	a = (uint16_t)(((uint32_t)(uint16_t)(x << 8) * f) >> 16);
	uint16_t	b = (uint16_t)(((uint32_t)(uint16_t)(base << 8) *
			    (uint16_t)(65535 - f)) >> 16);

	return (uint8_t)((uint16_t)(a + b + 128) >> 8);
}

FILTER_CLONES static void
filter_vignette_row(uint8_t *restrict row, const uint16_t *restrict fx, uint16_t fy,
    uint16_t base, int n)
{
	int	x, nv = n & ~(FILTER_VEC - 1);

	for (x = 0; x < nv; x++)
		row[x] = filter_vignette_px(row[x], fx[x], fy, base);
	for (; x < n; x++)
		row[x] = filter_vignette_px(row[x], fx[x], fy, base);
}

static void
filter_vignette_row16(uint16_t *restrict row, const uint16_t *restrict fx, uint16_t fy,
    uint32_t base, int n)
{
	int	x;

	for (x = 0; x < n; x++) {
		uint32_t	f = fy > fx[x] ? (uint32_t)(fy - fx[x]) : 0;

		row[x] = (uint16_t)((row[x] * f + base * (65535 - f) + 32768) >> 16);
	}
}

void
filter_vignette_apply(struct filter_inst *fi, struct frame *f)
{
	const struct filter_vignette_state	*st = fi->state;
	const struct filter_vignette_plane	*vp;
	int					 p, y;

	for (p = 0; p < 3; p++) {
		vp = &st->plane[p];
		for (y = 0; y < vp->h; y++) {
			if (st->depth > 8) {
				filter_vignette_row16(FILTER_ROW16(f, p, y), vp->fx, vp->fy[y],
				    vp->base, vp->w);
			} else {
				filter_vignette_row(f->data[p] + (size_t)y * (size_t)f->linesize[p],
				    vp->fx, vp->fy[y], vp->base, vp->w);
			}
		}
	}
}

int
filter_vignette_prepare(struct filter_inst *fi, int w, int h, const struct filter_format *fmt,
    enum filter_matrix m, char *err, size_t errlen)
{
	struct filter_vignette_state	*st;
	struct filter_vignette_plane	*vp;
	double				 s = filter_inst_param(fi, "strength");
	double				 cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
	double				 norm = (w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0);
	double				 pos, v;
	size_t				 size;
	char				*cursor;
	int				 p, i;

	size = filter_align(sizeof *st) + 3 * filter_align(((size_t)w + (size_t)h) *
	    sizeof(uint16_t));
	if ((cursor = filter_state_alloc(fi, size, err, errlen)) == NULL)
		return -1;
	st = filter_carve(&cursor, sizeof *st);
	fi->state = st;
	st->depth = fmt->depth;
	for (p = 0; p < 3; p++) {
		int	sx = p == 0 ? 1 : 1 << fmt->cw_log2, sy = p == 0 ? 1 : 1 << fmt->ch_log2;

		vp = &st->plane[p];
		vp->w = filter_format_plane_width(fmt, w, p);
		vp->h = filter_format_plane_height(fmt, h, p);
		vp->base = (uint16_t)FILTER_LEVEL(fmt, p == 0 ? 16 : 128);
		vp->fx = filter_carve(&cursor, ((size_t)w + (size_t)h) * sizeof(uint16_t));
		vp->fy = vp->fx + vp->w;
		for (i = 0; i < vp->w; i++) {
			pos = sx * i + (sx - 1) / 2.0;
			v = s * (pos - cx) * (pos - cx) / norm * 65535;
			vp->fx[i] = (uint16_t)lrint(fmin(v, 65535));
		}
		for (i = 0; i < vp->h; i++) {
			pos = sy * i + (sy - 1) / 2.0;
			v = (1 - s * (pos - cy) * (pos - cy) / norm) * 65535;
			vp->fy[i] = (uint16_t)lrint(fmax(0, fmin(v, 65535)));
		}
	}
	return 0;
}
