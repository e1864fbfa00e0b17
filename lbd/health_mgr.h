/*
 * health_mgr — the daemon's health checks: one checker per backend of every
 * service that has a `check`, created from the configuration and rebuilt on
 * reload. A check whose service, backend, address and parameters did not
 * change keeps its state across a reload (no flap to down and back on
 * SIGHUP). Transitions are logged once, with the reason.
 */
#ifndef LBD_HEALTH_MGR_H
#define LBD_HEALTH_MGR_H

#include <ev.h>

#include "conf/conf.h"
#include "lbd/backends.h"
#include "lib/buf.h"

struct health_mgr;

struct health_mgr *health_mgr_new(struct ev_loop *);
/* Make the checks match `c`; carries the state of unchanged ones. */
int		health_mgr_apply(struct health_mgr *, const struct conf *c);
void		health_mgr_free(struct health_mgr *);
/* `fn(arg)` after any backend's health changed (to tell the engine now). */
void		health_mgr_on_change(struct health_mgr *, void (*fn)(void *),
		    void *arg);
/* What the checks say about backend `name` ("svc/backend"). */
/* Passive health: the data plane saw backend `name` ("svc/backend") refuse
 * a connection or leave its SYN unanswered; enough of those within its
 * check's observe-window take it down until its active check brings it
 * back. */
void		health_mgr_observe(struct health_mgr *, const char *name,
		    uint64_t now_ms);
void		health_mgr_lookup(const struct health_mgr *, const char *name,
		    struct be_health *);
/* `lbctl show health`: a table, or one JSON document. */
void		health_mgr_show(const struct health_mgr *, struct buf *, bool json);
/* The same JSON, of the checks of the backends want(arg, name) takes. */
void		health_mgr_show_some(const struct health_mgr *, struct buf *,
		    bool (*want)(void *arg, const char *name), void *arg);

#endif /* LBD_HEALTH_MGR_H */
