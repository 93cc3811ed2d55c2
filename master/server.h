#ifndef MASTER_SERVER_H
#define MASTER_SERVER_H

#include <stdint.h>
#include <jansson.h>

#include "master/access.h"
#include "master/format.h"
#include "master/limits.h"
#include "master/slurm.h"

struct event_base;
struct evhttp;
struct evhttp_request;
struct event;
struct filter_chain;
struct job;
struct quota;
struct store;
struct upload_server;

/* `master serve`: the state the routes share. One event loop, one job rendering at a time. */
struct server_opts {
	const char *host;
	int port;
	const char *data_dir;
	const char *web_dir;         /* serve the page from disk instead of the binary (development) */
	int workers;                 /* local workers per job; -1: online CPUs; 0: remote only */
	char *remote[64];            /* --remote launcher commands: added to every job's pool */
	int nremote;
	struct slurm slurm;          /* --slurm N workers; its launchers are every remote worker's */
	double task_timeout;
	int max_upload_mb;
	int timeout_s;               /* a client silent this long (or a body too slow) is dropped */
	int max_disk_mb;             /* quota of the data directory, 0: none */
	struct limits limits;        /* --max-pixels, --max-duration */
	double keep_hours;
	double segment_seconds;
	const char *preset;
	int crf;
	const char *cors[16];        /* extra allowed origins */
	int ncors;
	const char *hosts[ACCESS_HOSTS_MAX];  /* --allowed-host */
	int nhosts;
	const char *token_file;      /* --token-file: the bearer token every API request needs */
	int max_connections;         /* open client connections; more are answered 503 */
};

struct server_sse;
struct api_preview;

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct upload_server *uploads;
	struct store *store;
	struct quota *quota;         /* the data directory's bytes (and --max-disk-mb) */
	struct server_opts o;
	struct access access;        /* Host, Origin and token checks (master/access.c) */
	char jobs_dir[4096], spool_dir[4096];

	/* the queue: ids waiting, oldest first */
	char (*queue)[40];
	int qlen, qcap;
	/* the job rendering now */
	struct job *job;
	char job_id[40];
	json_t *job_rec;             /* its record, updated as it runs */
	int job_phase;               /* last phase stored, to store only changes */

	struct server_sse *sse;      /* open event streams */
	struct api_preview *preview_wait;  /* previews waiting for a turn (master/api.c) */
	int previews_running, previews_waiting;
	struct event *ev_push;       /* coalesces progress pushes */
	struct event *ev_expire;
	struct event *ev_ping;       /* keeps idle event streams from timing out */
	struct event *ev_sigint, *ev_sigterm;
	struct event *ev_stop;          /* while stopping: ends the loop once no child is left */
	int stopping;
};

/* Routes (master/api.c). */
void api_handle_cb(struct evhttp_request *req, void *arg);

/* A POST /process body, checked. The caller sets the defaults of workers, baseline and
 * segment_seconds; the strings are the body's. */
struct api_process_req {
	const char *job_id, *filter_type;
	struct filter_chain *fc;     /* the caller's to free */
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
	struct filter_chain *fc;     /* the caller's to free */
	double t;
	int jpeg;
	const char *title;
};
/* 200, or 400 with the detail in err; query may be NULL. */
int api_parse_preview(const char *query, struct api_preview_req *r, char *err, size_t errlen);

/* Jobs (master/serve.c). */
int server_enqueue(struct server *s, const char *id, char *err, size_t errlen);
/* The record as /status shows it: the stored one merged with the live progress. */
json_t *server_status(struct server *s, const char *id, char *err, size_t errlen);
/* Cancels (if running) and removes a job and its files; 1 removed, 0 unknown, -1 error. */
int server_remove(struct server *s, const char *id, char *err, size_t errlen);
void server_job_dir(const struct server *s, const char *id, char *buf, size_t n);

/* Event streams (master/sse.c). */
void sse_open(struct server *s, struct evhttp_request *req, const char *id);
/* Sends the job's current status to every stream that follows it; ends finished ones. */
void sse_push(struct server *s, const char *id);
void sse_close_all(struct server *s);
/* A comment line on every stream, so a quiet one (a job waiting in the queue) stays open. */
void sse_ping(struct server *s);

#endif
