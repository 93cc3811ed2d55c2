/*
 * The standalone build/worker speaks the pool's protocol on stdin/stdout: hello, a task,
 * its result, and a clean exit at EOF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
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

static void
test_standalone_worker_renders_a_task(void **state)
{
	const char *build = getenv("VR_BUILD") ? getenv("VR_BUILD") : "build";
	char bin[512], in[300], out[300], err[256];
	char *argv[2];
	int to[2], from[2], type, st;
	struct msg_reader rd;
	json_t *j, *task;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/worker", build);
	snprintf(in, sizeof in, "%s/seg.mkv", dir);
	snprintf(out, sizeof out, "%s/out.mp4", dir);
	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	argv[0] = bin;
	argv[1] = NULL;
	pid = spawn(argv, to[0], from[1], -1, err, sizeof err);
	assert_true(pid > 0);
	close(to[0]);
	close(from[1]);
	msg_reader_init(&rd);

	assert_int_equal(msg_read(from[0], &rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_HELLO);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), WORKER_PROTOCOL);
	json_decref(j);

	task = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:i, s:s}",
	    "task", 7, "segment", 3, "input", in, "output", out, "filter", "grayscale", "fps", "25/1",
	    "cfr", 1, "width", 160, "height", 120, "rotation", 0, "preset", "ultrafast", "crf", 20,
	    "matrix", "bt601");
	assert_int_equal(msg_write(to[1], MSG_TASK, task, err, sizeof err), 0);
	json_decref(task);
	do {
		assert_int_equal(msg_read(from[0], &rd, &type, &j, err, sizeof err), 0);
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
	assert_int_equal(msg_write(to[1], MSG_TASK, task, err, sizeof err), 0);
	json_decref(task);
	assert_int_equal(msg_read(from[0], &rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_FAIL);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "segment 4"));
	json_decref(j);

	close(to[1]);  /* EOF: the worker leaves cleanly */
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	msg_reader_free(&rd);
	close(from[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standalone_worker_renders_a_task),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
