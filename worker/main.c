/*
 * build/worker: one pool worker on stdin/stdout, the same code the master forks. A launcher
 * (ssh, srun, or the master itself) starts it; the protocol is in common/msg.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "common/log.h"
#include "worker/worker.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: worker\n"
		    "Renders video segments for a video-renderer master: reads framed task messages\n"
		    "on stdin and writes results on stdout. Not meant to be run by hand.\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("video-renderer worker, protocol %d\n", WORKER_PROTOCOL);
		return 0;
	}
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "worker: stdin is a terminal; this program speaks a binary protocol to a master\n");
		return 2;
	}
	/* whatever the launcher leaked to us is not ours: a stray copy of a pipe's write end
	 * would keep us from ever seeing EOF */
	close_range(3, ~0U, 0);
	log_init('W', getenv("VR_DEBUG") ? LOG_DEBUG : LOG_INFO);
	return worker_main(STDIN_FILENO, STDOUT_FILENO);
}
