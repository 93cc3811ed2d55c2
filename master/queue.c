/*
 * `master serve`'s queue and the job rendering now: jobs wait in the queue, oldest first, and
 * one at a time becomes a struct job; its progress and its end are stored in its record.
 * The event streams hear of a change through s->changed_cb, so this file does not depend on
 * them (master/sse.c reads the status from here).
 */
#include "master/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "master/format.h"
#include "master/job.h"
#include "master/quota.h"
#include "master/server.h"
#include "master/store.h"

#define QUEUE_PUSH_EVERY   0.2     /* seconds: progress pushes are coalesced to this rate */

static void queue_next(struct server *s);

void
queue_job_dir(const struct server *s, const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", s->jobs_dir, id);
}

int
queue_add(struct server *s, const char *id, char *err, size_t errlen)
{
	char (*q)[40];
	int i;

	for (i = 0; i < s->qlen; i++)
		if (strcmp(s->queue[i], id) == 0)
			return 0;
	if (s->qlen == s->qcap) {
		q = realloc(s->queue, (size_t)(s->qcap ? s->qcap * 2 : 16) * sizeof *q);
		if (q == NULL)
			return util_err(err, errlen, "out of memory");
		s->queue = q;
		s->qcap = s->qcap ? s->qcap * 2 : 16;
	}
	snprintf(s->queue[s->qlen++], sizeof s->queue[0], "%s", id);
	queue_next(s);
	return 0;
}

static void
queue_take(struct server *s, const char *id)
{
	int i;

	for (i = 0; i < s->qlen; i++) {
		if (strcmp(s->queue[i], id) == 0) {
			memmove(&s->queue[i], &s->queue[i + 1], (size_t)(s->qlen - i - 1) * sizeof s->queue[0]);
			s->qlen--;
			return;
		}
	}
}

void
queue_store(struct server *s, json_t *rec)
{
	char err[512];

	json_object_set_new(rec, "updated", json_real(util_wall()));
	if (store_put(s->store, rec, err, sizeof err) == -1)
		log_error("%s", err);
}

static void
queue_progress_cb(struct job *j, void *arg)
{
	struct server *s = arg;
	struct timeval tv = { 0, (suseconds_t)(QUEUE_PUSH_EVERY * 1e6) };

	if ((int)job_phase(j) != s->job_phase) {
		/* phase changes are stored, so a restart knows where the job was */
		s->job_phase = (int)job_phase(j);
		json_object_set_new(s->job_rec, "phase", json_string(job_phase_name(job_phase(j))));
		queue_store(s, s->job_rec);
	}
	if (!evtimer_pending(s->ev_push, NULL))
		evtimer_add(s->ev_push, &tv);
}

static void
queue_job_free_cb(evutil_socket_t fd, short what, void *arg)
{
	job_free(arg);
}

/* A job's error as a client may see it: the server's paths (the data directory) left out. */
static void
queue_hide_paths(struct server *s, json_t *rec)
{
	const char *e = json_string_value(json_object_get(rec, "error"));
	char dir[4200], out[2048], *hit;
	size_t n, k = 0;

	if (e == NULL)
		return;
	snprintf(dir, sizeof dir, "%s/%s/", s->jobs_dir, s->job_id);
	n = strlen(dir);
	while ((hit = strstr(e, dir)) != NULL && k < sizeof out - 1) {
		k += (size_t)snprintf(out + k, sizeof out - k, "%.*s", (int)(hit - e), e);
		e = hit + n;
	}
	if (k == 0)
		return;
	if (k < sizeof out - 1)
		snprintf(out + k, sizeof out - k, "%s", e);
	json_object_set_new(rec, "error", json_string(out));
}

static void
queue_done_cb(struct job *j, void *arg)
{
	struct server *s = arg;
	struct timeval now = { 0, 0 };
	char id[40], dir[4096], hls[4200];
	json_t *rep;

	quota_unwatch(s->quota);
	if (job_phase(j) == JOB_FAILED) {
		/* a failed job keeps only its input: its stream goes with its other partial files */
		queue_job_dir(s, s->job_id, dir, sizeof dir);
		snprintf(hls, sizeof hls, "%s/hls", dir);
		quota_rm_rf(s->quota, hls);
	}
	rep = job_report(j);
	json_object_del(rep, "output_path");
	json_object_update(s->job_rec, rep);
	json_decref(rep);
	queue_hide_paths(s, s->job_rec);
	if (s->stopping && job_phase(j) == JOB_FAILED) {
		/* interrupted by shutdown, not failed: it runs again after a restart */
		json_object_set_new(s->job_rec, "status",
		    json_string(job_status_name(JOB_STATUS_QUEUED)));
		json_object_set_new(s->job_rec, "error", json_null());
	}
	queue_store(s, s->job_rec);
	if (job_phase(j) == JOB_FAILED)
		log_warn("job %s failed: %s", s->job_id, job_error(j));
	else
		log_info("job %s %s", s->job_id, json_string_value(json_object_get(s->job_rec, "status")));
	snprintf(id, sizeof id, "%s", s->job_id);
	json_decref(s->job_rec);
	s->job_rec = NULL;
	s->job_id[0] = '\0';
	/* freed from a fresh turn of the loop: we are inside the job's own callback here */
	event_base_once(s->base, -1, EV_TIMEOUT, queue_job_free_cb, j, &now);
	s->job = NULL;
	/* the streams now read the stored, final record, and end */
	s->changed_cb(s, id);
	if (!s->stopping)
		queue_next(s);
}

/* The running job's files pushed the data directory over --max-disk-mb. */
static void
queue_quota_cb(const char *reason, void *arg)
{
	struct server *s = arg;

	if (s->job != NULL)
		job_abort(s->job, reason);
}

static void
queue_next(struct server *s)
{
	char err[1024], id[40], dir[4096], in[4200], out[4200], work[4200], hls[4200], what[128];
	struct job_opts jo;
	json_t *rec;
	int fmt_ok;

	while (s->job == NULL && s->qlen > 0 && !s->stopping) {
		snprintf(id, sizeof id, "%s", s->queue[0]);
		queue_take(s, id);
		rec = store_get(s->store, id, err, sizeof err);
		if (rec == NULL)
			continue;  /* removed while it waited */
		queue_job_dir(s, id, dir, sizeof dir);
		snprintf(in, sizeof in, "%s/input", dir);
		snprintf(out, sizeof out, "%s/output.mp4", dir);
		snprintf(work, sizeof work, "%s/work", dir);
		quota_rm_rf(s->quota, work);
		/* a job run again (after a restart) streams from its start again */
		snprintf(hls, sizeof hls, "%s/hls", dir);
		quota_rm_rf(s->quota, hls);
		memset(&jo, 0, sizeof jo);
		jo.input = in;
		jo.output = out;
		jo.workdir = work;
		jo.hls_dir = hls;
		jo.filter = json_string_value(json_object_get(rec, "filter_type"));
		jo.preset = s->o.preset;
		jo.crf = s->o.crf;
		/* the output's format as /process checked it (a record from before it: MP4, H.264) */
		fmt_ok = format_from_json(&jo.format, json_object_get(rec, "output_format"), s->o.crf,
		    err, sizeof err) == 0;
		jo.workers = (int)json_integer_value(json_object_get(rec, "workers"));
		jo.remote = s->o.slurm.launchers;
		jo.nremote = s->o.slurm.nlaunchers;
		jo.task_timeout = s->o.task_timeout;
		jo.segment_seconds = json_number_value(json_object_get(rec, "segment_seconds"));
		jo.baseline = json_is_true(json_object_get(rec, "baseline"));
		jo.limits = s->o.limits;
		if (jo.filter == NULL || jo.workers + jo.nremote < 1 || jo.segment_seconds <= 0 || !fmt_ok) {
			json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_FAILED)));
			json_object_set_new(rec, "error", json_string("the job record is incomplete"));
			queue_store(s, rec);
			json_decref(rec);
			continue;
		}
		/* its segments are a copy of the input: if they cannot fit, do not start */
		snprintf(what, sizeof what, "the segments of this job (about %.1f MiB)",
		    (double)util_file_size(in) / (1024 * 1024));
		if (quota_room(s->quota, util_file_size(in), what, err, sizeof err) == 0) {
			snprintf(err, sizeof err, "out of memory");
			s->job = job_new(s->base, &jo, queue_progress_cb, queue_done_cb, s);
		}
		if (s->job == NULL || job_start(s->job, err, sizeof err) == -1) {
			job_free(s->job);
			s->job = NULL;
			json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_FAILED)));
			json_object_set_new(rec, "error", json_string(err));
			queue_store(s, rec);
			json_decref(rec);
			continue;
		}
		snprintf(s->job_id, sizeof s->job_id, "%s", id);
		s->job_rec = rec;
		if (quota_watch(s->quota, s->base, dir, queue_quota_cb, s) == -1)
			log_warn("job %s: cannot watch its disk use", id);
		s->job_phase = -1;
		json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_PROCESSING)));
		json_object_set_new(rec, "error", json_null());
		json_object_set_new(rec, "started", json_real(util_wall()));
		queue_store(s, rec);
		log_info("job %s: %s with %d workers", id, jo.filter, jo.workers);
	}
}

json_t *
queue_status(struct server *s, const char *id, char *err, size_t errlen)
{
	json_t *rec, *rep;
	int i;

	if (s->job != NULL && strcmp(id, s->job_id) == 0) {
		rec = json_deep_copy(s->job_rec);
		rep = job_report(s->job);
		json_object_del(rep, "output_path");
		json_object_update(rec, rep);
		json_decref(rep);
		/* the job object says "processing" from its first step; the record's word wins */
		json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_PROCESSING)));
		return rec;
	}
	rec = store_get(s->store, id, err, errlen);
	if (rec == NULL)
		return NULL;
	if (job_status_of(json_string_value(json_object_get(rec, "status"))) == JOB_STATUS_QUEUED) {
		for (i = 0; i < s->qlen && strcmp(s->queue[i], id) != 0; i++)
			;
		json_object_set_new(rec, "queue_position", json_integer(i + 1));
	}
	return rec;
}

int
queue_remove(struct server *s, const char *id, char *err, size_t errlen)
{
	char dir[4096];
	int rc;

	if (s->job != NULL && strcmp(id, s->job_id) == 0) {
		job_cancel(s->job);   /* its done callback runs now and stores it */
	}
	queue_take(s, id);
	rc = store_delete(s->store, id, err, errlen);
	if (rc != 1)
		return rc;
	queue_job_dir(s, id, dir, sizeof dir);
	if (quota_rm_rf(s->quota, dir) == -1 && errno != ENOENT)
		log_warn("cannot remove all of %s: %s", dir, strerror(errno));
	/* its streams hear "gone" and end, whatever phase it was in */
	s->changed_cb(s, id);
	return 1;
}
