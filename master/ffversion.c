#include "master/ffversion.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"

int
ffversion_parse(const char *text, const char *prog, int *major, int *minor)
{
	const char *v;
	size_t n = strlen(prog);
	char *end;
	long a, b;

	if (strncmp(text, prog, n) != 0 || strncmp(text + n, " version ", 9) != 0)
		return -1;
	v = text + n + 9;
	/* git tags of releases are "n6.1.1" */
	if (v[0] == 'n' && isdigit((unsigned char)v[1]))
		v++;
	if (!isdigit((unsigned char)v[0]))
		return 0;               /* "N-112345-g...", "git-2023-...": built from the tree */
	errno = 0;
	a = strtol(v, &end, 10);
	if (errno || *end != '.' || !isdigit((unsigned char)end[1]) || a > 999)
		return 0;               /* "2023-03-05-git-...": a snapshot named by its date */
	b = strtol(end + 1, NULL, 10);
	*major = (int)a;
	*minor = b > 999 ? 999 : (int)b;
	return 1;
}

int
ffversion_recent_enough(int major, int minor)
{
	return major > FFVERSION_MIN_MAJOR || (major == FFVERSION_MIN_MAJOR && minor >= FFVERSION_MIN_MINOR);
}

/* One `prog -version` in flight: both programs are asked at once, since each takes ~0.1 s
 * just to start (the dynamic linker binding ~210 libraries), which a short clip notices. */
struct ffversion_run {
	const char *prog;
	pid_t pid;
	int out;                /* read end of its stdout */
	int cap;                /* its stderr, for the message when it fails */
};

static int
ffversion_start(struct ffversion_run *r, const char *prog, char *err, size_t errlen)
{
	char *argv[] = { (char *)prog, "-version", NULL };
	int fds[2] = { -1, -1 };

	r->prog = prog;
	r->pid = -1;
	r->out = r->cap = -1;
	if (pipe2(fds, O_CLOEXEC) == -1 || (r->cap = spawn_capture_open("version-stderr")) == -1) {
		util_err(err, errlen, "cannot run %s -version: %s", prog, strerror(errno));
		goto done;
	}
	r->pid = spawn(argv, -1, fds[1], r->cap, err, errlen);
done:
	if (fds[1] != -1)
		close(fds[1]);
	r->out = fds[0];
	return r->pid == -1 ? -1 : 0;
}

/* Waits for it and checks its first line; releases what start took, whatever happened. */
static int
ffversion_finish(struct ffversion_run *r, char *err, size_t errlen)
{
	const char *prog = r->prog;
	char out[1024], drain[1024], how[128], tail[512];
	int status = 0, major = 0, minor = 0, rc = -1;
	ssize_t got;
	size_t len = 0;

	if (r->pid == -1)
		goto done;
	/* the first line is all we need; the rest is drained so the child never blocks */
	for (;;) {
		int full = len == sizeof out - 1;

		got = read(r->out, full ? drain : out + len, full ? sizeof drain : sizeof out - 1 - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (!full)
			len += (size_t)got;
	}
	out[len] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (spawn_wait(r->pid, &status, NULL) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		spawn_status_str(status, how, sizeof how);
		spawn_capture_tail(r->cap, tail, sizeof tail);
		util_err(err, errlen, "%s does not run: `%s -version` %s%s%s", prog, prog, how,
		    tail[0] ? ": " : "", tail);
		goto done;
	}
	switch (ffversion_parse(out, prog, &major, &minor)) {
	case 1:
		if (!ffversion_recent_enough(major, minor)) {
			util_err(err, errlen, "%s %d.%d is too old: video-renderer needs %d.%d or newer (for %s)",
			    prog, major, minor, FFVERSION_MIN_MAJOR, FFVERSION_MIN_MINOR, FFVERSION_MIN_WHY);
			goto done;
		}
		log_debug("%s %d.%d", prog, major, minor);
		break;
	case 0:
		log_debug("%s is a development build: %s", prog, out);
		break;
	default:
		/* an unusual build may still work: say so and go on */
		log_warn("cannot tell which version %s is (its -version says \"%.80s\"); "
		    "video-renderer needs %d.%d or newer", prog, out, FFVERSION_MIN_MAJOR, FFVERSION_MIN_MINOR);
		break;
	}
	rc = 0;
done:
	if (r->out != -1)
		close(r->out);
	if (r->cap != -1)
		close(r->cap);
	r->pid = -1;
	r->out = r->cap = -1;
	return rc;
}

int
ffversion_check(char *err, size_t errlen)
{
	struct ffversion_run ff, fp;
	char err2[512];
	int rc;

	ffversion_start(&ff, "ffmpeg", err, errlen);
	ffversion_start(&fp, "ffprobe", err2, sizeof err2);
	/* both are always finished (reaped); the first failure is the one reported */
	rc = ffversion_finish(&ff, err, errlen);
	if (ffversion_finish(&fp, err2, sizeof err2) == -1 && rc == 0) {
		snprintf(err, errlen, "%s", err2);
		rc = -1;
	}
	return rc;
}
