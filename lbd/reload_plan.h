/*
 * A reload's dry run: read and check the config file as a reload would and
 * say what applying it would change and do to traffic (connections that
 * end, drain, go on), or why it would be refused. Nothing is applied.
 */
#ifndef LBD_RELOAD_PLAN_H
#define LBD_RELOAD_PLAN_H

#include <stdbool.h>

#include "lib/buf.h"

struct lbd;

/* The plan as text (last line: the verdict) or one JSON document. Returns
 * true when a reload would apply the file. */
bool	lbd_reload_plan(struct lbd *, struct buf *out, bool json);

#endif /* LBD_RELOAD_PLAN_H */
