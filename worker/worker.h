#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#define WORKER_PROTOCOL 5  /* bumped when a task's or a result's fields change meaning
                              * (2: remote transfer of segments and results; 3: a task's
                              * "inputs", several files decoded as one stream; 4: "kind":
                              * "preview", a still image (worker/still.h); 5: "durations",
                              * each input's span, for a variable rate) */
/* The most files one task may decode as a stream ("inputs"): a bound on a malformed task only.
 * The cut beside the probe writes files of a quarter second where every frame is a keyframe,
 * so a piece of an hour (--segment-seconds 3600) may be 14400 files. */
#define WORKER_MAX_INPUTS 65536

/*
 * A worker's whole life: say hello, then read MSG_TASK messages from in_fd (a segment to
 * render, or with "kind": "preview" a still, worker/still.h) and answer each
 * with MSG_DONE or MSG_FAIL on out_fd, until MSG_QUIT, EOF or SIGTERM. The forked pool
 * children and the standalone build/worker (stdin/stdout) both run exactly this.
 * Returns the process exit code.
 */
int worker_main(int in_fd, int out_fd);

/* The name this worker gives in its hello (default: the host name), so the master's timeline
 * can say which machine rendered what. */
void worker_set_name(const char *name);

#endif
