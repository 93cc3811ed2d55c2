/*
 * The route of a frame's bytes: untouched leading planes spliced straight on, planes written
 * without being read dropped, the rest read into the worker's buffer; the same bytes either
 * way, and copies when splice is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/filter.h"
#include "worker/route.h"

/* A 64x32 frame: Y 2048 bytes, U and V 512 each. */
static const size_t test_len[3] = { 2048, 512, 512 };
#define TEST_FRAME	3072

static void
test_route_plans(void **state)
{
	struct route r;
	char err[128];

	/* grayscale: luma kept, chroma filled */
	assert_int_equal(route_plan(&r, test_len, 0, FILTER_PLANE_U | FILTER_PLANE_V, err, sizeof err), 0);
	assert_int_equal(r.frame, TEST_FRAME);
	assert_int_equal(r.head, 2048);
	assert_int_equal(r.drop, FILTER_PLANE_U | FILTER_PLANE_V);
	assert_true(r.null_fd >= 0);
	route_free(&r);
	/* none: all of it goes round the worker */
	assert_int_equal(route_plan(&r, test_len, 0, 0, err, sizeof err), 0);
	assert_int_equal(r.head, TEST_FRAME);
	assert_int_equal(r.drop, 0);
	route_free(&r);
	/* luma only (sharpen): chroma comes after a touched plane, so it is read */
	assert_int_equal(route_plan(&r, test_len, FILTER_PLANE_Y, FILTER_PLANE_Y, err, sizeof err), 0);
	assert_int_equal(r.head, 0);
	assert_int_equal(r.drop, 0);
	route_free(&r);
	/* everything, and V filled after U read: only V is dropped */
	assert_int_equal(route_plan(&r, test_len, FILTER_PLANE_Y | FILTER_PLANE_U, FILTER_PLANES_ALL,
	    err, sizeof err), 0);
	assert_int_equal(r.head, 0);
	assert_int_equal(r.drop, FILTER_PLANE_V);
	route_free(&r);
}

/* Writes n frames, frame i all bytes (i * 16 + plane), into a new pipe; returns its read end. */
static int
test_route_source(int n, size_t extra)
{
	uint8_t f[TEST_FRAME];
	int p[2], i;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 16);
	for (i = 0; i < n; i++) {
		memset(f, i * 16, 2048);
		memset(f + 2048, i * 16 + 1, 512);
		memset(f + 2560, i * 16 + 2, 512);
		assert_int_equal(util_write_full(p[1], f, TEST_FRAME, NULL), 0);
	}
	memset(f, 0xee, sizeof f);
	assert_int_equal(util_write_full(p[1], f, extra, NULL), 0);
	close(p[1]);
	return p[0];
}

/* Grayscale's route through pipes, or, with out in append mode (which splice refuses),
 * through copies: the luma arrives in order, chroma is neither read nor passed on. */
static void
test_route_grayscale(int out, int in_pipe_out, int spliced)
{
	uint8_t buf[TEST_FRAME], back[2048];
	struct route r;
	char err[128];
	int in, i;

	in = test_route_source(2, 100);
	assert_int_equal(route_plan(&r, test_len, 0, FILTER_PLANE_U | FILTER_PLANE_V, err, sizeof err), 0);
	for (i = 0; i < 2; i++) {
		memset(buf, 0x55, sizeof buf);
		assert_int_equal(route_take(&r, in, out, buf, NULL), TEST_FRAME);
		/* the dropped chroma never reached the buffer (unless copied through it) */
		if (r.splice)
			assert_int_equal(buf[2048], 0x55);
		assert_int_equal(util_read_full(in_pipe_out, back, sizeof back, NULL), (ssize_t)sizeof back);
		assert_int_equal(back[0], i * 16);
		assert_int_equal(back[2047], i * 16);
	}
	/* spliced, not a byte of it entered the worker; copied, all of it did */
	assert_int_equal(r.copied, spliced ? 0 : 2 * TEST_FRAME);
	/* 100 bytes of a third frame: the decoder ended inside it */
	assert_int_equal(route_take(&r, in, out, buf, NULL), 100);
	assert_int_equal(r.splice, spliced);
	route_free(&r);
	close(in);
}

static void
test_route_splices(void **state)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 16);
	test_route_grayscale(p[1], p[0], 1);
	close(p[0]);
	close(p[1]);
}

static void
test_route_copies_when_refused(void **state)
{
	char path[] = "/tmp/vr-test-route-XXXXXX";
	int fd, out, rd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	out = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	rd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	assert_true(out >= 0 && rd >= 0);
	test_route_grayscale(out, rd, 0);
	close(fd);
	close(out);
	close(rd);
}

/* A pre-roll frame is thrown away whole without entering the worker (nothing copied, the
 * buffer untouched); the frame after it is taken as usual. */
static void
test_route_drops_preroll(void **state)
{
	uint8_t buf[TEST_FRAME];
	struct route r;
	char err[128];
	int in;

	in = test_route_source(2, 0);
	assert_int_equal(route_plan(&r, test_len, FILTER_PLANES_ALL, FILTER_PLANES_ALL, err, sizeof err), 0);
	memset(buf, 0x55, sizeof buf);
	assert_int_equal(route_drop(&r, in, buf, NULL), TEST_FRAME);
	assert_int_equal(r.copied, 0);
	assert_int_equal(buf[0], 0x55);
	assert_int_equal(buf[TEST_FRAME - 1], 0x55);
	assert_int_equal(route_take(&r, in, -1, buf, NULL), TEST_FRAME);
	assert_int_equal(buf[0], 16);
	assert_int_equal(buf[2048], 17);
	assert_int_equal(buf[TEST_FRAME - 1], 18);
	assert_int_equal(r.copied, TEST_FRAME);
	assert_int_equal(route_drop(&r, in, buf, NULL), 0);
	route_free(&r);
	close(in);
}

/* Read planes land at their offsets; a clean end between frames is 0. */
static void
test_route_reads(void **state)
{
	uint8_t buf[TEST_FRAME];
	struct route r;
	char err[128];
	int in;

	in = test_route_source(1, 0);
	assert_int_equal(route_plan(&r, test_len, FILTER_PLANES_ALL, FILTER_PLANES_ALL, err, sizeof err), 0);
	assert_int_equal(route_take(&r, in, -1, buf, NULL), TEST_FRAME);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[2048], 1);
	assert_int_equal(buf[TEST_FRAME - 1], 2);
	assert_int_equal(route_take(&r, in, -1, buf, NULL), 0);
	route_free(&r);
	close(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_plans),
		cmocka_unit_test(test_route_splices),
		cmocka_unit_test(test_route_copies_when_refused),
		cmocka_unit_test(test_route_reads),
		cmocka_unit_test(test_route_drops_preroll),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
