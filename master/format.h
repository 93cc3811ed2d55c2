#ifndef MASTER_FORMAT_H
#define MASTER_FORMAT_H

#include <stddef.h>
#include <jansson.h>

#include "master/probe.h"

/*
 * What the output is, chosen before any work: the container (from --format or the output's
 * extension), the video codec and its rate control, the audio handling. format_plan then says,
 * for one probed input, how each of its streams goes out and what cannot be kept.
 */
struct format {
	char container[8];      /* mp4, mov, mkv, webm */
	char codec[8];          /* h264, hevc, av1, vp9 */
	int crf;                /* -1: the codec's default */
	int bitrate;            /* kbit/s; 0: constant quality (crf) */
	char audio[8];          /* copy, aac, opus; "": copy when the container holds it, else encode */
};

/* Fills f. Each of container, codec and audio may be NULL (the default); the container comes
 * from `container`, else from output's extension, else mp4; the codec defaults to h264 (vp9
 * for webm). Refuses an unknown name, a codec or audio codec the container cannot hold, a
 * crf out of the codec's range, a container that does not match output's extension. */
int format_resolve(struct format *f, const char *output, const char *container, const char *codec,
    const char *audio, int crf, int bitrate, char *err, size_t errlen);
/* The extension of f's container: "mp4", "mov", "mkv", "webm". */
const char *format_ext(const struct format *f);
/* ffmpeg's muxer name for f's container. */
const char *format_muxer(const struct format *f);
/* The crf the encoder gets: f->crf, or the codec's default. */
int format_crf(const struct format *f);
/* {"container", "codec", "crf", "bitrate", "audio"} (new reference). */
json_t *format_json(const struct format *f);
/* format_resolve from an object's "format" (or "container"), "codec", "crf", "bitrate" (kbit/s)
 * and "audio" fields, each optional or null, as POST /process takes them and the job record
 * keeps them; crf is the default crf (-1: the codec's). -1 with a message naming the field. */
int format_from_json(struct format *f, json_t *o, int crf, char *err, size_t errlen);
/* The MIME type of f's container. */
const char *format_mime(const struct format *f);

/* How each stream of one input goes out. */
struct format_plan {
	char pix_fmt[16];                      /* what the workers encode */
	char range[4];                         /* "tv" or "pc" */
	char primaries[16], transfer[16], space[16];   /* encoder tags, "" when unknown */
	char audio[PROBE_MAX_AUDIO][8];        /* per audio stream: copy, aac, opus */
	char extra[PROBE_MAX_EXTRA][12];       /* per probe extra: copy, mov_text, webvtt, srt; "" dropped */
	json_t *dropped;                       /* what the output does not keep, one line each */
	json_t *converted;                     /* what it keeps in another form, one line each */
};

/* -1 with the reason when the input cannot go out as asked (HDR, --audio copy of a codec the
 * container cannot hold); the plan is then empty. Free with format_plan_free. */
int format_plan(const struct format *f, const struct probe *p, struct format_plan *pl, char *err,
    size_t errlen);
void format_plan_free(struct format_plan *pl);

#endif
