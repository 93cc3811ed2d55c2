#include "common/argv.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/util.h"

void
argv_init(struct argv *a, char **v, int slots, char *buf, size_t size)
{
	a->v = v;
	a->n = 0;
	a->slots = slots;
	a->buf = buf;
	a->used = 0;
	a->size = size;
	a->full = slots < 1;
	if (slots > 0)
		v[0] = NULL;
}

static void
argv_push(struct argv *a, char *word)
{
	if (a->full || a->n + 1 >= a->slots) {
		a->full = 1;
		return;
	}
	a->v[a->n++] = word;
	a->v[a->n] = NULL;
}

void
argv_add(struct argv *a, ...)
{
	va_list ap;
	const char *word;

	va_start(ap, a);
	while ((word = va_arg(ap, const char *)) != NULL)
		argv_push(a, (char *)word);
	va_end(ap);
}

void
argv_addf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	size_t room = a->size - a->used;
	int k;

	if (a->full)
		return;
	va_start(ap, fmt);
	k = vsnprintf(a->buf + a->used, room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room) {
		a->full = 1;
		return;
	}
	argv_push(a, a->buf + a->used);
	a->used += (size_t)k + 1;
}

int
argv_end(const struct argv *a, char *err, size_t errlen)
{
	if (a->full)
		return util_err(err, errlen, "the %s command line is too long",
		    a->n > 0 ? a->v[0] : "child's");
	return 0;
}
