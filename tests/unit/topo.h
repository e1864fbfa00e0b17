/*
 * The engine topology every engine test uses, unit and golden alike:
 *
 *  clients 203.0.113.0/24, 2001:db8:c::/64 -- via gw 198.51.100.1 / 2001:db8:f::1
 *  front if0: 198.51.100.0/24, 2001:db8:f::/64    VIP .10 / ::10, own .2 / ::2
 *  back  if1: 10.0.0.0/24, 2001:db8:b::/64        backends .11 .12 .13, SNAT .200,
 *                                                 own .2 / ::2
 */
#ifndef TESTS_UNIT_TOPO_H
#define TESTS_UNIT_TOPO_H

#include <stdlib.h>
#include <string.h>

#include "lbd/engine/dp.h"
#include "pktgen.h"

#define TOPO_SEED	42

static const uint8_t mac_if0[6] = { 0x02, 0, 0, 0, 0xf0, 0x00 };
static const uint8_t mac_if1[6] = { 0x02, 0, 0, 0, 0xb0, 0x00 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
static const uint8_t mac_be[3][6] = {
	{ 0x02, 0, 0, 0, 0xbe, 0x11 }, { 0x02, 0, 0, 0, 0xbe, 0x12 },
	{ 0x02, 0, 0, 0, 0xbe, 0x13 },
};

static const char *const be4[3] = { "10.0.0.11", "10.0.0.12", "10.0.0.13" };
static const char *const be6[3] = { "2001:db8:b::11", "2001:db8:b::12",
	"2001:db8:b::13" };

static void
addr(uint8_t out[16], const char *s)
{
	struct pg_ep e = pg_ep(s, 0);
	memcpy(out, e.addr, 16);
}

static struct dp_service
mk_service(int family, uint8_t proto, uint16_t port, enum dp_mode mode,
    enum dp_sched sched, int nb, uint16_t bport)
{
	struct dp_service s;

	memset(&s, 0, sizeof(s));
	addr(s.vip, family == 4 ? "198.51.100.10" : "2001:db8:f::10");
	s.port = htons(port);
	s.proto = proto;
	s.family = (uint8_t)family;
	s.mode = (uint8_t)mode;
	s.sched = (uint8_t)sched;
	s.nb = (uint16_t)nb;
	s.b = calloc((size_t)nb, sizeof(*s.b));
	for (int i = 0; i < nb; i++) {
		addr(s.b[i].addr, family == 4 ? be4[i % 3] : be6[i % 3]);
		if (family == 4)
			s.b[i].addr[3] = (uint8_t)(11 + i);
		else
			s.b[i].addr[15] = (uint8_t)(0x11 + i);
		s.b[i].port = htons(bport);
		s.b[i].weight = 1;
		s.b[i].up = true;
	}
	if (mode == DP_MODE_SNAT) {
		addr(s.snat[0], family == 4 ? "10.0.0.200" : "2001:db8:b::200");
		s.n_snat = 1;
	}
	return s;
}

/* Client i of 2^24 (benchmarks): 100.64.0.0/10, 16 ports per address. */
static inline void
client_of(uint32_t i, struct pg_ep *c)
{
	*c = pg_ep("100.64.0.0", 0);
	c->addr[1] = (uint8_t)(64 + (i >> 20));
	c->addr[2] = (uint8_t)(i >> 12);
	c->addr[3] = (uint8_t)(i >> 4);
	c->port = (uint16_t)(10000 + (i & 15));
}

/* Maglev table size for engines made here (0: the engine's default). */
static uint32_t topo_maglev_size;
/* The fast path's ring for engines made here (0: no fast path). */
static uint32_t topo_offload;
/* The next engines' table seed (random per process in lbd) and scheduling
 * seed (`hash-seed`, the same everywhere). */
static uint64_t topo_seed = TOPO_SEED, topo_sched_seed;

/* Worker `id` of `workers` (dp_steer, SNAT port residues). */
static struct dp_engine *
mk_engine_w(uint32_t conns, uint32_t workers, uint32_t id)
{
	struct dp_params par;
	struct dp_engine *e;
	struct dp_iface i0 = { .ifindex = 1, .mtu = 1500 };
	struct dp_iface i1 = { .ifindex = 2, .mtu = 1500 };
	struct dp_route r;
	uint8_t a[16];

	memset(&par, 0, sizeof(par));
	par.conn_max = conns;
	par.events = 1024;
	ct_default_timeouts(&par.timeouts);
	par.seed = topo_seed;
	par.sched_seed = topo_sched_seed;
	par.maglev_size = topo_maglev_size;
	par.workers = workers;
	par.worker_id = id;
	par.offload = topo_offload;
	e = dp_engine_new(&par);
	if (e == NULL)
		abort();
	memcpy(i0.mac, mac_if0, 6);
	memcpy(i1.mac, mac_if1, 6);
	/* The node's own addresses: where its ICMP errors come from. */
	i0.has_addr4 = i0.has_addr6 = i1.has_addr4 = i1.has_addr6 = true;
	addr(a, "198.51.100.2");
	memcpy(i0.addr4, a, 4);
	addr(i0.addr6, "2001:db8:f::2");
	addr(a, "10.0.0.2");
	memcpy(i1.addr4, a, 4);
	addr(i1.addr6, "2001:db8:b::2");
	if (dp_add_iface(e, &i0) != 0 || dp_add_iface(e, &i1) != 1)
		abort();

	const struct { const char *pfx; int plen; int ifidx; const char *gw; } rt[] = {
		{ "198.51.100.0", 24, 0, NULL }, { "2001:db8:f::", 64, 0, NULL },
		{ "10.0.0.0", 24, 1, NULL }, { "2001:db8:b::", 64, 1, NULL },
		{ "0.0.0.0", 0, 0, "198.51.100.1" }, { "::", 0, 0, "2001:db8:f::1" },
	};
	for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		memset(&r, 0, sizeof(r));
		struct pg_ep p = pg_ep(rt[i].pfx, 0);
		r.family = (uint8_t)p.family;
		r.plen = (uint8_t)rt[i].plen;
		memcpy(r.prefix, p.addr, 16);
		r.ifidx = (uint16_t)rt[i].ifidx;
		if (rt[i].gw) {
			r.has_gw = true;
			addr(r.gw, rt[i].gw);
		}
		if (dp_add_route(e, &r) != 0)
			abort();
	}
	addr(a, "198.51.100.1");
	dp_set_neigh(e, 4, a, 0, mac_gw);
	addr(a, "2001:db8:f::1");
	dp_set_neigh(e, 6, a, 0, mac_gw);
	for (int i = 0; i < 3; i++) {
		addr(a, be4[i]);
		dp_set_neigh(e, 4, a, 1, mac_be[i]);
		addr(a, be6[i]);
		dp_set_neigh(e, 6, a, 1, mac_be[i]);
	}
	return e;
}

static struct dp_engine *
mk_engine(uint32_t conns)
{
	return mk_engine_w(conns, 1, 0);
}

static void
install(struct dp_engine *e, struct dp_service *s, uint32_t n)
{
	struct dp_service *copy = calloc(n, sizeof(*copy));
	memcpy(copy, s, n * sizeof(*copy));
	if (dp_engine_set_services(e, copy, n) != 0)
		abort();
}

#endif /* TESTS_UNIT_TOPO_H */
