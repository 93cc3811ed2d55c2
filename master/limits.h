#ifndef MASTER_LIMITS_H
#define MASTER_LIMITS_H

#include <stddef.h>
#include <stdint.h>

struct probe;

/*
 * How large a video may be, checked right after probing, before any work: the picture's
 * width x height and its running time. A 16K or ten-hour upload would otherwise tie up the
 * pool (and the disk) for hours. 0 means no limit.
 */
struct limits {
	int64_t max_pixels;          /* width * height of the upright picture */
	double max_duration;         /* seconds */
};

/* `master serve`'s defaults: an 8K UHD picture, four hours. The CLI has none. */
#define LIMITS_SERVE_PIXELS   ((int64_t)7680 * 4320)
#define LIMITS_SERVE_DURATION (4 * 3600.0)

/* What went over: the option's field name ("max_pixels", "max_duration"), the video's value,
 * the limit, and a sentence naming both and the option. */
struct limits_excess {
	const char *limit;
	double value, max;
	char reason[256];
};

/* --max-pixels: N, or WxH (7680x4320), 0 for none. 0 ok, -1 with err. */
int limits_parse_pixels(const char *arg, int64_t *out, char *err, size_t errlen);
/* --max-duration: seconds, 0 for none. 0 ok, -1 with err. */
int limits_parse_duration(const char *arg, double *out, char *err, size_t errlen);
/* The command-line option: "max-pixels" or "max-duration" with its value, into l. */
int limits_option(struct limits *l, const char *name, const char *arg, char *err, size_t errlen);
/* 0 when the probed video is within l; -1 and x filled when not. */
int limits_check(const struct limits *l, const struct probe *p, struct limits_excess *x);

#endif
