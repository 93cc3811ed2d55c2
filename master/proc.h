#ifndef MASTER_PROC_H
#define MASTER_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct proc;

/*
 * A child program run inside the event loop (ffprobe, the cutting and joining ffmpeg): its
 * stdout collected (bounded), its stderr caught for the error message, its exit seen through a
 * pidfd so the loop never blocks and no other child's status is ever taken by mistake.
 * `out` is NUL-terminated; `errtail` is the last lines of stderr. After the callback the proc
 * is freed.
 */
typedef void (*proc_done_cb)(int status, const char *out, size_t outlen, const char *errtail, void *arg);

struct proc *proc_start(struct event_base *base, char *const argv[], size_t max_out,
    proc_done_cb cb, void *arg, char *err, size_t errlen);
/* The same with `in` (ours to close) as the child's stdin instead of /dev/null. */
struct proc *proc_start_in(struct event_base *base, char *const argv[], int in, size_t max_out,
    proc_done_cb cb, void *arg, char *err, size_t errlen);
/* Kills the child; its callback is never called; the proc frees itself once reaped. */
void proc_cancel(struct proc *p);
pid_t proc_pid(const struct proc *p);
/* How many procs are not freed yet (cancelled ones wait for the loop to reap them). */
int proc_live(void);

/* Opens a pidfd for pid (readable once it has exited), close-on-exec. */
int proc_pidfd(pid_t pid);

#endif
