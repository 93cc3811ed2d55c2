#include "master/preview.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "master/probe.h"
#include "master/proc.h"
#include "worker/filter.h"
#include "worker/render.h"

struct preview {
	struct event_base *base;
	struct filter_chain *fc;
	int width, height, jpeg;
	char raw[4096];
	preview_cb cb;
	void *arg;
};

static void
preview_free(struct preview *pv)
{
	if (pv->raw[0] != '\0')
		unlink(pv->raw);
	filter_chain_free(pv->fc);
	free(pv);
}

static void
preview_encoded_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct preview *pv = arg;
	char msg[600];

	if (status != 0 || outlen == 0) {
		snprintf(msg, sizeof msg, "cannot encode the preview: %s", errtail[0] ? errtail : "no image");
		pv->cb(NULL, 0, msg, pv->arg);
	} else {
		pv->cb(out, outlen, NULL, pv->arg);
	}
	preview_free(pv);
}

static void
preview_decoded_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct preview *pv = arg;
	size_t ysize = (size_t)pv->width * pv->height, csize = ysize / 4;
	char msg[600], size[32];
	struct frame fr;
	uint8_t *buf = NULL;
	int fd = -1;

	if (status != 0 || outlen < ysize + 2 * csize) {
		snprintf(msg, sizeof msg, "cannot decode a frame for the preview: %s",
		    errtail[0] ? errtail : "no frame at that time");
		goto fail;
	}
	/* the frame is filtered in a copy we own: the proc's buffer is read-only to us */
	buf = malloc(ysize + 2 * csize);
	if (buf == NULL) {
		snprintf(msg, sizeof msg, "out of memory");
		goto fail;
	}
	memcpy(buf, out, ysize + 2 * csize);
	render_frame_wrap(&fr, buf, pv->width, pv->height);
	filter_chain_apply(pv->fc, &fr);
	fd = open(pv->raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || util_write_full(fd, buf, ysize + 2 * csize, NULL) == -1) {
		snprintf(msg, sizeof msg, "cannot write %s: %s", pv->raw, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	free(buf);
	buf = NULL;
	snprintf(size, sizeof size, "%dx%d", pv->width, pv->height);
	{
		char *argv[] = { "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		    "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-i", pv->raw,
		    "-frames:v", "1", "-f", "image2pipe", "-c:v", pv->jpeg ? "mjpeg" : "png",
		    "-q:v", "3", "pipe:1", NULL };

		if (proc_start(pv->base, argv, 64 << 20, preview_encoded_cb, pv, msg, sizeof msg) == NULL)
			goto fail;
	}
	return;
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	pv->cb(NULL, 0, msg, pv->arg);
	preview_free(pv);
}

int
preview_start(struct event_base *base, const struct preview_req *r, preview_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct render_task task;
	struct preview *pv;
	char url[4200], vf[256], ts[32];
	double t = r->t;

	pv = calloc(1, sizeof *pv);
	if (pv == NULL)
		return util_err(err, errlen, "out of memory");
	pv->base = base;
	pv->cb = cb;
	pv->arg = arg;
	pv->jpeg = r->jpeg;
	pv->width = r->probe->out_w;
	pv->height = r->probe->out_h;
	if ((double)pv->width * pv->height > PREVIEW_MAX_PIXELS) {
		/* a still to look at, not to measure: an 8K frame is rendered at 4K, in a quarter
		 * of the memory (the decoded frame and its image are held while it renders) */
		double k = sqrt((double)PREVIEW_MAX_PIXELS / ((double)pv->width * pv->height));

		pv->width = (int)(pv->width * k) & ~1;
		pv->height = (int)(pv->height * k) & ~1;
	}
	pv->fc = filter_chain_parse(r->filter, err, errlen);
	if (pv->fc == NULL || filter_chain_prepare(pv->fc, pv->width, pv->height,
	    render_matrix(r->probe->matrix), err, errlen) == -1)
		goto fail;
	snprintf(pv->raw, sizeof pv->raw, "%s/preview-XXXXXX", r->tmpdir);
	{
		int fd = mkstemp(pv->raw);

		if (fd == -1) {
			util_err(err, errlen, "cannot create a file in %s: %s", r->tmpdir, strerror(errno));
			pv->raw[0] = '\0';
			goto fail;
		}
		close(fd);
	}
	/* a time past the end shows the last second rather than nothing */
	if (t > r->probe->duration - 1.0 / r->probe->fps)
		t = r->probe->duration - 1.0 / r->probe->fps;
	if (!(t > 0))
		t = 0;
	snprintf(ts, sizeof ts, "%.3f", t);
	snprintf(url, sizeof url, "file:%s", r->input);
	memset(&task, 0, sizeof task);
	task.width = r->probe->out_w;
	task.height = r->probe->out_h;
	task.rotation = r->probe->rotation;
	task.color_range = r->probe->color_range;
	render_vf(&task, vf, sizeof vf);
	if (pv->width != task.width)
		snprintf(vf + strlen(vf), sizeof vf - strlen(vf), ",scale=%d:%d:flags=area", pv->width,
		    pv->height);
	{
		char *argv[] = { "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		    "-protocol_whitelist", "file", "-format_whitelist", PROBE_DEMUXERS,
		    "-noautorotate", "-ss", ts, "-i", url, "-map", "0:v:0", "-frames:v", "1",
		    "-vf", vf, "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1", NULL };
		size_t need = (size_t)pv->width * pv->height * 3 / 2;

		if (proc_start(base, argv, need + 16, preview_decoded_cb, pv, err, errlen) == NULL)
			goto fail;
	}
	return 0;
fail:
	preview_free(pv);
	return -1;
}
