#ifndef MASTER_UPLOAD_CONN_H
#define MASTER_UPLOAD_CONN_H

/*
 * Inside the upload filter (master/upload*.c): one connection's state and the functions its
 * files share. Not for the rest of the master, whose interface is master/upload.h; the
 * head fuzzer (tests/fuzz/fuzz_upload_head.c) uses it to drive the filter's head handling.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <event2/bufferevent.h>

#include "master/reqhead.h"
#include "master/upload.h"

struct evbuffer;
struct evbuffer_cb_entry;
struct evbuffer_cb_info;
struct upload_linger;
struct multipart;
struct quota;

#define UPLOAD_LINE_MAX		4096	/* chunk-size and trailer lines passed on */

enum upload_state {
	UPLOAD_HEAD,		/* reading a request head */
	UPLOAD_PASS_BODY,	/* passing `remaining` body bytes of another request */
	UPLOAD_PASS_CHUNK_SIZE,	/* chunked body of another request: size line */
	UPLOAD_PASS_CHUNK_DATA,	/* ... chunk data */
	UPLOAD_PASS_TRAILER,	/* ... trailer lines */
	UPLOAD_PASS_ALL,	/* framing unknown: evhttp judges (and closes) */
	UPLOAD_SPOOL,		/* an upload body going to the multipart parser */
	UPLOAD_DISCARD_ALL	/* an upload was answered early: drop all until close */
};

struct upload_server {
	struct event_base	*base;
	char			*spool_dir;
	int64_t			 max_bytes;
	struct quota		*quota;		/* may be NULL */
	struct timeval		 idle;
	int64_t			 min_rate;	/* bytes/s a body must average */
	int			 max_conns;	/* 0: no limit */
	int			 nlingers;	/* closes lingering: each holds an fd */
	struct evconnlistener	*lev;		/* evhttp's; NULL if not told */
	int			 refs;		/* the owner + one per connection */
	int			 closing;
	TAILQ_HEAD(, upload_linger) lingers;
};


struct upload_conn {
	TAILQ_ENTRY(upload_conn) entry;
	struct upload_server	*srv;
	struct bufferevent	*bev;		/* the filter; evhttp owns it */
	struct bufferevent	*under;		/* the socket bufferevent below */
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct event		*kick_ev;	/* resume input once evhttp drained */
	struct event		*idle_ev;	/* the body clock: idle or too slow */
	struct event		*write_ev;
	struct event		*retry_ev;

	enum upload_state	 state;
	int			 gated;		/* a head waits for evhttp to drain */
	int			 kill;		/* drop the connection from kick_ev */
	int			 over_limit;	/* beyond max_conns: 503 from kick_ev */
	int			 writing;	/* inside upload_write_cb */
	int			 write_errno;
	const char		*cont;		/* unsent part of "100 Continue" or a refusal */
	size_t			 cont_left;
	char			*refusal;	/* a whole response sent from here, then the end */

	char			*head_buf;	/* copy of the head being looked for */
	size_t			 head_got;	/* bytes copied and scanned */
	size_t			 head_line;	/* start of the line being scanned */
	size_t			 head_line1;	/* end of the request line, 0 if unseen */
	size_t			 head_len;

	int64_t			 remaining;	/* body bytes left (pass or spool) */
	int64_t			 chunked_len;	/* chunk data of a passed-on body so far */
	struct timeval		 body_start;	/* the body clock (upload_body_*) */
	struct timeval		 body_last;	/* last body bytes read */
	int64_t			 body_got;
	int64_t			 reserved;	/* quota held for this upload */
	char			 line[UPLOAD_LINE_MAX + 1];

	struct evbuffer		*held;		/* the rewritten upload head */
	struct multipart	*mp;
	int			 in_file;
	int			 file_parts;
	int			 spool_fd;
	int			 fail_status;	/* set by the part callbacks */
	char			 fail_reason[256];

	/* under's own callbacks (the filter's), which ours wrap to hold back a half-close */
	bufferevent_data_cb	 under_read, under_write;
	bufferevent_event_cb	 under_event;
	void			*under_arg;
	int			 eof_held;	/* the client shut its side; evhttp not told yet */

	int			 ready;		/* res belongs to the last head released */
	int			 res_close;
	struct upload_result	 res;
};

/* The request evhttp would route to the /upload callback, as a POST. */
int	upload_head_is_upload(const struct reqhead *h);
/* Looks for the end of the head at the front of src: 1 once complete (c->head_len), 0 while
 * not, -1 past UPLOAD_HEAD_MAX, -2 out of memory. */
int	upload_head_find(struct upload_conn *c, struct evbuffer *src);
void	upload_head_reset(struct upload_conn *c);
/* An upload's head rewritten for evhttp (Content-Length: 0) into c->held: 0, or -1. */
int	upload_hold_head(struct upload_conn *c, const char *raw, const struct reqhead *h);
/* How the body of a request that is not an upload is passed through (c->state, remaining). */
void	upload_pass_framing(struct upload_conn *c, const struct reqhead *h);

/* An upload_server lives while its owner or a connection or a lingering close holds it. */
static inline void
upload_server_unref(struct upload_server *srv)
{
	if (--srv->refs > 0)
		return;
	free(srv->spool_dir);
	free(srv);
}

/* master/upload_body.c: the body clock */
/* 1 in a state that reads a request body. */
int	upload_in_body(enum upload_state state);
/* When the body turns idle, and when it is too slow. */
void	upload_body_limits(const struct upload_conn *c, struct timeval *idle_at,
	    struct timeval *slow_at);
/* A body starts; n more bytes of it were read (each restarts the idle bound). */
void	upload_body_start(struct upload_conn *c);
void	upload_body_got(struct upload_conn *c, size_t n);

/* master/upload_spool.c: an upload's body to its spool file */
/* c->mp, the parser whose parts go to the spool file: 0, or -1 with err. */
int	upload_spool_parser(struct upload_conn *c, const char *boundary, char *err, size_t errlen);
/* Feeds body bytes to the parser; 1 if any were consumed. */
int	upload_spool(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst);
/* The whole announced body went through the parser: the outcome to evhttp. */
void	upload_spool_end(struct upload_conn *c, struct evbuffer *dst);
/* Stops spooling: the reservation settled, the unfinished spool file removed, the parser
 * and the body clock stopped. */
void	upload_spool_abort(struct upload_conn *c);
/* A result the handler never took: its file goes. */
void	upload_drop_result(struct upload_conn *c);
/*
 * Releases the held upload head to evhttp with the outcome for upload_take().
 * hangup: the body was not read to its end, so what follows is not HTTP.
 */
void	upload_answer(struct upload_conn *c, struct evbuffer *dst, int status, int hangup,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* master/upload_pass.c: the body of a request that is not an upload */
/* Moves one line of a passed-on chunked body; 1 with it in c->line, 0 if incomplete, -1 (the
 * line left in src) for a chunk that takes the body over UPLOAD_BODY_MAX. */
int	upload_pass_line(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst);
/* Reads c->line as a chunk-size line (evhttp_handle_chunked_read) into c->state. */
void	upload_pass_chunk_size(struct upload_conn *c);

/* master/upload_write.c: the output and the half-close */
/* Watches the fd for room to write: evhttp's output or the rest of "100 Continue". */
void	upload_want_write(struct upload_conn *c);
void	upload_output_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
enum bufferevent_filter_result upload_filter_out_cb(struct evbuffer *src, struct evbuffer *dst,
	    ev_ssize_t limit, enum bufferevent_flush_mode mode, void *arg);
void	upload_retry_cb(evutil_socket_t fd, short what, void *arg);
/* 1 until bev is being freed (its callbacks cleared). */
int	upload_alive(struct upload_conn *c);
/* The half-close: under's own callbacks, wrapped so that a client's end of input reaches
 * evhttp only once its reply is out (upload_eof_release). */
void	upload_under_read_cb(struct bufferevent *under, void *arg);
void	upload_under_write_cb(struct bufferevent *under, void *arg);
void	upload_under_event_cb(struct bufferevent *under, short what, void *arg);
/* Tells evhttp of a held end of input once nothing is owed any more. */
void	upload_eof_release(struct upload_conn *c);

/* master/upload_linger.c: lingering close */
/* Closes fd once the client stopped sending (or after a bound); srv is held meanwhile. */
void	upload_linger(struct upload_server *srv, int fd);
void	upload_linger_end(struct upload_linger *l);

#endif
