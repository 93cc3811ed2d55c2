#include "master/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"

/* ---- the launcher's argv ---- */

void
remote_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Appends one finished word; the word buffer is handed over. */
static int
remote_argv_push(char ***argv, size_t *n, char *word)
{
	char **v = realloc(*argv, (*n + 2) * sizeof *v);

	if (v == NULL)
		return -1;
	v[(*n)++] = word;
	v[*n] = NULL;
	*argv = v;
	return 0;
}

char **
remote_argv(const char *cmd, char *err, size_t errlen)
{
	size_t len = strlen(cmd), n = 0, wl = 0;
	char **argv = NULL, *word = NULL, quote = 0;
	const char *p;
	int in_word = 0;

	for (p = cmd; ; p++) {
		char c = *p;

		if (c == '\0' || (!quote && (c == ' ' || c == '\t' || c == '\n'))) {
			if (c == '\0' && quote) {
				util_err(err, errlen, "unterminated %c quote in '%s'", quote, cmd);
				goto fail;
			}
			if (in_word) {
				word[wl] = '\0';
				if (remote_argv_push(&argv, &n, word) == -1)
					goto oom;
				word = NULL;
				in_word = 0;
			}
			if (c == '\0')
				break;
			continue;
		}
		if (!in_word) {
			/* a word is never longer than the command */
			if ((word = malloc(len + 1)) == NULL)
				goto oom;
			wl = 0;
			in_word = 1;
		}
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				word[wl++] = c;
		} else if (c == '\\' && p[1] != '\0' && (!quote || strchr("\"\\$`", p[1]) != NULL)) {
			word[wl++] = *++p;
		} else if (quote == '"') {
			if (c == '"')
				quote = 0;
			else
				word[wl++] = c;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else {
			word[wl++] = c;
		}
	}
	if (n == 0) {
		util_err(err, errlen, "empty worker command");
		goto fail;
	}
	return argv;
oom:
	util_err(err, errlen, "out of memory");
fail:
	free(word);
	remote_argv_free(argv);
	return NULL;
}

int
remote_check(char *cmd, char **list, int *n, int max, char *err, size_t errlen)
{
	char **argv;

	if (*n >= max)
		return util_err(err, errlen, "at most %d --remote workers", max);
	argv = remote_argv(cmd, err, errlen);
	if (argv == NULL)
		return -1;
	remote_argv_free(argv);
	list[(*n)++] = cmd;
	return 0;
}

/* ---- sending a segment ---- */

void
remote_xfer_init(struct remote_xfer *x)
{
	memset(x, 0, sizeof *x);
	x->to_fd = x->in_fd = x->out_fd = -1;
}

static void
remote_send_stop(struct remote_xfer *x)
{
	if (x->ev_write != NULL)
		event_free(x->ev_write);
	x->ev_write = NULL;
	if (x->in_fd != -1)
		close(x->in_fd);
	x->in_fd = -1;
	free(x->buf);
	x->buf = NULL;
	x->buf_len = x->buf_pos = 0;
	while (x->npaths > 0)
		free(x->paths[--x->npaths]);
	free(x->paths);
	x->paths = NULL;
	x->ipath = 0;
}

/* Opens the file paths[ipath] and puts its announcement (MSG_FILE: task, size) in the buffer. */
static int
remote_send_open(struct remote_xfer *x, char *err, size_t errlen)
{
	const char *path = x->paths[x->ipath];
	struct stat st;
	char *hdr = NULL;
	size_t hlen;
	json_t *j = NULL;
	int rc = -1;

	if (x->in_fd != -1)
		close(x->in_fd);
	x->in_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (x->in_fd == -1 || fstat(x->in_fd, &st) == -1) {
		util_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto done;
	}
	x->in_size = st.st_size;
	x->in_off = 0;
	j = json_pack("{s:i, s:s, s:I}", "task", x->task, "role", "input", "size", (json_int_t)st.st_size);
	if (j == NULL || (hdr = msg_encode(MSG_FILE, j, &hlen, err, errlen)) == NULL) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	memcpy(x->buf, hdr, hlen);
	x->buf_len = hlen;
	x->buf_pos = 0;
	rc = 0;
done:
	free(hdr);
	json_decref(j);
	return rc;
}

/* Reads the next chunk into the message buffer, or the next file's announcement once a file
 * is sent: 1 if there is one, 0 at the end of the last file. */
static int
remote_send_next(struct remote_xfer *x)
{
	char *data = x->buf + MSG_HEADER_SIZE + MSG_CHUNK_CRC, err[256];
	int64_t left = x->in_size - x->in_off;
	size_t want = left > MSG_CHUNK_DATA ? MSG_CHUNK_DATA : (size_t)left;
	ssize_t r;

	if (want == 0 && x->ipath + 1 < x->npaths) {
		x->ipath++;
		if (remote_send_open(x, err, sizeof err) == -1) {
			log_error("cannot send a piece's next file: %s", err);
			return -1;
		}
		return 1;
	}
	if (want == 0)
		return 0;
	r = util_read_full(x->in_fd, data, want, NULL);
	if (r != (ssize_t)want) {
		/* the segment is ours and complete: a short read means it changed under us */
		log_error("cannot read the segment to send: %s", r < 0 ? strerror(errno) : "file shrank");
		return -1;
	}
	x->in_off += (int64_t)want;
	x->buf_len = msg_chunk_encode(x->buf, data, want);
	x->buf_pos = 0;
	return 1;
}

static void
remote_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct remote_xfer *x = arg;
	ssize_t w;
	int rc;

	for (;;) {
		while (x->buf_pos < x->buf_len) {
			w = write(x->to_fd, x->buf + x->buf_pos, x->buf_len - x->buf_pos);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return;  /* the pipe is full: the link decides the pace */
			if (w < 0) {
				/* the launcher is gone; its exit re-queues the task */
				log_debug("sending a segment: %s", strerror(errno));
				remote_send_stop(x);
				return;
			}
			x->buf_pos += (size_t)w;
		}
		if (x->sent != NULL)
			x->sent(x->arg);
		rc = remote_send_next(x);
		if (rc <= 0) {
			remote_send_stop(x);
			return;
		}
	}
}

int
remote_send(struct remote_xfer *x, struct event_base *base, int to_fd, int task,
    const char *const *paths, int npaths, remote_sent_cb sent, void *arg, char *err, size_t errlen)
{
	int rc = -1;

	remote_send_stop(x);
	x->to_fd = to_fd;
	x->sent = sent;
	x->arg = arg;
	x->task = task;
	x->buf = malloc(MSG_HEADER_SIZE + MSG_CHUNK_CRC + MSG_CHUNK_DATA);
	x->paths = calloc(npaths > 0 ? (size_t)npaths : 1, sizeof *x->paths);
	if (x->buf == NULL || x->paths == NULL) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	for (; x->npaths < npaths; x->npaths++)
		if ((x->paths[x->npaths] = strdup(paths[x->npaths])) == NULL) {
			util_err(err, errlen, "out of memory");
			goto done;
		}
	/* each file's announcement goes first, through the same buffer as its chunks */
	if (npaths < 1 || remote_send_open(x, err, errlen) == -1) {
		if (npaths < 1)
			util_err(err, errlen, "no file to send");
		goto done;
	}
	x->ev_write = event_new(base, to_fd, EV_WRITE | EV_PERSIST, remote_write_cb, x);
	if (x->ev_write == NULL || event_add(x->ev_write, NULL) == -1) {
		util_err(err, errlen, "cannot watch the worker's pipe");
		goto done;
	}
	rc = 0;
done:
	if (rc == -1)
		remote_send_stop(x);
	return rc;
}

/* ---- receiving a result ---- */

static void
remote_recv_drop(struct remote_xfer *x)
{
	if (x->out_fd != -1) {
		close(x->out_fd);
		unlink(x->part_path);
	}
	x->out_fd = -1;
	x->out_size = x->out_got = 0;
}

int
remote_recv_begin(struct remote_xfer *x, int64_t size, const char *output, char *err, size_t errlen)
{
	remote_recv_drop(x);
	if (size < 0)
		return util_err(err, errlen, "result of negative size");
	snprintf(x->out_path, sizeof x->out_path, "%s", output);
	snprintf(x->part_path, sizeof x->part_path, "%s.part", output);
	x->out_fd = open(x->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (x->out_fd == -1)
		return util_err(err, errlen, "cannot create %s: %s", x->part_path, strerror(errno));
	x->out_size = size;
	x->out_got = 0;
	return 0;
}

int
remote_recv_chunk(struct remote_xfer *x, const char *data, size_t len, char *err, size_t errlen)
{
	if (x->out_fd == -1)
		return util_err(err, errlen, "a chunk without a file announced");
	if (x->out_got + (int64_t)len > x->out_size)
		return util_err(err, errlen, "result longer than the %lld bytes announced", (long long)x->out_size);
	if (util_write_full(x->out_fd, data, len, NULL) == -1) {
		util_err(err, errlen, "cannot write %s: %s", x->part_path, strerror(errno));
		remote_recv_drop(x);
		return -1;
	}
	x->out_got += (int64_t)len;
	return 0;
}

int
remote_recv_finish(struct remote_xfer *x, char *err, size_t errlen)
{
	int rc = -1;

	if (x->out_fd == -1)
		return util_err(err, errlen, "the worker sent no result file");
	if (x->out_got != x->out_size) {
		util_err(err, errlen, "result cut short: %lld of %lld bytes", (long long)x->out_got,
		    (long long)x->out_size);
		goto done;
	}
	if (close(x->out_fd) == -1) {
		x->out_fd = -1;
		util_err(err, errlen, "cannot write %s: %s", x->part_path, strerror(errno));
		unlink(x->part_path);
		goto done;
	}
	x->out_fd = -1;
	if (rename(x->part_path, x->out_path) == -1) {
		util_err(err, errlen, "cannot rename %s: %s", x->part_path, strerror(errno));
		unlink(x->part_path);
		goto done;
	}
	rc = 0;
done:
	remote_recv_drop(x);
	return rc;
}

void
remote_xfer_reset(struct remote_xfer *x)
{
	remote_send_stop(x);
	remote_recv_drop(x);
}
