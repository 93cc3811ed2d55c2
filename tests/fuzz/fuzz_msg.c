/*
 * The pool's pipe protocol (common/msg.c) as a reader sees it: any bytes, in any pieces.
 * Both ends are ours, but a worker that crashes mid-write (or a remote one) hands the
 * master whatever is in the pipe.
 */
#include <string.h>

#include "common/msg.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MSG_MAX 64

struct fuzz_msg_run {
	int n, rc;                      /* messages read; the last msg_reader_next_any result */
	int type[FUZZ_MSG_MAX];
	json_t *payload[FUZZ_MSG_MAX];  /* NULL for a chunk */
	size_t clen[FUZZ_MSG_MAX];      /* a chunk's length and an FNV-1a hash of its bytes */
	uint64_t chash[FUZZ_MSG_MAX];
};

static uint64_t
fuzz_msg_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0)
		h = (h ^ (uint8_t)*p++) * 1099511628211ULL;
	return h;
}

/* Reads every whole message buffered, until more bytes are needed or an error. */
static void
fuzz_msg_drain(struct msg_reader *rd, struct fuzz_msg_run *run)
{
	char err[256];
	const char *data;
	size_t len;
	json_t *j;
	int type;

	while (run->rc != -1 && run->n < FUZZ_MSG_MAX) {
		run->rc = msg_reader_next_any(rd, &type, &j, &data, &len, err, sizeof err);
		if (run->rc != 1)
			return;
		FUZZ_CHECK(type > 0 && type < MSG_TYPE_MAX);
		FUZZ_CHECK(type == MSG_CHUNK ? j == NULL && len <= MSG_CHUNK_DATA : json_is_object(j));
		run->type[run->n] = type;
		run->clen[run->n] = type == MSG_CHUNK ? len : 0;
		run->chash[run->n] = type == MSG_CHUNK ? fuzz_msg_hash(data, len) : 0;
		run->payload[run->n++] = j;
	}
}

/* Feeds the bytes in pieces of `step` (0: all at once). */
static void
fuzz_msg_read(const uint8_t *data, size_t size, size_t step, struct fuzz_msg_run *run)
{
	struct msg_reader rd;
	size_t off, k;

	memset(run, 0, sizeof *run);
	msg_reader_init(&rd);
	for (off = 0; off < size || off == 0; off += k) {
		k = step == 0 || size - off < step ? size - off : step;
		FUZZ_CHECK(msg_reader_push(&rd, data + off, k) == 0);
		fuzz_msg_drain(&rd, run);
		if (run->rc == -1 || run->n == FUZZ_MSG_MAX || k == 0)
			break;
	}
	msg_reader_free(&rd);
}

static void
fuzz_msg_free(struct fuzz_msg_run *run)
{
	int i;

	for (i = 0; i < run->n; i++)
		json_decref(run->payload[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_msg_run whole, pieces;
	struct msg_reader rd;
	char err[256], *buf;
	size_t len;
	json_t *j;
	int i, type;

	fuzz_msg_read(data, size, 0, &whole);
	/* how the bytes arrive must not change what is read */
	fuzz_msg_read(data, size, size > 0 ? 1 + data[0] % 13 : 1, &pieces);
	FUZZ_CHECK(whole.n == pieces.n);
	if (whole.n < FUZZ_MSG_MAX)
		FUZZ_CHECK(whole.rc == pieces.rc);
	for (i = 0; i < whole.n; i++) {
		FUZZ_CHECK(whole.type[i] == pieces.type[i]);
		if (whole.type[i] == MSG_CHUNK) {
			/* a chunk whose checksum held is the same bytes however it arrived */
			FUZZ_CHECK(whole.clen[i] == pieces.clen[i] && whole.chash[i] == pieces.chash[i]);
			continue;
		}
		FUZZ_CHECK(json_equal(whole.payload[i], pieces.payload[i]));
		/* what was read is written back the same (when written compactly it still fits:
		 * "1e2" grows to "100.0", so a payload near the limit may not) */
		if (size > MSG_MAX_PAYLOAD / 4)
			continue;
		buf = msg_encode(whole.type[i], whole.payload[i], &len, err, sizeof err);
		FUZZ_CHECK(buf != NULL);
		msg_reader_init(&rd);
		FUZZ_CHECK(msg_reader_push(&rd, buf, len) == 0);
		FUZZ_CHECK(msg_reader_next(&rd, &type, &j, err, sizeof err) == 1);
		FUZZ_CHECK(type == whole.type[i] && json_equal(j, whole.payload[i]) && rd.len == 0);
		json_decref(j);
		msg_reader_free(&rd);
		free(buf);
	}
	fuzz_msg_free(&whole);
	fuzz_msg_free(&pieces);
	return 0;
}
