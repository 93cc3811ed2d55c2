#include "master/httputil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/util.h"

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	}
	/* an unlisted code still gets its class' name (RFC 9110 15) */
	switch (status / 100) {
	case 1: return "Informational";
	case 2: return "Success";
	case 3: return "Redirection";
	case 4: return "Client Error";
	case 5: return "Server Error";
	}
	return "Unknown";
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), 0 if none. */
static size_t
http_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* the second byte's range is narrower for the lead bytes that could encode overlongs,
	 * surrogates or code points past U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/* A JSON string of s; bytes that make it invalid UTF-8 (a file name, say) are replaced by '?'. */
static json_t *
http_json_string(const char *s)
{
	json_t *j;
	char *copy;
	size_t i, n;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (i = 0; copy[i] != '\0'; i += n) {
		n = http_utf8_len((const unsigned char *)copy + i);
		if (n == 0) {
			copy[i] = '?';
			n = 1;
		}
	}
	j = json_string(copy);
	free(copy);
	return j;
}

void
http_send_length(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body,
    int64_t length)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	char len[32];

	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, status, reason, body);
		return;
	}
	/* evhttp 2.1 would send the body of a HEAD, which a keep-alive client then reads as
	 * the next response: only the headers go, with the length a GET would get */
	if (length < 0)
		length = body != NULL ? (int64_t)evbuffer_get_length(body) : 0;
	if (evhttp_find_header(headers, "Content-Length") == NULL) {
		snprintf(len, sizeof len, "%lld", (long long)length);
		evhttp_add_header(headers, "Content-Length", len);
	}
	if (body != NULL)
		evbuffer_drain(body, evbuffer_get_length(body));
	evbuffer_drain(evhttp_request_get_output_buffer(req),
	    evbuffer_get_length(evhttp_request_get_output_buffer(req)));
	evhttp_send_reply(req, status, reason, NULL);
}

void
http_send_body(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body)
{
	http_send_length(req, status, reason, body, -1);
}

/* Sends text (JSON) as the body; the one place that ends a JSON response. */
static void
http_send_text(struct evhttp_request *req, int status, const char *text, size_t len)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);

	evhttp_remove_header(headers, "Content-Type");
	evhttp_add_header(headers, "Content-Type", "application/json; charset=utf-8");
	evbuffer_add(body, text, len);
	http_send_length(req, status, http_reason(status), NULL, (int64_t)len);
}

void
http_send_json(struct evhttp_request *req, int status, json_t *body)
{
	static const char fallback[] = "{\"error\":\"internal error\","
	    "\"detail\":\"cannot write the response as JSON\"}";
	char *text = NULL;

	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(UTIL_JSON_DIGITS));
	if (text == NULL) {
		log_error("cannot write the response to %s as JSON", evhttp_request_get_uri(req));
		http_send_text(req, 500, fallback, sizeof fallback - 1);
		goto done;
	}
	http_send_text(req, status, text, strlen(text));
done:
	free(text);
	json_decref(body);
}

void
http_send_error(struct evhttp_request *req, int status, const char *error,
    const char *detail)
{
	json_t *body;

	body = json_object();
	if (body != NULL) {
		json_object_set_new(body, "error", http_json_string(error != NULL ? error :
		    http_reason(status)));
		json_object_set_new(body, "detail", detail != NULL ? http_json_string(detail) :
		    json_null());
	}
	http_send_json(req, status, body);
}

/* 1 when the Content-Type names application/json, with or without parameters. */
static int
http_is_json_type(const char *value)
{
	static const char want[] = "application/json";

	if (value == NULL)
		return 0;
	value += strspn(value, " \t");
	if (strncasecmp(value, want, sizeof want - 1) != 0)
		return 0;
	value += sizeof want - 1;
	value += strspn(value, " \t");
	return *value == '\0' || *value == ';';
}

static const char *
http_json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

json_t *
http_parse_json(const char *data, size_t len, int *status, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j = NULL;

	if (len == 0) {
		*status = 400;
		snprintf(err, errlen, "the request body is empty, expected a JSON object");
		goto fail;
	}
	j = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		*status = 400;
		snprintf(err, errlen, "the request body is not valid JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		goto fail;
	}
	if (!json_is_object(j)) {
		*status = 422;
		snprintf(err, errlen, "the request body is %s, expected a JSON object",
		    http_json_type_name(j));
		goto fail;
	}
	*status = 200;
	return j;
fail:
	json_decref(j);
	return NULL;
}

json_t *
http_read_json(struct evhttp_request *req, size_t max_bytes, int *status, char *err,
    size_t errlen)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *type;
	unsigned char *data;
	size_t len;

	type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!http_is_json_type(type)) {
		*status = 415;
		if (type == NULL)
			snprintf(err, errlen, "the request body must be sent with Content-Type: "
			    "application/json, and it has no Content-Type");
		else
			snprintf(err, errlen, "the request body must be sent with Content-Type: "
			    "application/json, not %.100s", type);
		return NULL;
	}
	len = evbuffer_get_length(in);
	if (len > max_bytes) {
		*status = 413;
		snprintf(err, errlen, "the request body is %zu bytes, more than the %zu allowed",
		    len, max_bytes);
		return NULL;
	}
	/* an empty buffer has nothing to pull up: http_parse_json answers it */
	data = len > 0 ? evbuffer_pullup(in, -1) : (unsigned char *)"";
	if (data == NULL) {
		*status = 500;
		snprintf(err, errlen, "cannot read the request body: out of memory");
		return NULL;
	}
	return http_parse_json((const char *)data, len, status, err, errlen);
}
