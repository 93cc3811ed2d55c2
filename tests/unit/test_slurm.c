#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/cli.h"
#include "master/remote.h"
#include "master/slurm.h"

/* The words the pool will start for slurm_command(args, worker) (NULL-terminated list). */
static void
test_slurm_words(const char *args, const char *worker, ...)
{
	char err[256], *cmd = slurm_command(args, worker, err, sizeof err), **argv;
	const char *want;
	va_list ap;
	int i = 0;

	if (cmd == NULL)
		fail_msg("args '%s', worker '%s' refused: %s", args, worker, err);
	argv = remote_argv(cmd, err, sizeof err);
	assert_non_null(argv);
	va_start(ap, worker);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want);
		i++;
	}
	va_end(ap);
	assert_null(argv[i]);
	remote_argv_free(argv);
	free(cmd);
}

#define SRUN "srun", "--nodes=1", "--ntasks=1", "--exact", "--quiet", "--unbuffered", "--job-name=video-worker"

static void
test_slurm_command(void **state)
{
	test_slurm_words(NULL, NULL, SRUN, "video-worker", NULL);
	test_slurm_words("  ", "video-worker", SRUN, "video-worker", NULL);
	/* the user's options after ours, so theirs win (srun takes the last of a repeated one) */
	test_slurm_words("--partition=gpu --time=1:00:00 --job-name='my render'", NULL,
	    SRUN, "--partition=gpu", "--time=1:00:00", "--job-name=my render", "video-worker", NULL);
	/* the worker is one word whatever it holds; nothing is expanded */
	test_slurm_words(NULL, "/opt/it's here/$HOME/video-worker", SRUN, "/opt/it's here/$HOME/video-worker", NULL);
	test_slurm_words(NULL, "a\\b\"c", SRUN, "a\\b\"c", NULL);
}

static void
test_slurm_options(void **state)
{
	struct slurm s = { 0 };
	char err[256];

	assert_int_equal(slurm_option(&s, "slurm", "3", err, sizeof err), 0);
	assert_int_equal(s.workers, 3);
	assert_int_equal(slurm_option(&s, "slurm", "-1", err, sizeof err), -1);
	assert_non_null(strstr(err, "--slurm"));
	assert_int_equal(slurm_option(&s, "slurm", "2x", err, sizeof err), -1);
	assert_int_equal(slurm_option(&s, "slurm", "1025", err, sizeof err), -1);
	assert_int_equal(s.workers, 3);

	assert_int_equal(slurm_option(&s, "slurm-args", "--partition=gpu -t 10", err, sizeof err), 0);
	assert_string_equal(s.args, "--partition=gpu -t 10");
	assert_int_equal(slurm_option(&s, "slurm-args", "", err, sizeof err), 0);
	assert_int_equal(slurm_option(&s, "slurm-args", "--job-name='x", err, sizeof err), -1);
	assert_non_null(strstr(err, "--slurm-args: unterminated"));
	assert_int_equal(slurm_option(&s, "slurm-worker", "/opt/vw", err, sizeof err), 0);
	assert_string_equal(s.worker, "/opt/vw");
	memset(&s, 0, sizeof s);

	/* options about Slurm workers without any */
	s.args = "--partition=gpu";
	assert_int_equal(slurm_check(&s, err, sizeof err), -1);
	assert_non_null(strstr(err, "--slurm-args needs --slurm N"));
	s.args = NULL;
	s.worker = "/opt/video-worker";
	assert_int_equal(slurm_check(&s, err, sizeof err), -1);
	assert_non_null(strstr(err, "--slurm-worker needs --slurm N"));
	s.workers = 1;
	assert_int_equal(slurm_check(&s, err, sizeof err), 0);
	s.worker = "";
	assert_int_equal(slurm_check(&s, err, sizeof err), -1);
}

static void
test_slurm_launchers(void **state)
{
	struct slurm s = { .workers = 2, .args = "-p short" };
	char *remote[] = { "ssh -T a video-worker" };
	char err[256];

	assert_int_equal(slurm_launchers(&s, remote, 1, err, sizeof err), 0);
	assert_int_equal(s.nlaunchers, 3);
	assert_string_equal(s.launchers[0], remote[0]);
	assert_non_null(strstr(s.launchers[1], "srun "));
	assert_non_null(strstr(s.launchers[1], " -p short "));
	assert_string_equal(s.launchers[2], s.launchers[1]);
	slurm_free(&s);
	assert_null(s.launchers);
	assert_int_equal(s.nlaunchers, 0);

	/* no Slurm workers: the --remote ones alone */
	s.workers = 0;
	assert_int_equal(slurm_launchers(&s, remote, 1, err, sizeof err), 0);
	assert_int_equal(s.nlaunchers, 1);
	assert_null(s.cmd);
	slurm_free(&s);
}

/* The command line takes them, and --workers 0 is fine with Slurm workers only. */
static void
test_slurm_cli(void **state)
{
	char *ok[] = { "master", "-w", "0", "--slurm", "4", "--slurm-args", "-p gpu",
	    "--slurm-worker", "/opt/vw", "x.mp4", NULL };
	char *noargs[] = { "master", "--slurm-args", "-p gpu", "x.mp4", NULL };
	char *none[] = { "master", "-w", "0", "--slurm", "0", "x.mp4", NULL };
	struct cli_opts o;
	char err[256];

	assert_int_equal(cli_parse(10, ok, &o, err, sizeof err), 0);
	assert_int_equal(o.workers, 0);
	assert_int_equal(o.slurm.workers, 4);
	assert_string_equal(o.slurm.args, "-p gpu");
	assert_string_equal(o.slurm.worker, "/opt/vw");
	assert_int_equal(cli_parse(4, noargs, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "needs --slurm N"));
	assert_int_equal(cli_parse(6, none, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "--workers 0 needs"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slurm_command),
		cmocka_unit_test(test_slurm_options),
		cmocka_unit_test(test_slurm_launchers),
		cmocka_unit_test(test_slurm_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
