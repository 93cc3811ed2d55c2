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

/* Every frame of `frames` exactly once, in order: each piece starts where the last ended, at
 * its skip into its first file, and reads the files up to the one holding its last frame. */
static void
test_seg_plan_covers(const struct seg *u, int nu, const struct seg *v, int n, int64_t frames, double fps)
{
	int64_t at = 0, key, len;
	int i;

	for (i = 0; i < n; i++) {
		key = llround((u[v[i].first].start - u[0].start) * fps);
		assert_int_equal(key + v[i].skip, at);
		assert_string_equal(v[i].name, u[v[i].first].name);
		assert_true(v[i].nfiles >= 1 && v[i].first + v[i].nfiles <= nu);
		len = v[i].count ? v[i].count : frames - at;
		assert_true(len >= 1);
		/* the pre-roll lies in the first file and the last frame in the last one */
		assert_true(v[i].first + 1 == nu || llround((u[v[i].first + 1].start - u[0].start) * fps) > at);
		if (i + 1 < n)
			assert_true(llround((u[v[i].first + v[i].nfiles - 1].start - u[0].start) * fps) <= at + len - 1);
		at += len;
	}
	assert_int_equal(v[n - 1].count, 0);
	assert_int_equal(at, frames);
}

/* The cost a piece's worker pays: its frames plus the pre-roll decoded and dropped. */
static double
test_seg_cost(const struct seg *v, int n, int i, int64_t frames, double fps)
{
	int64_t len = v[i].count ? v[i].count : frames - llround((v[i].start - v[0].start) * fps);

	return (double)len + SEG_PREROLL_COST * (double)v[i].skip;
}

/* seg_plan_next over the first `listed` files (all: the cut has ended) for pieces from `from`
 * on, until one cannot be planned yet; returns how many pieces are planned in v then. */
static int
test_seg_plan_upto(const struct seg *u, int listed, int nu, int64_t frames, double fps, int pieces,
    struct seg *v, int from)
{
	int64_t start = 0;
	int i;

	for (i = 0; i < from; i++)
		start += v[i].count;
	for (i = from; i < pieces; i++) {
		if (seg_plan_next(u, listed, listed == nu, 0, frames, fps, pieces, i, start, &v[i]) != 1)
			break;
		start += v[i].count;
	}
	return i;
}

static int
test_seg_plan(const struct seg *u, int nu, int64_t frames, double fps, int pieces, struct seg **out, int *n)
{
	*out = calloc((size_t)pieces, sizeof **out);
	assert_non_null(*out);
	*n = test_seg_plan_upto(u, nu, nu, frames, fps, pieces, *out, 0);
	return 0;
}

/* Plans `pieces` pieces over the files u and checks they cover every frame once and cost the
 * same to within tol (later pre-rolls are guessed); returns them (free them). */
static struct seg *
test_seg_plan_balanced(const struct seg *u, int nu, int64_t frames, double fps, int pieces, double tol)
{
	struct seg *v = NULL;
	int n = 0, i;
	double c, lo = 1e18, hi = 0;

	assert_int_equal(test_seg_plan(u, nu, frames, fps, pieces, &v, &n), 0);
	assert_int_equal(n, pieces);
	test_seg_plan_covers(u, nu, v, n, frames, fps);
	for (i = 0; i < n; i++) {
		c = test_seg_cost(v, n, i, frames, fps);
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	print_message("pieces cost %.1f to %.1f\n", lo, hi);
	assert_true(hi / lo <= 1 + tol);
	return v;
}

static void
test_seg_plan_one_keyframe(void **state)
{
	/* one keyframe, 4 pieces: the pre-roll grows with every piece and the first pieces, planned
	 * before the whole file is known, guess it short (175 to 237 frames' worth) */
	struct seg *u = test_seg_files(1, 20), *v = test_seg_plan_balanced(u, 1, 600, 30, 4, 0.4);

	/* later pieces decode more pre-roll, so they keep fewer frames */
	assert_true(v[0].count > v[2].count);
	free(u);
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
	struct seg_list l = { 0 };
	struct seg *v;
	ssize_t k;

	assert_non_null(mkdtemp(dir));
	snprintf(in, sizeof in, "%s/camera clip.h264", dir);
	test_seg_touch(in);
	assert_int_equal(seg_whole(in, dir, 2.5, err, sizeof err), 0);
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 1);
	v = l.v;
	/* the extension stays: a hint for ffmpeg's probe of a bare stream */
	assert_string_equal(v[0].name, "whole.h264");
	assert_true(v[0].start == 0 && fabs(v[0].end - 2.5) < 1e-9);
	snprintf(link, sizeof link, "%s/whole.h264", dir);
	k = readlink(link, target, sizeof target - 1);
	assert_true(k > 0);
	target[k] = '\0';
	assert_string_equal(target, in);
	free(v);
	memset(&l, 0, sizeof l);
	/* an extension that is not plain is left out */
	unlink(link);
	snprintf(link, sizeof link, "%s/list.csv", dir);
	unlink(link);
	snprintf(in, sizeof in, "%s/odd.h 264", dir);
	test_seg_touch(in);
	assert_int_equal(seg_whole(in, dir, 1, err, sizeof err), 0);
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 1);
	v = l.v;
	assert_string_equal(v[0].name, "whole");
	free(v);
	/* a missing input says so */
	snprintf(in, sizeof in, "%s/gone.h264", dir);
	assert_int_equal(seg_whole(in, dir, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "gone.h264"));
	util_rm_rf(dir);
}

/* Appends text to DIR/list.csv, as the cutter does a line at a time. */
static void
test_seg_append(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/list.csv", dir);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The watch reads each line of the cutter's list once: what was added since, and a line
 * still being written only once it is whole. */
static void
test_seg_list_more(void **state)
{
	char dir[] = "/tmp/vr-seg-XXXXXX", err[256];
	struct seg_list l = { 0 };

	assert_non_null(mkdtemp(dir));
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), -1);  /* no list yet */
	test_seg_append(dir, "seg_00000.mkv,0.000000,1.000000\nseg_00001.mkv,1.000000,2.0");
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 0);
	test_seg_append(dir, "00000\nseg_00002.mkv,2.000000,2.500000\n");
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 2);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1].name, "seg_00001.mkv");
	assert_true(fabs(l.v[1].end - 2.0) < 1e-9);
	assert_int_equal(l.v[2].index, 2);
	assert_int_equal(l.v[2].first, 2);
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), 0);
	test_seg_append(dir, "no commas here\n");
	assert_int_equal(seg_list_more(&l, dir, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad line"));
	free(l.v);
	util_rm_rf(dir);
}

/* x264's default GOP on a 20 s clip: keyframes at 0, 250 and 500 (8.3 s apart). Cut on
 * keyframes, 2 workers got 500 and 100 frames; planned, each gets the same work. */
static void
test_seg_plan_sparse_gop(void **state)
{
	struct seg *u = test_seg_files(3, 250.0 / 30), *v = test_seg_plan_balanced(u, 3, 600, 30, 2, 0.01);

	/* the second piece starts inside the second keyframe interval: 2 files, pre-roll dropped */
	assert_int_equal(v[0].first, 0);
	assert_int_equal(v[0].nfiles, 2);
	assert_int_equal(v[1].first, 1);
	assert_int_equal(v[1].nfiles, 2);
	assert_true(v[1].skip > 0 && v[1].skip < 100);
	free(u);
	free(v);
}

/* Keyframes every second, 6 pieces of a 60 s clip: a boundary on a keyframe has no pre-roll,
 * and each piece reads only the files it needs. */
static void
test_seg_plan_dense(void **state)
{
	/* (the pre-rolls past the horizon are guessed at half a file: 298.5 to 303 frames' worth) */
	struct seg *u = test_seg_files(60, 1), *v = test_seg_plan_balanced(u, 60, 1800, 30, 6, 0.02);
	int i;

	for (i = 0; i < 6; i++)
		assert_true(v[i].nfiles <= 11);
	free(u);
	free(v);
}

/* As many pieces as frames: one frame each, none empty. */
static void
test_seg_plan_tiny(void **state)
{
	struct seg *u = test_seg_files(1, 0.1), *v = NULL;
	int n = 0;

	assert_int_equal(test_seg_plan(u, 1, 3, 30, 3, &v, &n), 0);
	assert_int_equal(n, 3);
	test_seg_plan_covers(u, 1, v, n, 3, 30);
	free(u);
	free(v);
}

/* While the cut runs: a piece is planned as soon as the files it needs are listed, never
 * before; the first ones come out before the cut ends, and the whole still covers every frame
 * once, balanced to a few percent (later pre-rolls were guessed). */
static void
test_seg_plan_streaming(void **state)
{
	struct seg *u = test_seg_files(24, 2.5), v[6];
	int64_t last, end;
	int listed, done = 0, first_at = 0, k;
	double c, lo = 1e9, hi = 0;

	/* keyframes every 75 frames, 1800 frames, 6 pieces of ~300 */
	for (listed = 1; listed <= 24 && done < 6; listed++) {
		k = test_seg_plan_upto(u, listed, 24, 1800, 30, 6, v, done);
		for (; done < k; done++) {
			/* every file it reads is listed, and so is the one its successor starts in */
			last = llround(u[listed - 1].end * 30);
			end = v[done].count ? llround((v[done].start - u[0].start) * 30) + v[done].count : 1800;
			assert_true(v[done].first + v[done].nfiles <= listed);
			assert_true(end <= last);
			if (first_at == 0)
				first_at = listed;
		}
	}
	assert_int_equal(done, 6);
	assert_true(first_at > 0 && first_at < 24);
	test_seg_plan_covers(u, 24, v, 6, 1800, 30);
	for (k = 0; k < 6; k++) {
		c = test_seg_cost(v, 6, k, 1800, 30);
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	assert_true(hi / lo <= 1.05);
	/* the very same plan as from the whole list: a run does not depend on the cut's pace */
	{
		struct seg *w = NULL;
		int n = 0;

		assert_int_equal(test_seg_plan(u, 24, 1800, 30, 6, &w, &n), 0);
		assert_int_equal(n, 6);
		for (k = 0; k < 6; k++) {
			assert_int_equal(w[k].first, v[k].first);
			assert_int_equal(w[k].nfiles, v[k].nfiles);
			assert_int_equal(w[k].skip, v[k].skip);
			assert_int_equal(w[k].count, v[k].count);
		}
		free(w);
	}
	free(u);
}

/* A bare stream is one whole file: split over 4 workers into parts that each decode it from
 * the start and keep their own frames, every frame once; enough files are left alone. */
static void
test_seg_split_whole_file(void **state)
{
	struct seg *v = calloc(1, sizeof *v);
	int n = 1, i;
	int64_t next = 0;

	assert_non_null(v);
	snprintf(v[0].name, sizeof v[0].name, "whole.h264");
	v[0].nfiles = 1;
	v[0].end = 10;
	assert_int_equal(seg_split(&v, &n, 10, 30, 4), 0);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i].name, "whole.h264");
		assert_int_equal(v[i].nfiles, 1);
		assert_int_equal(v[i].skip, next);
		next += v[i].count;
	}
	/* the last takes the rest: 300 frames in all, none lost */
	assert_int_equal(v[3].count, 0);
	assert_int_equal(300 - v[3].skip, 75);
	free(v);
	v = calloc(4, sizeof *v);
	n = 4;
	assert_int_equal(seg_split(&v, &n, 10, 30, 4), 0);
	assert_int_equal(n, 4);
	free(v);
	/* a run of 3 files (seg_group): every part decodes the whole run */
	v = calloc(1, sizeof *v);
	assert_non_null(v);
	v[0].first = 2;
	v[0].nfiles = 3;
	v[0].end = 10;
	n = 1;
	assert_int_equal(seg_split(&v, &n, 10, 30, 2), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].first, 2);
		assert_int_equal(v[i].nfiles, 3);
	}
	assert_int_equal(v[1].skip, 150);
	free(v);
}

/* Variable rate, quarter-second files on keyframes: runs of files, a piece per share of the
 * duration, every file in exactly one, in order; sparse keyframes give fewer pieces. */
static void
test_seg_group(void **state)
{
	struct seg u[40], *v;
	int i, n, next = 0;

	memset(u, 0, sizeof u);
	for (i = 0; i < 40; i++) {
		snprintf(u[i].name, sizeof u[i].name, "seg_%05d.mkv", i);
		u[i].start = i == 0 ? 0 : 0.023 + i * 0.25;  /* the list starts the first at 0 */
		u[i].end = 0.023 + (i + 1) * 0.25;
	}
	assert_int_equal(seg_group(u, 40, 0.023, 10, 4, &v, &n), 0);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].index, i);
		assert_int_equal(v[i].first, next);
		assert_string_equal(v[i].name, u[next].name);
		assert_int_equal(v[i].nfiles, 10);
		assert_int_equal(v[i].skip, 0);
		assert_int_equal(v[i].count, 0);
		next += v[i].nfiles;
	}
	assert_int_equal(next, 40);
	assert_true(fabs(v[0].start - 0.023) < 1e-9);  /* the first frame's time, not 0 */
	assert_true(fabs(v[3].end - u[39].end) < 1e-9);
	free(v);
	/* keyframes 4 s apart (units of 4 s) over 10 s on 4 workers: 3 pieces, all files */
	for (i = 0; i < 3; i++) {
		u[i].start = i * 4.0;
		u[i].end = i == 2 ? 10 : (i + 1) * 4.0;
	}
	assert_int_equal(seg_group(u, 3, 0, 10, 4, &v, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].nfiles, 1);
	free(v);
	/* all-intra at 30 fps cut every quarter second (files of 8 or 7 frames): the piece starts
	 * at the file nearest its share's start (1.267 s for 1.3 s), not the first one past it */
	for (i = 0; i < 10; i++) {
		u[i].start = (i / 2 * 15 + (i % 2) * 8) / 30.0;
		u[i].end = ((i + 1) / 2 * 15 + ((i + 1) % 2 ? 8 : 0)) / 30.0;
	}
	u[9].end = 2.6;
	assert_int_equal(seg_group(u, 10, 0, 2.6, 2, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(fabs(v[1].start - 38 / 30.0) < 1e-9);
	assert_int_equal(v[0].nfiles + v[1].nfiles, 10);
	free(v);
	/* one piece wanted: every file in it */
	assert_int_equal(seg_group(u, 3, 0, 10, 1, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].nfiles, 3);
	free(v);
}

static void
test_seg_unit_length(void **state)
{
	assert_true(fabs(seg_unit_length(10) - 10.0 / SEG_FILES_PER_PIECE) < 1e-6);
	assert_true(seg_unit_length(0.5) == 0.2);
	/* a minute's piece is cut finer than an eighth: its pre-roll stays about a second */
	assert_true(fabs(seg_unit_length(60) - SEG_UNIT_MAX) < 1e-6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seg_length_balances),
		cmocka_unit_test(test_seg_length_invariants),
		cmocka_unit_test(test_seg_whole),
		cmocka_unit_test(test_seg_list_more),
		cmocka_unit_test(test_seg_split_whole_file),
		cmocka_unit_test(test_seg_group),
		cmocka_unit_test(test_seg_plan_one_keyframe),
		cmocka_unit_test(test_seg_plan_sparse_gop),
		cmocka_unit_test(test_seg_plan_dense),
		cmocka_unit_test(test_seg_plan_tiny),
		cmocka_unit_test(test_seg_plan_streaming),
		cmocka_unit_test(test_seg_unit_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
