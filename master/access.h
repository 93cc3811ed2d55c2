#ifndef MASTER_ACCESS_H
#define MASTER_ACCESS_H
#include <stddef.h>

/*
 * Who may talk to `master serve`: the Host allow-list (DNS rebinding), the Origin check on
 * requests that change something (cross-site forms), and the bearer token required beyond
 * loopback. The page's links (video, download, event stream) cannot carry a header: a
 * POST /login with the token sets an HttpOnly SameSite=Strict session cookie that stands in
 * for it.
 */

struct evhttp_request;
struct server;

#define ACCESS_HOSTS_MAX	16
#define ACCESS_TOKEN_MAX	256
#define ACCESS_TOKEN_MIN	16
#define ACCESS_COOKIE		"vr_session"

struct access {
	const char *hosts[ACCESS_HOSTS_MAX];	/* --allowed-host names */
	int nhosts;
	const char *bound;			/* --host */
	const char *cors[16];			/* --cors-origin */
	int ncors;
	char token[ACCESS_TOKEN_MAX + 1];	/* empty: no token needed */
	char session[65];			/* the cookie's value, random per start */
};

/* 1 when host (an address or a name, as given to --host) is a loopback one. */
int access_is_loopback(const char *host);

/* Reads the token from path: refused (-1, err) when the file is readable or writable by group
 * or others, empty, or shorter than ACCESS_TOKEN_MIN. Also draws the session cookie. */
int access_load_token(struct access *a, const char *path, char *err, size_t errlen);

/* 1 when a page of origin (scheme://host[:port]) may call the API: loopback pages, the
 * --cors-origin ones, and the page that the request's own Host serves. */
int access_origin_allowed(const struct access *a, const char *origin, const char *host);

struct access_refusal {
	int status;             /* 421, 403 or 401 */
	const char *error;
	char detail[512];
};

/*
 * The Host and Origin checks every request goes through, and the token check when
 * needs_token (an API route): 0 to go on, or -1 with the refusal in r (send it with
 * access_refuse, once whatever the request brought is thrown away).
 */
int access_check(const struct access *a, struct evhttp_request *req, int needs_token,
    struct access_refusal *r);
void access_refuse(struct evhttp_request *req, const struct access_refusal *r);

/* POST /login, once access_check passed with the token: answers 204 with the session cookie. */
void access_login(const struct access *a, struct evhttp_request *req);

#endif
