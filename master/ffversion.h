#ifndef MASTER_FFVERSION_H
#define MASTER_FFVERSION_H

#include <stddef.h>
#include <sys/types.h>

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

/* One `prog -version` in flight. Both programs are asked at once, and the command line asks
 * while its probe runs, since each takes ~0.1 s just to start (the dynamic linker binding
 * ~210 libraries), which a short clip notices. A release found recent enough is remembered by
 * path, mtime, size and inode in $XDG_CACHE_HOME/video-renderer/ffversion (~/.cache), so the
 * next command runs no check for that binary. */
struct ffversion_run {
	const char *prog;       /* NULL once finished */
	pid_t pid;
	int out;                /* read end of its stdout */
	int cap;                /* its stderr, for the message when it fails */
	char err[256];          /* why it did not start */
	char key[4200];         /* the binary's path, mtime, size, inode (ffversion.c's cache) */
};

/* ffversion_run.pid of a binary that passed before: nothing runs. */
#define FFVERSION_CACHED (-2)

struct ffversion_check {
	struct ffversion_run ff, fp;
};

/* Starts both checks; never fails here: a program that cannot start is reported by finish. */
void ffversion_check_start(struct ffversion_check *c);
/* Waits for both (blocking, ~0.1 s) and releases them, whatever happened: 0 or -1 with the
 * first failure in err, as ffversion_check. Calling it again returns 0. */
int ffversion_check_finish(struct ffversion_check *c, char *err, size_t errlen);

/* Runs `ffmpeg -version` and `ffprobe -version` once: 0 when both run and are recent enough
 * (or development builds); else -1 and one line in err ("ffmpeg not found: ...",
 * "ffmpeg 4.4 is too old: video-renderer needs 5.1 or newer (for -fps_mode)"). */
int ffversion_check(char *err, size_t errlen);

#endif
