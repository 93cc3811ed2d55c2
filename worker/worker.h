#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#define WORKER_PROTOCOL 1  /* bumped when a task's or a result's fields change meaning */

/*
 * A worker's whole life: say hello, then read MSG_TASK messages from in_fd and answer each
 * with MSG_DONE or MSG_FAIL on out_fd, until MSG_QUIT, EOF or SIGTERM. The forked pool
 * children and the standalone build/worker (stdin/stdout) both run exactly this.
 * Returns the process exit code.
 */
int worker_main(int in_fd, int out_fd);

#endif
