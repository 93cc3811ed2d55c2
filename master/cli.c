#include "master/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "master/ffversion.h"
#include "master/job.h"
#include "master/remote.h"
#include "master/pool.h"
#include "master/preview.h"
#include "master/probe.h"
#include "master/proc.h"
#include "worker/filter.h"

struct cli_run {
	struct event_base *base;
	struct job *job;
	const struct cli_opts *o;
	int tty;
	double last_draw;
	int interrupted;
};

void
cli_usage(FILE *out)
{
	fprintf(out,
	    "usage: master [options] FILE\n"
	    "       master serve [--host H] [--port P] [--data-dir DIR] [--workers N] ...  (see master serve --help)\n"
	    "\n"
	    "Applies a filter to a video in parallel: cuts it into segments, renders them in a pool\n"
	    "of worker processes, joins them with the original audio, and reports honestly measured\n"
	    "sequential and parallel times.\n"
	    "\n"
	    "  -f, --filter SPEC        filter chain, e.g. blur, blur:sigma=5, blur:sigma=3,grayscale\n"
	    "                           (default grayscale; --list-filters shows them all)\n"
	    "  -w, --workers N          local worker processes (default: online CPUs; 0 with\n"
	    "                           --remote: remote workers only)\n"
	    "      --remote CMD         add a worker started by CMD on another machine, e.g.\n"
	    "                           'ssh -T host video-worker' (repeatable; see README)\n"
	    "      --task-timeout S     seconds a worker may go without progress before it is\n"
	    "                           replaced and its segment re-run (default 300)\n"
	    "  -s, --segment-seconds S  longest segment, ends on any frame; evened out so their count\n"
	    "                           is a multiple of the workers (default 10)\n"
	    "  -o, --output FILE        output MP4 (default: next to the input, NAME.FILTER.mp4)\n"
	    "      --preset NAME        x264 preset (default veryfast)\n"
	    "      --crf N              x264 quality, 0-51 (default 20)\n"
	    "      --no-baseline        skip the sequential run (no speedup is reported)\n"
	    "      --json               print one JSON object on stdout instead of the report\n"
	    "  -q, --quiet              no progress and no log lines, only errors\n"
	    "  -v, --verbose            debug logging\n"
	    "      --keep-temp          keep the working directory (segments) for inspection\n"
	    "      --list-filters       list the filters and their parameters\n"
	    "      --preview            render one frame through the filter as an image instead\n"
	    "                           (PNG, or JPEG when -o ends in .jpg; default NAME.FILTER.png)\n"
	    "      --at SECONDS         the preview's time (default 0)\n"
	    "      --max-pixels N       refuse a video larger than N pixels (or WxH, e.g. 3840x2160;\n"
	    "                           default 0: no limit)\n"
	    "      --max-duration S     refuse a video longer than S seconds (default 0: no limit)\n"
	    "  -h, --help               this help\n"
	    "      --version            print the version\n"
	    "\n"
	    "Exit status: 0 success, 1 processing failed, 2 usage error.\n");
}

int
cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	enum { O_PRESET = 256, O_CRF, O_NOBASE, O_JSON, O_KEEP, O_LIST, O_VERSION, O_PREVIEW, O_AT,
	    O_MAXPIX, O_MAXDUR, O_REMOTE, O_TASK_TIMEOUT };
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
		{ "remote", required_argument, NULL, O_REMOTE },
		{ "task-timeout", required_argument, NULL, O_TASK_TIMEOUT },
		{ NULL, 0, NULL, 0 }
	};
	static const char *presets[] = { "ultrafast", "superfast", "veryfast", "faster", "fast",
	    "medium", "slow", "slower", "veryslow", "placebo", NULL };
	char *end, ferr[256];
	struct filter_chain *fc;
	long v;
	int c, i;

	memset(o, 0, sizeof *o);
	o->filter = "grayscale";
	o->preset = "veryfast";
	o->crf = 20;
	o->segment_seconds = 10;
	o->baseline = 1;
	o->workers = -1;
	o->task_timeout = 300;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:w:s:o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->filter = optarg;
			break;
		case 'w':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 1024)
				return util_err(err, errlen, "--workers takes a whole number from 0 to 1024, not '%s'", optarg);
			o->workers = (int)v;
			break;
		case 's':
			errno = 0;
			o->segment_seconds = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o->segment_seconds >= 0.5 && o->segment_seconds <= 3600))
				return util_err(err, errlen, "--segment-seconds takes seconds from 0.5 to 3600, not '%s'", optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_PRESET:
			for (i = 0; presets[i] != NULL && strcmp(presets[i], optarg) != 0; i++)
				;
			if (presets[i] == NULL)
				return util_err(err, errlen, "--preset: unknown x264 preset '%s' (ultrafast ... veryslow)", optarg);
			o->preset = presets[i];
			break;
		case O_CRF:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 51)
				return util_err(err, errlen, "--crf takes a whole number from 0 to 51, not '%s'", optarg);
			o->crf = (int)v;
			break;
		case O_NOBASE:
			o->baseline = 0;
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
		case O_REMOTE:
			if (remote_check(optarg, o->remote, &o->nremote, 64, err, errlen) == -1)
				return -1;
			break;
		case O_TASK_TIMEOUT:
			if (pool_timeout_option(optarg, &o->task_timeout, err, errlen) == -1)
				return -1;
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
	if (optind >= argc)
		return util_err(err, errlen, "no input file given");
	if (optind + 1 < argc)
		return util_err(err, errlen, "one input file at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	o->input = argv[optind];
	if (o->workers == 0 && o->nremote == 0)
		return util_err(err, errlen, "--workers 0 needs at least one --remote worker");
	fc = filter_chain_parse(o->filter, ferr, sizeof ferr);
	if (fc == NULL)
		return util_err(err, errlen, "--filter: %s", ferr);
	filter_chain_free(fc);
	return 0;
}

void
cli_default_output(const char *input, const char *filter, char *buf, size_t n)
{
	char name[256];
	const char *slash = strrchr(input, '/');
	const char *base = slash ? slash + 1 : input;
	const char *dot = strrchr(base, '.');
	size_t dirlen = slash ? (size_t)(slash - input) + 1 : 0;
	size_t baselen = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	size_t k = 0;
	const char *p;

	/* filter names only, joined by '+': "blur:sigma=3,grayscale" -> "blur+grayscale" */
	for (p = filter; *p != '\0' && k < sizeof name - 1; p++) {
		if (*p == ':') {
			while (*p != '\0' && *p != ',')
				p++;
			if (*p == '\0')
				break;
		}
		if (*p == ',')
			name[k++] = '+';
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
			name[k++] = *p;
	}
	name[k] = '\0';
	snprintf(buf, n, "%.*s%.*s.%s.mp4", (int)dirlen, input, (int)baselen, base, name);
}

static void
cli_progress_cb(struct job *job, void *arg)
{
	struct cli_run *r = arg;
	json_t *rep;
	double now = util_now();

	if (!r->tty || r->o->quiet || r->o->json)
		return;
	if (now - r->last_draw < 0.1)
		return;
	r->last_draw = now;
	rep = job_report(job);
	fprintf(stderr, "\r\033[K%-10s %3.0f%%  segments %lld/%lld",
	    json_string_value(json_object_get(rep, "phase")),
	    json_number_value(json_object_get(rep, "percent")),
	    (long long)json_integer_value(json_object_get(rep, "segments_done")),
	    (long long)json_integer_value(json_object_get(rep, "segments_total")));
	fflush(stderr);
	json_decref(rep);
}

static void
cli_done_cb(struct job *job, void *arg)
{
	struct cli_run *r = arg;

	if (r->tty && !r->o->quiet && !r->o->json)
		fprintf(stderr, "\r\033[K");
	event_base_loopexit(r->base, NULL);
}

static void
cli_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cli_run *r = arg;

	r->interrupted = 1;
	job_cancel(r->job);
}

static void
cli_report(FILE *out, json_t *rep, const struct probe *p, const struct cli_opts *o)
{
	double seq = json_number_value(json_object_get(rep, "sequential_time"));
	double par = json_number_value(json_object_get(rep, "parallel_time"));
	int workers = (int)json_integer_value(json_object_get(rep, "cpu_cores_used"));
	json_t *ident = json_object_get(rep, "identical");

	fprintf(out, "input       %s: %dx%d, %.3f fps%s, %.2f s, %s%s%s\n", o->input, p->width, p->height,
	    p->fps, p->cfr ? "" : " (variable, resampled)", p->duration, p->codec,
	    p->naudio ? ", audio " : ", no audio", p->naudio ? p->audio_codec[0] : "");
	fprintf(out, "filter      %s\n", json_string_value(json_object_get(rep, "filter_type")));
	fprintf(out, "segments    %lld of ~%g s, %d worker%s\n",
	    (long long)json_integer_value(json_object_get(rep, "segments_total")), o->segment_seconds,
	    workers, workers == 1 ? "" : "s");
	fprintf(out, "split       %7.2f s\n", json_number_value(json_object_get(rep, "split_time")));
	if (seq > 0)
		fprintf(out, "sequential  %7.2f s  (1 worker)\n", seq);
	fprintf(out, "parallel    %7.2f s  (%d workers)", par, workers);
	if (seq > 0 && par > 0)
		fprintf(out, "  speedup %.2fx, efficiency %.0f%%", seq / par, 100 * seq / par / workers);
	fprintf(out, "\nmerge       %7.2f s\n", json_number_value(json_object_get(rep, "merge_time")));
	fprintf(out, "frames      %lld in, %lld out\n",
	    (long long)json_integer_value(json_object_get(rep, "frames_in")),
	    (long long)json_integer_value(json_object_get(rep, "frames_out")));
	if (json_is_boolean(ident))
		fprintf(out, "identical   %s\n", json_is_true(ident) ? "yes: the parallel output is byte-identical to the sequential one"
		    : "NO: the parallel output differs from the sequential one");
	fprintf(out, "output      %s\n", json_string_value(json_object_get(rep, "output_path")));
}

struct cli_preview {
	struct event_base *base;
	const struct cli_opts *o;
	const char *filter;
	struct probe probe;
	char tmpdir[4096];
	int code;
};

static void
cli_preview_done_cb(const char *image, size_t len, const char *error, void *arg)
{
	struct cli_preview *cp = arg;
	FILE *f;

	event_base_loopexit(cp->base, NULL);
	if (error != NULL) {
		fprintf(stderr, "master: %s\n", error);
		return;
	}
	f = fopen(cp->o->output, "we");
	if (f == NULL || fwrite(image, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "master: cannot write %s: %s\n", cp->o->output, strerror(errno));
		return;
	}
	if (!cp->o->quiet)
		printf("%s\n", cp->o->output);
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
		fprintf(stderr, "master: %s is not a video ffmpeg can read: %s\n", cp->o->input, errtail);
		event_base_loopexit(cp->base, NULL);
		return;
	}
	if (probe_parse(out, outlen, util_file_size(cp->o->input), &cp->probe, err, sizeof err) == -1 ||
	    limits_check(&cp->o->limits, &cp->probe, &x) == -1) {
		fprintf(stderr, "master: %s: %s\n", cp->o->input, x.limit != NULL ? x.reason : err);
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
		fprintf(stderr, "master: %s\n", err);
		event_base_loopexit(cp->base, NULL);
	}
}

/* `master --preview FILE --filter F [--at T] [-o OUT]` */
static int
cli_preview(const struct cli_opts *o, const char *filter)
{
	struct cli_preview cp;
	char err[1024], url[4200];
	char *argv[24];
	const char *tmp = getenv("TMPDIR");

	memset(&cp, 0, sizeof cp);
	cp.o = o;
	cp.filter = filter;
	cp.code = 1;
	snprintf(cp.tmpdir, sizeof cp.tmpdir, "%s", tmp && *tmp ? tmp : "/tmp");
	cp.base = event_base_new();
	if (cp.base == NULL)
		return 1;
	probe_argv(o->input, argv, url, sizeof url);
	if (proc_start(cp.base, argv, 8 << 20, cli_preview_probe_cb, &cp, err, sizeof err) == NULL)
		fprintf(stderr, "master: %s\n", err);
	else
		event_base_dispatch(cp.base);
	event_base_free(cp.base);
	return cp.code;
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

int
cli_main(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_run r;
	struct job_opts jo;
	struct event *ev_int = NULL, *ev_term = NULL;
	char err[1024], out[4096], workdir[4096], canon_in[PATH_MAX], canon_out[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	struct filter_chain *fc = NULL;
	struct ffversion_check ver = { .ff.prog = NULL };
	json_t *rep;
	long n;
	int code = 1;

	memset(&r, 0, sizeof r);
	workdir[0] = '\0';
	if (cli_parse(argc, argv, &o, err, sizeof err) == -1) {
		fprintf(stderr, "master: %s\nTry 'master --help'.\n", err);
		return 2;
	}
	if (o.help) {
		cli_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("video-renderer %s\n", VR_VERSION);
		return 0;
	}
	if (o.list_filters) {
		filter_list_print(stdout);
		return 0;
	}
	/* --quiet promises no log lines at all: its one error line is printed below */
	log_init('M', o.verbose ? LOG_DEBUG : o.quiet ? LOG_QUIET : o.json ? LOG_WARN : LOG_INFO);
	/* asked now, answered once the probe has started: ~0.1 s a short clip would notice */
	ffversion_check_start(&ver);
	if (access(o.input, R_OK) == -1) {
		fprintf(stderr, "master: cannot read %s: %s\n", o.input, strerror(errno));
		goto done;
	}
	fc = filter_chain_parse(o.filter, err, sizeof err);
	if (o.output == NULL) {
		cli_default_output(o.input, filter_chain_spec(fc), out, sizeof out);
		if (o.preview && strlen(out) > 4)
			memcpy(out + strlen(out) - 4, ".png", 4);
		o.output = out;
	}
	if (o.preview) {
		if (ffversion_check_finish(&ver, err, sizeof err) == -1) {
			fprintf(stderr, "master: %s\n", err);
			goto done;
		}
		code = cli_preview(&o, filter_chain_spec(fc));
		goto done;
	}
	if (realpath(o.input, canon_in) != NULL && realpath(o.output, canon_out) != NULL &&
	    strcmp(canon_in, canon_out) == 0) {
		fprintf(stderr, "master: the output %s would overwrite the input\n", o.output);
		code = 2;
		goto done;
	}
	{
		/* fail now, not after the whole render, when the output cannot be written */
		char dir[4096];
		const char *slash = strrchr(o.output, '/');

		snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - o.output) : 1, slash ? o.output : ".");
		if (dir[0] == '\0')
			snprintf(dir, sizeof dir, "/");
		if (access(dir, W_OK) == -1) {
			fprintf(stderr, "master: cannot write the output %s: %s\n", o.output, strerror(errno));
			goto done;
		}
	}
	if (o.workers == -1) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		o.workers = n > 0 ? (int)n : 1;
	}
	snprintf(workdir, sizeof workdir, "%s/video-renderer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(workdir) == NULL) {
		fprintf(stderr, "master: cannot create a working directory in %s: %s\n", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		workdir[0] = '\0';
		goto done;
	}
	memset(&jo, 0, sizeof jo);
	jo.input = o.input;
	jo.output = o.output;
	jo.workdir = workdir;
	jo.filter = filter_chain_spec(fc);
	jo.preset = o.preset;
	jo.crf = o.crf;
	jo.workers = o.workers;
	jo.remote = o.remote;
	jo.nremote = o.nremote;
	jo.task_timeout = o.task_timeout;
	jo.segment_seconds = o.segment_seconds;
	jo.baseline = o.baseline;
	jo.keep_workdir = o.keep_temp;
	jo.limits = o.limits;
	jo.check = cli_version_answer;
	jo.check_arg = &ver;

	r.o = &o;
	r.tty = isatty(STDERR_FILENO);
	r.base = event_base_new();
	if (r.base == NULL) {
		fprintf(stderr, "master: cannot create the event loop\n");
		goto done;
	}
	r.job = job_new(r.base, &jo, cli_progress_cb, cli_done_cb, &r);
	if (r.job == NULL) {
		fprintf(stderr, "master: out of memory\n");
		goto done;
	}
	ev_int = evsignal_new(r.base, SIGINT, cli_signal_cb, &r);
	ev_term = evsignal_new(r.base, SIGTERM, cli_signal_cb, &r);
	event_add(ev_int, NULL);
	event_add(ev_term, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (job_start(r.job, err, sizeof err) == -1) {
		fprintf(stderr, "master: %s\n", err);
		goto done;
	}
	event_base_dispatch(r.base);
	cli_drain(r.base);
	if (o.keep_temp)
		fprintf(stderr, "master: kept the working directory %s\n", workdir);
	else
		workdir[0] = '\0';  /* the job removed it */
	rep = job_report(r.job);
	if (job_phase(r.job) == JOB_DONE) {
		if (o.json) {
			json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
			putchar('\n');
		} else if (!o.quiet) {
			cli_report(stdout, rep, job_probe(r.job), &o);
		}
		code = 0;
	} else {
		if (o.json) {
			json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
			putchar('\n');
		}
		fprintf(stderr, "master: %s\n", job_error(r.job));
		code = r.interrupted ? 130 : 1;
	}
	json_decref(rep);
done:
	/* reaps the version checks on the paths that left before their answer */
	ffversion_check_finish(&ver, err, sizeof err);
	if (workdir[0] != '\0' && !o.keep_temp)
		util_rm_rf(workdir);
	job_free(r.job);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (r.base != NULL)
		event_base_free(r.base);
	filter_chain_free(fc);
	return code;
}
