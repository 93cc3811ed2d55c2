#ifndef MASTER_QUOTA_H
#define MASTER_QUOTA_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct quota;

/*
 * The disk quota of `master serve`'s data directory (--max-disk-mb), counted in file bytes.
 * The tree is measured once at start-up; after that the count is kept up to date by
 * accounting: uploads reserve their Content-Length before the body is read and add what they
 * wrote, removals take off what they removed, and the running job's directory is re-measured
 * a few times a second while it renders. No request ever walks the whole tree.
 */

/* Called when the watched directory pushed the count over the quota; reason says so. */
typedef void (*quota_over_cb)(const char *reason, void *arg);

/* Measures dir; limit 0 means no quota (the count is still kept, for /health). */
struct quota *quota_open(const char *dir, int64_t limit);
void quota_free(struct quota *q);

int64_t quota_used(const struct quota *q);      /* counted + reserved + live files */
/* A file that grows by itself inside the directory (jobs.db and its WAL): measured (one
 * stat) whenever the count is read, instead of accounted. At most four. */
int quota_track(struct quota *q, const char *path);
int64_t quota_limit(const struct quota *q);

/* 0 when n more bytes fit, else -1 with err. `what` names the writer in the message
 * ("an upload of 5000000 bytes"). */
int quota_room(const struct quota *q, int64_t n, const char *what, char *err, size_t errlen);
/* Reserves n bytes for a file about to be written: 0, or -1 with err when they do not fit. */
int quota_reserve(struct quota *q, int64_t n, const char *what, char *err, size_t errlen);
/* Ends a reservation of n bytes, of which kept were written and stay. */
void quota_settle(struct quota *q, int64_t n, int64_t kept);
/* Removes a file or a tree and takes its bytes off the count. Same result as util_rm_rf. */
int quota_rm_rf(struct quota *q, const char *path);

/* Re-measures dir every QUOTA_WATCH_EVERY s (and on quota_unwatch) while a job writes into it,
 * calling over once when the count passes the quota. One directory at a time. */
int quota_watch(struct quota *q, struct event_base *base, const char *dir, quota_over_cb over,
    void *arg);
void quota_unwatch(struct quota *q);

#endif
