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

/* Starts `prog -version`; a failure to start is kept in r->err for finish to report. */
static void
ffversion_start(struct ffversion_run *r, const char *prog)
{
	char *argv[] = { (char *)prog, "-version", NULL };
	int fds[2] = { -1, -1 };

	r->prog = prog;
	r->pid = -1;
	r->out = r->cap = -1;
	r->err[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) == -1 || (r->cap = spawn_capture_open("version-stderr")) == -1) {
		util_err(r->err, sizeof r->err, "cannot run %s -version: %s", prog, strerror(errno));
		goto done;
	}
	r->pid = spawn(argv, -1, fds[1], r->cap, r->err, sizeof r->err);
done:
	if (fds[1] != -1)
		close(fds[1]);
	r->out = fds[0];
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

	if (r->pid == -1) {
		snprintf(err, errlen, "%s", r->err[0] ? r->err : "cannot run the version check");
		goto done;
	}
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
	r->prog = NULL;
	return rc;
}

void
ffversion_check_start(struct ffversion_check *c)
{
	ffversion_start(&c->ff, "ffmpeg");
	ffversion_start(&c->fp, "ffprobe");
}

int
ffversion_check_finish(struct ffversion_check *c, char *err, size_t errlen)
{
	char err2[512];
	int rc;

	if (c->ff.prog == NULL)
		return 0;               /* finished already */
	/* both are always finished (reaped); the first failure is the one reported */
	rc = ffversion_finish(&c->ff, err, errlen);
	if (ffversion_finish(&c->fp, err2, sizeof err2) == -1 && rc == 0) {
		snprintf(err, errlen, "%s", err2);
		rc = -1;
	}
	return rc;
}

int
ffversion_check(char *err, size_t errlen)
{
	struct ffversion_check c;

	ffversion_check_start(&c);
	return ffversion_check_finish(&c, err, errlen);
}
