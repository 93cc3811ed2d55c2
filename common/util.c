#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
util_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

ssize_t
util_read_full(int fd, void *buf, size_t n, volatile int *stop)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR && (stop == NULL || !*stop))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
util_write_full(int fd, const void *buf, size_t n, volatile int *stop)
{
	size_t put = 0;
	ssize_t r;

	while (put < n) {
		r = write(fd, (const char *)buf + put, n - put);
		if (r < 0) {
			if (errno == EINTR && (stop == NULL || !*stop))
				continue;
			return -1;
		}
		put += (size_t)r;
	}
	return 0;
}

int
util_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
util_mkdir_p(const char *path, char *err, size_t errlen)
{
	char buf[4096];
	size_t len = strlen(path);
	char *p;

	if (len == 0 || len >= sizeof buf)
		return util_err(err, errlen, "cannot create directory: path too long");
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return util_err(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return util_err(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
	return 0;
}

typedef int (*util_visit_fn)(int parent, const char *name, const struct stat *st, void *arg);

/* Visits parent/name and everything under it, children before their directory, relative to
 * open directories and without following a symlink, so a renamed or symlinked entry cannot
 * lead the walk outside the tree. A missing entry is not an error. */
static int
util_walk_at(int parent, const char *name, util_visit_fn fn, void *arg)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return fn(parent, name, &st, arg);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (util_walk_at(dirfd(d), de->d_name, fn, arg) == -1)
			rc = -1;
	}
	closedir(d);
	if (fn(parent, name, &st, arg) == -1)
		rc = -1;
	return rc;
}

static int
util_rm_visit(int parent, const char *name, const struct stat *st, void *arg)
{
	return unlinkat(parent, name, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0);
}

int
util_rm_rf(const char *path)
{
	return util_walk_at(AT_FDCWD, path, util_rm_visit, NULL);
}

static int
util_size_visit(int parent, const char *name, const struct stat *st, void *arg)
{
	if (S_ISREG(st->st_mode))
		*(int64_t *)arg += (int64_t)st->st_size;
	return 0;
}

int64_t
util_tree_size(const char *path)
{
	int64_t total = 0;

	util_walk_at(AT_FDCWD, path, util_size_visit, &total);
	return total;
}

int64_t
util_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	return (int64_t)st.st_size;
}

int
util_files_equal(const char *a, const char *b)
{
	char ba[65536], bb[65536];
	int fa = -1, fb = -1, rc = -1;
	ssize_t na, nb;

	fa = open(a, O_RDONLY | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_CLOEXEC);
	if (fa == -1 || fb == -1)
		goto done;
	for (;;) {
		na = util_read_full(fa, ba, sizeof ba, NULL);
		nb = util_read_full(fb, bb, sizeof bb, NULL);
		if (na < 0 || nb < 0)
			goto done;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			rc = 0;
			goto done;
		}
		if (na == 0)
			break;
	}
	rc = 1;
done:
	if (fa != -1)
		close(fa);
	if (fb != -1)
		close(fb);
	return rc;
}
