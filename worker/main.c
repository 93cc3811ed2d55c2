/*
 * build/worker: one pool worker on stdin/stdout, the same code the master forks. A launcher
 * (ssh, srun, or the master itself) starts it; the protocol is in common/msg.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "common/log.h"
#include "worker/worker.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [--name NAME]\n"
	    "Renders video segments for a video-renderer master: reads framed task messages\n"
	    "on stdin and writes results on stdout. Not meant to be run by hand: a master\n"
	    "starts it, through a launcher for remote workers\n"
	    "(video-renderer --remote 'ssh -T HOST video-worker').\n"
	    "  --name NAME   how the master's timeline names this worker (default: the Slurm node\n"
	    "                in a Slurm job step, $SLURMD_NODENAME, else the host name)\n"
	    "  --version     print the protocol version\n", program_invocation_short_name);
}

int
main(int argc, char **argv)
{
	const char *node = getenv("SLURMD_NODENAME");
	int i;

	/* started by srun (master --slurm): the node's name in Slurm, which is what squeue and
	 * sinfo show, and need not be the host name */
	if (node != NULL && node[0] != '\0')
		worker_set_name(node);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("video-renderer worker, protocol %d\n", WORKER_PROTOCOL);
			return 0;
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			worker_set_name(argv[++i]);
		} else {
			fprintf(stderr, "worker: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
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
