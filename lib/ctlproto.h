/*
 * The control-socket line protocol, shared by lbd and lbctl.
 *
 *   request:  one command per line, at most CTL_LINE_MAX bytes, e.g.
 *             "show info" or "show info --json"
 *   reply:    zero or more body lines, then exactly one terminator line,
 *             ".ok" or ".error". A body line that starts with '.' is sent
 *             with one more '.' in front (as in SMTP), so the terminator can
 *             never be confused with the body.
 *
 * Several commands may be sent on one connection; replies come in order.
 */
#ifndef LIB_CTLPROTO_H
#define LIB_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define CTL_LINE_MAX	4096
#define CTL_END_OK	".ok"
#define CTL_END_ERROR	".error"

/* Append `body` (any number of lines) to `out` as one framed reply. */
void	ctl_frame_reply(struct buf *out, const char *body, size_t len, bool ok);
/* The same lines, dot-stuffed, without the terminator (a stream's). */
void	ctl_stuff_lines(struct buf *out, const char *body, size_t len);

#endif /* LIB_CTLPROTO_H */
