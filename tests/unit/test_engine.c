/*
 * Unit tests of the packet engine's pure core: parsing and its drop reasons,
 * checksums, the connection table on a virtual clock, schedulers, SNAT port
 * allocation, and whole packet flows through dp_process() in every mode and
 * family, checked field by field and with an independent checksum checker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/csum.h"
#include "conf/conf.h"
#include "lbd/engine/dp.h"
#include "lbd/engine/from_conf.h"
#include "lbd/engine/parse.h"
#include "lbd/engine/snat.h"
#include "pktgen.h"

#include "topo.h"

/* ---- parse ------------------------------------------------------------ */

static void
test_parse_valid(void **state)
{
	uint8_t f[2048];
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_pkt p;
	size_t n = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0, NULL, 0);

	assert_int_equal(dp_parse(f, n, &p), DP_DROP_NONE);
	assert_int_equal(p.ip.family, 4);
	assert_int_equal(p.ip.proto, 6);
	assert_int_equal(ntohs(p.ip.sport), 40000);
	assert_int_equal(ntohs(p.ip.dport), 80);
	assert_int_equal(p.ip.tcp_flags, PG_SYN);
	assert_memory_equal(p.ip.dst, v.addr, 4);

	/* Ethernet padding after the IP packet is ignored. */
	memset(f + n, 0xee, 20);
	assert_int_equal(dp_parse(f, n + 20, &p), DP_DROP_NONE);

	/* IPv6 with a hop-by-hop and a destination-options header. */
	struct pg_ep c6 = pg_ep("2001:db8:c::5", 40000), v6 = pg_ep("2001:db8:f::10", 80);
	n = pg_tcp(f, pg_mac_lb, pg_mac_client, &c6, &v6, PG_SYN, 1, 0, NULL, 0);
	uint8_t g[2048];
	memcpy(g, f, 14 + 40);
	g[14 + 6] = 0;					/* next: hop-by-hop */
	memset(g + 54, 0, 16);
	g[54] = 60;					/* -> dest options */
	g[62] = 6;					/* -> TCP */
	memcpy(g + 70, f + 54, n - 54);
	pg_put16(g + 14 + 4, (uint16_t)(n - 54 + 16));
	assert_int_equal(dp_parse(g, n + 16, &p), DP_DROP_NONE);
	assert_int_equal(p.ip.proto, 6);
	assert_int_equal(p.ip.l4_off, 70);
	assert_int_equal(ntohs(p.ip.dport), 80);

	/* 802.1Q tagged. */
	memmove(f + 16, f + 12, n - 12);
	f[12] = 0x81;
	f[13] = 0x00;
	pg_put16(f + 14, 42);
	assert_int_equal(dp_parse(f, n + 4, &p), DP_DROP_NONE);
	assert_int_equal(p.n_vlan, 1);
	assert_int_equal(p.vlan[0], 42);
	assert_int_equal(p.ip.family, 6);
}

static void
test_parse_malformed(void **state)
{
	uint8_t f[2048], g[2048];
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_pkt p;
	size_t n = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0, NULL, 0);

	/* Every prefix of a valid frame is rejected, never read past. */
	for (size_t k = 0; k < n; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, f, k);
		assert_int_not_equal(dp_parse(cut, k, &p), DP_DROP_NONE);
		free(cut);
	}
	assert_int_equal(dp_parse(f, 10, &p), DP_DROP_SHORT_ETH);
	assert_int_equal(dp_parse(f, 14 + 19, &p), DP_DROP_SHORT_IP);

	memcpy(g, f, n);
	g[14] = 0x44;					/* IHL 4 */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_IHL);
	memcpy(g, f, n);
	g[14] = 0x55;					/* version 5 */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_IP_VERSION);
	memcpy(g, f, n);
	pg_put16(g + 16, 1500);				/* total length > frame */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_IP_LEN);
	memcpy(g, f, n);
	g[14 + 8] ^= 1;					/* TTL changed, csum not */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_IP_CSUM);
	memcpy(g, f, n);
	g[14 + 20 + 12] = 0x40;				/* TCP data offset 4 */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_TCP_HLEN);
	memcpy(g, f, n);
	g[14 + 20 + 12] = 0xf0;				/* 60 > segment */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_TCP_HLEN);

	/* IPv6: an extension header running past the payload, a hop-by-hop
	 * that is not first, a chain that never ends. */
	struct pg_ep c6 = pg_ep("2001:db8:c::5", 1), v6 = pg_ep("2001:db8:f::10", 80);
	n = pg_udp(f, pg_mac_lb, pg_mac_client, &c6, &v6, "abcdefgh", 8, false);
	memcpy(g, f, n);
	g[14 + 6] = 60;					/* claims dest options */
	g[54 + 1] = 9;					/* of 80 bytes */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_EXT_HDR);
	memcpy(g, f, n);
	g[14 + 6] = 60;
	g[54] = 0;					/* then hop-by-hop */
	g[54 + 1] = 0;
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_EXT_HDR);
	{
		uint8_t h[2048];
		memcpy(h, f, 54);
		h[14 + 6] = 60;
		for (int i = 0; i < 12; i++) {		/* 12 dest-option headers */
			memset(h + 54 + 8 * i, 0, 8);
			h[54 + 8 * i] = 60;
		}
		pg_put16(h + 14 + 4, 96);
		assert_int_equal(dp_parse(h, 54 + 96, &p), DP_DROP_BAD_EXT_HDR);
	}
	memcpy(g, f, n);
	pg_put16(g + 14 + 4, 0);			/* jumbogram */
	assert_int_equal(dp_parse(g, n, &p), DP_DROP_BAD_IP_LEN);

	/* ARP is not ours but not malformed either. */
	memset(g, 0, 60);
	g[12] = 0x08;
	g[13] = 0x06;
	assert_int_equal(dp_parse(g, 60, &p), DP_DROP_NONE);
	assert_int_equal(p.ip.family, 0);
}

static void
test_parse_fragments_and_icmp(void **state)
{
	uint8_t f[2048], e[2048];
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct pg_ep rtr = pg_ep("192.0.2.1", 0);
	struct dp_pkt p;
	size_t n = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 1, 1, "x", 1);

	f[14 + 6] = 0x20;				/* MF, offset 0 */
	f[14 + 10] = f[14 + 11] = 0;
	pg_put16(f + 14 + 10, pg_fold(pg_sum(f + 14, 20, 0)));
	assert_int_equal(dp_parse(f, n, &p), DP_DROP_NONE);
	assert_int_equal(p.ip.frag, DP_FRAG_FIRST);
	assert_int_not_equal(p.ip.l4_off, 0);
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x10;				/* offset 128 */
	f[14 + 10] = f[14 + 11] = 0;
	pg_put16(f + 14 + 10, pg_fold(pg_sum(f + 14, 20, 0)));
	assert_int_equal(dp_parse(f, n, &p), DP_DROP_NONE);
	assert_int_equal(p.ip.frag, DP_FRAG_LATER);
	assert_int_equal(p.ip.l4_off, 0);

	/* An ICMP error carries the offending packet's first bytes. */
	n = pg_tcp(f, pg_mac_lb, pg_mac_client, &v, &c, PG_ACK, 1, 1, NULL, 0);
	size_t m = pg_icmp_toobig(e, pg_mac_lb, pg_mac_client, &rtr, &v, 1400,
	    f + 14, 28);
	assert_int_equal(dp_parse(e, m, &p), DP_DROP_NONE);
	assert_true(p.is_icmp_err);
	assert_int_equal(p.inner.proto, 6);
	assert_int_equal(ntohs(p.inner.sport), 80);
	assert_int_equal(ntohs(p.inner.dport), 40000);
	/* ... fewer than 8 bytes of the embedded L4 header is malformed. */
	m = pg_icmp_toobig(e, pg_mac_lb, pg_mac_client, &rtr, &v, 1400, f + 14, 24);
	assert_int_equal(dp_parse(e, m, &p), DP_DROP_SHORT_L4);
	m = pg_icmp_toobig(e, pg_mac_lb, pg_mac_client, &rtr, &v, 1400, f + 14, 12);
	assert_int_equal(dp_parse(e, m, &p), DP_DROP_SHORT_ICMP_INNER);
}

/* ---- checksums ---------------------------------------------------------- */

static void
test_csum_incremental(void **state)
{
	uint8_t buf[64];
	srand(7);
	for (int iter = 0; iter < 10000; iter++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand();
		uint16_t c = csum_fold(csum_partial(buf, sizeof(buf), 0));
		size_t at = (size_t)(rand() % 30) * 2;
		uint8_t old[4], new[4];
		memcpy(old, buf + at, 4);
		for (int i = 0; i < 4; i++)
			new[i] = (uint8_t)rand();
		c = csum_replace(c, old, new, 4);
		memcpy(buf + at, new, 4);
		assert_int_equal(c, csum_fold(csum_partial(buf, sizeof(buf), 0)));
		/* and the independent checker agrees */
		assert_int_equal(ntohs(c), pg_fold(pg_sum(buf, sizeof(buf), 0)));
	}
}

/* ---- connection table ----------------------------------------------------- */

static struct dp_tuple
tup(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct dp_tuple t;
	memset(&t, 0, sizeof(t));
	memcpy(t.src, &src, 4);
	memcpy(t.dst, &dst, 4);
	t.sport = sport;
	t.dport = dport;
	t.proto = proto;
	t.family = 4;
	return t;
}

static uint32_t
ct_add(struct ct_table *ct, uint32_t client, enum ct_state st, uint32_t now)
{
	uint32_t idx = ct_alloc(ct, now);
	if (idx == CT_NIL)
		return idx;
	ct->e[idx].t[CT_ORIG] = tup(6, client, 1000, 0x0a000001, 80);
	ct->e[idx].t[CT_REPLY] = tup(6, 0x0b000001, 80, client, 1000);
	if (st == CT_ESTABLISHED)
		ct->e[idx].flags |= CT_F_PROVEN;	/* a handshake seen */
	ct_commit(ct, idx, st, now, false);
	return idx;
}

static void
test_ct_both_directions_and_states(void **state)
{
	struct ct_table ct;
	struct ct_event ev[16];
	enum ct_dir dir;

	assert_int_equal(ct_init(&ct, 64, 16, NULL, 1), 0);
	uint32_t i = ct_add(&ct, 7, CT_SYN_SENT, 0);
	struct dp_tuple o = tup(6, 7, 1000, 0x0a000001, 80);
	struct dp_tuple r = tup(6, 0x0b000001, 80, 7, 1000);
	assert_int_equal(ct_lookup(&ct, &o, &dir), i);
	assert_int_equal(dir, CT_ORIG);
	assert_int_equal(ct_lookup(&ct, &r, &dir), i);
	assert_int_equal(dir, CT_REPLY);
	struct dp_tuple x = tup(6, 8, 1000, 0x0a000001, 80);
	assert_int_equal(ct_lookup(&ct, &x, &dir), CT_NIL);

	/* SYN-ACK from the backend keeps it embryonic; the client's ACK of
	 * it establishes (and proves); FIN from each side leads to
	 * TIME_WAIT. */
	assert_false(ct_seen(&ct, i, CT_REPLY, PG_SYN | PG_ACK, 5000, 101, 0, 1));
	assert_true(ct_seen(&ct, i, CT_ORIG, PG_ACK, 101, 5001, 0, 2));
	assert_int_equal(ct.e[i].state, CT_ESTABLISHED);
	assert_true(ct.e[i].flags & CT_F_PROVEN);
	assert_true(ct_seen(&ct, i, CT_ORIG, PG_FIN | PG_ACK, 101, 5001, 0, 3));
	assert_int_equal(ct.e[i].state, CT_FIN_WAIT);
	assert_true(ct_seen(&ct, i, CT_REPLY, PG_FIN | PG_ACK, 5001, 102, 0, 4));
	assert_int_equal(ct.e[i].state, CT_TIME_WAIT);
	assert_int_equal(ct.e[i].pkts[CT_ORIG], 2);
	assert_int_equal(ct.e[i].pkts[CT_REPLY], 2);

	uint32_t j = ct_add(&ct, 9, CT_ESTABLISHED, 5);
	assert_true(ct_seen(&ct, j, CT_REPLY, PG_RST, 0, 0, 0, 6));
	assert_int_equal(ct.e[j].state, CT_CLOSE);
	assert_int_equal(ct.stats.by_state[CT_CLOSE], 1);
	assert_int_equal(ct.stats.by_state[CT_TIME_WAIT], 1);

	/* Every create and change became an event, in order. */
	size_t n = ct_events(&ct, ev, 16);
	assert_int_equal(n, 6);
	assert_int_equal(ev[0].type, CT_EV_NEW);
	assert_int_equal(ev[1].type, CT_EV_CHANGE);
	assert_int_equal(ev[1].state, CT_ESTABLISHED);
	assert_int_equal(ev[3].state, CT_TIME_WAIT);
	assert_int_equal(ev[4].type, CT_EV_NEW);
	assert_int_equal(ev[5].state, CT_CLOSE);
	ct_destroy(&ct);
}

static void
test_ct_expiry_virtual_clock(void **state)
{
	struct ct_table ct;
	struct ct_timeouts to;

	ct_default_timeouts(&to);
	to.ms[CT_CLASS_SYN] = 1000;
	to.ms[CT_CLASS_EST] = 5000;
	assert_int_equal(ct_init(&ct, 64, 0, &to, 1), 0);
	uint32_t a = ct_add(&ct, 1, CT_SYN_SENT, 0);
	uint32_t b = ct_add(&ct, 2, CT_ESTABLISHED, 0);
	uint32_t c = ct_add(&ct, 3, CT_ESTABLISHED, 100);
	(void)a;

	assert_int_equal(ct_expire(&ct, 999, 100), 0);
	assert_int_equal(ct_expire(&ct, 1000, 100), 1);	/* the SYN */
	assert_int_equal(ct.stats.active, 2);
	/* b is seen again at 4000: it outlives c although queued first. */
	ct_seen(&ct, b, CT_ORIG, PG_ACK, 0, 0, 0, 4000);
	assert_int_equal(ct_expire(&ct, 5099, 100), 0);
	assert_int_equal(ct_expire(&ct, 5100, 100), 1);	/* c */
	assert_int_equal(ct.e[c].state, CT_NONE);
	assert_int_equal(ct.e[b].state, CT_ESTABLISHED);
	assert_int_equal(ct_expire(&ct, 8999, 100), 0);
	assert_int_equal(ct_expire(&ct, 9000, 100), 1);	/* b */
	assert_int_equal(ct.stats.active, 0);
	assert_int_equal(ct.stats.expired, 3);

	/* The clock may wrap (uint32 ms, 49 days): still correct. */
	uint32_t w = ct_add(&ct, 4, CT_ESTABLISHED, UINT32_MAX - 10);
	assert_int_equal(ct_expire(&ct, 100, 100), 0);
	assert_int_equal(ct_expire(&ct, 5000, 100), 1);
	assert_int_equal(ct.e[w].state, CT_NONE);
	ct_destroy(&ct);
}

static void
test_ct_full_evicts_embryonic_first(void **state)
{
	struct ct_table ct;

	assert_int_equal(ct_init(&ct, 100, 0, NULL, 1), 0);
	for (uint32_t i = 0; i < 60; i++)
		assert_int_not_equal(ct_add(&ct, 1000 + i, CT_ESTABLISHED, i), CT_NIL);
	/* A flood of SYNs: the table stays at its bound, the oldest SYNs make
	 * room for new ones, no established entry is touched. */
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_not_equal(ct_add(&ct, 50000 + i, CT_SYN_SENT, 100 + i),
		    CT_NIL);
	assert_int_equal(ct.stats.active, 100);
	assert_int_equal(ct.stats.by_state[CT_ESTABLISHED], 60);
	assert_int_equal(ct.stats.evicted, 10000 - 40);
	for (uint32_t i = 0; i < 60; i++) {
		struct dp_tuple t = tup(6, 1000 + i, 1000, 0x0a000001, 80);
		enum ct_dir d;
		assert_int_not_equal(ct_lookup(&ct, &t, &d), CT_NIL);
	}
	/* The newest SYNs are the ones kept. */
	struct dp_tuple t = tup(6, 50000 + 9999, 1000, 0x0a000001, 80);
	enum ct_dir d;
	assert_int_not_equal(ct_lookup(&ct, &t, &d), CT_NIL);
	t = tup(6, 50000, 1000, 0x0a000001, 80);
	assert_int_equal(ct_lookup(&ct, &t, &d), CT_NIL);

	/* Full of established entries: a new one is refused, not evicted. */
	struct ct_table ct2;
	assert_int_equal(ct_init(&ct2, 10, 0, NULL, 1), 0);
	for (uint32_t i = 0; i < 10; i++)
		ct_add(&ct2, i, CT_ESTABLISHED, 0);
	assert_int_equal(ct_alloc(&ct2, 1), CT_NIL);
	assert_int_equal(ct2.stats.full, 1);
	ct_destroy(&ct2);
	ct_destroy(&ct);
}

/* Random inserts and deletes against a reference set: every live entry stays
 * findable by both tuples, nothing freed is found (checks the backward-shift
 * deletion of the open-addressing index, including wrap-around). */
static void
test_ct_index_churn(void **state)
{
	enum { CAP = 500, OPS = 200000 };
	struct ct_table ct;
	uint32_t live_key[CAP], live_idx[CAP], nlive = 0, next_key = 1;
	enum ct_dir d;

	assert_int_equal(ct_init(&ct, CAP, 0, NULL, 12345), 0);
	srand(99);
	for (int op = 0; op < OPS; op++) {
		if (nlive < CAP && (nlive == 0 || rand() % 2)) {
			uint32_t k = next_key++;
			uint32_t idx = ct_add(&ct, k, CT_ESTABLISHED, 0);
			assert_int_not_equal(idx, CT_NIL);
			live_key[nlive] = k;
			live_idx[nlive++] = idx;
		} else {
			uint32_t j = (uint32_t)rand() % nlive;
			struct dp_tuple t = tup(6, live_key[j], 1000, 0x0a000001, 80);
			ct_free(&ct, live_idx[j]);
			assert_int_equal(ct_lookup(&ct, &t, &d), CT_NIL);
			live_key[j] = live_key[--nlive];
			live_idx[j] = live_idx[nlive];
		}
		if (op % 997 == 0 || op == OPS - 1) {
			for (uint32_t j = 0; j < nlive; j++) {
				struct dp_tuple o = tup(6, live_key[j], 1000,
				    0x0a000001, 80);
				struct dp_tuple r = tup(6, 0x0b000001, 80,
				    live_key[j], 1000);
				assert_int_equal(ct_lookup(&ct, &o, &d), live_idx[j]);
				assert_int_equal(d, CT_ORIG);
				assert_int_equal(ct_lookup(&ct, &r, &d), live_idx[j]);
				assert_int_equal(d, CT_REPLY);
			}
		}
	}
	/* Slots in use are exactly two per live entry. */
	uint32_t used = 0;
	for (uint32_t i = 0; i < ct.nslots; i++)
		used += ct.slots[i] != CT_SLOT_EMPTY;
	assert_int_equal(used, 2 * nlive);
	ct_destroy(&ct);
}

/* ---- schedulers ----------------------------------------------------------- */

static void
pick_n(struct dp_service *s, int n, int *hits)
{
	for (int i = 0; i < n; i++) {
		struct dp_tuple t = tup(6, (uint32_t)rand(), (uint16_t)rand(),
		    0x0a000001, 80);
		int32_t b = dp_sched_pick(s, &t, 99);
		assert_true(b >= 0);
		hits[b]++;
	}
}

static void
test_sched_rr_wrr(void **state)
{
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 3, 80);
	int hits[3] = { 0 };

	dp_sched_rebuild(&s, 0);
	pick_n(&s, 1000, hits);
	for (int i = 0; i < 3; i++)
		assert_in_range(hits[i], 333, 334);

	/* Weight 0 drains, a down backend is never chosen. */
	memset(hits, 0, sizeof(hits));
	s.b[1].weight = 0;
	s.b[2].up = false;
	dp_sched_rebuild(&s, 0);
	pick_n(&s, 100, hits);
	assert_int_equal(hits[0], 100);
	s.b[0].up = false;
	dp_sched_rebuild(&s, 0);
	struct dp_tuple t = tup(6, 1, 1, 2, 2);
	assert_int_equal(dp_sched_pick(&s, &t, 1), -1);
	dp_service_free(&s);

	s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_WRR, 3, 80);
	s.b[0].weight = 10;
	s.b[1].weight = 5;
	s.b[2].weight = 1;
	dp_sched_rebuild(&s, 0);
	memset(hits, 0, sizeof(hits));
	pick_n(&s, 1600, hits);
	assert_int_equal(hits[0], 1000);
	assert_int_equal(hits[1], 500);
	assert_int_equal(hits[2], 100);
	dp_service_free(&s);
}

static void
test_sched_lc_wlc(void **state)
{
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_LC, 3, 80);
	struct dp_tuple t = tup(6, 1, 1, 2, 2);

	dp_sched_rebuild(&s, 0);
	s.b[0].active = 5;
	s.b[1].active = 2;
	s.b[2].active = 9;
	assert_int_equal(dp_sched_pick(&s, &t, 1), 1);
	s.sched = DP_SCHED_WLC;
	s.b[0].weight = 10;	/* 5/10 beats 2/1 */
	assert_int_equal(dp_sched_pick(&s, &t, 1), 0);
	dp_service_free(&s);
}

static void
test_sched_hash_consistency(void **state)
{
	enum dp_sched kinds[2] = { DP_SCHED_MAGLEV, DP_SCHED_SH };

	for (int k = 0; k < 2; k++) {
		const int N = 10, KEYS = 20000;
		struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, kinds[k],
		    N, 80);
		int32_t *before = malloc(KEYS * sizeof(int32_t));
		int hits[10] = { 0 }, moved = 0, moved_other = 0;

		dp_sched_rebuild(&s, 0);
		for (int i = 0; i < KEYS; i++) {
			struct dp_tuple t = tup(6, (uint32_t)i * 2654435761u,
			    (uint16_t)i, 0x0a000001, 80);
			before[i] = dp_sched_pick(&s, &t, 5);
			hits[before[i]]++;
			/* the same key always lands on the same backend */
			assert_int_equal(dp_sched_pick(&s, &t, 5), before[i]);
		}
		for (int b = 0; b < N; b++)	/* even spread, within 15% */
			assert_in_range(hits[b], KEYS / N * 85 / 100,
			    KEYS / N * 115 / 100);

		/* Take backend 3 out: its keys move, about 1/N of all, and
		 * hardly any other key moves. */
		s.b[3].up = false;
		dp_sched_rebuild(&s, 0);
		for (int i = 0; i < KEYS; i++) {
			struct dp_tuple t = tup(6, (uint32_t)i * 2654435761u,
			    (uint16_t)i, 0x0a000001, 80);
			int32_t now = dp_sched_pick(&s, &t, 5);
			assert_int_not_equal(now, 3);
			if (now != before[i]) {
				moved++;
				if (before[i] != 3)
					moved_other++;
			}
		}
		print_message("# %s: removing 1 of %d moved %.1f%% of keys "
		    "(%.2f%% that were not on it)\n", k == 0 ? "maglev" : "sh",
		    N, 100.0 * moved / KEYS, 100.0 * moved_other / KEYS);
		assert_true(moved <= KEYS / N * 12 / 10);
		assert_true(moved_other <= KEYS / 100);	/* < 1% */
		free(before);
		dp_service_free(&s);
	}
}

static void
test_sched_maglev_weights(void **state)
{
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_MAGLEV,
	    3, 80);
	int hits[3] = { 0 };

	s.b[0].weight = 100;
	s.b[1].weight = 50;
	s.b[2].weight = 50;
	dp_sched_rebuild(&s, 0);
	for (uint32_t j = 0; j < s.maglev_size; j++)
		hits[s.maglev[j]]++;
	/* Table slots follow the weights: 50% / 25% / 25%. */
	assert_in_range(hits[0], s.maglev_size * 48 / 100, s.maglev_size * 52 / 100);
	assert_in_range(hits[1], s.maglev_size * 23 / 100, s.maglev_size * 27 / 100);
	dp_service_free(&s);
}

/* Backups take new connections only while fewer primaries than the
 * quorum are available; then they join the primaries still up. */
static void
test_sched_backup_quorum(void **state)
{
	enum dp_sched kinds[3] = { DP_SCHED_RR, DP_SCHED_WLC, DP_SCHED_MAGLEV };

	for (int k = 0; k < 3; k++) {
		struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED,
		    kinds[k], 4, 80);
		int hits[4] = { 0 };

		s.b[2].backup = s.b[3].backup = true;
		dp_sched_rebuild(&s, 0);
		assert_false(s.use_backups);
		pick_n(&s, 400, hits);
		assert_true(hits[0] > 0 && hits[1] > 0);
		assert_int_equal(hits[2] + hits[3], 0);

		/* Both primaries down: the backups, and only they. */
		s.b[0].up = false;
		s.b[1].weight = 0;
		dp_sched_rebuild(&s, 0);
		memset(hits, 0, sizeof(hits));
		pick_n(&s, 400, hits);
		assert_int_equal(hits[0] + hits[1], 0);
		assert_true(hits[2] > 0 && hits[3] > 0);

		/* quorum 2 with one primary up: it and the backups. */
		s.quorum = 2;
		s.b[1].weight = 1;
		dp_sched_rebuild(&s, 0);
		memset(hits, 0, sizeof(hits));
		pick_n(&s, 600, hits);
		assert_int_equal(hits[0], 0);
		assert_true(hits[1] > 0 && hits[2] > 0 && hits[3] > 0);
		/* Both up again: quorum met, the backups wait. */
		s.b[0].up = true;
		dp_sched_rebuild(&s, 0);
		memset(hits, 0, sizeof(hits));
		pick_n(&s, 400, hits);
		assert_int_equal(hits[2] + hits[3], 0);
		dp_service_free(&s);
	}
}

/* A backend at its max-conns is passed over by every scheduler; the
 * hashing ones keep every other key where it was. */
static void
test_sched_max_conns(void **state)
{
	enum dp_sched kinds[5] = { DP_SCHED_RR, DP_SCHED_WRR, DP_SCHED_LC,
	    DP_SCHED_SH, DP_SCHED_MAGLEV };

	for (int k = 0; k < 5; k++) {
		struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED,
		    kinds[k], 3, 80);
		int32_t before[300];
		int hits[3] = { 0 };

		dp_sched_rebuild(&s, 0);
		for (int i = 0; i < 300; i++) {
			struct dp_tuple t = tup(6, (uint32_t)i * 2654435761u,
			    (uint16_t)i, 0x0a000001, 80);
			before[i] = dp_sched_pick(&s, &t, 5);
		}
		s.b[1].max_conns = 10;
		s.b[1].open = 10;
		for (int i = 0; i < 300; i++) {
			struct dp_tuple t = tup(6, (uint32_t)i * 2654435761u,
			    (uint16_t)i, 0x0a000001, 80);
			int32_t b = dp_sched_pick(&s, &t, 5);

			assert_true(b == 0 || b == 2);
			hits[b]++;
			if (kinds[k] == DP_SCHED_SH || kinds[k] == DP_SCHED_MAGLEV)
				assert_true(before[i] == 1 || b == before[i]);
		}
		assert_true(hits[0] > 0 && hits[2] > 0);
		/* One closes: it takes new ones again. */
		s.b[1].open = 9;
		memset(hits, 0, sizeof(hits));
		pick_n(&s, 300, hits);
		assert_true(hits[1] > 0);
		/* All full: nobody. */
		for (int i = 0; i < 3; i++) {
			s.b[i].max_conns = 1;
			s.b[i].open = 1;
		}
		struct dp_tuple t = tup(6, 1, 1, 2, 2);
		assert_int_equal(dp_sched_pick(&s, &t, 5), -1);
		dp_service_free(&s);
	}
}

/* Table sizes: the largest for a few services, a shared budget for many,
 * never under ~100 slots per backend, never over the cap. */
static void
test_maglev_size(void **state)
{
	(void)state;
	assert_int_equal(dp_maglev_size(1, 10, 0), 65537);
	assert_int_equal(dp_maglev_size(255, 10, 0), 65537);
	assert_int_equal(dp_maglev_size(256, 10, 0), 32771);
	assert_int_equal(dp_maglev_size(10000, 10, 0), 1021);
	assert_int_equal(dp_maglev_size(10000, 16, 0), 2053);
	assert_int_equal(dp_maglev_size(10000, 1000, 0), 65537);
	assert_int_equal(dp_maglev_size(1000, 10, 0), 16411);
	assert_int_equal(dp_maglev_size(1, 10, 251), 251);
}

/* ---- SNAT ports --------------------------------------------------------- */

static void
test_snat_ports(void **state)
{
	struct snat_registry r;
	struct snat_key k;
	struct snat_space *a, *b;
	uint16_t p;

	snat_registry_init(&r, 1024, 65535, 42);
	memset(&k, 0, sizeof(k));
	k.proto = 6;
	a = snat_space_get(&r, &k);
	assert_non_null(a);
	assert_ptr_equal(snat_space_get(&r, &k), a);	/* shared */
	k.bport = 1;
	b = snat_space_get(&r, &k);
	assert_ptr_not_equal(a, b);

	/* Every port once, then exhaustion; never a port twice. */
	uint8_t *seen = calloc(65536, 1);
	for (int i = 0; i < 65535 - 1024 + 1; i++) {
		assert_true(snat_port_take(&r, a, &p));
		assert_true(p >= 1024);
		assert_int_equal(seen[p], 0);
		seen[p] = 1;
	}
	assert_false(snat_port_take(&r, a, &p));
	/* The other backend's space is independent. */
	assert_true(snat_port_take(&r, b, &p));
	/* A released port comes back; a reserved one is not handed out. */
	snat_port_release(a, 5000);
	assert_true(snat_port_take(&r, a, &p));
	assert_int_equal(p, 5000);
	snat_port_release(a, 6000);
	assert_true(snat_port_reserve(&r, a, 6000));
	assert_false(snat_port_reserve(&r, a, 6000));
	assert_false(snat_port_take(&r, a, &p));
	free(seen);
	snat_registry_free(&r);
}

/*
 * snat-pool ADDR ports LO-HI: a space hands out only its range, counts
 * how full that range is, and still takes a connection of the other
 * node's range (a mirrored one, or after a failover) without it counting
 * against its own.
 */
static void
test_snat_port_range(void **state)
{
	struct snat_registry r;
	struct snat_key k;
	struct snat_space *a;
	uint16_t p;
	int n = 0;

	snat_registry_init(&r, 1024, 65535, 7);
	memset(&k, 0, sizeof(k));
	k.proto = 17;
	a = snat_space_get(&r, &k);
	snat_space_range(&r, a, 20000, 20999);
	assert_true(snat_port_reserve(&r, a, 40000));	/* the peer's */
	assert_int_equal(snat_space_pct(&r, a), 0);
	while (snat_port_take(&r, a, &p)) {
		assert_in_range(p, 20000, 20999);
		if (++n == 800)
			assert_int_equal(snat_space_pct(&r, a), 80);
	}
	assert_int_equal(n, 1000);
	assert_int_equal(snat_space_pct(&r, a), 100);
	assert_int_equal(a->used, 1001);
	snat_port_release(a, 40000);
	snat_port_release(a, 20500);
	assert_int_equal(snat_space_pct(&r, a), 99);
	assert_true(snat_port_take(&r, a, &p));
	assert_int_equal(p, 20500);
	/* Back to the whole range: the ports in use are counted in it. */
	snat_space_range(&r, a, 0, 0);
	assert_int_equal(a->own, 1000);
	assert_true(snat_port_take(&r, a, &p));
	snat_registry_free(&r);
}

static uint16_t
first_port_of(uint64_t seed, uint16_t bport)
{
	struct snat_registry r;
	struct snat_key k;
	uint16_t p, q;

	snat_registry_init(&r, 1024, 65535, seed);
	memset(&k, 0, sizeof(k));
	k.proto = 6;
	k.bport = bport;
	struct snat_space *sp = snat_space_get(&r, &k);
	assert_true(snat_port_take(&r, sp, &p));
	assert_true(snat_port_take(&r, sp, &q));
	/* ...and from there on, one after the other */
	assert_int_equal(q, p == 65535 ? 1024 : p + 1);
	snat_registry_free(&r);
	return p;
}

/*
 * Each space starts at a keyed-hash offset (RFC 6056): a node that takes
 * over (another seed) does not reuse the ports the old master just used,
 * and two backends' spaces do not move in step.
 */
static void
test_snat_first_port(void **state)
{
	uint16_t seen[8];

	for (int i = 0; i < 8; i++) {
		seen[i] = first_port_of(1000 + (uint64_t)i, 80);
		assert_in_range(seen[i], 1024, 65535);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[i], seen[j]);
	}
	assert_int_equal(first_port_of(1000, 80), seen[0]);	/* keyed */
	assert_int_not_equal(first_port_of(1000, 81), seen[0]);
}

/* ---- whole flows -------------------------------------------------------- */

struct flow {
	struct dp_engine *e;
	uint8_t		f[2048];
	size_t		n;
	struct dp_verdict v;
};

static void
run(struct flow *fl, uint16_t in_if, uint32_t now)
{
	dp_process(fl->e, fl->f, (uint32_t)fl->n, sizeof(fl->f), in_if, now, &fl->v);
}

static size_t
l3(const struct flow *fl)
{
	return 14;
}

static void
expect_tx(struct flow *fl, uint16_t ifidx, const uint8_t *dmac, const uint8_t *smac)
{
	const char *bad;
	if (fl->v.action != DP_TX)
		fail_msg("expected TX, got action %d reason %s", fl->v.action,
		    dp_drop_name(fl->v.reason));
	assert_int_equal(fl->v.ifidx, ifidx);
	assert_memory_equal(fl->f, dmac, 6);
	assert_memory_equal(fl->f + 6, smac, 6);
	if ((bad = pg_check(fl->f, fl->v.len)) != NULL)
		fail_msg("bad checksum: %s", bad);
}

static void
expect_ep(const struct flow *fl, bool src, const char *a, uint16_t port)
{
	const uint8_t *ip = fl->f + l3(fl);
	struct pg_ep want = pg_ep(a, port);
	int v4 = (ip[0] >> 4) == 4;
	size_t hl = v4 ? (size_t)(ip[0] & 15) * 4 : 40;
	const uint8_t *got = src ? pg_src_of(ip) : pg_dst_of(ip);

	assert_memory_equal(got, want.addr, v4 ? 4 : 16);
	if (port != 0)		/* 0: any port */
		assert_int_equal((ip[hl + (src ? 0 : 2)] << 8) |
		    ip[hl + (src ? 1 : 3)], port);
}

/* A TCP connection through one service, in `mode` and `family`: SYN,
 * SYN-ACK, ACK, data both ways, FIN both ways. */
static void
tcp_flow(int family, enum dp_mode mode)
{
	struct flow fl;
	const char *cli = family == 4 ? "203.0.113.5" : "2001:db8:c::5";
	const char *vip = family == 4 ? "198.51.100.10" : "2001:db8:f::10";
	const char *be = family == 4 ? "10.0.0.11" : "2001:db8:b::11";
	const char *snat = family == 4 ? "10.0.0.200" : "2001:db8:b::200";
	struct pg_ep c = pg_ep(cli, 40000), v = pg_ep(vip, 80);
	struct dp_service s = mk_service(family, 6, 80, mode, DP_SCHED_RR, 1,
	    mode == DP_MODE_DSR ? 80 : 8080);
	uint16_t bport = mode == DP_MODE_DSR ? 80 : 8080;
	uint16_t sport;

	fl.e = mk_engine(1024);
	install(fl.e, &s, 1);

	/* SYN: client -> VIP arrives on the front. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	uint8_t orig[2048];
	memcpy(orig, fl.f, fl.n);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	if (mode == DP_MODE_DSR) {
		/* Only the MACs change; the IP packet is untouched. */
		assert_memory_equal(fl.f + 12, orig + 12, fl.n - 12);
		expect_ep(&fl, false, vip, 80);
	} else {
		expect_ep(&fl, false, be, bport);
		expect_ep(&fl, true, mode == DP_MODE_SNAT ? snat : cli,
		    mode == DP_MODE_SNAT ? 0 : 40000);
		/* TTL / hop limit went down by one. */
		assert_int_equal(fl.f[14 + (family == 4 ? 8 : 7)], 63);
	}
	{
		const uint8_t *ip = fl.f + 14;
		size_t hl = family == 4 ? 20 : 40;
		sport = (uint16_t)(ip[hl] << 8 | ip[hl + 1]);
	}
	if (mode == DP_MODE_SNAT)
		assert_true(sport >= 1024);
	else
		assert_int_equal(sport, 40000);

	if (mode != DP_MODE_DSR) {
		/* SYN-ACK: backend -> client (or SNAT address) on the back. */
		struct pg_ep b = pg_ep(be, bport);
		struct pg_ep to = mode == DP_MODE_SNAT ? pg_ep(snat, sport) : c;
		fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &to, PG_SYN | PG_ACK,
		    5000, 1001, NULL, 0);
		run(&fl, 1, 1);
		expect_tx(&fl, 0, mac_gw, mac_if0);
		expect_ep(&fl, true, vip, 80);
		expect_ep(&fl, false, cli, 40000);

		/* ACK and data from the client. */
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1001, 5001,
		    "GET / HTTP/1.0\r\n\r\n", 18);
		run(&fl, 0, 2);
		expect_tx(&fl, 1, mac_be[0], mac_if1);
		expect_ep(&fl, false, be, bport);

		/* A reply with data; then FINs. */
		fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &to, PG_ACK | PG_PSH,
		    5001, 1019, "HTTP/1.0 200 OK\r\n\r\n", 19);
		run(&fl, 1, 3);
		expect_tx(&fl, 0, mac_gw, mac_if0);
		expect_ep(&fl, true, vip, 80);
		fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &to, PG_FIN | PG_ACK,
		    5020, 1019, NULL, 0);
		run(&fl, 1, 4);
		expect_tx(&fl, 0, mac_gw, mac_if0);
	} else {
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1001, 5001,
		    NULL, 0);
		run(&fl, 0, 2);
		expect_tx(&fl, 1, mac_be[0], mac_if1);
	}
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_FIN | PG_ACK, 1019, 5021,
	    NULL, 0);
	run(&fl, 0, 5);
	expect_tx(&fl, 1, mac_be[0], mac_if1);

	const struct ct_stats *st = &dp_engine_ct(fl.e)->stats;
	assert_int_equal(st->active, 1);
	assert_int_equal(st->by_state[mode == DP_MODE_DSR ? CT_FIN_WAIT :
	    CT_TIME_WAIT], 1);
	uint32_t n;
	const struct dp_service *sv = dp_engine_services(fl.e, &n);
	assert_int_equal(sv[0].cnt.conns, 1);
	assert_int_equal(sv[0].b[0].active, 1);
	assert_int_equal(sv[0].cnt.pkts_in, mode == DP_MODE_DSR ? 3 : 3);
	assert_int_equal(sv[0].cnt.pkts_out, mode == DP_MODE_DSR ? 0 : 3);

	/* Expiry frees the entry and, in snat mode, its port. */
	assert_int_equal(dp_expire(fl.e, 10 * 60 * 1000, 1000), 1);
	assert_int_equal(sv[0].b[0].active, 0);
	if (mode == DP_MODE_SNAT)
		assert_int_equal(sv[0].b[0].snat[0]->used, 0);
	dp_engine_free(fl.e);
}

static void test_flow_routed_v4(void **s) { tcp_flow(4, DP_MODE_ROUTED); }
static void test_flow_routed_v6(void **s) { tcp_flow(6, DP_MODE_ROUTED); }
static void test_flow_snat_v4(void **s) { tcp_flow(4, DP_MODE_SNAT); }
static void test_flow_snat_v6(void **s) { tcp_flow(6, DP_MODE_SNAT); }
static void test_flow_dsr_v4(void **s) { tcp_flow(4, DP_MODE_DSR); }
static void test_flow_dsr_v6(void **s) { tcp_flow(6, DP_MODE_DSR); }

/*
 * Tunnelled dsr: the client's packet, untouched, inside an outer header to
 * the backend, checked field by field against RFC 2003 (ipip), RFC 2473
 * (ip6ip6) and GUE variant 1: lengths, protocol, TTL 64, TOS / traffic
 * class and DF from the packet, the outer source the way out's address or
 * one of `source`'s, a GUE source port of the dynamic range that stays
 * with the flow.
 */
static void
tunnel_flow(int family, uint8_t kind, bool prefix)
{
	struct flow fl;
	const char *cli = family == 4 ? "203.0.113.5" : "2001:db8:c::5";
	const char *vip = family == 4 ? "198.51.100.10" : "2001:db8:f::10";
	const char *be = family == 4 ? "10.0.0.11" : "2001:db8:b::11";
	const char *own = family == 4 ? "10.0.0.2" : "2001:db8:b::2";
	struct pg_ep c = pg_ep(cli, 40000), v = pg_ep(vip, 80), ob = pg_ep(be, 0);
	struct pg_ep oo = pg_ep(own, 0);
	struct dp_service s = mk_service(family, 6, 80, DP_MODE_DSR, DP_SCHED_RR,
	    1, 80);
	size_t hl = (family == 4 ? 20 : 40) + (kind == DP_TUN_GUE ? 8 : 0);
	size_t in_len;
	uint8_t orig[2048], src0[16], *o;
	uint16_t sport0 = 0;
	char big[1500];
	const struct dp_stats *st;
	int diff = 0;

	s.tunnel = kind;
	s.tun_port = htons(6080);
	if (prefix) {
		s.tun_src.family = (uint8_t)family;
		s.tun_src.plen = family == 4 ? 16 : 64;
		addr(s.tun_src.addr, family == 4 ? "172.16.0.0" : "2001:db8:ffff::");
	}
	fl.e = mk_engine(1024);
	install(fl.e, &s, 1);
	st = dp_engine_stats(fl.e);

	for (int conn = 0; conn < 8; conn++) {
		c.port = (uint16_t)(40000 + conn);
		for (int k = 0; k < 2; k++) {
			fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, k ? PG_ACK :
			    PG_SYN, 1000 + (uint32_t)k, k ? 5001 : 0, NULL, 0);
			/* DSCP EF, ECT(0); IPv4 without DF on the ACK */
			if (family == 4) {
				fl.f[15] = 0xba;
				if (k)
					fl.f[20] = 0;
				fl.f[24] = fl.f[25] = 0;
				pg_put16(fl.f + 24, pg_fold(pg_sum(fl.f + 14, 20, 0)));
			} else {
				fl.f[14] = 0x6b;
				fl.f[15] = (uint8_t)(0xa0 | (fl.f[15] & 0x0f));
			}
			memcpy(orig, fl.f, fl.n);
			in_len = fl.n - 14;
			run(&fl, 0, (uint32_t)(conn * 10 + k));
			expect_tx(&fl, 1, mac_be[0], mac_if1);
			assert_int_equal(fl.v.len, fl.n + hl);
			/* The packet inside, as the client sent it. */
			assert_memory_equal(fl.f + 14 + hl, orig + 14, in_len);
			o = fl.f + 14;
			assert_memory_equal(pg_dst_of(o), ob.addr, family == 4 ? 4 : 16);
			if (family == 4) {
				assert_int_equal(o[0], 0x45);
				assert_int_equal(o[1], 0xba);
				assert_int_equal(o[2] << 8 | o[3], in_len + hl);
				assert_int_equal(o[6], k ? 0 : 0x40);
				/* no DF: the inner id, else 0 */
				assert_int_equal(o[4] << 8 | o[5], k ? pg_ipid : 0);
				assert_int_equal(o[8], 64);
				assert_int_equal(o[9], kind == DP_TUN_GUE ? 17 : 4);
			} else {
				assert_int_equal(o[0], 0x6b);
				assert_int_equal(o[1] >> 4, 0xa);
				assert_int_equal(o[4] << 8 | o[5], in_len);
				assert_int_equal(o[6], 41);
				assert_int_equal(o[7], 64);
			}
			if (kind == DP_TUN_GUE) {
				const uint8_t *u = o + 20;
				uint16_t sp = (uint16_t)(u[0] << 8 | u[1]);

				assert_true(sp >= 0xc000);
				assert_int_equal(u[2] << 8 | u[3], 6080);
				assert_int_equal(u[4] << 8 | u[5], in_len + 8);
				assert_int_equal(u[6] << 8 | u[7], 0);
				if (k)
					assert_int_equal(sp, sport0);
				else {
					diff += conn > 0 && sp != sport0;
					sport0 = sp;
				}
			}
			if (!prefix)
				assert_memory_equal(pg_src_of(o), oo.addr,
				    family == 4 ? 4 : 16);
			else {
				const uint8_t *a = pg_src_of(o);

				/* in the prefix, the same for the flow */
				assert_memory_equal(a, s.tun_src.addr, family == 4 ?
				    2 : 8);
				if (k)
					assert_memory_equal(a, src0, family == 4 ? 4 : 16);
				else {
					diff += conn > 0 && memcmp(a, src0,
					    family == 4 ? 4 : 16) != 0;
					memcpy(src0, a, 16);
				}
			}
		}
	}
	/* Eight flows spread over several outer sources or source ports. */
	if (prefix || kind == DP_TUN_GUE)
		assert_true(diff >= 4);

	/* 1500 bytes fit the link, not once wrapped: dropped, and the client
	 * learns the MTU less the tunnel's header. */
	memset(big, 'x', sizeof(big));
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1001, 5001, big,
	    1500 - (family == 4 ? 40 : 60));
	run(&fl, 0, 100);
	assert_int_equal(fl.v.action, DP_TX);
	assert_int_equal(fl.v.ifidx, 0);
	assert_int_equal(st->drops[DP_DROP_TOO_BIG], 1);
	o = fl.f + 14;
	if (family == 4)
		assert_int_equal(o[26] << 8 | o[27], 1500 - hl);
	else
		assert_int_equal((uint32_t)o[46] << 8 | o[47], 1500 - hl);
	dp_engine_free(fl.e);
}

static void test_tunnel_ipip_v4(void **s) { tunnel_flow(4, DP_TUN_IPIP, false); }
static void test_tunnel_ipip_v6(void **s) { tunnel_flow(6, DP_TUN_IPIP, false); }
static void test_tunnel_gue_v4(void **s) { tunnel_flow(4, DP_TUN_GUE, false); }
static void test_tunnel_ipip_src_v4(void **s) { tunnel_flow(4, DP_TUN_IPIP, true); }
static void test_tunnel_ipip_src_v6(void **s) { tunnel_flow(6, DP_TUN_IPIP, true); }
static void test_tunnel_gue_src_v4(void **s) { tunnel_flow(4, DP_TUN_GUE, true); }

static void
test_udp_zero_checksum(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 5353), v = pg_ep("198.51.100.10", 53);
	struct dp_service s = mk_service(4, 17, 53, DP_MODE_SNAT, DP_SCHED_RR, 1, 5300);

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_udp(fl.f, mac_if0, mac_gw, &c, &v, "q", 1, true);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	assert_int_equal(fl.f[14 + 20 + 6], 0);		/* stays "no checksum" */
	assert_int_equal(fl.f[14 + 20 + 7], 0);
	fl.n = pg_udp(fl.f, mac_if0, mac_gw, &c, &v, "q", 1, false);
	run(&fl, 0, 1);					/* same flow, with csum */
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 1);
	dp_engine_free(fl.e);
}

static void
test_no_entry_and_not_ours(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct pg_ep other = pg_ep("198.51.100.10", 22);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	/* A mid-stream segment with no entry is dropped, not scheduled. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1, 1, NULL, 0);
	run(&fl, 0, 0);
	assert_int_equal(fl.v.action, DP_DROP);
	assert_int_equal(fl.v.reason, DP_DROP_NO_CONN);
	/* Another port of the VIP, ARP, ping: the kernel's. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &other, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	assert_int_equal(fl.v.action, DP_PASS);
	memset(fl.f, 0, 60);
	fl.f[12] = 0x08;
	fl.f[13] = 0x06;
	fl.n = 60;
	run(&fl, 0, 0);
	assert_int_equal(fl.v.action, DP_PASS);
	/* A malformed frame is dropped with its reason and counted. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	fl.f[14] = 0x43;
	run(&fl, 0, 0);
	assert_int_equal(fl.v.reason, DP_DROP_BAD_IHL);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_BAD_IHL], 1);

	/* Stateless opt-in: with maglev, the segment goes where the hash says. */
	dp_engine_free(fl.e);
	fl.e = mk_engine(64);
	s = mk_service(4, 6, 80, DP_MODE_DSR, DP_SCHED_MAGLEV, 3, 80);
	s.stateless = true;
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1, 1, NULL, 0);
	run(&fl, 0, 0);
	assert_int_equal(fl.v.action, DP_TX);
	dp_engine_free(fl.e);
}

/* Which backend (0..2) a DSR frame went to, by its destination MAC. */
static int
dsr_backend(const struct flow *fl)
{
	for (int i = 0; i < 3; i++)
		if (fl->v.action == DP_TX && memcmp(fl->f, mac_be[i], 6) == 0)
			return i;
	return -1;
}

/* sh, maglev and a stateless service's mid-stream segments hash with the
 * scheduling seed alone: an engine with another table seed (a restarted
 * lbd, the peer after a failover) sends every flow to the same backend;
 * another hash-seed moves flows. */
static void
test_sched_seed_stable(void **state)
{
	enum dp_sched kinds[2] = { DP_SCHED_MAGLEV, DP_SCHED_SH };
	struct pg_ep v = pg_ep("198.51.100.10", 80);

	for (int k = 0; k < 2; k++) {
		struct flow a, b, c;
		struct dp_service s[3];
		int moved = 0;

		for (int i = 0; i < 3; i++) {	/* each engine owns its copy */
			s[i] = mk_service(4, 6, 80, DP_MODE_DSR, kinds[k], 3, 80);
			s[i].stateless = true;
		}
		topo_seed = 1;
		a.e = mk_engine(1024);
		topo_seed = 2;
		b.e = mk_engine(1024);
		topo_sched_seed = 77;
		c.e = mk_engine(1024);
		topo_seed = TOPO_SEED;
		topo_sched_seed = 0;
		install(a.e, &s[0], 1);
		install(b.e, &s[1], 1);
		install(c.e, &s[2], 1);
		for (uint16_t port = 1024; port < 1024 + 300; port++) {
			char ip[32];
			struct pg_ep cl;

			snprintf(ip, sizeof(ip), "203.0.%u.%u", port % 7, port % 250);
			cl = pg_ep(ip, port);
			/* sh hashes the client address; maglev the 5-tuple. */
			a.n = pg_tcp(a.f, mac_if0, mac_gw, &cl, &v, PG_ACK, 1, 1,
			    NULL, 0);
			memcpy(b.f, a.f, a.n);
			memcpy(c.f, a.f, a.n);
			b.n = c.n = a.n;
			run(&a, 0, 0);
			run(&b, 0, 0);
			run(&c, 0, 0);
			assert_true(dsr_backend(&a) >= 0);
			assert_int_equal(dsr_backend(&a), dsr_backend(&b));
			moved += dsr_backend(&a) != dsr_backend(&c);
		}
		/* Another hash-seed is another mapping (about 2/3 move). */
		assert_true(moved > 100);
		dp_engine_free(a.e);
		dp_engine_free(b.e);
		dp_engine_free(c.e);
	}
}

static void
test_fragments_dropped(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	fl.f[14 + 6] = 0x00;
	fl.f[14 + 7] = 0x20;		/* a later fragment to the VIP */
	fl.f[14 + 10] = fl.f[14 + 11] = 0;
	pg_put16(fl.f + 14 + 10, pg_fold(pg_sum(fl.f + 14, 20, 0)));
	run(&fl, 0, 0);
	assert_int_equal(fl.v.action, DP_DROP);
	assert_int_equal(fl.v.reason, DP_DROP_FRAGMENT);
	dp_engine_free(fl.e);
}

/* A SYN from a client of its own, to the one backend at port 80; returns
 * the SNAT port the engine gave it (0 if none). */
static uint16_t
snat_syn(struct flow *fl, const struct pg_ep *v, uint32_t i, uint32_t now)
{
	struct pg_ep c = pg_ep("203.0.113.5", 0);

	c.addr[2] = (uint8_t)(i >> 16);
	c.addr[3] = (uint8_t)(i >> 8);
	c.port = (uint16_t)(1024 + (i & 0xff));
	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, &c, v, PG_SYN, 1, 0, NULL, 0);
	run(fl, 0, now);
	if (fl->v.action != DP_TX || fl->f[14 + 20 + 13] != PG_SYN)
		return 0;
	return (uint16_t)(fl->f[14 + 20] << 8 | fl->f[14 + 20 + 1]);
}

/* The SYN-ACK and the ACK that complete snat_syn()'s connection. */
static void
snat_establish(struct flow *fl, const struct pg_ep *v, uint32_t i,
    uint16_t port, uint32_t now)
{
	struct pg_ep c = pg_ep("203.0.113.5", 0), b = pg_ep("10.0.0.11", 80);
	struct pg_ep to = pg_ep("10.0.0.200", port);

	c.addr[2] = (uint8_t)(i >> 16);
	c.addr[3] = (uint8_t)(i >> 8);
	c.port = (uint16_t)(1024 + (i & 0xff));
	fl->n = pg_tcp(fl->f, mac_if1, mac_be[0], &b, &to, PG_SYN | PG_ACK, 9, 2,
	    NULL, 0);
	run(fl, 1, now);
	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, &c, v, PG_ACK, 2, 10, NULL, 0);
	run(fl, 0, now);
}

/*
 * max-conns counts a backend's open connections, not the closing ones in
 * the table: when every backend is full a SYN is answered with a RST and
 * counted as backends_full; a connection that closes makes room at once,
 * though its entry stays (TIME_WAIT, CLOSE) until its timeout.
 */
static void
test_max_conns_counts_open(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80), c[5];
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR,
	    2, 80);
	const struct dp_service *sv;
	uint32_t n;

	s.b[0].max_conns = s.b[1].max_conns = 2;
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	for (int i = 0; i < 5; i++) {
		c[i] = pg_ep("203.0.113.5", (uint16_t)(2000 + i));
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c[i], &v, PG_SYN, 1, 0,
		    NULL, 0);
		run(&fl, 0, 0);
		if (i < 4) {
			assert_int_equal(fl.v.action, DP_TX);
			assert_int_equal(fl.f[14 + 20 + 13], PG_SYN);
		}
	}
	/* The fifth: both backends hold two. */
	assert_int_equal(fl.v.action, DP_TX);
	assert_int_equal(fl.f[14 + 20 + 13], PG_RST | PG_ACK);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_BACKENDS_FULL], 1);
	sv = dp_engine_services(fl.e, &n);
	assert_int_equal(sv[0].b[0].open, 2);
	assert_int_equal(sv[0].b[1].open, 2);

	/* The first client resets its connection: its backend has room, the
	 * entry is still there. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c[0], &v, PG_RST | PG_ACK, 2, 0,
	    NULL, 0);
	run(&fl, 0, 10);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 4);
	assert_int_equal(sv[0].b[0].open + sv[0].b[1].open, 3);
	assert_int_equal(sv[0].b[0].active + sv[0].b[1].active, 4);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c[4], &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 20);
	assert_int_equal(fl.v.action, DP_TX);
	assert_int_equal(fl.f[14 + 20 + 13], PG_SYN);
	assert_int_equal(sv[0].b[0].open + sv[0].b[1].open, 4);

	/* Every entry times out (embryonic and closed alike): both counts
	 * come back to 0. */
	dp_expire(fl.e, 60 * 1000, 1000);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 0);
	assert_int_equal(sv[0].b[0].active + sv[0].b[1].active, 0);
	assert_int_equal(sv[0].b[0].open + sv[0].b[1].open, 0);
	dp_engine_free(fl.e);
}

/* A SYN from addr:port to the VIP: true when it was forwarded. */
static bool
syn_from(struct flow *fl, const char *addr, uint16_t port, uint32_t now)
{
	struct pg_ep v = pg_ep("198.51.100.10", 80), c = pg_ep(addr, port);

	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(fl, 0, now);
	return fl->v.action == DP_TX && fl->f[14 + 20 + 13] == PG_SYN;
}

/* allow: other clients are dropped without a word; limit: each client
 * address its own bucket of burst, refilled at the rate. */
static void
test_allow_and_rate_limit(void **state)
{
	struct flow fl;
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR,
	    2, 80);
	const struct dp_stats *st;
	int ok = 0;

	s.allow = calloc(2, sizeof(*s.allow));
	s.n_allow = 2;
	s.allow[0] = (struct dp_prefix){ .family = 4, .plen = 25 };
	addr(s.allow[0].addr, "203.0.113.0");
	s.allow[1] = (struct dp_prefix){ .family = 4, .plen = 32 };
	addr(s.allow[1].addr, "192.0.2.7");
	s.limit_rate = 10;
	s.limit_burst = 5;
	fl.e = mk_engine(1024);
	install(fl.e, &s, 1);
	st = dp_engine_stats(fl.e);

	assert_false(syn_from(&fl, "203.0.113.200", 1000, 0));
	assert_int_equal(fl.v.action, DP_DROP);	/* no RST */
	assert_false(syn_from(&fl, "192.0.2.8", 1000, 0));
	assert_int_equal(st->drops[DP_DROP_NOT_ALLOWED], 2);

	/* The burst, then nothing until tokens come back: 10/s is one per
	 * 100 ms. */
	for (int i = 0; i < 20; i++)
		ok += syn_from(&fl, "203.0.113.5", (uint16_t)(2000 + i), 0);
	assert_int_equal(ok, 5);
	assert_int_equal(st->drops[DP_DROP_RATE_LIMITED], 15);
	assert_false(syn_from(&fl, "203.0.113.5", 3000, 99));
	/* 200 ms: two tokens came back (the refusal at 99 took none). */
	assert_true(syn_from(&fl, "203.0.113.5", 3001, 200));
	assert_true(syn_from(&fl, "203.0.113.5", 3002, 200));
	assert_false(syn_from(&fl, "203.0.113.5", 3003, 200));
	/* Another client has its own bucket. */
	assert_true(syn_from(&fl, "192.0.2.7", 1000, 200));
	/* A client idle for a minute is back to its whole burst, no more. */
	ok = 0;
	for (int i = 0; i < 10; i++)
		ok += syn_from(&fl, "203.0.113.5", (uint16_t)(4000 + i), 60000);
	assert_int_equal(ok, 5);
	dp_engine_free(fl.e);
}

static void
test_snat_exhaustion_sends_rst(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 1, 80);
	const uint32_t ports = 65535 - 1024 + 1;

	fl.e = mk_engine(ports + 100);
	install(fl.e, &s, 1);
	for (uint32_t i = 0; i < ports; i++) {
		uint16_t port = snat_syn(&fl, &v, i, 0);
		assert_int_not_equal(port, 0);
		snat_establish(&fl, &v, i, port, 0);
		assert_int_equal(fl.v.action, DP_TX);
	}
	assert_int_equal(dp_engine_ct(fl.e)->stats.proven, ports);
	/* The pool is exhausted by proven connections: the next SYN is
	 * answered with a RST, and no port was handed out twice (every
	 * entry still has its own). */
	struct pg_ep c = pg_ep("203.0.113.250", 4242);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 777, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	assert_int_equal(fl.f[14 + 20 + 13], PG_RST | PG_ACK);
	expect_ep(&fl, true, "198.51.100.10", 80);
	expect_ep(&fl, false, "203.0.113.250", 4242);
	uint32_t ackno;
	memcpy(&ackno, fl.f + 14 + 20 + 8, 4);
	assert_int_equal(ntohl(ackno), 778);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_SNAT_EXHAUSTED], 1);
	assert_int_equal(dp_engine_stats(fl.e)->rst_sent, 1);
	assert_int_equal(dp_engine_stats(fl.e)->snat_reclaimed, 0);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, ports);
	dp_engine_free(fl.e);
}

/* A SYN flood through one SNAT address and backend takes every port long
 * before the table fills: a new SYN takes back the port of the oldest
 * half-open entry instead of being reset, and a proven connection keeps
 * its own. */
static void
test_snat_reclaims_from_flood(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 1, 80);
	const uint32_t ports = 65535 - 1024 + 1;
	const struct ct_table *ct;
	uint16_t p0, p1;

	fl.e = mk_engine(2 * ports);
	install(fl.e, &s, 1);
	ct = dp_engine_ct(fl.e);
	p0 = snat_syn(&fl, &v, 0, 0);		/* a real client, first */
	snat_establish(&fl, &v, 0, p0, 0);
	p1 = snat_syn(&fl, &v, 1, 1);		/* the oldest of the flood */
	for (uint32_t i = 2; i < ports; i++)
		assert_int_not_equal(snat_syn(&fl, &v, i, 2), 0);
	assert_int_equal(ct->stats.active, ports);
	for (uint32_t i = ports; i < ports + 10; i++) {
		/* Ports of the oldest half-open entries, in turn. */
		uint16_t p = snat_syn(&fl, &v, i, 3);
		assert_int_not_equal(p, 0);
		if (i == ports)
			assert_int_equal(p, p1);
		assert_int_not_equal(p, p0);
	}
	assert_int_equal(dp_engine_stats(fl.e)->snat_reclaimed, 10);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_SNAT_EXHAUSTED], 0);
	assert_int_equal(ct->stats.active, ports);
	assert_int_equal(ct->stats.by_state[CT_ESTABLISHED], 1);
	dp_engine_free(fl.e);
}

/* ---- floods: spoofed entries are unproven, and unproven ones go first -- */

/* Spoofed client `i` of a flood (198.18.0.0/15, any port). */
static struct pg_ep
spoofed(uint32_t i)
{
	struct pg_ep c = pg_ep("198.18.0.0", 0);

	c.addr[1] = (uint8_t)(18 + ((i >> 24) & 1));
	c.addr[2] = (uint8_t)(i >> 16);
	c.addr[3] = (uint8_t)(i >> 8);
	c.port = (uint16_t)(1024 + (i & 0xff));
	return c;
}

static bool
in_table(struct dp_engine *e, const struct pg_ep *c, const struct pg_ep *v,
    uint8_t proto)
{
	struct dp_tuple t;
	enum ct_dir d;

	memset(&t, 0, sizeof(t));
	memcpy(t.src, c->addr, 16);
	memcpy(t.dst, v->addr, 16);
	t.sport = htons(c->port);
	t.dport = htons(v->port);
	t.proto = proto;
	t.family = 4;
	return ct_lookup(dp_engine_ct(e), &t, &d) != CT_NIL;
}

/* A 64-entry engine with service `s`; its table. */
static const struct ct_table *
flood_rig(struct flow *fl, struct dp_service *s)
{
	fl->e = mk_engine(64);
	install(fl->e, s, 1);
	return dp_engine_ct(fl->e);
}

/* A routed client's whole handshake; the backend's ISN is 5000. */
static void
handshake(struct flow *fl, const struct pg_ep *c, const struct pg_ep *v,
    uint32_t now)
{
	struct dp_engine *e = fl->e;
	struct pg_ep b;

	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, c, v, PG_SYN, 100, 0, NULL, 0);
	run(fl, 0, now);
	assert_int_equal(fl->v.action, DP_TX);
	b = pg_ep("0.0.0.0", 0);
	memcpy(b.addr, fl->f + 14 + 16, 4);		/* the backend it chose */
	b.port = (uint16_t)(fl->f[14 + 20 + 2] << 8 | fl->f[14 + 20 + 3]);
	fl->n = pg_tcp(fl->f, mac_if1, mac_be[0], &b, c, PG_SYN | PG_ACK, 5000,
	    101, NULL, 0);
	run(fl, 1, now);
	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, c, v, PG_ACK, 101, 5001, NULL, 0);
	run(fl, 0, now);
	assert_int_equal(fl->v.action, DP_TX);
	(void)e;
}

/* A spoofed SYN and a bare ACK (its sequence number fitting the SYN's, the
 * acknowledgment a guess) for each of 2,000 sources against a 64-entry
 * table: none is established, and a real client's connection is made and
 * kept throughout. */
static void
test_flood_syn_ack_routed(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80), real = pg_ep("203.0.113.9", 5555);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 3, 80);
	const struct ct_table *ct;

	ct = flood_rig(&fl, &s);
	for (uint32_t i = 0; i < 2000; i++) {
		struct pg_ep c = spoofed(i);

		if (i == 1000)
			handshake(&fl, &real, &v, 10);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 7, 0, NULL, 0);
		run(&fl, 0, 10);
		assert_int_equal(fl.v.action, DP_TX);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1234, NULL, 0);
		run(&fl, 0, 10);
	}
	assert_int_equal(ct->stats.by_state[CT_ESTABLISHED], 1);
	assert_int_equal(ct->stats.proven, 1);
	assert_int_equal(ct->stats.full, 0);
	assert_true(in_table(fl.e, &real, &v, 6));
	assert_int_equal(ct->stats.active, 64);
	dp_engine_free(fl.e);
}

/* One datagram from each of 2,000 spoofed sources: unreplied entries are
 * evicted in turn, and expire after udp-unreplied; a flow with a reply is
 * proven and stays. */
static void
test_flood_udp(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 53), real = pg_ep("203.0.113.9", 5353);
	struct pg_ep b = pg_ep("10.0.0.11", 53);
	struct dp_service s = mk_service(4, 17, 53, DP_MODE_ROUTED, DP_SCHED_RR, 1, 53);
	const struct ct_table *ct;

	ct = flood_rig(&fl, &s);
	fl.n = pg_udp(fl.f, mac_if0, mac_gw, &real, &v, "q", 1, false);
	run(&fl, 0, 0);
	fl.n = pg_udp(fl.f, mac_if1, mac_be[0], &b, &real, "a", 1, false);
	run(&fl, 1, 0);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	assert_int_equal(ct->stats.proven, 1);
	for (uint32_t i = 0; i < 2000; i++) {
		struct pg_ep c = spoofed(i);

		fl.n = pg_udp(fl.f, mac_if0, mac_gw, &c, &v, "x", 1, false);
		run(&fl, 0, 1);
		assert_int_equal(fl.v.action, DP_TX);
	}
	assert_true(in_table(fl.e, &real, &v, 17));
	assert_int_equal(ct->stats.evicted, 2000 - 63);
	assert_int_equal(ct->stats.active, 64);
	/* Unreplied: gone after 30 s; the proven flow has its five minutes. */
	dp_expire(fl.e, 30 * 1000 + 1, 100000);
	assert_int_equal(ct->stats.active, 1);
	assert_true(in_table(fl.e, &real, &v, 17));
	dp_engine_free(fl.e);
}

/* dsr: lbd never sees the replies. A flood whose ACK fits its SYN is
 * established but unproven, and evicted first; a client still sending a
 * probation later is proven and kept. */
static void
test_flood_dsr(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80), real = pg_ep("203.0.113.9", 5555);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_DSR, DP_SCHED_RR, 3, 80);
	const struct ct_table *ct;

	ct = flood_rig(&fl, &s);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &real, &v, PG_SYN, 100, 0, NULL, 0);
	run(&fl, 0, 0);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &real, &v, PG_ACK, 101, 77, NULL, 0);
	run(&fl, 0, 0);
	assert_int_equal(ct->stats.by_state[CT_ESTABLISHED], 1);
	assert_int_equal(ct->stats.proven, 0);
	for (uint32_t i = 0; i < 2000; i++) {
		struct pg_ep c = spoofed(i);
		uint32_t now = 10 + i;

		if (i == 40) {		/* the client goes on, 1 s in */
			fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &real, &v,
			    PG_ACK | PG_PSH, 101, 77, "GET", 3);
			run(&fl, 0, CT_PROBATION_MS);
			assert_int_equal(fl.v.action, DP_TX);
			now = CT_PROBATION_MS;
		}
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 7, 0, NULL, 0);
		run(&fl, 0, now);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1, NULL, 0);
		run(&fl, 0, now);
		assert_int_equal(fl.v.action, DP_TX);
	}
	assert_int_equal(ct->stats.proven, 1);
	assert_true(in_table(fl.e, &real, &v, 6));
	assert_int_equal(ct->stats.full, 0);
	assert_int_equal(ct->stats.active, 64);
	dp_engine_free(fl.e);
}

/* A stateless dsr service: a spoofed ACK makes an unproven entry that the
 * next one may evict; with the table full of proven connections a segment
 * is still forwarded by hash, to the backend its entry would have had. */
static void
test_flood_stateless_ack(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_DSR, DP_SCHED_MAGLEV, 3, 80);
	const struct ct_table *ct;
	int want[200];

	s.stateless = true;
	ct = flood_rig(&fl, &s);
	for (uint32_t i = 0; i < 2000; i++) {
		struct pg_ep c = spoofed(i);

		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1, NULL, 0);
		run(&fl, 0, 10);
		assert_int_equal(fl.v.action, DP_TX);
		if (i < 200)
			want[i] = dsr_backend(&fl);
	}
	assert_int_equal(ct->stats.evicted, 2000 - 64);
	assert_int_equal(ct->stats.proven, 0);
	/* 64 long-lived connections, each seen again a probation later. */
	for (uint32_t i = 0; i < 64; i++) {
		struct pg_ep c = pg_ep("203.0.113.9", (uint16_t)(6000 + i));

		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1, NULL, 0);
		run(&fl, 0, 20);
	}
	for (uint32_t i = 0; i < 64; i++) {
		struct pg_ep c = pg_ep("203.0.113.9", (uint16_t)(6000 + i));

		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1, NULL, 0);
		run(&fl, 0, 20 + CT_PROBATION_MS);
	}
	assert_int_equal(ct->stats.proven, 64);
	/* Full of proven entries: the flood's packets still go where the hash
	 * says, unrecorded; the 64 connections are untouched. */
	for (uint32_t i = 0; i < 200; i++) {
		struct pg_ep c = spoofed(i);

		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 8, 1, NULL, 0);
		run(&fl, 0, 30 + CT_PROBATION_MS);
		assert_int_equal(dsr_backend(&fl), want[i]);
	}
	assert_int_equal(dp_engine_stats(fl.e)->stateless_unrecorded, 200);
	assert_int_equal(ct->stats.active, 64);
	assert_int_equal(ct->stats.proven, 64);
	dp_engine_free(fl.e);
}

/* ---- RSTs: only where the sender is (RFC 5961) ---------------------------- */

/* An off-path sender that knows the 4-tuple but not the sequence numbers
 * cannot end a connection, nor move it with a SYN after its RST; the RSTs
 * of the ends themselves, from where they are, still work. */
static void
test_rst_window(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.9", 5555), v = pg_ep("198.51.100.10", 80);
	struct pg_ep b;
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 3, 80);
	const struct ct_table *ct;
	uint8_t be0[4];
	char pay[1000];

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	ct = dp_engine_ct(fl.e);
	handshake(&fl, &c, &v, 0);		/* client next 101, backend 5001 */
	memcpy(be0, fl.f + 14 + 16, 4);
	b = pg_ep("0.0.0.0", 80);
	memcpy(b.addr, be0, 4);
	/* 1,000 bytes each way: client next 1101, backend next 6001. */
	memset(pay, 'x', sizeof(pay));
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK | PG_PSH, 101, 5001,
	    pay, sizeof(pay));
	run(&fl, 0, 1);
	assert_int_equal(fl.v.action, DP_TX);
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &c, PG_ACK | PG_PSH, 5001, 1101,
	    pay, sizeof(pay));
	run(&fl, 1, 1);
	assert_int_equal(fl.v.action, DP_TX);
	/* Blind RSTs from either side: dropped, counted, nothing changes. */
	uint32_t blind[] = { 1101 + 70000, 1101 - 70000, 0x80000000u,
	    1101 + 0x10000000u };
	for (size_t i = 0; i < sizeof(blind) / sizeof(blind[0]); i++) {
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_RST, blind[i], 0,
		    NULL, 0);
		run(&fl, 0, 2);
		assert_int_equal(fl.v.action, DP_DROP);
		assert_int_equal(fl.v.reason, DP_DROP_RST_OUT_OF_WINDOW);
		fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &c, PG_RST,
		    blind[i] + 4900, 0, NULL, 0);
		run(&fl, 1, 2);
		assert_int_equal(fl.v.action, DP_DROP);
		assert_int_equal(fl.v.reason, DP_DROP_RST_OUT_OF_WINDOW);
	}
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_RST_OUT_OF_WINDOW], 8);
	assert_int_equal(ct->stats.by_state[CT_ESTABLISHED], 1);
	/* ... so the SYN that follows goes to the connection's backend, and
	 * is not scheduled afresh. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 777, 0, NULL, 0);
	run(&fl, 0, 3);
	assert_memory_equal(fl.f + 14 + 16, be0, 4);
	assert_int_equal(ct->stats.created, 1);
	/* The backend's own RST, from where it is (an ACK behind is fine):
	 * the connection closes, and a new SYN is a new connection. */
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &c, PG_RST, 6001 - 1000, 0,
	    NULL, 0);
	run(&fl, 1, 4);
	assert_int_equal(fl.v.action, DP_TX);
	assert_int_equal(ct->stats.by_state[CT_CLOSE], 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 9000, 0, NULL, 0);
	run(&fl, 0, 5);
	assert_int_equal(ct->stats.created, 2);
	/* A port closed to a client's SYN: the backend's RST acknowledges
	 * the SYN, and only that one closes the attempt. */
	struct pg_ep c2 = pg_ep("203.0.113.9", 6666);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_SYN, 40000, 0, NULL, 0);
	run(&fl, 0, 6);
	memcpy(b.addr, fl.f + 14 + 16, 4);
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &c2, PG_RST | PG_ACK, 0,
	    40001 + 100000, NULL, 0);
	run(&fl, 1, 6);
	assert_int_equal(fl.v.action, DP_DROP);
	assert_int_equal(fl.v.reason, DP_DROP_RST_OUT_OF_WINDOW);
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &c2, PG_RST | PG_ACK, 0, 40001,
	    NULL, 0);
	run(&fl, 1, 6);
	assert_int_equal(fl.v.action, DP_TX);
	assert_int_equal(ct->stats.by_state[CT_CLOSE], 1);	/* c's was reused */
	assert_int_equal(ct->stats.by_state[CT_SYN_SENT], 1);
	dp_engine_free(fl.e);
}

/* ICMP "fragmentation needed" / "packet too big" in both directions. */
static void
icmp_flow(int family, enum dp_mode mode)
{
	struct flow fl;
	const char *cli = family == 4 ? "203.0.113.5" : "2001:db8:c::5";
	const char *vip = family == 4 ? "198.51.100.10" : "2001:db8:f::10";
	const char *be = family == 4 ? "10.0.0.11" : "2001:db8:b::11";
	const char *snat = family == 4 ? "10.0.0.200" : "2001:db8:b::200";
	struct pg_ep c = pg_ep(cli, 40000), v = pg_ep(vip, 80);
	struct pg_ep rtr_front = pg_ep(family == 4 ? "192.0.2.1" : "2001:db8:99::1", 0);
	struct pg_ep rtr_back = pg_ep(family == 4 ? "10.0.0.254" : "2001:db8:b::fe", 0);
	struct dp_service s = mk_service(family, 6, 80, mode, DP_SCHED_RR, 1, 8080);
	uint8_t sent[2048];
	uint16_t sport;
	size_t hl = family == 4 ? 20 : 40;

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	memcpy(sent, fl.f, fl.v.len);		/* what lbd sent to the backend */
	sport = (uint16_t)(sent[14 + hl] << 8 | sent[14 + hl + 1]);

	/* 1. A router on the backend side cannot forward what we sent to the
	 *    backend: the error must reach the client, about client -> VIP. */
	struct pg_ep to = mode == DP_MODE_SNAT ? pg_ep(snat, 0) : c;
	fl.n = pg_icmp_toobig(fl.f, mac_if1, mac_be[0], &rtr_back, &to, 1280,
	    sent + 14, hl + 20);
	run(&fl, 1, 1);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	{
		const uint8_t *ip = fl.f + 14;
		const uint8_t *in = ip + hl + 8;
		struct pg_ep want = pg_ep(cli, 0);
		assert_memory_equal(pg_dst_of(ip), want.addr, family == 4 ? 4 : 16);
		struct pg_ep wv = pg_ep(vip, 0);
		assert_memory_equal(pg_src_of(in), want.addr, family == 4 ? 4 : 16);
		assert_memory_equal(pg_dst_of(in), wv.addr, family == 4 ? 4 : 16);
		assert_int_equal(in[hl] << 8 | in[hl + 1], 40000);
		assert_int_equal(in[hl + 2] << 8 | in[hl + 3], 80);
		/* the embedded TCP checksum was kept right too */
		assert_int_equal(pg_l4_verify(family, pg_src_of(in), pg_dst_of(in), 6,
		    in + hl, 20), 0);
	}

	/* 2. A router on the client side cannot forward the backend's reply
	 *    (which lbd sent from the VIP): the error must reach the backend,
	 *    about backend -> client (or SNAT address). */
	struct pg_ep b = pg_ep(be, 8080);
	struct pg_ep bto = mode == DP_MODE_SNAT ? pg_ep(snat, sport) : c;
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b, &bto, PG_SYN | PG_ACK, 9, 2,
	    NULL, 0);
	run(&fl, 1, 2);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	memcpy(sent, fl.f, fl.v.len);		/* VIP -> client */
	fl.n = pg_icmp_toobig(fl.f, mac_if0, mac_gw, &rtr_front, &v, 1280,
	    sent + 14, hl + 20);
	run(&fl, 0, 3);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	{
		const uint8_t *ip = fl.f + 14;
		const uint8_t *in = ip + hl + 8;
		struct pg_ep wb = pg_ep(be, 0), wt = mode == DP_MODE_SNAT ?
		    pg_ep(snat, 0) : pg_ep(cli, 0);
		assert_memory_equal(pg_dst_of(ip), wb.addr, family == 4 ? 4 : 16);
		assert_memory_equal(pg_src_of(in), wb.addr, family == 4 ? 4 : 16);
		assert_memory_equal(pg_dst_of(in), wt.addr, family == 4 ? 4 : 16);
		assert_int_equal(in[hl] << 8 | in[hl + 1], 8080);
		assert_int_equal(in[hl + 2] << 8 | in[hl + 3],
		    mode == DP_MODE_SNAT ? sport : 40000);
	}
	assert_int_equal(dp_engine_stats(fl.e)->icmp_translated, 2);

	/* An error about a connection we do not know is the kernel's. */
	struct pg_ep stranger = pg_ep(family == 4 ? "203.0.113.77" : "2001:db8:c::77", 1);
	fl.n = pg_tcp(sent, mac_if0, mac_gw, &v, &stranger, PG_ACK, 1, 1, NULL, 0);
	fl.n = pg_icmp_toobig(fl.f, mac_if0, mac_gw, &rtr_front, &v, 1280,
	    sent + 14, hl + 20);
	run(&fl, 0, 4);
	assert_int_equal(fl.v.action, DP_PASS);
	dp_engine_free(fl.e);
}

static void test_icmp_routed_v4(void **s) { icmp_flow(4, DP_MODE_ROUTED); }
static void test_icmp_routed_v6(void **s) { icmp_flow(6, DP_MODE_ROUTED); }
static void test_icmp_snat_v4(void **s) { icmp_flow(4, DP_MODE_SNAT); }
static void test_icmp_snat_v6(void **s) { icmp_flow(6, DP_MODE_SNAT); }

struct sent {
	int		n;
	uint16_t	ifidx[16];
	uint8_t		f[16][2048];
	uint32_t	len[16];
};

static void
record_sent(void *arg, uint16_t ifidx, const uint8_t *frame, uint32_t len)
{
	struct sent *s = arg;

	assert_true(s->n < 16 && len <= sizeof(s->f[0]));
	s->ifidx[s->n] = ifidx;
	s->len[s->n] = len;
	memcpy(s->f[s->n++], frame, len);
}

/*
 * A next hop without a MAC: the frame is never sent to a zero MAC; it is
 * held, resolution is asked for, and it leaves complete and in order once
 * the neighbour arrives. Bounds: per next hop, age, frame size.
 */
static void
test_neigh_unresolved_held(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);
	struct dp_resolve req[4];
	static struct sent out;
	uint8_t be[16], first[2048], big[1600] = { 0 };
	size_t first_n;

	addr(s.b[0].addr, "10.0.0.50");		/* no neighbour entry */
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 1000);
	assert_int_equal(fl.v.action, DP_HELD);
	assert_int_equal(fl.v.ifidx, 1);
	memcpy(first, fl.f, fl.n);
	first_n = fl.n;
	assert_int_equal(dp_resolve_requests(fl.e, req, 4), 1);
	assert_int_equal(req[0].ifidx, 1);
	assert_int_equal(req[0].addr[3], 50);
	assert_int_equal(dp_resolve_requests(fl.e, req, 4), 0);

	/* Too big for the egress MTU: refused as such (the sender is told,
	 * test_icmp_errors), never held. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1, 1, big,
	    sizeof(big));
	run(&fl, 0, 1000);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_TOO_BIG], 1);
	assert_int_equal(fl.f[14 + 9], 1);	/* an ICMP error instead */
	assert_int_equal(dp_held(fl.e), 1);

	/* More frames of the flow: held behind it, up to the per-hop bound
	 * (8), then dropped and counted. */
	for (uint32_t i = 1; i < 10; i++) {
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 1 + i, 1,
		    NULL, 0);
		run(&fl, 0, 1000 + i);
		if (i < 8)
			assert_int_equal(fl.v.action, DP_HELD);
		else {
			assert_int_equal(fl.v.action, DP_DROP);
			assert_int_equal(fl.v.reason, DP_DROP_NEIGH_UNRESOLVED);
		}
	}
	assert_int_equal(dp_held(fl.e), 8);

	/* Still unresolved: nothing leaves. */
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_release_held(fl.e, 1500, record_sent, &out), 8);
	assert_int_equal(out.n, 0);

	/* The neighbour arrives: all eight leave in arrival order, with its
	 * MAC and the egress interface's. */
	addr(be, "10.0.0.50");
	assert_int_equal(dp_set_neigh(fl.e, 4, be, 1, mac_be[2]), 0);
	assert_int_equal(dp_release_held(fl.e, 1600, record_sent, &out), 0);
	assert_int_equal(out.n, 8);
	for (int i = 0; i < 8; i++) {
		const uint8_t *tcp = out.f[i] + 14 + 20;

		assert_int_equal(out.ifidx[i], 1);
		assert_memory_equal(out.f[i], mac_be[2], 6);
		assert_memory_equal(out.f[i] + 6, mac_if1, 6);
		assert_null(pg_check(out.f[i], out.len[i]));
		/* sequence numbers 1, 2, ... 8: arrival order */
		assert_int_equal(tcp[7], i + 1);
	}
	/* Apart from the Ethernet addresses, the frame that left is the one
	 * the engine rewrote when it held it. */
	assert_int_equal(out.len[0], first_n);
	assert_memory_equal(out.f[0] + 12, first + 12, first_n - 12);
	assert_int_equal(dp_engine_stats(fl.e)->held, 8);
	assert_int_equal(dp_engine_stats(fl.e)->held_sent, 8);

	/* Another unresolved next hop whose answer never comes: dropped after
	 * DP_HOLD_MS and counted, against the service too. */
	dp_engine_free(fl.e);
	s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);
	addr(s.b[0].addr, "10.0.0.51");
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 2000);
	assert_int_equal(fl.v.action, DP_HELD);
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_release_held(fl.e, 2000 + DP_HOLD_MS - 1,
	    record_sent, &out), 1);
	assert_int_equal(dp_release_held(fl.e, 2000 + DP_HOLD_MS,
	    record_sent, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_NEIGH_UNRESOLVED], 1);
	{
		uint32_t ns;
		assert_int_equal(dp_engine_services(fl.e, &ns)[0].drops[
		    DP_DROP_NEIGH_UNRESOLVED], 1);
	}
	dp_engine_free(fl.e);
}

static void
test_reload_keeps_connections(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 2, 80);

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[0], mac_if1);

	/* New config: backend 0 removed, a new one added. The connection on
	 * the removed backend keeps forwarding (it drains); new connections
	 * avoid it. */
	struct dp_service s2 = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 3, 80);
	memmove(&s2.b[0], &s2.b[1], 2 * sizeof(s2.b[0]));
	s2.nb = 2;
	install(fl.e, &s2, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, NULL, 0);
	run(&fl, 0, 1);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	expect_ep(&fl, false, "10.0.0.11", 80);
	struct pg_ep c2 = pg_ep("203.0.113.6", 40000);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 1);
	expect_tx(&fl, 1, mac_be[1], mac_if1);
	/* The orphan's SNAT port is released when it expires. */
	assert_int_equal(dp_expire(fl.e, 3600 * 1000, 100), 2);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 0);
	dp_engine_free(fl.e);
}

static void
test_syn_reuses_closed_entry(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_RST, 2, 0, NULL, 0);
	run(&fl, 0, 1);
	assert_int_equal(dp_engine_ct(fl.e)->stats.by_state[CT_CLOSE], 1);
	/* Same client port again: a new connection, scheduled afresh. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 100, 0, NULL, 0);
	run(&fl, 0, 2);
	expect_tx(&fl, 1, mac_be[1], mac_if1);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 1);
	assert_int_equal(dp_engine_ct(fl.e)->stats.by_state[CT_SYN_SENT], 1);
	/* Closed by the client's FIN alone (dsr: the server's FIN passes
	 * lbd by), then the port again: scheduled afresh too. */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_FIN | PG_ACK, 101, 1,
	    NULL, 0);
	run(&fl, 0, 3);
	assert_int_equal(dp_engine_ct(fl.e)->stats.by_state[CT_FIN_WAIT], 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 200, 0, NULL, 0);
	run(&fl, 0, 4);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	assert_int_equal(dp_engine_ct(fl.e)->stats.by_state[CT_SYN_SENT], 1);
	dp_engine_free(fl.e);
}

/* A connection event of node A as node B gets it from ha-sync: the entry,
 * established. */
static struct ct_entry
mirror_of(const struct ct_event *ev)
{
	struct ct_entry ce;

	memset(&ce, 0, sizeof(ce));
	ce.t[0] = ev->t[0];
	ce.t[1] = ev->t[1];
	ce.state = CT_ESTABLISHED;
	ce.mode = ev->mode;
	ce.flags = ev->flags;
	return ce;
}

/* Which of the three backends (0..2) a routed SYN just went to. */
static int
routed_to(const struct flow *fl)
{
	return fl->f[14 + 16 + 3] - 11;
}

/*
 * persist: each client keeps its backend across connections (rr would
 * rotate them), a /24 netmask groups a network, a backend that goes down
 * releases its clients, the timeout counts from the last connection's
 * end, and a peer that only saw the connection mirrored sends the
 * client's next connection to the same backend.
 */
static void
test_persistence(void **state)
{
	struct flow fl, fl2;
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR,
	    3, 80);
	struct dp_service s2 = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR,
	    3, 80);
	const struct dp_stats *st;
	char a[32];
	int first[10];

	s.persist_ms = s2.persist_ms = 10000;
	s.persist_plen = s2.persist_plen = 32;
	fl.e = mk_engine(1024);
	install(fl.e, &s, 1);
	st = dp_engine_stats(fl.e);
	for (int c = 0; c < 10; c++) {
		snprintf(a, sizeof(a), "203.0.113.%d", 10 + c);
		for (int k = 0; k < 5; k++) {
			assert_true(syn_from(&fl, a, (uint16_t)(1000 + k), 0));
			if (k == 0)
				first[c] = routed_to(&fl);
			assert_int_equal(routed_to(&fl), first[c]);
		}
	}
	assert_int_equal(st->persist_hits, 40);
	assert_int_equal(st->persist_entries, 10);
	/* Spread: rr gave the ten clients all three backends. */
	assert_true(first[0] != first[1] && first[1] != first[2] &&
	    first[0] != first[2]);

	/* Client 0's backend goes down: it moves, and stays moved. */
	dp_backend_set(fl.e, 0, (uint32_t)first[0], false, 1, false);
	assert_true(syn_from(&fl, "203.0.113.10", 2000, 100));
	int moved = routed_to(&fl);
	assert_int_not_equal(moved, first[0]);
	dp_backend_set(fl.e, 0, (uint32_t)first[0], true, 1, false);
	assert_true(syn_from(&fl, "203.0.113.10", 2001, 100));
	assert_int_equal(routed_to(&fl), moved);

	/* Every connection ends (the SYN timeout at 10 s): persistence
	 * holds for 10 s after that, then the slot is free. */
	dp_expire(fl.e, 10200, 100000);
	assert_int_equal(dp_engine_ct(fl.e)->stats.active, 0);
	uint64_t hits = st->persist_hits;
	assert_true(syn_from(&fl, "203.0.113.11", 3000, 20000));
	assert_int_equal(routed_to(&fl), first[1]);
	assert_int_equal(st->persist_hits, hits + 1);
	assert_true(syn_from(&fl, "203.0.113.12", 3000, 20300));
	assert_int_equal(st->persist_hits, hits + 1);	/* timed out */
	dp_engine_free(fl.e);

	/* netmask /24: the network keeps one backend. */
	s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 3, 80);
	s.persist_ms = 10000;
	s.persist_plen = 24;
	fl.e = mk_engine(1024);
	install(fl.e, &s, 1);
	assert_true(syn_from(&fl, "203.0.113.10", 1000, 0));
	int net = routed_to(&fl);
	for (int c = 11; c < 20; c++) {
		snprintf(a, sizeof(a), "203.0.113.%d", c);
		assert_true(syn_from(&fl, a, 1000, 0));
		assert_int_equal(routed_to(&fl), net);
	}

	/* The peer: a mirrored connection of client .77 to backend 2 makes
	 * .77's next connection there go to backend 2 too. */
	struct ct_event ev[64];
	size_t nev;
	fl2.e = mk_engine(1024);
	install(fl2.e, &s2, 1);
	ct_events(dp_engine_ct(fl.e), ev, 64);
	assert_true(syn_from(&fl, "192.0.2.77", 1000, 0));
	nev = ct_events(dp_engine_ct(fl.e), ev, 64);
	assert_int_equal(nev, 1);
	struct ct_entry m = mirror_of(&ev[0]);
	int want = m.t[CT_REPLY].src[3] - 11;
	assert_int_equal(dp_insert_conn(fl2.e, &m, 0, 1), DP_SYNC_APPLIED);
	for (int k = 0; k < 3; k++) {
		assert_true(syn_from(&fl2, "192.0.2.77", (uint16_t)(5000 + k), 10));
		assert_int_equal(routed_to(&fl2), want);
	}
	dp_engine_free(fl.e);
	dp_engine_free(fl2.e);
}

/*
 * lbd as a router hop: a packet larger than its egress link is answered
 * with fragmentation needed / packet too big carrying the link's MTU, and
 * one whose TTL runs out with time exceeded; both from the ingress
 * interface's own address, to the sender, quoting the packet as it was
 * sent. Not for IPv4 without DF; at most 50 at once, then 1000/s.
 */
static void
test_icmp_errors(void **state)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct flow fl;
		struct pg_ep c = pg_ep(fam == 4 ? "203.0.113.5" : "2001:db8:c::5",
		    40000);
		struct pg_ep v = pg_ep(fam == 4 ? "198.51.100.10" :
		    "2001:db8:f::10", 80);
		struct dp_service s = mk_service(fam, 6, 80, DP_MODE_ROUTED,
		    DP_SCHED_RR, 1, 80);
		struct dp_iface i1 = { .ifindex = 2, .mtu = 1400 };
		uint8_t big[1400] = { 0 }, sent[2048];
		size_t hl = fam == 4 ? 20 : 40, sent_n;
		const struct dp_stats *st;
		uint32_t mtu;
		int n = 0;

		fl.e = mk_engine(64);
		install(fl.e, &s, 1);
		st = dp_engine_stats(fl.e);
		memcpy(i1.mac, mac_if1, 6);
		assert_int_equal(dp_set_iface(fl.e, 1, &i1), 0);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
		run(&fl, 0, 0);
		assert_int_equal(fl.v.action, DP_TX);

		/* 1400 bytes of payload: over 1400 on the back link. */
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, big,
		    sizeof(big));
		memcpy(sent, fl.f, fl.n);
		sent_n = fl.n;
		run(&fl, 0, 10);
		assert_int_equal(fl.v.action, DP_TX);
		assert_int_equal(fl.v.ifidx, 0);
		assert_memory_equal(fl.f, mac_gw, 6);
		assert_memory_equal(fl.f + 6, mac_if0, 6);
		expect_ep(&fl, true, fam == 4 ? "198.51.100.2" : "2001:db8:f::2", 0);
		if (fam == 4) {
			assert_int_equal(fl.f[14 + 9], 1);
			assert_int_equal(fl.f[14 + 20], 3);
			assert_int_equal(fl.f[14 + 21], 4);
			mtu = (uint32_t)(fl.f[14 + 26] << 8 | fl.f[14 + 27]);
			/* 576 bytes in all */
			assert_int_equal(fl.v.len, 14 + 576);
		} else {
			assert_int_equal(fl.f[14 + 6], 58);
			assert_int_equal(fl.f[14 + 40], 2);
			mtu = (uint32_t)fl.f[14 + 46] << 8 | fl.f[14 + 47];
			assert_int_equal(fl.v.len, 14 + 1280);
		}
		assert_int_equal(mtu, 1400);
		/* The quote is the packet as the client sent it. */
		assert_memory_equal(fl.f + 14 + hl + 8, sent + 14,
		    fl.v.len - 14 - hl - 8);
		assert_true(sent_n > fl.v.len);
		/* The checksum over the whole message is right. */
		if (fam == 4)
			assert_int_equal(csum_fold(csum_partial(fl.f + 14 + 20,
			    fl.v.len - 34, 0)), 0);
		assert_int_equal(st->drops[DP_DROP_TOO_BIG], 1);
		assert_int_equal(st->icmp_sent, 1);

		/* TTL 1: time exceeded. */
		pg_ttl = 1;
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, NULL, 0);
		pg_ttl = 64;
		run(&fl, 0, 20);
		assert_int_equal(fl.v.action, DP_TX);
		assert_int_equal(fl.f[14 + hl], fam == 4 ? 11 : 3);
		assert_int_equal(st->drops[DP_DROP_TTL_EXCEEDED], 1);

		/* The rate: a burst of 50, then one a millisecond (the two
		 * above took one each, 10 ms apart). */
		for (int i = 0; i < 100; i++) {
			fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1,
			    big, sizeof(big));
			run(&fl, 0, 20);
			n += fl.v.action == DP_TX;
		}
		assert_int_equal(n, 49);
		assert_int_equal(st->icmp_limited, 51);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, big,
		    sizeof(big));
		run(&fl, 0, 22);
		assert_int_equal(fl.v.action, DP_TX);

		/* IPv4 without DF: dropped, not answered. */
		if (fam == 4) {
			fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1,
			    big, sizeof(big));
			fl.f[14 + 6] &= (uint8_t)~0x40;
			fl.f[14 + 10] = fl.f[14 + 11] = 0;
			uint16_t hc = csum_fold(csum_partial(fl.f + 14, 20, 0));
			memcpy(fl.f + 14 + 10, &hc, 2);
			run(&fl, 0, 5000);
			assert_int_equal(fl.v.action, DP_DROP);
			assert_int_equal(fl.v.reason, DP_DROP_TOO_BIG);
		}
		dp_engine_free(fl.e);
	}
}

/*
 * Passive health: the engine reports (CT_EV_OBSERVE) a backend's RST to a
 * SYN and a client's SYN sent again unanswered after a retransmission's
 * time, once per connection; not a SYN repeated at once (a flood's), not a
 * connection the backend answered, not a service without observe.
 */
static void
test_observe_events(void **state)
{
	struct flow fl;
	struct pg_ep v = pg_ep("198.51.100.10", 80), be = pg_ep("10.0.0.11", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR,
	    1, 80);
	struct ct_event ev[16];
	size_t n, obs = 0;

	s.observe = true;
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	/* Refused: the backend answers the SYN with RST+ACK. */
	assert_true(syn_from(&fl, "203.0.113.5", 1000, 0));
	struct pg_ep c = pg_ep("203.0.113.5", 1000);
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &be, &c, PG_RST | PG_ACK, 0, 2,
	    NULL, 0);
	run(&fl, 1, 5);
	/* Unanswered: the same SYN 1 s later, and again. */
	assert_true(syn_from(&fl, "203.0.113.6", 1000, 10));
	assert_true(syn_from(&fl, "203.0.113.6", 1000, 1010));
	assert_true(syn_from(&fl, "203.0.113.6", 1000, 3010));
	/* At once: not counted. */
	assert_true(syn_from(&fl, "203.0.113.7", 1000, 20));
	assert_true(syn_from(&fl, "203.0.113.7", 1000, 30));
	n = ct_events(dp_engine_ct(fl.e), ev, 16);
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == CT_EV_OBSERVE) {
			obs++;
			assert_int_equal(ev[i].svc, 0);
			assert_int_equal(ev[i].backend, 0);
		}
	assert_int_equal(obs, 2);
	dp_engine_free(fl.e);

	/* Without observe: nothing. */
	s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	assert_true(syn_from(&fl, "203.0.113.6", 1000, 10));
	assert_true(syn_from(&fl, "203.0.113.6", 1000, 1010));
	n = ct_events(dp_engine_ct(fl.e), ev, 16);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(ev[i].type, CT_EV_OBSERVE);
	dp_engine_free(fl.e);
	(void)v;
}

static void
test_insert_mirrored(void **state)
{
	struct flow fl, fl2;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 2, 80);
	struct dp_service s2 = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 2, 80);
	struct ct_event ev[4];

	/* Node A makes a connection; node B takes A's event as a mirrored
	 * entry and then forwards the flow exactly as A did. */
	fl.e = mk_engine(64);
	fl2.e = mk_engine(64);
	install(fl.e, &s, 1);
	install(fl2.e, &s2, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	uint8_t a_out[2048];
	memcpy(a_out, fl.f, fl.v.len);
	assert_int_equal(ct_events(dp_engine_ct(fl.e), ev, 4), 1);
	struct ct_entry ce = mirror_of(&ev[0]);
	assert_int_equal(dp_insert_conn(fl2.e, &ce, 0, 1), 0);
	assert_int_equal(dp_insert_conn(fl2.e, &ce, 0, 1), DP_SYNC_EXISTS);	/* once */
	fl2.n = pg_tcp(fl2.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	fl2.f[14 + 20 + 13] = PG_ACK;
	fl2.f[14 + 20 + 16] = fl2.f[14 + 20 + 17] = 0;
	pg_put16(fl2.f + 14 + 20 + 16, pg_l4_verify(4, c.addr, v.addr, 6,
	    fl2.f + 14 + 20, 20));
	run(&fl2, 0, 1);
	expect_tx(&fl2, 1, mac_be[0], mac_if1);
	/* same backend, same SNAT address and port */
	assert_memory_equal(fl2.f + 14 + 12, a_out + 14 + 12, 8);
	assert_memory_equal(fl2.f + 14 + 20, a_out + 14 + 20, 4);
	assert_int_equal(dp_engine_ct(fl2.e)->stats.inserted, 1);
	dp_engine_free(fl.e);
	dp_engine_free(fl2.e);
}

/* A tunnelled dsr connection mirrored: after a failover the peer wraps
 * the flow's next packet byte for byte as this node did (the same outer
 * source of the prefix and GUE source port: the hash-seed is shared). */
static void
test_tunnel_mirrored(void **state)
{
	struct flow fl, fl2;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s[2];
	struct ct_event ev[4];
	uint8_t a_out[2048];

	for (int i = 0; i < 2; i++) {
		s[i] = mk_service(4, 6, 80, DP_MODE_DSR, DP_SCHED_RR, 3, 80);
		s[i].tunnel = DP_TUN_GUE;
		s[i].tun_port = htons(6080);
		s[i].tun_src.family = 4;
		s[i].tun_src.plen = 16;
		addr(s[i].tun_src.addr, "172.31.0.0");
	}
	topo_sched_seed = 7;
	fl.e = mk_engine(64);
	topo_seed = 99;			/* the table's own seed differs */
	fl2.e = mk_engine(64);
	topo_seed = TOPO_SEED;
	topo_sched_seed = 0;
	install(fl.e, &s[0], 1);
	install(fl2.e, &s[1], 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, "abc", 3);
	run(&fl, 0, 1);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	memcpy(a_out, fl.f, fl.v.len);
	assert_true(ct_events(dp_engine_ct(fl.e), ev, 4) >= 1);
	struct ct_entry ce = mirror_of(&ev[0]);
	assert_int_equal(dp_insert_conn(fl2.e, &ce, 0, 1), 0);
	fl2.n = pg_tcp(fl2.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, "abc", 3);
	run(&fl2, 0, 2);
	assert_int_equal(fl2.v.action, DP_TX);
	assert_int_equal(fl2.v.len, fl.v.len);
	assert_memory_equal(fl2.f, a_out, fl.v.len);
	dp_engine_free(fl.e);
	dp_engine_free(fl2.e);
}

/* The peer's records are checked against this node's configuration, and
 * never move one of this node's live connections elsewhere. */
static void
test_sync_refusals(void **state)
{
	struct flow fa, fb;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service sa = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 2, 80);
	struct dp_service sb = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 2, 80);
	struct ct_event ev[4];
	struct ct_entry good, x;
	struct ct_table *ct;
	enum ct_dir dir;
	uint32_t idx;

	fa.e = mk_engine(64);
	fb.e = mk_engine(64);
	install(fa.e, &sa, 1);
	install(fb.e, &sb, 1);
	fa.n = pg_tcp(fa.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fa, 0, 0);
	assert_int_equal(ct_events(dp_engine_ct(fa.e), ev, 4), 1);
	good = mirror_of(&ev[0]);
	ct = dp_engine_ct(fb.e);

	x = good;				/* another port of the VIP */
	x.t[CT_ORIG].dport = htons(81);
	assert_int_equal(dp_sync_upsert(fb.e, &x, 1, false, 1), DP_SYNC_NO_SERVICE);
	x = good;				/* the service runs snat here */
	x.mode = DP_MODE_ROUTED;
	x.flags &= (uint8_t)~CT_F_SNAT;
	assert_int_equal(dp_sync_upsert(fb.e, &x, 1, false, 1), DP_SYNC_MODE);
	x = good;				/* not a backend here */
	x.t[CT_REPLY].src[3] = 99;
	assert_int_equal(dp_sync_upsert(fb.e, &x, 1, false, 1), DP_SYNC_NO_BACKEND);
	x = good;				/* not in the snat-pool */
	x.t[CT_REPLY].dst[3] ^= 0x40;
	assert_int_equal(dp_sync_upsert(fb.e, &x, 1, false, 1),
	    DP_SYNC_SNAT_ADDRESS);
	x = good;				/* IPv6 tuple, IPv4 reply */
	x.t[CT_ORIG].family = 6;
	assert_int_equal(dp_sync_upsert(fb.e, &x, 1, false, 1), DP_SYNC_INVALID);
	assert_int_equal(ct->stats.active, 0);	/* none of those made one */

	/* B's own connection from the same client port, to its backend. */
	fb.n = pg_tcp(fb.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fb, 0, 2);
	expect_tx(&fb, 1, mac_be[0], mac_if1);
	idx = ct_lookup(ct, &good.t[CT_ORIG], &dir);
	assert_int_not_equal(idx, CT_NIL);
	/* The peer says it goes to the second backend: while B holds the
	 * VIP, refused, and the connection stays B's, where it was. */
	x = good;
	addr(x.t[CT_REPLY].src, be4[1]);
	assert_int_equal(dp_sync_upsert(fb.e, &x, 3, true, 1), DP_SYNC_OURS);
	assert_false(ct->e[idx].flags & CT_F_MIRRORED);
	{
		uint8_t b0[16];

		addr(b0, be4[0]);
		assert_memory_equal(ct->e[idx].t[CT_REPLY].src, b0, 16);
	}
	fb.n = pg_tcp(fb.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, NULL, 0);
	run(&fb, 0, 4);
	expect_tx(&fb, 1, mac_be[0], mac_if1);
	/* Once the VIP is the peer's (B let it go), the peer's word wins. */
	assert_int_equal(dp_sync_upsert(fb.e, &x, 5, false, 1), DP_SYNC_APPLIED);
	idx = ct_lookup(ct, &good.t[CT_ORIG], &dir);
	assert_true(ct->e[idx].flags & CT_F_MIRRORED);
	assert_memory_equal(ct->e[idx].t[CT_REPLY].src, x.t[CT_REPLY].src, 16);
	assert_string_equal(dp_sync_verdict_name(DP_SYNC_OURS), "ours");
	dp_engine_free(fa.e);
	dp_engine_free(fb.e);
}

/* A packet of a mirrored connection c -> v at `now`: forwarded to the
 * first backend, the entry is ours and the peer is told (CT_EV_NEW). */
static void
take_back(struct flow *fl, const struct pg_ep *c, const struct pg_ep *v,
    uint32_t seq, uint32_t now)
{
	struct ct_event ev[8];

	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, c, v, PG_ACK, seq, 0, NULL, 0);
	run(fl, 0, now);
	expect_tx(fl, 1, mac_be[0], mac_if1);
	assert_int_equal(ct_events(dp_engine_ct(fl->e), ev, 8), 1);
	assert_int_equal(ev[0].type, CT_EV_NEW);
	assert_false(ev[0].flags & CT_F_MIRRORED);
}

/* Two nodes with the same routed service: two connections (from `c` and
 * the next client) on fl's node, their entries as it mirrors them in *a
 * and *b; fl2 is the node they are mirrored to. */
static void
two_nodes(struct flow *fl, struct flow *fl2, const struct pg_ep *c,
    const struct pg_ep *v, struct ct_entry *a, struct ct_entry *b)
{
	static struct dp_service s, s2;
	struct pg_ep c2 = pg_ep("203.0.113.6", 40001);
	struct ct_event ev[8];

	s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);
	s2 = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);
	fl->e = mk_engine(64);
	fl2->e = mk_engine(64);
	install(fl->e, &s, 1);
	install(fl2->e, &s2, 1);
	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, c, v, PG_SYN, 1, 0, NULL, 0);
	run(fl, 0, 0);
	fl->n = pg_tcp(fl->f, mac_if0, mac_gw, &c2, v, PG_SYN, 1, 0, NULL, 0);
	run(fl, 0, 0);
	assert_int_equal(ct_events(dp_engine_ct(fl->e), ev, 8), 2);
	*a = mirror_of(&ev[0]);
	*b = mirror_of(&ev[1]);
}

/* ha-sync's side of the table: the peer's upserts and closes, renewal while
 * the peer vouches for its entries, mark and sweep around a bulk resync,
 * and a mirrored entry becoming ours when a packet arrives for it. */
static void
test_sync_mirrored(void **state)
{
	struct flow fl, fl2;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct ct_event ev[8];
	struct ct_entry a, b;
	struct ct_table *ct;
	enum ct_dir dir;
	uint32_t est = 0;

	two_nodes(&fl, &fl2, &c, &v, &a, &b);

	ct = dp_engine_ct(fl2.e);
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 10, false, 1), 0);
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 10, false, 1), 0);
	assert_int_equal(ct->stats.inserted, 2);
	assert_int_equal(ct_events(ct, ev, 8), 2);
	assert_true(ev[0].flags & CT_F_MIRRORED);	/* not to be sent back */
	/* Nonsense is refused. */
	a.state = CT_STATE__COUNT;
	assert_int_equal(dp_insert_conn(fl2.e, &a, 10, 1), DP_SYNC_INVALID);
	a.state = CT_ESTABLISHED;

	/* While the peer vouches, its entries outlive their timeout ... */
	ct->keep_mirrored = 1u << 1;
	est = ct->to.ms[CT_CLASS_EST];
	dp_expire(fl2.e, 10 + est + 1, 1000);
	assert_int_equal(ct->stats.active, 2);
	/* ... the peer's changes land (FIN seen) ... */
	a.state = CT_FIN_WAIT;
	a.flags = CT_F_FIN_ORIG;
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 20, false, 1), 0);
	assert_int_equal(ct->stats.by_state[CT_FIN_WAIT], 1);
	/* ... a bulk resync renews what the peer still has and drops what it
	 * closed meanwhile (b) ... */
	assert_int_equal(ct_mark_mirrored(ct, 1), 2);
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 30, false, 1), 0);
	assert_int_equal(ct_sweep_stale(ct, 1), 1);
	assert_int_equal(ct->stats.active, 1);
	assert_int_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);
	/* ... a close removes one. */
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 40, false, 1), 0);
	assert_int_equal(dp_sync_close(fl2.e, &b.t[0], 1), 0);
	assert_int_equal(dp_sync_close(fl2.e, &b.t[0], 1), DP_SYNC_NO_ENTRY);
	(void)ct_events(ct, ev, 8);

	/* Node B takes over: a packet of connection a makes it B's own and
	 * tells the (new) peer; it is forwarded to the same backend. */
	take_back(&fl2, &c, &v, 2, 50);
	/* Ours now: the peer cannot close it ... */
	assert_int_equal(dp_sync_close(fl2.e, &a.t[0], 1), DP_SYNC_OURS);
	/* ... until the peer forwards it again (failback): its word makes our
	 * entry its mirrored copy, which is not echoed back ... */
	a.state = CT_TIME_WAIT;
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 60, false, 1), 0);
	assert_int_equal(ct->stats.by_state[CT_TIME_WAIT], 1);
	assert_int_equal(ct_events(ct, ev, 8), 1);
	assert_true(ev[0].flags & CT_F_MIRRORED);
	/* ... a packet that still reaches us takes it back ... */
	take_back(&fl2, &c, &v, 3, 61);
	/* ... and once the peer has it again, its close removes it. */
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 62, false, 1), 0);
	assert_int_equal(dp_sync_close(fl2.e, &a.t[0], 1), 0);
	assert_int_equal(ct_lookup(ct, &a.t[0], &dir), CT_NIL);
	/* Without a peer to vouch, mirrored entries time out as usual. */
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 70, false, 1), 0);
	ct->keep_mirrored = 0;
	dp_expire(fl2.e, 70 + est + 1, 1000);
	assert_int_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);
	dp_engine_free(fl.e);
	dp_engine_free(fl2.e);
}

/* A cluster's mesh (N-way sync): each entry belongs to the peer that last
 * spoke of it. One peer's bulk renews and sweeps only its own, one peer's
 * silence ages only its own, and a close from a peer the connection has
 * moved away from leaves it. */
static void
test_sync_origins(void **state)
{
	struct flow fl, fl2;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct ct_event ev[8];
	struct ct_entry a, b;
	struct ct_table *ct;
	enum ct_dir dir;
	uint32_t est, idx;

	two_nodes(&fl, &fl2, &c, &v, &a, &b);
	a.state = b.state = CT_ESTABLISHED;

	/* a from peer 1, b from peer 2. */
	ct = dp_engine_ct(fl2.e);
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 10, false, 1), 0);
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 10, false, 2), 0);
	/* Peer 1's bulk, which does not have b, leaves b alone ... */
	assert_int_equal(ct_mark_mirrored(ct, 1), 1);
	assert_int_equal(ct_sweep_stale(ct, 1), 1);
	assert_int_equal(ct_lookup(ct, &a.t[0], &dir), CT_NIL);
	assert_int_not_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);
	/* ... and two bulks at once each sweep their own only. */
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 20, false, 1), 0);
	assert_int_equal(ct_mark_mirrored(ct, 1), 1);
	assert_int_equal(ct_mark_mirrored(ct, 2), 1);
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 21, false, 2), 0);
	assert_int_equal(ct_sweep_stale(ct, 1), 1);	/* a: peer 1 closed it */
	assert_int_equal(ct_sweep_stale(ct, 2), 0);	/* b: renewed */
	assert_int_not_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);

	/* ECMP moves b from peer 2 to peer 3, which speaks of it: peer 2's
	 * late close no longer removes it, peer 3's does. */
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 30, false, 3), 0);
	assert_int_equal(dp_sync_close(fl2.e, &b.t[0], 2), DP_SYNC_MOVED);
	assert_int_not_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);
	assert_int_equal(dp_sync_close(fl2.e, &b.t[0], 3), 0);
	assert_int_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);

	/* Peer 1 vouches, peer 2 is silent: only peer 2's entry ages. */
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 40, false, 1), 0);
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 40, false, 2), 0);
	ct->keep_mirrored = 1u << 1;
	est = ct->to.ms[CT_CLASS_EST];
	dp_expire(fl2.e, 40 + est + 1, 1000);
	assert_int_not_equal(ct_lookup(ct, &a.t[0], &dir), CT_NIL);
	assert_int_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);

	/* Taken over here, it is ours: no peer's bulk sweeps it. */
	while (ct_events(ct, ev, 8) > 0)
		;
	take_back(&fl2, &c, &v, 2, 50);
	assert_int_equal(ct_mark_mirrored(ct, 1), 0);
	assert_int_equal(ct_sweep_stale(ct, 1), 0);
	assert_int_not_equal(ct_lookup(ct, &a.t[0], &dir), CT_NIL);
	/* Peer 2 restarts, its table lost: what it had mirrored here is ours
	 * now, out of reach of its first bulk's sweep, kept to give back. */
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 50, false, 2), DP_SYNC_APPLIED);
	assert_int_equal(ct_reown(ct, 2), 1);
	idx = ct_lookup(ct, &b.t[0], &dir);
	assert_false(ct->e[idx].flags & CT_F_MIRRORED);
	assert_int_equal(ct->origin[idx], CT_ORIGIN_GIVEN | 2);
	assert_int_equal(ct_mark_mirrored(ct, 2), 0);
	assert_int_equal(ct_sweep_stale(ct, 2), 0);
	ct_free(ct, idx);
	/* A peer gives back what it holds of ours (we restarted, as far as it
	 * knows): what we still have stays ours ... */
	a.flags |= CT_F_MIRRORED;
	assert_int_equal(dp_sync_upsert(fl2.e, &a, 51, false, 1), DP_SYNC_EXISTS);
	assert_false(ct->e[ct_lookup(ct, &a.t[0], &dir)].flags & CT_F_MIRRORED);
	/* ... what we lost comes back. */
	b.flags |= CT_F_MIRRORED;
	assert_int_equal(dp_sync_upsert(fl2.e, &b, 52, false, 1), DP_SYNC_APPLIED);
	assert_int_not_equal(ct_lookup(ct, &b.t[0], &dir), CT_NIL);
	dp_engine_free(fl.e);
	dp_engine_free(fl2.e);
}

/* A cluster's shared SNAT pool (cluster snat-addresses): a node gives ports
 * on its own address only, and takes the connections another node
 * mirrors on that node's address. Their replies, which the routers bring
 * to the address's node, are forwarded there without taking the
 * connection from the node that forwards its client's packets while that
 * one lives; a client packet does take it. */
static void
test_cluster_snat(void **state)
{
	struct flow fa, fb;
	struct pg_ep v = pg_ep("198.51.100.10", 80), be = pg_ep("10.0.0.11", 8080);
	struct dp_service sa = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 1,
	    8080);
	struct dp_service sb = mk_service(4, 6, 80, DP_MODE_SNAT, DP_SCHED_RR, 1,
	    8080);
	struct ct_event ev[4];
	struct ct_entry m;
	struct ct_table *ct;
	struct pg_ep c, to;
	enum ct_dir dir;
	uint32_t idx;

	/* Node A owns 10.0.0.201, node B 10.0.0.200: each its own first. */
	addr(sa.snat[0], "10.0.0.201");
	addr(sa.snat[1], "10.0.0.200");
	addr(sb.snat[1], "10.0.0.201");
	sa.n_snat = sb.n_snat = 2;
	sa.n_snat_own = sb.n_snat_own = 1;
	fa.e = mk_engine(64);
	fb.e = mk_engine(64);
	install(fa.e, &sa, 1);
	install(fb.e, &sb, 1);
	for (uint16_t i = 0; i < 8; i++) {
		c = pg_ep("203.0.113.5", (uint16_t)(41000 + i));
		fb.n = pg_tcp(fb.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
		run(&fb, 0, 0);
		expect_ep(&fb, true, "10.0.0.200", 0);	/* B's own, always */
	}
	ct = dp_engine_ct(fb.e);
	while (ct_events(ct, ev, 4) > 0)
		;

	/* A connection through A, on A's address, mirrored to B. */
	c = pg_ep("203.0.113.9", 40000);
	fa.n = pg_tcp(fa.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fa, 0, 0);
	expect_ep(&fa, true, "10.0.0.201", 0);
	assert_int_equal(ct_events(dp_engine_ct(fa.e), ev, 4), 1);
	m = mirror_of(&ev[0]);
	assert_int_equal(dp_sync_upsert(fb.e, &m, 1, false, 1), DP_SYNC_APPLIED);
	(void)ct_events(ct, ev, 4);
	to = pg_ep("10.0.0.201", ntohs(m.t[CT_REPLY].dport));

	/* A vouches: its reply, routed to B, goes to the client, and the
	 * entry stays A's. */
	ct->keep_mirrored = 1u << 1;
	fb.n = pg_tcp(fb.f, mac_if1, mac_be[0], &be, &to, PG_ACK, 5001, 2, NULL, 0);
	run(&fb, 1, 2);
	expect_tx(&fb, 0, mac_gw, mac_if0);
	expect_ep(&fb, true, "198.51.100.10", 80);
	idx = ct_lookup(ct, &m.t[CT_ORIG], &dir);
	assert_int_not_equal(idx, CT_NIL);
	assert_true(ct->e[idx].flags & CT_F_MIRRORED);
	assert_int_equal(ct_events(ct, ev, 4), 0);	/* nothing to the mesh */

	/* The client's packet comes here (ECMP moved it): B's now, said. */
	fb.n = pg_tcp(fb.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 5002, NULL, 0);
	run(&fb, 0, 3);
	expect_tx(&fb, 1, mac_be[0], mac_if1);
	expect_ep(&fb, true, "10.0.0.201", ntohs(m.t[CT_REPLY].dport));
	assert_false(ct->e[idx].flags & CT_F_MIRRORED);
	assert_int_equal(ct_events(ct, ev, 4), 1);
	assert_int_equal(ev[0].type, CT_EV_NEW);

	/* Node 2 took it, then went silent: its reply is B's to take. */
	assert_int_equal(dp_sync_upsert(fb.e, &m, 4, false, 2), DP_SYNC_APPLIED);
	assert_true(ct->e[idx].flags & CT_F_MIRRORED);
	(void)ct_events(ct, ev, 4);
	fb.n = pg_tcp(fb.f, mac_if1, mac_be[0], &be, &to, PG_ACK, 5001, 2, NULL, 0);
	run(&fb, 1, 5);
	expect_tx(&fb, 0, mac_gw, mac_if0);
	assert_false(ct->e[idx].flags & CT_F_MIRRORED);
	assert_int_equal(ct_events(ct, ev, 4), 1);
	dp_engine_free(fa.e);
	dp_engine_free(fb.e);
}

/* With every backend down, new connections go to the fallback; once a
 * backend is back they go there again, and the fallback's connections
 * continue. */
static void
test_fallback(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);

	s.b = realloc(s.b, 3 * sizeof(*s.b));
	memset(&s.b[2], 0, sizeof(s.b[2]));
	addr(s.b[2].addr, "10.0.0.13");
	s.b[2].port = htons(80);
	s.b[2].weight = 1;
	s.b[2].up = true;
	s.has_fallback = true;
	s.b[0].up = s.b[1].up = false;
	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_tx(&fl, 1, mac_be[2], mac_if1);
	expect_ep(&fl, false, "10.0.0.13", 80);

	dp_backend_set(fl.e, 0, 0, true, 1, false);
	struct pg_ep c2 = pg_ep("203.0.113.6", 40000);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 1);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_ACK, 2, 1, NULL, 0);
	run(&fl, 0, 2);
	expect_tx(&fl, 1, mac_be[2], mac_if1);	/* still the fallback */
	uint32_t n;
	const struct dp_service *sv = dp_engine_services(fl.e, &n);
	assert_int_equal(sv[0].b[2].active, 1);
	assert_int_equal(sv[0].b[2].cnt.conns, 1);
	assert_int_equal(dp_expire(fl.e, 3600 * 1000, 100), 2);
	assert_int_equal(sv[0].b[2].active, 0);
	dp_engine_free(fl.e);
}

/*
 * A backend health marks down: with `keep` its connections go on; with
 * `reset` the next segment of each is answered with an RST toward whichever
 * side sent it and the entry is gone, while the live backend's connections
 * are untouched. A UDP flow of a reset backend moves to a live one.
 */
static void
test_backend_down_reset(void **state)
{
	struct flow fl;
	struct pg_ep c0 = pg_ep("203.0.113.5", 40000), c1 = pg_ep("203.0.113.6", 40000);
	struct pg_ep c2 = pg_ep("203.0.113.7", 40000), v = pg_ep("198.51.100.10", 80);
	struct pg_ep b0 = pg_ep("10.0.0.11", 80);
	struct dp_service s[2] = {
		mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80),
		mk_service(4, 17, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80),
	};
	const struct ct_table *ct;
	const struct dp_service *sv;
	uint32_t n, ackno;

	fl.e = mk_engine(64);
	install(fl.e, s, 2);
	ct = dp_engine_ct(fl.e);
	/* rr: c0 to backend 0, c1 to backend 1, c2 to backend 0 */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c0, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_ep(&fl, false, "10.0.0.11", 80);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c1, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_ep(&fl, false, "10.0.0.12", 80);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_ep(&fl, false, "10.0.0.11", 80);
	fl.n = pg_udp(fl.f, mac_if0, mac_gw, &c0, &v, "q", 1, false);
	run(&fl, 0, 0);
	expect_ep(&fl, false, "10.0.0.11", 80);
	assert_int_equal(ct->stats.active, 4);

	/* keep: down for new connections only */
	dp_backend_set(fl.e, 0, 0, false, 0, false);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c0, &v, PG_ACK, 2, 1, NULL, 0);
	run(&fl, 0, 1);
	expect_tx(&fl, 1, mac_be[0], mac_if1);

	/* reset: the client's next segment gets an RST from the VIP */
	dp_backend_set(fl.e, 0, 0, false, 0, true);
	dp_backend_set(fl.e, 1, 0, false, 0, true);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c0, &v, PG_ACK | PG_PSH, 2, 1,
	    "abc", 3);
	run(&fl, 0, 2);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	assert_int_equal(fl.f[14 + 20 + 13], PG_RST | PG_ACK);
	expect_ep(&fl, true, "198.51.100.10", 80);
	expect_ep(&fl, false, "203.0.113.5", 40000);
	memcpy(&ackno, fl.f + 14 + 20 + 8, 4);
	assert_int_equal(ntohl(ackno), 5);
	/* the backend's segment of c2 gets one toward the backend; the entry
	 * stays for the client, whose next segment gets its own */
	struct pg_ep c2r = c2;
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b0, &c2r, PG_ACK, 7, 2, NULL, 0);
	run(&fl, 1, 2);
	expect_tx(&fl, 1, mac_be[0], mac_if1);
	assert_int_equal(fl.f[14 + 20 + 13], PG_RST | PG_ACK);
	expect_ep(&fl, false, "10.0.0.11", 80);
	assert_int_equal(ct->stats.active, 3);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_ACK | PG_PSH, 2, 1,
	    "abc", 3);
	run(&fl, 0, 2);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	assert_int_equal(fl.f[14 + 20 + 13], PG_RST | PG_ACK);
	expect_ep(&fl, false, "203.0.113.7", 40000);
	/* the live backend's connection goes on */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c1, &v, PG_ACK, 2, 1, NULL, 0);
	run(&fl, 0, 3);
	expect_tx(&fl, 1, mac_be[1], mac_if1);
	expect_ep(&fl, false, "10.0.0.12", 80);
	/* the UDP flow moves to backend 1 */
	fl.n = pg_udp(fl.f, mac_if0, mac_gw, &c0, &v, "q", 1, false);
	run(&fl, 0, 4);
	expect_tx(&fl, 1, mac_be[1], mac_if1);
	expect_ep(&fl, false, "10.0.0.12", 80);
	assert_int_equal(ct->stats.active, 2);	/* c1 and the moved flow */
	assert_int_equal(dp_engine_stats(fl.e)->drops[DP_DROP_BACKEND_DOWN], 3);
	assert_int_equal(dp_engine_stats(fl.e)->rst_sent, 3);
	sv = dp_engine_services(fl.e, &n);
	assert_int_equal(sv[0].b[0].active, 0);
	assert_int_equal(sv[0].b[1].active, 1);
	assert_int_equal(sv[0].drops[DP_DROP_BACKEND_DOWN], 3);
	/* an RST from a dead backend's side is not answered */
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_SYN, 1, 0, NULL, 0);
	dp_backend_set(fl.e, 0, 0, true, 1, false);
	dp_backend_set(fl.e, 0, 1, false, 0, false);
	run(&fl, 0, 5);
	expect_ep(&fl, false, "10.0.0.11", 80);
	dp_backend_set(fl.e, 0, 0, false, 0, true);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c2, &v, PG_RST, 2, 0, NULL, 0);
	run(&fl, 0, 6);
	assert_int_equal(fl.v.action, DP_DROP);
	assert_int_equal(fl.v.reason, DP_DROP_BACKEND_DOWN);
	/* `reset` means nothing while the backend is up */
	dp_backend_set(fl.e, 0, 0, true, 1, true);
	assert_false(dp_engine_services(fl.e, &n)[0].b[0].reset);
	dp_engine_free(fl.e);
}

/*
 * A reload removes a backend that has routed connections: they go on, and
 * dp_orphans names the backend (the classifier must keep taking its
 * replies) until the last of them is gone. Other modes' connections need
 * no such entry (their replies come to a SNAT address, or bypass lbd).
 */
static void
test_removed_backend_orphans(void **state)
{
	struct flow fl;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct pg_ep b0 = pg_ep("10.0.0.11", 80);
	struct dp_service s = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 2, 80);
	struct dp_service s2 = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);
	struct dp_orphan o[4];

	fl.e = mk_engine(64);
	install(fl.e, &s, 1);
	fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	run(&fl, 0, 0);
	expect_ep(&fl, false, "10.0.0.11", 80);
	assert_int_equal(dp_orphans(fl.e, o, 4), 0);
	/* the new set keeps only 10.0.0.12 */
	addr(s2.b[0].addr, "10.0.0.12");
	install(fl.e, &s2, 1);
	assert_int_equal(dp_orphans(fl.e, o, 4), 1);
	assert_int_equal(o[0].family, 4);
	assert_int_equal(o[0].proto, 6);
	assert_int_equal(ntohs(o[0].port), 80);
	assert_memory_equal(o[0].addr, b0.addr, 4);
	assert_int_equal(o[0].conns, 1);
	/* the drained connection still forwards both ways */
	fl.n = pg_tcp(fl.f, mac_if1, mac_be[0], &b0, &c, PG_SYN | PG_ACK, 9, 2,
	    NULL, 0);
	run(&fl, 1, 1);
	expect_tx(&fl, 0, mac_gw, mac_if0);
	expect_ep(&fl, true, "198.51.100.10", 80);
	/* a second reload counts it again; its end clears the list */
	struct dp_service s3 = mk_service(4, 6, 80, DP_MODE_ROUTED, DP_SCHED_RR, 1, 80);
	addr(s3.b[0].addr, "10.0.0.12");
	install(fl.e, &s3, 1);
	assert_int_equal(dp_orphans(fl.e, o, 4), 1);
	assert_int_equal(dp_expire(fl.e, 3600 * 1000, 100), 1);
	assert_int_equal(dp_orphans(fl.e, o, 4), 0);
	dp_engine_free(fl.e);
}

/* From config text to a forwarded packet. */
static void
test_from_conf(void **state)
{
	static const char text[] =
	    "global { conn-table-size 2048 timeout tcp-established 2m }\n"
	    "service web { listen 198.51.100.10 tcp 80 mode snat scheduler maglev\n"
	    "  stateless on snat-pool 10.0.0.200\n"
	    "  backend a 10.0.0.11:8080 weight 3 backend b 10.0.0.12:8080 weight 0 }\n"
	    "service dns6 { listen 2001:db8:f::10 udp 53 mode dsr\n"
	    "  backend a [2001:db8:b::11]:53 fallback sorry 2001:db8:b::99 }\n";
	struct conf_diags d = { 0 };
	struct conf *c = conf_load_string("t.conf", text, &d);
	struct dp_params par;
	struct dp_service *svc;
	uint32_t n;

	assert_non_null(c);
	dp_params_from_conf(c, &par);
	assert_int_equal(par.conn_max, 2048);
	assert_int_equal(par.timeouts.ms[CT_CLASS_EST], 120000);
	assert_int_equal(par.timeouts.ms[CT_CLASS_SYN], 10000);
	assert_int_equal(dp_services_from_conf(c, &svc, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(svc[0].family, 4);
	assert_int_equal(svc[0].mode, DP_MODE_SNAT);
	assert_int_equal(svc[0].sched, DP_SCHED_MAGLEV);
	assert_true(svc[0].stateless);
	assert_int_equal(svc[0].n_snat, 1);
	assert_int_equal(ntohs(svc[0].port), 80);
	assert_int_equal(ntohs(svc[0].b[0].port), 8080);
	assert_int_equal(svc[0].b[0].weight, 3);
	assert_int_equal(svc[0].b[1].weight, 0);
	assert_int_equal(svc[1].family, 6);
	assert_int_equal(svc[1].proto, 17);
	assert_int_equal(svc[1].mode, DP_MODE_DSR);
	assert_true(svc[1].has_fallback);
	assert_false(svc[0].has_fallback);
	assert_int_equal(svc[1].b[1].addr[15], 0x99);
	assert_int_equal(ntohs(svc[1].b[1].port), 53);	/* the service's */

	/* Installed, it forwards; the drained backend gets nothing. */
	struct flow fl;
	fl.e = mk_engine(2048);
	assert_int_equal(dp_engine_set_services(fl.e, svc, n), 0);
	for (int i = 0; i < 50; i++) {
		struct pg_ep cl = pg_ep("203.0.113.5", (uint16_t)(30000 + i));
		struct pg_ep v = pg_ep("198.51.100.10", 80);
		fl.n = pg_tcp(fl.f, mac_if0, mac_gw, &cl, &v, PG_SYN, 1, 0, NULL, 0);
		run(&fl, 0, 0);
		expect_tx(&fl, 1, mac_be[0], mac_if1);
		expect_ep(&fl, false, "10.0.0.11", 8080);
		expect_ep(&fl, true, "10.0.0.200", 0);
	}
	dp_engine_free(fl.e);
	conf_free(c);
	conf_diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_fragments_and_icmp),
		cmocka_unit_test(test_csum_incremental),
		cmocka_unit_test(test_ct_both_directions_and_states),
		cmocka_unit_test(test_ct_expiry_virtual_clock),
		cmocka_unit_test(test_ct_full_evicts_embryonic_first),
		cmocka_unit_test(test_ct_index_churn),
		cmocka_unit_test(test_sched_rr_wrr),
		cmocka_unit_test(test_sched_lc_wlc),
		cmocka_unit_test(test_sched_hash_consistency),
		cmocka_unit_test(test_sched_maglev_weights),
		cmocka_unit_test(test_sched_backup_quorum),
		cmocka_unit_test(test_sched_max_conns),
		cmocka_unit_test(test_max_conns_counts_open),
		cmocka_unit_test(test_allow_and_rate_limit),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_snat_port_range),
		cmocka_unit_test(test_observe_events),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_maglev_size),
		cmocka_unit_test(test_sched_seed_stable),
		cmocka_unit_test(test_snat_ports),
		cmocka_unit_test(test_snat_first_port),
		cmocka_unit_test(test_flow_routed_v4),
		cmocka_unit_test(test_flow_routed_v6),
		cmocka_unit_test(test_flow_snat_v4),
		cmocka_unit_test(test_flow_snat_v6),
		cmocka_unit_test(test_flow_dsr_v4),
		cmocka_unit_test(test_flow_dsr_v6),
		cmocka_unit_test(test_tunnel_ipip_v4),
		cmocka_unit_test(test_tunnel_ipip_v6),
		cmocka_unit_test(test_tunnel_gue_v4),
		cmocka_unit_test(test_tunnel_ipip_src_v4),
		cmocka_unit_test(test_tunnel_ipip_src_v6),
		cmocka_unit_test(test_tunnel_gue_src_v4),
		cmocka_unit_test(test_tunnel_mirrored),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_no_entry_and_not_ours),
		cmocka_unit_test(test_fragments_dropped),
		cmocka_unit_test(test_snat_exhaustion_sends_rst),
		cmocka_unit_test(test_snat_reclaims_from_flood),
		cmocka_unit_test(test_flood_syn_ack_routed),
		cmocka_unit_test(test_flood_udp),
		cmocka_unit_test(test_flood_dsr),
		cmocka_unit_test(test_flood_stateless_ack),
		cmocka_unit_test(test_rst_window),
		cmocka_unit_test(test_icmp_routed_v4),
		cmocka_unit_test(test_icmp_routed_v6),
		cmocka_unit_test(test_icmp_snat_v4),
		cmocka_unit_test(test_icmp_snat_v6),
		cmocka_unit_test(test_neigh_unresolved_held),
		cmocka_unit_test(test_reload_keeps_connections),
		cmocka_unit_test(test_syn_reuses_closed_entry),
		cmocka_unit_test(test_insert_mirrored),
		cmocka_unit_test(test_sync_refusals),
		cmocka_unit_test(test_sync_mirrored),
		cmocka_unit_test(test_sync_origins),
		cmocka_unit_test(test_cluster_snat),
		cmocka_unit_test(test_from_conf),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_backend_down_reset),
		cmocka_unit_test(test_removed_backend_orphans),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
