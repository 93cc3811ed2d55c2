#ifndef COMMON_MSG_H
#define COMMON_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * The pool's pipe protocol. Each message is an 8-byte header then a JSON payload:
 *   byte 0 magic 'V', byte 1 version, byte 2 type, byte 3 zero, bytes 4-7 length (big endian).
 * Readers never trust a length they have not bounded (MSG_MAX_PAYLOAD).
 */
#define MSG_MAGIC        'V'
#define MSG_VERSION      1
#define MSG_HEADER_SIZE  8
#define MSG_MAX_PAYLOAD  (1024 * 1024)
/* File bytes travel in chunks this big at most (a remote worker's segment and result): a
 * reader holds one chunk, never a whole file, whatever the file's size. */
#define MSG_CHUNK_DATA   (256 * 1024)
#define MSG_CHUNK_CRC    4

enum msg_type {
	MSG_HELLO = 1,    /* worker -> master: {"version", "pid"} */
	MSG_TASK,         /* master -> worker: one segment to render */
	MSG_PROGRESS,     /* worker -> master: {"task", "frames"} */
	MSG_DONE,         /* worker -> master: the task's result */
	MSG_FAIL,         /* worker -> master: {"task", "error", "retry"} */
	MSG_QUIT,         /* master -> worker: finish and exit */
	MSG_FILE,         /* either way: {"task", "role": "input"|"output", "size"}, then MSG_CHUNKs */
	MSG_CHUNK,        /* binary, not JSON: CRC-32 of the bytes (4 bytes, big endian), the bytes */
	MSG_TYPE_MAX
};

const char *msg_type_name(int type);

/* Encodes one message into a malloc'd buffer (header + payload); NULL on error. */
char *msg_encode(int type, json_t *payload, size_t *len, char *err, size_t errlen);
/* Blocking write of one message (the worker side and tests). */
int msg_write(int fd, int type, json_t *payload, char *err, size_t errlen);

/* Encodes a chunk of len <= MSG_CHUNK_DATA bytes into buf (room for MSG_HEADER_SIZE +
 * MSG_CHUNK_CRC + len bytes); returns the encoded size. */
size_t msg_chunk_encode(char *buf, const void *data, size_t len);
/* Blocking write of one chunk. */
int msg_write_chunk(int fd, const void *data, size_t len, char *err, size_t errlen);

/* Accumulates partial reads until whole messages are there. */
struct msg_reader {
	char *buf;
	size_t len, cap;
	size_t spent;      /* bytes of the last message handed out as a chunk, dropped next call */
};

void msg_reader_init(struct msg_reader *rd);
void msg_reader_free(struct msg_reader *rd);
/* One read(2) into the buffer: bytes read, 0 at EOF, -1 on error (errno set; EAGAIN too). */
ssize_t msg_reader_fill(struct msg_reader *rd, int fd);
/* Appends bytes (for tests and fuzzers). */
int msg_reader_push(struct msg_reader *rd, const void *data, size_t len);
/* 1 with *type and *payload (a new reference) when a whole message is buffered, 0 when more
 * bytes are needed, -1 on a protocol error (bad magic, version, type, length or JSON). */
int msg_reader_next(struct msg_reader *rd, int *type, json_t **payload, char *err, size_t errlen);
/* As msg_reader_next, but also takes chunks: for MSG_CHUNK, payload is NULL and data and len
 * point into the reader's buffer (valid until the next call on the reader); the CRC is
 * checked here, a mismatch is a protocol error. */
int msg_reader_next_any(struct msg_reader *rd, int *type, json_t **payload, const char **data,
    size_t *len, char *err, size_t errlen);
/* Blocking: reads until one message. 0 ok, 1 clean EOF between messages, -1 error. */
int msg_read(int fd, struct msg_reader *rd, int *type, json_t **payload, char *err, size_t errlen);
/* Blocking, chunks included (see msg_reader_next_any). */
int msg_read_any(int fd, struct msg_reader *rd, int *type, json_t **payload, const char **data,
    size_t *len, char *err, size_t errlen);

#endif
