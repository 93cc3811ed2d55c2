/* The options the command line and `master serve` share (see opts.h). */
#include "master/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

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

int
opts_segment_seconds(const char *arg, double *seconds, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || *end || end == arg || !(d >= 0.5 && d <= 3600))
		return util_err(err, errlen, "--segment-seconds takes seconds from 0.5 to 3600, not '%s'", arg);
	*seconds = d;
	return 0;
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
