#include "common/fspec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How much of a user's bad token an error message quotes. */
#define FSPEC_QUOTE_MAX	40

/*
 * The one table. The first nine names and default strengths are those of the original
 * OpenCV program (and of the web page that offers them); worker/filter.c holds the
 * kernel of each name and says where its maths is.
 */
static const struct fspec_def fspec_table[] = {
	{ .name = "grayscale", .description = "Keeps the brightness, removes the colour." },
	{ "blur", "Gaussian blur; the default is OpenCV's 15x15 GaussianBlur.", {
		{ "sigma", FSPEC_NUMBER, 2.6, 0.1, 50,
		  "standard deviation in pixels (chroma uses half of it)" } } },
	{ "sepia", "Old-photo brown tone (the classic sepia matrix on RGB).", {
		{ "amount", FSPEC_NUMBER, 1, 0, 1,
		  "0 keeps the original, 1 is full sepia" } } },
	{ "brightness", "Scales brightness, keeping hue and saturation.", {
		{ "amount", FSPEC_NUMBER, 0.2, -1, 1,
		  "relative change: 0.2 is 20% brighter, -1 is black" } } },
	{ "contrast", "Stretches tones away from mid-grey.", {
		{ "amount", FSPEC_NUMBER, 0.3, -1, 3,
		  "relative change: 0.3 is 30% more contrast, -1 is flat grey" } } },
	{ "saturation", "Makes colours stronger or weaker.", {
		{ "amount", FSPEC_NUMBER, 0.25, -1, 3,
		  "relative change: 0.25 is 25% more colourful, -1 is grey" } } },
	{ "warm_tone", "Shifts colours towards orange (red x1.1, green x1.05, blue x0.9).", {
		{ "amount", FSPEC_NUMBER, 1, 0, 3,
		  "strength: 0 is none, 1 is the original effect" } } },
	{ "cool_tone", "Shifts colours towards blue (blue x1.15, green x1.05, red x0.9).", {
		{ "amount", FSPEC_NUMBER, 1, 0, 3,
		  "strength: 0 is none, 1 is the original effect" } } },
	{ "edge_detection", "White edges on black (Sobel gradient of the brightness).", {
		{ "threshold", FSPEC_NUMBER, 100, 1, 2040,
		  "gradient |gx|+|gy| (Sobel, 8-bit units) from which a pixel is an edge "
		  "(the original's Canny used 100 and 200)" } } },
	{ .name = "invert", .description = "Photographic negative." },
	{ "sharpen", "Unsharp mask: adds back the difference from a blurred copy.", {
		{ "amount", FSPEC_NUMBER, 1, 0, 5,
		  "how much of the detail to add: 0 is none" },
		{ "sigma", FSPEC_NUMBER, 1, 0.1, 20,
		  "size of the detail, in pixels (Gaussian standard deviation)" } } },
	{ "pixelate", "Mosaic of square blocks.", {
		{ "size", FSPEC_INTEGER, 16, 2, 256,
		  "block side in pixels" } } },
	{ "vignette", "Darkens towards the corners.", {
		{ "strength", FSPEC_NUMBER, 0.5, 0, 1,
		  "darkening at the corners: 0 is none, 1 is black" } } },
	{ "color", "Brightness, contrast, saturation and gamma in one pass.", {
		{ "brightness", FSPEC_NUMBER, 0, -1, 1,
		  "added to brightness, as a fraction of the full range" },
		{ "contrast", FSPEC_NUMBER, 1, 0, 4,
		  "contrast factor around mid-grey: 1 is unchanged" },
		{ "saturation", FSPEC_NUMBER, 1, 0, 4,
		  "colour factor: 1 is unchanged, 0 is grey" },
		{ "gamma", FSPEC_NUMBER, 1, 0.1, 10,
		  "gamma: above 1 brightens the shadows, 1 is unchanged" } } },
	{ .name = "none", .description = "Leaves frames unchanged (measures decoding and encoding alone)." },
};

#define FSPEC_TABLE_SIZE	((int)(sizeof fspec_table / sizeof fspec_table[0]))

int
fspec_param_count(const struct fspec_def *def)
{
	int	i;

	for (i = 0; i < FSPEC_MAX_PARAMS && def->params[i].name != NULL; i++)
		;
	return i;
}

static const struct fspec_def *
fspec_find(const char *name, size_t len)
{
	int	i;

	for (i = 0; i < FSPEC_TABLE_SIZE; i++) {
		if (strlen(fspec_table[i].name) == len &&
		    memcmp(fspec_table[i].name, name, len) == 0)
			return &fspec_table[i];
	}
	return NULL;
}

int
fspec_param_find(const struct fspec_def *def, const char *name, size_t len)
{
	int	i, n = fspec_param_count(def);

	for (i = 0; i < n; i++) {
		if (strlen(def->params[i].name) == len &&
		    memcmp(def->params[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

/* "grayscale, blur, ..." for messages about unknown names. */
static void
fspec_names(char *buf, size_t len)
{
	size_t	used = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < FSPEC_TABLE_SIZE && used < len; i++) {
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    fspec_table[i].name);
	}
}

static void
fspec_param_names(const struct fspec_def *def, char *buf, size_t len)
{
	size_t	used = 0;
	int	i, n = fspec_param_count(def);

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    def->params[i].name);
	}
}

/* Decimal numbers only: strtod alone would also take "nan", "inf" and hex. */
static int
fspec_number_parse(const char *s, size_t len, double *out)
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
fspec_number_format(char *buf, size_t len, double v)
{
	int	prec;

	for (prec = 0; prec <= 17; prec++) {
		if (snprintf(buf, len, "%.*f", prec, v) < (int)len && strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

static int
fspec_param_check(const struct fspec_def *def, int i, double v, char *err, size_t errlen)
{
	const struct fspec_param	*p = &def->params[i];

	if (p->type == FSPEC_INTEGER && v != floor(v)) {
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
fspec_trim(const char *s, size_t *len)
{
	while (*len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	return s;
}

/* One "name=value" of the k-th filter; s is not NUL-terminated. */
static int
fspec_parse_param(struct fspec *fs, int k, const char *s, size_t len, char *err,
    size_t errlen)
{
	const struct fspec_def	*def = fs->def[k];
	const char		*eq, *name, *value;
	size_t			 nlen, vlen;
	char			 names[256];
	double			 v;
	int			 i;

	s = fspec_trim(s, &len);
	if (len == 0) {
		snprintf(err, errlen, "filter %s: empty parameter (write name=value after ':')",
		    def->name);
		return -1;
	}
	eq = memchr(s, '=', len);
	nlen = eq != NULL ? (size_t)(eq - s) : len;
	name = fspec_trim(s, &nlen);
	if (fspec_param_count(def) == 0) {
		snprintf(err, errlen, "filter %s takes no parameters, got \"%.*s\"", def->name,
		    (int)(len < FSPEC_QUOTE_MAX ? len : FSPEC_QUOTE_MAX), s);
		return -1;
	}
	i = fspec_param_find(def, name, nlen);
	if (i < 0) {
		fspec_param_names(def, names, sizeof names);
		snprintf(err, errlen, "filter %s: unknown parameter \"%.*s\" (parameters: %s)",
		    def->name, (int)(nlen < FSPEC_QUOTE_MAX ? nlen : FSPEC_QUOTE_MAX), name,
		    names);
		return -1;
	}
	if (eq == NULL) {
		snprintf(err, errlen, "filter %s: parameter %s has no value (write %s=VALUE, "
		    "from %g to %g)", def->name, def->params[i].name, def->params[i].name,
		    def->params[i].min, def->params[i].max);
		return -1;
	}
	if (fs->given[k] & (1u << i)) {
		snprintf(err, errlen, "filter %s: parameter %s given twice", def->name,
		    def->params[i].name);
		return -1;
	}
	vlen = len - (size_t)(eq + 1 - s);
	value = fspec_trim(eq + 1, &vlen);
	if (fspec_number_parse(value, vlen, &v) != 0) {
		snprintf(err, errlen, "filter %s: parameter %s must be a number from %g to %g, "
		    "got \"%.*s\"", def->name, def->params[i].name, def->params[i].min,
		    def->params[i].max, (int)(vlen < FSPEC_QUOTE_MAX ? vlen : FSPEC_QUOTE_MAX),
		    value);
		return -1;
	}
	if (fspec_param_check(def, i, v, err, errlen) != 0)
		return -1;
	fs->param[k][i] = v;
	fs->given[k] |= 1u << i;
	return 0;
}

/* One "name:p=v:p=v" element of a chain, at position k. */
static int
fspec_parse_one(struct fspec *fs, const char *s, size_t len, char *err, size_t errlen)
{
	const struct fspec_def	*def;
	const char		*colon, *name, *end = s + len;
	size_t			 nlen;
	char			 names[512];
	int			 k = fs->n, i;

	if (fs->n == FSPEC_CHAIN_MAX) {
		snprintf(err, errlen, "too many filters in the chain (at most %d)",
		    FSPEC_CHAIN_MAX);
		return -1;
	}
	colon = memchr(s, ':', len);
	nlen = (size_t)((colon != NULL ? colon : end) - s);
	name = fspec_trim(s, &nlen);
	if (nlen == 0) {
		snprintf(err, errlen, "empty filter name at position %d of the chain", k + 1);
		return -1;
	}
	def = fspec_find(name, nlen);
	if (def == NULL) {
		fspec_names(names, sizeof names);
		snprintf(err, errlen, "unknown filter \"%.*s\" (filters: %s)",
		    (int)(nlen < FSPEC_QUOTE_MAX ? nlen : FSPEC_QUOTE_MAX), name, names);
		return -1;
	}
	fs->def[k] = def;
	fs->given[k] = 0;
	for (i = 0; i < fspec_param_count(def); i++)
		fs->param[k][i] = def->params[i].def;
	fs->n++;

	while (colon != NULL) {
		const char	*p = colon + 1;

		colon = memchr(p, ':', (size_t)(end - p));
		if (fspec_parse_param(fs, k, p, (size_t)((colon != NULL ? colon : end) - p),
		    err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int
fspec_canonical(struct fspec *fs, char *err, size_t errlen)
{
	const struct fspec_def	*def;
	char			 num[32];
	size_t			 used = 0;
	int			 k, i;

	fs->spec[0] = '\0';
	for (k = 0; k < fs->n; k++) {
		def = fs->def[k];
		used += snprintf(fs->spec + used, sizeof fs->spec - used, "%s%s", k ? "," : "",
		    def->name);
		for (i = 0; i < fspec_param_count(def) && used < sizeof fs->spec; i++) {
			fspec_number_format(num, sizeof num, fs->param[k][i]);
			used += snprintf(fs->spec + used, sizeof fs->spec - used, ":%s=%s",
			    def->params[i].name, num);
		}
		if (used >= sizeof fs->spec - 1) {
			snprintf(err, errlen, "filter chain too long once spelled out (more than "
			    "%d characters)", FSPEC_MAX);
			return -1;
		}
	}
	return 0;
}

static struct fspec *
fspec_parse_raw(const char *spec, char *err, size_t errlen)
{
	struct fspec		*fs = NULL;
	const char		*s, *comma, *end;
	size_t			 len, tlen;

	if (spec == NULL) {
		snprintf(err, errlen, "empty filter spec (e.g. \"blur:sigma=3,grayscale\")");
		goto fail;
	}
	len = strnlen(spec, FSPEC_MAX + 1);
	if (len > FSPEC_MAX) {
		snprintf(err, errlen, "filter spec too long (more than %d characters)",
		    FSPEC_MAX);
		goto fail;
	}
	tlen = len;
	fspec_trim(spec, &tlen);
	if (tlen == 0) {
		snprintf(err, errlen, "empty filter spec (e.g. \"blur:sigma=3,grayscale\")");
		goto fail;
	}
	fs = calloc(1, sizeof *fs);
	if (fs == NULL) {
		snprintf(err, errlen, "cannot allocate a filter chain: %s", strerror(errno));
		goto fail;
	}
	s = spec;
	end = spec + len;
	for (;;) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (fspec_parse_one(fs, s, (size_t)((comma != NULL ? comma : end) - s), err,
		    errlen) != 0)
			goto fail;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return fs;

fail:
	free(fs);
	return NULL;
}

struct fspec *
fspec_parse(const char *spec, char *err, size_t errlen)
{
	struct fspec	*fs;

	fs = fspec_parse_raw(spec, err, errlen);
	if (fs == NULL)
		return NULL;
	if (fspec_canonical(fs, err, errlen) != 0) {
		fspec_free(fs);
		return NULL;
	}
	return fs;
}

static const char *
fspec_json_type(const json_t *v)
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

struct fspec *
fspec_from_json(const char *filter_type, json_t *params, char *err, size_t errlen)
{
	struct fspec		*fs = NULL;
	const struct fspec_def	*def;
	const char		*key;
	json_t			*value;
	char			 names[256];
	double			 v;
	int			 i;

	if (filter_type == NULL) {
		snprintf(err, errlen, "missing filter_type");
		goto fail;
	}
	fs = fspec_parse_raw(filter_type, err, errlen);
	if (fs == NULL)
		goto fail;
	if (params != NULL && !json_is_null(params)) {
		if (!json_is_object(params)) {
			snprintf(err, errlen, "params must be an object like {\"sigma\": 3}, "
			    "got %s", fspec_json_type(params));
			goto fail;
		}
		if (json_object_size(params) > 0 && fs->n != 1) {
			snprintf(err, errlen, "params apply to a single filter, but filter_type is "
			    "a chain of %d; put the parameters in it (e.g. "
			    "\"blur:sigma=3,grayscale\")", fs->n);
			goto fail;
		}
		def = fs->def[0];
		json_object_foreach(params, key, value) {
			i = fspec_param_find(def, key, strlen(key));
			if (i < 0 && fspec_param_count(def) == 0) {
				snprintf(err, errlen, "filter %s takes no parameters, got \"%.*s\"",
				    def->name, FSPEC_QUOTE_MAX, key);
				goto fail;
			}
			if (i < 0) {
				fspec_param_names(def, names, sizeof names);
				snprintf(err, errlen, "filter %s: unknown parameter \"%.*s\" "
				    "(parameters: %s)", def->name, FSPEC_QUOTE_MAX, key, names);
				goto fail;
			}
			if (fs->given[0] & (1u << i)) {
				snprintf(err, errlen, "filter %s: parameter %s given twice (in "
				    "filter_type and in params)", def->name, def->params[i].name);
				goto fail;
			}
			if (!json_is_number(value)) {
				snprintf(err, errlen, "filter %s: parameter %s must be a number "
				    "from %g to %g, got %s", def->name, def->params[i].name,
				    def->params[i].min, def->params[i].max,
				    fspec_json_type(value));
				goto fail;
			}
			v = json_number_value(value);
			if (fspec_param_check(def, i, v, err, errlen) != 0)
				goto fail;
			fs->param[0][i] = v;
			fs->given[0] |= 1u << i;
		}
	}
	if (fspec_canonical(fs, err, errlen) != 0)
		goto fail;
	return fs;

fail:
	fspec_free(fs);
	return NULL;
}

const char *
fspec_string(const struct fspec *fs)
{
	return fs->spec;
}

void
fspec_free(struct fspec *fs)
{
	free(fs);
}

static json_t *
fspec_param_value_json(const struct fspec_param *p, double v)
{
	if (p->type == FSPEC_INTEGER)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *
fspec_list_json(void)
{
	const struct fspec_def		*def;
	const struct fspec_param	*p;
	json_t				*list, *obj, *params;
	int				 k, i;

	list = json_array();
	for (k = 0; k < FSPEC_TABLE_SIZE; k++) {
		def = &fspec_table[k];
		params = json_array();
		for (i = 0; i < fspec_param_count(def); i++) {
			p = &def->params[i];
			json_array_append_new(params, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}",
			    "name", p->name,
			    "type", p->type == FSPEC_INTEGER ? "integer" : "number",
			    "default", fspec_param_value_json(p, p->def),
			    "min", fspec_param_value_json(p, p->min),
			    "max", fspec_param_value_json(p, p->max),
			    "description", p->description));
		}
		obj = json_pack("{s:s, s:s, s:o}", "name", def->name, "description",
		    def->description, "params", params);
		json_array_append_new(list, obj);
	}
	return list;
}

void
fspec_list_print(FILE *out)
{
	const struct fspec_def		*def;
	const struct fspec_param	*p;
	char				 num[3][32];
	int				 k, i;

	for (k = 0; k < FSPEC_TABLE_SIZE; k++) {
		def = &fspec_table[k];
		fprintf(out, "%-16s%s\n", def->name, def->description);
		for (i = 0; i < fspec_param_count(def); i++) {
			p = &def->params[i];
			fspec_number_format(num[0], sizeof num[0], p->def);
			fspec_number_format(num[1], sizeof num[1], p->min);
			fspec_number_format(num[2], sizeof num[2], p->max);
			fprintf(out, "  %-14s%s, default %s, %s..%s: %s\n", p->name,
			    p->type == FSPEC_INTEGER ? "integer" : "number", num[0], num[1],
			    num[2], p->description);
		}
	}
	fprintf(out, "\nChain filters with ',' and set parameters with ':', e.g. "
	    "\"blur:sigma=3,grayscale\".\n");
}
