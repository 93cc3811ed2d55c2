/*
 * Request heads as the upload filter reads them (master/upload.c) before evhttp sees them:
 * it finds where a head ends, parses it with evhttp's rules, and for POST /upload rewrites it
 * (Content-Length: 0, no Transfer-Encoding or Expect) for evhttp. Any bytes, in any pieces:
 * the end found must not depend on the pieces, and a rewritten head must itself be a complete
 * head that evhttp accepts, the same request with exactly the one Content-Length: 0.
 *
 * The parser is master/reqhead.c; the filter's own part of it (finding the end, the rewrite,
 * the framing of other requests) is declared in master/upload_conn.h, the filter's inside.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "master/reqhead.h"
#include "master/upload_conn.h"
#include "tests/fuzz/fuzz.h"

/* Passing a head through starts the body clock (a timer on the server's base): a server that
 * only needs to exist. */
static struct upload_server fuzz_srv;

static void
fuzz_noop_cb(evutil_socket_t fd, short what, void *arg)
{
}

static void
fuzz_pass_framing(struct upload_conn *c, struct reqhead *h)
{
	if (fuzz_srv.base == NULL) {
		fuzz_srv.base = event_base_new();
		FUZZ_CHECK(fuzz_srv.base != NULL);
		fuzz_srv.idle.tv_sec = 60;
		fuzz_srv.min_rate = UPLOAD_MIN_RATE_DEFAULT;
	}
	c->srv = &fuzz_srv;
	c->idle_ev = evtimer_new(fuzz_srv.base, fuzz_noop_cb, NULL);
	FUZZ_CHECK(c->idle_ev != NULL);
	upload_pass_framing(c, h);
	event_free(c->idle_ev);
	c->idle_ev = NULL;
	c->srv = NULL;
}

/* upload_head_find over the bytes fed in pieces of `step` (0: at once): its last answer. */
static int
fuzz_head_find(struct upload_conn *c, const uint8_t *data, size_t size, size_t step)
{
	struct evbuffer *src = evbuffer_new();
	size_t off = 0, k;
	int rc = 0;

	FUZZ_CHECK(src != NULL);
	memset(c, 0, sizeof *c);
	do {
		k = step == 0 || size - off < step ? size - off : step;
		FUZZ_CHECK(evbuffer_add(src, data + off, k) == 0);
		off += k;
		rc = upload_head_find(c, src);
	} while (rc == 0 && off < size);
	FUZZ_CHECK(rc != -2);
	evbuffer_free(src);
	return rc;
}

static void
fuzz_head_check(const struct reqhead *h, size_t len)
{
	size_t i;

	FUZZ_CHECK(h->method != NULL && h->uri != NULL && h->version != NULL && h->uri_elems != NULL);
	FUZZ_CHECK(h->line1_end <= h->blank_start && h->blank_start < len);
	for (i = 0; i < h->nhdrs; i++) {
		FUZZ_CHECK(h->hdrs[i].start >= h->line1_end && h->hdrs[i].start < h->hdrs[i].end);
		FUZZ_CHECK(h->hdrs[i].end <= h->blank_start);
		FUZZ_CHECK(strpbrk(h->hdrs[i].key, "\r\n") == NULL);
	}
}

/* What evhttp counts against its limit: every line of the head without its line end. */
static size_t
fuzz_head_evhttp_size(const char *raw, size_t len)
{
	size_t i, n = 0, line = 0;

	for (i = 0; i < len; i++) {
		if (raw[i] != '\n') {
			line++;
			continue;
		}
		n += line > 0 && raw[i - 1] == '\r' ? line - 1 : line;
		line = 0;
	}
	return n;
}

/* The head evhttp gets instead of an upload's: complete, within evhttp's limit, the same
 * request, with one Content-Length: 0 and nothing else that frames a body. */
static void
fuzz_head_held(struct upload_conn *c, const struct reqhead *h)
{
	struct reqhead h2;
	size_t len = evbuffer_get_length(c->held), lf, end;
	char *held = malloc(len + 1);

	FUZZ_CHECK(held != NULL && evbuffer_copyout(c->held, held, len) == (ev_ssize_t)len);
	FUZZ_CHECK(reqhead_parse(held, len, &h2) == 0);
	fuzz_head_check(&h2, len);
	FUZZ_CHECK(reqhead_line(held, len, h2.blank_start, &lf, &end) == 0 && lf + 1 == len);
	FUZZ_CHECK(fuzz_head_evhttp_size(held, len) <= UPLOAD_EVHTTP_HEADERS_MAX);
	FUZZ_CHECK(strcmp(h2.method, h->method) == 0 && strcmp(h2.uri, h->uri) == 0);
	FUZZ_CHECK(upload_head_is_upload(&h2));
	FUZZ_CHECK(reqhead_count(&h2, "Content-Length", 1) == 1);
	FUZZ_CHECK(strcmp(reqhead_get(&h2, "Content-Length"), "0") == 0);
	FUZZ_CHECK(reqhead_count(&h2, "Transfer-Encoding", 1) == 0);
	FUZZ_CHECK(reqhead_count(&h2, "Expect", 1) == 0);
	reqhead_clear(&h2);
	free(held);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upload_conn c, pieces;
	struct reqhead h;
	int rc;

	rc = fuzz_head_find(&c, data, size, 0);
	/* the network's pieces do not move where the head ends */
	FUZZ_CHECK(fuzz_head_find(&pieces, data, size, size > 0 ? 1 + data[0] % 11 : 1) == rc);
	FUZZ_CHECK(rc != 1 || pieces.head_len == c.head_len);
	upload_head_reset(&pieces);
	memset(&h, 0, sizeof h);
	if (rc == 1 && reqhead_parse(c.head_buf, c.head_len, &h) == 0) {
		fuzz_head_check(&h, c.head_len);
		if (upload_head_is_upload(&h)) {
			FUZZ_CHECK(upload_hold_head(&c, c.head_buf, &h) == 0);
			fuzz_head_held(&c, &h);
		} else {
			fuzz_pass_framing(&c, &h);
		}
	} else if (rc == -1 && c.head_line1 > 0) {
		/* too long: the request line alone decides between a 431 and a dropped connection */
		if (reqhead_request_line(c.head_buf, c.head_line1, &h) == 0 &&
		    upload_head_is_upload(&h)) {
			FUZZ_CHECK(upload_hold_head(&c, c.head_buf, &h) == 0);
			fuzz_head_held(&c, &h);
		}
	}
	reqhead_clear(&h);
	upload_head_reset(&c);
	if (c.held != NULL)
		evbuffer_free(c.held);
	return 0;
}
