/*
 * dp — the packet engine: frames and the current time in, rewritten frames
 * and verdicts out. No syscalls, no clock reads, no I/O: the caller (the
 * AF_XDP workers, the golden tests, the benchmark) owns the buffers and the
 * clock, and fills the interface, route and neighbour tables the engine uses
 * to pick an egress and its Ethernet addresses.
 *
 *   struct dp_engine *e = dp_engine_new(&params);
 *   dp_engine_set_services(e, svcs, n);        (from the config: dp_conf.c)
 *   dp_add_iface / dp_add_route / dp_set_neigh  (from netlink)
 *   dp_process(e, frame, len, cap, in_if, now_ms, &verdict);
 *   dp_expire(e, now_ms, budget);              (from a timer)
 *
 * Modes (DESIGN.md section 2): routed (DNAT, reply un-NATed), snat (DNAT +
 * SNAT from a pool, ports per (SNAT address, backend, port, proto)), dsr (only
 * the destination MAC changes, or the packet goes whole inside an IP-in-IP or
 * GUE header to a backend beyond the segment: tunnel.c).
 */
#ifndef LBD_ENGINE_DP_H
#define LBD_ENGINE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lbd/engine/ct.h"
#include "lbd/engine/drop.h"
#include "lbd/engine/parse.h"

#define DP_MAX_IF		16
#define DP_MAX_ROUTES		256
#define DP_SNAT_MAX		64
#define DP_MAGLEV_DEFAULT	65537	/* prime; the largest table */
#define DP_SNAT_PORT_LO		1024
#define DP_SNAT_PORT_HI		65535
/* A client's SYN again after this long without an answer: the backend did
 * not answer (TCP's first retransmission comes after 1 s). */
#define DP_SYN_RETRY_MS		800

enum dp_mode {
	DP_MODE_ROUTED,
	DP_MODE_SNAT,
	DP_MODE_DSR,
};
_Static_assert(DP_MODE_DSR == CT_MODE_ONE_WAY, "ct knows dsr sees no replies");

/* Tunnelled dsr (tunnel.c): the client's packet inside an outer header. */
enum dp_tunnel {
	DP_TUN_NONE,
	DP_TUN_IPIP,	/* IPv4 in IPv4 (proto 4), IPv6 in IPv6 (41) */
	DP_TUN_GUE,	/* GUE variant 1 (RFC draft-ietf-intarea-gue):
			 * UDP, the IP packet straight after its header */
};

/* The outer header of one tunnelled flow: what tunnel.c puts before each
 * of its packets but for the lengths, the TOS / traffic class and IPv4's
 * DF, id and checksum, which come from the packet. */
struct dp_encap {
	uint8_t		kind;		/* enum dp_tunnel */
	uint8_t		family;		/* the outer's: the inner's */
	uint8_t		src[16];
	uint8_t		dst[16];
	uint16_t	sport, dport;	/* GUE, network order */
	uint32_t	label;		/* IPv6 flow label (20 bits) */
};

enum dp_sched {
	DP_SCHED_RR,
	DP_SCHED_WRR,
	DP_SCHED_LC,
	DP_SCHED_WLC,
	DP_SCHED_SH,
	DP_SCHED_MAGLEV,
};

struct dp_counters {
	uint64_t	pkts_in, bytes_in;	/* client -> backend */
	uint64_t	pkts_out, bytes_out;	/* backend -> client */
	uint64_t	conns;			/* connections created */
};

struct snat_space;

struct dp_prefix {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		plen;
	uint8_t		addr[16];
};

struct dp_backend {
	uint8_t		addr[16];
	uint16_t	port;		/* network order */
	uint16_t	weight;		/* 0..256, or hundredths of that for a
					 * service with slow-start; 0 = drain */
	bool		up;		/* takes new connections */
	bool		reset;		/* down, and its connections are reset at
					 * their next packet (on-backend-down) */
	bool		backup;		/* takes new connections only while
					 * fewer than the service's quorum of
					 * the others do */
	int32_t		wrr_cur;	/* smooth weighted round robin */
	uint32_t	active;		/* connections in the table */
	uint32_t	open;		/* ... not closing (ct_state_open) */
	uint32_t	max_conns;	/* open ones it takes; 0: no limit */
	struct dp_counters cnt;
	struct snat_space **snat;	/* one space per pool address (snat mode) */
};

struct dp_service {
	uint8_t		vip[16];
	uint16_t	port;		/* network order */
	uint8_t		proto;
	uint8_t		family;		/* 4 or 6 */
	uint8_t		mode;		/* enum dp_mode */
	uint8_t		sched;		/* enum dp_sched */
	bool		stateless;	/* sh/maglev: schedule non-SYN without entry */
	struct dp_backend *b;		/* nb backends, then the fallback */
	uint16_t	nb;
	bool		has_fallback;	/* b[nb]: when no backend takes new ones */
	uint8_t		snat[DP_SNAT_MAX][16];
	uint16_t	snat_ports[DP_SNAT_MAX][2];	/* lo, hi; 0, 0: all */
	uint16_t	n_snat;
	/* The first n_snat_own are this node's: new connections take ports
	 * there; the rest (a cluster's other nodes') only hold the ports of
	 * connections mirrored here. 0: all are. */
	uint16_t	n_snat_own;
	uint32_t	rr_next;
	uint32_t	snat_next;
	uint32_t	*maglev;	/* backend index per slot; UINT32_MAX empty */
	uint32_t	maglev_size;
	uint32_t	n_avail;	/* backends that take new connections */
	struct dp_prefix *allow;	/* clients allowed; none: all */
	uint32_t	n_allow;
	uint32_t	limit_rate;	/* new connections/s per client; 0: none */
	uint32_t	limit_burst;
	uint32_t	persist_ms;	/* persistence; 0: none */
	uint32_t	udp_timeout_ms;	/* its own `timeout udp`; 0: global */
	uint8_t		udp_class;	/* the ct list that gives it (engine) */
	bool		one_packet;	/* UDP, dsr: each datagram scheduled on
					 * its own, no entry */
	bool		observe;	/* passive health: report refusals and
					 * unanswered SYNs (CT_EV_OBSERVE) */
	uint8_t		tunnel;		/* dsr: enum dp_tunnel */
	uint16_t	tun_port;	/* GUE's destination, network order */
	struct dp_prefix tun_src;	/* outer sources, one per flow; plen
					 * 0: the way out's own address */
	uint8_t		persist_plen;	/* of the client address kept */
	uint16_t	quorum;		/* primaries that keep backups out */
	bool		use_backups;	/* fewer primaries available: the
					 * backups take new connections too */
	bool		sched_ready;	/* dp_services_prepare built it */
	struct dp_counters cnt;
	uint64_t	drops[DP_DROP__COUNT];
};

struct dp_iface {
	uint32_t	ifindex;	/* the kernel's, for the I/O layer */
	uint8_t		mac[6];
	uint16_t	mtu;
	/* The interface's own addresses (the node's, not a VIP): the source
	 * of the ICMP errors lbd sends as a router hop. has_addr4/6 false:
	 * none, and no ICMP error of that family leaves it. */
	bool		has_addr4, has_addr6;
	uint8_t		addr4[4];
	uint8_t		addr6[16];
};

struct dp_route {
	uint8_t		family;
	uint8_t		plen;
	uint8_t		prefix[16];
	uint16_t	ifidx;		/* engine interface index */
	bool		has_gw;
	uint8_t		gw[16];
};

enum dp_action {
	DP_DROP,
	DP_PASS,	/* not ours: to the kernel */
	DP_TX,		/* send `len` bytes of the frame out of `ifidx` */
	DP_HELD,	/* copied and held until its next hop resolves
			 * (dp_release_held); the buffer is the caller's */
};

struct dp_verdict {
	uint8_t		action;		/* enum dp_action */
	uint8_t		reason;		/* enum dp_drop, for DP_DROP */
	uint16_t	ifidx;
	uint32_t	len;
	int32_t		svc;		/* service involved, -1 if none */
};

/* A next hop the engine needed but had no MAC for: the caller resolves it. */
struct dp_resolve {
	uint8_t		family;
	uint16_t	ifidx;
	uint8_t		addr[16];
};

struct dp_params {
	uint32_t		conn_max;	/* connection table bound */
	uint32_t		events;		/* ct event ring size (0: none) */
	struct ct_timeouts	timeouts;
	uint64_t		seed;		/* the table's hashing and where
						 * SNAT port spaces start: random
						 * per process in production */
	uint64_t		sched_seed;	/* sh, maglev, stateless: stable,
						 * the same on both nodes
						 * (`hash-seed`), so a restart or
						 * the peer picks the same backend */
	uint32_t		maglev_size;	/* the most slots of a service's
						 * table (dp_maglev_size), a
						 * prime; 0 = DP_MAGLEV_DEFAULT */
	uint32_t		neigh_max;
	/* Several workers: this engine is worker `worker_id` of `workers`
	 * (its SNAT ports are in that residue class; dp_steer). 0/1: one. */
	uint32_t		workers, worker_id;
	/* The kernel fast path: established connections are handed to it as
	 * flows (offload.c); 0: every packet comes through the engine. The
	 * ring holds `offload` flow operations until dp_flow_ops drains it. */
	uint32_t		offload;
};

struct dp_stats {
	uint64_t	rx, tx, pass;
	uint64_t	offloaded;	/* flows handed to the kernel */
	uint64_t	unloaded;	/* flows taken back */
	uint64_t	offload_lost;	/* flow operations the ring could not take */
	uint64_t	drops[DP_DROP__COUNT];
	uint64_t	icmp_translated;
	uint64_t	rst_sent;
	uint64_t	stateless_unrecorded;	/* forwarded by hash, no entry */
	uint64_t	rate_evicted;	/* a rate bucket given to another client */
	uint64_t	persist_hits;	/* connections that went where their
					 * client's persistence said */
	uint64_t	persist_full;	/* ... had no slot: scheduled alone */
	uint64_t	persist_evicted;	/* idle persistence given up early */
	uint64_t	persist_entries;	/* clients remembered now (a gauge) */
	uint64_t	icmp_sent;	/* too big, time exceeded (icmp_send.c) */
	uint64_t	icmp_limited;	/* ... not sent: over the rate */
	uint64_t	snat_reclaimed;	/* ports taken from unproven entries */
	uint64_t	resolve_lost;
	uint64_t	held, held_sent;	/* waited for a neighbour */
};

struct dp_engine;

struct dp_engine *dp_engine_new(const struct dp_params *);
void		dp_engine_free(struct dp_engine *);

/*
 * Install a new service set. The engine takes ownership of `svcs` (and their
 * backend arrays); connections of services and backends that still exist
 * (same VIP/proto/port, same backend address/port) keep running.
 */
int		dp_engine_set_services(struct dp_engine *, struct dp_service *svcs,
		    uint32_t n);
const struct dp_service *dp_engine_services(const struct dp_engine *,
		    uint32_t *n);

/*
 * Backend health / weight changes; rebuilds the scheduler state. With
 * `reset`, each of the backend's connections ends at its next packet: a TCP
 * segment is answered with an RST to whichever side sent it, a UDP datagram
 * from the client is scheduled afresh (LVS's expire_nodest_conn, per
 * service). Idle connections go at their timeout.
 */
void		dp_backend_set(struct dp_engine *, uint32_t svc, uint32_t b,
		    bool up, uint16_t weight, bool reset);
/* Many at once (a reload re-states every backend): each service's
 * scheduler is rebuilt once, not once per backend. */
struct dp_backend_state {
	uint32_t	svc, b;
	uint16_t	weight;
	bool		up, reset;
};
void		dp_backends_set(struct dp_engine *,
		    const struct dp_backend_state *, size_t n);

/*
 * Backends a reload removed that still have connections of routed mode:
 * their replies must keep reaching the engine while those drain (the I/O
 * layer keeps them in the classifier). Up to `max`; returns how many.
 */
#define DP_ORPHAN_MAX	1024

struct dp_orphan {
	uint8_t		family, proto;
	uint16_t	port;		/* network order */
	uint8_t		addr[16];
	uint32_t	conns;
};

uint32_t	dp_orphans(const struct dp_engine *, struct dp_orphan *,
		    uint32_t max);

int		dp_add_iface(struct dp_engine *, const struct dp_iface *);
int		dp_add_route(struct dp_engine *, const struct dp_route *);
/* Netlink updates: an interface's MAC/MTU changed; the whole route table
 * replaced (routes naming an unknown interface are skipped: -1). */
int		dp_set_iface(struct dp_engine *, uint16_t idx, const struct dp_iface *);
int		dp_set_routes(struct dp_engine *, const struct dp_route *, uint32_t n);
int		dp_set_neigh(struct dp_engine *, uint8_t family,
		    const uint8_t *addr, uint16_t ifidx, const uint8_t mac[6]);

/*
 * Process one frame in place. `cap` is the buffer's size (a reply such as a
 * TCP RST may be written into it). `in_if` is the engine interface index it
 * arrived on; `now` in milliseconds.
 */
void		dp_process(struct dp_engine *, uint8_t *frame, uint32_t len,
		    uint32_t cap, uint16_t in_if, uint32_t now,
		    struct dp_verdict *);

/*
 * The same for a batch of frames that arrived on one interface (up to
 * DP_BATCH_MAX): all are parsed and their table loads started before any is
 * processed, so the memory latency of a batch overlaps. Verdicts in order.
 */
#define DP_BATCH_MAX	64

struct dp_frame {
	uint8_t		*data;
	uint32_t	len;
	uint32_t	cap;
};

void		dp_process_batch(struct dp_engine *, struct dp_frame *frames,
		    uint32_t n, uint16_t in_if, uint32_t now,
		    struct dp_verdict *verdicts);

uint32_t	dp_expire(struct dp_engine *, uint32_t now, uint32_t budget);

/*
 * Several workers (`workers N`), an engine each, split the connections: the
 * worker that owns a connection handles both its directions. dp_steer names
 * the owner of a frame from what both directions carry: the client's address
 * and port, or, for a reply to a SNAT address, the port (the owner took it
 * in its residue class, port % workers == owner). An ICMP error goes by the
 * packet it carries. -1: the frame belongs to no connection (the worker it
 * arrived on takes it). The hash is fixed, the same on both nodes, so a
 * mirrored SNAT connection lands where its packets will after a failover.
 */
int32_t		dp_steer(const struct dp_engine *, const uint8_t *frame,
		    uint32_t len);
/* The owner of an entry (one mirrored from the peer); *split when its SNAT
 * port is another worker's: the peer runs another `workers` count. */
uint32_t	dp_steer_entry(const struct dp_engine *, const struct ct_entry *,
		    bool *split);

/* What became of a record from the peer; counted by the caller. */
enum dp_sync_verdict {
	DP_SYNC_APPLIED = 0,
	DP_SYNC_INVALID,	/* state, mode, families, protocol, tuples */
	DP_SYNC_NO_SERVICE,	/* no service here on its VIP, protocol, port */
	DP_SYNC_MODE,		/* the service here runs another mode */
	DP_SYNC_NO_BACKEND,	/* not a backend of that service here */
	DP_SYNC_SNAT_ADDRESS,	/* not an address of the service's snat-pool */
	DP_SYNC_OURS,		/* would change a connection this node forwards */
	DP_SYNC_EXISTS,		/* inserted once already */
	DP_SYNC_NO_ROOM,	/* table full, or its SNAT port taken */
	DP_SYNC_NO_ENTRY,	/* a close for a connection not here */
	DP_SYNC_MOVED,		/* a close from a peer the connection has
				 * since moved away from (N-way sync) */
	DP_SYNC__COUNT
};

const char	*dp_sync_verdict_name(enum dp_sync_verdict);

/* Insert a connection from outside (ha-sync peer `origin`, 1 up), marked
 * mirrored, its SNAT port reserved: only a connection of this node's
 * configuration (service, mode, backend, SNAT address), once. */
enum dp_sync_verdict dp_insert_conn(struct dp_engine *, const struct ct_entry *,
		    uint32_t now, uint8_t origin);
/* The peer's word on a connection it forwards: insert it, or bring our
 * copy up to date (state, FINs) and renew it. An entry of ours becomes the
 * peer's mirrored copy (the connection moved to the peer); a packet that
 * still reaches us makes it ours again. While this node `holds` the
 * connection's VIP, the peer never changes where one of ours goes (another
 * backend, another SNAT port): DP_SYNC_OURS. `origin`: the peer that
 * spoke (1 up); the entry is its from now on. An upsert flagged
 * CT_F_MIRRORED is one of ours the peer gives back after a restart: it
 * never takes one this node forwards (DP_SYNC_EXISTS). */
enum dp_sync_verdict dp_sync_upsert(struct dp_engine *, const struct ct_entry *,
		    uint32_t now, bool holds, uint8_t origin);
/* Peer `origin` freed it: drop our mirrored copy (found by original
 * tuple) if it is that peer's; never one of ours, nor one another peer
 * has spoken for since. */
enum dp_sync_verdict dp_sync_close(struct dp_engine *, const struct dp_tuple *orig,
		    uint8_t origin);

size_t		dp_resolve_requests(struct dp_engine *, struct dp_resolve *,
		    size_t max);

/*
 * Frames held while their next hop resolves (DP_HELD). After neighbours
 * arrive (dp_set_neigh), and now and then, the caller releases them: every
 * frame whose next hop has a MAC now is completed and handed to `send`,
 * those older than DP_HOLD_MS are dropped (neigh_unresolved). Returns how
 * many are still held.
 */
#define DP_HOLD_MS	1000
typedef void	(*dp_send_fn)(void *arg, uint16_t ifidx, const uint8_t *frame,
		    uint32_t len);
uint32_t	dp_release_held(struct dp_engine *, uint32_t now, dp_send_fn,
		    void *arg);
uint32_t	dp_held(const struct dp_engine *);
const struct dp_stats *dp_engine_stats(const struct dp_engine *);
struct ct_table	*dp_engine_ct(struct dp_engine *);
/* SNAT ports held, per pool address (summed over its backends' spaces). */
struct dp_snat_use {
	uint8_t		family;
	uint8_t		addr[16];
	uint64_t	used;
	uint32_t	peak_pct;	/* its fullest space (backend), % */
};
size_t		dp_snat_usage(const struct dp_engine *, struct dp_snat_use *out,
		    size_t max);

/* ---- the kernel fast path (offload.c) ---- */

/*
 * A flow: what the engine does to every packet of one direction of an
 * established connection, for the kernel to do in its place. `key` is the
 * packet as it arrives; it leaves with `out`'s addresses and ports, the
 * Ethernet addresses given, out of the kernel's interface `ifindex`, its
 * TTL or hop limit one lower when `ttl` (not in dsr mode). A packet the
 * flow cannot take as it is (a SYN, FIN or RST, TTL 1, over `mtu`) goes
 * to the engine as before.
 */
struct dp_flow {
	struct dp_tuple	key;
	struct dp_tuple	out;
	uint8_t		dmac[6], smac[6];
	uint32_t	ifindex;
	uint16_t	mtu;		/* the egress's, for the IP packet */
	uint8_t		ttl;
	uint8_t		dir;		/* enum ct_dir */
	struct dp_encap	encap;		/* kind DP_TUN_NONE: none; else the
					 * packet inside may have `mtu` less
					 * tun_overhead() */
};

struct dp_flow_op {
	uint8_t		add;		/* 1: install or replace; 0: remove */
	struct dp_flow	f;		/* removing: f.key alone */
};

/* Up to `max` operations, oldest first. The caller applies them in order.
 * When the ring overflowed (stats.offload_lost), the caller must also
 * drop every kernel flow the engine no longer has (dp_flow_valid). */
size_t		dp_flow_ops(struct dp_engine *, struct dp_flow_op *out,
		    size_t max);
/* Is `key` a flow the engine has installed? */
bool		dp_flow_valid(const struct dp_engine *, const struct dp_tuple *key);
/* What the kernel did with a flow since the last report: `pkts` packets
 * and `bytes` bytes, the last at `last` (ms, the engine's clock; 0: none),
 * and for TCP where the sender is now (`seq_next`: the end of the furthest
 * segment forwarded; 0: none). They count as the connection's traffic,
 * keep it from expiring and tell which RSTs fit. */
void		dp_flow_seen(struct dp_engine *, const struct dp_tuple *key,
		    uint64_t pkts, uint64_t bytes, uint32_t last,
		    uint32_t seq_next);
/* Before an offloaded connection that looks idle expires, the engine asks
 * `fn` what the kernel saw of each of its flows (as dp_flow_seen). */
typedef void	(*dp_flow_probe_fn)(void *arg, struct dp_engine *,
		    const struct dp_tuple *key);
void		dp_set_flow_probe(struct dp_engine *, dp_flow_probe_fn, void *arg);
/* Take every flow back (the caller's kernel table is gone or suspect). */
void		dp_flows_revoke(struct dp_engine *);

/* ---- schedulers (sched.c) ---- */

/* Pick a backend for a new connection; -1 when none takes new ones. */
int32_t		dp_sched_pick(struct dp_service *, const struct dp_tuple *,
		    uint64_t seed);
/* Recompute availability and the Maglev table (`maglev_size` slots, a
 * prime; 0 = DP_MAGLEV_DEFAULT) after a change. */
int		dp_sched_rebuild(struct dp_service *, uint32_t maglev_size);
/* Build the scheduler state (the Maglev tables: the costly part) of a set
 * of services on the caller's thread, before dp_engine_set_services takes
 * them on the worker's: a reload of 10,000 services then pauses forwarding
 * for the table walk only. `maglev_cap` as dp_params.maglev_size. */
void		dp_services_prepare(struct dp_service *, uint32_t n,
		    uint32_t maglev_cap);
/* The Maglev table size for a service of `nb` backends among `n_services`
 * (a shared budget; see sched.c), at most `cap` (0 = DP_MAGLEV_DEFAULT). */
uint32_t	dp_maglev_size(uint32_t n_services, uint32_t nb, uint32_t cap);
void		dp_service_free(struct dp_service *);
static inline bool
dp_backend_available(const struct dp_backend *b)
{
	return b->up && b->weight > 0;
}

/* Available, and a primary or a backup whose turn it is: what the
 * schedulers choose from (dp_sched_rebuild sets use_backups). */
static inline bool
dp_backend_eligible(const struct dp_service *s, const struct dp_backend *b)
{
	return dp_backend_available(b) && (!b->backup || s->use_backups);
}

/* At its max-conns: passed over until a connection of its closes. */
static inline bool
dp_backend_full(const struct dp_backend *b)
{
	return b->max_conns != 0 && b->open >= b->max_conns;
}

/* Backend slots including the fallback; schedulers only look at nb. */
static inline uint32_t
dp_nb_all(const struct dp_service *s)
{
	return s->nb + (s->has_fallback ? 1u : 0u);
}

/* The pool addresses new connections take ports on: this node's own. */
static inline uint32_t
dp_snat_own(const struct dp_service *s)
{
	return s->n_snat_own != 0 ? s->n_snat_own : s->n_snat;
}

#endif /* LBD_ENGINE_DP_H */
