/* The pair's word and `lbctl show pair`; see pair.h. */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lbd/backends.h"
#include "lbd/daemon.h"
#include "lbd/health_mgr.h"
#include "lbd/pair.h"
#include "lbd/sync_mgr.h"
#include "lbd/vrrp_mgr.h"
#include "lib/addr.h"
#include "lib/clock.h"

#define PAIR_VERSION	1
#define PAIR_BUCKETS	32
#define PAIR_SECT_MAX	96	/* one by one up to this many, else buckets */
#define PAIR_OUT_MAX	100	/* backends out, listed */

enum { K_SEED = 1, K_GROUP = 2, K_SERVICE = 3, K_BUCKET = 4 };
enum { WHY_HEALTH = 1, WHY_ADMIN = 2 };

struct sect {
	uint8_t		 kind;
	uint32_t	 name, content;
	const char	*label;		/* local only */
};

struct out_be {
	uint32_t	 name;
	uint8_t		 why;
};

struct pair_peer {
	char		 node[65];
	struct sect	 sect[PAIR_SECT_MAX + PAIR_BUCKETS];
	size_t		 n_sect;
	struct out_be	 out[PAIR_OUT_MAX];
	size_t		 n_out;
	uint32_t	 out_total;
	uint64_t	 heard;		/* mono ms */
};

/* ---- hashing: FNV-1a, 32 bits, over the fields that must agree -------- */

static uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

#define FNV0		2166136261u
#define FNVS(h, s)	fnv((h), (s), strlen(s) + 1)
#define FNVV(h, v)	fnv((h), &(v), sizeof(v))

static uint32_t
addr_hash(uint32_t h, const struct conf_addr *a)
{
	uint8_t b[16];

	conf_addr_a16(b, a);
	return fnv(h, b, 16);
}

static uint32_t
name_hash(const char *s)
{
	return FNVS(FNV0, s);
}

/* The same fields the sync config hash covers (lbd/sync_mgr.c). */
static uint32_t
service_hash(const struct conf_service *s)
{
	uint32_t h = addr_hash(FNV0, &s->vip);

	h = FNVV(h, s->proto);
	h = FNVV(h, s->port);
	h = FNVV(h, s->mode);
	h = FNVV(h, s->sched);
	for (size_t k = 0; k < s->n_snat_pool; k++)
		h = addr_hash(h, &s->snat_pool[k]);
	for (size_t k = 0; k < s->n_backends; k++) {
		h = FNVS(h, s->backends[k].name);
		h = addr_hash(h, &s->backends[k].addr);
		h = FNVV(h, s->backends[k].port);
	}
	return h;
}

static uint32_t
group_hash(const struct conf_group *g)
{
	uint32_t h = FNV0;

	for (size_t i = 0; i < g->n_instances; i++) {
		const struct conf_instance *in = &g->instances[i];

		h = FNVS(h, in->name);
		h = FNVV(h, in->vrid);
		for (size_t k = 0; k < in->n_vaddrs; k++)
			h = addr_hash(h, &in->vaddrs[k]);
	}
	return h;
}

/* This node's sections; services folded into buckets when there are too
 * many for the word. */
static size_t
sections(const struct conf *c, struct sect *v)
{
	uint64_t seed = conf_hash_seed(&c->global);
	size_t n = 0;
	bool fold = c->n_groups + c->n_services + 1 > PAIR_SECT_MAX;

	v[n++] = (struct sect){ K_SEED, name_hash("hash-seed"),
	    FNVV(FNV0, seed), "hash-seed" };
	/* (Folded, the buckets take the room of 32 sections: the word
	 * stays within SYNC_STATUS_MAX.) */
	for (size_t g = 0; g < c->n_groups && n < (fold ? PAIR_SECT_MAX -
	    PAIR_BUCKETS : PAIR_SECT_MAX); g++)
		v[n++] = (struct sect){ K_GROUP, name_hash(c->groups[g].name),
		    group_hash(&c->groups[g]), c->groups[g].name };
	if (!fold) {
		for (size_t i = 0; i < c->n_services; i++)
			v[n++] = (struct sect){ K_SERVICE,
			    name_hash(c->services[i].name),
			    service_hash(&c->services[i]), c->services[i].name };
		return n;
	}
	for (uint32_t b = 0; b < PAIR_BUCKETS; b++)
		v[n + b] = (struct sect){ K_BUCKET, b, 0, NULL };
	for (size_t i = 0; i < c->n_services; i++) {
		uint32_t nh = name_hash(c->services[i].name);

		v[n + nh % PAIR_BUCKETS].content += nh * 31u +
		    service_hash(&c->services[i]);
	}
	return n + PAIR_BUCKETS;
}

/* Backends that take no new connection here, and why. */
static size_t
out_backends(struct lbd *d, struct out_be *v, size_t max, uint32_t *total)
{
	size_t n = 0;

	*total = 0;
	for (size_t i = 0; i < d->backends.n; i++) {
		const struct be *b = &d->backends.v[i];
		struct be_health h;
		struct be_effective e;

		health_mgr_lookup(d->health, b->name, &h);
		be_effective(b, &h, &e);
		if (e.takes_new)
			continue;
		(*total)++;
		if (n < max)
			v[n++] = (struct out_be){ name_hash(b->name),
			    e.health_down ? WHY_HEALTH : WHY_ADMIN };
	}
	return n;
}

/* ---- the word ------------------------------------------------------------ */

size_t
pair_word(struct lbd *d, uint8_t *out, size_t cap)
{
	struct sect s[PAIR_SECT_MAX + PAIR_BUCKETS];
	struct out_be o[PAIR_OUT_MAX];
	const char *node = d->conf->global.node_id ? d->conf->global.node_id :
	    "";
	size_t ns = sections(d->conf, s), nl = strlen(node), at = 0, no;
	uint32_t total;

	if (nl > 64)
		nl = 64;
	no = out_backends(d, o, PAIR_OUT_MAX, &total);
	if (cap < 2 + nl + 2 + ns * 9 + 6)
		return 0;
	/* The list as far as it fits; the total says how many there are. */
	if (no > (cap - (2 + nl + 2 + ns * 9 + 6)) / 5)
		no = (cap - (2 + nl + 2 + ns * 9 + 6)) / 5;
	out[at++] = PAIR_VERSION;
	out[at++] = (uint8_t)nl;
	memcpy(out + at, node, nl);
	at += nl;
	put16(out + at, (uint16_t)ns);
	at += 2;
	for (size_t i = 0; i < ns; i++) {
		out[at] = s[i].kind;
		put32(out + at + 1, s[i].name);
		put32(out + at + 5, s[i].content);
		at += 9;
	}
	put32(out + at, total);
	put16(out + at + 4, (uint16_t)no);
	at += 6;
	for (size_t i = 0; i < no; i++) {
		put32(out + at, o[i].name);
		out[at + 4] = o[i].why;
		at += 5;
	}
	return at;
}

int
pair_peer_word(struct lbd *d, const uint8_t *w, size_t len)
{
	struct pair_peer p = { 0 };
	size_t at = 2, ns, no;

	if (len < 2 || w[0] != PAIR_VERSION || len < 2u + w[1] + 2)
		return -1;
	memcpy(p.node, w + 2, w[1] < 64 ? w[1] : 64);
	at += w[1];
	ns = get16(w + at);
	at += 2;
	if (ns > PAIR_SECT_MAX + PAIR_BUCKETS || len < at + ns * 9 + 6)
		return -1;
	for (size_t i = 0; i < ns; i++, at += 9)
		p.sect[i] = (struct sect){ w[at], get32(w + at + 1),
		    get32(w + at + 5), NULL };
	p.n_sect = ns;
	p.out_total = get32(w + at);
	no = get16(w + at + 4);
	at += 6;
	if (no > PAIR_OUT_MAX || len != at + no * 5)
		return -1;
	for (size_t i = 0; i < no; i++, at += 5)
		p.out[i] = (struct out_be){ get32(w + at), w[at + 4] };
	p.n_out = no;
	p.heard = mono_ms();
	if (d->pair == NULL && (d->pair = malloc(sizeof(*d->pair))) == NULL)
		return 0;
	*d->pair = p;
	return 0;
}

void
pair_free(struct lbd *d)
{
	free(d->pair);
	d->pair = NULL;
}

/* ---- comparing ------------------------------------------------------------ */

static const struct sect *
find_sect(const struct sect *v, size_t n, uint8_t kind, uint32_t name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == kind && v[i].name == name)
			return &v[i];
	return NULL;
}

static const struct out_be *
find_out(const struct out_be *v, size_t n, uint32_t name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name == name)
			return &v[i];
	return NULL;
}

static const char *
kind_name(uint8_t k)
{
	return k == K_SEED ? "global" : k == K_GROUP ? "vrrp-group" :
	    k == K_SERVICE ? "service" : "services";
}

/* Is the peer's word fresh (heard within 3 s)? */
static bool
peer_fresh(const struct lbd *d)
{
	return d->pair != NULL && mono_ms() - d->pair->heard < 3000;
}

bool
pair_backends_ready(struct lbd *d, char *why, size_t len)
{
	struct out_be o[PAIR_OUT_MAX];
	uint32_t total;
	size_t no, k = 0;

	if (!peer_fresh(d)) {
		snprintf(why, len, "the peer has not said which of its backends "
		    "are out (an older lbd, or no word for 3 s)");
		return false;
	}
	no = out_backends(d, o, PAIR_OUT_MAX, &total);
	/* A backend out on the peer only would lose its share there. */
	why[0] = '\0';
	for (size_t i = 0; i < d->backends.n; i++) {
		uint32_t h = name_hash(d->backends.v[i].name);

		if (find_out(d->pair->out, d->pair->n_out, h) != NULL &&
		    find_out(o, no, h) == NULL) {
			size_t at = strlen(why);

			if (k++ == 0)
				snprintf(why, len, "backends out on the peer but "
				    "taking connections here: %s",
				    d->backends.v[i].name);
			else if (at + 2 < len)
				snprintf(why + at, len - at, ", %s",
				    d->backends.v[i].name);
		}
	}
	if (k == 0 && d->pair->out_total > d->pair->n_out &&
	    d->pair->out_total > total) {
		snprintf(why, len, "the peer has %u backends out, this node %u",
		    d->pair->out_total, total);
		return false;
	}
	return k == 0;
}

static void
show_sections(struct lbd *d, struct buf *o, bool json)
{
	struct sect s[PAIR_SECT_MAX + PAIR_BUCKETS];
	size_t ns = sections(d->conf, s), shown = 0;
	const struct pair_peer *p = d->pair;

	for (size_t i = 0; i < ns; i++) {
		const struct sect *q = find_sect(p->sect, p->n_sect, s[i].kind,
		    s[i].name);
		const char *what = q == NULL ? "only here" :
		    q->content != s[i].content ? "differs" : NULL;
		char label[160];

		if (what == NULL)
			continue;
		if (s[i].kind == K_BUCKET) {
			/* Which services: those of this bucket, here. */
			size_t at = 0;

			label[0] = '\0';
			for (size_t k = 0; k < d->conf->n_services && at + 24 <
			    sizeof(label); k++)
				if (name_hash(d->conf->services[k].name) %
				    PAIR_BUCKETS == s[i].name)
					at += (size_t)snprintf(label + at,
					    sizeof(label) - at, "%s%s", at ? "," :
					    "one of ", d->conf->services[k].name);
		} else
			snprintf(label, sizeof(label), "%s", s[i].label);
		if (json) {
			buf_puts(o, shown ? ",{\"section\":" : "{\"section\":");
			buf_json_str(o, kind_name(s[i].kind));
			buf_puts(o, ",\"name\":");
			buf_json_str(o, label);
			buf_printf(o, ",\"difference\":\"%s\"}", what);
		} else
			buf_printf(o, "  %s %s: %s\n", kind_name(s[i].kind), label,
			    what);
		shown++;
	}
	for (size_t i = 0; i < p->n_sect; i++) {
		if (find_sect(s, ns, p->sect[i].kind, p->sect[i].name) != NULL)
			continue;
		if (json)
			buf_printf(o, "%s{\"section\":\"%s\",\"name\":null,"
			    "\"difference\":\"only on the peer\"}", shown ? "," : "",
			    kind_name(p->sect[i].kind));
		else
			buf_printf(o, "  a %s this node does not have: only on the "
			    "peer\n", kind_name(p->sect[i].kind));
		shown++;
	}
	if (!json && shown == 0)
		buf_puts(o, "  none: the sections that must agree do\n");
}

static void
show_backends(struct lbd *d, struct buf *o, bool json)
{
	struct out_be here[PAIR_OUT_MAX];
	uint32_t total;
	size_t nh = out_backends(d, here, PAIR_OUT_MAX, &total), shown = 0;
	const struct pair_peer *p = d->pair;

	for (size_t i = 0; i < d->backends.n; i++) {
		uint32_t h = name_hash(d->backends.v[i].name);
		const struct out_be *a = find_out(here, nh, h);
		const struct out_be *b = find_out(p->out, p->n_out, h);
		const char *where;

		if ((a == NULL) == (b == NULL))
			continue;
		where = a != NULL ? "out here only" : "out on the peer only";
		if (json) {
			buf_puts(o, shown ? ",{\"backend\":" : "{\"backend\":");
			buf_json_str(o, d->backends.v[i].name);
			buf_printf(o, ",\"where\":\"%s\",\"why\":\"%s\"}",
			    a ? "here" : "peer", (a ? a : b)->why == WHY_HEALTH ?
			    "health" : "admin");
		} else
			buf_printf(o, "  %s: %s (%s)\n", d->backends.v[i].name,
			    where, (a ? a : b)->why == WHY_HEALTH ? "health" :
			    "admin or weight");
		shown++;
	}
	if (!json && shown == 0 && total == 0)
		buf_puts(o, "  none\n");
	else if (!json && shown == 0)
		buf_printf(o, "  none (%u out on both)\n", total);
}

void
pair_show(struct lbd *d, struct buf *o, bool json)
{
	const char *node = d->conf->global.node_id ? d->conf->global.node_id :
	    "-";
	bool fresh = peer_fresh(d);
	char why[256];
	bool ready = sync_mgr_ready(d->sync, why, sizeof(why));

	if (json) {
		buf_puts(o, "{\"node\":");
		buf_json_str(o, node);
		buf_puts(o, ",\"peer\":");
		if (d->pair != NULL) {
			buf_puts(o, "{\"node\":");
			buf_json_str(o, d->pair->node);
			buf_printf(o, ",\"heard_ms\":%llu}",
			    (unsigned long long)(mono_ms() - d->pair->heard));
		} else
			buf_puts(o, "null");
		buf_printf(o, ",\"fresh\":%s,\"sync_ready\":%s,\"sync\":",
		    fresh ? "true" : "false", ready ? "true" : "false");
		buf_json_str(o, ready ? "ready" : why);
		buf_puts(o, ",\"groups\":[");
	} else {
		buf_printf(o, "%-22s %-26s %s\n", "", "THIS NODE", "PEER");
		if (d->pair != NULL)
			buf_printf(o, "%-22s %-26s %s (heard %llu ms ago)\n", "node",
			    node, d->pair->node,
			    (unsigned long long)(mono_ms() - d->pair->heard));
		else
			buf_printf(o, "%-22s %-26s %s\n", "node", node,
			    "(not heard: no sync block, or an older lbd)");
	}
	for (size_t g = 0; g < vrrp_mgr_groups(d->vrrp); g++) {
		struct vrrp_group_view v;
		char here[48], there[48], label[80];

		if (vrrp_mgr_group_view(d->vrrp, g, &v) < 0)
			continue;
		if (json) {
			buf_puts(o, g ? ",{\"group\":" : "{\"group\":");
			buf_json_str(o, v.name);
			buf_printf(o, ",\"state\":\"%s\",\"priority\":%u,"
			    "\"peer_state\":\"%s\",\"peer_priority\":%u}", v.state,
			    v.prio, v.peer_known ? v.peer_state : "unknown",
			    v.peer_prio);
			continue;
		}
		snprintf(label, sizeof(label), "group %s", v.name);
		snprintf(here, sizeof(here), "%s, priority %u", v.state, v.prio);
		if (v.peer_known)
			snprintf(there, sizeof(there), "%s, priority %u",
			    v.peer_state, v.peer_prio);
		else
			snprintf(there, sizeof(there), "%s", v.heartbeat ?
			    "(no word of it)" : "(not heard)");
		buf_printf(o, "%-22s %-26s %s\n", label, here, there);
	}
	if (json)
		buf_puts(o, "],\"config_differs\":[");
	else
		buf_printf(o, "%-22s %s\n", "sync", ready ? "ready: the peer has "
		    "this node's connections" : why);
	if (fresh) {
		if (!json)
			buf_puts(o, "configuration sections that differ:\n");
		show_sections(d, o, json);
	} else if (!json)
		buf_puts(o, "configuration sections that differ: unknown (no word "
		    "from the peer)\n");
	if (json)
		buf_puts(o, "],\"backends_differ\":[");
	if (fresh) {
		if (!json)
			buf_puts(o, "backends out on one node only:\n");
		show_backends(d, o, json);
	} else if (!json)
		buf_puts(o, "backends out on one node only: unknown\n");
	if (json)
		buf_puts(o, "]}\n");
}
