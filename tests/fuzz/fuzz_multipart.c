/*
 * POST /upload bodies (master/multipart.c). The input is a Content-Type value, a newline,
 * then the body. The body is parsed twice, whole and in small pieces: the parts, their
 * headers and their bytes must come out the same however the network splits them. Each
 * file name goes through the upload's sanitizer (master/filename.c), as on the way to a header and a log line.
 */
#include <string.h>

#include <jansson.h>

#include "master/filename.h"
#include "master/multipart.h"
#include "tests/fuzz/fuzz.h"

/* What the callbacks saw, as one byte string: 'B' name NUL filename NUL type NUL, 'D' then
 * the content bytes (consecutive data calls joined), 'E'. */
struct fuzz_mp_log {
	char *buf;
	size_t len, cap;
	int in_data;
};

static void
fuzz_mp_add(struct fuzz_mp_log *log, const void *p, size_t n)
{
	if (log->len + n > log->cap) {
		log->cap = (log->len + n) * 2 + 64;
		log->buf = realloc(log->buf, log->cap);
		FUZZ_CHECK(log->buf != NULL);
	}
	memcpy(log->buf + log->len, p, n);
	log->len += n;
}

static void
fuzz_mp_add_str(struct fuzz_mp_log *log, const char *s)
{
	fuzz_mp_add(log, s != NULL ? s : "(null)", strlen(s != NULL ? s : "(null)") + 1);
}

/* What filename_sanitize promises: a plain, short, printable, valid UTF-8 name. */
static void
fuzz_mp_filename(const char *raw)
{
	char name[FILENAME_MAX_BYTES + 1];
	json_t *utf8;
	size_t n, i;

	filename_sanitize(raw, name, sizeof name);
	n = strlen(name);
	FUZZ_CHECK(n >= 1 && n <= FILENAME_MAX_BYTES);
	FUZZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	FUZZ_CHECK(name[0] != ' ' && name[n - 1] != ' ');
	FUZZ_CHECK(strpbrk(name, "/\\\"'\x7f") == NULL);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)name[i] >= 0x20);
	utf8 = json_string(name);        /* NULL when not valid UTF-8 */
	FUZZ_CHECK(utf8 != NULL);
	json_decref(utf8);
}

static int
fuzz_mp_begin_cb(const struct multipart_part *part, void *arg)
{
	struct fuzz_mp_log *log = arg;

	FUZZ_CHECK(part->name != NULL);
	fuzz_mp_filename(part->filename);
	log->in_data = 0;
	fuzz_mp_add(log, "B", 1);
	fuzz_mp_add_str(log, part->name);
	fuzz_mp_add_str(log, part->filename);
	fuzz_mp_add_str(log, part->content_type);
	/* a receiver may refuse a part (upload.c refuses a second "file") */
	return strcmp(part->name, "stop") == 0 ? -1 : 0;
}

static int
fuzz_mp_data_cb(const char *data, size_t len, void *arg)
{
	struct fuzz_mp_log *log = arg;

	FUZZ_CHECK(len > 0);
	if (!log->in_data)
		fuzz_mp_add(log, "D", 1);
	log->in_data = 1;
	fuzz_mp_add(log, data, len);
	return 0;
}

static int
fuzz_mp_end_cb(void *arg)
{
	struct fuzz_mp_log *log = arg;

	log->in_data = 0;
	fuzz_mp_add(log, "E", 1);
	return 0;
}

/* Parses body in pieces of `step` bytes (0: whole); returns 0 or -1 as the upload sees it. */
static int
fuzz_mp_parse(const char *boundary, const uint8_t *body, size_t len, size_t step,
    struct fuzz_mp_log *log)
{
	static const struct multipart_cbs cbs = { fuzz_mp_begin_cb, fuzz_mp_data_cb, fuzz_mp_end_cb };
	struct multipart *mp;
	char err[256];
	size_t off, k;
	int rc = 0;

	memset(log, 0, sizeof *log);
	mp = multipart_new(boundary, &cbs, log, err, sizeof err);
	FUZZ_CHECK(mp != NULL);   /* multipart_boundary() only returns boundaries it accepts */
	for (off = 0; off < len && rc == 0; off += k) {
		k = step == 0 || len - off < step ? len - off : step;
		rc = multipart_feed(mp, body + off, k, err, sizeof err);
		if (rc == -1)
			FUZZ_CHECK(err[0] != '\0');
	}
	if (rc == 0)
		rc = multipart_finish(mp, err, sizeof err);
	multipart_free(mp);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size), *body;
	struct fuzz_mp_log whole, pieces;
	char *ctype, boundary[MULTIPART_BOUNDARY_MAX + 1], err[256];
	size_t hlen = nl != NULL ? (size_t)(nl - data) : size, blen;
	int rc_whole, rc_pieces;

	ctype = fuzz_string(data, hlen);
	multipart_is_form_data(ctype);
	if (multipart_boundary(ctype, boundary, sizeof boundary, err, sizeof err) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		goto done;
	}
	FUZZ_CHECK(strlen(boundary) >= 1 && strlen(boundary) <= MULTIPART_BOUNDARY_MAX);
	body = nl != NULL ? nl + 1 : data + size;
	blen = size - (size_t)(body - data);
	rc_whole = fuzz_mp_parse(boundary, body, blen, 0, &whole);
	rc_pieces = fuzz_mp_parse(boundary, body, blen, 1 + (size_t)data[0] % 7, &pieces);
	FUZZ_CHECK(rc_whole == rc_pieces);
	/* a failed parse may have handed over more bytes when fed whole; the upload is dropped */
	if (rc_whole == 0)
		FUZZ_CHECK(whole.len == pieces.len &&
		    (whole.len == 0 || memcmp(whole.buf, pieces.buf, whole.len) == 0));
	free(whole.buf);
	free(pieces.buf);
done:
	free(ctype);
	return 0;
}
