#include "worker/stamps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"
#include "common/util.h"

static int
stamps_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* What ffprobe wrote into the memfd fd, NUL-terminated (NULL when out of memory). */
static char *
stamps_slurp(int fd)
{
	char *buf = NULL, *tmp;
	size_t len = 0, cap = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			tmp = realloc(buf, cap);
			if (tmp == NULL) {
				free(buf);
				return NULL;
			}
			buf = tmp;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* One line of "-show_entries packet=pts:stream=time_base -of csv=p=0": a packet's time, or the
 * stream's time base ("1/1000"); "N/A" (no time) is left out. */
static int
stamps_line(struct stamps *s, const char *line, size_t *cap)
{
	unsigned num, den;
	int64_t *tmp;
	char *end;
	long long v;

	if (sscanf(line, "%u/%u", &num, &den) == 2 && strchr(line, '/') != NULL) {
		s->num = num;
		s->den = den;
		return 0;
	}
	v = strtoll(line, &end, 10);
	if (end == line)
		return 0;
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		tmp = realloc(s->pts, *cap * sizeof *tmp);
		if (tmp == NULL)
			return -1;
		s->pts = tmp;
	}
	s->pts[s->n++] = v;
	return 0;
}

int
stamps_read(const char *input, int concat, struct stamps *s, char *err, size_t errlen)
{
	char *argv[24], *out = NULL, *line, *nl, tail[256], st[128];
	int fd = -1, i = 0, status = 0, rc = -1;
	size_t cap = 0, k;
	pid_t pid;

	memset(s, 0, sizeof *s);
	argv[i++] = "ffprobe"; argv[i++] = "-v"; argv[i++] = "error";
	argv[i++] = "-protocol_whitelist"; argv[i++] = "file";
	if (concat) {
		argv[i++] = "-f"; argv[i++] = "concat"; argv[i++] = "-safe"; argv[i++] = "0";
	}
	argv[i++] = "-select_streams"; argv[i++] = "v:0";
	argv[i++] = "-show_entries"; argv[i++] = "packet=pts:stream=time_base";
	argv[i++] = "-of"; argv[i++] = "csv=p=0";
	argv[i++] = "-i"; argv[i++] = (char *)input; argv[i] = NULL;
	fd = spawn_capture_open("ffprobe-stamps");
	if (fd == -1)
		return util_err(err, errlen, "memfd_create: %s", strerror(errno));
	pid = spawn(argv, -1, fd, fd, err, errlen);
	if (pid == -1)
		goto done;
	spawn_wait(pid, &status, NULL);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		spawn_status_str(status, st, sizeof st);
		spawn_capture_tail(fd, tail, sizeof tail);
		util_err(err, errlen, "cannot read the frames' times: ffprobe %s: %s", st, tail);
		goto done;
	}
	out = stamps_slurp(fd);
	if (out == NULL) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	for (line = out; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (stamps_line(s, line, &cap) == -1) {
			util_err(err, errlen, "out of memory");
			goto done;
		}
		if (nl == NULL)
			break;
	}
	if (s->n == 0 || s->num == 0 || s->den == 0) {
		util_err(err, errlen, "cannot read the frames' times: ffprobe lists none");
		goto done;
	}
	/* packets come in decoding order; the frames leave the decoder in presentation order */
	qsort(s->pts, s->n, sizeof *s->pts, stamps_cmp);
	for (k = s->n; k-- > 0;)
		s->pts[k] -= s->pts[0];
	rc = 0;
done:
	if (rc == -1)
		stamps_free(s);
	free(out);
	close(fd);
	return rc;
}

int64_t
stamps_at(const struct stamps *s, size_t i)
{
	int64_t step;

	if (i < s->n)
		return s->pts[i];
	step = s->n > 1 ? s->pts[s->n - 1] - s->pts[s->n - 2] : 1;
	return s->pts[s->n - 1] + (int64_t)(i - s->n + 1) * (step > 0 ? step : 1);
}

static int
stamps_write(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
stamps_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
stamps_ivf_header(int fd, const struct stamps *s, const char *pix_fmt, int width, int height)
{
	/* the raw formats' tags ffmpeg's IVF demuxer knows (riff.c's rawvideo tags) */
	static const char *const tags[][2] = {
		{ "yuv420p", "I420" }, { "yuv422p", "I422" }, { "yuv444p", "I444" },
		{ "yuv420p10le", "I0AL" }, { "yuv422p10le", "I2AL" }, { "yuv444p10le", "I4AL" },
	};
	uint8_t h[32] = { 'D', 'K', 'I', 'F' };
	size_t i;

	for (i = 0; i < sizeof tags / sizeof tags[0] && strcmp(tags[i][0], pix_fmt) != 0; i++)
		;
	if (i == sizeof tags / sizeof tags[0]) {
		errno = EINVAL;
		return -1;
	}
	stamps_le(h + 6, 32, 2);            /* header size; version 0 */
	memcpy(h + 8, tags[i][1], 4);
	stamps_le(h + 12, (uint64_t)width, 2);
	stamps_le(h + 14, (uint64_t)height, 2);
	stamps_le(h + 16, s->den, 4);       /* the time base, denominator first */
	stamps_le(h + 20, s->num, 4);
	stamps_le(h + 24, s->n, 4);         /* frame count; ffmpeg reads it as a hint only */
	return stamps_write(fd, h, sizeof h);
}

int
stamps_ivf_frame(int fd, size_t size, int64_t pts)
{
	uint8_t h[12];

	stamps_le(h, size, 4);
	stamps_le(h + 4, (uint64_t)pts, 8);
	return stamps_write(fd, h, sizeof h);
}

void
stamps_free(struct stamps *s)
{
	free(s->pts);
	s->pts = NULL;
	s->n = 0;
}
