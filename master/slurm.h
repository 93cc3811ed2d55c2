#ifndef MASTER_SLURM_H
#define MASTER_SLURM_H

#include <stddef.h>

/*
 * Workers placed by Slurm (--slurm N). Each is one job step,
 *   srun --nodes=1 --ntasks=1 --exact --quiet --unbuffered --job-name=video-worker [ARGS] video-worker
 * run as a remote worker (master/remote.h): srun forwards its stdin/stdout to the task, so the
 * pool's pipe reaches the node and the segment travels through it. --unbuffered because srun
 * would otherwise hold back a message that does not end in a newline. The worker names itself
 * by its node (SLURMD_NODENAME, worker/main.c), so the timeline says which node did what.
 * Inside an allocation (salloc, sbatch) srun puts the steps on its nodes; outside one each
 * srun asks the controller for a small allocation of its own.
 */
struct slurm {
	int workers;           /* --slurm N */
	const char *args;      /* --slurm-args: srun options, split like a --remote command */
	const char *worker;    /* --slurm-worker: the worker program on the nodes; NULL: video-worker */

	/* built by slurm_launchers */
	char *cmd;             /* the srun command line */
	char **launchers;      /* every remote worker's command: the --remote ones, then cmd N times */
	int nlaunchers;
};

/* One option, by its long name: --slurm N (0 to 1024), --slurm-args (refused now when it
 * cannot be split: an unterminated quote) or --slurm-worker. arg must outlive s. */
int slurm_option(struct slurm *s, const char *name, char *arg, char *err, size_t errlen);
/* After parsing: --slurm-args and --slurm-worker without --slurm are a mistake worth saying. */
int slurm_check(const struct slurm *s, char *err, size_t errlen);
/* The srun command for args and worker (NULL: none, video-worker), quoted so that
 * remote_argv gives the worker back as one word whatever it contains. Free it. */
char *slurm_command(const char *args, const char *worker, char *err, size_t errlen);
/* Builds s->launchers from the --remote commands and s->workers; the strings of remote must
 * outlive s. Free with slurm_free. */
int slurm_launchers(struct slurm *s, char *const *remote, int nremote, char *err, size_t errlen);
void slurm_free(struct slurm *s);

#endif
