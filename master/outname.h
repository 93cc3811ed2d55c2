#ifndef MASTER_OUTNAME_H
#define MASTER_OUTNAME_H

#include <stddef.h>

/* The default output path for input and a canonical filter spec: DIR/NAME.FILTER.mp4, FILTER
 * naming each filter and the parameters it was given away from their defaults
 * ("blur:sigma=5,grayscale" -> "blur-sigma5+grayscale"). */
void outname_default(const char *input, const char *filter, char *buf, size_t n);

#endif
