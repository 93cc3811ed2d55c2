#include "master/format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* What each container holds. Lists are space separated; "*" holds anything. */
static const struct format_container {
	const char *name, *muxer, *exts;
	const char *video;          /* video codecs it holds */
	const char *audio_copy;     /* audio codecs copied as they are */
	const char *audio_enc;      /* audio codecs we may encode to; the first is the default */
	const char *text_sub;       /* what text subtitles become ("" none) */
} format_containers[] = {
	{ "mp4", "mp4", "mp4 m4v", "h264 hevc av1 vp9", "aac mp3 ac3 eac3 opus alac", "aac opus",
	    "mov_text" },
	{ "mov", "mov", "mov qt", "h264 hevc", "aac mp3 ac3 eac3 alac pcm_s16le pcm_s16be pcm_s24le "
	    "pcm_s24be pcm_s32le pcm_f32le", "aac", "mov_text" },
	{ "mkv", "matroska", "mkv", "h264 hevc av1 vp9", "*", "aac opus", "srt" },
	{ "webm", "webm", "webm", "av1 vp9", "opus vorbis", "opus", "webvtt" },
};

#define FORMAT_NCONTAINERS (sizeof format_containers / sizeof format_containers[0])

static const char *format_codecs[] = { "h264", "hevc", "av1", "vp9", NULL };

/* True when word is one of list's space separated words (or list is "*"). */
static int
format_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (strcmp(list, "*") == 0)
		return 1;
	while (n > 0 && (p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static const struct format_container *
format_container(const char *name)
{
	size_t i;

	for (i = 0; i < FORMAT_NCONTAINERS; i++) {
		if (strcmp(format_containers[i].name, name) == 0)
			return &format_containers[i];
	}
	return NULL;
}

/* The container an output name's extension asks for; NULL when it is none we write. */
static const struct format_container *
format_by_ext(const char *path, const char **ext)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	char lower[8];
	size_t i, k;

	*ext = NULL;
	if (dot == NULL || (slash != NULL && dot < slash) || strlen(dot + 1) >= sizeof lower)
		return NULL;
	*ext = dot + 1;
	for (k = 0; dot[1 + k] != '\0'; k++)
		lower[k] = (char)(dot[1 + k] >= 'A' && dot[1 + k] <= 'Z' ? dot[1 + k] + 32 : dot[1 + k]);
	lower[k] = '\0';
	for (i = 0; i < FORMAT_NCONTAINERS; i++) {
		if (k > 0 && format_in(format_containers[i].exts, lower))
			return &format_containers[i];
	}
	return NULL;
}

int
format_resolve(struct format *f, const char *output, const char *container, const char *codec,
    const char *audio, int crf, int bitrate, char *err, size_t errlen)
{
	const struct format_container *c = NULL, *byext = NULL;
	const char *ext = NULL;
	int i, maxcrf;

	memset(f, 0, sizeof *f);
	if (output != NULL)
		byext = format_by_ext(output, &ext);
	if (container != NULL) {
		c = format_container(strcasecmp(container, "matroska") == 0 ? "mkv" : container);
		if (c == NULL)
			return util_err(err, errlen, "unknown container '%s' (mp4, mov, mkv or webm)", container);
		if (byext != NULL && byext != c)
			return util_err(err, errlen, "the output %s is named .%s but the format asked is %s",
			    output, ext, c->name);
	} else if (byext != NULL) {
		c = byext;
	} else if (ext != NULL) {
		return util_err(err, errlen, "cannot write .%s files: the output is mp4, mov, mkv or webm "
		    "(name it so, or give --format)", ext);
	} else {
		c = format_container("mp4");
	}
	snprintf(f->container, sizeof f->container, "%s", c->name);
	if (codec == NULL)
		codec = strcmp(c->name, "webm") == 0 ? "vp9" : "h264";
	for (i = 0; format_codecs[i] != NULL && strcasecmp(format_codecs[i], codec) != 0; i++)
		;
	if (format_codecs[i] == NULL && strcasecmp(codec, "h265") != 0)
		return util_err(err, errlen, "unknown codec '%s' (h264, hevc, av1 or vp9)", codec);
	snprintf(f->codec, sizeof f->codec, "%s", format_codecs[i] != NULL ? format_codecs[i] : "hevc");
	if (!format_in(c->video, f->codec))
		return util_err(err, errlen, "%s cannot hold %s video (it holds %s)", c->name, f->codec, c->video);
	maxcrf = strcmp(f->codec, "av1") == 0 || strcmp(f->codec, "vp9") == 0 ? 63 : 51;
	if (crf > maxcrf)
		return util_err(err, errlen, "--crf %d is out of range for %s (0 to %d)", crf, f->codec, maxcrf);
	f->crf = crf < 0 ? -1 : crf;
	if (bitrate < 0 || bitrate > 1000000)
		return util_err(err, errlen, "the bitrate is in kbit/s, from 1 to 1000000");
	f->bitrate = bitrate;
	if (audio != NULL && audio[0] != '\0') {
		if (strcmp(audio, "copy") != 0 && strcmp(audio, "aac") != 0 && strcmp(audio, "opus") != 0)
			return util_err(err, errlen, "unknown audio handling '%s' (copy, aac or opus)", audio);
		if (strcmp(audio, "copy") != 0 && !format_in(c->audio_enc, audio))
			return util_err(err, errlen, "%s cannot hold %s audio (it takes %s)", c->name, audio, c->audio_enc);
		snprintf(f->audio, sizeof f->audio, "%s", audio);
	}
	return 0;
}

const char *
format_ext(const struct format *f)
{
	return f->container;
}

const char *
format_muxer(const struct format *f)
{
	const struct format_container *c = format_container(f->container);

	return c != NULL ? c->muxer : "mp4";
}

int
format_crf(const struct format *f)
{
	if (f->crf >= 0)
		return f->crf;
	/* about the same quality as x264's 20 for each */
	return strcmp(f->codec, "hevc") == 0 ? 24 : strcmp(f->codec, "av1") == 0 ? 34 :
	    strcmp(f->codec, "vp9") == 0 ? 33 : 20;
}

json_t *
format_json(const struct format *f)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:s}", "container", f->container, "codec", f->codec,
	    "crf", f->bitrate > 0 ? -1 : format_crf(f), "bitrate", f->bitrate,
	    "audio", f->audio[0] ? f->audio : "auto");
}

/* A string field of o, or NULL when absent, null or "auto"; -1 when it is something else. */
static int
format_field(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	if (strcmp(json_string_value(v), "auto") != 0 && json_string_value(v)[0] != '\0')
		*out = json_string_value(v);
	return 0;
}

int
format_from_json(struct format *f, json_t *o, int crf, char *err, size_t errlen)
{
	const char *container, *codec, *audio;
	json_t *v;
	int bitrate = 0;

	if (o != NULL && !json_is_object(o))
		return util_err(err, errlen, "the format is an object");
	if (format_field(o, "format", &container) == -1 ||
	    (container == NULL && format_field(o, "container", &container) == -1))
		return util_err(err, errlen, "format: mp4, mov, mkv or webm");
	if (format_field(o, "codec", &codec) == -1)
		return util_err(err, errlen, "codec: h264, hevc, av1 or vp9");
	if (format_field(o, "audio", &audio) == -1)
		return util_err(err, errlen, "audio: copy, aac or opus");
	v = json_object_get(o, "crf");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > 63)
			return util_err(err, errlen, "crf: a whole number from 0 to 63 (51 for h264 and hevc)");
		crf = (int)json_integer_value(v);
	}
	v = json_object_get(o, "bitrate");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
			return util_err(err, errlen, "bitrate: kbit/s, a whole number from 1 to 1000000");
		bitrate = (int)json_integer_value(v);
	}
	return format_resolve(f, NULL, container, codec, audio, crf, bitrate, err, errlen);
}

const char *
format_mime(const struct format *f)
{
	return strcmp(f->container, "mov") == 0 ? "video/quicktime" : strcmp(f->container, "mkv") == 0 ?
	    "video/x-matroska" : strcmp(f->container, "webm") == 0 ? "video/webm" : "video/mp4";
}

/* A colour name from ffprobe passed on to the encoder: only plain names, never "unknown". */
static void
format_tag(char *dst, size_t n, const char *src)
{
	size_t i;

	dst[0] = '\0';
	if (src[0] == '\0' || strcmp(src, "unknown") == 0 || strcmp(src, "reserved") == 0 ||
	    strlen(src) >= n)
		return;
	for (i = 0; src[i] != '\0'; i++) {
		if (!((src[i] >= 'a' && src[i] <= 'z') || (src[i] >= '0' && src[i] <= '9') || src[i] == '-'))
			return;
	}
	memcpy(dst, src, i + 1);
}

static int
format_text_sub(const char *codec)
{
	return format_in("subrip srt ass ssa webvtt mov_text text", codec);
}

static void
format_note(json_t *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
format_note(json_t *list, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	json_array_append_new(list, json_string(line));
}

/* How one subtitle, data or attachment stream goes out: into pl->extra[k], or a note. */
static void
format_plan_extra(const struct format_container *c, const struct probe_extra *x, char *how,
    size_t n, struct format_plan *pl)
{
	how[0] = '\0';
	if (strcmp(x->type, "subtitle") == 0) {
		if (strcmp(c->name, "mkv") == 0 && strcmp(x->codec, "mov_text") != 0)
			snprintf(how, n, "copy");
		else if (format_text_sub(x->codec))
			snprintf(how, n, "%s", strcmp(x->codec, c->text_sub) == 0 ? "copy" : c->text_sub);
		else
			format_note(pl->dropped, "subtitle stream %d (%s): %s holds text subtitles only",
			    x->index, x->codec, c->name);
		if (how[0] != '\0' && strcmp(how, "copy") != 0)
			format_note(pl->converted, "subtitle stream %d: %s -> %s", x->index, x->codec, how);
	} else if (strcmp(x->type, "attachment") == 0 && strcmp(c->name, "mkv") == 0) {
		snprintf(how, n, "copy");
	} else if (strcmp(x->codec, "gpmd") == 0 && strcmp(c->text_sub, "mov_text") == 0) {
		snprintf(how, n, "copy");  /* GoPro's telemetry: MP4 and MOV carry it */
	} else if (strcmp(x->codec, "tmcd") == 0) {
		/* the timecode rides on the video stream's "timecode" tag, mapped with its metadata:
		 * MP4 and MOV make a timecode track of it again, Matroska keeps the tag */
		if (strcmp(c->text_sub, "mov_text") != 0)
			format_note(pl->converted, "data stream %d (tmcd): kept as the video's timecode tag",
			    x->index);
	} else {
		format_note(pl->dropped, "%s stream %d (%s): %s cannot carry it", x->type, x->index,
		    x->codec, c->name);
	}
}

/*
 * The picture goes out with the input's bit depth and chroma subsampling: the kernels have
 * 8- and 10-bit paths for 4:2:0, 4:2:2 and 4:4:4, and every encoder here writes all six
 * (libx264 High 10 / High 4:2:2 / High 4:4:4, libx265 Main 10 / RExt, VP9 profiles 1-3,
 * AV1 Main / High / Professional). Deeper samples go out as 10-bit.
 */
static void
format_plan_pix_fmt(const struct format *f, const struct probe *p, struct format_plan *pl)
{
	int depth = p->depth <= 8 ? 8 : 10;
	/* the probe reads every other layout as 4:2:0 (4:4:0, 4:1:1 and gray are converted) */
	int chroma = p->chroma == 422 || p->chroma == 444 ? p->chroma : 420;

	if (depth != p->depth)
		format_note(pl->converted, "%d-bit samples encoded as 10-bit: the filters work on 10 "
		    "bits at most", p->depth);
	snprintf(pl->pix_fmt, sizeof pl->pix_fmt, "yuv%dp%s", chroma, depth == 8 ? "" : "10le");
}

int
format_plan(const struct format *f, const struct probe *p, struct format_plan *pl, char *err,
    size_t errlen)
{
	const struct format_container *c = format_container(f->container);
	const char *enc;
	int a, k;

	memset(pl, 0, sizeof *pl);
	if (c == NULL)
		return util_err(err, errlen, "unknown container '%s'", f->container);
	/* Flattening PQ or HLG to an SDR picture would look wrong on every screen: say so instead. */
	if (strcmp(p->color_transfer, "smpte2084") == 0 || strcmp(p->color_transfer, "arib-std-b67") == 0)
		return util_err(err, errlen, "HDR video (%s transfer, %s): the filters work on SDR "
		    "pictures and would flatten it, so it is refused",
		    strcmp(p->color_transfer, "smpte2084") == 0 ? "PQ" : "HLG", p->color_transfer);
	for (a = 0; a < p->naudio; a++) {
		if (strcmp(f->audio, "copy") == 0 && !format_in(c->audio_copy, p->audio_codec[a]))
			return util_err(err, errlen, "--audio copy: %s cannot hold the input's %s audio "
			    "(it holds %s; try --audio %s)", c->name, p->audio_codec[a], c->audio_copy,
			    strncmp(c->audio_enc, "aac", 3) == 0 ? "aac" : "opus");
	}
	pl->dropped = json_array();
	pl->converted = json_array();
	if (pl->dropped == NULL || pl->converted == NULL) {
		format_plan_free(pl);
		return util_err(err, errlen, "out of memory");
	}
	format_plan_pix_fmt(f, p, pl);
	snprintf(pl->range, sizeof pl->range, "%s", strcmp(p->color_range, "pc") == 0 ? "pc" : "tv");
	format_tag(pl->primaries, sizeof pl->primaries, p->color_primaries);
	format_tag(pl->transfer, sizeof pl->transfer, p->color_transfer);
	format_tag(pl->space, sizeof pl->space, p->color_space);
	for (a = 0; a < p->naudio; a++) {
		enc = f->audio[0] != '\0' ? f->audio :
		    format_in(c->audio_copy, p->audio_codec[a]) ? "copy" : c->audio_enc;
		/* the default encoder is the first of the list */
		snprintf(pl->audio[a], sizeof pl->audio[a], "%.*s", (int)strcspn(enc, " "), enc);
		if (strcmp(pl->audio[a], "copy") != 0)
			format_note(pl->converted, "audio stream %d: %s -> %s", a, p->audio_codec[a], pl->audio[a]);
	}
	for (k = 0; k < p->nextra; k++)
		format_plan_extra(c, &p->extra[k], pl->extra[k], sizeof pl->extra[k], pl);
	return 0;
}

void
format_plan_free(struct format_plan *pl)
{
	json_decref(pl->dropped);
	json_decref(pl->converted);
	pl->dropped = pl->converted = NULL;
}
