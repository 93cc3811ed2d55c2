/*
 * The standalone build/worker speaks the pool's protocol on stdin/stdout: hello, a task,
 * its result, and a clean exit at EOF. A preview task is answered with an image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/msg.h"
#include "common/spawn.h"
#include "worker/worker.h"

static char dir[256];

static int
setup(void **state)
{
	char cmd[1024];

	snprintf(dir, sizeof dir, "/tmp/vr-test-worker-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 "
	    "-c:v libx264 -preset ultrafast %s/seg.mkv", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The worker of a test, killed and reaped by its teardown if an assertion failed. */
static pid_t worker_pid = -1;

static int
worker_teardown(void **state)
{
	if (worker_pid > 0) {
		kill(worker_pid, SIGKILL);
		spawn_wait(worker_pid, NULL, NULL);
	}
	worker_pid = -1;
	return 0;
}

/* Starts build/worker (worker_pid) on two pipes and reads its hello: our ends in *to, *from. */
static void
worker_start(int *to, int *from, struct msg_reader *rd)
{
	const char *build = getenv("VR_BUILD") ? getenv("VR_BUILD") : "build";
	char bin[512], err[256];
	char *argv[2];
	int tp[2], fp[2], type;
	json_t *j;

	snprintf(bin, sizeof bin, "%s/worker", build);
	assert_int_equal(pipe2(tp, O_CLOEXEC), 0);
	assert_int_equal(pipe2(fp, O_CLOEXEC), 0);
	argv[0] = bin;
	argv[1] = NULL;
	worker_pid = spawn(argv, tp[0], fp[1], -1, err, sizeof err);
	assert_true(worker_pid > 0);
	close(tp[0]);
	close(fp[1]);
	*to = tp[1];
	*from = fp[0];
	msg_reader_init(rd);
	assert_int_equal(msg_read(*from, rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_HELLO);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), WORKER_PROTOCOL);
	json_decref(j);
}

/* EOF on its input: the worker leaves cleanly (exit 0). */
static void
worker_finish(int to, int from, struct msg_reader *rd)
{
	int st;

	close(to);
	assert_int_equal(spawn_wait(worker_pid, &st, NULL), 0);
	worker_pid = -1;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	msg_reader_free(rd);
	close(from);
}

static void
test_standalone_worker_renders_a_task(void **state)
{
	char in[300], out[300], err[256];
	int to, from, type;
	struct msg_reader rd;
	json_t *j, *task;

	snprintf(in, sizeof in, "%s/seg.mkv", dir);
	snprintf(out, sizeof out, "%s/out.mp4", dir);
	worker_start(&to, &from, &rd);

	task = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:i, s:s}",
	    "task", 7, "segment", 3, "input", in, "output", out, "filter", "grayscale", "fps", "25/1",
	    "cfr", 1, "width", 160, "height", 120, "rotation", 0, "preset", "ultrafast", "crf", 20,
	    "matrix", "bt601");
	assert_int_equal(msg_write(to, MSG_TASK, task, err, sizeof err), 0);
	json_decref(task);
	do {
		assert_int_equal(msg_read(from, &rd, &type, &j, err, sizeof err), 0);
		if (type != MSG_DONE)
			json_decref(j);
	} while (type == MSG_PROGRESS);
	assert_int_equal(type, MSG_DONE);
	assert_int_equal(json_integer_value(json_object_get(j, "task")), 7);
	assert_int_equal(json_integer_value(json_object_get(j, "frames")), 25);
	assert_true(access(out, R_OK) == 0);
	json_decref(j);

	/* a task it cannot do is answered with a failure naming the segment, not a crash */
	task = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i}", "task", 8, "segment", 4,
	    "input", "/nonexistent/seg.mkv", "output", out, "filter", "grayscale", "fps", "25/1",
	    "width", 160, "height", 120);
	assert_int_equal(msg_write(to, MSG_TASK, task, err, sizeof err), 0);
	json_decref(task);
	assert_int_equal(msg_read(from, &rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_FAIL);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "segment 4"));
	json_decref(j);

	worker_finish(to, from, &rd);
}



/* A piece of two files with each file's span (a variable rate's "durations"): both decoded as
 * one stream; durations that are not one positive number per file but the last are refused
 * as a bad task, and the worker goes on. */
static void
test_standalone_worker_takes_durations(void **state)
{
	static const char *bad[] = { "[\"1\"]", "[1, 1]", "[-1]", "[0]", "7" };
	char in[300], out[300], err[256];
	int to, from, type;
	size_t k;
	struct msg_reader rd;
	json_t *j, *task;

	snprintf(in, sizeof in, "%s/seg.mkv", dir);
	snprintf(out, sizeof out, "%s/two.mp4", dir);
	worker_start(&to, &from, &rd);
	for (k = 0; k <= sizeof bad / sizeof bad[0]; k++) {
		task = json_pack("{s:i, s:i, s:s, s:[s, s], s:s, s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:s, s:i, s:s}",
		    "task", 9, "segment", 5, "input", in, "inputs", in, in, "output", out,
		    "filter", "grayscale", "fps", "25/1", "cfr", 0, "timed", 1, "width", 160,
		    "height", 120, "rotation", 0, "preset", "ultrafast", "crf", 20, "matrix", "bt601");
		assert_non_null(task);
		json_object_set_new(task, "durations", k < sizeof bad / sizeof bad[0] ?
		    json_loads(bad[k], JSON_DECODE_ANY, NULL) : json_pack("[f]", 1.0));
		assert_int_equal(msg_write(to, MSG_TASK, task, err, sizeof err), 0);
		json_decref(task);
		do {
			assert_int_equal(msg_read(from, &rd, &type, &j, err, sizeof err), 0);
			if (type == MSG_PROGRESS)
				json_decref(j);
		} while (type == MSG_PROGRESS);
		if (k < sizeof bad / sizeof bad[0]) {
			assert_int_equal(type, MSG_FAIL);
			assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "bad task: durations"));
		} else {
			assert_int_equal(type, MSG_DONE);
			assert_int_equal(json_integer_value(json_object_get(j, "frames")), 50);
		}
		json_decref(j);
	}
	worker_finish(to, from, &rd);
}

/* Sends one preview task; the answer's type, and the message (the caller frees it). */
static int
preview_ask(int to, int from, struct msg_reader *rd, const char *input, const char *out, json_t **reply)
{
	char err[256];
	json_t *task;
	int type;

	task = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:i, s:i, s:s, s:s}",
	    "kind", "preview", "task", 0, "segment", 0, "input", input, "formats", "matroska",
	    "filter", "grayscale", "output", out, "t", 0.5, "width", 160, "height", 120,
	    "rotation", 0, "out_width", 80, "out_height", 60, "matrix", "bt601", "color_range", "tv");
	assert_int_equal(msg_write(to, MSG_TASK, task, err, sizeof err), 0);
	json_decref(task);
	assert_int_equal(msg_read(from, rd, &type, reply, err, sizeof err), 0);
	return type;
}

static void
test_standalone_worker_renders_a_preview(void **state)
{
	char in[300], out[300], rgb[300], cmd[1024];
	unsigned char px[80 * 60 * 3], png[24];
	int to, from, type, fd, i, spread = 0;
	struct msg_reader rd;
	json_t *j;

	snprintf(in, sizeof in, "%s/seg.mkv", dir);
	snprintf(out, sizeof out, "%s/still.png", dir);
	snprintf(rgb, sizeof rgb, "%s/still.rgb", dir);
	worker_start(&to, &from, &rd);

	type = preview_ask(to, from, &rd, in, out, &j);
	if (type != MSG_DONE)
		fail_msg("preview failed: %s", json_string_value(json_object_get(j, "error")));
	assert_string_equal(json_string_value(json_object_get(j, "output")), out);
	json_decref(j);
	/* a PNG of the size asked for (IHDR: width and height, big endian, at bytes 16 and 20) */
	fd = open(out, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(read(fd, png, sizeof png), (ssize_t)sizeof png);
	close(fd);
	assert_memory_equal(png + 1, "PNG", 3);
	assert_int_equal((png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19], 80);
	assert_int_equal((png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23], 60);
	/* and grey: testsrc2's colours are gone */
	snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -y -i %s -f rawvideo -pix_fmt rgb24 %s", out, rgb);
	assert_int_equal(system(cmd), 0);
	fd = open(rgb, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(read(fd, px, sizeof px), (ssize_t)sizeof px);
	close(fd);
	for (i = 0; i < 80 * 60; i++) {
		spread = abs(px[3 * i] - px[3 * i + 1]) > spread ? abs(px[3 * i] - px[3 * i + 1]) : spread;
		spread = abs(px[3 * i + 2] - px[3 * i + 1]) > spread ? abs(px[3 * i + 2] - px[3 * i + 1]) : spread;
	}
	assert_true(spread <= 2);

	/* a video that cannot be read is a failure saying so, and the worker goes on */
	type = preview_ask(to, from, &rd, "/nonexistent/seg.mkv", out, &j);
	assert_int_equal(type, MSG_FAIL);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")),
	    "cannot decode a frame for the preview"));
	json_decref(j);

	worker_finish(to, from, &rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_standalone_worker_renders_a_task, worker_teardown),
		cmocka_unit_test_teardown(test_standalone_worker_takes_durations, worker_teardown),
		cmocka_unit_test_teardown(test_standalone_worker_renders_a_preview, worker_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
