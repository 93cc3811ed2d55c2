#include "master/trim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/argv.h"
#include "master/ffcmd.h"
#include "master/probe.h"

int64_t
trim_frames(const char *out, size_t len)
{
	const char *p, *last = NULL;

	for (p = out; p != NULL && p < out + len; p = memchr(p, '\n', (size_t)(out + len - p))) {
		if (*p == '\n')
			p++;
		if ((size_t)(out + len - p) > 6 && strncmp(p, "frame=", 6) == 0)
			last = p + 6;
	}
	return last != NULL ? strtoll(last, NULL, 10) : 0;
}

int
trim_time_parse(const char *s, double *out)
{
	const char *p = s;
	char *end;
	const char *q;
	double part, total = 0;
	int n = 0;

	/* up to three fields, hours:minutes:seconds, only the last with a fraction; a field after
	 * another is below 60 */
	for (;;) {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		part = strtod(p, &end);
		if (errno || end == p || !isfinite(part))
			return -1;
		for (q = p; q < end; q++) {
			if ((*q < '0' || *q > '9') && *q != '.')
				return -1;  /* no exponent, no hexadecimal */
		}
		if (n > 0 && part >= 60)
			return -1;
		total = total * 60 + part;
		n++;
		if (*end == '\0')
			break;
		if (*end != ':' || n == 3 || memchr(p, '.', (size_t)(end - p)) != NULL)
			return -1;
		p = end + 1;
	}
	if (total > 1e7)
		return -1;
	*out = total;
	return 0;
}

void
trim_argv(const char *input, double start, double end, const char *output, struct argv *a)
{
	ffcmd_head(a);
	/* before -i: decodes from the keyframe before start and drops what comes before it,
	 * picture and sound alike */
	argv_add(a, "-ss", NULL);
	argv_addf(a, "%.6f", start);
	ffcmd_input(a, input);
	if (end > 0) {
		argv_add(a, "-t", NULL);
		argv_addf(a, "%.6f", end - start);
	}
	argv_add(a, "-map", "0:v:0", "-map", "0:a?", NULL);
	/* the frames keep their own times (a variable rate stays variable) */
	argv_add(a, "-fps_mode", "passthrough", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast",
	    "-c:a", "flac", NULL);
	/* "frame=N" lines on stdout: none or 0 when the range holds no frame */
	argv_add(a, "-progress", "pipe:1", "-f", "matroska", output, NULL);
}
