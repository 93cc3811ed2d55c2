/*
 * The ring of frame buffers: sized from the pipe so that a buffer is filled again only after
 * the reader has taken every byte of the frame it held, whatever vmsplice left in the pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/ring.h"

#define TEST_PAGE	4096

static void
test_ring_sizes(void **state)
{
	struct ring r;
	char err[128];
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) != 1 << 20) {
		close(p[0]);
		close(p[1]);
		skip();  /* pipe-max-size below 1 MiB here */
	}
	/* a whole 720p frame is 338 pages, more than the pipe's 256 slots */
	assert_int_equal(ring_init(&r, 1382400, 1382400, p[1], err, sizeof err), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.stride % TEST_PAGE, 0);
	ring_free(&r);
	/* only its chroma through the ring (grayscale): 113 pages a frame */
	assert_int_equal(ring_init(&r, 1382400, 460800, p[1], err, sizeof err), 0);
	assert_int_equal(r.count, 4);
	ring_free(&r);
	/* nothing through the ring (none): one buffer */
	assert_int_equal(ring_init(&r, 1382400, 0, p[1], err, sizeof err), 0);
	assert_int_equal(r.count, 1);
	ring_free(&r);
	close(p[0]);
	close(p[1]);
}

/* Reads frames of `size` bytes slowly and counts those that are not all byte i % 251. */
static int
test_ring_reader(int fd, size_t size, int frames)
{
	uint8_t *f = malloc(size);
	int i, bad = 0;
	size_t k;

	for (i = 0; i < frames; i++) {
		usleep(200);
		if (util_read_full(fd, f, size, NULL) != (ssize_t)size)
			return 255;
		for (k = 0; k < size; k++) {
			if (f[k] != (uint8_t)(i % 251)) {
				bad++;
				break;
			}
		}
	}
	free(f);
	return bad > 254 ? 254 : bad;
}

/* Frames put through the ring arrive intact although each buffer is refilled while the pipe
 * is full: with too few buffers the reader would see later frames' bytes. */
static void
test_ring_frames_intact(void **state)
{
	const size_t size = 3 * TEST_PAGE + 100;
	const int frames = 300;
	struct ring r;
	char err[128];
	uint8_t *buf;
	int p[2], i, st;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, 16 * TEST_PAGE);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		_exit(test_ring_reader(p[0], size, frames));
	}
	close(p[0]);
	assert_int_equal(ring_init(&r, size, size, p[1], err, sizeof err), 0);
	assert_int_equal(r.count, 2 + 16 / 4);
	for (i = 0; i < frames; i++) {
		buf = ring_next(&r);
		memset(buf, i % 251, size);
		assert_int_equal(ring_put(&r, p[1], buf, size, NULL), 0);
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	ring_free(&r);
}

/* Not a pipe: no vmsplice, one buffer, the bytes written as they are. */
static void
test_ring_not_a_pipe(void **state)
{
	char path[] = "/tmp/vr-test-ring-XXXXXX", err[128];
	uint8_t back[5000];
	struct ring r;
	uint8_t *buf;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ring_init(&r, sizeof back, sizeof back, fd, err, sizeof err), 0);
	assert_int_equal(r.count, 1);
	buf = ring_next(&r);
	memset(buf, 7, sizeof back);
	assert_int_equal(ring_put(&r, fd, buf, sizeof back, NULL), 0);
	assert_int_equal(pread(fd, back, sizeof back, 0), (ssize_t)sizeof back);
	assert_int_equal(back[0], 7);
	assert_int_equal(back[sizeof back - 1], 7);
	ring_free(&r);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_sizes),
		cmocka_unit_test(test_ring_frames_intact),
		cmocka_unit_test(test_ring_not_a_pipe),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
