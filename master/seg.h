#ifndef MASTER_SEG_H
#define MASTER_SEG_H

#include <stddef.h>

/* One piece of the input as the cutter wrote it (stream copy, starting on a keyframe). */
struct seg {
	int index;
	char name[32];      /* file name inside the segments directory */
	double start, end;  /* seconds in the input */
};

/* The ffmpeg command that cuts input into DIR/seg_NNNNN.mkv every ~seconds (on keyframes,
 * no re-encoding) and lists them in DIR/list.csv. argv needs 40 slots; bufs holds strings. */
void seg_cut_argv(const char *input, const char *dir, double seconds, char **argv, char bufs[4][4096]);

/* Reads DIR/list.csv: *out (malloc'd) and *n; -1 with a message on error. */
int seg_read_list(const char *dir, struct seg **out, int *n, char *err, size_t errlen);

#endif
