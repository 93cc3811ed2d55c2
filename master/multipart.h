#ifndef MASTER_MULTIPART_H
#define MASTER_MULTIPART_H
#include <stddef.h>

/*
 * A streaming multipart/form-data parser (RFC 7578 on RFC 2046). The body is
 * fed in chunks of any size, split anywhere; part contents are handed to the
 * callbacks as they go by and are never buffered whole. Only a part's header
 * block is held, up to MULTIPART_HEADER_MAX bytes. Independent of libevent.
 */

#define MULTIPART_BOUNDARY_MAX	200
#define MULTIPART_HEADER_MAX	8192

struct multipart;

struct multipart_part {
	const char	*name;		/* Content-Disposition name=, never NULL */
	const char	*filename;	/* filename* or filename=, raw; NULL if absent */
	const char	*content_type;	/* the part's Content-Type; NULL if absent */
};

/* Each returns 0 to go on or -1 to stop the parse (the receiver keeps its own reason). */
struct multipart_cbs {
	int	(*begin_cb)(const struct multipart_part *part, void *arg);
	int	(*data_cb)(const char *data, size_t len, void *arg);
	int	(*end_cb)(void *arg);
};

/* 1 if a Content-Type header value is multipart/form-data, whatever its parameters. */
int	multipart_is_form_data(const char *content_type);
/* Copies the boundary parameter of a Content-Type value (quoted or not) into boundary. */
int	multipart_boundary(const char *content_type, char *boundary, size_t size,
	    char *err, size_t errlen);

struct multipart *multipart_new(const char *boundary, const struct multipart_cbs *cbs,
	    void *arg, char *err, size_t errlen);
/* -1 when the body is malformed or a callback stopped; every later feed fails too. */
int	multipart_feed(struct multipart *mp, const void *data, size_t len, char *err,
	    size_t errlen);
/* At the end of the body: -1 unless the closing delimiter was seen. */
int	multipart_finish(struct multipart *mp, char *err, size_t errlen);
void	multipart_free(struct multipart *mp);

#endif
