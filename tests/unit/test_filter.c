#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fspec.h"
#include "worker/filter.h"

/* The names the web page and the original program use, plus the added ones. */
static const char *test_filter_names[] = {
	"grayscale", "blur", "sepia", "brightness", "contrast", "saturation", "warm_tone",
	"cool_tone", "edge_detection", "invert", "sharpen", "pixelate", "vignette", "color",
	"none",
};
#define TEST_FILTER_NNAMES	(sizeof test_filter_names / sizeof test_filter_names[0])

/* Parses spec and asserts its canonical form. */
static void
test_filter_canonical(const char *spec, const char *want)
{
	struct filter_chain	*fc;
	char			 err[512] = "";

	fc = filter_chain_parse(spec, err, sizeof err);
	if (fc == NULL)
		fail_msg("\"%s\" rejected: %s", spec, err);
	if (strcmp(filter_chain_spec(fc), want) != 0)
		fail_msg("\"%s\": canonical \"%s\", expected \"%s\"", spec, filter_chain_spec(fc),
		    want);
	filter_chain_free(fc);
}

/* Asserts that spec is rejected with a message containing every string of the list. */
static void
test_filter_bad(const char *spec, ...)
{
	struct filter_chain	*fc;
	const char		*want;
	char			 err[512] = "";
	va_list			 ap;

	fc = filter_chain_parse(spec, err, sizeof err);
	if (fc != NULL)
		fail_msg("\"%s\" accepted as \"%s\"", spec ? spec : "(null)", filter_chain_spec(fc));
	va_start(ap, spec);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (strstr(err, want) == NULL)
			fail_msg("\"%s\": message \"%s\" does not mention \"%s\"",
			    spec ? spec : "(null)", err, want);
	}
	va_end(ap);
}

static void
test_filter_json_ok(const char *type, const char *params, const char *want)
{
	struct fspec		*fc;
	json_t			*p = NULL;
	char			 err[512] = "";

	if (params != NULL)
		assert_non_null(p = json_loads(params, JSON_DECODE_ANY, NULL));
	fc = fspec_from_json(type, p, err, sizeof err);
	if (fc == NULL)
		fail_msg("%s %s rejected: %s", type, params ? params : "(no params)", err);
	if (strcmp(fspec_string(fc), want) != 0)
		fail_msg("%s %s: \"%s\", expected \"%s\"", type, params ? params : "",
		    fspec_string(fc), want);
	fspec_free(fc);
	json_decref(p);
}

static void
test_filter_json_bad(const char *type, const char *params, const char *want1,
    const char *want2)
{
	struct fspec		*fc;
	json_t			*p = NULL;
	char			 err[512] = "";

	if (params != NULL)
		assert_non_null(p = json_loads(params, JSON_DECODE_ANY, NULL));
	fc = fspec_from_json(type, p, err, sizeof err);
	if (fc != NULL)
		fail_msg("%s %s accepted as \"%s\"", type ? type : "(null)", params,
		    fspec_string(fc));
	if (strstr(err, want1) == NULL || (want2 != NULL && strstr(err, want2) == NULL))
		fail_msg("%s %s: message \"%s\" lacks \"%s\"/\"%s\"", type ? type : "(null)",
		    params, err, want1, want2 ? want2 : "");
	json_decref(p);
}

static void
test_filter_parse_valid(void **state)
{
	test_filter_canonical("blur", "blur:sigma=2.6");
	test_filter_canonical("blur:sigma=3,grayscale", "blur:sigma=3,grayscale");
	test_filter_canonical(" blur : sigma = 3 ,\tgrayscale ", "blur:sigma=3,grayscale");
	test_filter_canonical("blur:sigma=0.1", "blur:sigma=0.1");
	test_filter_canonical("blur:sigma=5e1", "blur:sigma=50");
	test_filter_canonical("blur:sigma=+3.25", "blur:sigma=3.25");
	test_filter_canonical("sharpen:sigma=2", "sharpen:amount=1:sigma=2");
	test_filter_canonical("sharpen:sigma=2:amount=0.5", "sharpen:amount=0.5:sigma=2");
	test_filter_canonical("pixelate:size=8", "pixelate:size=8");
	test_filter_canonical("pixelate:size=8.0", "pixelate:size=8");
	test_filter_canonical("brightness:amount=-1", "brightness:amount=-1");
	test_filter_canonical("color:gamma=2.2:saturation=0",
	    "color:brightness=0:contrast=1:saturation=0:gamma=2.2");
	test_filter_canonical("none", "none");
	test_filter_canonical("grayscale,grayscale,invert", "grayscale,grayscale,invert");
	test_filter_canonical("edge_detection", "edge_detection:threshold=100");
}

/* parse(canonical(x)) == x for every filter, at its defaults and at its range ends. */
static void
test_filter_round_trip(void **state)
{
	json_t		*list = fspec_list_json(), *f, *p;
	size_t		 i, j;
	const char	*which[] = { "min", "max", "default" };
	char		 spec[512], again[4200], err[512];
	int		 k;

	json_array_foreach(list, i, f) {
		for (k = 0; k < 3; k++) {
			struct filter_chain	*a, *b;
			size_t			 used;

			used = (size_t)snprintf(spec, sizeof spec, "%s",
			    json_string_value(json_object_get(f, "name")));
			json_array_foreach(json_object_get(f, "params"), j, p) {
				used += (size_t)snprintf(spec + used, sizeof spec - used, ":%s=%.17g",
				    json_string_value(json_object_get(p, "name")),
				    json_number_value(json_object_get(p, which[k])));
			}
			a = filter_chain_parse(spec, err, sizeof err);
			if (a == NULL)
				fail_msg("\"%s\" rejected: %s", spec, err);
			snprintf(again, sizeof again, "%s", filter_chain_spec(a));
			b = filter_chain_parse(again, err, sizeof err);
			if (b == NULL)
				fail_msg("canonical \"%s\" rejected: %s", again, err);
			assert_string_equal(filter_chain_spec(b), again);
			filter_chain_free(a);
			filter_chain_free(b);
		}
	}
	json_decref(list);
}

/* Awkward values survive the trip exactly, and the longest chain's canonical form parses. */
static void
test_filter_round_trip_values(void **state)
{
	struct filter_chain	*a, *b;
	char			 spec[4200], again[4200], err[512];
	size_t			 used = 0;
	int			 k;

	test_filter_canonical("blur:sigma=0.30000000000000004", "blur:sigma=0.30000000000000004");
	test_filter_canonical("blur:sigma=2.6000000000000001", "blur:sigma=2.6");
	test_filter_canonical("color:brightness=-0.123456789012345",
	    "color:brightness=-0.123456789012345:contrast=1:saturation=1:gamma=1");

	for (k = 0; k < 16; k++) {
		used += (size_t)snprintf(spec + used, sizeof spec - used, "%scolor:brightness="
		    "-0.12345678901234567:contrast=0.12345678901234567:saturation="
		    "0.12345678901234567:gamma=0.12345678901234567", k ? "," : "");
	}
	a = filter_chain_parse(spec, err, sizeof err);
	if (a == NULL)
		fail_msg("16 colour filters rejected: %s", err);
	snprintf(again, sizeof again, "%s", filter_chain_spec(a));
	b = filter_chain_parse(again, err, sizeof err);
	if (b == NULL)
		fail_msg("canonical of 16 colour filters rejected: %s", err);
	assert_string_equal(filter_chain_spec(b), again);
	filter_chain_free(a);
	filter_chain_free(b);
}

static void
test_filter_parse_bad(void **state)
{
	char	long_spec[5000], many[200];
	int	k;

	test_filter_bad(NULL, "empty", NULL);
	test_filter_bad("", "empty", NULL);
	test_filter_bad("  \t ", "empty", NULL);
	test_filter_bad("foo", "unknown filter", "\"foo\"", "grayscale", "edge_detection", NULL);
	test_filter_bad("Blur", "unknown filter", "\"Blur\"", NULL);
	test_filter_bad("blur,foo:x=1", "unknown filter", "\"foo\"", NULL);
	test_filter_bad("blur:radius=3", "blur", "unknown parameter", "\"radius\"", "sigma", NULL);
	test_filter_bad("blur:sigma=abc", "blur", "sigma", "number", "0.1", "50", "\"abc\"", NULL);
	test_filter_bad("blur:sigma=60", "blur", "sigma", "0.1 to 50", "60", NULL);
	test_filter_bad("blur:sigma=0", "sigma", "0.1 to 50", NULL);
	test_filter_bad("blur:sigma=-1", "sigma", "0.1 to 50", NULL);
	test_filter_bad("blur:sigma", "sigma", "no value", NULL);
	test_filter_bad("blur:sigma=", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=nan", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=inf", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=0x10", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=1e999", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=3x", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=3 4", "sigma", "number", NULL);
	test_filter_bad("blur:sigma=3:sigma=4", "sigma", "twice", NULL);
	test_filter_bad("blur:", "blur", "empty parameter", NULL);
	test_filter_bad("blur::sigma=3", "blur", "empty parameter", NULL);
	test_filter_bad("grayscale:x=1", "grayscale", "no parameters", NULL);
	test_filter_bad("none:sigma=1", "none", "no parameters", NULL);
	test_filter_bad("blur,,grayscale", "empty filter", "position 2", NULL);
	test_filter_bad("blur,", "empty filter", "position 2", NULL);
	test_filter_bad(",blur", "empty filter", "position 1", NULL);
	test_filter_bad(":sigma=3", "empty filter", NULL);
	test_filter_bad("pixelate:size=2.5", "pixelate", "size", "integer", "2 to 256", NULL);
	test_filter_bad("pixelate:size=1", "size", "2 to 256", NULL);
	test_filter_bad("pixelate:size=257", "size", "2 to 256", NULL);
	test_filter_bad("brightness:amount=1.5", "brightness", "amount", "-1 to 1", NULL);
	test_filter_bad("sepia:amount=2", "sepia", "amount", "0 to 1", NULL);

	memset(long_spec, ' ', sizeof long_spec - 1);
	memcpy(long_spec, "blur", 4);
	long_spec[sizeof long_spec - 1] = '\0';
	test_filter_bad(long_spec, "too long", NULL);

	many[0] = '\0';
	for (k = 0; k < 17; k++)
		strcat(many, k ? ",none" : "none");
	test_filter_bad(many, "too many", "16", NULL);
	many[strlen(many) - 5] = '\0';
	test_filter_canonical(many, many);
}

static void
test_filter_json(void **state)
{
	test_filter_json_ok("blur", "{\"sigma\": 5}", "blur:sigma=5");
	test_filter_json_ok("blur", "{\"sigma\": 5.5}", "blur:sigma=5.5");
	test_filter_json_ok("blur", NULL, "blur:sigma=2.6");
	test_filter_json_ok("blur", "null", "blur:sigma=2.6");
	test_filter_json_ok("blur", "{}", "blur:sigma=2.6");
	test_filter_json_ok("blur,grayscale", "{}", "blur:sigma=2.6,grayscale");
	test_filter_json_ok("blur:sigma=3,grayscale", NULL, "blur:sigma=3,grayscale");
	test_filter_json_ok("pixelate", "{\"size\": 8}", "pixelate:size=8");
	test_filter_json_ok("pixelate", "{\"size\": 8.0}", "pixelate:size=8");
	test_filter_json_ok("sharpen:amount=2", "{\"sigma\": 3}", "sharpen:amount=2:sigma=3");
	test_filter_json_ok("grayscale", "{}", "grayscale");

	test_filter_json_bad(NULL, NULL, "filter_type", NULL);
	test_filter_json_bad("", NULL, "empty", NULL);
	test_filter_json_bad("blurry", "{}", "unknown filter", "\"blurry\"");
	test_filter_json_bad("blur", "{\"sigma\": \"5\"}", "sigma", "a string");
	test_filter_json_bad("blur", "{\"sigma\": true}", "sigma", "a boolean");
	test_filter_json_bad("blur", "{\"sigma\": null}", "sigma", "null");
	test_filter_json_bad("blur", "{\"sigma\": [1]}", "sigma", "an array");
	test_filter_json_bad("blur", "{\"sigma\": 100}", "sigma", "0.1 to 50");
	test_filter_json_bad("blur", "{\"sigma\": -3}", "sigma", "0.1 to 50");
	test_filter_json_bad("blur", "{\"radius\": 3}", "unknown parameter", "\"radius\"");
	test_filter_json_bad("blur:sigma=3", "{\"sigma\": 4}", "sigma", "twice");
	test_filter_json_bad("blur,grayscale", "{\"sigma\": 3}", "chain of 2", NULL);
	test_filter_json_bad("grayscale", "{\"amount\": 3}", "grayscale", "no parameters");
	test_filter_json_bad("pixelate", "{\"size\": 8.5}", "size", "integer");
	test_filter_json_bad("pixelate", "{\"size\": 100000}", "size", "2 to 256");
	test_filter_json_bad("blur", "[1, 2]", "params", "an array");
	test_filter_json_bad("blur", "\"sigma=3\"", "params", "a string");
}

static void
test_filter_list(void **state)
{
	json_t		*list = fspec_list_json(), *f, *p;
	size_t		 i, j, n;
	const char	*name, *type;
	double		 def, min, max;
	int		 found;

	assert_true(json_is_array(list));
	for (n = 0; n < TEST_FILTER_NNAMES; n++) {
		found = 0;
		json_array_foreach(list, i, f) {
			if (strcmp(json_string_value(json_object_get(f, "name")),
			    test_filter_names[n]) == 0)
				found++;
		}
		if (found != 1)
			fail_msg("filter %s listed %d times", test_filter_names[n], found);
	}
	json_array_foreach(list, i, f) {
		struct filter_chain	*fc;
		char			 err[256];

		name = json_string_value(json_object_get(f, "name"));
		assert_non_null(name);
		assert_true(strlen(json_string_value(json_object_get(f, "description"))) > 5);
		assert_true(json_is_array(json_object_get(f, "params")));
		/* Every listed filter parses on its own, with its defaults. */
		fc = filter_chain_parse(name, err, sizeof err);
		if (fc == NULL)
			fail_msg("listed filter %s does not parse: %s", name, err);
		filter_chain_free(fc);
		json_array_foreach(json_object_get(f, "params"), j, p) {
			type = json_string_value(json_object_get(p, "type"));
			assert_non_null(type);
			assert_true(strcmp(type, "number") == 0 || strcmp(type, "integer") == 0);
			assert_true(json_is_number(json_object_get(p, "default")));
			def = json_number_value(json_object_get(p, "default"));
			min = json_number_value(json_object_get(p, "min"));
			max = json_number_value(json_object_get(p, "max"));
			if (!(min < max && min <= def && def <= max))
				fail_msg("%s.%s: default %g outside [%g, %g]", name,
				    json_string_value(json_object_get(p, "name")), def, min, max);
			if (strcmp(type, "integer") == 0)
				assert_true(json_is_integer(json_object_get(p, "default")));
			assert_true(strlen(json_string_value(json_object_get(p,
			    "description"))) > 5);
		}
		if (strcmp(name, "blur") == 0) {
			p = json_array_get(json_object_get(f, "params"), 0);
			assert_string_equal(json_string_value(json_object_get(p, "name")), "sigma");
			assert_true(json_number_value(json_object_get(p, "default")) == 2.6);
		}
	}
	json_decref(list);
}

static void
test_filter_list_print(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0, n;
	FILE	*out = open_memstream(&buf, &len);

	assert_non_null(out);
	fspec_list_print(out);
	fclose(out);
	for (n = 0; n < TEST_FILTER_NNAMES; n++) {
		if (strstr(buf, test_filter_names[n]) == NULL)
			fail_msg("--list-filters lacks %s", test_filter_names[n]);
	}
	assert_non_null(strstr(buf, "sigma"));
	assert_non_null(strstr(buf, "2.6"));
	free(buf);
}

static void
test_filter_prepare_bad(void **state)
{
	struct filter_chain	*fc;
	char			 err[256] = "";

	assert_non_null(fc = filter_chain_parse("blur", err, sizeof err));
	assert_int_equal(filter_chain_prepare(fc, 0, 10, FILTER_BT601, err, sizeof err), -1);
	assert_non_null(strstr(err, "0x10"));
	assert_int_equal(filter_chain_prepare(fc, 10, -2, FILTER_BT601, err, sizeof err), -1);
	assert_int_equal(filter_chain_prepare(fc, 100000, 10, FILTER_BT601, err, sizeof err), -1);
	assert_int_equal(filter_chain_prepare(fc, 10, 10, (enum filter_matrix)7, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "matrix"));
	assert_int_equal(filter_chain_prepare(fc, 10, 10, FILTER_BT709, err, sizeof err), 0);
	/* Preparing again for another size replaces the scratch. */
	assert_int_equal(filter_chain_prepare(fc, 1920, 1080, FILTER_BT601, err, sizeof err), 0);
	filter_chain_free(fc);
	filter_chain_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_parse_valid),
		cmocka_unit_test(test_filter_round_trip),
		cmocka_unit_test(test_filter_round_trip_values),
		cmocka_unit_test(test_filter_parse_bad),
		cmocka_unit_test(test_filter_json),
		cmocka_unit_test(test_filter_list),
		cmocka_unit_test(test_filter_list_print),
		cmocka_unit_test(test_filter_prepare_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
