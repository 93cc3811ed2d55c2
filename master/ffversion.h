#ifndef MASTER_FFVERSION_H
#define MASTER_FFVERSION_H

#include <stddef.h>

/*
 * The oldest FFmpeg release that has everything our commands use: -fps_mode (added in 5.1,
 * replacing -vsync), next to the segment muxer's options, -noautorotate, -format_whitelist and
 * ffprobe's -count_packets, which are older. Debian 12 ships 5.1. An older ffmpeg would fail
 * on the first segment with "Unrecognized option 'fps_mode'"; we say so before any work.
 */
#define FFVERSION_MIN_MAJOR 5
#define FFVERSION_MIN_MINOR 1
#define FFVERSION_MIN_WHY   "-fps_mode"

/*
 * Reads the first line of `PROG -version`: 1 with *major and *minor for a release
 * ("ffmpeg version 5.1.6-0+deb12u1", "ffmpeg version n6.1.1"), 0 for a development build
 * whose number says nothing ("N-112345-gabcdef", "git-2023-01-01-...", "2023-03-05-git-..."),
 * -1 when it is not such a line at all.
 */
int ffversion_parse(const char *text, const char *prog, int *major, int *minor);

/* 1 when release major.minor has what we need (FFVERSION_MIN or newer), else 0. */
int ffversion_recent_enough(int major, int minor);

/* Runs `ffmpeg -version` and `ffprobe -version` once: 0 when both run and are recent enough
 * (or development builds); else -1 and one line in err ("ffmpeg not found: ...",
 * "ffmpeg 4.4 is too old: video-renderer needs 5.1 or newer (for -fps_mode)"). */
int ffversion_check(char *err, size_t errlen);

#endif
