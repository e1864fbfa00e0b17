/*
 * metrics — Prometheus metrics over HTTP (`metrics listen ADDR:PORT`).
 *
 * A minimal HTTP/1.0 responder on the main loop: GET /metrics answers with
 * the text exposition format (version 0.0.4), anything else with 404, 405 or
 * 400; requests are bounded (8 KiB), slow clients time out, every connection
 * is closed after its answer. The metrics themselves are defined once, in a
 * table in metrics.c, with their type and help text.
 */
#ifndef LBD_METRICS_H
#define LBD_METRICS_H

#include <ev.h>

#include "conf/conf.h"
#include "lib/buf.h"

struct lbd;
struct metrics_server;

struct metrics_server *metrics_open(struct ev_loop *, const struct conf_addr *,
		    uint16_t port, struct lbd *);
void		metrics_close(struct metrics_server *);
/* The exposition text, as GET /metrics answers it. */
void		metrics_render(struct lbd *, struct buf *);

#endif /* LBD_METRICS_H */
