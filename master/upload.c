#include "master/upload.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "master/httputil.h"
#include "master/multipart.h"
#include "master/quota.h"

/*
 * How the filter sits between the socket and evhttp, per connection:
 *
 *   socket -> under (socket bufferevent) -> upload_filter_in_cb -> bev -> evhttp
 *   socket <- upload_write_cb <- upload_filter_out_cb <- bev <- evhttp
 *
 * Input: request heads are parsed here with evhttp's own rules, so both sides
 * agree where each request ends. Bytes of other requests are passed on as they
 * come; an upload's head is held back while its body goes to the multipart
 * parser, then released with Content-Length: 0. A new head is only looked at
 * once evhttp has consumed everything released before it (the "gate"), so an
 * upload's result is only ever visible to the request it belongs to.
 *
 * Output: the stock filter in 2.1.12 both stalls (data added while EV_WRITE is
 * off is never flushed) and reports "written" once bytes reach the socket
 * bufferevent's buffer, so a `Connection: close` reply is cut off when evhttp
 * frees the connection. Here bytes go straight from bev's output to the fd, from
 * our own EV_WRITE event only, so evhttp hears "written" once the kernel has them.
 *
 * Teardown: bev owns under (BEV_OPT_CLOSE_ON_FREE, so evhttp does not close the
 * fd itself); under does not own the fd. upload_conn_free_cb takes the fd and
 * closes it, lingering a little first when the client may still be sending so
 * that an early answer (413) is not destroyed by a TCP reset.
 */

#define UPLOAD_LINE_MAX		4096	/* chunk-size and trailer lines passed on */
#define UPLOAD_LINGER_IDLE_S	2
#define UPLOAD_LINGER_TOTAL_S	10
#define UPLOAD_WRITE_RETRY_MS	50

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
	int			 refs;		/* the owner + one per connection */
	int			 closing;
	TAILQ_HEAD(, upload_linger) lingers;
};

struct upload_linger {
	TAILQ_ENTRY(upload_linger) entry;
	struct upload_server	*srv;
	struct event		*ev;
	int			 fd;
	struct timeval		 deadline;
};

struct upload_hdr {
	char	*key;
	char	*value;
	size_t	 start, end;	/* raw bytes, continuation lines included */
};

struct upload_head {
	char			*method, *uri, *version;
	int			 major, minor;
	struct evhttp_uri	*uri_elems;
	struct upload_hdr	*hdrs;
	size_t			 nhdrs;
	size_t			 line1_end;	/* just after the request line's LF */
	size_t			 blank_start;	/* the empty line ending the head */
	char			*buf;		/* tokens and unfolded values */
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

static TAILQ_HEAD(, upload_conn) upload_conns = TAILQ_HEAD_INITIALIZER(upload_conns);
static int upload_nconns;

static const char upload_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void	upload_server_unref(struct upload_server *srv);
static void	upload_want_write(struct upload_conn *c);
static void	upload_write_cb(evutil_socket_t fd, short what, void *arg);
static void	upload_eof_release(struct upload_conn *c);

static int
upload_alive(struct upload_conn *c)
{
	bufferevent_event_cb eventcb = NULL;

	/* bufferevent_free() clears the callbacks; evhttp keeps its own set otherwise */
	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
	return eventcb != NULL;
}

/* Hands evhttp what was released outside of the filter callback, if it is reading. */
static void
upload_deliver(struct upload_conn *c)
{
	bufferevent_data_cb readcb = NULL;

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 || !upload_alive(c))
		return;
	bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
	if (readcb != NULL && (bufferevent_get_enabled(c->bev) & EV_READ))
		bufferevent_trigger(c->bev, EV_READ, 0);
}

/* --- file names --- */

/* Length of the UTF-8 sequence at s (n bytes available), 0 if it is invalid. */
static size_t
upload_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t need, i;
	unsigned v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3, v = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

static size_t
upload_utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Characters that could break a header, a log line or how the name reads on screen. */
static int
upload_filename_drops(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == '"' || cp == '\'' ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

void
upload_sanitize_filename(const char *raw, char *out, size_t size)
{
	const unsigned char *s, *end;
	size_t limit, n = 0, k, start;
	unsigned cp;
	char enc[4];

	if (size == 0)
		return;
	limit = size - 1 < UPLOAD_FILENAME_MAX ? size - 1 : UPLOAD_FILENAME_MAX;
	if (raw == NULL)
		raw = "";
	s = (const unsigned char *)raw;
	for (end = s; *end != '\0'; end++) {
		if (*end == '/' || *end == '\\')
			s = end + 1;
	}
	while (s < end) {
		if ((k = upload_utf8_decode(s, (size_t)(end - s), &cp)) == 0) {
			cp = 0xfffd;
			k = 1;
		}
		s += k;
		if (upload_filename_drops(cp))
			continue;
		k = upload_utf8_encode(cp, enc);
		if (n + k > limit)
			break;
		memcpy(out + n, enc, k);
		n += k;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	for (start = 0; start < n && out[start] == ' '; start++)
		;
	memmove(out, out + start, n - start);
	n -= start;
	for (k = 0; k < n && out[k] == '.'; k++)
		;
	if (k == n) {
		/* empty, "." or ".." */
		snprintf(out, size, "upload");
		return;
	}
	out[n] = '\0';
}

/* --- request heads, read as evhttp reads them --- */

static void
upload_head_clear(struct upload_head *h)
{
	if (h->uri_elems != NULL)
		evhttp_uri_free(h->uri_elems);
	free(h->hdrs);
	free(h->buf);
	memset(h, 0, sizeof *h);
}

/* End of the line starting at i (index of its LF) and where its content ends. */
static int
upload_head_line(const char *raw, size_t len, size_t i, size_t *lf, size_t *end)
{
	const char *p = memchr(raw + i, '\n', len - i);

	if (p == NULL)
		return -1;
	*lf = (size_t)(p - raw);
	*end = *lf > i && raw[*lf - 1] == '\r' ? *lf - 1 : *lf;
	return 0;
}

/*
 * The request line as evhttp 2.1.12 reads it: trailing spaces dropped, at least
 * 14 bytes, the method up to the first space, the version after the last one,
 * the URI (spaces and all) in between.
 */
static int
upload_head_request_line(const char *raw, size_t len, struct upload_head *h)
{
	size_t lf, end, n;
	char *sp, ch;

	if ((h->buf = malloc(2 * len + 8)) == NULL)
		return -1;
	if (upload_head_line(raw, len, 0, &lf, &end) == -1)
		return -1;
	memcpy(h->buf, raw, end);
	h->buf[end] = '\0';
	h->line1_end = lf + 1;

	h->method = h->buf;
	n = strlen(h->method);
	while (n > 0 && h->method[n - 1] == ' ')
		h->method[--n] = '\0';
	if (n < strlen("GET / HTTP/1.0"))
		return -1;
	if ((sp = strchr(h->method, ' ')) == NULL)
		return -1;
	*sp = '\0';
	h->uri = sp + 1;
	if ((sp = strrchr(h->uri, ' ')) == NULL || sp == h->uri)
		return -1;
	*sp = '\0';
	h->version = sp + 1;
	n = (size_t)sscanf(h->version, "HTTP/%d.%d%c", &h->major, &h->minor, &ch);
	if (n != 2 || h->major > 1)
		return -1;
	h->uri_elems = evhttp_uri_parse_with_flags(h->uri, EVHTTP_URI_NONCONFORMANT);
	return h->uri_elems != NULL ? 0 : -1;
}

/* evhttp_header_is_valid_value(): a CR or LF may only start a continuation. */
static int
upload_head_value_valid(const char *v)
{
	while ((v = strpbrk(v, "\r\n")) != NULL) {
		v += strspn(v, "\r\n");
		if (*v != ' ' && *v != '\t')
			return 0;
	}
	return 1;
}

static void
upload_head_rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/*
 * Parses a complete head (request line, headers, empty line) with the rules of
 * evhttp_parse_headers_(): -1 where evhttp would refuse it as well. Values and
 * keys are C strings, cut at a NUL byte as evhttp's are.
 */
static int
upload_head_parse(const char *raw, size_t len, struct upload_head *h)
{
	struct upload_hdr *hdr, *grown;
	size_t i, lf, end, cap = 0, skip;
	char *w, *colon;

	memset(h, 0, sizeof *h);
	if (upload_head_request_line(raw, len, h) == -1)
		return -1;
	w = h->buf + h->line1_end;

	for (i = h->line1_end;; i = lf + 1) {
		if (upload_head_line(raw, len, i, &lf, &end) == -1)
			return -1;
		if (end == i) {
			h->blank_start = i;
			return 0;
		}
		if (raw[i] == ' ' || raw[i] == '\t') {
			/* evhttp_append_to_last_header(): the line trimmed on its own,
			 * joined with one space ("3" + " " + "" is "3 ", not "3") */
			if (h->nhdrs == 0)
				return -1;
			hdr = &h->hdrs[h->nhdrs - 1];
			skip = strspn(raw + i, " \t");
			if (skip > end - i)
				skip = end - i;
			w = hdr->value + strlen(hdr->value);
			*w++ = ' ';
			memcpy(w, raw + i + skip, end - i - skip);
			w[end - i - skip] = '\0';
			upload_head_rtrim(w);
			w += strlen(w) + 1;
			hdr->end = lf + 1;
			continue;
		}
		if (h->nhdrs == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(h->hdrs, cap * sizeof *grown)) == NULL)
				return -1;
			h->hdrs = grown;
		}
		hdr = &h->hdrs[h->nhdrs++];
		hdr->start = i;
		hdr->end = lf + 1;
		memcpy(w, raw + i, end - i);
		w[end - i] = '\0';
		if ((colon = strchr(w, ':')) == NULL)
			return -1;
		*colon = '\0';
		hdr->key = w;
		hdr->value = colon + 1 + strspn(colon + 1, " ");
		upload_head_rtrim(hdr->value);
		if (strpbrk(hdr->key, "\r\n") != NULL ||
		    !upload_head_value_valid(hdr->value))
			return -1;
		w += end - i + 1;
	}
}

/* evhttp_find_header(): the first one wins. */
static const char *
upload_head_get(const struct upload_head *h, const char *key)
{
	size_t i;

	for (i = 0; i < h->nhdrs; i++) {
		if (strcasecmp(h->hdrs[i].key, key) == 0)
			return h->hdrs[i].value;
	}
	return NULL;
}

/* Headers named key, also with blanks around the name that evhttp would not match. */
static int
upload_head_named(const struct upload_hdr *hdr, const char *key)
{
	const char *k = hdr->key + strspn(hdr->key, " \t");
	size_t n = strlen(key);

	return strncasecmp(k, key, n) == 0 && k[n + strspn(k + n, " \t")] == '\0';
}

/* How many headers are named key; loose: also with blanks around the name. */
static int
upload_head_count(const struct upload_head *h, const char *key, int loose)
{
	size_t i;
	int n = 0;

	for (i = 0; i < h->nhdrs; i++) {
		if (loose)
			n += upload_head_named(&h->hdrs[i], key);
		else
			n += strcasecmp(h->hdrs[i].key, key) == 0;
	}
	return n;
}

/* The request evhttp would route to the /upload callback, as a POST. */
static int
upload_head_is_upload(const struct upload_head *h)
{
	const char *path;
	char *decoded;
	int yes;

	if (strcmp(h->method, "POST") != 0)
		return 0;
	if ((path = evhttp_uri_get_path(h->uri_elems)) == NULL)
		return 0;
	/* evhttp_dispatch_callback() %-decodes the path and compares it as a C string */
	if ((decoded = evhttp_uridecode(path, 0, NULL)) == NULL)
		return 0;
	yes = strcmp(decoded, UPLOAD_PATH) == 0;
	free(decoded);
	return yes;
}

/*
 * Looks for the end of the head at the front of src: 1 once complete
 * (c->head_len), 0 while not, -1 past UPLOAD_HEAD_MAX, -2 out of memory.
 */
static int
upload_head_find(struct upload_conn *c, struct evbuffer *src)
{
	size_t have = evbuffer_get_length(src), want, i, n;
	struct evbuffer_ptr pos;

	want = have < UPLOAD_HEAD_MAX ? have : UPLOAD_HEAD_MAX;
	if (c->head_got < want) {
		if (c->head_buf == NULL &&
		    (c->head_buf = malloc(UPLOAD_HEAD_MAX + 1)) == NULL)
			return -2;
		if (evbuffer_ptr_set(src, &pos, c->head_got, EVBUFFER_PTR_SET) == -1 ||
		    evbuffer_copyout_from(src, &pos, c->head_buf + c->head_got,
		    want - c->head_got) != (ev_ssize_t)(want - c->head_got))
			return -2;
		for (i = c->head_got; i < want; i++) {
			if (c->head_buf[i] != '\n')
				continue;
			n = i - c->head_line;
			if (c->head_line1 == 0)
				c->head_line1 = i + 1;
			else if (n == 0 || (n == 1 && c->head_buf[i - 1] == '\r')) {
				c->head_len = i + 1;
				return 1;
			}
			c->head_line = i + 1;
		}
		c->head_got = want;
	}
	return have >= UPLOAD_HEAD_MAX ? -1 : 0;
}

static void
upload_head_reset(struct upload_conn *c)
{
	free(c->head_buf);
	c->head_buf = NULL;
	c->head_got = c->head_line = c->head_line1 = c->head_len = 0;
}

/* --- the body clock --- */

/*
 * Slow clients. A request body's own bytes restart evhttp's read timeout, so a
 * client sending one byte a second would hold its connection (and an upload's
 * spool file) for ever. A body gets the idle time between two reads and, in
 * all, the idle time plus one second per min_rate bytes received (Apache's
 * mod_reqtimeout MinRate): anything faster than min_rate never notices. A head
 * needs no clock here: the filter releases nothing of it until it is complete,
 * so evhttp's read timeout bounds a trickled head on its own.
 */

static int
upload_in_body(enum upload_state state)
{
	return state == UPLOAD_SPOOL || state == UPLOAD_PASS_BODY ||
	    state == UPLOAD_PASS_CHUNK_SIZE || state == UPLOAD_PASS_CHUNK_DATA ||
	    state == UPLOAD_PASS_TRAILER;
}

/* When the body turns idle, and when it is too slow. */
static void
upload_body_limits(const struct upload_conn *c, struct timeval *idle_at,
    struct timeval *slow_at)
{
	int64_t rate = c->srv->min_rate;
	struct timeval extra;

	evutil_timeradd(&c->body_last, &c->srv->idle, idle_at);
	extra.tv_sec = (time_t)(c->body_got / rate);
	extra.tv_usec = (suseconds_t)(c->body_got % rate * 1000000 / rate);
	evutil_timeradd(&c->body_start, &c->srv->idle, slow_at);
	evutil_timeradd(slow_at, &extra, slow_at);
}

static void
upload_body_arm(struct upload_conn *c)
{
	struct timeval now, idle_at, slow_at, wait = { 0, 0 };

	event_base_gettimeofday_cached(c->srv->base, &now);
	upload_body_limits(c, &idle_at, &slow_at);
	if (evutil_timercmp(&slow_at, &idle_at, <))
		idle_at = slow_at;
	if (evutil_timercmp(&idle_at, &now, >))
		evutil_timersub(&idle_at, &now, &wait);
	evtimer_add(c->idle_ev, &wait);
}

static void
upload_body_start(struct upload_conn *c)
{
	event_base_gettimeofday_cached(c->srv->base, &c->body_start);
	c->body_last = c->body_start;
	c->body_got = 0;
	upload_body_arm(c);
}

static void
upload_body_got(struct upload_conn *c, size_t n)
{
	if (n == 0 || !upload_in_body(c->state))
		return;
	c->body_got += (int64_t)n;
	event_base_gettimeofday_cached(c->srv->base, &c->body_last);
	upload_body_arm(c);
}

/* --- spooling --- */

/* The upload's reservation ends; kept bytes of its spool file stay counted. */
static void
upload_settle(struct upload_conn *c, int64_t kept)
{
	if (c->srv->quota != NULL && c->reserved > 0)
		quota_settle(c->srv->quota, c->reserved, kept);
	c->reserved = 0;
}

static void
upload_spool_abort(struct upload_conn *c)
{
	upload_settle(c, 0);
	if (c->spool_fd != -1) {
		close(c->spool_fd);
		c->spool_fd = -1;
	}
	if (c->res.path[0] != '\0' && !c->ready) {
		if (unlink(c->res.path) == -1 && errno != ENOENT)
			log_warn("cannot remove spool file %s: %s", c->res.path,
			    strerror(errno));
		c->res.path[0] = '\0';
	}
	if (c->mp != NULL) {
		multipart_free(c->mp);
		c->mp = NULL;
	}
	if (c->idle_ev != NULL)
		evtimer_del(c->idle_ev);
}

/* A result the handler never took: its file goes. */
static void
upload_drop_result(struct upload_conn *c)
{
	if (!c->ready)
		return;
	c->ready = 0;
	if (c->res.status == 0 && c->res.path[0] != '\0') {
		log_warn("upload %s was not taken by a handler, removing it",
		    c->res.path);
		if (c->srv->quota != NULL)
			quota_settle(c->srv->quota, 0, -c->res.size);
		if (unlink(c->res.path) == -1 && errno != ENOENT)
			log_warn("cannot remove spool file %s: %s", c->res.path,
			    strerror(errno));
	}
	memset(&c->res, 0, sizeof c->res);
}

/* Storage full is 507; anything else about the spool directory is ours: 500. */
static int
upload_disk_status(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG ? 507 : 500;
}

static void
upload_fail(struct upload_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
upload_fail(struct upload_conn *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->fail_status != 0)
		return;
	c->fail_status = status;
	va_start(ap, fmt);
	vsnprintf(c->fail_reason, sizeof c->fail_reason, fmt, ap);
	va_end(ap);
}

static int
upload_spool_open(struct upload_conn *c)
{
	unsigned char rnd[12];
	char name[64];
	int tries, n;
	size_t i;

	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			upload_fail(c, 500, "cannot get random bytes for a spool file "
			    "name: %s", strerror(errno));
			return -1;
		}
		n = snprintf(name, sizeof name, "upload-");
		for (i = 0; i < sizeof rnd; i++)
			n += snprintf(name + n, sizeof name - (size_t)n, "%02x", rnd[i]);
		snprintf(name + n, sizeof name - (size_t)n, ".part");
		if ((size_t)snprintf(c->res.path, sizeof c->res.path, "%s/%s",
		    c->srv->spool_dir, name) >= sizeof c->res.path) {
			upload_fail(c, 500, "spool directory path is too long");
			c->res.path[0] = '\0';
			return -1;
		}
		c->spool_fd = open(c->res.path, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (c->spool_fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	upload_fail(c, upload_disk_status(errno), "cannot create spool file %s: %s",
	    c->res.path, strerror(errno));
	c->res.path[0] = '\0';
	return -1;
}

static int
upload_part_begin_cb(const struct multipart_part *part, void *arg)
{
	struct upload_conn *c = arg;

	if (strcmp(part->name, UPLOAD_FIELD) != 0)
		return 0;
	if (c->file_parts++ > 0) {
		upload_fail(c, 400, "the form has two \"" UPLOAD_FIELD "\" fields");
		return -1;
	}
	upload_sanitize_filename(part->filename, c->res.filename,
	    sizeof c->res.filename);
	if (upload_spool_open(c) == -1)
		return -1;
	c->in_file = 1;
	return 0;
}

static int
upload_part_data_cb(const char *data, size_t len, void *arg)
{
	struct upload_conn *c = arg;
	ssize_t n;

	if (!c->in_file)
		return 0;
	while (len > 0) {
		if ((n = write(c->spool_fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			upload_fail(c, upload_disk_status(errno), "cannot write "
			    "upload to %s: %s", c->res.path, strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
		c->res.size += n;
	}
	return 0;
}

static int
upload_part_end_cb(void *arg)
{
	struct upload_conn *c = arg;

	c->in_file = 0;
	return 0;
}

/*
 * Releases the held upload head to evhttp with the outcome for upload_take().
 * hangup: the body was not read to its end, so what follows is not HTTP.
 */
static void
upload_answer(struct upload_conn *c, struct evbuffer *dst, int status, int hangup,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
upload_answer(struct upload_conn *c, struct evbuffer *dst, int status, int hangup,
    const char *fmt, ...)
{
	va_list ap;

	c->res.status = status;
	c->res_close = hangup;
	if (status != 0) {
		va_start(ap, fmt);
		vsnprintf(c->res.error, sizeof c->res.error, fmt, ap);
		va_end(ap);
		log_warn("upload refused with %d: %s", status, c->res.error);
		upload_spool_abort(c);
		c->res.size = 0;
	} else {
		upload_settle(c, c->res.size);
		log_info("upload of %lld bytes (\"%s\") spooled to %s",
		    (long long)c->res.size, c->res.filename, c->res.path);
	}
	if (c->res.filename[0] == '\0')
		snprintf(c->res.filename, sizeof c->res.filename, "upload");
	evbuffer_add_buffer(dst, c->held);
	c->ready = 1;
	c->state = hangup ? UPLOAD_DISCARD_ALL : UPLOAD_HEAD;
}

/* The whole announced body went through the parser. */
static void
upload_spool_end(struct upload_conn *c, struct evbuffer *dst)
{
	char err[256];

	evtimer_del(c->idle_ev);
	if (multipart_finish(c->mp, err, sizeof err) == -1) {
		upload_answer(c, dst, 400, 0, "malformed multipart body: %s", err);
		return;
	}
	if (c->file_parts == 0) {
		upload_answer(c, dst, 400, 0, "the form has no \"" UPLOAD_FIELD
		    "\" field");
		return;
	}
	if (close(c->spool_fd) == -1) {
		c->spool_fd = -1;
		upload_answer(c, dst, upload_disk_status(errno), 0, "cannot write "
		    "upload to %s: %s", c->res.path, strerror(errno));
		return;
	}
	c->spool_fd = -1;
	multipart_free(c->mp);
	c->mp = NULL;
	upload_answer(c, dst, 0, 0, "done");
}

/* Feeds body bytes to the parser; 1 if any were consumed. */
static int
upload_spool(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct evbuffer_iovec v[8];
	char err[256];
	size_t want, fed = 0, n;
	int i, nv, r = 0;

	while (c->remaining > 0 && (want = evbuffer_get_length(src)) > 0) {
		if ((int64_t)want > c->remaining)
			want = (size_t)c->remaining;
		nv = evbuffer_peek(src, (ev_ssize_t)want, NULL, v, 8);
		if (nv > 8)
			nv = 8;
		for (n = 0, i = 0; i < nv && n < want && r == 0; i++) {
			size_t len = v[i].iov_len < want - n ? v[i].iov_len : want - n;

			r = multipart_feed(c->mp, v[i].iov_base, len, err, sizeof err);
			n += len;
		}
		if (n == 0)
			break;
		evbuffer_drain(src, n);
		c->remaining -= (int64_t)n;
		fed += n;
		if (r == -1) {
			if (c->fail_status != 0)
				upload_answer(c, dst, c->fail_status, c->remaining > 0,
				    "%s", c->fail_reason);
			else
				upload_answer(c, dst, 400, c->remaining > 0,
				    "malformed multipart body: %s", err);
			return 1;
		}
	}
	upload_body_got(c, fed);
	if (c->remaining == 0)
		upload_spool_end(c, dst);
	return fed > 0;
}

/* Sends "100 Continue" when nothing else can be on the way out. */
static void
upload_send_continue(struct upload_conn *c, const struct upload_head *h)
{
	bufferevent_data_cb readcb = NULL;
	const char *expect = upload_head_get(h, "Expect");
	short enabled = bufferevent_get_enabled(c->bev);
	ssize_t n;
	int fd;

	if (expect == NULL || strcasecmp(expect, "100-continue") != 0 ||
	    h->major != 1 || h->minor < 1)
		return;
	/* evhttp idle in READING_FIRSTLINE: nothing of an earlier reply is pending */
	bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
	if (readcb == NULL || !(enabled & EV_READ) || (enabled & EV_WRITE) ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    (fd = bufferevent_getfd(c->under)) == -1)
		return;
	c->cont = upload_continue;
	c->cont_left = sizeof upload_continue - 1;
	n = send(fd, c->cont, c->cont_left, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		c->cont += n;
		c->cont_left -= (size_t)n;
	}
	if (c->cont_left > 0)
		upload_want_write(c);
}

/* Copies the head for evhttp without the body framing, with Content-Length: 0. */
static int
upload_hold_head(struct upload_conn *c, const char *raw, const struct upload_head *h)
{
	size_t i;
	int r = 0;

	if (c->held == NULL && (c->held = evbuffer_new()) == NULL)
		return -1;
	evbuffer_drain(c->held, evbuffer_get_length(c->held));
	r |= evbuffer_add(c->held, raw, h->line1_end);
	r |= evbuffer_add(c->held, "Content-Length: 0\r\n", 19);
	for (i = 0; i < h->nhdrs; i++) {
		if (upload_head_named(&h->hdrs[i], "Content-Length") ||
		    upload_head_named(&h->hdrs[i], "Transfer-Encoding") ||
		    upload_head_named(&h->hdrs[i], "Expect"))
			continue;
		r |= evbuffer_add(c->held, raw + h->hdrs[i].start,
		    h->hdrs[i].end - h->hdrs[i].start);
	}
	if (h->blank_start > 0)
		r |= evbuffer_add(c->held, raw + h->blank_start,
		    c->head_len - h->blank_start);
	else
		r |= evbuffer_add(c->held, "\r\n", 2);
	return r == 0 ? 0 : -1;
}

/* Strict Content-Length for uploads: digits only, no sign, no overflow. */
static int
upload_content_length(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* An upload head: check what it announces, then spool or answer at once. */
static void
upload_begin(struct upload_conn *c, const struct upload_head *h, struct evbuffer *dst)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1], err[256], what[64];
	const char *cl, *ct;
	struct multipart_cbs cbs;
	int64_t len;

	upload_drop_result(c);
	memset(&c->res, 0, sizeof c->res);
	c->fail_status = 0;
	c->fail_reason[0] = '\0';
	c->file_parts = c->in_file = 0;

	if (upload_head_count(h, "Transfer-Encoding", 1) > 0) {
		upload_answer(c, dst, 411, 1, "uploads need a Content-Length; "
		    "Transfer-Encoding is not accepted");
		return;
	}
	if (upload_head_count(h, "Content-Length", 1) == 0) {
		upload_answer(c, dst, 411, 1, "uploads need a Content-Length");
		return;
	}
	cl = upload_head_get(h, "Content-Length");
	if (upload_head_count(h, "Content-Length", 1) > 1 || cl == NULL ||
	    upload_content_length(cl, &len) == -1) {
		upload_answer(c, dst, 400, 1, "Content-Length is not one plain number");
		return;
	}
	if (len > c->srv->max_bytes) {
		upload_answer(c, dst, 413, 1, "upload of %lld bytes exceeds the limit "
		    "of %lld bytes", (long long)len, (long long)c->srv->max_bytes);
		return;
	}
	snprintf(what, sizeof what, "an upload of %lld bytes", (long long)len);
	if (c->srv->quota != NULL &&
	    quota_reserve(c->srv->quota, len, what, err, sizeof err) == -1) {
		upload_answer(c, dst, 507, 1, "%s", err);
		return;
	}
	c->reserved = len;
	ct = upload_head_get(h, "Content-Type");
	if (!multipart_is_form_data(ct)) {
		upload_answer(c, dst, 415, 1, "uploads must be multipart/form-data");
		return;
	}
	if (multipart_boundary(ct, boundary, sizeof boundary, err, sizeof err) == -1) {
		upload_answer(c, dst, 400, 1, "%s", err);
		return;
	}
	cbs.begin_cb = upload_part_begin_cb;
	cbs.data_cb = upload_part_data_cb;
	cbs.end_cb = upload_part_end_cb;
	if ((c->mp = multipart_new(boundary, &cbs, c, err, sizeof err)) == NULL) {
		upload_answer(c, dst, 500, 1, "%s", err);
		return;
	}
	c->remaining = len;
	c->state = UPLOAD_SPOOL;
	upload_body_start(c);
	if (len == 0)
		upload_spool_end(c, dst);
	else
		upload_send_continue(c, h);
}

/*
 * Methods whose requests evhttp 2.1.12 reads a Content-Length body for (found
 * by probing the library: TRACE, HEAD and unknown methods get none).
 */
static int
upload_method_has_body(const char *method)
{
	static const char *const with_body[] = {
		"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT"
	};
	size_t i;

	for (i = 0; i < sizeof with_body / sizeof with_body[0]; i++) {
		if (strcmp(method, with_body[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * How the installed evhttp (Debian's 2.1.12 with its security fixes) frames a
 * request that is not ours, found by probing it: a repeated Transfer-Encoding,
 * or one next to a Content-Length, is refused whatever the method; a lone
 * "chunked" means chunked; no Content-Length means no body; the first
 * Content-Length counts, read by strtoll().
 */
static void
upload_pass_framing(struct upload_conn *c, const struct upload_head *h)
{
	const char *te, *cl;
	char *end;
	long long n;

	c->state = UPLOAD_HEAD;
	te = upload_head_get(h, "Transfer-Encoding");
	cl = upload_head_get(h, "Content-Length");
	if (upload_head_count(h, "Transfer-Encoding", 0) > 1 ||
	    (te != NULL && cl != NULL)) {
		c->state = UPLOAD_PASS_ALL;	/* evhttp refuses it */
		return;
	}
	if (!upload_method_has_body(h->method))
		return;
	if (te != NULL && strcasecmp(te, "chunked") == 0) {
		c->state = UPLOAD_PASS_CHUNK_SIZE;
		upload_body_start(c);
		return;
	}
	if (cl == NULL)
		return;
	n = strtoll(cl, &end, 10);
	if (*cl == '\0' || *end != '\0' || n < 0)
		c->state = UPLOAD_PASS_ALL;
	else if (n > 0) {
		c->remaining = n;
		c->state = UPLOAD_PASS_BODY;
		upload_body_start(c);
	}
}

/*
 * Answers a request evhttp would answer in HTML, or not at all (a head too large, a method it
 * does not know, a body over its limit), with a JSON error from here, then closes: evhttp never
 * sees the request.
 */
static void
upload_refuse(struct upload_conn *c, int status, const char *allow, const char *detail)
{
	char body[512];
	int n, len;

	log_warn("request refused with %d: %s", status, detail);
	len = snprintf(body, sizeof body, "{\"error\":\"%s\",\"detail\":\"%s\"}",
	    http_reason(status), detail);
	free(c->refusal);
	c->refusal = malloc(1024);
	c->state = UPLOAD_DISCARD_ALL;
	if (c->refusal == NULL) {
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		return;
	}
	n = snprintf(c->refusal, 1024, "HTTP/1.1 %d %s\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n%s%s%s\r\n%s", status,
	    http_reason(status), len, allow != NULL ? "Allow: " : "", allow != NULL ? allow : "",
	    allow != NULL ? "\r\n" : "", body);
	c->cont = c->refusal;
	c->cont_left = (size_t)n;
	upload_want_write(c);
}

/* 0 when evhttp may have the method; else the refusal has been sent. */
static int
upload_method_check(struct upload_conn *c, const char *method)
{
	static const char *const served[] = {
		"GET", "HEAD", "POST", "DELETE", "OPTIONS", "PUT", "PATCH"
	};
	size_t i;

	for (i = 0; i < sizeof served / sizeof served[0]; i++)
		if (strcmp(method, served[i]) == 0)
			return 0;
	/* methods HTTP defines get 405 with what is served; the rest are not implemented */
	if (strcmp(method, "TRACE") == 0 || strcmp(method, "CONNECT") == 0)
		upload_refuse(c, 405, "GET, HEAD, POST, DELETE, OPTIONS",
		    "this server does not support this method");
	else
		upload_refuse(c, 501, NULL, "unknown request method");
	return -1;
}

/* A complete head is at the front of src. */
static void
upload_head_done(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct upload_head h;

	if (upload_head_parse(c->head_buf, c->head_len, &h) == -1 ||
	    !upload_head_is_upload(&h)) {
		upload_drop_result(c);
		if (h.method == NULL || h.uri_elems == NULL || h.blank_start == 0) {
			upload_refuse(c, 400, NULL, "malformed request line or header");
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		if (upload_method_check(c, h.method) == -1) {
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		upload_pass_framing(c, &h);
		if (c->state == UPLOAD_PASS_BODY && c->remaining > UPLOAD_BODY_MAX) {
			upload_refuse(c, 413, NULL, "the request body is larger than the 1 MiB allowed "
			    "here (uploads go to POST /upload)");
			evbuffer_drain(src, c->head_len);
			goto done;
		}
		evbuffer_remove_buffer(src, dst, c->head_len);
		goto done;
	}
	if (upload_hold_head(c, c->head_buf, &h) == -1) {
		log_error("cannot hold an upload head: out of memory");
		c->state = UPLOAD_DISCARD_ALL;
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		goto done;
	}
	evbuffer_drain(src, c->head_len);
	upload_begin(c, &h, dst);
done:
	upload_head_clear(&h);
	upload_head_reset(c);
}

/* No end of head within UPLOAD_HEAD_MAX bytes. */
static void
upload_head_oversized(struct upload_conn *c, struct evbuffer *dst)
{
	struct upload_head h;

	memset(&h, 0, sizeof h);
	if (c->head_line1 > 0 &&
	    upload_head_request_line(c->head_buf, c->head_line1, &h) == 0 &&
	    upload_head_is_upload(&h) && upload_hold_head(c, c->head_buf, &h) == 0) {
		upload_drop_result(c);
		memset(&c->res, 0, sizeof c->res);
		upload_answer(c, dst, 431, 1, "request head exceeds %d bytes",
		    UPLOAD_HEAD_MAX);
	} else if (c->head_line1 == 0) {
		upload_refuse(c, 414, NULL, "the request line exceeds 16384 bytes");
	} else {
		upload_refuse(c, 431, NULL, "the request head exceeds 16384 bytes");
	}
	upload_head_clear(&h);
	upload_head_reset(c);
}

/* Moves one line of a passed-on chunked body; 1 with it in c->line, 0 if incomplete. */
static int
upload_pass_line(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	struct evbuffer_ptr eol;
	size_t eol_len = 0, n;

	eol = evbuffer_search_eol(src, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1) {
		if (evbuffer_get_length(src) > UPLOAD_LINE_MAX)
			c->state = UPLOAD_PASS_ALL;
		return 0;
	}
	n = (size_t)eol.pos;
	if (n > UPLOAD_LINE_MAX) {
		c->state = UPLOAD_PASS_ALL;
		return 0;
	}
	evbuffer_copyout(src, c->line, n);
	c->line[n] = '\0';
	evbuffer_remove_buffer(src, dst, n + eol_len);
	upload_body_got(c, n + eol_len);
	return 1;
}

/* evhttp_handle_chunked_read(): a size line, or an empty line between chunks. */
static void
upload_pass_chunk_size(struct upload_conn *c)
{
	char *end;
	long long n;

	if (c->line[0] == '\0')
		return;
	n = strtoll(c->line, &end, 16);
	if ((*end != '\0' && *end != ' ') || n < 0)
		c->state = UPLOAD_PASS_ALL;
	else if (n == 0)
		c->state = UPLOAD_PASS_TRAILER;
	else {
		c->remaining = n;
		c->state = UPLOAD_PASS_CHUNK_DATA;
	}
}

/*
 * Moves what it can from src (the socket) to dst (evhttp's input); 1 if
 * anything was consumed.
 */
static int
upload_input(struct upload_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n;
	int progress = 0, r;

	for (;;) {
		switch (c->state) {
		case UPLOAD_HEAD:
			if (evbuffer_get_length(src) == 0)
				return progress;
			if (evbuffer_get_length(dst) > 0) {
				c->gated = 1;
				return progress;
			}
			c->gated = 0;
			if ((r = upload_head_find(c, src)) == 0)
				return progress;
			if (r == -2) {
				log_error("cannot read a request head: out of memory");
				c->state = UPLOAD_DISCARD_ALL;
				c->kill = 1;
				event_active(c->kick_ev, EV_TIMEOUT, 0);
			} else if (r == -1)
				upload_head_oversized(c, dst);
			else
				upload_head_done(c, src, dst);
			progress = 1;
			break;
		case UPLOAD_PASS_BODY:
		case UPLOAD_PASS_CHUNK_DATA:
			n = evbuffer_get_length(src);
			if (n == 0)
				return progress;
			if ((int64_t)n > c->remaining)
				n = (size_t)c->remaining;
			evbuffer_remove_buffer(src, dst, n);
			c->remaining -= (int64_t)n;
			upload_body_got(c, n);
			progress = 1;
			if (c->remaining == 0)
				c->state = c->state == UPLOAD_PASS_BODY ? UPLOAD_HEAD :
				    UPLOAD_PASS_CHUNK_SIZE;
			break;
		case UPLOAD_PASS_CHUNK_SIZE:
		case UPLOAD_PASS_TRAILER:
			if (!upload_pass_line(c, src, dst))
				return progress;
			progress = 1;
			if (c->state == UPLOAD_PASS_CHUNK_SIZE)
				upload_pass_chunk_size(c);
			else if (c->line[0] == '\0')
				c->state = UPLOAD_HEAD;
			break;
		case UPLOAD_PASS_ALL:
			if (evbuffer_get_length(src) == 0)
				return progress;
			evbuffer_add_buffer(dst, src);
			return 1;
		case UPLOAD_SPOOL:
			if (!upload_spool(c, src, dst))
				return progress;
			progress = 1;
			break;
		case UPLOAD_DISCARD_ALL:
			if ((n = evbuffer_get_length(src)) == 0)
				return progress;
			evbuffer_drain(src, n);
			return 1;
		}
	}
}

static enum bufferevent_filter_result
upload_filter_in_cb(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	/* BEV_OK also restarts evhttp's read timeout: a progressing upload lives on */
	return upload_input(arg, src, dst) ? BEV_OK : BEV_NEED_MORE;
}

/* evhttp drained its input: a head held at the gate may go on. */
static void
upload_input_drained_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct upload_conn *c = arg;

	if (c->gated && info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		event_active(c->kick_ev, EV_TIMEOUT, 0);
}

static void
upload_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;

	if (!upload_alive(c))
		return;
	bufferevent_incref(c->bev);
	if (c->kill) {
		bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, 0);
	} else {
		upload_input(c, bufferevent_get_input(c->under),
		    bufferevent_get_input(c->bev));
		upload_deliver(c);
		upload_eof_release(c);
	}
	bufferevent_decref(c->bev);
}

/* The body clock ran out: an upload is answered 408, another body hung up on. */
static void
upload_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;
	struct timeval idle_at, slow_at, took;
	char why[128];

	if (!upload_alive(c) || !upload_in_body(c->state))
		return;
	if (!(bufferevent_get_enabled(c->bev) & EV_READ)) {
		/* evhttp is busy with an earlier request and not reading: the
		 * client is not to blame, its clock starts again */
		upload_body_start(c);
		return;
	}
	upload_body_limits(c, &idle_at, &slow_at);
	evutil_timersub(&c->body_last, &c->body_start, &took);
	if (evutil_timercmp(&slow_at, &idle_at, <))
		snprintf(why, sizeof why, "was too slow: %lld bytes in %ld s, under "
		    "%lld bytes/s", (long long)c->body_got, (long)took.tv_sec,
		    (long long)c->srv->min_rate);
	else
		snprintf(why, sizeof why, "sent no data for %ld s",
		    (long)c->srv->idle.tv_sec);
	if (c->state != UPLOAD_SPOOL) {
		log_warn("a request body %s: dropping the connection", why);
		c->state = UPLOAD_DISCARD_ALL;
		c->kill = 1;
		event_active(c->kick_ev, EV_TIMEOUT, 0);
		return;
	}
	bufferevent_incref(c->bev);
	upload_answer(c, bufferevent_get_input(c->bev), 408, 1, "the upload %s", why);
	upload_deliver(c);
	bufferevent_decref(c->bev);
}

/* --- half-close --- */

/* 1 while something of the client's is unanswered: its reply being written, or request
 * bytes evhttp has not taken yet. */
static int
upload_owes_reply(struct upload_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->under)) > 0 || c->cont_left > 0;
}

/* Tells evhttp of a held end of input once nothing is owed any more. */
static void
upload_eof_release(struct upload_conn *c)
{
	if (!c->eof_held || !upload_alive(c) || upload_owes_reply(c))
		return;
	c->eof_held = 0;
	c->under_event(c->under, BEV_EVENT_READING | BEV_EVENT_EOF, c->under_arg);
}

static void
upload_under_read_cb(struct bufferevent *under, void *arg)
{
	struct upload_conn *c = arg;

	c->under_read(under, c->under_arg);
}

static void
upload_under_write_cb(struct bufferevent *under, void *arg)
{
	struct upload_conn *c = arg;

	c->under_write(under, c->under_arg);
}

/*
 * A client may send its request and shut its sending side (`nc -N`, shutdown(SHUT_WR)): the
 * end of input then arrives while the reply is still on its way, and evhttp, told at once,
 * would drop the connection with it. The end is held until the reply is out.
 */
static void
upload_under_event_cb(struct bufferevent *under, short what, void *arg)
{
	struct upload_conn *c = arg;

	if ((what & BEV_EVENT_READING) && (what & BEV_EVENT_EOF) && upload_alive(c) &&
	    upload_owes_reply(c)) {
		c->eof_held = 1;
		return;
	}
	c->under_event(under, what, c->under_arg);
}

/* --- output --- */

/* Watches the fd for room to write: evhttp's output or the rest of "100 Continue". */
static void
upload_want_write(struct upload_conn *c)
{
	int fd;

	if (c->write_ev == NULL) {
		if ((fd = bufferevent_getfd(c->under)) == -1)
			return;
		c->write_ev = event_new(c->srv->base, fd, EV_WRITE | EV_PERSIST,
		    upload_write_cb, c);
		if (c->write_ev == NULL) {
			log_error("cannot create a write event: out of memory");
			return;
		}
	}
	if (!event_pending(c->write_ev, EV_WRITE, NULL))
		event_add(c->write_ev, NULL);
}

static void
upload_output_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	if (info->n_added > 0)
		upload_want_write(arg);
}

static enum bufferevent_filter_result
upload_filter_out_cb(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct upload_conn *c = arg;
	int n;

	/* only from upload_write_cb: a write reported from inside evbuffer_add()
	 * would run evhttp's completion callback before evhttp has set it */
	if (!c->writing || c->cont_left > 0) {
		upload_want_write(c);
		return BEV_NEED_MORE;
	}
	n = evbuffer_write(src, bufferevent_getfd(c->under));
	if (n > 0)
		return BEV_OK;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		c->write_errno = errno;
		return BEV_ERROR;
	}
	return BEV_NEED_MORE;
}

static void
upload_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;

	if (upload_alive(c) && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		upload_want_write(c);
}

static void
upload_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_conn *c = arg;
	struct timeval retry = { 0, UPLOAD_WRITE_RETRY_MS * 1000 };
	ssize_t n;

	if (!upload_alive(c)) {
		event_del(c->write_ev);
		return;
	}
	bufferevent_incref(c->bev);
	if (c->cont_left > 0) {
		n = send(fd, c->cont, c->cont_left, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->cont += n;
			c->cont_left -= (size_t)n;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR)
			c->cont_left = 0;	/* the reading side will see the error */
		if (c->cont_left > 0)
			goto done;
		if (c->refusal != NULL) {
			/* said all there is to say: hang up (lingering, so that it is read) */
			event_del(c->write_ev);
			c->kill = 1;
			event_active(c->kick_ev, EV_TIMEOUT, 0);
			goto done;
		}
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		event_del(c->write_ev);
		goto done;
	}
	if (!(bufferevent_get_enabled(c->bev) & EV_WRITE)) {
		/* evhttp enables writing right after queueing; look again soon */
		event_del(c->write_ev);
		evtimer_add(c->retry_ev, &retry);
		goto done;
	}
	c->writing = 1;
	bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
	c->writing = 0;
	if (!upload_alive(c)) {
		event_del(c->write_ev);
	} else if (c->write_errno != 0) {
		event_del(c->write_ev);
		errno = c->write_errno;
		bufferevent_trigger_event(c->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR, 0);
	} else if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		event_del(c->write_ev);
		upload_eof_release(c);
	}
done:
	bufferevent_decref(c->bev);
}

/* --- teardown --- */

static void
upload_linger_end(struct upload_linger *l)
{
	TAILQ_REMOVE(&l->srv->lingers, l, entry);
	event_free(l->ev);
	close(l->fd);
	upload_server_unref(l->srv);
	free(l);
}

static void
upload_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_linger *l = arg;
	static char sink[64 * 1024];
	struct timeval now;
	ssize_t n;

	gettimeofday(&now, NULL);
	if (what & EV_TIMEOUT || timercmp(&now, &l->deadline, >)) {
		upload_linger_end(l);
		return;
	}
	while ((n = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		upload_linger_end(l);
}

/*
 * Closes fd once the client stopped sending (or after a bound): closing with
 * unread input makes the kernel send a reset, and a client still sending its
 * body may then lose the reply that was already on its way.
 */
static void
upload_linger(struct upload_server *srv, int fd)
{
	struct timeval idle = { UPLOAD_LINGER_IDLE_S, 0 }, now;
	struct upload_linger *l;

	shutdown(fd, SHUT_WR);
	if (srv->closing || (l = calloc(1, sizeof *l)) == NULL) {
		close(fd);
		return;
	}
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, upload_linger_cb, l);
	if (l->ev == NULL || event_add(l->ev, &idle) == -1) {
		if (l->ev != NULL)
			event_free(l->ev);
		free(l);
		close(fd);
		return;
	}
	l->fd = fd;
	l->srv = srv;
	srv->refs++;
	gettimeofday(&now, NULL);
	l->deadline = now;
	l->deadline.tv_sec += UPLOAD_LINGER_TOTAL_S;
	TAILQ_INSERT_TAIL(&srv->lingers, l, entry);
}

/* bev's context destructor: runs when libevent finalizes bev, after evhttp freed it. */
static void
upload_conn_free_cb(void *arg)
{
	struct upload_conn *c = arg;
	int fd, pending = 0, mid_upload;

	TAILQ_REMOVE(&upload_conns, c, entry);
	upload_nconns--;
	mid_upload = c->state == UPLOAD_SPOOL || c->state == UPLOAD_DISCARD_ALL;
	upload_spool_abort(c);
	upload_drop_result(c);
	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	if (c->kick_ev != NULL)
		event_free(c->kick_ev);
	if (c->idle_ev != NULL)
		event_free(c->idle_ev);
	if (c->write_ev != NULL)
		event_free(c->write_ev);
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	if (c->held != NULL)
		evbuffer_free(c->held);
	free(c->refusal);
	upload_head_reset(c);

	/* under is still referenced by bev here; it does not own the fd */
	if ((fd = bufferevent_getfd(c->under)) != -1) {
		bufferevent_setfd(c->under, -1);
		if (ioctl(fd, FIONREAD, &pending) == -1)
			pending = 0;
		if (mid_upload || pending > 0 ||
		    evbuffer_get_length(bufferevent_get_input(c->under)) > 0)
			upload_linger(c->srv, fd);
		else
			close(fd);
	}
	upload_server_unref(c->srv);
	free(c);
}

/* evhttp's bevcb: the filter for one new connection. */
static struct bufferevent *
upload_bev_cb(struct event_base *base, void *arg)
{
	struct upload_server *srv = arg;
	struct upload_conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		goto fail;
	c->srv = srv;
	c->spool_fd = -1;
	c->state = UPLOAD_HEAD;
	if ((c->under = bufferevent_socket_new(base, -1, 0)) == NULL)
		goto fail;
	c->bev = bufferevent_filter_new(c->under, upload_filter_in_cb,
	    upload_filter_out_cb, BEV_OPT_CLOSE_ON_FREE, upload_conn_free_cb, c);
	if (c->bev == NULL)
		goto fail;
	/* from here on, bufferevent_free(c->bev) ends in upload_conn_free_cb */
	srv->refs++;
	/* as a socket bufferevent's: upload_write_cb writes it to the fd, sendfile included */
	evbuffer_set_flags(bufferevent_get_output(c->bev), EVBUFFER_FLAG_DRAINS_TO_FD);
	TAILQ_INSERT_TAIL(&upload_conns, c, entry);
	upload_nconns++;
	bufferevent_getcb(c->under, &c->under_read, &c->under_write, &c->under_event,
	    &c->under_arg);
	bufferevent_setcb(c->under, upload_under_read_cb, upload_under_write_cb,
	    upload_under_event_cb, c);
	c->kick_ev = event_new(base, -1, 0, upload_kick_cb, c);
	c->idle_ev = evtimer_new(base, upload_idle_cb, c);
	c->retry_ev = evtimer_new(base, upload_retry_cb, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev),
	    upload_input_drained_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev),
	    upload_output_added_cb, c);
	if (c->kick_ev == NULL || c->idle_ev == NULL || c->retry_ev == NULL ||
	    c->in_cb == NULL || c->out_cb == NULL) {
		bufferevent_free(c->bev);
		c = NULL;
		goto fail;
	}
	return c->bev;
fail:
	/* evhttp falls back to a plain bufferevent: upload_take() refuses its uploads */
	log_error("cannot set up the upload filter for a connection: out of memory");
	if (c != NULL) {
		if (c->under != NULL)
			bufferevent_free(c->under);
		free(c);
	}
	return NULL;
}

/* --- public --- */

static void
upload_server_unref(struct upload_server *srv)
{
	if (--srv->refs > 0)
		return;
	free(srv->spool_dir);
	free(srv);
}

struct upload_server *
upload_install(struct evhttp *http, struct event_base *base,
    const struct upload_config *cfg, char *err, size_t errlen)
{
	struct upload_server *srv;
	struct stat st;

	if (cfg->spool_dir == NULL || stat(cfg->spool_dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "upload spool directory %s is not a directory: %s",
		    cfg->spool_dir != NULL ? cfg->spool_dir : "(none)",
		    cfg->spool_dir != NULL ? strerror(errno != 0 ? errno : ENOTDIR) :
		    "not set");
		return NULL;
	}
	if (strlen(cfg->spool_dir) > 3500) {
		snprintf(err, errlen, "upload spool directory path is too long");
		return NULL;
	}
	if (cfg->max_bytes <= 0 || cfg->idle_timeout_s < 0 || cfg->min_rate < 0) {
		snprintf(err, errlen, "upload limits must be positive");
		return NULL;
	}
	if ((srv = calloc(1, sizeof *srv)) == NULL ||
	    (srv->spool_dir = strdup(cfg->spool_dir)) == NULL) {
		free(srv);
		snprintf(err, errlen, "cannot allocate the upload server");
		return NULL;
	}
	srv->base = base;
	srv->max_bytes = cfg->max_bytes;
	srv->quota = cfg->quota;
	srv->idle.tv_sec = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s :
	    UPLOAD_IDLE_DEFAULT_S;
	srv->min_rate = cfg->min_rate > 0 ? cfg->min_rate : UPLOAD_MIN_RATE_DEFAULT;
	srv->refs = 1;
	TAILQ_INIT(&srv->lingers);
	evhttp_set_bevcb(http, upload_bev_cb, srv);
	return srv;
}

void
upload_free(struct upload_server *srv)
{
	if (srv == NULL)
		return;
	srv->closing = 1;
	while (!TAILQ_EMPTY(&srv->lingers))
		upload_linger_end(TAILQ_FIRST(&srv->lingers));
	upload_server_unref(srv);
}

int
upload_take(struct evhttp_request *req, struct upload_result *out)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct upload_conn *c;

	memset(out, 0, sizeof *out);
	out->status = 400;
	snprintf(out->error, sizeof out->error, "the request body did not go "
	    "through the upload spooler");
	snprintf(out->filename, sizeof out->filename, "upload");
	if (evcon == NULL || evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		return -1;
	bev = evhttp_connection_get_bufferevent(evcon);
	TAILQ_FOREACH(c, &upload_conns, entry) {
		if (c->bev == bev)
			break;
	}
	if (c == NULL || !c->ready)
		return -1;
	*out = c->res;
	if (c->res_close && evhttp_find_header(evhttp_request_get_output_headers(req),
	    "Connection") == NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	c->ready = 0;
	memset(&c->res, 0, sizeof c->res);
	return 0;
}

int
upload_connections(void)
{
	return upload_nconns;
}

int
upload_peer_gone(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct upload_conn *c;
	struct bufferevent *bev;
	char b;
	ssize_t n;
	int fd;

	if (evcon == NULL)
		return 1;
	bev = evhttp_connection_get_bufferevent(evcon);
	TAILQ_FOREACH(c, &upload_conns, entry) {
		if (c->bev == bev)
			break;
	}
	if (c == NULL)
		return 0;
	if (c->eof_held)
		return 1;
	if ((fd = bufferevent_getfd(c->under)) == -1)
		return 1;
	/* evhttp stopped reading once it had the request: the socket itself knows */
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}
