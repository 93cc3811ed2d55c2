/*
 * A test clip made at test time: ffmpeg's testsrc2 pattern, H.264, a keyframe every `gop`
 * frames. Header-only, like reap.h: each test binary is one .c file.
 */
#ifndef TESTS_UNIT_CLIP_H
#define TESTS_UNIT_CLIP_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "common/spawn.h"

/* 0 once path holds `seconds` of size ("160x120") at rate frames a second; -1 (said on
 * stderr when ffmpeg cannot start) when not. */
static int
clip_make(const char *path, const char *size, int rate, int seconds, int gop)
{
	char src[128], g[16], err[256];
	char *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", src,
	    "-c:v", "libx264", "-preset", "ultrafast", "-g", g, (char *)path, NULL };
	int st;
	pid_t pid;

	snprintf(src, sizeof src, "testsrc2=size=%s:rate=%d:duration=%d", size, rate, seconds);
	snprintf(g, sizeof g, "%d", gop);
	pid = spawn(argv, -1, -1, -1, err, sizeof err);
	if (pid == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (spawn_wait(pid, &st, NULL) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

#endif
