#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

pid_t
spawn(char *const argv[], int in, int out, int err_fd, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int fds[3] = { in, out, err_fd };
	pid_t pid = -1;
	int i, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	for (i = 0; i < 3; i++) {
		if (fds[i] == -1)
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
		else
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	}
	/* The child starts with default signal handling and nothing blocked, whatever the
	 * master had installed for libevent. SIGXFSZ keeps our disposition: ignored (main),
	 * so an ffmpeg over the file size limit (ulimit -f) fails a write with EFBIG and says
	 * "File too large" instead of dying of a signal. */
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGXFSZ);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	if (rc != 0) {
		pid = -1;
		if (rc == ENOENT)
			util_err(err, errlen, "%s not found: install it (scripts/install-deps) or put it on PATH", argv[0]);
		else
			util_err(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

int
spawn_capture_open(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

void
spawn_capture_tail(int fd, char *buf, size_t n)
{
	char tmp[4096];
	off_t end;
	ssize_t r;
	size_t len, start;
	int lines;
	char *p;

	buf[0] = '\0';
	end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		return;
	start = (size_t)end > sizeof tmp - 1 ? (size_t)end - (sizeof tmp - 1) : 0;
	r = pread(fd, tmp, sizeof tmp - 1, (off_t)start);
	if (r <= 0)
		return;
	len = (size_t)r;
	while (len > 0 && (tmp[len - 1] == '\n' || tmp[len - 1] == '\r' || tmp[len - 1] == ' '))
		len--;
	tmp[len] = '\0';
	/* the last two lines, or as much of them as fits: ffmpeg's final words say why */
	p = tmp + len;
	for (lines = 0; p > tmp; p--) {
		if (p[-1] == '\n' && ++lines == 2)
			break;
	}
	while (strlen(p) >= n && strchr(p, '\n') != NULL)
		p = strchr(p, '\n') + 1;
	snprintf(buf, n, "%s", p);
	for (p = buf; *p != '\0'; p++) {
		if (*p == '\n')
			*p = '|';
		else if ((unsigned char)*p < 0x20)
			*p = ' ';
	}
}

int
spawn_wait(pid_t pid, int *status, struct rusage *ru)
{
	struct rusage tmp;
	int st;
	pid_t r;

	do
		r = wait4(pid, &st, 0, ru != NULL ? ru : &tmp);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (status != NULL)
		*status = st;
	return 0;
}

void
spawn_status_str(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d (%s)%s", WTERMSIG(status),
		    strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, n, "status 0x%x", status);
}
