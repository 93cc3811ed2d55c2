#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "master/limits.h"
#include "master/probe.h"

static void
test_limits_parse(void **state)
{
	char err[256];
	int64_t px = -1;
	double d = -1;

	assert_int_equal(limits_parse_pixels("33177600", &px, err, sizeof err), 0);
	assert_int_equal(px, 7680 * 4320);
	assert_int_equal(limits_parse_pixels("3840x2160", &px, err, sizeof err), 0);
	assert_int_equal(px, 3840 * 2160);
	assert_int_equal(limits_parse_pixels("320X240", &px, err, sizeof err), 0);
	assert_int_equal(px, 76800);
	assert_int_equal(limits_parse_pixels("0", &px, err, sizeof err), 0);
	assert_int_equal(px, 0);
	assert_int_equal(limits_parse_duration("14400", &d, err, sizeof err), 0);
	assert_true(d == 14400);
	assert_int_equal(limits_parse_duration("2.5", &d, err, sizeof err), 0);
	assert_true(d == 2.5);
	assert_int_equal(limits_parse_duration("0", &d, err, sizeof err), 0);
	assert_true(d == 0);
}

static void
test_limits_parse_refuses(void **state)
{
	static const char *bad_px[] = { "", "-5", "x", "320x", "x240", "320x-1", "0x240", "12abc",
	    "1.5", "320x240x2", "99999999999999999999", NULL };
	static const char *bad_d[] = { "", "-1", "abc", "5s", "nan", "inf", "1e99", NULL };
	char err[256];
	int64_t px;
	double d;
	int i;

	for (i = 0; bad_px[i] != NULL; i++) {
		err[0] = '\0';
		if (limits_parse_pixels(bad_px[i], &px, err, sizeof err) != -1)
			fail_msg("--max-pixels '%s' was accepted", bad_px[i]);
		assert_non_null(strstr(err, "--max-pixels"));
	}
	for (i = 0; bad_d[i] != NULL; i++) {
		err[0] = '\0';
		if (limits_parse_duration(bad_d[i], &d, err, sizeof err) != -1)
			fail_msg("--max-duration '%s' was accepted", bad_d[i]);
		assert_non_null(strstr(err, "--max-duration"));
	}
}

static void
test_limits_probe(struct probe *p, int w, int h, double secs, double fps)
{
	memset(p, 0, sizeof *p);
	p->width = w;
	p->height = h;
	p->duration = secs;
	p->fps = fps;
	p->frames = (int64_t)(secs * fps);
}

static void
test_limits_check(void **state)
{
	struct limits l = { 1920 * 1080, 60 };
	struct limits none = { 0, 0 };
	struct limits_excess x;
	struct probe p;

	test_limits_probe(&p, 1920, 1080, 60, 30);
	assert_int_equal(limits_check(&l, &p, &x), 0);           /* at the limit is within */
	test_limits_probe(&p, 1080, 1920, 10, 30);
	assert_int_equal(limits_check(&l, &p, &x), 0);           /* rotated: the same pixels */

	test_limits_probe(&p, 3840, 2160, 10, 30);
	assert_int_equal(limits_check(&l, &p, &x), -1);
	assert_string_equal(x.limit, "max_pixels");
	assert_true(x.value == 3840.0 * 2160 && x.max == 1920.0 * 1080);
	assert_non_null(strstr(x.reason, "3840x2160 (8294400 pixels)"));
	assert_non_null(strstr(x.reason, "2073600 pixels (--max-pixels)"));

	test_limits_probe(&p, 640, 480, 61.5, 30);
	assert_int_equal(limits_check(&l, &p, &x), -1);
	assert_string_equal(x.limit, "max_duration");
	assert_true(x.value == 61.5 && x.max == 60);
	assert_non_null(strstr(x.reason, "61.50 s"));
	assert_non_null(strstr(x.reason, "60 s (--max-duration)"));

	/* a short declared duration over many frames: the frames count */
	test_limits_probe(&p, 640, 480, 10, 30);
	p.frames = 30 * 120;
	assert_int_equal(limits_check(&l, &p, &x), -1);
	assert_string_equal(x.limit, "max_duration");
	assert_true(x.value == 120);

	test_limits_probe(&p, 16384, 16384, 100000, 30);
	assert_int_equal(limits_check(&none, &p, &x), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_parse),
		cmocka_unit_test(test_limits_parse_refuses),
		cmocka_unit_test(test_limits_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
