#include "worker/encode.h"

#include <string.h>

#include "common/argv.h"
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

void
encode_args(const struct render_task *t, struct argv *a)
{
	/* libaom's and libvpx's -cpu-used per preset index: higher is faster */
	static const char *aom_speed[] = { "8", "7", "6", "6", "5", "4", "3", "2", "1", "0" };
	static const char *vpx_speed[] = { "5", "5", "4", "4", "3", "2", "2", "1", "0", "0" };
	int p = encode_preset_index(t->preset);
	int libvpx_like = 0;

	argv_add(a, "-c:v", NULL);
	if (strcmp(t->codec, "hevc") == 0) {
		argv_add(a, "libx265", "-preset", encode_presets[p], NULL);
		/* x265 starts a thread pool and frame threads of its own unless told not to */
		argv_add(a, "-x265-params", "pools=none:frame-threads=1:log-level=error", NULL);
	} else if (strcmp(t->codec, "av1") == 0) {
		argv_add(a, "libaom-av1", "-cpu-used", aom_speed[p], "-row-mt", "0", NULL);
		libvpx_like = 1;
	} else if (strcmp(t->codec, "vp9") == 0) {
		argv_add(a, "libvpx-vp9", "-deadline", "good", "-cpu-used", vpx_speed[p],
		    "-row-mt", "0", NULL);
		libvpx_like = 1;
	} else {
		argv_add(a, "libx264", "-preset", encode_presets[p], NULL);
	}
	if (t->bitrate > 0) {
		argv_add(a, "-b:v", NULL);
		argv_addf(a, "%dk", t->bitrate);
	} else {
		argv_add(a, "-crf", NULL);
		argv_addf(a, "%d", t->crf);
		/* constant quality for libaom and libvpx is crf with no bitrate cap */
		if (libvpx_like)
			argv_add(a, "-b:v", "0", NULL);
	}
	argv_add(a, "-threads", "1", "-pix_fmt", t->pix_fmt, "-color_range", t->color_range, NULL);
	if (t->color_primaries[0] != '\0')
		argv_add(a, "-color_primaries", t->color_primaries, NULL);
	if (t->color_trc[0] != '\0')
		argv_add(a, "-color_trc", t->color_trc, NULL);
	if (t->colorspace[0] != '\0')
		argv_add(a, "-colorspace", t->colorspace, NULL);
}
