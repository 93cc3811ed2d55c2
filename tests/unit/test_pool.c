#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "master/pool.h"
#include "tests/unit/clip.h"
#include "tests/unit/reap.h"

#define TEST_POOL_NSHORT    4
#define TEST_POOL_DEADLINE  60      /* seconds: a hung map fails the test instead of hanging it */

/* The clips every test renders, made once for the group. */
struct test_pool_media {
	char dir[PATH_MAX];
	char shortseg[TEST_POOL_NSHORT][PATH_MAX];   /* 1 s, 30 frames, 160x120 */
	char longseg[PATH_MAX];                      /* 8 s, 240 frames, 320x240 */
};

static struct test_pool_media *test_pool_m;

/* What one async map saw: the callbacks count, the test asserts. */
struct test_pool_run {
	struct event_base *base;
	struct pool *pool;
	int finished, timed_out;
	json_t *results;
	char error[1024];
	int start[16], done[16], retry[16], fail[16], progress[16];
	int done_before_start;
	char retry_error[1024];
	/* what to do to the worker that takes kill_task */
	int kill_task;
	enum { TEST_POOL_NONE, TEST_POOL_KILL_EVERY_START, TEST_POOL_KILL_SOON, TEST_POOL_STOP_ONCE } act;
	int acted;
	pid_t killed_pid;
	int killed_slot;
	int kill_missed;            /* the delayed kill came after the task had finished */
	int task_slot[16];          /* worker of each task while it runs, else -1 */
};

static int
test_pool_group_setup(void **state)
{
	struct test_pool_media *m = calloc(1, sizeof *m);
	int i;

	/* the master ignores SIGPIPE (cli_main, serve): a write to a dead worker must not kill us */
	signal(SIGPIPE, SIG_IGN);
	log_init('M', LOG_ERROR);
	if (m == NULL)
		return -1;
	snprintf(m->dir, sizeof m->dir, "/tmp/test_pool-XXXXXX");
	if (mkdtemp(m->dir) == NULL)
		return -1;
	for (i = 0; i < TEST_POOL_NSHORT; i++) {
		snprintf(m->shortseg[i], sizeof m->shortseg[i], "%s/seg_%05d.mkv", m->dir, i);
		if (clip_make(m->shortseg[i], "160x120", 30, 1, 30) == -1)
			return -1;
	}
	snprintf(m->longseg, sizeof m->longseg, "%s/long.mkv", m->dir);
	if (clip_make(m->longseg, "320x240", 30, 8, 30) == -1)
		return -1;
	test_pool_m = m;
	*state = m;
	return 0;
}

static int
test_pool_group_teardown(void **state)
{
	if (test_pool_m != NULL) {
		util_rm_rf(test_pool_m->dir);
		free(test_pool_m);
		test_pool_m = NULL;
	}
	return 0;
}

/* One task as master/job.c's job_map builds it. */
static json_t *
test_pool_task(int segment, const char *input, const char *outdir, int width, int height)
{
	char out[PATH_MAX * 2];

	snprintf(out, sizeof out, "%s/out_%05d.mp4", outdir, segment);
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:i, s:s}",
	    "segment", segment, "input", input, "output", out, "filter", "grayscale",
	    "fps", "30/1", "cfr", 1, "width", width, "height", height, "rotation", 0,
	    "preset", "ultrafast", "crf", 20, "matrix", "bt601");
}

/* The four short segments, listed in reverse so task index != segment number. */
static json_t *
test_pool_short_tasks(const char *outname, char *outdir, size_t n)
{
	char err[256];
	json_t *tasks = json_array();
	int i;

	snprintf(outdir, n, "%s/%s", test_pool_m->dir, outname);
	assert_int_equal(util_mkdir_p(outdir, err, sizeof err), 0);
	for (i = TEST_POOL_NSHORT - 1; i >= 0; i--)
		json_array_append_new(tasks, test_pool_task(i, test_pool_m->shortseg[i], outdir, 160, 120));
	return tasks;
}

static int
test_pool_no_children(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

static void
test_pool_done_cb(struct pool *p, json_t *results, const char *error, void *arg)
{
	struct test_pool_run *r = arg;

	r->finished = 1;
	if (error != NULL)
		snprintf(r->error, sizeof r->error, "%s", error);
	else
		r->results = json_incref(results);
}

static void
test_pool_kill_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_pool_run *r = arg;

	if (r->task_slot[r->kill_task] != r->killed_slot) {
		r->kill_missed = 1;
		return;
	}
	kill(r->killed_pid, SIGKILL);
}

static void
test_pool_event_cb(struct pool *p, enum pool_event ev, int task, int worker, json_t *msg, void *arg)
{
	struct test_pool_run *r = arg;
	struct timeval soon = { 0, 150 * 1000 };
	json_t *e;

	assert_true(task >= 0 && task < 16);
	switch (ev) {
	case POOL_TASK_START:
		r->start[task]++;
		r->task_slot[task] = worker;
		if (task != r->kill_task)
			break;
		if (r->act == TEST_POOL_KILL_EVERY_START) {
			kill(pool_worker_pid(p, worker), SIGKILL);
		} else if (r->act == TEST_POOL_STOP_ONCE && !r->acted) {
			r->acted = 1;
			kill(pool_worker_pid(p, worker), SIGSTOP);
		} else if (r->act == TEST_POOL_KILL_SOON && !r->acted) {
			/* late enough that the worker has its ffmpeg children running */
			r->acted = 1;
			r->killed_slot = worker;
			r->killed_pid = pool_worker_pid(p, worker);
			event_base_once(r->base, -1, EV_TIMEOUT, test_pool_kill_soon_cb, r, &soon);
		}
		break;
	case POOL_TASK_PROGRESS:
		r->progress[task]++;
		break;
	case POOL_TASK_DONE:
		if (r->start[task] == 0)
			r->done_before_start = 1;
		r->done[task]++;
		r->task_slot[task] = -1;
		break;
	case POOL_TASK_RETRY:
		/* the stall was provoked; the re-run must not trip on a loaded machine's slowness */
		if (r->act == TEST_POOL_STOP_ONCE)
			pool_set_stall_timeout(p, 300);
		r->retry[task]++;
		r->task_slot[task] = -1;
		e = json_object_get(msg, "error");
		snprintf(r->retry_error, sizeof r->retry_error, "%s", json_is_string(e) ? json_string_value(e) : "");
		break;
	case POOL_TASK_FAIL:
		r->fail[task]++;
		r->task_slot[task] = -1;
		break;
	}
}

static void
test_pool_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_pool_run *r = arg;

	r->timed_out = 1;
}

static void
test_pool_run_init(struct test_pool_run *r, struct event_base *base, struct pool *p)
{
	int i;

	memset(r, 0, sizeof *r);
	r->base = base;
	r->pool = p;
	r->kill_task = -1;
	for (i = 0; i < 16; i++)
		r->task_slot[i] = -1;
}

/* Runs the loop until the map's callback ran (or the deadline passed). */
static void
test_pool_wait(struct test_pool_run *r)
{
	struct timeval tv = { TEST_POOL_DEADLINE, 0 };
	struct event *deadline = evtimer_new(r->base, test_pool_deadline_cb, r);

	evtimer_add(deadline, &tv);
	while (!r->finished && !r->timed_out)
		event_base_loop(r->base, EVLOOP_ONCE);
	event_free(deadline);
	if (r->timed_out)
		fail_msg("the map did not finish within %d s", TEST_POOL_DEADLINE);
}

static void
test_pool_map_async_run(struct test_pool_run *r, json_t *tasks)
{
	char err[256];

	if (pool_map_async(r->pool, tasks, test_pool_done_cb, test_pool_event_cb, r, err, sizeof err) == -1)
		fail_msg("pool_map_async: %s", err);
	test_pool_wait(r);
}

/* Counts the frames of an encoded file with ffprobe; -1 if it cannot be read. */
static long
test_pool_count_frames(const char *path)
{
	char *argv[] = { "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
	    "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", (char *)path, NULL };
	char out[64], err[256];
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = spawn(argv, -1, fds[1], -1, err, sizeof err);
	assert_true(pid > 0);
	close(fds[1]);
	n = util_read_full(fds[0], out, sizeof out - 1, NULL);
	close(fds[0]);
	spawn_wait(pid, &st, NULL);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	out[n] = '\0';
	return strtol(out, NULL, 10);
}

/* Closes, joins and frees the pool, and checks every worker is gone and reaped. */
static void
test_pool_shutdown(struct pool *p)
{
	pid_t pids[64];
	int i, n = pool_processes(p);

	assert_true(n <= 64);
	for (i = 0; i < n; i++)
		pids[i] = pool_worker_pid(p, i);
	pool_close(p);
	assert_int_equal(pool_join(p), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(pool_worker_pid(p, i), -1);
		if (pids[i] > 0 && kill(pids[i], 0) == 0)
			fail_msg("worker %d (pid %d) is still there after pool_join", i, (int)pids[i]);
	}
	assert_true(test_pool_no_children());
	pool_free(p);
}

static void
test_pool_map_blocking(void **state)
{
	struct event_base *base = event_base_new();
	char err[512], outdir[PATH_MAX];
	json_t *tasks, *res, *r;
	struct pool *p;
	size_t i;
	int seg;

	p = pool_new(base, 2, err, sizeof err);
	if (p == NULL)
		fail_msg("pool_new: %s", err);
	assert_int_equal(pool_processes(p), 2);
	assert_true(pool_worker_pid(p, 0) > 0);
	assert_true(pool_worker_pid(p, 1) > 0);
	assert_int_equal(pool_worker_pid(p, 2), -1);
	assert_int_equal(pool_worker_pid(p, -1), -1);

	tasks = test_pool_short_tasks("blocking", outdir, sizeof outdir);
	res = pool_map(p, tasks, err, sizeof err);
	if (res == NULL)
		fail_msg("pool_map: %s", err);
	assert_int_equal(json_array_size(res), TEST_POOL_NSHORT);
	json_array_foreach(res, i, r) {
		char out[PATH_MAX * 2];

		assert_true(json_is_object(r));
		/* in task order: task i is segment NSHORT-1-i */
		seg = TEST_POOL_NSHORT - 1 - (int)i;
		assert_int_equal(json_integer_value(json_object_get(r, "task")), (json_int_t)i);
		assert_int_equal(json_integer_value(json_object_get(r, "segment")), seg);
		assert_int_equal(json_integer_value(json_object_get(r, "frames")), 30);
		assert_true(json_is_integer(json_object_get(r, "worker")));
		snprintf(out, sizeof out, "%s/out_%05d.mp4", outdir, seg);
		if (util_file_size(out) <= 0)
			fail_msg("no output %s", out);
		assert_int_equal(test_pool_count_frames(out), 30);
	}
	json_decref(res);
	/* the caller's tasks are not modified */
	assert_null(json_object_get(json_array_get(tasks, 0), "task"));

	/* a second map on the same workers */
	json_array_remove(tasks, 3);
	json_array_remove(tasks, 2);
	res = pool_map(p, tasks, err, sizeof err);
	if (res == NULL)
		fail_msg("second pool_map: %s", err);
	assert_int_equal(json_array_size(res), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 1), "segment")), TEST_POOL_NSHORT - 2);
	json_decref(res);
	json_decref(tasks);

	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_map_async_events(void **state)
{
	struct event_base *base = event_base_new();
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX];
	struct pool *p;
	json_t *tasks;
	int i;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	test_pool_run_init(&r, base, p);
	tasks = test_pool_short_tasks("async", outdir, sizeof outdir);
	test_pool_map_async_run(&r, tasks);
	if (r.error[0] != '\0')
		fail_msg("map failed: %s", r.error);
	assert_non_null(r.results);
	for (i = 0; i < TEST_POOL_NSHORT; i++) {
		assert_int_equal(r.start[i], 1);
		assert_int_equal(r.done[i], 1);
		assert_int_equal(r.retry[i], 0);
		assert_int_equal(r.fail[i], 0);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(r.results, (size_t)i), "frames")), 30);
	}
	assert_false(r.done_before_start);
	json_decref(r.results);

	/* one map at a time */
	test_pool_run_init(&r, base, p);
	assert_int_equal(pool_map_async(p, tasks, test_pool_done_cb, test_pool_event_cb, &r, err, sizeof err), 0);
	assert_int_equal(pool_map_async(p, tasks, test_pool_done_cb, test_pool_event_cb, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "another map"));
	test_pool_wait(&r);
	assert_string_equal(r.error, "");
	json_decref(r.results);
	json_decref(tasks);

	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_worker_killed(void **state)
{
	struct event_base *base = event_base_new();
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX], out[PATH_MAX * 2];
	struct pool *p;
	json_t *tasks, *res;
	pid_t before[2];
	int i;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	before[0] = pool_worker_pid(p, 0);
	before[1] = pool_worker_pid(p, 1);
	snprintf(outdir, sizeof outdir, "%s/killed", test_pool_m->dir);
	assert_int_equal(util_mkdir_p(outdir, err, sizeof err), 0);
	tasks = json_array();
	json_array_append_new(tasks, test_pool_task(5, test_pool_m->longseg, outdir, 320, 240));
	json_array_append_new(tasks, test_pool_task(1, test_pool_m->shortseg[1], outdir, 160, 120));

	test_pool_run_init(&r, base, p);
	r.kill_task = 0;
	r.act = TEST_POOL_KILL_SOON;
	test_pool_map_async_run(&r, tasks);
	assert_false(r.kill_missed);
	if (r.error[0] != '\0')
		fail_msg("map failed although the task could be re-run: %s", r.error);
	assert_int_equal(r.retry[0], 1);
	assert_int_equal(r.start[0], 2);
	assert_int_equal(r.done[0], 1);
	assert_int_equal(r.retry[1], 0);
	/* the retry says which worker died and how */
	assert_non_null(strstr(r.retry_error, "signal 9"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.results, 0), "frames")), 240);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.results, 1), "frames")), 30);
	json_decref(r.results);
	/* the re-run output is whole, whatever the killed worker's ffmpeg left behind */
	snprintf(out, sizeof out, "%s/out_%05d.mp4", outdir, 5);
	assert_int_equal(test_pool_count_frames(out), 240);

	/* the pool is back to full strength, with a new process in the killed slot */
	for (i = 0; i < 2; i++) {
		assert_true(pool_worker_pid(p, i) > 0);
		assert_int_equal(kill(pool_worker_pid(p, i), 0), 0);
	}
	assert_true(pool_worker_pid(p, r.killed_slot) != before[r.killed_slot]);
	assert_int_equal(kill(r.killed_pid, 0), -1);

	/* and it still works */
	json_array_remove(tasks, 0);
	res = pool_map(p, tasks, err, sizeof err);
	if (res == NULL)
		fail_msg("map after the kill: %s", err);
	json_decref(res);
	json_decref(tasks);
	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_missing_input(void **state)
{
	struct event_base *base = event_base_new();
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX], missing[PATH_MAX * 2];
	struct pool *p;
	json_t *tasks, *first, *res;
	int i, retries = 0;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	tasks = test_pool_short_tasks("missing", outdir, sizeof outdir);
	snprintf(missing, sizeof missing, "%s/no such segment.mkv", test_pool_m->dir);
	/* slot 0 takes the missing segment and fails at once, while slot 1 is busy on the long one */
	first = json_array();
	json_array_append_new(first, test_pool_task(42, missing, outdir, 160, 120));
	json_array_append_new(first, test_pool_task(5, test_pool_m->longseg, outdir, 320, 240));
	json_array_extend(first, tasks);

	test_pool_run_init(&r, base, p);
	test_pool_map_async_run(&r, first);
	assert_null(r.results);
	if (strstr(r.error, "segment 42") == NULL)
		fail_msg("error '%s' does not name segment 42", r.error);
	assert_non_null(strstr(r.error, "no such segment.mkv"));
	/* a decoder that cannot open its input fails the same way every time: no retry. Whether
	 * the other slot had taken the long segment by then is up to the scheduler. */
	assert_int_equal(r.start[0], 1);
	assert_int_equal(r.fail[0], 1);
	assert_true(r.start[1] <= 1);
	assert_true(r.done[1] <= r.start[1]);
	for (i = 0; i < 16; i++)
		retries += r.retry[i];
	assert_int_equal(retries, 0);
	json_decref(first);

	/* The failed map left the pool usable, and nothing of it leaks into the next map: the
	 * worker stopped because map 1 failed (busy on the long segment) is reaped during map 2,
	 * and neither its exit nor anything it had written may count for map 2. */
	test_pool_run_init(&r, base, p);
	test_pool_map_async_run(&r, tasks);
	if (r.error[0] != '\0')
		fail_msg("map after a failed one: %s", r.error);
	for (i = 0; i < TEST_POOL_NSHORT; i++) {
		res = json_array_get(r.results, (size_t)i);
		if (!json_is_object(res))
			fail_msg("map after a failed one: no result for task %d", i);
		assert_int_equal(json_integer_value(json_object_get(res, "frames")), 30);
		assert_int_equal(json_integer_value(json_object_get(res, "segment")), TEST_POOL_NSHORT - 1 - i);
		assert_int_equal(r.start[i], 1);
		assert_int_equal(r.done[i], 1);
		assert_int_equal(r.retry[i], 0);
	}
	assert_int_equal(r.start[4], 0);
	assert_int_equal(r.retry[4], 0);
	json_decref(r.results);

	/* the blocking form reports the same error */
	json_decref(tasks);
	tasks = json_array();
	json_array_append_new(tasks, test_pool_task(42, missing, outdir, 160, 120));
	err[0] = '\0';
	assert_null(pool_map(p, tasks, err, sizeof err));
	assert_non_null(strstr(err, "segment 42"));
	json_decref(tasks);
	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_crash_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX];
	struct pool *p;
	json_t *tasks;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	snprintf(outdir, sizeof outdir, "%s/crash", test_pool_m->dir);
	assert_int_equal(util_mkdir_p(outdir, err, sizeof err), 0);
	tasks = json_array();
	json_array_append_new(tasks, test_pool_task(0, test_pool_m->shortseg[0], outdir, 160, 120));
	json_array_append_new(tasks, test_pool_task(7, test_pool_m->shortseg[1], outdir, 160, 120));

	/* the worker that takes segment 7 dies every time, as if the segment crashed it */
	test_pool_run_init(&r, base, p);
	r.kill_task = 1;
	r.act = TEST_POOL_KILL_EVERY_START;
	test_pool_map_async_run(&r, tasks);
	assert_null(r.results);
	if (strstr(r.error, "segment 7") == NULL || strstr(r.error, "3 times") == NULL)
		fail_msg("error '%s' does not say segment 7 failed 3 times", r.error);
	assert_int_equal(r.start[1], POOL_MAX_TRIES);
	assert_int_equal(r.retry[1], POOL_MAX_TRIES - 1);
	assert_int_equal(r.fail[1], 1);
	json_decref(tasks);

	/* the pool replaced every killed worker */
	assert_true(pool_worker_pid(p, 0) > 0);
	assert_true(pool_worker_pid(p, 1) > 0);
	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_stalled_worker(void **state)
{
	struct event_base *base = event_base_new();
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX];
	struct pool *p;
	json_t *tasks;
	double t0;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	pool_set_stall_timeout(p, 1.0);
	snprintf(outdir, sizeof outdir, "%s/stall", test_pool_m->dir);
	assert_int_equal(util_mkdir_p(outdir, err, sizeof err), 0);
	tasks = json_array();
	json_array_append_new(tasks, test_pool_task(3, test_pool_m->shortseg[3], outdir, 160, 120));

	/* a worker that stops answering (SIGSTOP) is killed after the stall timeout and replaced */
	test_pool_run_init(&r, base, p);
	r.kill_task = 0;
	r.act = TEST_POOL_STOP_ONCE;
	t0 = util_now();
	test_pool_map_async_run(&r, tasks);
	if (r.error[0] != '\0')
		fail_msg("map failed: %s", r.error);
	assert_int_equal(r.retry[0], 1);
	assert_int_equal(r.done[0], 1);
	assert_non_null(strstr(r.retry_error, "no progress"));
	assert_true(util_now() - t0 >= 1.0);
	json_decref(r.results);
	json_decref(tasks);
	test_pool_shutdown(p);
	event_base_free(base);
}

static void
test_pool_terminate_during_map(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tv = { 0, 100 * 1000 };
	struct test_pool_run r;
	char err[512], outdir[PATH_MAX];
	struct pool *p;
	json_t *tasks;
	pid_t pids[2];
	double t0, deadline;
	int i;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	pids[0] = pool_worker_pid(p, 0);
	pids[1] = pool_worker_pid(p, 1);
	snprintf(outdir, sizeof outdir, "%s/terminate", test_pool_m->dir);
	assert_int_equal(util_mkdir_p(outdir, err, sizeof err), 0);
	tasks = json_array();
	for (i = 0; i < 4; i++)
		json_array_append_new(tasks, test_pool_task(i, test_pool_m->longseg, outdir, 320, 240));

	test_pool_run_init(&r, base, p);
	assert_int_equal(pool_map_async(p, tasks, test_pool_done_cb, test_pool_event_cb, &r, err, sizeof err), 0);
	/* both workers on a task (they start once they said hello), a moment for their ffmpeg
	 * children to start, then the plug is pulled from outside the callbacks */
	deadline = util_now() + TEST_POOL_DEADLINE;
	while (!(r.start[0] == 1 && r.start[1] == 1) && !r.finished && util_now() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_false(r.finished);
	assert_true(r.start[0] == 1 && r.start[1] == 1);
	t0 = util_now();
	pool_terminate(p);
	assert_true(r.finished);
	assert_null(r.results);
	assert_non_null(strstr(r.error, "terminated"));
	/* returns at all: workers that ignored SIGTERM were killed after the grace */
	assert_int_equal(pool_join(p), 0);
	assert_true(util_now() - t0 < TEST_POOL_DEADLINE);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pool_worker_pid(p, i), -1);
		assert_int_equal(kill(pids[i], 0), -1);
	}
	assert_true(test_pool_no_children());

	/* a terminated pool takes no more work */
	err[0] = '\0';
	assert_null(pool_map(p, tasks, err, sizeof err));
	assert_non_null(strstr(err, "terminated"));
	json_decref(tasks);
	pool_free(p);
	event_base_free(base);
}

static void
test_pool_refusals(void **state)
{
	struct event_base *base = event_base_new();
	char err[512], outdir[PATH_MAX];
	struct pool *p;
	json_t *tasks, *bad;
	pid_t pid;

	err[0] = '\0';
	assert_null(pool_new(base, 0, err, sizeof err));
	assert_non_null(strstr(err, "processes"));
	assert_null(pool_new(base, -3, err, sizeof err));

	p = pool_new(base, 1, err, sizeof err);
	assert_non_null(p);
	pid = pool_worker_pid(p, 0);
	tasks = test_pool_short_tasks("refusals", outdir, sizeof outdir);

	bad = json_array();
	assert_null(pool_map(p, bad, err, sizeof err));
	assert_non_null(strstr(err, "nothing to map"));
	assert_null(pool_map(p, NULL, err, sizeof err));
	json_array_append_new(bad, json_string("not an object"));
	assert_null(pool_map(p, bad, err, sizeof err));
	assert_non_null(strstr(err, "task 0"));
	json_decref(bad);

	/* a task the worker cannot read fails the map with the worker's reason */
	bad = json_pack("[{s:i, s:s}]", "segment", 9, "input", "x.mkv");
	err[0] = '\0';
	assert_null(pool_map(p, bad, err, sizeof err));
	assert_non_null(strstr(err, "bad task"));
	json_decref(bad);

	pool_close(p);
	err[0] = '\0';
	assert_null(pool_map(p, tasks, err, sizeof err));
	assert_non_null(strstr(err, "closed"));
	assert_int_equal(pool_join(p), 0);
	assert_int_equal(kill(pid, 0), -1);
	assert_true(test_pool_no_children());
	json_decref(tasks);
	pool_free(p);

	/* join on an open pool would wait forever: refused */
	p = pool_new(base, 1, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(pool_join(p), -1);
	test_pool_shutdown(p);
	event_base_free(base);
}

/* pool_release from inside the loop (as a job does): the workers leave, then the pool frees
 * itself; the sanitizer build reports a leak or a use after free if it does not. */
static void
test_pool_release_in_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tick = { 0, 50 * 1000 };
	char err[512];
	struct pool *p;
	pid_t pids[2];
	double deadline;
	int i;

	p = pool_new(base, 2, err, sizeof err);
	assert_non_null(p);
	pids[0] = pool_worker_pid(p, 0);
	pids[1] = pool_worker_pid(p, 1);
	pool_release(p);
	deadline = util_now() + TEST_POOL_DEADLINE;
	while (!test_pool_no_children() && util_now() < deadline) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	assert_true(test_pool_no_children());
	/* one more turn for the deferred free */
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	for (i = 0; i < 2; i++)
		assert_int_equal(kill(pids[i], 0), -1);
	event_base_free(base);
}

/* The CPUs a pool's workers share: a pool of 1 (the sequential baseline) is one core; a pool
 * of as many workers as CPUs may use them all, so a worker whose piece has ended leaves its core
 * to the others instead of one pinned core rendering the last piece alone. */
static void
test_pool_cpus(void **state)
{
	struct event_base *base = event_base_new();
	char err[512], outdir[PATH_MAX];
	cpu_set_t allowed, set, got;
	json_t *tasks, *res;
	struct pool *p;
	int n;

	CPU_ZERO(&allowed);
	CPU_SET(0, &allowed);
	CPU_SET(1, &allowed);
	assert_int_equal(pool_cpu_set(1, &allowed, &set), 1);
	assert_int_equal(CPU_COUNT(&set), 1);
	assert_true(CPU_ISSET(0, &set));
	assert_int_equal(pool_cpu_set(2, &allowed, &set), 0);
	assert_int_equal(pool_cpu_set(5, &allowed, &set), 0);
	assert_int_equal(pool_cpu_set(0, &allowed, &set), 0);
	CPU_ZERO(&allowed);
	for (n = 1; n < 8; n += 2)
		CPU_SET(n, &allowed);
	assert_int_equal(pool_cpu_set(3, &allowed, &set), 1);
	assert_int_equal(CPU_COUNT(&set), 3);
	assert_true(CPU_ISSET(1, &set) && CPU_ISSET(3, &set) && CPU_ISSET(5, &set));

	/* real workers, after each has rendered a task (so it is past its start) */
	assert_int_equal(sched_getaffinity(0, sizeof allowed, &allowed), 0);
	n = CPU_COUNT(&allowed);
	if (n < 2 || n > 16 || getenv("VR_NO_PIN") != NULL) {
		printf("SKIP %d CPUs here (or VR_NO_PIN set): needs 2 to 16\n", n);
		event_base_free(base);
		skip();
	}
	p = pool_new(base, 1, err, sizeof err);
	assert_non_null(p);
	tasks = test_pool_short_tasks("cpus1", outdir, sizeof outdir);
	res = pool_map(p, tasks, err, sizeof err);
	if (res == NULL)
		fail_msg("pool_map: %s", err);
	assert_int_equal(sched_getaffinity(pool_worker_pid(p, 0), sizeof got, &got), 0);
	assert_int_equal(CPU_COUNT(&got), 1);
	json_decref(res);
	test_pool_shutdown(p);

	p = pool_new(base, n, err, sizeof err);
	assert_non_null(p);
	res = pool_map(p, tasks, err, sizeof err);
	if (res == NULL)
		fail_msg("pool_map: %s", err);
	assert_int_equal(sched_getaffinity(pool_worker_pid(p, 0), sizeof got, &got), 0);
	assert_true(CPU_EQUAL(&got, &allowed));
	json_decref(res);
	json_decref(tasks);
	test_pool_shutdown(p);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pool_map_blocking, reap_children),
		cmocka_unit_test_teardown(test_pool_map_async_events, reap_children),
		cmocka_unit_test_teardown(test_pool_worker_killed, reap_children),
		cmocka_unit_test_teardown(test_pool_missing_input, reap_children),
		cmocka_unit_test_teardown(test_pool_crash_loop, reap_children),
		cmocka_unit_test_teardown(test_pool_stalled_worker, reap_children),
		cmocka_unit_test_teardown(test_pool_terminate_during_map, reap_children),
		cmocka_unit_test_teardown(test_pool_refusals, reap_children),
		cmocka_unit_test_teardown(test_pool_release_in_loop, reap_children),
		cmocka_unit_test_teardown(test_pool_cpus, reap_children),
	};

	return cmocka_run_group_tests(tests, test_pool_group_setup, test_pool_group_teardown);
}
