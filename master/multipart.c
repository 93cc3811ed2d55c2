#include "master/multipart.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MULTIPART_NAME_MAX	64

enum multipart_state {
	MULTIPART_PREAMBLE,	/* before the first delimiter; bytes are dropped */
	MULTIPART_DELIM_END,	/* a delimiter matched: "--", padding or CRLF follows */
	MULTIPART_CLOSE_DASH,	/* the first '-' of a close delimiter */
	MULTIPART_PADDING,	/* transport padding after a delimiter */
	MULTIPART_LINE_CR,	/* the CR ending a delimiter line */
	MULTIPART_HEADERS,	/* a part's header block */
	MULTIPART_DATA,		/* a part's content */
	MULTIPART_EPILOGUE,	/* after the close delimiter; bytes are dropped */
	MULTIPART_FAILED
};

struct multipart {
	enum multipart_state	 state;
	struct multipart_cbs	 cbs;
	void			*arg;

	/* CRLF "--" boundary; its only CR is the first byte, which the scan relies on */
	char			 delim[4 + MULTIPART_BOUNDARY_MAX + 1];
	size_t			 delim_len;
	size_t			 matched;	/* delimiter bytes matched and held back */

	unsigned		 part;		/* current part, from 1 */
	size_t			 head_len;
	char			 head[MULTIPART_HEADER_MAX + 1];
	char			 unfolded[MULTIPART_HEADER_MAX + 1];
	char			 value[MULTIPART_HEADER_MAX + 1];
	char			 name[MULTIPART_HEADER_MAX + 1];
	char			 filename[MULTIPART_HEADER_MAX + 1];
	char			 content_type[MULTIPART_HEADER_MAX + 1];

	char			 err[256];
};

static int
multipart_fail(struct multipart *mp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
multipart_fail(struct multipart *mp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mp->err, sizeof mp->err, fmt, ap);
	va_end(ap);
	mp->state = MULTIPART_FAILED;
	return -1;
}

static const char *
multipart_skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Reads the next `; name=value` parameter of a header value at *sp: 1 with name
 * and value filled (quotes removed, \" and \\ unescaped), 0 at the end, -1 when
 * malformed or too long. Other backslashes stay, for Windows paths in filenames.
 */
static int
multipart_param(const char **sp, char *name, size_t namesize, char *value,
    size_t valsize)
{
	const char *s = multipart_skip_ws(*sp);
	size_t n = 0;

	if (*s == '\0')
		return 0;
	if (*s != ';')
		return -1;
	s = multipart_skip_ws(s + 1);
	if (*s == '\0') {
		*sp = s;
		return 0;
	}
	while (*s != '\0' && *s != '=' && *s != ';' && *s != ' ' && *s != '\t') {
		if (n + 1 >= namesize)
			return -1;
		name[n++] = *s++;
	}
	name[n] = '\0';
	s = multipart_skip_ws(s);
	if (n == 0 || *s != '=')
		return -1;
	s = multipart_skip_ws(s + 1);

	n = 0;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return -1;
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (n + 1 >= valsize)
				return -1;
			value[n++] = *s;
		}
		s++;
	} else {
		while (*s != '\0' && *s != ';' && *s != ' ' && *s != '\t') {
			if (*s == '"' || n + 1 >= valsize)
				return -1;
			value[n++] = *s++;
		}
		if (n == 0)
			return -1;
	}
	value[n] = '\0';
	*sp = s;
	return 1;
}

/* Length of the media type at the start of a header value, leading blanks skipped. */
static size_t
multipart_media_type(const char **sp)
{
	const char *s = multipart_skip_ws(*sp);
	size_t n = 0;

	while (s[n] != '\0' && s[n] != ';' && s[n] != ' ' && s[n] != '\t')
		n++;
	*sp = s;
	return n;
}

int
multipart_is_form_data(const char *content_type)
{
	const char *s = content_type;
	size_t n;

	if (s == NULL)
		return 0;
	n = multipart_media_type(&s);
	return n == strlen("multipart/form-data") &&
	    strncasecmp(s, "multipart/form-data", n) == 0;
}

static int
multipart_boundary_valid(const char *b, size_t len)
{
	size_t i;

	if (len == 0 || len > MULTIPART_BOUNDARY_MAX || b[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e)
			return 0;
	}
	return 1;
}

int
multipart_boundary(const char *content_type, char *boundary, size_t size, char *err,
    size_t errlen)
{
	char name[MULTIPART_NAME_MAX], value[MULTIPART_BOUNDARY_MAX + 2];
	const char *s = content_type;
	int found = 0, r;
	size_t len;

	if (!multipart_is_form_data(content_type)) {
		snprintf(err, errlen, "Content-Type is not multipart/form-data");
		return -1;
	}
	s += multipart_media_type(&s);
	while ((r = multipart_param(&s, name, sizeof name, value, sizeof value)) == 1) {
		if (strcasecmp(name, "boundary") != 0)
			continue;
		if (found) {
			snprintf(err, errlen, "Content-Type has two boundary parameters");
			return -1;
		}
		found = 1;
		len = strlen(value);
		if (!multipart_boundary_valid(value, len) || len >= size) {
			snprintf(err, errlen, "multipart boundary is invalid: 1 to %d "
			    "printable characters, not ending in a space",
			    MULTIPART_BOUNDARY_MAX);
			return -1;
		}
		memcpy(boundary, value, len + 1);
	}
	if (r == -1) {
		/* a boundary longer than value[] also lands here */
		snprintf(err, errlen, "Content-Type parameters are malformed or too long");
		return -1;
	}
	if (!found) {
		snprintf(err, errlen, "Content-Type multipart/form-data has no boundary");
		return -1;
	}
	return 0;
}

struct multipart *
multipart_new(const char *boundary, const struct multipart_cbs *cbs, void *arg,
    char *err, size_t errlen)
{
	struct multipart *mp;
	size_t len = strlen(boundary);

	if (!multipart_boundary_valid(boundary, len)) {
		snprintf(err, errlen, "multipart boundary is invalid");
		return NULL;
	}
	/* not calloc: the header buffers are written before they are read */
	if ((mp = malloc(sizeof *mp)) == NULL) {
		snprintf(err, errlen, "cannot allocate a multipart parser");
		return NULL;
	}
	mp->part = 0;
	mp->head_len = 0;
	mp->err[0] = '\0';
	mp->cbs = *cbs;
	mp->arg = arg;
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary, len);
	mp->delim_len = 4 + len;
	/* a virtual CRLF before the body, so that a body opening with the dash-boundary matches */
	mp->matched = 2;
	mp->state = MULTIPART_PREAMBLE;
	return mp;
}

void
multipart_free(struct multipart *mp)
{
	free(mp);
}

/* Content bytes go to the receiver inside a part; the preamble is dropped. */
static int
multipart_emit(struct multipart *mp, const char *data, size_t len)
{
	if (len == 0 || mp->state != MULTIPART_DATA)
		return 0;
	if (mp->cbs.data_cb(data, len, mp->arg) == -1)
		return multipart_fail(mp, "part %u: stopped by the receiver", mp->part);
	return 0;
}

/*
 * Looks for the delimiter in data, handing everything before it to
 * multipart_emit. A possible delimiter start at the end of the chunk is held
 * back (mp->matched) until the next chunk decides. *used is how much of data was
 * consumed, *found whether the delimiter ended there.
 */
static int
multipart_scan(struct multipart *mp, const char *data, size_t len, size_t *used,
    int *found)
{
	size_t i = 0, start, k, n;
	const char *cr;

	*found = 0;
	if (mp->matched > 0) {
		while (i < len && mp->matched < mp->delim_len &&
		    data[i] == mp->delim[mp->matched]) {
			mp->matched++;
			i++;
		}
		if (mp->matched == mp->delim_len) {
			mp->matched = 0;
			*found = 1;
			*used = i;
			return 0;
		}
		if (i == len) {
			*used = len;
			return 0;
		}
		/* the held bytes were content; none can start a match, their only CR failed */
		if (multipart_emit(mp, mp->delim, mp->matched) == -1)
			return -1;
		mp->matched = 0;
	}

	start = i;
	while (i < len) {
		if ((cr = memchr(data + i, '\r', len - i)) == NULL)
			break;
		k = (size_t)(cr - data);
		for (n = 0; n < mp->delim_len && k + n < len &&
		    data[k + n] == mp->delim[n]; n++)
			;
		if (n == mp->delim_len || k + n == len) {
			if (multipart_emit(mp, data + start, k - start) == -1)
				return -1;
			if (n == mp->delim_len)
				*found = 1;
			else
				mp->matched = n;
			*used = k + n;
			return 0;
		}
		i = k + 1;
	}
	if (multipart_emit(mp, data + start, len - start) == -1)
		return -1;
	*used = len;
	return 0;
}

/*
 * Copies the header block into mp->unfolded as one '\n'-terminated line per
 * header, continuation lines joined. Bare CR or LF and NUL are refused.
 */
static int
multipart_unfold(struct multipart *mp)
{
	size_t i, n = 0, end = mp->head_len - 2;	/* drop the final empty line */
	char c;

	for (i = 0; i < end; i++) {
		c = mp->head[i];
		if (c == '\r') {
			if (mp->head[i + 1] != '\n')
				return multipart_fail(mp, "part %u: bare CR in the part "
				    "header", mp->part);
			i++;
			if (i + 1 < end && (mp->head[i + 1] == ' ' ||
			    mp->head[i + 1] == '\t'))
				continue;
			c = '\n';
		} else if (c == '\n') {
			return multipart_fail(mp, "part %u: bare LF in the part header",
			    mp->part);
		} else if (c == '\0') {
			return multipart_fail(mp, "part %u: NUL byte in the part header",
			    mp->part);
		}
		mp->unfolded[n++] = c;
	}
	mp->unfolded[n] = '\0';
	return 0;
}

/* Decodes an RFC 8187 value (UTF-8''percent%20encoded); 0 when it is not UTF-8. */
static int
multipart_ext_value(const char *in, char *out, size_t size)
{
	const char *p;
	size_t n = 0;
	unsigned v;

	if ((p = strchr(in, '\'')) == NULL || (size_t)(p - in) != 5 ||
	    strncasecmp(in, "utf-8", 5) != 0)
		return 0;
	if ((p = strchr(p + 1, '\'')) == NULL)
		return 0;
	for (p++; *p != '\0' && n + 1 < size; p++) {
		if (*p == '%' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			sscanf(p + 1, "%2x", &v);
			out[n++] = (char)v;
			p += 2;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	return 1;
}

/* Parses `form-data; name="..."; filename="..."` into mp->name and mp->filename. */
static int
multipart_disposition(struct multipart *mp, const char *value, int *has_filename)
{
	char pname[MULTIPART_NAME_MAX];
	const char *s = value;
	int has_name = 0, has_ext = 0, r;
	size_t n;

	n = multipart_media_type(&s);
	if (n != strlen("form-data") || strncasecmp(s, "form-data", n) != 0)
		return multipart_fail(mp, "part %u: Content-Disposition is not "
		    "form-data", mp->part);
	s += n;
	*has_filename = 0;
	while ((r = multipart_param(&s, pname, sizeof pname, mp->value,
	    sizeof mp->value)) == 1) {
		if (strcasecmp(pname, "name") == 0) {
			if (has_name++)
				return multipart_fail(mp, "part %u: two name "
				    "parameters", mp->part);
			strcpy(mp->name, mp->value);
		} else if (strcasecmp(pname, "filename") == 0) {
			if (*has_filename && !has_ext)
				return multipart_fail(mp, "part %u: two filename "
				    "parameters", mp->part);
			if (!has_ext)
				strcpy(mp->filename, mp->value);
			*has_filename = 1;
		} else if (strcasecmp(pname, "filename*") == 0) {
			if (has_ext)
				return multipart_fail(mp, "part %u: two filename* "
				    "parameters", mp->part);
			/* the encoded form wins over the plain one (RFC 7578 4.2) */
			if (multipart_ext_value(mp->value, mp->filename,
			    sizeof mp->filename)) {
				has_ext = 1;
				*has_filename = 1;
			}
		}
	}
	if (r == -1)
		return multipart_fail(mp, "part %u: malformed Content-Disposition",
		    mp->part);
	if (!has_name)
		return multipart_fail(mp, "part %u: Content-Disposition has no name",
		    mp->part);
	return 0;
}

/* The header block is complete: find the part's name and tell the receiver. */
static int
multipart_begin(struct multipart *mp)
{
	struct multipart_part part;
	char *line, *next, *colon, *value, *end;
	int has_disp = 0, has_type = 0, has_filename = 0;

	if (multipart_unfold(mp) == -1)
		return -1;
	for (line = mp->unfolded; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return multipart_fail(mp, "part %u: malformed header line",
			    mp->part);
		for (end = colon; end > line && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		value = (char *)multipart_skip_ws(colon + 1);
		for (end = value + strlen(value); end > value &&
		    (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';

		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (has_disp++)
				return multipart_fail(mp, "part %u: two "
				    "Content-Disposition headers", mp->part);
			if (multipart_disposition(mp, value, &has_filename) == -1)
				return -1;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (has_type++)
				return multipart_fail(mp, "part %u: two Content-Type "
				    "headers", mp->part);
			strcpy(mp->content_type, value);
		}
	}
	if (!has_disp)
		return multipart_fail(mp, "part %u: no Content-Disposition header",
		    mp->part);

	part.name = mp->name;
	part.filename = has_filename ? mp->filename : NULL;
	part.content_type = has_type ? mp->content_type : NULL;
	if (mp->cbs.begin_cb(&part, mp->arg) == -1)
		return multipart_fail(mp, "part %u: refused by the receiver", mp->part);
	return 0;
}

/* Collects header bytes; *done once the empty line ending the block is in. */
static int
multipart_headers(struct multipart *mp, const char *data, size_t len, size_t *used,
    int *done)
{
	size_t i;

	*done = 0;
	for (i = 0; i < len; i++) {
		if (mp->head_len == MULTIPART_HEADER_MAX)
			return multipart_fail(mp, "part %u: header block exceeds %d "
			    "bytes", mp->part, MULTIPART_HEADER_MAX);
		mp->head[mp->head_len++] = data[i];
		if (data[i] != '\n')
			continue;
		if ((mp->head_len == 2 && mp->head[0] == '\r') ||
		    (mp->head_len >= 4 &&
		    memcmp(mp->head + mp->head_len - 4, "\r\n\r\n", 4) == 0)) {
			*done = 1;
			i++;
			break;
		}
	}
	*used = i;
	return 0;
}

int
multipart_feed(struct multipart *mp, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char *p = data;
	size_t used;
	int found;

	while (len > 0 && mp->state != MULTIPART_FAILED) {
		used = 1;
		switch (mp->state) {
		case MULTIPART_PREAMBLE:
		case MULTIPART_DATA:
			if (multipart_scan(mp, p, len, &used, &found) == -1 || !found)
				break;
			if (mp->state == MULTIPART_DATA &&
			    mp->cbs.end_cb(mp->arg) == -1) {
				multipart_fail(mp, "part %u: stopped by the receiver",
				    mp->part);
				break;
			}
			mp->state = MULTIPART_DELIM_END;
			break;
		case MULTIPART_DELIM_END:
			if (*p == '-')
				mp->state = MULTIPART_CLOSE_DASH;
			else if (*p == ' ' || *p == '\t')
				mp->state = MULTIPART_PADDING;
			else if (*p == '\r')
				mp->state = MULTIPART_LINE_CR;
			else
				multipart_fail(mp, "boundary %u is followed by "
				    "neither CRLF nor \"--\"", mp->part + 1);
			break;
		case MULTIPART_CLOSE_DASH:
			if (*p == '-')
				mp->state = MULTIPART_EPILOGUE;
			else
				multipart_fail(mp, "boundary %u is followed by a "
				    "single '-'", mp->part + 1);
			break;
		case MULTIPART_PADDING:
			if (*p == '\r')
				mp->state = MULTIPART_LINE_CR;
			else if (*p != ' ' && *p != '\t')
				multipart_fail(mp, "boundary %u line has trailing "
				    "bytes", mp->part + 1);
			break;
		case MULTIPART_LINE_CR:
			if (*p != '\n') {
				multipart_fail(mp, "boundary %u line does not end in "
				    "CRLF", mp->part + 1);
				break;
			}
			mp->part++;
			mp->head_len = 0;
			mp->state = MULTIPART_HEADERS;
			break;
		case MULTIPART_HEADERS:
			if (multipart_headers(mp, p, len, &used, &found) == -1 ||
			    !found)
				break;
			if (multipart_begin(mp) == -1)
				break;
			mp->matched = 0;
			mp->state = MULTIPART_DATA;
			break;
		case MULTIPART_EPILOGUE:
			used = len;
			break;
		case MULTIPART_FAILED:
			break;
		}
		p += used;
		len -= used;
	}
	if (mp->state == MULTIPART_FAILED) {
		snprintf(err, errlen, "%s", mp->err);
		return -1;
	}
	return 0;
}

int
multipart_finish(struct multipart *mp, char *err, size_t errlen)
{
	switch (mp->state) {
	case MULTIPART_EPILOGUE:
		return 0;
	case MULTIPART_FAILED:
		snprintf(err, errlen, "%s", mp->err);
		return -1;
	case MULTIPART_PREAMBLE:
		snprintf(err, errlen, "multipart body has no boundary line");
		return -1;
	default:
		snprintf(err, errlen, "multipart body ends in part %u, before the "
		    "closing boundary", mp->part);
		return -1;
	}
}
