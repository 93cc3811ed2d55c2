#ifndef MASTER_BAR_H
#define MASTER_BAR_H

#include <stddef.h>
#include <stdint.h>

/*
 * The command line's progress display on a terminal, as curl or cargo draw theirs: one bar per
 * phase, redrawn in place on stderr; a finished phase is left at 100% on its own line, and log
 * lines are printed above the bar, never into it (common/log.h's display hooks).
 */
struct bar {
	int on;                 /* drawing at all: stderr is a terminal, neither -q nor --json */
	int width;              /* the terminal's columns */
	char label[16];         /* the phase shown ("" none yet) */
	double t0;              /* when it started */
	int64_t done, total;    /* frames of the phase; total 0: the phase counts none */
	double media_fps;       /* the video's frame rate, for the real-time factor */
	char line[512];         /* as last drawn ("" none on screen) */
};

/* on: whether to draw at all; the width is read from the terminal on stderr. */
void bar_init(struct bar *b, int on);
/* Ends the phase shown (at 100%, on its own line) and starts label's: total frames (0: none
 * counted) of a video of media_fps frames per second. */
void bar_phase(struct bar *b, const char *label, int64_t total, double media_fps, double now);
/* Redraws the phase with done frames so far. */
void bar_update(struct bar *b, int64_t done, double now);
/* Ends the phase shown at 100% and leaves it on its line (the job succeeded). */
void bar_finish(struct bar *b, double now);
/* Erases the bar (the job failed: its error line takes the place). */
void bar_clear(struct bar *b);
/* The log hooks: a log line is written between the two. */
void bar_hide_cb(void *arg);
void bar_show_cb(void *arg);

/* One bar line, at most width - 1 columns: "parallel   [######----]  60%  72/120 frames
 * 0:02 ETA 0:01  36.0 fps  1.20x"; a phase without frames shows only the bar and the time. */
void bar_format(char *buf, size_t n, int width, const char *label, int64_t done, int64_t total,
    double elapsed, double media_fps, int complete);

#endif
