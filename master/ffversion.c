#include "master/ffversion.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The file of programs already found recent enough: $XDG_CACHE_HOME/video-renderer/ffversion
 * (~/.cache when unset); 0 when there is nowhere to keep it. */
static int
ffversion_cache_path(char *path, size_t n, int create)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[4096];

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dir, sizeof dir, "%s/video-renderer", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(dir, sizeof dir, "%s/.cache/video-renderer", home);
	else
		return 0;
	if (create && util_mkdir_p(dir, NULL, 0) == -1)
		return 0;
	return snprintf(path, n, "%s/ffversion", dir) < (int)n;
}

/*
 * What identifies the program that would run: its path on PATH, modification time, size and
 * inode. A line of the cache equal to it means this very binary passed the check already, so
 * `prog -version` (~0.1 s of dynamic linking, twice per command) need not run again; an
 * upgrade changes the line. Empty when prog is not found (the run then says why).
 */
static void
ffversion_key(const char *prog, char *key, size_t n)
{
	const char *path = getenv("PATH"), *p, *e;
	char full[4096];
	struct stat st;

	key[0] = '\0';
	for (p = path ? path : "/usr/bin:/bin"; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		if (e == p)
			snprintf(full, sizeof full, "./%s", prog);  /* an empty entry is the current directory */
		else
			snprintf(full, sizeof full, "%.*s/%s", (int)(e - p), p, prog);
		if (access(full, X_OK) == 0 && stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(key, n, "%s\t%lld.%09ld\t%lld\t%llu\n", full, (long long)st.st_mtim.tv_sec,
			    st.st_mtim.tv_nsec, (long long)st.st_size, (unsigned long long)st.st_ino);
			return;
		}
	}
}

static int
ffversion_cached(const char *key)
{
	char path[4200], line[4400];
	FILE *f;
	int hit = 0;

	if (key[0] == '\0' || !ffversion_cache_path(path, sizeof path, 0) || (f = fopen(path, "re")) == NULL)
		return 0;
	while (!hit && fgets(line, sizeof line, f) != NULL)
		hit = strcmp(line, key) == 0;
	fclose(f);
	return hit;
}

/* Best effort: a cache that cannot be written only costs the next command its check. */
static void
ffversion_remember(const char *key)
{
	char path[4200];
	int fd;

	if (key[0] == '\0' || !ffversion_cache_path(path, sizeof path, 1))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return;
	/* one write of a short line with O_APPEND: commands running at once do not interleave */
	if (write(fd, key, strlen(key)) == -1)
		log_debug("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* Starts `prog -version`, unless this binary passed before (cache); a failure to start is
 * kept in r->err for finish to report. */
static void
ffversion_start(struct ffversion_run *r, const char *prog)
{
	char *argv[] = { (char *)prog, "-version", NULL };
	int fds[2] = { -1, -1 };

	r->prog = prog;
	r->pid = -1;
	r->out = r->cap = -1;
	r->err[0] = '\0';
	ffversion_key(prog, r->key, sizeof r->key);
	if (ffversion_cached(r->key)) {
		r->pid = FFVERSION_CACHED;
		return;
	}
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

	if (r->pid == FFVERSION_CACHED) {
		log_debug("%s: checked before (%s)", prog, r->key);
		rc = 0;
		goto done;
	}
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
		ffversion_remember(r->key);
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
