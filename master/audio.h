#ifndef MASTER_AUDIO_H
#define MASTER_AUDIO_H

#include <stddef.h>

struct argv;
struct probe;
struct format_plan;

/* audio_argv's words at most: the head, the input, seven per audio stream, the output */
#define AUDIO_ARGV 96
/* the buffer its formatted words need: two paths and the streams' small words */
#define AUDIO_WORDS (3 * 4096)

/* The encoder ffmpeg names for a plan's audio codec (aac, opus), and the bitrate it gets. */
const char *audio_encoder(const char *codec);
const char *audio_bitrate(const char *codec);

/* Whether the plan encodes some audio and that audio can be encoded beside the render, into a
 * file the join copies (audio_argv): every stream, and the earliest, starts with the video. */
int audio_beside(const struct probe *p, const struct format_plan *pl);

/* The file audio_argv writes in dir: audio.m4a for AAC, audio.mka for Opus. */
void audio_path(const char *dir, const struct format_plan *pl, char *path, size_t n);

/* The ffmpeg command that encodes the audio streams the plan converts, in their order, into
 * audio_path. a needs AUDIO_ARGV slots and AUDIO_WORDS bytes of words. */
void audio_argv(const char *dir, const char *input, const struct probe *p,
    const struct format_plan *pl, struct argv *a);

#endif
