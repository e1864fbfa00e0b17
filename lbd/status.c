/* The status page's JSON and HTML; see status.h. */
#include <string.h>

#include "lbd/ctl.h"
#include "lbd/daemon.h"
#include "lbd/events.h"
#include "lbd/status.h"

#ifndef LBD_STATUS_HTML
#error "LBD_STATUS_HTML: the path of lbd/status.html (the Makefile's)"
#endif

__asm__(
"	.section .rodata\n"
"	.global lbd_status_html\n"
"lbd_status_html:\n"
"	.incbin \"" LBD_STATUS_HTML "\"\n"
"	.global lbd_status_html_end\n"
"lbd_status_html_end:\n"
"	.previous\n");

extern const char lbd_status_html[], lbd_status_html_end[];

const char *
status_html(size_t *len)
{
	*len = (size_t)(lbd_status_html_end - lbd_status_html);
	return lbd_status_html;
}

/* One command's JSON answer, as a read-only caller gets it. */
static void
command(struct lbd *d, const char *key, const char *words, struct buf *out)
{
	const struct ctl_caller ro = { .pid = -1, .uid = (uid_t)-1,
	    .gid = (gid_t)-1, .readonly = true };
	struct buf body = { 0 };
	char line[64];

	snprintf(line, sizeof(line), "%s --json", words);
	buf_printf(out, ",\"%s\":", key);
	if (lbd_ctl_dispatch(d, &ro, line, &body) && body.len > 0 && !body.oom) {
		while (body.len > 0 && body.p[body.len - 1] == '\n')
			body.len--;
		buf_append(out, body.p, body.len);
	} else
		buf_puts(out, "null");
	buf_free(&body);
}

void
status_json(struct lbd *d, struct buf *out)
{
	buf_printf(out, "{\"events_total\":%llu",
	    (unsigned long long)events_count());
	command(d, "info", "show info", out);
	command(d, "stat", "show stat", out);
	command(d, "health", "show health", out);
	command(d, "vrrp", "show vrrp", out);
	command(d, "sync", "show sync", out);
	buf_puts(out, ",\"events\":");
	events_json(out, STATUS_EVENTS);
	buf_puts(out, "}\n");
}
