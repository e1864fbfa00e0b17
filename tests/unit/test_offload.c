/*
 * Unit tests of the engine's side of the kernel fast path (offload.c):
 * which connections it hands to the kernel and when, that a flow says all
 * the engine does to a packet (a model of the TC program, applying the
 * flow to the same frames, must produce the engine's bytes exactly, in
 * every mode and family), when flows are taken back, what the kernel's
 * counters and activity do to the engine, and the ring's bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lbd/engine/dp.h"
#include "lib/addr.h"
#include "lib/csum.h"
#include "topo.h"

#define BUF	2048

static const struct pg_ep *
client(int family)
{
	static struct pg_ep c4, c6;

	c4 = pg_ep("203.0.113.7", 40001);
	c6 = pg_ep("2001:db8:c::7", 40001);
	return family == 4 ? &c4 : &c6;
}

static struct pg_ep
vip(int family, uint16_t port)
{
	return pg_ep(family == 4 ? "198.51.100.10" : "2001:db8:f::10", port);
}

static size_t
drain(struct dp_engine *e, struct dp_flow_op *ops, size_t max)
{
	return dp_flow_ops(e, ops, max);
}

/* An engine of topo.h with one service of `mode`, the fast path off
 * (`ring` 0) or on. */
static struct dp_engine *
engine_ring(int family, uint8_t proto, enum dp_mode mode, uint32_t ring)
{
	struct dp_engine *e;
	struct dp_service s;

	topo_offload = ring;
	e = mk_engine(1024);
	topo_offload = 0;
	s = mk_service(family, proto, 80, mode, DP_SCHED_RR, 1, 8080);
	install(e, &s, 1);
	return e;
}

static struct dp_engine *
engine(int family, uint8_t proto, enum dp_mode mode)
{
	return engine_ring(family, proto, mode, 0);
}

static struct dp_engine *
engine_off(int family, uint8_t proto, enum dp_mode mode)
{
	return engine_ring(family, proto, mode, 64);
}

/* ---- a model of the TC program ------------------------------------------ */

/* What the kernel does with a flow, on the frame's bytes: the addresses
 * and ports `out` gives, the checksums updated incrementally (RFC 1624),
 * the TTL down by one, the Ethernet addresses. */
static void
apply(uint8_t *f, const struct dp_flow *fl)
{
	bool v4 = fl->key.family == 4;
	uint8_t *l3 = f + 14, *l4 = l3 + (v4 ? (l3[0] & 0x0f) * 4 : 40);
	size_t al = addr_len(fl->key.family);
	uint8_t *src = l3 + (v4 ? 12 : 8), *dst = l3 + (v4 ? 16 : 24);
	bool udp = fl->key.proto == 17;
	uint8_t *cp = l4 + (udp ? 6 : 16);
	uint16_t c, hc;
	bool l4sum = !(udp && cp[0] == 0 && cp[1] == 0);

	memcpy(&c, cp, 2);
	memcpy(&hc, l3 + 10, 2);
	if (fl->ttl) {
		if (v4) {
			uint16_t o, n;
			memcpy(&o, l3 + 8, 2);
			l3[8]--;
			memcpy(&n, l3 + 8, 2);
			hc = csum_replace16(hc, o, n);
		} else
			l3[7]--;
	}
	if (memcmp(dst, fl->out.dst, al) != 0) {
		if (v4)
			hc = csum_replace(hc, dst, fl->out.dst, 4);
		if (l4sum)
			c = csum_replace(c, dst, fl->out.dst, al);
		memcpy(dst, fl->out.dst, al);
	}
	if (memcmp(src, fl->out.src, al) != 0) {
		if (v4)
			hc = csum_replace(hc, src, fl->out.src, 4);
		if (l4sum)
			c = csum_replace(c, src, fl->out.src, al);
		memcpy(src, fl->out.src, al);
	}
	if (memcmp(l4 + 2, &fl->out.dport, 2) != 0) {
		if (l4sum)
			c = csum_replace(c, l4 + 2, &fl->out.dport, 2);
		memcpy(l4 + 2, &fl->out.dport, 2);
	}
	if (memcmp(l4, &fl->out.sport, 2) != 0) {
		if (l4sum)
			c = csum_replace(c, l4, &fl->out.sport, 2);
		memcpy(l4, &fl->out.sport, 2);
	}
	if (l4sum) {
		if (udp && c == 0)
			c = 0xffff;
		memcpy(cp, &c, 2);
	}
	if (v4)
		memcpy(l3 + 10, &hc, 2);
	memcpy(f, fl->dmac, 6);
	memcpy(f + 6, fl->smac, 6);
}

static const struct dp_flow *
flow_for(const struct dp_flow_op *ops, size_t n, const uint8_t *frame)
{
	for (size_t i = 0; i < n; i++) {
		const struct dp_flow *f = &ops[i].f;
		bool v4 = f->key.family == 4;
		const uint8_t *l3 = frame + 14;
		const uint8_t *l4 = l3 + (v4 ? (l3[0] & 0x0f) * 4 : 40);
		size_t al = addr_len(f->key.family);

		if (ops[i].add && memcmp(l3 + (v4 ? 12 : 8), f->key.src, al) == 0 &&
		    memcmp(l3 + (v4 ? 16 : 24), f->key.dst, al) == 0 &&
		    memcmp(l4, &f->key.sport, 2) == 0 &&
		    memcmp(l4 + 2, &f->key.dport, 2) == 0)
			return f;
	}
	return NULL;
}

/*
 * A connection through an engine with the fast path on: the handshake
 * (TCP) or the first datagram (UDP) installs flows; then a packet in each
 * direction goes through the engine and, separately, through the model of
 * the kernel with the flow: the bytes must be the engine's.
 */
static void
one_mode(int family, uint8_t proto, enum dp_mode mode)
{
	struct dp_engine *e = engine_off(family, proto, mode);
	const struct pg_ep *c = client(family);
	struct pg_ep v = vip(family, 80), b, to;
	uint8_t f[BUF], g[BUF];
	struct dp_flow_op ops[16];
	struct dp_verdict vd;
	const struct dp_flow *fl;
	size_t len, n, want = mode == DP_MODE_DSR ? 1 : 2;
	uint32_t now = 1000;

	if (proto == 6) {
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, c, &v, PG_SYN, 1, 0, NULL, 0);
		dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
		assert_int_equal(vd.action, DP_TX);
		assert_int_equal(drain(e, ops, 16), 0);	/* not yet */
		b = pg_ep(family == 4 ? be4[0] : be6[0], 8080);
		to = mode == DP_MODE_SNAT ? pg_ep(family == 4 ? "10.0.0.200" :
		    "2001:db8:b::200", 0) : *c;
		if (mode == DP_MODE_SNAT) {
			/* The engine's SNAT port, from its output. */
			to.port = (uint16_t)(f[14 + (family == 4 ? 20 : 40)] << 8 |
			    f[14 + (family == 4 ? 20 : 40) + 1]);
		}
		if (mode != DP_MODE_DSR) {
			len = pg_tcp(f, mac_if1, mac_be[0], &b, &to, PG_SYN | PG_ACK,
			    9, 2, NULL, 0);
			dp_process(e, f, (uint32_t)len, BUF, 1, now, &vd);
			assert_int_equal(vd.action, DP_TX);
			assert_int_equal(drain(e, ops, 16), 0);
		}
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, c, &v, PG_ACK, 2, 10,
		    NULL, 0);
		dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
	} else {
		b = pg_ep(family == 4 ? be4[0] : be6[0], 8080);
		len = pg_udp(f, pg_mac_lb, pg_mac_client, c, &v, "q", 1, false);
		dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
		to = mode == DP_MODE_SNAT ? pg_ep(family == 4 ? "10.0.0.200" :
		    "2001:db8:b::200", 0) : *c;
		if (mode == DP_MODE_SNAT)
			to.port = (uint16_t)(f[14 + (family == 4 ? 20 : 40)] << 8 |
			    f[14 + (family == 4 ? 20 : 40) + 1]);
	}
	assert_int_equal(vd.action, DP_TX);
	if (proto == 17) {
		/* One datagram makes no flow (a spoofed flood's would): a
		 * second one does in dsr, the backend's reply otherwise. */
		assert_int_equal(drain(e, ops, 16), 0);
		if (mode == DP_MODE_DSR) {
			len = pg_udp(f, pg_mac_lb, pg_mac_client, c, &v, "q", 1,
			    false);
			dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
		} else {
			len = pg_udp(f, mac_if1, mac_be[0], &b, &to, "r", 1, false);
			dp_process(e, f, (uint32_t)len, BUF, 1, now, &vd);
		}
		assert_int_equal(vd.action, DP_TX);
	}
	n = drain(e, ops, 16);
	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++) {
		assert_true(ops[i].add);
		assert_int_equal(ops[i].f.ttl, mode != DP_MODE_DSR);
		assert_int_equal(ops[i].f.mtu, 1500);
	}
	/* Client -> backend: the engine's bytes and the flow's agree. */
	if (proto == 6)
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, c, &v, PG_ACK | PG_PSH, 2,
		    10, "hello", 5);
	else
		len = pg_udp(f, pg_mac_lb, pg_mac_client, c, &v, "hello", 5, false);
	memcpy(g, f, len);
	assert_non_null(fl = flow_for(ops, n, g));
	assert_int_equal(fl->dir, CT_ORIG);
	assert_int_equal(fl->ifindex, 2);
	dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
	assert_int_equal(vd.action, DP_TX);
	apply(g, fl);
	assert_memory_equal(f, g, len);
	if (mode == DP_MODE_DSR) {
		dp_engine_free(e);
		return;
	}
	/* Backend -> client. */
	if (proto == 6)
		len = pg_tcp(f, mac_if1, mac_be[0], &b, &to, PG_ACK | PG_PSH, 10, 7,
		    "world!", 6);
	else
		len = pg_udp(f, mac_if1, mac_be[0], &b, &to, "world!", 6, false);
	memcpy(g, f, len);
	assert_non_null(fl = flow_for(ops, n, g));
	assert_int_equal(fl->dir, CT_REPLY);
	assert_int_equal(fl->ifindex, 1);
	assert_memory_equal(fl->dmac, mac_gw, 6);
	dp_process(e, f, (uint32_t)len, BUF, 1, now, &vd);
	assert_int_equal(vd.action, DP_TX);
	apply(g, fl);
	assert_memory_equal(f, g, len);
	/* A UDP datagram without a checksum keeps none. */
	if (proto == 17 && family == 4) {
		len = pg_udp(f, mac_if1, mac_be[0], &b, &to, "x", 1, true);
		memcpy(g, f, len);
		dp_process(e, f, (uint32_t)len, BUF, 1, now, &vd);
		apply(g, fl);
		assert_memory_equal(f, g, len);
		assert_int_equal(f[14 + 20 + 6] | f[14 + 20 + 7], 0);
	}
	dp_engine_free(e);
}

static void
test_flows_are_the_engine(void **state)
{
	static const enum dp_mode modes[] = { DP_MODE_ROUTED, DP_MODE_SNAT,
					      DP_MODE_DSR };

	for (int fam = 4; fam <= 6; fam += 2)
		for (int m = 0; m < 3; m++) {
			one_mode(fam, 6, modes[m]);
			one_mode(fam, 17, modes[m]);
		}
}

/* ---- when flows go ------------------------------------------------------- */

/* A routed TCP connection through to ESTABLISHED; returns its flows. */
static void
establish(struct dp_engine *e, uint16_t cport, uint32_t now)
{
	struct pg_ep c = pg_ep("203.0.113.7", cport), v = vip(4, 80);
	struct pg_ep b = pg_ep(be4[0], 8080);
	uint8_t f[BUF];
	struct dp_verdict vd;
	size_t len;

	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
	len = pg_tcp(f, mac_if1, mac_be[0], &b, &c, PG_SYN | PG_ACK, 9, 2, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 1, now, &vd);
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 2, 10, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, now, &vd);
	assert_int_equal(vd.action, DP_TX);
}

static void
test_fin_and_free_take_back(void **state)
{
	struct dp_engine *e = engine_off(4, 6, DP_MODE_ROUTED);
	struct pg_ep c = pg_ep("203.0.113.7", 40001), v = vip(4, 80);
	struct dp_flow_op ops[16];
	struct dp_verdict vd;
	uint8_t f[BUF];
	size_t len, n;

	establish(e, 40001, 1000);
	assert_int_equal(drain(e, ops, 16), 2);
	assert_true(dp_flow_valid(e, &ops[0].f.key));
	assert_true(dp_flow_valid(e, &ops[1].f.key));
	/* Nothing new while it stays established. */
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 2, 10, "x", 1);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1001, &vd);
	assert_int_equal(drain(e, ops + 2, 14), 0);
	/* The client's FIN: the engine must see the close. */
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_FIN | PG_ACK, 3, 10,
	    NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1002, &vd);
	assert_int_equal(vd.action, DP_TX);
	n = drain(e, ops + 2, 14);
	assert_int_equal(n, 2);
	assert_false(ops[2].add);
	assert_false(ops[3].add);
	assert_memory_equal(&ops[2].f.key, &ops[0].f.key, sizeof(ops[0].f.key));
	assert_memory_equal(&ops[3].f.key, &ops[1].f.key, sizeof(ops[1].f.key));
	assert_false(dp_flow_valid(e, &ops[0].f.key));
	/* It does not come back on the packets of the close. */
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 4, 11, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1003, &vd);
	assert_int_equal(drain(e, ops, 16), 0);

	/* Another one, expired without a word from the kernel: its flows
	 * leave with it. */
	establish(e, 40002, 2000);
	assert_int_equal(drain(e, ops, 16), 2);
	dp_expire(e, 2000 + 16 * 60 * 1000, 100000);
	n = drain(e, ops + 2, 14);
	assert_true(n >= 2);
	assert_false(ops[2].add);
	dp_engine_free(e);
}

/* What the kernel saw counts: packets and bytes as the connection's, and
 * activity keeps a busy offloaded connection past its idle timeout. */
struct probe {
	uint32_t	last;
	int		asked;
	uint32_t	seq_next;	/* what the kernel's flow says */
};

static void
probe_fn(void *arg, struct dp_engine *e, const struct dp_tuple *key)
{
	struct probe *p = arg;

	p->asked++;
	dp_flow_seen(e, key, 1, 1400, p->last, p->seq_next);
}

static void
test_kernel_activity(void **state)
{
	struct dp_engine *e = engine_off(4, 6, DP_MODE_ROUTED);
	struct dp_flow_op ops[16];
	struct probe pr = { 0, 0, 0 };
	const struct dp_service *s;
	uint32_t n_svc, est = 15 * 60 * 1000;
	struct dp_stats st;

	establish(e, 40001, 1000);
	assert_int_equal(drain(e, ops, 16), 2);
	dp_flow_seen(e, &ops[0].f.key, 100, 150000, 5000, 0);
	dp_flow_seen(e, &ops[1].f.key, 80, 4000, 5000, 0);
	s = dp_engine_services(e, &n_svc);
	assert_int_equal(s[0].b[0].cnt.pkts_in, 2 + 100);
	/* The SYN-ACK the engine forwarded (54 bytes), then the kernel's. */
	assert_int_equal(s[0].b[0].cnt.bytes_out, 54 + 4000);
	assert_int_equal(s[0].cnt.pkts_out, 1 + 80);
	/* Busy in the kernel: asked before it expires, and kept. */
	dp_set_flow_probe(e, probe_fn, &pr);
	pr.last = 5000 + est - 10;
	dp_expire(e, 5000 + est + 1, 100000);
	assert_true(pr.asked >= 1);
	assert_true(dp_flow_valid(e, &ops[0].f.key));
	/* Idle in the kernel too: it goes, flows and all. */
	pr.asked = 0;
	dp_expire(e, pr.last + est + 1, 100000);
	assert_true(pr.asked >= 1);
	assert_false(dp_flow_valid(e, &ops[0].f.key));
	st = *dp_engine_stats(e);
	assert_int_equal(st.offloaded, 1);
	assert_int_equal(st.unloaded, 1);
	dp_engine_free(e);
}

/* The client's data went through the kernel: 10 MB further than the
 * engine saw. Its RST from there is taken (the engine asks the kernel where
 * the client is), a blind one from where the engine last saw it is not. */
static void
test_rst_after_kernel_data(void **state)
{
	struct dp_engine *e = engine_off(4, 6, DP_MODE_ROUTED);
	struct dp_flow_op ops[16];
	struct probe pr = { 1000, 0, 2 + 10000000 };
	struct pg_ep c = pg_ep("203.0.113.7", 40001), v = vip(4, 80);
	uint8_t f[BUF];
	struct dp_verdict vd;
	size_t len;

	establish(e, 40001, 1000);		/* client ISN 1: next is 2 */
	assert_int_equal(drain(e, ops, 16), 2);
	dp_set_flow_probe(e, probe_fn, &pr);
	/* Where the engine last saw the client, 10 MB behind: refused. */
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_RST, 2 + 9000000,
	    0, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1000, &vd);
	assert_int_equal(vd.action, DP_DROP);
	assert_int_equal(vd.reason, DP_DROP_RST_OUT_OF_WINDOW);
	assert_true(pr.asked >= 1);
	assert_true(dp_flow_valid(e, &ops[0].f.key));
	/* Where the kernel says the client is: the connection ends. */
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_RST, pr.seq_next,
	    0, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1001, &vd);
	assert_int_equal(vd.action, DP_TX);
	assert_false(dp_flow_valid(e, &ops[0].f.key));
	assert_int_equal(dp_engine_stats(e)->drops[DP_DROP_RST_OUT_OF_WINDOW], 1);
	dp_engine_free(e);
}

/* dsr: a handshake whose ACK fits goes to the kernel at once, unproven;
 * the kernel's report of traffic a probation later proves it. */
static void
test_dsr_proven_by_kernel(void **state)
{
	struct dp_engine *e = engine_off(4, 6, DP_MODE_DSR);
	struct pg_ep c = pg_ep("203.0.113.7", 40001), v = vip(4, 80);
	struct dp_flow_op ops[16];
	const struct ct_table *ct = dp_engine_ct(e);
	uint8_t f[BUF];
	struct dp_verdict vd;
	size_t len;

	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1000, &vd);
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 2, 10, NULL, 0);
	dp_process(e, f, (uint32_t)len, BUF, 0, 1000, &vd);
	assert_int_equal(drain(e, ops, 16), 1);
	assert_int_equal(ct->stats.proven, 0);
	dp_flow_seen(e, &ops[0].f.key, 10, 15000, 1000 + CT_PROBATION_MS - 1, 0);
	assert_int_equal(ct->stats.proven, 0);
	dp_flow_seen(e, &ops[0].f.key, 10, 15000, 1000 + CT_PROBATION_MS, 0);
	assert_int_equal(ct->stats.proven, 1);
	dp_engine_free(e);
}

/* Routes, links, neighbours and backend resets take flows back; the same
 * routes again do not. */
static void
test_revoke(void **state)
{
	struct dp_engine *e = engine_off(4, 6, DP_MODE_ROUTED);
	struct dp_flow_op ops[16];
	struct dp_backend_state bs = { 0, 0, 1, false, true };
	struct dp_iface i1 = { .ifindex = 2, .mtu = 1400 };
	uint8_t a[16], mac[6] = { 2, 0, 0, 0, 0xbe, 0x99 };

	establish(e, 40001, 1000);
	assert_int_equal(drain(e, ops, 16), 2);
	/* The same neighbour again: nothing. */
	addr(a, be4[0]);
	dp_set_neigh(e, 4, a, 1, mac_be[0]);
	assert_int_equal(drain(e, ops, 16), 0);
	/* Its MAC changed: both flows go; the next packet installs again. */
	dp_set_neigh(e, 4, a, 1, mac);
	assert_int_equal(drain(e, ops, 16), 2);
	assert_false(ops[0].add);
	establish(e, 40002, 1000);
	assert_int_equal(drain(e, ops, 16), 2);
	assert_memory_equal(ops[0].f.dmac, mac, 6);
	/* An MTU change. */
	memcpy(i1.mac, mac_if1, 6);
	dp_set_iface(e, 1, &i1);
	assert_int_equal(drain(e, ops, 16), 2);
	establish(e, 40003, 1000);
	assert_int_equal(drain(e, ops, 16), 2);
	assert_int_equal(ops[0].f.mtu, 1400);
	/* on-backend-down reset: its connections must reach the engine. */
	dp_backends_set(e, &bs, 1);
	assert_int_equal(drain(e, ops, 16), 2);
	assert_false(ops[0].add);
	dp_engine_free(e);
}

/* Without the fast path nothing is queued; with a full ring installs stop
 * (counted) while removals still find room. */
static void
test_bounds(void **state)
{
	struct dp_engine *e = engine(4, 6, DP_MODE_ROUTED);
	struct dp_engine *o = engine_off(4, 6, DP_MODE_ROUTED);
	struct dp_flow_op ops[64];

	establish(e, 40001, 1000);
	assert_int_equal(drain(e, ops, 64), 0);
	for (uint16_t p = 0; p < 40; p++)
		establish(o, (uint16_t)(41000 + p), 1000);
	/* 64 slots: installs stop at half, two at a time. */
	assert_int_equal(dp_engine_stats(o)->offloaded, 16);
	assert_int_equal(dp_engine_stats(o)->offload_lost, 24);
	assert_int_equal(drain(o, ops, 64), 32);
	dp_engine_free(e);
	dp_engine_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_are_the_engine),
		cmocka_unit_test(test_fin_and_free_take_back),
		cmocka_unit_test(test_kernel_activity),
		cmocka_unit_test(test_rst_after_kernel_data),
		cmocka_unit_test(test_dsr_proven_by_kernel),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
