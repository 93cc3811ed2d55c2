#include "worker/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/msg.h"
#include "common/util.h"

static char transfer_tmp[4096];

const char *
transfer_dir(char *err, size_t errlen)
{
	const char *base = getenv("TMPDIR");

	if (transfer_tmp[0] != '\0')
		return transfer_tmp;
	snprintf(transfer_tmp, sizeof transfer_tmp, "%s/vr-worker-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(transfer_tmp) == NULL) {
		util_err(err, errlen, "cannot create a scratch directory in %s: %s",
		    base != NULL && base[0] != '\0' ? base : "/tmp", strerror(errno));
		transfer_tmp[0] = '\0';
		return NULL;
	}
	return transfer_tmp;
}

void
transfer_cleanup(void)
{
	if (transfer_tmp[0] != '\0')
		util_rm_rf(transfer_tmp);
	transfer_tmp[0] = '\0';
}

int
transfer_recv(int in_fd, struct msg_reader *rd, int task, const char *path, char *err, size_t errlen)
{
	json_t *j = NULL;
	const char *data;
	json_int_t size = -1, got = 0;
	size_t len;
	int type, fd = -1, rc = -1;

	if (msg_read_any(in_fd, rd, &type, &j, &data, &len, err, errlen) != 0)
		goto done;
	if (type != MSG_FILE || json_unpack(j, "{s:I}", "size", &size) == -1 || size < 0 ||
	    json_integer_value(json_object_get(j, "task")) != task) {
		util_err(err, errlen, "expected the segment of task %d, got a %s message", task, msg_type_name(type));
		goto done;
	}
	json_decref(j);
	j = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		util_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto done;
	}
	while (got < size) {
		if (msg_read_any(in_fd, rd, &type, &j, &data, &len, err, errlen) != 0)
			goto done;
		if (type != MSG_CHUNK) {
			util_err(err, errlen, "segment cut short after %lld of %lld bytes", (long long)got, (long long)size);
			goto done;
		}
		if (got + (json_int_t)len > size) {
			util_err(err, errlen, "segment longer than the %lld bytes announced", (long long)size);
			goto done;
		}
		if (util_write_full(fd, data, len, NULL) == -1) {
			util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
			goto done;
		}
		got += (json_int_t)len;
	}
	rc = 0;
done:
	json_decref(j);
	if (fd != -1 && close(fd) == -1 && rc == 0)
		rc = util_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	if (rc == -1 && fd != -1)
		unlink(path);
	return rc;
}

int
transfer_send(int out_fd, int task, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	json_t *j = NULL;
	ssize_t r;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		util_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto done;
	}
	buf = malloc(MSG_CHUNK_DATA);
	j = json_pack("{s:i, s:s, s:I}", "task", task, "role", "output", "size", (json_int_t)st.st_size);
	if (buf == NULL || j == NULL) {
		util_err(err, errlen, "out of memory");
		goto done;
	}
	if (msg_write(out_fd, MSG_FILE, j, err, errlen) == -1)
		goto done;
	while ((r = util_read_full(fd, buf, MSG_CHUNK_DATA, NULL)) > 0)
		if (msg_write_chunk(out_fd, buf, (size_t)r, err, errlen) == -1)
			goto done;
	if (r < 0) {
		util_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	free(buf);
	json_decref(j);
	return rc;
}
