#include "worker/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "worker/render.h"
#include "worker/still.h"
#include "worker/transfer.h"

static char worker_name[128];

void
worker_set_name(const char *name)
{
	snprintf(worker_name, sizeof worker_name, "%s", name);
}

struct worker_progress {
	int out_fd;
	int task;
};

static void
worker_stop_cb(int sig)
{
	render_stop = 1;
}

static void
worker_progress_cb(void *arg, int64_t frames)
{
	struct worker_progress *wp = arg;
	json_t *j = json_pack("{s:i, s:I}", "task", wp->task, "frames", (json_int_t)frames);

	/* the master is gone (a remote worker's connection dropped): stop rendering for nobody */
	if (msg_write(wp->out_fd, MSG_PROGRESS, j, NULL, 0) == -1)
		render_stop = 1;
	json_decref(j);
}

/* Reads a task; strings stay owned by `j`. */
static int
worker_parse_task(json_t *j, struct render_task *t, char *err, size_t errlen)
{
	json_error_t jerr;
	json_int_t skip = 0, count = 0;

	memset(t, 0, sizeof *t);
	t->preset = "veryfast";
	t->matrix = "bt601";
	t->crf = 20;
	t->cfr = 1;
	if (json_unpack_ex(j, &jerr, 0,
	    "{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s?i, s?b, s?b, s?s, s?i, s?s, s?I, s?I}",
	    "task", &t->task, "segment", &t->segment, "input", &t->input, "output", &t->output,
	    "filter", &t->filter, "fps", &t->fps, "width", &t->width, "height", &t->height,
	    "rotation", &t->rotation, "cfr", &t->cfr, "timed", &t->timed, "preset", &t->preset, "crf", &t->crf,
	    "matrix", &t->matrix, "skip", &skip, "count", &count) == -1) {
		snprintf(err, errlen, "bad task: %s", jerr.text);
		return -1;
	}
	t->codec = "h264";
	t->pix_fmt = "yuv420p";
	t->color_range = "tv";
	t->color_primaries = t->color_trc = t->colorspace = "";
	if (json_unpack_ex(j, &jerr, 0, "{s?s, s?s, s?i, s?s, s?s, s?s, s?s}", "codec", &t->codec,
	    "pix_fmt", &t->pix_fmt, "bitrate", &t->bitrate, "color_range", &t->color_range,
	    "color_primaries", &t->color_primaries, "color_trc", &t->color_trc,
	    "colorspace", &t->colorspace) == -1) {
		snprintf(err, errlen, "bad task: %s", jerr.text);
		return -1;
	}
	t->skip = skip;
	t->count = count;
	return 0;
}

/* The files of a piece ("inputs", in order; a task without it has one, "input"), sized to
 * the task: a piece may be thousands of files. worker_inputs_free unlinks what we wrote. */
struct worker_inputs {
	const char **path;
	char **fetched;   /* a remote worker's copies (NULL until written), unlinked after */
	int n;
	json_t *durations;  /* each file's span but the last's (a variable rate's), or NULL */
	char list[4200];  /* the concat list when n > 1, unlinked after */
};

static int
worker_parse_inputs(json_t *task, const char *input, struct worker_inputs *in, char *err, size_t errlen)
{
	json_t *a = json_object_get(task, "inputs"), *v;
	size_t i, n = json_is_array(a) ? json_array_size(a) : 0;

	in->n = 0;
	if (n > WORKER_MAX_INPUTS)
		return util_err(err, errlen, "bad task: more than %d inputs", WORKER_MAX_INPUTS);
	in->path = calloc(n > 0 ? n : 1, sizeof *in->path);
	in->fetched = calloc(n > 0 ? n : 1, sizeof *in->fetched);
	if (in->path == NULL || in->fetched == NULL)
		return util_err(err, errlen, "out of memory");
	if (n == 0) {
		in->path[in->n++] = input;
		return 0;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return util_err(err, errlen, "bad task: inputs must be file names");
		in->path[in->n++] = json_string_value(v);
	}
	in->durations = json_object_get(task, "durations");
	if (in->durations == NULL)
		return 0;
	if (!json_is_array(in->durations) || json_array_size(in->durations) >= n)
		return util_err(err, errlen, "bad task: durations must be one per input but the last");
	json_array_foreach(in->durations, i, v)
		if (!json_is_number(v) || !(json_number_value(v) > 0))
			return util_err(err, errlen, "bad task: durations must be positive seconds");
	return 0;
}

static void
worker_inputs_free(struct worker_inputs *in)
{
	int k;

	for (k = 0; in->fetched != NULL && k < in->n; k++) {
		if (in->fetched[k] != NULL)
			unlink(in->fetched[k]);
		free(in->fetched[k]);
	}
	if (in->list[0] != '\0')
		unlink(in->list);
	free(in->fetched);
	free(in->path);
	free(in);
}

/* A remote task: the piece's files come through the pipe into our scratch directory, one after
 * the other, and the paths the master gave (its own disk) are replaced by ours. */
static int
worker_fetch_input(int in_fd, struct msg_reader *rd, struct render_task *t, struct worker_inputs *in,
    char *out, size_t n, char *err, size_t errlen)
{
	const char *dir = transfer_dir(err, errlen);
	const char *ext;
	int k;

	if (dir == NULL)
		return -1;
	snprintf(out, n, "%s/out_%d.mp4", dir, t->segment);
	t->output = out;
	for (k = 0; k < in->n; k++) {
		/* keep a plain extension only: it is a hint for ffmpeg, never a path component */
		ext = strrchr(in->path[k], '.');
		if (ext == NULL || strlen(ext) > 8 || strchr(ext, '/') != NULL)
			ext = "";
		if (asprintf(&in->fetched[k], "%s/in_%d_%d%s", dir, t->segment, k, ext) == -1) {
			in->fetched[k] = NULL;
			return util_err(err, errlen, "out of memory");
		}
		if (transfer_recv(in_fd, rd, t->task, in->fetched[k], err, errlen) == -1)
			return -1;
		in->path[k] = in->fetched[k];
	}
	t->input = in->path[0];
	return 0;
}

/* Several files are decoded as one stream through ffmpeg's concat demuxer: a list beside the
 * output, each name quoted ('\'' for a quote, the list format's only escape). */
static int
worker_concat_list(struct render_task *t, struct worker_inputs *in, char *err, size_t errlen)
{
	FILE *f;
	const char *c, *slash;
	int k;

	if (in->n < 2)
		return 0;
	/* beside the output, named like a fetched input (in_N): one per segment */
	slash = strrchr(t->output, '/');
	snprintf(in->list, sizeof in->list, "%.*sin_%d.ffconcat", slash ? (int)(slash - t->output + 1) : 0,
	    t->output, t->segment);
	f = fopen(in->list, "we");
	if (f == NULL) {
		util_err(err, errlen, "cannot write %s: %s", in->list, strerror(errno));
		in->list[0] = '\0';
		return -1;
	}
	fputs("ffconcat version 1.0\n", f);
	for (k = 0; k < in->n; k++) {
		fputs("file '", f);
		for (c = in->path[k]; *c != '\0'; c++)
			fputs(*c == '\'' ? "'\\''" : (char[2]){ *c, 0 }, f);
		fputs("'\n", f);
		/* the next file starts this long after this one's first frame */
		if (in->durations != NULL && (size_t)k < json_array_size(in->durations))
			fprintf(f, "duration %.6f\n", json_number_value(json_array_get(in->durations, (size_t)k)));
	}
	if (fclose(f) != 0)
		return util_err(err, errlen, "cannot write %s: %s", in->list, strerror(errno));
	t->input = in->list;
	t->concat = 1;
	return 0;
}

/* A preview's still: no progress (a fraction of a second), no transfer (local workers only). */
static int
worker_run_still(int out_fd, json_t *task)
{
	struct still_task t;
	char err[1024];
	json_t *reply;
	int rc;

	if (still_parse(task, &t, err, sizeof err) == -1 || still_render(&t, err, sizeof err) == -1) {
		if (!render_stop)
			log_warn("%s", err);
		reply = json_pack("{s:I, s:s, s:b}", "task", json_integer_value(json_object_get(task, "task")),
		    "error", err, "retry", render_stop);
		rc = msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
	} else {
		reply = json_pack("{s:i, s:s}", "task", t.task, "output", t.output);
		rc = msg_write(out_fd, MSG_DONE, reply, NULL, 0);
	}
	json_decref(reply);
	return rc;
}

static int
worker_run_task(int in_fd, int out_fd, struct msg_reader *rd, json_t *task)
{
	struct render_task t;
	struct render_result res;
	struct worker_progress wp;
	struct worker_inputs *in = NULL;
	char err[1024], out[4200];
	json_t *reply;
	int rc, remote = json_is_true(json_object_get(task, "transfer"));

	out[0] = '\0';
	memset(&res, 0, sizeof res);
	in = calloc(1, sizeof *in);
	if (in == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (worker_parse_task(task, &t, err, sizeof err) == -1 ||
	    worker_parse_inputs(task, t.input, in, err, sizeof err) == -1) {
		reply = json_pack("{s:i, s:s, s:b}", "task", -1, "error", err, "retry", 0);
		rc = msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
		json_decref(reply);
		goto done;
	}
	wp.out_fd = out_fd;
	wp.task = t.task;
	if (remote && worker_fetch_input(in_fd, rd, &t, in, out, sizeof out, err, sizeof err) == -1) {
		/* the stream is out of step now: say why, then leave (the master re-queues) */
		log_error("segment %d: %s", t.segment, err);
		reply = json_pack("{s:i, s:i, s:s, s:b}", "task", t.task, "segment", t.segment,
		    "error", err, "retry", 1);
		msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
		json_decref(reply);
		rc = -1;
		goto done;
	}
	log_debug("segment %d: %s -> %s (%s)", t.segment, t.input, t.output, t.filter);
	if (worker_concat_list(&t, in, err, sizeof err) == -1 ||
	    render_segment(&t, worker_progress_cb, &wp, &res, err, sizeof err) == -1 ||
	    (remote && res.frames > 0 && transfer_send(out_fd, t.task, t.output, err, sizeof err) == -1)) {
		/* stopped by the master on purpose (Ctrl-C, a failed map): not ours to report */
		if (!render_stop)
			log_warn("%s", err);
		reply = json_pack("{s:i, s:i, s:s, s:b}", "task", t.task, "segment", t.segment,
		    "error", err, "retry", res.retry);
		rc = msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
	} else {
		reply = json_pack("{s:i, s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:I, s:I}", "task", t.task,
		    "segment", t.segment, "frames", (json_int_t)res.frames,
		    "decoded", (json_int_t)res.decoded, "wall", res.wall,
		    "filter_time", res.filter_time, "decode_cpu", res.decode_cpu,
		    "encode_cpu", res.encode_cpu, "worker_cpu", res.worker_cpu,
		    "max_rss_kb", (json_int_t)res.max_rss_kb, "copied", (json_int_t)res.copied);
		rc = msg_write(out_fd, MSG_DONE, reply, NULL, 0);
	}
	json_decref(reply);
done:
	worker_inputs_free(in);
	if (out[0] != '\0')
		unlink(out);
	return rc;
}

int
worker_main(int in_fd, int out_fd)
{
	struct sigaction sa;
	struct msg_reader rd;
	char err[256];
	const char *kind;
	json_t *j;
	int type, rc, code = 0;

	/* No SA_RESTART: SIGTERM interrupts a blocked read so the render can stop its children. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_stop_cb;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* over the file size limit a write fails (EFBIG) instead of killing us; the ffmpeg
	 * children inherit this and report "File too large" */
	signal(SIGXFSZ, SIG_IGN);

	msg_reader_init(&rd);
	if (worker_name[0] == '\0' && gethostname(worker_name, sizeof worker_name - 1) == -1)
		snprintf(worker_name, sizeof worker_name, "localhost");
	j = json_pack("{s:i, s:i, s:s}", "version", WORKER_PROTOCOL, "pid", (int)getpid(), "name", worker_name);
	rc = msg_write(out_fd, MSG_HELLO, j, err, sizeof err);
	json_decref(j);
	if (rc == -1) {
		log_error("%s", err);
		code = 1;
		goto done;
	}
	while (!render_stop) {
		rc = msg_read(in_fd, &rd, &type, &j, err, sizeof err);
		if (rc == 1)
			break;  /* the master closed our pipe: nothing more to do */
		if (rc == -1) {
			if (render_stop)
				break;
			log_error("%s", err);
			code = 1;
			break;
		}
		if (type == MSG_QUIT) {
			json_decref(j);
			break;
		}
		kind = json_string_value(json_object_get(j, "kind"));
		if (type == MSG_TASK && (kind != NULL && strcmp(kind, "preview") == 0 ?
		    worker_run_still(out_fd, j) : worker_run_task(in_fd, out_fd, &rd, j)) == -1) {
			json_decref(j);
			code = 1;
			break;
		}
		json_decref(j);
	}
done:
	transfer_cleanup();
	msg_reader_free(&rd);
	return code;
}
