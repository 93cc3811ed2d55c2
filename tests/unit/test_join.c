#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/join.h"

/* The concat list join_write_kept wrote into a fresh directory, or NULL when it failed. */
static char *
test_join_list(const int64_t *frames, const double *starts, int n, char *err, size_t errlen)
{
	char dir[] = "/tmp/test_join.XXXXXX", path[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/concat.txt", dir);
	if (join_write_kept(dir, "par", n, frames, starts, err, errlen) == 0) {
		f = fopen(path, "r");
		assert_non_null(f);
		buf = calloc(1, 4096);
		assert_non_null(buf);
		len = fread(buf, 1, 4095, f);
		buf[len] = '\0';
		fclose(f);
	}
	unlink(path);
	rmdir(dir);
	return buf;
}

static void
test_join_kept_leaves_out_empty_pieces(void **state)
{
	int64_t frames[4] = { 30, 0, 15, 7 };
	char err[256], *list;

	(void)state;
	list = test_join_list(frames, NULL, 4, err, sizeof err);
	assert_non_null(list);
	assert_string_equal(list, "ffconcat version 1.0\n"
	    "file par/out_00000.mp4\n"
	    "file par/out_00002.mp4\n"
	    "file par/out_00003.mp4\n");
	free(list);
}

static void
test_join_kept_spans_to_the_next_kept_piece(void **state)
{
	/* the empty piece's span goes to the piece before it: the frames after keep their times */
	int64_t frames[4] = { 30, 0, 15, 7 };
	double starts[4] = { 0.023, 1.023, 2.023, 3.5 };
	char err[256], *list;

	(void)state;
	list = test_join_list(frames, starts, 4, err, sizeof err);
	assert_non_null(list);
	assert_string_equal(list, "ffconcat version 1.0\n"
	    "file par/out_00000.mp4\nduration 2.000000\n"
	    "file par/out_00002.mp4\nduration 1.477000\n"
	    "file par/out_00003.mp4\n");
	free(list);
}

static void
test_join_kept_refuses_nothing_decoded(void **state)
{
	int64_t frames[3] = { 0, 0, 0 };
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_null(test_join_list(frames, NULL, 3, err, sizeof err));
	assert_non_null(strstr(err, "no frame could be decoded"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_kept_leaves_out_empty_pieces),
		cmocka_unit_test(test_join_kept_spans_to_the_next_kept_piece),
		cmocka_unit_test(test_join_kept_refuses_nothing_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
