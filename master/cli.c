#include "master/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/argv.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/version.h"
#include "master/bar.h"
#include "master/ffversion.h"
#include "master/job.h"
#include "master/opts.h"
#include "master/outname.h"
#include "master/slurm.h"
#include "master/preview.h"
#include "master/probe.h"
#include "master/proc.h"
#include "master/trim.h"
#include "common/fspec.h"

struct cli_run {
	struct event_base *base;
	struct job *job;
	const struct cli_opts *o;
	struct bar bar;
	int shown;                   /* the job phase the bar shows, -1 none */
	double last_draw;
	struct proc *trim;           /* cutting out --start/--end, before the job */
	int trim_status;
	int64_t trim_frames;
	char trim_err[512];
};

void
cli_usage(FILE *out, const char *prog)
{
	fprintf(out,
	    "usage: %1$s [options] FILE...\n"
	    "       %1$s serve [--host H] [--port P] [--data-dir DIR] [--workers N] ...  (see %1$s serve --help)\n"
	    "\n"
	    "Applies a filter to a video in parallel: cuts it into segments, renders them in a pool\n"
	    "of worker processes and joins them with the original audio. Several files are rendered\n"
	    "one after the other, with one summary line each.\n"
	    "\n"
	    "  -f, --filter SPEC        filter chain, e.g. blur, blur:sigma=5, blur:sigma=3,grayscale\n"
	    "                           (default grayscale; --list-filters shows them all)\n"
	    "  -w, --workers N          local worker processes (default: online CPUs; 0 with\n"
	    "                           --remote or --slurm: remote workers only)\n"
	    "      --remote CMD         add a worker started by CMD on another machine, e.g.\n"
	    "                           'ssh -T host video-worker' (repeatable; see README)\n"
	    "      --slurm N            add N workers placed by Slurm, each started by srun as a job\n"
	    "                           step (in the allocation the master runs in, if any)\n"
	    "      --slurm-args ARGS    srun options for them, e.g. '--partition=gpu --time=1:00:00'\n"
	    "      --slurm-worker PATH  the worker program on the nodes (default video-worker)\n"
	    "      --task-timeout S     seconds a worker may go without progress before it is\n"
	    "                           replaced and its segment re-run (default 300)\n"
	    "  -s, --segment-seconds S  longest segment, ends on any frame; evened out so their count\n"
	    "                           is a multiple of the workers (default 60; 10 with --hls)\n"
	    "  -o, --output PATH        output file (default: next to the input, NAME.FILTER.mp4,\n"
	    "                           e.g. NAME.blur-sigma5.mp4); with several inputs, a directory;\n"
	    "                           its extension picks the container: mp4, mov, mkv, webm\n"
	    "  -y, --overwrite          replace an output that exists (default: refuse)\n"
	    "  -n, --no-overwrite       never replace one: stop if it exists\n"
	    "      --start T            render from time T on, --end T up to T: frame-exact, the\n"
	    "      --end T              sound trimmed to match; seconds or [hh:]mm:ss[.ms]\n"
	    "      --format NAME        the container whatever the name: mp4, mov, mkv, webm\n"
	    "      --codec NAME         video codec: h264 (default), hevc, av1, vp9 (webm: vp9)\n"
	    "      --preset NAME        encoder speed, x264's names (default " OPTS_PRESET ")\n"
	    "      --crf N              constant quality: 0-51 for h264/hevc (default 20/24),\n"
	    "                           0-63 for av1/vp9 (default 34/33)\n"
	    "      --bitrate RATE       average bitrate instead of crf, e.g. 2500k or 4M\n"
	    "      --audio HOW          copy, aac or opus (default: copy when the container\n"
	    "                           holds the input's audio, else aac, opus for webm)\n"
	    "      --compare            also render with one worker first: reports the speedup and\n"
	    "                           whether both outputs are byte-identical (twice the work)\n"
	    "      --no-baseline        render once (the default)\n"
	    "      --json               print one JSON object on stdout instead of the report\n"
	    "                           (also on failure: \"status\": \"failed\" and \"error\")\n"
	    "  -q, --quiet              no progress bar and no log lines, only errors\n"
	    "  -v, --verbose            debug logging\n"
	    "      --keep-temp          keep the working directory (segments) for inspection\n"
	    "      --hls DIR            also write the result into DIR as HLS while it renders:\n"
	    "                           index.m3u8 lists each piece as soon as it and those\n"
	    "                           before it are rendered (a player can start at once)\n"
	    "      --list-filters       list the filters and their parameters (with --json: as JSON)\n"
	    "      --preview            render one frame through the filter as an image instead\n"
	    "                           (PNG, or JPEG when -o ends in .jpg; default NAME.FILTER.png)\n"
	    "      --at SECONDS         the preview's time (default 0)\n"
	    "      --max-pixels N       refuse a video larger than N pixels (or WxH, e.g. 3840x2160;\n"
	    "                           default 0: no limit)\n"
	    "      --max-duration S     refuse a video longer than S seconds (default 0: no limit)\n"
	    "  -h, --help               this help\n"
	    "      --version            print the version\n"
	    "\n"
	    "On a terminal, a progress bar per phase shows the elapsed time, ETA, frames per second\n"
	    "and the real-time factor. Ctrl-C stops the workers and removes the partial output.\n"
	    "\n"
	    "Exit status: 0 success, 1 processing failed (for any of several files), 2 usage error,\n"
	    "130 interrupted (SIGINT), 143 terminated (SIGTERM).\n", prog);
}

/* "2500k", "4M", "800000" (bits) -> kbit/s. */
static int
cli_bitrate(const char *s, int *kbps)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v > 0))
		return -1;
	if (*end == 'k' || *end == 'K')
		end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1000, end++;
	else
		v /= 1000;
	if (*end != '\0' || v < 1 || v > 1000000)
		return -1;
	*kbps = (int)(v + 0.5);
	return 0;
}

int
cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	enum { O_PRESET = 256, O_CRF, O_NOBASE, O_JSON, O_KEEP, O_LIST, O_VERSION, O_PREVIEW, O_AT,
	    O_MAXPIX, O_MAXDUR,
	    O_HLS, O_COMPARE, O_START, O_END,
	    /* the output's format */
	    O_FORMAT = 768, O_CODEC, O_BITRATE, O_AUDIO };
	static const struct option longopts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "workers", required_argument, NULL, 'w' },
		{ "segment-seconds", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "preset", required_argument, NULL, O_PRESET },
		{ "crf", required_argument, NULL, O_CRF },
		{ "no-baseline", no_argument, NULL, O_NOBASE },
		{ "json", no_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "keep-temp", no_argument, NULL, O_KEEP },
		{ "list-filters", no_argument, NULL, O_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "preview", no_argument, NULL, O_PREVIEW },
		{ "at", required_argument, NULL, O_AT },
		{ "max-pixels", required_argument, NULL, O_MAXPIX },
		{ "max-duration", required_argument, NULL, O_MAXDUR },
		{ "hls", required_argument, NULL, O_HLS },
		/* how the command line behaves around the render */
		{ "compare", no_argument, NULL, O_COMPARE },
		{ "overwrite", no_argument, NULL, 'y' },
		{ "no-overwrite", no_argument, NULL, 'n' },
		{ "start", required_argument, NULL, O_START },
		{ "end", required_argument, NULL, O_END },
		/* where the workers run: --remote, --task-timeout, --slurm* */
		OPTS_LAUNCHER_LONGOPTS,
		/* the output's format */
		{ "format", required_argument, NULL, O_FORMAT },
		{ "codec", required_argument, NULL, O_CODEC },
		{ "bitrate", required_argument, NULL, O_BITRATE },
		{ "audio", required_argument, NULL, O_AUDIO },
		{ NULL, 0, NULL, 0 }
	};
	char *end, ferr[256];
	struct fspec *fc;
	long v;
	int c, i;

	memset(o, 0, sizeof *o);
	o->filter = "grayscale";
	o->preset = OPTS_PRESET;
	o->crf = -1;
	o->segment_seconds = 0;  /* unset: after the options, as --hls asks */
	o->workers = OPTS_WORKERS_CPUS;
	o->task_timeout = 300;
	/* 0, not 1: GNU getopt then forgets a group of letters a previous parse stopped in ("-xq") */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:w:s:o:qvhyn", longopts, NULL)) != -1) {
		if (c >= OPTS_LAUNCHER) {
			if (opts_launcher(c, optarg, o->remote, &o->nremote, &o->task_timeout, &o->slurm,
			    err, errlen) == -1)
				return -1;
			continue;
		}
		switch (c) {
		case 'f':
			o->filter = optarg;
			break;
		case 'w':
			if (opts_workers(optarg, &o->workers, err, errlen) == -1)
				return -1;
			break;
		case 's':
			/* ffmpeg's -ss would be read as "-s s" */
			if (strcmp(argv[optind - 1], "-ss") == 0)
				return util_err(err, errlen, "-ss is not an option here: -s is --segment-seconds (a time range is --start and --end)");
			if (opts_segment_seconds(optarg, &o->segment_seconds, err, errlen) == -1)
				return -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_PRESET:
			if (opts_preset(optarg, &o->preset, err, errlen) == -1)
				return -1;
			break;
		case O_CRF:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 63)
				return util_err(err, errlen, "--crf takes a whole number from 0 to 63, not '%s'", optarg);
			o->crf = (int)v;
			break;
		case O_NOBASE:
			o->baseline = o->compare = 0;
			break;
		case O_COMPARE:
			o->baseline = o->compare = 1;
			break;
		case 'y':
		case 'n':
			o->overwrite = c == 'y' ? 1 : -1;
			break;
		case O_START:
		case O_END:
			if (trim_time_parse(optarg, c == O_START ? &o->start : &o->end) == -1)
				return util_err(err, errlen, "--%s takes seconds or [hh:]mm:ss[.ms], not '%s'",
				    c == O_START ? "start" : "end", optarg);
			o->range = 1;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case O_KEEP:
			o->keep_temp = 1;
			break;
		case O_HLS:
			o->hls_dir = optarg;
			break;
		case O_LIST:
			o->list_filters = 1;
			break;
		case 'h':
			o->help = 1;
			break;
		case O_VERSION:
			o->version = 1;
			break;
		case O_PREVIEW:
			o->preview = 1;
			break;
		case O_AT:
			errno = 0;
			o->at = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o->at >= 0 && o->at < 1e7))
				return util_err(err, errlen, "--at takes seconds (0 or more), not '%s'", optarg);
			break;
		case O_MAXPIX:
		case O_MAXDUR:
			if (limits_option(&o->limits, c == O_MAXPIX ? "max-pixels" : "max-duration", optarg, err, errlen) == -1)
				return -1;
			break;
		/* the output's format: checked with the output's name below */
		case O_FORMAT:
			o->container = optarg;
			break;
		case O_CODEC:
			o->codec = optarg;
			break;
		case O_AUDIO:
			o->audio = optarg;
			break;
		case O_BITRATE:
			if (cli_bitrate(optarg, &o->bitrate) == -1)
				return util_err(err, errlen, "--bitrate takes a rate such as 2500k or 4M "
				    "(1k to 1000M), not '%s'", optarg);
			break;
		case ':':
			return util_err(err, errlen, "option %s needs a value", argv[optind - 1]);
		default:
			/* optopt says which: 0 for an unknown long option (its word is argv[optind - 1]),
			 * a switch's value for "--json=yes", else the unknown letter, whose word
			 * argv[optind - 1] is not yet when more letters follow ("-xq") */
			if (optopt == 0)
				return util_err(err, errlen, "unknown option %s", argv[optind - 1]);
			for (i = 0; longopts[i].name != NULL; i++) {
				if (longopts[i].val == optopt && longopts[i].has_arg == no_argument)
					return util_err(err, errlen, "option --%s takes no value", longopts[i].name);
			}
			return util_err(err, errlen, "unknown option -%c", optopt);
		}
	}
	if (o->help || o->version || o->list_filters)
		return 0;
	if (o->segment_seconds == 0)
		o->segment_seconds = o->hls_dir != NULL ? OPTS_SEGMENT_SECONDS_STREAM : OPTS_SEGMENT_SECONDS;
	if (optind >= argc)
		return util_err(err, errlen, "no input file given");
	o->inputs = argv + optind;
	o->ninputs = argc - optind;
	o->input = argv[optind];
	if (o->range && o->end > 0 && o->end <= o->start)
		return util_err(err, errlen, "--end (%g s) must come after --start (%g s)", o->end, o->start);
	if (o->range && o->preview)
		return util_err(err, errlen, "--start and --end are for a render; a preview's time is --at");
	if (o->preview && o->ninputs > 1)
		return util_err(err, errlen, "--preview takes one input file (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	if (slurm_check(&o->slurm, err, errlen) == -1)
		return -1;
	if (opts_check_workers(o->workers, o->nremote, o->slurm.workers, err, errlen) == -1)
		return -1;
	fc = fspec_parse(o->filter, ferr, sizeof ferr);
	if (fc == NULL)
		return util_err(err, errlen, "--filter: %s", ferr);
	fspec_free(fc);
	/* a codec the container cannot hold is refused now, before any work */
	if (!o->preview && format_resolve(&o->format, o->output, o->container, o->codec, o->audio,
	    o->crf, o->bitrate, err, errlen) == -1)
		return -1;
	return 0;
}

/* Set by the signal handler itself, so a job failing because the same Ctrl-C reached one of
 * its ffmpeg children is still seen as interrupted, whichever the loop hears of first. */
static volatile sig_atomic_t cli_signal;
static int cli_signal_pipe[2] = { -1, -1 };

static void
cli_signal_handler(int sig)
{
	int saved = errno;

	cli_signal = sig;
	(void)!write(cli_signal_pipe[1], "", 1);
	errno = saved;
}

static void
cli_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cli_run *r = arg;
	char buf[16];

	while (read(fd, buf, sizeof buf) > 0)
		;
	if (r->trim != NULL) {
		proc_cancel(r->trim);
		r->trim = NULL;
		event_base_loopexit(r->base, NULL);
		return;
	}
	job_cancel(r->job);
}

static void
cli_trim_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct cli_run *r = arg;

	r->trim = NULL;
	r->trim_status = status;
	r->trim_frames = trim_frames(out, outlen);
	snprintf(r->trim_err, sizeof r->trim_err, "%s", errtail);
	event_base_loopexit(r->base, NULL);
}

/* Writes o's --start/--end range of o->input to path, in r's loop: 0, or -1 with err. */
static int
cli_trim(struct cli_run *r, struct ffversion_check *ver, const char *path, char *err, size_t errlen)
{
	char words[3 * 4096], how[128];
	char *v[48];
	struct argv a;

	/* a missing or too old ffmpeg is named as such, not as a failed cut */
	if (ffversion_check_finish(ver, err, errlen) == -1)
		return -1;
	argv_init(&a, v, 48, words, sizeof words);
	trim_argv(r->o->input, r->o->start, r->o->end, path, &a);
	if (argv_end(&a, err, errlen) == -1)
		return -1;
	r->trim_status = -1;
	r->trim = proc_start(r->base, v, 1 << 20, cli_trim_cb, r, err, errlen);
	if (r->trim == NULL)
		return -1;
	bar_phase(&r->bar, "trimming", 0, 0, util_now());
	r->shown = JOB_PROBING;  /* ticks the clock; the job's first phase ends this bar */
	event_base_dispatch(r->base);
	if (cli_signal != 0)
		return util_err(err, errlen, "cancelled by %s", cli_signal == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
	if (r->trim_status != 0) {
		spawn_status_str(r->trim_status, how, sizeof how);
		return util_err(err, errlen, "cannot cut the range of %s: ffmpeg %s: %s", r->o->input, how, r->trim_err);
	}
	if (r->trim_frames <= 0)
		return util_err(err, errlen, "%s has no frame from %g s%s", r->o->input, r->o->start,
		    r->o->end > 0 ? " to the --end" : " on (--start is past its end)");
	return 0;
}

static void
cli_progress_cb(struct job *job, void *arg)
{
	struct cli_run *r = arg;
	const struct probe *p = job_probe(job);
	enum job_phase ph = job_phase(job);
	double now = util_now();

	if (!r->bar.on || ph == JOB_DONE || ph == JOB_FAILED)
		return;
	if ((int)ph != r->shown) {
		r->shown = (int)ph;
		bar_phase(&r->bar, job_phase_name(ph),
		    ph == JOB_SEQUENTIAL || ph == JOB_PARALLEL ? p->frames : 0, p->fps, now);
		r->last_draw = now;
		return;
	}
	if (now - r->last_draw < 0.1)
		return;
	r->last_draw = now;
	bar_update(&r->bar, job_frames_done(job), now);
}

/* The clock moves while nothing else does (probing, cutting, joining). */
static void
cli_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cli_run *r = arg;

	if (r->shown >= 0)
		bar_update(&r->bar, job_frames_done(r->job), util_now());
}

static void
cli_done_cb(struct job *job, void *arg)
{
	struct cli_run *r = arg;

	if (job_phase(job) == JOB_DONE)
		bar_finish(&r->bar, util_now());
	else
		bar_clear(&r->bar);
	r->shown = -1;
	event_base_loopexit(r->base, NULL);
}

/* The video's seconds rendered per second of wall time in the parallel run. */
static double
cli_realtime(json_t *rep, const struct probe *p)
{
	double par = json_number_value(json_object_get(rep, "parallel_time"));

	return par > 0 && p->duration > 0 ? p->duration / par : 0;
}

/* The output's format, and what it could not keep as it was. */
static void
cli_report_format(FILE *out, json_t *rep)
{
	json_t *f = json_object_get(rep, "format"), *v;
	size_t i;

	if (json_integer_value(json_object_get(f, "bitrate")) > 0)
		fprintf(out, "format      %s, %s at %lld kbit/s\n", json_string_value(json_object_get(f, "container")),
		    json_string_value(json_object_get(f, "codec")),
		    (long long)json_integer_value(json_object_get(f, "bitrate")));
	else
		fprintf(out, "format      %s, %s crf %lld\n", json_string_value(json_object_get(f, "container")),
		    json_string_value(json_object_get(f, "codec")),
		    (long long)json_integer_value(json_object_get(f, "crf")));
	json_array_foreach(json_object_get(rep, "converted"), i, v)
		fprintf(out, "converted   %s\n", json_string_value(v));
	json_array_foreach(json_object_get(rep, "dropped"), i, v)
		fprintf(out, "dropped     %s\n", json_string_value(v));
}

/* What the input line says of the frames' times: a variable rate keeps each frame's time
 * unless the file has none of its own (then it is resampled), and so does an AVI that drops
 * frames (job_timed). */
static const char *
cli_rate_note(const struct probe *p)
{
	if (!p->cfr)
		return p->whole ? " (variable, resampled)" : " (variable, each frame at its time)";
	return p->dropped ? " (frames dropped: each frame at its time)" : "";
}

static void
cli_report(FILE *out, json_t *rep, const struct probe *p, const struct cli_opts *o)
{
	double seq = json_number_value(json_object_get(rep, "sequential_time"));
	double par = json_number_value(json_object_get(rep, "parallel_time"));
	int workers = (int)json_integer_value(json_object_get(rep, "cpu_cores_used"));
	json_t *ident = json_object_get(rep, "identical");
	json_int_t nseg;

	fprintf(out, "input       %s", o->input);
	if (o->range && o->end > 0)
		fprintf(out, " from %g s to %g s", o->start, o->end);
	else if (o->range)
		fprintf(out, " from %g s to the end", o->start);
	fprintf(out, ": %dx%d, %.3f fps%s, %.2f s, %s%s%s\n", p->width, p->height, p->fps,
	    cli_rate_note(p), p->duration, p->codec,
	    p->naudio ? ", audio " : ", no audio", p->naudio ? p->audio_codec[0] : "");
	fprintf(out, "filter      %s\n", json_string_value(json_object_get(rep, "filter_type")));
	/* their length as cut, not --segment-seconds (only their most) */
	nseg = json_integer_value(json_object_get(rep, "segments_total"));
	fprintf(out, "segments    %lld of ~%.3g s, %d worker%s\n", (long long)nseg,
	    nseg > 0 ? p->duration / (double)nseg : 0.0, workers, workers == 1 ? "" : "s");
	fprintf(out, "split       %7.2f s\n", json_number_value(json_object_get(rep, "split_time")));
	if (seq > 0)
		fprintf(out, "sequential  %7.2f s  (1 worker)\n", seq);
	fprintf(out, "parallel    %7.2f s  (%d worker%s)  %.2fx real time", par, workers,
	    workers == 1 ? "" : "s", cli_realtime(rep, p));
	if (seq > 0 && par > 0)
		fprintf(out, ", speedup %.2fx, efficiency %.0f%%", seq / par, 100 * seq / par / workers);
	fprintf(out, "\nmerge       %7.2f s\n", json_number_value(json_object_get(rep, "merge_time")));
	if (json_is_number(json_object_get(rep, "audio_time")))
		fprintf(out, "audio       %7.2f s  (encoded beside the render)\n",
		    json_number_value(json_object_get(rep, "audio_time")));
	fprintf(out, "frames      %lld in, %lld out\n",
	    (long long)json_integer_value(json_object_get(rep, "frames_in")),
	    (long long)json_integer_value(json_object_get(rep, "frames_out")));
	if (json_is_boolean(ident))
		fprintf(out, "identical   %s\n", json_is_true(ident) ? "yes: the parallel output is byte-identical to the sequential one"
		    : "NO: the parallel output differs from the sequential one");
	fprintf(out, "output      %s\n", json_string_value(json_object_get(rep, "output_path")));
	if (o->hls_dir != NULL)
		fprintf(out, "stream      %s/index.m3u8\n", o->hls_dir);
	cli_report_format(out, rep);
}

/* One render's line among several inputs' */
static void
cli_summary(FILE *out, json_t *rep, const struct probe *p, const char *input)
{
	if (json_is_string(json_object_get(rep, "output_path")))
		fprintf(out, "%s -> %s: %lld frames, %.2f s, %.2fx real time\n", input,
		    json_string_value(json_object_get(rep, "output_path")),
		    (long long)json_integer_value(json_object_get(rep, "frames_out")),
		    json_number_value(json_object_get(rep, "parallel_time")), cli_realtime(rep, p));
	else
		fprintf(out, "%s: failed: %s\n", input, json_string_value(json_object_get(rep, "error")));
}

static void
cli_json_print(json_t *obj)
{
	json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(UTIL_JSON_DIGITS));
	putchar('\n');
}

/* A failure before or instead of a render: {"status": "failed", "error": msg} (new reference). */
static json_t *
cli_failed(const char *msg)
{
	return json_pack("{s:s, s:s}", "status", job_status_name(JOB_STATUS_FAILED), "error", msg);
}

/* The one line on stderr and, with --json, the one object on stdout; returns code. */
static int
cli_fail(int json, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
cli_fail(int json, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *obj;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "master: %s\n", msg);
	if (json) {
		obj = cli_failed(msg);
		cli_json_print(obj);
		json_decref(obj);
	}
	return code;
}

struct cli_preview {
	struct event_base *base;
	const struct cli_opts *o;
	const char *filter;
	struct probe probe;
	char tmpdir[4096];
	int code;
	char error[1024];            /* why it failed, said once at the end (and in --json) */
};

static void
cli_preview_done_cb(const char *image, size_t len, const char *error, void *arg)
{
	struct cli_preview *cp = arg;
	FILE *f;

	/* no loopexit: the loop ends once the preview's worker is reaped and its pool freed */
	if (error != NULL) {
		snprintf(cp->error, sizeof cp->error, "%s", error);
		return;
	}
	f = fopen(cp->o->output, "we");
	if (f == NULL || fwrite(image, 1, len, f) != len || fclose(f) != 0) {
		snprintf(cp->error, sizeof cp->error, "cannot write %s: %s", cp->o->output, strerror(errno));
		return;
	}
	cp->code = 0;
}

static void
cli_preview_probe_cb(int status, const char *out, size_t outlen, const char *errtail, void *arg)
{
	struct cli_preview *cp = arg;
	struct preview_req req;
	struct limits_excess x = { NULL, 0, 0, "" };
	char err[1024];
	size_t n = strlen(cp->o->output);

	if (status != 0) {
		snprintf(cp->error, sizeof cp->error, "%s is not a video ffmpeg can read: %s", cp->o->input, errtail);
		event_base_loopexit(cp->base, NULL);
		return;
	}
	if (probe_parse(out, outlen, errtail, util_file_size(cp->o->input), &cp->probe, err, sizeof err) == -1 ||
	    limits_check(&cp->o->limits, &cp->probe, &x) == -1) {
		snprintf(cp->error, sizeof cp->error, "%s: %s", cp->o->input, x.limit != NULL ? x.reason : err);
		event_base_loopexit(cp->base, NULL);
		return;
	}
	memset(&req, 0, sizeof req);
	req.input = cp->o->input;
	req.probe = &cp->probe;
	req.filter = cp->filter;
	req.t = cp->o->at;
	req.jpeg = n > 4 && (strcasecmp(cp->o->output + n - 4, ".jpg") == 0 || strcasecmp(cp->o->output + n - 5, ".jpeg") == 0);
	req.tmpdir = cp->tmpdir;
	if (preview_start(cp->base, &req, cli_preview_done_cb, cp, err, sizeof err) == -1) {
		snprintf(cp->error, sizeof cp->error, "%s", err);
		event_base_loopexit(cp->base, NULL);
	}
}

/* `master --preview FILE --filter F [--at T] [-o OUT]` */
static int
cli_preview(const struct cli_opts *o, const char *filter)
{
	struct cli_preview cp;
	char url[4200];
	char *argv[24];
	const char *tmp = getenv("TMPDIR");
	json_t *obj;

	memset(&cp, 0, sizeof cp);
	cp.o = o;
	cp.filter = filter;
	cp.code = 1;
	snprintf(cp.error, sizeof cp.error, "cannot create the event loop");
	snprintf(cp.tmpdir, sizeof cp.tmpdir, "%s", tmp && *tmp ? tmp : "/tmp");
	cp.base = event_base_new();
	if (cp.base != NULL) {
		probe_argv(o->input, argv, url, sizeof url);
		if (proc_start(cp.base, argv, 8 << 20, cli_preview_probe_cb, &cp, cp.error, sizeof cp.error) != NULL)
			event_base_dispatch(cp.base);
		event_base_free(cp.base);
	}
	if (cp.code != 0)
		return cli_fail(o->json, 1, "%s", cp.error);
	if (o->json) {
		obj = json_pack("{s:s, s:s}", "status", job_status_name(JOB_STATUS_COMPLETED),
		    "output_path", o->output);
		cli_json_print(obj);
		json_decref(obj);
	} else if (!o->quiet) {
		printf("%s\n", o->output);
	}
	return 0;
}

/* Released pools free themselves once their workers have exited, and a cancelled probe, cut or
 * join once it is reaped: give them that moment, so no child is left unreaped and nothing
 * unfreed when we exit (bounded, in case one ignores us). */
static void
cli_drain(struct event_base *base)
{
	struct timeval grace = { 3, 0 };
	struct event *ev;

	if (job_children_live() == 0)
		return;
	ev = job_drain_event(base);
	if (ev == NULL)
		return;
	event_base_loopexit(base, &grace);
	event_base_dispatch(base);
	event_free(ev);
}

/* The job asks when its probe has ended: by then the version check has had the probe's time. */
static int
cli_version_answer(void *arg, char *err, size_t errlen)
{
	return ffversion_check_finish(arg, err, errlen);
}

/* Renders o->input into o->output: the exit code (0, 1, or 128 + the signal that stopped it);
 * *rep the job's report, or a failed object when no job started (new reference). */
static int
cli_render(const struct cli_opts *o, const char *filter, struct ffversion_check *ver, json_t **rep,
    struct probe *probe)
{
	struct cli_run r;
	struct job_opts jo;
	struct event *ev_sig = NULL, *ev_tick = NULL;
	struct timeval tick = { 0, 250000 };
	char err[1024], workdir[4096], range[4200], msg[128];
	const char *tmp = getenv("TMPDIR");
	int code = 1;

	memset(&r, 0, sizeof r);
	memset(probe, 0, sizeof *probe);
	r.shown = -1;
	*rep = NULL;
	snprintf(workdir, sizeof workdir, "%s/video-renderer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(workdir) == NULL) {
		snprintf(err, sizeof err, "cannot create a working directory in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		workdir[0] = '\0';
		goto fail;
	}
	memset(&jo, 0, sizeof jo);
	jo.input = o->input;
	if (o->range) {
		/* the job renders the range, cut out into its working directory first */
		snprintf(range, sizeof range, "%s/range.mkv", workdir);
		jo.input = range;
	}
	jo.output = o->output;
	jo.workdir = workdir;
	jo.filter = filter;
	jo.preset = o->preset;
	jo.crf = o->crf;
	jo.format = o->format;
	jo.workers = o->workers;
	jo.remote = o->slurm.launchers;
	jo.nremote = o->slurm.nlaunchers;
	jo.task_timeout = o->task_timeout;
	jo.segment_seconds = o->segment_seconds;
	jo.baseline = o->baseline;
	jo.keep_workdir = o->keep_temp;
	jo.hls_dir = o->hls_dir;
	jo.limits = o->limits;
	jo.check = cli_version_answer;
	jo.check_arg = ver;

	r.o = o;
	bar_init(&r.bar, isatty(STDERR_FILENO) && !o->quiet && !o->json);
	r.base = event_base_new();
	if (r.base == NULL) {
		snprintf(err, sizeof err, "cannot create the event loop");
		goto fail;
	}
	r.job = job_new(r.base, &jo, cli_progress_cb, cli_done_cb, &r);
	ev_sig = event_new(r.base, cli_signal_pipe[0], EV_READ | EV_PERSIST, cli_signal_cb, &r);
	ev_tick = event_new(r.base, -1, EV_PERSIST, cli_tick_cb, &r);
	if (r.job == NULL || ev_sig == NULL || ev_tick == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	event_add(ev_sig, NULL);
	if (r.bar.on) {
		event_add(ev_tick, &tick);
		log_set_display(bar_hide_cb, bar_show_cb, &r.bar);
	}
	if (o->range && cli_trim(&r, ver, range, err, sizeof err) == -1)
		goto fail;
	if (job_start(r.job, err, sizeof err) == -1)
		goto fail;
	r.shown = JOB_PROBING;
	bar_phase(&r.bar, job_phase_name(JOB_PROBING), 0, 0, util_now());
	event_base_dispatch(r.base);
	event_del(ev_tick);
	log_set_display(NULL, NULL, NULL);
	cli_drain(r.base);
	if (o->keep_temp)
		fprintf(stderr, "master: kept the working directory %s\n", workdir);
	workdir[0] = '\0';  /* the job removed it, or was asked to keep it */
	*rep = job_report(r.job);
	*probe = *job_probe(r.job);
	if (o->range)
		json_object_set_new(*rep, "range", json_pack("{s:f, s:o}", "start", o->start,
		    "end", o->end > 0 ? json_real(o->end) : json_null()));
	if (job_phase(r.job) == JOB_DONE) {
		json_object_set_new(*rep, "realtime_factor", json_real(cli_realtime(*rep, probe)));
		code = 0;
	} else {
		json_object_set_new(*rep, "realtime_factor", json_null());
		if (cli_signal != 0) {
			snprintf(msg, sizeof msg, "cancelled by %s",
			    cli_signal == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
			json_object_set_new(*rep, "error", json_string(msg));
			code = 128 + cli_signal;
		}
	}
	goto done;
fail:
	bar_clear(&r.bar);
	log_set_display(NULL, NULL, NULL);
	if (ev_tick != NULL)
		event_del(ev_tick);
	if (r.base != NULL)
		cli_drain(r.base);  /* a cancelled trim is reaped */
	*rep = cli_failed(err);
	code = cli_signal != 0 ? 128 + cli_signal : 1;
done:
	if (workdir[0] != '\0' && !o->keep_temp)
		util_rm_rf(workdir);
	job_free(r.job);
	if (ev_sig != NULL)
		event_free(ev_sig);
	if (ev_tick != NULL)
		event_free(ev_tick);
	if (r.base != NULL)
		event_base_free(r.base);
	return code;
}

/* 1 when --json is among the options, so even a usage error answers in JSON. */
static int
cli_wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		/* getopt_long takes any unambiguous prefix, down to "--j" */
		if (strlen(argv[i]) >= 3 && strncmp(argv[i], "--json", strlen(argv[i])) == 0)
			return 1;
	}
	return 0;
}

/* Where input i goes: -o, or with several inputs -o's directory, or next to the input. */
static int
cli_output_for(const struct cli_opts *o, const char *in, const char *filter, char *out, size_t n,
    char *err, size_t errlen)
{
	const char *slash = strrchr(in, '/');
	char name[4096];
	struct stat st;

	if (o->ninputs == 1 && o->output != NULL) {
		snprintf(out, n, "%s", o->output);
		return 0;
	}
	if (o->output == NULL) {
		outname_default(in, filter, out, n);
	} else {
		if (stat(o->output, &st) == -1 || !S_ISDIR(st.st_mode)) {
			util_err(err, errlen, "with several inputs -o names a directory, and %s is not one", o->output);
			return 2;
		}
		outname_default(slash ? slash + 1 : in, filter, name, sizeof name);
		snprintf(out, n, "%s%s%s", o->output, o->output[strlen(o->output) - 1] == '/' ? "" : "/", name);
	}
	if (o->preview && strlen(out) > 4)
		memcpy(out + strlen(out) - 4, ".png", 4);
	if (o->range && strlen(out) > 4) {
		/* a range is a parameter of the render too: NAME.FILTER.1-2.5s.mp4, NAME.FILTER.from60s.mp4 */
		if (o->end > 0)
			snprintf(name, sizeof name, ".%g-%gs.mp4", o->start, o->end);
		else
			snprintf(name, sizeof name, ".from%gs.mp4", o->start);
		snprintf(out + strlen(out) - 4, n - (strlen(out) - 4), "%s", name);
	}
	/* the container's own extension: NAME.FILTER.mkv for --format mkv */
	if (!o->preview && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".mp4") == 0)
		snprintf(out + strlen(out) - 3, n - (strlen(out) - 3), "%s", format_ext(&o->format));
	return 0;
}

/*
 * Everything about output i that can be known before any work: 0, or the exit code with the
 * reason in err (2 for what the command line asked wrongly, 1 for the state of the disk).
 */
static int
cli_check_output(const struct cli_opts *o, char (*outs)[4096], int i, char *err, size_t errlen)
{
	const char *out = outs[i], *slash = strrchr(out, '/');
	char canon_in[PATH_MAX], canon_out[PATH_MAX], dir[4096];
	struct stat st;
	int k;

	if (strcmp(out, "-") == 0) {
		util_err(err, errlen, "cannot write the output to stdout (-o -): give a file name");
		return 2;
	}
	if (out[0] == '\0' || (slash != NULL && slash[1] == '\0') || (stat(out, &st) == 0 && S_ISDIR(st.st_mode))) {
		util_err(err, errlen, "the output '%s' is a directory: -o takes a file name (a directory only with several inputs)", out);
		return 2;
	}
	for (k = 0; k < o->ninputs; k++) {
		if (realpath(o->inputs[k], canon_in) != NULL && realpath(out, canon_out) != NULL &&
		    strcmp(canon_in, canon_out) == 0) {
			util_err(err, errlen, "the output %s would overwrite the input%s%s", out,
			    k == i ? "" : " ", k == i ? "" : o->inputs[k]);
			return 2;
		}
	}
	for (k = 0; k < i; k++) {
		if (strcmp(outs[k], out) == 0) {
			util_err(err, errlen, "%s and %s would both be written to %s", o->inputs[k], o->inputs[i], out);
			return 2;
		}
	}
	/* fail now, not after the whole render, when the output cannot be written */
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".");
	if (dir[0] == '\0')
		snprintf(dir, sizeof dir, "/");
	if (access(dir, W_OK) == -1) {
		util_err(err, errlen, "cannot write the output %s: %s", out, strerror(errno));
		return 1;
	}
	if (stat(out, &st) == 0) {
		/* a render replaces the output by renaming onto it, which a device must not be; a
		 * preview writes into it */
		if (!o->preview && !S_ISREG(st.st_mode)) {
			util_err(err, errlen, "the output %s exists and is not a regular file", out);
			return 1;
		}
		if (S_ISREG(st.st_mode) && o->overwrite == 0) {
			util_err(err, errlen, "the output %s already exists: -y overwrites it, -n never does", out);
			return 1;
		}
		if (S_ISREG(st.st_mode) && o->overwrite < 0) {
			util_err(err, errlen, "the output %s already exists: not overwriting it (-n)", out);
			return 1;
		}
	}
	return 0;
}

int
cli_main(int argc, char **argv)
{
	struct cli_opts o;
	struct sigaction sa, old_int, old_term;
	struct fspec *fc = NULL;
	struct ffversion_check ver = { .ff.prog = NULL };
	struct probe probe;
	char err[1024], (*outs)[4096] = NULL;
	json_t *rep = NULL, *all = NULL, *obj;
	int code = 1, i, rc, nfailed = 0, handlers = 0;
	/* GNU basename (string.h): the help names the program as typed, e.g. video-renderer */
	const char *prog = argc > 0 ? basename(argv[0]) : "video-renderer";

	if (cli_parse(argc, argv, &o, err, sizeof err) == -1) {
		fprintf(stderr, "master: %s\nTry '%s --help'.\n", err, prog);
		if (cli_wants_json(argc, argv)) {
			obj = cli_failed(err);
			cli_json_print(obj);
			json_decref(obj);
		}
		return 2;
	}
	if (o.help) {
		cli_usage(stdout, prog);
		return 0;
	}
	if (o.version) {
		printf("video-renderer %s\n", VR_VERSION);
		return 0;
	}
	if (o.list_filters) {
		if (o.json) {
			obj = json_pack("{s:o}", "filters", fspec_list_json());
			cli_json_print(obj);
			json_decref(obj);
		} else {
			fspec_list_print(stdout);
		}
		return 0;
	}
	/* --quiet promises no log lines at all: its one error line is printed below */
	log_init('M', o.verbose ? LOG_DEBUG : o.quiet ? LOG_QUIET : o.json ? LOG_WARN : LOG_INFO);
	/* asked now, answered once the probe has started: ~0.1 s a short clip would notice */
	ffversion_check_start(&ver);
	fc = fspec_parse(o.filter, err, sizeof err);
	outs = calloc((size_t)o.ninputs, sizeof *outs);
	if (fc == NULL || outs == NULL) {
		code = cli_fail(o.json, 1, "out of memory");
		goto done;
	}
	/* everything checkable, for every input, before any work */
	for (i = 0; i < o.ninputs; i++) {
		if (access(o.inputs[i], R_OK) == -1) {
			code = cli_fail(o.json, 1, "cannot read %s: %s", o.inputs[i], strerror(errno));
			goto done;
		}
		rc = cli_output_for(&o, o.inputs[i], fspec_string(fc), outs[i], sizeof outs[i], err, sizeof err);
		if (rc == 0)
			rc = cli_check_output(&o, outs, i, err, sizeof err);
		if (rc != 0) {
			code = cli_fail(o.json, rc, "%s", err);
			goto done;
		}
	}
	if (o.preview) {
		if (ffversion_check_finish(&ver, err, sizeof err) == -1) {
			code = cli_fail(o.json, 1, "%s", err);
			goto done;
		}
		o.output = outs[0];
		code = cli_preview(&o, fspec_string(fc));
		goto done;
	}
	o.workers = opts_workers_resolve(o.workers);
	if (pipe2(cli_signal_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		code = cli_fail(o.json, 1, "cannot create a pipe: %s", strerror(errno));
		goto done;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_signal_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	handlers = 1;
	if (slurm_launchers(&o.slurm, o.remote, o.nremote, err, sizeof err) == -1) {
		code = cli_fail(o.json, 1, "%s", err);
		goto done;
	}
	signal(SIGPIPE, SIG_IGN);
	all = json_array();
	for (i = 0; i < o.ninputs && cli_signal == 0; i++) {
		o.input = o.inputs[i];
		o.output = outs[i];
		rc = cli_render(&o, fspec_string(fc), &ver, &rep, &probe);
		if (o.ninputs == 1) {
			if (o.json)
				cli_json_print(rep);
			else if (rc == 0 && !o.quiet)
				cli_report(stdout, rep, &probe, &o);
			if (rc != 0)
				fprintf(stderr, "master: %s\n", json_string_value(json_object_get(rep, "error")));
		} else if (!o.json && !o.quiet) {
			cli_summary(stdout, rep, &probe, o.input);
		} else if (!o.json && rc != 0) {
			fprintf(stderr, "master: %s: %s\n", o.input, json_string_value(json_object_get(rep, "error")));
		}
		fflush(stdout);
		nfailed += rc != 0;
		code = rc;
		json_array_append(all, rep);
		json_decref(rep);
		rep = NULL;
	}
	if (cli_signal != 0)
		code = 128 + cli_signal;
	else if (o.ninputs > 1)
		code = nfailed > 0;
	if (o.ninputs > 1) {
		snprintf(err, sizeof err, "%d of %d files failed%s", nfailed + (o.ninputs - i),
		    o.ninputs, cli_signal ? " or were not rendered (cancelled)" : "");
		if (o.json) {
			obj = json_pack("{s:s, s:O}", "status", job_status_name(code == 0 ?
			    JOB_STATUS_COMPLETED : JOB_STATUS_FAILED), "files", all);
			if (code != 0)
				json_object_set_new(obj, "error", json_string(err));
			cli_json_print(obj);
			json_decref(obj);
		}
		if (code != 0)
			fprintf(stderr, "master: %s\n", err);
	}
done:
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	for (i = 0; i < 2; i++) {
		if (cli_signal_pipe[i] != -1)
			close(cli_signal_pipe[i]);
		cli_signal_pipe[i] = -1;
	}
	/* reaps the version checks on the paths that left before their answer */
	ffversion_check_finish(&ver, err, sizeof err);
	json_decref(all);
	free(outs);
	fspec_free(fc);
	slurm_free(&o.slurm);
	return code;
}
