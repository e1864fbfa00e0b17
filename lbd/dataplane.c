#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lbd/dataplane.h"
#include "lbd/engine/from_conf.h"
#include "lbd/io/knl.h"
#include "lbd/io/xdp_prog.h"
#include "lbd/io/xsk_port.h"
#include "lbd/owner.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/keymap.h"
#include "lib/log.h"
#include "lbd/worker.h"

/* conf refuses more than the classifier's maps hold. */
_Static_assert(CONF_SERVICES_MAX <= LBD_CLS_MAX_SVCS &&
    CONF_ALL_BACKENDS_MAX <= LBD_CLS_MAX_BACKENDS,
    "conf limits exceed the classifier maps");

#define MAX_MACVLANS	64
#define RESOLVE_QUEUE	256

struct dp_if {
	char			 name[IFNAMSIZ];
	int			 ifindex;
	struct knl_link_info	 info;
	struct xdp_prog		*prog;
	uint32_t		 nq;
	struct xsk_port		*ports;
	uint32_t		 n_open;
};

struct macvlan {
	int	ifindex, parent;
	char	name[IFNAMSIZ];
};

#define MAX_HELD	64

struct cover_route {
	uint8_t		family, plen;
	uint8_t		prefix[16];
	int		ifindex;
};

struct dataplane {
	struct ev_loop		*loop;
	struct knl		*nl;
	struct owner		*owner;
	struct dp_if		 ifs[DP_MAX_IF];
	uint32_t		 n_if;
	/* Worker i owns engine i: its receive queues are those q with
	 * q % n_w == i, its connections those dp_steer gives it. */
	struct dp_engine	*e[WORKER_MAX];
	struct worker		*w[WORKER_MAX];
	uint32_t		 n_w;
	uint64_t		 sync_split;	/* mirrored snat entries whose port
						 * is another worker's */
	bool			 sync_events;
	const struct conf	*conf;		/* the daemon's current one */
	struct macvlan		 mv[MAX_MACVLANS];
	uint32_t		 n_mv;
	/* With VRRP, the groups this node is master of (by name, so that a
	 * reload keeps them): only their addresses are held, and only
	 * traffic to those is taken from the kernel. */
	char			*held[MAX_HELD];
	uint32_t		 n_held;
	/* The floating addresses this node means to hold (owned_addrs): the
	 * classifier takes their traffic from the moment they are decided,
	 * before the kernel has them. */
	struct owned_addr	*want;
	size_t			 n_want;
	/* The connected routes of the data interfaces, where an address
	 * belongs (home_iface): the routes push_routes found without a
	 * gateway. The kernel's route cache also holds a local route per VIP,
	 * thousands with a big config; walking it per address was quadratic. */
	struct cover_route	 cover[DP_MAX_ROUTES];
	uint32_t		 n_cover;
	uint32_t		 maglev_cap;	/* the engine's dp_params */

	pthread_mutex_t		 rq_mu;		/* worker -> main: resolve */
	struct dp_resolve	 rq[RESOLVE_QUEUE];
	uint32_t		 n_rq;
	uint64_t		 rq_lost, resolve_asked;
	ev_async		 rq_async;
	ev_timer		 alive_timer;	/* the classifier's dead man's switch */
	/* Backends a reload removed whose routed connections still drain:
	 * the classifier keeps taking their replies (dp_orphans). */
	struct dp_orphan	 orph[DP_ORPHAN_MAX];
	uint32_t		 n_orph;
	ev_timer		 orphan_timer;

	pthread_mutex_t		 evq_mu;	/* worker -> main: ct events */
	struct ct_event		*evq;
	uint32_t		 n_evq;
	uint64_t		 evq_lost;
	ev_async		 evq_async;
	dataplane_events_fn	 events_fn;
	void			*events_arg;
};

#define EVENT_QUEUE	16384

/*
 * Pushed every ALIVE_EVERY; if lbd stops for ALIVE_GRACE the classifier
 * stops this node from answering for its floating addresses (classifier.h).
 * The grace outlasts a long reload's pause of the loop.
 */
#define ALIVE_EVERY	0.1
#define ALIVE_GRACE_NS	1000000000ull

static void	alive_cb(struct ev_loop *, ev_timer *, int);
static void	orphan_cb(struct ev_loop *, ev_timer *, int);

/* How often drained backends are looked for, to stop taking their frames. */
#define ORPHAN_EVERY	1.0

/* ---- interfaces ------------------------------------------------------ */

static int
eng_if_of(const struct dataplane *p, int ifindex)
{
	for (uint32_t i = 0; i < p->n_if; i++)
		if (p->ifs[i].ifindex == ifindex)
			return (int)i;
	for (uint32_t i = 0; i < p->n_mv; i++)
		if (p->mv[i].ifindex == ifindex)
			return eng_if_of(p, p->mv[i].parent);
	return -1;
}

static uint32_t
rx_queues(const char *name)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t n = 1;

	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		n = ch.combined_count + ch.rx_count;
		if (n == 0)
			n = 1;
	}
	close(fd);
	return n > LBD_CLS_MAX_QUEUES ? LBD_CLS_MAX_QUEUES : n;
}

static void
eng_iface(const struct knl_link_info *li, struct dp_iface *out)
{
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)li->ifindex;
	memcpy(out->mac, li->mac, 6);
	out->mtu = (uint16_t)(li->mtu > 65535 ? 65535 : li->mtu);
}

/* ---- calls into the workers ----------------------------------------- */

/* fn on every worker's engine, one after the other with the same `arg`:
 * the functions that answer accumulate into it. */
static void
call_all(struct dataplane *p, worker_fn fn, void *arg)
{
	for (uint32_t i = 0; i < p->n_w; i++)
		worker_call(p->w[i], fn, arg);
}

struct routes_call {
	struct dp_route	*v;
	uint32_t	 n;
};

static void
set_routes_fn(struct dp_engine *e, void *arg)
{
	struct routes_call *c = arg;

	(void)dp_set_routes(e, c->v, c->n);
}

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
	int ei = eng_if_of(rc->p, oif);
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
	struct routes_call c;

	if (rc == NULL)
		return;
	rc->p = p;
	knl_routes_each(p->nl, route_one, rc);
	p->n_cover = 0;
	for (uint32_t i = 0; i < rc->n; i++) {
		const struct dp_route *r = &rc->v[i];
		struct cover_route *cr;

		if (r->has_gw)
			continue;
		cr = &p->cover[p->n_cover++];
		cr->family = r->family;
		cr->plen = r->plen;
		memcpy(cr->prefix, r->prefix, 16);
		cr->ifindex = p->ifs[r->ifidx].ifindex;
	}
	c.v = rc->v;
	c.n = rc->n;
	call_all(p, set_routes_fn, &c);
	free(rc);
}

struct neigh_call {
	uint8_t		family, mac[6];
	uint8_t		addr[16];
	uint16_t	ifidx;
};

static void
set_neigh_fn(struct dp_engine *e, void *arg)
{
	struct neigh_call *c = arg;

	(void)dp_set_neigh(e, c->family, c->addr, c->ifidx, c->mac);
}

static void
neigh_cb(void *arg, uint8_t family, const uint8_t addr[16], int ifindex,
    const uint8_t mac[6])
{
	struct dataplane *p = arg;
	struct neigh_call c = { .family = family };
	int ei = eng_if_of(p, ifindex);

	if (ei < 0 || p->n_w == 0)
		return;
	memcpy(c.addr, addr, 16);
	memcpy(c.mac, mac, 6);
	c.ifidx = (uint16_t)ei;
	call_all(p, set_neigh_fn, &c);
}

struct iface_call {
	uint16_t	 idx;
	struct dp_iface	 ifc;
};

static void
set_iface_fn(struct dp_engine *e, void *arg)
{
	struct iface_call *c = arg;

	(void)dp_set_iface(e, c->idx, &c->ifc);
}

static void
link_cb(void *arg, int ifindex)
{
	struct dataplane *p = arg;
	struct knl_link_info li;

	for (uint32_t i = 0; i < p->n_if && p->n_w > 0; i++) {
		struct dp_if *di = &p->ifs[i];
		struct iface_call c = { .idx = (uint16_t)i };

		if (di->ifindex != ifindex)
			continue;
		if (knl_link_by_index(p->nl, ifindex, &li) != 0) {
			log_warnx("interface %s: gone", di->name);
			return;
		}
		if (li.carrier != di->info.carrier)
			log_info("interface %s: carrier %s", di->name,
			    li.carrier ? "up" : "down");
		if (li.mtu != di->info.mtu)
			log_info("interface %s: mtu %u -> %u", di->name,
			    di->info.mtu, li.mtu);
		di->info = li;
		eng_iface(&li, &c.ifc);
		call_all(p, set_iface_fn, &c);
	}
}

static void
route_cb(void *arg)
{
	struct dataplane *p = arg;

	if (p->n_w > 0)
		push_routes(p);
}

/* Worker thread: only queue; the main thread talks to the kernel. */
static void
resolve_from_worker(const struct dp_resolve *r, size_t n, void *arg)
{
	struct dataplane *p = arg;

	pthread_mutex_lock(&p->rq_mu);
	for (size_t i = 0; i < n; i++) {
		if (p->n_rq == RESOLVE_QUEUE)
			p->rq_lost++;
		else
			p->rq[p->n_rq++] = r[i];
	}
	pthread_mutex_unlock(&p->rq_mu);
	ev_async_send(p->loop, &p->rq_async);
}

/* ---- ha-sync ---------------------------------------------------------- */

/* Worker thread: queue and wake the loop. */
static void
events_from_worker(const struct ct_event *ev, size_t n, void *arg)
{
	struct dataplane *p = arg;
	size_t room;

	pthread_mutex_lock(&p->evq_mu);
	room = EVENT_QUEUE - p->n_evq;
	if (n > room) {
		p->evq_lost += n - room;
		n = room;
	}
	memcpy(p->evq + p->n_evq, ev, n * sizeof(*ev));
	p->n_evq += (uint32_t)n;
	pthread_mutex_unlock(&p->evq_mu);
	ev_async_send(p->loop, &p->evq_async);
}

static void
evq_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct dataplane *p = w->data;
	struct ct_event ev[256];
	uint32_t n;

	do {
		pthread_mutex_lock(&p->evq_mu);
		n = p->n_evq < 256 ? p->n_evq : 256;
		memcpy(ev, p->evq, n * sizeof(*ev));
		memmove(p->evq, p->evq + n, (p->n_evq - n) * sizeof(*ev));
		p->n_evq -= n;
		pthread_mutex_unlock(&p->evq_mu);
		if (n > 0 && p->events_fn != NULL)
			p->events_fn(p->events_arg, ev, n);
	} while (n == 256);
}

void
dataplane_sync_events(struct dataplane *p, dataplane_events_fn fn, void *arg)
{
	p->events_fn = fn;
	p->events_arg = arg;
}

struct sync_apply_call {
	const struct dp_sync_op	*ops;
	const uint8_t		*owner;		/* worker of each op */
	size_t			 n;
	uint32_t		 me;		/* the worker running it */
	uint32_t		 failed;
};

static void
sync_apply_fn(struct dp_engine *e, void *arg)
{
	struct sync_apply_call *c = arg;
	uint32_t now = (uint32_t)mono_ms();	/* the worker's clock */

	for (size_t i = 0; i < c->n; i++) {
		const struct dp_sync_op *o = &c->ops[i];
		int rc;

		if (c->owner[i] != c->me)
			continue;
		rc = o->close ? dp_sync_close(e, &o->e.t[CT_ORIG]) :
		    dp_sync_upsert(e, &o->e, now);
		c->failed += rc < 0;
	}
}

/* Each entry goes to the engine of the worker its packets will reach. */
uint32_t
dataplane_sync_apply(struct dataplane *p, const struct dp_sync_op *ops, size_t n)
{
	struct sync_apply_call c = { .ops = ops, .n = n };
	uint8_t *owner = calloc(n ? n : 1, 1);
	uint64_t split = 0;

	if (owner == NULL)
		return (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		bool sp;

		/* dp_steer_entry reads only the engine's immutable params. */
		owner[i] = (uint8_t)dp_steer_entry(p->e[0], &ops[i].e, &sp);
		split += sp && !ops[i].close;
	}
	if (split > 0 && p->sync_split == 0)
		log_warnx("sync: the peer's snat connections are steered to "
		    "other workers than this node's (run the same `workers` "
		    "on both nodes); they will not survive a failover");
	p->sync_split += split;
	c.owner = owner;
	for (c.me = 0; c.me < p->n_w; c.me++)
		worker_call(p->w[c.me], sync_apply_fn, &c);
	free(owner);
	return c.failed;
}

struct sync_table_call {
	uint32_t	*cursor;
	struct ct_entry	*out;
	size_t		 max, n;
};

static void
sync_table_fn(struct dp_engine *e, void *arg)
{
	struct sync_table_call *c = arg;
	const struct ct_table *ct = dp_engine_ct(e);
	uint32_t i = *c->cursor;

	for (; i < ct->cap && c->n < c->max; i++) {
		const struct ct_entry *ce = &ct->e[i];
		if (ce->state == CT_NONE || ce->state == CT_SYN_SENT ||
		    (ce->flags & CT_F_MIRRORED))
			continue;
		c->out[c->n++] = *ce;
	}
	*c->cursor = i < ct->cap ? i : UINT32_MAX;
}

/* The cursor: worker in the high bits, entry index (< CT_MAX_ENTRIES) in
 * the low 24. */
size_t
dataplane_sync_table(struct dataplane *p, uint32_t *cursor, struct ct_entry *out,
    size_t max)
{
	struct sync_table_call c = { .out = out, .max = max };
	uint32_t wi, i;

	if (*cursor == UINT32_MAX)
		return 0;
	wi = *cursor >> 24;
	i = *cursor & (CT_MAX_ENTRIES - 1);
	c.cursor = &i;
	while (wi < p->n_w && c.n < c.max) {
		worker_call(p->w[wi], sync_table_fn, &c);
		if (i == UINT32_MAX) {
			wi++;
			i = 0;
		}
	}
	*cursor = wi < p->n_w ? wi << 24 | i : UINT32_MAX;
	return c.n;
}

struct sync_bulk_call {
	bool		end;
	uint32_t	n;
};

static void
sync_bulk_fn(struct dp_engine *e, void *arg)
{
	struct sync_bulk_call *c = arg;

	c->n += c->end ? ct_sweep_stale(dp_engine_ct(e)) :
	    ct_mark_mirrored(dp_engine_ct(e));
}

uint32_t
dataplane_sync_bulk(struct dataplane *p, bool end)
{
	struct sync_bulk_call c = { .end = end };

	call_all(p, sync_bulk_fn, &c);
	return c.n;
}

static void
sync_keep_fn(struct dp_engine *e, void *arg)
{
	dp_engine_ct(e)->keep_mirrored = *(bool *)arg;
}

void
dataplane_sync_keep(struct dataplane *p, bool keep)
{
	call_all(p, sync_keep_fn, &keep);
}

static void
rq_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct dataplane *p = w->data;
	struct dp_resolve r[RESOLVE_QUEUE];
	uint32_t n;

	pthread_mutex_lock(&p->rq_mu);
	n = p->n_rq;
	memcpy(r, p->rq, n * sizeof(*r));
	p->n_rq = 0;
	pthread_mutex_unlock(&p->rq_mu);
	for (uint32_t i = 0; i < n; i++)
		if (r[i].ifidx < p->n_if) {
			p->resolve_asked++;
			(void)knl_resolve(p->nl, r[i].family, r[i].addr,
			    p->ifs[r[i].ifidx].ifindex);
		}
}

/* ---- what lbd owns: classifier maps and floating addresses ----------- */

/* An address listed twice (a VIP of several services, a VIP that is also
 * local) is one map entry with the flags OR-ed, by xdp_prog_set_owned. */
static void
add_addr_key(struct xdp_owned *o, uint8_t family, const uint8_t *addr,
    uint32_t flag)
{
	memset(&o->addrs[o->n_addrs], 0, sizeof(o->addrs[0]));
	o->addrs[o->n_addrs].family = family;
	memcpy(o->addrs[o->n_addrs].addr, addr, 16);
	o->addr_flags[o->n_addrs++] = flag;
}

struct local_collect {
	struct xdp_owned	*o;
	size_t			 cap;
};

static void
local_one(void *arg, uint8_t family, const uint8_t addr[16], int ifindex)
{
	struct local_collect *lc = arg;
	struct xdp_owned *o = lc->o;

	if (o->n_addrs == lc->cap) {
		size_t nc = lc->cap * 2;
		struct lbd_addr_key *na = realloc(o->addrs, nc * sizeof(*na));
		uint32_t *nf;

		if (na == NULL)
			return;
		o->addrs = na;
		if ((nf = realloc(o->addr_flags, nc * sizeof(*nf))) == NULL)
			return;
		o->addr_flags = nf;
		lc->cap = nc;
	}
	add_addr_key(o, family, addr, LBD_ADDR_LOCAL);
}

/* The classifier takes the traffic of an address from the moment this
 * node means to hold it until the kernel has let it go: never is the
 * address the kernel's alone (it would reset our connections). */
/* The addresses this node means to hold, as a set (NULL: out of memory,
 * and wanted() falls back to the owner alone). */
static struct keymap *
want_set(const struct dataplane *p)
{
	struct keymap *m = keymap_new(KEYMAP_ADDR_LEN, p->n_want);
	uint8_t k[KEYMAP_ADDR_LEN];

	for (size_t i = 0; m != NULL && i < p->n_want; i++) {
		const struct owned_addr *w = &p->want[i];

		if (keymap_put(m, keymap_addr_key(k, w->family, w->addr), 1,
		    NULL) < 0) {
			keymap_free(m);
			m = NULL;
		}
	}
	return m;
}

static bool
wanted(const struct dataplane *p, const struct keymap *want, uint8_t family,
    const uint8_t *a)
{
	uint8_t k[KEYMAP_ADDR_LEN];

	if (owner_holds(p->owner, family, a))
		return true;
	return want != NULL &&
	    keymap_get(want, keymap_addr_key(k, family, a)) != NULL;
}

static int
owned_maps(struct dataplane *p, const struct conf *c, struct xdp_owned *o)
{
	size_t ns = c->n_services, na = 0, nb = 0;
	struct local_collect lc;
	struct keymap *want = c->n_groups > 0 ? want_set(p) : NULL;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ns; i++) {
		na += 1 + c->services[i].n_snat_pool;
		nb += c->services[i].n_backends + 1;
	}
	nb += p->n_orph;
	o->svcs = calloc(ns + 1, sizeof(*o->svcs));
	o->addrs = calloc(na + 1, sizeof(*o->addrs));
	o->addr_flags = calloc(na + 1, sizeof(*o->addr_flags));
	o->backends = calloc(nb + 1, sizeof(*o->backends));
	if (!o->svcs || !o->addrs || !o->addr_flags || !o->backends) {
		keymap_free(want);
		return -1;
	}
	for (size_t i = 0; i < ns; i++) {
		const struct conf_service *s = &c->services[i];
		struct lbd_flow_key *k;
		uint8_t a[16];

		/* With VRRP a backup takes nothing from the kernel: a frame
		 * flooded to it for the virtual MAC is not its to forward. */
		conf_addr_a16(a, &s->vip);
		if (c->n_groups > 0 && !wanted(p, want, conf_addr_fam(&s->vip), a))
			continue;
		k = &o->svcs[o->n_svcs++];
		k->family = conf_addr_fam(&s->vip);
		k->proto = s->proto;
		k->port = htons(s->port);
		conf_addr_a16(k->addr, &s->vip);
		add_addr_key(o, k->family, k->addr, LBD_ADDR_VIP);
		for (size_t j = 0; s->mode == CONF_MODE_SNAT && j < s->n_snat_pool; j++) {
			conf_addr_a16(a, &s->snat_pool[j]);
			add_addr_key(o, conf_addr_fam(&s->snat_pool[j]), a, LBD_ADDR_SNAT);
		}
		/* Routed mode: replies come from the backends' own port. */
		for (size_t j = 0; s->mode == CONF_MODE_ROUTED &&
		    j <= s->n_backends; j++) {
			const struct conf_backend *b = j < s->n_backends ?
			    &s->backends[j] : s->has_fallback ? &s->fallback : NULL;
			struct lbd_flow_key *bk;

			if (b == NULL)
				continue;
			bk = &o->backends[o->n_backends++];
			bk->family = conf_addr_fam(&b->addr);
			bk->proto = s->proto;
			bk->port = htons(b->port);
			conf_addr_a16(bk->addr, &b->addr);
		}
	}
	for (uint32_t i = 0; i < p->n_orph; i++) {
		struct lbd_flow_key *bk = &o->backends[o->n_backends++];

		bk->family = p->orph[i].family;
		bk->proto = p->orph[i].proto;
		bk->port = p->orph[i].port;
		memcpy(bk->addr, p->orph[i].addr, 16);
	}
	/* This host's addresses, so that answers to its own connections
	 * (health checks) are left to the kernel. */
	keymap_free(want);
	lc.o = o;
	lc.cap = na + 1;
	knl_addrs_each(p->nl, local_one, &lc);
	return 0;
}

static void
owned_maps_free(struct xdp_owned *o)
{
	free(o->svcs);
	free(o->addrs);
	free(o->addr_flags);
	free(o->backends);
}

/* The data interface whose connected route covers `addr` most narrowly,
 * or -1. */
static int
connected_iface(const struct dataplane *p, uint8_t family, const uint8_t *addr)
{
	int best_plen = -1, ifindex = -1;

	for (uint32_t i = 0; i < p->n_cover; i++) {
		const struct cover_route *r = &p->cover[i];

		if (r->family == family && (int)r->plen > best_plen &&
		    addr_pfx_match(addr, r->prefix, r->plen)) {
			best_plen = r->plen;
			ifindex = r->ifindex;
		}
	}
	return ifindex;
}

/* The data interface an address belongs on: the one whose connected
 * route covers it, else the first. */
static const struct dp_if *
home_iface(struct dataplane *p, uint8_t family, const uint8_t *addr)
{
	int ifindex = connected_iface(p, family, addr);

	for (uint32_t i = 0; i < p->n_if; i++)
		if (p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	return &p->ifs[0];
}

static void
write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		log_warn("set %s", path);
	if (fd >= 0)
		close(fd);
}

/* The macvlan carrying the virtual MAC of (parent, family, vrid). */
static int
vmac_link(struct dataplane *p, const struct dp_if *parent, uint8_t family,
    uint8_t vrid, uint8_t mac[6])
{
	char name[IFNAMSIZ], path[128];
	int ifindex;

	mac[0] = 0x00; mac[1] = 0x00; mac[2] = 0x5e; mac[3] = 0x00;
	mac[4] = family == 4 ? 0x01 : 0x02;
	mac[5] = vrid;
	snprintf(name, sizeof(name), "vr%u-%u-%d", family, vrid, parent->ifindex);
	for (uint32_t i = 0; i < p->n_mv; i++)
		if (strcmp(p->mv[i].name, name) == 0)
			return p->mv[i].ifindex;
	if (p->n_mv == MAX_MACVLANS)
		return -1;
	{
		/* Left by a run that was killed: its floating addresses
		 * must not come back with it. */
		struct knl_link_info li;

		if (knl_link_by_name(p->nl, name, &li) == 0) {
			log_info("macvlan %s: left by a previous run, recreated",
			    name);
			(void)knl_link_del(p->nl, li.ifindex);
		}
	}
	if ((ifindex = knl_macvlan_add(p->nl, parent->ifindex, name, mac)) < 0)
		return -1;
	p->mv[p->n_mv].ifindex = ifindex;
	p->mv[p->n_mv].parent = parent->ifindex;
	snprintf(p->mv[p->n_mv].name, IFNAMSIZ, "%s", name);
	p->n_mv++;
	/* Only the macvlan answers ARP for its addresses, with the virtual
	 * MAC; the parent keeps quiet about them, and so does every other
	 * group's macvlan: were one to answer for another group's address,
	 * the clients would follow it when it moves to the peer without that
	 * address (two groups, each master on a different node). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/arp_ignore",
	    parent->name);
	write_sysctl(path, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/arp_ignore",
	    name);
	write_sysctl(path, "1");
	log_info("macvlan %s on %s carries %02x:%02x:%02x:%02x:%02x:%02x", name,
	    parent->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return ifindex;
}

static bool
group_held(const struct dataplane *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_held; i++)
		if (strcmp(p->held[i], name) == 0)
			return true;
	return false;
}

static size_t
owned_addrs(struct dataplane *p, const struct conf *c, struct owned_addr **out)
{
	size_t n = 0, cap = 0;
	struct owned_addr *v = NULL;
	struct keymap *seen = NULL;

#define PUSH(fam_, a_, plen_, ifi_, mac_) do {				\
	if (n == cap) {							\
		cap = cap ? cap * 2 : 16;				\
		struct owned_addr *nv_ = realloc(v, cap * sizeof(*v));	\
		if (nv_ == NULL) {					\
			free(v);					\
			keymap_free(seen);				\
			*out = NULL;					\
			return 0;					\
		}							\
		v = nv_;						\
	}								\
	memset(&v[n], 0, sizeof(v[n]));					\
	v[n].family = (fam_);						\
	memcpy(v[n].addr, (a_), 16);					\
	v[n].plen = (plen_);						\
	v[n].ifindex = (ifi_);						\
	memcpy(v[n].mac, (mac_), 6);					\
	n++;								\
} while (0)

	if (c->n_groups > 0) {
		/* VRRP instances: the virtual addresses of the groups this
		 * node is master of, on a macvlan with the group's MAC. */
		for (size_t g = 0; g < c->n_groups; g++)
			for (size_t i = 0; i < c->groups[g].n_instances; i++) {
				const struct conf_instance *in =
				    &c->groups[g].instances[i];
				const struct dp_if *par = NULL;
				bool held = group_held(p, c->groups[g].name);

				for (uint32_t k = 0; k < p->n_if; k++)
					if (strcmp(p->ifs[k].name, in->interface) == 0)
						par = &p->ifs[k];
				if (par == NULL || in->n_vaddrs == 0)
					continue;
				/* The macvlan exists from the start, held or
				 * not, so that taking over only adds addresses.
				 * use-vmac off: on the interface, its own MAC. */
				for (size_t k = 0; k < in->n_vaddrs; k++) {
					const struct conf_addr *ca = &in->vaddrs[k];
					uint8_t a[16], mac[6];
					int ifi = par->ifindex;

					memcpy(mac, par->info.mac, 6);
					if (in->use_vmac)
						ifi = vmac_link(p, par, conf_addr_fam(ca),
						    in->vrid, mac);

					if (ifi < 0 || !held)
						continue;
					conf_addr_a16(a, ca);
					PUSH(conf_addr_fam(ca), a, ca->plen, ifi, mac);
				}
			}
	} else {
		/* Services share VIPs and pools: each address once. */
		if ((seen = keymap_new(KEYMAP_ADDR_LEN, c->n_services)) == NULL) {
			free(v);
			*out = NULL;
			return 0;
		}
		for (size_t i = 0; i < c->n_services; i++) {
			const struct conf_service *s = &c->services[i];
			for (size_t j = 0; j <= s->n_snat_pool; j++) {
				const struct conf_addr *ca = j == 0 ? &s->vip :
				    &s->snat_pool[j - 1];
				uint8_t a[16], k[KEYMAP_ADDR_LEN], f = conf_addr_fam(ca);
				const struct dp_if *home;

				conf_addr_a16(a, ca);
				keymap_addr_key(k, f, a);
				if (keymap_put(seen, k, 0, NULL) != 1)
					continue;
				home = home_iface(p, f, a);
				PUSH(f, a, f == 4 ? 32 : 128, home->ifindex,
				    home->info.mac);
			}
		}
		keymap_free(seen);
	}
#undef PUSH
	*out = v;
	return n;
}

static int
apply_maps(struct dataplane *p, const struct conf *c)
{
	struct xdp_owned o;
	int rc = 0;

	if (owned_maps(p, c, &o) < 0) {
		owned_maps_free(&o);
		return -1;
	}
	for (uint32_t i = 0; i < p->n_if; i++)
		if (xdp_prog_set_owned(p->ifs[i].prog, &o) < 0) {
			log_warnx("interface %s: classifier maps not fully "
			    "written", p->ifs[i].name);
			rc = -1;
		}
	owned_maps_free(&o);
	return rc;
}

static void
addr_cb(void *arg)
{
	struct dataplane *p = arg;

	if (p->conf != NULL)
		(void)apply_maps(p, p->conf);
}

static int
apply_owned(struct dataplane *p, const struct conf *c)
{
	struct owned_addr *v = NULL;
	size_t n;
	int rc = 0;

	p->conf = c;
	owner_set_garp(p->owner, c->global.garp_count, c->global.garp_interval_ms,
	    c->global.garp_refresh_ms);
	n = owned_addrs(p, c, &v);
	free(p->want);
	p->want = v;
	p->n_want = n;
	/* The classifier first: once the kernel holds a VIP, a frame for it
	 * that the classifier does not take yet gets the kernel's reset (a
	 * failback would lose connections in that window). */
	if (apply_maps(p, c) < 0)
		rc = -1;
	if (owner_set(p->owner, v, n) > 0)
		rc = -1;
	/* After the addresses, so they count as local too. */
	if (apply_maps(p, c) < 0)
		rc = -1;
	return rc;
}

/* ---- services -------------------------------------------------------- */

struct svcs_call {
	struct dp_service	*v;
	uint32_t		 n;
	int			 rc;
};

static void
set_services_fn(struct dp_engine *e, void *arg)
{
	struct svcs_call *c = arg;

	c->rc = dp_engine_set_services(e, c->v, c->n);
}

/* The services of `c`, with the backends' states when given (else as the
 * config has them), built here and handed to worker `wi` whole. */
static int
push_services_to(struct dataplane *p, uint32_t wi, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st)
{
	struct svcs_call sc;

	if (dp_services_from_conf(c, &sc.v, &sc.n) < 0)
		return -1;
	for (size_t i = 0; st != NULL && i < n_st; i++) {
		struct dp_backend *b;

		if (st[i].svc >= sc.n || st[i].b >= sc.v[st[i].svc].nb)
			continue;
		b = &sc.v[st[i].svc].b[st[i].b];
		b->up = st[i].up;
		b->weight = st[i].weight;
		b->reset = st[i].reset && !st[i].up;
	}
	dp_services_prepare(sc.v, sc.n, p->maglev_cap);
	worker_call(p->w[wi], set_services_fn, &sc);
	if (sc.rc < 0) {
		for (uint32_t i = 0; i < sc.n; i++)
			dp_service_free(&sc.v[i]);
		free(sc.v);
	}
	return sc.rc;
}

/* Every engine its own copy: they share nothing on the packet path. */
static int
push_services(struct dataplane *p, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st)
{
	int rc = 0;

	for (uint32_t i = 0; i < p->n_w; i++)
		if (push_services_to(p, i, c, st, n_st) < 0)
			rc = -1;
	return rc;
}

struct orphans_call {
	struct dp_orphan	*v;
	uint32_t		 n;
	struct dp_orphan	 one[DP_ORPHAN_MAX];	/* one engine's */
};

static bool
same_orphan(const struct dp_orphan *a, const struct dp_orphan *b)
{
	return a->port == b->port && a->proto == b->proto &&
	    a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

/* The union over the engines, in first-seen order. */
static void
orphans_fn(struct dp_engine *e, void *arg)
{
	struct orphans_call *c = arg;
	uint32_t n = dp_orphans(e, c->one, DP_ORPHAN_MAX), k;

	for (uint32_t i = 0; i < n && c->n < DP_ORPHAN_MAX; i++) {
		for (k = 0; k < c->n && !same_orphan(&c->v[k], &c->one[i]); k++)
			;
		if (k == c->n)
			c->v[c->n++] = c->one[i];
	}
}

/* Read the engine's removed-but-draining backends; true when the set
 * changed, so the classifier's maps need writing. */
static bool
refresh_orphans(struct dataplane *p)
{
	static struct dp_orphan v[DP_ORPHAN_MAX];	/* main thread only */
	static struct orphans_call c;
	bool same;

	c.v = v;
	c.n = 0;
	call_all(p, orphans_fn, &c);
	same = c.n == p->n_orph;
	for (uint32_t i = 0; same && i < c.n; i++)
		same = same_orphan(&v[i], &p->orph[i]);
	memcpy(p->orph, v, c.n * sizeof(*v));
	p->n_orph = c.n;
	return !same;
}

static void
orphan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dataplane *p = w->data;

	if (refresh_orphans(p) && p->conf != NULL)
		(void)apply_maps(p, p->conf);
}

struct backends_call {
	const struct dp_backend_state	*v;
	size_t				 n;
};

static void
backends_fn(struct dp_engine *e, void *arg)
{
	struct backends_call *c = arg;

	dp_backends_set(e, c->v, c->n);
}

void
dataplane_backends(struct dataplane *p, const struct dp_backend_state *v,
    size_t n)
{
	struct backends_call c = { v, n };

	if (p != NULL && n > 0)
		call_all(p, backends_fn, &c);
}

/* ---- lifetime -------------------------------------------------------- */

static void
neigh_init_one(void *arg, uint8_t family, const uint8_t addr[16], int ifindex,
    const uint8_t mac[6])
{
	neigh_cb(arg, family, addr, ifindex, mac);
}

/* Ask the kernel now for the MACs the first packets will need. */
static void
preresolve(struct dataplane *p, const struct conf *c)
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
			    (ifindex = connected_iface(p, f, a)) < 0)
				continue;
			(void)knl_resolve(p->nl, f, a, ifindex);
		}
	keymap_free(seen);
}

static int
open_iface(struct dataplane *p, const struct conf *c, const char *name,
    char *err, size_t errlen)
{
	struct dp_if *di = &p->ifs[p->n_if];
	struct dp_iface ifc;
	char why[256];
	int stale;

	memset(di, 0, sizeof(*di));
	snprintf(di->name, sizeof(di->name), "%s", name);
	if (knl_link_by_name(p->nl, name, &di->info) != 0) {
		snprintf(err, errlen, "interface %s: no such interface", name);
		return -1;
	}
	di->ifindex = di->info.ifindex;
	if ((stale = xdp_prog_remove_stale(di->ifindex)) > 0)
		log_info("interface %s: removed %d classifier(s) left by an "
		    "earlier lbd", name, stale);
	di->prog = xdp_prog_attach(di->ifindex,
	    c->global.xdp_mode == CONF_XDP_GENERIC, why, sizeof(why));
	if (di->prog == NULL) {
		snprintf(err, errlen, "interface %s: %s", name, why);
		return -1;
	}
	if (c->global.xdp_mode == CONF_XDP_NATIVE &&
	    xdp_prog_mode(di->prog) != XDP_PROG_NATIVE) {
		snprintf(err, errlen, "interface %s: native XDP not supported by "
		    "its driver (xdp-mode native); use auto or generic", name);
		xdp_prog_detach(di->prog);
		di->prog = NULL;
		return -1;
	}
	di->nq = rx_queues(name);
	if ((di->ports = calloc(di->nq, sizeof(*di->ports))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	eng_iface(&di->info, &ifc);
	for (uint32_t i = 0; i < p->n_w; i++)
		if (dp_add_iface(p->e[i], &ifc) < 0) {
			snprintf(err, errlen, "too many interfaces");
			return -1;
		}
	for (uint32_t q = 0; q < di->nq; q++) {
		if (xsk_port_open(&di->ports[q], name, di->ifindex, q,
		    xdp_prog_xsk_map_fd(di->prog), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "interface %s: %s", name, why);
			return -1;
		}
		di->n_open++;
		di->ports[q].eng_if = (uint16_t)p->n_if;
		(void)worker_add_port(p->w[q % p->n_w], &di->ports[q]);
	}
	log_info("interface %s: ifindex %d, XDP %s mode, %u queue(s), mtu %u",
	    name, di->ifindex, xdp_prog_mode_name(xdp_prog_mode(di->prog)),
	    di->nq, di->info.mtu);
	p->n_if++;
	return 0;
}

/*
 * As many workers as asked, but no more than the data interfaces have
 * receive queues: each worker needs a port of its own on every interface
 * (to send from), and a queue holds one.
 */
static uint32_t
n_workers(const struct conf *c)
{
	uint32_t n = c->global.workers > 0 ? c->global.workers : 1;
	uint32_t fewest = WORKER_MAX;
	const char *which = NULL;

	for (size_t i = 0; i < c->global.n_ifaces; i++) {
		uint32_t q = rx_queues(c->global.ifaces[i]);

		if (q < fewest) {
			fewest = q;
			which = c->global.ifaces[i];
		}
	}
	if (n > fewest) {
		log_warnx("workers %u: interface %s has %u receive queue(s); "
		    "running %u worker(s) (more queues: ethtool -L, or "
		    "numrxqueues for veth)", n, which, fewest, fewest);
		n = fewest;
	}
	return n;
}

struct dataplane *
dataplane_start(struct ev_loop *loop, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st, char *err, size_t errlen)
{
	struct knl_cb cb = { link_cb, route_cb, addr_cb, neigh_cb, NULL };
	struct dataplane *p;
	struct dp_params par;

	err[0] = '\0';
	if (c->global.n_ifaces == 0)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->loop = loop;
	pthread_mutex_init(&p->rq_mu, NULL);
	ev_async_init(&p->rq_async, rq_async_cb);
	p->rq_async.data = p;
	ev_async_start(loop, &p->rq_async);
	pthread_mutex_init(&p->evq_mu, NULL);
	ev_async_init(&p->evq_async, evq_async_cb);
	p->evq_async.data = p;
	ev_async_start(loop, &p->evq_async);
	ev_timer_init(&p->alive_timer, alive_cb, 0., ALIVE_EVERY);
	p->alive_timer.data = p;
	ev_timer_init(&p->orphan_timer, orphan_cb, ORPHAN_EVERY, ORPHAN_EVERY);
	p->orphan_timer.data = p;
	(void)xdp_prog_ensure_bpffs();
	cb.arg = p;
	if ((p->nl = knl_open(loop, &cb, err, errlen)) == NULL)
		goto fail;
	dp_params_from_conf(c, &par);
	p->maglev_cap = par.maglev_size;
	/* Nobody reads connection events until ha-sync does. */
	p->sync_events = c->sync.present;
	if (!p->sync_events)
		par.events = 0;
	{
		uint64_t seed;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		par.seed = seed;
	}
	p->n_w = n_workers(c);
	/* The table is shared out: each engine holds its own connections. */
	par.conn_max = (par.conn_max + p->n_w - 1) / p->n_w;
	par.workers = p->n_w;
	if (p->sync_events &&
	    (p->evq = calloc(EVENT_QUEUE, sizeof(*p->evq))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < p->n_w; i++) {
		par.worker_id = i;
		if ((p->e[i] = dp_engine_new(&par)) == NULL ||
		    (p->w[i] = worker_new(p->e[i], resolve_from_worker,
		    p)) == NULL) {
			snprintf(err, errlen, "engine: out of memory "
			    "(conn-table-size %u per worker)", par.conn_max);
			goto fail;
		}
		if (p->sync_events)
			worker_set_events(p->w[i], events_from_worker, p);
	}
	if (p->n_w > 1 && worker_link(p->w, p->n_w) < 0) {
		snprintf(err, errlen, "workers: out of memory for hand-off rings");
		goto fail;
	}
	if ((p->owner = owner_new(loop, p->nl, c->global.garp_count,
	    c->global.garp_interval_ms, c->global.garp_refresh_ms)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < c->global.n_ifaces; i++)
		if (open_iface(p, c, c->global.ifaces[i], err, errlen) < 0)
			goto fail;
	/* Tables before traffic: routes, neighbours, services. */
	push_routes(p);
	knl_neigh_each(p->nl, neigh_init_one, p);
	if (push_services(p, c, st, n_st) < 0) {
		snprintf(err, errlen, "services: out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < p->n_w; i++)
		if (worker_start(p->w[i]) < 0) {
			snprintf(err, errlen, "worker thread: %s", strerror(errno));
			goto fail;
		}
	if (apply_owned(p, c) < 0)
		log_warnx("data plane: some addresses or classifier entries "
		    "could not be set (see above)");
	preresolve(p, c);
	alive_cb(loop, &p->alive_timer, 0);
	ev_timer_again(loop, &p->alive_timer);
	ev_timer_start(loop, &p->orphan_timer);
	return p;
fail:
	dataplane_stop(p);
	return NULL;
}

int
dataplane_apply(struct dataplane *p, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st)
{
	int rc = 0;

	if (p == NULL)
		return 0;
	if (push_services(p, c, st, n_st) < 0)
		rc = -1;
	(void)refresh_orphans(p);
	if (apply_owned(p, c) < 0)
		rc = -1;
	preresolve(p, c);
	return rc;
}

int
dataplane_hold_group(struct dataplane *p, const char *group, bool hold)
{
	uint32_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->n_held && strcmp(p->held[i], group) != 0; i++)
		;
	if (hold && i == p->n_held) {
		if (p->n_held == MAX_HELD || (p->held[i] = strdup(group)) == NULL)
			return -1;
		p->n_held++;
	} else if (!hold && i < p->n_held) {
		free(p->held[i]);
		p->held[i] = p->held[--p->n_held];
	} else
		return 0;
	return p->conf != NULL ? apply_owned(p, p->conf) : 0;
}

static void
set_alive(struct dataplane *p, uint64_t grace_ns)
{
	uint64_t until = mono_ns() + grace_ns;

	for (uint32_t i = 0; i < p->n_if; i++)
		if (p->ifs[i].prog != NULL &&
		    xdp_prog_set_alive(p->ifs[i].prog, until) < 0)
			log_warn("interface %s: classifier alive map", p->ifs[i].name);
}

static void
alive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	set_alive(w->data, ALIVE_GRACE_NS);
}

void
dataplane_busy(struct dataplane *p, double seconds)
{
	if (p != NULL)
		set_alive(p, (uint64_t)(seconds * 1e9));
}

void
dataplane_stop(struct dataplane *p)
{
	if (p == NULL)
		return;
	ev_timer_stop(p->loop, &p->alive_timer);
	ev_timer_stop(p->loop, &p->orphan_timer);
	for (uint32_t i = 0; i < p->n_held; i++)
		free(p->held[i]);
	/* Addresses first: the neighbours stop sending here. */
	p->conf = NULL;
	owner_free(p->owner);
	/* All stopped before any is freed: they share hand-off rings. */
	for (uint32_t i = 0; i < p->n_w; i++)
		worker_stop(p->w[i]);
	for (uint32_t i = 0; i < DP_MAX_IF; i++) {
		struct dp_if *di = &p->ifs[i];

		for (uint32_t q = 0; q < di->n_open; q++)
			xsk_port_close(&di->ports[q]);
		free(di->ports);
		if (di->prog != NULL)
			xdp_prog_detach(di->prog);
	}
	for (uint32_t i = 0; i < p->n_mv; i++)
		(void)knl_link_del(p->nl, p->mv[i].ifindex);
	for (uint32_t i = 0; i < p->n_w; i++) {
		worker_free(p->w[i]);
		dp_engine_free(p->e[i]);
	}
	knl_close(p->nl);
	ev_async_stop(p->loop, &p->rq_async);
	pthread_mutex_destroy(&p->rq_mu);
	ev_async_stop(p->loop, &p->evq_async);
	pthread_mutex_destroy(&p->evq_mu);
	free(p->evq);
	free(p->want);
	free(p);
}

/* ---- statistics -------------------------------------------------------- */

struct snap_call {
	struct dp_snapshot	*s;
	int			 rc;
};

/* Every field of these counter structs is a uint64_t: add them as arrays. */
#define ADD_U64(dst, src) do {						\
	_Static_assert(sizeof(*(dst)) % 8 == 0, "u64 fields");		\
	uint64_t *d_ = (uint64_t *)(void *)(dst);			\
	const uint64_t *s_ = (const uint64_t *)(const void *)(src);	\
	for (size_t k_ = 0; k_ < sizeof(*(dst)) / 8; k_++)		\
		d_[k_] += s_[k_];					\
} while (0)

static void
add_ct_stats(struct ct_stats *d, const struct ct_stats *s)
{
	d->created += s->created;
	d->inserted += s->inserted;
	d->expired += s->expired;
	d->evicted += s->evicted;
	d->full += s->full;
	d->events_lost += s->events_lost;
	d->active += s->active;
	for (int i = 0; i < CT_STATE__COUNT; i++)
		d->by_state[i] += s->by_state[i];
}

/* Called on each worker in turn: the first fills, the others add. */
static void
snap_fn(struct dp_engine *e, void *arg)
{
	struct snap_call *c = arg;
	struct dp_snapshot *s = c->s;
	uint32_t n;
	const struct dp_service *sv = dp_engine_services(e, &n);
	bool first = s->svc == NULL;

	ADD_U64(&s->st, dp_engine_stats(e));
	add_ct_stats(&s->ct, &dp_engine_ct(e)->stats);
	if (first) {
		if ((s->svc = calloc(n ? n : 1, sizeof(*s->svc))) == NULL) {
			c->rc = -1;
			return;
		}
		s->n_svc = n;
	} else if (n != s->n_svc)
		return;		/* cannot happen: all have the same set */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nb = dp_nb_all(&sv[i]);

		if (first) {
			s->svc[i].nb = nb;
			s->svc[i].b = calloc(nb ? nb : 1, sizeof(*s->svc[i].b));
		}
		if (s->svc[i].b == NULL || s->svc[i].nb != nb) {
			c->rc = -1;
			continue;
		}
		ADD_U64(&s->svc[i].cnt, &sv[i].cnt);
		for (int r = 0; r < DP_DROP__COUNT; r++)
			s->svc[i].drops[r] += sv[i].drops[r];
		for (uint32_t k = 0; k < nb; k++) {
			ADD_U64(&s->svc[i].b[k].cnt, &sv[i].b[k].cnt);
			s->svc[i].b[k].active += sv[i].b[k].active;
		}
	}
}

int
dataplane_snapshot(struct dataplane *p, struct dp_snapshot *s)
{
	struct snap_call c = { s, 0 };

	memset(s, 0, sizeof(*s));
	if (p == NULL)
		return -1;
	call_all(p, snap_fn, &c);
	if (c.rc < 0) {
		dataplane_snapshot_free(s);
		return -1;
	}
	return 0;
}

void
dataplane_snapshot_free(struct dp_snapshot *s)
{
	for (uint32_t i = 0; i < s->n_svc; i++)
		free(s->svc[i].b);
	free(s->svc);
	memset(s, 0, sizeof(*s));
}

#define ALL_PORTS	(DP_MAX_IF * LBD_CLS_MAX_QUEUES)

/* Every worker's ports' counters. */
static size_t
all_port_stats(struct dataplane *p, struct worker_port_stats *ps, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < p->n_w; i++)
		n += worker_port_stats(p->w[i], ps + n, max - n);
	return n;
}

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
	np = all_port_stats(p, ps, ALL_PORTS);
	for (uint32_t i = 0; i < p->n_w; i++)
		worker_stats(p->w[i], &ws[i]);
	if (json) {
		buf_printf(b, "{\"workers\":%u,\"worker\":[", p->n_w);
		for (uint32_t i = 0; i < p->n_w; i++)
			buf_printf(b, "%s{\"rx\":%llu,\"handed_out\":%llu,"
			    "\"handed_in\":%llu,\"handoff_full\":%llu}",
			    i ? "," : "", (unsigned long long)ws[i].rx,
			    (unsigned long long)ws[i].handed_out,
			    (unsigned long long)ws[i].handed_in,
			    (unsigned long long)ws[i].handoff_full);
		buf_puts(b, "],\"interfaces\":[");
		for (uint32_t i = 0; i < p->n_if; i++) {
			const struct dp_if *di = &p->ifs[i];
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
		owner_show(p->owner, b, true);
		buf_printf(b, ",\"announcements\":%llu}",
		    (unsigned long long)owner_announcements(p->owner));
		return;
	}
	buf_printf(b, "data-plane       on, %u worker%s\n", p->n_w,
	    p->n_w == 1 ? "" : "s");
	for (uint32_t i = 0; i < p->n_w && p->n_w > 1; i++)
		buf_printf(b, "worker           %u rx %llu handed out %llu in %llu "
		    "(ring full %llu)\n", i,
		    (unsigned long long)ws[i].rx,
		    (unsigned long long)ws[i].handed_out,
		    (unsigned long long)ws[i].handed_in,
		    (unsigned long long)ws[i].handoff_full);
	for (uint32_t i = 0; i < p->n_if; i++) {
		const struct dp_if *di = &p->ifs[i];
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
	    (unsigned long long)owner_announcements(p->owner));
	owner_show(p->owner, b, false);
}

void
dataplane_show_errors(struct dataplane *p, struct buf *b, bool json)
{
	struct dp_snapshot s;
	static struct worker_port_stats ps[ALL_PORTS];	/* main thread only */
	uint64_t no_frame = 0, ring_full = 0, handoff_full = 0;
	size_t np;
	bool first = true;

	if (p == NULL || dataplane_snapshot(p, &s) < 0) {
		buf_puts(b, json ? "{}" : "");
		return;
	}
	np = all_port_stats(p, ps, ALL_PORTS);
	for (size_t k = 0; k < np; k++) {
		no_frame += ps[k].st.tx_no_frame;
		ring_full += ps[k].st.tx_ring_full;
	}
	for (uint32_t i = 0; i < p->n_w; i++) {
		struct worker_stats ws;

		worker_stats(p->w[i], &ws);
		handoff_full += ws.handoff_full;
	}
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
		    (unsigned long long)p->sync_split,
		    (unsigned long long)(s.st.resolve_lost + p->rq_lost),
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
		if (p->sync_split)
			buf_printf(b, "%-22s %llu\n", "sync_other_worker",
			    (unsigned long long)p->sync_split);
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

struct conn_call {
	int32_t		 svc;
	uint32_t	 max, n, total;
	struct ct_entry	*out;
};

static void
conn_fn(struct dp_engine *e, void *arg)
{
	struct conn_call *c = arg;
	struct ct_table *ct = dp_engine_ct(e);

	for (uint32_t i = 0; i < ct->cap; i++) {
		const struct ct_entry *ce = &ct->e[i];

		if (ce->state == CT_NONE || (c->svc >= 0 && ce->svc != c->svc))
			continue;
		c->total++;
		if (c->n < c->max)
			c->out[c->n++] = *ce;
	}
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
	struct conn_call cc = { .svc = svc, .max = max };
	static const char *const modes[] = { "routed", "snat", "dsr" };

	if (p == NULL) {
		buf_puts(b, json ? "{\"connections\":[],\"total\":0}\n" :
		    "no data plane (no `interface` in global)\n");
		return;
	}
	if ((cc.out = calloc(max ? max : 1, sizeof(*cc.out))) == NULL) {
		buf_puts(b, json ? "{\"error\":\"out of memory\"}\n" :
		    "out of memory\n");
		return;
	}
	call_all(p, conn_fn, &cc);
	if (!json)
		buf_printf(b, "%-16s %-6s %-6s %-46s %-46s %-46s %-12s %s\n",
		    "SERVICE", "PROTO", "MODE", "CLIENT", "VIP", "BACKEND", "STATE",
		    "PKTS(in/out)");
	else
		buf_puts(b, "{\"connections\":[");
	for (uint32_t i = 0; i < cc.n; i++) {
		const struct ct_entry *ce = &cc.out[i];
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
		buf_printf(b, "],\"shown\":%u,\"total\":%u}\n", cc.n, cc.total);
	else
		buf_printf(b, "%u of %u connections shown\n", cc.n, cc.total);
	free(cc.out);
}
