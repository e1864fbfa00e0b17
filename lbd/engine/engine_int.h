/*
 * Engine internals shared by engine.c (tables, lifetime) and process.c (the
 * per-packet path). Not part of the API.
 */
#ifndef LBD_ENGINE_ENGINE_INT_H
#define LBD_ENGINE_ENGINE_INT_H

#include "lbd/engine/dp.h"
#include "lbd/engine/snat.h"

#define ORPHAN		UINT16_MAX	/* svc/backend index of a removed one */
#define RESOLVE_MAX	64

struct neigh {
	uint8_t		addr[16];
	uint8_t		family;		/* 0: empty slot */
	uint8_t		mac[6];
	uint16_t	ifidx;
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
	struct dp_resolve	 resolve[RESOLVE_MAX];
	uint32_t		 n_resolve;
	struct dp_stats		 stats;
};

int32_t		svc_lookup(const struct dp_engine *, uint8_t family,
		    const uint8_t *vip, uint8_t proto, uint16_t port);
bool		is_vip(const struct dp_engine *, uint8_t family, const uint8_t *addr);
bool		route(const struct dp_engine *, uint8_t family, const uint8_t *dst,
		    uint16_t *ifidx, const uint8_t **nexthop);
const struct neigh *neigh_find(const struct dp_engine *, uint8_t family,
		    const uint8_t *addr);
void		want_resolve(struct dp_engine *, uint8_t family, uint16_t ifidx,
		    const uint8_t *addr);
struct snat_space *entry_space(struct dp_engine *, const struct ct_entry *);

#endif /* LBD_ENGINE_ENGINE_INT_H */
