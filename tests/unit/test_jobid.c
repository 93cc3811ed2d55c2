#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "master/jobid.h"

#define TEST_JOBID_COUNT 10000

static const char test_jobid_good[] = "5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1";

static int
test_jobid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, JOBID_LEN + 1);
}

static void
test_jobid_shape(void **state)
{
	char id[JOBID_LEN + 1];
	size_t i;
	int k;

	for (k = 0; k < 1000; k++) {
		memset(id, 'X', sizeof id);
		jobid_new(id);
		assert_int_equal(strlen(id), JOBID_LEN);
		assert_true(jobid_valid(id));
		for (i = 0; i < JOBID_LEN; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(id[i], '-');
			else
				assert_non_null(strchr("0123456789abcdef", id[i]));
		}
		/* UUID version 4, RFC 4122 variant */
		assert_int_equal(id[14], '4');
		assert_non_null(strchr("89ab", id[19]));
	}
}

static void
test_jobid_unique_and_random(void **state)
{
	char (*ids)[JOBID_LEN + 1];
	unsigned seen[JOBID_LEN] = { 0 };
	size_t i, j;

	ids = calloc(TEST_JOBID_COUNT, sizeof *ids);
	assert_non_null(ids);
	for (i = 0; i < TEST_JOBID_COUNT; i++) {
		jobid_new(ids[i]);
		for (j = 0; j < JOBID_LEN; j++) {
			char c = ids[i][j];

			if (c != '-')
				seen[j] |= 1u << (c <= '9' ? c - '0' : c - 'a' + 10);
		}
	}
	qsort(ids, TEST_JOBID_COUNT, sizeof *ids, test_jobid_cmp);
	for (i = 1; i < TEST_JOBID_COUNT; i++) {
		if (memcmp(ids[i - 1], ids[i], JOBID_LEN + 1) == 0)
			fail_msg("duplicate job id %s", ids[i]);
	}
	/* every random digit takes all 16 values over 10000 ids (missing one: p < 1e-270) */
	for (j = 0; j < JOBID_LEN; j++) {
		if (j == 8 || j == 13 || j == 18 || j == 23)
			continue;
		if (j == 14)
			assert_int_equal(seen[j], 1u << 4);
		else if (j == 19)
			assert_int_equal(seen[j], 0xf00u);
		else if (seen[j] != 0xffffu)
			fail_msg("digit %zu of the ids only takes values 0x%04x", j, seen[j]);
	}
	free(ids);
}

static void
test_jobid_accepts(void **state)
{
	assert_true(jobid_valid(test_jobid_good));
	/* the shape is checked, not the version bits: any lowercase hex id is a valid name */
	assert_true(jobid_valid("00000000-0000-0000-0000-000000000000"));
	assert_true(jobid_valid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

static void
test_jobid_rejects(void **state)
{
	static const char *bad[] = {
		"", ".", "..", "/", "../", "../../etc/passwd", "/etc/passwd", "jobs.db",
		"5f2c9a1e0b7d4c3e9f10a2b4c6d8e0f1",			/* no dashes */
		"{5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1}",		/* braces */
		"5F2C9A1E-0B7D-4C3E-9F10-A2B4C6D8E0F1",		/* uppercase */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0fA",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f",			/* 35 */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1a",		/* 37 */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1/",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1/..",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1\n",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1 ",
		" 5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1",
		"../c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8/../",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8%2f1",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0g1",		/* g */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0:1",		/* one past '9' */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0`1",		/* one before 'a' */
		"5f2c9a1e--0b7d-4c3e-9f10-a2b4c6d8e0f",		/* dash moved */
		"5f2c9a1e0-b7d-4c3e-9f10-a2b4c6d8e0f1",
		"5f2c9a1e-0b7d-4c3e-9f10a-2b4c6d8e0f1",
		"------------------------------------",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0\xc3\xa9",		/* UTF-8 e-acute */
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0\xff\xff",
		"5f2c9a1e_0b7d_4c3e_9f10_a2b4c6d8e0f1",
		"5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1\x00tail",	/* fine: C sees the id */
	};
	size_t i;

	assert_false(jobid_valid(NULL));
	for (i = 0; i < sizeof bad / sizeof bad[0] - 1; i++) {
		if (jobid_valid(bad[i]))
			fail_msg("accepted hostile job id \"%s\"", bad[i]);
	}
	/* a NUL after the 36th byte ends the string, so the id before it is valid */
	assert_true(jobid_valid(bad[i]));
}

static void
test_jobid_nul_inside(void **state)
{
	char id[JOBID_LEN + 1];
	size_t i;

	/* a NUL at any position inside (e.g. a decoded %00) makes it too short */
	for (i = 0; i < JOBID_LEN; i++) {
		memcpy(id, test_jobid_good, sizeof id);
		id[i] = '\0';
		if (jobid_valid(id))
			fail_msg("accepted an id with a NUL at %zu", i);
	}
}

/*
 * The string ends right before an inaccessible page: reading one byte past the 37 that decide
 * kills the test with SIGSEGV.
 */
static void
test_jobid_bounded_read(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map, *s;
	size_t n = 10 * 1024;

	map = mmap(NULL, (size_t)page * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page * 3, (size_t)page, PROT_NONE), 0);

	/* 37 bytes, no NUL: a valid id and one more byte */
	s = map + page * 3 - (JOBID_LEN + 1);
	memcpy(s, test_jobid_good, JOBID_LEN);
	s[JOBID_LEN] = 'a';
	assert_false(jobid_valid(s));

	/* 10 KB of hex with no NUL */
	s = map + page * 3 - n;
	memset(s, 'a', n);
	assert_false(jobid_valid(s));
	/* 10 KB that starts with a valid id */
	memcpy(s, test_jobid_good, JOBID_LEN);
	assert_false(jobid_valid(s));

	munmap(map, (size_t)page * 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobid_shape),
		cmocka_unit_test(test_jobid_unique_and_random),
		cmocka_unit_test(test_jobid_accepts),
		cmocka_unit_test(test_jobid_rejects),
		cmocka_unit_test(test_jobid_nul_inside),
		cmocka_unit_test(test_jobid_bounded_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
