#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Significant digits for a JSON real (Jansson's JSON_REAL_PRECISION): its default of 17 prints
 * 5.01 as 5.0099999999999998; 15 is the most a double carries back to the decimal it came from. */
#define UTIL_JSON_DIGITS 15

/* Seconds on the monotonic clock (for durations) and on the wall clock (for records). */
double util_now(void);
double util_wall(void);

/* Reads until n bytes or EOF; returns the bytes read (< n only at EOF) or -1. Retries EINTR
 * unless *stop becomes non-zero (stop may be NULL). */
ssize_t util_read_full(int fd, void *buf, size_t n, volatile int *stop);
/* Writes all n bytes or returns -1 (EPIPE when the reader is gone). */
int util_write_full(int fd, const void *buf, size_t n, volatile int *stop);

/* snprintf into an error buffer that may be NULL; returns -1 so callers can `return util_err(...)`. */
int util_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int util_mkdir_p(const char *path, char *err, size_t errlen);
/* Removes a directory tree (no symlink is followed). */
int util_rm_rf(const char *path);
/* Bytes of the regular files in a tree, or of one file (symlinks not followed); 0 if missing. */
int64_t util_tree_size(const char *path);
/* Size of a file in bytes, or -1. */
int64_t util_file_size(const char *path);
/* 1 when both files have the same bytes, 0 when not, -1 when one cannot be read. */
int util_files_equal(const char *a, const char *b);

#endif
