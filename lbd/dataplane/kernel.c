/*
 * The kernel's routes, neighbours and links, as the engines need them.
 *
 * lbd forwards with the kernel's own tables: netlink (lbd/knl.c) keeps a
 * cache and reports changes; the routes and neighbours of the data
 * interfaces are handed to every engine, link changes (carrier, MTU) too.
 * A next hop an engine cannot resolve comes back from its worker through a
 * queue, and this thread asks the kernel to resolve it (the answer arrives
 * as a neighbour change).
 */
#include <stdlib.h>
#include <string.h>

#include "lbd/dataplane/dp_int.h"
#include "lib/addr.h"
#include "lib/keymap.h"
#include "lib/log.h"

struct route_collect {
	struct dataplane	*p;
	struct dp_route		 v[DP_MAX_ROUTES];
	uint32_t		 n;
};

static void
route_one(void *arg, uint8_t family, const uint8_t prefix[16], uint8_t plen,
    int oif, bool has_gw, const uint8_t gw[16])
{
	struct route_collect *rc = arg;
	int ei = dp_if_index(rc->p, oif);
	struct dp_route *r;

	if (ei < 0 || rc->n == DP_MAX_ROUTES)
		return;
	r = &rc->v[rc->n++];
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->plen = plen;
	memcpy(r->prefix, prefix, 16);
	r->ifidx = (uint16_t)ei;
	r->has_gw = has_gw;
	if (has_gw)
		memcpy(r->gw, gw, 16);
}

static void
push_routes(struct dataplane *p)
{
	struct route_collect *rc = calloc(1, sizeof(*rc));
	struct dp_kernel *k = &p->knl;

	if (rc == NULL)
		return;
	rc->p = p;
	knl_routes_each(k->nl, route_one, rc);
	k->n_cover = 0;
	for (uint32_t i = 0; i < rc->n; i++) {
		const struct dp_route *r = &rc->v[i];
		struct dp_cover_route *cr;

		if (r->has_gw)
			continue;
		cr = &k->cover[k->n_cover++];
		cr->family = r->family;
		cr->plen = r->plen;
		memcpy(cr->prefix, r->prefix, 16);
		cr->ifindex = p->ifs.v[r->ifidx].ifindex;
	}
	dp_call_routes(p, rc->v, rc->n);
	free(rc);
}

int
dp_kernel_connected(const struct dataplane *p, uint8_t family,
    const uint8_t *addr)
{
	const struct dp_kernel *k = &p->knl;
	int best_plen = -1, ifindex = -1;

	for (uint32_t i = 0; i < k->n_cover; i++) {
		const struct dp_cover_route *r = &k->cover[i];

		if (r->family == family && (int)r->plen > best_plen &&
		    addr_pfx_match(addr, r->prefix, r->plen)) {
			best_plen = r->plen;
			ifindex = r->ifindex;
		}
	}
	return ifindex;
}

/* ---- netlink's reports --------------------------------------------- */

static void
neigh_cb(void *arg, uint8_t family, const uint8_t addr[16], int ifindex,
    const uint8_t mac[6])
{
	struct dataplane *p = arg;
	int ei = dp_if_index(p, ifindex);

	if (ei < 0 || p->wk.n == 0)
		return;
	dp_call_neigh(p, family, addr, (uint16_t)ei, mac);
}

static void
link_cb(void *arg, int ifindex)
{
	struct dataplane *p = arg;
	struct knl_link_info li;

	for (uint32_t i = 0; i < p->ifs.n && p->wk.n > 0; i++) {
		struct dp_if *di = &p->ifs.v[i];
		struct dp_iface ifc;

		if (di->ifindex != ifindex)
			continue;
		if (knl_link_by_index(p->knl.nl, ifindex, &li) != 0) {
			log_warnx("interface %s: gone", di->name);
			return;
		}
		if (li.carrier != di->info.carrier)
			log_info("interface %s: carrier %s", di->name,
			    li.carrier ? "up" : "down");
		if (li.mtu != di->info.mtu && li.mtu > DP_MTU_MAX)
			log_warnx("interface %s: mtu %u -> %u, more than lbd "
			    "forwards (%u): frames over %u are dropped; set it "
			    "back", di->name, di->info.mtu, li.mtu, DP_MTU_MAX,
			    DP_MTU_MAX);
		else if (li.mtu != di->info.mtu)
			log_info("interface %s: mtu %u -> %u", di->name,
			    di->info.mtu, li.mtu);
		di->info = li;
		dp_iface_desc(p, &li, &ifc);
		dp_call_iface(p, (uint16_t)i, &ifc);
	}
}

static void
route_cb(void *arg)
{
	struct dataplane *p = arg;

	if (p->wk.n > 0)
		push_routes(p);
}

/* An address came or went: the classifier leaves this host's own to the
 * kernel, so its maps follow; the engines' ICMP errors come from each data
 * interface's own address. */
static void
addr_cb(void *arg)
{
	struct dataplane *p = arg;

	if (p->conf != NULL)
		(void)dp_owned_maps(p, p->conf);
	for (uint32_t i = 0; i < p->ifs.n && p->wk.n > 0; i++) {
		struct dp_iface ifc;

		dp_iface_desc(p, &p->ifs.v[i].info, &ifc);
		dp_call_iface(p, (uint16_t)i, &ifc);
	}
}

/* ---- resolving for the workers --------------------------------------- */

/* Worker thread: only queue; the main thread talks to the kernel. */
void
dp_kernel_resolve_from_worker(const struct dp_resolve *r, size_t n, void *arg)
{
	struct dataplane *p = arg;
	struct dp_kernel *k = &p->knl;

	pthread_mutex_lock(&k->rq_mu);
	for (size_t i = 0; i < n; i++) {
		if (k->n_rq == DP_RESOLVE_QUEUE)
			k->rq_lost++;
		else
			k->rq[k->n_rq++] = r[i];
	}
	pthread_mutex_unlock(&k->rq_mu);
	ev_async_send(p->loop, &k->rq_async);
}

/* Ask the kernel for addr's MAC on ifindex, at most once per DP_REASK_MS
 * per address; an ask after that restarts a resolution still unanswered. */
static void
ask(struct dataplane *p, uint8_t family, const uint8_t addr[16], int ifindex)
{
	struct dp_kernel *k = &p->knl;
	ev_tstamp now = ev_now(p->loop);
	struct dp_asked *a = NULL, *oldest = NULL;
	bool again = false;

	for (uint32_t i = 0; i < k->n_asked; i++) {
		struct dp_asked *x = &k->asked[i];

		if (x->family == family && memcmp(x->addr, addr, 16) == 0) {
			a = x;
			break;
		}
		if (oldest == NULL || x->at < oldest->at)
			oldest = x;
	}
	if (a != NULL) {
		if (now - a->at < DP_REASK_MS / 1000.0)
			return;
		again = true;
	} else {
		a = k->n_asked < DP_ASKED_MAX ? &k->asked[k->n_asked++] : oldest;
		a->family = family;
		memcpy(a->addr, addr, 16);
	}
	a->at = now;
	k->resolve_asked++;
	(void)knl_resolve(k->nl, family, addr, ifindex, again);
}

static void
resolve_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct dataplane *p = w->data;
	struct dp_kernel *k = &p->knl;
	struct dp_resolve r[DP_RESOLVE_QUEUE];
	uint32_t n;

	pthread_mutex_lock(&k->rq_mu);
	n = k->n_rq;
	memcpy(r, k->rq, n * sizeof(*r));
	k->n_rq = 0;
	pthread_mutex_unlock(&k->rq_mu);
	for (uint32_t i = 0; i < n; i++)
		if (r[i].ifidx < p->ifs.n)
			ask(p, r[i].family, r[i].addr,
			    p->ifs.v[r[i].ifidx].ifindex);
}

void
dp_kernel_preresolve(struct dataplane *p, const struct conf *c)
{
	struct keymap *seen = keymap_new(KEYMAP_ADDR_LEN, 64);
	uint8_t k[KEYMAP_ADDR_LEN];

	if (seen == NULL)
		return;
	/* Each backend host once (thousands of services share a few hundred
	 * hosts); one behind a gateway is the gateway's business, resolved
	 * when a frame first needs it. */
	for (size_t i = 0; i < c->n_services; i++)
		for (size_t j = 0; j < c->services[i].n_backends; j++) {
			const struct conf_addr *ca = &c->services[i].backends[j].addr;
			uint8_t a[16], f = conf_addr_fam(ca);
			int ifindex;

			conf_addr_a16(a, ca);
			keymap_addr_key(k, f, a);
			if (keymap_put(seen, k, 0, NULL) != 1 ||
			    (ifindex = dp_kernel_connected(p, f, a)) < 0)
				continue;
			ask(p, f, a, ifindex);
		}
	keymap_free(seen);
}

/* ---- lifetime ---------------------------------------------------------- */

int
dp_kernel_open(struct dataplane *p, char *err, size_t errlen)
{
	struct knl_cb cb = { link_cb, route_cb, addr_cb, neigh_cb, p };

	pthread_mutex_init(&p->knl.rq_mu, NULL);
	ev_async_init(&p->knl.rq_async, resolve_cb);
	p->knl.rq_async.data = p;
	ev_async_start(p->loop, &p->knl.rq_async);
	if ((p->knl.nl = knl_open(p->loop, &cb, err, errlen)) == NULL)
		return -1;
	return 0;
}

/* Tables before traffic: the routes, then the neighbours known so far. */
void
dp_kernel_push(struct dataplane *p)
{
	push_routes(p);
	knl_neigh_each(p->knl.nl, neigh_cb, p);
}

void
dp_kernel_close(struct dataplane *p)
{
	knl_close(p->knl.nl);
	p->knl.nl = NULL;
	ev_async_stop(p->loop, &p->knl.rq_async);
	pthread_mutex_destroy(&p->knl.rq_mu);
}
