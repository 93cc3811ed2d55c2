/* What goes through a worker's pipes: messages read and acted on, tasks and files sent (see
 * pool_int.h). */
#include "master/pool_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/msg.h"
#include "worker/worker.h"

/* A piece of a remote worker's result: to disk at once, so the master holds one chunk. */
static void
pool_io_chunk(struct pool_worker *w, const char *data, size_t len)
{
	char err[512];

	if (w->argv == NULL || w->state != POOL_W_BUSY) {
		snprintf(w->why, sizeof w->why, "unexpected chunk message");
		kill(w->pid, SIGKILL);
		return;
	}
	if (remote_recv_chunk(&w->x, data, len, err, sizeof err) == -1) {
		snprintf(w->why, sizeof w->why, "%s", err);
		kill(w->pid, SIGKILL);
		return;
	}
	pool_stall_arm(w);
}

static void
pool_io_msg(struct pool_worker *w, int type, json_t *j)
{
	struct pool *p = w->pool;
	struct pool_map *m = p->map;
	json_t *e;
	char err[512];
	int task = w->task;
	int version;

	switch (type) {
	case MSG_HELLO:
		version = (int)json_integer_value(json_object_get(j, "version"));
		if (version != WORKER_PROTOCOL) {
			snprintf(w->why, sizeof w->why, "worker speaks protocol %d, this master %d: "
			    "install the same video-renderer version on both sides", version, WORKER_PROTOCOL);
			log_error("worker %s: %s", w->name, w->why);
			w->start_fails = POOL_MAX_TRIES - 1;  /* starting it again will not change its version */
			kill(w->pid, SIGKILL);
			return;
		}
		pool_name(w, json_string_value(json_object_get(j, "name")));
		w->start_fails = 0;
		if (w->state == POOL_W_STARTING)
			w->state = POOL_W_IDLE;
		break;
	case MSG_FILE:
		if (w->argv == NULL || w->state != POOL_W_BUSY || m == NULL || task < 0 ||
		    remote_recv_begin(&w->x, json_integer_value(json_object_get(j, "size")),
		    json_string_value(json_object_get(json_array_get(m->tasks, (size_t)task), "output")),
		    err, sizeof err) == -1) {
			snprintf(w->why, sizeof w->why, "%s", w->argv == NULL || w->state != POOL_W_BUSY ?
			    "unexpected file message" : err);
			kill(w->pid, SIGKILL);
			return;
		}
		pool_stall_arm(w);
		return;
	case MSG_PROGRESS:
		pool_stall_arm(w);
		if (m != NULL && m->events != NULL && task >= 0)
			m->events(p, POOL_TASK_PROGRESS, task, w->slot, j, m->arg);
		return;
	case MSG_DONE:
	case MSG_FAIL:
		if (w->state != POOL_W_BUSY)
			return;
		event_del(w->ev_stall);
		w->state = POOL_W_IDLE;
		w->task = -1;
		if (m == NULL || task < 0 || task >= m->ntasks) {
			remote_xfer_reset(&w->x);
			break;
		}
		/* a piece that decoded nothing has no result file to send (0 frames) */
		if (type == MSG_DONE && w->argv != NULL && json_integer_value(json_object_get(j, "frames")) > 0 &&
		    remote_recv_finish(&w->x, err, sizeof err) == -1) {
			pool_task_lost(p, task, w->slot, err, 1);
		} else if (type == MSG_DONE) {
			json_object_set_new(j, "worker", json_integer(w->slot));
			json_object_set_new(j, "worker_name", json_string(w->name));
			json_array_set(m->results, (size_t)task, j);
			m->ndone++;
			if (m->events != NULL)
				m->events(p, POOL_TASK_DONE, task, w->slot, j, m->arg);
			if (m->ndone == m->ntasks) {
				pool_map_finish(p, NULL);
				break;
			}
		} else {
			remote_xfer_reset(&w->x);
			e = json_object_get(j, "error");
			pool_task_lost(p, task, w->slot, json_is_string(e) ? json_string_value(e) : "worker failed",
			    json_is_true(json_object_get(j, "retry")));
		}
		break;
	default:
		snprintf(w->why, sizeof w->why, "unexpected %s message", msg_type_name(type));
		kill(w->pid, SIGKILL);
		return;
	}
	pool_dispatch(p);
}

/* Handles every whole message buffered: 1, or -1 on a protocol error. */
static int
pool_io_read_msgs(struct pool_worker *w, char *err, size_t errlen)
{
	const char *data;
	size_t len;
	json_t *j;
	int type, rc = 0;

	while (w->state != POOL_W_NONE &&
	    (rc = msg_reader_next_any(&w->rd, &type, &j, &data, &len, err, errlen)) == 1) {
		if (type == MSG_CHUNK) {
			pool_io_chunk(w, data, len);
		} else {
			pool_io_msg(w, type, j);
			json_decref(j);
		}
	}
	return w->state == POOL_W_NONE || rc != -1 ? 1 : -1;
}

int
pool_io_read(struct pool_worker *w)
{
	char err[256];
	ssize_t r;

	for (;;) {
		r = msg_reader_fill(&w->rd, w->from_fd);
		if (r < 0 && errno == EAGAIN)
			return 1;
		/* messages already buffered still count, even after EOF */
		if (pool_io_read_msgs(w, err, sizeof err) == -1) {
			snprintf(w->why, sizeof w->why, "protocol error: %s", err);
			log_error("worker %s (pid %d): %s", w->name, (int)w->pid, err);
			w->rd.len = 0;  /* nothing after garbage can be trusted */
			kill(w->pid, SIGKILL);
			return 0;
		}
		if (r <= 0)
			return 0;
	}
}

void
pool_io_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_worker *w = arg;

	if (pool_io_read(w) == 0)
		event_del(w->ev_read);
}

void
pool_io_send(struct pool_worker *w, int type, json_t *j)
{
	char err[256];

	/* Small control messages into a pipe of 64 KiB: a write that would block means the
	 * worker is wedged; it is killed rather than stalling the loop. */
	if (msg_write(w->to_fd, type, j, err, sizeof err) == -1) {
		snprintf(w->why, sizeof w->why, "%s", err);
		kill(w->pid, SIGKILL);
	}
}

static void
pool_io_sent_cb(void *arg)
{
	pool_stall_arm(arg);
}

/* The files a task's worker reads: its "inputs" in order, or its one "input" (*paths is
 * allocated, the strings stay the task's; free it even on -1). */
static int
pool_io_remote_paths(json_t *t, const char ***paths, int *n)
{
	json_t *a = json_object_get(t, "inputs"), *v;
	size_t i, len = json_is_array(a) ? json_array_size(a) : 0;

	*n = 0;
	if (len > WORKER_MAX_INPUTS || (*paths = calloc(len > 0 ? len : 1, sizeof **paths)) == NULL)
		return -1;
	if (len == 0) {
		(*paths)[(*n)++] = json_string_value(json_object_get(t, "input"));
		return (*paths)[0] != NULL ? 0 : -1;
	}
	json_array_foreach(a, i, v)
		if (((*paths)[(*n)++] = json_string_value(v)) == NULL)
			return -1;
	return 0;
}

/* A remote worker gets the task marked for transfer, then the bytes of each file it reads. */
void
pool_io_send_remote(struct pool_worker *w, int task, json_t *t)
{
	const char **paths = NULL;
	char err[512] = "a task without its input files";
	int npaths;
	json_t *copy = json_copy(t);

	if (copy == NULL || json_object_set_new(copy, "transfer", json_true()) == -1) {
		snprintf(w->why, sizeof w->why, "out of memory");
		kill(w->pid, SIGKILL);
	} else {
		pool_io_send(w, MSG_TASK, copy);
		if (pool_io_remote_paths(t, &paths, &npaths) == -1 ||
		    remote_send(&w->x, w->pool->base, w->to_fd, task, paths, npaths, pool_io_sent_cb, w,
		    err, sizeof err) == -1) {
			snprintf(w->why, sizeof w->why, "%s", err);
			kill(w->pid, SIGKILL);
		}
	}
	free(paths);
	json_decref(copy);
}
