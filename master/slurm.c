#include "master/slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/remote.h"

/* --exact: inside an allocation a step would otherwise take every CPU of its node and the
 * next worker's step would wait for it; with it each step takes one task's CPUs (more with
 * --slurm-args -c K), so N workers share the allocation's nodes. Outside one it changes nothing. */
#define SLURM_SRUN "srun --nodes=1 --ntasks=1 --exact --quiet --unbuffered --job-name=video-worker"

int
slurm_option(struct slurm *s, const char *name, char *arg, char *err, size_t errlen)
{
	char e[512], *end, **argv;
	long v;

	if (strcmp(name, "slurm") == 0) {
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 0 || v > 1024)
			return util_err(err, errlen, "--slurm takes a whole number of workers from 0 to 1024, not '%s'", arg);
		s->workers = (int)v;
	} else if (strcmp(name, "slurm-args") == 0) {
		/* blank is fine: no options to add */
		if (arg[strspn(arg, " \t\n")] != '\0') {
			argv = remote_argv(arg, e, sizeof e);
			if (argv == NULL)
				return util_err(err, errlen, "--slurm-args: %s", e);
			remote_argv_free(argv);
		}
		s->args = arg;
	} else {
		s->worker = arg;
	}
	return 0;
}

int
slurm_check(const struct slurm *s, char *err, size_t errlen)
{
	if (s->workers == 0 && (s->args != NULL || s->worker != NULL))
		return util_err(err, errlen, "--%s needs --slurm N", s->args != NULL ? "slurm-args" : "slurm-worker");
	if (s->worker != NULL && s->worker[0] == '\0')
		return util_err(err, errlen, "--slurm-worker needs a program");
	return 0;
}

char *
slurm_command(const char *args, const char *worker, char *err, size_t errlen)
{
	char *cmd, *q, **argv;
	const char *p;
	size_t n;

	if (args == NULL)
		args = "";
	if (worker == NULL)
		worker = "video-worker";
	/* the worker in single quotes, each ' of it as '\'' (4 bytes for 1) */
	n = sizeof SLURM_SRUN + strlen(args) + 4 * strlen(worker) + 4;
	cmd = malloc(n);
	if (cmd == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	q = cmd + snprintf(cmd, n, "%s %s '", SLURM_SRUN, args);
	for (p = worker; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = *p;
		}
	}
	memcpy(q, "'", 2);
	/* what the pool will split: a bad --slurm-args is found now, not at the first start */
	argv = remote_argv(cmd, err, errlen);
	if (argv == NULL) {
		free(cmd);
		return NULL;
	}
	remote_argv_free(argv);
	return cmd;
}

int
slurm_launchers(struct slurm *s, char *const *remote, int nremote, char *err, size_t errlen)
{
	int i;

	s->nlaunchers = 0;
	if (s->workers > 0 && (s->cmd = slurm_command(s->args, s->worker, err, errlen)) == NULL)
		return -1;
	s->launchers = calloc((size_t)(nremote + s->workers) + 1, sizeof *s->launchers);
	if (s->launchers == NULL) {
		slurm_free(s);
		return util_err(err, errlen, "out of memory");
	}
	for (i = 0; i < nremote; i++)
		s->launchers[s->nlaunchers++] = remote[i];
	for (i = 0; i < s->workers; i++)
		s->launchers[s->nlaunchers++] = s->cmd;
	return 0;
}

void
slurm_free(struct slurm *s)
{
	free(s->cmd);
	free(s->launchers);
	s->cmd = NULL;
	s->launchers = NULL;
	s->nlaunchers = 0;
}
