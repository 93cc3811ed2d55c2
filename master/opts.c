/* The options the command line and `master serve` share (see opts.h). */
#include "master/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "master/remote.h"
#include "master/slurm.h"

int
opts_workers(const char *arg, int *workers, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 1024)
		return util_err(err, errlen, "--workers takes a whole number from 0 to 1024, not '%s'", arg);
	*workers = (int)v;
	return 0;
}

/* A number of seconds from min to max for option name. */
static int
opts_seconds(const char *name, const char *arg, double min, double max, double *seconds,
    char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || *end || end == arg || !(d >= min && d <= max))
		return util_err(err, errlen, "%s takes seconds from %g to %g, not '%s'", name, min, max, arg);
	*seconds = d;
	return 0;
}

int
opts_segment_seconds(const char *arg, double *seconds, char *err, size_t errlen)
{
	return opts_seconds("--segment-seconds", arg, 0.5, 3600, seconds, err, errlen);
}

int
opts_preset(const char *arg, const char **preset, char *err, size_t errlen)
{
	static const char *presets[] = { "ultrafast", "superfast", "veryfast", "faster", "fast",
	    "medium", "slow", "slower", "veryslow", "placebo", NULL };
	int i;

	for (i = 0; presets[i] != NULL && strcmp(presets[i], arg) != 0; i++)
		;
	if (presets[i] == NULL)
		return util_err(err, errlen, "--preset: unknown x264 preset '%s' (ultrafast ... veryslow)", arg);
	*preset = presets[i];
	return 0;
}

int
opts_check_workers(int workers, int nremote, int nslurm, char *err, size_t errlen)
{
	if (workers == 0 && nremote == 0 && nslurm == 0)
		return util_err(err, errlen, "--workers 0 needs at least one --remote worker (or --slurm N)");
	return 0;
}

int
opts_workers_resolve(int workers)
{
	long n;

	if (workers != OPTS_WORKERS_CPUS)
		return workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int
opts_launcher(int c, char *arg, char **remote, int *nremote, double *task_timeout,
    struct slurm *slurm, char *err, size_t errlen)
{
	switch (c) {
	case OPTS_REMOTE:
		return remote_check(arg, remote, nremote, OPTS_REMOTE_MAX, err, errlen);
	case OPTS_TASK_TIMEOUT:
		return opts_seconds("--task-timeout", arg, 1, 86400, task_timeout, err, errlen);
	case OPTS_SLURM:
		return slurm_option(slurm, "slurm", arg, err, errlen);
	case OPTS_SLURM_ARGS:
		return slurm_option(slurm, "slurm-args", arg, err, errlen);
	case OPTS_SLURM_WORKER:
		return slurm_option(slurm, "slurm-worker", arg, err, errlen);
	}
	return util_err(err, errlen, "option %d is not a worker launcher's", c);
}
