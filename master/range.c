#include "master/range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One number of a range-spec: its digits (for exact comparison) and its value, saturated. */
struct range_num {
	const char *digits;
	size_t ndigits;
	int64_t value;
};

static const char *
range_skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Reads 1*DIGIT. A number too large for int64_t saturates at INT64_MAX instead of wrapping:
 * no resource is that large, so it still means "past the end" as a first-pos and "to the end"
 * as a last-pos or suffix-length.
 */
static const char *
range_read_num(const char *p, struct range_num *num)
{
	int64_t v = 0;

	num->digits = p;
	while (*p >= '0' && *p <= '9') {
		int d = *p - '0';

		if (v > (INT64_MAX - d) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + d;
		p++;
	}
	num->ndigits = (size_t)(p - num->digits);
	num->value = v;
	return num->ndigits == 0 ? NULL : p;
}

/* Compares two decimal numbers exactly, even when both saturated. */
static int
range_num_cmp(const struct range_num *a, const struct range_num *b)
{
	const char *ad = a->digits, *bd = b->digits;
	size_t an = a->ndigits, bn = b->ndigits;
	int c;

	while (an > 1 && *ad == '0') {
		ad++;
		an--;
	}
	while (bn > 1 && *bd == '0') {
		bd++;
		bn--;
	}
	if (an != bn)
		return an < bn ? -1 : 1;
	c = memcmp(ad, bd, an);
	return c < 0 ? -1 : c > 0;
}

/* Parses one range-spec from p up to end (exclusive). Returns -1 when it is not valid syntax. */
static int
range_parse_spec(const char *p, const char *end, int *suffix, struct range_num *first,
    struct range_num *last, int *has_last)
{
	*suffix = 0;
	*has_last = 0;
	if (*p == '-') {
		*suffix = 1;
		p = range_read_num(range_skip_ows(p + 1, end), last);
		if (p == NULL)
			return -1;
		*has_last = 1;
		return range_skip_ows(p, end) == end ? 0 : -1;
	}
	p = range_read_num(p, first);
	if (p == NULL)
		return -1;
	p = range_skip_ows(p, end);
	if (p == end || *p != '-')
		return -1;
	p = range_skip_ows(p + 1, end);
	if (p != end) {
		p = range_read_num(p, last);
		if (p == NULL)
			return -1;
		*has_last = 1;
		/* "A last-pos value less than first-pos is invalid" (RFC 9110 14.1.1). */
		if (range_num_cmp(last, first) < 0)
			return -1;
	}
	return range_skip_ows(p, end) == end ? 0 : -1;
}

enum range_result
range_parse(const char *value, int64_t size, int64_t *start, int64_t *len)
{
	struct range_num first = { 0 }, last = { 0 };
	const char *p, *end;
	int suffix, has_last, nelems = 0;

	if (value == NULL || size < 0)
		return RANGE_NONE;
	end = value + strlen(value);
	p = range_skip_ows(value, end);
	if (strncasecmp(p, "bytes", 5) != 0)
		return RANGE_NONE;
	p = range_skip_ows(p + 5, end);
	if (*p != '=')
		return RANGE_NONE;
	p++;

	/* range-set is a #list: empty elements are allowed and skipped. */
	while (*p != '\0') {
		const char *s = range_skip_ows(p, end), *e = s;

		while (*e != '\0' && *e != ',')
			e++;
		p = *e == ',' ? e + 1 : e;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == s)
			continue;
		/* Only a set of exactly one range is served: more is answered with the whole file. */
		if (++nelems > 1)
			return RANGE_NONE;
		if (range_parse_spec(s, e, &suffix, &first, &last, &has_last) != 0)
			return RANGE_NONE;
	}
	if (nelems == 0)
		return RANGE_NONE;

	if (suffix) {
		/* A suffix range is satisfiable only when it is non-zero and the resource is not empty. */
		if (last.value == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*len = last.value < size ? last.value : size;
		*start = size - *len;
	} else {
		if (first.value >= size)
			return RANGE_UNSATISFIABLE;
		*start = first.value;
		if (!has_last || last.value >= size - 1)
			*len = size - first.value;
		else
			*len = last.value - first.value + 1;
	}
	/* "bytes=0-" (what a browser's <video> asks first) is the whole file: a plain 200, and a
	 * Content-Range header belongs on a 206 only */
	return *start == 0 && *len == size ? RANGE_NONE : RANGE_OK;
}

int
range_content_range(char *buf, size_t n, int64_t start, int64_t len, int64_t size)
{
	int k;

	if (len <= 0)
		k = snprintf(buf, n, "bytes */%" PRId64, size);
	else
		k = snprintf(buf, n, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, start,
		    start + len - 1, size);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}
