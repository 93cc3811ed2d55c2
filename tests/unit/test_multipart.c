#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/multipart.h"

#define TEST_MAX_PARTS	8

/* What the callbacks saw. */
struct test_part {
	char	 name[256];
	char	 filename[1024];
	int	 has_filename;
	char	 content_type[256];
	int	 has_content_type;
	char	*data;
	size_t	 len, cap;
	int	 ended;
};

struct test_sink {
	struct test_part parts[TEST_MAX_PARTS];
	int	 nparts;
	int	 data_calls;
	int	 stop_in_begin;		/* refuse the part with this name */
	int	 stop_after;		/* stop once this many data bytes came (0: never) */
	size_t	 total;
	int	 order_error;		/* a callback came out of order */
};

static int
test_begin_cb(const struct multipart_part *part, void *arg)
{
	struct test_sink *s = arg;
	struct test_part *p;

	if (s->nparts > 0 && !s->parts[s->nparts - 1].ended)
		s->order_error = 1;
	if (s->nparts == TEST_MAX_PARTS)
		return -1;
	p = &s->parts[s->nparts++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", part->name);
	if (part->filename != NULL) {
		p->has_filename = 1;
		snprintf(p->filename, sizeof p->filename, "%s", part->filename);
	}
	if (part->content_type != NULL) {
		p->has_content_type = 1;
		snprintf(p->content_type, sizeof p->content_type, "%s",
		    part->content_type);
	}
	if (s->stop_in_begin && strcmp(part->name, "stop") == 0)
		return -1;
	return 0;
}

static int
test_data_cb(const char *data, size_t len, void *arg)
{
	struct test_sink *s = arg;
	struct test_part *p;

	if (s->nparts == 0 || s->parts[s->nparts - 1].ended || len == 0) {
		s->order_error = 1;
		return -1;
	}
	p = &s->parts[s->nparts - 1];
	if (p->len + len > p->cap) {
		p->cap = (p->len + len) * 2;
		p->data = realloc(p->data, p->cap);
		assert_non_null(p->data);
	}
	memcpy(p->data + p->len, data, len);
	p->len += len;
	s->data_calls++;
	s->total += len;
	if (s->stop_after > 0 && s->total >= (size_t)s->stop_after)
		return -1;
	return 0;
}

static int
test_end_cb(void *arg)
{
	struct test_sink *s = arg;

	if (s->nparts == 0 || s->parts[s->nparts - 1].ended)
		s->order_error = 1;
	else
		s->parts[s->nparts - 1].ended = 1;
	return 0;
}

static const struct multipart_cbs test_cbs = {
	test_begin_cb, test_data_cb, test_end_cb
};

static void
test_sink_clear(struct test_sink *s)
{
	int i;

	for (i = 0; i < s->nparts; i++)
		free(s->parts[i].data);
	memset(s, 0, sizeof *s);
}

/* Deterministic pseudo-random numbers, so that a failing split can be replayed. */
static uint32_t
test_rand(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/*
 * Feeds body in the chunks given by cuts (ascending offsets), then finishes.
 * Returns what multipart_feed/multipart_finish returned first as an error, or 0.
 */
static int
test_parse_cuts(const char *boundary, const char *body, size_t len, const size_t *cuts,
    size_t ncuts, struct test_sink *s, char *err, size_t errlen)
{
	struct multipart *mp;
	size_t i, from = 0, to;
	int r = 0;

	mp = multipart_new(boundary, &test_cbs, s, err, errlen);
	assert_non_null(mp);
	for (i = 0; i <= ncuts && r == 0; i++) {
		to = i < ncuts ? cuts[i] : len;
		r = multipart_feed(mp, body + from, to - from, err, errlen);
		from = to;
	}
	if (r == 0)
		r = multipart_finish(mp, err, errlen);
	multipart_free(mp);
	return r;
}

static int
test_parse_whole(const char *boundary, const char *body, size_t len,
    struct test_sink *s, char *err, size_t errlen)
{
	return test_parse_cuts(boundary, body, len, NULL, 0, s, err, errlen);
}

/* --- bodies --- */

struct test_in_part {
	const char	*name;
	const char	*filename;	/* NULL: no filename parameter */
	const char	*content_type;	/* NULL: no Content-Type header */
	const char	*data;
	size_t		 len;
};

static char *
test_build(const char *boundary, const struct test_in_part *parts, int n,
    const char *preamble, const char *epilogue, size_t *lenp)
{
	size_t cap = 4096, len = 0, need;
	char *b = malloc(cap), head[2048];
	int i, k;

	assert_non_null(b);
	for (i = 0; i <= n; i++) {
		if (i == 0)
			k = snprintf(head, sizeof head, "%s--%s", preamble ?
			    preamble : "", boundary);
		else
			k = snprintf(head, sizeof head, "\r\n--%s", boundary);
		if (i < n) {
			k += snprintf(head + k, sizeof head - (size_t)k,
			    "\r\nContent-Disposition: form-data; name=\"%s\"",
			    parts[i].name);
			if (parts[i].filename != NULL)
				k += snprintf(head + k, sizeof head - (size_t)k,
				    "; filename=\"%s\"", parts[i].filename);
			if (parts[i].content_type != NULL)
				k += snprintf(head + k, sizeof head - (size_t)k,
				    "\r\nContent-Type: %s", parts[i].content_type);
			k += snprintf(head + k, sizeof head - (size_t)k, "\r\n\r\n");
		} else {
			k += snprintf(head + k, sizeof head - (size_t)k, "--%s",
			    epilogue ? epilogue : "\r\n");
		}
		need = len + (size_t)k + (i < n ? parts[i].len : 0);
		if (need > cap) {
			cap = need * 2;
			b = realloc(b, cap);
			assert_non_null(b);
		}
		memcpy(b + len, head, (size_t)k);
		len += (size_t)k;
		if (i < n) {
			memcpy(b + len, parts[i].data, parts[i].len);
			len += parts[i].len;
		}
	}
	*lenp = len;
	return b;
}

static void
test_check_parts(const struct test_sink *s, const struct test_in_part *parts, int n)
{
	int i;

	assert_int_equal(s->order_error, 0);
	assert_int_equal(s->nparts, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(s->parts[i].name, parts[i].name);
		assert_int_equal(s->parts[i].has_filename, parts[i].filename != NULL);
		if (parts[i].filename != NULL)
			assert_string_equal(s->parts[i].filename, parts[i].filename);
		assert_int_equal(s->parts[i].has_content_type,
		    parts[i].content_type != NULL);
		if (parts[i].content_type != NULL)
			assert_string_equal(s->parts[i].content_type,
			    parts[i].content_type);
		assert_int_equal(s->parts[i].len, parts[i].len);
		if (parts[i].len > 0)
			assert_memory_equal(s->parts[i].data, parts[i].data,
			    parts[i].len);
		assert_true(s->parts[i].ended);
	}
}

#define TEST_BOUNDARY	"----WebKitFormBoundaryAbC123xyz"

/* File bytes that look like the delimiter without being it. */
static const char test_tricky[] =
    "\r\n--" "----WebKitFormBoundaryAbC123xy"	/* one character short */
    "\r\n--" "----WebKitFormBoundaryAbC123xyZ"	/* a different last character */
    "----WebKitFormBoundaryAbC123xyz"		/* no CRLF before it */
    "\n--" "----WebKitFormBoundaryAbC123xyz"	/* LF without CR */
    "\r\r\n-\r\n--\r\n---\r"			/* prefixes of CRLF-- */
    "\r\n--" "----WebKitFormBoundaryAbC"	/* a prefix, then */
    "\r\n--" "----WebKitFormBoundaryAbC123xy\0z"	/* NUL inside */
    "\xff\xfe\x00\x01 binary \r\n\r\n end\r";

static const struct test_in_part test_form[] = {
	{ "title", NULL, NULL, "My clip", 7 },
	{ "file", "clip.mp4", "video/mp4", test_tricky, sizeof test_tricky - 1 },
	{ "empty", NULL, NULL, "", 0 },
	{ "note", NULL, "text/plain; charset=utf-8", "\r\n", 2 },
};

static void
test_multipart_whole(void **state)
{
	struct test_sink s;
	char err[256], *body;
	size_t len;

	body = test_build(TEST_BOUNDARY, test_form, 4, NULL, NULL, &len);
	memset(&s, 0, sizeof s);
	assert_int_equal(test_parse_whole(TEST_BOUNDARY, body, len, &s, err,
	    sizeof err), 0);
	test_check_parts(&s, test_form, 4);
	test_sink_clear(&s);
	free(body);
}

/* One byte at a time: every delimiter straddles many chunk edges. */
static void
test_multipart_bytewise(void **state)
{
	struct test_sink s;
	char err[256], *body;
	size_t len, *cuts, i;

	body = test_build(TEST_BOUNDARY, test_form, 4, "preamble\r\n", "\r\nepilogue",
	    &len);
	cuts = malloc(len * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i < len - 1; i++)
		cuts[i] = i + 1;
	memset(&s, 0, sizeof s);
	assert_int_equal(test_parse_cuts(TEST_BOUNDARY, body, len, cuts, len - 1,
	    &s, err, sizeof err), 0);
	test_check_parts(&s, test_form, 4);
	test_sink_clear(&s);
	free(cuts);
	free(body);
}

/* Every single split point and every pair of split points. */
static void
test_multipart_all_splits(void **state)
{
	struct test_sink s;
	char err[256], *body;
	size_t len, cuts[2], i, j;

	body = test_build(TEST_BOUNDARY, test_form, 4, NULL, NULL, &len);
	for (i = 0; i <= len; i++) {
		cuts[0] = i;
		memset(&s, 0, sizeof s);
		if (test_parse_cuts(TEST_BOUNDARY, body, len, cuts, 1, &s, err,
		    sizeof err) != 0)
			fail_msg("split at %zu: %s", i, err);
		test_check_parts(&s, test_form, 4);
		test_sink_clear(&s);
	}
	for (i = 0; i <= len; i += 3) {
		for (j = i; j <= len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			memset(&s, 0, sizeof s);
			if (test_parse_cuts(TEST_BOUNDARY, body, len, cuts, 2, &s,
			    err, sizeof err) != 0)
				fail_msg("splits at %zu,%zu: %s", i, j, err);
			test_check_parts(&s, test_form, 4);
			test_sink_clear(&s);
		}
	}
	free(body);
}

static void
test_multipart_random_splits(void **state)
{
	struct test_sink s;
	char err[256], *body;
	size_t len, cuts[64], n, i;
	uint32_t seed, rng;

	body = test_build(TEST_BOUNDARY, test_form, 4, "x\r\n", "", &len);
	for (seed = 1; seed <= 2000; seed++) {
		rng = seed;
		n = 1 + test_rand(&rng) % 63;
		for (i = 0; i < n; i++)
			cuts[i] = test_rand(&rng) % (len + 1);
		/* insertion sort: cuts must ascend */
		for (i = 1; i < n; i++) {
			size_t v = cuts[i], k = i;

			for (; k > 0 && cuts[k - 1] > v; k--)
				cuts[k] = cuts[k - 1];
			cuts[k] = v;
		}
		memset(&s, 0, sizeof s);
		if (test_parse_cuts(TEST_BOUNDARY, body, len, cuts, n, &s, err,
		    sizeof err) != 0)
			fail_msg("seed %u: %s", seed, err);
		test_check_parts(&s, test_form, 4);
		test_sink_clear(&s);
	}
	free(body);
}

/* 8 MB of content, random chunk sizes: exact bytes out, and the parser keeps none. */
static void
test_multipart_large(void **state)
{
	struct test_in_part part = { "file", "big.bin", "application/octet-stream",
	    NULL, 8u << 20 };
	struct test_sink s;
	char err[256], *data, *body;
	size_t len, off = 0, n, i;
	uint32_t rng = 7;
	struct multipart *mp;

	data = malloc(part.len);
	assert_non_null(data);
	for (i = 0; i < part.len; i++)
		data[i] = (char)(test_rand(&rng) & 0xff);
	/* sprinkle delimiter prefixes so the slow path is exercised all along */
	for (i = 0; i + 19 < part.len; i += 4099)
		memcpy(data + i, "\r\n------WebKitForm", 19);
	part.data = data;
	body = test_build(TEST_BOUNDARY, &part, 1, NULL, NULL, &len);

	memset(&s, 0, sizeof s);
	mp = multipart_new(TEST_BOUNDARY, &test_cbs, &s, err, sizeof err);
	assert_non_null(mp);
	while (off < len) {
		n = 1 + test_rand(&rng) % 70000;
		if (n > len - off)
			n = len - off;
		assert_int_equal(multipart_feed(mp, body + off, n, err, sizeof err), 0);
		off += n;
	}
	assert_int_equal(multipart_finish(mp, err, sizeof err), 0);
	multipart_free(mp);
	test_check_parts(&s, &part, 1);
	test_sink_clear(&s);
	free(body);
	free(data);
}

/* The body may open with the dash-boundary directly, or after a preamble. */
static void
test_multipart_preamble_epilogue(void **state)
{
	static const char body[] =
	    "This is the preamble. --b is not a boundary here\r\n"
	    "--b   \t\r\n"				/* transport padding */
	    "content-disposition: FORM-DATA; NAME=a\r\n"	/* any case, token value */
	    "\r\n"
	    "one\r\n"
	    "--b--  \r\n"
	    "epilogue --b\r\n--b\r\n garbage";
	struct test_in_part want = { "a", NULL, NULL, "one", 3 };
	struct test_sink s;
	char err[256];

	memset(&s, 0, sizeof s);
	assert_int_equal(test_parse_whole("b", body, sizeof body - 1, &s, err,
	    sizeof err), 0);
	test_check_parts(&s, &want, 1);
	test_sink_clear(&s);
}

static void
test_multipart_headers(void **state)
{
	static const char body[] =
	    "--q\r\n"
	    "Content-Disposition: form-data;\r\n"
	    "\tname=\"fi\\\"le\"; filename=\"C:\\\\dir\\\\a \\\"b\\\".txt\"\r\n"
	    "X-Other: ignored\r\n"
	    "Content-Type:text/plain  \r\n"
	    "\r\n"
	    "x\r\n"
	    "--q\r\n"
	    "Content-Disposition: form-data; name=\"u\"; filename=\"plain.txt\"; "
	    "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n"
	    "\r\n"
	    "\r\n"
	    "--q--";
	struct test_sink s;
	char err[256];

	memset(&s, 0, sizeof s);
	assert_int_equal(test_parse_whole("q", body, sizeof body - 1, &s, err,
	    sizeof err), 0);
	assert_int_equal(s.nparts, 2);
	assert_string_equal(s.parts[0].name, "fi\"le");
	assert_string_equal(s.parts[0].filename, "C:\\dir\\a \"b\".txt");
	assert_string_equal(s.parts[0].content_type, "text/plain");
	assert_int_equal(s.parts[0].len, 1);
	/* filename* wins, decoded */
	assert_string_equal(s.parts[1].filename, "\xe2\x82\xac rates.txt");
	assert_int_equal(s.parts[1].len, 0);
	assert_true(s.parts[1].ended);
	test_sink_clear(&s);
}

static void
test_multipart_boundary_param(void **state)
{
	char b[MULTIPART_BOUNDARY_MAX + 1], err[256], ct[400];

	assert_true(multipart_is_form_data("multipart/form-data"));
	assert_true(multipart_is_form_data("  Multipart/Form-Data ; boundary=x"));
	assert_false(multipart_is_form_data("multipart/form-datax; boundary=x"));
	assert_false(multipart_is_form_data("multipart/mixed; boundary=x"));
	assert_false(multipart_is_form_data("application/x-www-form-urlencoded"));
	assert_false(multipart_is_form_data(NULL));

	assert_int_equal(multipart_boundary("multipart/form-data; boundary=abc",
	    b, sizeof b, err, sizeof err), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(multipart_boundary("multipart/form-data; charset=utf-8; "
	    "BOUNDARY=\"a b:c=d?\"", b, sizeof b, err, sizeof err), 0);
	assert_string_equal(b, "a b:c=d?");
	assert_int_equal(multipart_boundary("multipart/form-data;boundary="
	    "----geckoformboundary5a7c", b, sizeof b, err, sizeof err), 0);
	assert_string_equal(b, "----geckoformboundary5a7c");

	assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "no boundary"));
	assert_int_equal(multipart_boundary("text/plain; boundary=x", b, sizeof b,
	    err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b,
	    sizeof b, err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"\"", b,
	    sizeof b, err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"ab \"",
	    b, sizeof b, err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"a\rb\"",
	    b, sizeof b, err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=a; "
	    "boundary=b", b, sizeof b, err, sizeof err), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"open",
	    b, sizeof b, err, sizeof err), -1);
	snprintf(ct, sizeof ct, "multipart/form-data; boundary=%0*d",
	    MULTIPART_BOUNDARY_MAX + 1, 0);
	assert_int_equal(multipart_boundary(ct, b, sizeof b, err, sizeof err), -1);
	snprintf(ct, sizeof ct, "multipart/form-data; boundary=%0*d",
	    MULTIPART_BOUNDARY_MAX, 0);
	assert_int_equal(multipart_boundary(ct, b, sizeof b, err, sizeof err), 0);
	assert_int_equal(strlen(b), MULTIPART_BOUNDARY_MAX);

	assert_null(multipart_new("", &test_cbs, NULL, err, sizeof err));
	assert_null(multipart_new("a\r\nb", &test_cbs, NULL, err, sizeof err));
}

/* A malformed body fails, whole or byte by byte, with a reason. */
static void
test_multipart_expect_error(const char *boundary, const char *body, size_t len,
    const char *reason)
{
	struct test_sink s;
	char err[256];
	size_t *cuts, i;

	memset(&s, 0, sizeof s);
	err[0] = '\0';
	assert_int_equal(test_parse_whole(boundary, body, len, &s, err, sizeof err),
	    -1);
	if (strstr(err, reason) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, reason);
	test_sink_clear(&s);

	cuts = malloc((len + 1) * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	memset(&s, 0, sizeof s);
	assert_int_equal(test_parse_cuts(boundary, body, len, cuts,
	    len > 0 ? len - 1 : 0, &s, err, sizeof err), -1);
	if (strstr(err, reason) == NULL)
		fail_msg("bytewise: error \"%s\" does not mention \"%s\"", err, reason);
	test_sink_clear(&s);
	free(cuts);
}

#define TEST_ERR(b, body, reason) \
	test_multipart_expect_error((b), (body), sizeof(body) - 1, (reason))

static void
test_multipart_malformed(void **state)
{
	TEST_ERR("b", "", "no boundary");
	TEST_ERR("b", "just some text", "no boundary");
	TEST_ERR("b", "--c\r\n\r\nx\r\n--c--", "no boundary");
	/* truncated: no closing delimiter */
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc",
	    "before the closing boundary");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n--b",
	    "before the closing boundary");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-da", "before the closing");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n--b-",
	    "before the closing boundary");
	/* the delimiter inside content, followed by something else */
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nab\r\n--bX"
	    "\r\n--b--", "neither CRLF");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nab\r\n--b-X"
	    "\r\n--b--", "single '-'");
	TEST_ERR("b", "--b  x\r\n", "trailing bytes");
	TEST_ERR("b", "--b\rx", "CRLF");
	/* part headers */
	TEST_ERR("b", "--b\r\n\r\nabc\r\n--b--", "no Content-Disposition");
	TEST_ERR("b", "--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--",
	    "no Content-Disposition");
	TEST_ERR("b", "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--b--",
	    "not form-data");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n"
	    "\r\n--b--", "has no name");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	    "\r\n--b--", "malformed Content-Disposition");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a; name=file\r\n"
	    "\r\n\r\n--b--", "two name");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=file\r\n\r\n\r\n--b--",
	    "two Content-Disposition");
	TEST_ERR("b", "--b\r\nContent-Disposition form-data\r\n\r\n\r\n--b--",
	    "malformed header line");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n"
	    "\r\n--b--", "bare LF");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\n"
	    "\r\n--b--", "bare CR");
	TEST_ERR("b", "--b\r\nContent-Disposition: form-data; name=a\0\r\n\r\n"
	    "\r\n--b--", "NUL byte");
}

/* A header block that never ends is refused once it passes the bound. */
static void
test_multipart_header_limit(void **state)
{
	struct multipart *mp;
	struct test_sink s;
	char err[256], chunk[1000];
	size_t fed = 0;
	int r = 0;

	memset(&s, 0, sizeof s);
	memset(chunk, 'h', sizeof chunk);
	mp = multipart_new("b", &test_cbs, &s, err, sizeof err);
	assert_non_null(mp);
	assert_int_equal(multipart_feed(mp, "--b\r\nX: ", 8, err, sizeof err), 0);
	while (r == 0 && fed < (1u << 20)) {
		r = multipart_feed(mp, chunk, sizeof chunk, err, sizeof err);
		fed += sizeof chunk;
	}
	assert_int_equal(r, -1);
	assert_true(fed <= MULTIPART_HEADER_MAX + sizeof chunk);
	assert_non_null(strstr(err, "exceeds"));
	/* it stays failed */
	assert_int_equal(multipart_feed(mp, "\r\n\r\n", 4, err, sizeof err), -1);
	assert_int_equal(multipart_finish(mp, err, sizeof err), -1);
	multipart_free(mp);

	/* just under the bound is fine */
	{
		size_t len = MULTIPART_HEADER_MAX + 64, k;
		char *body = malloc(len);

		assert_non_null(body);
		k = (size_t)snprintf(body, len, "--b\r\nContent-Disposition: "
		    "form-data; name=a\r\nX-Pad: ");
		while (k < MULTIPART_HEADER_MAX - 4 + 5)
			body[k++] = 'p';
		memcpy(body + k, "\r\n\r\n\r\n--b--", 11);
		k += 11;
		memset(&s, 0, sizeof s);
		assert_int_equal(test_parse_whole("b", body, k, &s, err, sizeof err), 0);
		assert_int_equal(s.nparts, 1);
		test_sink_clear(&s);
		free(body);
	}
}

/* A callback's -1 stops the parse, and nothing more is delivered. */
static void
test_multipart_callback_stops(void **state)
{
	static const char body[] =
	    "--b\r\nContent-Disposition: form-data; name=stop\r\n\r\nabc\r\n"
	    "--b\r\nContent-Disposition: form-data; name=z\r\n\r\nabc\r\n--b--";
	struct test_sink s;
	char err[256];
	char *big, *body2;
	size_t len, *cuts, i;
	struct test_in_part part = { "file", "f", NULL, NULL, 100000 };

	memset(&s, 0, sizeof s);
	s.stop_in_begin = 1;
	assert_int_equal(test_parse_whole("b", body, sizeof body - 1, &s, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(s.nparts, 1);
	assert_int_equal(s.data_calls, 0);
	test_sink_clear(&s);

	big = calloc(1, part.len);
	assert_non_null(big);
	part.data = big;
	body2 = test_build("b", &part, 1, NULL, NULL, &len);
	cuts = malloc(len / 100 * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i < len / 100; i++)
		cuts[i] = (i + 1) * 100;
	memset(&s, 0, sizeof s);
	s.stop_after = 1000;
	assert_int_equal(test_parse_cuts("b", body2, len, cuts, len / 100 - 1, &s,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "stopped"));
	/* nothing was delivered after the refusal */
	assert_true(s.total >= 1000 && s.total < 1100);
	free(cuts);
	test_sink_clear(&s);
	free(body2);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart_whole),
		cmocka_unit_test(test_multipart_bytewise),
		cmocka_unit_test(test_multipart_all_splits),
		cmocka_unit_test(test_multipart_random_splits),
		cmocka_unit_test(test_multipart_large),
		cmocka_unit_test(test_multipart_preamble_epilogue),
		cmocka_unit_test(test_multipart_headers),
		cmocka_unit_test(test_multipart_boundary_param),
		cmocka_unit_test(test_multipart_malformed),
		cmocka_unit_test(test_multipart_header_limit),
		cmocka_unit_test(test_multipart_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
