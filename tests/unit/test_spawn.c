#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"
#include "common/util.h"
#include "tests/unit/reap.h"

struct test_spawn_dir {
	char path[PATH_MAX];
};

static int
test_spawn_setup(void **state)
{
	struct test_spawn_dir *d = calloc(1, sizeof *d);

	if (d == NULL)
		return -1;
	snprintf(d->path, sizeof d->path, "/tmp/test_spawn-XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
test_spawn_teardown(void **state)
{
	struct test_spawn_dir *d = *state;

	util_rm_rf(d->path);
	free(d);
	return reap_children(state);
}

static void
test_spawn_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(util_write_full(fd, data, len, NULL), 0);
	close(fd);
}

static int
test_spawn_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Runs argv with stdout into a pipe; returns what it printed (static buffer) and its status. */
static const char *
test_spawn_output(char *const argv[], int *status)
{
	static char out[8192];
	char err[256] = "";
	int fds[2];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = spawn(argv, -1, fds[1], -1, err, sizeof err);
	if (pid == -1)
		fail_msg("spawn %s: %s", argv[0], err);
	/* our copy of the write end must go, or the read below never sees EOF */
	close(fds[1]);
	n = util_read_full(fds[0], out, sizeof out - 1, NULL);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(spawn_wait(pid, status, NULL), 0);
	return out;
}

static void
test_spawn_hostile_names(void **state)
{
	struct test_spawn_dir *d = *state;
	char marker[PATH_MAX], name[PATH_MAX * 2], want[PATH_MAX * 2 + 8];
	const char *templates[] = {
		"clip with spaces.mp4",
		"it's a \"quoted\" clip.mov",
		"x.mp4; touch @",
		"$(touch @).mp4",
		"`touch @`.mkv",
		"a.mp4 && touch @",
		"| touch @",
		"*.mp4",
		"-rf",
		"--help",
		"new\nline\ttab.mp4",
		"%s%n%x.mp4",
		"\\backslash\\ 'single' \"double\"",
	};
	const char *out, *at;
	size_t i;
	int st;

	snprintf(marker, sizeof marker, "%s/pwned", d->path);
	for (i = 0; i < sizeof templates / sizeof templates[0]; i++) {
		char *argv[] = { "printf", "[%s]", name, NULL };

		at = strchr(templates[i], '@');
		if (at != NULL)
			snprintf(name, sizeof name, "%.*s%s%s", (int)(at - templates[i]), templates[i], marker, at + 1);
		else
			snprintf(name, sizeof name, "%s", templates[i]);
		out = test_spawn_output(argv, &st);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* printf repeats its format per argument: one pair of brackets = one argv element */
		snprintf(want, sizeof want, "[%s]", name);
		if (strcmp(out, want) != 0)
			fail_msg("name %zu came out as '%s', expected '%s'", i, out, want);
		if (test_spawn_exists(marker))
			fail_msg("'%s' ran a shell command", name);
	}
}

static void
test_spawn_echo_and_stdin(void **state)
{
	char *echo[] = { "/bin/echo", "one two", "three", NULL };
	char *cat[] = { "cat", NULL };
	const char *out;
	int st;

	out = test_spawn_output(echo, &st);
	assert_string_equal(out, "one two three\n");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* stdin is /dev/null when not given: cat ends at once instead of waiting on ours */
	out = test_spawn_output(cat, &st);
	assert_string_equal(out, "");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_spawn_feeds_stdin(void **state)
{
	char *argv[] = { "cat", NULL };
	char err[256], out[64];
	int in[2], outp[2], st;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
	pid = spawn(argv, in[0], outp[1], -1, err, sizeof err);
	assert_true(pid > 0);
	close(in[0]);
	close(outp[1]);
	assert_int_equal(util_write_full(in[1], "frame data", 10, NULL), 0);
	close(in[1]);
	n = util_read_full(outp[0], out, sizeof out - 1, NULL);
	assert_int_equal(n, 10);
	out[n] = '\0';
	assert_string_equal(out, "frame data");
	close(outp[0]);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_spawn_not_found(void **state)
{
	char *argv[] = { "ffmpeg-does-not-exist-here", "-i", "x.mp4", NULL };
	char *abs[] = { "/nonexistent/dir/ffprobe", NULL };
	char err[512] = "";

	assert_int_equal(spawn(argv, -1, -1, -1, err, sizeof err), -1);
	assert_non_null(strstr(err, "not found"));
	assert_non_null(strstr(err, "ffmpeg-does-not-exist-here"));
	err[0] = '\0';
	assert_int_equal(spawn(abs, -1, -1, -1, err, sizeof err), -1);
	assert_non_null(strstr(err, "not found"));
	assert_non_null(strstr(err, "/nonexistent/dir/ffprobe"));
	/* no child was left behind */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_spawn_not_executable(void **state)
{
	struct test_spawn_dir *d = *state;
	char path[PATH_MAX], err[512] = "";
	char *argv[] = { path, NULL };

	snprintf(path, sizeof path, "%s/not-a-program", d->path);
	test_spawn_write_file(path, "data", 4);
	assert_int_equal(spawn(argv, -1, -1, -1, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot start"));
	assert_non_null(strstr(err, path));
}

/* Runs a shell script with its stderr into a capture file (the script is ours, not a user's). */
static int
test_spawn_capture_script(const char *script)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char err[256];
	int fd, st;
	pid_t pid;

	fd = spawn_capture_open("test-stderr");
	assert_true(fd >= 0);
	pid = spawn(argv, -1, -1, fd, err, sizeof err);
	if (pid == -1)
		fail_msg("%s", err);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	return fd;
}

static void
test_spawn_capture_tail(void **state)
{
	char tail[512], small[16];
	int fd;

	fd = test_spawn_capture_script("printf 'line1\\nline2\\nline3\\nlast words\\n\\n\\n' >&2; echo not-stderr");
	spawn_capture_tail(fd, tail, sizeof tail);
	assert_string_equal(tail, "line3|last words");
	/* too small for both: the last line wins */
	spawn_capture_tail(fd, small, sizeof small);
	assert_string_equal(small, "last words");
	close(fd);

	/* much more than the tail window: still the last two lines */
	fd = test_spawn_capture_script("i=0; while [ $i -lt 2000 ]; do echo \"noise $i\" >&2; i=$((i+1)); done;"
	    " echo 'Error while decoding stream #0:0' >&2; printf 'Conversion failed!\\r\\n' >&2");
	spawn_capture_tail(fd, tail, sizeof tail);
	assert_string_equal(tail, "Error while decoding stream #0:0|Conversion failed!");
	close(fd);

	/* one line, control characters made harmless */
	fd = test_spawn_capture_script("printf 'bad \\033[31mred\\033[0m\\tdone' >&2");
	spawn_capture_tail(fd, tail, sizeof tail);
	assert_string_equal(tail, "bad  [31mred [0m done");
	close(fd);

	/* nothing written */
	fd = test_spawn_capture_script("true");
	strcpy(tail, "stale");
	spawn_capture_tail(fd, tail, sizeof tail);
	assert_string_equal(tail, "");
	close(fd);
}

static void
test_spawn_status_str(void **state)
{
	char *fail[] = { "false", NULL };
	char *ok[] = { "true", NULL };
	char *sleeper[] = { "sleep", "30", NULL };
	char buf[128], err[256];
	sigset_t term, old;
	int st;
	pid_t pid;

	pid = spawn(ok, -1, -1, -1, err, sizeof err);
	assert_true(pid > 0);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	spawn_status_str(st, buf, sizeof buf);
	assert_string_equal(buf, "exit 0");

	pid = spawn(fail, -1, -1, -1, err, sizeof err);
	assert_true(pid > 0);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	spawn_status_str(st, buf, sizeof buf);
	assert_string_equal(buf, "exit 1");

	/* SIGTERM is blocked here, as libevent's master may have it; the child must not inherit that */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	pid = spawn(sleeper, -1, -1, -1, err, sizeof err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_true(pid > 0);
	usleep(100 * 1000);
	kill(pid, SIGTERM);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	spawn_status_str(st, buf, sizeof buf);
	assert_string_equal(buf, "killed by signal 15 (Terminated)");

	pid = spawn(sleeper, -1, -1, -1, err, sizeof err);
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	assert_int_equal(spawn_wait(pid, &st, NULL), 0);
	spawn_status_str(st, buf, sizeof buf);
	assert_string_equal(buf, "killed by signal 9 (Killed)");

	/* forged statuses: a core dump, and exec failure in a child */
	spawn_status_str(SIGSEGV | 0x80, buf, sizeof buf);
	assert_string_equal(buf, "killed by signal 11 (Segmentation fault), core dumped");
	spawn_status_str(127 << 8, buf, sizeof buf);
	assert_string_equal(buf, "exit 127");
	/* truncated, never overflowing */
	spawn_status_str(SIGKILL, buf, 8);
	assert_string_equal(buf, "killed ");

	/* waiting for a child that is not ours fails cleanly */
	assert_int_equal(spawn_wait(1, &st, NULL), -1);
}

static void
test_spawn_rm_rf_symlink(void **state)
{
	struct test_spawn_dir *d = *state;
	char tree[PATH_MAX], outside[PATH_MAX], p[PATH_MAX * 2], q[PATH_MAX * 2], err[256];

	snprintf(tree, sizeof tree, "%s/tree", d->path);
	snprintf(outside, sizeof outside, "%s/outside", d->path);
	snprintf(p, sizeof p, "%s/a/b/c", tree);
	assert_int_equal(util_mkdir_p(p, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/sub", outside);
	assert_int_equal(util_mkdir_p(p, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/a/b/c/deep.txt", tree);
	test_spawn_write_file(p, "deep", 4);
	snprintf(p, sizeof p, "%s/a/top.txt", tree);
	test_spawn_write_file(p, "top", 3);
	snprintf(p, sizeof p, "%s/empty", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/keep.txt", outside);
	test_spawn_write_file(p, "keep", 4);
	snprintf(p, sizeof p, "%s/sub/keep2.txt", outside);
	test_spawn_write_file(p, "keep2", 5);

	/* links out of the tree: to the outside directory, to a file there, and a dangling one */
	snprintf(p, sizeof p, "%s/a/b/link-dir", tree);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof p, "%s/link-file", tree);
	snprintf(q, sizeof q, "%s/keep.txt", outside);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof p, "%s/dangling", tree);
	assert_int_equal(symlink("/nonexistent/target", p), 0);

	assert_int_equal(util_rm_rf(tree), 0);
	assert_false(test_spawn_exists(tree));
	snprintf(p, sizeof p, "%s/keep.txt", outside);
	assert_true(test_spawn_exists(p));
	snprintf(p, sizeof p, "%s/sub/keep2.txt", outside);
	assert_true(test_spawn_exists(p));

	/* removing the link itself removes the link, not what it points to */
	snprintf(p, sizeof p, "%s/link-to-outside", d->path);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(util_rm_rf(p), 0);
	assert_false(test_spawn_exists(p));
	snprintf(p, sizeof p, "%s/sub/keep2.txt", outside);
	assert_true(test_spawn_exists(p));

	/* a plain file, and something that is not there */
	snprintf(p, sizeof p, "%s/keep.txt", outside);
	assert_int_equal(util_rm_rf(p), 0);
	assert_false(test_spawn_exists(p));
	assert_int_equal(util_rm_rf(p), 0);
}

static void
test_spawn_files_equal(void **state)
{
	struct test_spawn_dir *d = *state;
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], e1[PATH_MAX], e2[PATH_MAX], missing[PATH_MAX];
	size_t n = 200000, i;
	char *buf;

	buf = malloc(n);
	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 31 + i / 977);
	snprintf(a, sizeof a, "%s/a.bin", d->path);
	snprintf(b, sizeof b, "%s/b.bin", d->path);
	snprintf(c, sizeof c, "%s/c.bin", d->path);
	snprintf(e1, sizeof e1, "%s/e1", d->path);
	snprintf(e2, sizeof e2, "%s/e2", d->path);
	snprintf(missing, sizeof missing, "%s/missing", d->path);
	test_spawn_write_file(a, buf, n);
	test_spawn_write_file(b, buf, n);
	test_spawn_write_file(e1, "", 0);
	test_spawn_write_file(e2, "", 0);

	assert_int_equal(util_files_equal(a, b), 1);
	assert_int_equal(util_files_equal(a, a), 1);
	assert_int_equal(util_files_equal(e1, e2), 1);
	assert_int_equal(util_files_equal(a, e1), 0);

	/* one byte differs past the first 64 KiB block */
	buf[150000] ^= 1;
	test_spawn_write_file(c, buf, n);
	assert_int_equal(util_files_equal(a, c), 0);
	buf[150000] ^= 1;
	/* one byte differs at the very end */
	buf[n - 1] ^= 0x80;
	test_spawn_write_file(c, buf, n);
	assert_int_equal(util_files_equal(a, c), 0);
	buf[n - 1] ^= 0x80;
	/* a prefix, in both orders */
	test_spawn_write_file(c, buf, n - 1);
	assert_int_equal(util_files_equal(a, c), 0);
	assert_int_equal(util_files_equal(c, a), 0);
	test_spawn_write_file(c, buf, 65536);
	assert_int_equal(util_files_equal(a, c), 0);

	assert_int_equal(util_files_equal(a, missing), -1);
	assert_int_equal(util_files_equal(missing, a), -1);
	assert_int_equal(util_files_equal(missing, missing), -1);
	free(buf);
}

static void
test_spawn_util_misc(void **state)
{
	struct test_spawn_dir *d = *state;
	char p[PATH_MAX], err[512] = "";

	snprintf(p, sizeof p, "%s/x/y/z", d->path);
	assert_int_equal(util_mkdir_p(p, err, sizeof err), 0);
	assert_int_equal(util_mkdir_p(p, err, sizeof err), 0);
	assert_true(test_spawn_exists(p));

	snprintf(p, sizeof p, "%s/file", d->path);
	test_spawn_write_file(p, "12345", 5);
	assert_int_equal(util_file_size(p), 5);
	snprintf(p, sizeof p, "%s/file/sub", d->path);
	assert_int_equal(util_mkdir_p(p, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create directory"));
	assert_non_null(strstr(err, "file"));
	assert_int_equal(util_file_size(p), -1);

	/* a NULL message buffer is allowed */
	assert_int_equal(util_err(NULL, 0, "x %d", 1), -1);
	assert_int_equal(util_err(err, sizeof err, "segment %d: %s", 3, "gone"), -1);
	assert_string_equal(err, "segment 3: gone");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spawn_hostile_names, test_spawn_setup, test_spawn_teardown),
		cmocka_unit_test_teardown(test_spawn_echo_and_stdin, reap_children),
		cmocka_unit_test_teardown(test_spawn_feeds_stdin, reap_children),
		cmocka_unit_test_teardown(test_spawn_not_found, reap_children),
		cmocka_unit_test_setup_teardown(test_spawn_not_executable, test_spawn_setup, test_spawn_teardown),
		cmocka_unit_test_teardown(test_spawn_capture_tail, reap_children),
		cmocka_unit_test_teardown(test_spawn_status_str, reap_children),
		cmocka_unit_test_setup_teardown(test_spawn_rm_rf_symlink, test_spawn_setup, test_spawn_teardown),
		cmocka_unit_test_setup_teardown(test_spawn_files_equal, test_spawn_setup, test_spawn_teardown),
		cmocka_unit_test_setup_teardown(test_spawn_util_misc, test_spawn_setup, test_spawn_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
