/* The default output name of a render: the input's, with the filter spec made a file name. */
#include "master/outname.h"

#include <stdio.h>
#include <string.h>

#include "common/fspec.h"

/* Appends to name[*k] the characters of s[0..len) that are safe in a file name ('+' only
 * where the caller puts it, between filters: no filter spec holds one). */
static void
outname_add(char *name, size_t n, size_t *k, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0' && *k + 1 < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.' || (s[i] == '+' && len == 1))
			name[(*k)++] = s[i];
	}
	name[*k] = '\0';
}

/* 1 when "k=v" is one of the ':'-separated fields of spec. */
static int
outname_spec_has(const char *spec, const char *kv, size_t len)
{
	const char *p;

	for (p = strchr(spec, ':'); p != NULL; p = strchr(p + 1, ':')) {
		if (strncmp(p + 1, kv, len) == 0 && (p[1 + len] == ':' || p[1 + len] == '\0'))
			return 1;
	}
	return 0;
}

void
outname_default(const char *input, const char *filter, char *buf, size_t n)
{
	char name[256], one[64], ferr[128];
	const char *slash = strrchr(input, '/');
	const char *base = slash ? slash + 1 : input;
	const char *dot = strrchr(base, '.');
	size_t dirlen = slash ? (size_t)(slash - input) + 1 : 0;
	size_t baselen = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	size_t k = 0, len;
	const char *p = filter, *f, *q;
	struct fspec *defaults;

	/* "blur:sigma=5,grayscale" -> "blur-sigma5+grayscale": each filter's name, then the
	 * parameters that differ from a bare "blur" (so the name tells two renders apart) */
	name[0] = '\0';
	while (*p != '\0') {
		f = p + strcspn(p, ",");
		len = strcspn(p, ":,");
		if (k > 0)
			outname_add(name, sizeof name, &k, "+", 1);
		outname_add(name, sizeof name, &k, p, len);
		snprintf(one, sizeof one, "%.*s", (int)len, p);
		defaults = fspec_parse(one, ferr, sizeof ferr);
		for (q = p + len; q < f && *q == ':'; q += len) {
			q++;
			len = strcspn(q, ":,");
			if (defaults != NULL && outname_spec_has(fspec_string(defaults), q, len))
				continue;
			outname_add(name, sizeof name, &k, "-", 1);
			outname_add(name, sizeof name, &k, q, strcspn(q, "=:,"));
			if (q[strcspn(q, "=:,")] == '=')
				outname_add(name, sizeof name, &k, q + strcspn(q, "=:,") + 1, len - strcspn(q, "=:,") - 1);
		}
		fspec_free(defaults);
		p = *f == ',' ? f + 1 : f;
	}
	snprintf(buf, n, "%.*s%.*s.%s.mp4", (int)dirlen, input, (int)baselen, base, name);
}
