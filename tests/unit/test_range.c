#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "master/range.h"

/* Asserts one parse: expected result and, for RANGE_OK, the exact start and length. */
static void
test_range_expect(const char *value, int64_t size, enum range_result want, int64_t want_start,
    int64_t want_len)
{
	int64_t start = -7, len = -7;
	enum range_result got;

	got = range_parse(value, size, &start, &len);
	if (got != want)
		fail_msg("\"%s\" on %lld bytes: result %d, expected %d", value ? value : "(null)",
		    (long long)size, (int)got, (int)want);
	if (want == RANGE_OK) {
		if (start != want_start || len != want_len)
			fail_msg("\"%s\" on %lld bytes: start %lld len %lld, expected %lld %lld",
			    value, (long long)size, (long long)start, (long long)len,
			    (long long)want_start, (long long)want_len);
	}
}

static void
test_range_first_last(void **state)
{
	test_range_expect("bytes=0-99", 1000, RANGE_OK, 0, 100);
	test_range_expect("bytes=10-10", 1000, RANGE_OK, 10, 1);
	test_range_expect("bytes=999-999", 1000, RANGE_OK, 999, 1);
	test_range_expect("bytes=0-0", 1, RANGE_NONE, 0, 0);
	test_range_expect("bytes=0-0", 2, RANGE_OK, 0, 1);
	test_range_expect("bytes=007-009", 1000, RANGE_OK, 7, 3);
}

static void
test_range_open_ended(void **state)
{
	test_range_expect("bytes=100-", 1000, RANGE_OK, 100, 900);
	/* the whole file is a 200 without Content-Range, not a 206 */
	test_range_expect("bytes=0-", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=999-", 1000, RANGE_OK, 999, 1);
}

static void
test_range_suffix(void **state)
{
	test_range_expect("bytes=-500", 1000, RANGE_OK, 500, 500);
	test_range_expect("bytes=-1", 1000, RANGE_OK, 999, 1);
	test_range_expect("bytes=-1000", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=-5000", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=-0", 1000, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=-000", 1000, RANGE_UNSATISFIABLE, 0, 0);
}

static void
test_range_beyond_end(void **state)
{
	test_range_expect("bytes=1000-", 1000, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=1000-2000", 1000, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=5000-6000", 1000, RANGE_UNSATISFIABLE, 0, 0);
	/* the end is clamped, the start is not */
	test_range_expect("bytes=500-5000", 1000, RANGE_OK, 500, 500);
	test_range_expect("bytes=0-999", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=0-1000", 1000, RANGE_NONE, 0, 0);
}

static void
test_range_reversed(void **state)
{
	test_range_expect("bytes=5-2", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=1-0", 1000, RANGE_NONE, 0, 0);
	/* reversed is invalid even past the end, so it is ignored rather than a 416 */
	test_range_expect("bytes=5000-2000", 1000, RANGE_NONE, 0, 0);
}

static void
test_range_whitespace_and_case(void **state)
{
	test_range_expect(" bytes=0-99 ", 1000, RANGE_OK, 0, 100);
	test_range_expect("\tbytes = 0 - 99\t", 1000, RANGE_OK, 0, 100);
	test_range_expect("bytes= -500", 1000, RANGE_OK, 500, 500);
	test_range_expect("bytes=100 -", 1000, RANGE_OK, 100, 900);
	test_range_expect("BYTES=0-99", 1000, RANGE_OK, 0, 100);
	test_range_expect("Bytes=0-99", 1000, RANGE_OK, 0, 100);
	/* empty list elements are allowed by the #list rule */
	test_range_expect("bytes=0-99,", 1000, RANGE_OK, 0, 100);
	test_range_expect("bytes=, 0-99 ,,", 1000, RANGE_OK, 0, 100);
	/* whitespace inside a number is not a number */
	test_range_expect("bytes=1 0-99", 1000, RANGE_NONE, 0, 0);
}

static void
test_range_huge_numbers(void **state)
{
	int64_t big = INT64_MAX - 10;

	test_range_expect("bytes=99999999999999999999-", 1000, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=1-99999999999999999999", 1000, RANGE_OK, 1, 999);
	test_range_expect("bytes=-99999999999999999999", 1000, RANGE_NONE, 0, 0);
	test_range_expect("bytes=18446744073709551616-", 1000, RANGE_UNSATISFIABLE, 0, 0);
	/* 2^64 + 5 would wrap to 5 in 64-bit arithmetic */
	test_range_expect("bytes=18446744073709551621-", 1000, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=1-18446744073709551621", 1000, RANGE_OK, 1, 999);
	/* both saturate, but they are still compared exactly */
	test_range_expect("bytes=99999999999999999999-99999999999999999998", 1000, RANGE_NONE,
	    0, 0);
	test_range_expect("bytes=99999999999999999998-99999999999999999999", 1000,
	    RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=9223372036854775807-", 1000, RANGE_UNSATISFIABLE, 0, 0);
	/* a resource near the limit of int64_t */
	test_range_expect("bytes=-5", big, RANGE_OK, big - 5, 5);
	test_range_expect("bytes=1-", big, RANGE_OK, 1, big - 1);
	test_range_expect("bytes=10-99999999999999999999", big, RANGE_OK, 10, big - 10);
}

static void
test_range_ignored(void **state)
{
	static const char *values[] = {
		"", " ", "bytes", "bytes=", "bytes= ", "bytes=,", "bytes=-", "bytes=--5",
		"bytes=a-b", "bytes=0-a", "bytes=0x10-", "bytes=+5-", "bytes=-+5", "bytes=5",
		"bytes=0-99x", "bytes=0-99;", "bytes=1.5-2", "bytes=0--1", "bytes:0-99",
		"bytes 0-99", "bytesx=0-99", "items=0-99", "=0-99", "0-99", "none",
		"bytes=0-1,5-6", "bytes=0-1, 5-6", "bytes=-5,0-1", "bytes=0-1,garbage",
		"bytes=garbage,0-1", "bytes=0-1,5-6,9-",
		"\xff\xfe", "bytes=\xff-",
	};
	size_t i;

	test_range_expect(NULL, 1000, RANGE_NONE, 0, 0);
	for (i = 0; i < sizeof values / sizeof values[0]; i++)
		test_range_expect(values[i], 1000, RANGE_NONE, 0, 0);
}

static void
test_range_empty_resource(void **state)
{
	test_range_expect("bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=-1", 0, RANGE_UNSATISFIABLE, 0, 0);
	test_range_expect("bytes=-0", 0, RANGE_UNSATISFIABLE, 0, 0);
	/* no header and invalid headers still get the full (empty) 200 */
	test_range_expect(NULL, 0, RANGE_NONE, 0, 0);
	test_range_expect("bytes=5-2", 0, RANGE_NONE, 0, 0);
}

static void
test_range_long_value(void **state)
{
	char value[20000];

	/* a long run of zeros is still one small number */
	memcpy(value, "bytes=", 6);
	memset(value + 6, '0', sizeof value - 6 - 5);
	memcpy(value + sizeof value - 5, "5-9", 4);
	test_range_expect(value, 1000, RANGE_OK, 5, 5);

	memset(value + 6, '9', sizeof value - 7);
	value[sizeof value - 1] = '\0';
	test_range_expect(value, 1000, RANGE_NONE, 0, 0);
}

static void
test_range_content_range(void **state)
{
	char buf[80];

	assert_int_equal(range_content_range(buf, sizeof buf, 0, 100, 1000), 0);
	assert_string_equal(buf, "bytes 0-99/1000");
	assert_int_equal(range_content_range(buf, sizeof buf, 999, 1, 1000), 0);
	assert_string_equal(buf, "bytes 999-999/1000");
	assert_int_equal(range_content_range(buf, sizeof buf, 0, 0, 1000), 0);
	assert_string_equal(buf, "bytes */1000");
	assert_int_equal(range_content_range(buf, sizeof buf, 0, 0, 0), 0);
	assert_string_equal(buf, "bytes */0");
	assert_int_equal(range_content_range(buf, sizeof buf, INT64_MAX - 1, 1, INT64_MAX), 0);
	assert_string_equal(buf, "bytes 9223372036854775806-9223372036854775806/9223372036854775807");
	/* too small a buffer is an error, not a truncated header */
	assert_int_equal(range_content_range(buf, 10, 0, 100, 1000), -1);
	assert_int_equal(range_content_range(buf, 15, 0, 100, 1000), -1);
	assert_int_equal(range_content_range(buf, 16, 0, 100, 1000), 0);
	assert_string_equal(buf, "bytes 0-99/1000");
}

/* What a 206 must carry for the parsed range, end to end. */
static void
test_range_parse_then_format(void **state)
{
	int64_t start, len;
	char buf[64];

	assert_int_equal(range_parse("bytes=-500", 1234, &start, &len), RANGE_OK);
	assert_int_equal(range_content_range(buf, sizeof buf, start, len, 1234), 0);
	assert_string_equal(buf, "bytes 734-1233/1234");
	assert_int_equal(range_parse("bytes=1200-99999", 1234, &start, &len), RANGE_OK);
	assert_int_equal(range_content_range(buf, sizeof buf, start, len, 1234), 0);
	assert_string_equal(buf, "bytes 1200-1233/1234");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_first_last),
		cmocka_unit_test(test_range_open_ended),
		cmocka_unit_test(test_range_suffix),
		cmocka_unit_test(test_range_beyond_end),
		cmocka_unit_test(test_range_reversed),
		cmocka_unit_test(test_range_whitespace_and_case),
		cmocka_unit_test(test_range_huge_numbers),
		cmocka_unit_test(test_range_ignored),
		cmocka_unit_test(test_range_empty_resource),
		cmocka_unit_test(test_range_long_value),
		cmocka_unit_test(test_range_content_range),
		cmocka_unit_test(test_range_parse_then_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
