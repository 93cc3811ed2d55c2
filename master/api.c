/*
 * The HTTP routes of `master serve`. The original project's API (/upload, /process,
 * /status, /download, /cleanup) keeps its paths, fields and messages so its page works
 * unchanged; /events, /jobs, /filters, /health, /input and the page itself are ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "master/access.h"
#include "master/api.h"
#include "master/httputil.h"
#include "master/job.h"
#include "master/jobid.h"
#include "master/outname.h"
#include "master/preview.h"
#include "master/probe.h"
#include "master/quota.h"
#include "master/proc.h"
#include "master/queue.h"
#include "master/range.h"
#include "master/server.h"
#include "master/sse.h"
#include "master/store.h"
#include "master/upload.h"
#include "master/web.h"
#include "common/fspec.h"

#define API_JSON_MAX   (64 * 1024)   /* a /process body is a few hundred bytes */
#define API_LIST_MAX   100           /* jobs listed by GET /jobs */

/* An upload whose probe is still running; the client may go away meanwhile. */
struct api_upload {
	struct server *s;
	struct evhttp_request *req;     /* NULL once the connection closed */
	struct evhttp_connection *evcon;
	struct proc *proc;
	char id[JOBID_LEN + 1];
	char path[4096];
	char filename[256];
	int64_t size;
};

/* ---- CORS ---- */

/* Loopback pages (the original's dev server) may call us; any other site gets no CORS
 * headers, so it cannot drive a user's local master from their browser. */
static void
api_cors(const struct server *s, struct evhttp_request *req)
{
	const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Vary", "Origin");
	if (origin == NULL || !access_origin_allowed(&s->access, origin, NULL))
		return;
	evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
	evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
	evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type, Range, Authorization");
	evhttp_add_header(h, "Access-Control-Expose-Headers", "Content-Range, Content-Length, Content-Disposition");
	evhttp_add_header(h, "Access-Control-Max-Age", "600");
}

/* ---- files ---- */

/* Sends a file with Range support (RFC 9110: one range -> 206, unsatisfiable -> 416). */
static void
api_send_file(struct evhttp_request *req, const char *path, const char *ctype, const char *dispname)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = NULL;
	char cr[128], disp[400], len[32];
	int64_t start = 0, n;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		http_send_error(req, 404, "File not found", "the job has no such file (removed?)");
		return;
	}
	n = (int64_t)st.st_size;
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Accept-Ranges", "bytes");
	if (dispname != NULL) {
		snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", dispname);
		evhttp_add_header(h, "Content-Disposition", disp);
	}
	switch (range_parse(evhttp_find_header(evhttp_request_get_input_headers(req), "Range"), n, &start, &n)) {
	case RANGE_UNSATISFIABLE:
		close(fd);
		range_content_range(cr, sizeof cr, 0, 0, (int64_t)st.st_size);
		evhttp_add_header(h, "Content-Range", cr);
		evhttp_remove_header(h, "Content-Disposition");
		http_send_error(req, 416, "Range Not Satisfiable", "the range is beyond the end of the file");
		return;
	case RANGE_OK:
		range_content_range(cr, sizeof cr, start, n, (int64_t)st.st_size);
		evhttp_add_header(h, "Content-Range", cr);
		break;
	case RANGE_NONE:
		start = 0;
		n = (int64_t)st.st_size;
		break;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		close(fd);
		http_send_length(req, start > 0 || n != (int64_t)st.st_size ? 206 : 200,
		    start > 0 || n != (int64_t)st.st_size ? "Partial Content" : "OK", NULL, n);
		return;
	}
	body = evbuffer_new();
	/* the kernel sends the file (sendfile) when the buffer drains to a socket: the master
	 * never maps or holds the file in memory */
	if (body != NULL)
		evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (body == NULL || (n > 0 && evbuffer_add_file(body, fd, start, n) == -1)) {
		close(fd);
		if (body != NULL)
			evbuffer_free(body);
		http_send_error(req, 500, "Internal Server Error", "cannot send the file");
		return;
	}
	if (n == 0)
		close(fd);
	snprintf(len, sizeof len, "%lld", (long long)n);
	evhttp_send_reply(req, start > 0 || n != (int64_t)st.st_size ? 206 : 200,
	    start > 0 || n != (int64_t)st.st_size ? "Partial Content" : "OK", body);
	evbuffer_free(body);
}

static void
api_page(struct server *s, struct evhttp_request *req, const char *path)
{
	const char *name = strcmp(path, "/") == 0 ? "index.html" : path + 1;
	const char *dot = strrchr(name, '.');
	const char *ctype = "application/octet-stream";
	const struct web_asset *a;
	struct evbuffer *body;
	char file[4200];

	if (dot != NULL) {
		if (strcmp(dot, ".html") == 0) ctype = "text/html; charset=utf-8";
		else if (strcmp(dot, ".js") == 0) ctype = "text/javascript; charset=utf-8";
		else if (strcmp(dot, ".css") == 0) ctype = "text/css; charset=utf-8";
		else if (strcmp(dot, ".svg") == 0) ctype = "image/svg+xml";
		else if (strcmp(dot, ".png") == 0) ctype = "image/png";
		else if (strcmp(dot, ".ico") == 0) ctype = "image/x-icon";
	}
	/* only plain names: nothing from the URL walks the file system */
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(name) ||
	    name[0] == '.') {
		http_send_error(req, 404, "Not Found", NULL);
		return;
	}
	if (s->o.web_dir != NULL) {
		snprintf(file, sizeof file, "%s/%s", s->o.web_dir, name);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
		api_send_file(req, file, ctype, NULL);
		return;
	}
	for (a = web_assets; a->name != NULL; a++) {
		if (strcmp(a->name, name) != 0)
			continue;
		body = evbuffer_new();
		evbuffer_add_reference(body, a->data, a->size, NULL, NULL);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
		http_send_body(req, 200, "OK", body);
		evbuffer_free(body);
		return;
	}
	http_send_error(req, 404, "Not Found", NULL);
}

/* ---- POST /upload ---- */

static void
api_upload_free(struct api_upload *u)
{
	if (u->path[0] != '\0')
		quota_rm_rf(u->s->quota, u->path);
	free(u);
}

static void
api_upload_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api_upload *u = arg;

	/* the client left before we answered: the probe's callback cleans up. The request was
	 * detached from the connection, unfinished, and is ours to free (see sse_closed_cb) */
	if (evhttp_request_get_connection(u->req) == NULL)
		evhttp_request_free(u->req);
	u->req = NULL;
}

static int
api_upload_status_for(const char *reason)
{
	/* what is not a video at all is an unsupported media type; a broken video is unprocessable */
	if (strstr(reason, "no video stream") || strstr(reason, "still image") ||
	    strstr(reason, "no decoder") || strstr(reason, "not a video"))
		return 415;
	return 422;
}

static void
api_upload_probe_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct api_upload *u = arg;
	struct server *s = u->s;
	char err[1024], dir[4096], input[4200];
	struct limits_excess x;
	struct probe p;
	json_t *rec = NULL;

	if (u->req == NULL)
		goto done;	/* the client went away while ffprobe ran */
	evhttp_connection_set_closecb(u->evcon, NULL, NULL);
	if (status != 0) {
		/* ffmpeg names our spool file; the user knows the file by the name they sent */
		const char *rest = errtail, *hit;
		size_t k = 0, plen = strlen(u->path);
		char tail[600];

		tail[0] = '\0';
		while ((hit = strstr(rest, u->path)) != NULL && k < sizeof tail - 1) {
			if (hit - rest >= 5 && strncmp(hit - 5, "file:", 5) == 0)
				k += (size_t)snprintf(tail + k, sizeof tail - k, "%.*s", (int)(hit - 5 - rest), rest);
			else
				k += (size_t)snprintf(tail + k, sizeof tail - k, "%.*s", (int)(hit - rest), rest);
			if (k < sizeof tail - 1)
				k += (size_t)snprintf(tail + k, sizeof tail - k, "%s", u->filename);
			rest = hit + plen;
		}
		if (k < sizeof tail - 1)
			snprintf(tail + k, sizeof tail - k, "%s", rest);
		snprintf(err, sizeof err, "not a video ffmpeg can read: %s", tail[0] ? tail : "ffprobe failed");
		http_send_error(u->req, 415, "Not a usable video", err);
		goto done;
	}
	if (probe_parse(out, outlen, errtail, u->size, &p, err, sizeof err) == -1) {
		http_send_error(u->req, api_upload_status_for(err), "Not a usable video", err);
		goto done;
	}
	if (limits_check(&s->o.limits, &p, &x) == -1) {
		/* too large to render here: 413 like an oversized upload, saying which limit */
		http_send_json(u->req, 413, json_pack("{s:s, s:s, s:s, s:f, s:f}", "error",
		    "Video too large", "detail", x.reason, "limit", x.limit, "value", x.value, "max", x.max));
		goto done;
	}
	if (upload_peer_gone(u->req)) {
		/* the client gave up (curl -m, a closed tab) and will never learn the job id:
		 * an upload nobody can name is not kept */
		log_info("upload %s: the client closed the connection before the answer; not kept",
		    u->filename);
		evhttp_add_header(evhttp_request_get_output_headers(u->req), "Connection", "close");
		http_send_error(u->req, 400, "Upload abandoned", "the connection was closed before the "
		    "upload was stored; keep it open until the answer");
		goto done;
	}
	queue_job_dir(s, u->id, dir, sizeof dir);
	snprintf(input, sizeof input, "%s/input", dir);
	if (util_mkdir_p(dir, err, sizeof err) == -1 || rename(u->path, input) == -1) {
		/* one message for either failure, from errno: a failed rename leaves err unset */
		snprintf(err, sizeof err, "cannot keep the upload: %s", strerror(errno));
		http_send_error(u->req, 507, "Insufficient Storage", err);
		quota_rm_rf(s->quota, dir);
		goto done;
	}
	u->path[0] = '\0';
	rec = json_pack("{s:s, s:s, s:f, s:s, s:I, s:o, s:n, s:n}", "job_id", u->id, "status",
	    job_status_name(JOB_STATUS_UPLOADED),
	    "created", util_wall(), "filename", u->filename, "size", (json_int_t)u->size,
	    "analytics", probe_analytics(&p), "filter_type", "error");
	if (rec == NULL || store_put(s->store, rec, err, sizeof err) == -1) {
		http_send_error(u->req, 500, "Internal Server Error", rec ? err : "out of memory");
		quota_rm_rf(s->quota, dir);
		goto done;
	}
	log_info("job %s: uploaded %s (%lld bytes, %dx%d %s)", u->id, u->filename, (long long)u->size,
	    p.width, p.height, p.codec);
	http_send_json(u->req, 200, json_pack("{s:s, s:s, s:I, s:s, s:O}", "job_id", u->id,
	    "filename", u->filename, "size", (json_int_t)u->size,
	    "message", "Video uploaded successfully", "analytics", json_object_get(rec, "analytics")));
done:
	json_decref(rec);
	api_upload_free(u);
}

static void
api_upload(struct server *s, struct evhttp_request *req)
{
	struct upload_result up;
	struct api_upload *u;
	char err[512], url[4200];
	char *argv[24];

	if (upload_take(req, &up) == -1) {
		http_send_error(req, 400, "Bad Request", "send the video as multipart/form-data with a 'file' field");
		return;
	}
	if (up.status != 0) {
		http_send_error(req, up.status, http_reason(up.status), up.error);
		return;
	}
	u = calloc(1, sizeof *u);
	if (u == NULL) {
		quota_rm_rf(s->quota, up.path);
		http_send_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	u->s = s;
	u->req = req;
	u->evcon = evhttp_request_get_connection(req);
	u->size = up.size;
	snprintf(u->path, sizeof u->path, "%s", up.path);
	snprintf(u->filename, sizeof u->filename, "%s", up.filename);
	jobid_new(u->id);
	if (up.size == 0) {
		http_send_error(req, 415, "Not a usable video", "the file is empty");
		api_upload_free(u);
		return;
	}
	/* validated by content, not by name: ffprobe decides what this is */
	probe_argv(u->path, argv, url, sizeof url);
	u->proc = proc_start(s->base, argv, 8 << 20, api_upload_probe_cb, u, err, sizeof err);
	if (u->proc == NULL) {
		http_send_error(req, 500, "Internal Server Error", err);
		api_upload_free(u);
		return;
	}
	evhttp_connection_set_closecb(u->evcon, api_upload_closed_cb, u);
}

/* ---- POST /process ---- */

int
api_parse_process(json_t *body, struct api_process_req *r, char *err, size_t errlen)
{
	const char *detail = NULL;
	json_t *v, *params;
	int status = 400;

	r->title = "Bad Request";
	r->fc = NULL;
	v = json_object_get(body, "job_id");
	if (!json_is_string(v)) {
		detail = "job_id: a string is required";
		goto fail;
	}
	r->job_id = json_string_value(v);
	if (!jobid_valid(r->job_id)) {
		status = 404;
		r->title = "Job not found";
		detail = "no job has this id; upload a video first";
		goto fail;
	}
	v = json_object_get(body, "filter_type");
	if (!json_is_string(v)) {
		detail = "filter_type: a string is required (see GET /filters)";
		goto fail;
	}
	r->filter_type = json_string_value(v);
	params = json_object_get(body, "params");
	if (params != NULL && !json_is_object(params) && !json_is_null(params)) {
		detail = "params: an object is required, e.g. {\"sigma\": 5}";
		goto fail;
	}
	r->fc = fspec_from_json(r->filter_type, json_is_object(params) ? params : NULL, err, errlen);
	if (r->fc == NULL) {
		r->title = "Invalid filter";
		goto fail;
	}
	v = json_object_get(body, "workers");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1024) {
			detail = "workers: a whole number from 1 to 1024";
			goto fail;
		}
		r->workers = (int)json_integer_value(v);
	}
	v = json_object_get(body, "baseline");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			detail = "baseline: true or false";
			goto fail;
		}
		r->baseline = json_is_true(v);
	}
	v = json_object_get(body, "segment_seconds");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_number(v) || !(json_number_value(v) >= 0.5 && json_number_value(v) <= 3600)) {
			detail = "segment_seconds: a number from 0.5 to 3600";
			goto fail;
		}
		r->segment_seconds = json_number_value(v);
	}
	/* the output's format, refused here when the container cannot hold the codec */
	if (format_from_json(&r->format, body, r->crf, err, errlen) == -1) {
		r->title = "Invalid format";
		goto fail;
	}
	return 200;
fail:
	if (detail != NULL)
		snprintf(err, errlen, "%s", detail);
	fspec_free(r->fc);
	r->fc = NULL;
	return status;
}

static void
api_process(struct server *s, struct evhttp_request *req)
{
	static const char *stale[] = { "sequential_time", "parallel_time", "speedup", "efficiency",
	    "segments_processed", "cpu_cores_used", "output_filename", "frames_out", "identical",
	    "split_time", "merge_time", "total_time", "timeline", "retries", "error", "percent",
	    "progress", "phase", "segments_done", "segments_total", "frames_in", NULL };
	char err[1024], out[4200], dir[4096];
	struct api_process_req r = { .workers = s->o.workers, .baseline = 1,
	    .segment_seconds = s->o.segment_seconds, .crf = s->o.crf };
	json_t *body = NULL, *rec = NULL;
	const char *st;
	int status, i;

	body = http_read_json(req, API_JSON_MAX, &status, err, sizeof err);
	if (body == NULL) {
		http_send_error(req, status, http_reason(status), err);
		return;
	}
	status = api_parse_process(body, &r, err, sizeof err);
	if (status != 200) {
		http_send_error(req, status, r.title, err);
		goto done;
	}
	if (s->o.workers == 0) {
		r.workers = 0;  /* a server of remote workers only keeps it that way */
	} else if (r.workers > s->o.workers) {
		/* each worker is a process and a frame in memory: the server's owner sets the most */
		snprintf(err, sizeof err, "workers: a whole number from 1 to %d (this server's "
		    "--workers; GET /health says max_workers)", s->o.workers);
		http_send_error(req, 400, r.title, err);
		goto done;
	}
	if ((rec = store_get(s->store, r.job_id, err, sizeof err)) == NULL) {
		http_send_error(req, 404, "Job not found", "no job has this id; upload a video first");
		goto done;
	}
	st = json_string_value(json_object_get(rec, "status"));
	if (job_status_of(st) == JOB_STATUS_QUEUED || job_status_of(st) == JOB_STATUS_PROCESSING) {
		snprintf(err, sizeof err, "the job is already %s", st);
		http_send_error(req, 409, "Conflict", err);
		goto done;
	}
	/* a job may be run again with another filter: the previous result goes */
	for (i = 0; stale[i] != NULL; i++)
		json_object_del(rec, stale[i]);
	queue_job_dir(s, r.job_id, dir, sizeof dir);
	snprintf(out, sizeof out, "%s/output.mp4", dir);
	quota_rm_rf(s->quota, out);
	json_object_set_new(rec, "status", json_string(job_status_name(JOB_STATUS_QUEUED)));
	json_object_set_new(rec, "filter_type", json_string(fspec_string(r.fc)));
	json_object_set_new(rec, "workers", json_integer(r.workers));
	json_object_set_new(rec, "baseline", json_boolean(r.baseline));
	json_object_set_new(rec, "segment_seconds", json_real(r.segment_seconds));
	json_object_set_new(rec, "output_format", format_json(&r.format));
	json_object_set_new(rec, "queued_at", json_real(util_wall()));
	if (store_put(s->store, rec, err, sizeof err) == -1 || queue_add(s, r.job_id, err, sizeof err) == -1) {
		http_send_error(req, 500, "Internal Server Error", err);
		goto done;
	}
	http_send_json(req, 200, json_pack("{s:s, s:s, s:s}", "message", "Processing started",
	    "job_id", r.job_id, "filter_type", r.filter_type));
done:
	fspec_free(r.fc);
	json_decref(rec);
	json_decref(body);
}

/* ---- GET /status, /download, /input, DELETE /cleanup, GET /jobs ---- */

static void
api_status(struct server *s, struct evhttp_request *req, const char *id)
{
	char err[512];
	json_t *rec = queue_status(s, id, err, sizeof err);

	if (rec == NULL) {
		http_send_error(req, 404, "Job not found", err[0] ? err : "no job has this id; upload a video first");
		return;
	}
	http_send_json(req, 200, rec);
}

/* "holiday clip.mov" processed with blur -> "holiday clip.blur.mp4" (.EXT of the output's
 * container), ASCII only in the header */
static void
api_download_name(json_t *rec, const char *ext, char *buf, size_t n)
{
	const char *src = json_string_value(json_object_get(rec, "filename"));
	const char *filter = json_string_value(json_object_get(rec, "filter_type"));
	char tmp[600];
	size_t i, k = 0;

	outname_default(src ? src : "video", filter ? filter : "filtered", tmp, sizeof tmp);
	if (strlen(tmp) > 4 && strcmp(tmp + strlen(tmp) - 4, ".mp4") == 0)
		snprintf(tmp + strlen(tmp) - 3, sizeof tmp - (strlen(tmp) - 3), "%s", ext);
	for (i = 0; tmp[i] != '\0' && k + 1 < n; i++) {
		unsigned char c = (unsigned char)tmp[i];

		buf[k++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/') ? (char)c : '_';
	}
	buf[k] = '\0';
}

static void
api_download(struct server *s, struct evhttp_request *req, const char *id, int original)
{
	char err[512], dir[4096], path[4200], name[300];
	const char *st, *fmt;
	struct format f;
	json_t *rec = store_get(s->store, id, err, sizeof err);

	if (rec == NULL) {
		http_send_error(req, 404, "Job not found", "no job has this id");
		return;
	}
	queue_job_dir(s, id, dir, sizeof dir);
	if (original) {
		fmt = json_string_value(json_object_get(json_object_get(rec, "analytics"), "format"));
		snprintf(path, sizeof path, "%s/input", dir);
		api_send_file(req, path, fmt && strstr(fmt, "mp4") ? "video/mp4" :
		    fmt && strstr(fmt, "webm") ? "video/webm" : "application/octet-stream", NULL);
		json_decref(rec);
		return;
	}
	st = json_string_value(json_object_get(rec, "status"));
	if (job_status_of(st) != JOB_STATUS_COMPLETED) {
		snprintf(err, sizeof err, "Video not ready. Current status: %s", st ? st : "unknown");
		http_send_error(req, 400, "Video not ready", err);
		json_decref(rec);
		return;
	}
	snprintf(path, sizeof path, "%s/output.mp4", dir);
	/* the file keeps its name whatever its container; the download is named after it */
	if (format_from_json(&f, json_object_get(rec, "output_format"), -1, err, sizeof err) == -1)
		format_from_json(&f, NULL, -1, err, sizeof err);
	api_download_name(rec, format_ext(&f), name, sizeof name);
	api_send_file(req, path, format_mime(&f), name);
	json_decref(rec);
}

/*
 * GET /stream/{id}/index.m3u8 and /stream/{id}/seg_NNNNN.ts: the result as HLS while it
 * renders (master/hls.h). Only those two shapes of name are served: nothing else of the
 * job's directory is reachable.
 */
static void
api_stream(struct server *s, struct evhttp_request *req, const char *rest)
{
	char id[JOBID_LEN + 1], err[512], dir[4096], path[4200];
	const char *slash = strchr(rest, '/'), *name;
	json_t *rec;
	int playlist;

	if (slash == NULL || (size_t)(slash - rest) != JOBID_LEN) {
		http_send_error(req, 404, "Job not found", "not a job id");
		return;
	}
	memcpy(id, rest, JOBID_LEN);
	id[JOBID_LEN] = '\0';
	name = slash + 1;
	if (!jobid_valid(id)) {
		http_send_error(req, 404, "Job not found", "not a job id");
		return;
	}
	rec = store_get(s->store, id, err, sizeof err);
	if (rec == NULL) {
		http_send_error(req, 404, "Job not found", "no job has this id");
		return;
	}
	json_decref(rec);
	playlist = strcmp(name, "index.m3u8") == 0;
	if (!playlist && !(strlen(name) == 12 && strncmp(name, "seg_", 4) == 0 &&
	    strspn(name + 4, "0123456789") == 5 && strcmp(name + 9, ".ts") == 0)) {
		http_send_error(req, 404, "File not found", "a stream has index.m3u8 and seg_NNNNN.ts");
		return;
	}
	queue_job_dir(s, id, dir, sizeof dir);
	snprintf(path, sizeof path, "%s/hls/%s", dir, name);
	/* the playlist grows while the job renders: a player must ask again, not cache it */
	if (playlist)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache");
	api_send_file(req, path, playlist ? "application/vnd.apple.mpegurl" : "video/mp2t", NULL);
}

static void
api_cleanup(struct server *s, struct evhttp_request *req, const char *id)
{
	char err[512];
	int rc = queue_remove(s, id, err, sizeof err);

	if (rc == 0)
		http_send_error(req, 404, "Job not found", "no job has this id");
	else if (rc == -1)
		http_send_error(req, 500, "Internal Server Error", err);
	else
		http_send_json(req, 200, json_pack("{s:s, s:s}", "message", "Job cleaned up successfully", "job_id", id));
}

static void
api_jobs(struct server *s, struct evhttp_request *req)
{
	char err[512];
	json_t *list = store_list(s->store, API_LIST_MAX, err, sizeof err);

	if (list == NULL) {
		http_send_error(req, 500, "Internal Server Error", err);
		return;
	}
	http_send_json(req, 200, json_pack("{s:o}", "jobs", list));
}

static void
api_health(struct server *s, struct evhttp_request *req)
{
	/* open to anyone who reaches the server, so it names no job */
	http_send_json(req, 200, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:b, s:b, s:i, s:I, s:f, s:i, s:I}",
	    "status", "healthy", "service", "video-renderer", "version", VR_VERSION,
	    "workers", s->o.workers, "max_workers", s->o.workers, "remote_workers", s->o.slurm.nlaunchers,
	    "queue_length", s->qlen, "running", s->job_id[0] != '\0',
	    "token_required", s->access.token[0] != '\0', "max_upload_mb", s->o.max_upload_mb,
	    "max_pixels", (json_int_t)s->o.limits.max_pixels, "max_duration", s->o.limits.max_duration,
	    "max_disk_mb", s->o.max_disk_mb, "disk_used_bytes", (json_int_t)quota_used(s->quota)));
}

/* ---- GET /preview/{id}?filter=SPEC&t=SECONDS&format=png|jpeg ---- */

/* Previews rendering at once, and waiting for their turn; more are answered 503. Each one
 * is a worker process holding a decoded frame (up to 4K, master/preview.h), then its image. */
#define API_PREVIEW_RUNNING	2
#define API_PREVIEW_WAITING	32

struct api_preview {
	struct api_preview *next;       /* in the server's wait list */
	struct server *s;
	struct evhttp_request *req;     /* NULL once the connection closed */
	struct evhttp_connection *evcon;
	char id[JOBID_LEN + 1];
	char input[4200], dir[4096], filter[FSPEC_MAX + 1];   /* a canonical chain */
	double t;
	int jpeg;
	struct probe probe;
};

static void
api_preview_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api_preview *pv = arg;

	if (evhttp_request_get_connection(pv->req) == NULL)
		evhttp_request_free(pv->req);
	pv->req = NULL;
}

static void api_preview_next(struct server *s);

static void
api_preview_done(struct api_preview *pv, const char *image, size_t len, int status, const char *error)
{
	struct server *s = pv->s;
	struct evbuffer *body;
	char err[256];
	json_t *rec = NULL;
	int gone = 0;

	if (pv->req != NULL && error != NULL && status == 422) {
		/* the job deleted while its frame rendered: that, not the video, is why */
		rec = store_get(s->store, pv->id, err, sizeof err);
		gone = rec == NULL;
		json_decref(rec);
	}
	if (pv->req != NULL) {
		evhttp_connection_set_closecb(pv->evcon, NULL, NULL);
		if (gone) {
			http_send_error(pv->req, 404, "Job not found", "the job was deleted");
		} else if (error != NULL) {
			http_send_error(pv->req, status, "Preview failed", error);
		} else {
			body = evbuffer_new();
			evbuffer_add(body, image, len);
			evhttp_add_header(evhttp_request_get_output_headers(pv->req), "Content-Type",
			    pv->jpeg ? "image/jpeg" : "image/png");
			evhttp_add_header(evhttp_request_get_output_headers(pv->req), "Cache-Control", "max-age=3600");
			http_send_body(pv->req, 200, "OK", body);
			evbuffer_free(body);
		}
	}
	free(pv);
	s->previews_running--;
	api_preview_next(s);
}

static void
api_preview_image_cb(const char *image, size_t len, const char *error, void *arg)
{
	api_preview_done(arg, image, len, 422, error);
}

static void
api_preview_probe_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct api_preview *pv = arg;
	struct preview_req r;
	char err[1024];

	if (pv->req == NULL) {
		api_preview_done(pv, NULL, 0, 0, "gone");
		return;
	}
	if (status != 0 || probe_parse(out, outlen, errtail, 0, &pv->probe, err, sizeof err) == -1) {
		api_preview_done(pv, NULL, 0, 422, status != 0 ? errtail : err);
		return;
	}
	memset(&r, 0, sizeof r);
	r.input = pv->input;
	r.probe = &pv->probe;
	r.filter = pv->filter;
	r.t = pv->t;
	r.jpeg = pv->jpeg;
	r.tmpdir = pv->dir;
	if (preview_start(pv->s->base, &r, api_preview_image_cb, pv, err, sizeof err) == -1)
		api_preview_done(pv, NULL, 0, 500, err);
}

static void
api_preview_run(struct api_preview *pv)
{
	char err[1024], url[4200];
	char *argv[24];

	pv->s->previews_running++;
	probe_argv(pv->input, argv, url, sizeof url);
	if (proc_start(pv->s->base, argv, 8 << 20, api_preview_probe_cb, pv, err, sizeof err) == NULL)
		api_preview_done(pv, NULL, 0, 500, err);
}

/* Starts the previews that waited, as far as there is room; those whose client left go. */
static void
api_preview_next(struct server *s)
{
	struct api_preview *pv;

	while (s->previews_running < API_PREVIEW_RUNNING && (pv = s->preview_wait) != NULL) {
		s->preview_wait = pv->next;
		s->previews_waiting--;
		if (pv->req == NULL)
			free(pv);
		else
			api_preview_run(pv);
	}
}

int
api_parse_preview(const char *query, struct api_preview_req *r, char *err, size_t errlen)
{
	struct evkeyvalq q;
	const char *filter, *t, *fmt, *detail = NULL;
	char *end;
	int status = 400;

	TAILQ_INIT(&q);
	r->title = "Bad Request";
	r->fc = NULL;
	r->t = 0;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		detail = "malformed query string";
		goto done;
	}
	filter = evhttp_find_header(&q, "filter");
	r->fc = fspec_parse(filter ? filter : "none", err, errlen);
	if (r->fc == NULL) {
		r->title = "Invalid filter";
		goto done;
	}
	t = evhttp_find_header(&q, "t");
	if (t != NULL) {
		r->t = strtod(t, &end);
		if (*end != '\0' || end == t || !(r->t >= 0 && r->t < 1e7)) {
			detail = "t: seconds, 0 or more";
			goto done;
		}
	}
	fmt = evhttp_find_header(&q, "format");
	r->jpeg = fmt != NULL && (strcmp(fmt, "jpeg") == 0 || strcmp(fmt, "jpg") == 0);
	if (fmt != NULL && !r->jpeg && strcmp(fmt, "png") != 0) {
		detail = "format: png or jpeg";
		goto done;
	}
	status = 200;
done:
	if (detail != NULL)
		snprintf(err, errlen, "%s", detail);
	if (status != 200) {
		fspec_free(r->fc);
		r->fc = NULL;
	}
	evhttp_clear_headers(&q);
	return status;
}

static void
api_preview(struct server *s, struct evhttp_request *req, const char *id)
{
	struct api_preview_req r;
	struct api_preview *pv = NULL;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	char err[1024];
	json_t *rec;
	int status;

	status = api_parse_preview(query, &r, err, sizeof err);
	if (status != 200) {
		http_send_error(req, status, r.title, err);
		return;
	}
	rec = store_get(s->store, id, err, sizeof err);
	if (rec == NULL) {
		http_send_error(req, 404, "Job not found", "no job has this id");
		goto done;
	}
	json_decref(rec);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* The image's length is known only once it is rendered: a decode (hundreds of MB
		 * and a second at 8K) for one header is what a client could repeat at will. HEAD
		 * gets GET's headers without it, as RFC 9110 9.3.2 allows for fields known only
		 * while the content is made; a video that cannot be decoded is 422 to GET only. */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		    r.jpeg ? "image/jpeg" : "image/png");
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "max-age=3600");
		evhttp_send_reply(req, 200, "OK", NULL);
		goto done;
	}
	pv = calloc(1, sizeof *pv);
	if (pv == NULL) {
		http_send_error(req, 500, "Internal Server Error", "out of memory");
		goto done;
	}
	pv->t = r.t;
	pv->jpeg = r.jpeg;
	pv->s = s;
	pv->req = req;
	pv->evcon = evhttp_request_get_connection(req);
	snprintf(pv->id, sizeof pv->id, "%s", id);
	snprintf(pv->filter, sizeof pv->filter, "%s", fspec_string(r.fc));
	queue_job_dir(s, id, pv->dir, sizeof pv->dir);
	snprintf(pv->input, sizeof pv->input, "%s/input", pv->dir);
	if (s->previews_running >= API_PREVIEW_RUNNING && s->previews_waiting >= API_PREVIEW_WAITING) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		http_send_error(req, 503, "Service Unavailable", "too many previews at once; try again");
		goto done;
	}
	evhttp_connection_set_closecb(pv->evcon, api_preview_closed_cb, pv);
	if (s->previews_running < API_PREVIEW_RUNNING) {
		api_preview_run(pv);
	} else {
		struct api_preview **pp = &s->preview_wait;

		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = pv;
		s->previews_waiting++;
	}
	pv = NULL;
done:
	free(pv);
	fspec_free(r.fc);
}

/* ---- dispatch ---- */

static void
api_filters(struct server *s, struct evhttp_request *req)
{
	http_send_json(req, 200, json_pack("{s:o}", "filters", fspec_list_json()));
}

static void
api_download_output(struct server *s, struct evhttp_request *req, const char *id)
{
	api_download(s, req, id, 0);
}

static void
api_download_input(struct server *s, struct evhttp_request *req, const char *id)
{
	api_download(s, req, id, 1);
}

static void
api_login(struct server *s, struct evhttp_request *req)
{
	access_login(&s->access, req);
}

/* Routes with a fixed path. */
static const struct api_route {
	const char *path;
	enum evhttp_cmd_type method;    /* GET also answers HEAD */
	const char *allow;              /* for a 405 */
	void (*fn)(struct server *, struct evhttp_request *);
} api_routes[] = {
	{ "/upload", EVHTTP_REQ_POST, "POST, OPTIONS", api_upload },
	{ "/process", EVHTTP_REQ_POST, "POST, OPTIONS", api_process },
	{ "/health", EVHTTP_REQ_GET, "GET, HEAD", api_health },
	{ "/jobs", EVHTTP_REQ_GET, "GET, HEAD", api_jobs },
	{ "/filters", EVHTTP_REQ_GET, "GET, HEAD", api_filters },
	{ "/login", EVHTTP_REQ_POST, "POST, OPTIONS", api_login },
};

/* Routes that end in a job id. */
static const struct api_id_route {
	const char *prefix;
	enum evhttp_cmd_type method;
	const char *allow;
	void (*fn)(struct server *, struct evhttp_request *, const char *);
} api_id_routes[] = {
	{ "/status/", EVHTTP_REQ_GET, "GET, HEAD", api_status },
	{ "/download/", EVHTTP_REQ_GET, "GET, HEAD", api_download_output },
	{ "/input/", EVHTTP_REQ_GET, "GET, HEAD", api_download_input },
	{ "/preview/", EVHTTP_REQ_GET, "GET, HEAD", api_preview },
	{ "/events/", EVHTTP_REQ_GET, "GET, HEAD", sse_open },
	{ "/cleanup/", EVHTTP_REQ_DELETE, "DELETE, OPTIONS", api_cleanup },
};

/* 1 when the method fits; else answers 405 with the allowed methods and returns 0. */
static int
api_method_ok(enum evhttp_cmd_type want, enum evhttp_cmd_type m, struct evhttp_request *req,
    const char *allow)
{
	if (m == want || (want == EVHTTP_REQ_GET && m == EVHTTP_REQ_HEAD))
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	http_send_error(req, 405, "Method Not Allowed", NULL);
	return 0;
}

/* Answers a refused request; an upload's spooled file goes first (nothing is stored). */
static void
api_refuse(struct server *s, struct evhttp_request *req, const struct access_refusal *r)
{
	struct upload_result up;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST && upload_take(req, &up) == 0 &&
	    up.status == 0)
		quota_rm_rf(s->quota, up.path);
	access_refuse(req, r);
}

void
api_handle_cb(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct access_refusal refusal;
	size_t i, n;

	api_cors(s, req);
	if (path == NULL || path[0] != '/') {
		http_send_error(req, 400, "Bad Request", "malformed request path");
		return;
	}
	/* the Host and Origin rules hold for every request, the page's files included */
	if (access_check(&s->access, req, 0, &refusal) == -1) {
		api_refuse(s, req, &refusal);
		return;
	}
	if (m == EVHTTP_REQ_OPTIONS) {
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	log_debug("method %d %s", (int)m, path);
	for (i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		if (strcmp(path, api_routes[i].path) != 0)
			continue;
		/* the token guards the API; /health stays open to monitors and names no job */
		if (api_routes[i].fn != api_health &&
		    access_check(&s->access, req, 1, &refusal) == -1)
			api_refuse(s, req, &refusal);
		else if (api_method_ok(api_routes[i].method, m, req, api_routes[i].allow))
			api_routes[i].fn(s, req);
		return;
	}
	/* an id then a file name: the same access as /download */
	if (strncmp(path, "/stream/", 8) == 0) {
		if (access_check(&s->access, req, 1, &refusal) == -1)
			api_refuse(s, req, &refusal);
		else if (api_method_ok(EVHTTP_REQ_GET, m, req, "GET, HEAD"))
			api_stream(s, req, path + 8);
		return;
	}
	for (i = 0; i < sizeof api_id_routes / sizeof api_id_routes[0]; i++) {
		n = strlen(api_id_routes[i].prefix);
		if (strncmp(path, api_id_routes[i].prefix, n) != 0)
			continue;
		/* nothing from a URL becomes a path unless it is exactly a job id */
		if (access_check(&s->access, req, 1, &refusal) == -1)
			api_refuse(s, req, &refusal);
		else if (!jobid_valid(path + n))
			http_send_error(req, 404, "Job not found", "not a job id");
		else if (api_method_ok(api_id_routes[i].method, m, req, api_id_routes[i].allow))
			api_id_routes[i].fn(s, req, path + n);
		return;
	}
	if (api_method_ok(EVHTTP_REQ_GET, m, req, "GET, HEAD"))
		api_page(s, req, path);
}
