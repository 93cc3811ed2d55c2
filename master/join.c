#include "master/join.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
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

int
join_audio_copyable(const char *codec)
{
	return strcmp(codec, "aac") == 0 || strcmp(codec, "mp3") == 0;
}

void
join_argv(const char *dir, const char *input, const struct probe *p, const char *output,
    char **argv, char bufs[JOIN_BUFS][4096])
{
	double shift;
	int i, a;

	snprintf(bufs[0], 4096, "%s/concat.txt", dir);
	snprintf(bufs[1], 4096, "file:%s", input);
	snprintf(bufs[2], 4096, "%s", output);
	i = probe_ffmpeg_head(argv);
	argv[i++] = "-protocol_whitelist";
	argv[i++] = "file";
	argv[i++] = "-f";
	argv[i++] = "concat";
	argv[i++] = "-i";
	argv[i++] = bufs[0];
	if (p->naudio > 0) {
		/* The joined video starts at 0 where the original video started; ffmpeg shifts the
		 * original input by its earliest stream, so move the audio by the difference to keep
		 * it where it was relative to the picture. */
		shift = p->start_min - p->video_start;
		if (fabs(shift) > 0.0005) {
			snprintf(bufs[3], 4096, "%.6f", shift);
			argv[i++] = "-itsoffset";
			argv[i++] = bufs[3];
		}
		i = probe_input_args(argv, i, bufs[1]);
	}
	argv[i++] = "-map";
	argv[i++] = "0:v:0";
	argv[i++] = "-c:v";
	argv[i++] = "copy";
	for (a = 0; a < p->naudio; a++) {
		snprintf(bufs[4 + 2 * a], 4096, "1:a:%d", a);
		snprintf(bufs[5 + 2 * a], 4096, "-c:a:%d", a);
		argv[i++] = "-map";
		argv[i++] = bufs[4 + 2 * a];
		argv[i++] = bufs[5 + 2 * a];
		argv[i++] = join_audio_copyable(p->audio_codec[a]) ? "copy" : "aac";
	}
	if (p->naudio > 0) {
		argv[i++] = "-b:a";
		argv[i++] = "192k";
	}
	argv[i++] = "-map_metadata";
	argv[i++] = "-1";
	argv[i++] = "-movflags";
	argv[i++] = "+faststart";
	argv[i++] = "-f";
	argv[i++] = "mp4";
	argv[i++] = bufs[2];
	argv[i] = NULL;
}
