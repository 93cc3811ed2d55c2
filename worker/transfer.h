#ifndef WORKER_TRANSFER_H
#define WORKER_TRANSFER_H

#include <stddef.h>

struct msg_reader;

/*
 * A remote worker's side of file transfer (the master's is master/remote.c): it shares no
 * file system with the master, so a task's segment arrives on in_fd as MSG_FILE + chunks and
 * the encoded result leaves on out_fd the same way, before MSG_DONE. Blocking: a worker does
 * one thing at a time. Each holds one chunk in memory at most.
 */

/* Receives the announced file into path; a short, oversized or corrupt transfer is an error. */
int transfer_recv(int in_fd, struct msg_reader *rd, int task, const char *path, char *err, size_t errlen);
/* Sends path as task's output. */
int transfer_send(int out_fd, int task, const char *path, char *err, size_t errlen);

/* A private scratch directory for this worker's files (created once; removed by
 * transfer_cleanup at exit). NULL with err if it cannot be made. */
const char *transfer_dir(char *err, size_t errlen);
void transfer_cleanup(void);

#endif
