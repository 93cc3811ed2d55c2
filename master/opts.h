#ifndef MASTER_OPTS_H
#define MASTER_OPTS_H

/* The options the command line (cli.c) and `master serve` (serve.c) share: one parser and one
 * default each, so the two cannot drift apart. */
#include <stddef.h>

#define OPTS_PRESET           "veryfast"  /* --preset */
#define OPTS_SEGMENT_SECONDS  10          /* --segment-seconds */
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

#endif
