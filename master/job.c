#include "master/job.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/argv.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "master/audio.h"
#include "master/hls.h"
#include "master/join.h"
#include "master/pool.h"
#include "master/probe.h"
#include "master/proc.h"
#include "master/seg.h"

#define JOB_PROBE_MAX_OUT (8 << 20)  /* ffprobe's JSON; a hostile file with many streams stops here */

/*
 * Why cut early: the probe and the cut each start an ffmpeg program (about 0.1 s of loading
 * before any work) and ran one after the other before any worker could start; a short clip
 * is cut in about the time it is probed. So the cut starts beside the probe, in the form a
 * frame-exact render needs (the input's times, files of JOB_EARLY_UNIT seconds, split on
 * keyframes), and once the probe says the render is frame-exact (job_exact) it is the job's
 * cut; otherwise it is stopped and the job cuts as before, into "segments.2" (the stopped one
 * may still be writing into "segments" until it is reaped). Only for inputs up to
 * JOB_EARLY_MAX_BYTES whose name is not that of a format without times: a cut the probe turns
 * down wastes little, and on a long file a tenth of a second does not matter.
 */
#define JOB_EARLY_MAX_BYTES (256LL << 20)
#define JOB_EARLY_UNIT 0.25

struct job {
	struct event_base *base;
	struct job_opts o;
	job_cb progress, done;
	void *arg;

	enum job_phase phase;
	char error[1024];
	struct probe probe;
	struct format_plan plan;     /* how each stream goes out (after the probe) */
	struct proc *proc;           /* the child running now (probe, cut, join) */
	struct proc *early;          /* the cut started beside the probe, until it is the job's or
	                              * stopped (then proc, or NULL) */
	int early_ended;             /* it ended before the probe did: with early_status and tail */
	int early_status;
	char early_tail[512];
	const char *segdir;          /* where the cut writes, in the working directory */
	int grouped;                 /* pieces that end on keyframes are runs of the early cut's
	                              * files (a variable rate, an AVI that drops frames), seg_group */
	struct pool *pool;           /* the pool running now */

	struct seg_list units;       /* the files the cutter has listed so far */
	struct seg *segs;            /* the pieces rendered: runs of units and frame ranges */
	int nseg, nplanned;          /* pieces, and how many are planned (their files listed) */
	struct event *watch;         /* looks at the cutter's list while it runs */
	int64_t *seg_frames;         /* frames done per segment in the current phase */
	unsigned char *seg_ok;       /* segments rendered in the current phase */
	int segs_done;
	int64_t frames_done;

	double t0, t_phase;
	double split_time, seq_time, par_time, merge_time, total_time;
	double join_start;           /* when the joining ffmpeg started (seconds from t0) */
	int64_t frames_out;
	int64_t frames_decoded;      /* what the workers decoded of the input, summed (-1 unknown) */
	double filter_time, decode_cpu, encode_cpu, worker_cpu;
	json_int_t worker_max_rss_kb;   /* the largest of the workers' peaks */
	json_int_t worker_copied;       /* frame bytes the workers read (the rest spliced past) */
	int identical;               /* -1 unknown, 0 no, 1 yes */
	int workers_used;
	json_t *timeline;            /* [{worker, segment, phase, start, end}] */
	json_t *retries;             /* [{segment, worker, error}] */
	int *order;                  /* task index -> segment number (longest first) */
	int *open_entry;             /* per worker slot: index of its open timeline entry */
	int open_cap;
	struct hls *hls;             /* the HLS stream, with opts.hls_dir */
	char hls_error[512];         /* why the stream stopped growing (the job goes on) */
	int joined;                  /* the MP4 is done; the stream's last pieces are not */
	struct proc *audio;          /* the audio encoded beside the render (audio.c), until it ends */
	int audio_state;             /* 0 not started, 1 running, 2 written, -1 none (the join encodes) */
	double audio_start, audio_time;   /* when it started (from t0), how long it took */
	struct proc *join_early;     /* the join started before the last piece ended, waiting for
	                              * its list (join_fd), until job_join_run adopts it as proc */
	int join_fd;                 /* the write end of its stdin, closed when the list is written */
	int join_tried;              /* started once at most */
	int join_early_audio;        /* it was given the audio encoded beside the render */
	double join_spawn;           /* when it was started (seconds from t0), or 0 */
	long ncpu;                   /* CPUs online: more than local workers leaves one free */
};

static void job_cut(struct job *j);
static void job_early_start(struct job *j);
static void job_keys(struct job *j);
static void job_watch_stop(struct job *j);
static void job_map(struct job *j, enum job_phase ph);
static void job_join(struct job *j);
static void job_join_run(struct job *j);
static void job_join_early(struct job *j);
static void job_join_early_stop(struct job *j);
static void job_audio_start(struct job *j);
static int64_t job_seg_frames(const struct job *j, int s);
static int job_timed(const struct job *j);
static json_t *job_task(const struct job *j, int s, const char *dir);
static int job_plan(struct job *j, int complete);
static const char *job_phase_dir(enum job_phase ph);

const char *
job_phase_name(enum job_phase ph)
{
	static const char *names[] = { "probing", "splitting", "sequential", "parallel",
	    "merging", "done", "failed" };

	return ph <= JOB_FAILED ? names[ph] : "?";
}

static const char *job_status_names[] = { "uploaded", "queued", "processing", "completed", "failed" };

const char *
job_status_name(enum job_status st)
{
	return st >= JOB_STATUS_UPLOADED && st <= JOB_STATUS_FAILED ? job_status_names[st] : "unknown";
}

enum job_status
job_status_of(const char *name)
{
	int st;

	for (st = JOB_STATUS_UPLOADED; name != NULL && st <= JOB_STATUS_FAILED; st++)
		if (strcmp(job_status_names[st], name) == 0)
			return st;
	return JOB_STATUS_UNKNOWN;
}

enum job_phase
job_phase(const struct job *j)
{
	return j->phase;
}

const char *
job_error(const struct job *j)
{
	return j->error;
}

const struct probe *
job_probe(const struct job *j)
{
	return &j->probe;
}

int64_t
job_frames_done(const struct job *j)
{
	return j->frames_done;
}

struct job *
job_new(struct event_base *base, const struct job_opts *o, job_cb progress, job_cb done, void *arg)
{
	struct job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->base = base;
	j->o = *o;
	j->frames_decoded = -1;
	j->join_fd = -1;
	j->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	j->o.input = strdup(o->input);
	j->o.output = strdup(o->output);
	j->o.workdir = strdup(o->workdir);
	j->o.filter = strdup(o->filter);
	j->o.preset = strdup(o->preset ? o->preset : "veryfast");
	j->o.hls_dir = o->hls_dir ? strdup(o->hls_dir) : NULL;
	if (j->o.format.container[0] == '\0' &&
	    format_resolve(&j->o.format, NULL, NULL, NULL, NULL, o->crf, 0, NULL, 0) == -1) {
		job_free(j);
		return NULL;
	}
	j->progress = progress;
	j->done = done;
	j->arg = arg;
	j->identical = -1;
	j->timeline = json_array();
	j->retries = json_array();
	j->segdir = "segments";
	if (j->o.input == NULL || j->o.output == NULL || j->o.workdir == NULL ||
	    j->o.filter == NULL || j->o.preset == NULL || j->timeline == NULL || j->retries == NULL ||
	    (o->hls_dir != NULL && j->o.hls_dir == NULL)) {
		job_free(j);
		return NULL;
	}
	return j;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->proc != NULL)
		proc_cancel(j->proc);
	if (j->early != NULL)
		proc_cancel(j->early);
	if (j->audio != NULL)
		proc_cancel(j->audio);
	job_join_early_stop(j);
	job_watch_stop(j);
	if (j->pool != NULL) {
		pool_terminate(j->pool);
		pool_release(j->pool);
	}
	free((char *)j->o.input);
	free((char *)j->o.output);
	free((char *)j->o.workdir);
	free((char *)j->o.filter);
	free((char *)j->o.preset);
	free((char *)j->o.hls_dir);
	hls_free(j->hls);
	format_plan_free(&j->plan);
	free(j->units.v);
	free(j->segs);
	free(j->seg_frames);
	free(j->seg_ok);
	free(j->open_entry);
	free(j->order);
	json_decref(j->timeline);
	json_decref(j->retries);
	free(j);
}

static void
job_notify(struct job *j)
{
	if (j->progress != NULL)
		j->progress(j, j->arg);
}

static void
job_finish(struct job *j, const char *error)
{
	char path[4096];

	j->total_time = util_now() - j->t0;
	job_watch_stop(j);
	if (j->early != NULL) {
		/* the probe refused the file, or the job was stopped, before the cut was needed */
		proc_cancel(j->early);
		j->early = NULL;
	}
	if (j->audio != NULL) {
		proc_cancel(j->audio);
		j->audio = NULL;
	}
	job_join_early_stop(j);
	if (error != NULL) {
		snprintf(j->error, sizeof j->error, "%s", error);
		j->phase = JOB_FAILED;
		snprintf(path, sizeof path, "%s.part", j->o.output);
		unlink(path);
		log_debug("job failed: %s", j->error);
		/* the stream stays as far as it got, without an end */
		hls_free(j->hls);
		j->hls = NULL;
	} else {
		j->phase = JOB_DONE;
	}
	if (!j->o.keep_workdir)
		util_rm_rf(j->o.workdir);
	if (j->pool != NULL) {
		pool_release(j->pool);
		j->pool = NULL;
	}
	j->done(j, j->arg);
}

static void
job_fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
job_fail(struct job *j, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	job_finish(j, msg);
}

void
job_cancel(struct job *j)
{
	job_abort(j, "cancelled");
}

void
job_abort(struct job *j, const char *reason)
{
	if (j->phase == JOB_DONE || j->phase == JOB_FAILED)
		return;
	if (j->proc != NULL) {
		proc_cancel(j->proc);
		j->proc = NULL;
	}
	if (j->pool != NULL) {
		/* terminate fails the running map; its callback sees the job is over */
		j->phase = JOB_FAILED;
		pool_terminate(j->pool);
	}
	job_finish(j, reason);
}

/* ---- stopping ---- */

int
job_children_live(void)
{
	return pool_live() + proc_live();
}

static void
job_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	if (job_children_live() == 0)
		event_base_loopbreak(arg);
}

struct event *
job_drain_event(struct event_base *base)
{
	struct timeval tick = { 0, 20000 };
	struct event *ev = event_new(base, -1, EV_PERSIST, job_drain_cb, base);

	if (ev != NULL)
		event_add(ev, &tick);
	return ev;
}

/* ---- probe ---- */

/* What the output will not keep as it was is said before the work, not found out after. */
static void
job_log_plan(const struct job *j)
{
	json_t *v;
	size_t i;

	json_array_foreach(j->plan.dropped, i, v)
		log_warn("dropped: %s", json_string_value(v));
	json_array_foreach(j->plan.converted, i, v)
		log_info("converted: %s", json_string_value(v));
}

static void
job_probe_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;
	struct limits_excess x;
	char err[512];

	j->proc = NULL;
	if (j->o.check != NULL && j->o.check(j->o.check_arg, err, sizeof err) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (status != 0) {
		job_fail(j, "%s is not a video ffmpeg can read: %s", j->o.input,
		    errtail[0] ? errtail : "ffprobe failed");
		return;
	}
	if (probe_parse(out, outlen, errtail, util_file_size(j->o.input), &j->probe, err, sizeof err) == -1) {
		job_fail(j, "%s: %s", j->o.input, err);
		return;
	}
	if (limits_check(&j->o.limits, &j->probe, &x) == -1) {
		job_fail(j, "%s: %s", j->o.input, x.reason);
		return;
	}
	if (format_plan(&j->o.format, &j->probe, &j->plan, err, sizeof err) == -1) {
		job_fail(j, "%s: %s", j->o.input, err);
		return;
	}
	job_log_plan(j);
	log_info("%s: %dx%d%s, %.3f fps%s, %.2f s, %lld frames, %s%s%s", j->o.input,
	    j->probe.width, j->probe.height, j->probe.rotation ? " (rotated)" : "", j->probe.fps,
	    j->probe.cfr ? "" : " (variable)", j->probe.duration, (long long)j->probe.frames,
	    j->probe.codec, j->probe.naudio ? " + " : "", j->probe.naudio ? j->probe.audio_codec[0] : "");
	if (j->probe.dropped)
		log_warn("%s: its index lists %lld frames, %lld can be read (frames dropped in the file, or "
		    "a cut-off end); each frame keeps its time", j->o.input, (long long)j->probe.index,
		    (long long)j->probe.frames);
	else if (j->probe.truncated)
		log_warn("%s is truncated: it declares %.1f s but holds %.2f s of video; rendering what is there",
		    j->o.input, j->probe.declared, j->probe.duration);
	if (probe_may_start_mid_gop(&j->probe))
		job_keys(j);
	else
		job_cut(j);
}

static void
job_keys_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;

	j->proc = NULL;
	/* without the list the sound is joined where the file's first packet was: still a render */
	if (status == 0)
		probe_first_key(out, &j->probe);
	job_cut(j);
}

/* Looks up the first keyframe of a capture that may start mid-GOP, then cuts. */
static void
job_keys(struct job *j)
{
	char *argv[24], url[4200], err[512];

	probe_keys_argv(j->o.input, argv, url, sizeof url);
	j->proc = proc_start(j->base, argv, 1 << 20, job_keys_cb, j, err, sizeof err);
	if (j->proc == NULL)
		job_fail(j, "%s", err);
}

int
job_start(struct job *j, char *err, size_t errlen)
{
	char *argv[24], url[4200];

	j->t0 = j->t_phase = util_now();
	j->phase = JOB_PROBING;
	if (access(j->o.input, R_OK) == -1)
		return util_err(err, errlen, "cannot read %s: %s", j->o.input, strerror(errno));
	if (util_mkdir_p(j->o.workdir, err, errlen) == -1)
		return -1;
	probe_argv(j->o.input, argv, url, sizeof url);
	j->proc = proc_start(j->base, argv, JOB_PROBE_MAX_OUT, job_probe_cb, j, err, errlen);
	if (j->proc == NULL)
		return -1;
	job_early_start(j);
	return 0;
}

/* ---- the stream ---- */

static void
job_hls_cb(struct hls *h, enum hls_event ev, const char *error, void *arg)
{
	struct job *j = arg;

	if (j->phase == JOB_DONE || j->phase == JOB_FAILED)
		return;
	if (ev == HLS_FAILED) {
		/* the MP4 is the job's result; the stream is a view of it on the way */
		snprintf(j->hls_error, sizeof j->hls_error, "%s", error);
		if (!j->joined) {
			job_notify(j);
			return;
		}
	}
	if (ev != HLS_LISTED && j->joined) {
		job_finish(j, NULL);
		return;
	}
	job_notify(j);
}

/* The stream of the pieces, when asked for: opened before the first piece is handed out
 * (their times are set as they are planned, hls_plan). 0, or -1 with the job failed. */
static int
job_hls_open(struct job *j)
{
	char err[512];

	if (j->o.hls_dir == NULL)
		return 0;
	j->hls = hls_new(j->base, j->o.hls_dir, j->o.input, &j->probe, j->segs, j->nseg,
	    job_hls_cb, j, err, sizeof err);
	if (j->hls == NULL) {
		job_fail(j, "%s", err);
		return -1;
	}
	return 0;
}

/* ---- cut ---- */

/* The frames of a constant-rate input, as counted by the probe. */
static int64_t
job_frames(const struct job *j)
{
	return j->probe.frames > 0 ? j->probe.frames : llround(j->probe.duration * j->probe.fps);
}

/* The piece length: at most --segment-seconds, their count a multiple of the workers. */
static double
job_piece_length(const struct job *j)
{
	return seg_length(j->probe.duration, j->o.workers + j->o.nremote, j->o.segment_seconds);
}

static int
job_pieces(const struct job *j)
{
	double len = job_piece_length(j);
	int n = len > 0 ? (int)ceil(j->probe.duration / len - 1e-9) : 1;

	if (n > job_frames(j))
		n = (int)job_frames(j);
	return n < 1 ? 1 : n;
}

/* Where the video's first frame is in the cutter's list (it keeps the input's times). */
static double
job_origin(const struct job *j)
{
	return j->probe.video_start;
}

/*
 * Pieces end on any frame when the rate is constant and the container stores each frame's
 * time, so the list's times give the files' frame numbers. Raw streams have only invented
 * times (a B-frame delay off), and a variable rate is resampled file by file: their pieces are
 * whole files, cut on keyframes. AVI numbers its frames: the number is the frame's time when
 * there are no B-frames (with them it is not cut at all, probe.whole) and no frame is dropped
 * (probe.dropped: the frames after a drop would be numbered one further than they are
 * counted; job_timed).
 */
static int
job_exact(const struct job *j)
{
	static const char *untimed[] = { "h264", "hevc", "m4v", "mpegvideo", "mjpeg",
	    "yuv4mpegpipe", "gif", NULL };
	size_t n = strcspn(j->probe.format, ",");
	int k;

	if (!j->probe.cfr || j->probe.whole || j->probe.dropped)
		return 0;
	for (k = 0; untimed[k] != NULL; k++)
		if (strlen(untimed[k]) == n && strncmp(j->probe.format, untimed[k], n) == 0)
			return 0;
	return 1;
}

/* A variable rate keeps its frames' own times (the worker reads them from its piece); a file
 * without times (whole: AVI with B-frames, bare streams) is resampled to its average rate
 * instead. So does an AVI that drops frames: a dropped frame's time goes to the one before,
 * as players show it, and the sound stays in step (numbered one after another, every frame
 * after a drop would come early). */
static int
job_timed(const struct job *j)
{
	return (!j->probe.cfr || j->probe.dropped) && !j->probe.whole;
}

/* Where the cut writes: the working directory's j->segdir. */
static void
job_segdir(const struct job *j, char *dir, size_t n)
{
	snprintf(dir, n, "%s/%s", j->o.workdir, j->segdir);
}

/* DIR/list.csv, empty, made before a cut starts so the list is watched on the very inode the
 * cutter then writes (ffmpeg opens it with O_TRUNC, which keeps it). */
static int
job_list_create(const char *dir, int truncate, char *err, size_t errlen)
{
	char path[4200];
	int lf;

	snprintf(path, sizeof path, "%s/list.csv", dir);
	lf = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
	if (lf == -1 || close(lf) == -1)
		return util_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

/* Starts the cutter into dir (seg_cut_argv); NULL with err. */
static struct proc *
job_cut_start(struct job *j, const char *dir, double seconds, int times, proc_done_cb cb,
    char *err, size_t errlen)
{
	char words[4 * 4096];
	char *v[40];
	struct argv a;

	argv_init(&a, v, 40, words, sizeof words);
	seg_cut_argv(j->o.input, dir, seconds, times, &a);
	if (argv_end(&a, err, errlen) == -1)
		return NULL;
	return proc_start(j->base, v, 1 << 20, cb, j, err, errlen);
}

static void
job_watch_stop(struct job *j)
{
	if (j->watch == NULL)
		return;
	close(event_get_fd(j->watch));
	event_free(j->watch);
	j->watch = NULL;
}

/* Plans the pieces the listed files allow (all of them once the cut is complete) and hands
 * each to the running map at once. -1 (the job aborted) when out of memory. */
static int
job_plan(struct job *j, int complete)
{
	char err[512], dir[4096];
	int64_t start = 0;
	json_t *task;
	int s, r;

	for (s = 0; s < j->nplanned; s++)
		start += j->segs[s].count;
	while (j->nplanned < j->nseg) {
		/* while the cut runs, only as many as the workers can start: a piece planned later
		 * knows more of the keyframes and balances better */
		if (!complete && j->pool != NULL && j->nplanned >= j->segs_done + j->open_cap)
			break;
		r = seg_plan_next(j->units.v, j->units.n, complete, job_origin(j), job_frames(j), j->probe.fps, j->nseg,
		    j->nplanned, start, &j->segs[j->nplanned]);
		if (r == 0)
			break;
		if (r == -1) {
			job_abort(j, "out of memory");
			return -1;
		}
		s = j->nplanned++;
		if (j->hls != NULL)
			hls_plan(j->hls, s, (double)start / j->probe.fps, j->segs[s].count > 0 ?
			    (double)(start + j->segs[s].count) / j->probe.fps : (double)job_frames(j) / j->probe.fps);
		start += j->segs[s].count;
		if (j->pool == NULL)
			continue;
		snprintf(dir, sizeof dir, "%s/%s", j->o.workdir, job_phase_dir(j->phase));
		task = job_task(j, s, dir);
		if (task == NULL || pool_map_add(j->pool, s, task, err, sizeof err) == -1) {
			json_decref(task);
			job_abort(j, task == NULL ? "out of memory" : err);
			return -1;
		}
		json_decref(task);
	}
	return 0;
}

/* Plans and hands out the pieces the files listed since the last look allow. */
static void
job_list_read(struct job *j)
{
	char dir[4096], err[512];

	job_segdir(j, dir, sizeof dir);
	if (seg_list_more(&j->units, dir, err, sizeof err) > 0)
		job_plan(j, 0);  /* (nothing new, or no list yet: nothing to do) */
}

/* While the cutter runs, woken by each write to its list (one line, once its file is
 * closed): what it has listed. */
static void
job_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	char events[4096];

	/* the events only say "written": drain them, the list itself says what is new */
	while (read(fd, events, sizeof events) > 0)
		;
	job_list_read(j);
}

/*
 * Watches DIR/list.csv for the cutter's writes (inotify, no timer: the loop sleeps while the
 * cut writes nothing). The list is created empty first, so the watch is on the inode ffmpeg
 * then opens (O_TRUNC keeps it) and no line can be written before the watch exists.
 */
static int
job_watch_start(struct job *j, const char *dir, char *err, size_t errlen)
{
	char path[4200];
	int fd = -1;

	/* (made already when the cut started beside the probe: it may hold lines) */
	if (job_list_create(dir, 0, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof path, "%s/list.csv", dir);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd == -1 || inotify_add_watch(fd, path, IN_MODIFY) == -1) {
		util_err(err, errlen, "cannot watch %s: %s", path, strerror(errno));
		goto fail;
	}
	j->watch = event_new(j->base, fd, EV_READ | EV_PERSIST, job_watch_cb, j);
	if (j->watch == NULL || event_add(j->watch, NULL) == -1) {
		util_err(err, errlen, "out of memory");
		goto fail;
	}
	return 0;
fail:
	if (j->watch != NULL)
		event_free(j->watch);
	j->watch = NULL;
	if (fd != -1)
		close(fd);
	return -1;
}

static void
job_cut_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;
	char dir[4096], err[512], how[128];
	int i;

	j->proc = NULL;
	job_watch_stop(j);
	j->split_time = util_now() - j->t_phase;
	job_segdir(j, dir, sizeof dir);
	if (status != 0) {
		spawn_status_str(status, how, sizeof how);
		snprintf(err, sizeof err, "cannot cut %s into segments: ffmpeg %s: %s", j->o.input, how, errtail);
		job_abort(j, err);
		return;
	}
	/* the lines the watch has not read yet */
	if (seg_list_more(&j->units, dir, err, sizeof err) == -1) {
		job_abort(j, err);
		return;
	}
	if (j->units.n == 0) {
		job_abort(j, "the cutter produced no segment");
		return;
	}
	log_info("cut into %d files in %.2f s", j->units.n, j->split_time);
	if (job_exact(j)) {
		/* the map is running: the pieces still waiting for their files go out now */
		if (job_plan(j, 1) == 0 && j->nplanned < j->nseg)
			job_abort(j, "the cut's files do not cover the video");
		else
			job_join_early(j);
		return;
	}
	if (j->grouped) {
		/* a variable rate or an AVI that drops frames, cut beside the probe: runs of its
		 * files, each file's span given to the worker (job_task_inputs) so a variable
		 * rate's frames keep their times */
		if (seg_group(j->units.v, j->units.n, job_origin(j), j->probe.duration, job_pieces(j),
		    &j->segs, &j->nseg) == -1) {
			job_fail(j, "out of memory");
			return;
		}
	} else {
		/* whole files; a variable rate is resampled per file: each keeps the frames its
		 * time span holds */
		j->segs = j->units.v;
		j->nseg = j->units.n;
		memset(&j->units, 0, sizeof j->units);
	}
	for (i = 0; i < j->nseg && !j->probe.cfr && !job_timed(j); i++)
		j->segs[i].count = job_seg_frames(j, i);
	/* fewer whole files than workers (a bare stream is one file): frame-exact parts of them */
	if (j->probe.cfr && !job_timed(j) && seg_split(&j->segs, &j->nseg, j->probe.duration, j->probe.fps,
	    j->o.workers + j->o.nremote) == -1) {
		job_fail(j, "out of memory");
		return;
	}
	j->nplanned = j->nseg;
	j->seg_frames = calloc((size_t)j->nseg, sizeof *j->seg_frames);
	j->seg_ok = calloc((size_t)j->nseg, sizeof *j->seg_ok);
	if (j->seg_frames == NULL || j->seg_ok == NULL) {
		job_fail(j, "out of memory");
		return;
	}
	if (job_hls_open(j) == 0)
		job_map(j, j->o.baseline ? JOB_SEQUENTIAL : JOB_PARALLEL);
}

/* ---- the early cut (see JOB_EARLY_UNIT) ---- */

/* Whether the input may be cut before it is probed: small, and not named as a bare stream
 * (never cut into files, seg_whole). */
static int
job_early_suits(const struct job *j)
{
	/* (not .m4v: mostly Apple's MP4, though ffmpeg's raw MPEG-4 stream has the name too;
	 * not .avi: only one with B-frames is left uncut, seg_whole) */
	static const char *untimed[] = { "h264", "264", "h265", "265", "hevc", "mjpeg",
	    "mjpg", "y4m", "gif", "m1v", "m2v", "mpv", NULL };
	const char *dot = strrchr(j->o.input, '.');
	long long size = util_file_size(j->o.input);
	int k;

	if (size <= 0 || size > JOB_EARLY_MAX_BYTES)
		return 0;
	for (k = 0; dot != NULL && strchr(dot, '/') == NULL && untimed[k] != NULL; k++)
		if (strcasecmp(dot + 1, untimed[k]) == 0)
			return 0;
	return 1;
}

/* Its end before the probe's is kept for job_cut; once it is the job's cut, job_cut_cb. */
static void
job_early_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;

	if (j->early == NULL) {
		job_cut_cb(status, out, outlen, errtail, j);
		return;
	}
	j->early = NULL;
	j->early_ended = 1;
	j->early_status = status;
	snprintf(j->early_tail, sizeof j->early_tail, "%s", errtail);
}

/* Starts the cut beside the probe when the input suits; nothing when it cannot (the job cuts
 * after the probe as it would have). */
static void
job_early_start(struct job *j)
{
	char dir[4096], err[512];

	if (!job_early_suits(j))
		return;
	job_segdir(j, dir, sizeof dir);
	if (util_mkdir_p(dir, err, sizeof err) == -1 || job_list_create(dir, 1, err, sizeof err) == -1 ||
	    (j->early = job_cut_start(j, dir, JOB_EARLY_UNIT, 1, job_early_cb, err, sizeof err)) == NULL)
		log_debug("no cut beside the probe: %s", err);
}

/*
 * After the probe: the early cut becomes the job's (1) unless the input is not to be cut at
 * all (seg_whole); it is then stopped (0). Its times are the input's, as a frame-exact plan
 * needs them, whatever the unit it was cut at. A frame-exact render maps at once (the caller
 * calls job_early_listed); any other's pieces are runs of its files (grouped), planned once
 * it has ended.
 */
static int
job_early_adopt(struct job *j)
{
	if (j->early == NULL && !j->early_ended)
		return 0;
	if (!j->probe.whole) {
		j->proc = j->early;  /* NULL when it has ended: job_early_listed says how */
		j->early = NULL;
		j->grouped = !job_exact(j);
		return 1;
	}
	if (j->early != NULL)
		proc_cancel(j->early);
	j->early = NULL;
	j->early_ended = 0;
	j->segdir = "segments.2";
	return 0;
}

/* The adopted cut's files listed before the watch began go out now, and its end if it has
 * ended. */
static void
job_early_listed(struct job *j)
{
	if (j->early_ended) {
		j->early_ended = 0;
		job_cut_cb(j->early_status, "", 0, j->early_tail, j);
		return;
	}
	job_list_read(j);
}

/*
 * One cutting pass, with the render started at once when pieces can end on any frame
 * (job_exact): the cutter writes files of about an eighth of a piece (on keyframes), and each
 * piece goes to a worker as soon as the files it needs are listed (job_watch_start), so the
 * workers do not wait for the whole cut. Otherwise the cut is into the pieces themselves,
 * rendered once it has ended.
 */
static void
job_cut(struct job *j)
{
	char dir[4096], err[512];
	double len;
	int adopted;

	j->phase = JOB_SPLITTING;
	j->t_phase = util_now();
	job_notify(j);
	adopted = job_early_adopt(j);
	job_segdir(j, dir, sizeof dir);
	if (util_mkdir_p(dir, err, sizeof err) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (j->probe.whole) {
		if (seg_whole(j->o.input, dir, j->probe.duration, err, sizeof err) == -1)
			job_fail(j, "%s", err);
		else
			job_cut_cb(0, "", 0, "", j);
		return;
	}
	len = job_piece_length(j);
	if (job_exact(j) && job_watch_start(j, dir, err, sizeof err) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (!adopted && (j->proc = job_cut_start(j, dir, job_exact(j) ? seg_unit_length(len) : len,
	    job_exact(j), job_cut_cb, err, sizeof err)) == NULL) {
		job_fail(j, "%s", err);
		return;
	}
	if (!job_exact(j)) {
		/* (an adopted cut that has ended already: its end now) */
		if (adopted && j->early_ended)
			job_early_listed(j);
		return;
	}
	j->nseg = job_pieces(j);
	j->segs = calloc((size_t)j->nseg, sizeof *j->segs);
	j->seg_frames = calloc((size_t)j->nseg, sizeof *j->seg_frames);
	j->seg_ok = calloc((size_t)j->nseg, sizeof *j->seg_ok);
	if (j->segs == NULL || j->seg_frames == NULL || j->seg_ok == NULL) {
		job_abort(j, "out of memory");
		return;
	}
	if (job_hls_open(j) == -1)
		return;
	job_map(j, j->o.baseline ? JOB_SEQUENTIAL : JOB_PARALLEL);
	if (adopted && j->phase != JOB_FAILED)
		job_early_listed(j);
}

/* ---- the two maps ---- */

static const char *
job_phase_dir(enum job_phase ph)
{
	return ph == JOB_SEQUENTIAL ? "seq" : "par";
}

static void
job_timeline_close(struct job *j, int worker, const char *result)
{
	json_t *e;

	if (worker < 0 || worker >= j->open_cap || j->open_entry[worker] < 0)
		return;
	e = json_array_get(j->timeline, (size_t)j->open_entry[worker]);
	json_object_set_new(e, "end", json_real(util_now() - j->t0));
	json_object_set_new(e, "result", json_string(result));
	j->open_entry[worker] = -1;
}

/* A rendered piece goes to the stream, from whichever run renders it first: the baseline's
 * and the parallel run's pieces are the same bytes. */
static void
job_hls_piece(struct job *j, int seg, int64_t frames)
{
	char path[4200];

	if (j->hls == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s/out_%05d.mp4", j->o.workdir, job_phase_dir(j->phase), seg);
	if (hls_piece(j->hls, seg, path, frames) == -1)
		snprintf(j->hls_error, sizeof j->hls_error, "out of memory");
}

static void
job_pool_event_cb(struct pool *p, enum pool_event ev, int task, int worker, json_t *msg, void *arg)
{
	struct job *j = arg;
	int seg;
	int64_t frames;

	if (j->phase != JOB_SEQUENTIAL && j->phase != JOB_PARALLEL)
		return;
	if (task < 0 || task >= j->nseg)
		return;
	seg = j->order[task];
	switch (ev) {
	case POOL_TASK_START:
		if (worker >= 0 && worker < j->open_cap) {
			j->open_entry[worker] = (int)json_array_size(j->timeline);
			json_array_append_new(j->timeline, json_pack("{s:i, s:s, s:b, s:i, s:s, s:f, s:n}",
			    "worker", worker, "host", pool_worker_name(p, worker), "remote",
			    pool_worker_remote(p, worker), "segment", seg, "phase", job_phase_name(j->phase),
			    "start", util_now() - j->t0, "end"));
		}
		break;
	case POOL_TASK_PROGRESS:
	case POOL_TASK_DONE:
		frames = json_integer_value(json_object_get(msg, "frames"));
		if (frames > j->seg_frames[seg]) {
			j->frames_done += frames - j->seg_frames[seg];
			j->seg_frames[seg] = frames;
		}
		if (ev == POOL_TASK_DONE) {
			if (frames == 0)
				log_warn("segment %d: no frame could be decoded; the job goes on without it", seg);
			j->segs_done++;
			j->seg_ok[seg] = 1;
			job_timeline_close(j, worker, "done");
			job_hls_piece(j, seg, frames);
			if (j->watch != NULL && job_plan(j, 0) == -1)
				return;  /* aborted */
		}
		break;
	case POOL_TASK_RETRY:
	case POOL_TASK_FAIL:
		j->frames_done -= j->seg_frames[seg];
		j->seg_frames[seg] = 0;
		json_array_append_new(j->retries, json_pack("{s:i, s:i, s:s, s:O?}", "segment", seg,
		    "worker", worker, "host", pool_worker_name(p, worker), "error", json_object_get(msg, "error")));
		job_timeline_close(j, worker, ev == POOL_TASK_RETRY ? "retried" : "failed");
		break;
	}
	job_join_early(j);
	job_notify(j);
}

static void
job_map_cb(struct pool *p, json_t *results, const char *error, void *arg)
{
	struct job *j = arg;
	enum job_phase ph = j->phase;
	double elapsed = util_now() - j->t_phase;
	char a[4096], b[4096];
	json_t *r;
	size_t i;
	int s;

	if (ph != JOB_SEQUENTIAL && ph != JOB_PARALLEL)
		return;  /* cancelled: job_cancel already finished the job */
	pool_release(j->pool);
	j->pool = NULL;
	if (error != NULL) {
		/* abort, not fail: the cut may still be running beside the map */
		snprintf(a, sizeof a, "cannot render %s: %s", j->o.input, error);
		job_abort(j, a);
		return;
	}
	if (ph == JOB_SEQUENTIAL) {
		j->seq_time = elapsed;
		log_info("sequential: %d segments in %.2f s", j->nseg, elapsed);
		job_map(j, JOB_PARALLEL);
		return;
	}
	j->par_time = elapsed;
	j->frames_decoded = 0;
	json_array_foreach(results, i, r) {
		j->frames_out += json_integer_value(json_object_get(r, "frames"));
		j->frames_decoded += json_integer_value(json_object_get(r, "decoded"));
		j->filter_time += json_number_value(json_object_get(r, "filter_time"));
		j->decode_cpu += json_number_value(json_object_get(r, "decode_cpu"));
		j->encode_cpu += json_number_value(json_object_get(r, "encode_cpu"));
		j->worker_cpu += json_number_value(json_object_get(r, "worker_cpu"));
		j->worker_copied += json_integer_value(json_object_get(r, "copied"));
		if (json_integer_value(json_object_get(r, "max_rss_kb")) > j->worker_max_rss_kb)
			j->worker_max_rss_kb = json_integer_value(json_object_get(r, "max_rss_kb"));
	}
	log_info("parallel: %d segments on %d workers in %.2f s", j->nseg, j->workers_used, elapsed);
	if (j->o.baseline) {
		/* with -threads 1 both runs should encode the very same bytes */
		j->identical = 1;
		for (s = 0; s < j->nseg && j->identical == 1; s++) {
			if (j->seg_frames[s] == 0)
				continue;  /* nothing decoded: no file in either run */
			snprintf(a, sizeof a, "%s/seq/out_%05d.mp4", j->o.workdir, s);
			snprintf(b, sizeof b, "%s/par/out_%05d.mp4", j->o.workdir, s);
			if (util_files_equal(a, b) != 1)
				j->identical = 0;
		}
	}
	if (j->frames_out == 0) {
		job_fail(j, "cannot render %s: no frame could be decoded", j->o.input);
		return;
	}
	if (j->hls != NULL)
		hls_end(j->hls);
	job_join(j);
}

/* The first segment first, so the result plays from its start as early as it can (its
 * pieces are alike in length, so this costs the balance little); then the longest first. */
static int
job_cmp_longest(const void *a, const void *b, void *arg)
{
	const struct seg *s = arg;
	int ia = *(const int *)a, ib = *(const int *)b;
	double da = s[ia].end - s[ia].start;
	double db = s[ib].end - s[ib].start;

	if (ia == 0 || ib == 0)
		return ia - ib;
	return da < db ? 1 : da > db ? -1 : ia - ib;
}

/*
 * The frames segment s yields when a variable rate is resampled: the output grid's frames that
 * fall inside it. Resampled on its own, each segment rounds its length up, and the joined
 * video runs longer than the sound and drifts a frame further from it at every cut.
 */
static int64_t
job_seg_frames(const struct job *j, int s)
{
	double fps = j->probe.fps;
	double a = j->segs[s].start;
	double b = s + 1 < j->nseg ? j->segs[s + 1].start : j->probe.duration;
	int64_t n;

	n = llround(b * fps) - llround(a * fps);
	return n > 0 ? n : 1;  /* 0 would mean "all" to the worker */
}

/* The encoder's side of a task: codec, rate control, pixel format and colour tags. */
static void
job_task_format(const struct job *j, json_t *task)
{
	const struct format_plan *pl = &j->plan;

	json_object_set_new(task, "codec", json_string(j->o.format.codec));
	json_object_set_new(task, "bitrate", json_integer(j->o.format.bitrate));
	json_object_set_new(task, "pix_fmt", json_string(pl->pix_fmt));
	json_object_set_new(task, "color_range", json_string(pl->range));
	json_object_set_new(task, "color_primaries", json_string(pl->primaries));
	json_object_set_new(task, "color_trc", json_string(pl->transfer));
	json_object_set_new(task, "colorspace", json_string(pl->space));
}

/* Where unit u's first frame is: the list starts the first file at 0, whatever its time. */
static double
job_unit_start(const struct job *j, int u)
{
	return u == 0 && j->units.v[0].start < job_origin(j) ? job_origin(j) : j->units.v[u].start;
}

/*
 * A piece of several files lists them all, in order, as "inputs" ("input" is the first). A
 * grouped one (a variable rate, an AVI that drops frames) also says how long each but the
 * last lasts, up to the next one's first frame ("durations"): ffmpeg's concat demuxer would
 * otherwise start each file where the one before ends by its own reckoning, which is off by
 * up to a frame at every file (it matters for a variable rate, whose frames keep their times).
 */
static int
job_task_inputs(const struct job *j, int s, json_t *task)
{
	char path[4096];
	json_t *a = json_array(), *d = j->grouped ? json_array() : NULL;
	int k, u;

	if (a == NULL || (j->grouped && d == NULL))
		goto fail;
	for (k = 0; k < j->segs[s].nfiles; k++) {
		u = j->segs[s].first + k;
		snprintf(path, sizeof path, "%s/%s/%s", j->o.workdir, j->segdir, j->units.v[u].name);
		if (json_array_append_new(a, json_string(path)) == -1)
			goto fail;
		if (d != NULL && k + 1 < j->segs[s].nfiles && json_array_append_new(d,
		    json_real(job_unit_start(j, u + 1) - job_unit_start(j, u))) == -1)
			goto fail;
	}
	if (d != NULL && json_object_set_new(task, "durations", d) == -1) {
		d = NULL;
		goto fail;
	}
	return json_object_set_new(task, "inputs", a);
fail:
	json_decref(a);
	json_decref(d);
	return -1;
}

/* The task of piece s, its result written into dir (new reference; NULL when out of memory). */
static json_t *
job_task(const struct job *j, int s, const char *dir)
{
	char in[4096], out[4096];
	json_t *task;

	snprintf(in, sizeof in, "%s/%s/%s", j->o.workdir, j->segdir, j->segs[s].name);
	snprintf(out, sizeof out, "%s/out_%05d.mp4", dir, s);
	task = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s, s:i, s:s}",
	    "segment", s, "input", in, "output", out, "filter", j->o.filter,
	    "fps", j->probe.fps_rational, "cfr", j->probe.cfr, "width", j->probe.out_w,
	    "height", j->probe.out_h, "rotation", j->probe.rotation, "preset", j->o.preset,
	    "crf", format_crf(&j->o.format), "matrix", j->probe.matrix);
	if (task != NULL)
		job_task_format(j, task);
	if (task != NULL && job_timed(j))
		json_object_set_new(task, "timed", json_true());
	if (task != NULL && (j->segs[s].skip > 0 || j->segs[s].count > 0)) {
		json_object_set_new(task, "skip", json_integer(j->segs[s].skip));
		json_object_set_new(task, "count", json_integer(j->segs[s].count));
	}
	if (task != NULL && j->segs[s].nfiles > 1 && job_task_inputs(j, s, task) == -1) {
		json_decref(task);
		task = NULL;
	}
	return task;
}

static void
job_map(struct job *j, enum job_phase ph)
{
	char err[512], dir[4096];
	int *order, nproc, nlocal, nremote, i;
	json_t *task;

	/* beside the parallel map only: the sequential baseline keeps its core to itself, so the
	 * speedup compares the same work */
	if (ph == JOB_PARALLEL && j->audio_state == 0)
		job_audio_start(j);
	j->phase = ph;
	j->t_phase = util_now();
	j->segs_done = 0;
	j->frames_done = 0;
	memset(j->seg_frames, 0, (size_t)j->nseg * sizeof *j->seg_frames);
	memset(j->seg_ok, 0, (size_t)j->nseg * sizeof *j->seg_ok);
	snprintf(dir, sizeof dir, "%s/%s", j->o.workdir, job_phase_dir(ph));
	if (util_mkdir_p(dir, err, sizeof err) == -1)
		goto fail;
	/* The baseline is one worker: a local one, or the first remote one if there is none. */
	nlocal = ph == JOB_SEQUENTIAL ? (j->o.workers > 0 ? 1 : 0) : j->o.workers;
	nremote = ph == JOB_SEQUENTIAL ? (j->o.workers > 0 ? 0 : 1) : j->o.nremote;
	/* never more workers than segments: an idle process buys nothing; local ones first, as
	 * they need no transfer */
	if (nlocal > j->nseg)
		nlocal = j->nseg;
	if (nremote > j->nseg - nlocal)
		nremote = j->nseg - nlocal;
	nproc = nlocal + nremote;
	j->workers_used = ph == JOB_PARALLEL ? nproc : j->workers_used;
	free(j->open_entry);
	j->open_entry = malloc((size_t)nproc * sizeof *j->open_entry);
	if (j->open_entry == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	j->open_cap = nproc;
	for (i = 0; i < nproc; i++)
		j->open_entry[i] = -1;
	free(j->order);
	order = j->order = malloc((size_t)j->nseg * sizeof *order);
	if (order == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	/* Pieces of a constant rate are planned equal and handed out in order as the cut lists
	 * their files (task i is piece i); a variable rate's, all known, longest first, so no
	 * worker is left with a long one at the end. */
	for (i = 0; i < j->nseg; i++)
		order[i] = i;
	if (!j->probe.cfr)
		qsort_r(order, (size_t)j->nseg, sizeof *order, job_cmp_longest, j->segs);
	j->pool = pool_new_mixed(j->base, nlocal, j->o.remote, nremote, err, sizeof err);
	if (j->pool == NULL)
		goto fail;
	if (j->o.task_timeout > 0)
		pool_set_stall_timeout(j->pool, j->o.task_timeout);
	if (pool_map_open(j->pool, j->nseg, job_map_cb, job_pool_event_cb, j, err, sizeof err) == -1)
		goto fail;
	for (i = 0; i < j->nseg; i++) {
		if (order[i] >= j->nplanned)
			continue;  /* its files are not cut yet: job_plan adds it */
		task = job_task(j, order[i], dir);
		if (task == NULL || pool_map_add(j->pool, i, task, err, sizeof err) == -1) {
			if (task == NULL)
				snprintf(err, sizeof err, "out of memory");
			json_decref(task);
			goto fail;
		}
		json_decref(task);
	}
	job_join_early(j);
	job_notify(j);
	return;
fail:
	job_abort(j, err);
}

/* ---- audio beside the render ---- */

static void
job_audio_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;
	char how[128];

	j->audio = NULL;
	j->audio_time = util_now() - j->t0 - j->audio_start;
	if (status == 0) {
		j->audio_state = 2;
		log_debug("audio encoded beside the render in %.2f s", j->audio_time);
	} else {
		spawn_status_str(status, how, sizeof how);
		log_warn("encoding the audio beside the render failed (ffmpeg %s: %s); the join encodes it",
		    how, errtail);
		j->audio_state = -1;
	}
	/* merging while it ran: the pieces were done first and the join waits for it */
	if (j->phase == JOB_MERGING)
		job_join_run(j);
}

/* Encodes the audio the plan converts while the pieces render (audio.c says why and when);
 * whatever goes wrong, the join encodes it as it would have. */
static void
job_audio_start(struct job *j)
{
	char err[512], words[AUDIO_WORDS];
	char *v[AUDIO_ARGV];
	struct argv a;

	j->audio_state = -1;
	if (!audio_beside(&j->probe, &j->plan))
		return;
	argv_init(&a, v, AUDIO_ARGV, words, sizeof words);
	audio_argv(j->o.workdir, j->o.input, &j->probe, &j->plan, &a);
	j->audio_start = util_now() - j->t0;
	j->audio = argv_end(&a, err, sizeof err) == -1 ? NULL :
	    proc_start(j->base, v, 1 << 16, job_audio_cb, j, err, sizeof err);
	if (j->audio == NULL) {
		log_warn("cannot encode the audio beside the render (%s); the join encodes it", err);
		return;
	}
	j->audio_state = 1;
}

/* ---- join ---- */

static void
job_join_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;
	char part[4096], how[128];

	j->proc = NULL;
	j->merge_time = util_now() - j->t_phase;
	snprintf(part, sizeof part, "%s.part", j->o.output);
	if (status != 0) {
		spawn_status_str(status, how, sizeof how);
		job_fail(j, "cannot join the segments: ffmpeg %s: %s", how, errtail);
		return;
	}
	/* a half-written file is never visible under the output's name */
	if (rename(part, j->o.output) == -1) {
		job_fail(j, "cannot rename %s to %s: %s", part, j->o.output, strerror(errno));
		return;
	}
	log_info("joined in %.2f s: %s", j->merge_time, j->o.output);
	if (j->hls != NULL && !hls_closed(j->hls) && j->hls_error[0] == '\0') {
		/* done when the stream's last pieces are listed too (job_hls_cb) */
		j->joined = 1;
		return;
	}
	job_finish(j, NULL);
}

/* The join's list: the pieces that hold frames; a variable rate's with each one's span to the
 * next, so every frame stays at its time across the cuts and over a piece that decoded nothing. */
static int
job_join_list(const struct job *j, char *err, size_t errlen)
{
	double *starts = NULL;
	int s, rc;

	if (job_timed(j)) {
		starts = malloc((size_t)j->nseg * sizeof *starts);
		if (starts == NULL)
			return util_err(err, errlen, "out of memory");
		for (s = 0; s < j->nseg; s++)
			starts[s] = j->segs[s].start;
		/* the cutter lists the first file at 0, where its first frame may come later (the
		 * list's times are the input's less its earliest stream's start; a grouped cut's
		 * are the input's own, its first piece already starting at the first frame) */
		if (!j->grouped && starts[0] < j->probe.video_start - j->probe.start_min)
			starts[0] = j->probe.video_start - j->probe.start_min;
	}
	rc = join_write_kept(j->o.workdir, "par", j->nseg, j->seg_frames, starts, err, errlen);
	free(starts);
	return rc;
}

/* Starts the joining ffmpeg, given the audio encoded beside the render or not, with `in` as
 * its stdin (-1: none); cb gets its end. */
static struct proc *
job_join_spawn(struct job *j, int audio_beside, int in, proc_done_cb cb, char *err, size_t errlen)
{
	char part[4096], words[JOIN_WORDS], audio[4096];
	char *v[JOIN_ARGV];
	struct argv a;

	snprintf(part, sizeof part, "%s.part", j->o.output);
	argv_init(&a, v, JOIN_ARGV, words, sizeof words);
	audio_path(j->o.workdir, &j->plan, audio, sizeof audio);
	join_argv(j->o.workdir, j->o.input, audio_beside ? audio : NULL, &j->probe,
	    &j->o.format, &j->plan, part, &a);
	if (argv_end(&a, err, errlen) == -1)
		return NULL;
	return proc_start_in(j->base, v, in, 1 << 20, cb, j, err, errlen);
}

static void
job_join(struct job *j)
{
	j->phase = JOB_MERGING;
	j->t_phase = util_now();
	job_notify(j);
	if (j->audio != NULL) {
		/* job_audio_cb goes on */
		return;
	}
	job_join_run(j);
}

/* The join itself, once the audio encoded beside the render (if any) is written: the one
 * started early if it was given what the join needs, else a new one. */
static void
job_join_run(struct job *j)
{
	char err[512];

	j->join_start = util_now() - j->t0;
	if (job_join_list(j, err, sizeof err) == -1) {
		job_fail(j, "%s", err);
		return;
	}
	if (j->join_early != NULL && j->join_early_audio == (j->audio_state == 2)) {
		/* the end of its stdin: it opens the list now */
		close(j->join_fd);
		j->join_fd = -1;
		j->proc = j->join_early;
		j->join_early = NULL;
		log_debug("the join started %.2f s ago reads its list", j->join_start - j->join_spawn);
		return;
	}
	job_join_early_stop(j);
	j->proc = job_join_spawn(j, j->audio_state == 2, -1, job_join_cb, err, sizeof err);
	if (j->proc == NULL)
		job_fail(j, "%s", err);
}

/* ---- the join started early ---- */

static void
job_join_early_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct job *j = arg;

	if (j->join_early == NULL) {
		/* adopted: it read its list and ran as the join */
		job_join_cb(status, out, outlen, errtail, arg);
		return;
	}
	/* it ended before its list came: the join starts anew when the pieces are done */
	j->join_early = NULL;
	log_debug("the join started early ended before its list (%s); it starts again", errtail);
	job_join_early_stop(j);
}

/* The joining ffmpeg spends 0.06 s of CPU (idle machine; more under load) loading its
 * libraries and reading the original's headers before it needs the list: after the last
 * piece, on one core, while the others wait. So once a core falls idle (fewer pieces left than workers; from the start with fewer
 * pieces than local workers or fewer of these than CPUs; the cut done), it is started with a
 * pipe as its stdin, which it reads to the end before it opens the list (join_argv):
 * job_join_run writes the list and closes the pipe. Not earlier: beside busy workers it
 * would only take their CPU. Whatever goes wrong, job_join_run starts one as before. */
static void
job_join_early(struct job *j)
{
	char err[512];
	int fds[2], spare;

	if (j->phase != JOB_PARALLEL || j->join_tried || j->proc != NULL || j->watch != NULL ||
	    j->nplanned < j->nseg)
		return;
	spare = j->nseg - j->segs_done < j->workers_used || j->nseg < j->o.workers ||
	    j->o.workers < j->ncpu;
	if (!spare)
		return;
	j->join_tried = 1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_debug("no early join: pipe: %s", strerror(errno));
		return;
	}
	j->join_fd = fds[1];
	j->join_early_audio = j->audio_state >= 1;
	j->join_early = job_join_spawn(j, j->join_early_audio, fds[0], job_join_early_cb, err,
	    sizeof err);
	close(fds[0]);
	if (j->join_early == NULL) {
		log_debug("no early join: %s", err);
		job_join_early_stop(j);
		return;
	}
	j->join_spawn = util_now() - j->t0;
}

/* Stops the join started early, if any. */
static void
job_join_early_stop(struct job *j)
{
	if (j->join_early != NULL) {
		proc_cancel(j->join_early);
		j->join_early = NULL;
	}
	if (j->join_fd != -1) {
		close(j->join_fd);
		j->join_fd = -1;
	}
}

/* ---- report ---- */

static double
job_percent(const struct job *j)
{
	double base, span, frac = 0;
	int64_t total = j->probe.frames > 0 ? j->probe.frames : 1;

	/* splitting 5%, the maps share 90% (by frames rendered), merging 5% */
	switch (j->phase) {
	case JOB_PROBING:
		return 0;
	case JOB_SPLITTING:
		return 1;
	case JOB_SEQUENTIAL:
	case JOB_PARALLEL:
		span = j->o.baseline ? 45 : 90;
		base = j->phase == JOB_PARALLEL && j->o.baseline ? 50 : 5;
		frac = (double)j->frames_done / (double)total;
		if (frac > 1)
			frac = 1;
		return base + span * frac;
	case JOB_MERGING:
		return 95;
	case JOB_DONE:
		return 100;
	case JOB_FAILED:
		return 0;
	}
	return 0;
}

static json_t *
job_num_or_null(double v, int known)
{
	return known ? json_real(v) : json_null();
}

/* Seconds from the start that can be played: what the stream lists, or without one the
 * segments rendered in a row from the first in the current run. */
static double
job_playable(const struct job *j)
{
	double t = 0;
	int s;

	if (j->hls != NULL)
		return hls_playable(j->hls);
	if (j->phase == JOB_DONE)
		return (double)j->frames_out / j->probe.fps;
	if (j->phase != JOB_SEQUENTIAL && j->phase != JOB_PARALLEL && j->phase != JOB_MERGING)
		return 0;
	for (s = 0; s < j->nseg && j->seg_ok[s]; s++)
		t += (double)j->seg_frames[s] / j->probe.fps;
	return t;
}

/* Seconds of video rendered per second of wall time: live in a run, then the parallel run's. */
static double
job_realtime(const struct job *j)
{
	double wall;

	if (j->par_time > 0)
		return (double)j->frames_out / j->probe.fps / j->par_time;
	if (j->phase != JOB_SEQUENTIAL && j->phase != JOB_PARALLEL)
		return 0;
	wall = util_now() - j->t_phase;
	return wall > 0 ? (double)j->frames_done / j->probe.fps / wall : 0;
}

/* Per piece: the frames it rendered (so far, in the current map), the pre-roll it decoded and
 * dropped, and how many of the cut's files it read; what the balance is judged on. */
static json_t *
job_pieces_json(const struct job *j)
{
	json_t *a = json_array();
	int s;

	for (s = 0; a != NULL && j->seg_frames != NULL && s < j->nseg; s++)
		json_array_append_new(a, json_pack("{s:i, s:I, s:I, s:i}", "segment", s,
		    "frames", (json_int_t)j->seg_frames[s], "preroll", (json_int_t)j->segs[s].skip,
		    "files", j->segs[s].nfiles));
	return a;
}

json_t *
job_report(const struct job *j)
{
	const char *slash = strrchr(j->o.output, '/');
	int done = j->phase == JOB_DONE;
	int have_seq = j->seq_time > 0, have_par = j->par_time > 0;
	double speedup = have_seq && have_par ? j->seq_time / j->par_time : 0;
	json_t *r;

	r = json_object();
	json_object_set_new(r, "status", json_string(job_status_name(done ? JOB_STATUS_COMPLETED :
	    j->phase == JOB_FAILED ? JOB_STATUS_FAILED : JOB_STATUS_PROCESSING)));
	json_object_set_new(r, "phase", json_string(job_phase_name(j->phase)));
	json_object_set_new(r, "filter_type", json_string(j->o.filter));
	json_object_set_new(r, "percent", json_real(job_percent(j)));
	json_object_set_new(r, "progress", json_integer((json_int_t)job_percent(j)));
	json_object_set_new(r, "segments_done", json_integer(j->segs_done));
	json_object_set_new(r, "segments_total", json_integer(j->nseg));
	json_object_set_new(r, "sequential_time", job_num_or_null(j->seq_time, have_seq));
	json_object_set_new(r, "parallel_time", job_num_or_null(j->par_time, have_par));
	json_object_set_new(r, "speedup", job_num_or_null(speedup, speedup > 0));
	json_object_set_new(r, "efficiency", job_num_or_null(j->workers_used ? speedup / j->workers_used : 0, speedup > 0));
	json_object_set_new(r, "split_time", job_num_or_null(j->split_time, j->phase > JOB_SPLITTING));
	json_object_set_new(r, "merge_time", job_num_or_null(j->merge_time, done));
	json_object_set_new(r, "join_start", job_num_or_null(j->join_start, done));
	json_object_set_new(r, "join_spawn", job_num_or_null(j->join_spawn, j->join_spawn > 0));
	json_object_set_new(r, "audio_beside", json_boolean(j->audio_state >= 1));
	json_object_set_new(r, "audio_time", job_num_or_null(j->audio_time, j->audio_state == 2));
	json_object_set_new(r, "total_time", job_num_or_null(j->total_time, done || j->phase == JOB_FAILED));
	json_object_set_new(r, "segments_processed", done ? json_integer(j->nseg) : json_null());
	json_object_set_new(r, "cpu_cores_used", j->workers_used ? json_integer(j->workers_used) : json_null());
	json_object_set_new(r, "workers", json_integer(j->o.workers));
	json_object_set_new(r, "remote_workers", json_integer(j->o.nremote));
	json_object_set_new(r, "baseline", json_boolean(j->o.baseline));
	json_object_set_new(r, "output_filename", done ? json_string(slash ? slash + 1 : j->o.output) : json_null());
	json_object_set_new(r, "output_path", done ? json_string(j->o.output) : json_null());
	/* what was decoded once known; until then the packets counted */
	json_object_set_new(r, "frames_in", j->frames_decoded >= 0 ? json_integer(j->frames_decoded) :
	    j->phase > JOB_PROBING ? json_integer(j->probe.frames) : json_null());
	json_object_set_new(r, "frames_out", done ? json_integer(j->frames_out) : json_null());
	json_object_set_new(r, "identical", j->identical < 0 ? json_null() : json_boolean(j->identical));
	json_object_set_new(r, "filter_time", json_real(j->filter_time));
	json_object_set_new(r, "decode_cpu", json_real(j->decode_cpu));
	json_object_set_new(r, "encode_cpu", json_real(j->encode_cpu));
	json_object_set_new(r, "worker_cpu", json_real(j->worker_cpu));
	json_object_set_new(r, "worker_max_rss_kb", json_integer(j->worker_max_rss_kb));
	json_object_set_new(r, "worker_copied_bytes", json_integer(j->worker_copied));
	json_object_set_new(r, "error", j->phase == JOB_FAILED ? json_string(j->error) : json_null());
	json_object_set_new(r, "playable_seconds", json_real(j->probe.fps > 0 ? job_playable(j) : 0));
	json_object_set_new(r, "realtime_factor", job_num_or_null(job_realtime(j),
	    j->probe.fps > 0 && job_realtime(j) > 0));
	json_object_set_new(r, "stream_error", j->hls_error[0] ? json_string(j->hls_error) : json_null());
	json_object_set_new(r, "pieces", job_pieces_json(j));
	json_object_set_new(r, "timeline", json_deep_copy(j->timeline));
	json_object_set_new(r, "retries", json_deep_copy(j->retries));
	if (j->phase > JOB_PROBING && j->probe.frames > 0)
		json_object_set_new(r, "input", probe_json(&j->probe));
	json_object_set_new(r, "format", format_json(&j->o.format));
	json_object_set_new(r, "dropped", j->plan.dropped ? json_deep_copy(j->plan.dropped) : json_array());
	json_object_set_new(r, "converted", j->plan.converted ? json_deep_copy(j->plan.converted) : json_array());
	return r;
}
