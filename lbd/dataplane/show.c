/*
 * What lbctl shows of the data plane: `show info` (workers, interfaces,
 * addresses), `show errors`, `show conn`.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/dataplane/dp_int.h"

#define ALL_PORTS	(DP_MAX_IF * LBD_CLS_MAX_QUEUES)

/* An interface's classifier counters and its ports' frames in and out. */
static void
iface_counters(const struct dp_if *di, const struct worker_port_stats *ps,
    size_t np, uint64_t cs[LBD_CLS__COUNT], uint64_t *rx, uint64_t *tx)
{
	xdp_prog_stats(di->prog, cs);
	for (size_t k = 0; k < np; k++)
		if (ps[k].ifindex == di->ifindex) {
			*rx += ps[k].st.rx;
			*tx += ps[k].st.tx;
		}
}

void
dataplane_show_info(struct dataplane *p, struct buf *b, bool json)
{
	static struct worker_port_stats ps[ALL_PORTS];	/* main thread only */
	struct worker_stats ws[WORKER_MAX];
	size_t np;

	if (p == NULL) {
		if (json)
			buf_puts(b, "null");
		else
			buf_puts(b, "data-plane       off (no `interface` in global)\n");
		return;
	}
	np = dp_call_port_stats(p, ps, ALL_PORTS);
	dp_call_worker_stats(p, ws);
	if (json) {
		buf_printf(b, "{\"workers\":%u,\"worker\":[", p->wk.n);
		for (uint32_t i = 0; i < p->wk.n; i++)
			buf_printf(b, "%s{\"rx\":%llu,\"handed_out\":%llu,"
			    "\"handed_in\":%llu,\"handoff_full\":%llu}",
			    i ? "," : "", (unsigned long long)ws[i].rx,
			    (unsigned long long)ws[i].handed_out,
			    (unsigned long long)ws[i].handed_in,
			    (unsigned long long)ws[i].handoff_full);
		buf_puts(b, "],\"interfaces\":[");
		for (uint32_t i = 0; i < p->ifs.n; i++) {
			const struct dp_if *di = &p->ifs.v[i];
			uint64_t cs[LBD_CLS__COUNT], rx = 0, tx = 0;

			iface_counters(di, ps, np, cs, &rx, &tx);
			buf_printf(b, "%s{\"name\":", i ? "," : "");
			buf_json_str(b, di->name);
			buf_printf(b, ",\"ifindex\":%d,\"xdp_mode\":\"%s\",\"queues\":%u,"
			    "\"mtu\":%u,\"carrier\":%s,\"rx\":%llu,\"tx\":%llu,"
			    "\"classifier\":{\"redirected\":%llu,\"passed\":%llu,"
			    "\"no_socket\":%llu}}", di->ifindex,
			    xdp_prog_mode_name(xdp_prog_mode(di->prog)), di->nq,
			    di->info.mtu, di->info.carrier ? "true" : "false",
			    (unsigned long long)rx, (unsigned long long)tx,
			    (unsigned long long)cs[LBD_CLS_REDIRECT],
			    (unsigned long long)cs[LBD_CLS_PASS],
			    (unsigned long long)cs[LBD_CLS_NO_SOCKET]);
		}
		buf_puts(b, "],\"addresses\":");
		owner_show(p->own.owner, b, true);
		buf_printf(b, ",\"announcements\":%llu}",
		    (unsigned long long)owner_announcements(p->own.owner));
		return;
	}
	buf_printf(b, "data-plane       on, %u worker%s\n", p->wk.n,
	    p->wk.n == 1 ? "" : "s");
	for (uint32_t i = 0; i < p->wk.n && p->wk.n > 1; i++)
		buf_printf(b, "worker           %u rx %llu handed out %llu in %llu "
		    "(ring full %llu)\n", i,
		    (unsigned long long)ws[i].rx,
		    (unsigned long long)ws[i].handed_out,
		    (unsigned long long)ws[i].handed_in,
		    (unsigned long long)ws[i].handoff_full);
	for (uint32_t i = 0; i < p->ifs.n; i++) {
		const struct dp_if *di = &p->ifs.v[i];
		uint64_t cs[LBD_CLS__COUNT], rx = 0, tx = 0;

		iface_counters(di, ps, np, cs, &rx, &tx);
		buf_printf(b, "interface        %s ifindex %d xdp %s queues %u mtu %u "
		    "carrier %s rx %llu tx %llu (classifier: redirected %llu, "
		    "passed %llu)\n", di->name, di->ifindex,
		    xdp_prog_mode_name(xdp_prog_mode(di->prog)), di->nq, di->info.mtu,
		    di->info.carrier ? "up" : "down", (unsigned long long)rx,
		    (unsigned long long)tx,
		    (unsigned long long)cs[LBD_CLS_REDIRECT],
		    (unsigned long long)cs[LBD_CLS_PASS]);
	}
	buf_printf(b, "addresses        (%llu announcements sent)\n",
	    (unsigned long long)owner_announcements(p->own.owner));
	owner_show(p->own.owner, b, false);
}

void
dataplane_show_errors(struct dataplane *p, struct buf *b, bool json)
{
	struct dp_snapshot s;
	static struct worker_port_stats ps[ALL_PORTS];	/* main thread only */
	struct worker_stats ws[WORKER_MAX];
	uint64_t no_frame = 0, ring_full = 0, handoff_full = 0;
	size_t np;
	bool first = true;

	if (p == NULL || dataplane_snapshot(p, &s) < 0) {
		buf_puts(b, json ? "{}" : "");
		return;
	}
	np = dp_call_port_stats(p, ps, ALL_PORTS);
	for (size_t k = 0; k < np; k++) {
		no_frame += ps[k].st.tx_no_frame;
		ring_full += ps[k].st.tx_ring_full;
	}
	dp_call_worker_stats(p, ws);
	for (uint32_t i = 0; i < p->wk.n; i++)
		handoff_full += ws[i].handoff_full;
	if (json)
		buf_puts(b, "{");
	for (int r = 1; r < DP_DROP__COUNT; r++) {
		if (json)
			buf_printf(b, "%s\"%s\":%llu", first ? "" : ",",
			    dp_drop_name(r), (unsigned long long)s.st.drops[r]);
		else if (s.st.drops[r])
			buf_printf(b, "%-22s %llu\n", dp_drop_name(r),
			    (unsigned long long)s.st.drops[r]);
		first = false;
	}
	if (json)
		buf_printf(b, ",\"icmp_translated\":%llu,\"rst_sent\":%llu,"
		    "\"neigh_held\":%llu,\"neigh_held_sent\":%llu",
		    (unsigned long long)s.st.icmp_translated,
		    (unsigned long long)s.st.rst_sent,
		    (unsigned long long)s.st.held,
		    (unsigned long long)s.st.held_sent),
		buf_printf(b, ",\"tx_no_frame\":%llu,\"tx_ring_full\":%llu,"
		    "\"handoff_full\":%llu,\"sync_other_worker\":%llu,"
		    "\"resolve_lost\":%llu,\"table_evicted\":%llu,\"table_full\":%llu}",
		    (unsigned long long)no_frame, (unsigned long long)ring_full,
		    (unsigned long long)handoff_full,
		    (unsigned long long)p->ev.sync_split,
		    (unsigned long long)(s.st.resolve_lost + p->knl.rq_lost),
		    (unsigned long long)s.ct.evicted, (unsigned long long)s.ct.full);
	else {
		if (no_frame)
			buf_printf(b, "%-22s %llu\n", "tx_no_frame",
			    (unsigned long long)no_frame);
		if (ring_full)
			buf_printf(b, "%-22s %llu\n", "tx_ring_full",
			    (unsigned long long)ring_full);
		if (handoff_full)
			buf_printf(b, "%-22s %llu\n", "handoff_full",
			    (unsigned long long)handoff_full);
		if (p->ev.sync_split)
			buf_printf(b, "%-22s %llu\n", "sync_other_worker",
			    (unsigned long long)p->ev.sync_split);
		if (s.ct.evicted)
			buf_printf(b, "%-22s %llu\n", "table_evicted",
			    (unsigned long long)s.ct.evicted);
		/* Not errors, but they explain neigh_unresolved. */
		if (s.st.held)
			buf_printf(b, "%-22s %llu (sent %llu)\n", "neigh_held",
			    (unsigned long long)s.st.held,
			    (unsigned long long)s.st.held_sent);
	}
	dataplane_snapshot_free(&s);
}

static const char *
tup_str(const struct dp_tuple *t, bool src, char *buf, size_t len)
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

		tup_str(o, true, cl, sizeof(cl));
		tup_str(o, false, vip, sizeof(vip));
		tup_str(r, true, be, sizeof(be));
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
