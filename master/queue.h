#ifndef MASTER_QUEUE_H
#define MASTER_QUEUE_H

/* `master serve`'s queue and the job rendering now (the state is in struct server). */
#include <stddef.h>
#include <jansson.h>

struct server;

/* Queues job id (known to the store) and starts it if nothing is rendering. */
int queue_add(struct server *s, const char *id, char *err, size_t errlen);
/* The record as /status shows it: the stored one merged with the live progress. */
json_t *queue_status(struct server *s, const char *id, char *err, size_t errlen);
/* Cancels (if running) and removes a job and its files; 1 removed, 0 unknown, -1 error. */
int queue_remove(struct server *s, const char *id, char *err, size_t errlen);
/* Stores a record, stamped "updated" now; an error is logged. */
void queue_store(struct server *s, json_t *rec);
void queue_job_dir(const struct server *s, const char *id, char *buf, size_t n);

#endif
