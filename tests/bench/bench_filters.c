/*
 * build/bench-filters: single-thread speed of every filter kernel on 1080p 4:2:0 frames.
 *
 *   bench-filters [--seconds S] [--filter SPEC] [--size WxH] [--json] [--ffmpeg]
 *
 * Each filter runs with its defaults (color, neutral by default, with some settings) for
 * about S seconds (0.5) on a copy of the same fixed-seed frame; only filter_chain_apply is
 * timed, in CPU time of this thread, so that other processes on the machine do not count
 * (they still share caches and memory). --filter takes a name or any chain spec. --ffmpeg also times ffmpeg's gblur (sigma 2.6, one thread) on the same frames fed
 * through a pipe, minus a null-filter run, against our blur: the target is at least 2x.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fspec.h"
#include "common/spawn.h"
#include "common/util.h"
#include "worker/filter.h"

#define BENCH_FFMPEG_FRAMES	60

/* Filters whose defaults change nothing are timed with these settings instead. */
static const struct {
	const char	*name, *spec;
} bench_overrides[] = {
	{ "color", "color:brightness=0.05:contrast=1.2:saturation=1.3:gamma=1.2" },
};

struct bench_opts {
	double		 seconds;
	const char	*filter;
	int		 width, height;
	int		 json;
	int		 ffmpeg;
};

struct bench_result {
	char	spec[256];
	double	mpix_s, ms_frame;
	long	frames;
};

static double
bench_cpu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench_frame {
	struct frame	 f;
	uint8_t		*mem;
	size_t		 size;
};

static int
bench_frame_alloc(struct bench_frame *b, int w, int h)
{
	size_t	ysize = (size_t)w * (size_t)h;
	size_t	csize = (size_t)((w + 1) / 2) * (size_t)((h + 1) / 2);

	b->size = ysize + 2 * csize;
	b->mem = malloc(b->size);
	if (b->mem == NULL)
		return -1;
	b->f.width = w;
	b->f.height = h;
	b->f.data[0] = b->mem;
	b->f.data[1] = b->mem + ysize;
	b->f.data[2] = b->mem + ysize + csize;
	b->f.linesize[0] = w;
	b->f.linesize[1] = b->f.linesize[2] = (w + 1) / 2;
	return 0;
}

/* Gradients plus noise from a fixed seed: not flat, not pure noise, the same every run. */
static void
bench_frame_fill(struct bench_frame *b)
{
	uint32_t	s = 2463534242u;
	size_t		i;
	int		x, y, p;

	for (p = 0; p < 3; p++) {
		int	w = p ? (b->f.width + 1) / 2 : b->f.width;
		int	h = p ? (b->f.height + 1) / 2 : b->f.height;

		for (y = 0; y < h; y++) {
			for (x = 0; x < w; x++) {
				s ^= s << 13;
				s ^= s >> 17;
				s ^= s << 5;
				i = (size_t)y * (size_t)b->f.linesize[p] + (size_t)x;
				b->f.data[p][i] = (uint8_t)(16 + ((x * 3 + y * (p + 1) * 2) % 200) +
				    (int)(s % 24));
			}
		}
	}
}

static int
bench_run(const char *spec, const struct bench_frame *src, struct bench_frame *work,
    double seconds, struct bench_result *r)
{
	struct filter_chain	*fc;
	char			 err[512];
	double			 busy = 0, t0, start;

	fc = filter_chain_parse(spec, err, sizeof err);
	if (fc == NULL) {
		fprintf(stderr, "bench-filters: %s\n", err);
		return -1;
	}
	if (filter_chain_prepare(fc, src->f.width, src->f.height, FILTER_BT709, err,
	    sizeof err) != 0) {
		fprintf(stderr, "bench-filters: %s\n", err);
		filter_chain_free(fc);
		return -1;
	}
	snprintf(r->spec, sizeof r->spec, "%s", filter_chain_spec(fc));
	r->frames = 0;
	start = util_now();
	/* At least 3 frames, and on a busy machine no more than 10x the budget in wall time. */
	while ((busy < seconds || r->frames < 3) && util_now() - start < 10 * seconds + 5) {
		memcpy(work->mem, src->mem, src->size);
		t0 = bench_cpu_now();
		filter_chain_apply(fc, &work->f);
		busy += bench_cpu_now() - t0;
		r->frames++;
	}
	r->ms_frame = busy / (double)r->frames * 1000;
	r->mpix_s = (double)src->f.width * src->f.height * (double)r->frames / busy / 1e6;
	filter_chain_free(fc);
	return 0;
}

/* ffmpeg's user CPU seconds (-benchmark's utime) for a -vf on frames written to its stdin. */
static double
bench_ffmpeg_utime(const struct bench_frame *src, const char *vf, char *err, size_t errlen)
{
	char	 size[32], buf[8192], *p;
	char	*argv[] = { "ffmpeg", "-hide_banner", "-nostats", "-benchmark",
		"-threads", "1", "-filter_threads", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p",
		"-s", size, "-i", "pipe:0", "-vf", (char *)vf, "-f", "null", "-", NULL };
	int	 fds[2] = { -1, -1 }, cap = -1, i, status = 0;
	pid_t	 pid = -1;
	double	 utime = -1;
	ssize_t	 n;

	snprintf(size, sizeof size, "%dx%d", src->f.width, src->f.height);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot create a pipe for ffmpeg: %s", strerror(errno));
		goto done;
	}
	if ((cap = spawn_capture_open("ffmpeg-bench")) < 0) {
		snprintf(err, errlen, "cannot capture ffmpeg's output: %s", strerror(errno));
		goto done;
	}
	pid = spawn(argv, fds[0], -1, cap, err, errlen);
	if (pid < 0)
		goto done;
	close(fds[0]);
	fds[0] = -1;
	for (i = 0; i < BENCH_FFMPEG_FRAMES; i++) {
		if (util_write_full(fds[1], src->mem, src->size, NULL) != 0)
			break;
	}
	close(fds[1]);
	fds[1] = -1;
	spawn_wait(pid, &status, NULL);
	n = pread(cap, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    (p = strstr(buf, "utime=")) == NULL) {
		spawn_capture_tail(cap, buf, sizeof buf);
		snprintf(err, errlen, "ffmpeg -vf %s failed: %s", vf, buf);
		goto done;
	}
	utime = strtod(p + 6, NULL);

done:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (cap >= 0)
		close(cap);
	return utime;
}

static void
bench_usage(FILE *out)
{
	fprintf(out, "usage: bench-filters [--seconds S] [--filter SPEC] [--size WxH] [--json] "
	    "[--ffmpeg]\n"
	    "Times every filter (or SPEC) on one core; --ffmpeg compares blur with ffmpeg's "
	    "gblur.\n");
}

static int
bench_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "ffmpeg", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	int	 c;

	o->seconds = 0.5;
	o->filter = NULL;
	o->width = 1920;
	o->height = 1080;
	o->json = o->ffmpeg = 0;
	while ((c = getopt_long(argc, argv, "s:f:z:jFh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o->seconds > 0 && o->seconds <= 600)) {
				fprintf(stderr, "bench-filters: --seconds wants a number of seconds "
				    "from 0 to 600, got \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'z':
			if (sscanf(optarg, "%dx%d", &o->width, &o->height) != 2 || o->width < 1 ||
			    o->height < 1 || o->width > 16384 || o->height > 16384) {
				fprintf(stderr, "bench-filters: --size wants WxH up to 16384x16384, "
				    "got \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'F':
			o->ffmpeg = 1;
			break;
		case 'h':
			bench_usage(stdout);
			exit(0);
		default:
			bench_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		bench_usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts	 o;
	struct bench_frame	 src, work;
	struct bench_result	*res = NULL, blur;
	json_t			*list = NULL, *f, *out, *arr;
	const char		*spec;
	char			 err[1024];
	double			 u_blur = -1, u_null = -1, ff_ms = 0;
	size_t			 i, n = 0;
	int			 rc = 1;

	if (bench_parse(argc, argv, &o) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (bench_frame_alloc(&src, o.width, o.height) != 0 ||
	    bench_frame_alloc(&work, o.width, o.height) != 0) {
		fprintf(stderr, "bench-filters: cannot allocate %dx%d frames\n", o.width, o.height);
		return 1;
	}
	bench_frame_fill(&src);

	list = fspec_list_json();
	res = calloc(json_array_size(list) + 1, sizeof *res);
	if (res == NULL)
		goto done;
	if (o.filter != NULL) {
		if (bench_run(o.filter, &src, &work, o.seconds, &res[n]) != 0)
			goto done;
		n++;
	} else {
		json_array_foreach(list, i, f) {
			size_t	k;

			spec = json_string_value(json_object_get(f, "name"));
			for (k = 0; k < sizeof bench_overrides / sizeof bench_overrides[0]; k++) {
				if (strcmp(spec, bench_overrides[k].name) == 0)
					spec = bench_overrides[k].spec;
			}
			if (bench_run(spec, &src, &work, o.seconds, &res[n]) != 0)
				goto done;
			n++;
		}
	}

	if (o.ffmpeg) {
		if (bench_run("blur:sigma=2.6", &src, &work, o.seconds, &blur) != 0)
			goto done;
		u_blur = bench_ffmpeg_utime(&src, "gblur=sigma=2.6", err, sizeof err);
		if (u_blur >= 0)
			u_null = bench_ffmpeg_utime(&src, "null", err, sizeof err);
		if (u_blur < 0 || u_null < 0) {
			fprintf(stderr, "bench-filters: %s\n", err);
			goto done;
		}
		ff_ms = (u_blur - u_null) / BENCH_FFMPEG_FRAMES * 1000;
	}

	if (o.json) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(arr, json_pack("{s:s, s:f, s:f, s:I}", "filter",
			    res[i].spec, "mpixels_per_s", res[i].mpix_s, "ms_per_frame",
			    res[i].ms_frame, "frames", (json_int_t)res[i].frames));
		}
		out = json_pack("{s:i, s:i, s:f, s:i, s:o}", "width", o.width, "height",
		    o.height, "seconds", o.seconds, "threads", 1, "results", arr);
		if (o.ffmpeg) {
			json_object_set_new(out, "blur_vs_ffmpeg", json_pack("{s:s, s:f, s:f, s:f}",
			    "ffmpeg_filter", "gblur=sigma=2.6", "ffmpeg_ms_per_frame", ff_ms,
			    "ours_ms_per_frame", blur.ms_frame, "speedup",
			    ff_ms / blur.ms_frame));
		}
		json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(out);
	} else {
		printf("%dx%d yuv420p, one thread, %.2f s per filter\n\n", o.width, o.height,
		    o.seconds);
		printf("%-64s %10s %9s %7s\n", "filter", "Mpixel/s", "ms/frame", "frames");
		for (i = 0; i < n; i++) {
			printf("%-64s %10.1f %9.3f %7ld\n", res[i].spec, res[i].mpix_s,
			    res[i].ms_frame, res[i].frames);
		}
		if (o.ffmpeg) {
			printf("\nblur sigma 2.6: ours %.3f ms/frame, ffmpeg gblur %.3f ms/frame "
			    "(user CPU, minus a null run, %d frames): %.2fx\n", blur.ms_frame, ff_ms,
			    BENCH_FFMPEG_FRAMES, ff_ms / blur.ms_frame);
		}
	}
	rc = 0;

done:
	json_decref(list);
	free(res);
	free(src.mem);
	free(work.mem);
	return rc;
}
