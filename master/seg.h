#ifndef MASTER_SEG_H
#define MASTER_SEG_H

#include <stddef.h>
#include <stdint.h>

/* One piece of the input to render: a file the cutter wrote (stream copy, starting on a
 * keyframe), or a part of one when keyframes are too sparse to cut finer. */
struct seg {
	int index;
	char name[32];      /* file name inside the segments directory */
	double start, end;  /* seconds in the input */
	int64_t skip;       /* decoded frames of the file to drop before this piece */
	int64_t count;      /* frames to keep, 0 = to the end of the file */
};

/*
 * The length to cut at: at most max_seconds, and chosen so the number of pieces is a multiple
 * of workers (duration / (k * workers) for the smallest such k), so the last round of a pool
 * does not leave workers idle: 30 s on 2 workers at 10 s would be 3 pieces, one worker doing
 * two while the other waits; 4 pieces of 7.5 s keep both busy to the end. Rounded up to the
 * microsecond (what ffmpeg reads of a duration), so rounding never adds a sliver of a piece at
 * the end. O(1).
 */
double seg_length(double duration, int workers, double max_seconds);

/* The ffmpeg command that cuts input into DIR/seg_NNNNN.mkv every ~seconds (on keyframes,
 * no re-encoding) and lists them in DIR/list.csv. argv needs 40 slots; bufs holds strings. */
void seg_cut_argv(const char *input, const char *dir, double seconds, char **argv, char bufs[4][4096]);

/*
 * For a file whose packets have no timestamps to cut by (a bare .h264/.hevc/.m4v stream, AVI
 * with B-frames: a stream-copy cut loses or cannot write frames there), one "segment" that is
 * the input itself: DIR/whole.EXT, a link to it, listed in DIR/list.csv as 0 to duration. The
 * pieces are then cut by frame count (seg_split): each worker decodes from the start.
 */
int seg_whole(const char *input, const char *dir, double duration, char *err, size_t errlen);

/* Reads DIR/list.csv: *out (malloc'd) and *n; -1 with a message on error. */
int seg_read_list(const char *dir, struct seg **out, int *n, char *err, size_t errlen);

/*
 * Splits files longer than a worker's share (duration / workers) into pieces, for a constant
 * frame rate at fps, when there are fewer files than workers: each piece decodes its file
 * from the keyframe, drops the frames before its start and keeps its own, so the work spreads
 * over every worker with no lossy intermediate encode and no frame lost or repeated. *v and *n
 * are replaced; -1 only when out of memory.
 */
int seg_split(struct seg **v, int *n, double duration, double fps, int workers);

#endif
