/*
 * steer — which worker owns a frame's connection (dp_steer in dp.h).
 *
 * Both directions of a connection must reach the same engine, and nothing
 * but the packet is there to tell which. What the two directions share:
 *
 *   routed, dsr   client:port -> VIP:port   and   backend -> client:port
 *   snat          client:port -> VIP:port   and   backend -> SNAT:PORT
 *
 * so the owner is a hash of the client's address and port, and in snat mode
 * the owner takes a SNAT PORT with PORT % workers == owner, which the reply
 * carries back. ICMP errors carry the offending packet and are steered by
 * it, read in the direction it travelled.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lbd/engine/engine_int.h"
#include "lbd/engine/parse.h"

/* Fixed, not random: both nodes must agree (mirrored snat connections). */
#define STEER_SEED	0x6c62642d73746572ull	/* "lbd-ster" */

static uint32_t
n_workers(const struct dp_engine *e)
{
	return e->par.workers > 1 ? e->par.workers : 1;
}

static uint32_t
client_owner(const struct dp_engine *e, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	uint64_t h = STEER_SEED ^ family, w;

	for (size_t i = 0; i < (addr_len(family)); i += 8) {
		w = 0;
		memcpy(&w, addr + i, family == 4 ? 4 : 8);
		h = dp_mix64(h ^ w);
	}
	h = dp_mix64(h ^ port);
	return (uint32_t)(((h >> 32) * n_workers(e)) >> 32);
}

static uint32_t
port_owner(const struct dp_engine *e, uint16_t port)
{
	return ntohs(port) % n_workers(e);
}

static uint32_t
addr_slot(const uint8_t *k, uint32_t mask)
{
	uint64_t h = STEER_SEED, w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, k + 1 + i, 8);
		h = dp_mix64(h ^ w);
	}
	return (uint32_t)dp_mix64(h ^ k[0]) & mask;
}

uint8_t (*
snat_addrs_build(const struct dp_service *svcs, uint32_t n, uint32_t *mask))[17]
{
	uint32_t cnt = 0, nh = 4;
	uint8_t (*t)[17];

	for (uint32_t i = 0; i < n; i++)
		if (svcs[i].mode == DP_MODE_SNAT)
			cnt += svcs[i].n_snat;
	while (nh < cnt * 2)
		nh <<= 1;
	if ((t = calloc(nh, sizeof(*t))) == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; svcs[i].mode == DP_MODE_SNAT &&
		    k < svcs[i].n_snat; k++) {
			uint8_t key[17];
			uint32_t h;

			key[0] = svcs[i].family;
			memcpy(key + 1, svcs[i].snat[k], 16);
			for (h = addr_slot(key, nh - 1); t[h][0] != 0 &&
			    memcmp(t[h], key, 17) != 0; h = (h + 1) & (nh - 1))
				;
			memcpy(t[h], key, 17);
		}
	*mask = nh - 1;
	return t;
}

bool
is_snat_addr(const struct dp_engine *e, uint8_t family, const uint8_t *addr)
{
	uint8_t key[17];

	if (e->snat_addrs == NULL)
		return false;
	key[0] = family;
	memcpy(key + 1, addr, 16);
	for (uint32_t h = addr_slot(key, e->snat_mask); e->snat_addrs[h][0] != 0;
	    h = (h + 1) & e->snat_mask)
		if (memcmp(e->snat_addrs[h], key, 17) == 0)
			return true;
	return false;
}

/* A packet as it arrives: from a client to a service, from a backend to a
 * SNAT address, or from a backend to a client (a routed reply). */
static uint32_t
arriving_owner(const struct dp_engine *e, const struct dp_l34 *ip)
{
	if (svc_lookup(e, ip->family, ip->dst, ip->proto, ip->dport) >= 0)
		return client_owner(e, ip->family, ip->src, ip->sport);
	if (is_snat_addr(e, ip->family, ip->dst))
		return port_owner(e, ip->dport);
	return client_owner(e, ip->family, ip->dst, ip->dport);
}

/* The packet inside an ICMP error, as it left: toward a client from a VIP
 * (a reply; in dsr the backend's own), toward a backend from a SNAT
 * address, or toward a backend from the client (routed). */
static uint32_t
leaving_owner(const struct dp_engine *e, const struct dp_l34 *in)
{
	if (svc_lookup(e, in->family, in->src, in->proto, in->sport) >= 0)
		return client_owner(e, in->family, in->dst, in->dport);
	if (is_snat_addr(e, in->family, in->src))
		return port_owner(e, in->sport);
	return client_owner(e, in->family, in->src, in->sport);
}

static bool
has_ports(const struct dp_l34 *ip)
{
	return ip->l4_off != 0 && ip->frag == DP_FRAG_NONE &&
	    (ip->proto == DP_PROTO_TCP || ip->proto == DP_PROTO_UDP);
}

int32_t
dp_steer(const struct dp_engine *e, const uint8_t *frame, uint32_t len)
{
	struct dp_pkt p;

	if (n_workers(e) == 1)
		return 0;
	if (dp_parse(frame, len, &p) != DP_DROP_NONE || p.ip.family == 0)
		return -1;
	if (p.is_icmp_err)
		return has_ports(&p.inner) ?
		    (int32_t)leaving_owner(e, &p.inner) : -1;
	return has_ports(&p.ip) ? (int32_t)arriving_owner(e, &p.ip) : -1;
}

uint32_t
dp_steer_entry(const struct dp_engine *e, const struct ct_entry *ce, bool *split)
{
	const struct dp_tuple *o = &ce->t[CT_ORIG], *r = &ce->t[CT_REPLY];
	uint32_t w = client_owner(e, o->family, o->src, o->sport);

	*split = (ce->flags & CT_F_SNAT) && port_owner(e, r->dport) != w;
	return w;
}
