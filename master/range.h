#ifndef MASTER_RANGE_H
#define MASTER_RANGE_H
#include <stddef.h>
#include <stdint.h>

enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/*
 * Parses the Range header value (may be NULL) for a resource of `size` bytes
 * (RFC 9110 section 14.1.2).
 * RANGE_NONE: no header, or one we ignore: another unit than "bytes", invalid syntax, or
 *   more than one range (RFC 9110 lets a server ignore Range; the full 200 answers it), or
 *   one range that is the whole resource ("bytes=0-"): a 200, which carries no Content-Range;
 * RANGE_OK: *start and *len are one satisfiable range, clamped to the end -> 206;
 * RANGE_UNSATISFIABLE: -> 416 with Content-Range "bytes * /size".
 */
enum range_result range_parse(const char *value, int64_t size, int64_t *start, int64_t *len);

/*
 * Formats a Content-Range value: "bytes START-END/SIZE", or "bytes * /SIZE" (without the
 * space) when len is 0, for a 416. Returns -1 when buf is too small.
 */
int range_content_range(char *buf, size_t n, int64_t start, int64_t len, int64_t size);

#endif
