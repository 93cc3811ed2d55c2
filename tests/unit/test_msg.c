#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/msg.h"

/* A raw header, so tests can forge what msg_encode would never produce. */
static void
test_msg_header(unsigned char *h, int magic, int version, int type, uint32_t len)
{
	h[0] = (unsigned char)magic;
	h[1] = (unsigned char)version;
	h[2] = (unsigned char)type;
	h[3] = 0;
	h[4] = (unsigned char)(len >> 24);
	h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8);
	h[7] = (unsigned char)len;
}

/* Feeds a forged frame to a fresh reader and returns what msg_reader_next says. */
static int
test_msg_feed(const void *data, size_t len, char *err, size_t errlen)
{
	struct msg_reader rd;
	json_t *j = NULL;
	int type = -1, rc;

	msg_reader_init(&rd);
	assert_int_equal(msg_reader_push(&rd, data, len), 0);
	err[0] = '\0';
	rc = msg_reader_next(&rd, &type, &j, err, errlen);
	if (rc == 1)
		json_decref(j);
	msg_reader_free(&rd);
	return rc;
}

static void
test_msg_round_trip(void **state)
{
	struct msg_reader rd;
	char err[256];
	json_t *in, *out = NULL;
	size_t len = 0, n;
	char *buf;
	int type = -1;

	in = json_pack("{s:i, s:s, s:f, s:b}", "task", 7, "input", "a b \"c\".mkv", "wall", 1.5, "cfr", 1);
	buf = msg_encode(MSG_TASK, in, &len, err, sizeof err);
	assert_non_null(buf);
	assert_true(len > MSG_HEADER_SIZE);
	n = len - MSG_HEADER_SIZE;
	assert_int_equal((unsigned char)buf[0], MSG_MAGIC);
	assert_int_equal((unsigned char)buf[1], MSG_VERSION);
	assert_int_equal((unsigned char)buf[2], MSG_TASK);
	assert_int_equal((unsigned char)buf[3], 0);
	/* big endian length of the payload alone */
	assert_int_equal(((size_t)(unsigned char)buf[4] << 24 | (size_t)(unsigned char)buf[5] << 16 |
	    (size_t)(unsigned char)buf[6] << 8 | (unsigned char)buf[7]), n);

	msg_reader_init(&rd);
	assert_int_equal(msg_reader_push(&rd, buf, len), 0);
	assert_int_equal(msg_reader_next(&rd, &type, &out, err, sizeof err), 1);
	assert_int_equal(type, MSG_TASK);
	assert_true(json_equal(in, out));
	assert_string_equal(json_string_value(json_object_get(out, "input")), "a b \"c\".mkv");
	/* the message was consumed: nothing more until more bytes come */
	assert_int_equal(rd.len, 0);
	json_decref(out);
	out = NULL;
	assert_int_equal(msg_reader_next(&rd, &type, &out, err, sizeof err), 0);
	assert_null(out);

	msg_reader_free(&rd);
	free(buf);
	json_decref(in);
}

static void
test_msg_several_in_one_buffer(void **state)
{
	struct msg_reader rd;
	char err[256], all[4096];
	size_t total = 0, len;
	json_t *j;
	char *buf;
	int i, type;

	for (i = 0; i < 5; i++) {
		j = json_pack("{s:i, s:I}", "task", i, "frames", (json_int_t)(i * 1000));
		buf = msg_encode(i == 4 ? MSG_DONE : MSG_PROGRESS, j, &len, err, sizeof err);
		assert_non_null(buf);
		assert_true(total + len <= sizeof all);
		memcpy(all + total, buf, len);
		total += len;
		free(buf);
		json_decref(j);
	}
	/* and the first 3 bytes of a sixth, which must wait */
	memcpy(all + total, "V\001\003", 3);
	total += 3;

	msg_reader_init(&rd);
	assert_int_equal(msg_reader_push(&rd, all, total), 0);
	for (i = 0; i < 5; i++) {
		j = NULL;
		assert_int_equal(msg_reader_next(&rd, &type, &j, err, sizeof err), 1);
		assert_int_equal(type, i == 4 ? MSG_DONE : MSG_PROGRESS);
		assert_int_equal(json_integer_value(json_object_get(j, "task")), i);
		assert_int_equal(json_integer_value(json_object_get(j, "frames")), i * 1000);
		json_decref(j);
	}
	assert_int_equal(msg_reader_next(&rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(rd.len, 3);
	msg_reader_free(&rd);
}

static void
test_msg_one_byte_at_a_time(void **state)
{
	struct msg_reader rd;
	char err[256];
	json_t *in, *out = NULL;
	size_t len, i;
	char *buf;
	int type = -1, got = 0;

	in = json_pack("{s:i, s:s, s:s}", "task", 3, "error", "segment 3: ffmpeg exit 1", "x", "\xc3\xa9t\xc3\xa9");
	buf = msg_encode(MSG_FAIL, in, &len, err, sizeof err);
	assert_non_null(buf);
	msg_reader_init(&rd);
	for (i = 0; i < len; i++) {
		assert_int_equal(msg_reader_push(&rd, buf + i, 1), 0);
		got = msg_reader_next(&rd, &type, &out, err, sizeof err);
		if (i + 1 < len && got != 0)
			fail_msg("byte %zu of %zu: msg_reader_next returned %d (%s)", i + 1, len, got, err);
	}
	assert_int_equal(got, 1);
	assert_int_equal(type, MSG_FAIL);
	assert_true(json_equal(in, out));
	json_decref(out);
	msg_reader_free(&rd);
	free(buf);
	json_decref(in);
}

static void
test_msg_bad_magic(void **state)
{
	unsigned char f[MSG_HEADER_SIZE + 2];
	char err[256];

	test_msg_header(f, 'X', MSG_VERSION, MSG_HELLO, 2);
	memcpy(f + MSG_HEADER_SIZE, "{}", 2);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "header"));

	/* byte 3 is reserved and must be zero */
	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_HELLO, 2);
	f[3] = 1;
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "header"));

	/* plain text (someone printf'd to the pipe) */
	assert_int_equal(test_msg_feed("hello world\n", 12, err, sizeof err), -1);
	assert_non_null(strstr(err, "header"));
}

static void
test_msg_bad_version(void **state)
{
	unsigned char f[MSG_HEADER_SIZE + 2];
	char err[256];

	test_msg_header(f, MSG_MAGIC, MSG_VERSION + 1, MSG_HELLO, 2);
	memcpy(f + MSG_HEADER_SIZE, "{}", 2);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "version"));
	assert_non_null(strstr(err, "2"));

	test_msg_header(f, MSG_MAGIC, 0, MSG_HELLO, 2);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "version"));
}

static void
test_msg_unknown_type(void **state)
{
	unsigned char f[MSG_HEADER_SIZE + 2];
	int bad[] = { 0, MSG_TYPE_MAX, 200, 255 };
	char err[256], want[64];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		test_msg_header(f, MSG_MAGIC, MSG_VERSION, bad[i], 2);
		memcpy(f + MSG_HEADER_SIZE, "{}", 2);
		assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
		snprintf(want, sizeof want, "unknown message type %d", bad[i]);
		assert_string_equal(err, want);
	}
	/* every known JSON type is accepted (chunks are binary: tested below) */
	for (i = MSG_HELLO; i < MSG_TYPE_MAX; i++) {
		if (i == MSG_CHUNK)
			continue;
		test_msg_header(f, MSG_MAGIC, MSG_VERSION, (int)i, 2);
		assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), 1);
	}
}

static void
test_msg_oversized_from_header(void **state)
{
	unsigned char f[MSG_HEADER_SIZE];
	char err[256];

	/* Only the header has arrived: the length alone must be enough to refuse, so a hostile
	 * peer cannot make the reader wait for (and buffer) 4 GiB. */
	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_DONE, MSG_MAX_PAYLOAD + 1);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "exceeds"));

	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_DONE, 0xffffffffu);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), -1);
	assert_non_null(strstr(err, "exceeds"));

	/* exactly the limit is allowed: the reader waits for the body */
	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_DONE, MSG_MAX_PAYLOAD);
	assert_int_equal(test_msg_feed(f, sizeof f, err, sizeof err), 0);

	/* a short header is not an error yet */
	assert_int_equal(test_msg_feed(f, MSG_HEADER_SIZE - 1, err, sizeof err), 0);
}

static void
test_msg_encode_oversized(void **state)
{
	char err[256] = "";
	size_t len = 0;
	char *big, *buf;
	json_t *j;

	big = malloc(MSG_MAX_PAYLOAD + 1);
	assert_non_null(big);
	memset(big, 'a', MSG_MAX_PAYLOAD);
	big[MSG_MAX_PAYLOAD] = '\0';
	j = json_pack("{s:s}", "error", big);
	buf = msg_encode(MSG_FAIL, j, &len, err, sizeof err);
	assert_null(buf);
	assert_non_null(strstr(err, "too large"));
	assert_non_null(strstr(err, "fail"));
	json_decref(j);
	free(big);
}

static void
test_msg_bad_payload(void **state)
{
	static const char *bad[] = { "{not json", "[1,2,3]", "42", "\"str\"", "null", "",
	    "{\"a\":1,\"a\":2}", "{\"a\":1} trailing" };
	unsigned char f[MSG_HEADER_SIZE + 64];
	char err[256];
	size_t i, n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = strlen(bad[i]);
		test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_DONE, (uint32_t)n);
		memcpy(f + MSG_HEADER_SIZE, bad[i], n);
		if (test_msg_feed(f, MSG_HEADER_SIZE + n, err, sizeof err) != -1)
			fail_msg("payload '%s' was accepted", bad[i]);
		assert_non_null(strstr(err, "bad done message payload"));
	}
	n = strlen("[1,2,3]");
	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_DONE, (uint32_t)n);
	memcpy(f + MSG_HEADER_SIZE, "[1,2,3]", n);
	test_msg_feed(f, MSG_HEADER_SIZE + n, err, sizeof err);
	assert_non_null(strstr(err, "not an object"));
}

static void
test_msg_type_names(void **state)
{
	assert_string_equal(msg_type_name(MSG_HELLO), "hello");
	assert_string_equal(msg_type_name(MSG_TASK), "task");
	assert_string_equal(msg_type_name(MSG_PROGRESS), "progress");
	assert_string_equal(msg_type_name(MSG_DONE), "done");
	assert_string_equal(msg_type_name(MSG_FAIL), "fail");
	assert_string_equal(msg_type_name(MSG_QUIT), "quit");
	assert_string_equal(msg_type_name(0), "?");
	assert_string_equal(msg_type_name(MSG_TYPE_MAX), "?");
	assert_string_equal(msg_type_name(-1), "?");
}

static void
test_msg_read_pipe_clean_eof(void **state)
{
	struct msg_reader rd;
	char err[256];
	json_t *j;
	int fds[2], i, type;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	for (i = 0; i < 3; i++) {
		j = json_pack("{s:i}", "task", i);
		assert_int_equal(msg_write(fds[1], MSG_PROGRESS, j, err, sizeof err), 0);
		json_decref(j);
	}
	close(fds[1]);

	msg_reader_init(&rd);
	for (i = 0; i < 3; i++) {
		j = NULL;
		assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 0);
		assert_int_equal(type, MSG_PROGRESS);
		assert_int_equal(json_integer_value(json_object_get(j, "task")), i);
		json_decref(j);
	}
	/* EOF between messages is the normal end, and it stays that way */
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 1);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 1);
	msg_reader_free(&rd);
	close(fds[0]);
}

static void
test_msg_read_pipe_eof_inside(void **state)
{
	struct msg_reader rd;
	char err[256];
	size_t len;
	json_t *j;
	char *buf;
	int fds[2], type, cut;

	j = json_pack("{s:i, s:s}", "task", 1, "error", "something long enough to cut in half");
	buf = msg_encode(MSG_FAIL, j, &len, err, sizeof err);
	assert_non_null(buf);
	json_decref(j);

	/* cut inside the header, then inside the body */
	for (cut = 0; cut < 2; cut++) {
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		assert_int_equal(write(fds[1], buf, cut == 0 ? 3 : len - 5), cut == 0 ? 3 : (ssize_t)(len - 5));
		close(fds[1]);
		msg_reader_init(&rd);
		err[0] = '\0';
		j = NULL;
		assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), -1);
		assert_null(j);
		assert_non_null(strstr(err, "middle of a message"));
		msg_reader_free(&rd);
		close(fds[0]);
	}

	/* a whole message, then a partial one: the first is delivered, then the error */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(write(fds[1], buf, len), (ssize_t)len);
	assert_int_equal(write(fds[1], buf, 10), 10);
	close(fds[1]);
	msg_reader_init(&rd);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_FAIL);
	json_decref(j);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), -1);
	assert_non_null(strstr(err, "middle of a message"));
	msg_reader_free(&rd);
	close(fds[0]);
	free(buf);
}

static void
test_msg_read_pipe_protocol_error(void **state)
{
	unsigned char f[MSG_HEADER_SIZE];
	struct msg_reader rd;
	char err[256];
	json_t *j = NULL;
	int fds[2], type;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	test_msg_header(f, MSG_MAGIC, MSG_VERSION, MSG_TASK, 0x7fffffffu);
	assert_int_equal(write(fds[1], f, sizeof f), (ssize_t)sizeof f);
	/* the write end stays open: the reader must answer from the header, not wait */
	msg_reader_init(&rd);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), -1);
	assert_non_null(strstr(err, "exceeds"));
	msg_reader_free(&rd);
	close(fds[0]);
	close(fds[1]);
}

/* A message larger than the pipe's buffer arrives in many reads, written by another process. */
static void
test_msg_read_pipe_large(void **state)
{
	struct msg_reader rd;
	char err[256], *big;
	size_t n = 600 * 1024;
	json_t *j = NULL;
	int fds[2], type, st;
	pid_t pid;

	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'z', n);
	big[n] = '\0';
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_t *c = json_pack("{s:s}", "blob", big);

		close(fds[0]);
		_exit(msg_write(fds[1], MSG_DONE, c, NULL, 0) == 0 ? 0 : 1);
	}
	close(fds[1]);
	msg_reader_init(&rd);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 0);
	assert_int_equal(type, MSG_DONE);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "blob"))), n);
	assert_string_equal(json_string_value(json_object_get(j, "blob")), big);
	json_decref(j);
	assert_int_equal(msg_read(fds[0], &rd, &type, &j, err, sizeof err), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	msg_reader_free(&rd);
	close(fds[0]);
	free(big);
}

static void
test_msg_write_closed_pipe(void **state)
{
	char err[256] = "";
	json_t *j;
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);
	j = json_pack("{s:i}", "task", 1);
	assert_int_equal(msg_write(fds[1], MSG_PROGRESS, j, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot write progress message"));
	json_decref(j);
	close(fds[1]);
}

/* File chunks: bytes through untouched, two in a row with a JSON message between, the
 * checksum checked, and the JSON-only reader refusing them. */
static void
test_msg_chunks(void **state)
{
	static char big[MSG_CHUNK_DATA];
	char *buf = malloc(3 * (MSG_HEADER_SIZE + MSG_CHUNK_CRC + MSG_CHUNK_DATA) + 256);
	struct msg_reader rd;
	char err[256], *p, *h;
	const char *data;
	json_t *j, *hello = json_pack("{s:i}", "version", 2);
	size_t n, len, i, hlen;
	int type;

	assert_non_null(buf);
	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + 3);
	p = buf;
	p += msg_chunk_encode(p, big, sizeof big);
	h = msg_encode(MSG_HELLO, hello, &hlen, err, sizeof err);
	assert_non_null(h);
	memcpy(p, h, hlen);
	free(h);
	p += hlen;
	p += msg_chunk_encode(p, "tail", 4);
	p += msg_chunk_encode(p, "", 0);
	n = (size_t)(p - buf);

	msg_reader_init(&rd);
	/* in odd-sized pieces, as a pipe delivers them */
	for (i = 0; i < n; i += 1000)
		assert_int_equal(msg_reader_push(&rd, buf + i, n - i < 1000 ? n - i : 1000), 0);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), 1);
	assert_int_equal(type, MSG_CHUNK);
	assert_null(j);
	assert_int_equal(len, sizeof big);
	assert_memory_equal(data, big, sizeof big);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), 1);
	assert_int_equal(type, MSG_HELLO);
	json_decref(j);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), 1);
	assert_int_equal(type, MSG_CHUNK);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "tail", 4);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), 1);
	assert_int_equal(len, 0);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), 0);
	msg_reader_free(&rd);

	/* one flipped bit in the data: refused, naming the checksum */
	n = msg_chunk_encode(buf, "abcdef", 6);
	buf[n - 1] ^= 1;
	msg_reader_init(&rd);
	assert_int_equal(msg_reader_push(&rd, buf, n), 0);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), -1);
	assert_non_null(strstr(err, "checksum"));
	msg_reader_free(&rd);

	/* the JSON-only reader does not take chunks; a chunk shorter than its CRC is garbage */
	n = msg_chunk_encode(buf, "abcdef", 6);
	assert_int_equal(test_msg_feed(buf, n, err, sizeof err), -1);
	test_msg_header((unsigned char *)buf, MSG_MAGIC, MSG_VERSION, MSG_CHUNK, 3);
	msg_reader_init(&rd);
	assert_int_equal(msg_reader_push(&rd, buf, MSG_HEADER_SIZE + 3), 0);
	assert_int_equal(msg_reader_next_any(&rd, &type, &j, &data, &len, err, sizeof err), -1);
	msg_reader_free(&rd);
	json_decref(hello);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_round_trip),
		cmocka_unit_test(test_msg_several_in_one_buffer),
		cmocka_unit_test(test_msg_one_byte_at_a_time),
		cmocka_unit_test(test_msg_bad_magic),
		cmocka_unit_test(test_msg_bad_version),
		cmocka_unit_test(test_msg_unknown_type),
		cmocka_unit_test(test_msg_oversized_from_header),
		cmocka_unit_test(test_msg_encode_oversized),
		cmocka_unit_test(test_msg_bad_payload),
		cmocka_unit_test(test_msg_type_names),
		cmocka_unit_test(test_msg_read_pipe_clean_eof),
		cmocka_unit_test(test_msg_read_pipe_eof_inside),
		cmocka_unit_test(test_msg_read_pipe_protocol_error),
		cmocka_unit_test(test_msg_read_pipe_large),
		cmocka_unit_test(test_msg_write_closed_pipe),
		cmocka_unit_test(test_msg_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
