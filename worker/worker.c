#include "worker/worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/msg.h"
#include "worker/render.h"

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

	msg_write(wp->out_fd, MSG_PROGRESS, j, NULL, 0);
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
	    "{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s?i, s?b, s?s, s?i, s?s, s?I, s?I}",
	    "task", &t->task, "segment", &t->segment, "input", &t->input, "output", &t->output,
	    "filter", &t->filter, "fps", &t->fps, "width", &t->width, "height", &t->height,
	    "rotation", &t->rotation, "cfr", &t->cfr, "preset", &t->preset, "crf", &t->crf,
	    "matrix", &t->matrix, "skip", &skip, "count", &count) == -1) {
		snprintf(err, errlen, "bad task: %s", jerr.text);
		return -1;
	}
	t->skip = skip;
	t->count = count;
	return 0;
}

static int
worker_run_task(int out_fd, json_t *task)
{
	struct render_task t;
	struct render_result res;
	struct worker_progress wp;
	char err[1024];
	json_t *reply;
	int rc;

	if (worker_parse_task(task, &t, err, sizeof err) == -1) {
		reply = json_pack("{s:i, s:s, s:b}", "task", -1, "error", err, "retry", 0);
		rc = msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
		json_decref(reply);
		return rc;
	}
	wp.out_fd = out_fd;
	wp.task = t.task;
	log_debug("segment %d: %s -> %s (%s)", t.segment, t.input, t.output, t.filter);
	if (render_segment(&t, worker_progress_cb, &wp, &res, err, sizeof err) == -1) {
		log_warn("%s", err);
		reply = json_pack("{s:i, s:i, s:s, s:b}", "task", t.task, "segment", t.segment,
		    "error", err, "retry", res.retry);
		rc = msg_write(out_fd, MSG_FAIL, reply, NULL, 0);
	} else {
		reply = json_pack("{s:i, s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:I}", "task", t.task,
		    "segment", t.segment, "frames", (json_int_t)res.frames, "wall", res.wall,
		    "filter_time", res.filter_time, "decode_cpu", res.decode_cpu,
		    "encode_cpu", res.encode_cpu, "worker_cpu", res.worker_cpu,
		    "max_rss_kb", (json_int_t)res.max_rss_kb);
		rc = msg_write(out_fd, MSG_DONE, reply, NULL, 0);
	}
	json_decref(reply);
	return rc;
}

int
worker_main(int in_fd, int out_fd)
{
	struct sigaction sa;
	struct msg_reader rd;
	char err[256];
	json_t *j;
	int type, rc, code = 0;

	/* No SA_RESTART: SIGTERM interrupts a blocked read so the render can stop its children. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_stop_cb;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	msg_reader_init(&rd);
	j = json_pack("{s:i, s:i}", "version", WORKER_PROTOCOL, "pid", (int)getpid());
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
		if (type == MSG_TASK && worker_run_task(out_fd, j) == -1) {
			json_decref(j);
			code = 1;
			break;
		}
		json_decref(j);
	}
done:
	msg_reader_free(&rd);
	return code;
}
