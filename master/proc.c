#include "master/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"

struct proc {
	pid_t pid;
	int pidfd, out_fd, err_fd;
	struct event *ev_exit, *ev_out;
	struct evbuffer *out;
	size_t max_out;
	int exited, status, cancelled, overflow;
	proc_done_cb cb;
	void *arg;
};

int
proc_pidfd(pid_t pid)
{
	/* pidfd_open's fds are close-on-exec by definition */
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

/* Procs started and not freed yet: a cancelled one lives until the loop has reaped it. */
static int proc_count;

int
proc_live(void)
{
	return proc_count;
}

static void
proc_free(struct proc *p)
{
	proc_count--;
	if (p->ev_exit != NULL)
		event_free(p->ev_exit);
	if (p->ev_out != NULL)
		event_free(p->ev_out);
	if (p->pidfd != -1)
		close(p->pidfd);
	if (p->out_fd != -1)
		close(p->out_fd);
	if (p->err_fd != -1)
		close(p->err_fd);
	if (p->out != NULL)
		evbuffer_free(p->out);
	free(p);
}

/* Done only after both the exit status and EOF on stdout. */
static void
proc_maybe_done(struct proc *p)
{
	char tail[1024];
	size_t len;
	char *out;

	if (!p->exited || p->out_fd != -1)
		return;
	if (p->cancelled) {
		proc_free(p);
		return;
	}
	spawn_capture_tail(p->err_fd, tail, sizeof tail);
	if (p->overflow)
		snprintf(tail, sizeof tail, "output larger than %zu bytes", p->max_out);
	evbuffer_add(p->out, "", 1);
	len = evbuffer_get_length(p->out) - 1;
	out = (char *)evbuffer_pullup(p->out, -1);
	p->cb(p->overflow ? -1 : p->status, out, len, tail, p->arg);
	proc_free(p);
}

static void
proc_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	pid_t r;

	do
		r = waitpid(p->pid, &p->status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return;  /* spurious: still running */
	p->exited = 1;
	event_del(p->ev_exit);
	proc_maybe_done(p);
}

static void
proc_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	int r;

	r = evbuffer_read(p->out, fd, 65536);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0 && evbuffer_get_length(p->out) <= p->max_out)
		return;
	if (r > 0) {
		/* a child that floods us is stopped rather than buffered without bound */
		p->overflow = 1;
		kill(p->pid, SIGKILL);
	}
	event_del(p->ev_out);
	close(p->out_fd);
	p->out_fd = -1;
	proc_maybe_done(p);
}

struct proc *
proc_start(struct event_base *base, char *const argv[], size_t max_out,
    proc_done_cb cb, void *arg, char *err, size_t errlen)
{
	return proc_start_in(base, argv, -1, max_out, cb, arg, err, errlen);
}

struct proc *
proc_start_in(struct event_base *base, char *const argv[], int in, size_t max_out,
    proc_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct proc *p;
	int pipefd[2] = { -1, -1 };

	p = calloc(1, sizeof *p);
	if (p == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	proc_count++;
	p->pid = -1;
	p->pidfd = p->out_fd = p->err_fd = -1;
	p->max_out = max_out;
	p->cb = cb;
	p->arg = arg;
	p->out = evbuffer_new();
	p->err_fd = spawn_capture_open("proc-stderr");
	if (p->out == NULL || p->err_fd == -1 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == -1) {
		util_err(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
		goto fail;
	}
	p->pid = spawn(argv, in, pipefd[1], p->err_fd, err, errlen);
	close(pipefd[1]);
	p->out_fd = pipefd[0];
	if (p->pid == -1)
		goto fail;
	p->pidfd = proc_pidfd(p->pid);
	if (p->pidfd == -1) {
		util_err(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		goto fail;
	}
	p->ev_exit = event_new(base, p->pidfd, EV_READ | EV_PERSIST, proc_exit_cb, p);
	p->ev_out = event_new(base, p->out_fd, EV_READ | EV_PERSIST, proc_out_cb, p);
	event_add(p->ev_exit, NULL);
	event_add(p->ev_out, NULL);
	log_debug("started %s (pid %d)", argv[0], (int)p->pid);
	return p;
fail:
	proc_free(p);
	return NULL;
}

void
proc_cancel(struct proc *p)
{
	p->cancelled = 1;
	kill(p->pid, SIGKILL);
}
