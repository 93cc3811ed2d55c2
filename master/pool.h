#ifndef MASTER_POOL_H
#define MASTER_POOL_H

#include <sched.h>
#include <stddef.h>
#include <jansson.h>

struct event_base;
struct pool;

/*
 * A process pool shaped like Python's multiprocessing.Pool: pool_new(processes), pool_map,
 * pool_map_async, pool_close, pool_join, pool_terminate. Tasks and results are JSON objects
 * carried over framed pipes (common/msg.h). Unlike Python's pool, a worker that dies mid-task
 * (crash, kill -9, a stall past the deadline) is replaced and its task re-run, up to
 * POOL_MAX_TRIES times; then the map fails with a message naming the task's segment.
 */
#define POOL_MAX_TRIES 3

/* The caller ignores SIGPIPE: a task written to a worker that just died must fail the
 * write (and re-queue the task), not kill the master. */

enum pool_event {
	POOL_TASK_START,     /* a worker took the task */
	POOL_TASK_PROGRESS,  /* msg: the worker's progress message */
	POOL_TASK_DONE,      /* msg: the result */
	POOL_TASK_RETRY,     /* msg: {"error"}; the task goes back in the queue */
	POOL_TASK_FAIL       /* msg: {"error"}; the map fails */
};

/* results: array in task order (borrowed); error: NULL on success. */
typedef void (*pool_map_cb)(struct pool *p, json_t *results, const char *error, void *arg);
typedef void (*pool_event_cb)(struct pool *p, enum pool_event ev, int task, int worker, json_t *msg, void *arg);

struct pool *pool_new(struct event_base *base, int processes, char *err, size_t errlen);
/* `local` forked workers plus one remote worker per launcher command (master/remote.h), e.g.
 * "ssh -T render1 video-worker": split into words, run without a shell. */
struct pool *pool_new_mixed(struct event_base *base, int local, char *const *remote, int nremote,
    char *err, size_t errlen);
int pool_processes(const struct pool *p);
/* The CPUs `workers` local workers share: the first `workers` of `allowed` (a pool of 1 is one
 * core, a pool of N at most N), moved freely within that set. 0 when there is nothing to restrict
 * (workers >= the allowed CPUs). A pool applies it to its local workers unless VR_NO_PIN is set. */
int pool_cpu_set(int workers, const cpu_set_t *allowed, cpu_set_t *set);
/* Seconds without a word from a busy worker before it is killed and its task re-run (0: never). */
void pool_set_stall_timeout(struct pool *p, double seconds);

/* Runs every task of the array (each an object; "task" is set to its index). One map at a
 * time: -1 if the pool is busy, closed or terminated. The callback runs in the event loop. */
int pool_map_async(struct pool *p, json_t *tasks, pool_map_cb done, pool_event_cb events,
    void *arg, char *err, size_t errlen);
/* The same with tasks that come later: a map of ntasks slots, each filled by pool_map_add
 * (then handed to the first idle worker, in the order added), done once all ntasks are. */
int pool_map_open(struct pool *p, int ntasks, pool_map_cb done, pool_event_cb events, void *arg,
    char *err, size_t errlen);
/* -1 with err also when no worker is left to run it (every one failed): end the map then. */
int pool_map_add(struct pool *p, int index, json_t *task, char *err, size_t errlen);
/* Blocking form for callers outside the event loop: the results array (new reference) or NULL. */
json_t *pool_map(struct pool *p, json_t *tasks, char *err, size_t errlen);

/* No more maps; workers leave once idle. */
void pool_close(struct pool *p);
/* Stops the workers now: SIGTERM, then SIGKILL after a grace period; a running map fails. */
void pool_terminate(struct pool *p);
/* Blocking, outside the event loop: returns once every worker has exited (after close/terminate). */
int pool_join(struct pool *p);
/* Closes the pool and frees it once its last worker has exited (usable inside the loop). */
void pool_release(struct pool *p);
/* Frees a pool whose workers have all exited (after pool_join). */
void pool_free(struct pool *p);

/* How many pools are not freed yet (released ones wait for their workers to exit). */
int pool_live(void);

/* "host/slot": the name the worker in a slot gave in its hello. */
const char *pool_worker_name(const struct pool *p, int slot);
/* 1 if the slot holds a remote worker. */
int pool_worker_remote(const struct pool *p, int slot);

/* pid of the worker in a slot (tests kill it), or -1. */
int pool_worker_pid(const struct pool *p, int slot);

#endif
