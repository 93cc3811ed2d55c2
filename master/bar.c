#include "master/bar.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void
bar_init(struct bar *b, int on)
{
	struct winsize ws;

	memset(b, 0, sizeof b[0]);
	b->on = on;
	b->width = 80;
	if (on && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		b->width = ws.ws_col < sizeof b->line ? ws.ws_col : (int)sizeof b->line - 1;
}

/* "1:05", "1:02:05" */
static void
bar_time(char *buf, size_t n, double s)
{
	long t = s > 0 && s < 1e7 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void
bar_format(char *buf, size_t n, int width, const char *label, int64_t done, int64_t total,
    double elapsed, double media_fps, int complete)
{
	char tail[192], el[32], eta[32], cells[128];
	double frac, fps;
	int ncell, k, full;

	if (complete)
		frac = 1;
	else
		frac = total > 0 ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	bar_time(el, sizeof el, elapsed);
	if (total > 0) {
		if (complete)
			done = total;
		fps = elapsed > 0 ? (double)done / elapsed : 0;
		if (frac > 0)
			bar_time(eta, sizeof eta, complete ? 0 : elapsed * (1 - frac) / frac);
		else
			snprintf(eta, sizeof eta, "-:--");
		snprintf(tail, sizeof tail, " %3.0f%%  %lld/%lld frames  %s ETA %s  %.1f fps  %.2fx",
		    100 * frac, (long long)done, (long long)total, el, eta, fps,
		    media_fps > 0 ? fps / media_fps : 0);
	} else {
		snprintf(tail, sizeof tail, " %3.0f%%  %s", 100 * frac, el);
	}
	/* the bar takes what the terminal has left, 10 to 30 cells */
	ncell = width - 1 - 11 - 2 - (int)strlen(tail);
	if (ncell > 30)
		ncell = 30;
	if (ncell < 10)
		ncell = 10;
	full = (int)(frac * ncell);
	for (k = 0; k < ncell; k++)
		cells[k] = k < full ? '#' : '-';
	cells[ncell] = '\0';
	snprintf(buf, n, "%-10s [%s]%s", label, cells, tail);
	/* never wider than the terminal: a wrapped line would not be redrawn in place */
	if (width > 1 && strlen(buf) > (size_t)width - 1)
		buf[width - 1] = '\0';
}

static void
bar_write(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

static void
bar_draw(struct bar *b, double now, int complete)
{
	char out[600];

	bar_format(b->line, sizeof b->line, b->width, b->label, b->done, b->total, now - b->t0,
	    b->media_fps, complete);
	snprintf(out, sizeof out, "\r%s\033[K", b->line);
	bar_write(out);
}

void
bar_finish(struct bar *b, double now)
{
	if (!b->on || b->label[0] == '\0')
		return;
	bar_draw(b, now, 1);
	bar_write("\n");
	b->line[0] = '\0';
	b->label[0] = '\0';
}

void
bar_phase(struct bar *b, const char *label, int64_t total, double media_fps, double now)
{
	if (!b->on)
		return;
	bar_finish(b, now);
	snprintf(b->label, sizeof b->label, "%s", label);
	b->t0 = now;
	b->done = 0;
	b->total = total;
	b->media_fps = media_fps;
	bar_draw(b, now, 0);
}

void
bar_update(struct bar *b, int64_t done, double now)
{
	if (!b->on || b->label[0] == '\0')
		return;
	b->done = done;
	bar_draw(b, now, 0);
}

void
bar_clear(struct bar *b)
{
	if (!b->on || b->line[0] == '\0')
		return;
	bar_write("\r\033[K");
	b->line[0] = '\0';
	b->label[0] = '\0';
}

void
bar_hide_cb(void *arg)
{
	struct bar *b = arg;

	if (b->line[0] != '\0')
		bar_write("\r\033[K");
}

void
bar_show_cb(void *arg)
{
	struct bar *b = arg;
	char out[600];

	if (b->line[0] == '\0')
		return;
	snprintf(out, sizeof out, "\r%s\033[K", b->line);
	bar_write(out);
}
