/*
 * What lbctl shows of the data plane: `show info` (workers, interfaces,
 * addresses), `show errors`, `show conn`.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/dataplane/dp_int.h"
#include "lbd/stats.h"
#include "lib/log.h"

#define ALL_PORTS	(2 * DP_MAX_IF * LBD_CLS_MAX_QUEUES)	/* rx, tx-only */

/* ---- the snapshot ---------------------------------------------------- */

/* An interface's classifier counters and its ports' frames in and out. */
static void
iface_snap(const struct dp_if *di, uint16_t eng_if,
    const struct worker_port_stats *ps, size_t np, struct dp_if_snap *o)
{
	uint64_t cs[LBD_CLS__COUNT];

	snprintf(o->name, sizeof(o->name), "%s", di->name);
	snprintf(o->punt, sizeof(o->punt), "%s", di->punt_name);
	o->ifindex = di->ifindex;
	o->xdp_mode = xdp_prog_mode_name(xdp_prog_mode(di->prog));
	xdp_prog_stats(di->prog, cs);
	o->v[SI_MTU] = di->info.mtu;
	o->v[SI_CARRIER] = di->info.carrier;
	o->v[SI_QUEUES] = di->nq;
	o->v[SI_REDIRECTED] = (int64_t)cs[LBD_CLS_REDIRECT];
	o->v[SI_PASSED] = (int64_t)cs[LBD_CLS_PASS];
	o->v[SI_NO_SOCKET] = (int64_t)cs[LBD_CLS_NO_SOCKET];
	for (size_t k = 0; k < np; k++)
		if (ps[k].eng_if == eng_if) {
			o->v[SI_RX] += (int64_t)ps[k].st.rx;
			o->v[SI_TX] += (int64_t)ps[k].st.tx;
		}
}

/* The kernel fast path's counters, the workers' flows, the engines'. */
static void
fastpath_snap(struct dataplane *p, struct dp_snapshot *s,
    const struct worker_stats *ws)
{
	uint64_t fp[LBD_FP__COUNT];
	int64_t *v = s->fp;

	tcprog_stats(p->ifs.tc, fp);
	v[SF_FORWARDED] = (int64_t)fp[LBD_FP_FWD];
	v[SF_PUNT_MISS] = (int64_t)fp[LBD_FP_PUNT_MISS];
	v[SF_PUNT_FLAGS] = (int64_t)fp[LBD_FP_PUNT_FLAGS];
	v[SF_PUNT_TTL] = (int64_t)fp[LBD_FP_PUNT_TTL];
	v[SF_PUNT_MTU] = (int64_t)fp[LBD_FP_PUNT_MTU];
	v[SF_PASSED] = (int64_t)fp[LBD_FP_PASS];
	v[SF_DEAD] = (int64_t)fp[LBD_FP_DEAD];
	v[SF_NO_PUNT] = (int64_t)fp[LBD_FP_NO_PUNT];
	v[SF_SENT] = (int64_t)fp[LBD_FP_OUT];
	v[SF_GUARDED] = (int64_t)fp[LBD_FP_GUARDED];
	v[SF_OFFLOADED] = (int64_t)s->st.offloaded;
	v[SF_UNLOADED] = (int64_t)s->st.unloaded;
	v[SF_OFFLOAD_LOST] = (int64_t)s->st.offload_lost;
	for (uint32_t i = 0; i < p->wk.n; i++) {
		v[SF_FLOWS] += ws[i].flows;
		v[SF_INSTALLED] += (int64_t)ws[i].fl.installed;
		v[SF_REMOVED] += (int64_t)ws[i].fl.removed;
		v[SF_INSTALL_FAILED] += (int64_t)ws[i].fl.install_failed;
		v[SF_RECONCILED] += (int64_t)ws[i].fl.reconciled;
	}
}

int
dataplane_snapshot(struct dataplane *p, struct dp_snapshot *s)
{
	static struct worker_port_stats ps[ALL_PORTS];	/* main thread only */
	struct worker_stats ws[WORKER_MAX];
	struct dp_snat_use *snat = NULL;
	size_t np, n_snat = 0;
	int64_t *v = s->v;

	memset(s, 0, sizeof(*s));
	if (p == NULL)
		return -1;
	if (dp_call_snapshot(p, s, &snat, &n_snat) < 0 ||
	    (s->worker = calloc(p->wk.n, sizeof(*s->worker))) == NULL ||
	    (s->snat = calloc(n_snat ? n_snat : 1, sizeof(*s->snat))) == NULL) {
		free(snat);
		dataplane_snapshot_free(s);
		return -1;
	}
	np = dp_call_port_stats(p, ps, ALL_PORTS);
	dp_call_worker_stats(p, ws);
	v[SP_RX] = (int64_t)s->st.rx;
	v[SP_TX] = (int64_t)s->st.tx;
	v[SP_PASSED] = (int64_t)s->st.pass;
	v[SP_ICMP_TRANSLATED] = (int64_t)s->st.icmp_translated;
	v[SP_RST_SENT] = (int64_t)s->st.rst_sent;
	v[SP_NEIGH_HELD] = (int64_t)s->st.held;
	v[SP_NEIGH_HELD_SENT] = (int64_t)s->st.held_sent;
	for (size_t k = 0; k < np; k++) {
		v[SP_TX_NO_FRAME] += (int64_t)ps[k].st.tx_no_frame;
		v[SP_TX_RING_FULL] += (int64_t)ps[k].st.tx_ring_full;
	}
	s->kernel = p->ifs.kernel;
	s->why = p->ifs.why;
	if (p->ifs.kernel)
		fastpath_snap(p, s, ws);
	s->n_workers = p->wk.n;
	for (uint32_t i = 0; i < p->wk.n; i++) {
		s->worker[i][SW_RX] = (int64_t)ws[i].rx;
		s->worker[i][SW_HANDED_OUT] = (int64_t)ws[i].handed_out;
		s->worker[i][SW_HANDED_IN] = (int64_t)ws[i].handed_in;
		s->worker[i][SW_HANDOFF_FULL] = (int64_t)ws[i].handoff_full;
		v[SP_HANDOFF_FULL] += (int64_t)ws[i].handoff_full;
	}
	v[SP_SYNC_OTHER_WORKER] = (int64_t)p->ev.sync_split;
	v[SP_RESOLVE_LOST] = (int64_t)(s->st.resolve_lost + p->knl.rq_lost);
	v[SP_RESOLVE_ASKED] = (int64_t)p->knl.resolve_asked;
	v[SP_TABLE_EVICTED] = (int64_t)s->ct.evicted;
	v[SP_TABLE_FULL] = (int64_t)s->ct.full;
	v[SP_TABLE_PROVEN] = (int64_t)s->ct.proven;
	v[SP_STATELESS_UNRECORDED] = (int64_t)s->st.stateless_unrecorded;
	v[SP_RATE_EVICTED] = (int64_t)s->st.rate_evicted;
	v[SP_PERSIST_ENTRIES] = (int64_t)s->st.persist_entries;
	v[SP_PERSIST_HITS] = (int64_t)s->st.persist_hits;
	v[SP_PERSIST_FULL] = (int64_t)s->st.persist_full;
	v[SP_PERSIST_EVICTED] = (int64_t)s->st.persist_evicted;
	v[SP_ICMP_SENT] = (int64_t)s->st.icmp_sent;
	v[SP_ICMP_LIMITED] = (int64_t)s->st.icmp_limited;
	v[SP_SNAT_RECLAIMED] = (int64_t)s->st.snat_reclaimed;
	v[SP_TABLE_CREATED] = (int64_t)s->ct.created;
	v[SP_TABLE_EXPIRED] = (int64_t)s->ct.expired;
	v[SP_TABLE_ENTRIES] = (int64_t)s->ct.active;
	v[SP_EVENTS_LOST] = (int64_t)(s->ct.events_lost + p->ev.lost);
	v[SP_ANNOUNCEMENTS] = (int64_t)owner_announcements(p->own.owner);
	v[SP_ANNOUNCEMENTS_PACED] = (int64_t)owner_paced(p->own.owner);
	s->n_if = p->ifs.n;
	for (uint32_t i = 0; i < p->ifs.n; i++)
		iface_snap(&p->ifs.v[i], (uint16_t)i, ps, np, &s->ifs[i]);
	s->n_snat = (uint32_t)n_snat;
	for (size_t i = 0; i < n_snat; i++) {
		inet_ntop(snat[i].family == 4 ? AF_INET : AF_INET6, snat[i].addr,
		    s->snat[i].addr, sizeof(s->snat[i].addr));
		s->snat[i].v[SN_PORTS_IN_USE] = (int64_t)snat[i].used;
		s->snat[i].v[SN_PEAK_PCT] = snat[i].peak_pct;
	}
	free(snat);
	return 0;
}

void
dataplane_snapshot_free(struct dp_snapshot *s)
{
	for (uint32_t i = 0; i < s->n_svc; i++)
		free(s->svc[i].b);
	free(s->svc);
	free(s->worker);
	free(s->snat);
	memset(s, 0, sizeof(*s));
}

void
dataplane_service_stats(const struct dp_svc_snap *sv, int64_t *v)
{
	v[SV_ACTIVE] = sv->active;
	v[SV_CONNS] = (int64_t)sv->cnt.conns;
	v[SV_PKTS_IN] = (int64_t)sv->cnt.pkts_in;
	v[SV_PKTS_OUT] = (int64_t)sv->cnt.pkts_out;
	v[SV_BYTES_IN] = (int64_t)sv->cnt.bytes_in;
	v[SV_BYTES_OUT] = (int64_t)sv->cnt.bytes_out;
}

const struct dp_be_snap *
dataplane_backend_snap(const struct dp_snapshot *s, size_t svc, size_t bi)
{
	if (svc < s->n_svc && bi < s->svc[svc].nb)
		return &s->svc[svc].b[bi];
	return NULL;
}

/* ---- show info, show errors --------------------------------------------- */

void
dataplane_show_info(struct dataplane *p, struct buf *b, bool json)
{
	struct dp_snapshot s;

	if (p == NULL || dataplane_snapshot(p, &s) < 0) {
		if (json)
			buf_puts(b, "null");
		else
			buf_puts(b, "data-plane       off (no `interface` in global)\n");
		return;
	}
	if (json) {
		buf_printf(b, "{\"datapath\":\"%s\",\"datapath_why\":",
		    s.kernel ? "kernel" : "userspace");
		buf_json_str(b, s.why);
		if (s.kernel) {
			buf_puts(b, ",\"fastpath\":{");
			stats_json(b, ST_FASTPATH, s.fp, false);
			buf_puts(b, "}");
		}
		buf_printf(b, ",\"workers\":%u,\"worker\":[", s.n_workers);
		for (uint32_t i = 0; i < s.n_workers; i++) {
			buf_puts(b, i ? ",{" : "{");
			stats_json(b, ST_WORKER, s.worker[i], false);
			buf_puts(b, "}");
		}
		buf_puts(b, "],\"interfaces\":[");
		for (uint32_t i = 0; i < s.n_if; i++) {
			buf_printf(b, "%s{\"name\":", i ? "," : "");
			buf_json_str(b, s.ifs[i].name);
			buf_printf(b, ",\"ifindex\":%d,\"xdp_mode\":\"%s\","
			    "\"punt\":\"%s\"", s.ifs[i].ifindex, s.ifs[i].xdp_mode,
			    s.ifs[i].punt);
			stats_json(b, ST_IFACE, s.ifs[i].v, true);
			buf_puts(b, "}");
		}
		buf_puts(b, "],\"snat\":[");
		for (uint32_t i = 0; i < s.n_snat; i++) {
			buf_printf(b, "%s{\"address\":\"%s\"", i ? "," : "",
			    s.snat[i].addr);
			stats_json(b, ST_SNAT, s.snat[i].v, true);
			buf_puts(b, "}");
		}
		buf_puts(b, "],\"addresses\":");
		owner_show(p->own.owner, b, true);
		buf_printf(b, ",\"announcements\":%lld,"
		    "\"announcements_paced\":%lld}",
		    (long long)s.v[SP_ANNOUNCEMENTS],
		    (long long)s.v[SP_ANNOUNCEMENTS_PACED]);
		dataplane_snapshot_free(&s);
		return;
	}
	buf_printf(b, "data-plane       on, %u worker%s, datapath %s: %s\n",
	    s.n_workers, s.n_workers == 1 ? "" : "s", s.kernel ? "kernel" :
	    "userspace", s.why);
	if (s.kernel) {
		buf_puts(b, "fast-path        ");
		stats_say(b, ST_FASTPATH, s.fp, SF_FLOWS, SF_OFFLOADED);
		buf_puts(b, "\n");
	}
	for (uint32_t i = 0; i < s.n_workers && s.n_workers > 1; i++) {
		buf_printf(b, "worker           %u ", i);
		stats_say(b, ST_WORKER, s.worker[i], 0, SW__COUNT);
		buf_puts(b, "\n");
	}
	for (uint32_t i = 0; i < s.n_if; i++) {
		if (s.kernel)
			buf_printf(b, "interface        %s ifindex %d tc, punt %s "
			    "(xdp %s), ", s.ifs[i].name, s.ifs[i].ifindex,
			    s.ifs[i].punt, s.ifs[i].xdp_mode);
		else
			buf_printf(b, "interface        %s ifindex %d xdp %s, ",
			    s.ifs[i].name, s.ifs[i].ifindex, s.ifs[i].xdp_mode);
		stats_say(b, ST_IFACE, s.ifs[i].v, 0, SI__COUNT);
		buf_puts(b, "\n");
	}
	for (uint32_t i = 0; i < s.n_snat; i++)
		buf_printf(b, "snat             %s ports in use %lld, fullest "
		    "space %lld%%\n", s.snat[i].addr,
		    (long long)s.snat[i].v[SN_PORTS_IN_USE],
		    (long long)s.snat[i].v[SN_PEAK_PCT]);
	buf_printf(b, "addresses        (%lld announcements sent, %lld waited "
	    "for garp rate)\n", (long long)s.v[SP_ANNOUNCEMENTS],
	    (long long)s.v[SP_ANNOUNCEMENTS_PACED]);
	owner_show(p->own.owner, b, false);
	dataplane_snapshot_free(&s);
}

/* The data plane's counters that count trouble, shown when not zero. */
static const int error_stats[] = {
	SP_TX_NO_FRAME, SP_TX_RING_FULL, SP_HANDOFF_FULL, SP_SYNC_OTHER_WORKER,
	SP_RESOLVE_LOST, SP_TABLE_EVICTED, SP_TABLE_FULL, SP_EVENTS_LOST,
	SP_STATELESS_UNRECORDED, SP_SNAT_RECLAIMED, SP_RATE_EVICTED,
	SP_PERSIST_FULL, SP_PERSIST_EVICTED, SP_ICMP_LIMITED,
};

void
dataplane_show_errors(struct dataplane *p, struct buf *b, bool json)
{
	const struct stat_def *defs = stat_scopes[ST_DP].defs;
	struct dp_snapshot s;

	if (p == NULL || dataplane_snapshot(p, &s) < 0) {
		buf_puts(b, json ? "{}" : "");
		return;
	}
	if (json) {
		/* The drops by reason at the top, as lbctl has always had them. */
		buf_puts(b, "{");
		stats_json_reasons_flat(b, &stat_dp_drops, s.st.drops, false);
		stats_json(b, ST_DP, s.v, true);
		buf_puts(b, "}");
		dataplane_snapshot_free(&s);
		return;
	}
	stats_text_reasons(b, &stat_dp_drops, s.st.drops, "");
	for (size_t i = 0; i < sizeof(error_stats) / sizeof(error_stats[0]); i++)
		if (s.v[error_stats[i]] != 0)
			buf_printf(b, "%-22s %lld\n", defs[error_stats[i]].name,
			    (long long)s.v[error_stats[i]]);
	/* Not errors, but they explain neigh_unresolved. */
	if (s.v[SP_NEIGH_HELD] != 0) {
		stats_say(b, ST_DP, s.v, SP_NEIGH_HELD, SP_NEIGH_HELD_SENT + 1);
		buf_puts(b, "\n");
	}
	dataplane_snapshot_free(&s);
}

const char *
dataplane_tuple_str(const struct dp_tuple *t, bool src, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(t->family == 4 ? AF_INET : AF_INET6, src ? t->src : t->dst, a,
	    sizeof(a));
	snprintf(buf, len, t->family == 4 ? "%s:%u" : "[%s]:%u", a,
	    ntohs(src ? t->sport : t->dport));
	return buf;
}

void
dataplane_show_conn(struct dataplane *p, const struct conf *c, int32_t svc,
    uint32_t max, struct buf *b, bool json)
{
	struct ct_entry *out;
	uint32_t n, total;
	static const char *const modes[] = { "routed", "snat", "dsr" };

	if (p == NULL) {
		buf_puts(b, json ? "{\"connections\":[],\"total\":0}\n" :
		    "no data plane (no `interface` in global)\n");
		return;
	}
	if ((out = calloc(max ? max : 1, sizeof(*out))) == NULL) {
		buf_puts(b, json ? "{\"error\":\"out of memory\"}\n" :
		    "out of memory\n");
		return;
	}
	n = dp_call_conns(p, svc, out, max, &total);
	if (!json)
		buf_printf(b, "%-16s %-6s %-6s %-46s %-46s %-46s %-12s %s\n",
		    "SERVICE", "PROTO", "MODE", "CLIENT", "VIP", "BACKEND", "STATE",
		    "PKTS(in/out)");
	else
		buf_puts(b, "{\"connections\":[");
	for (uint32_t i = 0; i < n; i++) {
		const struct ct_entry *ce = &out[i];
		const struct dp_tuple *o = &ce->t[CT_ORIG], *r = &ce->t[CT_REPLY];
		const char *sname = ce->svc < c->n_services ?
		    c->services[ce->svc].name : "-";
		char cl[64], vip[64], be[64];

		dataplane_tuple_str(o, true, cl, sizeof(cl));
		dataplane_tuple_str(o, false, vip, sizeof(vip));
		dataplane_tuple_str(r, true, be, sizeof(be));
		if (json) {
			buf_printf(b, "%s{\"service\":", i ? "," : "");
			buf_json_str(b, sname);
			buf_printf(b, ",\"proto\":\"%s\",\"mode\":\"%s\",\"client\":\"%s\","
			    "\"vip\":\"%s\",\"backend\":\"%s\",\"state\":\"%s\","
			    "\"pkts_in\":%u,\"pkts_out\":%u,\"mirrored\":%s}",
			    o->proto == 6 ? "tcp" : "udp", modes[ce->mode % 3], cl,
			    vip, be, ct_state_name(ce->state), ce->pkts[CT_ORIG],
			    ce->pkts[CT_REPLY],
			    ce->flags & CT_F_MIRRORED ? "true" : "false");
		} else
			buf_printf(b, "%-16s %-6s %-6s %-46s %-46s %-46s %-12s %u/%u\n",
			    sname, o->proto == 6 ? "tcp" : "udp", modes[ce->mode % 3],
			    cl, vip, be, ct_state_name(ce->state), ce->pkts[CT_ORIG],
			    ce->pkts[CT_REPLY]);
	}
	if (json)
		buf_printf(b, "],\"shown\":%u,\"total\":%u}\n", n, total);
	else
		buf_printf(b, "%u of %u connections shown\n", n, total);
	free(out);
}

/* ---- SNAT ports running out ------------------------------------------- */

static bool
any_snat(const struct conf *c)
{
	for (size_t i = 0; i < c->n_services; i++)
		if (c->services[i].mode == CONF_MODE_SNAT)
			return true;
	return false;
}

static void
snat_watch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dataplane *p = w->data;
	struct dp_snat_watch *sw = &p->snat_watch;
	struct dp_snapshot s;
	ev_tstamp now = ev_now(loop);

	(void)revents;
	if (p->conf == NULL || !any_snat(p->conf) ||
	    dataplane_snapshot(p, &s) < 0)
		return;
	for (uint32_t i = 0; i < s.n_snat; i++) {
		uint32_t k;

		if (s.snat[i].v[SN_PEAK_PCT] < SNAT_WARN_PCT)
			continue;
		for (k = 0; k < sw->n; k++)
			if (strcmp(sw->warned[k].addr, s.snat[i].addr) == 0)
				break;
		if (k == sw->n) {
			if (sw->n == SNAT_WATCH_MAX)
				k = 0;		/* forget the first */
			else
				sw->n++;
			snprintf(sw->warned[k].addr, sizeof(sw->warned[k].addr),
			    "%s", s.snat[i].addr);
			sw->warned[k].at = 0;
		}
		if (sw->warned[k].at != 0 && now - sw->warned[k].at < 60)
			continue;
		sw->warned[k].at = now;
		log_warnx("snat %s: a port space is %lld%% used (%lld ports in "
		    "use over its backends); at 100%% new connections to that "
		    "backend are refused (snat_exhausted): add pool addresses",
		    s.snat[i].addr, (long long)s.snat[i].v[SN_PEAK_PCT],
		    (long long)s.snat[i].v[SN_PORTS_IN_USE]);
	}
	dataplane_snapshot_free(&s);
}

void
dp_snat_watch_start(struct dataplane *p)
{
	ev_timer_init(&p->snat_watch.timer, snat_watch_cb, SNAT_WATCH_S,
	    SNAT_WATCH_S);
	p->snat_watch.timer.data = p;
	ev_timer_start(p->loop, &p->snat_watch.timer);
}

void
dp_snat_watch_stop(struct dataplane *p)
{
	ev_timer_stop(p->loop, &p->snat_watch.timer);
}
