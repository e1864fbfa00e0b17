/*
 * The packet engine: dp_process() and the tables it reads.
 *
 * A frame is parsed, matched against the connection table (either
 * direction), else against the services; new connections are scheduled and
 * entered; then the frame is rewritten in place for its mode and given the
 * Ethernet addresses of its next hop. Every rewrite derives from the entry's
 * two tuples alone, so a connection keeps forwarding even after a reload
 * removed its backend (it drains).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/csum.h"
#include "lbd/engine/dp.h"
#include "lbd/engine/snat.h"
#include "lbd/engine/engine_int.h"
#include <arpa/inet.h>

const char *
dp_drop_name(enum dp_drop r)
{
	static const char *const names[] = {
#define DP_DROP_NAME(name, str)	str,
		DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
	};
	return (unsigned)r < DP_DROP__COUNT ? names[r] : "?";
}

/* ---- lookups -------------------------------------------------------- */

static uint64_t
svc_key_hash(uint8_t family, const uint8_t *vip, uint8_t proto, uint16_t port)
{
	struct dp_tuple t;

	memset(&t, 0, sizeof(t));
	memcpy(t.dst, vip, 16);
	t.dport = port;
	t.proto = proto;
	t.family = family;
	return dp_tuple_hash(&t, 0x737663);
}

static int32_t
svc_find(const uint32_t *hash, uint32_t mask, const struct dp_service *svcs,
    uint8_t family, const uint8_t *vip, uint8_t proto, uint16_t port)
{
	uint32_t i;

	if (hash == NULL)
		return -1;
	i = (uint32_t)svc_key_hash(family, vip, proto, port) & mask;
	for (;; i = (i + 1) & mask) {
		const struct dp_service *s;
		if (hash[i] == 0)
			return -1;
		s = &svcs[hash[i] - 1];
		if (s->family == family && s->proto == proto && s->port == port &&
		    memcmp(s->vip, vip, 16) == 0)
			return (int32_t)(hash[i] - 1);
	}
}

int32_t
svc_lookup(const struct dp_engine *e, uint8_t family, const uint8_t *vip,
    uint8_t proto, uint16_t port)
{
	return svc_find(e->svc_hash, e->svc_mask, e->svc, family, vip, proto, port);
}

/* Is `addr` any service's VIP (any port)? For fragments, which carry none. */
bool
is_vip(const struct dp_engine *e, uint8_t family, const uint8_t *addr)
{
	for (uint32_t i = 0; i < e->n_svc; i++)
		if (e->svc[i].family == family &&
		    memcmp(e->svc[i].vip, addr, 16) == 0)
			return true;
	return false;
}


/* Longest-prefix match; fills the egress and the next hop's address. */
bool
route(const struct dp_engine *e, uint8_t family, const uint8_t *dst,
    uint16_t *ifidx, const uint8_t **nexthop)
{
	const struct dp_route *best = NULL;

	for (uint16_t i = 0; i < e->n_routes; i++) {
		const struct dp_route *r = &e->routes[i];
		if (r->family == family && (best == NULL || r->plen > best->plen) &&
		    addr_pfx_match(dst, r->prefix, r->plen))
			best = r;
	}
	if (best == NULL)
		return false;
	*ifidx = best->ifidx;
	*nexthop = best->has_gw ? best->gw : dst;
	return true;
}

/* Neighbour lookups run on every forwarded packet: a multiply-shift hash of
 * the address words, not the full tuple hash. */
static uint32_t
neigh_slot(const struct dp_engine *e, uint8_t family, const uint8_t *addr)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (uint32_t)(((a ^ (b * 0x9e3779b97f4a7c15ull) ^ family) *
	    0xff51afd7ed558ccdull) >> 32) & e->neigh_mask;
}

const struct neigh *
neigh_find(const struct dp_engine *e, uint8_t family, const uint8_t *addr)
{
	for (uint32_t i = neigh_slot(e, family, addr), n = 0; n <= e->neigh_mask;
	    i = (i + 1) & e->neigh_mask, n++) {
		const struct neigh *nb = &e->neigh[i];
		if (nb->family == 0)
			return NULL;
		if (nb->family == family && memcmp(nb->addr, addr, 16) == 0)
			return nb;
	}
	return NULL;
}

int
dp_set_neigh(struct dp_engine *e, uint8_t family, const uint8_t *addr,
    uint16_t ifidx, const uint8_t mac[6])
{
	uint8_t a[16] = { 0 };

	memcpy(a, addr, addr_len(family));
	for (uint32_t i = neigh_slot(e, family, a), n = 0; n <= e->neigh_mask;
	    i = (i + 1) & e->neigh_mask, n++) {
		struct neigh *nb = &e->neigh[i];
		if (nb->family == 0 || (nb->family == family &&
		    memcmp(nb->addr, a, 16) == 0)) {
			/* A next hop moved: flows carry its old MAC. */
			if (nb->family != 0 && (memcmp(nb->mac, mac, 6) != 0 ||
			    nb->ifidx != ifidx))
				dp_flows_revoke(e);
			nb->family = family;
			memcpy(nb->addr, a, 16);
			memcpy(nb->mac, mac, 6);
			nb->ifidx = ifidx;
			return 0;
		}
	}
	return -1;
}

void
want_resolve(struct dp_engine *e, uint8_t family, uint16_t ifidx,
    const uint8_t *addr)
{
	for (uint32_t i = 0; i < e->n_resolve; i++)
		if (e->resolve[i].family == family &&
		    memcmp(e->resolve[i].addr, addr, 16) == 0)
			return;
	if (e->n_resolve == RESOLVE_MAX) {
		e->stats.resolve_lost++;
		return;
	}
	e->resolve[e->n_resolve].family = family;
	e->resolve[e->n_resolve].ifidx = ifidx;
	memcpy(e->resolve[e->n_resolve].addr, addr, 16);
	e->n_resolve++;
}

size_t
dp_resolve_requests(struct dp_engine *e, struct dp_resolve *out, size_t max)
{
	size_t n = e->n_resolve < max ? e->n_resolve : max;

	memcpy(out, e->resolve, n * sizeof(*out));
	memmove(e->resolve, e->resolve + n, (e->n_resolve - n) * sizeof(*out));
	e->n_resolve -= (uint32_t)n;
	return n;
}

/* ---- engine lifetime and tables -------------------------------------- */

static void release_cb(void *arg, const struct ct_entry *ce);
static uint8_t udp_class_cb(void *arg, const struct ct_entry *ce);
static void state_cb(void *arg, const struct ct_entry *ce, uint8_t from);

struct dp_engine *
dp_engine_new(const struct dp_params *p)
{
	struct dp_engine *e = calloc(1, sizeof(*e));
	uint32_t nm = 1;

	if (e == NULL)
		return NULL;
	e->par = *p;
	if (e->par.maglev_size == 0)
		e->par.maglev_size = DP_MAGLEV_DEFAULT;
	while (nm < (p->neigh_max ? p->neigh_max : 4096) * 2)
		nm <<= 1;
	e->neigh = calloc(nm, sizeof(*e->neigh));
	e->neigh_mask = nm - 1;
	if (e->neigh == NULL || hold_init(e) != 0) {
		free(e->neigh);
		free(e);
		return NULL;
	}
	if (ct_init(&e->ct, p->conn_max, p->events, &p->timeouts,
	    p->seed) != 0) {
		hold_destroy(e);
		free(e->neigh);
		free(e);
		return NULL;
	}
	ct_set_release(&e->ct, release_cb, e);
	ct_set_refresh(&e->ct, offload_refresh, e);
	ct_set_on_state(&e->ct, state_cb, e);
	ct_set_udp_class(&e->ct, udp_class_cb, e);
	if (offload_init(e) != 0) {
		ct_destroy(&e->ct);
		hold_destroy(e);
		free(e->neigh);
		free(e);
		return NULL;
	}
	snat_registry_init(&e->snat, DP_SNAT_PORT_LO, DP_SNAT_PORT_HI,
	    p->seed);
	e->rl.seed = e->persist.seed = p->seed;
	snat_registry_stride(&e->snat, p->workers, p->worker_id);
	return e;
}

static void
free_services(struct dp_engine *e, struct dp_service *svc, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t b = 0; b < dp_nb_all(&svc[i]); b++)
			for (uint32_t k = 0; svc[i].b[b].snat && k < svc[i].n_snat; k++)
				snat_space_put(&e->snat, svc[i].b[b].snat[k]);
		dp_service_free(&svc[i]);
	}
	free(svc);
}

void
dp_engine_free(struct dp_engine *e)
{
	if (e == NULL)
		return;
	ct_set_release(&e->ct, NULL, NULL);
	ct_destroy(&e->ct);
	srctab_free(&e->rl);
	srctab_free(&e->persist);
	offload_destroy(e);
	free_services(e, e->svc, e->n_svc);
	free(e->svc_hash);
	free(e->snat_addrs);
	snat_registry_free(&e->snat);
	hold_destroy(e);
	free(e->neigh);
	free(e);
}

/* The smallest MTU: packets under it need no check against their egress
 * link before they are rewritten (process.c's too_big). */
static void
min_mtu(struct dp_engine *e)
{
	e->min_mtu = UINT16_MAX;
	for (uint16_t i = 0; i < e->n_if; i++)
		if (e->ifs[i].mtu < e->min_mtu)
			e->min_mtu = e->ifs[i].mtu;
}

int
dp_add_iface(struct dp_engine *e, const struct dp_iface *ifc)
{
	if (e->n_if == DP_MAX_IF)
		return -1;
	e->ifs[e->n_if++] = *ifc;
	min_mtu(e);
	return e->n_if - 1;
}

int
dp_add_route(struct dp_engine *e, const struct dp_route *r)
{
	if (e->n_routes == DP_MAX_ROUTES || r->ifidx >= e->n_if)
		return -1;
	e->routes[e->n_routes++] = *r;
	return 0;
}

int
dp_set_iface(struct dp_engine *e, uint16_t idx, const struct dp_iface *ifc)
{
	if (idx >= e->n_if)
		return -1;
	/* A link's MAC or MTU is in every flow through it (its addresses
	 * only in the ICMP errors the engine writes). */
	if (memcmp(e->ifs[idx].mac, ifc->mac, 6) != 0 ||
	    e->ifs[idx].mtu != ifc->mtu || e->ifs[idx].ifindex != ifc->ifindex)
		dp_flows_revoke(e);
	e->ifs[idx] = *ifc;
	min_mtu(e);
	return 0;
}

int
dp_set_routes(struct dp_engine *e, const struct dp_route *r, uint32_t n)
{
	struct dp_route nr[DP_MAX_ROUTES];
	uint16_t k = 0;

	memset(nr, 0, sizeof(nr));
	for (uint32_t i = 0; i < n && k < DP_MAX_ROUTES; i++)
		if (r[i].ifidx < e->n_if)
			nr[k++] = r[i];
	/* Flows carry the egress their route gave: when the routes change,
	 * every connection's next packet installs it again. */
	if (k != e->n_routes || memcmp(nr, e->routes, k * sizeof(nr[0])) != 0)
		dp_flows_revoke(e);
	memcpy(e->routes, nr, k * sizeof(nr[0]));
	e->n_routes = k;
	return k == n ? 0 : -1;
}

static int32_t
find_backend(const struct dp_service *s, const uint8_t *addr, uint16_t port)
{
	for (uint32_t i = 0; i < dp_nb_all(s); i++)
		if (s->b[i].port == port && memcmp(s->b[i].addr, addr, 16) == 0)
			return (int32_t)i;
	return -1;
}

/*
 * Services with a `timeout udp` of their own: a ct list per distinct value
 * (ct.h CT_CLASS_UDP_SVC), the rest CT_CLASS_UDP. The config allows at most
 * CT_UDP_SVC_MAX values. Returns whether any service has one.
 */
static bool
udp_classes(struct dp_engine *e, struct dp_service *svcs, uint32_t n)
{
	uint32_t vals[CT_UDP_SVC_MAX], nv = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k;

		svcs[i].udp_class = CT_CLASS_UDP;
		if (svcs[i].udp_timeout_ms == 0)
			continue;
		for (k = 0; k < nv && vals[k] != svcs[i].udp_timeout_ms; k++)
			;
		if (k == nv) {
			if (nv == CT_UDP_SVC_MAX)
				continue;	/* conf refuses more */
			vals[nv++] = svcs[i].udp_timeout_ms;
			e->ct.to.ms[CT_CLASS_UDP_SVC + k] = vals[k];
		}
		svcs[i].udp_class = (uint8_t)(CT_CLASS_UDP_SVC + k);
	}
	return nv > 0;
}

int
dp_engine_set_services(struct dp_engine *e, struct dp_service *svcs, uint32_t n)
{
	struct dp_service *old = e->svc;
	uint32_t old_n = e->n_svc, nh = 1, *hash, snat_mask;
	uint8_t (*snat_addrs)[17];
	bool custom;

	while (nh < n * 2 + 2)
		nh <<= 1;
	if ((hash = calloc(nh, sizeof(*hash))) == NULL)
		return -1;
	if ((snat_addrs = snat_addrs_build(svcs, n, &snat_mask)) == NULL) {
		free(hash);
		return -1;
	}
	/* Service indexes change: held frames count against no service. */
	for (uint32_t i = 0; i < e->n_held; i++)
		e->held[i].svc = -1;
	for (uint32_t i = 0; i < n; i++) {
		struct dp_service *s = &svcs[i];
		uint32_t h = (uint32_t)svc_key_hash(s->family, s->vip, s->proto,
		    s->port) & (nh - 1);

		while (hash[h] != 0)
			h = (h + 1) & (nh - 1);
		hash[h] = i + 1;
		/* SNAT spaces are shared by (pool address, backend, proto):
		 * take the new references before the old are dropped. */
		for (uint32_t b = 0; s->mode == DP_MODE_SNAT && b < dp_nb_all(s); b++) {
			struct dp_backend *be = &s->b[b];

			be->snat = calloc(s->n_snat ? s->n_snat : 1,
			    sizeof(*be->snat));
			if (be->snat == NULL) {
				free(hash);
				free(snat_addrs);
				return -1;
			}
			for (uint32_t k = 0; k < s->n_snat; k++) {
				struct snat_key key;

				memset(&key, 0, sizeof(key));
				memcpy(key.snat, s->snat[k], 16);
				memcpy(key.baddr, be->addr, 16);
				key.bport = be->port;
				key.proto = s->proto;
				key.family = s->family;
				be->snat[k] = snat_space_get(&e->snat, &key);
				if (be->snat[k] != NULL)
					snat_space_range(&e->snat, be->snat[k],
					    s->snat_ports[k][0], s->snat_ports[k][1]);
			}
		}
		if (!s->sched_ready)
			dp_sched_rebuild(s, dp_maglev_size(n, s->nb,
			    e->par.maglev_size));
	}

	/* Carry connections across: point them at the new service and backend
	 * indexes, or mark them orphaned (they keep forwarding and drain). */
	orphan_reset(e);
	for (uint32_t i = 0; i < e->ct.cap; i++) {
		struct ct_entry *ce = &e->ct.e[i];
		const struct dp_tuple *o = &ce->t[CT_ORIG];
		int32_t si, bi = -1;

		if (ce->state == CT_NONE)
			continue;
		si = svc_find(hash, nh - 1, svcs, o->family, o->dst, o->proto,
		    o->dport);
		if (si >= 0)
			bi = find_backend(&svcs[si], ce->t[CT_REPLY].src,
			    ce->t[CT_REPLY].sport);
		ce->svc = si >= 0 ? (uint16_t)si : ORPHAN;
		ce->backend = bi >= 0 ? (uint16_t)bi : ORPHAN;
		orphan_hold(e, ce);
		if (bi >= 0) {
			svcs[si].b[bi].active++;
			svcs[si].b[bi].open += ct_state_open(ce->state);
		}
	}
	custom = udp_classes(e, svcs, n);
	e->svc = svcs;
	e->n_svc = n;
	/* Replied UDP entries onto the list their service's timeout names
	 * now: needed only when some service has or had one of its own. */
	if (custom || e->udp_custom)
		for (uint32_t i = 0; i < e->ct.cap; i++)
			if (e->ct.e[i].state == CT_UDP)
				ct_relist(&e->ct, i);
	e->udp_custom = custom;
	e->n_reset = 0;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t b = 0; b < svcs[i].nb; b++)
			e->n_reset += svcs[i].b[b].reset;
	free(e->svc_hash);
	e->svc_hash = hash;
	e->svc_mask = nh - 1;
	free(e->snat_addrs);
	e->snat_addrs = snat_addrs;
	e->snat_mask = snat_mask;
	persist_remap(e, old, old_n);
	free_services(e, old, old_n);
	return 0;
}

const struct dp_service *
dp_engine_services(const struct dp_engine *e, uint32_t *n)
{
	*n = e->n_svc;
	return e->svc;
}

void
dp_backends_set(struct dp_engine *e, const struct dp_backend_state *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t svc = v[i].svc;
		struct dp_backend *be;

		if (svc >= e->n_svc || v[i].b >= e->svc[svc].nb)
			continue;
		be = &e->svc[svc].b[v[i].b];
		be->up = v[i].up;
		be->weight = v[i].weight;
		e->n_reset -= be->reset;
		/* Its connections must reach the engine to be reset. */
		if (v[i].reset && !v[i].up && !be->reset)
			offload_revoke_backend(e, svc, v[i].b);
		be->reset = v[i].reset && !v[i].up;
		e->n_reset += be->reset;
		/* Callers list a service's backends together. */
		if (i + 1 == n || v[i + 1].svc != svc)
			dp_sched_rebuild(&e->svc[svc], dp_maglev_size(e->n_svc,
			    e->svc[svc].nb, e->par.maglev_size));
	}
}

void
dp_backend_set(struct dp_engine *e, uint32_t svc, uint32_t b, bool up,
    uint16_t weight, bool reset)
{
	struct dp_backend_state s = { svc, b, weight, up, reset };

	dp_backends_set(e, &s, 1);
}

const struct dp_stats *
dp_engine_stats(const struct dp_engine *e)
{
	return &e->stats;
}

struct ct_table *
dp_engine_ct(struct dp_engine *e)
{
	return &e->ct;
}

size_t
dp_snat_usage(const struct dp_engine *e, struct dp_snat_use *out, size_t max)
{
	size_t n = 0, k;
	uint32_t pct;

	for (const struct snat_space *s = e->snat.head; s != NULL; s = s->next) {
		for (k = 0; k < n; k++)
			if (out[k].family == s->key.family &&
			    memcmp(out[k].addr, s->key.snat, 16) == 0)
				break;
		if (k == n) {
			if (n == max)
				continue;
			out[n].family = s->key.family;
			memcpy(out[n].addr, s->key.snat, 16);
			out[n].peak_pct = 0;
			out[n++].used = 0;
		}
		out[k].used += s->used;
		pct = snat_space_pct(&e->snat, s);
		if (pct > out[k].peak_pct)
			out[k].peak_pct = pct;
	}
	return n;
}

/* ---- connection release ---------------------------------------------- */

struct snat_space *
entry_space(struct dp_engine *e, const struct ct_entry *ce)
{
	const struct dp_tuple *r = &ce->t[CT_REPLY];
	struct snat_key key;

	if (ce->svc != ORPHAN && ce->backend != ORPHAN) {
		struct dp_service *s = &e->svc[ce->svc];
		for (uint32_t k = 0; k < s->n_snat; k++)
			if (memcmp(s->snat[k], r->dst, 16) == 0 &&
			    s->b[ce->backend].snat != NULL)
				return s->b[ce->backend].snat[k];
	}
	/* Orphaned by a reload: find its space by key. */
	memset(&key, 0, sizeof(key));
	memcpy(key.snat, r->dst, 16);
	memcpy(key.baddr, r->src, 16);
	key.bport = r->sport;
	key.proto = r->proto;
	key.family = r->family;
	for (struct snat_space *s = e->snat.head; s != NULL; s = s->next)
		if (memcmp(&s->key, &key, sizeof(key)) == 0)
			return s;
	return NULL;
}

static struct dp_backend *
backend_of(struct dp_engine *e, const struct ct_entry *ce)
{
	if (ce->svc == ORPHAN || ce->backend == ORPHAN || ce->svc >= e->n_svc ||
	    ce->backend >= dp_nb_all(&e->svc[ce->svc]))
		return NULL;
	return &e->svc[ce->svc].b[ce->backend];
}

static void
release_cb(void *arg, const struct ct_entry *ce)
{
	struct dp_engine *e = arg;
	struct dp_backend *b;

	/* Its flows leave the kernel before the entry can be reused. */
	offload_revoke(e, (struct ct_entry *)ce);
	if (ce->flags & CT_F_SNAT) {
		struct snat_space *sp = entry_space(e, ce);
		if (sp != NULL)
			snat_port_release(sp, ntohs(ce->t[CT_REPLY].dport));
	}
	if ((b = backend_of(e, ce)) != NULL) {
		if (b->active)
			b->active--;
		if (ct_state_open(ce->state) && b->open)
			b->open--;
	}
	persist_release(e, ce, e->now);
	orphan_release(e, ce);
}

static uint8_t
udp_class_cb(void *arg, const struct ct_entry *ce)
{
	struct dp_engine *e = arg;

	if (ce->svc == ORPHAN || ce->svc >= e->n_svc)
		return CT_CLASS_UDP;
	return e->svc[ce->svc].udp_class;
}

/* Open connections per backend follow their entries' states. */
static void
state_cb(void *arg, const struct ct_entry *ce, uint8_t from)
{
	struct dp_backend *b = backend_of(arg, ce);
	bool was = ct_state_open(from), is = ct_state_open(ce->state);

	if (b == NULL || was == is)
		return;
	if (is)
		b->open++;
	else if (b->open)
		b->open--;
}

uint32_t
dp_expire(struct dp_engine *e, uint32_t now, uint32_t budget)
{
	e->now = now;	/* what the release of an expired entry sees */
	return ct_expire(&e->ct, now, budget);
}
