#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "master/seg.h"

/* How many pieces a cut at len makes of duration (the cutter starts one at every len). */
static int
test_seg_pieces(double duration, double len)
{
	return (int)ceil(duration / len - 1e-9);
}

static void
test_seg_length_balances(void **state)
{
	/* 30 s on 2 workers at 10 s would be 3 pieces, one worker left with two */
	assert_true(fabs(seg_length(30, 2, 10) - 7.5) < 1e-9);
	assert_int_equal(test_seg_pieces(30, seg_length(30, 2, 10)), 4);
	/* already a multiple: unchanged */
	assert_true(seg_length(60, 2, 10) == 10);
	assert_true(seg_length(40, 2, 10) == 10);
	/* 50 s: 6 pieces of 8.334 s, not 5 of 10 */
	assert_int_equal(test_seg_pieces(50, seg_length(50, 2, 10)), 6);
	/* short clips: one piece per worker */
	assert_int_equal(test_seg_pieces(8, seg_length(8, 2, 10)), 2);
	assert_int_equal(test_seg_pieces(3, seg_length(3, 64, 10)), 64);
	/* one worker: as many pieces as the length asked for makes, evened out */
	assert_int_equal(test_seg_pieces(95, seg_length(95, 1, 10)), 10);
}

static void
test_seg_length_invariants(void **state)
{
	static const int workers[] = { 1, 2, 3, 7, 16, 64 };
	static const double maxs[] = { 0.5, 1, 4, 10, 60 };
	double d, len;
	size_t w, m;
	int n;

	for (d = 0.7; d < 7300; d = d * 1.37 + 0.11) {
		for (w = 0; w < sizeof workers / sizeof *workers; w++) {
			for (m = 0; m < sizeof maxs / sizeof *maxs; m++) {
				len = seg_length(d, workers[w], maxs[m]);
				/* never longer than asked, never rounded into an extra sliver */
				assert_true(len <= maxs[m] + 1e-9);
				assert_true(len > 0);
				n = test_seg_pieces(d, len);
				if (len < maxs[m] && n % workers[w] != 0)
					fail_msg("%g s on %d workers at most %g s: %d pieces of %g s", d, workers[w], maxs[m], n, len);
				/* and no finer than needed: one round fewer would exceed max_seconds */
				assert_true(n <= workers[w] * (int)ceil(d / (workers[w] * maxs[m]) - 1e-9) || len == maxs[m]);
			}
		}
	}
	/* nonsense in, the length asked for out */
	assert_true(seg_length(0, 2, 10) == 10);
	assert_true(seg_length(-1, 2, 10) == 10);
	assert_true(seg_length(NAN, 2, 10) == 10);
	assert_true(seg_length(30, 0, 10) == 10);
}

static struct seg *
test_seg_files(int n, double len)
{
	struct seg *v = calloc((size_t)n, sizeof *v);
	int i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i].index = i;
		snprintf(v[i].name, sizeof v[i].name, "seg_%05d.mkv", i);
		v[i].start = i * len;
		v[i].end = (i + 1) * len;
	}
	return v;
}

static void
test_seg_split_one_keyframe(void **state)
{
	struct seg *v = test_seg_files(1, 20);
	int n = 1, i;
	int64_t covered = 0;

	assert_int_equal(seg_split(&v, &n, 20, 30, 4), 0);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i].name, "seg_00000.mkv");
		assert_int_equal(v[i].skip, covered);
		covered += v[i].count ? v[i].count : 600 - v[i].skip;
	}
	/* every frame exactly once; the last piece runs to the end of its file */
	assert_int_equal(covered, 600);
	assert_int_equal(v[n - 1].count, 0);
	free(v);
}

static void
test_seg_split_enough_files(void **state)
{
	struct seg *v = test_seg_files(6, 10), *before = v;
	int n = 6;

	/* as many files as workers or more: nothing to split */
	assert_int_equal(seg_split(&v, &n, 60, 30, 2), 0);
	assert_int_equal(n, 6);
	assert_ptr_equal(v, before);
	free(v);
}

static void
test_seg_touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

/* A file without timestamps to cut by is one piece: a link to it, listed from 0 to its length. */
static void
test_seg_whole(void **state)
{
	char dir[] = "/tmp/vr-seg-XXXXXX", in[256], link[512], target[512], err[256];
	struct seg *v = NULL;
	ssize_t k;
	int n = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(in, sizeof in, "%s/camera clip.h264", dir);
	test_seg_touch(in);
	assert_int_equal(seg_whole(in, dir, 2.5, err, sizeof err), 0);
	assert_int_equal(seg_read_list(dir, &v, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	/* the extension stays: a hint for ffmpeg's probe of a bare stream */
	assert_string_equal(v[0].name, "whole.h264");
	assert_true(v[0].start == 0 && fabs(v[0].end - 2.5) < 1e-9);
	snprintf(link, sizeof link, "%s/whole.h264", dir);
	k = readlink(link, target, sizeof target - 1);
	assert_true(k > 0);
	target[k] = '\0';
	assert_string_equal(target, in);
	free(v);
	/* an extension that is not plain is left out */
	unlink(link);
	snprintf(link, sizeof link, "%s/list.csv", dir);
	unlink(link);
	snprintf(in, sizeof in, "%s/odd.h 264", dir);
	test_seg_touch(in);
	assert_int_equal(seg_whole(in, dir, 1, err, sizeof err), 0);
	assert_int_equal(seg_read_list(dir, &v, &n, err, sizeof err), 0);
	assert_string_equal(v[0].name, "whole");
	free(v);
	/* a missing input says so */
	snprintf(in, sizeof in, "%s/gone.h264", dir);
	assert_int_equal(seg_whole(in, dir, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "gone.h264"));
	util_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seg_length_balances),
		cmocka_unit_test(test_seg_length_invariants),
		cmocka_unit_test(test_seg_split_one_keyframe),
		cmocka_unit_test(test_seg_split_enough_files),
		cmocka_unit_test(test_seg_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
