#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/filter.h"

/*
 * Every kernel against a plain double-precision reference written from the definition
 * (see each worker/filter_*.c), on random and extreme frames of awkward sizes with padded
 * rows, plus the properties a user would check by eye.
 */

#define TEST_PAD_BYTE	0xa5

/* A frame whose planes are allocated exactly (so ASan sees overruns) with padded rows. */
struct tframe {
	struct frame	f;
	int		pad;
};

static int
tf_w(const struct frame *f, int p)
{
	return p == 0 ? f->width : (f->width + 1) / 2;
}

static int
tf_h(const struct frame *f, int p)
{
	return p == 0 ? f->height : (f->height + 1) / 2;
}

static uint8_t *
tf_at(const struct frame *f, int p, int x, int y)
{
	return f->data[p] + (size_t)y * (size_t)f->linesize[p] + (size_t)x;
}

static void
tf_alloc(struct tframe *t, int w, int h, int pad)
{
	int	p;

	memset(t, 0, sizeof *t);
	t->f.width = w;
	t->f.height = h;
	t->pad = pad;
	for (p = 0; p < 3; p++) {
		t->f.linesize[p] = tf_w(&t->f, p) + pad;
		t->f.data[p] = malloc((size_t)t->f.linesize[p] * (size_t)tf_h(&t->f, p));
		assert_non_null(t->f.data[p]);
		memset(t->f.data[p], TEST_PAD_BYTE, (size_t)t->f.linesize[p] *
		    (size_t)tf_h(&t->f, p));
	}
}

static void
tf_free(struct tframe *t)
{
	int	p;

	for (p = 0; p < 3; p++)
		free(t->f.data[p]);
}

static void
tf_copy(struct tframe *dst, const struct tframe *src)
{
	int	p;

	tf_alloc(dst, src->f.width, src->f.height, src->pad);
	for (p = 0; p < 3; p++) {
		memcpy(dst->f.data[p], src->f.data[p], (size_t)src->f.linesize[p] *
		    (size_t)tf_h(&src->f, p));
	}
}

static uint32_t
test_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

enum tf_content { TF_RANDOM, TF_LEGAL, TF_BLACK, TF_WHITE, TF_EXTREMES, TF_NCONTENT };

static const char *tf_content_name[] = { "random", "legal", "zeros", "255s", "0/255" };

static void
tf_fill(struct tframe *t, enum tf_content c, uint32_t seed)
{
	int	p, x, y, v;

	for (p = 0; p < 3; p++) {
		for (y = 0; y < tf_h(&t->f, p); y++) {
			for (x = 0; x < tf_w(&t->f, p); x++) {
				uint32_t	r = test_rand(&seed);

				switch (c) {
				case TF_RANDOM:
					v = (int)(r & 255);
					break;
				case TF_LEGAL:
					v = 16 + (int)(r % (p == 0 ? 220 : 225));
					break;
				case TF_BLACK:
					v = 0;
					break;
				case TF_WHITE:
					v = 255;
					break;
				default:
					v = (r & 1) ? 255 : 0;
					break;
				}
				*tf_at(&t->f, p, x, y) = (uint8_t)v;
			}
		}
	}
}

static void
tf_fill_flat(struct tframe *t, int yv, int cv)
{
	int	p, y;

	for (p = 0; p < 3; p++) {
		for (y = 0; y < tf_h(&t->f, p); y++)
			memset(tf_at(&t->f, p, 0, y), p == 0 ? yv : cv, (size_t)tf_w(&t->f, p));
	}
}

static void
tf_apply(const char *spec, enum filter_matrix m, struct tframe *t)
{
	struct filter_chain	*fc;
	char			 err[512];

	fc = filter_chain_parse(spec, err, sizeof err);
	if (fc == NULL)
		fail_msg("%s: %s", spec, err);
	if (filter_chain_prepare(fc, t->f.width, t->f.height, m, err, sizeof err) != 0)
		fail_msg("%s on %dx%d: %s", spec, t->f.width, t->f.height, err);
	filter_chain_apply(fc, &t->f);
	filter_chain_free(fc);
}

/* Largest difference over the visible samples; padding must still hold the marker. */
static void
tf_expect(const struct tframe *got, const struct tframe *want, int tol, const char *what)
{
	int	p, x, y, d;

	for (p = 0; p < 3; p++) {
		for (y = 0; y < tf_h(&got->f, p); y++) {
			for (x = 0; x < got->f.linesize[p]; x++) {
				int	g = *tf_at(&got->f, p, x, y);

				if (x >= tf_w(&got->f, p)) {
					if (g != TEST_PAD_BYTE)
						fail_msg("%s: wrote padding of plane %d at %d,%d", what,
						    p, x, y);
					continue;
				}
				d = abs(g - *tf_at(&want->f, p, x, y));
				if (d > tol)
					fail_msg("%s: plane %d at %d,%d is %d, reference %d (tolerance "
					    "%d)", what, p, x, y, g, *tf_at(&want->f, p, x, y), tol);
			}
		}
	}
}

static uint8_t
ref_round(double v)
{
	v = floor(v + 0.5);
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static double
ref_clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- references ---- */

typedef void (*ref_fn)(const struct tframe *, struct tframe *, const double *,
    enum filter_matrix);

static void
ref_none(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
}

static void
ref_grayscale(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	int	p, x, y;

	for (p = 1; p < 3; p++) {
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++)
				*tf_at(&out->f, p, x, y) = 128;
		}
	}
}

/* Pointwise filters: one function of (plane, value). */
enum ref_point { REF_INVERT, REF_BRIGHTNESS, REF_CONTRAST, REF_SATURATION, REF_COLOR };

static double
ref_point_value(enum ref_point k, const double *a, int p, double v)
{
	double	t;

	switch (k) {
	case REF_INVERT:
		return p == 0 ? 251 - v : 256 - v;
	case REF_BRIGHTNESS:
		return p == 0 ? 16 + (v - 16) * (1 + a[0]) : 128 + (v - 128) * (1 + a[0]);
	case REF_CONTRAST:
		return p == 0 ? 125.5 + (v - 125.5) * (1 + a[0]) : 128 + (v - 128) * (1 + a[0]);
	case REF_SATURATION:
		return p == 0 ? v : 128 + (v - 128) * (1 + a[0]);
	case REF_COLOR:
		if (p != 0)
			return 128 + (v - 128) * a[2];
		t = (v - 16) / 219;
		t = (t - 0.5) * a[1] + 0.5 + a[0];
		if (t > 0 && t < 1)
			t = pow(t, 1 / a[3]);
		return 16 + 219 * t;
	}
	return v;
}

static void
ref_point(const struct tframe *in, struct tframe *out, const double *a, enum ref_point k)
{
	int	p, x, y;

	for (p = 0; p < 3; p++) {
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++) {
				*tf_at(&out->f, p, x, y) = ref_round(ref_point_value(k, a, p,
				    *tf_at(&in->f, p, x, y)));
			}
		}
	}
}

static void
ref_invert(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	ref_point(in, out, a, REF_INVERT);
}

static void
ref_brightness(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	ref_point(in, out, a, REF_BRIGHTNESS);
}

static void
ref_contrast(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	ref_point(in, out, a, REF_CONTRAST);
}

static void
ref_saturation(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	ref_point(in, out, a, REF_SATURATION);
}

static void
ref_color(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	ref_point(in, out, a, REF_COLOR);
}

/* RGB' = clip(M clip(RGB)) per pixel; chroma from the mean RGB' of each 2x2 block. */
static void
ref_rgb(const struct tframe *in, struct tframe *out, const double M[3][3],
    enum filter_matrix m)
{
	double	kr = m == FILTER_BT709 ? 0.2126 : m == FILTER_BT2020 ? 0.2627 : 0.299;
	double	kb = m == FILTER_BT709 ? 0.0722 : m == FILTER_BT2020 ? 0.0593 : 0.114;
	double	kg = 1 - kr - kb, *sum;
	int	w = in->f.width, h = in->f.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	int	x, y, i, j, c;

	sum = calloc((size_t)cw * (size_t)ch * 4, sizeof *sum);
	assert_non_null(sum);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			double	Y = *tf_at(&in->f, 0, x, y) - 16.0;
			double	U = *tf_at(&in->f, 1, x / 2, y / 2) - 128.0;
			double	V = *tf_at(&in->f, 2, x / 2, y / 2) - 128.0;
			double	rgb[3], o[3], *s;

			rgb[0] = 255 / 219.0 * Y + 255 / 112.0 * (1 - kr) * V;
			rgb[1] = 255 / 219.0 * Y - 255 / 112.0 * (1 - kb) * kb / kg * U -
			    255 / 112.0 * (1 - kr) * kr / kg * V;
			rgb[2] = 255 / 219.0 * Y + 255 / 112.0 * (1 - kb) * U;
			for (c = 0; c < 3; c++)
				rgb[c] = ref_clampd(rgb[c], 0, 255);
			for (c = 0; c < 3; c++) {
				o[c] = ref_clampd(M[c][0] * rgb[0] + M[c][1] * rgb[1] +
				    M[c][2] * rgb[2], 0, 255);
			}
			*tf_at(&out->f, 0, x, y) = ref_round(16 + 219 / 255.0 *
			    (kr * o[0] + kg * o[1] + kb * o[2]));
			s = sum + ((size_t)(y / 2) * (size_t)cw + (size_t)(x / 2)) * 4;
			for (c = 0; c < 3; c++)
				s[c] += o[c];
			s[3]++;
		}
	}
	for (j = 0; j < ch; j++) {
		for (i = 0; i < cw; i++) {
			double	*s = sum + ((size_t)j * (size_t)cw + (size_t)i) * 4;
			double	 r = s[0] / s[3], g = s[1] / s[3], b = s[2] / s[3];
			double	 l = kr * r + kg * g + kb * b;

			*tf_at(&out->f, 1, i, j) = ref_round(128 + 112 / 255.0 * (b - l) / (1 - kb));
			*tf_at(&out->f, 2, i, j) = ref_round(128 + 112 / 255.0 * (r - l) / (1 - kr));
		}
	}
	free(sum);
}

static void
ref_sepia(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	static const double	s[3][3] = {
		{ 0.393, 0.769, 0.189 }, { 0.349, 0.686, 0.168 }, { 0.272, 0.534, 0.131 },
	};
	double			M[3][3];
	int			i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++)
			M[i][j] = a[0] * s[i][j] + (i == j ? 1 - a[0] : 0);
	}
	ref_rgb(in, out, M, m);
}

static void
ref_warm(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	double	M[3][3] = { { 1 + 0.1 * a[0], 0, 0 }, { 0, 1 + 0.05 * a[0], 0 },
		    { 0, 0, fmax(0, 1 - 0.1 * a[0]) } };

	ref_rgb(in, out, M, m);
}

static void
ref_cool(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	double	M[3][3] = { { fmax(0, 1 - 0.1 * a[0]), 0, 0 }, { 0, 1 + 0.05 * a[0], 0 },
		    { 0, 0, 1 + 0.15 * a[0] } };

	ref_rgb(in, out, M, m);
}

static int
ref_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Separable Gaussian of one plane into dst (doubles), radius ceil(3 sigma), edges clamped. */
static void
ref_gauss_plane(const struct frame *f, int p, double sigma, double *dst)
{
	int	w = tf_w(f, p), h = tf_h(f, p), r = (int)ceil(3 * sigma), x, y, k;
	double	g[400], sum = 0, *tmp;

	if (r < 1)
		r = 1;
	for (k = 0; k <= r; k++) {
		g[k] = exp(-(double)k * k / (2 * sigma * sigma));
		sum += k ? 2 * g[k] : g[k];
	}
	for (k = 0; k <= r; k++)
		g[k] /= sum;
	tmp = calloc((size_t)w * (size_t)h, sizeof *tmp);
	assert_non_null(tmp);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			double	acc = 0;

			for (k = -r; k <= r; k++)
				acc += g[abs(k)] * *tf_at(f, p, ref_clampi(x + k, 0, w - 1), y);
			tmp[(size_t)y * (size_t)w + (size_t)x] = acc;
		}
	}
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			double	acc = 0;

			for (k = -r; k <= r; k++) {
				acc += g[abs(k)] * tmp[(size_t)ref_clampi(y + k, 0, h - 1) *
				    (size_t)w + (size_t)x];
			}
			dst[(size_t)y * (size_t)w + (size_t)x] = acc;
		}
	}
	free(tmp);
}

static void
ref_blur(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	double	*b = calloc((size_t)in->f.width * (size_t)in->f.height, sizeof *b);
	int	 p, x, y;

	assert_non_null(b);
	for (p = 0; p < 3; p++) {
		ref_gauss_plane(&in->f, p, p == 0 ? a[0] : a[0] / 2, b);
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++) {
				*tf_at(&out->f, p, x, y) = ref_round(b[(size_t)y *
				    (size_t)tf_w(&in->f, p) + (size_t)x]);
			}
		}
	}
	free(b);
}

/* a[0] amount, a[1] sigma; luma only. */
static void
ref_sharpen(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	double	*b = calloc((size_t)in->f.width * (size_t)in->f.height, sizeof *b);
	int	 x, y;

	assert_non_null(b);
	ref_gauss_plane(&in->f, 0, a[1], b);
	for (y = 0; y < in->f.height; y++) {
		for (x = 0; x < in->f.width; x++) {
			double	o = *tf_at(&in->f, 0, x, y);

			*tf_at(&out->f, 0, x, y) = ref_round(o + a[0] * (o - b[(size_t)y *
			    (size_t)in->f.width + (size_t)x]));
		}
	}
	free(b);
}

static void
ref_edge(const struct tframe *in, struct tframe *out, const double *a, enum filter_matrix m)
{
	int	w = in->f.width, h = in->f.height, x, y, i, j;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			int	n[3][3], gx, gy;

			for (j = 0; j < 3; j++) {
				for (i = 0; i < 3; i++) {
					n[j][i] = *tf_at(&in->f, 0, ref_clampi(x + i - 1, 0, w - 1),
					    ref_clampi(y + j - 1, 0, h - 1));
				}
			}
			gx = n[0][2] + 2 * n[1][2] + n[2][2] - n[0][0] - 2 * n[1][0] - n[2][0];
			gy = n[2][0] + 2 * n[2][1] + n[2][2] - n[0][0] - 2 * n[0][1] - n[0][2];
			*tf_at(&out->f, 0, x, y) = abs(gx) + abs(gy) >= a[0] ? 235 : 16;
		}
	}
	ref_grayscale(in, out, a, m);
}

/* Sample x of a plane subsampled by sub belongs to block floor(x sub / size). */
static void
ref_pixelate(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	int	size = (int)a[0], p, x, y, sub, bw, bh;
	double	*sum, *cnt;

	for (p = 0; p < 3; p++) {
		sub = p == 0 ? 1 : 2;
		bw = (tf_w(&in->f, p) - 1) * sub / size + 1;
		bh = (tf_h(&in->f, p) - 1) * sub / size + 1;
		sum = calloc((size_t)bw * (size_t)bh, sizeof *sum);
		cnt = calloc((size_t)bw * (size_t)bh, sizeof *cnt);
		assert_true(sum != NULL && cnt != NULL);
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++) {
				size_t	b = (size_t)(y * sub / size) * (size_t)bw +
				    (size_t)(x * sub / size);

				sum[b] += *tf_at(&in->f, p, x, y);
				cnt[b]++;
			}
		}
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++) {
				size_t	b = (size_t)(y * sub / size) * (size_t)bw +
				    (size_t)(x * sub / size);

				*tf_at(&out->f, p, x, y) = ref_round(sum[b] / cnt[b]);
			}
		}
		free(sum);
		free(cnt);
	}
}

static void
ref_vignette(const struct tframe *in, struct tframe *out, const double *a,
    enum filter_matrix m)
{
	double	W = in->f.width, H = in->f.height, cx = (W - 1) / 2, cy = (H - 1) / 2;
	double	norm = W * W / 4 + H * H / 4, px, py, f, base;
	int	p, x, y;

	for (p = 0; p < 3; p++) {
		base = p == 0 ? 16 : 128;
		for (y = 0; y < tf_h(&in->f, p); y++) {
			for (x = 0; x < tf_w(&in->f, p); x++) {
				px = p == 0 ? x : 2 * x + 0.5;
				py = p == 0 ? y : 2 * y + 0.5;
				f = 1 - a[0] * ((px - cx) * (px - cx) + (py - cy) * (py - cy)) / norm;
				f = f < 0 ? 0 : f;
				*tf_at(&out->f, p, x, y) = ref_round(base + f *
				    (*tf_at(&in->f, p, x, y) - base));
			}
		}
	}
}

/* ---- kernels against references ---- */

struct kcase {
	const char	*spec;
	ref_fn		 ref;
	double		 a[4];
	int		 tol;
};

static const struct kcase kcases[] = {
	{ "none", ref_none, { 0 }, 0 },
	{ "grayscale", ref_grayscale, { 0 }, 0 },
	{ "invert", ref_invert, { 0 }, 0 },
	{ "brightness", ref_brightness, { 0.2 }, 1 },
	{ "brightness:amount=-1", ref_brightness, { -1 }, 1 },
	{ "brightness:amount=1", ref_brightness, { 1 }, 1 },
	{ "brightness:amount=-0.37", ref_brightness, { -0.37 }, 1 },
	{ "contrast", ref_contrast, { 0.3 }, 1 },
	{ "contrast:amount=-1", ref_contrast, { -1 }, 1 },
	{ "contrast:amount=3", ref_contrast, { 3 }, 1 },
	{ "contrast:amount=-0.61", ref_contrast, { -0.61 }, 1 },
	{ "saturation", ref_saturation, { 0.25 }, 1 },
	{ "saturation:amount=-1", ref_saturation, { -1 }, 1 },
	{ "saturation:amount=3", ref_saturation, { 3 }, 1 },
	{ "color", ref_color, { 0, 1, 1, 1 }, 1 },
	{ "color:brightness=0.1:contrast=1.5:saturation=2:gamma=2.2", ref_color,
	  { 0.1, 1.5, 2, 2.2 }, 1 },
	{ "color:brightness=-1:contrast=4:saturation=4:gamma=0.1", ref_color,
	  { -1, 4, 4, 0.1 }, 1 },
	{ "color:brightness=0.3:contrast=0:saturation=0:gamma=10", ref_color,
	  { 0.3, 0, 0, 10 }, 1 },
	{ "sepia", ref_sepia, { 1 }, 1 },
	{ "sepia:amount=0.5", ref_sepia, { 0.5 }, 1 },
	{ "sepia:amount=0", ref_sepia, { 0 }, 1 },
	{ "warm_tone", ref_warm, { 1 }, 1 },
	{ "warm_tone:amount=3", ref_warm, { 3 }, 1 },
	{ "cool_tone", ref_cool, { 1 }, 1 },
	{ "cool_tone:amount=3", ref_cool, { 3 }, 1 },
	{ "blur", ref_blur, { 2.6 }, 1 },
	{ "blur:sigma=0.1", ref_blur, { 0.1 }, 1 },
	{ "blur:sigma=0.7", ref_blur, { 0.7 }, 1 },
	{ "blur:sigma=5.3", ref_blur, { 5.3 }, 1 },
	{ "blur:sigma=50", ref_blur, { 50 }, 1 },
	{ "sharpen", ref_sharpen, { 1, 1 }, 1 },
	{ "sharpen:amount=5:sigma=0.1", ref_sharpen, { 5, 0.1 }, 1 },
	{ "sharpen:amount=5:sigma=3", ref_sharpen, { 5, 3 }, 1 },
	{ "sharpen:amount=0.3:sigma=20", ref_sharpen, { 0.3, 20 }, 1 },
	{ "edge_detection", ref_edge, { 100 }, 0 },
	{ "edge_detection:threshold=1", ref_edge, { 1 }, 0 },
	{ "edge_detection:threshold=47.5", ref_edge, { 47.5 }, 0 },
	{ "edge_detection:threshold=2040", ref_edge, { 2040 }, 0 },
	{ "pixelate", ref_pixelate, { 16 }, 0 },
	{ "pixelate:size=2", ref_pixelate, { 2 }, 0 },
	{ "pixelate:size=3", ref_pixelate, { 3 }, 0 },
	{ "pixelate:size=7", ref_pixelate, { 7 }, 0 },
	{ "pixelate:size=256", ref_pixelate, { 256 }, 0 },
	{ "vignette", ref_vignette, { 0.5 }, 1 },
	{ "vignette:strength=1", ref_vignette, { 1 }, 1 },
	{ "vignette:strength=0", ref_vignette, { 0 }, 1 },
};

static const int ksizes[][2] = {
	{ 1, 1 }, { 1, 2 }, { 2, 1 }, { 2, 2 }, { 3, 3 }, { 5, 7 }, { 33, 17 }, { 64, 48 },
	{ 161, 121 }, { 200, 3 }, { 2, 90 },
};

static void
test_kernels_match_reference(void **state)
{
	struct tframe	in, got, want;
	char		what[256];
	size_t		c, s;
	int		content, pad, m;

	for (c = 0; c < sizeof kcases / sizeof kcases[0]; c++) {
		for (s = 0; s < sizeof ksizes / sizeof ksizes[0]; s++) {
			for (content = 0; content < TF_NCONTENT; content++) {
				pad = (content & 1) ? 13 : 0;
				m = (content + (int)s) % 3 == 1 ? FILTER_BT709 :
				    (content + (int)s) % 3 == 2 ? FILTER_BT2020 : FILTER_BT601;
				tf_alloc(&in, ksizes[s][0], ksizes[s][1], pad);
				tf_fill(&in, (enum tf_content)content, 1234u + (uint32_t)s);
				tf_copy(&got, &in);
				tf_copy(&want, &in);
				tf_apply(kcases[c].spec, (enum filter_matrix)m, &got);
				kcases[c].ref(&in, &want, kcases[c].a, (enum filter_matrix)m);
				snprintf(what, sizeof what, "%s on %dx%d %s (row padding %d, %s)",
				    kcases[c].spec, ksizes[s][0], ksizes[s][1],
				    tf_content_name[content], pad, m == FILTER_BT709 ? "bt709" :
				    m == FILTER_BT2020 ? "bt2020" : "bt601");
				tf_expect(&got, &want, kcases[c].tol, what);
				tf_free(&in);
				tf_free(&got);
				tf_free(&want);
			}
		}
	}
}

/* The same RGB filter on both matrices gives different results on coloured input. */
static void
test_kernels_matrix_matters(void **state)
{
	struct tframe	a, b;
	int		diff = 0, x, y;

	tf_alloc(&a, 64, 64, 0);
	tf_fill(&a, TF_LEGAL, 99);
	tf_copy(&b, &a);
	tf_apply("sepia", FILTER_BT601, &a);
	tf_apply("sepia", FILTER_BT709, &b);
	for (y = 0; y < 64; y++) {
		for (x = 0; x < 64; x++)
			diff += *tf_at(&a.f, 0, x, y) != *tf_at(&b.f, 0, x, y);
	}
	assert_true(diff > 64 * 64 / 4);
	tf_free(&a);
	tf_free(&b);
}

/* ---- defining properties ---- */

static void
test_grayscale_flat_chroma(void **state)
{
	struct tframe	in, out;
	int		x, y, p;

	tf_alloc(&in, 161, 121, 7);
	tf_fill(&in, TF_RANDOM, 5);
	tf_copy(&out, &in);
	tf_apply("grayscale", FILTER_BT601, &out);
	for (y = 0; y < 121; y++)
		assert_memory_equal(tf_at(&out.f, 0, 0, y), tf_at(&in.f, 0, 0, y), 161);
	for (p = 1; p < 3; p++) {
		for (y = 0; y < 61; y++) {
			for (x = 0; x < 81; x++)
				assert_int_equal(*tf_at(&out.f, p, x, y), 128);
		}
	}
	tf_free(&in);
	tf_free(&out);
}

static void
test_invert_twice(void **state)
{
	struct tframe	in, out;

	tf_alloc(&in, 161, 121, 3);
	tf_fill(&in, TF_LEGAL, 6);
	tf_copy(&out, &in);
	tf_apply("invert,invert", FILTER_BT601, &out);
	tf_expect(&out, &in, 0, "invert twice on legal-range samples");
	/* Black and white swap. */
	tf_fill_flat(&out, 16, 128);
	tf_apply("invert", FILTER_BT601, &out);
	assert_int_equal(*tf_at(&out.f, 0, 10, 10), 235);
	assert_int_equal(*tf_at(&out.f, 1, 10, 10), 128);
	tf_free(&in);
	tf_free(&out);
}

static void
test_identities(void **state)
{
	const char	*specs[] = { "none", "brightness:amount=0", "contrast:amount=0",
		"saturation:amount=0", "color", "vignette:strength=0", "sharpen:amount=0",
		"blur:sigma=0.1", "pixelate:size=2,none" };
	struct tframe	in, out;
	size_t		i;

	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		tf_alloc(&in, 97, 53, 5);
		tf_fill(&in, TF_RANDOM, 7);
		tf_copy(&out, &in);
		tf_apply(specs[i], FILTER_BT601, &out);
		if (strncmp(specs[i], "pixelate", 8) != 0)
			tf_expect(&out, &in, 0, specs[i]);
		tf_free(&in);
		tf_free(&out);
	}
}

static double
test_laplacian_energy(const struct frame *f)
{
	double	e = 0;
	int	x, y;

	for (y = 1; y < f->height - 1; y++) {
		for (x = 1; x < f->width - 1; x++) {
			double	l = 4.0 * *tf_at(f, 0, x, y) - *tf_at(f, 0, x - 1, y) -
			    *tf_at(f, 0, x + 1, y) - *tf_at(f, 0, x, y - 1) - *tf_at(f, 0, x, y + 1);

			e += l * l;
		}
	}
	return e;
}

static void
test_blur_smooths(void **state)
{
	struct tframe	in, out;
	double		before, after2, after8;

	tf_alloc(&in, 128, 96, 0);
	tf_fill(&in, TF_RANDOM, 8);
	before = test_laplacian_energy(&in.f);
	tf_copy(&out, &in);
	tf_apply("blur", FILTER_BT601, &out);
	after2 = test_laplacian_energy(&out.f);
	tf_free(&out);
	tf_copy(&out, &in);
	tf_apply("blur:sigma=8", FILTER_BT601, &out);
	after8 = test_laplacian_energy(&out.f);
	if (!(after2 < before / 100 && after8 < after2))
		fail_msg("Laplacian energy %g, after blur %g, after sigma 8 %g", before, after2,
		    after8);
	tf_free(&in);
	tf_free(&out);
}

/* A flat frame stays exactly flat, for every level and strength. */
static void
test_blur_flat(void **state)
{
	const char	*specs[] = { "blur:sigma=0.1", "blur:sigma=1", "blur", "blur:sigma=7.7",
		"blur:sigma=50", "sharpen:amount=5:sigma=2", "sharpen:amount=5:sigma=20" };
	struct tframe	in, out;
	size_t		i;
	int		v;

	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		for (v = 0; v < 256; v += 1) {
			tf_alloc(&in, 40, 24, 0);
			tf_fill_flat(&in, v, 255 - v);
			tf_copy(&out, &in);
			tf_apply(specs[i], FILTER_BT601, &out);
			tf_expect(&out, &in, 0, specs[i]);
			tf_free(&in);
			tf_free(&out);
		}
	}
}

static void
test_edge_flat_black(void **state)
{
	struct tframe	in, want;
	int		v;

	for (v = 0; v < 256; v += 15) {
		tf_alloc(&in, 161, 121, 9);
		tf_fill_flat(&in, v, v);
		tf_copy(&want, &in);
		tf_fill_flat(&want, 16, 128);
		tf_apply("edge_detection:threshold=1", FILTER_BT601, &in);
		tf_expect(&in, &want, 0, "edge_detection on a flat frame");
		tf_free(&in);
		tf_free(&want);
	}
	/* A vertical step is found where it is. */
	tf_alloc(&in, 32, 8, 0);
	tf_fill_flat(&in, 16, 128);
	for (v = 0; v < 8; v++)
		memset(tf_at(&in.f, 0, 16, v), 235, 16);
	tf_apply("edge_detection", FILTER_BT601, &in);
	assert_int_equal(*tf_at(&in.f, 0, 15, 4), 235);
	assert_int_equal(*tf_at(&in.f, 0, 16, 4), 235);
	assert_int_equal(*tf_at(&in.f, 0, 10, 4), 16);
	assert_int_equal(*tf_at(&in.f, 0, 20, 4), 16);
	tf_free(&in);
}

static void
test_pixelate_blocks(void **state)
{
	struct tframe	in;
	int		sizes[] = { 2, 5, 16, 33 }, i, p, x, y, n, sub;

	for (i = 0; i < 4; i++) {
		n = sizes[i];
		tf_alloc(&in, 161, 121, 4);
		tf_fill(&in, TF_RANDOM, 10 + (uint32_t)i);
		for (y = 0; y < 121; y++) {
			for (x = 0; x < 161; x++)
				*tf_at(&in.f, 0, x, y) = (uint8_t)((x + 2 * y) & 255);
		}
		{
			char	spec[64];

			snprintf(spec, sizeof spec, "pixelate:size=%d", n);
			tf_apply(spec, FILTER_BT601, &in);
		}
		for (p = 0; p < 3; p++) {
			sub = p == 0 ? 1 : 2;
			for (y = 0; y < tf_h(&in.f, p); y++) {
				for (x = 0; x < tf_w(&in.f, p); x++) {
					int	x0 = ((x * sub / n) * n + sub - 1) / sub;
					int	y0 = ((y * sub / n) * n + sub - 1) / sub;

					if (*tf_at(&in.f, p, x, y) != *tf_at(&in.f, p, x0, y0))
						fail_msg("size %d plane %d: %d,%d differs from its block "
						    "corner %d,%d", n, p, x, y, x0, y0);
				}
			}
		}
		/* Each block has its own mean: the luma ramp still rises block by block. */
		assert_true(*tf_at(&in.f, 0, 0, 0) < *tf_at(&in.f, 0, n, n));
		tf_free(&in);
	}
}

static void
test_vignette_darkens_corners(void **state)
{
	struct tframe	in;

	tf_alloc(&in, 64, 48, 0);
	tf_fill_flat(&in, 200, 200);
	tf_apply("vignette:strength=1", FILTER_BT601, &in);
	/* Pixel centres stop short of the corner, where f = 0: 1 - (31.5^2 + 23.5^2) / 1600. */
	assert_int_equal(*tf_at(&in.f, 0, 0, 0), 22);
	assert_int_equal(*tf_at(&in.f, 0, 32, 24), 200);
	assert_true(*tf_at(&in.f, 0, 4, 24) < 200);
	assert_true(*tf_at(&in.f, 1, 0, 0) < 140);
	tf_free(&in);
}

/* Original strengths: the first nine filters on a mid-grey or coloured pixel. */
static void
test_default_strengths(void **state)
{
	struct tframe	in;

	tf_alloc(&in, 4, 4, 0);
	tf_fill_flat(&in, 116, 128);
	tf_apply("brightness", FILTER_BT601, &in);
	assert_int_equal(*tf_at(&in.f, 0, 1, 1), 136);		/* 16 + 100 * 1.2 */
	tf_fill_flat(&in, 135, 128);
	tf_apply("contrast", FILTER_BT601, &in);
	assert_int_equal(*tf_at(&in.f, 0, 1, 1), 138);		/* 125.5 + 9.5 * 1.3 */
	tf_fill_flat(&in, 100, 168);
	tf_apply("saturation", FILTER_BT601, &in);
	assert_int_equal(*tf_at(&in.f, 1, 1, 1), 178);		/* 128 + 40 * 1.25 */
	assert_int_equal(*tf_at(&in.f, 0, 1, 1), 100);
	/* Grey through warm_tone: R up, B down, so V rises and U falls. */
	tf_fill_flat(&in, 126, 128);
	tf_apply("warm_tone", FILTER_BT601, &in);
	assert_true(*tf_at(&in.f, 2, 1, 1) > 130 && *tf_at(&in.f, 1, 1, 1) < 126);
	tf_fill_flat(&in, 126, 128);
	tf_apply("cool_tone", FILTER_BT601, &in);
	assert_true(*tf_at(&in.f, 2, 1, 1) < 126 && *tf_at(&in.f, 1, 1, 1) > 130);
	/* Sepia of grey is brownish: V above, U below neutral. */
	tf_fill_flat(&in, 126, 128);
	tf_apply("sepia", FILTER_BT601, &in);
	assert_true(*tf_at(&in.f, 2, 1, 1) > 135 && *tf_at(&in.f, 1, 1, 1) < 120);
	tf_free(&in);
}

/* A chain is its filters one after the other, and a prepared chain is reusable. */
static void
test_chain_order(void **state)
{
	struct filter_chain	*fc;
	struct tframe		 in, a, b;
	char			 err[256];
	int			 i;

	tf_alloc(&in, 65, 33, 2);
	tf_fill(&in, TF_RANDOM, 11);
	tf_copy(&a, &in);
	tf_copy(&b, &in);
	tf_apply("blur:sigma=1.5,sepia,pixelate:size=4", FILTER_BT709, &a);
	tf_apply("blur:sigma=1.5", FILTER_BT709, &b);
	tf_apply("sepia", FILTER_BT709, &b);
	tf_apply("pixelate:size=4", FILTER_BT709, &b);
	tf_expect(&a, &b, 0, "chain against its filters one by one");

	fc = filter_chain_parse("blur:sigma=1.5,sepia,pixelate:size=4", err, sizeof err);
	assert_non_null(fc);
	assert_int_equal(filter_chain_prepare(fc, 1000, 1000, FILTER_BT709, err, sizeof err), 0);
	assert_int_equal(filter_chain_prepare(fc, 65, 33, FILTER_BT709, err, sizeof err), 0);
	for (i = 0; i < 3; i++) {
		tf_free(&b);
		tf_copy(&b, &in);
		filter_chain_apply(fc, &b.f);
		tf_expect(&b, &a, 0, "the same prepared chain on three frames");
	}
	filter_chain_free(fc);
	tf_free(&in);
	tf_free(&a);
	tf_free(&b);
}

/* ---- 16-bit samples, 4:2:2 and 4:4:4 ---- */

/* A frame of any layout (two bytes a sample above 8 bits), padded like tframe. */
struct xframe {
	struct frame		f;
	struct filter_format	fmt;
};

static int
xf_w(const struct xframe *t, int p)
{
	return filter_format_plane_width(&t->fmt, t->f.width, p);
}

static int
xf_h(const struct xframe *t, int p)
{
	return filter_format_plane_height(&t->fmt, t->f.height, p);
}

static size_t
xf_bps(const struct xframe *t)
{
	return t->fmt.depth > 8 ? 2 : 1;
}

static int
xf_get(const struct xframe *t, int p, int x, int y)
{
	const uint8_t	*row = t->f.data[p] + (size_t)y * (size_t)t->f.linesize[p];

	return xf_bps(t) == 2 ? ((const uint16_t *)(const void *)row)[x] : row[x];
}

static void
xf_set(struct xframe *t, int p, int x, int y, int v)
{
	uint8_t	*row = t->f.data[p] + (size_t)y * (size_t)t->f.linesize[p];

	if (xf_bps(t) == 2)
		((uint16_t *)(void *)row)[x] = (uint16_t)v;
	else
		row[x] = (uint8_t)v;
}

static void
xf_alloc(struct xframe *t, int depth, int cw_log2, int ch_log2, int w, int h)
{
	size_t	n;
	int	p;

	memset(t, 0, sizeof *t);
	t->fmt.depth = depth;
	t->fmt.cw_log2 = cw_log2;
	t->fmt.ch_log2 = ch_log2;
	t->f.width = w;
	t->f.height = h;
	for (p = 0; p < 3; p++) {
		/* 6 bytes of padding: odd in samples at 16 bits too */
		t->f.linesize[p] = (int)((size_t)xf_w(t, p) * xf_bps(t)) + 6;
		n = (size_t)t->f.linesize[p] * (size_t)xf_h(t, p);
		t->f.data[p] = malloc(n);
		assert_non_null(t->f.data[p]);
		memset(t->f.data[p], TEST_PAD_BYTE, n);
	}
}

static void
xf_free(struct xframe *t)
{
	int	p;

	for (p = 0; p < 3; p++)
		free(t->f.data[p]);
}

static void
xf_apply(const char *spec, enum filter_matrix m, struct xframe *t)
{
	struct filter_chain	*fc;
	char			 err[512];
	int			 p, y;
	size_t			 x;

	fc = filter_chain_parse(spec, err, sizeof err);
	if (fc == NULL)
		fail_msg("%s: %s", spec, err);
	if (filter_chain_prepare_format(fc, t->f.width, t->f.height, &t->fmt, m, err,
	    sizeof err) != 0)
		fail_msg("%s on %dx%d: %s", spec, t->f.width, t->f.height, err);
	filter_chain_apply(fc, &t->f);
	filter_chain_free(fc);
	for (p = 0; p < 3; p++) {
		for (y = 0; y < xf_h(t, p); y++) {
			for (x = (size_t)xf_w(t, p) * xf_bps(t); x < (size_t)t->f.linesize[p]; x++) {
				if (t->f.data[p][(size_t)y * (size_t)t->f.linesize[p] + x] !=
				    TEST_PAD_BYTE)
					fail_msg("%s: wrote padding of plane %d row %d", spec, p, y);
			}
		}
	}
}

static const char *deep_specs[] = {
	"grayscale", "invert", "brightness", "brightness:amount=-0.6", "contrast",
	"contrast:amount=2.5", "saturation", "saturation:amount=-1",
	"color:brightness=0.1:contrast=1.4:saturation=1.5:gamma=1.8", "color:contrast=0.5", "sepia",
	"sepia:amount=0.4", "warm_tone:amount=3", "cool_tone", "blur", "blur:sigma=0.4",
	"blur:sigma=9", "sharpen", "sharpen:amount=5:sigma=2", "edge_detection",
	"edge_detection:threshold=30", "pixelate", "pixelate:size=3", "vignette",
	"vignette:strength=1", "none",
};

/*
 * The 10-bit kernels against the 8-bit ones, which the tests above hold to the
 * references: a frame of 8-bit samples shifted up by 2 bits must come out as the 8-bit
 * result shifted up, within one 8-bit level plus the 8-bit path's own rounding (half a
 * level). Edge detection's gradient and threshold scale exactly, so it is exact.
 */
static void
test_deep_match_8bit(void **state)
{
	static const int	sizes[][2] = { { 1, 1 }, { 2, 2 }, { 17, 9 }, { 66, 35 } };
	struct tframe		a;
	struct xframe		b;
	size_t			 i, z;
	int			 depth, p, x, y, sh, tol, d;

	for (i = 0; i < sizeof deep_specs / sizeof deep_specs[0]; i++) {
		for (depth = 10; depth <= FILTER_DEPTH_MAX; depth += 2) {
			for (z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
				sh = depth - 8;
				tol = strncmp(deep_specs[i], "edge", 4) == 0 ? 0 : 3 << sh >> 1;
				tf_alloc(&a, sizes[z][0], sizes[z][1], 3);
				tf_fill(&a, (z & 1) ? TF_LEGAL : TF_RANDOM, 7 + (uint32_t)z);
				xf_alloc(&b, depth, 1, 1, sizes[z][0], sizes[z][1]);
				for (p = 0; p < 3; p++) {
					for (y = 0; y < xf_h(&b, p); y++) {
						for (x = 0; x < xf_w(&b, p); x++)
							xf_set(&b, p, x, y, *tf_at(&a.f, p, x, y) << sh);
					}
				}
				tf_apply(deep_specs[i], FILTER_BT709, &a);
				xf_apply(deep_specs[i], FILTER_BT709, &b);
				for (p = 0; p < 3; p++) {
					for (y = 0; y < xf_h(&b, p); y++) {
						for (x = 0; x < xf_w(&b, p); x++) {
							d = abs(xf_get(&b, p, x, y) -
							    (*tf_at(&a.f, p, x, y) << sh));
							if (d > tol)
								fail_msg("%s %d-bit %dx%d: plane %d at %d,%d "
								    "is %d, 8-bit gives %d", deep_specs[i],
								    depth, sizes[z][0], sizes[z][1], p, x, y,
								    xf_get(&b, p, x, y),
								    *tf_at(&a.f, p, x, y) << sh);
						}
					}
				}
				tf_free(&a);
				xf_free(&b);
			}
		}
	}
}

/*
 * 4:2:2 and 4:4:4 against 4:2:0 on pictures that are the same in all three: luma constant
 * over each 2x2 block and chroma repeated. Every filter whose result does not depend on
 * where a chroma sample sits must then give the same picture (blur and vignette place
 * chroma by position; they are checked below).
 */
static void
test_layouts_match_420(void **state)
{
	static const char	*specs[] = { "grayscale", "invert", "brightness", "contrast",
				    "saturation", "color:gamma=1.5:saturation=2", "sepia",
				    "warm_tone", "cool_tone", "edge_detection", "sharpen",
				    "pixelate:size=8", "none" };
	static const int	layouts[][2] = { { 1, 0 }, { 0, 0 } };
	struct xframe		 a, b;
	uint32_t		 seed = 99;
	size_t			 i;
	int			 depth, l, p, x, y, w = 34, h = 18, sx, sy;

	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		for (depth = 8; depth <= 10; depth += 2) {
			for (l = 0; l < 2; l++) {
				xf_alloc(&a, depth, 1, 1, w, h);
				xf_alloc(&b, depth, layouts[l][0], layouts[l][1], w, h);
				for (p = 0; p < 3; p++) {
					for (y = 0; y < xf_h(&a, p); y++) {
						for (x = 0; x < xf_w(&a, p); x++) {
							xf_set(&a, p, x, y, (int)(16 + test_rand(&seed) %
							    220) << (depth - 8));
						}
					}
				}
				for (y = 0; y < h; y++) {
					for (x = 0; x < w; x++)
						xf_set(&a, 0, x, y, xf_get(&a, 0, x & ~1, y & ~1));
				}
				for (p = 0; p < 3; p++) {
					sx = p == 0 ? 1 : 2 >> layouts[l][0];
					sy = p == 0 ? 1 : 2 >> layouts[l][1];
					for (y = 0; y < xf_h(&b, p); y++) {
						for (x = 0; x < xf_w(&b, p); x++)
							xf_set(&b, p, x, y, xf_get(&a, p, x / sx, y / sy));
					}
				}
				xf_apply(specs[i], FILTER_BT601, &a);
				xf_apply(specs[i], FILTER_BT601, &b);
				for (p = 0; p < 3; p++) {
					sx = p == 0 ? 1 : 2 >> layouts[l][0];
					sy = p == 0 ? 1 : 2 >> layouts[l][1];
					for (y = 0; y < xf_h(&b, p); y++) {
						for (x = 0; x < xf_w(&b, p); x++) {
							if (abs(xf_get(&b, p, x, y) - xf_get(&a, p, x / sx,
							    y / sy)) > 1)
								fail_msg("%s %d-bit 4:%s: plane %d at %d,%d is "
								    "%d, 4:2:0 gives %d", specs[i], depth,
								    l == 0 ? "2:2" : "4:4", p, x, y,
								    xf_get(&b, p, x, y),
								    xf_get(&a, p, x / sx, y / sy));
						}
					}
				}
				xf_free(&a);
				xf_free(&b);
			}
		}
	}
}

/*
 * Blur in every layout: a flat picture stays flat, and in 4:4:4 chroma is blurred as luma
 * is (the same sigma), so a frame with the same picture in all three planes keeps it so.
 * Vignette of strength 0 changes nothing; at strength 1 the corners darken towards black
 * (64 at 10 bits; the corner pixel is at 0.94 of the corner distance) and chroma towards
 * neutral (512).
 */
static void
test_deep_blur_vignette(void **state)
{
	static const int	layouts[][2] = { { 1, 1 }, { 1, 0 }, { 0, 0 } };
	struct xframe		 t;
	uint32_t		 seed = 5;
	int			 depth, l, p, x, y;

	for (depth = 8; depth <= FILTER_DEPTH_MAX; depth += 2) {
		for (l = 0; l < 3; l++) {
			xf_alloc(&t, depth, layouts[l][0], layouts[l][1], 37, 21);
			for (p = 0; p < 3; p++) {
				for (y = 0; y < xf_h(&t, p); y++) {
					for (x = 0; x < xf_w(&t, p); x++)
						xf_set(&t, p, x, y, (p == 0 ? 200 : 90) << (depth - 8));
				}
			}
			xf_apply("blur:sigma=4", FILTER_BT709, &t);
			xf_apply("vignette:strength=0", FILTER_BT709, &t);
			for (p = 0; p < 3; p++) {
				for (y = 0; y < xf_h(&t, p); y++) {
					for (x = 0; x < xf_w(&t, p); x++)
						assert_int_equal(xf_get(&t, p, x, y),
						    (p == 0 ? 200 : 90) << (depth - 8));
				}
			}
			xf_free(&t);
		}
		xf_alloc(&t, depth, 0, 0, 37, 21);
		for (y = 0; y < 21; y++) {
			for (x = 0; x < 37; x++) {
				int	v = (int)(16 + test_rand(&seed) % 220) << (depth - 8);

				for (p = 0; p < 3; p++)
					xf_set(&t, p, x, y, v);
			}
		}
		xf_apply("blur:sigma=2.5", FILTER_BT709, &t);
		for (y = 0; y < 21; y++) {
			for (x = 0; x < 37; x++) {
				assert_int_equal(xf_get(&t, 1, x, y), xf_get(&t, 0, x, y));
				assert_int_equal(xf_get(&t, 2, x, y), xf_get(&t, 0, x, y));
			}
		}
		xf_free(&t);
	}
	xf_alloc(&t, 10, 1, 0, 40, 20);
	for (p = 0; p < 3; p++) {
		for (y = 0; y < xf_h(&t, p); y++) {
			for (x = 0; x < xf_w(&t, p); x++)
				xf_set(&t, p, x, y, p == 0 ? 800 : 900);
		}
	}
	xf_apply("vignette:strength=1", FILTER_BT709, &t);
	assert_true(xf_get(&t, 0, 0, 0) < 120 && xf_get(&t, 1, 0, 0) < 560);
	assert_true(xf_get(&t, 0, 20, 10) > 780 && xf_get(&t, 1, 10, 10) > 880);
	xf_free(&t);
}

/* Layouts the kernels have no path for are refused when the chain is prepared. */
static void
test_format_names(void **state)
{
	struct filter_format	 fmt;
	struct filter_chain	*fc;
	char			 err[256];

	assert_int_equal(filter_format_from_name("yuv422p10le", &fmt), 0);
	assert_int_equal(fmt.depth, 10);
	assert_int_equal(fmt.cw_log2, 1);
	assert_int_equal(fmt.ch_log2, 0);
	assert_int_equal(filter_format_from_name("yuv444p10le", &fmt), 0);
	assert_int_equal(fmt.cw_log2, 0);
	assert_int_equal(filter_format_from_name("yuv420p12le", &fmt), -1);
	assert_int_equal(filter_format_from_name("nv12", &fmt), -1);
	assert_int_equal(filter_format_from_name("yuv420p16le", &fmt), -1);
	fc = filter_chain_parse("blur", err, sizeof err);
	assert_non_null(fc);
	fmt.depth = 12;
	assert_int_equal(filter_chain_prepare_format(fc, 10, 10, &fmt, FILTER_BT601, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "12-bit"));
	filter_chain_free(fc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_match_reference),
		cmocka_unit_test(test_kernels_matrix_matters),
		cmocka_unit_test(test_grayscale_flat_chroma),
		cmocka_unit_test(test_invert_twice),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_blur_smooths),
		cmocka_unit_test(test_blur_flat),
		cmocka_unit_test(test_edge_flat_black),
		cmocka_unit_test(test_pixelate_blocks),
		cmocka_unit_test(test_vignette_darkens_corners),
		cmocka_unit_test(test_default_strengths),
		cmocka_unit_test(test_chain_order),
		cmocka_unit_test(test_deep_match_8bit),
		cmocka_unit_test(test_layouts_match_420),
		cmocka_unit_test(test_deep_blur_vignette),
		cmocka_unit_test(test_format_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
