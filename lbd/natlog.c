/*
 * The NAT log (`nat-log on`): one line per snat connection, so that an
 * operator behind a one-arm SNAT can answer "who was this" from a
 * backend's log of SNAT address and port:
 *
 *   nat: client=192.0.2.7:50312 snat=10.0.0.100:40017 backend=web/web1
 *        10.0.0.11:80 proto=tcp
 *
 * (one line; syslog or stderr give the time). A TCP connection is logged
 * when it is established, a UDP flow when the backend first answers: what
 * a spoofing sender cannot bring about, so a SYN flood writes no lines.
 * At most `nat-log rate` lines a second; the rest are counted, and said
 * every 10 s. Connections mirrored from the peer are the peer's to log.
 */
#include <stdio.h>

#include "lbd/daemon.h"
#include "lbd/dataplane/dataplane.h"
#include "lbd/engine/ct.h"
#include "lbd/engine/dp.h"
#include "lbd/natlog.h"
#include "lib/clock.h"
#include "lib/log.h"

#define NATLOG_SAY_MS	10000

static bool
loggable(const struct ct_event *e)
{
	if (e->mode != DP_MODE_SNAT || (e->flags & CT_F_MIRRORED) ||
	    e->type != CT_EV_CHANGE || !(e->flags & CT_F_PROVEN))
		return false;
	/* Once per connection: TCP enters ESTABLISHED once (in snat it is
	 * proven by then); a UDP flow is proven once. */
	return e->t[CT_ORIG].proto == 17 || e->state == CT_ESTABLISHED;
}

static void
line(struct lbd *d, const struct ct_event *e)
{
	const struct conf *c = d->conf;
	const struct dp_tuple *o = &e->t[CT_ORIG], *r = &e->t[CT_REPLY];
	const char *svc = "-", *be = "-";
	char cl[64], sn[64], ba[64];

	/* Indexes from before a reload may name another service: only
	 * names that are still in range are given. */
	if (e->svc < c->n_services) {
		const struct conf_service *s = &c->services[e->svc];

		svc = s->name;
		if (e->backend < s->n_backends)
			be = s->backends[e->backend].name;
		else if (e->backend == s->n_backends && s->has_fallback)
			be = s->fallback.name;
	}
	dataplane_tuple_str(o, true, cl, sizeof(cl));
	dataplane_tuple_str(r, false, sn, sizeof(sn));
	dataplane_tuple_str(r, true, ba, sizeof(ba));
	log_info("nat: client=%s snat=%s backend=%s/%s %s proto=%s", cl, sn,
	    svc, be, ba, o->proto == 6 ? "tcp" : "udp");
}

void
natlog_events(struct lbd *d, const struct ct_event *ev, size_t n)
{
	struct natlog *l = &d->natlog;
	const struct conf_global *g = &d->conf->global;
	uint64_t now;

	if (!g->nat_log)
		return;
	now = mono_ms();
	l->tokens += (double)(now - l->filled) * g->nat_log_rate / 1000.0;
	if (l->tokens > g->nat_log_rate)
		l->tokens = g->nat_log_rate;	/* a second's worth at most */
	l->filled = now;
	for (size_t i = 0; i < n; i++) {
		if (!loggable(&ev[i]))
			continue;
		if (l->tokens < 1) {
			l->dropped++;
			continue;
		}
		l->tokens -= 1;
		l->lines++;
		line(d, &ev[i]);
	}
	if (l->dropped > l->said && now - l->said_at >= NATLOG_SAY_MS) {
		log_warnx("nat: %llu lines over nat-log rate %u/s not written "
		    "(%llu in all)", (unsigned long long)(l->dropped - l->said),
		    g->nat_log_rate, (unsigned long long)l->dropped);
		l->said = l->dropped;
		l->said_at = now;
	}
}
