#include "worker/still.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"
#include "common/util.h"
#include "worker/filter.h"
#include "worker/render.h"

int
still_parse(json_t *j, struct still_task *t, char *err, size_t errlen)
{
	json_error_t jerr;

	memset(t, 0, sizeof *t);
	t->matrix = "bt601";
	t->color_range = "tv";
	if (json_unpack_ex(j, &jerr, 0,
	    "{s:i, s:s, s:s, s:s, s:s, s:F, s:i, s:i, s?i, s:i, s:i, s?s, s?s, s?b}",
	    "task", &t->task, "input", &t->input, "formats", &t->formats, "filter", &t->filter,
	    "output", &t->output, "t", &t->t, "width", &t->width, "height", &t->height,
	    "rotation", &t->rotation, "out_width", &t->out_width, "out_height", &t->out_height,
	    "matrix", &t->matrix, "color_range", &t->color_range, "jpeg", &t->jpeg) == -1)
		return util_err(err, errlen, "bad preview task: %s", jerr.text);
	if (t->width <= 0 || t->height <= 0 || t->out_width <= 0 || t->out_height <= 0 ||
	    (t->width | t->height | t->out_width | t->out_height) & 1 ||
	    t->out_width > t->width || t->out_height > t->height || !(t->t >= 0))
		return util_err(err, errlen, "bad preview task: %dx%d frames shown at %dx%d, at %g s",
		    t->width, t->height, t->out_width, t->out_height, t->t);
	return 0;
}

/* Waits for a child; -1 with "WHAT: the end of its stderr" (or FALLBACK when it said nothing)
 * unless it exited 0 and `ok` (what we got from it was whole). */
static int
still_child_end(pid_t pid, int ok, int cap, const char *what, const char *fallback, char *err,
    size_t errlen)
{
	char tail[512];
	int st = 0;

	spawn_wait(pid, &st, NULL);
	if (ok && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	spawn_capture_tail(cap, tail, sizeof tail);
	return util_err(err, errlen, "%s: %s", what, tail[0] ? tail : fallback);
}

/* The cleanup of a step: a child still running is killed and reaped, fds closed (-1: none). */
static void
still_child_drop(pid_t pid, int fd1, int fd2, int fd3)
{
	if (pid != -1) {
		kill(pid, SIGKILL);
		spawn_wait(pid, NULL, NULL);
	}
	if (fd1 != -1) close(fd1);
	if (fd2 != -1) close(fd2);
	if (fd3 != -1) close(fd3);
}

/* Reads the decoded frame; the decoder's exit status says whether there was one. */
static int
still_decode(const struct still_task *t, uint8_t *buf, size_t size, char *err, size_t errlen)
{
	struct render_task rt;
	char vf[256], ts[32], url[4200], drain[4096];
	pid_t pid = -1;
	int out[2] = { -1, -1 }, cap = -1, rc = -1;
	ssize_t n = 0;

	memset(&rt, 0, sizeof rt);
	rt.width = t->width;
	rt.height = t->height;
	rt.rotation = t->rotation;
	rt.color_range = t->color_range;
	if (render_vf(&rt, vf, sizeof vf) == -1 ||
	    (t->out_width != t->width && snprintf(vf + strlen(vf), sizeof vf - strlen(vf),
	    ",scale=%d:%d:flags=area", t->out_width, t->out_height) >= (int)(sizeof vf - strlen(vf))))
		return util_err(err, errlen, "cannot decode a frame for the preview: filter graph too long");
	snprintf(ts, sizeof ts, "%.3f", t->t);
	snprintf(url, sizeof url, "file:%s", t->input);
	cap = spawn_capture_open("decoder-stderr");
	if (cap == -1 || pipe2(out, O_CLOEXEC) == -1) {
		util_err(err, errlen, "cannot decode a frame for the preview: %s", strerror(errno));
		goto done;
	}
	{
		char *argv[] = { "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		    "-protocol_whitelist", "file", "-format_whitelist", (char *)t->formats,
		    "-noautorotate", "-ss", ts, "-i", url, "-map", "0:v:0", "-frames:v", "1",
		    "-vf", vf, "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1", NULL };

		pid = spawn(argv, -1, out[1], cap, err, errlen);
		if (pid == -1)
			goto done;
	}
	close(out[1]);
	out[1] = -1;
	n = util_read_full(out[0], buf, size, &render_stop);
	/* one frame is all it writes; anything after it is read to the end, not left blocking */
	while (n == (ssize_t)size && util_read_full(out[0], drain, sizeof drain, &render_stop) > 0)
		;
	rc = still_child_end(pid, n == (ssize_t)size, cap, "cannot decode a frame for the preview",
	    "no frame at that time", err, errlen);
	pid = -1;
done:
	still_child_drop(pid, out[0], out[1], cap);
	return rc;
}

/* Encodes the filtered frame into t->output. */
static int
still_encode(const struct still_task *t, const uint8_t *buf, size_t size, char *err, size_t errlen)
{
	char s[32];
	pid_t pid = -1;
	int in[2] = { -1, -1 }, cap = -1, fd = -1, rc = -1, wrote;

	snprintf(s, sizeof s, "%dx%d", t->out_width, t->out_height);
	cap = spawn_capture_open("encoder-stderr");
	fd = open(t->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (cap == -1 || fd == -1 || pipe2(in, O_CLOEXEC) == -1) {
		util_err(err, errlen, "cannot encode the preview into %s: %s", t->output, strerror(errno));
		goto done;
	}
	{
		char *argv[] = { "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		    "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", s, "-i", "pipe:0",
		    "-frames:v", "1", "-f", "image2pipe", "-c:v", t->jpeg ? "mjpeg" : "png",
		    "-q:v", "3", "pipe:1", NULL };

		pid = spawn(argv, in[0], fd, cap, err, errlen);
		if (pid == -1)
			goto done;
	}
	close(in[0]);
	in[0] = -1;
	/* a failed write is the encoder gone: its status and stderr say why */
	wrote = util_write_full(in[1], buf, size, &render_stop);
	close(in[1]);
	in[1] = -1;
	rc = still_child_end(pid, wrote == 0, cap, "cannot encode the preview", "no image", err, errlen);
	pid = -1;
	if (rc == 0 && util_file_size(t->output) <= 0)
		rc = util_err(err, errlen, "cannot encode the preview: no image");
done:
	still_child_drop(pid, in[0], in[1], cap);
	if (fd != -1)
		close(fd);
	return rc;
}

int
still_render(const struct still_task *t, char *err, size_t errlen)
{
	struct filter_chain *fc = NULL;
	struct frame fr;
	uint8_t *buf = NULL;
	size_t size = render_frame_wrap(&fr, NULL, t->out_width, t->out_height);
	int rc = -1;

	fc = filter_chain_parse(t->filter, err, errlen);
	if (fc == NULL || filter_chain_prepare(fc, t->out_width, t->out_height,
	    render_matrix(t->matrix), err, errlen) == -1)
		goto done;
	buf = malloc(size);
	if (buf == NULL) {
		util_err(err, errlen, "out of memory for a %dx%d preview", t->out_width, t->out_height);
		goto done;
	}
	if (still_decode(t, buf, size, err, errlen) == -1)
		goto done;
	render_frame_wrap(&fr, buf, t->out_width, t->out_height);
	filter_chain_apply(fc, &fr);
	if (still_encode(t, buf, size, err, errlen) == -1)
		goto done;
	rc = 0;
done:
	free(buf);
	filter_chain_free(fc);
	return rc;
}
