#include "master/hls.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/argv.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "master/ffcmd.h"
#include "master/probe.h"
#include "master/proc.h"
#include "master/seg.h"

enum hls_state { HLS_NONE, HLS_QUEUED, HLS_REMUXING, HLS_READY };

struct hls {
	struct event_base *base;
	char *dir, *input;
	struct probe probe;
	hls_cb cb;
	void *arg;

	int nseg;
	double *start;       /* seconds from the first frame */
	double *dur;         /* the piece's frames / fps, once handed over */
	char **src;          /* the piece's encoded file while it waits for its remux */
	unsigned char *state;
	int listed;          /* pieces 0..listed-1 are in the playlist */
	int target;          /* #EXT-X-TARGETDURATION, fixed for the whole stream */
	int ended, closed, failed;
	struct proc *proc;   /* the remux running now */
	int current;         /* its piece */
	struct event *ev_fail;  /* reports a failure to start a remux from a turn of its own */
	char error[4800];
};

static void hls_next(struct hls *h);

int
hls_playlist(char *buf, size_t n, const double *dur, int listed, int target, int ended)
{
	size_t k;
	int i, w;

	w = snprintf(buf, n, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
	    "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n", target);
	for (i = 0; i < listed && w >= 0; i++) {
		k = (size_t)w < n ? (size_t)w : n;
		w += snprintf(buf + k, n - k, "#EXTINF:%.6f,\nseg_%05d.ts\n", dur[i], i);
	}
	if (ended && w >= 0) {
		k = (size_t)w < n ? (size_t)w : n;
		w += snprintf(buf + k, n - k, "#EXT-X-ENDLIST\n");
	}
	return w;
}

/* What an HLS player takes in an MPEG-TS segment as it is; anything else becomes AAC. */
static int
hls_audio_copyable(const char *codec)
{
	return strcmp(codec, "aac") == 0 || strcmp(codec, "mp3") == 0;
}


void
hls_remux_argv(const char *piece, const char *input, const struct probe *p, double start,
    double dur, const char *out, struct argv *a)
{
	ffcmd_head(a);
	ffcmd_input(a, piece);
	if (p->naudio > 0) {
		/* -ss counts from the input's earliest stream; the piece's time counts from its
		 * first frame (as the joined MP4 does) */
		argv_add(a, "-ss", NULL);
		argv_addf(a, "%.6f", start + p->video_start - p->start_min);
		argv_add(a, "-t", NULL);
		argv_addf(a, "%.6f", dur);
		ffcmd_input(a, input);
	}
	argv_add(a, "-map", "0:v:0", "-c:v", "copy", NULL);
	if (p->naudio > 0) {
		/* players take one audio stream from a TS segment: the first, as the page plays it */
		argv_add(a, "-map", "1:a:0", "-c:a", hls_audio_copyable(p->audio_codec[0]) ? "copy" : "aac",
		    "-b:a", "192k", NULL);
	}
	/* Each piece's timestamps start at 0: moved to where the piece starts, the segments
	 * follow each other on one timeline. A B-frame's negative decoding time is kept as it is
	 * (the TS muxer's own delay makes it positive), else the first piece alone would be
	 * shifted and overlap the second. */
	argv_add(a, "-output_ts_offset", NULL);
	argv_addf(a, "%.6f", start);
	argv_add(a, "-avoid_negative_ts", "disabled", "-map_metadata", "-1", "-f", "mpegts", out, NULL);
}

/* index.m3u8 through a temporary name, so a reader sees the old playlist or the new one. */
static int
hls_write_playlist(struct hls *h, char *err, size_t errlen)
{
	char path[4200], tmp[4200], *buf = NULL;
	size_t n;
	int len, rc = -1;
	FILE *f = NULL;

	n = 256 + (size_t)h->listed * 48;
	buf = malloc(n);
	len = buf ? hls_playlist(buf, n, h->dur, h->listed, h->target, h->closed) : -1;
	if (buf != NULL && len >= 0 && (size_t)len >= n) {
		/* longer lengths than the guess: once more at the size it needs */
		free(buf);
		n = (size_t)len + 1;
		buf = malloc(n);
		len = buf ? hls_playlist(buf, n, h->dur, h->listed, h->target, h->closed) : -1;
	}
	if (buf == NULL || len < 0) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	snprintf(path, sizeof path, "%s/index.m3u8", h->dir);
	snprintf(tmp, sizeof tmp, "%s/.index.m3u8.tmp", h->dir);
	f = fopen(tmp, "we");
	if (f == NULL || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		f = NULL;
		util_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp, path) == -1) {
		util_err(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

static void
hls_fail(struct hls *h, const char *error)
{
	h->failed = 1;
	log_warn("hls: %s", error);
	h->cb(h, HLS_FAILED, error, h->arg);
}

static void
hls_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hls *h = arg;

	log_warn("hls: %s", h->error);
	h->cb(h, HLS_FAILED, h->error, h->arg);
}

/* The playlist takes every ready piece that follows the listed ones; then it may end. */
static void
hls_advance(struct hls *h)
{
	char err[4400];
	int grew = 0;

	while (h->listed < h->nseg && h->state[h->listed] == HLS_READY) {
		h->listed++;
		grew = 1;
	}
	if (h->ended && h->listed == h->nseg && !h->closed) {
		h->closed = 1;
		grew = 1;
	}
	if (!grew)
		return;
	if (hls_write_playlist(h, err, sizeof err) == -1) {
		hls_fail(h, err);
		return;
	}
	h->cb(h, h->closed ? HLS_CLOSED : HLS_LISTED, NULL, h->arg);
}

static void
hls_remux_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct hls *h = arg;
	char tmp[4200], path[4200], how[128], err[4800];
	int s = h->current;

	h->proc = NULL;
	snprintf(tmp, sizeof tmp, "%s/.seg_%05d.ts.tmp", h->dir, s);
	snprintf(path, sizeof path, "%s/seg_%05d.ts", h->dir, s);
	if (status != 0) {
		spawn_status_str(status, how, sizeof how);
		unlink(tmp);
		snprintf(err, sizeof err, "cannot remux piece %d into %s: ffmpeg %s: %s", s, path, how, errtail);
		hls_fail(h, err);
		return;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, sizeof err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		hls_fail(h, err);
		return;
	}
	free(h->src[s]);
	h->src[s] = NULL;
	h->state[s] = HLS_READY;
	/* the next remux starts before the callback, which may free h (and cancel it) */
	hls_next(h);
	hls_advance(h);
}

/* Starts the remux of the lowest piece waiting, so the playable prefix grows first. */
static void
hls_next(struct hls *h)
{
	char tmp[4200], words[3 * 4096], err[512];
	char *v[48];
	struct argv a;
	int s;

	if (h->proc != NULL || h->failed)
		return;
	for (s = 0; s < h->nseg && h->state[s] != HLS_QUEUED; s++)
		;
	if (s == h->nseg)
		return;
	snprintf(tmp, sizeof tmp, "%s/.seg_%05d.ts.tmp", h->dir, s);
	argv_init(&a, v, 48, words, sizeof words);
	hls_remux_argv(h->src[s], h->input, &h->probe, h->start[s], h->dur[s], tmp, &a);
	if (argv_end(&a, err, sizeof err) == 0)
		h->proc = proc_start(h->base, v, 1 << 16, hls_remux_cb, h, err, sizeof err);
	if (h->proc == NULL) {
		/* the caller may be inside the pool's callback: the job hears of it from the loop */
		snprintf(h->error, sizeof h->error, "cannot remux piece %d: %s", s, err);
		h->failed = 1;
		event_active(h->ev_fail, EV_TIMEOUT, 0);
		return;
	}
	h->current = s;
	h->state[s] = HLS_REMUXING;
}

struct hls *
hls_new(struct event_base *base, const char *dir, const char *input, const struct probe *p,
    const struct seg *segs, int nseg, hls_cb cb, void *arg, char *err, size_t errlen)
{
	struct hls *h = calloc(1, sizeof *h);
	double len, longest = 0;
	int i;

	if (h == NULL)
		goto nomem;
	h->base = base;
	h->probe = *p;
	h->cb = cb;
	h->arg = arg;
	h->nseg = nseg;
	h->current = -1;
	h->dir = strdup(dir);
	h->input = strdup(input);
	h->start = calloc((size_t)nseg, sizeof *h->start);
	h->dur = calloc((size_t)nseg, sizeof *h->dur);
	h->src = calloc((size_t)nseg, sizeof *h->src);
	h->state = calloc((size_t)nseg, sizeof *h->state);
	h->ev_fail = event_new(base, -1, 0, hls_fail_cb, h);
	if (h->dir == NULL || h->input == NULL || h->start == NULL || h->dur == NULL ||
	    h->src == NULL || h->state == NULL || h->ev_fail == NULL)
		goto nomem;
	for (i = 0; i < nseg; i++) {
		/* on the frame grid, as the worker renders them (the cutter's times may be off by
		 * a container's rounding) */
		h->start[i] = p->fps > 0 ? (double)llround((segs[i].start - segs[0].start) * p->fps) / p->fps :
		    segs[i].start - segs[0].start;
		len = segs[i].end - segs[i].start;
		if (len > longest)
			longest = len;
	}
	h->target = (int)ceil(longest);
	if (h->target < 1)
		h->target = 1;
	if (util_mkdir_p(dir, err, errlen) == -1 || hls_write_playlist(h, err, errlen) == -1) {
		hls_free(h);
		return NULL;
	}
	return h;
nomem:
	hls_free(h);
	util_err(err, errlen, "out of memory");
	return NULL;
}

void
hls_plan(struct hls *h, int s, double start, double end)
{
	if (s < 0 || s >= h->nseg)
		return;
	h->start[s] = h->probe.fps > 0 ? (double)llround(start * h->probe.fps) / h->probe.fps : start;
	/* the target duration may only change before the first piece is listed */
	if (h->listed == 0 && (int)ceil(end - start) > h->target)
		h->target = (int)ceil(end - start);
}

int
hls_piece(struct hls *h, int s, const char *path, int64_t frames)
{
	if (s < 0 || s >= h->nseg || h->state[s] != HLS_NONE || h->failed)
		return 0;
	h->src[s] = strdup(path);
	if (h->src[s] == NULL)
		return -1;
	h->dur[s] = h->probe.fps > 0 ? (double)frames / h->probe.fps : 0;
	/* a piece may run a little past the plan (the cutter's last keyframe): the target
	 * must still cover it, and it may only change before the first piece is listed */
	if (h->listed == 0 && (int)lround(h->dur[s]) > h->target)
		h->target = (int)lround(h->dur[s]);
	h->state[s] = HLS_QUEUED;
	hls_next(h);
	return 0;
}

void
hls_end(struct hls *h)
{
	h->ended = 1;
	if (h->listed == h->nseg && !h->closed) {
		h->closed = 1;
		if (hls_write_playlist(h, NULL, 0) == -1)
			log_warn("hls: cannot end the playlist in %s", h->dir);
	}
}

int
hls_closed(const struct hls *h)
{
	return h->closed;
}

double
hls_playable(const struct hls *h)
{
	double t = 0;
	int i;

	for (i = 0; i < h->listed; i++)
		t += h->dur[i];
	return t;
}

void
hls_free(struct hls *h)
{
	int i;

	if (h == NULL)
		return;
	if (h->proc != NULL)
		proc_cancel(h->proc);
	if (h->ev_fail != NULL)
		event_free(h->ev_fail);
	for (i = 0; h->src != NULL && i < h->nseg; i++)
		free(h->src[i]);
	free(h->src);
	free(h->state);
	free(h->start);
	free(h->dur);
	free(h->dir);
	free(h->input);
	free(h);
}
