#ifndef WORKER_STAMPS_H
#define WORKER_STAMPS_H

#include <stddef.h>
#include <stdint.h>

/*
 * A variable frame rate keeps its frames' own times: the worker reads them from its piece
 * (the packets' presentation times, in the stream's time base) and hands each frame to the
 * encoder with its time, in an IVF stream of raw I420 frames (a 32-byte header, then 12 bytes
 * in front of each frame), instead of bare raw frames that ffmpeg could only number.
 */
struct stamps {
	int64_t *pts;           /* ascending, the first at 0 */
	size_t n;
	unsigned num, den;      /* the time base */
};

/* Reads the presentation times of input's first video stream with ffprobe (no decoding);
 * concat: input is an ffconcat list. -1 with a message when ffprobe fails or lists none. */
int stamps_read(const char *input, int concat, struct stamps *s, char *err, size_t errlen);

/* The time of frame i: its packet's, or past the list (a decoder that made up frames) one
 * more step of the last interval. */
int64_t stamps_at(const struct stamps *s, size_t i);

/* Writes the IVF file header for width x height raw frames of pix_fmt (one of the planar YUV
 * formats the kernels take) in s's time base. 0, or -1 with errno (EINVAL: no IVF tag for
 * pix_fmt). */
int stamps_ivf_header(int fd, const struct stamps *s, const char *pix_fmt, int width, int height);
/* Writes the header of one frame of `size` bytes at time pts. 0, or -1 with errno. */
int stamps_ivf_frame(int fd, size_t size, int64_t pts);

void stamps_free(struct stamps *s);

#endif
