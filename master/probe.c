#include "master/probe.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/argv.h"
#include "common/util.h"

/* The words every ffprobe command starts with: quiet, the file protocol and PROBE_DEMUXERS only;
 * url is a buffer for "file:PATH", the command's last word. */
static void
probe_ffprobe_head(const char *path, struct argv *a, char **argv, char *url, size_t urln)
{
	/* "file:" keeps a name like "-x.mp4" or "http:..." from meaning anything but a file */
	snprintf(url, urln, "file:%s", path);
	/* 24 slots: what probe_argv and probe_keys_argv promise their callers */
	argv_init(a, argv, 24, NULL, 0);
	argv_add(a, "ffprobe", "-v", "error", "-hide_banner", "-protocol_whitelist", "file",
	    "-format_whitelist", PROBE_DEMUXERS, NULL);
}

void
probe_argv(const char *path, char **argv, char *url, size_t urln)
{
	struct argv a;

	probe_ffprobe_head(path, &a, argv, url, urln);
	argv_add(&a, "-print_format", "json", "-show_format", "-show_streams", "-count_packets",
	    "-i", url, NULL);
}

static double
probe_num(json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);
	char *end;
	double d;

	if (json_is_number(v))
		return json_number_value(v);
	if (!json_is_string(v))
		return dflt;
	d = strtod(json_string_value(v), &end);
	return end == json_string_value(v) || !isfinite(d) ? dflt : d;
}

/* A size or a count from the file: 0 (unknown) when negative, absurd or not a number, so the
 * integer conversion is always defined, whatever a hostile header claims. */
static int64_t
probe_count(json_t *o, const char *key, int64_t max)
{
	double d = probe_num(o, key, 0);

	return d >= 0 && d <= (double)max ? (int64_t)d : 0;
}

static const char *
probe_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* Copies a string of the JSON into a field, cut if it must be at a character boundary:
 * half a UTF-8 character would make every later JSON of the probe (the /upload answer, the
 * job record) fail to encode. */
static void
probe_copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n) {
		/* src is valid UTF-8 (Jansson checks): back off to the lead byte of a cut character */
		for (len = n - 1; len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80; len--)
			;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Matroska's "00:00:04.021000000" -> 4.021; 0 when absent or malformed. */
static double
probe_clock(const char *s)
{
	unsigned h, m;
	double sec;
	int n = 0;

	if (sscanf(s, "%u:%u:%lf%n", &h, &m, &sec, &n) != 3 || s[n] != '\0' || m > 59 ||
	    !(sec >= 0 && sec < 60) || h > 1000000)
		return 0;
	return h * 3600.0 + m * 60.0 + sec;
}

/* "30000/1001" -> 29.97; 0 when absent or 0/0. */
static double
probe_rate(const char *s, long *num, long *den)
{
	long n = 0, d = 0;

	if (sscanf(s, "%ld/%ld", &n, &d) != 2 || n <= 0 || d <= 0)
		return 0;
	if (num != NULL)
		*num = n;
	if (den != NULL)
		*den = d;
	return (double)n / (double)d;
}

static int
probe_rotation(json_t *v)
{
	json_t *sd, *e;
	double r = 0;
	size_t i;
	int deg;

	sd = json_object_get(v, "side_data_list");
	json_array_foreach(sd, i, e) {
		if (json_object_get(e, "rotation") != NULL)
			r = probe_num(e, "rotation", 0);
	}
	if (r == 0)
		r = -probe_num(json_object_get(v, "tags"), "rotate", 0);
	/* ffprobe reports the display matrix's counter-clockwise angle; we turn clockwise */
	deg = (int)lround(-fmod(r, 360.0) / 90.0) * 90;
	deg %= 360;
	if (deg < 0)
		deg += 360;
	return deg;
}

/* A variable rate, resampled to fps (at most 240, to the thousandth) so the duration is kept;
 * -1 when a few frames over a huge declared duration would round to 0 fps: nothing to encode. */
static int
probe_vfr(struct probe *p, double fps, char *err, size_t errlen)
{
	p->cfr = 0;
	p->fps = fps > 240 ? 240 : fps;
	if (lround(p->fps * 1000) < 1)
		return util_err(err, errlen, "%lld frames over %.0f s is not a video (under 0.001 fps)",
		    (long long)p->frames, p->duration);
	snprintf(p->fps_rational, sizeof p->fps_rational, "%ld/1000", lround(p->fps * 1000));
	p->fps = lround(p->fps * 1000) / 1000.0;
	return 0;
}

/* What ffmpeg's demuxers print when a file ends before the length its header declares:
 * Matroska "File ended prematurely", MP4 "stream 0, offset 0x71a85: partial file". */
static int
probe_cut_short(const char *errtail)
{
	return errtail != NULL &&
	    (strstr(errtail, "ended prematurely") != NULL || strstr(errtail, "partial file") != NULL);
}

/* Bare elementary streams (.h264, .hevc, .m4v, .m2v): no container, so no packet timestamps. */
static int
probe_raw_stream(const char *format)
{
	static const char *const raw[] = { "h264", "hevc", "m4v", "mpegvideo" };
	size_t i;

	for (i = 0; i < sizeof raw / sizeof raw[0]; i++)
		if (strcmp(format, raw[i]) == 0)
			return 1;
	return 0;
}

/* Colour tags, bit depth, subsampling and the streams besides video and audio: what the
 * output must keep (format.c decides how). */
static void
probe_fidelity(struct probe *p, json_t *video, json_t *streams)
{
	const char *pf = p->pix_fmt, *type, *tag;
	json_t *s;
	size_t i;

	probe_copy(p->color_range, sizeof p->color_range, probe_str(video, "color_range"));
	probe_copy(p->color_primaries, sizeof p->color_primaries, probe_str(video, "color_primaries"));
	probe_copy(p->color_transfer, sizeof p->color_transfer, probe_str(video, "color_transfer"));
	probe_copy(p->color_space, sizeof p->color_space, probe_str(video, "color_space"));
	if (strncmp(pf, "yuvj", 4) == 0)
		snprintf(p->color_range, sizeof p->color_range, "pc");
	if (strcmp(p->color_range, "tv") != 0 && strcmp(p->color_range, "pc") != 0)
		p->color_range[0] = '\0';
	p->depth = strstr(pf, "p16") ? 16 : strstr(pf, "p14") ? 14 : strstr(pf, "p12") ? 12 :
	    strstr(pf, "p10") || strstr(pf, "p010") ? 10 : 8;
	p->chroma = strstr(pf, "444") ? 444 : strstr(pf, "422") || strcmp(pf, "nv16") == 0 ||
	    strncmp(pf, "p210", 4) == 0 ? 422 : 420;
	json_array_foreach(streams, i, s) {
		type = probe_str(s, "codec_type");
		if (p->nextra == PROBE_MAX_EXTRA || (strcmp(type, "subtitle") != 0 &&
		    strcmp(type, "data") != 0 && strcmp(type, "attachment") != 0))
			continue;
		/* a data stream is known by its tag ("gpmd", "tmcd"), its codec being "bin_data" */
		tag = strcmp(type, "data") == 0 && probe_str(s, "codec_tag_string")[0] != '[' ?
		    probe_str(s, "codec_tag_string") : probe_str(s, "codec_name");
		probe_copy(p->extra[p->nextra].type, sizeof p->extra[0].type, type);
		probe_copy(p->extra[p->nextra].codec, sizeof p->extra[0].codec, tag[0] ? tag : "unknown");
		p->extra[p->nextra++].index = (int)probe_count(s, "index", INT_MAX);
	}
}

int
probe_parse(const char *json, size_t len, const char *errtail, int64_t file_size, struct probe *p,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *streams, *fmt, *s, *video = NULL;
	const char *type;
	double r, avg, dur, vdur, vfps, held;
	int64_t index;
	long rn = 0, rd = 1;
	size_t i;
	int rc = -1;

	memset(p, 0, sizeof *p);
	root = json_loadb(json, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		util_err(err, errlen, "cannot read ffprobe output: %s", root ? "not an object" : jerr.text);
		goto done;
	}
	fmt = json_object_get(root, "format");
	streams = json_object_get(root, "streams");
	probe_copy(p->format, sizeof p->format, probe_str(fmt, "format_name"));
	p->start_min = 1e18;
	json_array_foreach(streams, i, s) {
		type = probe_str(s, "codec_type");
		if (strcmp(type, "video") == 0 && video == NULL &&
		    probe_num(json_object_get(s, "disposition"), "attached_pic", 0) == 0)
			video = s;
		if (strcmp(type, "audio") == 0 && p->naudio < PROBE_MAX_AUDIO) {
			if (p->naudio == 0)
				p->audio_start = p->audio_start_max = probe_num(s, "start_time", 0);
			else if (probe_num(s, "start_time", 0) > p->audio_start_max)
				p->audio_start_max = probe_num(s, "start_time", 0);
			probe_copy(p->audio_codec[p->naudio++], sizeof p->audio_codec[0], probe_str(s, "codec_name"));
		}
		if (json_object_get(s, "start_time") != NULL && probe_num(s, "start_time", 0) < p->start_min)
			p->start_min = probe_num(s, "start_time", 0);
	}
	if (p->start_min == 1e18)
		p->start_min = 0;
	if (video == NULL) {
		util_err(err, errlen, "no video stream%s", p->naudio ? " (this is an audio file)" : "");
		goto done;
	}
	probe_copy(p->codec, sizeof p->codec, probe_str(video, "codec_name"));
	probe_copy(p->pix_fmt, sizeof p->pix_fmt, probe_str(video, "pix_fmt"));
	p->coded_w = (int)probe_count(video, "width", INT_MAX);
	p->coded_h = (int)probe_count(video, "height", INT_MAX);
	p->frames = probe_count(video, "nb_read_packets", INT64_C(1) << 53);
	p->video_start = probe_num(video, "start_time", 0);
	if (strstr(p->format, "_pipe") != NULL || (strcmp(p->format, "gif") == 0 && p->frames <= 1)) {
		util_err(err, errlen, "a still image (%s), not a video", p->codec);
		goto done;
	}
	if (p->codec[0] == '\0' || strcmp(p->codec, "none") == 0) {
		util_err(err, errlen, "ffmpeg has no decoder for this video's codec (%s)",
		    probe_str(video, "codec_tag_string")[0] ? probe_str(video, "codec_tag_string") : "unknown");
		goto done;
	}
	if (p->coded_w <= 0 || p->coded_h <= 0) {
		util_err(err, errlen, "the video stream has no usable picture (codec %s, %dx%d)",
		    p->codec[0] ? p->codec : "unknown", p->coded_w, p->coded_h);
		goto done;
	}
	if (p->frames < 1) {
		util_err(err, errlen, "the video stream has no frames");
		goto done;
	}
	p->rotation = probe_rotation(video);
	p->width = p->rotation % 180 ? p->coded_h : p->coded_w;
	p->height = p->rotation % 180 ? p->coded_w : p->coded_h;
	/* 4:2:0 H.264 needs even sizes: at most one row or column is cropped */
	p->out_w = p->width & ~1;
	p->out_h = p->height & ~1;
	if (p->out_w < 2 || p->out_h < 2) {
		util_err(err, errlen, "a %dx%d picture is too small to encode", p->width, p->height);
		goto done;
	}
	dur = probe_num(video, "duration", 0);
	if (dur <= 0)
		dur = probe_num(fmt, "duration", 0);
	p->duration = p->declared = dur > 0 ? dur : 0;
	/* Matroska's per-stream length: the video's own span, where the format's counts the audio */
	vdur = probe_clock(probe_str(json_object_get(video, "tags"), "DURATION"));
	/* a cut-off file: the demuxer said so, or the index (MP4) lists frames that are not there */
	p->index = index = probe_count(video, "nb_frames", INT64_C(1) << 53);
	p->truncated = probe_cut_short(errtail) || index > p->frames + 1;
	p->dropped = strcmp(p->format, "avi") == 0 && index > p->frames;
	p->whole = probe_raw_stream(p->format) ||
	    (strcmp(p->format, "avi") == 0 && probe_num(video, "has_b_frames", 0) > 0);
	r = probe_rate(probe_str(video, "r_frame_rate"), &rn, &rd);
	avg = probe_rate(probe_str(video, "avg_frame_rate"), NULL, NULL);
	if (r > 0 && r <= 1000 && (avg <= 0 || fabs(r - avg) / avg < 0.01)) {
		/* constant frame rate: every decoded frame passes through as it is */
		p->cfr = 1;
		p->fps = r;
		snprintf(p->fps_rational, sizeof p->fps_rational, "%ld/%ld", rn, rd);
		held = (double)p->frames / p->fps;
		if (p->truncated && (p->duration <= 0 || held < p->duration)) {
			p->duration = held;
		} else if (p->duration - held > 1.0 && held < 0.5 * p->duration) {
			/* Whole, yet its frames at the nominal rate last a fraction of its length: the
			 * nominal rate is not the real one (r_frame_rate 600 over 30 frames in 1.2 s).
			 * The frames spread over the video's span, at their average rate. */
			if (vdur > 0)
				p->duration = vdur;
			if (probe_vfr(p, (double)p->frames / p->duration, err, errlen) == -1)
				goto done;
		}
	} else {
		/* variable rate: resampled to the average, so the duration is kept; a cut-off file's
		 * declared length says nothing of its frames: their average rate does */
		if (p->truncated && avg > 0)
			p->duration = (double)p->frames / avg;
		if (probe_vfr(p, p->duration > 0 && p->frames > 1 ? (double)p->frames / p->duration :
		    (avg > 0 ? avg : 25), err, errlen) == -1)
			goto done;
	}
	if (p->duration <= 0)
		p->duration = (double)p->frames / p->fps;
	if (p->declared <= 0)
		p->declared = p->duration;
	/* Matroska's avg_frame_rate is guessed from the nominal rate, so a 30-then-15 fps file
	 * looks constant there; its frames do not fill the stream's own DURATION tag, though. */
	vfps = vdur > 0 ? (double)p->frames / (p->duration > vdur ? p->duration : vdur) : 0;
	if (p->cfr && !p->truncated && p->frames > 1 && lround(vfps * 1000) >= 1 &&
	    fabs((double)p->frames / p->fps - vdur) > fmax(1.5 / p->fps, 0.01 * vdur) &&
	    probe_vfr(p, vfps, err, errlen) == -1)
		goto done;
	p->size = file_size;
	/* a truncated file's container rate divides its size by the length it declares */
	p->bitrate = p->truncated ? 0 : probe_num(fmt, "bit_rate", 0);
	if (p->bitrate <= 0 && p->duration > 0)
		p->bitrate = (double)file_size * 8 / p->duration;
	/* BT.709 when the file says so, or for HD when it says nothing (the common convention) */
	if (strncmp(probe_str(video, "color_space"), "bt2020", 6) == 0)
		snprintf(p->matrix, sizeof p->matrix, "bt2020");
	else if (strcmp(probe_str(video, "color_space"), "bt709") == 0 ||
	    (probe_str(video, "color_space")[0] == '\0' && p->height >= 720))
		snprintf(p->matrix, sizeof p->matrix, "bt709");
	else
		snprintf(p->matrix, sizeof p->matrix, "bt601");
	probe_fidelity(p, video, streams);
	rc = 0;
done:
	json_decref(root);
	return rc;
}

int
probe_may_start_mid_gop(const struct probe *p)
{
	/* a broadcast capture (TS, PS) starts wherever the recording did; the picture's first
	 * keyframe matters only to keep the sound in step with it */
	return p->naudio > 0 && (strcmp(p->format, "mpegts") == 0 || strcmp(p->format, "mpeg") == 0);
}

void
probe_keys_argv(const char *path, char **argv, char *url, size_t urln)
{
	struct argv a;

	probe_ffprobe_head(path, &a, argv, url, urln);
	/* a GOP is at most a few hundred packets; the first keyframe is among the first 2000 */
	argv_add(&a, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
	    "-read_intervals", "%+#2000", "-of", "csv=p=0", "-i", url, NULL);
}

void
probe_first_key(const char *out, struct probe *p)
{
	const char *line = out, *nl;
	char *end;
	double t;

	for (; line != NULL && *line != '\0'; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		t = strtod(line, &end);
		if (end == line || *end != ',' || !isfinite(t))
			continue;
		if (end[1] != 'K')
			continue;
		/* the frames before it do not decode: the picture starts here, and so much shorter */
		if (t > p->video_start) {
			if (p->cfr && p->duration > t - p->video_start)
				p->duration -= t - p->video_start;
			p->video_start = t;
		}
		return;
	}
}

static double
probe_round2(double v)
{
	return round(v * 100) / 100;
}

json_t *
probe_analytics(const struct probe *p)
{
	char aspect[32];

	snprintf(aspect, sizeof aspect, "%d:%d", p->width, p->height);
	return json_pack("{s:f, s:i, s:i, s:f, s:s, s:I, s:b, s:f, s:f, s:s, s:s, s:i, s:s, s:s, s:b, s:b, s:f}",
	    "duration", probe_round2(p->duration), "width", p->width, "height", p->height,
	    "fps", probe_round2(p->fps), "aspect_ratio", aspect, "total_frames", (json_int_t)p->frames,
	    "has_audio", p->naudio > 0, "file_size_mb", probe_round2((double)p->size / (1024.0 * 1024.0)),
	    "bitrate_mbps", probe_round2(p->bitrate / 1e6), "codec", p->codec, "format", p->format,
	    "rotation", p->rotation, "pix_fmt", p->pix_fmt,
	    "audio_codec", p->naudio ? p->audio_codec[0] : "", "variable_frame_rate", !p->cfr,
	    "truncated", p->truncated, "declared_duration", probe_round2(p->declared));
}

json_t *
probe_json(const struct probe *p)
{
	json_t *j = probe_analytics(p);

	json_object_set_new(j, "output_width", json_integer(p->out_w));
	json_object_set_new(j, "output_height", json_integer(p->out_h));
	json_object_set_new(j, "fps_rational", json_string(p->fps_rational));
	json_object_set_new(j, "matrix", json_string(p->matrix));
	json_object_set_new(j, "color_range", json_string(p->color_range));
	json_object_set_new(j, "color_primaries", json_string(p->color_primaries));
	json_object_set_new(j, "color_transfer", json_string(p->color_transfer));
	json_object_set_new(j, "color_space", json_string(p->color_space));
	json_object_set_new(j, "bit_depth", json_integer(p->depth));
	json_object_set_new(j, "chroma_subsampling", json_integer(p->chroma));
	return j;
}
