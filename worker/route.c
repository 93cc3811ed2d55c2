#include "worker/route.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/filter.h"

/*
 * Why route: a plane the filter chain leaves alone (luma for grayscale and saturation,
 * everything for none) is of no use to the worker, yet reading it costs a copy out of one
 * pipe and handing it on a trip into the other. splice(2) from pipe to pipe moves page
 * references instead, so those bytes never enter the worker. Only the planes at the front of
 * a frame can go that way, because the encoder must get Y, U, V in order and whatever follows
 * the first touched plane waits for the filter; an untouched plane after a touched one is read
 * like the rest (sharpen's chroma). The input of a plane the chain writes whole without
 * reading it (grayscale's chroma) is spliced to /dev/null instead of being read.
 */
int
route_plan(struct route *r, const size_t len[3], unsigned reads, unsigned writes,
    char *err, size_t errlen)
{
	unsigned touched = (reads | writes) & FILTER_PLANES_ALL, bit;
	int p, front = 1;

	memset(r, 0, sizeof *r);
	r->null_fd = -1;
	r->splice = 1;
	for (p = 0; p < 3; p++) {
		bit = 1u << p;
		r->off[p] = r->frame;
		r->len[p] = len[p];
		r->frame += len[p];
		if (front && !(touched & bit))
			r->head += len[p];
		else
			front = 0;
		if (!front && (writes & bit) && !(reads & bit))
			r->drop |= bit;
	}
	/* opened whatever the planes: a pre-roll frame goes there whole (route_drop) */
	if ((r->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return util_err(err, errlen, "cannot open /dev/null: %s", strerror(errno));
	return 0;
}

/* Moves n bytes from in to out, by splice or, once it was refused, through bounce. The bytes
 * moved, fewer only at the end of the input, or -1. */
static ssize_t
route_move(struct route *r, int in, int out, uint8_t *bounce, size_t n, volatile int *stop)
{
	size_t done = 0;
	ssize_t k;

	while (done < n && r->splice) {
		k = splice(in, NULL, out, NULL, n - done, 0);
		if (k == 0)
			return (ssize_t)done;
		if (k < 0 && errno == EINTR && (stop == NULL || !*stop))
			continue;
		if (k < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
			r->splice = 0;  /* a sandbox or an old kernel: copies from now on */
			break;
		}
		if (k < 0)
			return -1;
		done += (size_t)k;
	}
	if (done == n)
		return (ssize_t)n;
	k = util_read_full(in, bounce + done, n - done, stop);
	if (k > 0)
		r->copied += (uint64_t)k;
	if (k < 0 || (out != r->null_fd && util_write_full(out, bounce + done, (size_t)k, stop) == -1))
		return -1;
	return (ssize_t)(done + (size_t)k);
}

ssize_t
route_take(struct route *r, int in, int out, uint8_t *buf, volatile int *stop)
{
	ssize_t n;
	size_t got;
	int p;

	n = route_move(r, in, out, buf, r->head, stop);
	if (n < 0 || (size_t)n < r->head)
		return n;
	got = r->head;
	for (p = 0; p < 3; p++) {
		if (r->off[p] < r->head)
			continue;
		if (r->drop & (1u << p))
			n = route_move(r, in, r->null_fd, buf + r->off[p], r->len[p], stop);
		else if ((n = util_read_full(in, buf + r->off[p], r->len[p], stop)) > 0)
			r->copied += (uint64_t)n;
		if (n < 0)
			return -1;
		got += (size_t)n;
		if ((size_t)n < r->len[p])
			break;
	}
	return (ssize_t)got;
}

ssize_t
route_drop(struct route *r, int in, uint8_t *buf, volatile int *stop)
{
	return route_move(r, in, r->null_fd, buf, r->frame, stop);
}

void
route_free(struct route *r)
{
	if (r->null_fd != -1)
		close(r->null_fd);
	r->null_fd = -1;
}
