/*
 * `lbctl show vrrp`: the core's routers and ports as a table or JSON.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "lbd/vrrp_mgr_int.h"
#include "lib/clock.h"

static void
show_addr(struct buf *b, uint8_t family, const uint8_t *a)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
	buf_puts(b, ip);
}

/* Drops by reason: `"r":n,...` for JSON, ` r n ...` for people. */
static void
show_drops(struct buf *b, const uint64_t bad[VRRP_BAD__COUNT], bool json)
{
	bool first = true;

	for (int r = 1; r < VRRP_BAD__COUNT; r++) {
		if (bad[r] == 0)
			continue;
		buf_printf(b, json ? "%s\"%s\":%llu" : "%s%s %llu",
		    json ? (first ? "" : ",") : " ", vrrp_bad_name((enum vrrp_bad)r),
		    (unsigned long long)bad[r]);
		first = false;
	}
}

static uint64_t
drops(const uint64_t bad[VRRP_BAD__COUNT])
{
	uint64_t n = 0;

	for (int r = 1; r < VRRP_BAD__COUNT; r++)
		n += bad[r];
	return n;
}

static double
since_s(const struct vrrp_router *r, uint64_t now)
{
	return r->last_change > 0 ? (double)(now - r->last_change) / 1000.0 : 0.;
}

static void
router_json(struct buf *b, const struct vrrp_mgr *m, size_t i, uint64_t now)
{
	const struct vrrp_router *r = &m->node->r[i];
	const struct vinst *vi = &m->vi[i];
	const struct vrrp_fsm *f = &r->fsm;

	buf_printf(b, "%s{\"instance\":\"%s\",\"group\":\"%s\","
	    "\"interface\":\"%s\",\"vrid\":%u,\"family\":%u,"
	    "\"version\":%u,\"state\":\"%s\",\"priority\":%u,"
	    "\"effective_priority\":%u,\"master\":\"", i ? "," : "",
	    r->name, m->node->groups[r->group].name, vi->sock->ifname,
	    f->cfg.vrid, r->family, f->cfg.version, vrrp_state_name(f->state),
	    r->cfg_prio, f->prio);
	if (f->state != VRRP_INIT && f->state != VRRP_FAULT)
		show_addr(b, r->family, f->master);
	buf_printf(b, "\",\"advert_ms\":%u,\"master_advert_ms\":%u,"
	    "\"transitions\":%llu,\"since_s\":%.1f,\"rx\":%llu,"
	    "\"tx\":%llu,\"dropped\":{", f->cfg.adver_cs * 10u,
	    f->master_adver_cs * 10u, (unsigned long long)f->transitions,
	    since_s(r, now), (unsigned long long)r->rx,
	    (unsigned long long)r->tx);
	show_drops(b, r->bad, true);
	buf_printf(b, "},\"interface_up\":%s,\"unicast_peers\":%u,"
	    "\"tracks\":[", r->own_down ? "false" : "true", r->n_peers);
	for (size_t t = 0; t < r->n_tracks; t++) {
		const struct vrrp_track *tr = &r->tracks[t];

		buf_printf(b, "%s{\"type\":\"%s\",\"what\":", t ? "," : "",
		    vrrp_mgr_track_name(tr->type));
		buf_json_str(b, tr->what);
		buf_printf(b, ",\"weight\":%u,\"failing\":%s,\"last\":",
		    tr->weight, tr->failing ? "true" : "false");
		buf_json_str(b, vi->tracks[t].why);
		buf_puts(b, "}");
	}
	buf_puts(b, "]}");
}

static void
router_text(struct buf *b, const struct vrrp_mgr *m, size_t i)
{
	const struct vrrp_router *r = &m->node->r[i];
	const struct vinst *vi = &m->vi[i];
	const struct vrrp_fsm *f = &r->fsm;
	struct buf ma = { 0 };
	char adv[16];

	if (f->state == VRRP_MASTER)
		buf_puts(&ma, "self");
	else if (f->state == VRRP_BACKUP && f->master[0] != 0)
		show_addr(&ma, r->family, f->master);
	else
		buf_puts(&ma, "-");
	snprintf(adv, sizeof(adv), "%ums", f->master_adver_cs * 10u);
	buf_printf(b, "%-12s %-10s %-8s %4u %-7s %4u %4u %-24s %6s %8llu %8llu "
	    "%llu\n", r->name, m->node->groups[r->group].name, vi->sock->ifname,
	    f->cfg.vrid, vrrp_state_name(f->state), r->cfg_prio, f->prio,
	    ma.p ? ma.p : "-", adv, (unsigned long long)r->rx,
	    (unsigned long long)r->tx, (unsigned long long)f->transitions);
	buf_free(&ma);
	if (drops(r->bad) > 0) {
		buf_puts(b, "  dropped:");
		show_drops(b, r->bad, false);
		buf_puts(b, "\n");
	}
	if (r->own_down)
		buf_printf(b, "  interface %s has no carrier: FAULT\n",
		    vi->sock->ifname);
	for (size_t t = 0; t < r->n_tracks; t++) {
		const struct vrrp_track *tr = &r->tracks[t];

		if (!tr->failing)
			continue;
		buf_printf(b, "  %s %s fails: ", vrrp_mgr_track_name(tr->type),
		    tr->what);
		if (tr->weight)
			buf_printf(b, "priority -%u\n", tr->weight);
		else
			buf_puts(b, "FAULT\n");
	}
}

void
vrrp_mgr_show(const struct vrrp_mgr *m, struct buf *b, bool json)
{
	uint64_t now = mono_ms();
	const struct vrrp_node *n = m != NULL ? m->node : NULL;

	if (json)
		buf_puts(b, "{\"instances\":[");
	else
		buf_printf(b, "%-12s %-10s %-8s %4s %-7s %4s %4s %-24s %6s %8s %8s %s\n",
		    "INSTANCE", "GROUP", "IFACE", "VRID", "STATE", "PRIO", "EFF",
		    "MASTER", "ADVERT", "RX", "TX", "TRANSITIONS");
	for (size_t i = 0; n != NULL && i < n->n; i++)
		if (json)
			router_json(b, m, i, now);
		else
			router_text(b, m, i);
	if (json) {
		buf_printf(b, "],\"external\":%s,\"interfaces\":[",
		    n != NULL && n->external ? "true" : "false");
		for (size_t s = 0; n != NULL && s < n->n_ports; s++) {
			const struct vrrp_port *k = &n->ports[s];

			buf_printf(b, "%s{\"interface\":\"%s\",\"rx\":%llu,\"dropped\":{",
			    s ? "," : "", k->name, (unsigned long long)k->rx);
			show_drops(b, k->bad, true);
			buf_puts(b, "}}");
		}
		buf_puts(b, "]}\n");
		return;
	}
	for (size_t s = 0; n != NULL && s < n->n_ports; s++) {
		const struct vrrp_port *k = &n->ports[s];

		buf_printf(b, "interface %s: %llu VRRP frames received", k->name,
		    (unsigned long long)k->rx);
		if (drops(k->bad) > 0) {
			buf_puts(b, ", dropped:");
			show_drops(b, k->bad, false);
		}
		buf_puts(b, "\n");
	}
	if (n == NULL)
		buf_puts(b, "no VRRP instances (no vrrp-group in the config)\n");
	else if (n->external)
		buf_puts(b, "vrrp external: states come from lbctl ha (keepalived)\n");
}
