/*
 * GET /events/{id}: server-sent events. Each stream gets the job's status as one `status`
 * event whenever it changes (coalesced by the server), and ends after the final one.
 */
#include "master/sse.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/util.h"
#include "master/httputil.h"
#include "master/job.h"
#include "master/queue.h"
#include "master/server.h"

struct server_sse {
	struct server_sse *next;
	struct server *s;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	char id[40];
};

static void
sse_unlink(struct server *s, struct server_sse *e)
{
	struct server_sse **pp;

	for (pp = &s->sse; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
}

static void
sse_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct server_sse *e = arg;

	/*
	 * The client went away. evhttp 2.1 frees only the requests still on the connection;
	 * an unfinished one (ours: the stream never ended) was detached from it first
	 * (evhttp_connection_incoming_fail) and is ours to free.
	 */
	if (evhttp_request_get_connection(e->req) == NULL)
		evhttp_request_free(e->req);
	sse_unlink(e->s, e);
	free(e);
}

/* Sends the status; returns 1 when the job is over (or gone) and the stream should end. */
static int
sse_send(struct server_sse *e)
{
	struct evbuffer *buf = evbuffer_new();
	char err[256];
	const char *st;
	json_t *rec;
	char *json;
	int over;

	rec = queue_status(e->s, e->id, err, sizeof err);
	if (rec == NULL) {
		evbuffer_add_printf(buf, "event: gone\ndata: {\"job_id\":\"%s\",\"error\":\"Job not found\"}\n\n", e->id);
		over = 1;
	} else {
		json_object_set_new(rec, "job_id", json_string(e->id));
		json = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(UTIL_JSON_DIGITS));
		evbuffer_add_printf(buf, "event: status\ndata: %s\n\n", json ? json : "{}");
		free(json);
		st = json_string_value(json_object_get(rec, "status"));
		over = job_status_of(st) == JOB_STATUS_COMPLETED || job_status_of(st) == JOB_STATUS_FAILED;
		json_decref(rec);
	}
	evhttp_send_reply_chunk(e->req, buf);
	evbuffer_free(buf);
	return over;
}

static void
sse_end(struct server *s, struct server_sse *e)
{
	evhttp_connection_set_closecb(e->evcon, NULL, NULL);
	evhttp_send_reply_end(e->req);
	sse_unlink(s, e);
	free(e);
}

void
sse_open(struct server *s, struct evhttp_request *req, const char *id)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct server_sse *e;
	char err[256];
	json_t *rec;

	rec = queue_status(s, id, err, sizeof err);
	if (rec == NULL) {
		http_send_error(req, 404, "Job not found", "no job has this id");
		return;
	}
	json_decref(rec);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* a stream has no length: the headers say what GET would be, and that is all */
		evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
		evhttp_add_header(h, "Cache-Control", "no-cache");
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	e = calloc(1, sizeof *e);
	if (e == NULL) {
		http_send_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	e->s = s;
	e->req = req;
	e->evcon = evhttp_request_get_connection(req);
	snprintf(e->id, sizeof e->id, "%s", id);
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_send_reply_start(req, 200, "OK");
	e->next = s->sse;
	s->sse = e;
	evhttp_connection_set_closecb(e->evcon, sse_closed_cb, e);
	if (sse_send(e))
		sse_end(s, e);
}

void
sse_push(struct server *s, const char *id)
{
	struct server_sse *e, *next;

	for (e = s->sse; e != NULL; e = next) {
		next = e->next;
		if (strcmp(e->id, id) == 0 && sse_send(e))
			sse_end(s, e);
	}
}

void
sse_close_all(struct server *s)
{
	while (s->sse != NULL)
		sse_end(s, s->sse);
}

void
sse_ping(struct server *s)
{
	struct server_sse *e;
	struct evbuffer *buf;

	for (e = s->sse; e != NULL; e = e->next) {
		buf = evbuffer_new();
		if (buf == NULL)
			return;
		evbuffer_add_printf(buf, ": ping\n\n");
		evhttp_send_reply_chunk(e->req, buf);
		evbuffer_free(buf);
	}
}
