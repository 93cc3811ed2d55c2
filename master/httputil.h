#ifndef MASTER_HTTPUTIL_H
#define MASTER_HTTPUTIL_H
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

/*
 * Sends body as the whole response with Content-Type application/json; charset=utf-8.
 * Steals the reference to body; a NULL body (a failed json_pack) sends a 500 error instead.
 */
void http_send_json(struct evhttp_request *req, int status, json_t *body);

/*
 * Sends {"error": error, "detail": detail} with the status; detail may be NULL (sent as null),
 * error NULL means the status' reason phrase. Bytes that are not UTF-8 become '?'.
 */
void http_send_error(struct evhttp_request *req, int status, const char *error,
    const char *detail);

/*
 * The request body as a JSON object, or NULL with err set and *status the response to send:
 * 415 when Content-Type is not application/json (which also keeps plain cross-site form
 * posts out), 413 over max_bytes, 400 empty or not valid JSON, 422 valid JSON but not an
 * object.
 */
json_t *http_read_json(struct evhttp_request *req, size_t max_bytes, int *status, char *err,
    size_t errlen);

/* The checks of http_read_json on a body already in memory (400 and 422, as there). */
json_t *http_parse_json(const char *data, size_t len, int *status, char *err, size_t errlen);

/*
 * evhttp_send_reply, except that a HEAD gets the headers only, with the Content-Length of
 * the body (or length, when >= 0: a file that was not read for a HEAD).
 */
void http_send_body(struct evhttp_request *req, int status, const char *reason,
    struct evbuffer *body);
void http_send_length(struct evhttp_request *req, int status, const char *reason,
    struct evbuffer *body, int64_t length);

/* The reason phrase of a status code (RFC 9110 wording), never NULL. */
const char *http_reason(int status);

#endif
