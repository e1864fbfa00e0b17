/*
 * The status page: one self-contained HTML file (lbd/status.html, linked
 * into lbd as bytes: no external script, font or CDN, appliances are often
 * offline) that refreshes itself every second from /status.json, served
 * by the metrics listener at `/`. The JSON is the control commands' own
 * (`show info`, `show stat`, `show health`, `show vrrp`, `show sync`, as
 * `lbctl --json` answers them) plus the last events (lbd/events.h), so the
 * page, lbctl and Prometheus never disagree.
 */
#ifndef LBD_STATUS_H
#define LBD_STATUS_H

#include <stddef.h>

#include "lib/buf.h"

struct lbd;

/* Events the page gets (the newest). */
#define STATUS_EVENTS	50
/* Services it gets whole (their backends, checks and counters): a config
 * of 10,000 services and 100,000 backends would be 23 MB of JSON each
 * second. Beyond this many, those with a backend out go first, and the
 * page says how many it leaves out. */
#define STATUS_SERVICES	100

void		 status_json(struct lbd *, struct buf *out);
const char	*status_html(size_t *len);

#endif /* LBD_STATUS_H */
