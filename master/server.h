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
struct fspec;
struct job;
struct quota;
struct store;
struct upload_server;

/* `master serve`: the state its files share (serve.c sets it up; api.c, queue.c, sse.c use it).
 * One event loop, one job rendering at a time. No functions here: each file has its own header. */
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

struct server_sse;            /* master/sse.c */
struct api_preview;           /* master/api.c */

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct upload_server *uploads;
	struct store *store;
	struct quota *quota;         /* the data directory's bytes (and --max-disk-mb) */
	struct server_opts o;
	struct access access;        /* Host, Origin and token checks (master/access.c) */
	char jobs_dir[4096], spool_dir[4096];

	/* the queue: ids waiting, oldest first (master/queue.c) */
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
	/* what the queue calls when a job's status changed (serve.c: sse_push), so the queue
	 * does not depend on the streams that read it */
	void (*changed_cb)(struct server *s, const char *id);
};

#endif
