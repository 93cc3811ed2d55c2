/*
 * Lingering close: a connection answered early (413 before its body) is closed only once the
 * client stopped sending, or after a bound, so that its reply is not destroyed by a TCP reset.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>

#include "master/upload_conn.h"

#define UPLOAD_LINGER_IDLE_S	2
#define UPLOAD_LINGER_TOTAL_S	10

struct upload_linger {
	TAILQ_ENTRY(upload_linger) entry;
	struct upload_server	*srv;
	struct event		*ev;
	int			 fd;
	struct timeval		 deadline;
};

void
upload_linger_end(struct upload_linger *l)
{
	TAILQ_REMOVE(&l->srv->lingers, l, entry);
	l->srv->nlingers--;
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
void
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
	srv->nlingers++;
}
