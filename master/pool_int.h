#ifndef MASTER_POOL_INT_H
#define MASTER_POOL_INT_H

/*
 * The pool's insides, shared by pool.c (the process table: spawning, reaping, maps, retries,
 * shutdown) and pool_io.c (what goes through each worker's pipes). Nothing else includes it.
 */
#include <sys/types.h>
#include <event2/util.h>
#include <jansson.h>

#include "common/msg.h"
#include "master/pool.h"
#include "master/remote.h"

struct event;

enum pool_wstate { POOL_W_NONE, POOL_W_STARTING, POOL_W_IDLE, POOL_W_BUSY, POOL_W_QUITTING };

/* One row of the process table, as nginx's ngx_process_t. */
struct pool_worker {
	struct pool *pool;
	int slot;
	pid_t pid;
	int pidfd, to_fd, from_fd;
	struct event *ev_read, *ev_exit, *ev_stall;
	struct msg_reader rd;
	enum pool_wstate state;
	int task;          /* task index while busy, else -1 */
	double task_start;
	char why[256];     /* why we killed it, if we did */
	int stopped;       /* killed on purpose (its map failed, the pool was terminated): its end
	                    * is no failure to report */
	char **argv;       /* a remote worker's launcher (master/remote.h); NULL: forked here */
	char name[160];    /* "host/slot" once it said hello */
	int start_fails;   /* exits before a hello, in a row */
	struct remote_xfer x;
};

struct pool_map {
	json_t *tasks;
	json_t *results;
	int ntasks, ndone;
	int *queue;        /* ring of task indices waiting for a worker */
	int qhead, qlen, qcap;
	int *tries;
	pool_map_cb done;
	pool_event_cb events;
	void *arg;
};

struct pool {
	struct event_base *base;
	int nprocs;
	struct pool_worker *w;
	struct pool_map *map;
	int closed, terminated, released, free_scheduled;
	int pin;           /* local workers share this many CPUs (pool_cpu_set); 0: any */
	double stall_timeout;
	struct event *ev_kill;
	char last_why[512];  /* how the last worker to go ended: said when none is left */
};

/* ---- pool.c, for pool_io.c ---- */

/* Hands queued tasks to idle workers; tells idle ones of a closed pool to quit. */
void pool_dispatch(struct pool *p);
/* Ends the running map: done callback with the results, or with error (not NULL). */
void pool_map_finish(struct pool *p, const char *error);
/* (Re)starts a busy worker's stall timer: called on every sign of progress. */
void pool_stall_arm(struct pool_worker *w);
/* A task that could not finish on its worker: re-queued (retry, under POOL_MAX_TRIES) or
 * the map fails with why. */
void pool_task_lost(struct pool *p, int task, int slot, const char *why, int retry);
/* Sets w->name to "host/slot" from the host a worker gave (sanitised). */
void pool_name(struct pool_worker *w, const char *host);

/* ---- pool_io.c ---- */

/*
 * A worker's read event: reads what it wrote, acts on each whole message (hello, progress,
 * result, failure, a remote worker's file and chunks), and deletes the event at EOF. A worker
 * that breaks the protocol is killed (w->why says why); its exit is handled by pool.c.
 */
void pool_io_read_cb(evutil_socket_t fd, short what, void *arg);
/* The same, once, for what a worker wrote before it exited: 0 at EOF or after a protocol
 * error, 1 when its pipe has nothing more for now. */
int pool_io_read(struct pool_worker *w);
/* Writes one message to a worker; a write that fails kills it (the exit re-queues its task). */
void pool_io_send(struct pool_worker *w, int type, json_t *j);
/* A remote worker's task: the task marked for transfer, then the bytes of the files it reads. */
void pool_io_send_remote(struct pool_worker *w, int task, json_t *t);

#endif
