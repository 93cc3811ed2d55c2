#ifndef WORKER_ROUTE_H
#define WORKER_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Where the bytes of each frame go on their way from the decoder's pipe to the encoder's,
 * planned once per segment from the planes the filter chain reads and writes (route.c).
 * A frame is its planes one after the other: Y, U, V.
 */
struct route {
	size_t frame;           /* bytes of a whole frame */
	size_t head;            /* leading bytes spliced straight on to the encoder: the planes
	                         * before the first one the chain touches */
	size_t off[3], len[3];  /* the planes in the frame (and in the worker's buffer) */
	unsigned drop;          /* planes after the head whose input is dropped, not read */
	int null_fd;            /* /dev/null, where dropped input goes */
	int splice;             /* 0 once splice(2) was refused: copies instead */
	uint64_t copied;        /* bytes read into the worker's memory so far (the rest was spliced) */
};

/* Plans for frames whose planes have these lengths, when the chain reads and writes these
 * planes (FILTER_PLANE_* masks). -1 with a message when /dev/null cannot be opened. */
int route_plan(struct route *r, const size_t len[3], unsigned reads, unsigned writes,
    char *err, size_t errlen);
/* Takes one frame from `in`: passes its head on to `out`, reads the planes after it into
 * buf (a whole frame's buffer, at their offsets) or drops them. Returns the frame's bytes
 * taken, fewer only at the end of the input (0 between frames), or -1 with errno (EPIPE
 * when `out` has no reader). Retries EINTR unless *stop becomes non-zero. */
ssize_t route_take(struct route *r, int in, int out, uint8_t *buf, volatile int *stop);
/* Takes one whole frame from `in` and throws it away (a pre-roll frame the piece does not
 * keep): spliced to /dev/null, so it never enters the worker, or read into buf when splice is
 * refused. Returns as route_take. */
ssize_t route_drop(struct route *r, int in, uint8_t *buf, volatile int *stop);
void route_free(struct route *r);

#endif
