#include "master/upload.h"
#include "master/upload_conn.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/log.h"
#include "master/httputil.h"
#include "master/multipart.h"
#include "master/quota.h"

/*
 * How the filter sits between the socket and evhttp, per connection:
 *
 *   socket -> under (socket bufferevent) -> upload_filter_in_cb -> bev -> evhttp
 *   socket <- upload_write_cb <- upload_filter_out_cb <- bev <- evhttp
 *
 * Input: request heads are parsed with evhttp's own rules, so both sides
 * agree where each request ends. Bytes of other requests are passed on as they
 * come; an upload's head is held back while its body goes to the multipart
 * parser, then released with Content-Length: 0. A new head is only looked at
 * once evhttp has consumed everything released before it (the "gate"), so an
 * upload's result is only ever visible to the request it belongs to.
 *
 * Output: the stock filter in 2.1.12 both stalls (data added while EV_WRITE is
 * off is never flushed) and reports "written" once bytes reach the socket
 * bufferevent's buffer, so a `Connection: close` reply is cut off when evhttp
 * frees the connection. Here bytes go straight from bev's output to the fd, from
 * our own EV_WRITE event only, so evhttp hears "written" once the kernel has them.
 *
 * Teardown: bev owns under (BEV_OPT_CLOSE_ON_FREE, so evhttp does not close the
 * fd itself); under does not own the fd. upload_conn_free_cb takes the fd and
 * closes it, lingering a little first when the client may still be sending so
 * that an early answer (413) is not destroyed by a TCP reset. *
 * The filter's files: this one (a connection, its heads and input, the public calls),
 * upload_spool.c (an upload's body), upload_pass.c (other requests' bodies), upload_body.c
 * (the body clock), upload_write.c (the output, the half-close), upload_linger.c (the
 * lingering close); the head parser is reqhead.c, the file-name sanitizer filename.c, the
 * state they share upload_conn.h.
 */

static TAILQ_HEAD(, upload_conn) upload_conns = TAILQ_HEAD_INITIALIZER(upload_conns);
static int upload_nconns;

static const char upload_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char upload_too_large[] = "the request body is larger than the 1 MiB allowed here "
    "(uploads go to POST /upload)";

/* Hands evhttp what was released outside of the filter callback, if it is reading. */
static void
upload_deliver(struct upload_conn *c)
{
	bufferevent_data_cb readcb = NULL;

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 || !upload_alive(c))
		return;
	bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
	if (readcb != NULL && (bufferevent_get_enabled(c->bev) & EV_READ))
		bufferevent_trigger(c->bev, EV_READ, 0);
}

/* --- request heads (the parser is master/reqhead.c) --- */

/* The request evhttp would route to the /upload callback, as a POST. */
int
upload_head_is_upload(const struct reqhead *h)
{
	const char *path;
	char *decoded;
	int yes;

	if (strcmp(h->method, "POST") != 0)
		return 0;
	if ((path = evhttp_uri_get_path(h->uri_elems)) == NULL)
		return 0;
	/* evhttp_dispatch_callback() %-decodes the path and compares it as a C string */
	if ((decoded = evhttp_uridecode(path, 0, NULL)) == NULL)
		return 0;
	yes = strcmp(decoded, UPLOAD_PATH) == 0;
	free(decoded);
	return yes;
}

/*
 * Looks for the end of the head at the front of src: 1 once complete
 * (c->head_len), 0 while not, -1 past UPLOAD_HEAD_MAX, -2 out of memory.
 */
int
upload_head_find(struct upload_conn *c, struct evbuffer *src)
{
	size_t have = evbuffer_get_length(src), want, i, n;
	struct evbuffer_ptr pos;

	want = have < UPLOAD_HEAD_MAX ? have : UPLOAD_HEAD_MAX;
	if (c->head_got < want) {
		if (c->head_buf == NULL &&
		    (c->head_buf = malloc(UPLOAD_HEAD_MAX + 1)) == NULL)
			return -2;
		if (evbuffer_ptr_set(src, &pos, c->head_got, EVBUFFER_PTR_SET) == -1 ||
		    evbuffer_copyout_from(src, &pos, c->head_buf + c->head_got,
		    want - c->head_got) != (ev_ssize_t)(want - c->head_got))
			return -2;
		for (i = c->head_got; i < want; i++) {
			if (c->head_buf[i] != '\n')
				continue;
			n = i - c->head_line;
			if (c->head_line1 == 0)
				c->head_line1 = i + 1;
			else if (n == 0 || (n == 1 && c->head_buf[i - 1] == '\r')) {
				c->head_len = i + 1;
				return 1;
			}
			c->head_line = i + 1;
		}
		c->head_got = want;
	}
	return have >= UPLOAD_HEAD_MAX ? -1 : 0;
}

void
upload_head_reset(struct upload_conn *c)
{
	free(c->head_buf);
	c->head_buf = NULL;
	c->head_got = c->head_line = c->head_line1 = c->head_len = 0;
}

/* Sends "100 Continue" when nothing else can be on the way out. */
static void
upload_send_continue(struct upload_conn *c, const struct reqhead *h)
{
	bufferevent_data_cb readcb = NULL;
	const char *expect = reqhead_get(h, "Expect");
	short enabled = bufferevent_get_enabled(c->bev);
	ssize_t n;
	int fd;

	if (expect == NULL || strcasecmp(expect, "100-continue") != 0 ||
	    h->major != 1 || h->minor < 1)
		return;
	/* evhttp idle in READING_FIRSTLINE: nothing of an earlier reply is pending */
	bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
	if (readcb == NULL || !(enabled & EV_READ) || (enabled & EV_WRITE) ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    (fd = bufferevent_getfd(c->under)) == -1)
		return;
	c->cont = upload_continue;
	c->cont_left = sizeof upload_continue - 1;
	n = send(fd, c->cont, c->cont_left, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		c->cont += n;
		c->cont_left -= (size_t)n;
	}
	if (c->cont_left > 0)
		upload_want_write(c);
}

/* Copies the head for evhttp without the body framing, with Content-Length: 0. */
int
upload_hold_head(struct upload_conn *c, const char *raw, const struct reqhead *h)
{
	size_t i;
	int r = 0;

	if (c->held == NULL && (c->held = evbuffer_new()) == NULL)
		return -1;
	evbuffer_drain(c->held, evbuffer_get_length(c->held));
	r |= evbuffer_add(c->held, raw, h->line1_end);
	r |= evbuffer_add(c->held, "Content-Length: 0\r\n", 19);
	for (i = 0; i < h->nhdrs; i++) {
		if (reqhead_named(&h->hdrs[i], "Content-Length") ||
		    reqhead_named(&h->hdrs[i], "Transfer-Encoding") ||
		    reqhead_named(&h->hdrs[i], "Expect"))
			continue;
		r |= evbuffer_add(c->held, raw + h->hdrs[i].start,
		    h->hdrs[i].end - h->hdrs[i].start);
	}
	if (h->blank_start > 0)
		r |= evbuffer_add(c->held, raw + h->blank_start,
		    c->head_len - h->blank_start);
	else
		r |= evbuffer_add(c->held, "\r\n", 2);
	return r == 0 ? 0 : -1;
}

/* Strict Content-Length for uploads: digits only, no sign, no overflow. */
static int
upload_content_length(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* An upload head: check what it announces, then spool or answer at once. */
static void
upload_begin(struct upload_conn *c, const struct reqhead *h, struct evbuffer *dst)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1], err[256], what[64];
	const char *cl, *ct;
	int64_t len;

	upload_drop_result(c);
	memset(&c->res, 0, sizeof c->res);
	c->fail_status = 0;
	c->fail_reason[0] = '\0';
	c->file_parts = c->in_file = 0;

	if (reqhead_count(h, "Transfer-Encoding", 1) > 0) {
		upload_answer(c, dst, 411, 1, "uploads need a Content-Length; "
		    "Transfer-Encoding is not accepted");
		return;
	}
	if (reqhead_count(h, "Content-Length", 1) == 0) {
		upload_answer(c, dst, 411, 1, "uploads need a Content-Length");
		return;
	}
	cl = reqhead_get(h, "Content-Length");
	if (reqhead_count(h, "Content-Length", 1) > 1 || cl == NULL ||
	    upload_content_length(cl, &len) == -1) {
		upload_answer(c, dst, 400, 1, "Content-Length is not one plain number");
		return;
	}
	if (len > c->srv->max_bytes) {
		upload_answer(c, dst, 413, 1, "upload of %lld bytes exceeds the limit "
		    "of %lld bytes", (long long)len, (long long)c->srv->max_bytes);
		return;
	}
	snprintf(what, sizeof what, "an upload of %lld bytes", (long long)len);
	if (c->srv->quota != NULL &&
	    quota_reserve(c->srv->quota, len, what, err, sizeof err) == -1) {
		upload_answer(c, dst, 507, 1, "%s", err);
		return;
	}
	c->reserved = len;
	ct = reqhead_get(h, "Content-Type");
	if (!multipart_is_form_data(ct)) {
		upload_answer(c, dst, 415, 1, "uploads must be multipart/form-data");
		return;
	}
	if (multipart_boundary(ct, boundary, sizeof boundary, err, sizeof err) == -1) {
		upload_answer(c, dst, 400, 1, "%s", err);
		return;
	}
	if (upload_spool_parser(c, boundary, err, sizeof err) == -1) {
		upload_answer(c, dst, 500, 1, "%s", err);
		return;
	}
	c->remaining = len;
	c->state = UPLOAD_SPOOL;
	upload_body_start(c);
	if (len == 0)
		upload_spool_end(c, dst);
	else
		upload_send_continue(c, h);
}

/*
 * Answers a request evhttp would answer in HTML, or not at all (a head too large, a method it
 * does not know, a body over its limit), with a JSON error from here, then closes: evhttp never
 * sees the request.
 */
static void
upload_refuse(struct upload_conn *c, int status, const char *header, const char *detail)
{
	char body[512];
	int n, len;

	log_warn("request refused with %d: %s", status, detail);
	len = snprintf(body, sizeof body, "{\"error\":\"%s\",\"detail\":\"%s\"}",
	    http_reason(status), detail);
	free(c->refusal);
	c->refusal = malloc(1024);
	c->state = UPLOAD_DISCARD_ALL;
	if (c->refusal == NULL) {
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		return;
	}
	n = snprintf(c->refusal, 1024, "HTTP/1.1 %d %s\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n%s%s\r\n%s", status,
	    http_reason(status), len, header != NULL ? header : "", header != NULL ? "\r\n" : "",
	    body);
	c->cont = c->refusal;
	c->cont_left = (size_t)n;
	upload_want_write(c);
}

/* 0 when evhttp may have the method; else the refusal has been sent. */
static int
upload_method_check(struct upload_conn *c, const char *method)
{
	static const char *const served[] = {
		"GET", "HEAD", "POST", "DELETE", "OPTIONS", "PUT", "PATCH"
	};
	size_t i;

	for (i = 0; i < sizeof served / sizeof served[0]; i++)
		if (strcmp(method, served[i]) == 0)
			return 0;
	/* methods HTTP defines get 405 with what is served; the rest are not implemented */
	if (strcmp(method, "TRACE") == 0 || strcmp(method, "CONNECT") == 0)
		upload_refuse(c, 405, "Allow: GET, HEAD, POST, DELETE, OPTIONS",
		    "this server does not support this method");
	else
		upload_refuse(c, 501, NULL, "unknown request method");
	return -1;
}

/* A complete head is at the front of src. */
static void
upload_head_done(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct reqhead h;

	if (reqhead_parse(c->head_buf, c->head_len, &h) == -1 ||
	    !upload_head_is_upload(&h)) {
		upload_drop_result(c);
		if (h.method == NULL || h.uri_elems == NULL || h.blank_start == 0) {
			upload_refuse(c, 400, NULL, "malformed request line or header");
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		if (upload_method_check(c, h.method) == -1) {
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		upload_pass_framing(c, &h);
		if (c->state == UPLOAD_PASS_BODY && c->remaining > UPLOAD_BODY_MAX) {
			upload_refuse(c, 413, NULL, upload_too_large);
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		evbuffer_remove_buffer(src, dst, c->head_len);
		goto done;
	}
	if (upload_hold_head(c, c->head_buf, &h) == -1) {
		log_error("cannot hold an upload head: out of memory");
		c->state = UPLOAD_DISCARD_ALL;
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		goto done;
	}
	evbuffer_drain(src, c->head_len);
	upload_begin(c, &h, dst);
done:
	reqhead_clear(&h);
	upload_head_reset(c);
}

/* No end of head within UPLOAD_HEAD_MAX bytes. */
static void
upload_head_oversized(struct upload_conn *c, struct evbuffer *dst)
{
	struct reqhead h;

	memset(&h, 0, sizeof h);
	if (c->head_line1 > 0 &&
	    reqhead_request_line(c->head_buf, c->head_line1, &h) == 0 &&
	    upload_head_is_upload(&h) && upload_hold_head(c, c->head_buf, &h) == 0) {
		upload_drop_result(c);
		memset(&c->res, 0, sizeof c->res);
		upload_answer(c, dst, 431, 1, "request head exceeds %d bytes",
		    UPLOAD_HEAD_MAX);
	} else if (c->head_line1 == 0) {
		upload_refuse(c, 414, NULL, "the request line exceeds 16384 bytes");
	} else {
		upload_refuse(c, 431, NULL, "the request head exceeds 16384 bytes");
	}
	reqhead_clear(&h);
	upload_head_reset(c);
}

/*
 * Moves what it can from src (the socket) to dst (evhttp's input); 1 if
 * anything was consumed.
 */
static int
upload_input(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n;
	int progress = 0, r;

	for (;;) {
		switch (c->state) {
		case UPLOAD_HEAD:
			if (evbuffer_get_length(src) == 0)
				return progress;
			if (evbuffer_get_length(dst) > 0) {
				c->gated = 1;
				return progress;
			}
			c->gated = 0;
			if ((r = upload_head_find(c, src)) == 0)
				return progress;
			if (r == -2) {
				log_error("cannot read a request head: out of memory");
				c->state = UPLOAD_DISCARD_ALL;
				c->kill = 1;
				event_active(c->kick_ev, EV_TIMEOUT, 0);
			} else if (r == -1)
				upload_head_oversized(c, dst);
			else
				upload_head_done(c, src, dst);
			progress = 1;
			break;
		case UPLOAD_PASS_BODY:
		case UPLOAD_PASS_CHUNK_DATA:
			n = evbuffer_get_length(src);
			if (n == 0)
				return progress;
			if ((int64_t)n > c->remaining)
				n = (size_t)c->remaining;
			evbuffer_remove_buffer(src, dst, n);
			c->remaining -= (int64_t)n;
			upload_body_got(c, n);
			progress = 1;
			if (c->remaining == 0)
				c->state = c->state == UPLOAD_PASS_BODY ? UPLOAD_HEAD :
				    UPLOAD_PASS_CHUNK_SIZE;
			break;
		case UPLOAD_PASS_CHUNK_SIZE:
		case UPLOAD_PASS_TRAILER:
			if ((r = upload_pass_line(c, src, dst)) == 0)
				return progress;
			progress = 1;
			if (r == -1)
				/* evhttp has the head and earlier chunks, and answers nothing until the
				 * body is complete: the answer is ours, then the connection ends */
				upload_refuse(c, 413, NULL, upload_too_large);
			else if (c->state == UPLOAD_PASS_CHUNK_SIZE)
				upload_pass_chunk_size(c);
			else if (c->line[0] == '\0')
				c->state = UPLOAD_HEAD;
			break;
		case UPLOAD_PASS_ALL:
			if (evbuffer_get_length(src) == 0)
				return progress;
			evbuffer_add_buffer(dst, src);
			return 1;
		case UPLOAD_SPOOL:
			if (!upload_spool(c, src, dst))
				return progress;
			progress = 1;
			break;
		case UPLOAD_DISCARD_ALL:
			if ((n = evbuffer_get_length(src)) == 0)
				return progress;
			evbuffer_drain(src, n);
			return 1;
		}
	}
}

static enum bufferevent_filter_result
upload_filter_in_cb(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	/* BEV_OK also restarts evhttp's read timeout: a progressing upload lives on */
	return upload_input(arg, src, dst) ? BEV_OK : BEV_NEED_MORE;
}

/* evhttp drained its input: a head held at the gate may go on. */
static void
upload_input_drained_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct upload_conn *c = arg;

	if (c->gated && info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		event_active(c->kick_ev, EV_TIMEOUT, 0);
}

static void
upload_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;

	if (!upload_alive(c))
		return;
	bufferevent_incref(c->bev);
	if (c->kill) {
		bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, 0);
	} else if (c->over_limit) {
		/* evhttp has given the filter its socket by now (it does right after upload_bev_cb) */
		if (c->refusal == NULL)
			upload_refuse(c, 503, "Retry-After: 5", "too many open connections "
			    "(--max-connections)");
	} else {
		upload_input(c, bufferevent_get_input(c->under),
		    bufferevent_get_input(c->bev));
		upload_deliver(c);
		upload_eof_release(c);
	}
	bufferevent_decref(c->bev);
}

/* The body clock ran out: an upload is answered 408, another body hung up on. */
static void
upload_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;
	struct timeval idle_at, slow_at, took;
	char why[128];

	if (!upload_alive(c) || !upload_in_body(c->state))
		return;
	if (!(bufferevent_get_enabled(c->bev) & EV_READ)) {
		/* evhttp is busy with an earlier request and not reading: the
		 * client is not to blame, its clock starts again */
		upload_body_start(c);
		return;
	}
	upload_body_limits(c, &idle_at, &slow_at);
	evutil_timersub(&c->body_last, &c->body_start, &took);
	if (evutil_timercmp(&slow_at, &idle_at, <))
		snprintf(why, sizeof why, "was too slow: %lld bytes in %ld s, under "
		    "%lld bytes/s", (long long)c->body_got, (long)took.tv_sec,
		    (long long)c->srv->min_rate);
	else
		snprintf(why, sizeof why, "sent no data for %ld s",
		    (long)c->srv->idle.tv_sec);
	if (c->state != UPLOAD_SPOOL) {
		log_warn("a request body %s: dropping the connection", why);
		c->state = UPLOAD_DISCARD_ALL;
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		return;
	}
	bufferevent_incref(c->bev);
	upload_answer(c, bufferevent_get_input(c->bev), 408, 1, "the upload %s", why);
	upload_deliver(c);
	bufferevent_decref(c->bev);
}

/* --- teardown --- */

/* bev's context destructor: runs when libevent finalizes bev, after evhttp freed it. */
static void
upload_conn_free_cb(void *arg)
{
	struct upload_conn *c = arg;
	char sink[4096];
	int fd, pending = 0, mid_upload;

	TAILQ_REMOVE(&upload_conns, c, entry);
	upload_nconns--;
	mid_upload = c->state == UPLOAD_SPOOL || c->state == UPLOAD_DISCARD_ALL;
	upload_spool_abort(c);
	upload_drop_result(c);
	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	if (c->kick_ev != NULL)
		event_free(c->kick_ev);
	if (c->idle_ev != NULL)
		event_free(c->idle_ev);
	if (c->write_ev != NULL)
		event_free(c->write_ev);
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	if (c->held != NULL)
		evbuffer_free(c->held);
	free(c->refusal);
	upload_head_reset(c);

	/* under is still referenced by bev here; it does not own the fd */
	if ((fd = bufferevent_getfd(c->under)) != -1) {
		bufferevent_setfd(c->under, -1);
		if (ioctl(fd, FIONREAD, &pending) == -1)
			pending = 0;
		if (c->over_limit) {
			/* no lingering here, where fds are short: what the client sent so far is
			 * read, so that closing does not reset the 503 away */
			while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
				;
			shutdown(fd, SHUT_WR);
			close(fd);
		} else if (mid_upload || pending > 0 ||
		    evbuffer_get_length(bufferevent_get_input(c->under)) > 0)
			upload_linger(c->srv, fd);
		else
			close(fd);
	}
	/* its fd is back: the next one in the backlog may be accepted (and answered) */
	if (c->over_limit && c->srv->lev != NULL)
		evconnlistener_enable(c->srv->lev);
	upload_server_unref(c->srv);
	free(c);
}

/* evhttp's bevcb: the filter for one new connection. */
static struct bufferevent *
upload_bev_cb(struct event_base *base, void *arg)
{
	struct upload_server *srv = arg;
	struct upload_conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		goto fail;
	c->srv = srv;
	c->spool_fd = -1;
	c->state = UPLOAD_HEAD;
	if ((c->under = bufferevent_socket_new(base, -1, 0)) == NULL)
		goto fail;
	c->bev = bufferevent_filter_new(c->under, upload_filter_in_cb,
	    upload_filter_out_cb, BEV_OPT_CLOSE_ON_FREE, upload_conn_free_cb, c);
	if (c->bev == NULL)
		goto fail;
	/* from here on, bufferevent_free(c->bev) ends in upload_conn_free_cb */
	srv->refs++;
	/* as a socket bufferevent's: upload_write_cb writes it to the fd, sendfile included */
	evbuffer_set_flags(bufferevent_get_output(c->bev), EVBUFFER_FLAG_DRAINS_TO_FD);
	/* a connection beyond the limit is answered (503) and closed as soon as evhttp has given
	 * it its socket: one that never sends a request must not hold an fd either */
	if (srv->max_conns > 0 && upload_nconns + srv->nlingers >= srv->max_conns) {
		c->over_limit = 1;
		c->state = UPLOAD_DISCARD_ALL;
		/* the listener's accept loop stops here (libevent 2.1 checks after each one) */
		if (srv->lev != NULL)
			evconnlistener_disable(srv->lev);
	}
	TAILQ_INSERT_TAIL(&upload_conns, c, entry);
	upload_nconns++;
	bufferevent_getcb(c->under, &c->under_read, &c->under_write, &c->under_event,
	    &c->under_arg);
	bufferevent_setcb(c->under, upload_under_read_cb, upload_under_write_cb,
	    upload_under_event_cb, c);
	c->kick_ev = event_new(base, -1, 0, upload_kick_cb, c);
	c->idle_ev = evtimer_new(base, upload_idle_cb, c);
	c->retry_ev = evtimer_new(base, upload_retry_cb, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev),
	    upload_input_drained_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev),
	    upload_output_added_cb, c);
	if (c->kick_ev == NULL || c->idle_ev == NULL || c->retry_ev == NULL ||
	    c->in_cb == NULL || c->out_cb == NULL) {
		bufferevent_free(c->bev);
		c = NULL;
		goto fail;
	}
	if (c->over_limit)
		event_active(c->kick_ev, EV_TIMEOUT, 0);
	return c->bev;
fail:
	/* evhttp falls back to a plain bufferevent: upload_take() refuses its uploads */
	log_error("cannot set up the upload filter for a connection: out of memory");
	if (c != NULL) {
		if (c->under != NULL)
			bufferevent_free(c->under);
		free(c);
	}
	return NULL;
}

/* --- public --- */

struct upload_server *
upload_install(struct evhttp *http, struct event_base *base,
    const struct upload_config *cfg, char *err, size_t errlen)
{
	struct upload_server *srv;
	struct stat st;

	if (cfg->spool_dir == NULL || stat(cfg->spool_dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "upload spool directory %s is not a directory: %s",
		    cfg->spool_dir != NULL ? cfg->spool_dir : "(none)",
		    cfg->spool_dir != NULL ? strerror(errno != 0 ? errno : ENOTDIR) :
		    "not set");
		return NULL;
	}
	if (strlen(cfg->spool_dir) > 3500) {
		snprintf(err, errlen, "upload spool directory path is too long");
		return NULL;
	}
	if (cfg->max_bytes <= 0 || cfg->idle_timeout_s < 0 || cfg->min_rate < 0) {
		snprintf(err, errlen, "upload limits must be positive");
		return NULL;
	}
	if ((srv = calloc(1, sizeof *srv)) == NULL ||
	    (srv->spool_dir = strdup(cfg->spool_dir)) == NULL) {
		free(srv);
		snprintf(err, errlen, "cannot allocate the upload server");
		return NULL;
	}
	srv->base = base;
	srv->max_bytes = cfg->max_bytes;
	srv->quota = cfg->quota;
	srv->idle.tv_sec = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s :
	    UPLOAD_IDLE_DEFAULT_S;
	srv->min_rate = cfg->min_rate > 0 ? cfg->min_rate : UPLOAD_MIN_RATE_DEFAULT;
	srv->max_conns = cfg->max_conns;
	srv->refs = 1;
	TAILQ_INIT(&srv->lingers);
	evhttp_set_bevcb(http, upload_bev_cb, srv);
	return srv;
}

void
upload_set_listener(struct upload_server *srv, struct evconnlistener *lev)
{
	srv->lev = lev;
}

void
upload_free(struct upload_server *srv)
{
	if (srv == NULL)
		return;
	srv->closing = 1;
	while (!TAILQ_EMPTY(&srv->lingers))
		upload_linger_end(TAILQ_FIRST(&srv->lingers));
	upload_server_unref(srv);
}

int
upload_take(struct evhttp_request *req, struct upload_result *out)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct upload_conn *c;

	memset(out, 0, sizeof *out);
	out->status = 400;
	snprintf(out->error, sizeof out->error, "the request body did not go "
	    "through the upload spooler");
	snprintf(out->filename, sizeof out->filename, "upload");
	if (evcon == NULL || evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		return -1;
	bev = evhttp_connection_get_bufferevent(evcon);
	TAILQ_FOREACH(c, &upload_conns, entry) {
		if (c->bev == bev)
			break;
	}
	if (c == NULL || !c->ready)
		return -1;
	*out = c->res;
	if (c->res_close && evhttp_find_header(evhttp_request_get_output_headers(req),
	    "Connection") == NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	c->ready = 0;
	memset(&c->res, 0, sizeof c->res);
	return 0;
}

int
upload_peer_gone(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct upload_conn *c;
	struct bufferevent *bev;
	char b;
	ssize_t n;
	int fd;

	if (evcon == NULL)
		return 1;
	bev = evhttp_connection_get_bufferevent(evcon);
	TAILQ_FOREACH(c, &upload_conns, entry) {
		if (c->bev == bev)
			break;
	}
	if (c == NULL)
		return 0;
	if (c->eof_held)
		return 1;
	if ((fd = bufferevent_getfd(c->under)) == -1)
		return 1;
	/* evhttp stopped reading once it had the request: the socket itself knows */
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}
