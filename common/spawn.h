#ifndef COMMON_SPAWN_H
#define COMMON_SPAWN_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * The one way this program starts other programs: posix_spawnp with a NULL-terminated argv,
 * never a shell, so a user's file name is always exactly one argv element. Each of in/out/err
 * is an fd to install as the child's 0/1/2, or -1 for /dev/null. Every other fd of ours is
 * close-on-exec, so the child inherits nothing else.
 */
pid_t spawn(char *const argv[], int in, int out, int err_fd, char *err, size_t errlen);

/* An anonymous in-memory file to catch a child's stderr: no pipe to drain, no deadlock. */
int spawn_capture_open(const char *name);
/* The last non-empty lines of what the child wrote there, joined, at most n-1 bytes. */
void spawn_capture_tail(int fd, char *buf, size_t n);

/* Waits for pid (EINTR retried), filling status and rusage (may be NULL). */
int spawn_wait(pid_t pid, int *status, struct rusage *ru);
/* "exit 1", "killed by signal 9 (Killed)",
 * "killed by signal 11 (Segmentation fault), core dumped". */
void spawn_status_str(int status, char *buf, size_t n);

#endif
