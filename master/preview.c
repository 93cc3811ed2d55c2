#include "master/preview.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/util.h"
#include "master/pool.h"
#include "master/probe.h"

/* The most an image may weigh (an 8K PNG of noise stays far under it). */
#define PREVIEW_MAX_IMAGE	(64 << 20)

struct preview {
	struct pool *pool;
	char image[4096];       /* the worker writes the image there; unlinked once read */
	preview_cb cb;
	void *arg;
};

/* The image into a malloc'd buffer; NULL with a message. */
static char *
preview_read(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		util_err(err, errlen, "cannot read the preview %s: %s", path, strerror(errno));
		goto done;
	}
	if (st.st_size <= 0 || st.st_size > PREVIEW_MAX_IMAGE) {
		util_err(err, errlen, "cannot encode the preview: %s", st.st_size <= 0 ? "no image" :
		    "image too large");
		goto done;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL || util_read_full(fd, buf, (size_t)st.st_size, NULL) != st.st_size) {
		util_err(err, errlen, "cannot read the preview %s: %s", path,
		    buf == NULL ? "out of memory" : "file changed while read");
		free(buf);
		buf = NULL;
		goto done;
	}
	*len = (size_t)st.st_size;
done:
	if (fd != -1)
		close(fd);
	return buf;
}

static void
preview_done_cb(struct pool *p, json_t *results, const char *error, void *arg)
{
	struct preview *pv = arg;
	char msg[1024], *image = NULL;
	size_t len = 0;

	if (error == NULL)
		image = preview_read(pv->image, &len, msg, sizeof msg);
	if (error != NULL)
		pv->cb(NULL, 0, error, pv->arg);
	else if (image == NULL)
		pv->cb(NULL, 0, msg, pv->arg);
	else
		pv->cb(image, len, NULL, pv->arg);
	free(image);
	unlink(pv->image);
	/* the worker leaves once idle; the pool frees itself after it is reaped */
	pool_release(pv->pool);
	free(pv);
}

int
preview_start(struct event_base *base, const struct preview_req *r, preview_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct preview *pv;
	json_t *tasks = NULL;
	double t = r->t;
	int w = r->probe->out_w, h = r->probe->out_h, fd, rc = -1;

	pv = calloc(1, sizeof *pv);
	if (pv == NULL)
		return util_err(err, errlen, "out of memory");
	pv->cb = cb;
	pv->arg = arg;
	if ((double)w * h > PREVIEW_MAX_PIXELS) {
		/* a still to look at, not to measure: an 8K frame is rendered at 4K, in a quarter
		 * of the memory (the decoded frame and its image are held while it renders) */
		double k = sqrt((double)PREVIEW_MAX_PIXELS / ((double)w * h));

		w = (int)(w * k) & ~1;
		h = (int)(h * k) & ~1;
	}
	/* a time past the end shows the last second rather than nothing */
	if (t > r->probe->duration - 1.0 / r->probe->fps)
		t = r->probe->duration - 1.0 / r->probe->fps;
	if (!(t > 0))
		t = 0;
	snprintf(pv->image, sizeof pv->image, "%s/preview-XXXXXX", r->tmpdir);
	fd = mkstemp(pv->image);
	if (fd == -1) {
		util_err(err, errlen, "cannot create a file in %s: %s", r->tmpdir, strerror(errno));
		pv->image[0] = '\0';
		goto done;
	}
	close(fd);
	/* a worker of its own, forked for this still: the render's pool may be busy for minutes */
	pv->pool = pool_new(base, 1, err, errlen);
	if (pv->pool == NULL)
		goto done;
	tasks = json_pack("[{s:s, s:i, s:s, s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:b}]",
	    "kind", "preview", "segment", 0, "input", r->input, "formats", PROBE_DEMUXERS,
	    "filter", r->filter, "output", pv->image, "t", t, "width", r->probe->out_w,
	    "height", r->probe->out_h, "rotation", r->probe->rotation, "out_width", w, "out_height", h,
	    "matrix", r->probe->matrix, "color_range", r->probe->color_range, "jpeg", r->jpeg);
	if (tasks == NULL) {
		util_err(err, errlen, "cannot describe the preview's task");
		goto done;
	}
	if (pool_map_async(pv->pool, tasks, preview_done_cb, NULL, pv, err, errlen) == -1)
		goto done;
	rc = 0;
done:
	json_decref(tasks);
	if (rc == -1) {
		if (pv->pool != NULL)
			pool_release(pv->pool);
		if (pv->image[0] != '\0')
			unlink(pv->image);
		free(pv);
	}
	return rc;
}
