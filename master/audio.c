#include "master/audio.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/argv.h"
#include "master/ffcmd.h"
#include "master/format.h"
#include "master/probe.h"

/*
 * Why beside the render: audio that the output's container cannot hold as it is (PCM in MP4,
 * AAC in WebM) was encoded by the join, on one core after the last piece (10 minutes of PCM:
 * 9.4 s as AAC). Encoded while the pieces render, the join only copies it.
 *
 * The intermediate file must keep what the encoder says about its own start: AAC's 1024
 * samples of priming survive in MP4 (an edit list) and are lost in Matroska, Opus's pre-skip
 * and end trimming survive in Matroska and not in MP4. With these two the join's audio decodes
 * to the same samples as when the join encoded it (tests/e2e/test_audio_beside.sh).
 *
 * Only when every stream starts with the video: ffmpeg moves each input by its own earliest
 * start, so the original and the intermediate would need different offsets otherwise; the
 * join then encodes, as before.
 */

#define AUDIO_SAME_START 0.0005  /* seconds: starts closer than this are the same */

const char *
audio_encoder(const char *codec)
{
	return strcmp(codec, "opus") == 0 ? "libopus" : codec;
}

const char *
audio_bitrate(const char *codec)
{
	return strcmp(codec, "opus") == 0 ? "128k" : "192k";
}

int
audio_beside(const struct probe *p, const struct format_plan *pl)
{
	int i, encoded = 0;

	for (i = 0; i < p->naudio; i++)
		encoded += strcmp(pl->audio[i], "copy") != 0;
	return encoded > 0 && fabs(p->start_min - p->video_start) < AUDIO_SAME_START &&
	    fabs(p->audio_start - p->video_start) < AUDIO_SAME_START &&
	    fabs(p->audio_start_max - p->video_start) < AUDIO_SAME_START;
}

/* Whether the streams the plan converts become Opus: format_plan gives every converted stream
 * the same encoder, so the first one says. */
static int
audio_opus(const struct format_plan *pl)
{
	int i;

	for (i = 0; i < PROBE_MAX_AUDIO && strcmp(pl->audio[i], "copy") == 0; i++)
		;
	return i < PROBE_MAX_AUDIO && strcmp(pl->audio[i], "opus") == 0;
}

void
audio_path(const char *dir, const struct format_plan *pl, char *path, size_t n)
{
	snprintf(path, n, "%s/audio.%s", dir, audio_opus(pl) ? "mka" : "m4a");
}

void
audio_argv(const char *dir, const char *input, const struct probe *p,
    const struct format_plan *pl, struct argv *a)
{
	char path[4096];
	int i, out = 0;

	ffcmd_head(a);
	ffcmd_input(a, input);
	for (i = 0; i < p->naudio; i++) {
		if (strcmp(pl->audio[i], "copy") == 0)
			continue;
		argv_add(a, "-map", NULL);
		argv_addf(a, "0:a:%d", i);
		argv_addf(a, "-c:%d", out);
		argv_add(a, audio_encoder(pl->audio[i]), NULL);
		argv_addf(a, "-b:%d", out++);
		argv_add(a, audio_bitrate(pl->audio[i]), NULL);
	}
	audio_path(dir, pl, path, sizeof path);
	argv_add(a, "-f", audio_opus(pl) ? "matroska" : "mp4", NULL);
	argv_addf(a, "%s", path);  /* a copy in a's words: path ends with this function */
}
