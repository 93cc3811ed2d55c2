#include "master/quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"

#define QUOTA_WATCH_EVERY 0.25    /* seconds: the most a job can overshoot by is what it writes in this */
#define QUOTA_MIB         (1024.0 * 1024.0)
#define QUOTA_LIVE_MAX    4

struct quota {
	int64_t limit;               /* 0: none */
	int64_t counted;             /* bytes of files in the data directory, as far as we know */
	int64_t reserved;            /* promised to writers that have not finished */
	/* files that grow on their own (the job store and its WAL): measured when asked */
	char live[QUOTA_LIVE_MAX][4096];
	int nlive;
	/* the directory being watched */
	struct event *ev;
	char dir[4096];
	int64_t dir_bytes;           /* its size at the last measure, part of counted */
	quota_over_cb over;
	void *arg;
	int fired;
};

struct quota *
quota_open(const char *dir, int64_t limit)
{
	struct quota *q = calloc(1, sizeof *q);

	if (q == NULL)
		return NULL;
	q->limit = limit;
	q->counted = util_tree_size(dir);
	return q;
}

void
quota_free(struct quota *q)
{
	if (q == NULL)
		return;
	if (q->ev != NULL)
		event_free(q->ev);
	free(q);
}

int64_t
quota_used(const struct quota *q)
{
	int64_t n = q->counted + q->reserved;
	int i;

	for (i = 0; i < q->nlive; i++)
		n += util_tree_size(q->live[i]);
	return n;
}

int
quota_track(struct quota *q, const char *path)
{
	if (q->nlive == QUOTA_LIVE_MAX)
		return -1;
	snprintf(q->live[q->nlive++], sizeof q->live[0], "%s", path);
	/* counted by the walk at open; from now on measured live instead */
	q->counted -= util_tree_size(path);
	return 0;
}

int64_t
quota_limit(const struct quota *q)
{
	return q->limit;
}

/* "over the disk quota of 10 MiB (--max-disk-mb): 9.5 MiB in use" */
static void
quota_explain(const struct quota *q, const char *what, char *err, size_t errlen)
{
	util_err(err, errlen, "%s would exceed the disk quota of %g MiB (--max-disk-mb): "
	    "%.1f MiB are in use", what, (double)q->limit / QUOTA_MIB, (double)quota_used(q) / QUOTA_MIB);
}

int
quota_room(const struct quota *q, int64_t n, const char *what, char *err, size_t errlen)
{
	if (q->limit > 0 && quota_used(q) + n > q->limit) {
		quota_explain(q, what, err, errlen);
		return -1;
	}
	return 0;
}

int
quota_reserve(struct quota *q, int64_t n, const char *what, char *err, size_t errlen)
{
	if (quota_room(q, n, what, err, errlen) == -1)
		return -1;
	q->reserved += n;
	return 0;
}

void
quota_settle(struct quota *q, int64_t n, int64_t kept)
{
	q->reserved -= n;
	q->counted += kept;
}

int
quota_rm_rf(struct quota *q, const char *path)
{
	int64_t before = util_tree_size(path);
	int rc = util_rm_rf(path);

	/* what could not be removed still counts */
	q->counted -= before - (rc == 0 ? 0 : util_tree_size(path));
	return rc;
}

static void
quota_measure(struct quota *q)
{
	int64_t now = util_tree_size(q->dir);
	char reason[512];

	q->counted += now - q->dir_bytes;
	q->dir_bytes = now;
	if (q->limit > 0 && quota_used(q) > q->limit && !q->fired && q->over != NULL) {
		q->fired = 1;
		snprintf(reason, sizeof reason, "stopped: the job's files pushed the data directory over "
		    "its disk quota of %g MiB (--max-disk-mb)", (double)q->limit / QUOTA_MIB);
		log_warn("%s (%.1f MiB in use)", reason, (double)quota_used(q) / QUOTA_MIB);
		q->over(reason, q->arg);
	}
}

static void
quota_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	quota_measure(arg);
}

int
quota_watch(struct quota *q, struct event_base *base, const char *dir, quota_over_cb over, void *arg)
{
	struct timeval every = { 0, (suseconds_t)(QUOTA_WATCH_EVERY * 1e6) };

	quota_unwatch(q);
	if (q->ev == NULL && (q->ev = event_new(base, -1, EV_PERSIST, quota_tick_cb, q)) == NULL)
		return -1;
	snprintf(q->dir, sizeof q->dir, "%s", dir);
	q->dir_bytes = util_tree_size(dir);
	q->over = over;
	q->arg = arg;
	q->fired = 0;
	return event_add(q->ev, &every);
}

void
quota_unwatch(struct quota *q)
{
	if (q->dir[0] == '\0')
		return;
	event_del(q->ev);
	q->over = NULL;
	quota_measure(q);
	q->dir[0] = '\0';
}
