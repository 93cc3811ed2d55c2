#ifndef COMMON_FSPEC_H
#define COMMON_FSPEC_H

#include <stdio.h>
#include <stddef.h>
#include <jansson.h>

/*
 * The filter table and its spec language, which the master (the CLI's --filter, the HTTP
 * API's filter_type, --list-filters, GET /filters) and the workers (which parse the canonical
 * spec of a task again) must agree on: names, parameters with their ranges and defaults, help
 * text. What a filter does to pixels is the worker's (worker/filter.c looks each kernel up by
 * the filter's name).
 */

#define FSPEC_MAX_PARAMS	4
#define FSPEC_CHAIN_MAX		16
/* Longest spec accepted; the canonical form of the longest chain must fit too, since the
 * worker parses that again (16 filters x 4 params x ~40 characters stays under it). */
#define FSPEC_MAX		4096

enum fspec_param_type { FSPEC_NUMBER, FSPEC_INTEGER };

struct fspec_param {
	const char		*name;
	enum fspec_param_type	 type;
	double			 def, min, max;
	const char		*description;
};

/* One row of the table. */
struct fspec_def {
	const char		*name;
	const char		*description;
	struct fspec_param	 params[FSPEC_MAX_PARAMS];	/* ends at the first NULL name */
};

/* A parsed chain: each filter's row and its parameter values in table order. */
struct fspec {
	int			 n;
	const struct fspec_def	*def[FSPEC_CHAIN_MAX];
	double			 param[FSPEC_CHAIN_MAX][FSPEC_MAX_PARAMS];
	unsigned		 given[FSPEC_CHAIN_MAX];	/* bit i: param i was spelled out */
	char			 spec[FSPEC_MAX + 1];		/* canonical */
};

/* Parses "blur:sigma=3,grayscale" (filters separated by ',', params by ':' as name=value).
 * NULL with a message naming the filter or the parameter and the allowed range on error
 * (unknown filter, unknown param, value not a number, out of range, empty spec, too long). */
struct fspec *fspec_parse(const char *spec, char *err, size_t errlen);
/* Same, from JSON: filter name + optional params object {"sigma": 3} (the HTTP API sends
 * {"filter_type": "blur", "params": {"sigma": 5}}); filter_type may itself be a chain spec. */
struct fspec *fspec_from_json(const char *filter_type, json_t *params, char *err, size_t errlen);
/* Canonical spec with every parameter spelled out, e.g. "blur:sigma=3,grayscale". The worker
 * receives this string and parses it again, so parse(canonical(x)) must equal x. */
const char *fspec_string(const struct fspec *fs);
void fspec_free(struct fspec *fs);

int fspec_param_count(const struct fspec_def *def);
/* Index of a parameter by name (s need not be NUL-terminated), or -1. */
int fspec_param_find(const struct fspec_def *def, const char *name, size_t len);

/* The table, for `--list-filters` and HTTP `GET /filters`:
 * [{"name","description","params":[{"name","type":"number"|"integer","default","min","max","description"}]}] */
json_t *fspec_list_json(void);
void fspec_list_print(FILE *out);

#endif
