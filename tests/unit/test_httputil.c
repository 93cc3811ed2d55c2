#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/log.h"
#include "master/httputil.h"

struct test_http {
	struct event_base *base;
	struct evhttp *http;
	int port;
};

/* A response as the client read it off the socket. */
struct test_http_resp {
	char *raw;
	size_t rawlen;
	int status;
	char reason[64];
	const char *headers;	/* into raw, up to the blank line */
	size_t headerslen;
	const char *body;	/* into raw */
	size_t bodylen;
	int done;
	int timed_out;
	struct event_base *base;
	struct evbuffer *in;
};

static void
test_http_echo(struct evhttp_request *req, size_t limit)
{
	char err[256];
	json_t *j;
	int status = -1;

	j = http_read_json(req, limit, &status, err, sizeof err);
	if (j == NULL) {
		http_send_error(req, status, "bad body", err);
		return;
	}
	assert_int_equal(status, 200);
	http_send_json(req, 200, j);
}

static void
test_http_route_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (strcmp(path, "/json") == 0)
		http_send_json(req, 201, json_pack("{s:s, s:i, s:s}", "job_id", "abc", "n", 1,
		    "name", "caf\xc3\xa9"));
	else if (strcmp(path, "/json-array") == 0)
		http_send_json(req, 200, json_pack("[i, i]", 1, 2));
	else if (strcmp(path, "/json-null") == 0)
		http_send_json(req, 200, NULL);
	else if (strcmp(path, "/json-replaces-type") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		    "text/plain");
		http_send_json(req, 200, json_object());
	} else if (strcmp(path, "/error") == 0)
		http_send_error(req, 404, "not found", "no job 5f2c");
	else if (strcmp(path, "/error-null") == 0)
		http_send_error(req, 409, "job is busy", NULL);
	else if (strcmp(path, "/error-default") == 0)
		http_send_error(req, 503, NULL, NULL);
	else if (strcmp(path, "/error-utf8") == 0)
		http_send_error(req, 422, "bad file \xff", "name caf\xc3\xa9\xff\xfe.mp4");
	else if (strcmp(path, "/error-utf8-edges") == 0)
		/* overlong '/', a surrogate, past U+10FFFF, a cut sequence; then valid 2, 3, 4 bytes */
		http_send_error(req, 400, "x", "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|"
		    "\xe2\x82|\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xac");
	else if (strncmp(path, "/status/", 8) == 0)
		http_send_error(req, atoi(path + 8), "status", NULL);
	else if (strcmp(path, "/echo") == 0)
		test_http_echo(req, 64);
	else if (strcmp(path, "/echo-big") == 0)
		test_http_echo(req, 1 << 20);
	else
		evhttp_send_error(req, 500, "test route missing");
}

static int
test_http_setup(void **state)
{
	struct test_http *t = calloc(1, sizeof *t);
	struct evhttp_bound_socket *bound;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;

	if (t == NULL || (t->base = event_base_new()) == NULL ||
	    (t->http = evhttp_new(t->base)) == NULL)
		return -1;
	evhttp_set_gencb(t->http, test_http_route_cb, NULL);
	bound = evhttp_bind_socket_with_handle(t->http, "127.0.0.1", 0);
	if (bound == NULL)
		return -1;
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &slen) != 0)
		return -1;
	t->port = ntohs(sin.sin_port);
	*state = t;
	return 0;
}

static int
test_http_teardown(void **state)
{
	struct test_http *t = *state;

	evhttp_free(t->http);
	event_base_free(t->base);
	free(t);
	return 0;
}

static void
test_http_read_cb(struct bufferevent *bev, void *arg)
{
	struct test_http_resp *r = arg;

	evbuffer_add_buffer(r->in, bufferevent_get_input(bev));
}

static void
test_http_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct test_http_resp *r = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(r->in, bufferevent_get_input(bev));
		r->done = 1;
		event_base_loopbreak(r->base);
	}
}

static void
test_http_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_http_resp *r = arg;

	r->timed_out = 1;
	event_base_loopbreak(r->base);
}

static void
test_http_resp_free(struct test_http_resp *r)
{
	free(r->raw);
	memset(r, 0, sizeof *r);
}

/* Sends raw request bytes over TCP and reads until the server closes (Connection: close). */
static void
test_http_fetch(struct test_http *t, const char *request, size_t len, struct test_http_resp *r)
{
	struct timeval tv = { 5, 0 };
	struct sockaddr_in sin;
	struct bufferevent *bev;
	struct event *timer;
	const char *p, *end, *clen;
	int n;

	memset(r, 0, sizeof *r);
	r->base = t->base;
	r->in = evbuffer_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)t->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	bev = bufferevent_socket_new(t->base, -1, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	bufferevent_setcb(bev, test_http_read_cb, NULL, test_http_event_cb, r);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	assert_int_equal(bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin), 0);
	bufferevent_write(bev, request, len);
	timer = evtimer_new(t->base, test_http_timeout_cb, r);
	evtimer_add(timer, &tv);
	while (!r->done && !r->timed_out)
		event_base_dispatch(t->base);
	event_free(timer);
	bufferevent_free(bev);

	r->rawlen = evbuffer_get_length(r->in);
	r->raw = malloc(r->rawlen + 1);
	assert_non_null(r->raw);
	evbuffer_remove(r->in, r->raw, r->rawlen);
	r->raw[r->rawlen] = '\0';
	evbuffer_free(r->in);
	r->in = NULL;
	if (r->timed_out)
		fail_msg("no complete response in 5 s, got: %s", r->raw);

	n = sscanf(r->raw, "HTTP/1.1 %d %63[^\r]\r\n", &r->status, r->reason);
	if (n != 2)
		fail_msg("bad status line: %.80s", r->raw);
	p = strstr(r->raw, "\r\n");
	end = strstr(r->raw, "\r\n\r\n");
	assert_non_null(end);
	r->headers = p + 2;
	r->headerslen = (size_t)(end + 2 - r->headers);
	r->body = end + 4;
	r->bodylen = r->rawlen - (size_t)(r->body - r->raw);

	/* the whole body arrived, and only it */
	clen = strcasestr(r->raw, "\r\nContent-Length:");
	assert_true(clen != NULL && clen < end);
	assert_int_equal(strtoull(clen + 17, NULL, 10), r->bodylen);
}

/* The value of a response header (first match, case-insensitive name), copied to out. */
static int
test_http_header(const struct test_http_resp *r, const char *name, char *out, size_t n)
{
	const char *p = r->headers, *end = r->headers + r->headerslen, *eol;
	size_t nlen = strlen(name);
	int count = 0;

	while (p < end) {
		eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			if (count++ == 0)
				snprintf(out, n, "%.*s", (int)(eol - p - nlen - 1 -
				    (p[nlen + 1] == ' ')), p + nlen + 1 + (p[nlen + 1] == ' '));
		}
		p = eol + 2;
	}
	return count;
}

static json_t *
test_http_body_json(const struct test_http_resp *r)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(r->body, r->bodylen, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		fail_msg("body is not JSON (%s): %.*s", jerr.text, (int)r->bodylen, r->body);
	return j;
}

static void
test_http_get(struct test_http *t, const char *path, struct test_http_resp *r)
{
	char req[512];
	int n;

	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n", path);
	test_http_fetch(t, req, (size_t)n, r);
}

static void
test_http_post(struct test_http *t, const char *path, const char *type, const char *body,
    size_t bodylen, struct test_http_resp *r)
{
	char *req;
	size_t n;

	req = malloc(bodylen + 512);
	assert_non_null(req);
	n = (size_t)snprintf(req, 512, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s%sContent-Length: %zu\r\n\r\n", path,
	    type != NULL ? "Content-Type: " : "", type != NULL ? type : "",
	    type != NULL ? "\r\n" : "", bodylen);
	memcpy(req + n, body, bodylen);
	test_http_fetch(t, req, n + bodylen, r);
	free(req);
}

static void
test_http_assert_json_type(const struct test_http_resp *r)
{
	char v[128];

	assert_int_equal(test_http_header(r, "Content-Type", v, sizeof v), 1);
	assert_string_equal(v, "application/json; charset=utf-8");
}

static void
test_http_send_json(void **state)
{
	struct test_http *t = *state;
	struct test_http_resp r;
	json_t *j;

	test_http_get(t, "/json", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.reason, "Created");
	test_http_assert_json_type(&r);
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "job_id")), "abc");
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "caf\xc3\xa9");
	assert_int_equal(json_object_size(j), 3);
	json_decref(j);
	test_http_resp_free(&r);

	test_http_get(t, "/json-array", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reason, "OK");
	assert_int_equal(r.bodylen, 5);
	assert_memory_equal(r.body, "[1,2]", 5);
	test_http_resp_free(&r);

	/* a Content-Type set before is replaced, never doubled */
	test_http_get(t, "/json-replaces-type", &r);
	test_http_assert_json_type(&r);
	assert_memory_equal(r.body, "{}", 2);
	test_http_resp_free(&r);
}

static void
test_http_send_json_null(void **state)
{
	struct test_http *t = *state;
	struct test_http_resp r;
	json_t *j;

	log_set_level(LOG_QUIET);
	test_http_get(t, "/json-null", &r);
	log_set_level(LOG_INFO);
	assert_int_equal(r.status, 500);
	assert_string_equal(r.reason, "Internal Server Error");
	test_http_assert_json_type(&r);
	j = test_http_body_json(&r);
	assert_non_null(json_string_value(json_object_get(j, "error")));
	json_decref(j);
	test_http_resp_free(&r);
}

static void
test_http_send_error(void **state)
{
	struct test_http *t = *state;
	struct test_http_resp r;
	json_t *j;

	test_http_get(t, "/error", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.reason, "Not Found");
	test_http_assert_json_type(&r);
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "not found");
	assert_string_equal(json_string_value(json_object_get(j, "detail")), "no job 5f2c");
	assert_int_equal(json_object_size(j), 2);
	json_decref(j);
	test_http_resp_free(&r);

	test_http_get(t, "/error-null", &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(r.reason, "Conflict");
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "job is busy");
	assert_true(json_is_null(json_object_get(j, "detail")));
	json_decref(j);
	test_http_resp_free(&r);

	test_http_get(t, "/error-default", &r);
	assert_int_equal(r.status, 503);
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "Service Unavailable");
	json_decref(j);
	test_http_resp_free(&r);

	test_http_get(t, "/error-utf8-edges", &r);
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
	    "??|???|????|??|\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xac");
	json_decref(j);
	test_http_resp_free(&r);

	/* bytes that are not UTF-8 (a user's file name) still make valid JSON */
	test_http_get(t, "/error-utf8", &r);
	assert_int_equal(r.status, 422);
	j = test_http_body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "bad file ?");
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
	    "name caf\xc3\xa9??.mp4");
	json_decref(j);
	test_http_resp_free(&r);
}

static void
test_http_status_lines(void **state)
{
	static const struct {
		int status;
		const char *reason;
	} want[] = {
		{ 400, "Bad Request" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
		{ 422, "Unprocessable Content" }, { 500, "Internal Server Error" },
		{ 503, "Service Unavailable" }, { 507, "Insufficient Storage" },
	};
	struct test_http *t = *state;
	struct test_http_resp r;
	char path[32];
	size_t i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(path, sizeof path, "/status/%d", want[i].status);
		test_http_get(t, path, &r);
		assert_int_equal(r.status, want[i].status);
		assert_string_equal(r.reason, want[i].reason);
		test_http_assert_json_type(&r);
		test_http_resp_free(&r);
	}
}

static void
test_http_reason(void **state)
{
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(206), "Partial Content");
	assert_string_equal(http_reason(304), "Not Modified");
	assert_string_equal(http_reason(413), "Content Too Large");
	assert_string_equal(http_reason(415), "Unsupported Media Type");
	assert_string_equal(http_reason(416), "Range Not Satisfiable");
	assert_string_equal(http_reason(422), "Unprocessable Content");
	assert_string_equal(http_reason(507), "Insufficient Storage");
	assert_string_equal(http_reason(299), "Success");
	assert_string_equal(http_reason(499), "Client Error");
	assert_string_equal(http_reason(599), "Server Error");
	assert_string_equal(http_reason(0), "Unknown");
	assert_string_equal(http_reason(-1), "Unknown");
	assert_string_equal(http_reason(1000), "Unknown");
}

/* POSTs body to route and checks the status and that the error detail mentions want. */
static void
test_http_expect(struct test_http *t, const char *route, const char *type, const char *body,
    size_t bodylen, int status, const char *want)
{
	struct test_http_resp r;
	const char *detail;
	json_t *j;

	test_http_post(t, route, type, body, bodylen, &r);
	if (r.status != status)
		fail_msg("body %.60s as %s: status %d, expected %d: %.*s", body,
		    type ? type : "(none)", r.status, status, (int)r.bodylen, r.body);
	test_http_assert_json_type(&r);
	j = test_http_body_json(&r);
	if (status != 200) {
		assert_string_equal(json_string_value(json_object_get(j, "error")), "bad body");
		detail = json_string_value(json_object_get(j, "detail"));
		if (detail == NULL || strstr(detail, want) == NULL)
			fail_msg("detail \"%s\" does not say \"%s\"", detail, want);
	}
	json_decref(j);
	test_http_resp_free(&r);
}

static void
test_http_read_json_ok(void **state)
{
	struct test_http *t = *state;
	struct test_http_resp r;
	const char *body = "{\"filters\":[\"gray\"],\"n\":2}";
	char exact[65];
	json_t *j;

	test_http_post(t, "/echo", "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 200);
	j = test_http_body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "filters"), 0)),
	    "gray");
	json_decref(j);
	test_http_resp_free(&r);

	test_http_expect(t, "/echo", "application/json; charset=utf-8", "{}", 2, 200, NULL);
	test_http_expect(t, "/echo", "Application/JSON", "{}", 2, 200, NULL);
	test_http_expect(t, "/echo", "application/json ;charset=UTF-8", " { } \n", 6, 200,
	    NULL);

	/* exactly at the limit is allowed */
	memset(exact, ' ', 64);
	exact[0] = '{';
	exact[63] = '}';
	exact[64] = '\0';
	test_http_expect(t, "/echo", "application/json", exact, 64, 200, NULL);
}

static void
test_http_read_json_errors(void **state)
{
	struct test_http *t = *state;
	char big[65];
	char *deep;
	size_t i;

	test_http_expect(t, "/echo", "text/plain", "{}", 2, 415, "text/plain");
	test_http_expect(t, "/echo", NULL, "{}", 2, 415, "no Content-Type");
	test_http_expect(t, "/echo", "application/x-www-form-urlencoded", "a=1", 3, 415,
	    "application/json");
	test_http_expect(t, "/echo", "application/jsonx", "{}", 2, 415, "application/json");
	test_http_expect(t, "/echo", "multipart/form-data; boundary=x", "{}", 2, 415,
	    "application/json");

	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[64] = '}';
	test_http_expect(t, "/echo", "application/json", big, 65, 413, "65 bytes");

	test_http_expect(t, "/echo", "application/json", "", 0, 400, "empty");
	test_http_expect(t, "/echo", "application/json", "{", 1, 400, "not valid JSON");
	test_http_expect(t, "/echo", "application/json", "{\"a\":1,}", 8, 400, "not valid JSON");
	test_http_expect(t, "/echo", "application/json", "{} {}", 5, 400, "not valid JSON");
	test_http_expect(t, "/echo", "application/json", "{\"a\":1,\"a\":2}", 13, 400,
	    "duplicate");
	test_http_expect(t, "/echo", "application/json", "{\"a\":\"\xff\"}", 8, 400,
	    "not valid JSON");
	test_http_expect(t, "/echo", "application/json", "{\"a\":\"\\u0000\"}", 14, 400,
	    "not valid JSON");
	test_http_expect(t, "/echo", "application/json", "{\"a\":1}\0", 8, 400,
	    "not valid JSON");

	test_http_expect(t, "/echo", "application/json", "[1,2]", 5, 422, "an array");
	test_http_expect(t, "/echo", "application/json", "\"x\"", 3, 422, "a string");
	test_http_expect(t, "/echo", "application/json", "3", 1, 422, "a number");
	test_http_expect(t, "/echo", "application/json", "null", 4, 422, "null");
	test_http_expect(t, "/echo", "application/json", "true", 4, 422, "a boolean");

	/* nesting deeper than the parser allows is refused, not a stack overflow */
	deep = malloc(200001);
	assert_non_null(deep);
	for (i = 0; i < 100000; i++) {
		deep[i] = '[';
		deep[200000 - 1 - i] = ']';
	}
	deep[200000] = '\0';
	test_http_expect(t, "/echo-big", "application/json", deep, 200000, 400,
	    "not valid JSON");
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_reason),
		cmocka_unit_test(test_http_send_json),
		cmocka_unit_test(test_http_send_json_null),
		cmocka_unit_test(test_http_send_error),
		cmocka_unit_test(test_http_status_lines),
		cmocka_unit_test(test_http_read_json_ok),
		cmocka_unit_test(test_http_read_json_errors),
	};

	return cmocka_run_group_tests(tests, test_http_setup, test_http_teardown);
}
