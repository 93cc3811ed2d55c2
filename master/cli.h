#ifndef MASTER_CLI_H
#define MASTER_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "master/format.h"
#include "master/limits.h"
#include "master/slurm.h"

struct cli_opts {
	const char *input;
	const char *output;          /* NULL: next to the input, NAME.FILTER.mp4 */
	const char *filter;          /* as typed; validated by cli_parse */
	const char *preset;
	int crf;
	int workers;                 /* local workers; -1: online CPUs; 0: remote ones only */
	char *remote[64];            /* --remote launcher commands */
	int nremote;
	struct slurm slurm;          /* --slurm N, --slurm-args, --slurm-worker */
	double task_timeout;         /* seconds without progress before a worker is replaced */
	double segment_seconds;
	int baseline;                /* --compare; off by default, --no-baseline keeps it off */
	int json;
	int quiet;
	int verbose;
	int keep_temp;
	const char *hls_dir;         /* --hls: also write the result as HLS into this directory */
	int list_filters;
	int preview;                 /* --preview: one frame through the filter as an image */
	double at;                   /* --at: the preview's time in seconds */
	struct limits limits;        /* --max-pixels, --max-duration (0: none) */
	int help, version;
	/* how the command line behaves around the render (inputs, outputs, runs) */
	char **inputs;               /* every input file, in order (input is the one at work) */
	int ninputs;
	int overwrite;               /* -y: 1, -n: -1 (never), 0: an existing output is refused */
	int compare;                 /* --compare: the one-worker baseline too (baseline) */
	int range;                   /* --start or --end given */
	double start, end;           /* seconds; end 0: to the end */
	/* the output's format: --format, --codec, --bitrate, --audio (and --crf), resolved with
	 * the output's extension into `format` by cli_parse */
	const char *container, *codec, *audio;
	int bitrate;
	struct format format;
};

/* 0 ok, -1 usage error (message in err). */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);
/* The help, naming the program prog as it was invoked (build/master in the tree,
 * video-renderer installed). */
void cli_usage(FILE *out, const char *prog);
/* `master [options] FILE`: returns the exit code (0 ok, 1 failed, 2 usage). */
int cli_main(int argc, char **argv);

#endif
