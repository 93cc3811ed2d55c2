#ifndef MASTER_REQHEAD_H
#define MASTER_REQHEAD_H

/* An HTTP/1.x request head parsed as evhttp (libevent 2.1) parses it. */
#include <stddef.h>

struct evhttp_uri;

struct reqhead_hdr {
	char	*key;
	char	*value;
	size_t	 start, end;	/* raw bytes, continuation lines included */
};

struct reqhead {
	char			*method, *uri, *version;
	int			 major, minor;
	struct evhttp_uri	*uri_elems;
	struct reqhead_hdr	*hdrs;
	size_t			 nhdrs;
	size_t			 line1_end;	/* just after the request line's LF */
	size_t			 blank_start;	/* the empty line ending the head */
	char			*buf;		/* tokens and unfolded values */
};

/* 0 and h filled, or -1 where evhttp would refuse the head; h is freed with reqhead_clear
 * either way.
 * raw[0..len) is a whole head, up to and including its empty line. */
int	reqhead_parse(const char *raw, size_t len, struct reqhead *h);
/* The request line alone (raw[0..len) holds at least its LF): 0, or -1 as evhttp refuses it;
 * h is freed with reqhead_clear either way. */
int	reqhead_request_line(const char *raw, size_t len, struct reqhead *h);
void	reqhead_clear(struct reqhead *h);
/* The line starting at i: the index of its LF and where its content ends; -1 without an LF. */
int	reqhead_line(const char *raw, size_t len, size_t i, size_t *lf, size_t *end);
/* evhttp_find_header(): the value of the first header named key, or NULL. */
const char *reqhead_get(const struct reqhead *h, const char *key);
/* 1 when hdr is named key, also with blanks around the name that evhttp would not match. */
int	reqhead_named(const struct reqhead_hdr *hdr, const char *key);
/* How many headers are named key; loose: also with blanks around the name. */
int	reqhead_count(const struct reqhead *h, const char *key, int loose);

#endif
