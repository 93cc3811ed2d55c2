/*
 * The upload filter's output: bytes go straight from the filter's output (what evhttp wrote)
 * to the socket, from our own EV_WRITE event only, so evhttp hears "written" once the kernel
 * has them (see the diagram at the top of master/upload.c). And the half-close: a client's
 * end of input held back from evhttp until its reply is out.
 */
#include <errno.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "master/upload_conn.h"

#define UPLOAD_WRITE_RETRY_MS	50

static void	upload_write_cb(evutil_socket_t fd, short what, void *arg);

/* 1 until bev is being freed: bufferevent_free() clears the callbacks, evhttp keeps its own
 * set otherwise. */
int
upload_alive(struct upload_conn *c)
{
	bufferevent_event_cb eventcb = NULL;

	/* bufferevent_free() clears the callbacks; evhttp keeps its own set otherwise */
	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
	return eventcb != NULL;
}

/* Watches the fd for room to write: evhttp's output or the rest of "100 Continue". */
void
upload_want_write(struct upload_conn *c)
{
	int fd;

	if (c->write_ev == NULL) {
		if ((fd = bufferevent_getfd(c->under)) == -1)
			return;
		c->write_ev = event_new(c->srv->base, fd, EV_WRITE | EV_PERSIST,
		    upload_write_cb, c);
		if (c->write_ev == NULL) {
			log_error("cannot create a write event: out of memory");
			return;
		}
	}
	if (!event_pending(c->write_ev, EV_WRITE, NULL))
		event_add(c->write_ev, NULL);
}

void
upload_output_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	if (info->n_added > 0)
		upload_want_write(arg);
}

enum bufferevent_filter_result
upload_filter_out_cb(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct upload_conn *c = arg;
	int n;

	/* only from upload_write_cb: a write reported from inside evbuffer_add()
	 * would run evhttp's completion callback before evhttp has set it */
	if (!c->writing || c->cont_left > 0) {
		upload_want_write(c);
		return BEV_NEED_MORE;
	}
	n = evbuffer_write(src, bufferevent_getfd(c->under));
	if (n > 0)
		return BEV_OK;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		c->write_errno = errno;
		return BEV_ERROR;
	}
	return BEV_NEED_MORE;
}

void
upload_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;

	if (upload_alive(c) && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		upload_want_write(c);
}

static void
upload_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;
	struct timeval retry = { 0, UPLOAD_WRITE_RETRY_MS * 1000 };
	ssize_t n;

	if (!upload_alive(c)) {
		event_del(c->write_ev);
		return;
	}
	bufferevent_incref(c->bev);
	if (c->cont_left > 0) {
		n = send(fd, c->cont, c->cont_left, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->cont += n;
			c->cont_left -= (size_t)n;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR)
			c->cont_left = 0;	/* the reading side will see the error */
		if (c->cont_left > 0)
			goto done;
		if (c->refusal != NULL) {
			/* said all there is to say: hang up (lingering, so that it is read) */
			event_del(c->write_ev);
			c->kill = 1;
			event_active(c->kick_ev, EV_TIMEOUT, 0);
			goto done;
		}
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		event_del(c->write_ev);
		goto done;
	}
	if (!(bufferevent_get_enabled(c->bev) & EV_WRITE)) {
		/* evhttp enables writing right after queueing; look again soon */
		event_del(c->write_ev);
		evtimer_add(c->retry_ev, &retry);
		goto done;
	}
	c->writing = 1;
	bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
	c->writing = 0;
	if (!upload_alive(c)) {
		event_del(c->write_ev);
	} else if (c->write_errno != 0) {
		event_del(c->write_ev);
		errno = c->write_errno;
		bufferevent_trigger_event(c->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR, 0);
	} else if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		event_del(c->write_ev);
		upload_eof_release(c);
	}
done:
	bufferevent_decref(c->bev);
}

/* --- half-close --- */

/* 1 while something of the client's is unanswered: its reply being written, or request
 * bytes evhttp has not taken yet. */
static int
upload_owes_reply(struct upload_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->under)) > 0 || c->cont_left > 0;
}

/* Tells evhttp of a held end of input once nothing is owed any more. */
void
upload_eof_release(struct upload_conn *c)
{
	if (!c->eof_held || !upload_alive(c) || upload_owes_reply(c))
		return;
	c->eof_held = 0;
	c->under_event(c->under, BEV_EVENT_READING | BEV_EVENT_EOF, c->under_arg);
}

void
upload_under_read_cb(struct bufferevent *under, void *arg)
{
	struct upload_conn *c = arg;

	c->under_read(under, c->under_arg);
}

void
upload_under_write_cb(struct bufferevent *under, void *arg)
{
	struct upload_conn *c = arg;

	c->under_write(under, c->under_arg);
}

/*
 * A client may send its request and shut its sending side (`nc -N`, shutdown(SHUT_WR)): the
 * end of input then arrives while the reply is still on its way, and evhttp, told at once,
 * would drop the connection with it. The end is held until the reply is out.
 */
void
upload_under_event_cb(struct bufferevent *under, short what, void *arg)
{
	struct upload_conn *c = arg;

	if ((what & BEV_EVENT_READING) && (what & BEV_EVENT_EOF) && upload_alive(c) &&
	    upload_owes_reply(c)) {
		c->eof_held = 1;
		return;
	}
	c->under_event(under, what, c->under_arg);
}
