#ifndef MASTER_REMOTE_H
#define MASTER_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct event;

/*
 * Workers on other machines. A remote worker is build/worker started by a launcher the user
 * names (`ssh -T host video-worker`, `srun ... video-worker`) whose stdin/stdout become the
 * pool's pipe. It shares no file system with the master, so its segment goes to it and its
 * result comes back through the protocol (common/msg.h: MSG_FILE, then CRC-checked chunks).
 *
 * Flow control is the pipe's: the master reads the next chunk of the segment file only when
 * the launcher's stdin is writable again, so a slow link makes the master wait, never buffer;
 * results are written to disk chunk by chunk as they arrive. Either way a worker costs the
 * master one chunk of memory (MSG_CHUNK_DATA), whatever the video's size.
 */

/* The launcher command split into argv the way a shell would split words, with '' and ""
 * quoting and backslash escapes - but no shell runs: nothing is expanded or substituted.
 * NULL with err on an unterminated quote or an empty command. Free with remote_argv_free. */
char **remote_argv(const char *cmd, char *err, size_t errlen);
void remote_argv_free(char **argv);
/* An option's value: checked now (so a typo is a usage error, not a failed job) and added to
 * list[*n]. */
int remote_check(char *cmd, char **list, int *n, int max, char *err, size_t errlen);

typedef void (*remote_sent_cb)(void *arg);

/* One worker's transfers: at most one file going out and one coming in. */
struct remote_xfer {
	struct event *ev_write;
	int to_fd;
	char **paths;              /* the files being sent, one after the other (strdup'd) */
	int npaths, ipath;         /* how many; which one is going out */
	int task;
	int in_fd;                 /* the file being sent, or -1 */
	int64_t in_size, in_off;
	char *buf;                 /* one encoded message being written */
	size_t buf_len, buf_pos;
	remote_sent_cb sent;       /* after each chunk: the worker is alive and reading */
	void *arg;

	int out_fd;                /* the result being received, or -1 */
	int64_t out_size, out_got;
	char out_path[4096], part_path[4096];
};

void remote_xfer_init(struct remote_xfer *x);
/* Starts sending the npaths files of task `task`'s input on to_fd, in order, each announced by
 * its own MSG_FILE (non-blocking), driven by the loop. */
int remote_send(struct remote_xfer *x, struct event_base *base, int to_fd, int task,
    const char *const *paths, int npaths, remote_sent_cb sent, void *arg, char *err, size_t errlen);
/* A MSG_FILE from the worker: its result for the task whose output is `output`. */
int remote_recv_begin(struct remote_xfer *x, int64_t size, const char *output, char *err, size_t errlen);
int remote_recv_chunk(struct remote_xfer *x, const char *data, size_t len, char *err, size_t errlen);
/* At the worker's MSG_DONE: the whole result arrived; it is renamed into place. */
int remote_recv_finish(struct remote_xfer *x, char *err, size_t errlen);
/* Drops whatever is in flight (a partial result is deleted). */
void remote_xfer_reset(struct remote_xfer *x);

#endif
