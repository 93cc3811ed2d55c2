#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "common/version.h"
#include "master/cli.h"
#include "master/outname.h"

#define TEST_CLI_MAX_ARGS 32

/* Parses a NULL-terminated list of arguments (after "master"); returns cli_parse's result. */
static int
test_cli_parse(struct cli_opts *o, char *err, size_t errlen, ...)
{
	static char *argv[TEST_CLI_MAX_ARGS + 2];
	va_list ap;
	int argc = 0;
	char *a;

	argv[argc++] = "master";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc <= TEST_CLI_MAX_ARGS)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, o, err, errlen);
}

#define TEST_CLI_OK(o, ...) do { \
	char test_cli_err[512]; \
	if (test_cli_parse((o), test_cli_err, sizeof test_cli_err, __VA_ARGS__, (char *)NULL) != 0) \
		fail_msg("rejected: %s", test_cli_err); \
} while (0)

/* The arguments must be refused with a message that contains want. */
#define TEST_CLI_BAD(want, ...) do { \
	struct cli_opts test_cli_o; \
	char test_cli_err[512]; \
	if (test_cli_parse(&test_cli_o, test_cli_err, sizeof test_cli_err, __VA_ARGS__, (char *)NULL) != -1) \
		fail_msg("accepted, expected an error with '%s'", (want)); \
	if (strstr(test_cli_err, (want)) == NULL) \
		fail_msg("error '%s' does not mention '%s'", test_cli_err, (want)); \
} while (0)

static void
test_cli_defaults(void **state)
{
	struct cli_opts o;

	TEST_CLI_OK(&o, "clip.mp4");
	assert_string_equal(o.input, "clip.mp4");
	assert_null(o.output);
	assert_string_equal(o.filter, "grayscale");
	assert_string_equal(o.preset, "veryfast");
	assert_int_equal(o.crf, -1);
	assert_int_equal(format_crf(&o.format), 20);
	assert_string_equal(o.format.container, "mp4");
	assert_string_equal(o.format.codec, "h264");
	assert_int_equal(o.workers, -1);
	/* long pieces for a file, short ones when the result is streamed too */
	assert_true(o.segment_seconds == 60.0);
	TEST_CLI_OK(&o, "--hls", "out/stream", "clip.mp4");
	assert_true(o.segment_seconds == 10.0);
	TEST_CLI_OK(&o, "--hls", "out/stream", "-s", "30", "clip.mp4");
	assert_true(o.segment_seconds == 30.0);
	TEST_CLI_OK(&o, "clip.mp4");
	/* one pass by default: the baseline only with --compare */
	assert_int_equal(o.baseline, 0);
	assert_int_equal(o.overwrite, 0);
	assert_int_equal(o.ninputs, 1);
	assert_int_equal(o.json, 0);
	assert_int_equal(o.quiet, 0);
	assert_int_equal(o.verbose, 0);
	assert_int_equal(o.keep_temp, 0);
	assert_int_equal(o.list_filters, 0);
	assert_int_equal(o.help, 0);
	assert_int_equal(o.version, 0);
	/* the command line runs a user's own files: no size limits unless asked */
	assert_int_equal(o.limits.max_pixels, 0);
	assert_true(o.limits.max_duration == 0);
}

static void
test_cli_limits(void **state)
{
	struct cli_opts o;

	TEST_CLI_OK(&o, "--max-pixels", "3840x2160", "--max-duration=90.5", "in.mov");
	assert_int_equal(o.limits.max_pixels, 3840 * 2160);
	assert_true(o.limits.max_duration == 90.5);
	TEST_CLI_OK(&o, "--max-pixels=76800", "--max-duration", "0", "in.mov");
	assert_int_equal(o.limits.max_pixels, 76800);
	assert_true(o.limits.max_duration == 0);
	TEST_CLI_BAD("--max-pixels", "--max-pixels", "big", "in.mov");
	TEST_CLI_BAD("--max-pixels", "--max-pixels=-1", "in.mov");
	TEST_CLI_BAD("--max-duration", "--max-duration", "1h", "in.mov");
	TEST_CLI_BAD("needs a value", "in.mov", "--max-duration");
}

static void
test_cli_every_option(void **state)
{
	struct cli_opts o;

	TEST_CLI_OK(&o, "-f", "blur:sigma=3,grayscale", "-w", "4", "-s", "2.5", "-o", "out dir/x.mp4",
	    "--preset", "slow", "--crf", "0", "--no-baseline", "--json", "-q", "-v", "--keep-temp", "in.mov");
	assert_string_equal(o.input, "in.mov");
	assert_string_equal(o.filter, "blur:sigma=3,grayscale");
	assert_int_equal(o.workers, 4);
	assert_true(o.segment_seconds == 2.5);
	assert_string_equal(o.output, "out dir/x.mp4");
	assert_string_equal(o.preset, "slow");
	assert_int_equal(o.crf, 0);
	assert_int_equal(o.baseline, 0);
	assert_int_equal(o.json, 1);
	assert_int_equal(o.quiet, 1);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.keep_temp, 1);

	/* the long spellings, with = and with a separate value, options after the file */
	TEST_CLI_OK(&o, "in.mov", "--filter=invert", "--workers", "1024", "--segment-seconds=3600",
	    "--output", "o.mp4", "--preset=ultrafast", "--crf=51", "--quiet", "--verbose");
	assert_string_equal(o.input, "in.mov");
	assert_string_equal(o.filter, "invert");
	assert_int_equal(o.workers, 1024);
	assert_true(o.segment_seconds == 3600);
	assert_string_equal(o.output, "o.mp4");
	assert_string_equal(o.preset, "ultrafast");
	assert_int_equal(o.crf, 51);
	assert_int_equal(o.quiet, 1);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.baseline, 0);

	/* --compare runs the baseline; --no-baseline, still accepted, turns it off again */
	TEST_CLI_OK(&o, "--compare", "x.mp4");
	assert_int_equal(o.baseline, 1);
	TEST_CLI_OK(&o, "--compare", "--no-baseline", "x.mp4");
	assert_int_equal(o.baseline, 0);
	/* -y / -n: the last one wins, as in ffmpeg */
	TEST_CLI_OK(&o, "-y", "x.mp4");
	assert_int_equal(o.overwrite, 1);
	TEST_CLI_OK(&o, "-y", "-n", "x.mp4");
	assert_int_equal(o.overwrite, -1);
	TEST_CLI_OK(&o, "--no-overwrite", "--overwrite", "x.mp4");
	assert_int_equal(o.overwrite, 1);
	/* several inputs, in order */
	TEST_CLI_OK(&o, "a.mp4", "-w", "2", "b.mov", "c.mkv");
	assert_int_equal(o.ninputs, 3);
	assert_string_equal(o.inputs[0], "a.mp4");
	assert_string_equal(o.inputs[1], "b.mov");
	assert_string_equal(o.inputs[2], "c.mkv");
	assert_string_equal(o.input, "a.mp4");

	TEST_CLI_OK(&o, "-s", "0.5", "-w1", "-qv", "x.mp4");
	assert_true(o.segment_seconds == 0.5);
	assert_int_equal(o.workers, 1);
	assert_int_equal(o.quiet, 1);
	assert_int_equal(o.verbose, 1);

	/* every preset x264 knows */
	TEST_CLI_OK(&o, "--preset", "veryslow", "x.mp4");
	assert_string_equal(o.preset, "veryslow");
	TEST_CLI_OK(&o, "--preset", "medium", "x.mp4");
	assert_string_equal(o.preset, "medium");

	/* a file whose name looks like an option, after -- */
	/* remote workers: the commands kept as typed (split when started), 0 local workers allowed */
	TEST_CLI_OK(&o, "--remote", "ssh -T 'render 1' worker", "--remote", "srun worker", "-w", "0",
	    "--task-timeout", "30", "x.mp4");
	assert_int_equal(o.nremote, 2);
	assert_string_equal(o.remote[0], "ssh -T 'render 1' worker");
	assert_string_equal(o.remote[1], "srun worker");
	assert_int_equal(o.workers, 0);
	assert_true(o.task_timeout == 30.0);

	TEST_CLI_OK(&o, "-w", "2", "--", "-w.mp4");
	assert_string_equal(o.input, "-w.mp4");
	assert_int_equal(o.workers, 2);

	/* these need no input file */
	TEST_CLI_OK(&o, "-h");
	assert_int_equal(o.help, 1);
	TEST_CLI_OK(&o, "--help");
	assert_int_equal(o.help, 1);
	TEST_CLI_OK(&o, "--version");
	assert_int_equal(o.version, 1);
	TEST_CLI_OK(&o, "--list-filters");
	assert_int_equal(o.list_filters, 1);

	/* a fresh parse starts from the defaults again */
	TEST_CLI_OK(&o, "again.mp4");
	assert_int_equal(o.help, 0);
	assert_int_equal(o.workers, -1);
	assert_string_equal(o.filter, "grayscale");
}

static void
test_cli_usage_errors(void **state)
{
	TEST_CLI_BAD("--workers", "-w", "0", "x.mp4");
	TEST_CLI_BAD("unterminated", "--remote", "ssh 'host", "x.mp4");
	TEST_CLI_BAD("empty worker command", "--remote", "  ", "x.mp4");
	TEST_CLI_BAD("--task-timeout", "--task-timeout", "0", "x.mp4");
	TEST_CLI_BAD("--workers", "-w", "1025", "x.mp4");
	TEST_CLI_BAD("--workers", "--workers", "-1", "x.mp4");
	TEST_CLI_BAD("--workers", "--workers", "two", "x.mp4");
	TEST_CLI_BAD("--workers", "--workers", "3x", "x.mp4");
	TEST_CLI_BAD("--workers", "--workers=", "x.mp4");
	TEST_CLI_BAD("--workers", "--workers", "99999999999999999999", "x.mp4");
	TEST_CLI_BAD("'3x'", "--workers", "3x", "x.mp4");

	TEST_CLI_BAD("--segment-seconds", "-s", "0.4", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "3601", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "0", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "-5", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "nan", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "inf", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "ten", "x.mp4");
	TEST_CLI_BAD("--segment-seconds", "-s", "1e999", "x.mp4");

	TEST_CLI_BAD("--preset", "--preset", "fastest", "x.mp4");
	TEST_CLI_BAD("--preset", "--preset", "", "x.mp4");

	TEST_CLI_BAD("--crf", "--crf", "-1", "x.mp4");
	TEST_CLI_BAD("--crf", "--crf", "52", "x.mp4");
	TEST_CLI_BAD("--crf", "--crf", "20.5", "x.mp4");
	TEST_CLI_BAD("--crf", "--crf", "high", "x.mp4");

	TEST_CLI_BAD("--filter", "-f", "blurr", "x.mp4");
	TEST_CLI_BAD("--filter", "-f", "blur:sigma=9999", "x.mp4");
	TEST_CLI_BAD("--filter", "-f", "blur:radius=3", "x.mp4");
	TEST_CLI_BAD("--filter", "-f", "", "x.mp4");
	TEST_CLI_BAD("--filter", "--filter", "grayscale,,blur", "x.mp4");
	TEST_CLI_BAD("blurr", "-f", "blurr", "x.mp4");

	/* a value missing at the end */
	TEST_CLI_BAD("-w", "x.mp4", "-w");
	TEST_CLI_BAD("--crf", "x.mp4", "--crf");
	TEST_CLI_BAD("needs a value", "x.mp4", "--output");
	TEST_CLI_BAD("-f", "x.mp4", "-f");

	TEST_CLI_BAD("unknown option --frobnicate", "--frobnicate", "x.mp4");
	TEST_CLI_BAD("unknown option --frob", "x.mp4", "--frob=3");
	TEST_CLI_BAD("unknown option -x", "-x", "x.mp4");
	TEST_CLI_BAD("-x", "x.mp4", "-qx");
	/* the unknown letter first in a group: the message must still name it, not a neighbour */
	TEST_CLI_BAD("-x", "x.mp4", "-xq");
	TEST_CLI_BAD("-x", "--json", "-xq", "x.mp4");
	/* a switch given a value */
	TEST_CLI_BAD("--json", "--json=yes", "x.mp4");

	TEST_CLI_BAD("no input file", "-w", "2");
	TEST_CLI_BAD("no input file", "--json");
	TEST_CLI_BAD("--preview takes one input", "--preview", "a.mp4", "b.mp4");
	/* ffmpeg's -ss would otherwise be read as "-s s" */
	TEST_CLI_BAD("--start", "-ss", "1", "x.mp4");
}

static void
test_cli_default_output_expect(const char *input, const char *filter, const char *want)
{
	char buf[4096];

	memset(buf, 'Z', sizeof buf);
	outname_default(input, filter, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		fail_msg("(%s, %s) -> '%s', expected '%s'", input, filter, buf, want);
}

static void
test_cli_default_output(void **state)
{
	char small[12];

	/* the parameters given away from their defaults are in the name, so two renders differ */
	test_cli_default_output_expect("dir/clip.mp4", "blur:sigma=3,grayscale", "dir/clip.blur-sigma3+grayscale.mp4");
	test_cli_default_output_expect("clip.mp4", "blur:sigma=5", "clip.blur-sigma5.mp4");
	test_cli_default_output_expect("clip.mp4", "blur:sigma=1", "clip.blur-sigma1.mp4");
	test_cli_default_output_expect("clip.mp4", "blur:sigma=2.6", "clip.blur.mp4");
	test_cli_default_output_expect("clip.mp4", "brightness:amount=-0.5", "clip.brightness-amount-0.5.mp4");
	test_cli_default_output_expect("clip.mp4", "grayscale", "clip.grayscale.mp4");
	test_cli_default_output_expect("dir/clip", "grayscale", "dir/clip.grayscale.mp4");
	test_cli_default_output_expect("clip", "invert", "clip.invert.mp4");
	test_cli_default_output_expect("dir/.hidden", "grayscale", "dir/.hidden.grayscale.mp4");
	test_cli_default_output_expect(".hidden", "grayscale", ".hidden.grayscale.mp4");
	test_cli_default_output_expect(".hidden.mov", "grayscale", ".hidden.grayscale.mp4");
	test_cli_default_output_expect("a.b/clip", "grayscale", "a.b/clip.grayscale.mp4");
	test_cli_default_output_expect("/abs/my clip.final.MOV", "sepia:amount=0.5", "/abs/my clip.final.sepia-amount0.5.mp4");
	test_cli_default_output_expect("/clip.mp4", "grayscale", "/clip.grayscale.mp4");
	test_cli_default_output_expect("x.mp4",
	    "blur:sigma=3,color:brightness=0.1:contrast=1.2,edge_detection:threshold=100,invert",
	    "x.blur-sigma3+color-brightness0.1-contrast1.2+edge_detection+invert.mp4");
	/* the filter part can never add a directory */
	test_cli_default_output_expect("x.mp4", "gray/../../etc", "x.gray....etc.mp4");

	/* a small buffer is filled, terminated and not overrun */
	memset(small, 'Z', sizeof small);
	outname_default("dir/clip.mp4", "grayscale", small, sizeof small - 1);
	assert_int_equal(strlen(small), sizeof small - 2);
	assert_int_equal(small[sizeof small - 1], 'Z');
	assert_true(strncmp(small, "dir/clip.gr", sizeof small - 2) == 0);
}

/* Runs cli_main in a child with stdout and stderr captured; returns the exit code. */
static int
test_cli_main(char *out, size_t outlen, char **argv)
{
	int fds[2], argc, st;
	ssize_t n;
	pid_t pid;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		st = cli_main(argc, argv);
		fflush(NULL);
		_exit(st);
	}
	close(fds[1]);
	n = util_read_full(fds[0], out, outlen - 1, NULL);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_cli_main_exit_codes(void **state)
{
	char out[8192], path[] = "/tmp/test_cli-XXXXXX";
	char *usage[] = { "master", "--crf", "99", "x.mp4", NULL };
	char *version[] = { "master", "--version", NULL };
	char *help[] = { "master", "--help", NULL };
	char *missing[] = { "master", "-q", "/nonexistent/clip.mp4", NULL };
	char *same[] = { "master", "-q", "-o", path, path, NULL };
	int fd;

	assert_int_equal(test_cli_main(out, sizeof out, usage), 2);
	assert_non_null(strstr(out, "--crf"));
	assert_non_null(strstr(out, "--help"));

	assert_int_equal(test_cli_main(out, sizeof out, version), 0);
	assert_string_equal(out, "video-renderer " VR_VERSION "\n");

	assert_int_equal(test_cli_main(out, sizeof out, help), 0);
	assert_non_null(strstr(out, "usage: master"));
	assert_non_null(strstr(out, "--segment-seconds"));

	assert_int_equal(test_cli_main(out, sizeof out, missing), 1);
	assert_non_null(strstr(out, "/nonexistent/clip.mp4"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(test_cli_main(out, sizeof out, same), 2);
	assert_non_null(strstr(out, "overwrite the input"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_defaults),
		cmocka_unit_test(test_cli_every_option),
		cmocka_unit_test(test_cli_limits),
		cmocka_unit_test(test_cli_usage_errors),
		cmocka_unit_test(test_cli_default_output),
		cmocka_unit_test(test_cli_main_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
