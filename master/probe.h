#ifndef MASTER_PROBE_H
#define MASTER_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * Demuxers ffmpeg may use on a user's file. A playlist (hls), a concat list or an image2
 * pattern could make it open other files, so those are not here; with -protocol_whitelist
 * file and a "file:" URL nothing but the one file is ever opened.
 */
#define PROBE_DEMUXERS "mov,matroska,avi,flv,mpegts,mpeg,asf,ogg,h264,hevc,m4v,mpegvideo,ivf," \
	"nut,mxf,dv,yuv4mpegpipe,gif,mjpeg,mp3,wav,flac,aac,w64,aiff," \
	"png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,tiff_pipe"

#define PROBE_MAX_AUDIO 8
#define PROBE_MAX_EXTRA 16

/* A subtitle, data or attachment stream: what the output keeps when its container can. */
struct probe_extra {
	char type[12];          /* "subtitle", "data", "attachment" */
	char codec[32];         /* codec_name, or the codec tag ("gpmd", "tmcd") when it has none */
	int index;              /* absolute stream index in the input */
};

struct probe {
	char format[64];        /* demuxer name */
	char codec[32];         /* video codec */
	char pix_fmt[32];
	int coded_w, coded_h;
	int rotation;           /* clockwise degrees to turn the picture upright: 0/90/180/270 */
	int width, height;      /* upright display size */
	int out_w, out_h;       /* what we encode: display size rounded down to even */
	double fps;             /* the output frame rate */
	char fps_rational[32];  /* the same, for ffmpeg */
	int cfr;                /* constant frame rate (frames pass through one to one) */
	int64_t frames;         /* video packets counted by ffprobe (= frames) */
	double duration;        /* what the file holds (less than it declares when truncated) */
	int truncated;          /* the file ends before the length its header declares */
	int64_t index;          /* video frames the container's index lists (0: no count) */
	int dropped;            /* AVI whose index lists more frames than are read: frames dropped
	                         * (empty chunks, which the demuxer skips) or a cut-off end */
	double declared;        /* the length the header declares */
	int whole;              /* packets lack the timestamps a stream-copy cut needs: decode whole */
	double video_start;     /* start time of the video stream */
	double start_min;       /* the smallest start time of all streams (ffmpeg's input offset) */
	int naudio;
	char audio_codec[PROBE_MAX_AUDIO][32];
	double audio_start;     /* the first audio stream's start time */
	double audio_start_max; /* the latest start time of the audio streams */
	int64_t size;           /* bytes */
	double bitrate;         /* bits per second */
	char matrix[8];         /* "bt601", "bt709" or "bt2020": how the RGB filters convert */
	/* What the input says of its colours, as ffprobe names them ("" when it says nothing):
	 * the output is tagged the same (format.c). */
	char color_range[8];    /* "tv" or "pc" (yuvj pixel formats are "pc") */
	char color_primaries[16];
	char color_transfer[16];
	char color_space[16];
	int depth;              /* bits per sample: 8, 10, 12 */
	int chroma;             /* chroma subsampling: 420, 422, 444 */
	int nextra;
	struct probe_extra extra[PROBE_MAX_EXTRA];
};

/* Reads ffprobe's JSON (-show_format -show_streams -count_packets) and the end of its stderr
 * (errtail, may be NULL), where the demuxer says when a file ends early. Refuses what is not a
 * video: no video stream, an audio file, a still image, a size we cannot encode. A truncated
 * file is a video: it is marked truncated, with the duration it really holds. */
int probe_parse(const char *json, size_t len, const char *errtail, int64_t file_size, struct probe *p,
    char *err, size_t errlen);

/* The ffprobe command for path, into argv (at least 24 slots); url is a buffer for "file:PATH". */
void probe_argv(const char *path, char **argv, char *url, size_t urln);

/* A file that may start mid-GOP (a TS or PS capture) with sound: its first keyframe, where the
 * decoded picture starts, is worth looking up (probe_keys_argv, probe_first_key). */
int probe_may_start_mid_gop(const struct probe *p);
/* The ffprobe command listing the first video packets' times and flags, CSV ("3.46,K_"). */
void probe_keys_argv(const char *path, char **argv, char *url, size_t urln);
/* Moves video_start to the first keyframe of that list when it comes later (the frames before
 * it cannot be decoded), so the sound is joined in step with the first decoded picture. */
void probe_first_key(const char *out, struct probe *p);

/* The /upload "analytics" object: the original project's fields plus ours. */
json_t *probe_analytics(const struct probe *p);
/* Everything, for reports. */
json_t *probe_json(const struct probe *p);

#endif
