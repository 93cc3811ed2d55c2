#include "master/pool.h"
#include "master/pool_int.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/spawn.h"
#include "common/util.h"
#include "master/proc.h"
#include "master/remote.h"
#include "worker/worker.h"

#define POOL_KILL_GRACE 2.0   /* seconds between SIGTERM and SIGKILL */

static int pool_count;   /* pools not yet freed, for a clean exit */

static int pool_spawn(struct pool *p, struct pool_worker *w);
static void pool_check_release(struct pool *p);
static void pool_kill_arm(struct pool *p);

int
pool_processes(const struct pool *p)
{
	return p->nprocs;
}

int
pool_worker_pid(const struct pool *p, int slot)
{
	if (slot < 0 || slot >= p->nprocs || p->w[slot].state == POOL_W_NONE)
		return -1;
	return p->w[slot].pid;
}

const char *
pool_worker_name(const struct pool *p, int slot)
{
	if (slot < 0 || slot >= p->nprocs)
		return "?";
	return p->w[slot].name;
}

int
pool_worker_remote(const struct pool *p, int slot)
{
	return slot >= 0 && slot < p->nprocs && p->w[slot].argv != NULL;
}

void
pool_set_stall_timeout(struct pool *p, double seconds)
{
	p->stall_timeout = seconds;
}

static int
pool_alive(const struct pool *p)
{
	int i, n = 0;

	for (i = 0; i < p->nprocs; i++)
		n += p->w[i].state != POOL_W_NONE;
	return n;
}

static void
pool_map_free(struct pool_map *m)
{
	if (m == NULL)
		return;
	json_decref(m->tasks);
	json_decref(m->results);
	free(m->queue);
	free(m->tries);
	free(m);
}

/* Ends the current map; the pool is free for the next one before the callback runs. */
void
pool_map_finish(struct pool *p, const char *error)
{
	struct pool_map *m = p->map;
	int i;

	p->map = NULL;
	if (error != NULL) {
		/* Workers still busy on this map's tasks are stopped: their results would go nowhere.
		 * They are reaped later, maybe while the next map runs, so they drop their task
		 * here: neither a result they already wrote nor their exit may count for that map. */
		for (i = 0; i < p->nprocs; i++) {
			if (p->w[i].state == POOL_W_BUSY) {
				snprintf(p->w[i].why, sizeof p->w[i].why, "map failed");
				p->w[i].state = POOL_W_QUITTING;
				p->w[i].stopped = 1;
				p->w[i].task = -1;
				event_del(p->w[i].ev_stall);
				/* SIGTERM first: a worker killed outright would orphan its ffmpeg
				 * children; one that ignores it is killed after the grace */
				kill(p->w[i].pid, SIGTERM);
				pool_kill_arm(p);
			}
		}
	}
	m->done(p, m->results, error, m->arg);
	pool_map_free(m);
}

void
pool_stall_arm(struct pool_worker *w)
{
	struct timeval tv;
	double s = w->pool->stall_timeout;

	if (s <= 0)
		return;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	event_add(w->ev_stall, &tv);
}

static void
pool_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_worker *w = arg;

	snprintf(w->why, sizeof w->why, "no progress for %g s", w->pool->stall_timeout);
	log_warn("worker %d (pid %d) stalled on task %d: killing it", w->slot, (int)w->pid, w->task);
	kill(w->pid, SIGKILL);
}

/* A task that could not finish on its worker: re-queue it or, past the limit, fail the map. */
void
pool_task_lost(struct pool *p, int task, int slot, const char *why, int retry)
{
	struct pool_map *m = p->map;
	char msg[1024];
	json_t *t, *info;
	int seg;

	if (m == NULL || task < 0 || task >= m->ntasks)
		return;
	t = json_array_get(m->tasks, (size_t)task);
	seg = (int)json_integer_value(json_object_get(t, "segment"));
	m->tries[task]++;
	if (retry && m->tries[task] < POOL_MAX_TRIES) {
		log_warn("segment %d: %s; re-running it (try %d of %d)", seg, why, m->tries[task] + 1, POOL_MAX_TRIES);
		info = json_pack("{s:s, s:i}", "error", why, "tries", m->tries[task]);
		if (m->events != NULL)
			m->events(p, POOL_TASK_RETRY, task, slot, info, m->arg);
		json_decref(info);
		m->queue[(m->qhead + m->qlen++) % m->qcap] = task;
		return;
	}
	if (retry)
		snprintf(msg, sizeof msg, "segment %d failed %d times, last: %s", seg, m->tries[task], why);
	else
		snprintf(msg, sizeof msg, "%s", why);
	info = json_pack("{s:s}", "error", msg);
	if (m->events != NULL)
		m->events(p, POOL_TASK_FAIL, task, slot, info, m->arg);
	json_decref(info);
	pool_map_finish(p, msg);
}

/* "host/slot": the name a worker gave (sanitised: it comes from another machine) and its slot. */
void
pool_name(struct pool_worker *w, const char *host)
{
	char clean[64];
	size_t i;

	if (host == NULL || host[0] == '\0')
		host = w->argv != NULL ? "remote" : "local";
	for (i = 0; host[i] != '\0' && i < sizeof clean - 1; i++)
		clean[i] = (host[i] > ' ' && host[i] < 127 && host[i] != '/' && host[i] != '"') ? host[i] : '_';
	clean[i] = '\0';
	snprintf(w->name, sizeof w->name, "%s/%d", clean, w->slot);
}

static void
pool_worker_clear(struct pool_worker *w)
{
	if (w->ev_read != NULL)
		event_free(w->ev_read);
	if (w->ev_exit != NULL)
		event_free(w->ev_exit);
	if (w->ev_stall != NULL)
		event_free(w->ev_stall);
	if (w->pidfd != -1)
		close(w->pidfd);
	if (w->to_fd != -1)
		close(w->to_fd);
	if (w->from_fd != -1)
		close(w->from_fd);
	msg_reader_free(&w->rd);
	remote_xfer_reset(&w->x);
	w->ev_read = w->ev_exit = w->ev_stall = NULL;
	w->pidfd = w->to_fd = w->from_fd = -1;
	w->pid = -1;
	w->state = POOL_W_NONE;
	w->stopped = 0;
	w->task = -1;
}

/* No worker can run the queued tasks any more (every slot failed to start): fail the map
 * rather than wait forever. */
static void
pool_check_starved(struct pool *p, const char *why)
{
	char msg[1024];
	int i;

	snprintf(p->last_why, sizeof p->last_why, "%s", why);
	if (p->map == NULL || p->map->qlen == 0)
		return;
	for (i = 0; i < p->nprocs; i++)
		if (p->w[i].state != POOL_W_NONE)
			return;
	snprintf(msg, sizeof msg, "no worker left to run the job: %s", why);
	pool_map_finish(p, msg);
}

static void
pool_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	char how[160], why[512];
	int st, task, slot = w->slot, started;
	pid_t r;

	do
		r = waitpid(w->pid, &st, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return;
	/* A child is done only after both its exit status and EOF: drain what it said last. */
	pool_io_read(w);
	spawn_status_str(st, how, sizeof how);
	task = w->task;
	started = w->state != POOL_W_STARTING;
	if (w->why[0] != '\0')
		snprintf(why, sizeof why, "worker %s (pid %d) %s: %s", w->name, (int)r, how, w->why);
	else
		snprintf(why, sizeof why, "worker %s (pid %d) %s", w->name, (int)r, how);
	if (!w->stopped && !p->terminated &&
	    (task >= 0 || !(WIFEXITED(st) && WEXITSTATUS(st) == 0) || !p->closed))
		log_warn("%s%s", why, task >= 0 ? " while rendering" : "");
	else
		log_debug("%s", why);
	w->why[0] = '\0';
	pool_worker_clear(w);
	if (!started)
		w->start_fails++;
	if (task >= 0)
		pool_task_lost(p, task, slot, why, 1);
	/* nginx-style respawn: the pool keeps its size while it is open - unless this slot never
	 * gets as far as a hello (a launcher that cannot connect, a worker of another version):
	 * starting it again and again would only spin. */
	if (!p->closed && !p->terminated && p->w[slot].state == POOL_W_NONE) {
		if (p->w[slot].start_fails >= POOL_MAX_TRIES)
			log_error("worker %s gave up after %d failed starts: %s", p->w[slot].name,
			    p->w[slot].start_fails, why);
		else if (pool_spawn(p, &p->w[slot]) == -1)
			log_error("cannot replace worker %s: %s", p->w[slot].name, p->w[slot].why);
	}
	pool_check_starved(p, why);
	pool_dispatch(p);
	pool_check_release(p);
}

/*
 * The CPUs a pool of `workers` local workers shares: the first `workers` of `allowed`, so a
 * pool of 1 (the sequential baseline) is one core and a pool of N uses at most N. Within that
 * set the kernel moves processes freely: a worker whose piece has ended leaves its core to
 * the others' decoders and encoders, instead of idling while one pinned core renders the last
 * piece alone. Returns 0 when the pool may use every allowed CPU (nothing to restrict).
 */
int
pool_cpu_set(int workers, const cpu_set_t *allowed, cpu_set_t *set)
{
	int cpu, k = 0;

	if (workers < 1 || workers >= CPU_COUNT(allowed))
		return 0;
	CPU_ZERO(set);
	for (cpu = 0; cpu < CPU_SETSIZE && k < workers; cpu++) {
		if (CPU_ISSET(cpu, allowed)) {
			CPU_SET(cpu, set);
			k++;
		}
	}
	return 1;
}

/* Runs in a new worker before it starts (so its ffmpeg children inherit the set). */
static void
pool_pin(int workers)
{
	cpu_set_t allowed, set;

	if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
	    pool_cpu_set(workers, &allowed, &set))
		sched_setaffinity(0, sizeof set, &set);
}

static int
pool_spawn(struct pool *p, struct pool_worker *w)
{
	int to[2] = { -1, -1 }, from[2] = { -1, -1 };
	char err[512];
	sigset_t all, old;
	pid_t pid;
	int sig;

	if (pipe2(to, O_CLOEXEC) == -1 || pipe2(from, O_CLOEXEC) == -1) {
		snprintf(w->why, sizeof w->why, "cannot create pipes: %s", strerror(errno));
		goto fail;
	}
	if (w->argv != NULL) {
		/* a launcher (ssh, srun): its stdin/stdout are the pipe, its stderr is ours */
		pid = spawn(w->argv, to[0], from[1], STDERR_FILENO, err, sizeof err);
		if (pid == -1) {
			snprintf(w->why, sizeof w->why, "%s", err);
			goto fail;
		}
		/* segments are written as the pipe drains (master/remote.c) */
		fcntl(to[1], F_SETFL, O_NONBLOCK);
		goto started;
	}
	/* Signals blocked around fork, so no handler of the master runs in the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		/* The child owns only its two pipe ends (as 0 and 1) and stderr: not the event
		 * base, not the listening socket, not other workers' pipes. */
		close_range(3, ~0U, 0);
		/* Its own process group: a Ctrl-C at the terminal reaches only the master, which
		 * stops its workers itself, instead of every worker and ffmpeg dying at once and
		 * each being reported as a failure. */
		setpgid(0, 0);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (p->pin > 0)
			pool_pin(p->pin);
		log_init('W', log_get_level());
		_exit(worker_main(STDIN_FILENO, STDOUT_FILENO));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		snprintf(w->why, sizeof w->why, "cannot fork: %s", strerror(errno));
		goto fail;
	}
started:
	close(to[0]);
	close(from[1]);
	w->pid = pid;
	w->to_fd = to[1];
	w->from_fd = from[0];
	w->task = -1;
	w->why[0] = '\0';
	w->state = POOL_W_STARTING;
	msg_reader_init(&w->rd);
	fcntl(w->from_fd, F_SETFL, O_NONBLOCK);
	w->pidfd = proc_pidfd(pid);
	if (w->pidfd == -1) {
		snprintf(w->why, sizeof w->why, "pidfd_open: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pool_worker_clear(w);
		return -1;
	}
	w->ev_read = event_new(p->base, w->from_fd, EV_READ | EV_PERSIST, pool_io_read_cb, w);
	w->ev_exit = event_new(p->base, w->pidfd, EV_READ | EV_PERSIST, pool_exit_cb, w);
	w->ev_stall = evtimer_new(p->base, pool_stall_cb, w);
	event_add(w->ev_read, NULL);
	event_add(w->ev_exit, NULL);
	log_debug("worker %s started (pid %d)", w->name, (int)pid);
	return 0;
fail:
	if (to[0] != -1) close(to[0]);
	if (to[1] != -1) close(to[1]);
	if (from[0] != -1) close(from[0]);
	if (from[1] != -1) close(from[1]);
	return -1;
}

void
pool_dispatch(struct pool *p)
{
	struct pool_map *m = p->map;
	struct pool_worker *w;
	json_t *t;
	int i, task;

	for (i = 0; i < p->nprocs; i++) {
		w = &p->w[i];
		if (w->state != POOL_W_IDLE)
			continue;
		if (m != NULL && m->qlen > 0) {
			task = m->queue[m->qhead];
			m->qhead = (m->qhead + 1) % m->qcap;
			m->qlen--;
			t = json_array_get(m->tasks, (size_t)task);
			w->state = POOL_W_BUSY;
			w->task = task;
			w->task_start = util_now();
			pool_stall_arm(w);
			if (m->events != NULL)
				m->events(p, POOL_TASK_START, task, w->slot, t, m->arg);
			if (w->argv != NULL)
				pool_io_send_remote(w, task, t);
			else
				pool_io_send(w, MSG_TASK, t);
			m = p->map;  /* the event callback may have ended the map */
		} else if (p->closed && m == NULL) {
			json_t *q = json_object();

			w->state = POOL_W_QUITTING;
			pool_io_send(w, MSG_QUIT, q);
			json_decref(q);
		}
	}
}

struct pool *
pool_new(struct event_base *base, int processes, char *err, size_t errlen)
{
	return pool_new_mixed(base, processes, NULL, 0, err, errlen);
}

struct pool *
pool_new_mixed(struct event_base *base, int local, char *const *remote, int nremote,
    char *err, size_t errlen)
{
	struct pool *p;
	int i, processes = local + nremote;

	if (local < 0 || nremote < 0 || processes < 1 || processes > 4096) {
		util_err(err, errlen, "a pool needs 1 to 4096 processes, not %d", processes);
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL || (p->w = calloc((size_t)processes, sizeof *p->w)) == NULL) {
		free(p);
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	p->base = base;
	p->nprocs = processes;
	pool_count++;
	p->stall_timeout = 300;
	p->pin = getenv("VR_NO_PIN") == NULL ? local : 0;
	for (i = 0; i < processes; i++) {
		p->w[i].pool = p;
		p->w[i].slot = i;
		p->w[i].pidfd = p->w[i].to_fd = p->w[i].from_fd = -1;
		p->w[i].pid = -1;
		p->w[i].task = -1;
		remote_xfer_init(&p->w[i].x);
		/* local workers take the first slots, remote ones the rest */
		if (i >= local && (p->w[i].argv = remote_argv(remote[i - local], err, errlen)) == NULL)
			goto fail;
		pool_name(&p->w[i], NULL);
	}
	for (i = 0; i < processes; i++) {
		if (pool_spawn(p, &p->w[i]) == -1) {
			util_err(err, errlen, "cannot start worker %s: %s", p->w[i].name, p->w[i].why);
			goto fail;
		}
	}
	return p;
fail:
	/* maybe inside the loop (a job starting its map): no blocking join here; the workers
	 * already started are stopped and the pool frees itself once they are gone */
	pool_terminate(p);
	pool_release(p);
	return NULL;
}

int
pool_map_open(struct pool *p, int ntasks, pool_map_cb done, pool_event_cb events, void *arg,
    char *err, size_t errlen)
{
	struct pool_map *m;
	int i;

	if (p->closed || p->terminated)
		return util_err(err, errlen, "the pool is %s", p->terminated ? "terminated" : "closed");
	if (p->map != NULL)
		return util_err(err, errlen, "the pool is running another map");
	if (ntasks < 1)
		return util_err(err, errlen, "nothing to map");
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return util_err(err, errlen, "out of memory");
	m->ntasks = ntasks;
	m->qcap = m->ntasks;
	m->queue = calloc((size_t)m->qcap, sizeof *m->queue);
	m->tries = calloc((size_t)m->ntasks, sizeof *m->tries);
	m->tasks = json_array();
	m->results = json_array();
	if (m->queue == NULL || m->tries == NULL || m->tasks == NULL || m->results == NULL) {
		pool_map_free(m);
		return util_err(err, errlen, "out of memory");
	}
	for (i = 0; i < ntasks; i++)
		if (json_array_append_new(m->tasks, json_null()) == -1 ||
		    json_array_append_new(m->results, json_null()) == -1) {
			pool_map_free(m);
			return util_err(err, errlen, "out of memory");
		}
	m->done = done;
	m->events = events;
	m->arg = arg;
	p->map = m;
	return 0;
}

int
pool_map_add(struct pool *p, int index, json_t *task, char *err, size_t errlen)
{
	struct pool_map *m = p->map;
	json_t *t;
	int i;

	if (m == NULL)
		return util_err(err, errlen, "no map is running");
	if (index < 0 || index >= m->ntasks || !json_is_null(json_array_get(m->tasks, (size_t)index)))
		return util_err(err, errlen, "task %d is not an empty slot of the map", index);
	if (!json_is_object(task))
		return util_err(err, errlen, "task %d is not an object", index);
	t = json_deep_copy(task);
	if (t == NULL || json_object_set_new(t, "task", json_integer(index)) == -1 ||
	    json_array_set_new(m->tasks, (size_t)index, t) == -1)
		return util_err(err, errlen, "out of memory");
	m->queue[(m->qhead + m->qlen++) % m->qcap] = index;
	pool_dispatch(p);
	/* every worker may have gone before this task came: the caller ends the map */
	for (i = 0; i < p->nprocs; i++)
		if (p->w[i].state != POOL_W_NONE)
			return 0;
	return util_err(err, errlen, "no worker left to run the job: %s", p->last_why);
}

int
pool_map_async(struct pool *p, json_t *tasks, pool_map_cb done, pool_event_cb events,
    void *arg, char *err, size_t errlen)
{
	struct pool_map *m;
	size_t i;
	json_t *t, *c;

	if (!json_is_array(tasks) || json_array_size(tasks) == 0)
		return util_err(err, errlen, "nothing to map");
	json_array_foreach(tasks, i, t)
		if (!json_is_object(t))
			return util_err(err, errlen, "task %zu is not an object", i);
	if (pool_map_open(p, (int)json_array_size(tasks), done, events, arg, err, errlen) == -1)
		return -1;
	m = p->map;
	/* all queued before the first is handed out */
	json_array_foreach(tasks, i, t) {
		c = json_deep_copy(t);
		if (c == NULL || json_object_set_new(c, "task", json_integer((json_int_t)i)) == -1 ||
		    json_array_set_new(m->tasks, i, c) == -1) {
			p->map = NULL;
			pool_map_free(m);
			return util_err(err, errlen, "out of memory");
		}
		m->queue[m->qlen++] = (int)i;
	}
	pool_dispatch(p);
	return 0;
}

struct pool_sync {
	int finished;
	json_t *results;
	char *err;
	size_t errlen;
};

static void
pool_sync_cb(struct pool *p, json_t *results, const char *error, void *arg)
{
	struct pool_sync *s = arg;

	s->finished = 1;
	if (error != NULL)
		util_err(s->err, s->errlen, "%s", error);
	else
		s->results = json_incref(results);
}

json_t *
pool_map(struct pool *p, json_t *tasks, char *err, size_t errlen)
{
	struct pool_sync s = { 0, NULL, err, errlen };

	if (pool_map_async(p, tasks, pool_sync_cb, NULL, &s, err, errlen) == -1)
		return NULL;
	while (!s.finished)
		event_base_loop(p->base, EVLOOP_ONCE);
	return s.results;
}

void
pool_close(struct pool *p)
{
	p->closed = 1;
	pool_dispatch(p);
}

static void
pool_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	int i;

	for (i = 0; i < p->nprocs; i++) {
		if (p->w[i].state != POOL_W_NONE && (p->terminated || p->w[i].stopped)) {
			log_warn("worker %d (pid %d) ignored SIGTERM: SIGKILL", i, (int)p->w[i].pid);
			kill(p->w[i].pid, SIGKILL);
		}
	}
}

/* Workers sent SIGTERM get POOL_KILL_GRACE seconds to stop their children before SIGKILL. */
static void
pool_kill_arm(struct pool *p)
{
	struct timeval tv = { (time_t)POOL_KILL_GRACE, 0 };

	if (p->ev_kill == NULL)
		p->ev_kill = evtimer_new(p->base, pool_kill_cb, p);
	if (p->ev_kill != NULL && !evtimer_pending(p->ev_kill, NULL))
		evtimer_add(p->ev_kill, &tv);
}

void
pool_terminate(struct pool *p)
{
	int i;

	if (p->terminated)
		return;
	p->terminated = 1;
	p->closed = 1;
	for (i = 0; i < p->nprocs; i++)
		if (p->w[i].state != POOL_W_NONE)
			kill(p->w[i].pid, SIGTERM);
	pool_kill_arm(p);
	if (p->map != NULL)
		pool_map_finish(p, "the pool was terminated");
}

int
pool_join(struct pool *p)
{
	if (!p->closed && !p->terminated)
		return -1;
	while (pool_alive(p) > 0)
		event_base_loop(p->base, EVLOOP_ONCE);
	return 0;
}

static void
pool_free_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_free(arg);
}

/* A released pool is freed from a fresh turn of the loop, never from inside one of its own
 * callbacks, so no caller up the stack is left holding a freed pool. */
static void
pool_check_release(struct pool *p)
{
	struct timeval now = { 0, 0 };

	if (p->released && !p->free_scheduled && pool_alive(p) == 0) {
		p->free_scheduled = 1;
		event_base_once(p->base, -1, EV_TIMEOUT, pool_free_cb, p, &now);
	}
}

void
pool_release(struct pool *p)
{
	p->released = 1;
	pool_close(p);
	pool_check_release(p);
}

void
pool_free(struct pool *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nprocs; i++) {
		if (p->w[i].state != POOL_W_NONE) {
			/* not joined: do not leave a zombie or an orphan behind */
			kill(p->w[i].pid, SIGKILL);
			waitpid(p->w[i].pid, NULL, 0);
		}
		pool_worker_clear(&p->w[i]);
		remote_argv_free(p->w[i].argv);
	}
	if (p->ev_kill != NULL)
		event_free(p->ev_kill);
	pool_map_free(p->map);
	free(p->w);
	free(p);
	pool_count--;
}

int
pool_live(void)
{
	return pool_count;
}
