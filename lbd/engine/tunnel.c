/*
 * Tunnelled dsr: a backend beyond lbd's L2 segment gets the client's packet
 * whole, inside an outer IP header addressed to it (IPVS's TUN, Katran), and
 * answers the client straight from the VIP it holds on its tunnel device.
 *
 *   ipip   IPv4 in IPv4 (protocol 4) or IPv6 in IPv6 (41): an ipip /
 *          ip6tnl device on the backend takes it;
 *   gue    IPv4 in UDP, GUE variant 1 (draft-ietf-intarea-gue section 4):
 *          the inner header straight after the UDP one, taken by a `fou
 *          ... gue` socket. IPv4 outer only: a zero UDP checksum is what
 *          the kernel's segmentation makes of a tunnelled GSO packet, and
 *          IPv6 receivers refuse one (RFC 6935).
 *
 * The outer source: the address of the interface the packet leaves by, or
 * with `source PREFIX`, an address of the prefix picked by the flow's hash,
 * so that a backend NIC's receive hashing (RSS sees only the outer header)
 * spreads the flows over its queues; GUE's source port does that in any
 * case. TOS / traffic class (DSCP and ECN, RFC 6040's normal mode) and
 * IPv4's DF come from the packet; a packet without DF lends the outer one
 * its id, so the fragments of two of them never mix.
 *
 * The kernel fast path builds the same header (fastpath.bpf.c, encap());
 * tests/packets compares the two byte for byte.
 */
#include <arpa/inet.h>
#include <string.h>

#include "lbd/engine/engine_int.h"
#include "lib/csum.h"

/* The outer TTL / hop limit, as the kernel's tunnels' default. */
#define TUN_TTL		64
/* GUE source ports: the dynamic range (RFC 6335), 14 bits of the hash. */
#define TUN_SPORT_BASE	0xc000
/* Hash salt, so that the outer source is not the scheduler's own choice. */
#define TUN_SALT	0x74756e6e656c2121ull

const struct dp_service *
tun_service(const struct dp_engine *e, const struct ct_entry *ce)
{
	if (ce->mode != DP_MODE_DSR || ce->svc == ORPHAN || ce->svc >= e->n_svc ||
	    e->svc[ce->svc].tunnel == DP_TUN_NONE)
		return NULL;
	return &e->svc[ce->svc];
}

uint32_t
tun_overhead(uint8_t kind, uint8_t family)
{
	if (kind == DP_TUN_NONE)
		return 0;
	return (family == 4 ? 20u : 40u) + (kind == DP_TUN_GUE ? 8u : 0u);
}

/* The prefix's network bits, the hash's below them. */
static void
pick_source(const struct dp_prefix *p, uint64_t h, uint8_t *out)
{
	size_t al = p->family == 4 ? 4 : 16;

	for (size_t i = 0; i < al; i++) {
		uint32_t bit = (uint32_t)i * 8;
		uint8_t keep = bit + 8 <= p->plen ? 0xff : bit >= p->plen ? 0 :
		    (uint8_t)(0xff << (8 - (p->plen - bit)));

		if (i == 8)		/* IPv6's lower half: more bits */
			h = h * 0x9e3779b97f4a7c15ull + 1;
		out[i] = (uint8_t)((p->addr[i] & keep) |
		    ((uint8_t)(h >> ((i % 8) * 8)) & ~keep));
	}
}

bool
tun_encap_of(const struct dp_engine *e, const struct dp_service *s,
    const struct ct_entry *ce, uint16_t ifidx, struct dp_encap *x)
{
	const struct dp_iface *i = &e->ifs[ifidx];
	uint64_t h = dp_tuple_hash(&ce->t[CT_ORIG], e->par.sched_seed ^ TUN_SALT);
	size_t al = s->family == 4 ? 4 : 16;

	memset(x, 0, sizeof(*x));
	x->kind = s->tunnel;
	x->family = s->family;
	memcpy(x->dst, ce->t[CT_REPLY].src, al);	/* the backend */
	if (s->tun_src.plen != 0)
		pick_source(&s->tun_src, h, x->src);
	else if (s->family == 4 && i->has_addr4)
		memcpy(x->src, i->addr4, 4);
	else if (s->family == 6 && i->has_addr6)
		memcpy(x->src, i->addr6, 16);
	else
		return false;
	if (x->kind == DP_TUN_GUE) {
		x->sport = htons((uint16_t)(TUN_SPORT_BASE | ((h >> 20) & 0x3fff)));
		x->dport = s->tun_port;
	}
	if (x->family == 6)
		x->label = (uint32_t)(h >> 40) & 0xfffff;
	return true;
}

void
tun_push(uint8_t *l3, uint32_t tail, uint32_t inner_len,
    const struct dp_encap *x)
{
	uint32_t hl = tun_overhead(x->kind, x->family);
	uint8_t *in = l3 + hl, *o = l3;
	uint16_t n;

	memmove(in, l3, tail);
	memset(o, 0, hl);
	if (x->family == 4) {
		o[0] = 0x45;
		o[1] = in[1];				/* TOS */
		n = htons((uint16_t)(inner_len + hl));
		memcpy(o + 2, &n, 2);
		if (in[6] & 0x40)
			o[6] = 0x40;			/* DF, id 0 */
		else
			memcpy(o + 4, in + 4, 2);	/* the inner id */
		o[8] = TUN_TTL;
		o[9] = x->kind == DP_TUN_GUE ? DP_PROTO_UDP : 4;
		memcpy(o + 12, x->src, 4);
		memcpy(o + 16, x->dst, 4);
		n = csum_fold(csum_partial(o, 20, 0));
		memcpy(o + 10, &n, 2);
		o += 20;
	} else {
		uint8_t tc = (uint8_t)((in[0] & 0x0f) << 4 | in[1] >> 4);

		o[0] = (uint8_t)(0x60 | tc >> 4);
		o[1] = (uint8_t)(tc << 4 | ((x->label >> 16) & 0x0f));
		o[2] = (uint8_t)(x->label >> 8);
		o[3] = (uint8_t)x->label;
		n = htons((uint16_t)(inner_len + hl - 40));
		memcpy(o + 4, &n, 2);
		o[6] = x->kind == DP_TUN_GUE ? DP_PROTO_UDP : 41;
		o[7] = TUN_TTL;
		memcpy(o + 8, x->src, 16);
		memcpy(o + 24, x->dst, 16);
		o += 40;
	}
	if (x->kind == DP_TUN_GUE) {
		/* Checksum 0: IPv4 lets UDP go without one. */
		memcpy(o, &x->sport, 2);
		memcpy(o + 2, &x->dport, 2);
		n = htons((uint16_t)(inner_len + 8));
		memcpy(o + 4, &n, 2);
	}
}
