#include <string.h>

#include "lib/ctlproto.h"

void
ctl_stuff_lines(struct buf *out, const char *body, size_t len)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && p[0] == '.')
			buf_append(out, ".", 1);
		buf_append(out, p, n);
		buf_append(out, "\n", 1);
		p += n + (nl != NULL ? 1 : 0);
	}
}

void
ctl_frame_reply(struct buf *out, const char *body, size_t len, bool ok)
{
	ctl_stuff_lines(out, body, len);
	buf_puts(out, ok ? CTL_END_OK "\n" : CTL_END_ERROR "\n");
}
