#include "common/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "common/util.h"

const char *
msg_type_name(int type)
{
	static const char *names[] = { "?", "hello", "task", "progress", "done", "fail", "quit",
	    "file", "chunk" };

	if (type <= 0 || type >= MSG_TYPE_MAX)
		return "?";
	return names[type];
}

static void
msg_header(char *buf, int type, size_t n)
{
	buf[0] = MSG_MAGIC;
	buf[1] = MSG_VERSION;
	buf[2] = (char)type;
	buf[3] = 0;
	buf[4] = (char)(n >> 24);
	buf[5] = (char)(n >> 16);
	buf[6] = (char)(n >> 8);
	buf[7] = (char)n;
}

char *
msg_encode(int type, json_t *payload, size_t *len, char *err, size_t errlen)
{
	char *json = NULL, *buf = NULL;
	size_t n;

	json = json_dumps(payload, JSON_COMPACT);
	if (json == NULL) {
		util_err(err, errlen, "cannot encode %s message", msg_type_name(type));
		goto done;
	}
	n = strlen(json);
	if (n > MSG_MAX_PAYLOAD) {
		util_err(err, errlen, "%s message too large (%zu bytes)", msg_type_name(type), n);
		goto done;
	}
	buf = malloc(MSG_HEADER_SIZE + n);
	if (buf == NULL) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	msg_header(buf, type, n);
	memcpy(buf + MSG_HEADER_SIZE, json, n);
	*len = MSG_HEADER_SIZE + n;
done:
	free(json);
	return buf;
}

int
msg_write(int fd, int type, json_t *payload, char *err, size_t errlen)
{
	size_t len;
	char *buf;
	int rc;

	buf = msg_encode(type, payload, &len, err, errlen);
	if (buf == NULL)
		return -1;
	rc = util_write_full(fd, buf, len, NULL);
	if (rc == -1)
		util_err(err, errlen, "cannot write %s message: %s", msg_type_name(type), strerror(errno));
	free(buf);
	return rc;
}

/* zlib's CRC-32: the checksum gzip and PNG use, table-driven and fast; ours would be slower. */
static uint32_t
msg_crc(const void *data, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
}

size_t
msg_chunk_encode(char *buf, const void *data, size_t len)
{
	uint32_t c = msg_crc(data, len);
	unsigned char *h = (unsigned char *)buf + MSG_HEADER_SIZE;

	msg_header(buf, MSG_CHUNK, MSG_CHUNK_CRC + len);
	h[0] = (unsigned char)(c >> 24);
	h[1] = (unsigned char)(c >> 16);
	h[2] = (unsigned char)(c >> 8);
	h[3] = (unsigned char)c;
	memmove(buf + MSG_HEADER_SIZE + MSG_CHUNK_CRC, data, len);
	return MSG_HEADER_SIZE + MSG_CHUNK_CRC + len;
}

int
msg_write_chunk(int fd, const void *data, size_t len, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = -1;

	if (len > MSG_CHUNK_DATA)
		return util_err(err, errlen, "chunk of %zu bytes is over the %d limit", len, MSG_CHUNK_DATA);
	buf = malloc(MSG_HEADER_SIZE + MSG_CHUNK_CRC + len);
	if (buf == NULL)
		return util_err(err, errlen, "out of memory");
	n = msg_chunk_encode(buf, data, len);
	rc = util_write_full(fd, buf, n, NULL);
	if (rc == -1)
		util_err(err, errlen, "cannot write a chunk: %s", strerror(errno));
	free(buf);
	return rc;
}

void
msg_reader_init(struct msg_reader *rd)
{
	memset(rd, 0, sizeof *rd);
}

void
msg_reader_free(struct msg_reader *rd)
{
	free(rd->buf);
	memset(rd, 0, sizeof *rd);
}

static int
msg_reader_reserve(struct msg_reader *rd, size_t more)
{
	size_t cap = rd->cap ? rd->cap : 4096;
	char *p;

	if (rd->len + more <= rd->cap)
		return 0;
	while (cap < rd->len + more)
		cap *= 2;
	p = realloc(rd->buf, cap);
	if (p == NULL)
		return -1;
	rd->buf = p;
	rd->cap = cap;
	return 0;
}

/* Drops the chunk handed out last time: its bytes were the caller's until now. */
static void
msg_reader_drop_spent(struct msg_reader *rd)
{
	if (rd->spent == 0)
		return;
	rd->len -= rd->spent;
	memmove(rd->buf, rd->buf + rd->spent, rd->len);
	rd->spent = 0;
}

ssize_t
msg_reader_fill(struct msg_reader *rd, int fd)
{
	ssize_t r;

	msg_reader_drop_spent(rd);
	if (msg_reader_reserve(rd, 65536) == -1) {
		errno = ENOMEM;
		return -1;
	}
	do
		r = read(fd, rd->buf + rd->len, rd->cap - rd->len);
	while (r == -1 && errno == EINTR);
	if (r > 0)
		rd->len += (size_t)r;
	return r;
}

int
msg_reader_push(struct msg_reader *rd, const void *data, size_t len)
{
	msg_reader_drop_spent(rd);
	/* nothing to add: an empty reader has no buffer yet, and NULL + 0 is undefined */
	if (len == 0)
		return 0;
	if (msg_reader_reserve(rd, len) == -1)
		return -1;
	memcpy(rd->buf + rd->len, data, len);
	rd->len += len;
	return 0;
}

int
msg_reader_next_any(struct msg_reader *rd, int *type, json_t **payload, const char **data,
    size_t *len, char *err, size_t errlen)
{
	const unsigned char *h;
	json_error_t jerr;
	uint32_t n, crc;
	json_t *j;

	msg_reader_drop_spent(rd);
	h = (const unsigned char *)rd->buf;
	if (rd->len < MSG_HEADER_SIZE)
		return 0;
	if (h[0] != MSG_MAGIC || h[3] != 0)
		return util_err(err, errlen, "bad message header (not our protocol)");
	if (h[1] != MSG_VERSION)
		return util_err(err, errlen, "protocol version %d, expected %d", h[1], MSG_VERSION);
	if (h[2] == 0 || h[2] >= MSG_TYPE_MAX)
		return util_err(err, errlen, "unknown message type %d", h[2]);
	n = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	if (n > MSG_MAX_PAYLOAD)
		return util_err(err, errlen, "message of %u bytes exceeds the %d limit", n, MSG_MAX_PAYLOAD);
	if (h[2] == MSG_CHUNK && (n < MSG_CHUNK_CRC || n > MSG_CHUNK_CRC + MSG_CHUNK_DATA))
		return util_err(err, errlen, "chunk message of %u bytes", n);
	if (rd->len < MSG_HEADER_SIZE + (size_t)n)
		return 0;
	if (h[2] == MSG_CHUNK) {
		if (data == NULL)
			return util_err(err, errlen, "unexpected chunk message");
		h += MSG_HEADER_SIZE;
		crc = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
		if (msg_crc(h + MSG_CHUNK_CRC, n - MSG_CHUNK_CRC) != crc)
			return util_err(err, errlen, "chunk checksum mismatch (%u bytes)", n - MSG_CHUNK_CRC);
		*type = MSG_CHUNK;
		*payload = NULL;
		*data = (const char *)h + MSG_CHUNK_CRC;
		*len = n - MSG_CHUNK_CRC;
		rd->spent = MSG_HEADER_SIZE + n;
		return 1;
	}
	j = json_loadb(rd->buf + MSG_HEADER_SIZE, n, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return util_err(err, errlen, "bad %s message payload: %s", msg_type_name(h[2]),
		    j == NULL ? jerr.text : "not an object");
	}
	*type = h[2];
	*payload = j;
	rd->len -= MSG_HEADER_SIZE + n;
	memmove(rd->buf, rd->buf + MSG_HEADER_SIZE + n, rd->len);
	return 1;
}

int
msg_reader_next(struct msg_reader *rd, int *type, json_t **payload, char *err, size_t errlen)
{
	return msg_reader_next_any(rd, type, payload, NULL, NULL, err, errlen);
}

int
msg_read_any(int fd, struct msg_reader *rd, int *type, json_t **payload, const char **data,
    size_t *len, char *err, size_t errlen)
{
	ssize_t r;
	int rc;

	for (;;) {
		rc = msg_reader_next_any(rd, type, payload, data, len, err, errlen);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
		r = msg_reader_fill(rd, fd);
		if (r == 0) {
			if (rd->len == 0)
				return 1;
			return util_err(err, errlen, "pipe closed in the middle of a message");
		}
		if (r < 0)
			return util_err(err, errlen, "cannot read message: %s", strerror(errno));
	}
}

int
msg_read(int fd, struct msg_reader *rd, int *type, json_t **payload, char *err, size_t errlen)
{
	return msg_read_any(fd, rd, type, payload, NULL, NULL, err, errlen);
}
