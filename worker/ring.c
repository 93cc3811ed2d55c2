#include "worker/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"

/*
 * Why a ring makes vmsplice safe. vmsplice puts references to our pages into the pipe, one pipe
 * slot per page or piece of a page (they are never merged with other data), and the encoder's
 * read(2) drops a page's reference only once it has copied it out. So a buffer may be filled
 * again only when no slot of the pipe still points into it. The pipe holds at most `slots`
 * slots (F_GETPIPE_SZ / page size) and is first in, first out: once the k frames spliced after
 * a buffer's frame fill more than `slots` slots, none of that frame can still be in the pipe.
 * Each frame's `sent` bytes take at least `pages` = ceil(sent / page size) slots (whatever
 * else of the frame the route splices past us only adds to them), so k = 1 + slots / pages
 * frames are enough, and the ring has 1 + k buffers: 2 for whole 720p frames or their chroma in
 * render.c's 256 KiB pipe (larger than the pipe), more for small frames; never
 * more memory than the pipe's size plus two frames.
 */
int
ring_init(struct ring *r, size_t size, size_t sent, int fd, char *err, size_t errlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (sent + page - 1) / page;
	int pipe_size = fcntl(fd, F_GETPIPE_SZ);

	memset(r, 0, sizeof *r);
	r->size = size;
	r->stride = (size + page - 1) / page * page;
	r->splice = pipe_size > 0;
	/* nothing of ours goes into the pipe: one buffer is enough */
	r->count = r->splice && pages > 0 ? 2 + (int)((size_t)pipe_size / page / pages) : 1;
	r->mem = aligned_alloc(page, r->stride * (size_t)r->count);
	if (r->mem == NULL)
		return util_err(err, errlen, "out of memory for %d frames of %zu bytes", r->count, size);
	return 0;
}

uint8_t *
ring_next(struct ring *r)
{
	return r->mem + (size_t)r->next * r->stride;
}

int
ring_put(struct ring *r, int fd, const uint8_t *p, size_t n, volatile int *stop)
{
	struct iovec iov = { (void *)p, n };
	uint8_t *cur = ring_next(r);
	ssize_t k;

	while (r->splice && iov.iov_len > 0) {
		k = vmsplice(fd, &iov, 1, 0);
		if (k < 0 && errno == EINTR && (stop == NULL || !*stop))
			continue;
		if (k < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
			/* refused on the first frame (a sandbox, not a pipe): nothing of ours is
			 * in the pipe, copies from now on */
			r->splice = 0;
			break;
		}
		if (k < 0)
			return -1;
		iov.iov_base = (char *)iov.iov_base + k;
		iov.iov_len -= (size_t)k;
	}
	if (iov.iov_len > 0 && util_write_full(fd, iov.iov_base, iov.iov_len, stop) == -1)
		return -1;
	/* the filled buffer is on its way: the next frame goes into the next one */
	if (n > 0 && p >= cur && p < cur + r->stride)
		r->next = (r->next + 1) % r->count;
	return 0;
}

void
ring_free(struct ring *r)
{
	free(r->mem);
	r->mem = NULL;
}
