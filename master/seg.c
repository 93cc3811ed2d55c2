#include "master/seg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		s.index = s.first = cnt;
		s.nfiles = 1;
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

double
seg_unit_length(double piece_seconds)
{
	double u = piece_seconds / SEG_FILES_PER_PIECE;

	/* below a few frames a file is all container overhead */
	return u > 0.2 ? ceil(u * 1e6) / 1e6 : 0.2;
}

/* The last file starting at or before frame f (keys ascending, keys[0] == 0). */
static int
seg_unit_at(const int64_t *keys, int n, int64_t f)
{
	int lo = 0, hi = n - 1, mid;

	while (lo < hi) {
		mid = (lo + hi + 1) / 2;
		if (keys[mid] <= f)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Boundaries for pieces of cost `target` each, from frame 0 on: b[0..pieces] (b[pieces] =
 * frames); returns what the last piece then costs. */
static double
seg_bounds(const int64_t *keys, int nkeys, int64_t frames, int pieces, double target, int64_t *b)
{
	int64_t pre, next;
	int i;

	b[0] = 0;
	for (i = 1; i < pieces; i++) {
		pre = b[i - 1] - keys[seg_unit_at(keys, nkeys, b[i - 1])];
		next = b[i - 1] + llround(target - SEG_PREROLL_COST * (double)pre);
		/* every piece keeps at least one frame */
		if (next < b[i - 1] + 1)
			next = b[i - 1] + 1;
		if (next > frames - (pieces - i))
			next = frames - (pieces - i);
		b[i] = next;
	}
	b[pieces] = frames;
	pre = b[pieces - 1] - keys[seg_unit_at(keys, nkeys, b[pieces - 1])];
	return (double)(frames - b[pieces - 1]) + SEG_PREROLL_COST * (double)pre;
}

int
seg_plan(const struct seg *units, int nunits, int64_t frames, double fps, int pieces,
    struct seg **out, int *n)
{
	struct seg *v = NULL;
	int64_t *keys = NULL, *b = NULL;
	double lo, hi, mid;
	int i, it, a, z, rc = -1;

	if (pieces > frames)
		pieces = frames > 0 ? (int)frames : 1;
	if (pieces < 1)
		pieces = 1;
	keys = malloc((size_t)nunits * sizeof *keys);
	b = malloc(((size_t)pieces + 1) * sizeof *b);
	v = calloc((size_t)pieces, sizeof *v);
	if (keys == NULL || b == NULL || v == NULL)
		goto done;
	for (i = 0; i < nunits; i++) {
		keys[i] = llround((units[i].start - units[0].start) * fps);
		if (i > 0 && keys[i] <= keys[i - 1])
			keys[i] = keys[i - 1] + 1;  /* a rounding tie: keep the order */
	}
	/* The last piece's cost falls as the common target rises (every boundary moves later):
	 * bisect to the target where it equals the others'. */
	lo = 0;
	hi = (double)frames;
	for (it = 0; it < 60 && hi - lo > 0.01; it++) {
		mid = (lo + hi) / 2;
		if (seg_bounds(keys, nunits, frames, pieces, mid, b) > mid)
			lo = mid;
		else
			hi = mid;
	}
	seg_bounds(keys, nunits, frames, pieces, hi, b);
	for (i = 0; i < pieces; i++) {
		a = seg_unit_at(keys, nunits, b[i]);
		z = i + 1 < pieces ? seg_unit_at(keys, nunits, b[i + 1] - 1) : nunits - 1;
		v[i].index = i;
		snprintf(v[i].name, sizeof v[i].name, "%s", units[a].name);
		v[i].first = a;
		v[i].nfiles = z - a + 1;
		v[i].skip = b[i] - keys[a];
		/* the last piece takes whatever is left, so an estimate never loses a frame */
		v[i].count = i + 1 < pieces ? b[i + 1] - b[i] : 0;
		v[i].start = units[0].start + (double)b[i] / fps;
		v[i].end = i + 1 < pieces ? units[0].start + (double)b[i + 1] / fps : units[nunits - 1].end;
	}
	*out = v;
	*n = pieces;
	v = NULL;
	rc = 0;
done:
	free(keys);
	free(b);
	free(v);
	return rc;
}
