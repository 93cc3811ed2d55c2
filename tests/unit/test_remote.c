#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/msg.h"
#include "master/remote.h"

/* Splits cmd and checks the words (NULL-terminated list). */
static void
test_remote_words(const char *cmd, ...)
{
	char err[256], **argv = remote_argv(cmd, err, sizeof err);
	const char *want;
	va_list ap;
	int i = 0;

	if (argv == NULL)
		fail_msg("'%s' refused: %s", cmd, err);
	va_start(ap, cmd);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want);
		i++;
	}
	va_end(ap);
	assert_null(argv[i]);
	remote_argv_free(argv);
}

static void
test_remote_argv_split(void **state)
{
	test_remote_words("ssh -T render1 video-worker", "ssh", "-T", "render1", "video-worker", NULL);
	test_remote_words("  srun\t--nodes=1   worker  ", "srun", "--nodes=1", "worker", NULL);
	/* quotes group, and nothing is expanded: no shell runs */
	test_remote_words("ssh 'host name' \"a b\" c\\ d", "ssh", "host name", "a b", "c d", NULL);
	test_remote_words("echo '$HOME' \"$HOME\" `id` ; rm", "echo", "$HOME", "$HOME", "`id`", ";", "rm", NULL);
	test_remote_words("a\"b\"'c'd", "abcd", NULL);
	test_remote_words("x \"say \\\"hi\\\"\" ''", "x", "say \"hi\"", "", NULL);
}

static void
test_remote_argv_errors(void **state)
{
	char err[256];

	assert_null(remote_argv("", err, sizeof err));
	assert_non_null(strstr(err, "empty"));
	assert_null(remote_argv("   \t", err, sizeof err));
	assert_null(remote_argv("ssh 'host", err, sizeof err));
	assert_non_null(strstr(err, "unterminated"));
	assert_null(remote_argv("ssh \"host", err, sizeof err));
}

/* A result received in chunks lands under its name only when whole; short or long ones leave
 * no file behind. */
static void
test_remote_recv(void **state)
{
	struct remote_xfer x;
	char dir[] = "/tmp/vr-remote-test-XXXXXX", out[256], part[300], err[256], buf[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/out.mp4", dir);
	snprintf(part, sizeof part, "%s.part", out);
	remote_xfer_init(&x);

	assert_int_equal(remote_recv_begin(&x, 10, out, err, sizeof err), 0);
	assert_int_equal(remote_recv_chunk(&x, "hello", 5, err, sizeof err), 0);
	assert_int_equal(access(out, F_OK), -1);   /* not under its name while incomplete */
	assert_int_equal(remote_recv_chunk(&x, "world", 5, err, sizeof err), 0);
	assert_int_equal(remote_recv_finish(&x, err, sizeof err), 0);
	f = fopen(out, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof buf, f), 10);
	fclose(f);
	assert_memory_equal(buf, "helloworld", 10);
	assert_int_equal(access(part, F_OK), -1);
	unlink(out);

	/* cut short */
	assert_int_equal(remote_recv_begin(&x, 10, out, err, sizeof err), 0);
	assert_int_equal(remote_recv_chunk(&x, "hello", 5, err, sizeof err), 0);
	assert_int_equal(remote_recv_finish(&x, err, sizeof err), -1);
	assert_non_null(strstr(err, "cut short"));
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(access(part, F_OK), -1);

	/* longer than announced */
	assert_int_equal(remote_recv_begin(&x, 3, out, err, sizeof err), 0);
	assert_int_equal(remote_recv_chunk(&x, "hello", 5, err, sizeof err), -1);
	assert_non_null(strstr(err, "longer"));
	remote_xfer_reset(&x);
	assert_int_equal(access(part, F_OK), -1);

	/* a chunk nobody announced; a worker that vanishes mid-file */
	assert_int_equal(remote_recv_chunk(&x, "x", 1, err, sizeof err), -1);
	assert_int_equal(remote_recv_begin(&x, 3, out, err, sizeof err), 0);
	assert_int_equal(remote_recv_chunk(&x, "ab", 2, err, sizeof err), 0);
	remote_xfer_reset(&x);
	assert_int_equal(access(part, F_OK), -1);
	assert_int_equal(access(out, F_OK), -1);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_argv_split),
		cmocka_unit_test(test_remote_argv_errors),
		cmocka_unit_test(test_remote_recv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
