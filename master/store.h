#ifndef MASTER_STORE_H
#define MASTER_STORE_H
#include <stddef.h>

#include <jansson.h>

/*
 * Job records in SQLite: each record is kept as its JSON text next to the columns that are
 * searched (id, status, created, updated). One connection, used from the master's event loop
 * only. Every call fills err ("cannot store job 5f2c..: disk I/O error") when it fails.
 */
struct store;

/* Opens or creates the store at path. NULL when it cannot, with the reason in err. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * Inserts or replaces the record keyed by its "job_id" (a non-empty string); "status" (a
 * string) and "created" (a number, epoch seconds) are read from it. The record is copied.
 */
int store_put(struct store *st, json_t *rec, char *err, size_t errlen);

/* A new reference to the record, or NULL: err is "" when there is none, the reason on error. */
json_t *store_get(struct store *st, const char *job_id, char *err, size_t errlen);

/* 1 when the record was deleted, 0 when there was none, -1 on error. */
int store_delete(struct store *st, const char *job_id, char *err, size_t errlen);

/* Array of records, newest first, at most limit (all when limit < 0). NULL on error. */
json_t *store_list(struct store *st, int limit, char *err, size_t errlen);

/* Array of records with the given status in the order they were queued (to re-queue after a
 * restart). */
json_t *store_list_status(struct store *st, const char *status, char *err, size_t errlen);

/* Array of the ids (strings) of jobs created before `before` (epoch seconds), oldest first. */
json_t *store_list_older(struct store *st, double before, char *err, size_t errlen);

#endif
