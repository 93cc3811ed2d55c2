#ifndef COMMON_ARGV_H
#define COMMON_ARGV_H

#include <stddef.h>

/*
 * The one way a command line for a child (ffmpeg, ffprobe) is built: words appended to the
 * caller's fixed array, formatted words copied into the caller's buffer, no malloc. A word
 * that does not fit marks the argv full and every later append does nothing, so a builder
 * appends without checking and asks once at the end (argv_end). The array stays
 * NULL-terminated after every append.
 */
struct argv {
	char **v;       /* the caller's array: `slots` pointers, the last for the NULL */
	int n, slots;
	char *buf;      /* the caller's storage for formatted words */
	size_t used, size;
	int full;       /* a word did not fit: the command is cut short, not to be run */
};

void argv_init(struct argv *a, char **v, int slots, char *buf, size_t size);
/* Appends borrowed words (they must outlive the argv), up to a NULL. */
void argv_add(struct argv *a, ...) __attribute__((sentinel));
/* Appends one word formatted into the argv's buffer. */
void argv_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 0, or -1 with err naming the command (argv[0]) when a word did not fit. */
int argv_end(const struct argv *a, char *err, size_t errlen);

#endif
