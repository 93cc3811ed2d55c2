/* A client's file name made safe to store, log and show (the upload's "filename"). */
#include "master/filename.h"

#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (n bytes available), 0 if it is invalid. */
static size_t
filename_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t need, i;
	unsigned v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3, v = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

static size_t
filename_utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Characters that could break a header, a log line or how the name reads on screen. */
static int
filename_drops(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == '"' || cp == '\'' ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

void
filename_sanitize(const char *raw, char *out, size_t size)
{
	const unsigned char *s, *end;
	size_t limit, n = 0, k, start;
	unsigned cp;
	char enc[4];

	if (size == 0)
		return;
	limit = size - 1 < FILENAME_MAX_BYTES ? size - 1 : FILENAME_MAX_BYTES;
	if (raw == NULL)
		raw = "";
	s = (const unsigned char *)raw;
	for (end = s; *end != '\0'; end++) {
		if (*end == '/' || *end == '\\')
			s = end + 1;
	}
	while (s < end) {
		if ((k = filename_utf8_decode(s, (size_t)(end - s), &cp)) == 0) {
			cp = 0xfffd;
			k = 1;
		}
		s += k;
		if (filename_drops(cp))
			continue;
		k = filename_utf8_encode(cp, enc);
		if (n + k > limit)
			break;
		memcpy(out + n, enc, k);
		n += k;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	for (start = 0; start < n && out[start] == ' '; start++)
		;
	memmove(out, out + start, n - start);
	n -= start;
	for (k = 0; k < n && out[k] == '.'; k++)
		;
	if (k == n) {
		/* empty, "." or ".." */
		snprintf(out, size, "upload");
		return;
	}
	out[n] = '\0';
}
