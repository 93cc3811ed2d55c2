#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "common/log.h"
#include "master/quota.h"
#include "master/filename.h"
#include "master/upload.h"

/*
 * A real evhttp server runs in the test process with upload_install(); clients
 * are forked children speaking plain blocking sockets, so that what they send
 * is byte-exact and the server's memory is the test process's alone. Children
 * write what they saw into shared memory; the parent asserts.
 */

#define TEST_BOUNDARY	"vrTestBoundary7Q"
#define TEST_MAX_TAKES	8
#define TEST_MAX_RESP	8

struct test_srv {
	struct event_base	*base;
	struct evhttp		*http;
	struct upload_server	*up;
	int			 port;
	char			 spool[64];
	int			 fds_before;
	int			 ntakes;		/* /upload handler calls */
	int			 take_rc[TEST_MAX_TAKES];
	struct upload_result	 res[TEST_MAX_TAKES];
	int			 watch;		/* inotify on the spool directory */
	int			 created;	/* files created in it so far */
};

struct test_resp {
	int	status;		/* 0: no response came */
	int	conn_close;	/* the reply had Connection: close */
	char	body[1024];
	long	at_ms;		/* when it was complete, on CLOCK_MONOTONIC */
};

struct test_report {
	int			nresp;
	struct test_resp	resp[TEST_MAX_RESP];
	int			eof;		/* the server closed after the last reply */
	int			late_sends;	/* sends that went through after a reply */
	long			start_ms, end_ms;
	long			sent_ms;	/* when the request was out */
	char			note[256];	/* what went wrong on the client side */
};

typedef void (*test_client_fn)(int port, struct test_report *r, void *arg);

static long
test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the one opendir holds */
}

static int
test_spool_count(struct test_srv *t)
{
	DIR *d = opendir(t->spool);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Files created in the spool directory since the test began. */
static int
test_spool_created(struct test_srv *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(t->watch, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			t->created += (ev->mask & IN_CREATE) != 0;
		}
	}
	return t->created;
}

/* --- the server side --- */

static int test_stream_step;
static char test_file_path[128];

static void
test_reply(struct evhttp_request *req, int code, json_t *j)
{
	struct evbuffer *b = evbuffer_new();
	char *s = json_dumps(j, JSON_COMPACT);

	assert_non_null(s);
	evbuffer_add(b, s, strlen(s));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, code, NULL, b);
	evbuffer_free(b);
	free(s);
	json_decref(j);
}

static void
test_upload_cb(struct evhttp_request *req, void *arg)
{
	struct test_srv *t = arg;
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct upload_result r;
	int rc;

	if (q != NULL && strcmp(q, "skip") == 0) {
		/* a handler that forgets upload_take(): the spooler must clean up */
		test_reply(req, 202, json_pack("{s:s}", "skipped", "yes"));
		return;
	}
	rc = upload_take(req, &r);
	if (t->ntakes < TEST_MAX_TAKES) {
		t->take_rc[t->ntakes] = rc;
		t->res[t->ntakes] = r;
	}
	t->ntakes++;
	if (rc == 0 && r.status == 0)
		test_reply(req, 200, json_pack("{s:s, s:I}", "filename", r.filename,
		    "size", (json_int_t)r.size));
	else
		test_reply(req, r.status, json_pack("{s:s, s:s}", "error",
		    "upload refused", "detail", r.error));
}

static void
test_stream_next_cb(struct evhttp_connection *evcon, void *arg)
{
	static const char *const words[] = { "one ", "two ", "three " };
	struct evhttp_request *req = arg;
	struct evbuffer *b;

	if (test_stream_step == 3) {
		evhttp_send_reply_end(req);
		return;
	}
	b = evbuffer_new();
	evbuffer_add(b, words[test_stream_step], strlen(words[test_stream_step]));
	test_stream_step++;
	/* the next chunk goes once this one is written, as progress streams do */
	evhttp_send_reply_chunk_with_cb(req, b, test_stream_next_cb, req);
	evbuffer_free(b);
}

/* Every other request: its method and how much body evhttp read. */
static void
test_other_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b;

	if (strcmp(evhttp_request_get_uri(req), "/file") == 0) {
		int fd = open(test_file_path, O_RDONLY | O_CLOEXEC);
		struct stat st;

		assert_true(fd != -1 && fstat(fd, &st) == 0);
		b = evbuffer_new();
		/* as the master's downloads: sendfile, not the file in memory */
		evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
		assert_int_equal(evbuffer_add_file(b, fd, 0, st.st_size), 0);
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	if (strcmp(evhttp_request_get_uri(req), "/stream") == 0) {
		test_stream_step = 0;
		evhttp_send_reply_start(req, 200, "OK");
		test_stream_next_cb(NULL, req);
		return;
	}
	b = evbuffer_new();

	evbuffer_add_printf(b, "pong %zu %d",
	    evbuffer_get_length(evhttp_request_get_input_buffer(req)),
	    (int)evhttp_request_get_command(req));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
test_install(struct test_srv *t, int64_t max_bytes, int idle_s)
{
	struct upload_config cfg = { t->spool, max_bytes, idle_s, 0, NULL, 0 };
	char err[256];

	upload_free(t->up);
	t->up = upload_install(t->http, t->base, &cfg, err, sizeof err);
	if (t->up == NULL)
		fail_msg("upload_install: %s", err);
}

static int
test_setup(void **state)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct test_srv *t;

	signal(SIGPIPE, SIG_IGN);
	t = calloc(1, sizeof *t);
	assert_non_null(t);
	t->fds_before = test_count_fds();
	snprintf(t->spool, sizeof t->spool, "/tmp/vr-upload-test-XXXXXX");
	assert_non_null(mkdtemp(t->spool));
	t->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(t->watch != -1);
	assert_true(inotify_add_watch(t->watch, t->spool, IN_CREATE) != -1);
	t->base = event_base_new();
	t->http = evhttp_new(t->base);
	assert_non_null(t->http);
	evhttp_set_cb(t->http, "/upload", test_upload_cb, t);
	evhttp_set_gencb(t->http, test_other_cb, t);
	bound = evhttp_bind_socket_with_handle(t->http, "127.0.0.1", 0);
	assert_non_null(bound);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &len), 0);
	t->port = ntohs(sin.sin_port);
	test_install(t, 1 << 20, 5);
	*state = t;
	return 0;
}

static int
test_teardown(void **state)
{
	struct test_srv *t = *state;
	struct dirent *e;
	char path[512];
	DIR *d;
	int fds, fds_before = t->fds_before;

	evhttp_free(t->http);
	upload_free(t->up);
	event_base_free(t->base);
	close(t->watch);
	fds = test_count_fds();
	if ((d = opendir(t->spool)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", t->spool, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(t->spool);
	free(t);
	/* every connection's socket and spool file is closed once the base is gone */
	assert_int_equal(fds, fds_before);
	return 0;
}

/* Wakes the loop up so that it can look at the clients. */
static void
test_tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the server until every client exited (or 20 s passed). */
static void
test_run_clients(struct test_srv *t, int n, test_client_fn *fns, void **args,
    struct test_report *reps)
{
	struct timeval tick = { 0, 5000 };
	struct test_report *shared;
	struct event *ev;
	pid_t pids[4];
	long deadline = test_now_ms() + 20000;
	int i, alive = n, st;

	shared = mmap(NULL, (size_t)n * sizeof *shared, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	memset(shared, 0, (size_t)n * sizeof *shared);
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) == 0) {
			shared[i].start_ms = test_now_ms();
			fns[i](t->port, &shared[i], args != NULL ? args[i] : NULL);
			shared[i].end_ms = test_now_ms();
			_exit(0);
		}
		assert_true(pids[i] > 0);
	}
	ev = event_new(t->base, -1, EV_PERSIST, test_tick_cb, t);
	event_add(ev, &tick);
	while (alive > 0 && test_now_ms() < deadline) {
		event_base_loop(t->base, EVLOOP_ONCE);
		for (i = 0; i < n; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				pids[i] = 0;
				alive--;
			}
		}
	}
	event_free(ev);
	for (i = 0; i < n; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
		}
	}
	memcpy(reps, shared, (size_t)n * sizeof *shared);
	munmap(shared, (size_t)n * sizeof *shared);
	assert_int_equal(alive, 0);
	for (i = 0; i < n; i++) {
		if (reps[i].note[0] != '\0')
			print_message("client %d: %s\n", i, reps[i].note);
	}
}

static void
test_run(struct test_srv *t, test_client_fn fn, void *arg, struct test_report *r)
{
	test_run_clients(t, 1, &fn, &arg, r);
}

/* Lets the server finish what the clients left (closes, removals) for up to ms. */
static void
test_settle(struct test_srv *t, int spool_files, long ms)
{
	struct timeval tick = { 0, 5000 };
	long deadline = test_now_ms() + ms;
	struct event *ev = event_new(t->base, -1, EV_PERSIST, test_tick_cb, t);

	event_add(ev, &tick);
	while (test_spool_count(t) != spool_files && test_now_ms() < deadline)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(ev);
}

/* --- the client side (runs in the children) --- */

struct test_conn {
	int	fd;
	char	buf[1 << 16];
	size_t	len;
};

static int
test_connect(struct test_conn *c, int port, struct test_report *r)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };

	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		snprintf(r->note, sizeof r->note, "connect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
test_send(struct test_conn *c, const void *data, size_t len, struct test_report *r)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) <= 0) {
			if (r->note[0] == '\0')
				snprintf(r->note, sizeof r->note, "send: %s",
				    strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	r->sent_ms = test_now_ms();
	return 0;
}

static int
test_fill(struct test_conn *c)
{
	ssize_t n;

	if (c->len == sizeof c->buf)
		return -1;
	n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

/* The body of a chunked response whose head (head bytes) is at the front of c->buf. */
static int
test_read_chunked(struct test_conn *c, struct test_report *r, size_t head)
{
	struct test_resp *resp = &r->resp[r->nresp];
	size_t pos = head, n, got = 0;
	char *eol;

	for (;;) {
		while ((eol = memmem(c->buf + pos, c->len - pos, "\r\n", 2)) == NULL) {
			if (test_fill(c) == -1)
				return -1;
		}
		n = strtoul(c->buf + pos, NULL, 16);
		pos = (size_t)(eol - c->buf) + 2;
		while (c->len < pos + n + 2) {
			if (test_fill(c) == -1)
				return -1;
		}
		if (n == 0)
			break;
		if (got + n < sizeof resp->body) {
			memcpy(resp->body + got, c->buf + pos, n);
			got += n;
		}
		pos += n + 2;
	}
	resp->body[got] = '\0';
	pos += 2;
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	resp->at_ms = test_now_ms();
	if (r->nresp < TEST_MAX_RESP - 1)
		r->nresp++;
	return 0;
}

/* Reads one response into r->resp[r->nresp]; -1 if the connection ended first. */
static int
test_read_resp(struct test_conn *c, struct test_report *r)
{
	struct test_resp *resp = &r->resp[r->nresp];
	char *end, *h;
	size_t head, body = 0, keep;

	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
		if (test_fill(c) == -1)
			return -1;
	}
	head = (size_t)(end - c->buf) + 4;
	*end = '\0';
	if (sscanf(c->buf, "HTTP/1.%*d %d", &resp->status) != 1)
		resp->status = -1;
	if ((h = strcasestr(c->buf, "\r\nContent-Length:")) != NULL)
		body = strtoul(h + 17, NULL, 10);
	h = strcasestr(c->buf, "\r\nConnection:");
	resp->conn_close = h != NULL && strncasecmp(h + 13 + strspn(h + 13, " "),
	    "close", 5) == 0;
	if ((h = strcasestr(c->buf, "\r\nTransfer-Encoding:")) != NULL &&
	    strstr(h, "chunked") != NULL)
		return test_read_chunked(c, r, head);
	while (c->len < head + body) {
		if (test_fill(c) == -1)
			return -1;
	}
	keep = body < sizeof resp->body - 1 ? body : sizeof resp->body - 1;
	memcpy(resp->body, c->buf + head, keep);
	resp->body[keep] = '\0';
	memmove(c->buf, c->buf + head + body, c->len - head - body);
	c->len -= head + body;
	resp->at_ms = test_now_ms();
	if (r->nresp < TEST_MAX_RESP - 1)
		r->nresp++;
	return 0;
}

/* Whether the server closes the connection with nothing more to say. */
static void
test_read_eof(struct test_conn *c, struct test_report *r)
{
	char b[4096];
	ssize_t n;

	while ((n = recv(c->fd, b, sizeof b, 0)) > 0)
		;
	r->eof = n == 0 || errno == ECONNRESET;
	close(c->fd);
}

/* File bytes: pseudo-random, with CRLFs and things that look like the delimiter. */
static void
test_payload(unsigned char *p, size_t len, uint32_t seed)
{
	/* none can become a delimiter whatever bytes surround it */
	static const char *tricks[] = {
		"\r\n--vrTestBoundary7x",	/* the last character differs */
		"x--" TEST_BOUNDARY "\r\n",	/* no CRLF before */
		"\r\n-" TEST_BOUNDARY,		/* one dash */
		"\r\n\r\n--\r\n",
		"x\n--" TEST_BOUNDARY "--",	/* LF without CR */
	};
	uint32_t x = seed ? seed : 1;
	size_t i, k;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	for (i = 0, k = 0; i + 64 < len; i += 997, k = (k + 1) % 5)
		memcpy(p + i, tricks[k], strlen(tricks[k]));
}

/* A form with one file field; returns the malloc'ed head+body and its length. */
static char *
test_upload_request(const char *target, const char *extra_headers, const char *field,
    const char *filename, const void *data, size_t len, size_t *outlen)
{
	char head[1024], part[1024], tail[64];
	int hn, pn, tn;
	char *out;

	pn = snprintf(part, sizeof part, "--" TEST_BOUNDARY "\r\nContent-Disposition: "
	    "form-data; name=\"title\"\r\n\r\nsome title\r\n--" TEST_BOUNDARY
	    "\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n", field, filename);
	tn = snprintf(tail, sizeof tail, "\r\n--" TEST_BOUNDARY "--\r\n");
	hn = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: test\r\n"
	    "Content-Type: multipart/form-data; boundary=" TEST_BOUNDARY "\r\n"
	    "Content-Length: %zu\r\n%s\r\n", target, (size_t)pn + len + (size_t)tn,
	    extra_headers != NULL ? extra_headers : "");
	out = malloc((size_t)hn + (size_t)pn + len + (size_t)tn);
	memcpy(out, head, (size_t)hn);
	memcpy(out + hn, part, (size_t)pn);
	memcpy(out + hn + pn, data, len);
	memcpy(out + (size_t)hn + (size_t)pn + len, tail, (size_t)tn);
	*outlen = (size_t)hn + (size_t)pn + len + (size_t)tn;
	return out;
}

static void
test_check_file(const struct upload_result *res, size_t len, uint32_t seed)
{
	unsigned char *want, *got;
	struct stat st;
	FILE *f;

	assert_int_equal(res->status, 0);
	assert_int_equal(res->size, (int64_t)len);
	assert_int_equal(stat(res->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)len);
	assert_int_equal(st.st_mode & 0777, 0600);
	want = malloc(len + 1);
	got = malloc(len + 1);
	test_payload(want, len, seed);
	f = fopen(res->path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, len + 1, f), len);
	fclose(f);
	assert_memory_equal(want, got, len);
	free(want);
	free(got);
	assert_int_equal(unlink(res->path), 0);
}

/* --- tests --- */

static void
test_client_normal(int port, struct test_report *r, void *arg)
{
	struct test_conn c;
	unsigned char *data = malloc(300000);
	char *req;
	size_t len, off, n;

	test_payload(data, 300000, 11);
	req = test_upload_request("/upload", "X-Upload-Path: /etc/passwd\r\n"
	    "Connection: close\r\n", "file", "clip.mp4", data, 300000, &len);
	if (test_connect(&c, port, r) == -1)
		return;
	/* uneven writes, so chunk edges fall everywhere */
	for (off = 0; off < len; off += n) {
		n = 1 + (off * 7919) % 9000;
		if (n > len - off)
			n = len - off;
		if (test_send(&c, req + off, n, r) == -1)
			return;
	}
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_upload_normal(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;
	json_t *j;

	test_run(t, test_client_normal, NULL, &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 200);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(t->take_rc[0], 0);
	assert_string_equal(t->res[0].filename, "clip.mp4");
	assert_true(strncmp(t->res[0].path, t->spool, strlen(t->spool)) == 0);
	j = json_loads(r.resp[0].body, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "size")), 300000);
	json_decref(j);
	test_check_file(&t->res[0], 300000, 11);
	assert_true(r.eof);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_keepalive(int port, struct test_report *r, void *arg)
{
	struct test_conn c;
	unsigned char data[5000];
	char *req, *both;
	static const char get[] = "GET /ping HTTP/1.1\r\nHost: test\r\n\r\n";
	size_t len;

	test_payload(data, sizeof data, 5);
	req = test_upload_request("/upload?kind=video", NULL, "file", "a.bin", data,
	    sizeof data, &len);
	if (test_connect(&c, port, r) == -1)
		return;
	/* one after the other on the same connection */
	if (test_send(&c, req, len, r) == -1 || test_read_resp(&c, r) == -1)
		return;
	if (test_send(&c, get, sizeof get - 1, r) == -1 || test_read_resp(&c, r) == -1)
		return;
	/* then pipelined: upload and GET in one write */
	both = malloc(len + sizeof get);
	memcpy(both, req, len);
	memcpy(both + len, get, sizeof get - 1);
	if (test_send(&c, both, len + sizeof get - 1, r) == -1)
		return;
	if (test_read_resp(&c, r) == -1 || test_read_resp(&c, r) == -1)
		return;
	close(c.fd);
}

static void
test_upload_keepalive(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_keepalive, NULL, &r);
	assert_int_equal(r.nresp, 4);
	assert_int_equal(r.resp[0].status, 200);
	assert_int_equal(r.resp[0].conn_close, 0);
	assert_int_equal(r.resp[1].status, 200);
	assert_string_equal(r.resp[1].body, "pong 0 1");
	assert_int_equal(r.resp[2].status, 200);
	assert_int_equal(r.resp[3].status, 200);
	assert_string_equal(r.resp[3].body, "pong 0 1");
	assert_int_equal(t->ntakes, 2);
	test_check_file(&t->res[0], 5000, 5);
	test_check_file(&t->res[1], 5000, 5);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_oversized(int port, struct test_report *r, void *arg)
{
	static const char head[] = "POST /upload HTTP/1.1\r\nHost: test\r\n"
	    "Content-Type: multipart/form-data; boundary=" TEST_BOUNDARY "\r\n"
	    "Content-Length: 104857600\r\n\r\n--" TEST_BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"big\"\r\n\r\n";
	static char body[64 * 1024];
	struct test_conn c;
	int i;

	if (test_connect(&c, port, r) == -1 || test_send(&c, head, sizeof head - 1, r))
		return;
	test_send(&c, body, sizeof body, r);
	if (test_read_resp(&c, r) == -1)
		return;
	/*
	 * A browser goes on sending its body a while after the answer. The
	 * server drains it instead of closing with unread input, which would
	 * reset the connection (and can take the 413 with it on the way).
	 */
	for (i = 0; i < 16; i++) {
		usleep(10 * 1000);
		if (send(c.fd, body, sizeof body, MSG_NOSIGNAL) != (ssize_t)sizeof body)
			break;
		r->late_sends++;
	}
	shutdown(c.fd, SHUT_WR);
	test_read_eof(&c, r);
}

static void
test_upload_oversized(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;
	json_t *j;

	test_run(t, test_client_oversized, NULL, &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 413);
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_int_equal(r.late_sends, 16);
	assert_true(r.resp[0].at_ms - r.start_ms < 2000);
	j = json_loads(r.resp[0].body, 0, NULL);
	assert_non_null(j);
	assert_non_null(strstr(json_string_value(json_object_get(j, "detail")),
	    "exceeds the limit"));
	json_decref(j);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(t->res[0].status, 413);
	assert_string_equal(t->res[0].path, "");
	/* nothing was ever written to the spool */
	assert_int_equal(test_spool_created(t), 0);
	assert_int_equal(test_spool_count(t), 0);
}

/* A raw request, one response, then whether the server closed. */
static void
test_client_raw(int port, struct test_report *r, void *arg)
{
	struct test_conn c;
	const char *req = arg;

	if (test_connect(&c, port, r) == -1 || test_send(&c, req, strlen(req), r))
		return;
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_expect_refusal(struct test_srv *t, const char *req, int status, const char *detail)
{
	struct test_report r;
	json_t *j;

	t->ntakes = 0;
	test_run(t, test_client_raw, (void *)req, &r);
	assert_int_equal(r.nresp, 1);
	if (r.resp[0].status != status)
		fail_msg("expected %d, got %d (%s) for:\n%s", status, r.resp[0].status,
		    r.resp[0].body, req);
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	j = json_loads(r.resp[0].body, 0, NULL);
	assert_non_null(j);
	if (strstr(json_string_value(json_object_get(j, "detail")), detail) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", json_string_value(
		    json_object_get(j, "detail")), detail);
	json_decref(j);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(test_spool_count(t), 0);
}

#define TEST_HEAD(ct, extra) "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: " ct \
	"\r\n" extra "\r\n"

static void
test_upload_refused_heads(void **state)
{
	struct test_srv *t = *state;

	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x",
	    "Transfer-Encoding: chunked\r\n") "5\r\nabcde\r\n0\r\n\r\n", 411,
	    "Content-Length");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x",
	    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") "abcde", 411,
	    "Transfer-Encoding");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x", ""), 411,
	    "Content-Length");
	test_expect_refusal(t, TEST_HEAD("application/x-www-form-urlencoded",
	    "Content-Length: 3\r\n") "a=b", 415, "multipart/form-data");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data",
	    "Content-Length: 3\r\n") "a=b", 400, "no boundary");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x",
	    "Content-Length: 3\r\nContent-Length: 3\r\n") "a=b", 400, "Content-Length");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x",
	    "Content-Length: +3\r\n") "a=b", 400, "Content-Length");
	test_expect_refusal(t, TEST_HEAD("multipart/form-data; boundary=x",
	    "Content-Length: 99999999999999999999999\r\n") "a=b", 400,
	    "Content-Length");
}

static void
test_client_no_file(int port, struct test_report *r, void *arg)
{
	static const char body[] = "--" TEST_BOUNDARY "\r\nContent-Disposition: "
	    "form-data; name=\"title\"\r\n\r\nno file here\r\n--" TEST_BOUNDARY "--\r\n";
	static const char get[] = "GET /after HTTP/1.1\r\nHost: t\r\nConnection: "
	    "close\r\n\r\n";
	struct test_conn c;
	char head[512];

	snprintf(head, sizeof head, TEST_HEAD("multipart/form-data; boundary="
	    TEST_BOUNDARY, "Content-Length: %zu\r\n"), sizeof body - 1);
	if (test_connect(&c, port, r) == -1 || test_send(&c, head, strlen(head), r) ||
	    test_send(&c, body, sizeof body - 1, r) || test_read_resp(&c, r))
		return;
	/* the body was read to its end: the connection is still good */
	if (test_send(&c, get, sizeof get - 1, r) || test_read_resp(&c, r))
		return;
	test_read_eof(&c, r);
}

static void
test_upload_no_file_field(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_no_file, NULL, &r);
	assert_int_equal(r.nresp, 2);
	assert_int_equal(r.resp[0].status, 400);
	assert_int_equal(r.resp[0].conn_close, 0);
	assert_non_null(strstr(r.resp[0].body, "no \\\"file\\\" field"));
	assert_int_equal(r.resp[1].status, 200);
	assert_string_equal(r.resp[1].body, "pong 0 1");
	assert_int_equal(t->res[0].status, 400);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_two_files(int port, struct test_report *r, void *arg)
{
	static unsigned char data[100000];
	static char req[2 * sizeof data + 1024];
	struct test_conn c;
	size_t n, body;
	int i;

	test_payload(data, sizeof data, 3);
	n = (size_t)snprintf(req, sizeof req, TEST_HEAD("multipart/form-data; "
	    "boundary=" TEST_BOUNDARY, "Content-Length: %8zu\r\n"), (size_t)0);
	body = n;
	for (i = 0; i < 2; i++) {
		n += (size_t)snprintf(req + n, sizeof req - n, "%s--" TEST_BOUNDARY
		    "\r\nContent-Disposition: form-data; name=\"file\"; "
		    "filename=\"f%d\"\r\n\r\n", i ? "\r\n" : "", i);
		memcpy(req + n, data, sizeof data);
		n += sizeof data;
	}
	n += (size_t)snprintf(req + n, sizeof req - n, "\r\n--" TEST_BOUNDARY "--\r\n");
	/* the length was left as 8 spaces wide: fill it in now */
	{
		char cl[16];

		snprintf(cl, sizeof cl, "%8zu", n - body);
		memcpy(strstr(req, "Content-Length: ") + 16, cl, 8);
	}
	if (test_connect(&c, port, r) == -1)
		return;
	test_send(&c, req, n, r);
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_upload_two_file_fields(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_two_files, NULL, &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 400);
	assert_non_null(strstr(r.resp[0].body, "two \\\"file\\\" fields"));
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(t->res[0].status, 400);
	/* the first file had been spooled, and is gone */
	assert_int_equal(test_spool_created(t), 1);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_truncated(int port, struct test_report *r, void *arg)
{
	static unsigned char data[200000];
	struct test_conn c;
	char *req;
	size_t len;

	test_payload(data, sizeof data, 9);
	req = test_upload_request("/upload", NULL, "file", "cut.bin", data, sizeof data,
	    &len);
	if (test_connect(&c, port, r) == -1)
		return;
	test_send(&c, req, len * 6 / 10, r);
	usleep(200 * 1000);
	close(c.fd);
}

static void
test_upload_truncated(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_truncated, NULL, &r);
	test_settle(t, 0, 3000);
	assert_int_equal(test_spool_created(t), 1);
	assert_int_equal(test_spool_count(t), 0);
	assert_int_equal(t->ntakes, 0);
}

static void
test_client_hostile(int port, struct test_report *r, void *arg)
{
	const char *name = arg;
	unsigned char data[100];
	struct test_conn c;
	char *req;
	size_t len;

	test_payload(data, sizeof data, 1);
	req = test_upload_request("/upload", NULL, "file", name, data, sizeof data,
	    &len);
	if (test_connect(&c, port, r) == -1 || test_send(&c, req, len, r))
		return;
	test_read_resp(&c, r);
}

static void
test_upload_hostile_filename(void **state)
{
	static const struct {
		const char *raw;	/* as it goes between the quotes */
		const char *want;
	} cases[] = {
		{ "..\\..\\x/../../etc/pa\\\"ss'wd\x01\x1b[31m\xe2\x80\xae\xff.mp4",
		    "passwd[31m\xef\xbf\xbd.mp4" },
		{ "../", "upload" },
		{ "..", "upload" },
		{ "", "upload" },
		{ "  spaced name.mov  ", "spaced name.mov" },
		{ "C:\\Users\\me\\Videos\\holiday.mkv", "holiday.mkv" },
		{ "evil\r\nSet-Cookie: x=1.mp4", NULL },	/* refused, see below */
	};
	struct test_srv *t = *state;
	struct test_report r;
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t->ntakes = 0;
		test_run(t, test_client_hostile, (void *)cases[i].raw, &r);
		if (strpbrk(cases[i].raw, "\r\n") != NULL) {
			/* a raw CR LF ends the part header: the part is malformed */
			assert_int_equal(r.resp[0].status, 400);
			continue;
		}
		assert_int_equal(r.resp[0].status, 200);
		assert_int_equal(t->ntakes, 1);
		assert_string_equal(t->res[0].filename, cases[i].want);
		/* and it travels as valid JSON */
		j = json_loads(r.resp[0].body, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "filename")),
		    cases[i].want);
		json_decref(j);
		assert_int_equal(unlink(t->res[0].path), 0);
	}
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_upload_sanitize(void **state)
{
	char out[256], raw[1024];
	size_t i;

	filename_sanitize("movie.mp4", out, sizeof out);
	assert_string_equal(out, "movie.mp4");
	filename_sanitize(NULL, out, sizeof out);
	assert_string_equal(out, "upload");
	filename_sanitize("a/b\\c/", out, sizeof out);
	assert_string_equal(out, "upload");
	filename_sanitize("\"'\x7f\t", out, sizeof out);
	assert_string_equal(out, "upload");
	/* overlong, surrogate and truncated sequences become U+FFFD */
	filename_sanitize("a\xc0\xaf" "b\xed\xa0\x80" "c\xe2\x82", out, sizeof out);
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd");
	/* C1 controls and zero-width characters go */
	filename_sanitize("x\xc2\x85y\xe2\x80\x8bz\xef\xbb\xbf.txt", out,
	    sizeof out);
	assert_string_equal(out, "xyz.txt");
	/* 200 bytes at most, never cutting a character */
	for (i = 0; i < 300; i++)
		raw[i] = 'a';
	raw[300] = '\0';
	filename_sanitize(raw, out, sizeof out);
	assert_int_equal(strlen(out), FILENAME_MAX_BYTES);
	for (i = 0; i < 100; i++)
		memcpy(raw + 3 * i, "\xe2\x82\xac", 3);
	raw[300] = '\0';
	filename_sanitize(raw, out, sizeof out);
	assert_int_equal(strlen(out), 198);
	assert_memory_equal(out + 195, "\xe2\x82\xac", 3);
	/* a small buffer is respected */
	filename_sanitize("abcdefghij", out, 5);
	assert_string_equal(out, "abcd");
}

struct test_trickle {
	int	pieces;
	int	gap_ms;
};

static void
test_client_trickle(int port, struct test_report *r, void *arg)
{
	const struct test_trickle *tr = arg;
	unsigned char data[2000];
	struct test_conn c;
	size_t len, head, step, off;
	char *req;
	int i;

	test_payload(data, sizeof data, 21);
	req = test_upload_request("/upload", NULL, "file", "slow.bin", data,
	    sizeof data, &len);
	head = (size_t)((char *)memmem(req, len, "\r\n\r\n", 4) - req) + 4;
	if (test_connect(&c, port, r) == -1 || test_send(&c, req, head, r))
		return;
	step = (len - head) / (size_t)tr->pieces;
	for (off = head, i = 0; i < tr->pieces; i++, off += step) {
		usleep((useconds_t)tr->gap_ms * 1000);
		if (test_send(&c, req + off, i < tr->pieces - 1 ? step : len - off, r))
			return;
	}
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_client_ping(int port, struct test_report *r, void *arg)
{
	static const char get[] = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
	struct test_conn c;

	usleep(500 * 1000);
	if (test_connect(&c, port, r) == -1 || test_send(&c, get, sizeof get - 1, r))
		return;
	test_read_resp(&c, r);
	close(c.fd);
}

/*
 * A client sending its body in drips over 2.5 s: another connection is served
 * at once meanwhile, and the upload outlives both the 1 s evhttp timeout and the
 * 1 s idle timeout because it keeps making progress.
 */
static void
test_upload_trickle(void **state)
{
	struct test_srv *t = *state;
	struct test_trickle tr = { 25, 100 };
	test_client_fn fns[2] = { test_client_trickle, test_client_ping };
	void *args[2] = { &tr, NULL };
	struct test_report r[2];

	test_install(t, 1 << 20, 1);
	evhttp_set_timeout(t->http, 1);
	test_run_clients(t, 2, fns, args, r);
	assert_int_equal(r[1].nresp, 1);
	assert_int_equal(r[1].resp[0].status, 200);
	assert_true(r[1].resp[0].at_ms - r[1].sent_ms < 1000);
	/* the ping was answered while the upload was still dripping */
	assert_true(r[1].resp[0].at_ms < r[0].sent_ms);
	assert_int_equal(r[0].nresp, 1);
	assert_int_equal(r[0].resp[0].status, 200);
	assert_true(r[0].resp[0].at_ms - r[0].start_ms >= 2400);
	test_check_file(&t->res[0], 2000, 21);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_stall(int port, struct test_report *r, void *arg)
{
	unsigned char data[2000];
	struct test_conn c;
	size_t len;
	char *req;

	test_payload(data, sizeof data, 4);
	req = test_upload_request("/upload", NULL, "file", "stall.bin", data,
	    sizeof data, &len);
	if (test_connect(&c, port, r) == -1 || test_send(&c, req, len / 2, r))
		return;
	/* then nothing: the server must answer and hang up on its own */
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_upload_idle_timeout(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_install(t, 1 << 20, 1);
	test_run(t, test_client_stall, NULL, &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 408);
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_true(r.resp[0].at_ms - r.sent_ms >= 900);
	assert_true(r.resp[0].at_ms - r.sent_ms < 4000);
	assert_int_equal(test_spool_created(t), 1);
	assert_int_equal(test_spool_count(t), 0);
}

/* A slowloris client: its head at once, the rest one byte per gap_ms. */
struct test_drip {
	const char	*head;
	const char	*rest;
	size_t		 rest_len;
	int		 gap_ms;
};

/* Drips until the server answers or hangs up (a head, a body: whatever it is sent). */
static void
test_client_drip(int port, struct test_report *r, void *arg)
{
	const struct test_drip *d = arg;
	struct test_conn c;
	struct pollfd pfd;
	size_t i;

	if (test_connect(&c, port, r) == -1 || test_send(&c, d->head, strlen(d->head), r))
		return;
	pfd.fd = c.fd;
	pfd.events = POLLIN;
	for (i = 0; i < d->rest_len; i++) {
		if (poll(&pfd, 1, d->gap_ms) != 0 ||
		    send(c.fd, d->rest + i, 1, MSG_NOSIGNAL) != 1)
			break;
	}
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

/*
 * An upload at 20 bytes/s never goes idle, but stays under the 500 bytes/s
 * minimum: 408 once its first (idle) second and the bit its bytes earned are
 * used up, its spool file gone.
 */
static void
test_upload_too_slow(void **state)
{
	struct test_srv *t = *state;
	unsigned char data[2000];
	struct test_drip d = { NULL, NULL, 0, 50 };
	struct test_report r;
	size_t len, head;
	char *req;

	test_payload(data, sizeof data, 5);
	req = test_upload_request("/upload", NULL, "file", "drip.bin", data,
	    sizeof data, &len);
	/* the head and the form up to the file's first byte at once: a spool file opens */
	head = (size_t)((char *)memmem(req, len, "octet-stream\r\n\r\n", 16) - req) + 16;
	d.head = strndup(req, head);
	d.rest = req + head;
	d.rest_len = len - head;
	test_install(t, 1 << 20, 1);
	test_run(t, test_client_drip, &d, &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 408);
	assert_non_null(strstr(r.resp[0].body, "too slow"));
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_true(r.resp[0].at_ms - r.start_ms >= 900);
	assert_true(r.resp[0].at_ms - r.start_ms < 4000);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(test_spool_created(t), 1);
	assert_int_equal(test_spool_count(t), 0);
	free((char *)d.head);
	free(req);
}

/* With 1 s timeouts, the server hangs up on the dripping client after 1 to 4 s, silently. */
static void
test_expect_hangup(struct test_srv *t, struct test_drip *d)
{
	struct test_report r;

	test_install(t, 1 << 20, 1);
	evhttp_set_timeout(t->http, 1);
	test_run(t, test_client_drip, d, &r);
	assert_int_equal(r.nresp, 0);
	assert_true(r.eof);
	assert_true(r.end_ms - r.start_ms >= 900);
	assert_true(r.end_ms - r.start_ms < 4000);
}

/* Any other body that drips is hung up on: evhttp's timeout alone would wait for ever. */
static void
test_upload_body_too_slow(void **state)
{
	char body[1000];
	struct test_drip d = { "POST /other HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
	    "\r\n", body, sizeof body, 50 };

	memset(body, 'x', sizeof body);
	test_expect_hangup(*state, &d);
}

/* A dripping head reaches evhttp only once complete, so evhttp's timeout ends it. */
static void
test_upload_head_drip(void **state)
{
	char hdr[200];
	struct test_drip d = { "GET /ping HTTP/1.1\r\n", hdr, sizeof hdr, 50 };

	memset(hdr, 'a', sizeof hdr);
	memcpy(hdr, "X-Slow: ", 8);
	test_expect_hangup(*state, &d);
}

#define TEST_BIG_BLOCK	(64 * 1024)
#define TEST_BIG_BLOCKS	800		/* 50 MiB */

static void
test_client_big(int port, struct test_report *r, void *arg)
{
	static unsigned char block[TEST_BIG_BLOCK];
	char head[1024], tail[64];
	struct test_conn c;
	size_t total = (size_t)TEST_BIG_BLOCK * TEST_BIG_BLOCKS;
	int hn, tn, i;

	tn = snprintf(tail, sizeof tail, "\r\n--" TEST_BOUNDARY "--\r\n");
	hn = snprintf(head, sizeof head, "--" TEST_BOUNDARY "\r\nContent-Disposition: "
	    "form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n");
	{
		char req[1024];
		int rn = snprintf(req, sizeof req, TEST_HEAD("multipart/form-data; "
		    "boundary=" TEST_BOUNDARY, "Content-Length: %zu\r\n"),
		    (size_t)hn + total + (size_t)tn);

		if (test_connect(&c, port, r) == -1 || test_send(&c, req, (size_t)rn, r)
		    || test_send(&c, head, (size_t)hn, r))
			return;
	}
	for (i = 0; i < TEST_BIG_BLOCKS; i++) {
		test_payload(block, sizeof block, (uint32_t)i + 1);
		if (test_send(&c, block, sizeof block, r))
			return;
	}
	if (test_send(&c, tail, (size_t)tn, r))
		return;
	test_read_resp(&c, r);
	close(c.fd);
}

static long
test_vm_hwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int
test_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
	return getenv("VR_SANITIZED") != NULL;
}

/* 50 MiB through the spooler: the master's peak memory barely moves. */
static void
test_upload_large(void **state)
{
	struct test_srv *t = *state;
	static unsigned char want[TEST_BIG_BLOCK], got[TEST_BIG_BLOCK];
	struct test_report r;
	long before, after;
	FILE *f;
	int fd, i;

	test_install(t, 64 << 20, 5);
	/* "5" resets the peak RSS to the current RSS (Linux >= 4.0) */
	if ((fd = open("/proc/self/clear_refs", O_WRONLY)) != -1) {
		(void)!write(fd, "5", 1);
		close(fd);
	}
	before = test_vm_hwm_kb();
	test_run(t, test_client_big, NULL, &r);
	after = test_vm_hwm_kb();
	print_message("VmHWM before %ld kB, after %ld kB\n", before, after);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 200);
	assert_int_equal(t->res[0].size, (int64_t)TEST_BIG_BLOCK * TEST_BIG_BLOCKS);
	if (!test_sanitized())
		assert_true(after - before < 8 * 1024);
	f = fopen(t->res[0].path, "rb");
	assert_non_null(f);
	for (i = 0; i < TEST_BIG_BLOCKS; i++) {
		test_payload(want, sizeof want, (uint32_t)i + 1);
		assert_int_equal(fread(got, 1, sizeof got, f), sizeof got);
		if (memcmp(want, got, sizeof got) != 0)
			fail_msg("block %d of the spooled file differs", i);
	}
	assert_int_equal(fread(got, 1, 1, f), 0);
	fclose(f);
	assert_int_equal(unlink(t->res[0].path), 0);
}

static void
test_client_medium(int port, struct test_report *r, void *arg)
{
	static unsigned char data[512 * 1024];
	struct test_conn c;
	size_t len;
	char *req;

	test_payload(data, sizeof data, 8);
	req = test_upload_request("/upload", NULL, "file", "m.bin", data, sizeof data,
	    &len);
	if (test_connect(&c, port, r) == -1)
		return;
	test_send(&c, req, len, r);
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

/* A write error while spooling (the file size limit here, ENOSPC alike): 507. */
static void
test_upload_disk_error(void **state)
{
	struct test_srv *t = *state;
	struct rlimit old, small = { 128 * 1024, 128 * 1024 };
	struct test_report r;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	test_run(t, test_client_medium, NULL, &r);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 507);
	assert_true(r.resp[0].conn_close);
	assert_non_null(strstr(t->res[0].error, "File too large"));
	assert_int_equal(test_spool_created(t), 1);
	test_settle(t, 0, 1000);
	assert_int_equal(test_spool_count(t), 0);
}

/* --max-disk-mb: an upload that would not fit is refused from its Content-Length (507,
 * nothing spooled); one that fits is counted once written, and its reservation ends. */
static void
test_upload_quota(void **state)
{
	struct test_srv *t = *state;
	struct upload_config cfg = { t->spool, 1 << 20, 5, 0, NULL, 0 };
	struct test_report r;
	struct quota *q;
	char err[256];

	q = quota_open(t->spool, 400 * 1024);
	assert_non_null(q);
	assert_int_equal(quota_used(q), 0);
	cfg.quota = q;
	upload_free(t->up);
	t->up = upload_install(t->http, t->base, &cfg, err, sizeof err);
	assert_non_null(t->up);

	test_run(t, test_client_medium, NULL, &r);      /* 512 KiB: over */
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 507);
	assert_true(r.resp[0].conn_close);
	assert_non_null(strstr(r.resp[0].body, "disk quota of 0.390625 MiB"));
	assert_non_null(strstr(t->res[0].error, "--max-disk-mb"));
	assert_int_equal(test_spool_created(t), 0);
	assert_int_equal(quota_used(q), 0);

	test_run(t, test_client_normal, NULL, &r);      /* 300000 bytes: fits */
	assert_int_equal(r.resp[0].status, 200);
	assert_int_equal(quota_used(q), 300000);
	test_run(t, test_client_normal, NULL, &r);      /* a second one would not */
	assert_int_equal(r.resp[0].status, 507);
	assert_int_equal(quota_used(q), 300000);

	assert_int_equal(quota_rm_rf(q, t->res[1].path), 0);
	assert_int_equal(quota_used(q), 0);
	test_install(t, 1 << 20, 5);
	quota_free(q);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_pipeline(int port, struct test_report *r, void *arg)
{
	unsigned char data[3000];
	struct test_conn c;
	char *up, *all;
	size_t len, n;
	static const char before[] =
	    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"
	    "PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n2 \r\nde\r\n0\r\nX-Trailer: yes\r\n\r\n"
	    "GET /withbody HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
	static const char after[] =
	    "POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nwxyz"
	    "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

	test_payload(data, sizeof data, 6);
	/* %-encoded: evhttp routes it to /upload, so it must be spooled too */
	up = test_upload_request("/%75pload", NULL, "file", "p.bin", data, sizeof data,
	    &len);
	all = malloc(sizeof before + len + sizeof after);
	memcpy(all, before, sizeof before - 1);
	n = sizeof before - 1;
	memcpy(all + n, up, len);
	n += len;
	memcpy(all + n, after, sizeof after - 1);
	n += sizeof after - 1;
	/* all six requests in one write */
	if (test_connect(&c, port, r) == -1 || test_send(&c, all, n, r))
		return;
	while (r->nresp < 6 && test_read_resp(&c, r) == 0)
		;
	test_read_eof(&c, r);
}

/*
 * Other requests' bodies (a length, chunked, a GET's too: evhttp 2.1.12 reads
 * those) pass through in step with evhttp, around a spooled upload.
 */
static void
test_upload_pipeline(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;
	char want[64];

	test_run(t, test_client_pipeline, NULL, &r);
	assert_int_equal(r.nresp, 6);
	snprintf(want, sizeof want, "pong 10 %d", EVHTTP_REQ_POST);
	assert_string_equal(r.resp[0].body, want);
	snprintf(want, sizeof want, "pong 5 %d", EVHTTP_REQ_PUT);
	assert_string_equal(r.resp[1].body, want);
	snprintf(want, sizeof want, "pong 5 %d", EVHTTP_REQ_GET);
	assert_string_equal(r.resp[2].body, want);
	assert_int_equal(r.resp[3].status, 200);
	snprintf(want, sizeof want, "pong 4 %d", EVHTTP_REQ_POST);
	assert_string_equal(r.resp[4].body, want);
	snprintf(want, sizeof want, "pong 0 %d", EVHTTP_REQ_GET);
	assert_string_equal(r.resp[5].body, want);
	assert_true(r.eof);
	assert_int_equal(t->ntakes, 1);
	test_check_file(&t->res[0], 3000, 6);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_continue(int port, struct test_report *r, void *arg)
{
	unsigned char data[4000];
	struct test_conn c;
	size_t len, head;
	char *req;

	test_payload(data, sizeof data, 2);
	req = test_upload_request("/upload", "Expect: 100-continue\r\n", "file", "e.bin",
	    data, sizeof data, &len);
	head = (size_t)((char *)memmem(req, len, "\r\n\r\n", 4) - req) + 4;
	if (test_connect(&c, port, r) == -1 || test_send(&c, req, head, r))
		return;
	/* the interim answer comes before any body byte is sent */
	if (test_read_resp(&c, r) == -1)
		return;
	if (test_send(&c, req + head, len - head, r))
		return;
	test_read_resp(&c, r);
	close(c.fd);
}

static void
test_upload_expect_continue(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_continue, NULL, &r);
	assert_int_equal(r.nresp, 2);
	assert_int_equal(r.resp[0].status, 100);
	assert_true(r.resp[0].at_ms - r.start_ms < 900);
	assert_int_equal(r.resp[1].status, 200);
	test_check_file(&t->res[0], 4000, 2);
}

static void
test_client_big_head(int port, struct test_report *r, void *arg)
{
	const char *line = arg;
	static char pad[20000];
	struct test_conn c;

	memset(pad, 'p', sizeof pad - 1);
	if (test_connect(&c, port, r) == -1 || test_send(&c, line, strlen(line), r) ||
	    test_send(&c, "X-Pad: ", 7, r) || test_send(&c, pad, sizeof pad - 1, r) ||
	    test_send(&c, "\r\n\r\n", 4, r))
		return;
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

static void
test_upload_head_too_large(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_big_head, "POST /upload HTTP/1.1\r\nHost: t\r\n", &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 431);
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_int_equal(t->res[0].status, 431);

	/* not an upload: answered by the filter itself (JSON), then closed */
	test_run(t, test_client_big_head, "GET / HTTP/1.1\r\nHost: t\r\n", &r);
	assert_int_equal(r.nresp, 1);
	assert_int_equal(r.resp[0].status, 431);
	assert_true(r.resp[0].conn_close);
	assert_true(r.eof);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_stale(int port, struct test_report *r, void *arg)
{
	static const char put[] = "PUT /upload HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	unsigned char data[1000];
	struct test_conn c;
	size_t len;
	char *req;

	test_payload(data, sizeof data, 12);
	req = test_upload_request("/upload?skip", NULL, "file", "s.bin", data,
	    sizeof data, &len);
	if (test_connect(&c, port, r) == -1 || test_send(&c, req, len, r) ||
	    test_read_resp(&c, r) || test_send(&c, put, sizeof put - 1, r))
		return;
	test_read_resp(&c, r);
	test_read_eof(&c, r);
}

/*
 * A handler that never takes its upload, then a request on the same connection
 * that did not come through the spooler: it must not get the earlier file, and
 * the earlier file must not stay behind.
 */
static void
test_upload_stale_result(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_stale, NULL, &r);
	assert_int_equal(r.nresp, 2);
	assert_int_equal(r.resp[0].status, 202);
	assert_int_equal(r.resp[1].status, 400);
	assert_int_equal(t->ntakes, 1);
	assert_int_equal(t->take_rc[0], -1);
	assert_string_equal(t->res[0].path, "");
	assert_int_equal(test_spool_created(t), 1);
	test_settle(t, 0, 1000);
	assert_int_equal(test_spool_count(t), 0);
}

static void
test_client_stream(int port, struct test_report *r, void *arg)
{
	static const char get[] = "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char ping[] = "GET /ping HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n";
	struct test_conn c;

	if (test_connect(&c, port, r) == -1 || test_send(&c, get, sizeof get - 1, r) ||
	    test_read_resp(&c, r) || test_send(&c, ping, sizeof ping - 1, r) ||
	    test_read_resp(&c, r))
		return;
	test_read_eof(&c, r);
}

/*
 * A reply streamed chunk by chunk, each sent from the previous one's
 * written-callback: evhttp must hear "written" only from the event loop, after
 * the chunk's callback is in place, or the stream stalls.
 */
static void
test_upload_streamed_reply(void **state)
{
	struct test_srv *t = *state;
	struct test_report r;

	test_run(t, test_client_stream, NULL, &r);
	assert_int_equal(r.nresp, 2);
	assert_int_equal(r.resp[0].status, 200);
	assert_string_equal(r.resp[0].body, "one two three ");
	assert_int_equal(r.resp[1].status, 200);
	assert_true(r.eof);
}

#define TEST_FILE_BLOCKS	320	/* 20 MiB of TEST_BIG_BLOCK */

static void
test_client_file(int port, struct test_report *r, void *arg)
{
	static const char get[] = "GET /file HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char ping[] = "GET /ping HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n";
	static unsigned char want[TEST_BIG_BLOCK];
	struct test_conn c;
	size_t head, len, off, n, bad = 0;
	char *end, *h;

	if (test_connect(&c, port, r) == -1 || test_send(&c, get, sizeof get - 1, r))
		return;
	while ((end = memmem(c.buf, c.len, "\r\n\r\n", 4)) == NULL) {
		if (test_fill(&c) == -1)
			return;
	}
	head = (size_t)(end - c.buf) + 4;
	*end = '\0';
	h = strcasestr(c.buf, "\r\nContent-Length:");
	len = h != NULL ? strtoul(h + 17, NULL, 10) : 0;
	/* compare block by block as it streams in */
	memmove(c.buf, c.buf + head, c.len - head);
	c.len -= head;
	for (off = 0; off < len; off += n) {
		if (c.len == 0 && test_fill(&c) == -1)
			break;
		n = c.len < len - off ? c.len : len - off;
		if (n > TEST_BIG_BLOCK - off % TEST_BIG_BLOCK)
			n = TEST_BIG_BLOCK - off % TEST_BIG_BLOCK;
		if (off % TEST_BIG_BLOCK == 0)
			test_payload(want, sizeof want, (uint32_t)(off / TEST_BIG_BLOCK) + 1);
		bad += memcmp(c.buf, want + off % TEST_BIG_BLOCK, n) != 0;
		memmove(c.buf, c.buf + n, c.len - n);
		c.len -= n;
	}
	snprintf(r->resp[0].body, sizeof r->resp[0].body, "%zu %zu %zu", len, off, bad);
	r->resp[0].status = 200;
	r->nresp = 1;
	/* the connection is still good after a large reply */
	if (test_send(&c, ping, sizeof ping - 1, r) || test_read_resp(&c, r))
		return;
	test_read_eof(&c, r);
}

/* The filter is under every connection: a 20 MiB sendfile reply passes intact. */
static void
test_upload_file_reply(void **state)
{
	struct test_srv *t = *state;
	static unsigned char block[TEST_BIG_BLOCK];
	struct test_report r;
	char want[64];
	FILE *f;
	int i;

	snprintf(test_file_path, sizeof test_file_path, "%s.download", t->spool);
	f = fopen(test_file_path, "wb");
	assert_non_null(f);
	for (i = 0; i < TEST_FILE_BLOCKS; i++) {
		test_payload(block, sizeof block, (uint32_t)i + 1);
		assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
	}
	assert_int_equal(fclose(f), 0);
	test_run(t, test_client_file, NULL, &r);
	unlink(test_file_path);
	snprintf(want, sizeof want, "%d %d 0", TEST_FILE_BLOCKS * TEST_BIG_BLOCK,
	    TEST_FILE_BLOCKS * TEST_BIG_BLOCK);
	assert_string_equal(r.resp[0].body, want);
	assert_int_equal(r.nresp, 2);
	assert_int_equal(r.resp[1].status, 200);
	assert_true(r.eof);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_sanitize),
		cmocka_unit_test_setup_teardown(test_upload_normal, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_keepalive, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_oversized, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_refused_heads, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_no_file_field, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_two_file_fields, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_truncated, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_hostile_filename, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_trickle, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_idle_timeout, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_too_slow, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_body_too_slow, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_head_drip, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_large, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_disk_error, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_quota, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_pipeline, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_expect_continue, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_head_too_large, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_stale_result, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_streamed_reply, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_upload_file_reply, test_setup,
		    test_teardown),
	};

	log_init('M', LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
