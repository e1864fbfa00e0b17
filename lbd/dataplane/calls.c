/*
 * Every call into the workers, and what they hand back.
 *
 * The main thread never touches an engine itself: it hands each worker a
 * function to run between two batches (worker_call) and waits for it.
 * Config-like state (services, routes, neighbours, links, backend states)
 * goes to every engine; a mirrored connection goes to the engine that owns
 * it (dp_steer_entry); statistics are added up over the engines. The
 * workers hand back connection events (ha-sync) through a locked queue and
 * an ev_async, never calling into the loop themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lbd/dataplane/dp_int.h"
#include "lbd/engine/from_conf.h"
#include "lib/clock.h"
#include "lib/log.h"

/* fn on every worker's engine, one after the other with the same `arg`:
 * the functions that answer accumulate into it. */
static void
call_all(struct dataplane *p, worker_fn fn, void *arg)
{
	for (uint32_t i = 0; i < p->wk.n; i++)
		worker_call(p->wk.w[i], fn, arg);
}

/* ---- connection events, worker -> main ------------------------------ */

/* Worker thread: queue and wake the loop. */
static void
events_from_worker(const struct ct_event *ev, size_t n, uint64_t lost,
    void *arg)
{
	struct dp_events *q = &((struct dataplane *)arg)->ev;
	size_t room;

	pthread_mutex_lock(&q->mu);
	room = DP_EVENT_QUEUE - q->n;
	q->lost_new += lost;
	if (n > room) {
		q->lost += n - room;
		q->lost_new += n - room;
		n = room;
	}
	memcpy(q->q + q->n, ev, n * sizeof(*ev));
	q->n += (uint32_t)n;
	pthread_mutex_unlock(&q->mu);
	ev_async_send(((struct dataplane *)arg)->loop, &q->async);
}

static void
events_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct dp_events *q = w->data;
	struct ct_event ev[256];
	uint64_t lost;
	uint32_t n;

	do {
		pthread_mutex_lock(&q->mu);
		n = q->n < 256 ? q->n : 256;
		memcpy(ev, q->q, n * sizeof(*ev));
		memmove(q->q, q->q + n, (q->n - n) * sizeof(*ev));
		q->n -= n;
		lost = q->lost_new;
		q->lost_new = 0;
		pthread_mutex_unlock(&q->mu);
		if ((n > 0 || lost > 0) && q->fn != NULL)
			q->fn(q->arg, ev, n, lost);
	} while (n == 256);
}

void
dataplane_sync_events(struct dataplane *p, dataplane_events_fn fn, void *arg)
{
	if (p == NULL)
		return;
	p->ev.fn = fn;
	p->ev.arg = arg;
}

bool
dataplane_events_on(const struct dataplane *p)
{
	return p != NULL && p->ev.on;
}

/* ---- the workers' lives ---------------------------------------------- */

int
dp_workers_new(struct dataplane *p, const struct conf *c, char *err,
    size_t errlen)
{
	struct dp_params par;
	struct timespec ts;

	pthread_mutex_init(&p->ev.mu, NULL);
	ev_async_init(&p->ev.async, events_cb);
	p->ev.async.data = &p->ev;
	ev_async_start(p->loop, &p->ev.async);
	dp_params_from_conf(c, &par);
	p->wk.maglev_cap = par.maglev_size;
	/* Connection events are read by ha-sync, the NAT log and passive
	 * health. */
	p->ev.on = c->sync.present || c->global.nat_log || conf_observes(c);
	if (!p->ev.on)
		par.events = 0;
	/* The kernel fast path takes established connections as flows. */
	par.offload = p->ifs.kernel ? DP_FLOW_RING : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	par.seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	p->wk.n = dp_ifaces_workers(p, c);
	/* The table is shared out: each engine holds its own connections. */
	par.conn_max = (par.conn_max + p->wk.n - 1) / p->wk.n;
	par.workers = p->wk.n;
	if (p->ev.on && (p->ev.q = calloc(DP_EVENT_QUEUE, sizeof(*p->ev.q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->wk.n; i++) {
		par.worker_id = i;
		if ((p->wk.e[i] = dp_engine_new(&par)) == NULL ||
		    (p->wk.w[i] = worker_new(p->wk.e[i],
		    dp_kernel_resolve_from_worker, p)) == NULL) {
			snprintf(err, errlen, "engine: out of memory "
			    "(conn-table-size %u per worker)", par.conn_max);
			return -1;
		}
		if (p->ev.on)
			worker_set_events(p->wk.w[i], events_from_worker, p);
		if (p->ifs.kernel) {
			struct fp_flows *f = fp_flows_new(
			    tcprog_flows_fd(p->ifs.tc), 2 * par.conn_max);

			if (f == NULL) {
				snprintf(err, errlen, "out of memory (flows)");
				return -1;
			}
			worker_set_flows(p->wk.w[i], f);
		}
	}
	if (p->wk.n > 1 && worker_link(p->wk.w, p->wk.n) < 0) {
		snprintf(err, errlen, "workers: out of memory for hand-off rings");
		return -1;
	}
	return 0;
}

int
dp_workers_start(struct dataplane *p, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < p->wk.n; i++)
		if (worker_start(p->wk.w[i]) < 0) {
			snprintf(err, errlen, "worker thread: %s", strerror(errno));
			return -1;
		}
	return 0;
}

void
dp_workers_stop(struct dataplane *p)
{
	for (uint32_t i = 0; i < p->wk.n; i++)
		worker_stop(p->wk.w[i]);
}

void
dp_workers_free(struct dataplane *p)
{
	for (uint32_t i = 0; i < p->wk.n; i++) {
		worker_free(p->wk.w[i]);
		dp_engine_free(p->wk.e[i]);
		p->wk.w[i] = NULL;
		p->wk.e[i] = NULL;
	}
	p->wk.n = 0;
	ev_async_stop(p->loop, &p->ev.async);
	pthread_mutex_destroy(&p->ev.mu);
	free(p->ev.q);
	p->ev.q = NULL;
}

/* ---- the kernel's tables, to every engine ----------------------------- */

struct routes_call {
	struct dp_route	*v;
	uint32_t	 n;
};

static void
routes_fn(struct dp_engine *e, void *arg)
{
	struct routes_call *c = arg;

	(void)dp_set_routes(e, c->v, c->n);
}

void
dp_call_routes(struct dataplane *p, struct dp_route *v, uint32_t n)
{
	struct routes_call c = { v, n };

	call_all(p, routes_fn, &c);
}

struct neigh_call {
	uint8_t		family, mac[6];
	uint8_t		addr[16];
	uint16_t	ifidx;
};

static void
neigh_fn(struct dp_engine *e, void *arg)
{
	struct neigh_call *c = arg;

	(void)dp_set_neigh(e, c->family, c->addr, c->ifidx, c->mac);
}

void
dp_call_neigh(struct dataplane *p, uint8_t family, const uint8_t addr[16],
    uint16_t ifidx, const uint8_t mac[6])
{
	struct neigh_call c = { .family = family, .ifidx = ifidx };

	memcpy(c.addr, addr, 16);
	memcpy(c.mac, mac, 6);
	call_all(p, neigh_fn, &c);
}

struct iface_call {
	uint16_t		 idx;
	const struct dp_iface	*ifc;
	int			 rc;
};

static void
iface_fn(struct dp_engine *e, void *arg)
{
	struct iface_call *c = arg;

	(void)dp_set_iface(e, c->idx, c->ifc);
}

void
dp_call_iface(struct dataplane *p, uint16_t idx, const struct dp_iface *ifc)
{
	struct iface_call c = { idx, ifc, 0 };

	call_all(p, iface_fn, &c);
}

static void
add_iface_fn(struct dp_engine *e, void *arg)
{
	struct iface_call *c = arg;

	if (dp_add_iface(e, c->ifc) < 0)
		c->rc = -1;
}

/* Before the workers start (the calls run on this thread). */
int
dp_call_add_iface(struct dataplane *p, const struct dp_iface *ifc)
{
	struct iface_call c = { 0, ifc, 0 };

	call_all(p, add_iface_fn, &c);
	return c.rc;
}

/* ---- services and backends -------------------------------------------- */

struct svcs_call {
	struct dp_service	*v;
	uint32_t		 n;
	int			 rc;
};

static void
services_fn(struct dp_engine *e, void *arg)
{
	struct svcs_call *c = arg;

	c->rc = dp_engine_set_services(e, c->v, c->n);
}

/* The services of `c`, with the backends' states when given (else as the
 * config has them), built here and handed to worker `wi` whole. */
static int
services_to(struct dataplane *p, uint32_t wi, const struct conf *c,
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
	dp_services_prepare(sc.v, sc.n, p->wk.maglev_cap);
	worker_call(p->wk.w[wi], services_fn, &sc);
	if (sc.rc < 0) {
		for (uint32_t i = 0; i < sc.n; i++)
			dp_service_free(&sc.v[i]);
		free(sc.v);
	}
	return sc.rc;
}

/* Every engine its own copy: they share nothing on the packet path. */
int
dp_call_services(struct dataplane *p, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st)
{
	int rc = 0;

	for (uint32_t i = 0; i < p->wk.n; i++)
		if (services_to(p, i, c, st, n_st) < 0)
			rc = -1;
	return rc;
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

uint32_t
dp_call_orphans(struct dataplane *p, struct dp_orphan *out)
{
	static struct orphans_call c;	/* main thread only */

	c.v = out;
	c.n = 0;
	call_all(p, orphans_fn, &c);
	return c.n;
}

/* ---- ha-sync: the table, entry by entry -------------------------------- */

struct sync_apply_call {
	const struct dp_sync_op	*ops;
	const uint8_t		*owner;		/* worker of each op */
	const bool		*holds;		/* this node holds its VIP */
	size_t			 n;
	uint32_t		 me;		/* the worker running it */
	uint64_t		*verdicts;	/* [DP_SYNC__COUNT] */
};

static void
sync_apply_fn(struct dp_engine *e, void *arg)
{
	struct sync_apply_call *c = arg;
	uint32_t now = (uint32_t)mono_ms();	/* the worker's clock */

	for (size_t i = 0; i < c->n; i++) {
		const struct dp_sync_op *o = &c->ops[i];

		if (c->owner[i] != c->me)
			continue;
		c->verdicts[o->close ? dp_sync_close(e, &o->e.t[CT_ORIG],
		    o->origin) : dp_sync_upsert(e, &o->e, now, c->holds[i],
		    o->origin)]++;
	}
}

/* Each entry goes to the engine of the worker its packets will reach. */
void
dataplane_sync_apply(struct dataplane *p, const struct dp_sync_op *ops, size_t n,
    uint64_t verdicts[DP_SYNC__COUNT])
{
	struct sync_apply_call c = { .ops = ops, .n = n, .verdicts = verdicts };
	uint8_t *owner = calloc(n ? n : 1, 1);
	bool *holds = calloc(n ? n : 1, sizeof(*holds));
	uint64_t split = 0;

	if (owner == NULL || holds == NULL) {
		free(owner);
		free(holds);
		verdicts[DP_SYNC_NO_ROOM] += n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dp_tuple *o = &ops[i].e.t[CT_ORIG];
		bool sp;

		/* dp_steer_entry reads only the engine's immutable params. */
		owner[i] = (uint8_t)dp_steer_entry(p->wk.e[0], &ops[i].e, &sp);
		split += sp && !ops[i].close;
		holds[i] = dp_owned_holds(p, o->family, o->dst);
	}
	c.holds = holds;
	if (split > 0 && p->ev.sync_split == 0)
		log_warnx("sync: the peer's snat connections are steered to "
		    "other workers than this node's (run the same `workers` "
		    "on both nodes); they will not survive a failover");
	p->ev.sync_split += split;
	c.owner = owner;
	for (c.me = 0; c.me < p->wk.n; c.me++)
		worker_call(p->wk.w[c.me], sync_apply_fn, &c);
	free(owner);
	free(holds);
}

struct sync_table_call {
	uint32_t	*cursor;
	struct ct_entry	*out;
	size_t		 max, n;
	uint8_t		 origin;	/* its own, taken at its restart, flagged */
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
		/* One the peer had when it died: given back so flagged, it
		 * changes nothing the peer still has (dp_sync_upsert). */
		if (c->origin != 0 && ct->origin[i] == (CT_ORIGIN_GIVEN | c->origin))
			c->out[c->n - 1].flags |= CT_F_MIRRORED;
	}
	*c->cursor = i < ct->cap ? i : UINT32_MAX;
}

/* The cursor: worker in the high bits, entry index (< CT_MAX_ENTRIES) in
 * the low 24. */
size_t
dataplane_sync_table(struct dataplane *p, uint32_t *cursor, struct ct_entry *out,
    size_t max, uint8_t origin)
{
	struct sync_table_call c = { .out = out, .max = max, .origin = origin };
	uint32_t wi, i;

	if (*cursor == UINT32_MAX)
		return 0;
	wi = *cursor >> 24;
	i = *cursor & (CT_MAX_ENTRIES - 1);
	c.cursor = &i;
	while (wi < p->wk.n && c.n < c.max) {
		worker_call(p->wk.w[wi], sync_table_fn, &c);
		if (i == UINT32_MAX) {
			wi++;
			i = 0;
		}
	}
	*cursor = wi < p->wk.n ? wi << 24 | i : UINT32_MAX;
	return c.n;
}

struct sync_bulk_call {
	bool		end;
	uint8_t		origin;
	uint32_t	n;
};

static void
sync_bulk_fn(struct dp_engine *e, void *arg)
{
	struct sync_bulk_call *c = arg;

	c->n += c->end ? ct_sweep_stale(dp_engine_ct(e), c->origin) :
	    ct_mark_mirrored(dp_engine_ct(e), c->origin);
}

uint32_t
dataplane_sync_bulk(struct dataplane *p, uint8_t origin, bool end)
{
	struct sync_bulk_call c = { .end = end, .origin = origin };

	call_all(p, sync_bulk_fn, &c);
	return c.n;
}

struct sync_reown_call {
	uint8_t		origin;
	uint32_t	n;
};

static void
sync_reown_fn(struct dp_engine *e, void *arg)
{
	struct sync_reown_call *c = arg;

	c->n += ct_reown(dp_engine_ct(e), c->origin);
}

uint32_t
dataplane_sync_reown(struct dataplane *p, uint8_t origin)
{
	struct sync_reown_call c = { .origin = origin };

	call_all(p, sync_reown_fn, &c);
	return c.n;
}

struct sync_keep_call {
	uint8_t		origin;
	bool		keep;
};

static void
sync_keep_fn(struct dp_engine *e, void *arg)
{
	const struct sync_keep_call *c = arg;
	struct ct_table *ct = dp_engine_ct(e);

	if (c->keep)
		ct->keep_mirrored |= 1u << c->origin;
	else
		ct->keep_mirrored &= ~(1u << c->origin);
}

void
dataplane_sync_keep(struct dataplane *p, uint8_t origin, bool keep)
{
	struct sync_keep_call c = { .origin = origin, .keep = keep };

	call_all(p, sync_keep_fn, &c);
}

/* ---- statistics -------------------------------------------------------- */

#define SNAP_SNAT_MAX	256

struct snap_call {
	struct dp_snapshot	*s;
	int			 rc;
	struct dp_snat_use	 one[SNAP_SNAT_MAX];	/* one engine's */
	struct dp_snat_use	*snat;			/* all engines' */
	size_t			 n_snat;
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
	d->proven += s->proven;
	d->full += s->full;
	d->events_lost += s->events_lost;
	d->active += s->active;
	for (int i = 0; i < CT_STATE__COUNT; i++)
		d->by_state[i] += s->by_state[i];
}

/* SNAT ports in use, added up by address over the engines; the fullest
 * space of any. */
static void
add_snat(struct snap_call *c, const struct dp_engine *e)
{
	size_t n = dp_snat_usage(e, c->one, SNAP_SNAT_MAX), k;

	for (size_t i = 0; i < n; i++) {
		for (k = 0; k < c->n_snat; k++)
			if (c->snat[k].family == c->one[i].family &&
			    memcmp(c->snat[k].addr, c->one[i].addr, 16) == 0)
				break;
		if (k == c->n_snat) {
			if (c->n_snat == SNAP_SNAT_MAX)
				continue;
			c->snat[c->n_snat] = c->one[i];
			c->snat[c->n_snat++].used = 0;
		}
		c->snat[k].used += c->one[i].used;
		if (c->one[i].peak_pct > c->snat[k].peak_pct)
			c->snat[k].peak_pct = c->one[i].peak_pct;
	}
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
	add_snat(c, e);
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
			s->svc[i].b[k].open += sv[i].b[k].open;
			s->svc[i].active += sv[i].b[k].active;
		}
	}
}

/* The engines' part of a snapshot; *snat gets the SNAT addresses' use
 * (the caller frees it). */
int
dp_call_snapshot(struct dataplane *p, struct dp_snapshot *s,
    struct dp_snat_use **snat, size_t *n_snat)
{
	static struct snap_call c;	/* main thread only */

	memset(&c, 0, sizeof(c));
	c.s = s;
	if ((c.snat = calloc(SNAP_SNAT_MAX, sizeof(*c.snat))) == NULL)
		return -1;
	for (uint32_t i = 0; i < p->wk.n; i++)
		worker_sync_flows(p->wk.w[i]);
	call_all(p, snap_fn, &c);
	*snat = c.snat;
	*n_snat = c.n_snat;
	return c.rc;
}

struct conn_call {
	int32_t			 svc;
	uint32_t		 max, n, total;
	struct ct_entry		*out;
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

uint32_t
dp_call_conns(struct dataplane *p, int32_t svc, struct ct_entry *out,
    uint32_t max, uint32_t *total)
{
	struct conn_call c = { .svc = svc, .max = max, .out = out };

	for (uint32_t i = 0; i < p->wk.n; i++)
		worker_sync_flows(p->wk.w[i]);
	call_all(p, conn_fn, &c);
	*total = c.total;
	return c.n;
}

size_t
dp_call_port_stats(struct dataplane *p, struct worker_port_stats *ps, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < p->wk.n; i++)
		n += worker_port_stats(p->wk.w[i], ps + n, max - n);
	return n;
}

void
dp_call_worker_stats(struct dataplane *p, struct worker_stats *out)
{
	for (uint32_t i = 0; i < p->wk.n; i++)
		worker_stats(p->wk.w[i], &out[i]);
}
