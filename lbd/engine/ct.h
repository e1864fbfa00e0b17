/*
 * ct — the connection table.
 *
 * One entry per connection, found from both directions: the original tuple
 * (client -> VIP) and the reply tuple (backend -> client, or backend -> SNAT
 * address in snat mode). Entries come from a pool preallocated at create time;
 * nothing allocates on the packet path. The table is bounded, and a spoofed
 * flood cannot fill it: an entry is "proven" only by what an off-path sender
 * cannot fake -- the backend's SYN-ACK acknowledged by the client, or any
 * reply (routed and snat); in dsr, where replies bypass us, a handshake
 * whose numbers fit and traffic still coming after CT_PROBATION_MS. When
 * the table is full the oldest unproven or closing entry is evicted
 * (embryonic, unreplied UDP, unproven established, reset, closed), never a
 * proven open connection.
 *
 * Index: open addressing with linear probing over 32-bit slots, each
 * holding (7-bit hash tag | 24-bit entry index | direction). A probe reads
 * slots, which sit together in one cache line, and touches an entry only when
 * the tag matches, so a lookup costs about one slot-line miss and one entry
 * miss, and both can be prefetched for a whole batch. Slots are at least
 * 4 x capacity (two per entry, load <= 0.5); deletion shifts the following
 * slots back (no tombstones). Capacity is at most CT_MAX_ENTRIES.
 *
 * Expiry: each timeout class (syn, established, fin, time_wait, close, udp,
 * and the unproven udp_new and est_new) keeps its entries on a list in the order they were last placed there. The
 * fast path only stores `last_seen`; ct_expire() walks each list from the
 * head, frees what has expired and moves what was seen since to the tail.
 * Because every entry on a list has the same timeout, the walk can stop at
 * the first entry that is neither expired nor refreshed.
 *
 * Time is milliseconds on the caller's clock (uint32, wrap-safe).
 */
#ifndef LBD_ENGINE_CT_H
#define LBD_ENGINE_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_NIL		UINT32_MAX
#define CT_MAX_ENTRIES	(1u << 24)
#define CT_SLOT_EMPTY	UINT32_MAX

struct dp_tuple {
	uint8_t		src[16];	/* network order; IPv4 in the first 4 */
	uint8_t		dst[16];
	uint16_t	sport, dport;	/* network order */
	uint8_t		proto;
	uint8_t		family;		/* 4 or 6 */
	uint16_t	zero;		/* keeps the struct free of padding */
};
_Static_assert(sizeof(struct dp_tuple) == 40, "dp_tuple is hashed as bytes");

enum ct_dir {
	CT_ORIG,	/* client -> VIP */
	CT_REPLY,	/* backend -> client (or SNAT address) */
};

enum ct_state {
	CT_NONE,
	CT_SYN_SENT,	/* client SYN seen: embryonic */
	CT_ESTABLISHED,
	CT_FIN_WAIT,	/* FIN seen from one side */
	CT_TIME_WAIT,	/* FIN seen from both sides */
	CT_CLOSE,	/* RST seen */
	CT_UDP,
	CT_STATE__COUNT
};

#define CT_UDP_SVC_MAX	4	/* distinct per-service UDP timeouts */

enum ct_class {
	CT_CLASS_SYN,
	CT_CLASS_EST,
	CT_CLASS_FIN,
	CT_CLASS_TIME_WAIT,
	CT_CLASS_CLOSE,
	CT_CLASS_UDP,
	CT_CLASS_UDP_NEW,	/* UDP not yet replied to: short timeout */
	CT_CLASS_EST_NEW,	/* established, unproven: the EST timeout */
	/* Replied UDP of services with a `timeout udp` of their own: a list
	 * per distinct value, so that each list keeps one timeout and its
	 * oldest entry at the head (the engine sets them, ct_udp_class). */
	CT_CLASS_UDP_SVC,
	CT_CLASS__COUNT = CT_CLASS_UDP_SVC + CT_UDP_SVC_MAX
};

/* How long a one-way (dsr) entry must go on seeing its client before it
 * counts as proven: a blind flood sends its packets once. */
#define CT_PROBATION_MS	1000
/* The entry's mode (enum dp_mode) in which lbd never sees replies. */
#define CT_MODE_ONE_WAY	2

struct ct_timeouts {
	uint32_t	ms[CT_CLASS__COUNT];
};

#define CT_F_MIRRORED	0x01	/* inserted from the peer (ha-sync) */
#define CT_F_SNAT	0x02	/* holds a SNAT port */
#define CT_F_FIN_ORIG	0x04	/* FIN seen from the client */
#define CT_F_FIN_REPLY	0x08	/* FIN seen from the backend */
#define CT_F_STALE	0x10	/* mirrored, not renewed by the running bulk */
#define CT_F_OFF_ORIG	0x20	/* its client -> backend flow is in the kernel */
#define CT_F_OFF_REPLY	0x40	/* its backend -> client flow is in the kernel */
#define CT_F_OFFLOADED	(CT_F_OFF_ORIG | CT_F_OFF_REPLY)
#define CT_F_PROVEN	0x80	/* not a spoofer's: see the top of this file */

struct ct_entry {
	struct dp_tuple	t[2];		/* [CT_ORIG], [CT_REPLY] */
	uint32_t	prev, next;	/* timeout-class list; free list uses next */
	uint32_t	last_seen;	/* ms */
	uint32_t	listed_at;	/* last_seen when put at the list's tail */
	uint32_t	pkts[2];	/* per direction */
	/* TCP, host order: the next sequence number each side will send --
	 * its SYN's + 1, then the end of the furthest segment seen (here, or
	 * forwarded by the kernel: dp_flow_seen). Known once pkts[side] > 0. */
	uint32_t	seq[2];
	uint16_t	svc;		/* service index */
	uint16_t	backend;	/* backend index within the service */
	uint8_t		state;		/* enum ct_state */
	uint8_t		tclass;		/* enum ct_class */
	uint8_t		flags;		/* CT_F_* */
	uint8_t		mode;		/* enum dp_mode */
};
_Static_assert(sizeof(struct ct_entry) == 120, "memory per connection");

enum ct_event_type {
	CT_EV_NEW,
	CT_EV_CHANGE,	/* state change */
	CT_EV_CLOSE,	/* freed: expired, evicted or replaced */
	CT_EV_OBSERVE,	/* passive health: its backend refused it or left
			 * its SYN unanswered (not a state change) */
};

struct ct_event {
	uint8_t		type;		/* enum ct_event_type */
	uint8_t		state;
	uint8_t		flags;
	uint8_t		mode;
	uint16_t	svc, backend;
	struct dp_tuple	t[2];
};

struct ct_stats {
	uint64_t	created;
	uint64_t	inserted;	/* from outside (mirrored) */
	uint64_t	expired;
	uint64_t	evicted;	/* unproven entries pushed out when full */
	uint64_t	proven;		/* entries that proved themselves */
	uint64_t	full;		/* refused: full and nothing to evict */
	uint64_t	events_lost;	/* event ring overflow */
	uint32_t	active;		/* entries in use */
	uint32_t	by_state[CT_STATE__COUNT];
};

/* Called for each entry freed, before it is reused (to release SNAT ports,
 * backend connection counts...). */
typedef void (*ct_release_fn)(void *arg, const struct ct_entry *);
/* Called by ct_expire for an offloaded entry that looks idle: the kernel
 * forwards its packets, so the caller brings last_seen up to date from
 * what the kernel saw before the entry is judged. */
typedef void (*ct_refresh_fn)(void *arg, struct ct_entry *);
/* The list of a replied UDP entry: CT_CLASS_UDP or one of the services'. */
typedef uint8_t (*ct_udp_class_fn)(void *arg, const struct ct_entry *);
/* An entry moved from state `from` to its current one (ct_set_state). */
typedef void (*ct_state_fn)(void *arg, const struct ct_entry *, uint8_t from);

struct ct_table {
	struct ct_entry		*e;
	uint32_t		 cap;
	uint32_t		*slots;
	uint32_t		 nslots;	/* 4 x cap */
	uint32_t		 free_head;
	uint32_t		 head[CT_CLASS__COUNT], tail[CT_CLASS__COUNT];
	struct ct_timeouts	 to;
	uint64_t		 seed;
	ct_release_fn		 release;
	void			*release_arg;
	ct_refresh_fn		 refresh;
	void			*refresh_arg;
	ct_state_fn		 on_state;
	void			*on_state_arg;
	ct_udp_class_fn		 udp_class;
	void			*udp_class_arg;
	/* Where each mirrored entry came from: the sync peer's number (1 to
	 * CT_ORIGIN_MAX), beside the entries rather than in them so that a
	 * connection costs one byte more, not eight (ha-sync's N-way mesh:
	 * a bulk from one peer renews and sweeps that peer's entries only). */
	uint8_t			*origin;
	/* Mirrored entries do not time out while the peer that owns them is
	 * there to say when they close: bit o for origin o (ha-sync sets it). */
	uint32_t		 keep_mirrored;

	struct ct_event		*ev;		/* ring */
	uint32_t		 ev_cap, ev_head, ev_len;

	struct ct_stats		 stats;
};

void	ct_default_timeouts(struct ct_timeouts *);

/* Slots: exactly 4 x cap (load <= 0.5), hashed to with a multiply, not a
 * power-of-two mask, so memory is exactly 120 + 16 + 1 (origin) bytes per connection.
 * `ev_cap` events are kept until ct_events() drains them (0: no events). */
int	ct_init(struct ct_table *, uint32_t cap, uint32_t ev_cap,
	    const struct ct_timeouts *, uint64_t seed);
void	ct_destroy(struct ct_table *);
void	ct_set_release(struct ct_table *, ct_release_fn, void *arg);
void	ct_set_refresh(struct ct_table *, ct_refresh_fn, void *arg);
void	ct_set_on_state(struct ct_table *, ct_state_fn, void *arg);
void	ct_set_udp_class(struct ct_table *, ct_udp_class_fn, void *arg);
/* Queue a CT_EV_OBSERVE event about entry idx. */
void	ct_event_observe(struct ct_table *, uint32_t idx);
/* Put a replied UDP entry on the list its service's timeout says now (a
 * reload changed it); at the tail, as if just seen listed. */
void	ct_relist(struct ct_table *, uint32_t idx);

/* A connection that is not closing: what max-conns counts. */
static inline bool
ct_state_open(uint8_t state)
{
	return state == CT_SYN_SENT || state == CT_ESTABLISHED ||
	    state == CT_UDP;
}

/* Find `t` in either direction. Returns the entry index (CT_NIL) and sets
 * *dir. ct_lookup_h() takes the tuple's hash (dp_tuple_hash with the
 * table's seed) when the caller already has it. */
uint32_t ct_lookup(const struct ct_table *, const struct dp_tuple *t,
	    enum ct_dir *dir);
uint32_t ct_lookup_h(const struct ct_table *, const struct dp_tuple *t,
	    uint64_t hash, enum ct_dir *dir);

/* Batch helpers: start the memory loads a lookup will need, so that the
 * cache misses of a whole batch overlap instead of queueing. */
/*
 * A prefetch the optimiser must keep: GCC deletes a loop whose only effect is
 * __builtin_prefetch() (seen with GCC 12 -O2: the whole entry-prefetch stage
 * of dp_process_batch() vanished).
 */
#if defined(__x86_64__) || defined(__i386__)
#define CT_PREFETCH(p)	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
#else
#define CT_PREFETCH(p)	__builtin_prefetch(p)
#endif

#define CT_TAG(h)		((uint32_t)((h) >> 57))
#define CT_SLOT(tag, idx, dir)	(((tag) << 25) | ((idx) << 1) | (uint32_t)(dir))
#define CT_SLOT_IDX(s)		(((s) >> 1) & (CT_MAX_ENTRIES - 1))

/* The hash's low 32 bits scaled onto [0, nslots) (Lemire's fastrange);
 * the tag uses the top bits. */
static inline uint32_t
ct_home(const struct ct_table *ct, uint64_t hash)
{
	return (uint32_t)(((uint64_t)(uint32_t)hash * ct->nslots) >> 32);
}

static inline uint32_t
ct_next_slot(const struct ct_table *ct, uint32_t i)
{
	return i + 1 == ct->nslots ? 0 : i + 1;
}

static inline void
ct_prefetch_bucket(const struct ct_table *ct, uint64_t hash)
{
	CT_PREFETCH(&ct->slots[ct_home(ct, hash)]);
}

/* Start loading the entry the first tag-matching slot points at. */
static inline void
ct_prefetch_entry(const struct ct_table *ct, uint64_t hash)
{
	uint32_t i = ct_home(ct, hash), tag = CT_TAG(hash);

	for (int n = 0; n < 8; n++, i = ct_next_slot(ct, i)) {
		uint32_t s = ct->slots[i];
		if (s == CT_SLOT_EMPTY)
			return;
		if ((s >> 25) == tag) {
			/* 120-byte entries straddle two or three lines */
			const char *p = (const char *)&ct->e[CT_SLOT_IDX(s)];
			CT_PREFETCH(p);
			CT_PREFETCH(p + 64);
			CT_PREFETCH(p + sizeof(struct ct_entry) - 1);
			return;
		}
	}
}

/* Take a free entry for a new connection, evicting the oldest unproven one
 * when full. CT_NIL when full with nothing to evict. The caller fills
 * t[], svc, backend, mode, flags (CT_F_PROVEN if it vouches for the
 * entry), seq[] and then calls ct_commit() with `origin`: 0 for one of
 * ours, else the sync peer it came from (mirrored, and proven). */
uint32_t ct_alloc(struct ct_table *, uint32_t now);
void	ct_commit(struct ct_table *, uint32_t idx, enum ct_state, uint32_t now,
	    uint8_t origin);
/* Give back an entry taken with ct_alloc() and never committed. */
void	ct_abort(struct ct_table *, uint32_t idx);
void	ct_free(struct ct_table *, uint32_t idx);

/* How far a RST's sequence number may be from where its sender is (RFC
 * 5961 accepts a reset only in the receiver's window; lbd does not know the
 * window's scale, and takes the largest unscaled one). */
#define CT_RST_WINDOW	65535u

enum ct_seen_result {
	CT_SEEN_SAME,		/* recorded; the state did not change */
	CT_SEEN_CHANGED,	/* the state changed */
	CT_SEEN_BAD_RST,	/* a RST out of window: ignored, nothing recorded */
};

/* Record a packet: `now`, counters, sequence numbers, the TCP state
 * transition its flags cause and whether it proves the entry. `seq`, `ack`
 * and `len` (payload bytes) are the TCP header's (host order; ignored for
 * UDP). */
enum ct_seen_result ct_seen(struct ct_table *, uint32_t idx, enum ct_dir,
	    uint8_t tcp_flags, uint32_t seq, uint32_t ack, uint32_t len,
	    uint32_t now);
/* Is `seq` within the RST window of `ref`? */
static inline bool
ct_seq_near(uint32_t seq, uint32_t ref)
{
	return seq - ref + CT_RST_WINDOW <= 2 * CT_RST_WINDOW;
}
/* The entry proved itself: off probation, announced as a CT_EV_CHANGE. */
void	ct_prove(struct ct_table *, uint32_t idx);
/* A one-way (dsr) entry seen again CT_PROBATION_MS after it was listed:
 * what a client does and a blind flood does not. */
bool	ct_probation_over(const struct ct_entry *);
/* Free the oldest unproven or closing entry, as ct_alloc() does when the
 * table is full, that `visit` accepts (NULL: any). At most `budget`
 * candidates are looked at; true when one was freed. */
bool	ct_evict(struct ct_table *, uint32_t budget,
	    bool (*visit)(void *arg, const struct ct_entry *), void *arg);
void	ct_set_state(struct ct_table *, uint32_t idx, enum ct_state,
	    uint32_t now);

/* Mirrored entries (ha-sync). A packet on one makes it ours: the flag goes
 * and a CT_EV_NEW tells the peers. ct_mark_mirrored() flags every entry
 * mirrored from `origin` stale (its bulk resync begins); an upsert renews
 * one (ct_renew, which ct_set_origin follows when another peer now owns
 * it); ct_sweep_stale() frees those of `origin` the bulk did not renew. */
#define CT_ORIGIN_MAX	31
/* An own entry's origin with this bit: taken from that peer when it
 * restarted (ct_reown), to be given back to it flagged as such. */
#define CT_ORIGIN_GIVEN	0x80
void	ct_renew(struct ct_table *, uint32_t idx, uint32_t now);
/* Peer `origin` restarted and lost its table: the entries mirrored from it
 * become ours (no event), marked CT_ORIGIN_GIVEN | origin. Returns how
 * many. */
uint32_t ct_reown(struct ct_table *, uint8_t origin);
void	ct_set_origin(struct ct_table *, uint32_t idx, uint8_t origin);
uint32_t ct_mark_mirrored(struct ct_table *, uint8_t origin);
uint32_t ct_sweep_stale(struct ct_table *, uint8_t origin);

/* Free expired entries; at most `budget` list steps. Returns entries freed. */
uint32_t ct_expire(struct ct_table *, uint32_t now, uint32_t budget);

/* Copy out up to `max` queued events, oldest first. */
size_t	ct_events(struct ct_table *, struct ct_event *out, size_t max);

/* murmur3's 64-bit finaliser: every input bit affects every output bit. */
static inline uint64_t
dp_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t dp_tuple_hash(const struct dp_tuple *, uint64_t seed);
void	dp_tuple_reverse(struct dp_tuple *dst, const struct dp_tuple *src);
const char *ct_state_name(enum ct_state);

#endif /* LBD_ENGINE_CT_H */
