#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "worker/filter.h"
#include "worker/filter_kernel.h"

#define FILTER_CHAIN_MAX	16
/* How much of a user's bad token an error message quotes. */
#define FILTER_QUOTE_MAX	40

enum filter_param_type { FILTER_PARAM_NUMBER, FILTER_PARAM_INTEGER };

struct filter_param {
	const char		*name;
	enum filter_param_type	 type;
	double			 def, min, max;
	const char		*description;
};

struct filter_def {
	const char		*name;
	const char		*description;
	struct filter_param	 params[FILTER_MAX_PARAMS];	/* ends at the first NULL name */
	filter_prepare_fn	*prepare;			/* NULL: needs no scratch */
	filter_apply_fn		*apply;
	filter_planes_fn	*planes;			/* NULL: reads and writes all */
};

struct filter_chain {
	int			 n;
	struct filter_inst	 f[FILTER_CHAIN_MAX];
	unsigned		 given[FILTER_CHAIN_MAX];	/* bit i: param i was spelled out */
	int			 width, height;			/* 0 until prepared */
	struct filter_format	 fmt;				/* the frames' layout */
	char			 spec[FILTER_SPEC_MAX + 1];	/* canonical */
};

static filter_apply_fn	filter_none_apply;
static filter_planes_fn	filter_none_planes;

/*
 * The one table. The first nine names and default strengths are those of the original
 * OpenCV program (and of the web page that offers them); see each kernel for the maths.
 */
static const struct filter_def filter_table[] = {
	{ "grayscale", "Keeps the brightness, removes the colour.",
	  .prepare = filter_color_grayscale_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "blur", "Gaussian blur; the default is OpenCV's 15x15 GaussianBlur.", {
		{ "sigma", FILTER_PARAM_NUMBER, 2.6, 0.1, 50,
		  "standard deviation in pixels (chroma uses half of it)" } },
	  .prepare = filter_blur_prepare, .apply = filter_blur_apply },
	{ "sepia", "Old-photo brown tone (the classic sepia matrix on RGB).", {
		{ "amount", FILTER_PARAM_NUMBER, 1, 0, 1,
		  "0 keeps the original, 1 is full sepia" } },
	  .prepare = filter_rgb_sepia_prepare, .apply = filter_rgb_apply },
	{ "brightness", "Scales brightness, keeping hue and saturation.", {
		{ "amount", FILTER_PARAM_NUMBER, 0.2, -1, 1,
		  "relative change: 0.2 is 20% brighter, -1 is black" } },
	  .prepare = filter_color_brightness_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "contrast", "Stretches tones away from mid-grey.", {
		{ "amount", FILTER_PARAM_NUMBER, 0.3, -1, 3,
		  "relative change: 0.3 is 30% more contrast, -1 is flat grey" } },
	  .prepare = filter_color_contrast_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "saturation", "Makes colours stronger or weaker.", {
		{ "amount", FILTER_PARAM_NUMBER, 0.25, -1, 3,
		  "relative change: 0.25 is 25% more colourful, -1 is grey" } },
	  .prepare = filter_color_saturation_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "warm_tone", "Shifts colours towards orange (red x1.1, green x1.05, blue x0.9).", {
		{ "amount", FILTER_PARAM_NUMBER, 1, 0, 3,
		  "strength: 0 is none, 1 is the original effect" } },
	  .prepare = filter_rgb_warm_prepare, .apply = filter_rgb_apply },
	{ "cool_tone", "Shifts colours towards blue (blue x1.15, green x1.05, red x0.9).", {
		{ "amount", FILTER_PARAM_NUMBER, 1, 0, 3,
		  "strength: 0 is none, 1 is the original effect" } },
	  .prepare = filter_rgb_cool_prepare, .apply = filter_rgb_apply },
	{ "edge_detection", "White edges on black (Sobel gradient of the brightness).", {
		{ "threshold", FILTER_PARAM_NUMBER, 100, 1, 2040,
		  "gradient |gx|+|gy| (Sobel, 8-bit units) from which a pixel is an edge "
		  "(the original's Canny used 100 and 200)" } },
	  .prepare = filter_edge_prepare, .apply = filter_edge_apply },
	{ "invert", "Photographic negative.",
	  .prepare = filter_color_invert_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "sharpen", "Unsharp mask: adds back the difference from a blurred copy.", {
		{ "amount", FILTER_PARAM_NUMBER, 1, 0, 5,
		  "how much of the detail to add: 0 is none" },
		{ "sigma", FILTER_PARAM_NUMBER, 1, 0.1, 20,
		  "size of the detail, in pixels (Gaussian standard deviation)" } },
	  .prepare = filter_blur_sharpen_prepare, .apply = filter_blur_apply },
	{ "pixelate", "Mosaic of square blocks.", {
		{ "size", FILTER_PARAM_INTEGER, 16, 2, 256,
		  "block side in pixels" } },
	  .prepare = filter_pixelate_prepare, .apply = filter_pixelate_apply },
	{ "vignette", "Darkens towards the corners.", {
		{ "strength", FILTER_PARAM_NUMBER, 0.5, 0, 1,
		  "darkening at the corners: 0 is none, 1 is black" } },
	  .prepare = filter_vignette_prepare, .apply = filter_vignette_apply },
	{ "color", "Brightness, contrast, saturation and gamma in one pass.", {
		{ "brightness", FILTER_PARAM_NUMBER, 0, -1, 1,
		  "added to brightness, as a fraction of the full range" },
		{ "contrast", FILTER_PARAM_NUMBER, 1, 0, 4,
		  "contrast factor around mid-grey: 1 is unchanged" },
		{ "saturation", FILTER_PARAM_NUMBER, 1, 0, 4,
		  "colour factor: 1 is unchanged, 0 is grey" },
		{ "gamma", FILTER_PARAM_NUMBER, 1, 0.1, 10,
		  "gamma: above 1 brightens the shadows, 1 is unchanged" } },
	  .prepare = filter_color_adjust_prepare, .apply = filter_color_apply,
	  .planes = filter_color_planes },
	{ "none", "Leaves frames unchanged (measures decoding and encoding alone).",
	  .apply = filter_none_apply, .planes = filter_none_planes },
};

#define FILTER_TABLE_SIZE	((int)(sizeof filter_table / sizeof filter_table[0]))

static void
filter_none_apply(struct filter_inst *fi, struct frame *f)
{
}

static void
filter_none_planes(const struct filter_inst *fi, unsigned *reads, unsigned *writes)
{
	*reads = *writes = 0;
}

static int
filter_param_count(const struct filter_def *def)
{
	int	i;

	for (i = 0; i < FILTER_MAX_PARAMS && def->params[i].name != NULL; i++)
		;
	return i;
}

static const struct filter_def *
filter_find(const char *name, size_t len)
{
	int	i;

	for (i = 0; i < FILTER_TABLE_SIZE; i++) {
		if (strlen(filter_table[i].name) == len &&
		    memcmp(filter_table[i].name, name, len) == 0)
			return &filter_table[i];
	}
	return NULL;
}

static int
filter_param_find(const struct filter_def *def, const char *name, size_t len)
{
	int	i, n = filter_param_count(def);

	for (i = 0; i < n; i++) {
		if (strlen(def->params[i].name) == len &&
		    memcmp(def->params[i].name, name, len) == 0)
			return i;
	}
	return -1;
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
	int	i = filter_param_find(fi->def, name, strlen(name));

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

/* "grayscale, blur, ..." for messages about unknown names. */
static void
filter_names(char *buf, size_t len)
{
	size_t	used = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < FILTER_TABLE_SIZE && used < len; i++) {
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    filter_table[i].name);
	}
}

static void
filter_param_names(const struct filter_def *def, char *buf, size_t len)
{
	size_t	used = 0;
	int	i, n = filter_param_count(def);

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    def->params[i].name);
	}
}

/* Decimal numbers only: strtod alone would also take "nan", "inf" and hex. */
static int
filter_number_parse(const char *s, size_t len, double *out)
{
	char	 buf[64], *end;
	size_t	 i;
	double	 v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	for (i = 0; i < len; i++) {
		if (strchr("0123456789+-.eE", s[i]) == NULL || s[i] == '\0')
			return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* no errno check: ERANGE also means underflow, and a subnormal such as 5e-324 (which a
	 * JSON params value may be) must read back from its canonical spec; overflow is inf */
	v = strtod(buf, &end);
	if (end != buf + len || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The shortest plain decimal that reads back as exactly v, so canonical specs stay readable. */
static void
filter_number_format(char *buf, size_t len, double v)
{
	int	prec;

	for (prec = 0; prec <= 17; prec++) {
		if (snprintf(buf, len, "%.*f", prec, v) < (int)len && strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

static int
filter_param_check(const struct filter_def *def, int i, double v, char *err, size_t errlen)
{
	const struct filter_param	*p = &def->params[i];

	if (p->type == FILTER_PARAM_INTEGER && v != floor(v)) {
		snprintf(err, errlen, "filter %s: parameter %s must be an integer from %g to %g, "
		    "got %g", def->name, p->name, p->min, p->max, v);
		return -1;
	}
	if (v < p->min || v > p->max) {
		snprintf(err, errlen, "filter %s: parameter %s must be from %g to %g, got %g",
		    def->name, p->name, p->min, p->max, v);
		return -1;
	}
	return 0;
}

static const char *
filter_trim(const char *s, size_t *len)
{
	while (*len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	return s;
}

/* One "name=value" of filter fi; s is not NUL-terminated. */
static int
filter_parse_param(struct filter_chain *fc, int k, const char *s, size_t len, char *err,
    size_t errlen)
{
	const struct filter_def	*def = fc->f[k].def;
	const char		*eq, *name, *value;
	size_t			 nlen, vlen;
	char			 names[256];
	double			 v;
	int			 i;

	s = filter_trim(s, &len);
	if (len == 0) {
		snprintf(err, errlen, "filter %s: empty parameter (write name=value after ':')",
		    def->name);
		return -1;
	}
	eq = memchr(s, '=', len);
	nlen = eq != NULL ? (size_t)(eq - s) : len;
	name = filter_trim(s, &nlen);
	if (filter_param_count(def) == 0) {
		snprintf(err, errlen, "filter %s takes no parameters, got \"%.*s\"", def->name,
		    (int)(len < FILTER_QUOTE_MAX ? len : FILTER_QUOTE_MAX), s);
		return -1;
	}
	i = filter_param_find(def, name, nlen);
	if (i < 0) {
		filter_param_names(def, names, sizeof names);
		snprintf(err, errlen, "filter %s: unknown parameter \"%.*s\" (parameters: %s)",
		    def->name, (int)(nlen < FILTER_QUOTE_MAX ? nlen : FILTER_QUOTE_MAX), name,
		    names);
		return -1;
	}
	if (eq == NULL) {
		snprintf(err, errlen, "filter %s: parameter %s has no value (write %s=VALUE, "
		    "from %g to %g)", def->name, def->params[i].name, def->params[i].name,
		    def->params[i].min, def->params[i].max);
		return -1;
	}
	if (fc->given[k] & (1u << i)) {
		snprintf(err, errlen, "filter %s: parameter %s given twice", def->name,
		    def->params[i].name);
		return -1;
	}
	vlen = len - (size_t)(eq + 1 - s);
	value = filter_trim(eq + 1, &vlen);
	if (filter_number_parse(value, vlen, &v) != 0) {
		snprintf(err, errlen, "filter %s: parameter %s must be a number from %g to %g, "
		    "got \"%.*s\"", def->name, def->params[i].name, def->params[i].min,
		    def->params[i].max, (int)(vlen < FILTER_QUOTE_MAX ? vlen : FILTER_QUOTE_MAX),
		    value);
		return -1;
	}
	if (filter_param_check(def, i, v, err, errlen) != 0)
		return -1;
	fc->f[k].param[i] = v;
	fc->given[k] |= 1u << i;
	return 0;
}

/* One "name:p=v:p=v" element of a chain, at position k. */
static int
filter_parse_one(struct filter_chain *fc, const char *s, size_t len, char *err, size_t errlen)
{
	const struct filter_def	*def;
	const char		*colon, *name, *end = s + len;
	size_t			 nlen;
	char			 names[512];
	int			 k = fc->n, i;

	if (fc->n == FILTER_CHAIN_MAX) {
		snprintf(err, errlen, "too many filters in the chain (at most %d)",
		    FILTER_CHAIN_MAX);
		return -1;
	}
	colon = memchr(s, ':', len);
	nlen = (size_t)((colon != NULL ? colon : end) - s);
	name = filter_trim(s, &nlen);
	if (nlen == 0) {
		snprintf(err, errlen, "empty filter name at position %d of the chain", k + 1);
		return -1;
	}
	def = filter_find(name, nlen);
	if (def == NULL) {
		filter_names(names, sizeof names);
		snprintf(err, errlen, "unknown filter \"%.*s\" (filters: %s)",
		    (int)(nlen < FILTER_QUOTE_MAX ? nlen : FILTER_QUOTE_MAX), name, names);
		return -1;
	}
	fc->f[k].def = def;
	fc->given[k] = 0;
	for (i = 0; i < filter_param_count(def); i++)
		fc->f[k].param[i] = def->params[i].def;
	fc->n++;

	while (colon != NULL) {
		const char	*p = colon + 1;

		colon = memchr(p, ':', (size_t)(end - p));
		if (filter_parse_param(fc, k, p, (size_t)((colon != NULL ? colon : end) - p),
		    err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int
filter_chain_canonical(struct filter_chain *fc, char *err, size_t errlen)
{
	const struct filter_def	*def;
	char			 num[32];
	size_t			 used = 0;
	int			 k, i;

	fc->spec[0] = '\0';
	for (k = 0; k < fc->n; k++) {
		def = fc->f[k].def;
		used += snprintf(fc->spec + used, sizeof fc->spec - used, "%s%s", k ? "," : "",
		    def->name);
		for (i = 0; i < filter_param_count(def) && used < sizeof fc->spec; i++) {
			filter_number_format(num, sizeof num, fc->f[k].param[i]);
			used += snprintf(fc->spec + used, sizeof fc->spec - used, ":%s=%s",
			    def->params[i].name, num);
		}
		if (used >= sizeof fc->spec - 1) {
			snprintf(err, errlen, "filter chain too long once spelled out (more than "
			    "%d characters)", FILTER_SPEC_MAX);
			return -1;
		}
	}
	return 0;
}

static struct filter_chain *
filter_chain_parse_raw(const char *spec, char *err, size_t errlen)
{
	struct filter_chain	*fc = NULL;
	const char		*s, *comma, *end;
	size_t			 len, tlen;

	if (spec == NULL) {
		snprintf(err, errlen, "empty filter spec (e.g. \"blur:sigma=3,grayscale\")");
		goto fail;
	}
	len = strnlen(spec, FILTER_SPEC_MAX + 1);
	if (len > FILTER_SPEC_MAX) {
		snprintf(err, errlen, "filter spec too long (more than %d characters)",
		    FILTER_SPEC_MAX);
		goto fail;
	}
	tlen = len;
	filter_trim(spec, &tlen);
	if (tlen == 0) {
		snprintf(err, errlen, "empty filter spec (e.g. \"blur:sigma=3,grayscale\")");
		goto fail;
	}
	fc = calloc(1, sizeof *fc);
	if (fc == NULL) {
		snprintf(err, errlen, "cannot allocate a filter chain: %s", strerror(errno));
		goto fail;
	}
	s = spec;
	end = spec + len;
	for (;;) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (filter_parse_one(fc, s, (size_t)((comma != NULL ? comma : end) - s), err,
		    errlen) != 0)
			goto fail;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return fc;

fail:
	free(fc);
	return NULL;
}

struct filter_chain *
filter_chain_parse(const char *spec, char *err, size_t errlen)
{
	struct filter_chain	*fc;

	fc = filter_chain_parse_raw(spec, err, errlen);
	if (fc == NULL)
		return NULL;
	if (filter_chain_canonical(fc, err, errlen) != 0) {
		filter_chain_free(fc);
		return NULL;
	}
	return fc;
}

static const char *
filter_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "a number";
	}
}

struct filter_chain *
filter_chain_from_json(const char *filter_type, json_t *params, char *err, size_t errlen)
{
	struct filter_chain	*fc = NULL;
	const struct filter_def	*def;
	const char		*key;
	json_t			*value;
	char			 names[256];
	double			 v;
	int			 i;

	if (filter_type == NULL) {
		snprintf(err, errlen, "missing filter_type");
		goto fail;
	}
	fc = filter_chain_parse_raw(filter_type, err, errlen);
	if (fc == NULL)
		goto fail;
	if (params != NULL && !json_is_null(params)) {
		if (!json_is_object(params)) {
			snprintf(err, errlen, "params must be an object like {\"sigma\": 3}, "
			    "got %s", filter_json_type(params));
			goto fail;
		}
		if (json_object_size(params) > 0 && fc->n != 1) {
			snprintf(err, errlen, "params apply to a single filter, but filter_type is "
			    "a chain of %d; put the parameters in it (e.g. "
			    "\"blur:sigma=3,grayscale\")", fc->n);
			goto fail;
		}
		def = fc->f[0].def;
		json_object_foreach(params, key, value) {
			i = filter_param_find(def, key, strlen(key));
			if (i < 0 && filter_param_count(def) == 0) {
				snprintf(err, errlen, "filter %s takes no parameters, got \"%.*s\"",
				    def->name, FILTER_QUOTE_MAX, key);
				goto fail;
			}
			if (i < 0) {
				filter_param_names(def, names, sizeof names);
				snprintf(err, errlen, "filter %s: unknown parameter \"%.*s\" "
				    "(parameters: %s)", def->name, FILTER_QUOTE_MAX, key, names);
				goto fail;
			}
			if (fc->given[0] & (1u << i)) {
				snprintf(err, errlen, "filter %s: parameter %s given twice (in "
				    "filter_type and in params)", def->name, def->params[i].name);
				goto fail;
			}
			if (!json_is_number(value)) {
				snprintf(err, errlen, "filter %s: parameter %s must be a number "
				    "from %g to %g, got %s", def->name, def->params[i].name,
				    def->params[i].min, def->params[i].max,
				    filter_json_type(value));
				goto fail;
			}
			v = json_number_value(value);
			if (filter_param_check(def, i, v, err, errlen) != 0)
				goto fail;
			fc->f[0].param[i] = v;
			fc->given[0] |= 1u << i;
		}
	}
	if (filter_chain_canonical(fc, err, errlen) != 0)
		goto fail;
	return fc;

fail:
	filter_chain_free(fc);
	return NULL;
}

const char *
filter_chain_spec(const struct filter_chain *fc)
{
	return fc->spec;
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
		if (fi->def->prepare != NULL &&
		    fi->def->prepare(fi, width, height, fmt, m, err, errlen) != 0)
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
		fatal("filter chain %s prepared for %dx%d, applied to a %dx%d frame", fc->spec,
		    fc->width, fc->height, f->width, f->height);
	for (p = 0; p < 3; p++) {
		if (f->data[p] == NULL || f->linesize[p] <
		    filter_format_plane_width(&fc->fmt, f->width, p) * (fc->fmt.depth > 8 ? 2 : 1))
			fatal("filter chain %s: plane %d of a %dx%d frame has linesize %d",
			    fc->spec, p, f->width, f->height, f->linesize[p]);
	}
	for (k = 0; k < fc->n; k++)
		fc->f[k].def->apply(&fc->f[k], f);
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
		if (fc->f[k].def->planes != NULL)
			fc->f[k].def->planes(&fc->f[k], &r, &w);
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
	free(fc);
}

static json_t *
filter_param_value_json(const struct filter_param *p, double v)
{
	if (p->type == FILTER_PARAM_INTEGER)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *
filter_list_json(void)
{
	const struct filter_def		*def;
	const struct filter_param	*p;
	json_t				*list, *obj, *params;
	int				 k, i;

	list = json_array();
	for (k = 0; k < FILTER_TABLE_SIZE; k++) {
		def = &filter_table[k];
		params = json_array();
		for (i = 0; i < filter_param_count(def); i++) {
			p = &def->params[i];
			json_array_append_new(params, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}",
			    "name", p->name,
			    "type", p->type == FILTER_PARAM_INTEGER ? "integer" : "number",
			    "default", filter_param_value_json(p, p->def),
			    "min", filter_param_value_json(p, p->min),
			    "max", filter_param_value_json(p, p->max),
			    "description", p->description));
		}
		obj = json_pack("{s:s, s:s, s:o}", "name", def->name, "description",
		    def->description, "params", params);
		json_array_append_new(list, obj);
	}
	return list;
}

void
filter_list_print(FILE *out)
{
	const struct filter_def		*def;
	const struct filter_param	*p;
	char				 num[3][32];
	int				 k, i;

	for (k = 0; k < FILTER_TABLE_SIZE; k++) {
		def = &filter_table[k];
		fprintf(out, "%-16s%s\n", def->name, def->description);
		for (i = 0; i < filter_param_count(def); i++) {
			p = &def->params[i];
			filter_number_format(num[0], sizeof num[0], p->def);
			filter_number_format(num[1], sizeof num[1], p->min);
			filter_number_format(num[2], sizeof num[2], p->max);
			fprintf(out, "  %-14s%s, default %s, %s..%s: %s\n", p->name,
			    p->type == FILTER_PARAM_INTEGER ? "integer" : "number", num[0], num[1],
			    num[2], p->description);
		}
	}
	fprintf(out, "\nChain filters with ',' and set parameters with ':', e.g. "
	    "\"blur:sigma=3,grayscale\".\n");
}
