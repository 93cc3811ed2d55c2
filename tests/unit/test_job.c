#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "master/job.h"
#include "tests/unit/clip.h"
#include "tests/unit/reap.h"

#define TEST_JOB_DEADLINE 60    /* seconds: a job that never ends fails the test instead of hanging it */

/* The one clip every test renders (1 s, 25 frames, 160x120, two keyframes), made once. */
static char test_job_dir[PATH_MAX], test_job_clip[PATH_MAX];

/* What the callbacks of one job saw; the test asserts on it. */
struct test_job_run {
	struct event_base *base;
	struct job *job;
	enum job_phase phases[16];  /* each phase the progress callback saw, in order, once */
	int nphases;
	int done;                   /* times the done callback ran */
	enum job_phase done_phase;
	char error[1024];
	enum job_phase abort_in;    /* abort once the job reaches this phase (JOB_FAILED: never) */
	int aborted;
};

static int
test_job_group_setup(void **state)
{
	/* the master ignores SIGPIPE (cli_main, serve): a write to a dead worker must not kill us */
	signal(SIGPIPE, SIG_IGN);
	log_init('M', LOG_ERROR);
	snprintf(test_job_dir, sizeof test_job_dir, "/tmp/test_job-XXXXXX");
	if (mkdtemp(test_job_dir) == NULL)
		return -1;
	snprintf(test_job_clip, sizeof test_job_clip, "%s/clip.mp4", test_job_dir);
	return clip_make(test_job_clip, "160x120", 25, 1, 12);
}

static int
test_job_group_teardown(void **state)
{
	util_rm_rf(test_job_dir);
	return 0;
}

static void
test_job_abort_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_job_run *r = arg;

	job_abort(r->job, "stopped by the test");
}

static void
test_job_progress_cb(struct job *j, void *arg)
{
	struct test_job_run *r = arg;
	struct timeval now = { 0, 0 };
	enum job_phase ph = job_phase(j);

	if ((r->nphases == 0 || r->phases[r->nphases - 1] != ph) && r->nphases < 16)
		r->phases[r->nphases++] = ph;
	/* from the loop, as a user's cancel comes: not from inside the pool's callback */
	if (ph == r->abort_in && !r->aborted) {
		r->aborted = 1;
		event_base_once(r->base, -1, EV_TIMEOUT, test_job_abort_cb, r, &now);
	}
}

static void
test_job_done_cb(struct job *j, void *arg)
{
	struct test_job_run *r = arg;

	r->done++;
	r->done_phase = job_phase(j);
	snprintf(r->error, sizeof r->error, "%s", job_error(j));
	event_base_loopbreak(r->base);
}

/* A job on input into DIR/NAME.mp4 with one local worker; not started. */
static void
test_job_new(struct test_job_run *r, const char *input, const char *name, int baseline)
{
	char out[PATH_MAX + 64], work[PATH_MAX + 64];
	struct job_opts o;

	memset(r, 0, sizeof *r);
	r->abort_in = JOB_FAILED;
	r->base = event_base_new();
	assert_non_null(r->base);
	snprintf(out, sizeof out, "%s/%s.mp4", test_job_dir, name);
	snprintf(work, sizeof work, "%s/%s.work", test_job_dir, name);
	memset(&o, 0, sizeof o);
	o.input = input;
	o.output = out;
	o.workdir = work;
	o.filter = "grayscale";
	o.preset = "ultrafast";
	o.crf = 20;
	o.workers = 1;
	o.segment_seconds = 0.5;
	o.baseline = baseline;
	r->job = job_new(r->base, &o, test_job_progress_cb, test_job_done_cb, r);
	assert_non_null(r->job);
}

/* Runs the loop until the done callback (or the deadline), then until every child is reaped. */
static void
test_job_run(struct test_job_run *r)
{
	struct timeval deadline = { TEST_JOB_DEADLINE, 0 };
	struct event *drain;

	if (r->done == 0) {
		event_base_loopexit(r->base, &deadline);
		event_base_dispatch(r->base);
	}
	assert_int_equal(r->done, 1);
	drain = job_drain_event(r->base);
	assert_non_null(drain);
	event_base_loopexit(r->base, &deadline);
	event_base_dispatch(r->base);
	event_free(drain);
	assert_int_equal(job_children_live(), 0);
}

static void
test_job_free(struct test_job_run *r)
{
	job_free(r->job);
	event_base_free(r->base);
}

/* Probe, cut, baseline, parallel, join: in that order, each once; done once, completed. */
static void
test_job_phases_in_order(void **state)
{
	static const enum job_phase want[] = { JOB_SPLITTING, JOB_SEQUENTIAL, JOB_PARALLEL,
	    JOB_MERGING };
	struct test_job_run r;
	char err[512], out[PATH_MAX + 64];
	json_t *rep;
	size_t i, k;

	test_job_new(&r, test_job_clip, "whole", 1);
	assert_int_equal(job_start(r.job, err, sizeof err), 0);
	assert_int_equal(job_phase(r.job), JOB_PROBING);
	test_job_run(&r);
	assert_int_equal(r.done_phase, JOB_DONE);
	assert_string_equal(r.error, "");
	/* each phase the job reported comes after the one before it: the state machine never goes back */
	for (i = 1; i < (size_t)r.nphases; i++)
		assert_true(r.phases[i] > r.phases[i - 1]);
	for (i = k = 0; i < (size_t)r.nphases && k < sizeof want / sizeof *want; i++)
		if (r.phases[i] == want[k])
			k++;
	assert_int_equal(k, sizeof want / sizeof *want);
	rep = job_report(r.job);
	assert_string_equal(json_string_value(json_object_get(rep, "status")), "completed");
	assert_string_equal(json_string_value(json_object_get(rep, "phase")), "done");
	assert_true(json_integer_value(json_object_get(rep, "segments_processed")) >= 2);
	json_decref(rep);
	snprintf(out, sizeof out, "%s/whole.mp4", test_job_dir);
	assert_true(util_file_size(out) > 0);
	/* over is over: a late cancel neither calls done again nor changes the result */
	job_cancel(r.job);
	assert_int_equal(r.done, 1);
	assert_int_equal(job_phase(r.job), JOB_DONE);
	test_job_free(&r);
}

/* A cancel while the probe runs: done once, failed "cancelled", the probe's child reaped. */
static void
test_job_cancel_while_probing(void **state)
{
	struct test_job_run r;
	char err[512];

	test_job_new(&r, test_job_clip, "cancel", 0);
	assert_int_equal(job_start(r.job, err, sizeof err), 0);
	job_cancel(r.job);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.done_phase, JOB_FAILED);
	assert_string_equal(r.error, "cancelled");
	test_job_run(&r);
	job_cancel(r.job);
	assert_int_equal(r.done, 1);
	test_job_free(&r);
}

/* An abort while the workers render: done once with the reason, no output, no .part. */
static void
test_job_abort_while_rendering(void **state)
{
	struct test_job_run r;
	char err[512], out[PATH_MAX + 64];
	json_t *rep;

	test_job_new(&r, test_job_clip, "abort", 0);
	r.abort_in = JOB_PARALLEL;
	assert_int_equal(job_start(r.job, err, sizeof err), 0);
	test_job_run(&r);
	assert_true(r.aborted);
	assert_int_equal(r.done_phase, JOB_FAILED);
	assert_string_equal(r.error, "stopped by the test");
	rep = job_report(r.job);
	assert_string_equal(json_string_value(json_object_get(rep, "status")), "failed");
	json_decref(rep);
	snprintf(out, sizeof out, "%s/abort.mp4", test_job_dir);
	assert_int_equal(util_file_size(out), -1);
	snprintf(out, sizeof out, "%s/abort.mp4.part", test_job_dir);
	assert_int_equal(util_file_size(out), -1);
	test_job_free(&r);
}

/* Not a video: the probe fails the job (done once, the reason given); a missing input is
 * refused by job_start itself, and then done never runs. */
static void
test_job_bad_inputs(void **state)
{
	struct test_job_run r;
	char err[512], path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/notes.mp4", test_job_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a video at all\n", f);
	fclose(f);
	test_job_new(&r, path, "bad", 0);
	assert_int_equal(job_start(r.job, err, sizeof err), 0);
	test_job_run(&r);
	assert_int_equal(r.done_phase, JOB_FAILED);
	assert_true(r.error[0] != '\0');
	/* it never got past the probe */
	assert_true(r.nphases == 0 || r.phases[r.nphases - 1] <= JOB_PROBING ||
	    r.phases[r.nphases - 1] == JOB_FAILED);
	test_job_free(&r);

	snprintf(path, sizeof path, "%s/missing.mp4", test_job_dir);
	test_job_new(&r, path, "missing", 0);
	assert_int_equal(job_start(r.job, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot read"));
	assert_int_equal(r.done, 0);
	test_job_free(&r);
}

/* The statuses' words are the API's: the enum round-trips through them. */
static void
test_job_status_words(void **state)
{
	static const char *words[] = { "uploaded", "queued", "processing", "completed", "failed" };
	int st;

	for (st = JOB_STATUS_UPLOADED; st <= JOB_STATUS_FAILED; st++) {
		assert_string_equal(job_status_name(st), words[st]);
		assert_int_equal(job_status_of(words[st]), st);
	}
	assert_int_equal(job_status_of("done"), JOB_STATUS_UNKNOWN);
	assert_int_equal(job_status_of(NULL), JOB_STATUS_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_job_phases_in_order, reap_children),
		cmocka_unit_test_teardown(test_job_cancel_while_probing, reap_children),
		cmocka_unit_test_teardown(test_job_abort_while_rendering, reap_children),
		cmocka_unit_test_teardown(test_job_bad_inputs, reap_children),
		cmocka_unit_test(test_job_status_words),
	};

	return cmocka_run_group_tests(tests, test_job_group_setup, test_job_group_teardown);
}
