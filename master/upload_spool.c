/*
 * An upload's body: the multipart parser fed as bytes arrive, the form's file part written to
 * a spool file, the quota reserved from the Content-Length and settled at the end, and the
 * outcome handed to evhttp with the held head (upload_take() reads it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "master/filename.h"
#include "master/multipart.h"
#include "master/quota.h"
#include "master/upload_conn.h"

/* The upload's reservation ends; kept bytes of its spool file stay counted. */
static void
upload_settle(struct upload_conn *c, int64_t kept)
{
	if (c->srv->quota != NULL && c->reserved > 0)
		quota_settle(c->srv->quota, c->reserved, kept);
	c->reserved = 0;
}

void
upload_spool_abort(struct upload_conn *c)
{
	upload_settle(c, 0);
	if (c->spool_fd != -1) {
		close(c->spool_fd);
		c->spool_fd = -1;
	}
	if (c->res.path[0] != '\0' && !c->ready) {
		if (unlink(c->res.path) == -1 && errno != ENOENT)
			log_warn("cannot remove spool file %s: %s", c->res.path,
			    strerror(errno));
		c->res.path[0] = '\0';
	}
	if (c->mp != NULL) {
		multipart_free(c->mp);
		c->mp = NULL;
	}
	if (c->idle_ev != NULL)
		evtimer_del(c->idle_ev);
}

/* A result the handler never took: its file goes. */
void
upload_drop_result(struct upload_conn *c)
{
	if (!c->ready)
		return;
	c->ready = 0;
	if (c->res.status == 0 && c->res.path[0] != '\0') {
		log_warn("upload %s was not taken by a handler, removing it",
		    c->res.path);
		if (c->srv->quota != NULL)
			quota_settle(c->srv->quota, 0, -c->res.size);
		if (unlink(c->res.path) == -1 && errno != ENOENT)
			log_warn("cannot remove spool file %s: %s", c->res.path,
			    strerror(errno));
	}
	memset(&c->res, 0, sizeof c->res);
}

/* Storage full is 507; anything else about the spool directory is ours: 500. */
static int
upload_disk_status(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG ? 507 : 500;
}

static void
upload_fail(struct upload_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
upload_fail(struct upload_conn *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->fail_status != 0)
		return;
	c->fail_status = status;
	va_start(ap, fmt);
	vsnprintf(c->fail_reason, sizeof c->fail_reason, fmt, ap);
	va_end(ap);
}

static int
upload_spool_open(struct upload_conn *c)
{
	unsigned char rnd[12];
	char name[64];
	int tries, n;
	size_t i;

	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			upload_fail(c, 500, "cannot get random bytes for a spool file "
			    "name: %s", strerror(errno));
			return -1;
		}
		n = snprintf(name, sizeof name, "upload-");
		for (i = 0; i < sizeof rnd; i++)
			n += snprintf(name + n, sizeof name - (size_t)n, "%02x", rnd[i]);
		snprintf(name + n, sizeof name - (size_t)n, ".part");
		if ((size_t)snprintf(c->res.path, sizeof c->res.path, "%s/%s",
		    c->srv->spool_dir, name) >= sizeof c->res.path) {
			upload_fail(c, 500, "spool directory path is too long");
			c->res.path[0] = '\0';
			return -1;
		}
		c->spool_fd = open(c->res.path, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (c->spool_fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	upload_fail(c, upload_disk_status(errno), "cannot create spool file %s: %s",
	    c->res.path, strerror(errno));
	c->res.path[0] = '\0';
	return -1;
}

static int
upload_part_begin_cb(const struct multipart_part *part, void *arg)
{
	struct upload_conn *c = arg;

	if (strcmp(part->name, UPLOAD_FIELD) != 0)
		return 0;
	if (c->file_parts++ > 0) {
		upload_fail(c, 400, "the form has two \"" UPLOAD_FIELD "\" fields");
		return -1;
	}
	filename_sanitize(part->filename, c->res.filename,
	    sizeof c->res.filename);
	if (upload_spool_open(c) == -1)
		return -1;
	c->in_file = 1;
	return 0;
}

static int
upload_part_data_cb(const char *data, size_t len, void *arg)
{
	struct upload_conn *c = arg;
	ssize_t n;

	if (!c->in_file)
		return 0;
	while (len > 0) {
		if ((n = write(c->spool_fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			upload_fail(c, upload_disk_status(errno), "cannot write "
			    "upload to %s: %s", c->res.path, strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
		c->res.size += n;
	}
	return 0;
}

static int
upload_part_end_cb(void *arg)
{
	struct upload_conn *c = arg;

	c->in_file = 0;
	return 0;
}

int
upload_spool_parser(struct upload_conn *c, const char *boundary, char *err, size_t errlen)
{
	struct multipart_cbs cbs;

	cbs.begin_cb = upload_part_begin_cb;
	cbs.data_cb = upload_part_data_cb;
	cbs.end_cb = upload_part_end_cb;
	c->mp = multipart_new(boundary, &cbs, c, err, errlen);
	return c->mp != NULL ? 0 : -1;
}

/*
 * Releases the held upload head to evhttp with the outcome for upload_take().
 * hangup: the body was not read to its end, so what follows is not HTTP.
 */
void
upload_answer(struct upload_conn *c, struct evbuffer *dst, int status, int hangup,
    const char *fmt, ...)
{
	va_list ap;

	c->res.status = status;
	c->res_close = hangup;
	if (status != 0) {
		va_start(ap, fmt);
		vsnprintf(c->res.error, sizeof c->res.error, fmt, ap);
		va_end(ap);
		log_warn("upload refused with %d: %s", status, c->res.error);
		upload_spool_abort(c);
		c->res.size = 0;
	} else {
		upload_settle(c, c->res.size);
		log_info("upload of %lld bytes (\"%s\") spooled to %s",
		    (long long)c->res.size, c->res.filename, c->res.path);
	}
	if (c->res.filename[0] == '\0')
		snprintf(c->res.filename, sizeof c->res.filename, "upload");
	evbuffer_add_buffer(dst, c->held);
	c->ready = 1;
	c->state = hangup ? UPLOAD_DISCARD_ALL : UPLOAD_HEAD;
}

/* The whole announced body went through the parser. */
void
upload_spool_end(struct upload_conn *c, struct evbuffer *dst)
{
	char err[256];

	evtimer_del(c->idle_ev);
	if (multipart_finish(c->mp, err, sizeof err) == -1) {
		upload_answer(c, dst, 400, 0, "malformed multipart body: %s", err);
		return;
	}
	if (c->file_parts == 0) {
		upload_answer(c, dst, 400, 0, "the form has no \"" UPLOAD_FIELD
		    "\" field");
		return;
	}
	if (close(c->spool_fd) == -1) {
		c->spool_fd = -1;
		upload_answer(c, dst, upload_disk_status(errno), 0, "cannot write "
		    "upload to %s: %s", c->res.path, strerror(errno));
		return;
	}
	c->spool_fd = -1;
	multipart_free(c->mp);
	c->mp = NULL;
	upload_answer(c, dst, 0, 0, "done");
}

/* Feeds body bytes to the parser; 1 if any were consumed. */
int
upload_spool(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct evbuffer_iovec v[8];
	char err[256];
	size_t want, fed = 0, n;
	int i, nv, r = 0;

	while (c->remaining > 0 && (want = evbuffer_get_length(src)) > 0) {
		if ((int64_t)want > c->remaining)
			want = (size_t)c->remaining;
		nv = evbuffer_peek(src, (ev_ssize_t)want, NULL, v, 8);
		if (nv > 8)
			nv = 8;
		for (n = 0, i = 0; i < nv && n < want && r == 0; i++) {
			size_t len = v[i].iov_len < want - n ? v[i].iov_len : want - n;

			r = multipart_feed(c->mp, v[i].iov_base, len, err, sizeof err);
			n += len;
		}
		if (n == 0)
			break;
		evbuffer_drain(src, n);
		c->remaining -= (int64_t)n;
		fed += n;
		if (r == -1) {
			if (c->fail_status != 0)
				upload_answer(c, dst, c->fail_status, c->remaining > 0,
				    "%s", c->fail_reason);
			else
				upload_answer(c, dst, 400, c->remaining > 0,
				    "malformed multipart body: %s", err);
			return 1;
		}
	}
	upload_body_got(c, fed);
	if (c->remaining == 0)
		upload_spool_end(c, dst);
	return fed > 0;
}
