/*
 * dp_steer: with several workers, every packet of a connection, both ways,
 * and the ICMP errors about it reach the worker whose engine holds it.
 * Three engines stand for three workers; for many clients in each mode and
 * family, the SYN goes to the engine dp_steer names, and the backend's
 * answer (to the client, or to the SNAT address and port that engine
 * chose) and the errors about either direction must be steered there too.
 * The answer given to another engine must not be forwarded: that is why
 * steering matters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/ct.h"
#include "lbd/engine/dp.h"
#include "lbd/engine/snat.h"
#include "topo.h"


#define W	3
#define CLIENTS	300

static uint16_t
port_at(const uint8_t *l3, bool src)
{
	size_t hl = (l3[0] >> 4) == 4 ? (size_t)(l3[0] & 15) * 4 : 40;
	const uint8_t *l4 = l3 + hl + (src ? 0 : 2);

	return (uint16_t)(l4[0] << 8 | l4[1]);
}

static struct pg_ep
ep_of(const uint8_t *l3, bool src, int family)
{
	struct pg_ep e;

	memset(&e, 0, sizeof(e));
	e.family = family;
	memcpy(e.addr, src ? pg_src_of(l3) : pg_dst_of(l3), family == 4 ? 4 : 16);
	e.port = port_at(l3, src);
	return e;
}

static void
steer_flows(int family, enum dp_mode mode)
{
	struct dp_engine *e[W];
	const char *vip = family == 4 ? "198.51.100.10" : "2001:db8:f::10";
	struct pg_ep v = pg_ep(vip, 80);
	struct pg_ep rtr_front = pg_ep(family == 4 ? "192.0.2.1" : "2001:db8:99::1", 0);
	struct pg_ep rtr_back = pg_ep(family == 4 ? "10.0.0.254" : "2001:db8:b::fe", 0);
	size_t hl = family == 4 ? 20 : 40;
	uint32_t per[W] = { 0 }, seed = 7;
	uint8_t f[2048], sent[2048];
	struct dp_verdict vd;

	for (int i = 0; i < W; i++) {
		struct dp_service s = mk_service(family, 6, 80, mode, DP_SCHED_RR,
		    3, 8080);
		e[i] = mk_engine_w(4096, W, (uint32_t)i);
		install(e[i], &s, 1);
	}
	for (int k = 0; k < CLIENTS; k++) {
		char a[64];
		struct pg_ep c, b, to;
		int32_t o;
		size_t n;

		seed = seed * 1103515245u + 12345u;
		if (family == 4)
			snprintf(a, sizeof(a), "203.0.113.%u", 1 + (seed >> 8) % 250);
		else
			snprintf(a, sizeof(a), "2001:db8:c::%x", 1 + (seed >> 8) % 4000);
		c = pg_ep(a, (uint16_t)(1024 + (seed >> 16) % 60000));

		/* The client's SYN: every engine names the same owner. */
		n = pg_tcp(f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
		o = dp_steer(e[0], f, (uint32_t)n);
		assert_in_range(o, 0, W - 1);
		for (int i = 1; i < W; i++)
			assert_int_equal(dp_steer(e[i], f, (uint32_t)n), o);
		per[o]++;
		dp_process(e[o], f, (uint32_t)n, sizeof(f), 0, (uint32_t)k, &vd);
		assert_int_equal(vd.action, DP_TX);
		memcpy(sent, f, vd.len);	/* lbd -> backend */
		b = ep_of(sent + 14, false, family);
		to = ep_of(sent + 14, true, family);	/* client, or SNAT:port */
		if (mode == DP_MODE_SNAT)
			assert_int_equal(to.port % W, (uint32_t)o);

		/* An error about what lbd sent the backend, from a router on
		 * the backend's side. */
		n = pg_icmp_toobig(f, mac_if1, mac_be[0], &rtr_back, &to, 1280,
		    sent + 14, hl + 20);
		assert_int_equal(dp_steer(e[(o + 1) % W], f, (uint32_t)n), o);
		if (mode == DP_MODE_DSR)
			continue;	/* the backend answers the client itself */

		/* The backend's answer. */
		n = pg_tcp(f, mac_if1, mac_be[0], &b, &to, PG_SYN | PG_ACK, 9, 2,
		    NULL, 0);
		assert_int_equal(dp_steer(e[(o + 2) % W], f, (uint32_t)n), o);
		/* Elsewhere it has no connection and is not forwarded. */
		memcpy(sent, f, n);
		dp_process(e[(o + 1) % W], sent, (uint32_t)n, sizeof(sent), 1,
		    (uint32_t)k, &vd);
		assert_int_not_equal(vd.action, DP_TX);
		dp_process(e[o], f, (uint32_t)n, sizeof(f), 1, (uint32_t)k, &vd);
		assert_int_equal(vd.action, DP_TX);
		memcpy(sent, f, vd.len);	/* VIP -> client */

		/* An error about that, from a router on the client's side. */
		n = pg_icmp_toobig(f, mac_if0, mac_gw, &rtr_front, &v, 1280,
		    sent + 14, hl + 20);
		assert_int_equal(dp_steer(e[(o + 1) % W], f, (uint32_t)n), o);
	}
	/* Every worker got a fair share of the clients. */
	for (int i = 0; i < W; i++)
		assert_true(per[i] > CLIENTS / W / 2);
	/* Each engine's entries are its own by dp_steer_entry too. */
	for (int i = 0; i < W; i++) {
		const struct ct_table *ct = dp_engine_ct(e[i]);
		uint32_t seen = 0;

		for (uint32_t j = 0; j < ct->cap; j++) {
			bool split;

			if (ct->e[j].state == CT_NONE)
				continue;
			assert_int_equal(dp_steer_entry(e[0], &ct->e[j], &split), i);
			assert_false(split);
			seen++;
		}
		assert_int_equal(seen, per[i]);
	}
	for (int i = 0; i < W; i++)
		dp_engine_free(e[i]);
}

static void test_routed_v4(void **s) { steer_flows(4, DP_MODE_ROUTED); }
static void test_routed_v6(void **s) { steer_flows(6, DP_MODE_ROUTED); }
static void test_snat_v4(void **s) { steer_flows(4, DP_MODE_SNAT); }
static void test_snat_v6(void **s) { steer_flows(6, DP_MODE_SNAT); }
static void test_dsr_v4(void **s) { steer_flows(4, DP_MODE_DSR); }
static void test_dsr_v6(void **s) { steer_flows(6, DP_MODE_DSR); }

/* Frames of no connection stay where they arrived; one worker is 0. */
static void
test_no_connection(void **state)
{
	struct dp_engine *one = mk_engine(64), *two = mk_engine_w(64, 2, 1);
	uint8_t f[128];
	struct pg_ep c = pg_ep("203.0.113.5", 4000), v = pg_ep("198.51.100.10", 80);
	size_t n;

	(void)state;
	memset(f, 0, sizeof(f));
	memcpy(f, mac_if0, 6);
	f[12] = 0x08;
	f[13] = 0x06;			/* ARP */
	assert_int_equal(dp_steer(two, f, 60), -1);
	assert_int_equal(dp_steer(two, f, 5), -1);	/* runt */
	n = pg_tcp(f, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	assert_int_equal(dp_steer(one, f, (uint32_t)n), 0);
	assert_in_range(dp_steer(two, f, (uint32_t)n), 0, 1);
	dp_engine_free(one);
	dp_engine_free(two);
}

/* The allocator hands out only its residue class, all of it, once. */
static void
test_snat_residue(void **state)
{
	struct snat_registry r;
	struct snat_key k;
	struct snat_space *sp;
	uint32_t got = 0, want = 0;
	uint16_t p;

	(void)state;
	snat_registry_init(&r, 1024, 65535, 42);
	snat_registry_stride(&r, 3, 2);
	memset(&k, 0, sizeof(k));
	k.proto = 6;
	sp = snat_space_get(&r, &k);
	for (uint32_t q = 1024; q <= 65535; q++)
		want += q % 3 == 2;
	while (snat_port_take(&r, sp, &p)) {
		assert_int_equal(p % 3, 2);
		got++;
	}
	assert_int_equal(got, want);
	/* A mirrored connection's port of another class is still reserved. */
	assert_true(snat_port_reserve(&r, sp, 3000));
	assert_false(snat_port_reserve(&r, sp, 3000));
	snat_registry_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed_v4),
		cmocka_unit_test(test_routed_v6),
		cmocka_unit_test(test_snat_v4),
		cmocka_unit_test(test_snat_v6),
		cmocka_unit_test(test_dsr_v4),
		cmocka_unit_test(test_dsr_v6),
		cmocka_unit_test(test_no_connection),
		cmocka_unit_test(test_snat_residue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
