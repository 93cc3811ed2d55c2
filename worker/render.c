#include "worker/render.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "worker/encode.h"
#include "worker/filter.h"
#include "worker/ring.h"
#include "worker/route.h"

volatile int render_stop;

#define RENDER_PROGRESS_EVERY 0.5  /* seconds between progress reports */

size_t
render_frame_wrap(struct frame *f, uint8_t *buf, int width, int height)
{
	size_t ysize = (size_t)width * height, csize = (size_t)(width / 2) * (height / 2);

	f->data[0] = buf;
	f->data[1] = buf ? buf + ysize : NULL;
	f->data[2] = buf ? buf + ysize + csize : NULL;
	f->linesize[0] = width;
	f->linesize[1] = f->linesize[2] = width / 2;
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
	k = snprintf(buf, n, "%scrop=%d:%d:0:0,%sformat=yuv420p", turn, t->width, t->height,
	    t->color_range != NULL && strcmp(t->color_range, "pc") == 0 ?
	    "scale=in_range=pc:out_range=tv," : "");
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
render_plan(const struct render_task *t, struct filter_chain *fc, int enc_fd, struct route *route,
    struct ring *ring, char *err, size_t errlen)
{
	struct frame fr;
	size_t fsize, len[3];
	unsigned reads, writes;

	fsize = render_frame_wrap(&fr, NULL, t->width, t->height);
	len[0] = (size_t)fr.linesize[0] * (size_t)fr.height;
	len[1] = len[2] = (size_t)fr.linesize[1] * (size_t)(fr.height / 2);
	filter_chain_planes(fc, &reads, &writes);
	/* a skipped frame must not reach the encoder, and a held last picture must be whole */
	if (t->skip > 0 || t->count > 0)
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

int
render_segment(const struct render_task *t, render_progress_fn progress, void *arg,
    struct render_result *res, char *err, size_t errlen)
{
	char vf[256], size[32], tmp[4096], ferr[256], encbufs[ENCODE_BUFS][64];
	struct filter_chain *fc = NULL;
	struct frame fr;
	struct ring ring = { 0 };
	struct route route = { .null_fd = -1 };
	struct rusage ru, self0, self1;
	pid_t dec = -1, enc = -1;
	int dec_out[2] = { -1, -1 }, enc_in[2] = { -1, -1 };
	int dec_err = -1, enc_err = -1, st, reached, enc_gone = 0, rc = -1;
	size_t fsize;
	uint8_t *buf, *sent = NULL;
	double t0 = util_now(), last = t0, f0;
	int64_t decoded = 0;
	ssize_t n;

	memset(res, 0, sizeof *res);
	getrusage(RUSAGE_SELF, &self0);
	if (t->width <= 0 || t->height <= 0 || (t->width | t->height) & 1)
		return util_err(err, errlen, "segment %d: bad frame size %dx%d", t->segment, t->width, t->height);
	if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", t->output, (int)getpid()) >= (int)sizeof tmp)
		return util_err(err, errlen, "segment %d: output path too long", t->segment);
	fc = filter_chain_parse(t->filter, ferr, sizeof ferr);
	if (fc == NULL) {
		util_err(err, errlen, "segment %d: %s", t->segment, ferr);
		goto done;
	}
	if (filter_chain_prepare(fc, t->width, t->height, render_matrix(t->matrix), ferr, sizeof ferr) == -1) {
		util_err(err, errlen, "segment %d: %s", t->segment, ferr);
		goto done;
	}
	render_vf(t, vf, sizeof vf);
	snprintf(size, sizeof size, "%dx%d", t->width, t->height);
	if (pipe2(dec_out, O_CLOEXEC) == -1 || pipe2(enc_in, O_CLOEXEC) == -1) {
		util_err(err, errlen, "segment %d: cannot create pipes: %s", t->segment, strerror(errno));
		goto done;
	}
	/* The pipes keep the kernel's 64 KiB: grown to a frame or 1 MiB (F_SETPIPE_SZ) they cost
	 * more system and user time, not less (scripts/README.md, "Raw-frame pipe size"). */
	fsize = render_frame_wrap(&fr, NULL, t->width, t->height);
	if (render_plan(t, fc, enc_in[1], &route, &ring, ferr, sizeof ferr) == -1) {
		util_err(err, errlen, "segment %d: %dx%d frames: %s", t->segment, t->width, t->height, ferr);
		goto done;
	}
	dec_err = spawn_capture_open("decoder-stderr");
	enc_err = spawn_capture_open("encoder-stderr");
	if (dec_err == -1 || enc_err == -1) {
		util_err(err, errlen, "segment %d: memfd_create: %s", t->segment, strerror(errno));
		goto done;
	}
	{
		/* -threads 1 everywhere: one worker is one core, so the timings mean what they say. */
		char *dargv[40], *eargv[24 + ENCODE_ARGS];
		int i = 0, k = 0;

		dargv[i++] = "ffmpeg"; dargv[i++] = "-nostdin"; dargv[i++] = "-hide_banner";
		dargv[i++] = "-loglevel"; dargv[i++] = "error"; dargv[i++] = "-threads"; dargv[i++] = "1";
		dargv[i++] = "-noautorotate"; dargv[i++] = "-protocol_whitelist"; dargv[i++] = "file";
		if (t->concat) {
			dargv[i++] = "-f"; dargv[i++] = "concat"; dargv[i++] = "-safe"; dargv[i++] = "0";
		}
		dargv[i++] = "-i"; dargv[i++] = (char *)t->input; dargv[i++] = "-map"; dargv[i++] = "0:v:0";
		dargv[i++] = "-an"; dargv[i++] = "-sn"; dargv[i++] = "-dn";
		dargv[i++] = "-filter_threads"; dargv[i++] = "1"; dargv[i++] = "-vf"; dargv[i++] = vf;
		dargv[i++] = "-fps_mode";
		if (t->cfr) {
			dargv[i++] = "passthrough";
		} else {
			dargv[i++] = "cfr"; dargv[i++] = "-r"; dargv[i++] = (char *)t->fps;
		}
		dargv[i++] = "-f"; dargv[i++] = "rawvideo"; dargv[i++] = "-pix_fmt"; dargv[i++] = "yuv420p";
		dargv[i++] = "pipe:1"; dargv[i] = NULL;

		eargv[k++] = "ffmpeg"; eargv[k++] = "-nostdin"; eargv[k++] = "-hide_banner";
		eargv[k++] = "-loglevel"; eargv[k++] = "error"; eargv[k++] = "-y";
		eargv[k++] = "-f"; eargv[k++] = "rawvideo"; eargv[k++] = "-pix_fmt"; eargv[k++] = "yuv420p";
		eargv[k++] = "-s"; eargv[k++] = size; eargv[k++] = "-framerate"; eargv[k++] = (char *)t->fps;
		eargv[k++] = "-i"; eargv[k++] = "pipe:0";
		if (strcmp(t->color_range, "pc") == 0) {
			/* back to the range the input had */
			eargv[k++] = "-filter_threads"; eargv[k++] = "1";
			eargv[k++] = "-vf"; eargv[k++] = "scale=in_range=tv:out_range=pc";
		}
		k = encode_args(t, eargv, k, encbufs);
		eargv[k++] = "-f"; eargv[k++] = "mp4";
		eargv[k++] = tmp; eargv[k] = NULL;

		dec = spawn(dargv, -1, dec_out[1], dec_err, err, errlen);
		if (dec == -1)
			goto done;
		enc = spawn(eargv, enc_in[0], -1, enc_err, err, errlen);
		if (enc == -1)
			goto done;
	}
	close(dec_out[1]);
	close(enc_in[0]);
	dec_out[1] = enc_in[0] = -1;

	for (;;) {
		buf = ring_next(&ring);
		n = route_take(&route, dec_out[0], enc_in[1], buf, &render_stop);
		if (n < 0 && errno == EPIPE && !render_stop) {
			enc_gone = 1;
			break;  /* the encoder died (spliced planes): its status below says why */
		}
		if (n == 0)
			break;
		if (n < 0 || render_stop) {
			util_err(err, errlen, "segment %d: reading frames: %s", t->segment,
			    render_stop ? "stopped" : strerror(errno));
			goto done;
		}
		if ((size_t)n < fsize) {
			util_err(err, errlen, "segment %d: decoder ended inside a frame", t->segment);
			goto done;
		}
		if (decoded++ < t->skip)
			continue;
		f0 = util_now();
		render_frame_wrap(&fr, buf, t->width, t->height);
		filter_chain_apply(fc, &fr);
		res->filter_time += util_now() - f0;
		if (ring_put(&ring, enc_in[1], buf + route.head, fsize - route.head, &render_stop) == -1) {
			if (errno == EPIPE) {
				enc_gone = 1;
				break;  /* the encoder died: its status below says why */
			}
			util_err(err, errlen, "segment %d: writing frames: %s", t->segment,
			    render_stop ? "stopped" : strerror(errno));
			goto done;
		}
		sent = buf;
		res->frames++;
		if (progress != NULL && f0 - last >= RENDER_PROGRESS_EVERY) {
			last = f0;
			progress(arg, res->frames);
		}
		if (t->count > 0 && res->frames == t->count)
			break;
	}
	/* Once we have what we need the decoder may still be running: stop it. */
	reached = t->count > 0 && res->frames == t->count;
	if (reached)
		kill(dec, SIGKILL);
	close(dec_out[0]);
	dec_out[0] = -1;

	spawn_wait(dec, &st, &ru);
	dec = -1;
	res->decode_cpu = render_cpu(&ru);
	/* after the encoder died (a full disk), the decoder's broken pipe is only the echo */
	if (!reached && !enc_gone && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		/* nothing decodable is the reason a user needs; how the decoder ended is the detail */
		render_child_error(t->segment, decoded == 0 ? "no frame could be decoded: decoder" : "decoder",
		    st, dec_err, &res->retry, err, errlen);
		goto done;
	}
	/* A resampled segment that came out short of its share of the output's frames holds its
	 * last picture (still filtered in its buffer), so the segments add up to the whole length. */
	while (t->count > 0 && sent != NULL && res->frames < t->count &&
	    ring_put(&ring, enc_in[1], sent, fsize, &render_stop) == 0)
		res->frames++;
	close(enc_in[1]);
	enc_in[1] = -1;
	spawn_wait(enc, &st, &ru);
	enc = -1;
	res->encode_cpu = render_cpu(&ru);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		render_child_error(t->segment, "encoder", st, enc_err, &res->retry, err, errlen);
		goto done;
	}
	if (res->frames == 0) {
		util_err(err, errlen, "segment %d: no frame could be decoded", t->segment);
		goto done;
	}
	if (rename(tmp, t->output) == -1) {
		util_err(err, errlen, "segment %d: cannot rename %s: %s", t->segment, tmp, strerror(errno));
		goto done;
	}
	res->wall = util_now() - t0;
	/* the worker's own share: reading, filtering and handing on the frames */
	getrusage(RUSAGE_SELF, &self1);
	res->worker_cpu = render_cpu(&self1) - render_cpu(&self0);
	res->max_rss_kb = self1.ru_maxrss;
	rc = 0;
done:
	if (rc == -1 && render_stop)
		res->retry = 1;
	if (dec != -1) {
		kill(dec, SIGKILL);
		spawn_wait(dec, NULL, NULL);
	}
	if (enc != -1) {
		kill(enc, SIGKILL);
		spawn_wait(enc, NULL, NULL);
	}
	if (rc == -1)
		unlink(tmp);
	if (dec_out[0] != -1) close(dec_out[0]);
	if (dec_out[1] != -1) close(dec_out[1]);
	if (enc_in[0] != -1) close(enc_in[0]);
	if (enc_in[1] != -1) close(enc_in[1]);
	if (dec_err != -1) close(dec_err);
	if (enc_err != -1) close(enc_err);
	/* only now: until the encoder is gone its pipe may still point into the ring's pages */
	ring_free(&ring);
	route_free(&route);
	filter_chain_free(fc);
	return rc;
}
