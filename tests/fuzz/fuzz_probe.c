/*
 * ffprobe's JSON of an uploaded file (master/probe.c). ffprobe writes it, but every number
 * and string in it comes from the file's headers, which the uploader wrote. What probe_parse
 * accepts must be something the rest of the master can use: a size it can encode, a finite
 * positive rate and duration, and the /upload answer must be writable as JSON.
 */
#include <math.h>
#include <string.h>

#include "master/probe.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe p;
	char err[1024], *text;
	long num, den;
	json_t *j;

	err[0] = '\0';
	/* half the inputs as if the demuxer had said the file ends early (the truncated path) */
	if (probe_parse((const char *)data, size, size & 1 ? "File ended prematurely" : NULL,
	    (int64_t)size * 1000, &p, err, sizeof err) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(p.width > 0 && p.height > 0 && p.out_w >= 2 && p.out_h >= 2);
	FUZZ_CHECK(p.out_w % 2 == 0 && p.out_h % 2 == 0 && p.out_w <= p.width && p.out_h <= p.height);
	FUZZ_CHECK(p.rotation == 0 || p.rotation == 90 || p.rotation == 180 || p.rotation == 270);
	FUZZ_CHECK(p.frames >= 1);
	FUZZ_CHECK(isfinite(p.fps) && p.fps > 0 && p.fps <= 1000);
	FUZZ_CHECK(isfinite(p.duration) && p.duration > 0);
	FUZZ_CHECK(isfinite(p.declared) && p.declared > 0);
	FUZZ_CHECK(isfinite(p.bitrate) && isfinite(p.start_min) && isfinite(p.video_start));
	/* ffmpeg gets the rate as a rational: it must be one, and not 0 */
	FUZZ_CHECK(sscanf(p.fps_rational, "%ld/%ld", &num, &den) == 2 && num > 0 && den > 0);
	FUZZ_CHECK(strcmp(p.matrix, "bt601") == 0 || strcmp(p.matrix, "bt709") == 0);
	j = probe_json(&p);
	FUZZ_CHECK(j != NULL);
	text = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
	json_decref(j);
	return 0;
}
