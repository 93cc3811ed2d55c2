#ifndef MASTER_SEG_H
#define MASTER_SEG_H

#include <stddef.h>
#include <stdint.h>

struct argv;

/* One piece of the input to render: a run of the files the cutter wrote (stream copy, each
 * starting on a keyframe), decoded as one stream from which the piece keeps a frame range. */
struct seg {
	int index;
	char name[32];      /* its first file's name inside the segments directory */
	int first, nfiles;  /* the cut's files [first, first + nfiles) it decodes (nfiles >= 1) */
	double start, end;  /* seconds in the input */
	int64_t skip;       /* decoded frames to drop first: the pre-roll from the keyframe */
	int64_t count;      /* frames to keep, 0 = to the end of its last file */
};

/* What decoding a frame and dropping it costs against rendering one (decode, filter, encode):
 * the decoder's share of a one-piece render's CPU (the report's decode_cpu over decode_cpu +
 * encode_cpu + worker_cpu) over 14 clips of scripts/bench --corpus, both filters, was
 * 0.18-0.35, median 0.27 (master/README.md, "Pieces end on any frame"). */
#define SEG_PREROLL_COST 0.25
/* Files the cutter writes per piece: a piece's pre-roll is at most one file (or one keyframe
 * interval when keyframes are sparser), so finer files mean less decoded twice. */
#define SEG_FILES_PER_PIECE 8
/* ...and files of at most this many seconds whatever the piece (pieces are up to a minute by
 * default), so a pre-roll stays about a second; more files cost little, as the master reads
 * each line of the list once (seg_list_more). */
#define SEG_UNIT_MAX 1.25

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
 * no re-encoding) and lists them in DIR/list.csv, each line once its file is closed; with
 * `times`, the list holds the input's own times (for seg_plan_next). a needs 40 slots and
 * 4 x 4096 bytes of words. */
void seg_cut_argv(const char *input, const char *dir, double seconds, int times, struct argv *a);

/*
 * For a file whose packets have no timestamps to cut by (a bare .h264/.hevc/.m4v stream, AVI
 * with B-frames: a stream-copy cut loses or cannot write frames there), one "segment" that is
 * the input itself: DIR/whole.EXT, a link to it, listed in DIR/list.csv as 0 to duration. The
 * pieces are then cut by frame count (seg_split): each worker decodes from the start.
 */
int seg_whole(const char *input, const char *dir, double duration, char *err, size_t errlen);

/* The list as the cutter writes it, read a little at a time: v[0..n) are the files listed so
 * far, off where the next line starts in DIR/list.csv. Starts zeroed; free v. */
struct seg_list {
	struct seg *v;
	int n, cap;
	long off;
};
/* Appends the lines written since the last call (whole lines only: one being written waits
 * for the next), so watching a cut of n files reads each line once, O(n) in all. Returns how
 * many were added, or -1 with a message. */
int seg_list_more(struct seg_list *l, const char *dir, char *err, size_t errlen);
/*
 * Pieces that end on keyframes (whole files or runs of them, seg_group, of an input whose
 * pieces cannot end on any frame, or one link to a bare stream, seg_whole) longer than a
 * worker's share (duration / workers), at a constant rate fps, when there are fewer pieces
 * than workers: each is split into parts that decode the piece from its start, drop the frames
 * before their own and keep those, so every worker gets work with no frame lost or repeated.
 * *v and *n are replaced; -1 only when out of memory.
 */
int seg_split(struct seg **v, int *n, double duration, double fps, int workers);

/*
 * Whole-file pieces of a variable-rate video from the cut beside the probe (files of a quarter
 * second on keyframes, the input's times): runs of consecutive units, a new piece at the first
 * file whose middle is at or past origin + k x duration / pieces (the file starting nearest to
 * it), so at most `pieces` pieces (fewer where keyframes are sparser). Each has its first file's name, first, nfiles, start and end
 * (the first file's start raised to origin: the list starts the first file at 0 whatever its
 * first frame's time). *out is allocated (free it); -1 only when out of memory. O(nunits).
 */
int seg_group(const struct seg *units, int nunits, double origin, double duration, int pieces,
    struct seg **out, int *nout);
/* The cutter's file length for a constant frame rate: pieces of piece_seconds are then made of
 * about SEG_FILES_PER_PIECE files (more for pieces over 8 x SEG_UNIT_MAX), whatever the
 * keyframes. */
double seg_unit_length(double piece_seconds);

/*
 * Plans piece i of `pieces` over the files the cutter has listed so far (units, from
 * seg_list_more; complete once it has ended) of a constant-rate video of `frames` frames at
 * fps whose first frame is at `origin` seconds in the list's times (seg_cut_argv with times;
 * a file's first frame is then round((start - origin) x fps), which needs a container that
 * stores times): the piece starts at frame `start` (where piece i-1 ended) and ends on a frame number,
 * not a keyframe, chosen so every piece costs the same: its frames + SEG_PREROLL_COST x the
 * pre-roll it decodes from its first file's keyframe and drops. It is planned from the files
 * before a horizon 1.5 pieces on (the later pre-rolls guessed at half a file), or, when that is
 * past the end, from all of them, balancing the rest exactly: the same plan however far the
 * cut had gone, so runs give the same bytes.
 * Returns 1 with *out filled (its files, skip, count), 0 when the files it needs are not
 * listed yet, -1 when out of memory. The last piece keeps everything to the end (count 0), so
 * a frame count that is off never loses a frame.
 */
int seg_plan_next(const struct seg *units, int nunits, int complete, double origin, int64_t frames,
    double fps, int pieces, int i, int64_t start, struct seg *out);

#endif
