#include "master/jobid.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "common/log.h"

static int
jobid_is_dash(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

void
jobid_new(char out[JOBID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t got = 0, i, k;
	ssize_t n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* only ENOSYS (kernel < 3.17) can get here: nothing to fall back to */
			fatal("cannot make a job id: getrandom: %s", strerror(errno));
		}
		got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;

	for (i = 0, k = 0; i < JOBID_LEN; i++) {
		if (jobid_is_dash(i)) {
			out[i] = '-';
			continue;
		}
		out[i] = hex[(b[k / 2] >> (k % 2 ? 0 : 4)) & 0x0f];
		k++;
	}
	out[JOBID_LEN] = '\0';
}

int
jobid_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	/* the loop stops at the first wrong byte, a NUL included, so it never reads past one */
	for (i = 0; i < JOBID_LEN; i++) {
		if (jobid_is_dash(i)) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[JOBID_LEN] == '\0';
}
