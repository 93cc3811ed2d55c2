/*
 * A cmocka teardown for tests that start processes: ends and reaps every child of the test
 * binary, also when an assertion failed half-way (cmocka runs the teardown after a failure),
 * so one failure never cascades into a later test's "no child left" check. Header-only: each
 * test binary is one .c file.
 */
#ifndef TESTS_UNIT_REAP_H
#define TESTS_UNIT_REAP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* Sends sig to every child of this process, found in /proc: a test that failed half-way left
 * no list of what it started. */
static void
reap_signal_children(int sig)
{
	char path[64], buf[512], *rp;
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;
	long ppid;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* "pid (comm) state ppid ...": comm may hold spaces and parentheses */
		if (fgets(buf, sizeof buf, f) != NULL && (rp = strrchr(buf, ')')) != NULL &&
		    sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == (long)getpid())
			kill((pid_t)atol(de->d_name), sig);
		fclose(f);
	}
	closedir(d);
}

/* SIGTERM (a pool worker stops its ffmpeg on it), SIGCONT (a stopped child must see it), then
 * SIGKILL for whatever is still there after a grace; returns once no child is left. */
static int
reap_children(void **state)
{
	double kill_at = util_now() + 5;
	int st, killed = 0;
	pid_t pid;

	reap_signal_children(SIGTERM);
	reap_signal_children(SIGCONT);
	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == -1 && errno == ECHILD)
			break;
		if (pid == -1 && errno != EINTR)
			return -1;
		if (pid != 0)
			continue;
		if (!killed && util_now() > kill_at) {
			reap_signal_children(SIGKILL);
			killed = 1;
		}
		usleep(20 * 1000);
	}
	return 0;
}

#endif
