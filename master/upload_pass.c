/*
 * The body of a request that is not an upload, passed on to evhttp as it comes: framed as
 * evhttp frames it (Content-Length, chunked), so the filter knows where the next head starts.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "master/upload_conn.h"

/*
 * Methods whose requests evhttp 2.1.12 reads a Content-Length body for (found
 * by probing the library: TRACE, HEAD and unknown methods get none).
 */
static int
upload_pass_has_body(const char *method)
{
	static const char *const with_body[] = {
		"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT"
	};
	size_t i;

	for (i = 0; i < sizeof with_body / sizeof with_body[0]; i++) {
		if (strcmp(method, with_body[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * How the installed evhttp (Debian's 2.1.12 with its security fixes) frames a
 * request that is not ours, found by probing it: a repeated Transfer-Encoding,
 * or one next to a Content-Length, is refused whatever the method; a lone
 * "chunked" means chunked; no Content-Length means no body; the first
 * Content-Length counts, read by strtoll().
 */
void
upload_pass_framing(struct upload_conn *c, const struct reqhead *h)
{
	const char *te, *cl;
	char *end;
	long long n;

	c->state = UPLOAD_HEAD;
	te = reqhead_get(h, "Transfer-Encoding");
	cl = reqhead_get(h, "Content-Length");
	if (reqhead_count(h, "Transfer-Encoding", 0) > 1 ||
	    (te != NULL && cl != NULL)) {
		c->state = UPLOAD_PASS_ALL;	/* evhttp refuses it */
		return;
	}
	if (!upload_pass_has_body(h->method))
		return;
	if (te != NULL && strcasecmp(te, "chunked") == 0) {
		c->state = UPLOAD_PASS_CHUNK_SIZE;
		c->chunked_len = 0;
		upload_body_start(c);
		return;
	}
	if (cl == NULL)
		return;
	n = strtoll(cl, &end, 10);
	if (*cl == '\0' || *end != '\0' || n < 0)
		c->state = UPLOAD_PASS_ALL;
	else if (n > 0) {
		c->remaining = n;
		c->state = UPLOAD_PASS_BODY;
		upload_body_start(c);
	}
}

/*
 * 1 when the chunk-size line in c->line takes the body past UPLOAD_BODY_MAX: evhttp, shown it,
 * would answer its own HTML 413 (it adds up chunk sizes with the same rule).
 */
static int
upload_pass_chunk_over(const struct upload_conn *c)
{
	long long n = strtoll(c->line, NULL, 16);

	return n > UPLOAD_BODY_MAX - c->chunked_len;
}

int
upload_pass_line(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct evbuffer_ptr eol;
	size_t eol_len = 0, n;

	eol = evbuffer_search_eol(src, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1) {
		if (evbuffer_get_length(src) > UPLOAD_LINE_MAX)
			c->state = UPLOAD_PASS_ALL;
		return 0;
	}
	n = (size_t)eol.pos;
	if (n > UPLOAD_LINE_MAX) {
		c->state = UPLOAD_PASS_ALL;
		return 0;
	}
	evbuffer_copyout(src, c->line, n);
	c->line[n] = '\0';
	if (c->state == UPLOAD_PASS_CHUNK_SIZE && upload_pass_chunk_over(c))
		return -1;
	evbuffer_remove_buffer(src, dst, n + eol_len);
	upload_body_got(c, n + eol_len);
	return 1;
}

/* evhttp_handle_chunked_read(): a size line, or an empty line between chunks. */
void
upload_pass_chunk_size(struct upload_conn *c)
{
	char *end;
	long long n;

	if (c->line[0] == '\0')
		return;
	n = strtoll(c->line, &end, 16);
	if ((*end != '\0' && *end != ' ') || n < 0)
		c->state = UPLOAD_PASS_ALL;
	else if (n == 0)
		c->state = UPLOAD_PASS_TRAILER;
	else {
		c->remaining = n;
		c->chunked_len += n;
		c->state = UPLOAD_PASS_CHUNK_DATA;
	}
}
