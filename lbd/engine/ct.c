/*
 * Connection table. See ct.h for the model: one slot array indexes both
 * tuples of every entry (open addressing, linear probing, tagged slots).
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include "lbd/engine/ct.h"

#define SDIR(s)		((enum ct_dir)((s) & 1))

static const uint8_t state_class[CT_STATE__COUNT] = {
	[CT_NONE] = CT_CLASS_CLOSE,
	[CT_SYN_SENT] = CT_CLASS_SYN,
	[CT_ESTABLISHED] = CT_CLASS_EST,
	[CT_FIN_WAIT] = CT_CLASS_FIN,
	[CT_TIME_WAIT] = CT_CLASS_TIME_WAIT,
	[CT_CLOSE] = CT_CLASS_CLOSE,
	[CT_UDP] = CT_CLASS_UDP,
};

const char *
ct_state_name(enum ct_state s)
{
	static const char *const names[CT_STATE__COUNT] = {
		"none", "syn_sent", "established", "fin_wait", "time_wait",
		"close", "udp",
	};
	return (unsigned)s < CT_STATE__COUNT ? names[s] : "?";
}

void
ct_default_timeouts(struct ct_timeouts *t)
{
	/* Short embryonic and close timeouts keep a SYN flood from filling the
	 * table; established and UDP follow common L4 balancer practice. */
	t->ms[CT_CLASS_SYN] = 10 * 1000;
	t->ms[CT_CLASS_EST] = 900 * 1000;
	t->ms[CT_CLASS_FIN] = 60 * 1000;
	t->ms[CT_CLASS_TIME_WAIT] = 60 * 1000;
	t->ms[CT_CLASS_CLOSE] = 10 * 1000;
	t->ms[CT_CLASS_UDP] = 300 * 1000;
	/* conntrack's unreplied UDP timeout: a spoofed flood's entries go
	 * in half a minute, not five. */
	t->ms[CT_CLASS_UDP_NEW] = 30 * 1000;
	t->ms[CT_CLASS_EST_NEW] = t->ms[CT_CLASS_EST];
	for (int k = 0; k < CT_UDP_SVC_MAX; k++)
		t->ms[CT_CLASS_UDP_SVC + k] = t->ms[CT_CLASS_UDP];
}

/* Where an entry in `state` waits: unproven ones on lists of their own,
 * which are evicted first. */
static uint8_t
class_of(const struct ct_table *ct, const struct ct_entry *e,
    enum ct_state state)
{
	if (!(e->flags & CT_F_PROVEN) && state == CT_UDP)
		return CT_CLASS_UDP_NEW;
	if (!(e->flags & CT_F_PROVEN) && state == CT_ESTABLISHED)
		return CT_CLASS_EST_NEW;
	if (state == CT_UDP && ct->udp_class != NULL)
		return ct->udp_class(ct->udp_class_arg, e);
	return state_class[state];
}

/*
 * The table is large and read at random: with 4 KiB pages nearly every
 * lookup would also miss the TLB. Ask for transparent huge pages (2 MiB);
 * where the kernel declines, this is an ordinary allocation.
 */
#define HUGE_ALIGN	(2u << 20)

static void *
table_alloc(size_t size)
{
	size_t rounded = (size + HUGE_ALIGN - 1) & ~(size_t)(HUGE_ALIGN - 1);
	void *p = aligned_alloc(HUGE_ALIGN, rounded);

	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
	return p;
}

static inline uint64_t
rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

uint64_t
dp_tuple_hash(const struct dp_tuple *t, uint64_t seed)
{
	const uint8_t *p = (const uint8_t *)t;
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 5; i++) {
		uint64_t w;
		memcpy(&w, p + 8 * i, 8);
		h ^= rotl(w * 0x87c37b91114253d5ull, 31) * 0x4cf5ad432745937full;
		h = rotl(h, 27) * 5 + 0x52dce729;
	}
	return dp_mix64(h);
}

void
dp_tuple_reverse(struct dp_tuple *d, const struct dp_tuple *s)
{
	struct dp_tuple tmp = *s;

	memcpy(d->src, tmp.dst, 16);
	memcpy(d->dst, tmp.src, 16);
	d->sport = tmp.dport;
	d->dport = tmp.sport;
	d->proto = tmp.proto;
	d->family = tmp.family;
	d->zero = 0;
}

static inline bool
tuple_eq(const struct dp_tuple *a, const struct dp_tuple *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int
ct_init(struct ct_table *ct, uint32_t cap, uint32_t ev_cap,
    const struct ct_timeouts *to, uint64_t seed)
{
	uint32_t nb;

	memset(ct, 0, sizeof(*ct));
	if (cap == 0 || cap > CT_MAX_ENTRIES)
		return -1;
	nb = 4 * cap;
	ct->e = table_alloc((size_t)cap * sizeof(*ct->e));
	ct->slots = table_alloc((size_t)nb * sizeof(*ct->slots));
	ct->origin = calloc(cap, 1);
	ct->ev = ev_cap ? calloc(ev_cap, sizeof(*ct->ev)) : NULL;
	if (ct->e == NULL || ct->slots == NULL || ct->origin == NULL ||
	    (ev_cap && ct->ev == NULL)) {
		ct_destroy(ct);
		return -1;
	}
	memset(ct->e, 0, (size_t)cap * sizeof(*ct->e));
	memset(ct->slots, 0xff, (size_t)nb * sizeof(*ct->slots));
	ct->cap = cap;
	ct->nslots = nb;
	ct->ev_cap = ev_cap;
	ct->seed = seed;
	if (to != NULL)
		ct->to = *to;
	else
		ct_default_timeouts(&ct->to);
	/* An unproven connection lives as long as a proven one: it is only
	 * first to go when room is short. */
	ct->to.ms[CT_CLASS_EST_NEW] = ct->to.ms[CT_CLASS_EST];
	for (uint32_t i = 0; i < cap; i++)
		ct->e[i].next = i + 1 < cap ? i + 1 : CT_NIL;
	ct->free_head = 0;
	for (int c = 0; c < CT_CLASS__COUNT; c++)
		ct->head[c] = ct->tail[c] = CT_NIL;
	return 0;
}

void
ct_destroy(struct ct_table *ct)
{
	free(ct->e);
	free(ct->slots);
	free(ct->origin);
	free(ct->ev);
	memset(ct, 0, sizeof(*ct));
}

void
ct_set_release(struct ct_table *ct, ct_release_fn fn, void *arg)
{
	ct->release = fn;
	ct->release_arg = arg;
}

void
ct_set_refresh(struct ct_table *ct, ct_refresh_fn fn, void *arg)
{
	ct->refresh = fn;
	ct->refresh_arg = arg;
}

void
ct_set_on_state(struct ct_table *ct, ct_state_fn fn, void *arg)
{
	ct->on_state = fn;
	ct->on_state_arg = arg;
}

void
ct_set_udp_class(struct ct_table *ct, ct_udp_class_fn fn, void *arg)
{
	ct->udp_class = fn;
	ct->udp_class_arg = arg;
}


uint32_t
ct_lookup(const struct ct_table *ct, const struct dp_tuple *t, enum ct_dir *dir)
{
	return ct_lookup_h(ct, t, dp_tuple_hash(t, ct->seed), dir);
}

uint32_t
ct_lookup_h(const struct ct_table *ct, const struct dp_tuple *t, uint64_t h,
    enum ct_dir *dir)
{
	uint32_t i = ct_home(ct, h), tag = CT_TAG(h);

	for (;; i = ct_next_slot(ct, i)) {
		uint32_t s = ct->slots[i];

		if (s == CT_SLOT_EMPTY)
			return CT_NIL;
		if ((s >> 25) == tag &&
		    tuple_eq(&ct->e[CT_SLOT_IDX(s)].t[SDIR(s)], t)) {
			*dir = SDIR(s);
			return CT_SLOT_IDX(s);
		}
	}
}

static void
hash_insert(struct ct_table *ct, uint32_t idx, enum ct_dir dir)
{
	uint64_t h = dp_tuple_hash(&ct->e[idx].t[dir], ct->seed);
	uint32_t i = ct_home(ct, h);

	while (ct->slots[i] != CT_SLOT_EMPTY)
		i = ct_next_slot(ct, i);
	ct->slots[i] = CT_SLOT(CT_TAG(h), idx, dir);
}

/* Where the tuple a slot points at hashes to. */
static uint32_t
slot_home(const struct ct_table *ct, uint32_t s)
{
	return ct_home(ct, dp_tuple_hash(&ct->e[CT_SLOT_IDX(s)].t[SDIR(s)],
	    ct->seed));
}

/* Remove, then shift back the slots after it that may move closer to their
 * home (Knuth 6.4, algorithm R): no tombstones, probes stay short. */
static void
hash_remove(struct ct_table *ct, uint32_t idx, enum ct_dir dir)
{
	uint64_t h = dp_tuple_hash(&ct->e[idx].t[dir], ct->seed);
	uint32_t want = CT_SLOT(CT_TAG(h), idx, dir);
	uint32_t i = ct_home(ct, h), j;

	while (ct->slots[i] != want) {
		if (ct->slots[i] == CT_SLOT_EMPTY)
			return;		/* not indexed: nothing to do */
		i = ct_next_slot(ct, i);
	}
	for (j = i;;) {
		uint32_t k;

		j = ct_next_slot(ct, j);
		if (ct->slots[j] == CT_SLOT_EMPTY)
			break;
		k = slot_home(ct, ct->slots[j]);
		/* The slot at j stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ct->slots[i] = ct->slots[j];
		i = j;
	}
	ct->slots[i] = CT_SLOT_EMPTY;
}

static void
list_remove(struct ct_table *ct, uint32_t idx)
{
	struct ct_entry *e = &ct->e[idx];

	if (e->prev != CT_NIL)
		ct->e[e->prev].next = e->next;
	else
		ct->head[e->tclass] = e->next;
	if (e->next != CT_NIL)
		ct->e[e->next].prev = e->prev;
	else
		ct->tail[e->tclass] = e->prev;
}

static void
list_append(struct ct_table *ct, uint32_t idx, uint8_t tclass)
{
	struct ct_entry *e = &ct->e[idx];

	e->tclass = tclass;
	e->next = CT_NIL;
	e->prev = ct->tail[tclass];
	if (e->prev != CT_NIL)
		ct->e[e->prev].next = idx;
	else
		ct->head[tclass] = idx;
	ct->tail[tclass] = idx;
	e->listed_at = e->last_seen;
}

static void
event(struct ct_table *ct, enum ct_event_type type, const struct ct_entry *e)
{
	struct ct_event *ev;

	if (ct->ev_cap == 0)
		return;
	if (ct->ev_len == ct->ev_cap) {
		ct->stats.events_lost++;
		return;
	}
	ev = &ct->ev[(ct->ev_head + ct->ev_len++) % ct->ev_cap];
	ev->type = (uint8_t)type;
	ev->state = e->state;
	ev->flags = e->flags;
	ev->mode = e->mode;
	ev->svc = e->svc;
	ev->backend = e->backend;
	ev->t[0] = e->t[0];
	ev->t[1] = e->t[1];
}

void
ct_free(struct ct_table *ct, uint32_t idx)
{
	struct ct_entry *e = &ct->e[idx];

	event(ct, CT_EV_CLOSE, e);
	if (ct->release != NULL)
		ct->release(ct->release_arg, e);
	hash_remove(ct, idx, CT_ORIG);
	hash_remove(ct, idx, CT_REPLY);
	list_remove(ct, idx);
	ct->stats.active--;
	ct->stats.by_state[e->state]--;
	e->state = CT_NONE;
	e->next = ct->free_head;
	ct->free_head = idx;
}

/* The lists a full table takes from: unproven and closing entries. The
 * oldest of their heads goes first, whatever its kind, so a flood of one
 * kind cannot evict a young connection of another (a UDP flood, the
 * handshakes of real clients). Proven half-closed connections are kept. */
static const uint8_t evict_from[] = {
	CT_CLASS_SYN, CT_CLASS_UDP_NEW, CT_CLASS_EST_NEW, CT_CLASS_CLOSE,
	CT_CLASS_TIME_WAIT, CT_CLASS_FIN,
};
#define N_EVICT	(sizeof(evict_from) / sizeof(evict_from[0]))

bool
ct_probation_over(const struct ct_entry *e)
{
	return e->mode == CT_MODE_ONE_WAY && !(e->flags & CT_F_PROVEN) &&
	    (e->tclass == CT_CLASS_UDP_NEW || e->tclass == CT_CLASS_EST_NEW) &&
	    (int32_t)(e->last_seen - e->listed_at) >= CT_PROBATION_MS;
}

bool
ct_evict(struct ct_table *ct, uint32_t budget,
    bool (*visit)(void *arg, const struct ct_entry *), void *arg)
{
	uint32_t cur[N_EVICT];

	for (size_t k = 0; k < N_EVICT; k++)
		cur[k] = ct->head[evict_from[k]];
	while (budget-- > 0) {
		size_t best = N_EVICT;
		struct ct_entry *e;
		uint32_t idx;

		/* The oldest listed of the lists' next candidates. */
		for (size_t k = 0; k < N_EVICT; k++)
			if (cur[k] != CT_NIL && (best == N_EVICT ||
			    (int32_t)(ct->e[cur[best]].listed_at -
			    ct->e[cur[k]].listed_at) > 0))
				best = k;
		if (best == N_EVICT)
			return false;
		idx = cur[best];
		e = &ct->e[idx];
		cur[best] = e->next;
		if (ct_probation_over(e))
			ct_prove(ct, idx);	/* moves to its proven list */
		else if ((evict_from[best] != CT_CLASS_FIN ||
		    !(e->flags & CT_F_PROVEN)) && (visit == NULL || visit(arg, e))) {
			ct_free(ct, idx);
			ct->stats.evicted++;
			return true;
		}
	}
	return false;
}

uint32_t
ct_alloc(struct ct_table *ct, uint32_t now)
{
	uint32_t idx = ct->free_head;

	if (idx == CT_NIL) {
		/* Full: push out the oldest unproven connection, never a
		 * proven open one. */
		if (!ct_evict(ct, 64, NULL, NULL)) {
			ct->stats.full++;
			return CT_NIL;
		}
		idx = ct->free_head;
	}
	ct->free_head = ct->e[idx].next;
	memset(&ct->e[idx], 0, sizeof(ct->e[idx]));
	ct->e[idx].last_seen = now;
	return idx;
}

void
ct_abort(struct ct_table *ct, uint32_t idx)
{
	ct->e[idx].next = ct->free_head;
	ct->free_head = idx;
}

void
ct_commit(struct ct_table *ct, uint32_t idx, enum ct_state state, uint32_t now,
    uint8_t origin)
{
	struct ct_entry *e = &ct->e[idx];
	bool mirrored = origin != 0;

	e->state = (uint8_t)state;
	e->last_seen = now;
	if (mirrored)
		e->flags |= CT_F_MIRRORED | CT_F_PROVEN;	/* the peer's word */
	ct->origin[idx] = origin;
	e->t[0].zero = e->t[1].zero = 0;
	hash_insert(ct, idx, CT_ORIG);
	hash_insert(ct, idx, CT_REPLY);
	list_append(ct, idx, class_of(ct, e, state));
	ct->stats.active++;
	ct->stats.by_state[state]++;
	if (mirrored)
		ct->stats.inserted++;
	else
		ct->stats.created++;
	event(ct, CT_EV_NEW, e);
}

void
ct_set_state(struct ct_table *ct, uint32_t idx, enum ct_state state,
    uint32_t now)
{
	struct ct_entry *e = &ct->e[idx];
	uint8_t from = e->state;

	if (e->state == state)
		return;
	ct->stats.by_state[e->state]--;
	ct->stats.by_state[state]++;
	e->state = (uint8_t)state;
	e->last_seen = now;
	list_remove(ct, idx);
	list_append(ct, idx, class_of(ct, e, state));
	event(ct, CT_EV_CHANGE, e);
	if (ct->on_state != NULL)
		ct->on_state(ct->on_state_arg, e, from);
}

void
ct_prove(struct ct_table *ct, uint32_t idx)
{
	struct ct_entry *e = &ct->e[idx];

	if (e->flags & CT_F_PROVEN)
		return;
	e->flags |= CT_F_PROVEN;
	ct->stats.proven++;
	list_remove(ct, idx);
	list_append(ct, idx, class_of(ct, e, (enum ct_state)e->state));
	event(ct, CT_EV_CHANGE, e);
}

/*
 * TCP as a load balancer sees it: the client's SYN opens; its ACK of the
 * backend's SYN-ACK establishes (in dsr, where the SYN-ACK bypasses us, an
 * ACK whose sequence number follows the SYN's); a FIN from each side
 * closes, RST resets. What proves an entry is said at the top of ct.h.
 */
/*
 * A RST ends the entry only when its sender could have sent it: its
 * sequence number near where that side is (or, for a side not heard yet,
 * where the other side's acknowledgments say it is: a backend's RST to a
 * segment of a connection it does not have), or with the ACK bit, an
 * acknowledgment near where the other side is (a port closed to the
 * client's SYN). An off-path sender guessing blindly has about one chance
 * in 16,000 per packet. With neither side known (a mirrored entry just
 * taken over) there is nothing to judge by.
 */
static bool
rst_fits(const struct ct_entry *e, enum ct_dir dir, uint8_t fl, uint32_t seq,
    uint32_t ack)
{
	enum ct_dir other = dir == CT_ORIG ? CT_REPLY : CT_ORIG;
	bool where = e->pkts[dir] > 0 || e->seq[dir] != 0;

	if (!where && e->pkts[other] == 0)
		return true;
	return (where && ct_seq_near(seq, e->seq[dir])) ||
	    ((fl & 0x10) && e->pkts[other] > 0 && ct_seq_near(ack, e->seq[other]));
}

enum ct_seen_result
ct_seen(struct ct_table *ct, uint32_t idx, enum ct_dir dir, uint8_t fl,
    uint32_t seq, uint32_t ack, uint32_t len, uint32_t now)
{
	struct ct_entry *e = &ct->e[idx];
	enum ct_state ns = (enum ct_state)e->state;
	bool one_way = e->mode == CT_MODE_ONE_WAY;
	bool tcp = e->t[0].proto == 6;
	uint32_t was = e->seq[dir];

	if (tcp && (fl & 0x04) && !rst_fits(e, dir, fl, seq, ack))
		return CT_SEEN_BAD_RST;
	if (tcp && !(fl & 0x04)) {
		/* Where this side is now: the furthest end seen. */
		uint32_t end = seq + len + ((fl & 0x02) ? 1 : 0) +
		    ((fl & 0x01) ? 1 : 0);

		if (e->pkts[dir] == 0 || (int32_t)(end - e->seq[dir]) > 0)
			e->seq[dir] = end;
		/* A side not heard yet is where this one acknowledges (not
		 * in a handshake: there the SYN-ACK is still to come, and a
		 * spoofed ACK could say anything). */
		if ((fl & 0x10) && ns != CT_SYN_SENT &&
		    e->pkts[dir == CT_ORIG ? CT_REPLY : CT_ORIG] == 0)
			e->seq[dir == CT_ORIG ? CT_REPLY : CT_ORIG] = ack;
	}
	e->last_seen = now;
	e->pkts[dir]++;
	/* We forward it now (a takeover): it is ours -- unless this is a
	 * reply while the node that owns the entry still vouches for it. In
	 * a cluster the routers send a connection's client packets to one
	 * node (ECMP) and its replies to the node whose SNAT address it has;
	 * after ECMP moved it, these are two nodes, and each taking it from
	 * the other at every packet would send a record per packet. The
	 * client's side decides: this node forwards the reply as it is. */
	if (__builtin_expect(e->flags & CT_F_MIRRORED, 0) && (dir == CT_ORIG ||
	    !(ct->keep_mirrored >> ct->origin[idx] & 1))) {
		e->flags &= (uint8_t)~(CT_F_MIRRORED | CT_F_STALE);
		ct->origin[idx] = 0;
		event(ct, CT_EV_NEW, e);
	}
	if (!(e->flags & CT_F_PROVEN) && (ns == CT_UDP || ns == CT_ESTABLISHED) &&
	    !(tcp && (fl & 0x04))) {
		/* A reply to an open flow (a backend answers a spoofed ACK
		 * with a RST), or a one-way flow still going after its
		 * probation. */
		if (one_way ? dir == CT_ORIG && ct_probation_over(e) :
		    dir == CT_REPLY)
			ct_prove(ct, idx);
	}
	if (!tcp)
		return CT_SEEN_SAME;
	if (fl & 0x04) {					/* RST */
		ns = CT_CLOSE;
	} else if (fl & 0x01) {					/* FIN */
		e->flags |= dir == CT_ORIG ? CT_F_FIN_ORIG : CT_F_FIN_REPLY;
		if (ns == CT_SYN_SENT || ns == CT_ESTABLISHED || ns == CT_FIN_WAIT)
			ns = (e->flags & (CT_F_FIN_ORIG | CT_F_FIN_REPLY)) ==
			    (CT_F_FIN_ORIG | CT_F_FIN_REPLY) ? CT_TIME_WAIT :
			    CT_FIN_WAIT;
	} else if (ns == CT_SYN_SENT) {
		uint8_t sa = fl & 0x12;

		if (dir == CT_ORIG && sa == 0x02)		/* SYN again */
			e->seq[CT_ORIG] = seq + 1;	/* maybe a new ISN */
		else if (dir == CT_REPLY && sa == 0x12)		/* SYN-ACK */
			e->seq[CT_REPLY] = seq + 1;
		else if (dir == CT_ORIG && sa == 0x10 && (one_way ? seq == was :
		    e->pkts[CT_REPLY] > 0 && ack == e->seq[CT_REPLY])) {
			/* Only the backend and the real client know the
			 * backend's sequence number: proven. A one-way ACK
			 * proves nothing yet (the flood knows its own). */
			ns = CT_ESTABLISHED;
			if (!one_way) {
				e->flags |= CT_F_PROVEN;
				ct->stats.proven++;
			}
		}
	}
	if (ns == e->state)
		return CT_SEEN_SAME;
	ct_set_state(ct, idx, ns, now);
	return CT_SEEN_CHANGED;
}

uint32_t
ct_expire(struct ct_table *ct, uint32_t now, uint32_t budget)
{
	uint32_t freed = 0;

	for (int c = 0; c < CT_CLASS__COUNT && budget > 0; c++) {
		uint32_t to = ct->to.ms[c];

		while (budget > 0 && ct->head[c] != CT_NIL) {
			uint32_t idx = ct->head[c];
			struct ct_entry *e = &ct->e[idx];

			budget--;
			/* The kernel forwards an offloaded entry's packets:
			 * ask what it saw before judging it idle. */
			if ((int32_t)(now - e->last_seen) >= (int32_t)to &&
			    (e->flags & CT_F_OFFLOADED) && ct->refresh != NULL)
				ct->refresh(ct->refresh_arg, e);
			if ((int32_t)(now - e->last_seen) >= (int32_t)to &&
			    (e->flags & CT_F_MIRRORED) &&
			    (ct->keep_mirrored >> ct->origin[idx] & 1)) {
				/* The owner vouches for it until it says
				 * CLOSE; should it vanish, a full timeout
				 * from now. */
				e->last_seen = now;
				list_remove(ct, idx);
				list_append(ct, idx, (uint8_t)c);
			} else if ((int32_t)(now - e->last_seen) >= (int32_t)to) {
				ct_free(ct, idx);
				ct->stats.expired++;
				freed++;
			} else if (ct_probation_over(e)) {
				ct_prove(ct, idx);
			} else if (e->last_seen != e->listed_at) {
				/* Seen since it was queued: requeue at the tail. */
				list_remove(ct, idx);
				list_append(ct, idx, (uint8_t)c);
			} else
				break;	/* all behind it are younger */
		}
	}
	return freed;
}

void
ct_renew(struct ct_table *ct, uint32_t idx, uint32_t now)
{
	ct->e[idx].flags &= (uint8_t)~CT_F_STALE;
	ct->e[idx].last_seen = now;
}

void
ct_set_origin(struct ct_table *ct, uint32_t idx, uint8_t origin)
{
	ct->origin[idx] = origin;
}

uint32_t
ct_reown(struct ct_table *ct, uint8_t origin)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ct->cap; i++)
		if (ct->e[i].state != CT_NONE && (ct->e[i].flags & CT_F_MIRRORED) &&
		    ct->origin[i] == origin) {
			ct->e[i].flags &= (uint8_t)~(CT_F_MIRRORED | CT_F_STALE);
			ct->origin[i] = CT_ORIGIN_GIVEN | origin;
			n++;
		}
	return n;
}

uint32_t
ct_mark_mirrored(struct ct_table *ct, uint8_t origin)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ct->cap; i++)
		if (ct->e[i].state != CT_NONE && (ct->e[i].flags & CT_F_MIRRORED) &&
		    ct->origin[i] == origin) {
			ct->e[i].flags |= CT_F_STALE;
			n++;
		}
	return n;
}

uint32_t
ct_sweep_stale(struct ct_table *ct, uint8_t origin)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ct->cap; i++)
		if (ct->e[i].state != CT_NONE && (ct->e[i].flags & CT_F_STALE) &&
		    ct->origin[i] == origin) {
			ct_free(ct, i);
			n++;
		}
	return n;
}

size_t
ct_events(struct ct_table *ct, struct ct_event *out, size_t max)
{
	size_t n = 0;

	while (n < max && ct->ev_len > 0) {
		out[n++] = ct->ev[ct->ev_head];
		ct->ev_head = (ct->ev_head + 1) % ct->ev_cap;
		ct->ev_len--;
	}
	return n;
}

void
ct_relist(struct ct_table *ct, uint32_t idx)
{
	struct ct_entry *e = &ct->e[idx];
	uint8_t c = class_of(ct, e, (enum ct_state)e->state);

	if (c == e->tclass)
		return;
	list_remove(ct, idx);
	list_append(ct, idx, c);
}

void
ct_event_observe(struct ct_table *ct, uint32_t idx)
{
	event(ct, CT_EV_OBSERVE, &ct->e[idx]);
}
