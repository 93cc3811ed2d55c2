#ifndef MASTER_FFCMD_H
#define MASTER_FFCMD_H

struct argv;

/* The words every ffmpeg command of the master starts with: quiet, no stdin, overwrite. */
void ffcmd_head(struct argv *a);
/* The input options that let ffmpeg open exactly one of a user's files: the "file:" URL of
 * path, the file protocol only, PROBE_DEMUXERS only. */
void ffcmd_input(struct argv *a, const char *path);

#endif
