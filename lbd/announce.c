/* Route health injection for a cluster node; see announce.h. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "conf/conf.h"
#include "lbd/announce.h"
#include "lbd/announce_plan.h"
#include "lbd/cluster_peers.h"
#include "lbd/events.h"
#include "lbd/knl.h"
#include "lbd/sync_mgr.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"

struct announce {
	struct knl		*knl;
	uint32_t		 table;
	struct ann_prefix	*plan;		/* the last one, sorted */
	size_t			 n;
	bool			 drained, stopping;
	/* The services' states the plan was made from: the 100 ms timer
	 * calls announce_update, which plans again only when they (or the
	 * config, `stale`) changed. */
	bool			*ok;
	size_t			 n_ok;
	bool			 stale;
	uint64_t		 changes;	/* routes added or removed */
	uint64_t		 errors;	/* ... that the kernel refused */
};

static const char *
pfx_str(const struct ann_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
	return buf;
}

/* ---- flushing: our routes in a table, whatever put them there ------- */

struct found {
	struct ann_prefix	*v;
	size_t			 n, cap;
};

static void
found_one(void *arg, uint8_t family, const uint8_t addr[16], uint8_t plen,
    uint32_t metric)
{
	struct found *f = arg;
	struct ann_prefix *nv;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;

		if ((nv = realloc(f->v, cap * sizeof(*nv))) == NULL)
			return;
		f->v = nv;
		f->cap = cap;
	}
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	f->v[f->n].family = family;
	f->v[f->n].plen = plen;
	f->v[f->n].metric = metric;
	memcpy(f->v[f->n].addr, addr, 16);
	f->n++;
}

/* Remove every route of ours in `table` (collected first: the cache is
 * not to be changed while it is walked). Returns how many, -1 on error. */
static int
flush(struct knl *k, uint32_t table)
{
	struct found f = { 0 };
	int rc = 0;

	knl_announced_each(k, table, found_one, &f);
	for (size_t i = 0; i < f.n; i++)
		if (knl_announce(k, table, f.v[i].family, f.v[i].addr,
		    f.v[i].plen, f.v[i].metric, false) < 0)
			rc = -1;
	free(f.v);
	return rc < 0 ? -1 : (int)f.n;
}

struct announce *
announce_start(struct knl *k, uint32_t table)
{
	struct announce *a = calloc(1, sizeof(*a));
	int n;

	if (a == NULL)
		return NULL;
	a->knl = k;
	a->table = table;
	a->stale = true;
	/* A crashed run's routes say nothing about now. */
	if ((n = flush(k, table)) > 0)
		log_info("cluster: removed %d routes a previous run left in "
		    "table %u", n, table);
	log_info("cluster: announcing in table %u (route protocol %d)", table,
	    KNL_RTPROT_LBD);
	return a;
}

static void
withdraw_all(struct announce *a)
{
	char s[64];

	for (size_t i = 0; i < a->n; i++) {
		if (!a->plan[i].announce)
			continue;
		if (knl_announce(a->knl, a->table, a->plan[i].family,
		    a->plan[i].addr, a->plan[i].plen, a->plan[i].metric,
		    false) < 0)
			a->errors++;
		else
			log_info("cluster: prefix=%s action=withdraw",
			    pfx_str(&a->plan[i], s, sizeof(s)));
		a->changes++;
	}
	free(a->plan);
	a->plan = NULL;
	a->n = 0;
}

void
announce_free(struct announce *a, bool withdraw)
{
	if (a == NULL)
		return;
	if (withdraw)
		withdraw_all(a);
	free(a->plan);
	free(a->ok);
	free(a);
}

void
announce_retable(struct announce *a, uint32_t table)
{
	if (a == NULL)
		return;
	a->stale = true;		/* a reload: another config */
	if (a->table == table)
		return;
	withdraw_all(a);
	a->table = table;
	(void)flush(a->knl, table);
	log_info("cluster: announcing in table %u now", table);
}

void
announce_set(struct announce *a, bool drained, bool stopping)
{
	if (a == NULL)
		return;
	a->stale |= a->drained != drained || a->stopping != stopping;
	a->drained = drained;
	a->stopping = stopping;
}

bool
announce_drained(const struct announce *a)
{
	return a != NULL && a->drained;
}

void
announce_counts(const struct announce *a, uint64_t *announced,
    uint64_t *changes, uint64_t *errors)
{
	*announced = *changes = *errors = 0;
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		*announced += a->plan[i].announce;
	*changes = a->changes;
	*errors = a->errors;
}

/* One route in or out, said in the log and to `lbctl watch`. */
static void
change(struct announce *a, const struct conf *c, const struct ann_prefix *p,
    bool add)
{
	const char *svc = p->svc < c->n_services ? c->services[p->svc].name : "-";
	const char *why = announce_why_name((enum ann_why)p->why);
	char s[64];

	a->changes++;
	if (knl_announce(a->knl, a->table, p->family, p->addr, p->plen,
	    p->metric, add) < 0) {
		a->errors++;
		return;
	}
	pfx_str(p, s, sizeof(s));
	log_info("cluster: prefix=%s action=%s reason=\"%s\" service=%s", s,
	    add ? "announce" : "withdraw", why, svc);
	events_emit("cluster", "prefix", s, "action", add ? "announce" :
	    "withdraw", "reason", why, "service", svc, NULL);
}

void
announce_update(struct announce *a, const struct conf *c, const bool *svc_ok)
{
	struct ann_prefix *p;
	size_t n, i = 0, j = 0;

	if (a == NULL)
		return;
	if (!a->stale && a->n_ok == c->n_services && (c->n_services == 0 ||
	    memcmp(a->ok, svc_ok, c->n_services * sizeof(*svc_ok)) == 0))
		return;
	p = announce_plan(c, svc_ok, a->drained, a->stopping, &n);
	if (n == SIZE_MAX) {
		log_warnx("cluster: out of memory; announcements unchanged");
		return;
	}
	/* Both sorted, each address once: walk them side by side. */
	while (i < a->n || j < n) {
		int d = i == a->n ? 1 : j == n ? -1 : announce_prefix_cmp(&a->plan[i],
		    &p[j]);

		if (d < 0) {
			if (a->plan[i].announce)
				change(a, c, &a->plan[i], false);
			i++;
		} else if (d > 0) {
			if (p[j].announce)
				change(a, c, &p[j], true);
			j++;
		} else if (a->plan[i].announce && p[j].announce &&
		    a->plan[i].metric != p[j].metric) {
			/* Its preference changed (a reload made it this
			 * node's, or another's): the metric is part of the
			 * route, so out with the old one first. */
			change(a, c, &a->plan[i], false);
			change(a, c, &p[j], true);
			i++;
			j++;
		} else {
			if (a->plan[i].announce != p[j].announce)
				change(a, c, &p[j], p[j].announce);
			i++;
			j++;
		}
	}
	free(a->plan);
	a->plan = p;
	a->n = n;
	/* Remembered for the next call; without room, plan again then. */
	free(a->ok);
	a->n_ok = c->n_services;
	a->stale = (a->ok = malloc(a->n_ok ? a->n_ok * sizeof(*a->ok) :
	    1)) == NULL;
	if (a->ok != NULL)
		memcpy(a->ok, svc_ok, a->n_ok * sizeof(*a->ok));
}

const struct ann_prefix *
announce_prefixes(const struct announce *a, size_t *n)
{
	*n = a != NULL ? a->n : 0;
	return a != NULL ? a->plan : NULL;
}

/* A peer's word is current when heard within 3 s (it comes every second). */
static const struct cluster_peer *
peer_word(const struct cluster_peer *peers, int i)
{
	if (peers == NULL || peers[i].heard == 0 ||
	    mono_ms() - peers[i].heard >= 3000)
		return NULL;
	return &peers[i];
}

/* Each sync peer: its state, and what it says it announces. */
static void
show_peers(const struct sync_mgr *sync, const struct cluster_peer *peers,
    struct buf *out, bool json)
{
	int n = sync_mgr_n_peers(sync);
	char s[64];

	if (!json)
		buf_printf(out, "\n%-18s %-10s %-30s %s\n", "PEER", "NODE",
		    "SYNC", "ANNOUNCES");
	for (int i = 0; i < n; i++) {
		const struct cluster_peer *w = peer_word(peers, i);
		struct sync_mgr_peer sp;

		if (!sync_mgr_peer(sync, i, &sp))
			continue;
		if (json) {
			buf_printf(out, "%s{\"peer\":\"%s\",\"node\":", i ? "," :
			    "", sp.addr);
			buf_json_str(out, w != NULL ? w->node : "");
			buf_printf(out, ",\"up\":%s,\"synced\":%s,"
			    "\"config_agrees\":%s,\"applied\":%llu,"
			    "\"heard\":%s,\"announced\":%u,\"prefixes\":[",
			    sp.up ? "true" : "false", sp.synced ? "true" : "false",
			    sp.cfg_mismatch ? "false" : "true",
			    (unsigned long long)sp.applied, w ? "true" : "false",
			    w ? w->total : 0);
			for (size_t k = 0; w != NULL && k < w->n_pfx; k++)
				buf_printf(out, "%s\"%s\"", k ? "," : "",
				    pfx_str(&w->pfx[k], s, sizeof(s)));
			buf_puts(out, "]}");
			continue;
		}
		buf_printf(out, "%-18s %-10s %-30s", sp.addr, w != NULL &&
		    w->node[0] ? w->node : "-", !sp.up ? "down" :
		    sp.cfg_mismatch ? "up, CONFIG DIFFERS" : sp.synced ?
		    "up, synced" : "up, not synced yet");
		if (w == NULL)
			buf_puts(out, " (not heard)");
		for (size_t k = 0; w != NULL && k < w->n_pfx; k++)
			buf_printf(out, " %s", pfx_str(&w->pfx[k], s, sizeof(s)));
		if (w != NULL && w->total > w->n_pfx)
			buf_printf(out, " (and %u more)", w->total -
			    (unsigned)w->n_pfx);
		if (w != NULL && w->total == 0)
			buf_puts(out, " nothing");
		buf_puts(out, "\n");
	}
}

void
announce_show(const struct announce *a, const struct conf *c,
    const struct sync_mgr *sync, const struct cluster_peer *peers,
    struct buf *out, bool json)
{
	uint64_t up, ch, er;
	char s[64];

	if (a == NULL) {
		buf_puts(out, json ? "{\"cluster\":false}\n" : "not a cluster "
		    "node (no cluster block, or no data plane)\n");
		return;
	}
	announce_counts(a, &up, &ch, &er);
	if (json) {
		buf_printf(out, "{\"cluster\":true,\"table\":%u,\"protocol\":%d,"
		    "\"drained\":%s,\"stopping\":%s,\"announced\":%llu,"
		    "\"changes\":%llu,\"errors\":%llu,\"prefixes\":[", a->table,
		    KNL_RTPROT_LBD, a->drained ? "true" : "false",
		    a->stopping ? "true" : "false", (unsigned long long)up,
		    (unsigned long long)ch, (unsigned long long)er);
		for (size_t i = 0; i < a->n; i++) {
			const struct ann_prefix *p = &a->plan[i];

			buf_printf(out, "%s{\"prefix\":\"%s\",\"announced\":%s,"
			    "\"reason\":\"%s\",\"service\":", i ? "," : "",
			    pfx_str(p, s, sizeof(s)), p->announce ? "true" :
			    "false", announce_why_name((enum ann_why)p->why));
			buf_json_str(out, p->svc < c->n_services ?
			    c->services[p->svc].name : "");
			buf_puts(out, "}");
		}
		buf_puts(out, "],\"peers\":[");
		show_peers(sync, peers, out, true);
		buf_puts(out, "]}\n");
		return;
	}
	buf_printf(out, "cluster: %llu of %zu prefixes announced in table %u "
	    "(route protocol %d)%s%s; %llu route changes, %llu refused\n",
	    (unsigned long long)up, a->n, a->table, KNL_RTPROT_LBD,
	    a->drained ? ", DRAINED" : "", a->stopping ? ", STOPPING" : "",
	    (unsigned long long)ch, (unsigned long long)er);
	buf_printf(out, "%-40s %-10s %-34s %s\n", "PREFIX", "STATE", "REASON",
	    "SERVICE");
	for (size_t i = 0; i < a->n; i++) {
		const struct ann_prefix *p = &a->plan[i];

		buf_printf(out, "%-40s %-10s %-34s %s\n", pfx_str(p, s, sizeof(s)),
		    p->announce ? "announced" : "withdrawn",
		    announce_why_name((enum ann_why)p->why),
		    p->svc < c->n_services ? c->services[p->svc].name : "-");
	}
	if (sync_mgr_n_peers(sync) > 0)
		show_peers(sync, peers, out, false);
}

int
announce_withdraw_file(const char *conf_path)
{
	struct conf_diags diags = { 0 };
	struct conf *c = conf_load(conf_path, &diags);
	struct knl_cb cb = { 0 };
	struct ev_loop *loop;
	struct knl *k;
	char err[256];
	int n, rc = 1;

	conf_diags_free(&diags);
	if (c == NULL) {
		log_warnx("withdraw: %s has errors; nothing removed", conf_path);
		return 1;
	}
	if (!c->cluster.present) {
		conf_free(c);
		return 0;
	}
	if ((loop = ev_default_loop(EVFLAG_AUTO)) == NULL ||
	    (k = knl_open(loop, &cb, err, sizeof(err))) == NULL)
		log_warnx("withdraw: rtnetlink: %s", loop ? err : "no event loop");
	else {
		if ((n = flush(k, c->cluster.announce_table)) >= 0) {
			log_info("withdraw: removed %d routes from table %u", n,
			    c->cluster.announce_table);
			rc = 0;
		}
		knl_close(k);
	}
	conf_free(c);
	return rc;
}
