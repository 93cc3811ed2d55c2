#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "master/trim.h"

static void
test_trim_time_ok(const char *s, double want)
{
	double v = -1;

	if (trim_time_parse(s, &v) != 0)
		fail_msg("'%s' refused, expected %g", s, want);
	if (fabs(v - want) > 1e-9)
		fail_msg("'%s' -> %.9g, expected %g", s, v, want);
}

static void
test_trim_time(void **state)
{
	const char *bad[] = { "", "-1", "1:", ":30", "1:60", "1:2:3:4", "1.5:30", "1e3", "0x10",
	    "inf", "nan", "1:75", " 1", "1 ", "1:30.5.5", "99999999999", NULL };
	double v;
	int i;

	test_trim_time_ok("0", 0);
	test_trim_time_ok("90", 90);
	test_trim_time_ok("90.5", 90.5);
	test_trim_time_ok("1:30", 90);
	test_trim_time_ok("01:30.25", 90.25);
	test_trim_time_ok("1:02:03.250", 3723.25);
	test_trim_time_ok("0:00:01.5", 1.5);
	for (i = 0; bad[i] != NULL; i++) {
		if (trim_time_parse(bad[i], &v) == 0)
			fail_msg("'%s' accepted as %g", bad[i], v);
	}
}

static void
test_trim_frames(void **state)
{
	const char *out = "frame=12\nfps=0.0\nprogress=continue\nframe=45\nfps=30\nprogress=end\n";

	assert_int_equal(trim_frames(out, strlen(out)), 45);
	assert_int_equal(trim_frames("", 0), 0);
	assert_int_equal(trim_frames("progress=end\n", 13), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_time),
		cmocka_unit_test(test_trim_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
