#include "master/access.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/util.h"
#include "master/httputil.h"

int
access_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
access_load_token(struct access *a, const char *path, char *err, size_t errlen)
{
	unsigned char rnd[32];
	struct stat st;
	ssize_t n;
	size_t i;
	int fd = -1, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		util_err(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
		goto done;
	}
	/* as ssh does with a private key: a token others can read is no secret */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		util_err(err, errlen, "the token file %s is open to group or others (mode %03o): "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto done;
	}
	n = util_read_full(fd, a->token, ACCESS_TOKEN_MAX, NULL);
	if (n < 0) {
		util_err(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
		goto done;
	}
	a->token[n] = '\0';
	a->token[strcspn(a->token, "\r\n")] = '\0';
	if (strlen(a->token) < ACCESS_TOKEN_MIN || strlen(a->token) != (size_t)strspn(a->token,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=")) {
		util_err(err, errlen, "the token in %s must be one line of at least %d characters "
		    "(letters, digits, -._~+/=), e.g. from `openssl rand -hex 32`", path, ACCESS_TOKEN_MIN);
		a->token[0] = '\0';
		goto done;
	}
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		util_err(err, errlen, "cannot draw a session key: %s", strerror(errno));
		a->token[0] = '\0';
		goto done;
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(a->session + 2 * i, 3, "%02x", rnd[i]);
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Compares in a time that depends on the length of want only, not on where they differ. */
static int
access_equal(const char *got, size_t glen, const char *want)
{
	size_t wlen = strlen(want), i;
	volatile unsigned char d = glen != wlen;

	for (i = 0; i < wlen; i++)
		d |= (unsigned char)(want[i] ^ (glen > 0 ? got[i % glen] : 0));
	return d == 0;
}

/* The name part of a Host value ("name:port", "[v6]:port"): 1 and name in buf, 0 if malformed. */
static int
access_host_name(const char *host, char *buf, size_t n)
{
	const char *end, *colon;

	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return 0;
		host++;
	} else {
		colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return 0;
		end = colon != NULL ? colon : host + strlen(host);
	}
	if (end == host || (size_t)(end - host) >= n)
		return 0;
	memcpy(buf, host, (size_t)(end - host));
	buf[end - host] = '\0';
	return 1;
}

/*
 * A rebinding attack reaches us under the attacker's own name: any name we were not told about
 * is refused. An address literal cannot be rebound (the page's origin is then that address),
 * so addresses pass, which covers --host 0.0.0.0 reached by any of the machine's addresses.
 */
static int
access_host_allowed(const struct access *a, const char *host)
{
	char name[256];
	struct in_addr a4;
	struct in6_addr a6;
	int i;

	if (host == NULL)
		return 1;   /* HTTP/1.0 without Host: no browser sends that */
	if (!access_host_name(host, name, sizeof name))
		return 0;
	if (access_is_loopback(name) || inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return 1;
	if (a->bound != NULL && strcasecmp(name, a->bound) == 0)
		return 1;
	for (i = 0; i < a->nhosts; i++)
		if (strcasecmp(name, a->hosts[i]) == 0)
			return 1;
	return 0;
}

int
access_origin_allowed(const struct access *a, const char *origin, const char *host)
{
	static const char *loopback[] = { "http://localhost", "http://127.0.0.1", "http://[::1]" };
	const char *authority;
	size_t i, n;
	int k;

	for (i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
		n = strlen(loopback[i]);
		if (strncmp(origin, loopback[i], n) != 0)
			continue;
		if (origin[n] == '\0')
			return 1;
		if (origin[n] == ':' && origin[n + 1] != '\0' && strspn(origin + n + 1, "0123456789") == strlen(origin + n + 1))
			return 1;
	}
	for (k = 0; k < a->ncors; k++)
		if (strcmp(origin, a->cors[k]) == 0)
			return 1;
	/* our own page, under whatever name the Host check let through (a proxy's included) */
	if (host != NULL) {
		if (strncmp(origin, "http://", 7) == 0)
			authority = origin + 7;
		else if (strncmp(origin, "https://", 8) == 0)
			authority = origin + 8;
		else
			return 0;
		return strcasecmp(authority, host) == 0;
	}
	return 0;
}

/* 1 when the request carries the token (Authorization: Bearer) or the session cookie. */
static int
access_has_token(const struct access *a, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *v = evhttp_find_header(in, "Authorization"), *p;
	size_t n = sizeof ACCESS_COOKIE;   /* the name and '=' */

	if (v != NULL && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		v += strspn(v, " ");
		return access_equal(v, strcspn(v, " \t"), a->token);
	}
	for (p = evhttp_find_header(in, "Cookie"); p != NULL && *p != '\0'; p += strcspn(p, ";")) {
		p += strspn(p, "; ");
		if (strncmp(p, ACCESS_COOKIE "=", n) == 0)
			return access_equal(p + n, strcspn(p + n, ";"), a->session);
	}
	return 0;
}

static int
access_writes(enum evhttp_cmd_type m)
{
	return m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD && m != EVHTTP_REQ_OPTIONS;
}

int
access_check(const struct access *a, struct evhttp_request *req, int needs_token,
    struct access_refusal *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *host = evhttp_find_header(in, "Host");
	const char *origin = evhttp_find_header(in, "Origin");

	memset(r, 0, sizeof *r);
	if (!access_host_allowed(a, host)) {
		r->status = 421;
		r->error = "Host not allowed";
		snprintf(r->detail, sizeof r->detail, "this server does not answer to the name "
		    "'%.200s'; start it with --allowed-host NAME to allow a name it is reached by", host);
	} else if (origin != NULL && access_writes(evhttp_request_get_command(req)) &&
	    !access_origin_allowed(a, origin, host)) {
		r->status = 403;
		r->error = "Origin not allowed";
		snprintf(r->detail, sizeof r->detail, "a page of %.200s may not change anything "
		    "here; start the server with --cors-origin %.200s to allow it", origin, origin);
	} else if (needs_token && a->token[0] != '\0' && !access_has_token(a, req)) {
		r->status = 401;
		r->error = "Unauthorized";
		snprintf(r->detail, sizeof r->detail, "this server needs its token: send "
		    "Authorization: Bearer TOKEN (the token is in the file given to --token-file)");
	}
	return r->status == 0 ? 0 : -1;
}

void
access_refuse(struct evhttp_request *req, const struct access_refusal *r)
{
	if (r->status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"video-renderer\"");
	http_send_error(req, r->status, r->error, r->detail);
}

void
access_login(const struct access *a, struct evhttp_request *req)
{
	char cookie[160];

	if (a->token[0] == '\0') {
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	/* the caller checked the token (access_check with needs_token) */
	/* HttpOnly: the page's scripts never see it; Strict: no other site's request carries it */
	snprintf(cookie, sizeof cookie, ACCESS_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
	    a->session);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
	evhttp_send_reply(req, 204, "No Content", NULL);
}
