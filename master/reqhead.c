/*
 * A request head parsed with evhttp's own rules (libevent 2.1), so that the upload filter
 * (master/upload.c), which reads heads before evhttp does, agrees with evhttp on where a
 * request ends and what it asks for.
 */
#include "master/reqhead.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

void
reqhead_clear(struct reqhead *h)
{
	if (h->uri_elems != NULL)
		evhttp_uri_free(h->uri_elems);
	free(h->hdrs);
	free(h->buf);
	memset(h, 0, sizeof *h);
}

/* End of the line starting at i (index of its LF) and where its content ends. */
int
reqhead_line(const char *raw, size_t len, size_t i, size_t *lf, size_t *end)
{
	const char *p = memchr(raw + i, '\n', len - i);

	if (p == NULL)
		return -1;
	*lf = (size_t)(p - raw);
	*end = *lf > i && raw[*lf - 1] == '\r' ? *lf - 1 : *lf;
	return 0;
}

/*
 * The request line as evhttp 2.1.12 reads it: trailing spaces dropped, at least
 * 14 bytes, the method up to the first space, the version after the last one,
 * the URI (spaces and all) in between.
 */
int
reqhead_request_line(const char *raw, size_t len, struct reqhead *h)
{
	size_t lf, end, n;
	char *sp, ch;

	if ((h->buf = malloc(2 * len + 8)) == NULL)
		return -1;
	if (reqhead_line(raw, len, 0, &lf, &end) == -1)
		return -1;
	memcpy(h->buf, raw, end);
	h->buf[end] = '\0';
	h->line1_end = lf + 1;

	h->method = h->buf;
	n = strlen(h->method);
	while (n > 0 && h->method[n - 1] == ' ')
		h->method[--n] = '\0';
	if (n < strlen("GET / HTTP/1.0"))
		return -1;
	if ((sp = strchr(h->method, ' ')) == NULL)
		return -1;
	*sp = '\0';
	h->uri = sp + 1;
	if ((sp = strrchr(h->uri, ' ')) == NULL || sp == h->uri)
		return -1;
	*sp = '\0';
	h->version = sp + 1;
	n = (size_t)sscanf(h->version, "HTTP/%d.%d%c", &h->major, &h->minor, &ch);
	if (n != 2 || h->major > 1)
		return -1;
	h->uri_elems = evhttp_uri_parse_with_flags(h->uri, EVHTTP_URI_NONCONFORMANT);
	return h->uri_elems != NULL ? 0 : -1;
}

/* evhttp_header_is_valid_value(): a CR or LF may only start a continuation. */
static int
reqhead_value_valid(const char *v)
{
	while ((v = strpbrk(v, "\r\n")) != NULL) {
		v += strspn(v, "\r\n");
		if (*v != ' ' && *v != '\t')
			return 0;
	}
	return 1;
}

static void
reqhead_rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/*
 * Parses a complete head (request line, headers, empty line) with the rules of
 * evhttp_parse_headers_(): -1 where evhttp would refuse it as well. Values and
 * keys are C strings, cut at a NUL byte as evhttp's are.
 */
int
reqhead_parse(const char *raw, size_t len, struct reqhead *h)
{
	struct reqhead_hdr *hdr, *grown;
	size_t i, lf, end, cap = 0, skip;
	char *w, *colon;

	memset(h, 0, sizeof *h);
	if (reqhead_request_line(raw, len, h) == -1)
		return -1;
	w = h->buf + h->line1_end;

	for (i = h->line1_end;; i = lf + 1) {
		if (reqhead_line(raw, len, i, &lf, &end) == -1)
			return -1;
		if (end == i) {
			h->blank_start = i;
			return 0;
		}
		if (raw[i] == ' ' || raw[i] == '\t') {
			/* evhttp_append_to_last_header(): the line trimmed on its own,
			 * joined with one space ("3" + " " + "" is "3 ", not "3") */
			if (h->nhdrs == 0)
				return -1;
			hdr = &h->hdrs[h->nhdrs - 1];
			skip = strspn(raw + i, " \t");
			if (skip > end - i)
				skip = end - i;
			w = hdr->value + strlen(hdr->value);
			*w++ = ' ';
			memcpy(w, raw + i + skip, end - i - skip);
			w[end - i - skip] = '\0';
			reqhead_rtrim(w);
			w += strlen(w) + 1;
			hdr->end = lf + 1;
			continue;
		}
		if (h->nhdrs == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(h->hdrs, cap * sizeof *grown)) == NULL)
				return -1;
			h->hdrs = grown;
		}
		hdr = &h->hdrs[h->nhdrs++];
		hdr->start = i;
		hdr->end = lf + 1;
		memcpy(w, raw + i, end - i);
		w[end - i] = '\0';
		if ((colon = strchr(w, ':')) == NULL)
			return -1;
		*colon = '\0';
		hdr->key = w;
		hdr->value = colon + 1 + strspn(colon + 1, " ");
		reqhead_rtrim(hdr->value);
		if (strpbrk(hdr->key, "\r\n") != NULL ||
		    !reqhead_value_valid(hdr->value))
			return -1;
		w += end - i + 1;
	}
}

/* evhttp_find_header(): the first one wins. */
const char *
reqhead_get(const struct reqhead *h, const char *key)
{
	size_t i;

	for (i = 0; i < h->nhdrs; i++) {
		if (strcasecmp(h->hdrs[i].key, key) == 0)
			return h->hdrs[i].value;
	}
	return NULL;
}

/* Headers named key, also with blanks around the name that evhttp would not match. */
int
reqhead_named(const struct reqhead_hdr *hdr, const char *key)
{
	const char *k = hdr->key + strspn(hdr->key, " \t");
	size_t n = strlen(key);

	return strncasecmp(k, key, n) == 0 && k[n + strspn(k + n, " \t")] == '\0';
}

/* How many headers are named key; loose: also with blanks around the name. */
int
reqhead_count(const struct reqhead *h, const char *key, int loose)
{
	size_t i;
	int n = 0;

	for (i = 0; i < h->nhdrs; i++) {
		if (loose)
			n += reqhead_named(&h->hdrs[i], key);
		else
			n += strcasecmp(h->hdrs[i].key, key) == 0;
	}
	return n;
}
