#include "master/serve.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "master/access.h"
#include "master/api.h"
#include "master/ffversion.h"
#include "master/job.h"
#include "master/jobid.h"
#include "master/opts.h"
#include "master/quota.h"
#include "master/queue.h"
#include "master/server.h"
#include "master/slurm.h"
#include "master/sse.h"
#include "master/store.h"
#include "master/upload.h"

#define SERVE_EXPIRE_EVERY 600     /* seconds between sweeps of old jobs */
#define SERVE_PING_EVERY   20      /* seconds between keep-alive comments on event streams,
                                      at most half of --timeout */

static void
serve_usage(FILE *out)
{
	fprintf(out,
	    "usage: %s serve [options]\n"
	    "\n"
	    "Runs the HTTP API and the page (http://HOST:PORT/). Jobs run one at a time.\n"
	    "\n"
	    "  --host H            address to bind (default 127.0.0.1)\n"
	    "  --port P            port (default 8000)\n"
	    "  --data-dir DIR      uploads, results and jobs.db (default ./data)\n"
	    "  --workers N         local worker processes per job (default: online CPUs;\n"
	    "                      0 with --remote or --slurm: remote workers only)\n"
	    "  --remote CMD        add a worker started by CMD, e.g. 'ssh -T host video-worker'\n"
	    "                      (repeatable; see README)\n"
	    "  --slurm N           add N workers placed by Slurm (srun job steps; see README)\n"
	    "  --slurm-args ARGS   srun options for them, e.g. '--partition=gpu --time=8:00:00'\n"
	    "  --slurm-worker PATH the worker program on the nodes (default video-worker)\n"
	    "  --task-timeout S    seconds without progress before a worker is replaced (default 300)\n"
	    "  --max-upload-mb N   largest upload accepted (default 100)\n"
	    "  --timeout S         drop a client silent for S seconds, or sending a body\n"
	    "                      slower than 500 bytes/s after its first S seconds (default 60)\n"
	    "  --max-pixels N      refuse videos larger than N pixels, or WxH (default 7680x4320;\n"
	    "                      0: no limit)\n"
	    "  --max-duration S    refuse videos longer than S seconds (default 14400; 0: no limit)\n"
	    "  --max-disk-mb N     disk quota of the data directory: uploads that would not fit are\n"
	    "                      refused (507), a job that outgrows it fails (default 0: none)\n"
	    "  --keep-hours H      remove jobs older than this (default 24)\n"
	    "  --segment-seconds S longest segment (default 10; evened out over the workers)\n"
	    "  --preset NAME       x264 preset (default " OPTS_PRESET ")\n"
	    "  --crf N             default quality, 0-51 (default: the codec's, 20 for h264)\n"
	    "  --cors-origin URL   also allow this origin (repeatable); loopback origins always are\n"
	    "  --allowed-host NAME also answer requests for this host name (repeatable); loopback\n"
	    "                      names and IP addresses always are (see README: Security)\n"
	    "  --token-file FILE   every API request needs Authorization: Bearer TOKEN, TOKEN being\n"
	    "                      the file's first line (chmod 600); needed unless --host is loopback\n"
	    "  --max-connections N open client connections; more are answered 503 (default: from\n"
	    "                      the open-files limit, at most 1024)\n"
	    "  --web-dir DIR       serve the page from DIR instead of the copy built in\n"
	    "  -v, --verbose       debug logging\n"
	    "  -h, --help          this help\n", program_invocation_short_name);
}

static int
serve_parse(int argc, char **argv, struct server_opts *o, int *verbose, char *err, size_t errlen)
{
	enum { O_HOST = 256, O_PORT, O_DATA, O_WORKERS, O_MAXUP, O_KEEP, O_SEG, O_PRESET, O_CRF, O_CORS, O_WEB,
	    O_TIMEOUT, O_MAXPIX, O_MAXDUR, O_MAXDISK, O_ALLOWHOST, O_TOKEN, O_MAXCONN };
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "data-dir", required_argument, NULL, O_DATA },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "max-upload-mb", required_argument, NULL, O_MAXUP },
		{ "keep-hours", required_argument, NULL, O_KEEP },
		{ "segment-seconds", required_argument, NULL, O_SEG },
		{ "preset", required_argument, NULL, O_PRESET },
		{ "crf", required_argument, NULL, O_CRF },
		{ "cors-origin", required_argument, NULL, O_CORS },
		{ "web-dir", required_argument, NULL, O_WEB },
		{ "max-pixels", required_argument, NULL, O_MAXPIX },
		{ "max-duration", required_argument, NULL, O_MAXDUR },
		{ "max-disk-mb", required_argument, NULL, O_MAXDISK },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "allowed-host", required_argument, NULL, O_ALLOWHOST },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		/* where the workers run: --remote, --task-timeout, --slurm* */
		OPTS_LAUNCHER_LONGOPTS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	double d;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		errno = 0;
		if (c >= OPTS_LAUNCHER) {
			if (opts_launcher(c, optarg, o->remote, &o->nremote, &o->task_timeout, &o->slurm,
			    err, errlen) == -1)
				return -1;
			continue;
		}
		switch (c) {
		case O_HOST:
			o->host = optarg;
			break;
		case O_PORT:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 0 || d > 65535 || d != (int)d)
				return util_err(err, errlen, "--port takes 0 to 65535, not '%s'", optarg);
			o->port = (int)d;
			break;
		case O_DATA:
			o->data_dir = optarg;
			break;
		case O_WORKERS:
			if (opts_workers(optarg, &o->workers, err, errlen) == -1)
				return -1;
			break;
		case O_MAXUP:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 1 || d > 1024 * 1024 || d != (int)d)
				return util_err(err, errlen, "--max-upload-mb takes a whole number of MiB, not '%s'", optarg);
			o->max_upload_mb = (int)d;
			break;
		case O_KEEP:
			d = strtod(optarg, &end);
			if (*end || end == optarg || !(d > 0))
				return util_err(err, errlen, "--keep-hours takes a positive number, not '%s'", optarg);
			o->keep_hours = d;
			break;
		case O_SEG:
			if (opts_segment_seconds(optarg, &o->segment_seconds, err, errlen) == -1)
				return -1;
			break;
		case O_PRESET:
			if (opts_preset(optarg, &o->preset, err, errlen) == -1)
				return -1;
			break;
		case O_CRF:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 0 || d > 51 || d != (int)d)
				return util_err(err, errlen, "--crf takes 0 to 51, not '%s'", optarg);
			o->crf = (int)d;
			break;
		case O_CORS:
			if (o->ncors == (int)(sizeof o->cors / sizeof o->cors[0]))
				return util_err(err, errlen, "too many --cors-origin");
			o->cors[o->ncors++] = optarg;
			break;
		case O_WEB:
			o->web_dir = optarg;
			break;
		case O_MAXPIX:
		case O_MAXDUR:
			if (limits_option(&o->limits, c == O_MAXPIX ? "max-pixels" : "max-duration", optarg, err, errlen) == -1)
				return -1;
			break;
		case O_MAXDISK:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 0 || d > 1024.0 * 1024 * 1024 || d != (int)d)
				return util_err(err, errlen, "--max-disk-mb takes a whole number of MiB, 0 for none, not '%s'", optarg);
			o->max_disk_mb = (int)d;
			break;
		case O_TIMEOUT:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 1 || d > 3600 || d != (int)d)
				return util_err(err, errlen, "--timeout takes 1 to 3600 seconds, not '%s'", optarg);
			o->timeout_s = (int)d;
			break;
		case O_ALLOWHOST:
			if (o->nhosts == ACCESS_HOSTS_MAX)
				return util_err(err, errlen, "too many --allowed-host");
			o->hosts[o->nhosts++] = optarg;
			break;
		case O_TOKEN:
			o->token_file = optarg;
			break;
		case O_MAXCONN:
			d = strtod(optarg, &end);
			if (*end || end == optarg || d < 1 || d > 1000000 || d != (int)d)
				return util_err(err, errlen, "--max-connections takes 1 to 1000000, not '%s'", optarg);
			o->max_connections = (int)d;
			break;
		case 'v':
			*verbose = 1;
			break;
		case 'h':
			serve_usage(stdout);
			exit(0);
		case ':':
			return util_err(err, errlen, "option %s needs a value", argv[optind - 1]);
		default:
			return util_err(err, errlen, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return util_err(err, errlen, "unexpected argument '%s'", argv[optind]);
	return slurm_check(&o->slurm, err, errlen);
}

/* ---- housekeeping ---- */

static void
serve_push_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->job_id[0] != '\0')
		sse_push(s, s->job_id);
}

static void
serve_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	sse_ping(arg);
}

static void
serve_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	char err[512];
	json_t *ids, *v;
	size_t i;

	ids = store_list_older(s->store, util_wall() - s->o.keep_hours * 3600, err, sizeof err);
	if (ids == NULL) {
		log_error("%s", err);
		return;
	}
	json_array_foreach(ids, i, v) {
		if (s->job != NULL && strcmp(json_string_value(v), s->job_id) == 0)
			continue;
		log_info("job %s expired (older than %g h)", json_string_value(v), s->o.keep_hours);
		queue_remove(s, json_string_value(v), err, sizeof err);
	}
	json_decref(ids);
}

/* Job directories without a record: a crash between an upload's rename and its insert. At
 * start-up no upload is in flight, so none of them can still become a job. */
static void
serve_remove_orphans(struct server *s)
{
	char err[512], dir[4200];
	struct dirent *d;
	json_t *rec;
	DIR *dp;

	if ((dp = opendir(s->jobs_dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (!jobid_valid(d->d_name))
			continue;
		if ((rec = store_get(s->store, d->d_name, err, sizeof err)) != NULL || err[0] != '\0') {
			json_decref(rec);   /* a job, or the database cannot tell: kept */
			continue;
		}
		log_info("job directory %s has no record: removed", d->d_name);
		queue_job_dir(s, d->d_name, dir, sizeof dir);
		quota_rm_rf(s->quota, dir);
	}
	closedir(dp);
}

/* After a restart: jobs that were queued or running are queued again, in their order. */
static void
serve_recover(struct server *s)
{
	static const enum job_status states[] = { JOB_STATUS_PROCESSING, JOB_STATUS_QUEUED };
	char err[512];
	json_t *list, *rec;
	size_t i, k;

	serve_remove_orphans(s);

	for (k = 0; k < 2; k++) {
		list = store_list_status(s->store, job_status_name(states[k]), err, sizeof err);
		if (list == NULL) {
			log_error("%s", err);
			continue;
		}
		json_array_foreach(list, i, rec) {
			const char *id = json_string_value(json_object_get(rec, "job_id"));

			log_info("job %s was %s when the master stopped: queued again", id,
			    job_status_name(states[k]));
			json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_QUEUED)));
			queue_store(s, rec);
			queue_add(s, id, err, sizeof err);
		}
		json_decref(list);
	}
}

static void
serve_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct timeval grace = { 3, 0 };

	if (s->stopping) {
		log_warn("second signal: exiting now");
		event_base_loopbreak(s->base);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	s->stopping = 1;
	if (s->http != NULL) {
		sse_close_all(s);
		upload_set_listener(s->uploads, NULL);
		evhttp_free(s->http);
		s->http = NULL;
	}
	if (s->job != NULL)
		job_cancel(s->job);
	/* workers were sent SIGTERM: the loop ends once they and any probe, cut or join are gone
	 * (an idle server at once), or after the grace, in case one ignores us */
	s->ev_stop = job_drain_event(s->base);
	event_base_loopexit(s->base, &grace);
}

/* The Host, Origin and token rules from the options. */
static int
serve_access(struct server *s, char *err, size_t errlen)
{
	struct access *a = &s->access;
	struct rlimit rl;
	int i;

	a->bound = s->o.host;
	for (i = 0; i < s->o.nhosts; i++)
		a->hosts[a->nhosts++] = s->o.hosts[i];
	for (i = 0; i < s->o.ncors; i++)
		a->cors[a->ncors++] = s->o.cors[i];
	if (s->o.token_file != NULL && access_load_token(a, s->o.token_file, err, errlen) == -1)
		return -1;
	if (s->o.max_connections == 0) {
		/* each connection is one descriptor; leave room for the pool's pipes and ffmpeg's */
		s->o.max_connections = 1024;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < 1024 + 256)
			s->o.max_connections = rl.rlim_cur > 512 ? (int)rl.rlim_cur - 256 : (int)rl.rlim_cur / 2;
	}
	return 0;
}

int
serve_main(int argc, char **argv)
{
	struct server s;
	struct upload_config ucfg;
	struct evhttp_bound_socket *bound;
	struct timeval expire = { SERVE_EXPIRE_EVERY, 0 }, ping = { SERVE_PING_EVERY, 0 };
	char err[1024], path[4200];
	int verbose = 0, code = 1;

	memset(&s, 0, sizeof s);
	s.o.host = "127.0.0.1";
	s.o.port = 8000;
	s.o.workers = OPTS_WORKERS_CPUS;
	s.o.data_dir = "./data";
	s.o.max_upload_mb = 100;
	s.o.timeout_s = 60;
	s.o.limits.max_pixels = LIMITS_SERVE_PIXELS;
	s.o.limits.max_duration = LIMITS_SERVE_DURATION;
	s.o.keep_hours = 24;
	/* every job is streamed while it renders (GET /stream) */
	s.o.segment_seconds = OPTS_SEGMENT_SECONDS_STREAM;
	s.o.preset = OPTS_PRESET;
	s.o.crf = -1;
	if (serve_parse(argc, argv, &s.o, &verbose, err, sizeof err) == -1) {
		fprintf(stderr, "master serve: %s\nTry '%s serve --help'.\n", err, program_invocation_short_name);
		return 2;
	}
	log_init('M', verbose ? LOG_DEBUG : LOG_INFO);
	if (!access_is_loopback(s.o.host) && s.o.token_file == NULL) {
		fprintf(stderr, "master serve: --host %s serves the API beyond this machine: give "
		    "--token-file FILE (one line of 16+ characters, chmod 600), or use --host 127.0.0.1\n",
		    s.o.host);
		return 2;
	}
	if (serve_access(&s, err, sizeof err) == -1) {
		fprintf(stderr, "master serve: %s\n", err);
		return 2;
	}
	if (opts_check_workers(s.o.workers, s.o.nremote, s.o.slurm.workers, err, sizeof err) == -1) {
		fprintf(stderr, "master serve: %s\n", err);
		return 2;
	}
	if (ffversion_check(err, sizeof err) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (slurm_launchers(&s.o.slurm, s.o.remote, s.o.nremote, err, sizeof err) == -1) {
		log_error("%s", err);
		goto done;
	}
	s.o.workers = opts_workers_resolve(s.o.workers);
	signal(SIGPIPE, SIG_IGN);
	snprintf(s.jobs_dir, sizeof s.jobs_dir, "%s/jobs", s.o.data_dir);
	snprintf(s.spool_dir, sizeof s.spool_dir, "%s/spool", s.o.data_dir);
	if (util_mkdir_p(s.jobs_dir, err, sizeof err) == -1 || util_mkdir_p(s.spool_dir, err, sizeof err) == -1) {
		log_error("%s", err);
		goto done;
	}
	/* uploads that were arriving when the master stopped are of no use now */
	util_rm_rf(s.spool_dir);
	util_mkdir_p(s.spool_dir, err, sizeof err);
	snprintf(path, sizeof path, "%s/jobs.db", s.o.data_dir);
	s.store = store_open(path, err, sizeof err);
	if (s.store == NULL) {
		log_error("%s", err);
		goto done;
	}
	/* the one walk of the whole tree; from here on the count is kept by accounting */
	s.quota = quota_open(s.o.data_dir, (int64_t)s.o.max_disk_mb * 1024 * 1024);
	if (s.quota == NULL) {
		log_error("out of memory");
		goto done;
	}
	quota_track(s.quota, path);
	snprintf(path, sizeof path, "%s/jobs.db-wal", s.o.data_dir);
	quota_track(s.quota, path);
	snprintf(path, sizeof path, "%s/jobs.db-shm", s.o.data_dir);
	quota_track(s.quota, path);
	s.base = event_base_new();
	if (s.base == NULL) {
		log_error("cannot create the event loop");
		goto done;
	}
	s.http = evhttp_new(s.base);
	if (s.http == NULL) {
		log_error("cannot create the HTTP server");
		goto done;
	}
	/* PUT and PATCH reach the routes too, so they get a JSON 405 naming what is allowed */
	evhttp_set_allowed_methods(s.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(s.http, UPLOAD_EVHTTP_HEADERS_MAX);
	/* bodies other than uploads are small JSON; uploads bypass this through the spooler */
	evhttp_set_max_body_size(s.http, UPLOAD_BODY_MAX);
	/* a quarter second after the upload filter's own clock, so that a stalled
	 * upload hears its 408 from the filter before evhttp just hangs up */
	evhttp_set_timeout_tv(s.http, &(struct timeval){ s.o.timeout_s, 250000 });
	evhttp_set_gencb(s.http, api_handle_cb, &s);
	memset(&ucfg, 0, sizeof ucfg);
	ucfg.spool_dir = s.spool_dir;
	ucfg.max_bytes = (int64_t)s.o.max_upload_mb * 1024 * 1024;
	ucfg.idle_timeout_s = s.o.timeout_s;
	ucfg.quota = s.quota;
	ucfg.max_conns = s.o.max_connections;
	s.uploads = upload_install(s.http, s.base, &ucfg, err, sizeof err);
	if (s.uploads == NULL) {
		log_error("%s", err);
		goto done;
	}
	bound = evhttp_bind_socket_with_handle(s.http, s.o.host, (ev_uint16_t)s.o.port);
	if (bound == NULL) {
		log_error("cannot listen on %s:%d: %s", s.o.host, s.o.port, strerror(errno));
		goto done;
	}
	upload_set_listener(s.uploads, evhttp_bound_socket_get_listener(bound));
	s.changed_cb = sse_push;
	s.ev_push = evtimer_new(s.base, serve_push_cb, &s);
	s.ev_expire = event_new(s.base, -1, EV_PERSIST, serve_expire_cb, &s);
	event_add(s.ev_expire, &expire);
	/* a quiet event stream is dropped after --timeout like any silent connection */
	if (s.o.timeout_s < 2 * SERVE_PING_EVERY) {
		ping.tv_sec = s.o.timeout_s / 2;
		ping.tv_usec = s.o.timeout_s % 2 * 500000;
	}
	s.ev_ping = event_new(s.base, -1, EV_PERSIST, serve_ping_cb, &s);
	event_add(s.ev_ping, &ping);
	s.ev_sigint = evsignal_new(s.base, SIGINT, serve_signal_cb, &s);
	s.ev_sigterm = evsignal_new(s.base, SIGTERM, serve_signal_cb, &s);
	event_add(s.ev_sigint, NULL);
	event_add(s.ev_sigterm, NULL);
	serve_expire_cb(-1, 0, &s);
	serve_recover(&s);
	log_info("video-renderer %s serving http://%s:%d/ (data in %s, %d workers per job)",
	    VR_VERSION, s.o.host, s.o.port, s.o.data_dir, s.o.workers);
	event_base_dispatch(s.base);
	/* says which way the loop ended: tests tell an idle server's immediate stop from the
	 * grace running out without timing it */
	if (s.stopping && event_base_got_exit(s.base))
		log_warn("grace over: %d children still running", job_children_live());
	else if (s.stopping)
		log_info("stopped: no child left");
	code = 0;
done:
	if (s.job != NULL)
		job_free(s.job);
	json_decref(s.job_rec);
	if (s.http != NULL) {
		sse_close_all(&s);
		if (s.uploads != NULL)
			upload_set_listener(s.uploads, NULL);
		evhttp_free(s.http);
	}
	if (s.uploads != NULL)
		upload_free(s.uploads);
	if (s.ev_push) event_free(s.ev_push);
	if (s.ev_expire) event_free(s.ev_expire);
	if (s.ev_ping) event_free(s.ev_ping);
	if (s.ev_sigint) event_free(s.ev_sigint);
	if (s.ev_sigterm) event_free(s.ev_sigterm);
	if (s.ev_stop) event_free(s.ev_stop);
	quota_free(s.quota);
	if (s.base != NULL)
		event_base_free(s.base);
	store_close(s.store);
	free(s.queue);
	slurm_free(&s.o.slurm);
	return code;
}
