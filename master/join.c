#include "master/join.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "master/format.h"
#include "master/probe.h"

int
join_write_list(const char *dir, const char *subdir, int n, char *err, size_t errlen)
{
	char path[4096];
	FILE *f;
	int i;

	snprintf(path, sizeof path, "%s/concat.txt", dir);
	f = fopen(path, "we");
	if (f == NULL)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "ffconcat version 1.0\n");
	for (i = 0; i < n; i++)
		fprintf(f, "file %s/out_%05d.mp4\n", subdir, i);
	if (fclose(f) != 0)
		return util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Maps the original's stream SPEC to output stream `out` with its own metadata, coded with
 * codec; uses four strings of bufs. */
static int
join_map(char **argv, int i, char bufs[][4096], const char *spec, int out, const char *codec)
{
	snprintf(bufs[0], 4096, "1:%s", spec);
	snprintf(bufs[1], 4096, "-map_metadata:s:%d", out);
	snprintf(bufs[2], 4096, "1:s:%s", spec);
	snprintf(bufs[3], 4096, "-c:%d", out);
	argv[i++] = "-map";
	argv[i++] = bufs[0];
	argv[i++] = bufs[1];
	argv[i++] = bufs[2];
	argv[i++] = bufs[3];
	argv[i++] = (char *)codec;
	return i;
}

int
join_feedable(const struct format *f)
{
	/* what MPEG-TS carries of the codecs we encode to */
	return strcmp(f->codec, "h264") == 0 || strcmp(f->codec, "hevc") == 0;
}

void
join_feed_argv(const char *piece, double offset, char **argv, char bufs[2][4096])
{
	int i;

	snprintf(bufs[0], 4096, "file:%s", piece);
	snprintf(bufs[1], 4096, "%.6f", offset);
	i = probe_ffmpeg_head(argv);
	argv[i++] = "-protocol_whitelist";
	argv[i++] = "file";
	argv[i++] = "-i";
	argv[i++] = bufs[0];
	argv[i++] = "-map";
	argv[i++] = "0:v:0";
	argv[i++] = "-c";
	argv[i++] = "copy";
	/* Each piece's times as they are, moved by the frames before it: the first piece's
	 * B-frame delay (a negative decode time) shifted away would overlap the next piece. */
	argv[i++] = "-avoid_negative_ts";
	argv[i++] = "disabled";
	argv[i++] = "-output_ts_offset";
	argv[i++] = bufs[1];
	argv[i++] = "-f";
	argv[i++] = "mpegts";
	argv[i++] = "pipe:1";
	argv[i] = NULL;
}

void
join_argv(const char *dir, const char *input, const struct probe *p, const struct format *f,
    const struct format_plan *pl, const char *output, int feed, char **argv, char bufs[JOIN_BUFS][4096])
{
	int mp4 = strcmp(f->container, "mp4") == 0 || strcmp(f->container, "mov") == 0;
	int i, a, k, out = 1, b = 4;
	double shift;

	snprintf(bufs[0], 4096, "%s/concat.txt", dir);
	snprintf(bufs[1], 4096, "file:%s", input);
	snprintf(bufs[2], 4096, "%s", output);
	i = probe_ffmpeg_head(argv);
	argv[i++] = "-protocol_whitelist";
	argv[i++] = feed ? "pipe" : "file";
	argv[i++] = "-f";
	argv[i++] = feed ? "mpegts" : "concat";
	argv[i++] = "-i";
	argv[i++] = feed ? "pipe:0" : bufs[0];
	/* The joined video starts at 0 where the original video started; ffmpeg shifts the
	 * original input by its earliest stream, so move the audio by the difference to keep it
	 * where it was relative to the picture. */
	shift = p->start_min - p->video_start;
	if (p->naudio > 0 && fabs(shift) > 0.0005) {
		snprintf(bufs[3], 4096, "%.6f", shift);
		argv[i++] = "-itsoffset";
		argv[i++] = bufs[3];
	}
	/* the original is always opened: its metadata comes back even without other streams */
	i = probe_input_args(argv, i, bufs[1]);
	argv[i++] = "-map";
	argv[i++] = "0:v:0";
	argv[i++] = "-c:v";
	argv[i++] = "copy";
	if (strcmp(f->codec, "hevc") == 0 && mp4) {
		/* what Apple's players and browsers want for HEVC in MP4 */
		argv[i++] = "-tag:v";
		argv[i++] = "hvc1";
	}
	for (a = 0; a < p->naudio; a++, out++) {
		snprintf(bufs[b + 4], 4096, "a:%d", a);
		i = join_map(argv, i, &bufs[b], bufs[b + 4], out,
		    strcmp(pl->audio[a], "opus") == 0 ? "libopus" : pl->audio[a]);
		if (strcmp(pl->audio[a], "copy") != 0) {
			snprintf(bufs[b + 5], 4096, "-b:%d", out);
			argv[i++] = bufs[b + 5];
			argv[i++] = strcmp(pl->audio[a], "opus") == 0 ? "128k" : "192k";
		}
		b += 6;
	}
	for (k = 0; k < p->nextra; k++) {
		if (pl->extra[k][0] == '\0')
			continue;
		snprintf(bufs[b + 4], 4096, "%d", p->extra[k].index);
		i = join_map(argv, i, &bufs[b], bufs[b + 4], out++, pl->extra[k]);
		b += 5;
	}
	/* naming one stream's metadata turns off ffmpeg's copying of the others': each stream
	 * above named its own */
	argv[i++] = "-map_metadata";
	argv[i++] = "1";
	argv[i++] = "-map_metadata:s:0";
	argv[i++] = "1:s:v:0";
	argv[i++] = "-map_chapters";
	argv[i++] = "1";
	/* the input's brands would make an MP4 claim to be QuickTime, or the other way round */
	argv[i++] = "-metadata";
	argv[i++] = "major_brand=";
	argv[i++] = "-metadata";
	argv[i++] = "minor_version=";
	argv[i++] = "-metadata";
	argv[i++] = "compatible_brands=";
	if (mp4) {
		/* use_metadata_tags keeps QuickTime's keys (make, model, location) as they were */
		argv[i++] = "-movflags";
		argv[i++] = "+faststart+use_metadata_tags";
	}
	argv[i++] = "-f";
	argv[i++] = (char *)format_muxer(f);
	argv[i++] = bufs[2];
	argv[i] = NULL;
}
