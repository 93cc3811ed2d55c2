#include "master/join.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/argv.h"
#include "common/util.h"
#include "master/audio.h"
#include "master/ffcmd.h"
#include "master/format.h"
#include "master/probe.h"

int
join_write_kept(const char *dir, const char *subdir, int n, const int64_t *frames,
    const double *starts, char *err, size_t errlen)
{
	char path[4096];
	int i, next, kept = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/concat.txt", dir);
	f = fopen(path, "we");
	if (f == NULL)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "ffconcat version 1.0\n");
	for (i = 0; i < n; i++) {
		if (frames[i] <= 0)
			continue;
		kept++;
		fprintf(f, "file %s/out_%05d.mp4\n", subdir, i);
		for (next = i + 1; next < n && frames[next] <= 0; next++)
			;
		if (starts != NULL && next < n)
			fprintf(f, "duration %.6f\n", starts[next] - starts[i]);
	}
	if (fclose(f) != 0)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	if (kept == 0)
		return util_err(err, errlen, "no frame could be decoded");
	return 0;
}

/* Maps stream number `from` of a kind ("a:", or "" for any) of input `in` (JOIN_IN_ORIGINAL or
 * JOIN_IN_AUDIO) to output stream `out`, coded with codec, with the metadata of the original's
 * stream `spec` of that kind. */
static void
join_map(struct argv *a, int in, int from, const char *kind, int spec, int out, const char *codec)
{
	argv_add(a, "-map", NULL);
	argv_addf(a, "%d:%s%d", in, kind, from);
	argv_addf(a, "-map_metadata:s:%d", out);
	argv_addf(a, "%d:s:%s%d", JOIN_IN_ORIGINAL, kind, spec);
	argv_addf(a, "-c:%d", out);
	argv_add(a, codec, NULL);
}

void
join_argv(const char *dir, const char *input, const char *audio, const struct probe *p,
    const struct format *f, const struct format_plan *pl, const char *output, struct argv *a)
{
	int mp4 = strcmp(f->container, "mp4") == 0 || strcmp(f->container, "mov") == 0;
	int i, k, out = 1, encoded = 0;
	double shift;

	ffcmd_head(a);
	/* The joined video starts at 0 where the original video started; ffmpeg shifts the
	 * original input by its earliest stream, so move the audio by the difference to keep it
	 * where it was relative to the picture. */
	shift = p->start_min - p->video_start;
	if (p->naudio > 0 && fabs(shift) > 0.0005) {
		argv_add(a, "-itsoffset", NULL);
		argv_addf(a, "%.6f", shift);
	}
	/* the original is always opened: its metadata comes back even without other streams */
	ffcmd_input(a, input);
	/* Then stdin, read to its end before the list is opened: a join started before the last
	 * piece is done loads its libraries and reads the original's headers, then waits here
	 * until the list is written and the master closes the pipe (at once for /dev/null). Not
	 * the list itself through the pipe: an input that cannot seek makes ffmpeg poll its
	 * packets every 10 ms, 8 at a time, 0.3 s for 250 frames. */
	argv_add(a, "-protocol_whitelist", "pipe", "-f", "data", "-i", "pipe:0", NULL);
	argv_add(a, "-protocol_whitelist", "file", "-f", "concat", "-i", NULL);
	argv_addf(a, "%s/concat.txt", dir);
	if (audio != NULL)
		ffcmd_input(a, audio);  /* the streams the plan encodes, in their order */
	argv_add(a, "-map", NULL);
	argv_addf(a, "%d:v:0", JOIN_IN_LIST);
	argv_add(a, "-c:v", "copy", NULL);
	if (strcmp(f->codec, "hevc") == 0 && mp4) {
		/* what Apple's players and browsers want for HEVC in MP4 */
		argv_add(a, "-tag:v", "hvc1", NULL);
	}
	for (i = 0; i < p->naudio; i++, out++) {
		if (strcmp(pl->audio[i], "copy") == 0) {
			join_map(a, JOIN_IN_ORIGINAL, i, "a:", i, out, "copy");
		} else if (audio != NULL) {
			join_map(a, JOIN_IN_AUDIO, encoded++, "a:", i, out, "copy");
		} else {
			join_map(a, JOIN_IN_ORIGINAL, i, "a:", i, out, audio_encoder(pl->audio[i]));
			argv_addf(a, "-b:%d", out);
			argv_add(a, audio_bitrate(pl->audio[i]), NULL);
		}
	}
	for (k = 0; k < p->nextra; k++) {
		if (pl->extra[k][0] != '\0')
			join_map(a, JOIN_IN_ORIGINAL, p->extra[k].index, "", p->extra[k].index, out++, pl->extra[k]);
	}
	/* naming one stream's metadata turns off ffmpeg's copying of the others': each stream
	 * above named its own */
	argv_add(a, "-map_metadata", NULL);
	argv_addf(a, "%d", JOIN_IN_ORIGINAL);
	argv_add(a, "-map_metadata:s:0", NULL);
	argv_addf(a, "%d:s:v:0", JOIN_IN_ORIGINAL);
	argv_add(a, "-map_chapters", NULL);
	argv_addf(a, "%d", JOIN_IN_ORIGINAL);
	/* the input's brands would make an MP4 claim to be QuickTime, or the other way round */
	argv_add(a, "-metadata", "major_brand=", "-metadata", "minor_version=",
	    "-metadata", "compatible_brands=", NULL);
	if (mp4) {
		/* use_metadata_tags keeps QuickTime's keys (make, model, location) as they were */
		argv_add(a, "-movflags", "+faststart+use_metadata_tags", NULL);
	}
	argv_add(a, "-f", format_muxer(f), output, NULL);
}
