/*
 * `lbctl show vrrp`: the core's routers and ports as a table or JSON.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lbd/stats.h"
#include "lbd/vrrp_mgr_int.h"
#include "lib/clock.h"

static void
show_addr(struct buf *b, uint8_t family, const uint8_t *a)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
	buf_puts(b, ip);
}

/* Drops by reason, for people: ` r n ...` where not zero. */
static void
show_drops(struct buf *b, const uint64_t bad[VRRP_BAD__COUNT])
{
	for (int r = 1; r < VRRP_BAD__COUNT; r++)
		if (bad[r] != 0)
			buf_printf(b, " %s %llu", vrrp_bad_name((enum vrrp_bad)r),
			    (unsigned long long)bad[r]);
}

static uint64_t
drops(const uint64_t bad[VRRP_BAD__COUNT])
{
	uint64_t n = 0;

	for (int r = 1; r < VRRP_BAD__COUNT; r++)
		n += bad[r];
	return n;
}

static void
keeper_stats(const struct vrrp_mgr *m, int64_t *v)
{
	v[SK_RUNNING] = m != NULL && m->keeper != NULL;
	v[SK_REALTIME] = m != NULL && vrrp_keeper_realtime(m->keeper);
	v[SK_KEPT] = m != NULL ? (int64_t)vrrp_keeper_kept(m->keeper) : 0;
}

static void
group_stats(const struct vrrp_node *n, size_t g, int64_t *v)
{
	const struct vrrp_group *gr = &n->groups[g];

	v[SG_MASTER] = gr->state == VRRP_MASTER;
	v[SG_HEARTBEAT] = n->hb && n->peer_alive;
	v[SG_PEER_MASTER] = n->hb && n->peer_alive && gr->peer_known &&
	    gr->peer_state == VRRP_MASTER;
	v[SG_PARTITION] = gr->held != VRRP_HOLD_NONE;
	v[SG_PARTITIONS] = (int64_t)gr->partitions;
	v[SG_SPLIT_BRAINS] = (int64_t)gr->split_brains;
}

static void
router_stats(const struct vrrp_router *r, uint64_t now, int64_t *v)
{
	const struct vrrp_fsm *f = &r->fsm;

	v[SR_MASTER] = f->state == VRRP_MASTER;
	v[SR_PRIORITY] = r->cfg_prio;
	v[SR_EFFECTIVE_PRIORITY] = f->prio;
	v[SR_ADVERT_MS] = f->cfg.adver_cs * 10;
	v[SR_MASTER_ADVERT_MS] = f->master_adver_cs * 10;
	v[SR_TRANSITIONS] = (int64_t)f->transitions;
	v[SR_SINCE] = r->last_change > 0 ? (int64_t)(now - r->last_change) : 0;
	v[SR_RX] = (int64_t)r->rx;
	v[SR_TX] = (int64_t)r->tx;
	v[SR_INTERFACE_UP] = !r->own_down;
}

static void
router_json(struct buf *b, const struct vrrp_mgr *m, size_t i, uint64_t now)
{
	const struct vrrp_router *r = &m->node->r[i];
	const struct vinst *vi = &m->vi[i];
	const struct vrrp_fsm *f = &r->fsm;
	int64_t v[SR__COUNT];

	router_stats(r, now, v);
	buf_printf(b, "%s{\"instance\":\"%s\",\"group\":\"%s\","
	    "\"interface\":\"%s\",\"vrid\":%u,\"family\":%u,"
	    "\"version\":%u,\"state\":\"%s\",\"master\":\"", i ? "," : "",
	    r->name, m->node->groups[r->group].name, vi->sock->ifname,
	    f->cfg.vrid, r->family, f->cfg.version, vrrp_state_name(f->state));
	if (f->state != VRRP_INIT && f->state != VRRP_FAULT)
		show_addr(b, r->family, f->master);
	buf_puts(b, "\"");
	stats_json(b, ST_VRRP, v, true);
	stats_json_reasons(b, &stat_vrrp_drops, r->bad, true);
	buf_printf(b, ",\"unicast_peers\":%u,\"tracks\":[", r->n_peers);
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
router_text(struct buf *b, const struct vrrp_mgr *m, size_t i, uint64_t now)
{
	const struct vrrp_router *r = &m->node->r[i];
	const struct vinst *vi = &m->vi[i];
	const struct vrrp_fsm *f = &r->fsm;
	struct buf ma = { 0 };
	int64_t v[SR__COUNT];

	router_stats(r, now, v);
	if (f->state == VRRP_MASTER)
		buf_puts(&ma, "self");
	else if (f->state == VRRP_BACKUP && f->master[0] != 0)
		show_addr(&ma, r->family, f->master);
	else
		buf_puts(&ma, "-");
	buf_printf(b, "%-12s %-10s %-8s %4u %-7s", r->name,
	    m->node->groups[r->group].name, vi->sock->ifname, f->cfg.vrid,
	    vrrp_state_name(f->state));
	stats_text_row(b, ST_VRRP, v);
	buf_printf(b, " %-24s %llu\n", ma.p ? ma.p : "-",
	    (unsigned long long)f->transitions);
	buf_free(&ma);
	if (drops(r->bad) > 0) {
		buf_puts(b, "  dropped:");
		show_drops(b, r->bad);
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

/* `vrrp external`: a group's state and where it came from. */
static void
ext_group_text(struct buf *b, const struct vrrp_mgr *m, size_t g)
{
	const struct vgroup *v = &m->vg[g];
	char when[32] = "";
	struct tm tm;

	if (v->src != VEXT_NONE && localtime_r(&v->when, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(b, "  group %s: %s, ", m->node->groups[g].name,
	    vrrp_state_name(m->node->groups[g].state));
	if (v->src == VEXT_LBCTL)
		buf_printf(b, "lbctl ha at %s\n", when);
	else if (v->src == VEXT_FILE)
		buf_printf(b, "lbctl ha at %s, before lbd restarted (%s)\n",
		    when, m->ext_path);
	else
		buf_puts(b, "no word from lbctl ha yet\n");
}

void
vrrp_mgr_show(const struct vrrp_mgr *m, struct buf *b, bool json)
{
	uint64_t now = mono_ms();
	const struct vrrp_node *n = m != NULL ? m->node : NULL;

	if (json)
		buf_puts(b, "{\"instances\":[");
	else
	{
		buf_printf(b, "%-12s %-10s %-8s %4s %-7s", "INSTANCE", "GROUP",
		    "IFACE", "VRID", "STATE");
		stats_text_head(b, ST_VRRP);
		buf_printf(b, " %-24s %s\n", "MASTER", "TRANSITIONS");
	}
	for (size_t i = 0; n != NULL && i < n->n; i++)
		if (json)
			router_json(b, m, i, now);
		else
			router_text(b, m, i, now);
	if (json) {
		int64_t kv[SK__COUNT];

		keeper_stats(m, kv);
		buf_printf(b, "],\"external\":%s,\"advert_keeper\":{",
		    n != NULL && n->external ? "true" : "false");
		stats_json(b, ST_VRRP_KEEPER, kv, false);
		buf_puts(b, "},\"interfaces\":[");
		for (size_t s = 0; n != NULL && s < n->n_ports; s++) {
			const struct vrrp_port *k = &n->ports[s];

			int64_t v[SRP__COUNT] = { [SRP_RX] = (int64_t)k->rx };

			buf_printf(b, "%s{\"interface\":\"%s\"", s ? "," : "",
			    k->name);
			stats_json(b, ST_VRRP_PORT, v, true);
			stats_json_reasons(b, &stat_vrrp_port_drops, k->bad, true);
			buf_puts(b, "}");
		}
		buf_puts(b, "],\"groups\":[");
		for (size_t g = 0; n != NULL && g < n->n_groups; g++) {
			int64_t gv[SG__COUNT];

			group_stats(n, g, gv);
			buf_printf(b, "%s{\"group\":\"%s\",\"state\":\"%s\"",
			    g ? "," : "", n->groups[g].name,
			    vrrp_state_name(n->groups[g].state));
			stats_json(b, ST_VRRP_GROUP, gv, true);
			if (n->groups[g].held != VRRP_HOLD_NONE)
				buf_printf(b, ",\"held_by\":\"%s\"",
				    vrrp_hold_name(n->groups[g].held));
			if (n->external)
				buf_printf(b, ",\"source\":\"%s\",\"given\":%lld",
				    vrrp_ext_src_name(m->vg[g].src),
				    (long long)m->vg[g].when);
			buf_puts(b, "}");
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
			show_drops(b, k->bad);
		}
		buf_puts(b, "\n");
	}
	for (size_t g = 0; n != NULL && g < n->n_groups && !n->external; g++) {
		const struct vrrp_group *gr = &n->groups[g];
		int64_t gv[SG__COUNT];

		group_stats(n, g, gv);
		buf_printf(b, "group %s: %s", gr->name, vrrp_state_name(gr->state));
		if (n->hb) {
			buf_puts(b, "; ");
			stats_say(b, ST_VRRP_GROUP, gv, SG_HEARTBEAT, SG__COUNT);
		} else {
			buf_puts(b, "; no heartbeat (no sync block); ");
			stats_say(b, ST_VRRP_GROUP, gv, SG_PARTITION, SG__COUNT);
		}
		if (gr->held != VRRP_HOLD_NONE)
			buf_printf(b, " (takeover held back: %s)",
			    vrrp_hold_name(gr->held));
		buf_puts(b, "\n");
	}
	if (m != NULL && m->keeper != NULL)
		buf_printf(b, "advert keeper thread (%s): %llu adverts sent while "
		    "the main loop was late\n", vrrp_keeper_realtime(m->keeper) ?
		    "realtime" : "normal priority",
		    (unsigned long long)vrrp_keeper_kept(m->keeper));
	if (n == NULL)
		buf_puts(b, "no VRRP instances (no vrrp-group in the config)\n");
	else if (n->external) {
		buf_puts(b, "vrrp external: states come from lbctl ha (keepalived)\n");
		for (size_t g = 0; g < n->n_groups; g++)
			ext_group_text(b, m, g);
	}
}

/* The VRRP families: per instance and per interface. */
void
vrrp_mgr_metrics(const struct vrrp_mgr *m, struct buf *o)
{
	struct stat_rows rr = { 0 }, pr = { 0 }, gr = { 0 };
	struct stat_reason_rows dr = { .n_labels = 2,
				       .label_names = { "vrrp_instance", "group" } };
	struct stat_reason_rows sr = { .n_labels = 2,
				       .label_names = { "vrrp_instance", "group" } };
	struct stat_reason_rows pd = { .n_labels = 1,
				       .label_names = { "interface" } };
	uint64_t now = mono_ms(), (*states)[VRRP_FAULT + 1];
	const struct vrrp_node *n;
	int64_t *v;

	if (m == NULL)
		return;
	n = m->node;
	if ((states = calloc(n->n ? n->n : 1, sizeof(*states))) == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct vrrp_router *r = &n->r[i];
		const char *l[2] = { r->name, n->groups[r->group].name };

		if ((v = stats_row(&rr, ST_VRRP, l)) != NULL)
			router_stats(r, now, v);
		(void)stats_reason_row(&dr, l, r->bad);
		states[i][r->fsm.state <= VRRP_FAULT ? r->fsm.state : 0] = 1;
		(void)stats_reason_row(&sr, l, states[i]);
	}
	for (size_t i = 0; i < n->n_ports; i++) {
		const char *l[1] = { n->ports[i].name };

		if ((v = stats_row(&pr, ST_VRRP_PORT, l)) != NULL)
			v[SRP_RX] = (int64_t)n->ports[i].rx;
		(void)stats_reason_row(&pd, l, n->ports[i].bad);
	}
	stats_prom(o, ST_VRRP, &rr);
	stats_prom_reasons(o, &stat_vrrp_states, &sr);
	stats_prom_reasons(o, &stat_vrrp_drops, &dr);
	stats_prom(o, ST_VRRP_PORT, &pr);
	for (size_t g = 0; g < n->n_groups && !n->external; g++) {
		const char *l[1] = { n->groups[g].name };

		if ((v = stats_row(&gr, ST_VRRP_GROUP, l)) != NULL)
			group_stats(n, g, v);
	}
	stats_prom(o, ST_VRRP_GROUP, &gr);
	stats_rows_free(&gr);
	{
		struct stat_rows kr = { 0 };

		if ((v = stats_row(&kr, ST_VRRP_KEEPER, NULL)) != NULL)
			keeper_stats(m, v);
		stats_prom(o, ST_VRRP_KEEPER, &kr);
		stats_rows_free(&kr);
	}
	stats_prom_reasons(o, &stat_vrrp_port_drops, &pd);
	stats_rows_free(&rr);
	stats_rows_free(&pr);
	stats_reason_rows_free(&dr);
	stats_reason_rows_free(&sr);
	stats_reason_rows_free(&pd);
	free(states);
}
