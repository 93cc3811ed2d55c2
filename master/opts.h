#ifndef MASTER_OPTS_H
#define MASTER_OPTS_H

/* The options the command line (cli.c) and `master serve` (serve.c) share: one parser and one
 * default each, so the two cannot drift apart. */
#include <stddef.h>

struct slurm;

#define OPTS_PRESET           "veryfast"  /* --preset */
/* --segment-seconds. For a file, long pieces: each pays its decoder's and encoder's start
 * (~0.25 s of CPU) and decodes the keyframe pre-roll before its first frame (half a GOP on
 * average), so on 2 workers a 60 s clip rendered 15% sooner in 2 pieces than in 6 (master/
 * README.md, "How many pieces"). When the result is also streamed (serve, --hls), short ones: the
 * first piece is playable sooner. */
#define OPTS_SEGMENT_SECONDS         60
#define OPTS_SEGMENT_SECONDS_STREAM  10
#define OPTS_WORKERS_CPUS     (-1)        /* --workers unset: one per online CPU */

/* --workers: 0 to 1024 (0: remote workers only). 0, or -1 with err. */
int	opts_workers(const char *arg, int *workers, char *err, size_t errlen);
/* --segment-seconds: 0.5 to 3600. 0, or -1 with err. */
int	opts_segment_seconds(const char *arg, double *seconds, char *err, size_t errlen);
/* --preset: one of x264's names (*preset then points to a constant). 0, or -1 with err. */
int	opts_preset(const char *arg, const char **preset, char *err, size_t errlen);
/* After parsing: --workers 0 is refused without a remote or Slurm worker. 0, or -1 with err. */
int	opts_check_workers(int workers, int nremote, int nslurm, char *err, size_t errlen);
/* workers, with OPTS_WORKERS_CPUS made the number of online CPUs (at least 1). */
int	opts_workers_resolve(int workers);

/* Where the workers run: --remote, --task-timeout and the Slurm options, parsed by
 * opts_launcher. Their getopt codes start at OPTS_LAUNCHER, above any of the callers' own;
 * OPTS_LAUNCHER_LONGOPTS are their entries for a getopt_long table. */
enum {
	OPTS_LAUNCHER = 1024, OPTS_REMOTE = OPTS_LAUNCHER, OPTS_TASK_TIMEOUT, OPTS_SLURM,
	OPTS_SLURM_ARGS, OPTS_SLURM_WORKER
};
#define OPTS_LAUNCHER_LONGOPTS \
	{ "remote", required_argument, NULL, OPTS_REMOTE }, \
	{ "task-timeout", required_argument, NULL, OPTS_TASK_TIMEOUT }, \
	/* Slurm (master/slurm.h) */ \
	{ "slurm", required_argument, NULL, OPTS_SLURM }, \
	{ "slurm-args", required_argument, NULL, OPTS_SLURM_ARGS }, \
	{ "slurm-worker", required_argument, NULL, OPTS_SLURM_WORKER }
/* One of those options (code c, its value arg, which must outlive the options): a --remote
 * command into remote[nremote] (at most OPTS_REMOTE_MAX), --task-timeout (1 to 86400 seconds)
 * into task_timeout, the Slurm ones into slurm. 0, or -1 with err. */
#define OPTS_REMOTE_MAX 64
int	opts_launcher(int c, char *arg, char **remote, int *nremote, double *task_timeout,
	    struct slurm *slurm, char *err, size_t errlen);

#endif
