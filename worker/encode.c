#include "worker/encode.h"

#include <stdio.h>
#include <string.h>

#include "worker/render.h"

/* x264's preset names, fastest first: the other encoders' speed follows the same index. */
static const char *encode_presets[] = { "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo", NULL };

static int
encode_preset_index(const char *preset)
{
	int i;

	for (i = 0; encode_presets[i] != NULL && strcmp(encode_presets[i], preset) != 0; i++)
		;
	return encode_presets[i] != NULL ? i : 2;
}

int
encode_args(const struct render_task *t, char **argv, int k, char bufs[ENCODE_BUFS][64])
{
	/* libaom's and libvpx's -cpu-used per preset index: higher is faster */
	static const char *aom_speed[] = { "8", "7", "6", "6", "5", "4", "3", "2", "1", "0" };
	static const char *vpx_speed[] = { "5", "5", "4", "4", "3", "2", "2", "1", "0", "0" };
	int p = encode_preset_index(t->preset);
	int libvpx_like = 0;

	snprintf(bufs[0], 64, "%d", t->crf);
	snprintf(bufs[1], 64, "%dk", t->bitrate);
	argv[k++] = "-c:v";
	if (strcmp(t->codec, "hevc") == 0) {
		argv[k++] = "libx265";
		argv[k++] = "-preset"; argv[k++] = (char *)encode_presets[p];
		/* x265 starts a thread pool and frame threads of its own unless told not to */
		argv[k++] = "-x265-params"; argv[k++] = "pools=none:frame-threads=1:log-level=error";
	} else if (strcmp(t->codec, "av1") == 0) {
		argv[k++] = "libaom-av1";
		argv[k++] = "-cpu-used"; argv[k++] = (char *)aom_speed[p];
		argv[k++] = "-row-mt"; argv[k++] = "0";
		libvpx_like = 1;
	} else if (strcmp(t->codec, "vp9") == 0) {
		argv[k++] = "libvpx-vp9";
		argv[k++] = "-deadline"; argv[k++] = "good";
		argv[k++] = "-cpu-used"; argv[k++] = (char *)vpx_speed[p];
		argv[k++] = "-row-mt"; argv[k++] = "0";
		libvpx_like = 1;
	} else {
		argv[k++] = "libx264";
		argv[k++] = "-preset"; argv[k++] = (char *)encode_presets[p];
	}
	if (t->bitrate > 0) {
		argv[k++] = "-b:v"; argv[k++] = bufs[1];
	} else {
		argv[k++] = "-crf"; argv[k++] = bufs[0];
		/* constant quality for libaom and libvpx is crf with no bitrate cap */
		if (libvpx_like) {
			argv[k++] = "-b:v"; argv[k++] = "0";
		}
	}
	argv[k++] = "-threads"; argv[k++] = "1";
	argv[k++] = "-pix_fmt"; argv[k++] = (char *)t->pix_fmt;
	argv[k++] = "-color_range"; argv[k++] = (char *)t->color_range;
	if (t->color_primaries[0] != '\0') {
		argv[k++] = "-color_primaries"; argv[k++] = (char *)t->color_primaries;
	}
	if (t->color_trc[0] != '\0') {
		argv[k++] = "-color_trc"; argv[k++] = (char *)t->color_trc;
	}
	if (t->colorspace[0] != '\0') {
		argv[k++] = "-colorspace"; argv[k++] = (char *)t->colorspace;
	}
	return k;
}
