#ifndef COMMON_LOG_H
#define COMMON_LOG_H

/* One line per event on stderr: `pid role time level message` (role M master, W worker). */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_QUIET };

/* Also forgets the display hooks below: a forked worker draws no progress of its master. */
void log_init(char role, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* A terminal's progress display steps aside for log lines: before(arg) runs just before a line
 * is written (to clear the display), after(arg) just after (to draw it again); NULL: none. */
void log_set_display(void (*before)(void *), void (*after)(void *), void *arg);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_get_level() <= LOG_INFO)  log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_get_level() <= LOG_WARN)  log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define log_error(...) do { if (log_get_level() <= LOG_ERROR) log_msg(LOG_ERROR, __VA_ARGS__); } while (0)

/* Start-up failures and impossible states only: logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
