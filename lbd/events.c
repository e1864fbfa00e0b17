/* The event stream and the kept events; see events.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lbd/events.h"
#include "lib/clock.h"

static struct {
	events_sink_fn	 sink;
	void		*arg;
	char		*kept[EVENTS_KEPT];	/* JSON, a ring */
	uint64_t	 n;			/* emitted */
} ev;

void
events_set_sink(events_sink_fn fn, void *arg)
{
	ev.sink = fn;
	ev.arg = arg;
}

void
events_emit(const char *type, ...)
{
	struct buf text = { 0 }, json = { 0 };
	const char *k, *v;
	char when[CLOCK_UTC_LEN];
	va_list ap;

	utc_ms_str(when);
	buf_printf(&text, "%s %s", when, type);
	buf_printf(&json, "{\"time\":\"%s\",\"event\":", when);
	buf_json_str(&json, type);
	va_start(ap, type);
	while ((k = va_arg(ap, const char *)) != NULL) {
		bool quote;

		v = va_arg(ap, const char *);
		if (v == NULL)
			v = "";
		quote = v[0] == '\0' || strpbrk(v, " \"=") != NULL;
		buf_printf(&text, " %s=%s", k, quote ? "\"" : "");
		for (const char *p = v; *p; p++)
			buf_printf(&text, *p == '"' && quote ? "\\%c" : "%c", *p);
		if (quote)
			buf_puts(&text, "\"");
		buf_puts(&json, ",");
		buf_json_str(&json, k);
		buf_puts(&json, ":");
		buf_json_str(&json, v);
	}
	va_end(ap);
	buf_puts(&json, "}");
	if (!text.oom && !json.oom) {
		size_t at = ev.n % EVENTS_KEPT;

		free(ev.kept[at]);
		ev.kept[at] = strdup(json.p);
		ev.n++;
		if (ev.sink != NULL)
			ev.sink(ev.arg, text.p, json.p);
	}
	buf_free(&text);
	buf_free(&json);
}

void
events_json(struct buf *out, size_t max)
{
	uint64_t have = ev.n < EVENTS_KEPT ? ev.n : EVENTS_KEPT;
	uint64_t from = ev.n - (have < max ? have : max);
	bool first = true;

	buf_puts(out, "[");
	for (uint64_t i = from; i < ev.n; i++) {
		const char *j = ev.kept[i % EVENTS_KEPT];

		if (j == NULL)
			continue;
		buf_puts(out, first ? "" : ",");
		buf_puts(out, j);
		first = false;
	}
	buf_puts(out, "]");
}

uint64_t
events_count(void)
{
	return ev.n;
}
