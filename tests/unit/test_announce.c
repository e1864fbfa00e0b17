/*
 * Unit tests of what a cluster node announces (lbd/announce_plan.c): each
 * VIP once while one of its services takes new connections, SNAT addresses
 * always but when stopping, nothing of the VIPs when drained, sorted and
 * with the reason `lbctl show cluster` prints; and the word a cluster node
 * tells its peers what it announces with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "lbd/announce_plan.h"
#include "lbd/cluster_peers.h"

/* Two services on one VIP, one with a SNAT pool of two addresses (one of
 * them shared with a third service), and an IPv6 VIP. */
static const char *const cfg =
    "service web { listen 198.51.100.10 tcp 80 backend a 10.0.0.11 }\n"
    "service tls { listen 198.51.100.10 tcp 443 mode snat\n"
    "  snat-pool 10.0.0.200 10.0.0.201\n backend a 10.0.0.11 }\n"
    "service api { listen 198.51.100.20 tcp 80 mode snat\n"
    "  snat-pool 10.0.0.201\n backend a 10.0.0.12 }\n"
    "service v6 { listen 2001:db8::10 tcp 80 backend a [2001:db8::11]:80 }\n";

static struct conf *
load(const char *text)
{
	struct conf_diags d = { 0 };
	struct conf *c = conf_load_string("t.conf", text, &d);

	conf_diags_free(&d);
	assert_non_null(c);
	return c;
}

/* The entry for address `a`, or NULL. */
static const struct ann_prefix *
find(const struct ann_prefix *v, size_t n, const char *a)
{
	uint8_t x[16] = { 0 };
	int fam = strchr(a, ':') ? 6 : 4;

	assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, a, x), 1);
	for (size_t i = 0; i < n; i++)
		if (v[i].family == fam && memcmp(v[i].addr, x, 16) == 0)
			return &v[i];
	return NULL;
}

static void
test_plan(void **state)
{
	struct conf *c = load(cfg);
	bool ok[4] = { true, true, true, true };
	struct ann_prefix *v;
	const struct ann_prefix *p;
	size_t n;

	(void)state;
	v = announce_plan(c, ok, false, false, &n);
	/* 2 IPv4 VIPs, 2 SNAT addresses, 1 IPv6 VIP: each once. */
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_true(v[i].announce);
	/* sorted: IPv4 first, by address */
	assert_int_equal(v[0].family, 4);
	assert_int_equal(v[4].family, 6);
	assert_int_equal(v[4].plen, 128);
	assert_true(memcmp(v[0].addr, v[1].addr, 4) < 0);
	p = find(v, n, "10.0.0.201");
	assert_non_null(p);
	assert_int_equal(p->why, ANN_SNAT);
	assert_int_equal(p->plen, 32);
	free(v);

	/* web down, tls up: the shared VIP stays, decided by tls. */
	ok[0] = false;
	v = announce_plan(c, ok, false, false, &n);
	p = find(v, n, "198.51.100.10");
	assert_true(p->announce);
	assert_int_equal(p->why, ANN_SERVING);
	assert_int_equal(p->svc, 1);
	free(v);

	/* Both down: withdrawn, said by the first; api down too, but its
	 * SNAT address stays (the replies of its connections). */
	ok[1] = ok[2] = false;
	v = announce_plan(c, ok, false, false, &n);
	p = find(v, n, "198.51.100.10");
	assert_false(p->announce);
	assert_int_equal(p->why, ANN_NO_BACKEND);
	assert_int_equal(p->svc, 0);
	assert_false(find(v, n, "198.51.100.20")->announce);
	assert_true(find(v, n, "10.0.0.201")->announce);
	assert_true(find(v, n, "2001:db8::10")->announce);
	free(v);

	/* Drained: no VIP, the SNAT addresses still. */
	ok[0] = ok[1] = ok[2] = true;
	v = announce_plan(c, ok, true, false, &n);
	for (size_t i = 0; i < n; i++) {
		bool snat = v[i].why == ANN_SNAT;

		assert_int_equal(v[i].announce, snat);
		if (!snat)
			assert_int_equal(v[i].why, ANN_DRAINED);
	}
	free(v);

	/* Stopping: nothing. */
	v = announce_plan(c, ok, false, true, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_false(v[i].announce);
		assert_int_equal(v[i].why, ANN_STOPPING);
	}
	free(v);
	assert_string_equal(announce_why_name(ANN_NO_BACKEND),
	    "no backend takes new connections");
	conf_free(c);
}

/* A cluster's shared pool: this node's address (snat-addresses) as any
 * SNAT address, the other nodes' at the lower-preference metric, also
 * through a drain; none while stopping. */
static void
test_peer_snat(void **state)
{
	struct conf *c = load(
	    "cluster { snat-addresses 10.0.0.202 }\n"
	    "service app { listen 198.51.100.30 tcp 80 mode snat\n"
	    "  snat-pool 10.0.0.201 10.0.0.202 10.0.0.203\n"
	    "  backend a 10.0.0.11 }\n");
	bool ok[1] = { true };
	struct ann_prefix *v;
	size_t n;

	(void)state;
	for (int drained = 0; drained < 2; drained++) {
		v = announce_plan(c, ok, drained, false, &n);
		assert_int_equal(n, 4);
		assert_int_equal(find(v, n, "10.0.0.202")->why, ANN_SNAT);
		assert_int_equal(find(v, n, "10.0.0.202")->metric, 0);
		assert_true(find(v, n, "10.0.0.202")->announce);
		for (int k = 0; k < 2; k++) {
			const struct ann_prefix *p = find(v, n, k ? "10.0.0.203" :
			    "10.0.0.201");

			assert_true(p->announce);
			assert_int_equal(p->why, ANN_SNAT_PEER);
			assert_int_equal(p->metric, ANN_METRIC_PEER);
		}
		assert_int_equal(find(v, n, "198.51.100.30")->metric, 0);
		assert_int_equal(find(v, n, "198.51.100.30")->announce, !drained);
		free(v);
	}
	v = announce_plan(c, ok, false, true, &n);
	for (size_t i = 0; i < n; i++)
		assert_false(v[i].announce);
	free(v);
	assert_string_equal(announce_why_name(ANN_SNAT_PEER),
	    "another node's snat address");
	conf_free(c);
}

static void
test_empty(void **state)
{
	struct conf *c = load("global { workers 1 }\n");
	size_t n = 7;

	(void)state;
	assert_null(announce_plan(c, NULL, false, false, &n));
	assert_int_equal(n, 0);
	conf_free(c);
}

/* A cluster node's word to its peers (lbd/cluster_peers.c): its node id
 * and the prefixes it announces, nothing withdrawn; what does not fit is
 * counted; anything malformed is refused. */
static void
test_cluster_word(void **state)
{
	struct conf *c = load(cfg);
	bool ok[4] = { true, false, true, true };
	struct ann_prefix *v;
	struct cluster_peer p;
	uint8_t w[1200];
	size_t n, len;

	(void)state;
	v = announce_plan(c, ok, false, false, &n);
	assert_non_null(v);
	len = cluster_word("node-b", v, n, w, sizeof(w));
	assert_true(cluster_word_is(w, len));
	assert_int_equal(cluster_word_decode(w, len, &p), 0);
	assert_string_equal(p.node, "node-b");
	/* 198.51.100.10 (web), the two SNAT addresses, 198.51.100.20 (api),
	 * the IPv6 VIP: all five announced, in the plan's order. */
	assert_int_equal(p.total, 5);
	assert_int_equal(p.n_pfx, 5);
	for (size_t i = 0; i < p.n_pfx; i++) {
		assert_int_equal(p.pfx[i].family, v[i].family);
		assert_int_equal(p.pfx[i].plen, v[i].plen);
		assert_memory_equal(p.pfx[i].addr, v[i].addr,
		    v[i].family == 4 ? 4 : 16);
	}
	/* Drained: the SNAT addresses only. */
	free(v);
	v = announce_plan(c, ok, true, false, &n);
	len = cluster_word("node-b", v, n, w, sizeof(w));
	assert_int_equal(cluster_word_decode(w, len, &p), 0);
	assert_int_equal(p.total, 2);
	/* Room for two prefixes: the total still says five. */
	free(v);
	v = announce_plan(c, ok, false, false, &n);
	len = cluster_word("node-b", v, n, w, 2 + 6 + 4 + 2 * 6);
	assert_int_equal(cluster_word_decode(w, len, &p), 0);
	assert_int_equal(p.total, 5);
	assert_int_equal(p.n_pfx, 2);
	/* Every truncation, a wrong version, a bad family, trailing bytes. */
	len = cluster_word("node-b", v, n, w, sizeof(w));
	for (size_t k = 0; k < len; k++)
		assert_int_equal(cluster_word_decode(w, k, &p), -1);
	w[len] = 0;
	assert_int_equal(cluster_word_decode(w, len + 1, &p), -1);
	w[2 + 6 + 4] = 5;
	assert_int_equal(cluster_word_decode(w, len, &p), -1);
	/* A node id is printed as it is: control characters go. */
	len = cluster_word("a\nb\x1b", v, n, w, sizeof(w));
	assert_int_equal(cluster_word_decode(w, len, &p), 0);
	assert_string_equal(p.node, "a?b?");
	w[0] = 1;			/* a pair's word */
	assert_false(cluster_word_is(w, len));
	assert_int_equal(cluster_word_decode(w, len, &p), -1);
	free(v);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_peer_snat),
		cmocka_unit_test(test_cluster_word),
	};

	return cmocka_run_group_tests_name("announce", tests, NULL, NULL);
}
