#include "master/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"

/* PRAGMA user_version: bump it and add a step to store_migrate when the schema changes. */
#define STORE_SCHEMA_VERSION 1
/* PRAGMA application_id ("VRJB"): tells our database from another program's. */
#define STORE_APPLICATION_ID 0x56524a42
/* The event loop waits at most this long for a lock held by another process (a sqlite3 shell). */
#define STORE_BUSY_MS 2000

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put;
	sqlite3_stmt *get;
	sqlite3_stmt *del;
	sqlite3_stmt *list;
	sqlite3_stmt *list_status;
	sqlite3_stmt *list_older;
};

static double
store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* store_exec and store_query_int run only while opening, and their errors say so. */
static int
store_exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open job store %s: %s", st->path,
		    sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* Runs a statement that returns one integer (PRAGMA user_version, a count). */
static int
store_query_int(struct store *st, const char *sql, int *value, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		snprintf(err, errlen, "cannot open job store %s: %s", st->path,
		    sqlite3_errmsg(st->db));
		goto done;
	}
	*value = sqlite3_column_int(stmt, 0);
	rc = 0;
done:
	sqlite3_finalize(stmt);
	return rc;
}

/* Switches to WAL; a file system without the shared memory it needs keeps the old journal. */
static int
store_wal(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	const char *mode;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) !=
	    SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
		snprintf(err, errlen, "cannot open job store %s: %s", st->path,
		    sqlite3_errmsg(st->db));
		goto done;
	}
	mode = (const char *)sqlite3_column_text(stmt, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0)
		log_warn("job store %s: journal mode is %s, not wal: status writes will be slower",
		    st->path, mode != NULL ? mode : "unknown");
	rc = 0;
done:
	sqlite3_finalize(stmt);
	return rc;
}

/* Brings the schema from whatever version the file has to STORE_SCHEMA_VERSION. */
static int
store_migrate(struct store *st, char *err, size_t errlen)
{
	int version, appid, nobjects;
	char sql[128];

	/* BEGIN IMMEDIATE: the version read and the schema written are one step */
	if (store_exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	if (store_query_int(st, "PRAGMA user_version", &version, err, errlen) != 0 ||
	    store_query_int(st, "PRAGMA application_id", &appid, err, errlen) != 0 ||
	    store_query_int(st, "SELECT count(*) FROM sqlite_master", &nobjects, err,
	    errlen) != 0)
		goto fail;
	if (appid != STORE_APPLICATION_ID && (appid != 0 || nobjects != 0)) {
		snprintf(err, errlen, "cannot open job store %s: it is an SQLite database of "
		    "another program", st->path);
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "cannot open job store %s: its schema version %d is newer "
		    "than this program's (%d)", st->path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1) {
		if (store_exec(st,
		    "CREATE TABLE jobs ("
		    " id TEXT PRIMARY KEY NOT NULL,"
		    " status TEXT NOT NULL,"
		    " created REAL NOT NULL,"
		    " updated REAL NOT NULL,"
		    " record TEXT NOT NULL);"
		    "CREATE INDEX jobs_created ON jobs (created);"
		    "CREATE INDEX jobs_status ON jobs (status, created);", err, errlen) != 0)
			goto fail;
	}
	if (version != STORE_SCHEMA_VERSION) {
		snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		    STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
		if (store_exec(st, sql, err, errlen) != 0)
			goto fail;
	}
	return store_exec(st, "COMMIT", err, errlen);
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open job store %s: %s", st->path,
		    sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *st;

	st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "cannot open job store %s: out of memory", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open job store %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);

	/*
	 * The first statement reads the header, so a file that is not SQLite fails here with
	 * "file is not a database". WAL with synchronous=NORMAL makes a commit an append without
	 * fsync: a crash cannot corrupt the file, a power cut may lose the last status writes.
	 */
	if (store_wal(st, err, errlen) != 0 ||
	    store_exec(st, "PRAGMA synchronous = NORMAL", err, errlen) != 0 ||
	    store_migrate(st, err, errlen) != 0)
		goto fail;

	if (store_prepare(st,
	    "INSERT INTO jobs (id, status, created, updated, record) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
	    " created = excluded.created, updated = excluded.updated, record = excluded.record",
	    &st->put, err, errlen) != 0 ||
	    store_prepare(st, "SELECT id, record FROM jobs WHERE id = ?1", &st->get, err,
	    errlen) != 0 ||
	    store_prepare(st, "DELETE FROM jobs WHERE id = ?1", &st->del, err, errlen) != 0 ||
	    store_prepare(st, "SELECT id, record FROM jobs ORDER BY created DESC, id DESC"
	    " LIMIT ?1", &st->list, err, errlen) != 0 ||
	    /* in the order they were queued: a restart keeps the queue as it was (a damaged record,
	     * reported by the caller, sorts by creation) */
	    store_prepare(st, "SELECT id, record FROM jobs WHERE status = ?1"
	    " ORDER BY CASE WHEN json_valid(record) THEN json_extract(record, '$.queued_at') END,"
	    " created, id", &st->list_status, err,
	    errlen) != 0 ||
	    store_prepare(st, "SELECT id FROM jobs WHERE created < ?1 ORDER BY created, id",
	    &st->list_older, err, errlen) != 0)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->put);
	sqlite3_finalize(st->get);
	sqlite3_finalize(st->del);
	sqlite3_finalize(st->list);
	sqlite3_finalize(st->list_status);
	sqlite3_finalize(st->list_older);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warn("cannot close job store %s: %s", st->path, sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

int
store_put(struct store *st, json_t *rec, char *err, size_t errlen)
{
	const char *id, *status;
	json_t *created;
	char *text = NULL;
	int rc = -1;

	id = json_string_value(json_object_get(rec, "job_id"));
	if (id == NULL || *id == '\0') {
		snprintf(err, errlen, "cannot store job: the record has no \"job_id\" string");
		return -1;
	}
	status = json_string_value(json_object_get(rec, "status"));
	if (status == NULL) {
		snprintf(err, errlen, "cannot store job %s: the record has no \"status\" string",
		    id);
		return -1;
	}
	created = json_object_get(rec, "created");
	if (!json_is_number(created) || !isfinite(json_number_value(created))) {
		snprintf(err, errlen, "cannot store job %s: the record has no \"created\" number",
		    id);
		return -1;
	}
	text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(UTIL_JSON_DIGITS));
	if (text == NULL) {
		snprintf(err, errlen, "cannot store job %s: the record cannot be written as JSON",
		    id);
		return -1;
	}

	sqlite3_bind_text(st->put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->put, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_double(st->put, 3, json_number_value(created));
	sqlite3_bind_double(st->put, 4, store_now());
	sqlite3_bind_text(st->put, 5, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st->put) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot store job %s: %s", id, sqlite3_errmsg(st->db));
		goto done;
	}
	rc = 0;
done:
	sqlite3_reset(st->put);
	sqlite3_clear_bindings(st->put);
	free(text);
	return rc;
}

/* Parses column col of the current row of stmt, a record written by store_put. */
static json_t *
store_load(sqlite3_stmt *stmt, int col, const char *id, char *err, size_t errlen)
{
	const char *text = (const char *)sqlite3_column_text(stmt, col);
	json_error_t jerr;
	json_t *rec;

	if (text == NULL) {
		snprintf(err, errlen, "cannot read job %s: the stored record is empty", id);
		return NULL;
	}
	rec = json_loadb(text, (size_t)sqlite3_column_bytes(stmt, col), 0, &jerr);
	if (rec == NULL) {
		snprintf(err, errlen, "cannot read job %s: the stored record is not JSON: %s", id,
		    jerr.text);
		return NULL;
	}
	if (!json_is_object(rec)) {
		snprintf(err, errlen, "cannot read job %s: the stored record is not an object", id);
		json_decref(rec);
		return NULL;
	}
	return rec;
}

json_t *
store_get(struct store *st, const char *job_id, char *err, size_t errlen)
{
	json_t *rec = NULL;
	int rc;

	if (errlen > 0)
		*err = '\0';
	sqlite3_bind_text(st->get, 1, job_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st->get);
	if (rc == SQLITE_ROW)
		rec = store_load(st->get, 1, job_id, err, errlen);
	else if (rc != SQLITE_DONE)
		snprintf(err, errlen, "cannot read job %s: %s", job_id, sqlite3_errmsg(st->db));
	sqlite3_reset(st->get);
	sqlite3_clear_bindings(st->get);
	return rec;
}

int
store_delete(struct store *st, const char *job_id, char *err, size_t errlen)
{
	int rc;

	sqlite3_bind_text(st->del, 1, job_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st->del) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot delete job %s: %s", job_id, sqlite3_errmsg(st->db));
		rc = -1;
	} else
		rc = sqlite3_changes(st->db) > 0;
	sqlite3_reset(st->del);
	sqlite3_clear_bindings(st->del);
	return rc;
}

/*
 * Steps stmt (bound by the caller) to the end and collects column 1 parsed as records, or
 * column 0 as strings when ids_only. A record that does not parse is skipped with a warning:
 * one damaged row must not hide every other job or stop a restart.
 */
static json_t *
store_collect(struct store *st, sqlite3_stmt *stmt, int ids_only, const char *what,
    char *err, size_t errlen)
{
	json_t *out, *item;
	char why[256];
	int rc;

	out = json_array();
	if (out == NULL) {
		snprintf(err, errlen, "cannot list %s: out of memory", what);
		goto done;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);

		if (id == NULL)
			id = "(null)";
		if (ids_only)
			item = json_string(id);
		else if ((item = store_load(stmt, 1, id, why, sizeof why)) == NULL) {
			log_warn("job store %s: %s", st->path, why);
			continue;
		}
		if (item == NULL || json_array_append_new(out, item) != 0) {
			snprintf(err, errlen, "cannot list %s: out of memory", what);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot list %s: %s", what, sqlite3_errmsg(st->db));
		goto fail;
	}
	goto done;
fail:
	json_decref(out);
	out = NULL;
done:
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return out;
}

json_t *
store_list(struct store *st, int limit, char *err, size_t errlen)
{
	sqlite3_bind_int(st->list, 1, limit < 0 ? -1 : limit);
	return store_collect(st, st->list, 0, "jobs", err, errlen);
}

json_t *
store_list_status(struct store *st, const char *status, char *err, size_t errlen)
{
	char what[64];

	snprintf(what, sizeof what, "%s jobs", status);
	sqlite3_bind_text(st->list_status, 1, status, -1, SQLITE_STATIC);
	return store_collect(st, st->list_status, 0, what, err, errlen);
}

json_t *
store_list_older(struct store *st, double before, char *err, size_t errlen)
{
	char what[64];

	snprintf(what, sizeof what, "jobs created before %.0f", before);
	sqlite3_bind_double(st->list_older, 1, before);
	return store_collect(st, st->list_older, 1, what, err, errlen);
}
