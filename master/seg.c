#include "master/seg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "master/probe.h"

double
seg_length(double duration, int workers, double max_seconds)
{
	double k, len;

	if (!(duration > 0) || workers < 1 || !(max_seconds > 0))
		return max_seconds;
	k = ceil(duration / ((double)workers * max_seconds) - 1e-9);
	if (k < 1)
		k = 1;
	len = ceil(duration / (k * workers) * 1e6) / 1e6;
	return len < max_seconds ? len : max_seconds;
}

void
seg_cut_argv(const char *input, const char *dir, double seconds, char **argv, char bufs[4][4096])
{
	int i;

	snprintf(bufs[0], 4096, "file:%s", input);
	snprintf(bufs[1], 4096, "%.6f", seconds);
	snprintf(bufs[2], 4096, "%s/list.csv", dir);
	snprintf(bufs[3], 4096, "%s/seg_%%05d.mkv", dir);
	i = probe_ffmpeg_head(argv);
	/* AVI and MPEG-PS packets may carry a decode time only: Matroska needs a presentation time */
	argv[i++] = "-fflags";
	argv[i++] = "+genpts";
	i = probe_input_args(argv, i, bufs[0]);
	/* video only: the audio is taken from the original when joining, untouched */
	argv[i++] = "-map";
	argv[i++] = "0:v:0";
	argv[i++] = "-c";
	argv[i++] = "copy";
	argv[i++] = "-f";
	argv[i++] = "segment";
	argv[i++] = "-segment_time";
	argv[i++] = bufs[1];
	argv[i++] = "-reset_timestamps";
	argv[i++] = "1";
	argv[i++] = "-segment_list";
	argv[i++] = bufs[2];
	argv[i++] = "-segment_list_type";
	argv[i++] = "csv";
	/* Matroska holds every codec ffmpeg decodes, so any input can be cut without re-encoding */
	argv[i++] = "-segment_format";
	argv[i++] = "matroska";
	argv[i++] = bufs[3];
	argv[i] = NULL;
}

int
seg_whole(const char *input, const char *dir, double duration, char *err, size_t errlen)
{
	char real[4096], link[4200], path[4200], name[32];
	const char *dot = strrchr(input, '.'), *c;
	FILE *f;

	/* the input's extension, when plain, helps ffmpeg tell a bare stream's kind */
	snprintf(name, sizeof name, "whole");
	if (dot != NULL && strchr(dot, '/') == NULL && strlen(dot) <= 6) {
		for (c = dot + 1; *c != '\0' && isalnum((unsigned char)*c); c++)
			;
		if (*c == '\0' && c > dot + 1)
			snprintf(name, sizeof name, "whole%s", dot);
	}
	if (realpath(input, real) == NULL)
		return util_err(err, errlen, "cannot resolve %s: %s", input, strerror(errno));
	snprintf(link, sizeof link, "%s/%s", dir, name);
	if (symlink(real, link) == -1)
		return util_err(err, errlen, "cannot link %s: %s", link, strerror(errno));
	snprintf(path, sizeof path, "%s/list.csv", dir);
	f = fopen(path, "we");
	if (f == NULL)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "%s,0.000000,%.6f\n", name, duration);
	if (fclose(f) == EOF)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

int
seg_read_list(const char *dir, struct seg **out, int *n, char *err, size_t errlen)
{
	char path[4096], line[512];
	struct seg *v = NULL, *tmp;
	int cap = 0, cnt = 0, rc = -1;
	FILE *f;

	snprintf(path, sizeof path, "%s/list.csv", dir);
	f = fopen(path, "re");
	if (f == NULL)
		return util_err(err, errlen, "cannot read the segment list %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		struct seg s;
		char *c1, *c2;

		memset(&s, 0, sizeof s);
		c1 = strchr(line, ',');
		c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (c1 == NULL || c2 == NULL || (size_t)(c1 - line) >= sizeof s.name) {
			util_err(err, errlen, "bad line in the segment list: %s", line);
			goto done;
		}
		memcpy(s.name, line, (size_t)(c1 - line));
		s.start = strtod(c1 + 1, NULL);
		s.end = strtod(c2 + 1, NULL);
		s.index = cnt;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(v, (size_t)cap * sizeof *v);
			if (tmp == NULL) {
				util_err(err, errlen, "out of memory");
				goto done;
			}
			v = tmp;
		}
		v[cnt++] = s;
	}
	if (cnt == 0) {
		util_err(err, errlen, "the cutter produced no segment");
		goto done;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	rc = 0;
done:
	fclose(f);
	free(v);
	return rc;
}

int
seg_split(struct seg **v, int *n, double duration, double fps, int workers)
{
	struct seg *in = *v, *out;
	double share = duration / workers, len;
	int64_t frames, per;
	int i, k, parts, total = 0, m = 0;

	if (*n >= workers || fps <= 0 || share <= 0)
		return 0;
	for (i = 0; i < *n; i++) {
		len = in[i].end - in[i].start;
		parts = (int)ceil(len / share - 0.01);
		total += parts < 1 ? 1 : parts > workers ? workers : parts;
	}
	if (total == *n)
		return 0;
	out = calloc((size_t)total, sizeof *out);
	if (out == NULL)
		return -1;
	for (i = 0; i < *n; i++) {
		len = in[i].end - in[i].start;
		parts = (int)ceil(len / share - 0.01);
		parts = parts < 1 ? 1 : parts > workers ? workers : parts;
		frames = llround(in[i].end * fps) - llround(in[i].start * fps);
		per = frames / parts;
		if (per < 1) {
			parts = 1;
			per = frames;
		}
		for (k = 0; k < parts; k++) {
			out[m] = in[i];
			out[m].index = m;
			out[m].skip = k * per;
			/* the last piece takes whatever is left, so an estimate never loses a frame */
			out[m].count = k + 1 < parts ? per : 0;
			out[m].start = in[i].start + (double)(k * per) / fps;
			out[m].end = k + 1 < parts ? in[i].start + (double)((k + 1) * per) / fps : in[i].end;
			m++;
		}
	}
	free(in);
	*v = out;
	*n = m;
	return 0;
}
