#ifndef MASTER_UPLOAD_H
#define MASTER_UPLOAD_H
#include <stddef.h>
#include <stdint.h>

/*
 * Streaming uploads for evhttp. evhttp 2.1 reads a whole request body into
 * memory before it calls a handler. upload_install() slides a filter under every
 * connection of an evhttp: for `POST /upload` it takes the body off the wire
 * itself, writes the form's `file` part to a spool file as it arrives, and only
 * then hands evhttp the request head, rewritten with Content-Length: 0. The
 * /upload handler collects the outcome with upload_take(). Every other request
 * passes through untouched (keep-alive and pipelining included).
 *
 * Shutdown order: upload_set_listener(NULL), evhttp_free(), upload_free(), event_base_free().
 */

struct evhttp;
struct evconnlistener;
struct evhttp_request;
struct event_base;
struct quota;

#define UPLOAD_PATH		"/upload"	/* after %-decoding, as evhttp routes */
#define UPLOAD_FIELD		"file"
#define UPLOAD_HEAD_MAX		(16 * 1024)	/* larger request heads are refused */
/* What evhttp must accept (evhttp_set_max_headers_size): the filter refuses heads over
 * UPLOAD_HEAD_MAX itself, and an upload's head reaches evhttp rewritten, up to 19 bytes
 * longer (Content-Length: 0 added) */
#define UPLOAD_EVHTTP_HEADERS_MAX	(UPLOAD_HEAD_MAX + 64)
#define UPLOAD_BODY_MAX		(1 << 20)	/* other bodies (JSON): larger ones get 413 */
#define UPLOAD_IDLE_DEFAULT_S	60
#define UPLOAD_MIN_RATE_DEFAULT	500		/* bytes/s, as Apache's mod_reqtimeout */

struct upload_config {
	const char	*spool_dir;	/* must exist; spool files are created in it */
	int64_t		 max_bytes;	/* largest Content-Length accepted, > 0 */
	int		 idle_timeout_s; /* an upload silent this long is answered 408;
					    0 means UPLOAD_IDLE_DEFAULT_S */
	int64_t		 min_rate;	/* bytes/s a request body must keep up on
					    average after its first idle_timeout_s, else
					    408 (an upload) or a hang-up (any other body);
					    0 means UPLOAD_MIN_RATE_DEFAULT */
	struct quota	*quota;		/* NULL, or: each upload reserves its
					   Content-Length (507 when it does not fit)
					   and the spool file is counted once written */
	int		 max_conns;	/* connections open (or lingering) at once; one
					   accepted beyond is answered 503 at once and
					   closed, whether it sent anything or not; 0: no
					   limit */
};

struct upload_result {
	int	status;		/* 0 = a file was spooled; else the HTTP status to answer */
	char	error[256];	/* reason when status != 0, for {"error","detail"} */
	char	path[4096];	/* spooled file (status 0); the caller renames or unlinks it */
	char	filename[256];	/* sanitized client file name, never empty */
	int64_t	size;		/* bytes of the file part */
};

struct upload_server;

/* Installs the spooling filter on every new connection of http (evhttp_set_bevcb). */
struct upload_server *upload_install(struct evhttp *http, struct event_base *base,
	    const struct upload_config *cfg, char *err, size_t errlen);
/*
 * The listener evhttp accepts on (evhttp_bound_socket_get_listener): with max_conns set, it is
 * paused at each connection accepted beyond the limit until that one is answered and closed, so
 * that a crowd of connections waiting in the backlog is not accepted all at once past the
 * descriptors the process has.
 */
void	upload_set_listener(struct upload_server *srv, struct evconnlistener *lev);
/* ... and NULL before evhttp_free(), which frees the listener while connections are still
 * finishing. */
/* After evhttp_free(): stops lingering closes; connections still tearing down finish alone. */
void	upload_free(struct upload_server *srv);

/*
 * In the POST /upload handler, before it returns: 0 and *out filled, or -1 when
 * this request did not pass the spooler (out then holds status 400 and a reason).
 * Ownership of out->path passes to the caller (and with it, the file's bytes in the
 * quota: remove it with quota_rm_rf). When the rest of the request was
 * not read (413, 411, ...), a `Connection: close` is added to the reply headers.
 */
int	upload_take(struct evhttp_request *req, struct upload_result *out);

/* 1 when the client of req has closed (or shut its sending side of) the connection: an
 * answer might never be read. */
int	upload_peer_gone(struct evhttp_request *req);

#endif
