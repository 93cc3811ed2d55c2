#ifndef MASTER_SSE_H
#define MASTER_SSE_H

/* GET /events/{id}: the event streams of `master serve`, reading the status from the queue. */
struct evhttp_request;
struct server;

/* Opens a stream on req following job id, and sends its status now. */
void sse_open(struct server *s, struct evhttp_request *req, const char *id);
/* Sends the job's current status to every stream that follows it; ends finished ones. */
void sse_push(struct server *s, const char *id);
void sse_close_all(struct server *s);
/* A comment line on every stream, so a quiet one (a job waiting in the queue) stays open. */
void sse_ping(struct server *s);

#endif
