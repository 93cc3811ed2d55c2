#include "master/seg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/argv.h"
#include "common/util.h"
#include "master/ffcmd.h"
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
seg_cut_argv(const char *input, const char *dir, double seconds, int times, struct argv *a)
{
	ffcmd_head(a);
	/* AVI and MPEG-PS packets may carry a decode time only: Matroska needs a presentation time */
	argv_add(a, "-fflags", "+genpts", NULL);
	if (times) {
		/* The list's times stay the input's: neither moved to start at 0 nor later by the
		 * B-frame delay, so a file's first frame number is (start - video start) x fps
		 * (seg_plan_next). Each Matroska file still shifts its own timestamps as it needs. */
		argv_add(a, "-copyts", NULL);
	}
	ffcmd_input(a, input);
	/* video only: the audio is taken from the original when joining, untouched */
	argv_add(a, "-map", "0:v:0", "-c", "copy", NULL);
	if (times)
		argv_add(a, "-avoid_negative_ts", "disabled", NULL);
	argv_add(a, "-f", "segment", "-segment_time", NULL);
	argv_addf(a, "%.6f", seconds);
	argv_add(a, "-reset_timestamps", "1", "-segment_list", NULL);
	argv_addf(a, "%s/list.csv", dir);
	argv_add(a, "-segment_list_type", "csv", NULL);
	/* Matroska holds every codec ffmpeg decodes, so any input can be cut without re-encoding */
	argv_add(a, "-segment_format", "matroska", NULL);
	argv_addf(a, "%s/seg_%%05d.mkv", dir);
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
seg_list_more(struct seg_list *l, const char *dir, char *err, size_t errlen)
{
	char path[4096], line[512];
	struct seg s, *tmp;
	char *c1, *c2;
	int added = -1, cap;
	FILE *f;

	snprintf(path, sizeof path, "%s/list.csv", dir);
	f = fopen(path, "re");
	if (f == NULL)
		return util_err(err, errlen, "cannot read the segment list %s: %s", path, strerror(errno));
	if (fseek(f, l->off, SEEK_SET) == -1) {
		util_err(err, errlen, "cannot read the segment list %s: %s", path, strerror(errno));
		goto done;
	}
	for (added = 0; fgets(line, sizeof line, f) != NULL; added++) {
		/* the cutter may be writing this very line: only whole ones count, the rest is
		 * read again next time */
		if (strchr(line, '\n') == NULL)
			break;
		memset(&s, 0, sizeof s);
		c1 = strchr(line, ',');
		c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (c1 == NULL || c2 == NULL || (size_t)(c1 - line) >= sizeof s.name) {
			added = util_err(err, errlen, "bad line in the segment list: %s", line);
			goto done;
		}
		memcpy(s.name, line, (size_t)(c1 - line));
		s.start = strtod(c1 + 1, NULL);
		s.end = strtod(c2 + 1, NULL);
		s.index = s.first = l->n;
		s.nfiles = 1;
		if (l->n == l->cap) {
			cap = l->cap ? l->cap * 2 : 64;
			tmp = realloc(l->v, (size_t)cap * sizeof *tmp);
			if (tmp == NULL) {
				added = util_err(err, errlen, "out of memory");
				goto done;
			}
			l->v = tmp;
			l->cap = cap;
		}
		l->v[l->n++] = s;
		l->off += (long)strlen(line);
	}
done:
	fclose(f);
	return added;
}

double
seg_unit_length(double piece_seconds)
{
	double u = piece_seconds / SEG_FILES_PER_PIECE;

	if (u > SEG_UNIT_MAX)
		u = SEG_UNIT_MAX;
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

/* Frame numbers of the files' first frames (ascending). The cutter lists the first file as
 * starting at 0 whatever its first frame's time; the others' times are their keyframes'. */
static void
seg_keys(const struct seg *units, int n, double origin, double fps, int64_t *keys)
{
	int i;

	keys[0] = 0;
	for (i = 1; i < n; i++) {
		keys[i] = llround((units[i].start - origin) * fps);
		if (i > 0 && keys[i] <= keys[i - 1])
			keys[i] = keys[i - 1] + 1;  /* a rounding tie: keep the order */
	}
}

/* The frames a piece starting at frame f decodes and drops: back to its file's keyframe. */
static int64_t
seg_preroll(const int64_t *keys, int n, int64_t f)
{
	return f - keys[seg_unit_at(keys, n, f)];
}

/* Boundaries b[0..left] for `left` pieces from frame b[0] to frames, each but the last costing
 * `target`; returns what the last then costs. */
static double
seg_bounds(const int64_t *keys, int nkeys, int64_t frames, int left, double target, int64_t *b)
{
	int64_t next;
	int k;

	for (k = 1; k < left; k++) {
		next = b[k - 1] + llround(target - SEG_PREROLL_COST * (double)seg_preroll(keys, nkeys, b[k - 1]));
		/* every piece keeps at least one frame */
		if (next < b[k - 1] + 1)
			next = b[k - 1] + 1;
		if (next > frames - (left - k))
			next = frames - (left - k);
		b[k] = next;
	}
	b[left] = frames;
	return (double)(frames - b[left - 1]) + SEG_PREROLL_COST * (double)seg_preroll(keys, nkeys, b[left - 1]);
}

/* Where the piece from `start` ends when every file is known: the last piece's cost falls as
 * the common target rises (every boundary moves later), so bisect to the target where it
 * equals the others'. */
static int64_t
seg_end_known(const int64_t *keys, int nkeys, int64_t frames, int left, int64_t start, int64_t *b)
{
	double lo = 0, hi = (double)(frames - start) + SEG_PREROLL_COST * (double)frames, mid;
	int it;

	b[0] = start;
	for (it = 0; it < 64 && hi - lo > 0.01; it++) {
		mid = (lo + hi) / 2;
		if (seg_bounds(keys, nkeys, frames, left, mid, b) > mid)
			lo = mid;
		else
			hi = mid;
	}
	seg_bounds(keys, nkeys, frames, left, hi, b);
	return b[1];
}

/* The piece's cost minus the average of the pieces after it, were it to end at frame e; the
 * files after `known` are not listed yet, so their pre-rolls are guessed at half a file. */
static double
seg_excess(const int64_t *keys, int nkeys, int64_t frames, int left, int64_t start, int64_t e, double guess)
{
	double mine = (double)(e - start) + SEG_PREROLL_COST * (double)seg_preroll(keys, nkeys, start);
	double rest = (double)(frames - e) + SEG_PREROLL_COST * ((double)seg_preroll(keys, nkeys, e) +
	    (double)(left - 2) * guess);

	return mine - rest / (left - 1);
}

/* Where the piece from `start` ends, knowing the files up to frame `known` only: the frame
 * that leaves it the average of what is left, or the last frame it may end on. The excess
 * grows with e (a frame more here is one less for the others; a pre-roll grows slower), so
 * bisect. */
static int64_t
seg_end_listed(const int64_t *keys, int nkeys, int64_t known, int64_t frames, int left, int64_t start)
{
	double guess = 0.5 * (double)known / nkeys;
	int64_t lo = start + 1, hi = frames - (left - 1), mid;

	/* its last frame in a listed file and the next piece's first too, for its pre-roll */
	if (hi > known - 1)
		hi = known - 1;
	if (hi < lo)
		return lo;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (seg_excess(keys, nkeys, frames, left, start, mid, guess) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo > start + 1 && fabs(seg_excess(keys, nkeys, frames, left, start, lo - 1, guess)) <
	    fabs(seg_excess(keys, nkeys, frames, left, start, lo, guess)))
		lo--;
	return lo;
}

int
seg_plan_next(const struct seg *units, int nunits, int complete, double origin, int64_t frames,
    double fps, int pieces, int i, int64_t start, struct seg *out)
{
	int64_t *keys = NULL, *b = NULL, end, listed, horizon;
	int left = pieces - i, a, z, m, rc = -1;

	keys = malloc((size_t)nunits * sizeof *keys);
	b = malloc(((size_t)left + 1) * sizeof *b);
	if (keys == NULL || b == NULL)
		goto done;
	seg_keys(units, nunits, origin, fps, keys);
	listed = llround((units[nunits - 1].end - origin) * fps);
	/* The plan must not depend on how far the cut had gone when it was made (runs must give
	 * the same bytes): a piece is planned from the files before a horizon 1.5 pieces on, once
	 * they are all listed, or from all of them when the horizon is past the end. */
	horizon = start + (int64_t)ceil(1.5 * (double)(frames - start) / left);
	rc = 0;
	if (left <= 1 || horizon >= frames) {
		if (!complete)
			goto done;
		/* the last piece reads to the end of the cut */
		end = left <= 1 ? frames : seg_end_known(keys, nunits, frames, left, start, b);
	} else {
		if (!complete && listed < horizon)
			goto done;
		for (m = 1; m < nunits && keys[m] < horizon; m++)
			;
		end = seg_end_listed(keys, m, horizon, frames, left, start);
	}
	a = seg_unit_at(keys, nunits, start);
	z = end < frames ? seg_unit_at(keys, nunits, end - 1) : nunits - 1;
	memset(out, 0, sizeof *out);
	out->index = i;
	snprintf(out->name, sizeof out->name, "%s", units[a].name);
	out->first = a;
	out->nfiles = z - a + 1;
	out->skip = start - keys[a];
	/* the last piece takes whatever is left, so an estimate never loses a frame */
	out->count = end < frames ? end - start : 0;
	out->start = origin + (double)start / fps;
	out->end = end < frames ? origin + (double)end / fps : units[nunits - 1].end;
	rc = 1;
done:
	free(keys);
	free(b);
	return rc;
}

int
seg_group(const struct seg *units, int nunits, double origin, double duration, int pieces,
    struct seg **out, int *nout)
{
	struct seg *v;
	int u, n = 0;

	*out = NULL;
	*nout = 0;
	if (pieces < 1)
		pieces = 1;
	v = calloc((size_t)(nunits < pieces ? (nunits > 0 ? nunits : 1) : pieces), sizeof *v);
	if (v == NULL)
		return -1;
	for (u = 0; u < nunits; u++) {
		/* a new piece at the first file whose middle is past where the next share of the
		 * duration begins: the file nearest to it starts the piece (none past the last) */
		if (n == 0 || (n < pieces && units[u].start + units[u].end >=
		    2 * (origin + n * duration / pieces) - 1e-6)) {
			v[n] = units[u];
			v[n].index = n;
			v[n].first = u;
			v[n].nfiles = 0;
			if (v[n].start < origin)
				v[n].start = origin;
			n++;
		}
		v[n - 1].nfiles++;
		v[n - 1].end = units[u].end;
	}
	*out = v;
	*nout = n;
	return 0;
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
