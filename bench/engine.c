/*
 * bench-engine: the packet engine alone, in memory, on one thread.
 *
 *  1. new connections: N distinct client SYNs through a routed maglev
 *     service with 16 backends, into a table sized for N;
 *  2. established flows: packets of those N connections in random flow
 *     order (the worst case for the table's caches). The frames sit in a
 *     ring read in order, as an RX ring is, and each is copied into a work
 *     buffer first; the copy alone is timed too, so it can be subtracted.
 *
 * MODE=dsr, dsr-ipip or dsr-gue in the environment runs the same through a
 * dsr service, plain or tunnelled (the encapsulation's cost per packet).
 *
 * Prints a table and, last, one line:
 *   engine: established_ns_per_pkt=… established_mpps=… new_conn_per_s=…
 *           bytes_per_conn=… conns=N
 *
 *   usage: engine [CONNS] [ESTABLISHED_PACKETS]
 */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/topo.h"

#define FRAME	64

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift: cheap, deterministic flow order */
static uint64_t rng = 88172645463325252ull;
static inline uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void *
huge_alloc(size_t size)
{
	size_t r = (size + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *p = aligned_alloc(2u << 20, r);

	if (p != NULL)
		(void)madvise(p, r, MADV_HUGEPAGE);
	return p;
}


int
main(int argc, char **argv)
{
	uint32_t conns = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000000;
	uint64_t pkts = argc > 2 ? (uint64_t)atoll(argv[2]) : 20000000;
	const char *mode = getenv("MODE") ? getenv("MODE") : "routed";
	bool dsr = strncmp(mode, "dsr", 3) == 0;
	struct pg_ep v = pg_ep("198.51.100.10", 80);
	struct dp_service s = mk_service(4, 6, 80, dsr ? DP_MODE_DSR :
	    DP_MODE_ROUTED, DP_SCHED_MAGLEV, 16, dsr ? 80 : 8080);
	/* A tunnel's SYN grows in place: room for its header. */
	size_t fsz = getenv("MODE") && strstr(getenv("MODE"), "-") ? 2 * FRAME :
	    FRAME;
	uint8_t *syn = huge_alloc((size_t)conns * fsz);
	uint8_t *est = huge_alloc((size_t)conns * fsz);	/* the RX ring */
	uint8_t work[2048];
	struct dp_verdict vd;
	struct dp_engine *e;
	double t0, t_new, t_est, t_copy;
	uint64_t tx = 0, sink = 0;

	if (syn == NULL || est == NULL)
		return 1;
	if (strcmp(mode, "dsr-ipip") == 0)
		s.tunnel = DP_TUN_IPIP;
	else if (strcmp(mode, "dsr-gue") == 0) {
		s.tunnel = DP_TUN_GUE;
		s.tun_port = htons(6080);
	} else if (strcmp(mode, "routed") != 0 && strcmp(mode, "dsr") != 0) {
		fprintf(stderr, "bench: MODE is routed, dsr, dsr-ipip or dsr-gue\n");
		return 1;
	}
	/* 16 backends: neighbours for all of them. */
	e = mk_engine(conns);
	for (int i = 0; i < 16; i++) {
		uint8_t mac[6] = { 2, 0, 0, 0, 0xbe, (uint8_t)(0x11 + i) };
		dp_set_neigh(e, 4, s.b[i].addr, 1, mac);
	}
	install(e, &s, 1);

	/* The ring holds one packet of every flow, in random flow order. */
	uint32_t *order = malloc((size_t)conns * sizeof(*order));
	for (uint32_t i = 0; i < conns; i++)
		order[i] = i;
	for (uint32_t i = conns - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(next_rand() % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < conns; i++) {
		struct pg_ep c;
		client_of(i, &c);
		pg_tcp(syn + (size_t)i * fsz, mac_if0, mac_gw, &c, &v, PG_SYN,
		    1000, 0, NULL, 0);
		client_of(order[i], &c);
		pg_tcp(est + (size_t)i * fsz, mac_if0, mac_gw, &c, &v,
		    PG_ACK | PG_PSH, 1001, 1, "0123456789", 10);
	}
	free(order);

	/* 1. New connections, processed in place. */
	t0 = now_s();
	for (uint32_t i = 0; i < conns; i++) {
		dp_process(e, syn + (size_t)i * fsz, 54, (uint32_t)fsz, 0, 0, &vd);
		tx += vd.action == DP_TX;
	}
	t_new = now_s() - t0;
	if (tx != conns) {
		fprintf(stderr, "bench: only %llu of %u SYNs forwarded\n",
		    (unsigned long long)tx, conns);
		return 1;
	}

	/* 2a. The copy alone (same access pattern). */
	rng = 88172645463325252ull;
	t0 = now_s();
	for (uint64_t k = 0; k < pkts; k++) {
		uint32_t i = (uint32_t)(k % conns);
		memcpy(work, est + (size_t)i * fsz, 64);
		sink += work[30];
	}
	t_copy = now_s() - t0;

	/* 2b. Copy + process, one frame at a time. */
	rng = 88172645463325252ull;
	tx = 0;
	uint64_t pkts1 = pkts / 4;
	t0 = now_s();
	for (uint64_t k = 0; k < pkts1; k++) {
		uint32_t i = (uint32_t)(k % conns);
		memcpy(work, est + (size_t)i * fsz, 64);
		dp_process(e, work, 64, sizeof(work), 0, 1, &vd);
		tx += vd.action == DP_TX;
	}
	double t_one = now_s() - t0;
	if (tx != pkts1) {
		fprintf(stderr, "bench: only %llu of %llu packets forwarded\n",
		    (unsigned long long)tx, (unsigned long long)pkts1);
		return 1;
	}

	/* 2c. Copy + process in batches of BATCH, as the AF_XDP workers do. */
	const int BATCH = getenv("BATCH") ? atoi(getenv("BATCH")) : 32;
	static uint8_t bufs[DP_BATCH_MAX][128];
	struct dp_frame fr[DP_BATCH_MAX];
	struct dp_verdict vds[DP_BATCH_MAX];
	rng = 88172645463325252ull;
	tx = 0;
	t0 = now_s();
	for (uint64_t k = 0; k < pkts; k += BATCH) {
		for (int j = 0; j < BATCH; j++) {
			uint32_t i = (uint32_t)((k + (uint64_t)j) % conns);
			memcpy(bufs[j], est + (size_t)i * fsz, 64);
			fr[j].data = bufs[j];
			fr[j].len = 64;
			fr[j].cap = sizeof(bufs[j]);
		}
		dp_process_batch(e, fr, BATCH, 0, 1, vds);
		for (int j = 0; j < BATCH; j++)
			tx += vds[j].action == DP_TX;
	}
	t_est = now_s() - t0;
	pkts = (pkts + BATCH - 1) / BATCH * BATCH;
	if (tx != pkts) {
		fprintf(stderr, "bench: only %llu of %llu packets forwarded\n",
		    (unsigned long long)tx, (unsigned long long)pkts);
		return 1;
	}

	struct ct_table *ct = dp_engine_ct(e);
	double bytes_per_conn = ((double)ct->cap * sizeof(struct ct_entry) +
	    (double)ct->nslots * sizeof(uint32_t)) / ct->cap;
	double ns = t_est * 1e9 / (double)pkts;
	double ns_copy = t_copy * 1e9 / (double)pkts;

	printf("engine benchmark (one thread, in memory, %s IPv4, maglev, "
	    "16 backends)\n", mode);
	printf("  %-34s %12u\n", "connections in table", ct->stats.active);
	printf("  %-34s %12.0f /s   (%.1f ns each)\n", "new connections",
	    conns / t_new, t_new * 1e9 / conns);
	printf("  %-34s %12.1f ns   (%.2f Mpps), one at a time\n",
	    "established packet, copy+process", t_one * 1e9 / (double)pkts1,
	    1e3 / (t_one * 1e9 / (double)pkts1));
	printf("  %-34s %12.1f ns   (%.2f Mpps), batches of %d\n",
	    "established packet, copy+process", ns, 1e3 / ns, BATCH);
	printf("  %-34s %12.1f ns   (the copy alone)\n", "", ns_copy);
	printf("  %-34s %12.1f ns   (batched)\n", "established packet, process only",
	    ns - ns_copy);
	printf("  %-34s %12.1f B    (entry %zu B + index %.1f B)\n",
	    "memory per connection", bytes_per_conn, sizeof(struct ct_entry),
	    (double)ct->nslots * sizeof(uint32_t) / ct->cap);
	printf("  all times include a random-order flow pick over %u flows "
	    "(worst case for caches)\n", conns);
	printf("(sink %llu)\n", (unsigned long long)(sink & 1));
	printf("engine: established_ns_per_pkt=%.1f established_mpps=%.2f "
	    "new_conn_per_s=%.0f bytes_per_conn=%.0f conns=%u\n", ns, 1e3 / ns,
	    conns / t_new, bytes_per_conn, ct->stats.active);
	dp_engine_free(e);
	free(syn);
	free(est);
	return 0;
}
