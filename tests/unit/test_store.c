#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/log.h"
#include "master/store.h"

struct test_store {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
test_store_setup(void **state)
{
	struct test_store *t = calloc(1, sizeof *t);
	char err[256];

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/vr-test-store-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof t->path, "%s/jobs.db", t->dir);
	t->st = store_open(t->path, err, sizeof err);
	if (t->st == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = t;
	return 0;
}

static int
test_store_teardown(void **state)
{
	struct test_store *t = *state;
	static const char *names[] = { "jobs.db", "jobs.db-wal", "jobs.db-shm", "other.db",
	    "garbage", "empty-dir" };
	char p[192];
	size_t i;

	store_close(t->st);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", t->dir, names[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	rmdir(t->dir);
	free(t);
	return 0;
}

static json_t *
test_store_rec(const char *id, const char *status, double created)
{
	json_t *rec = json_pack("{s:s, s:s, s:f}", "job_id", id, "status", status, "created",
	    created);

	assert_non_null(rec);
	return rec;
}

static void
test_store_put_ok(struct store *st, json_t *rec)
{
	char err[256] = "";

	if (store_put(st, rec, err, sizeof err) != 0)
		fail_msg("store_put: %s", err);
	json_decref(rec);
}

/* The "job_id"s of an array of records, or the array itself when it holds strings, joined. */
static void
test_store_ids(json_t *arr, char *out, size_t n)
{
	size_t i;
	json_t *v;

	assert_true(json_is_array(arr));
	*out = '\0';
	json_array_foreach(arr, i, v) {
		const char *id = json_is_string(v) ? json_string_value(v) :
		    json_string_value(json_object_get(v, "job_id"));

		assert_non_null(id);
		if (i > 0)
			strncat(out, ",", n - strlen(out) - 1);
		strncat(out, id, n - strlen(out) - 1);
	}
}

static void
test_store_round_trip(void **state)
{
	struct test_store *t = *state;
	json_t *rec, *got;
	char err[256];

	rec = json_pack("{s:s, s:s, s:f, s:s, s:[{s:s, s:i}], s:n, s:b, s:I}",
	    "job_id", "5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1", "status", "uploaded",
	    "created", 1700000000.25, "name", "caf\xc3\xa9 \"clip\".mp4",
	    "filters", "name", "blur", "radius", 3, "error", "done", 0,
	    "size", (json_int_t)5000000000LL);
	assert_non_null(rec);
	assert_int_equal(store_put(t->st, rec, err, sizeof err), 0);

	got = store_get(t->st, "5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1", err, sizeof err);
	assert_non_null(got);
	assert_true(json_equal(got, rec));
	assert_true(got != rec);

	/* the store keeps a copy: changing the caller's object later changes nothing */
	json_object_set_new(rec, "status", json_string("failed"));
	json_decref(got);
	got = store_get(t->st, "5f2c9a1e-0b7d-4c3e-9f10-a2b4c6d8e0f1", err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(got, "status")), "uploaded");
	json_decref(got);
	json_decref(rec);

	/* an integer "created" is a number too */
	rec = json_pack("{s:s, s:s, s:i}", "job_id", "int", "status", "queued", "created", 5);
	test_store_put_ok(t->st, rec);
	got = store_get(t->st, "int", err, sizeof err);
	assert_non_null(got);
	assert_int_equal(json_integer_value(json_object_get(got, "created")), 5);
	json_decref(got);
}

static void
test_store_missing(void **state)
{
	struct test_store *t = *state;
	char err[256];

	strcpy(err, "stale");
	assert_null(store_get(t->st, "nope", err, sizeof err));
	assert_string_equal(err, "");
	assert_null(store_get(t->st, "", err, sizeof err));
	assert_string_equal(err, "");
	assert_int_equal(store_delete(t->st, "nope", err, sizeof err), 0);
}

static void
test_store_replace(void **state)
{
	struct test_store *t = *state;
	json_t *rec, *got, *list;
	char err[256], ids[256];

	test_store_put_ok(t->st, test_store_rec("a", "queued", 100));
	rec = test_store_rec("a", "processing", 100);
	json_object_set_new(rec, "progress", json_real(0.5));
	test_store_put_ok(t->st, rec);

	got = store_get(t->st, "a", err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(got, "status")), "processing");
	assert_true(json_real_value(json_object_get(got, "progress")) == 0.5);
	json_decref(got);

	list = store_list(t->st, -1, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "a");
	json_decref(list);

	/* the indexed status column follows the record */
	list = store_list_status(t->st, "queued", err, sizeof err);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	list = store_list_status(t->st, "processing", err, sizeof err);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
}

static void
test_store_delete(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256];
	json_t *list;

	test_store_put_ok(t->st, test_store_rec("a", "completed", 100));
	test_store_put_ok(t->st, test_store_rec("b", "completed", 200));
	assert_int_equal(store_delete(t->st, "a", err, sizeof err), 1);
	assert_null(store_get(t->st, "a", err, sizeof err));
	assert_string_equal(err, "");
	assert_int_equal(store_delete(t->st, "a", err, sizeof err), 0);

	list = store_list(t->st, -1, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "b");
	json_decref(list);
}

static void
test_store_fill(struct store *st)
{
	test_store_put_ok(st, test_store_rec("c100", "completed", 100));
	test_store_put_ok(st, test_store_rec("q300", "queued", 300));
	test_store_put_ok(st, test_store_rec("q200", "queued", 200));
	test_store_put_ok(st, test_store_rec("p500", "processing", 500));
	test_store_put_ok(st, test_store_rec("q400", "queued", 400));
	test_store_put_ok(st, test_store_rec("f150", "failed", 150.5));
}

static void
test_store_list_order_limit(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256];
	json_t *list;

	test_store_fill(t->st);
	list = store_list(t->st, -1, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "p500,q400,q300,q200,f150,c100");
	json_decref(list);

	list = store_list(t->st, 2, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "p500,q400");
	json_decref(list);

	list = store_list(t->st, 6, err, sizeof err);
	assert_int_equal(json_array_size(list), 6);
	json_decref(list);
	list = store_list(t->st, 1000, err, sizeof err);
	assert_int_equal(json_array_size(list), 6);
	json_decref(list);
	list = store_list(t->st, 0, err, sizeof err);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	/* the records come back whole, not just their ids */
	list = store_list(t->st, 1, err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0),
	    "status")), "processing");
	assert_true(json_number_value(json_object_get(json_array_get(list, 0), "created")) ==
	    500);
	json_decref(list);

	/* equal creation times are ordered by id, so pages are stable */
	test_store_put_ok(t->st, test_store_rec("t2", "queued", 1000));
	test_store_put_ok(t->st, test_store_rec("t1", "queued", 1000));
	list = store_list(t->st, 3, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "t2,t1,p500");
	json_decref(list);
}

static void
test_store_list_by_status(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256];
	json_t *list;

	test_store_fill(t->st);
	list = store_list_status(t->st, "queued", err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "q200,q300,q400");
	json_decref(list);

	list = store_list_status(t->st, "processing", err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "p500");
	json_decref(list);

	list = store_list_status(t->st, "uploaded", err, sizeof err);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	/* a status is matched exactly, never as a pattern */
	list = store_list_status(t->st, "%", err, sizeof err);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	list = store_list_status(t->st, "QUEUED", err, sizeof err);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static void
test_store_list_older(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256];
	json_t *list;

	test_store_fill(t->st);
	list = store_list_older(t->st, 300, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	/* strictly older: the job created at 300 stays */
	assert_string_equal(ids, "c100,f150,q200");
	assert_true(json_is_string(json_array_get(list, 0)));
	json_decref(list);

	list = store_list_older(t->st, 150.5, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "c100");
	json_decref(list);

	list = store_list_older(t->st, 0, err, sizeof err);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	list = store_list_older(t->st, 1e12, err, sizeof err);
	assert_int_equal(json_array_size(list), 6);
	json_decref(list);
}

/* Reads one integer or text pragma straight from the file, as another program would. */
static void
test_store_sql(const char *path, const char *sql, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW && out != NULL)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(stmt, 0));
	else if (out != NULL)
		*out = '\0';
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void
test_store_persistence(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256], v[64];
	json_t *got, *list;

	test_store_fill(t->st);
	test_store_put_ok(t->st, test_store_rec("q300", "completed", 300));
	assert_int_equal(store_delete(t->st, "c100", err, sizeof err), 1);
	store_close(t->st);
	t->st = NULL;

	test_store_sql(t->path, "PRAGMA journal_mode", v, sizeof v);
	assert_string_equal(v, "wal");
	test_store_sql(t->path, "PRAGMA user_version", v, sizeof v);
	assert_string_equal(v, "1");
	test_store_sql(t->path, "SELECT count(*) FROM jobs", v, sizeof v);
	assert_string_equal(v, "5");

	t->st = store_open(t->path, err, sizeof err);
	if (t->st == NULL)
		fail_msg("reopen: %s", err);
	got = store_get(t->st, "q300", err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(got, "status")), "completed");
	json_decref(got);
	assert_null(store_get(t->st, "c100", err, sizeof err));

	list = store_list(t->st, -1, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "p500,q400,q300,q200,f150");
	json_decref(list);
	list = store_list_status(t->st, "queued", err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "q200,q400");
	json_decref(list);

	/* and it still takes writes after a reopen */
	test_store_put_ok(t->st, test_store_rec("new", "uploaded", 600));
	list = store_list(t->st, 1, err, sizeof err);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "new");
	json_decref(list);
}

static void
test_store_write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void
test_store_garbage_file(void **state)
{
	struct test_store *t = *state;
	char path[192], err[256], back[9000];
	unsigned char junk[8192];
	struct store *st;
	size_t i;
	int fd;

	snprintf(path, sizeof path, "%s/garbage", t->dir);

	test_store_write_file(path, "not a database\n", 15);
	strcpy(err, "");
	st = store_open(path, err, sizeof err);
	assert_null(st);
	if (strstr(err, "not a database") == NULL || strstr(err, path) == NULL)
		fail_msg("unclear error: %s", err);

	/* a page of noise, and a file with a valid SQLite magic but a broken header after it */
	srand(7);
	for (i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	test_store_write_file(path, junk, sizeof junk);
	strcpy(err, "");
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, "cannot open job store"));
	memcpy(junk, "SQLite format 3", 16);
	test_store_write_file(path, junk, sizeof junk);
	strcpy(err, "");
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, "cannot open job store"));

	/* the file is left as it was: a wrong --data-dir must not destroy anything */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof back), (ssize_t)sizeof junk);
	close(fd);
	assert_memory_equal(back, junk, sizeof junk);
}

static void
test_store_bad_paths(void **state)
{
	struct test_store *t = *state;
	char path[192], err[256];

	snprintf(path, sizeof path, "%s/empty-dir", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	strcpy(err, "");
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, path));

	snprintf(path, sizeof path, "%s/no/such/dir/jobs.db", t->dir);
	strcpy(err, "");
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, "cannot open job store"));
}

static void
test_store_foreign_database(void **state)
{
	struct test_store *t = *state;
	char path[192], err[256];
	sqlite3 *db;

	/* someone else's SQLite file is refused, not filled with our table */
	snprintf(path, sizeof path, "%s/other.db", t->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE contacts (name TEXT)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	strcpy(err, "");
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, "another program"));

	/* a store written by a newer version is refused, not misread */
	store_close(t->st);
	t->st = NULL;
	test_store_sql(t->path, "PRAGMA user_version = 99", NULL, 0);
	strcpy(err, "");
	assert_null(store_open(t->path, err, sizeof err));
	assert_non_null(strstr(err, "newer"));
}

static void
test_store_bad_records(void **state)
{
	struct test_store *t = *state;
	char err[256];
	json_t *rec, *list;
	struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "{\"status\":\"queued\",\"created\":1}", "\"job_id\"" },
		{ "{\"job_id\":5,\"status\":\"queued\",\"created\":1}", "\"job_id\"" },
		{ "{\"job_id\":null,\"status\":\"queued\",\"created\":1}", "\"job_id\"" },
		{ "{\"job_id\":\"\",\"status\":\"queued\",\"created\":1}", "\"job_id\"" },
		{ "[\"job_id\",\"x\"]", "\"job_id\"" },
		{ "\"x\"", "\"job_id\"" },
		{ "{\"job_id\":\"x\",\"created\":1}", "job x: the record has no \"status\"" },
		{ "{\"job_id\":\"x\",\"status\":3,\"created\":1}", "job x: the record has no \"status\"" },
		{ "{\"job_id\":\"x\",\"status\":\"queued\"}", "job x: the record has no \"created\"" },
		{ "{\"job_id\":\"x\",\"status\":\"queued\",\"created\":\"1\"}", "\"created\"" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rec = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(rec);
		strcpy(err, "");
		assert_int_equal(store_put(t->st, rec, err, sizeof err), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("%s: error \"%s\" does not say %s", cases[i].json, err,
			    cases[i].want);
		json_decref(rec);
	}
	strcpy(err, "");
	assert_int_equal(store_put(t->st, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "job_id"));

	list = store_list(t->st, -1, err, sizeof err);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

/* A record damaged on disk is an error for that job and is skipped in lists. */
static void
test_store_damaged_record(void **state)
{
	struct test_store *t = *state;
	char err[256], ids[256];
	json_t *list;

	test_store_fill(t->st);
	test_store_sql(t->path, "UPDATE jobs SET record = '{\"job_id\": tru' WHERE id = 'q300'",
	    NULL, 0);
	test_store_sql(t->path, "UPDATE jobs SET record = '[1]' WHERE id = 'q200'", NULL, 0);

	strcpy(err, "");
	assert_null(store_get(t->st, "q300", err, sizeof err));
	assert_non_null(strstr(err, "cannot read job q300"));
	strcpy(err, "");
	assert_null(store_get(t->st, "q200", err, sizeof err));
	assert_non_null(strstr(err, "cannot read job q200"));

	log_set_level(LOG_QUIET);
	list = store_list_status(t->st, "queued", err, sizeof err);
	log_set_level(LOG_INFO);
	test_store_ids(list, ids, sizeof ids);
	assert_string_equal(ids, "q400");
	json_decref(list);
}

/* Another process holding the write lock: the put waits the busy timeout, then says why. */
static void
test_store_locked(void **state)
{
	struct test_store *t = *state;
	struct timespec a, b;
	char err[256];
	sqlite3 *db;
	json_t *got, *rec;
	double waited;

	test_store_put_ok(t->st, test_store_rec("a", "queued", 1));
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	clock_gettime(CLOCK_MONOTONIC, &a);
	strcpy(err, "");
	rec = test_store_rec("a", "processing", 1);
	assert_int_equal(store_put(t->st, rec, err, sizeof err), -1);
	json_decref(rec);
	clock_gettime(CLOCK_MONOTONIC, &b);
	waited = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	if (strstr(err, "cannot store job a: database is locked") == NULL)
		fail_msg("unclear error: %s", err);
	assert_true(waited > 1.0 && waited < 10.0);

	/* reads go on under WAL, and the store recovers once the lock is gone */
	got = store_get(t->st, "a", err, sizeof err);
	assert_non_null(got);
	json_decref(got);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	test_store_put_ok(t->st, test_store_rec("a", "processing", 1));
	got = store_get(t->st, "a", err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(got, "status")), "processing");
	json_decref(got);
}

/* One status write per finished segment: many small commits in a row. */
static void
test_store_many_writes(void **state)
{
	struct test_store *t = *state;
	char err[256], id[32];
	json_t *list;
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "job%d", i % 20);
		test_store_put_ok(t->st, test_store_rec(id, i < 1980 ? "processing" : "completed",
		    i % 20));
	}
	list = store_list(t->st, -1, err, sizeof err);
	assert_int_equal(json_array_size(list), 20);
	json_decref(list);
	list = store_list_status(t->st, "completed", err, sizeof err);
	assert_int_equal(json_array_size(list), 20);
	json_decref(list);
}

#define TEST_STORE(f) cmocka_unit_test_setup_teardown(f, test_store_setup, test_store_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST_STORE(test_store_round_trip),
		TEST_STORE(test_store_missing),
		TEST_STORE(test_store_replace),
		TEST_STORE(test_store_delete),
		TEST_STORE(test_store_list_order_limit),
		TEST_STORE(test_store_list_by_status),
		TEST_STORE(test_store_list_older),
		TEST_STORE(test_store_persistence),
		TEST_STORE(test_store_garbage_file),
		TEST_STORE(test_store_bad_paths),
		TEST_STORE(test_store_foreign_database),
		TEST_STORE(test_store_bad_records),
		TEST_STORE(test_store_damaged_record),
		TEST_STORE(test_store_locked),
		TEST_STORE(test_store_many_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
