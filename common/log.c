#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char log_role = 'M';
static enum log_level log_level = LOG_INFO;
static void (*log_before)(void *), (*log_after)(void *);
static void *log_display_arg;

void
log_init(char role, enum log_level level)
{
	log_role = role;
	log_level = level;
	/* a forked worker starts without the master's progress display */
	log_before = log_after = NULL;
	log_display_arg = NULL;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

void
log_set_display(void (*before)(void *), void (*after)(void *), void *arg)
{
	log_before = before;
	log_after = after;
	log_display_arg = arg;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	struct timespec ts;
	struct tm tm;
	char line[2048];
	size_t n;
	int k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	k = snprintf(line, sizeof line, "%d %c %02d:%02d:%02d.%03ld %s ", (int)getpid(),
	    log_role, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	    names[level < LOG_ERROR ? level : LOG_ERROR]);
	if (k < 0)
		return;
	n = (size_t)k;
	k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	if (k < 0)
		return;
	n += (size_t)k < sizeof line - n - 1 ? (size_t)k : sizeof line - n - 2;
	line[n++] = '\n';
	/* one write per line, so the lines of the master and its workers never interleave */
	if (log_before != NULL)
		log_before(log_display_arg);
	(void)!write(STDERR_FILENO, line, n);
	if (log_after != NULL)
		log_after(log_display_arg);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
