#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "master/ffversion.h"

/* parse(text) as ffmpeg's first line: the result, and major.minor for a release */
static void
test_ffversion_expect(const char *text, const char *prog, int want, int major, int minor)
{
	int a = -7, b = -7;

	assert_int_equal(ffversion_parse(text, prog, &a, &b), want);
	if (want == 1) {
		assert_int_equal(a, major);
		assert_int_equal(b, minor);
	}
}

static void
test_ffversion_releases(void **state)
{
	test_ffversion_expect("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers",
	    "ffmpeg", 1, 5, 1);
	test_ffversion_expect("ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021", "ffmpeg", 1, 4, 4);
	test_ffversion_expect("ffmpeg version 3.4.11-0ubuntu0.1 Copyright", "ffmpeg", 1, 3, 4);
	test_ffversion_expect("ffmpeg version n6.1.1 Copyright (c) 2000-2023", "ffmpeg", 1, 6, 1);
	test_ffversion_expect("ffmpeg version 7.1 Copyright", "ffmpeg", 1, 7, 1);
	test_ffversion_expect("ffmpeg version 6.0-full_build-www.gyan.dev Copyright", "ffmpeg", 1, 6, 0);
	test_ffversion_expect("ffmpeg version 4.3.1-static https://johnvansickle.com/ffmpeg/", "ffmpeg", 1, 4, 3);
	test_ffversion_expect("ffprobe version 5.1.9-0+deb12u1 Copyright (c) 2007-2026", "ffprobe", 1, 5, 1);
	test_ffversion_expect("ffmpeg version 10.12", "ffmpeg", 1, 10, 12);
}

/* Built from the tree: no number to compare, accepted. */
static void
test_ffversion_development(void **state)
{
	test_ffversion_expect("ffmpeg version N-112345-g0123abcd Copyright (c) 2000-2023", "ffmpeg", 0, 0, 0);
	test_ffversion_expect("ffmpeg version git-2023-01-01-abcdef0 Copyright", "ffmpeg", 0, 0, 0);
	test_ffversion_expect("ffmpeg version 2023-03-05-git-912ac82a3c-full_build-www.gyan.dev", "ffmpeg", 0, 0, 0);
	test_ffversion_expect("ffmpeg version UNKNOWN", "ffmpeg", 0, 0, 0);
	test_ffversion_expect("ffmpeg version 5 Copyright", "ffmpeg", 0, 0, 0);
}

/* Not a version line of that program. */
static void
test_ffversion_not_a_version(void **state)
{
	int a, b;

	assert_int_equal(ffversion_parse("", "ffmpeg", &a, &b), -1);
	assert_int_equal(ffversion_parse("hello", "ffmpeg", &a, &b), -1);
	assert_int_equal(ffversion_parse("ffprobe version 5.1", "ffmpeg", &a, &b), -1);
	assert_int_equal(ffversion_parse("avconv version 12.3", "ffmpeg", &a, &b), -1);
	assert_int_equal(ffversion_parse("ffmpeg version", "ffmpeg", &a, &b), -1);
	assert_int_equal(ffversion_parse("ffmpegversion 5.1", "ffmpeg", &a, &b), -1);
}

/* 5.1 is the oldest with -fps_mode. */
static void
test_ffversion_minimum(void **state)
{
	assert_true(ffversion_recent_enough(5, 1));
	assert_true(ffversion_recent_enough(5, 2));
	assert_true(ffversion_recent_enough(6, 0));
	assert_true(ffversion_recent_enough(10, 0));
	assert_false(ffversion_recent_enough(5, 0));
	assert_false(ffversion_recent_enough(4, 4));
	assert_false(ffversion_recent_enough(4, 9));
	assert_false(ffversion_recent_enough(3, 4));
}

/* Lines in the file the fake programs append to at each run. */
static int
test_ffversion_runs(const char *dir)
{
	char path[4200], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/runs", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* A binary that passed is not asked again until it changes (its mtime here). */
static void
test_ffversion_cache(void **state)
{
	char dir[] = "/tmp/test_ffversion-XXXXXX", path[4200], cache[4200], err[256];
	const char *progs[] = { "ffmpeg", "ffprobe" };
	char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	FILE *f;
	int k;

	assert_non_null(mkdtemp(dir));
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof path, "%s/%s", dir, progs[k]);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "#!/bin/sh\necho run >> '%s/runs'\necho '%s version 6.1.1 Copyright'\n", dir, progs[k]);
		fclose(f);
		assert_int_equal(chmod(path, 0755), 0);
	}
	snprintf(cache, sizeof cache, "%s/cache", dir);
	setenv("PATH", dir, 1);
	setenv("XDG_CACHE_HOME", cache, 1);
	assert_int_equal(ffversion_check(err, sizeof err), 0);
	assert_int_equal(test_ffversion_runs(dir), 2);
	/* the same binaries: nothing runs */
	assert_int_equal(ffversion_check(err, sizeof err), 0);
	assert_int_equal(test_ffversion_runs(dir), 2);
	/* ffmpeg upgraded in place: asked again, ffprobe not */
	snprintf(path, sizeof path, "%s/ffmpeg", dir);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(ffversion_check(err, sizeof err), 0);
	assert_int_equal(test_ffversion_runs(dir), 3);
	if (old_path != NULL)
		setenv("PATH", old_path, 1);
	unsetenv("XDG_CACHE_HOME");
	free(old_path);
	util_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ffversion_cache),
		cmocka_unit_test(test_ffversion_releases),
		cmocka_unit_test(test_ffversion_development),
		cmocka_unit_test(test_ffversion_not_a_version),
		cmocka_unit_test(test_ffversion_minimum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
