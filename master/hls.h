#ifndef MASTER_HLS_H
#define MASTER_HLS_H

#include <stddef.h>
#include <stdint.h>

struct argv;
struct event_base;
struct hls;
struct probe;
struct seg;

/*
 * The result as HLS while it renders: each finished piece (a worker's encoded file) is remuxed,
 * with a stream copy of its video, into DIR/seg_NNNNN.ts together with the original's audio
 * cut to the piece's time range, and DIR/index.m3u8 (an EVENT playlist) lists the pieces that
 * are ready from the first one on, without a gap; #EXT-X-ENDLIST closes it once every piece
 * is listed. Every file appears under its name by rename(2), whole, never half-written.
 */
enum hls_event {
	HLS_LISTED,   /* the playlist grew */
	HLS_CLOSED,   /* every piece is listed and the playlist ended */
	HLS_FAILED    /* a remux failed: error says which and why; nothing more happens */
};

/* Called from the event loop, last thing the hls does in that turn (the callee may free it). */
typedef void (*hls_cb)(struct hls *h, enum hls_event ev, const char *error, void *arg);

/* A stream of nseg pieces whose planned time ranges are segs' (their lengths set the
 * playlist's target duration); writes the empty playlist now. */
struct hls *hls_new(struct event_base *base, const char *dir, const char *input,
    const struct probe *p, const struct seg *segs, int nseg, hls_cb cb, void *arg,
    char *err, size_t errlen);
/* Piece s covers [start, end) seconds of the video (from its first frame): for pieces
 * planned while the render runs, after hls_new. */
void hls_plan(struct hls *h, int s, double start, double end);
/* Piece s is rendered into path with this many frames: it is remuxed (lowest index first)
 * and listed once every piece before it is. A piece already handed over is ignored, so the
 * same piece may come from the baseline and again from the parallel run. -1: out of memory. */
int hls_piece(struct hls *h, int s, const char *path, int64_t frames);
/* No piece comes that was not handed over yet: the playlist ends once they are listed. */
void hls_end(struct hls *h);
/* 1 once the playlist has ended. */
int hls_closed(const struct hls *h);
/* Seconds of video the playlist lists, from the start. */
double hls_playable(const struct hls *h);
/* Stops a running remux; the files written so far stay. */
void hls_free(struct hls *h);

/* The playlist for n pieces of these durations, of which the first `listed` are ready;
 * returns its length (snprintf's). */
int hls_playlist(char *buf, size_t n, const double *dur, int listed, int target, int ended);
/* The ffmpeg command that remuxes one piece: video from piece (copy), audio from input from
 * `start` for `dur` seconds, timestamps moved to start, MPEG-TS into out. a needs 48 slots and
 * 3 x 4096 bytes of words. */
void hls_remux_argv(const char *piece, const char *input, const struct probe *p, double start,
    double dur, const char *out, struct argv *a);

#endif
