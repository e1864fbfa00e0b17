/*
 * Engine internals shared by engine.c (tables, lifetime) and process.c (the
 * per-packet path). Not part of the API.
 */
#ifndef LBD_ENGINE_ENGINE_INT_H
#define LBD_ENGINE_ENGINE_INT_H

#include "lbd/engine/dp.h"
#include "lbd/engine/snat.h"
#include "lbd/engine/srctab.h"

#define ORPHAN		UINT16_MAX	/* svc/backend index of a removed one */
#define RESOLVE_MAX	64
#define HOLD_MAX	64	/* frames held for unresolved next hops */
#define HOLD_PER_HOP	8
#define HOLD_FRAME	2048	/* a full 1500-byte-MTU frame fits */

struct neigh {
	uint8_t		addr[16];
	uint8_t		family;		/* 0: empty slot */
	uint8_t		mac[6];
	uint16_t	ifidx;
};

struct held {
	uint8_t		nh[16];		/* next hop */
	uint8_t		family;
	uint16_t	ifidx;
	uint16_t	buf;		/* slot in hold_buf */
	int32_t		svc;
	uint32_t	len;
	uint32_t	since;
};

struct dp_engine {
	struct ct_table		 ct;
	struct dp_params	 par;

	struct dp_service	*svc;
	uint32_t		 n_svc;
	uint32_t		*svc_hash;	/* open addressing: index+1, 0 empty */
	uint32_t		 svc_mask;

	struct dp_iface		 ifs[DP_MAX_IF];
	uint16_t		 n_if;
	struct dp_route		 routes[DP_MAX_ROUTES];
	uint16_t		 n_routes;
	struct neigh		*neigh;
	uint32_t		 neigh_mask;

	struct snat_registry	 snat;
	uint8_t			(*snat_addrs)[17];	/* dp_steer: family+addr, */
	uint32_t		 snat_mask;		/* open addressing */
	struct dp_resolve	 resolve[RESOLVE_MAX];
	uint32_t		 n_resolve;
	struct held		 held[HOLD_MAX];	/* arrival order */
	uint32_t		 n_held;
	uint16_t		 hold_free[HOLD_MAX];
	uint32_t		 n_hold_free;
	uint8_t			*hold_buf;
	uint32_t		 now;		/* of the current dp_process call */
	struct dp_stats		 stats;
	uint32_t		 n_reset;	/* backends with .reset set: the
						 * packet path looks only then */
	struct dp_orphan	 orph[DP_ORPHAN_MAX];	/* orphan.c */
	uint32_t		 n_orph;
	struct dp_flow_op	*fops;			/* offload.c: ring */
	uint32_t		 fops_head, fops_len;
	dp_flow_probe_fn	 probe;
	void			*probe_arg;
	struct srctab		 rl;			/* admit.c */
	struct srctab		 persist;		/* persist.c */
	uint16_t		 min_mtu;		/* of the interfaces */
	bool			 udp_custom;		/* a service's own UDP timeout */
	uint32_t		 icmp_milli, icmp_last;	/* icmp_send.c's bucket */
	bool			 icmp_used;
};

/* admit.c: may this client open a connection to service s? */
bool		admit_allowed(const struct dp_service *, const struct dp_tuple *);
bool		admit_rate(struct dp_engine *, const struct dp_service *,
		    const struct dp_tuple *, uint32_t now);

/* icmp_send.c: answer the packet in `f` with an ICMP error from in_if's own
 * address, in place; false (nothing sent) when the rules or the rate say
 * no. `mtu`: the link's, for ICMP_TOO_BIG. */
enum icmp_kind { ICMP_TOO_BIG, ICMP_TIME_EXCEEDED };
/* A fresh IPv4 or IPv6 header at l3 for l4len bytes of `proto` (TTL 64;
 * IPv4: its checksum, `tos`, DF when `df`). */
void		dp_ip_header(uint8_t *l3, uint8_t family, uint8_t proto,
		    const uint8_t *src, const uint8_t *dst, uint16_t l4len,
		    uint8_t tos, bool df);
bool		icmp_send_error(struct dp_engine *, uint8_t *f, uint32_t cap,
		    const struct dp_pkt *, uint16_t in_if, enum icmp_kind,
		    uint32_t mtu, struct dp_verdict *);

/* tunnel.c: the service of a tunnelled dsr entry (NULL: not one); the
 * bytes a tunnel puts before a packet; the outer header of
 * entry ce's client->backend packets leaving by interface ifidx (false: no
 * source address to give them); that header put before the IP packet at
 * l3 (inner_len bytes; `tail` bytes of frame from l3 move, padding too). */
const struct dp_service *tun_service(const struct dp_engine *,
		    const struct ct_entry *);
uint32_t	tun_overhead(uint8_t kind, uint8_t family);
bool		tun_encap_of(const struct dp_engine *, const struct dp_service *,
		    const struct ct_entry *, uint16_t ifidx, struct dp_encap *);
void		tun_push(uint8_t *l3, uint32_t tail, uint32_t inner_len,
		    const struct dp_encap *);

/* persist.c: the backend a persisting service's client keeps, or -1; the
 * record of a choice; a connection gone; re-pointing after a reload. */
int32_t		persist_pick(struct dp_engine *, uint32_t si,
		    const struct dp_tuple *, uint32_t now);
void		persist_record(struct dp_engine *, uint32_t si,
		    const struct dp_tuple *, uint32_t bi, uint32_t now);
void		persist_release(struct dp_engine *, const struct ct_entry *,
		    uint32_t now);
void		persist_remap(struct dp_engine *, const struct dp_service *old,
		    uint32_t old_n);

void		orphan_reset(struct dp_engine *);
void		orphan_hold(struct dp_engine *, const struct ct_entry *);
void		orphan_release(struct dp_engine *, const struct ct_entry *);

int32_t		svc_lookup(const struct dp_engine *, uint8_t family,
		    const uint8_t *vip, uint8_t proto, uint16_t port);
bool		is_vip(const struct dp_engine *, uint8_t family, const uint8_t *addr);
/* Is `addr` a SNAT pool address of some service (steer.c)? */
bool		is_snat_addr(const struct dp_engine *, uint8_t family,
		    const uint8_t *addr);
/* The set of the services' SNAT pool addresses, for is_snat_addr. */
uint8_t		(*snat_addrs_build(const struct dp_service *, uint32_t n,
		    uint32_t *mask))[17];
bool		route(const struct dp_engine *, uint8_t family, const uint8_t *dst,
		    uint16_t *ifidx, const uint8_t **nexthop);
const struct neigh *neigh_find(const struct dp_engine *, uint8_t family,
		    const uint8_t *addr);
void		want_resolve(struct dp_engine *, uint8_t family, uint16_t ifidx,
		    const uint8_t *addr);
int		hold_init(struct dp_engine *);
void		hold_destroy(struct dp_engine *);
/* Keep a copy of a frame for next hop `nh`; false when over a bound. */
bool		hold_put(struct dp_engine *, const uint8_t *f, uint32_t len,
		    uint8_t family, const uint8_t *nh, uint16_t ifidx, int32_t svc);
struct snat_space *entry_space(struct dp_engine *, const struct ct_entry *);

/* offload.c */
int		offload_init(struct dp_engine *);
void		offload_destroy(struct dp_engine *);
/* A packet of established entry `idx` was forwarded: hand its flows to
 * the kernel if they are not there yet. */
void		offload_try(struct dp_engine *, uint32_t idx);
/* Take the entry's flows back (it is freed, closing, moved or reset). */
void		offload_revoke(struct dp_engine *, struct ct_entry *);
/* ... of every entry of backend `b` of service `svc`. */
void		offload_revoke_backend(struct dp_engine *, uint32_t svc, uint32_t b);
void		offload_refresh(void *engine, struct ct_entry *);

#endif /* LBD_ENGINE_ENGINE_INT_H */
