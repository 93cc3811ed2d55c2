#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/util.h"
#include "master/quota.h"

struct test_quota {
	char dir[64];
	struct event_base *base;
	int fired;
	char reason[512];
};

static void
test_quota_write(const char *dir, const char *name, size_t n)
{
	char path[256], *buf = calloc(1, n);
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(buf);
}

static int
test_quota_setup(void **state)
{
	struct test_quota *t = calloc(1, sizeof *t);

	snprintf(t->dir, sizeof t->dir, "/tmp/vr-quota-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->base = event_base_new();
	*state = t;
	return 0;
}

static int
test_quota_teardown(void **state)
{
	struct test_quota *t = *state;

	util_rm_rf(t->dir);
	event_base_free(t->base);
	free(t);
	return 0;
}

/* What is on disk at start-up counts, in file bytes, subdirectories included. */
static void
test_quota_measures_at_open(void **state)
{
	struct test_quota *t = *state;
	char sub[128];
	struct quota *q;

	test_quota_write(t->dir, "a", 1000);
	snprintf(sub, sizeof sub, "%s/jobs", t->dir);
	mkdir(sub, 0755);
	test_quota_write(sub, "b", 2345);
	q = quota_open(t->dir, 0);
	assert_int_equal(quota_used(q), 3345);
	assert_int_equal(quota_limit(q), 0);
	/* no quota: anything fits, and is still counted */
	assert_int_equal(quota_reserve(q, (int64_t)1 << 50, "x", NULL, 0), 0);
	quota_settle(q, (int64_t)1 << 50, 0);
	assert_int_equal(quota_used(q), 3345);
	/* removing a tree takes off what it held */
	assert_int_equal(quota_rm_rf(q, sub), 0);
	assert_int_equal(quota_used(q), 1000);
	/* a file that grows by itself (the job store's WAL) is measured when asked */
	snprintf(sub, sizeof sub, "%s/a", t->dir);
	assert_int_equal(quota_track(q, sub), 0);
	assert_int_equal(quota_used(q), 1000);
	test_quota_write(t->dir, "a", 5000);
	assert_int_equal(quota_used(q), 5000);
	quota_free(q);
}

/* Reservations count until settled; what does not fit is refused with the numbers. */
static void
test_quota_reserve(void **state)
{
	struct test_quota *t = *state;
	struct quota *q = quota_open(t->dir, 10 * 1024 * 1024);
	char err[256];

	assert_int_equal(quota_reserve(q, 6 * 1024 * 1024, "an upload of 6 MiB", err, sizeof err), 0);
	assert_int_equal(quota_used(q), 6 * 1024 * 1024);
	assert_int_equal(quota_room(q, 4 * 1024 * 1024, "x", err, sizeof err), 0);
	assert_int_equal(quota_reserve(q, 5 * 1024 * 1024, "an upload of 5 MiB", err, sizeof err), -1);
	assert_string_equal(err, "an upload of 5 MiB would exceed the disk quota of 10 MiB "
	    "(--max-disk-mb): 6.0 MiB are in use");
	/* the first one wrote 1 MiB and ended: the rest of its reservation is free again */
	quota_settle(q, 6 * 1024 * 1024, 1024 * 1024);
	assert_int_equal(quota_used(q), 1024 * 1024);
	assert_int_equal(quota_reserve(q, 5 * 1024 * 1024, "an upload of 5 MiB", err, sizeof err), 0);
	quota_free(q);
}

static void
test_quota_over_cb(const char *reason, void *arg)
{
	struct test_quota *t = arg;

	t->fired++;
	snprintf(t->reason, sizeof t->reason, "%s", reason);
	event_base_loopbreak(t->base);
}

/* A watched directory that grows past the quota calls back once, within a tick or two;
 * unwatching keeps its final size in the count. */
static void
test_quota_watch(void **state)
{
	struct test_quota *t = *state;
	struct timeval limit = { 3, 0 };
	struct quota *q;
	char job[128];

	test_quota_write(t->dir, "db", 10000);
	snprintf(job, sizeof job, "%s/job", t->dir);
	mkdir(job, 0755);
	test_quota_write(job, "input", 20000);
	q = quota_open(t->dir, 100000);
	assert_int_equal(quota_used(q), 30000);
	assert_int_equal(quota_watch(q, t->base, job, test_quota_over_cb, t), 0);
	test_quota_write(job, "segment", 50000);
	event_base_loopexit(t->base, &(struct timeval){ 0, 600000 });
	event_base_dispatch(t->base);
	assert_int_equal(t->fired, 0);          /* 80000: within */
	assert_int_equal(quota_used(q), 80000);

	test_quota_write(job, "output", 40000);
	event_base_loopexit(t->base, &limit);
	event_base_dispatch(t->base);
	assert_int_equal(t->fired, 1);
	assert_non_null(strstr(t->reason, "disk quota of 0.0953674 MiB (--max-disk-mb)"));
	event_base_loopexit(t->base, &(struct timeval){ 0, 600000 });
	event_base_dispatch(t->base);
	assert_int_equal(t->fired, 1);          /* once */

	/* the job's work goes; its input and output stay */
	snprintf(job, sizeof job, "%s/job/segment", t->dir);
	unlink(job);
	quota_unwatch(q);
	assert_int_equal(quota_used(q), 70000);
	quota_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quota_measures_at_open, test_quota_setup, test_quota_teardown),
		cmocka_unit_test_setup_teardown(test_quota_reserve, test_quota_setup, test_quota_teardown),
		cmocka_unit_test_setup_teardown(test_quota_watch, test_quota_setup, test_quota_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
