#include "worker/render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/argv.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "worker/encode.h"
#include "worker/filter.h"
#include "worker/ring.h"
#include "worker/route.h"
#include "worker/stamps.h"

volatile int render_stop;

#define RENDER_PROGRESS_EVERY 0.5  /* seconds between progress reports */
#define RENDER_PIPE_SIZE (256 * 1024)  /* bytes in each raw-frame pipe (F_SETPIPE_SZ) */

size_t
render_frame_wrap(struct frame *f, uint8_t *buf, int width, int height)
{
	return render_frame_wrap_format(f, buf, width, height, &filter_format_yuv420p);
}

size_t
render_frame_wrap_format(struct frame *f, uint8_t *buf, int width, int height,
    const struct filter_format *fmt)
{
	size_t bps = fmt->depth > 8 ? 2 : 1, ysize = (size_t)width * height * bps;
	size_t cline = (size_t)filter_format_plane_width(fmt, width, 1) * bps;
	size_t csize = cline * (size_t)filter_format_plane_height(fmt, height, 1);

	f->data[0] = buf;
	f->data[1] = buf ? buf + ysize : NULL;
	f->data[2] = buf ? buf + ysize + csize : NULL;
	f->linesize[0] = (int)(width * bps);
	f->linesize[1] = f->linesize[2] = (int)cline;
	f->width = width;
	f->height = height;
	return ysize + 2 * csize;
}

int
render_vf(const struct render_task *t, char *buf, size_t n)
{
	const char *turn = "";
	int k;

	switch (t->rotation) {
	case 90:
		turn = "transpose=clock,";
		break;
	case 180:
		turn = "hflip,vflip,";
		break;
	case 270:
		turn = "transpose=cclock,";
		break;
	}
	/* the filters' maths is on limited range: a full-range picture is brought there */
	k = snprintf(buf, n, "%scrop=%d:%d:0:0,%sformat=%s", turn, t->width, t->height,
	    t->color_range != NULL && strcmp(t->color_range, "pc") == 0 ?
	    "scale=in_range=pc:out_range=tv," : "", t->pix_fmt != NULL ? t->pix_fmt : "yuv420p");
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

enum filter_matrix
render_matrix(const char *name)
{
	return strcmp(name, "bt709") == 0 ? FILTER_BT709 : strcmp(name, "bt2020") == 0 ?
	    FILTER_BT2020 : FILTER_BT601;
}

static double
render_cpu(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	    ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* Plans which bytes of each frame the worker reads (route.c) and sizes the ring of frame
 * buffers for the rest: a few frames for the whole segment, whatever its length. */
static int
render_plan(const struct render_task *t, const struct filter_format *fmt, struct filter_chain *fc,
    int enc_fd, struct route *route, struct ring *ring, char *err, size_t errlen)
{
	struct frame fr;
	size_t fsize, len[3];
	unsigned reads, writes;

	fsize = render_frame_wrap_format(&fr, NULL, t->width, t->height, fmt);
	len[0] = (size_t)fr.linesize[0] * (size_t)fr.height;
	len[1] = len[2] = (size_t)fr.linesize[1] *
	    (size_t)filter_format_plane_height(fmt, fr.height, 1);
	filter_chain_planes(fc, &reads, &writes);
	/* a held last picture (a resampled piece short of its count) must be whole, and a timed
	 * frame's header goes before all of it; pre-roll frames are dropped whole (route_drop) */
	if ((t->count > 0 && !t->cfr) || t->timed)
		reads = writes = FILTER_PLANES_ALL;
	if (route_plan(route, len, reads, writes, err, errlen) == -1 ||
	    ring_init(ring, fsize, fsize - route->head, enc_fd, err, errlen) == -1)
		return -1;
	return 0;
}

/* Describes how a child ended when it failed; sets *retry when a signal killed it. */
static void
render_child_error(int segment, const char *what, int status, int capture, int *retry, char *err, size_t errlen)
{
	char st[128], tail[512];

	spawn_status_str(status, st, sizeof st);
	spawn_capture_tail(capture, tail, sizeof tail);
	if (WIFSIGNALED(status))
		*retry = 1;
	util_err(err, errlen, "segment %d: %s %s%s%s", segment, what, st, tail[0] ? ": " : "", tail);
}

/* The frames' own times, read from the piece. Every packet is said to last the last interval:
 * MP4 takes the others' lengths from one decoding time to the next, and the last frame is shown
 * as long as the one before it instead of not at all. */
static int
render_timed_read(const struct render_task *t, struct stamps *s, char *bsf, size_t n, char *err,
    size_t errlen)
{
	char why[512];
	uint64_t scale;

	if (stamps_read(t->input, t->concat, s, why, sizeof why) == -1)
		return util_err(err, errlen, "segment %d: %s", t->segment, why);
	/* ffmpeg 5.1 applies it in the MP4 muxer's time base: the frames' denominator, doubled up
	 * to 10000 at least (movenc's timescale) */
	for (scale = s->den; scale < 10000; scale *= 2)
		;
	snprintf(bsf, n, "setts=duration=%lld", (long long)llround((double)(stamps_at(s, s->n) -
	    stamps_at(s, s->n - 1)) * s->num * scale / s->den));
	return 0;
}

/* One segment's children, pipes and buffers while it renders; render_teardown frees what is set. */
struct render_run {
	struct filter_chain *fc;
	struct filter_format fmt;  /* the decoder writes, the kernels filter, the encoder reads */
	struct ring ring;
	struct route route;
	pid_t dec, enc;
	int dec_out[2], enc_in[2];
	int dec_err, enc_err;
	size_t fsize;
	uint8_t *sent;          /* the last frame handed to the encoder */
	int64_t decoded;
	int enc_gone;           /* the encoder died: its status says why */
	char tmp[4096];         /* the encoder's output until it is renamed */
	struct stamps stamps;   /* a timed segment's frame times */
	char bsf[64];           /* and the packets' duration for the encoder */
};

/* The decoder's and the encoder's command lines; vf and size are the caller's. */
static int
render_argv(const struct render_task *t, const struct render_run *r, const char *vf,
    const char *size, struct argv *dec, struct argv *enc, char *err, size_t errlen)
{
	/* -threads 1 everywhere: one worker is one core, so the timings mean what they say. */
	argv_add(dec, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
	    "-noautorotate", "-protocol_whitelist", "file", NULL);
	if (t->concat)
		argv_add(dec, "-f", "concat", "-safe", "0", NULL);
	argv_add(dec, "-i", t->input, "-map", "0:v:0", "-an", "-sn", "-dn",
	    "-filter_threads", "1", "-vf", vf, "-fps_mode", NULL);
	if (t->cfr || t->timed)
		argv_add(dec, "passthrough", NULL);
	else
		argv_add(dec, "cfr", "-r", t->fps, NULL);
	argv_add(dec, "-f", "rawvideo", "-pix_fmt", t->pix_fmt, "pipe:1", NULL);

	argv_add(enc, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", NULL);
	if (t->timed)
		argv_add(enc, "-f", "ivf", NULL);
	else
		argv_add(enc, "-f", "rawvideo", "-pix_fmt", t->pix_fmt, "-s", size, "-framerate", t->fps, NULL);
	argv_add(enc, "-i", "pipe:0", NULL);
	if (strcmp(t->color_range, "pc") == 0) {
		/* back to the range the input had */
		argv_add(enc, "-filter_threads", "1", "-vf", "scale=in_range=tv:out_range=pc", NULL);
	}
	encode_args(t, enc);
	if (t->timed) {
		/* every frame at its own time, in the input's time base. No B-frames: with them the
		 * decoding times trail the frames' by a delay that varies with the rate, and MP4
		 * would end the track that much early. */
		argv_add(enc, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-bf", "0",
		    "-bsf:v", r->bsf, NULL);
	}
	argv_add(enc, "-f", "mp4", r->tmp, NULL);
	if (argv_end(dec, err, errlen) == -1 || argv_end(enc, err, errlen) == -1)
		return -1;
	return 0;
}

/* Reads, filters and hands on frames until the decoder ends, the encoder dies (enc_gone) or
 * the task's count is reached. */
static int
render_frames(const struct render_task *t, struct render_run *r, render_progress_fn progress,
    void *arg, double last, struct render_result *res, char *err, size_t errlen)
{
	struct frame fr;
	uint8_t *buf;
	double f0;
	ssize_t n;

	for (;;) {
		buf = ring_next(&r->ring);
		if (r->decoded < t->skip)
			n = route_drop(&r->route, r->dec_out[0], buf, &render_stop);
		else
			n = route_take(&r->route, r->dec_out[0], r->enc_in[1], buf, &render_stop);
		if (n < 0 && errno == EPIPE && !render_stop) {
			r->enc_gone = 1;
			break;  /* the encoder died (spliced planes): its status below says why */
		}
		if (n == 0)
			break;
		if (n < 0 || render_stop)
			return util_err(err, errlen, "segment %d: reading frames: %s", t->segment,
			    render_stop ? "stopped" : strerror(errno));
		if ((size_t)n < r->fsize)
			return util_err(err, errlen, "segment %d: decoder ended inside a frame", t->segment);
		if (r->decoded++ < t->skip)
			continue;
		f0 = util_now();
		render_frame_wrap_format(&fr, buf, t->width, t->height, &r->fmt);
		filter_chain_apply(r->fc, &fr);
		res->filter_time += util_now() - f0;
		if (t->timed && stamps_ivf_frame(r->enc_in[1], r->fsize,
		    stamps_at(&r->stamps, (size_t)res->frames)) == -1) {
			if (errno == EPIPE) {
				r->enc_gone = 1;
				break;
			}
			return util_err(err, errlen, "segment %d: writing frames: %s", t->segment, strerror(errno));
		}
		if (ring_put(&r->ring, r->enc_in[1], buf + r->route.head, r->fsize - r->route.head,
		    &render_stop) == -1) {
			if (errno == EPIPE) {
				r->enc_gone = 1;
				break;  /* the encoder died: its status below says why */
			}
			return util_err(err, errlen, "segment %d: writing frames: %s", t->segment,
			    render_stop ? "stopped" : strerror(errno));
		}
		r->sent = buf;
		res->frames++;
		if (progress != NULL && f0 - last >= RENDER_PROGRESS_EVERY) {
			last = f0;
			progress(arg, res->frames);
		}
		if (t->count > 0 && res->frames == t->count)
			break;
	}
	return 0;
}

/* After the frame loop: waits for both children, judges how they ended, renames the output. */
static int
render_finish(const struct render_task *t, struct render_run *r, struct render_result *res,
    char *err, size_t errlen)
{
	struct rusage ru;
	int st, reached;

	/* Once we have what we need the decoder may still be running: stop it. */
	reached = t->count > 0 && res->frames == t->count;
	if (reached)
		kill(r->dec, SIGKILL);
	close(r->dec_out[0]);
	r->dec_out[0] = -1;

	spawn_wait(r->dec, &st, &ru);
	r->dec = -1;
	res->decode_cpu = render_cpu(&ru);
	/* after the encoder died (a full disk), the decoder's broken pipe is only the echo */
	if (!reached && !r->enc_gone && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		/* nothing decodable is the reason a user needs; how the decoder ended is the detail */
		render_child_error(t->segment, r->decoded == 0 ? "no frame could be decoded: decoder" :
		    "decoder", st, r->dec_err, &res->retry, err, errlen);
		return -1;
	}
	if (res->frames == 0 && !reached && !r->enc_gone && !render_stop) {
		/* Nothing of this piece decodes (a corrupted stretch), yet the decoder read it all:
		 * it adds no frame and no file, and the job goes on; the master refuses a file only
		 * when no piece has a frame. A decoder that failed (no such file) failed above. */
		log_warn("segment %d: no frame could be decoded; it adds nothing", t->segment);
		return 0;
	}
	res->decoded = res->frames;
	/* A resampled segment that came out short of its share of the output's frames holds its
	 * last picture (still filtered in its buffer), so the segments add up to the whole length.
	 * A frame-exact one short of its count lost frames that do not decode: none is made up. */
	while (!t->cfr && t->count > 0 && r->sent != NULL && res->frames < t->count &&
	    ring_put(&r->ring, r->enc_in[1], r->sent, r->fsize, &render_stop) == 0)
		res->frames++;
	close(r->enc_in[1]);
	r->enc_in[1] = -1;
	spawn_wait(r->enc, &st, &ru);
	r->enc = -1;
	res->encode_cpu = render_cpu(&ru);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		render_child_error(t->segment, "encoder", st, r->enc_err, &res->retry, err, errlen);
		return -1;
	}
	if (rename(r->tmp, t->output) == -1)
		return util_err(err, errlen, "segment %d: cannot rename %s: %s", t->segment, r->tmp,
		    strerror(errno));
	return 0;
}

/* Kills the children still running and frees the rest; the output too unless rendered (ok). */
static void
render_teardown(struct render_run *r, int ok)
{
	if (r->dec != -1) {
		kill(r->dec, SIGKILL);
		spawn_wait(r->dec, NULL, NULL);
	}
	if (r->enc != -1) {
		kill(r->enc, SIGKILL);
		spawn_wait(r->enc, NULL, NULL);
	}
	if (!ok && r->tmp[0] != '\0')
		unlink(r->tmp);
	if (r->dec_out[0] != -1) close(r->dec_out[0]);
	if (r->dec_out[1] != -1) close(r->dec_out[1]);
	if (r->enc_in[0] != -1) close(r->enc_in[0]);
	if (r->enc_in[1] != -1) close(r->enc_in[1]);
	if (r->dec_err != -1) close(r->dec_err);
	if (r->enc_err != -1) close(r->enc_err);
	/* only now: until the encoder is gone its pipe may still point into the ring's pages */
	ring_free(&r->ring);
	route_free(&r->route);
	filter_chain_free(r->fc);
	stamps_free(&r->stamps);
}

int
render_segment(const struct render_task *t, render_progress_fn progress, void *arg,
    struct render_result *res, char *err, size_t errlen)
{
	char vf[256], size[32], ferr[256], ewords[128];
	char *dv[40], *ev[24 + ENCODE_ARGS];
	struct render_run r = { .ring = { 0 }, .route = { .null_fd = -1 }, .dec = -1, .enc = -1,
	    .dec_out = { -1, -1 }, .enc_in = { -1, -1 }, .dec_err = -1, .enc_err = -1 };
	struct argv dec, enc;
	struct frame fr;
	struct rusage self0, self1;
	double t0 = util_now();
	int rc = -1;

	memset(res, 0, sizeof *res);
	getrusage(RUSAGE_SELF, &self0);
	if (t->width <= 0 || t->height <= 0 || (t->width | t->height) & 1)
		return util_err(err, errlen, "segment %d: bad frame size %dx%d", t->segment, t->width, t->height);
	if (snprintf(r.tmp, sizeof r.tmp, "%s.%d.tmp", t->output, (int)getpid()) >= (int)sizeof r.tmp)
		return util_err(err, errlen, "segment %d: output path too long", t->segment);
	if (filter_format_from_name(t->pix_fmt, &r.fmt) == -1)
		return util_err(err, errlen, "segment %d: no filter path for pix_fmt %s", t->segment, t->pix_fmt);
	r.fc = filter_chain_parse(t->filter, ferr, sizeof ferr);
	if (r.fc == NULL) {
		util_err(err, errlen, "segment %d: %s", t->segment, ferr);
		goto done;
	}
	if (filter_chain_prepare_format(r.fc, t->width, t->height, &r.fmt, render_matrix(t->matrix),
	    ferr, sizeof ferr) == -1) {
		util_err(err, errlen, "segment %d: %s", t->segment, ferr);
		goto done;
	}
	render_vf(t, vf, sizeof vf);
	snprintf(size, sizeof size, "%dx%d", t->width, t->height);
	if (pipe2(r.dec_out, O_CLOEXEC) == -1 || pipe2(r.enc_in, O_CLOEXEC) == -1) {
		util_err(err, errlen, "segment %d: cannot create pipes: %s", t->segment, strerror(errno));
		goto done;
	}
	/* 256 KiB pipes: a third of the voluntary context switches of the kernel's 64 KiB and
	 * mostly less system time; the wall time stays within this machine's noise, and 1 MiB cost
	 * more user time (scripts/README.md, "Raw-frame pipe size"). Refused (the user's
	 * pipe-user-pages-soft spent), the default stays: the ring asks the pipe its size. */
	(void)fcntl(r.dec_out[0], F_SETPIPE_SZ, RENDER_PIPE_SIZE);
	(void)fcntl(r.enc_in[0], F_SETPIPE_SZ, RENDER_PIPE_SIZE);
	r.fsize = render_frame_wrap_format(&fr, NULL, t->width, t->height, &r.fmt);
	if (render_plan(t, &r.fmt, r.fc, r.enc_in[1], &r.route, &r.ring, ferr, sizeof ferr) == -1) {
		util_err(err, errlen, "segment %d: %dx%d frames: %s", t->segment, t->width, t->height, ferr);
		goto done;
	}
	if (t->timed && render_timed_read(t, &r.stamps, r.bsf, sizeof r.bsf, err, errlen) == -1)
		goto done;
	r.dec_err = spawn_capture_open("decoder-stderr");
	r.enc_err = spawn_capture_open("encoder-stderr");
	if (r.dec_err == -1 || r.enc_err == -1) {
		util_err(err, errlen, "segment %d: memfd_create: %s", t->segment, strerror(errno));
		goto done;
	}
	argv_init(&dec, dv, sizeof dv / sizeof *dv, NULL, 0);
	argv_init(&enc, ev, sizeof ev / sizeof *ev, ewords, sizeof ewords);
	if (render_argv(t, &r, vf, size, &dec, &enc, err, errlen) == -1)
		goto done;
	r.dec = spawn(dec.v, -1, r.dec_out[1], r.dec_err, err, errlen);
	if (r.dec == -1)
		goto done;
	r.enc = spawn(enc.v, r.enc_in[0], -1, r.enc_err, err, errlen);
	if (r.enc == -1)
		goto done;
	close(r.dec_out[1]);
	close(r.enc_in[0]);
	r.dec_out[1] = r.enc_in[0] = -1;
	if (t->timed && stamps_ivf_header(r.enc_in[1], &r.stamps, t->pix_fmt, t->width, t->height) == -1) {
		util_err(err, errlen, "segment %d: writing frames: %s", t->segment, strerror(errno));
		goto done;
	}

	if (render_frames(t, &r, progress, arg, t0, res, err, errlen) == -1 ||
	    render_finish(t, &r, res, err, errlen) == -1)
		goto done;
	res->wall = util_now() - t0;
	/* the worker's own share: reading, filtering and handing on the frames */
	getrusage(RUSAGE_SELF, &self1);
	res->worker_cpu = render_cpu(&self1) - render_cpu(&self0);
	res->max_rss_kb = self1.ru_maxrss;
	res->copied = (int64_t)r.route.copied;
	rc = 0;
done:
	if (rc == -1 && render_stop)
		res->retry = 1;
	/* a piece that decoded nothing leaves no file */
	render_teardown(&r, rc == 0 && res->frames > 0);
	return rc;
}
