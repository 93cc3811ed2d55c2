/* The body clock of the upload filter: an idle bound and a minimum rate for request bodies. */
#include <sys/time.h>

#include <event2/event.h>

#include "master/upload_conn.h"

/*
 * Slow clients. A request body's own bytes restart evhttp's read timeout, so a
 * client sending one byte a second would hold its connection (and an upload's
 * spool file) for ever. A body gets the idle time between two reads and, in
 * all, the idle time plus one second per min_rate bytes received (Apache's
 * mod_reqtimeout MinRate): anything faster than min_rate never notices. A head
 * needs no clock here: the filter releases nothing of it until it is complete,
 * so evhttp's read timeout bounds a trickled head on its own.
 */

int
upload_in_body(enum upload_state state)
{
	return state == UPLOAD_SPOOL || state == UPLOAD_PASS_BODY ||
	    state == UPLOAD_PASS_CHUNK_SIZE || state == UPLOAD_PASS_CHUNK_DATA ||
	    state == UPLOAD_PASS_TRAILER;
}

/* When the body turns idle, and when it is too slow. */
void
upload_body_limits(const struct upload_conn *c, struct timeval *idle_at,
    struct timeval *slow_at)
{
	int64_t rate = c->srv->min_rate;
	struct timeval extra;

	evutil_timeradd(&c->body_last, &c->srv->idle, idle_at);
	extra.tv_sec = (time_t)(c->body_got / rate);
	extra.tv_usec = (suseconds_t)(c->body_got % rate * 1000000 / rate);
	evutil_timeradd(&c->body_start, &c->srv->idle, slow_at);
	evutil_timeradd(slow_at, &extra, slow_at);
}

static void
upload_body_arm(struct upload_conn *c)
{
	struct timeval now, idle_at, slow_at, wait = { 0, 0 };

	event_base_gettimeofday_cached(c->srv->base, &now);
	upload_body_limits(c, &idle_at, &slow_at);
	if (evutil_timercmp(&slow_at, &idle_at, <))
		idle_at = slow_at;
	if (evutil_timercmp(&idle_at, &now, >))
		evutil_timersub(&idle_at, &now, &wait);
	evtimer_add(c->idle_ev, &wait);
}

void
upload_body_start(struct upload_conn *c)
{
	event_base_gettimeofday_cached(c->srv->base, &c->body_start);
	c->body_last = c->body_start;
	c->body_got = 0;
	upload_body_arm(c);
}

void
upload_body_got(struct upload_conn *c, size_t n)
{
	if (n == 0 || !upload_in_body(c->state))
		return;
	c->body_got += (int64_t)n;
	event_base_gettimeofday_cached(c->srv->base, &c->body_last);
	upload_body_arm(c);
}
