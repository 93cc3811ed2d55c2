#ifndef MASTER_WEB_H
#define MASTER_WEB_H
#include <stddef.h>

/* One file of master/web/, built into the binary by scripts/embed-web. */
struct web_asset {
	const char *name;
	const unsigned char *data;
	size_t size;
};

/* Terminated by an entry whose name is NULL. */
extern const struct web_asset web_assets[];

#endif
