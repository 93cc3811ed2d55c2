#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common/argv.h"

static void
test_argv_words_in_order(void **state)
{
	char *v[8], buf[32];
	struct argv a;

	argv_init(&a, v, 8, buf, sizeof buf);
	argv_add(&a, "ffmpeg", "-i", NULL);
	argv_addf(&a, "file:%s", "a b.mp4");
	argv_addf(&a, "%.6f", 1.5);
	assert_int_equal(argv_end(&a, NULL, 0), 0);
	assert_int_equal(a.n, 4);
	assert_string_equal(v[0], "ffmpeg");
	assert_string_equal(v[1], "-i");
	/* a file name with a space stays one word */
	assert_string_equal(v[2], "file:a b.mp4");
	assert_string_equal(v[3], "1.500000");
	assert_null(v[4]);
}

static void
test_argv_too_many_words(void **state)
{
	char *v[4], err[128];
	struct argv a;

	argv_init(&a, v, 4, NULL, 0);
	argv_add(&a, "ffmpeg", "-y", "-i", "x", NULL);
	/* cut short: never run, and the error says which command */
	assert_int_equal(argv_end(&a, err, sizeof err), -1);
	assert_string_equal(err, "the ffmpeg command line is too long");
	assert_int_equal(a.n, 3);
	assert_null(v[3]);
}

static void
test_argv_word_too_long(void **state)
{
	char *v[8], buf[8];
	struct argv a;

	argv_init(&a, v, 8, buf, sizeof buf);
	argv_add(&a, "ffprobe", NULL);
	argv_addf(&a, "%s", "12345678");
	argv_addf(&a, "%s", "x");
	assert_int_equal(argv_end(&a, NULL, 0), -1);
	/* after the first word that does not fit nothing more is appended */
	argv_add(&a, "y", NULL);
	assert_int_equal(a.n, 1);
	assert_null(v[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_words_in_order),
		cmocka_unit_test(test_argv_too_many_words),
		cmocka_unit_test(test_argv_word_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
