#ifndef MASTER_FILENAME_H
#define MASTER_FILENAME_H

#include <stddef.h>

#define FILENAME_MAX_BYTES	200	/* bytes of a sanitized file name */

/* Last path component, no control or bidi characters, no quotes, valid UTF-8, at
 * most FILENAME_MAX_BYTES bytes; "upload" when nothing is left. */
void	filename_sanitize(const char *raw, char *out, size_t size);

#endif
