#ifndef MASTER_API_H
#define MASTER_API_H

/* The HTTP API of `master serve`: the routes and the checks of their requests. */
#include <stddef.h>
#include <jansson.h>

#include "master/format.h"

struct evhttp_request;
struct fspec;

/* Every route of `master serve` (evhttp's generic callback; arg: the struct server). */
void api_handle_cb(struct evhttp_request *req, void *arg);

/* A POST /process body, checked. The caller sets the defaults of workers, baseline and
 * segment_seconds; the strings are the body's. */
struct api_process_req {
	const char *job_id, *filter_type;
	struct fspec *fc;     /* the caller's to free */
	int workers, baseline;
	double segment_seconds;
	struct format format;        /* "format", "codec", "crf", "bitrate", "audio" */
	int crf;                     /* the server's --crf, the default */
	const char *title;           /* the "error" of a refusal */
};
/* 200, or the status of the refusal (400; 404 for what is not a job id) with the detail in
 * err. Does not look the job up. */
int api_parse_process(json_t *body, struct api_process_req *r, char *err, size_t errlen);

/* The query of GET /preview/{id}: filter=SPEC&t=SECONDS&format=png|jpeg. */
struct api_preview_req {
	struct fspec *fc;     /* the caller's to free */
	double t;
	int jpeg;
	const char *title;
};
/* 200, or 400 with the detail in err; query may be NULL. */
int api_parse_preview(const char *query, struct api_preview_req *r, char *err, size_t errlen);

#endif
