#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "master/bar.h"

/* What a user reads in a bar: the share, the frames, the times, the rates; never wider than
 * the terminal. */
static void
test_bar_format(void **state)
{
	char buf[512];

	bar_format(buf, sizeof buf, 100, "parallel", 60, 120, 2, 30, 0);
	assert_non_null(strstr(buf, "parallel   ["));
	assert_non_null(strstr(buf, "]  50%  60/120 frames  0:02 ETA 0:02  30.0 fps  1.00x"));
	bar_format(buf, sizeof buf, 100, "parallel", 60, 120, 2, 30, 1);
	assert_non_null(strstr(buf, "100%  120/120 frames  0:02 ETA 0:00"));
	bar_format(buf, sizeof buf, 100, "merging", 0, 0, 65, 0, 0);
	assert_non_null(strstr(buf, "]   0%  1:05"));
	assert_null(strchr(buf, '#'));
	bar_format(buf, sizeof buf, 100, "merging", 0, 0, 3725, 0, 1);
	assert_non_null(strstr(buf, "] 100%  1:02:05"));
	assert_null(strstr(buf, "[#-"));
	bar_format(buf, sizeof buf, 100, "parallel", 0, 120, 1, 30, 0);
	assert_non_null(strstr(buf, "ETA -:--"));
	bar_format(buf, sizeof buf, 40, "parallel", 60, 120, 2, 30, 0);
	assert_true(strlen(buf) <= 39);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
