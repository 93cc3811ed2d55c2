#ifndef WORKER_RING_H
#define WORKER_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * The worker's frame buffers: a ring of page-aligned buffers whose frames are handed to the
 * encoder's pipe with vmsplice(2), by reference, instead of being copied into it by write(2).
 * The ring is just long enough that a buffer is filled again only after the encoder has read
 * every page of the frame it held (see ring.c); memory stays a few frames whatever the length.
 */
struct ring {
	uint8_t *mem;           /* count buffers, stride bytes apart, page-aligned */
	size_t size;            /* bytes of one frame */
	size_t stride;          /* size rounded up to whole pages */
	int count;
	int next;               /* the buffer ring_next hands out */
	int splice;             /* 1: vmsplice into a pipe; 0: write(2) */
};

/* Sizes the ring for frames of `size` bytes of which the last `sent` go into `fd` through the
 * ring (the encoder's pipe, already at its final F_SETPIPE_SZ; the rest of a frame goes round
 * the worker, see route.h). -1 with a message when out of memory. */
int ring_init(struct ring *r, size_t size, size_t sent, int fd, char *err, size_t errlen);
/* The buffer to fill with the next frame. */
uint8_t *ring_next(struct ring *r);
/* Hands n bytes at p, the end of a frame in a buffer of this ring, to fd; the ring moves on
 * when p is in the buffer ring_next gave. 0, or -1 with errno (EPIPE when the reader is
 * gone). Retries EINTR unless *stop becomes non-zero. */
int ring_put(struct ring *r, int fd, const uint8_t *p, size_t n, volatile int *stop);
void ring_free(struct ring *r);

#endif
