#include "master/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/probe.h"

/* Far beyond any real picture (a 1M x 1M one), small enough to stay exact in a double. */
#define LIMITS_PIXELS_MAX ((int64_t)1 << 40)

int
limits_parse_pixels(const char *arg, int64_t *out, char *err, size_t errlen)
{
	const char *x = strpbrk(arg, "xX");
	char *end;
	long long w, h;

	errno = 0;
	w = strtoll(arg, &end, 10);
	if (x != NULL && end == x && x > arg) {
		h = strtoll(x + 1, &end, 10);
		if (errno || *end || end == x + 1 || w < 1 || h < 1 || w > 1 << 20 || h > 1 << 20)
			goto bad;
		*out = (int64_t)w * h;
		return 0;
	}
	if (errno || *end || end == arg || arg[0] == '-' || w > LIMITS_PIXELS_MAX)
		goto bad;
	*out = w;
	return 0;
bad:
	return util_err(err, errlen, "--max-pixels takes a number of pixels or WIDTHxHEIGHT "
	    "(e.g. 7680x4320), 0 for no limit, not '%s'", arg);
}

int
limits_parse_duration(const char *arg, double *out, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || *end || end == arg || !(d >= 0 && d <= 1e9))
		return util_err(err, errlen, "--max-duration takes seconds, 0 for no limit, not '%s'", arg);
	*out = d;
	return 0;
}

int
limits_option(struct limits *l, const char *name, const char *arg, char *err, size_t errlen)
{
	if (strcmp(name, "max-pixels") == 0)
		return limits_parse_pixels(arg, &l->max_pixels, err, errlen);
	return limits_parse_duration(arg, &l->max_duration, err, errlen);
}

int
limits_check(const struct limits *l, const struct probe *p, struct limits_excess *x)
{
	int64_t pixels = (int64_t)p->width * p->height;
	/* what the render will produce: a file may declare a short duration over many frames */
	double secs = p->fps > 0 && (double)p->frames / p->fps > p->duration ?
	    (double)p->frames / p->fps : p->duration;

	if (l->max_pixels > 0 && pixels > l->max_pixels) {
		x->limit = "max_pixels";
		x->value = (double)pixels;
		x->max = (double)l->max_pixels;
		snprintf(x->reason, sizeof x->reason, "the video is %dx%d (%lld pixels), over the limit "
		    "of %lld pixels (--max-pixels)", p->width, p->height, (long long)pixels,
		    (long long)l->max_pixels);
		return -1;
	}
	if (l->max_duration > 0 && secs > l->max_duration) {
		x->limit = "max_duration";
		x->value = secs;
		x->max = l->max_duration;
		snprintf(x->reason, sizeof x->reason, "the video lasts %.2f s, over the limit of %g s "
		    "(--max-duration)", secs, l->max_duration);
		return -1;
	}
	return 0;
}
