#ifndef MASTER_JOB_H
#define MASTER_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "master/format.h"
#include "master/limits.h"

struct event_base;
struct job;
struct probe;

/*
 * One video through the whole pipeline, as a state machine in the event loop:
 * probe -> cut -> sequential baseline (a pool of 1) -> parallel (a pool of N) -> join.
 * Every step is a child process or a pool map, so the loop never blocks.
 */
struct job_opts {
	const char *input;
	const char *output;        /* the result; written as OUTPUT.part then renamed */
	const char *workdir;       /* scratch space, created if missing */
	const char *filter;        /* a valid filter chain spec */
	const char *preset;        /* x264 preset */
	int crf;                   /* used when format is left empty (then MP4, H.264) */
	struct format format;      /* container, codec, audio (format_resolve) */
	int workers;               /* local worker processes (0: remote ones only) */
	char *const *remote;       /* launcher commands of remote workers (master/remote.h); must
	                            * outlive the job */
	int nremote;
	double task_timeout;       /* seconds without progress before a worker is replaced; 0: 300 */
	double segment_seconds;
	int baseline;              /* also run the sequential baseline */
	int keep_workdir;
	const char *hls_dir;       /* NULL, or where the result is also written as HLS while it
	                            * renders (master/hls.h); the playlist stays after the job */
	struct limits limits;      /* refused after probing when over (0: none) */
	/* Optional: called when the probe has ended, before its result is read; -1 fails the job
	 * with err. The command line answers its ffmpeg version check there, so the check and the
	 * probe run at the same time, and a too-old ffprobe is named as such, not as a bad input. */
	int (*check)(void *arg, char *err, size_t errlen);
	void *check_arg;
};

enum job_phase {
	JOB_PROBING, JOB_SPLITTING, JOB_SEQUENTIAL, JOB_PARALLEL, JOB_MERGING, JOB_DONE, JOB_FAILED
};

/* A job as its record and the API tell it ("status"): the phases above, as a user waits on them,
 * and the queue before them. */
enum job_status {
	JOB_STATUS_UNKNOWN = -1, JOB_STATUS_UPLOADED, JOB_STATUS_QUEUED, JOB_STATUS_PROCESSING,
	JOB_STATUS_COMPLETED, JOB_STATUS_FAILED
};

typedef void (*job_cb)(struct job *j, void *arg);

/* progress: called as work advances (often; throttle what you do with it). done: once. */
struct job *job_new(struct event_base *base, const struct job_opts *o, job_cb progress,
    job_cb done, void *arg);
int job_start(struct job *j, char *err, size_t errlen);
/* Stops every child; the done callback runs with the job failed ("cancelled"). */
void job_cancel(struct job *j);
/* The same, with reason as the job's error. */
void job_abort(struct job *j, const char *reason);
void job_free(struct job *j);

enum job_phase job_phase(const struct job *j);
const char *job_phase_name(enum job_phase ph);
/* "uploaded", "queued", "processing", "completed", "failed": the words of the API's JSON and
 * the store. */
const char *job_status_name(enum job_status st);
/* The status a record's word names; JOB_STATUS_UNKNOWN for NULL or another word. */
enum job_status job_status_of(const char *name);
const char *job_error(const struct job *j);
const struct probe *job_probe(const struct job *j);
/* Frames rendered so far in the current map (sequential or parallel), for a progress display. */
int64_t job_frames_done(const struct job *j);
/* Everything about the job so far: times, counts, progress, timeline (new reference). */
json_t *job_report(const struct job *j);

/*
 * Stopping: a finished or cancelled job's children are still on their way out (a released
 * pool waits for its workers, a cancelled probe, cut or join for the loop to reap it).
 * job_drain_event is a persistent 20 ms check that breaks base's loop once none is left, so a
 * program exits as soon as its children have, and not before (event_free it; NULL when out
 * of memory). Bound the wait with event_base_loopexit.
 */
int job_children_live(void);
struct event *job_drain_event(struct event_base *base);

#endif
