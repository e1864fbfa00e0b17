/*
 * bench-sync, the pipeline part: how many new connections per second
 * ha-sync mirrors from one engine's table into another's, with what lag,
 * at how many bytes each.
 *
 * Two threads, each the owner of an engine and a sync link, as two lbd
 * nodes are; between them real UDP datagrams over loopback, HMAC-SHA256
 * and all. The master thread makes connections the way traffic does (a
 * client SYN, then its ACK, through dp_process), turns the engine's events
 * into records with lbd's own policy (lbd/sync_rec.c) and sends them; the
 * standby thread authenticates, orders and applies them with
 * dp_sync_upsert, and acknowledges. Lag is measured per connection: from
 * the ACK that established it on the master to its entry existing on the
 * standby (one monotonic clock, both threads).
 *
 *  1. saturation: CONNS connections as fast as the link lets the master
 *     go (it waits when the window is full): mirrored connections/s;
 *  2. paced at RATE connections/s (default 200,000, the goal): the lag,
 *     p50 and p99.
 *
 * Prints a table and, last, one line:
 *   sync-pipeline: mirrored_conn_per_s=… lag_p50_ms=… lag_p99_ms=…
 *                  bytes_per_conn=… (at RATE/s)
 *
 *   usage: sync [CONNS] [RATE]
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/unit/topo.h"
#include "ha-sync/sync.h"
#include "lbd/sync_rec.h"

#define FRAME		64
#define LAG_US_MAX	1000000		/* histogram: 1 us buckets up to 1 s */

static const uint8_t KEY[32] = "bench-sync-key-0123456789abcdef";

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ms(void)
{
	return now_ns() / 1000000;
}


/* The i of client_of(i) that made this connection. */
static uint32_t
index_of(const struct dp_tuple *t)
{
	return (uint32_t)(t->src[1] - 64) << 20 | (uint32_t)t->src[2] << 12 |
	    (uint32_t)t->src[3] << 4 | (uint32_t)(ntohs(t->sport) - 10000);
}

struct node {
	struct dp_engine	*e;
	struct sync_link	*l;
	int			 fd;
};

static struct {
	_Atomic uint64_t	*made_ns;	/* per connection, by the master */
	_Atomic uint64_t	 applied;	/* by the standby */
	_Atomic int		 stop;
	uint32_t		*lag_us;	/* histogram, standby only */
	uint32_t		 lag_from;	/* connections below: not counted */
	uint64_t		 refused;
	struct node		 m, s;		/* master, standby */
} B;

static void
on_rec(void *arg, const struct sync_rec *r)
{
	struct ct_entry ce;
	uint64_t t = now_ns(), made;
	uint32_t i;

	if (sync_rec_to_entry(r, &ce) ||
	    dp_sync_upsert(B.s.e, &ce, (uint32_t)(t / 1000000), false, 1) != 0) {
		B.refused++;
		return;
	}
	i = index_of(&ce.t[CT_ORIG]);
	made = atomic_load_explicit(&B.made_ns[i], memory_order_relaxed);
	if (i >= B.lag_from && made != 0) {
		uint64_t us = (t - made) / 1000;
		B.lag_us[us < LAG_US_MAX ? us : LAG_US_MAX - 1]++;
	}
	atomic_fetch_add_explicit(&B.applied, 1, memory_order_release);
}

static void
on_event(void *arg, enum sync_event ev)
{
	struct node *n = arg;

	/* The standby asks for our table when it meets us; the bench starts
	 * with an empty one. */
	if (ev == SYNC_EV_SEND_BULK) {
		(void)sync_link_bulk_begin(n->l, now_ms());
		(void)sync_link_bulk_end(n->l, now_ms());
	}
}

/* Datagrams in, datagrams out. */
static void
pump(struct node *n)
{
	uint8_t d[SYNC_MTU_MAX];
	uint64_t now = now_ms();
	ssize_t r;
	size_t k;

	while ((r = recv(n->fd, d, sizeof(d), MSG_DONTWAIT)) > 0)
		(void)sync_link_input(n->l, now, d, (size_t)r);
	sync_link_tick(n->l, now);
	while ((k = sync_link_output(n->l, now, d, sizeof(d))) > 0)
		if (send(n->fd, d, k, 0) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != ECONNREFUSED)
			perror("bench-sync: send");
}

static void *
standby(void *arg)
{
	while (!atomic_load(&B.stop)) {
		struct pollfd p = { .fd = B.s.fd, .events = POLLIN };
		(void)poll(&p, 1, 1);
		pump(&B.s);
	}
	return NULL;
}

static struct sync_link *
mklink(struct node *n, uint64_t id)
{
	struct sync_link_cfg c = { .node = id, .epoch = (uint32_t)time(NULL),
		.key = KEY, .key_len = sizeof(KEY), .cfg_hash = 1 };
	struct sync_cb cb = { .rec = on_rec, .event = on_event, .arg = n };

	return sync_link_new(&c, &cb);
}

static int
udp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, sb = sa;
	socklen_t l = sizeof(sa);
	int big = 8 << 20;

	sa.sin_addr.s_addr = sb.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((*a = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    (*b = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(*a, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    bind(*b, (struct sockaddr *)&sb, sizeof(sb)) < 0 ||
	    getsockname(*a, (struct sockaddr *)&sa, &l) < 0 ||
	    getsockname(*b, (struct sockaddr *)&sb, &l) < 0 ||
	    connect(*a, (struct sockaddr *)&sb, sizeof(sb)) < 0 ||
	    connect(*b, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	/* As lbd's socket would want on a busy link (sysctl permitting). */
	(void)setsockopt(*a, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(*b, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return 0;
}

/* Connections first .. first+n-1 on the master; paced at `rate` per
 * second, or as fast as the window allows (0). Returns the seconds from
 * the first connection to the last one applied on the standby. */
static double
drive(uint32_t first, uint32_t n, double rate)
{
	struct pg_ep v = pg_ep("198.51.100.10", 80), c;
	uint8_t f[FRAME];
	struct dp_verdict vd;
	struct ct_event ev[256];
	uint64_t t0 = now_ns();
	uint32_t i = first;

	while (i < first + n) {
		uint32_t limit = first + n;

		if (rate > 0) {
			/* The connections due by now, no more. */
			double due = (double)(now_ns() - t0) * rate / 1e9 + 1;
			if (due < (double)n)
				limit = first + (uint32_t)due;
			if (i >= limit) {
				pump(&B.m);
				continue;
			}
		}
		/* Room for a burst's records, else let acknowledgements in. */
		if (sync_link_room(B.m.l) < 4) {
			struct pollfd p = { .fd = B.m.fd, .events = POLLIN };
			(void)poll(&p, 1, 1);
			pump(&B.m);
			continue;
		}
		for (uint32_t burst = 0; burst < 32 && i < limit; burst++, i++) {
			uint32_t ms = (uint32_t)now_ms();
			client_of(i, &c);
			pg_tcp(f, mac_if0, mac_gw, &c, &v, PG_SYN, 1000, 0, NULL, 0);
			dp_process(B.m.e, f, 54, sizeof(f), 0, ms, &vd);
			pg_tcp(f, mac_if0, mac_gw, &c, &v, PG_ACK, 1001, 1, NULL, 0);
			dp_process(B.m.e, f, 54, sizeof(f), 0, ms, &vd);
			atomic_store_explicit(&B.made_ns[i], now_ns(),
			    memory_order_relaxed);
		}
		size_t k;
		while ((k = ct_events(dp_engine_ct(B.m.e), ev, 256)) > 0)
			for (size_t j = 0; j < k; j++) {
				struct sync_rec r;
				if (sync_rec_of_event(&ev[j], &r))
					(void)sync_link_put(B.m.l, now_ms(), &r);
			}
		pump(&B.m);
	}
	/* Until the standby has them all (or 10 s). */
	while (atomic_load_explicit(&B.applied, memory_order_acquire) <
	    (uint64_t)first + n && now_ns() - t0 < 10000000000ull + (uint64_t)
	    (rate > 0 ? (double)n * 1e9 / rate : 0)) {
		struct pollfd p = { .fd = B.m.fd, .events = POLLIN };
		(void)poll(&p, 1, 1);
		pump(&B.m);
	}
	return (double)(now_ns() - t0) / 1e9;
}

static double
lag_pct(unsigned pct)
{
	uint64_t total = 0, seen = 0;

	for (uint32_t u = 0; u < LAG_US_MAX; u++)
		total += B.lag_us[u];
	for (uint32_t u = 0; u < LAG_US_MAX; u++)
		if ((seen += B.lag_us[u]) * 100 >= total * pct)
			return u / 1000.0;
	return LAG_US_MAX / 1000.0;
}

int
main(int argc, char **argv)
{
	uint32_t conns = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000000;
	double rate = argc > 2 ? atof(argv[2]) : 200000;
	struct dp_service s1 = mk_service(4, 6, 80, DP_MODE_ROUTED,
	    DP_SCHED_MAGLEV, 16, 8080);
	struct dp_service s2 = mk_service(4, 6, 80, DP_MODE_ROUTED,
	    DP_SCHED_MAGLEV, 16, 8080);
	const struct sync_stats *st;
	pthread_t th;
	double t_sat, t_paced;
	uint64_t bytes0, dgrams0;

	if (conns == 0 || conns > (1u << 22)) {
		fprintf(stderr, "usage: sync [CONNS (1..4194304)] [RATE]\n");
		return 2;
	}
	B.made_ns = calloc(2 * (size_t)conns, sizeof(*B.made_ns));
	B.lag_us = calloc(LAG_US_MAX, sizeof(*B.lag_us));
	B.m.e = mk_engine(2 * conns);
	B.s.e = mk_engine(2 * conns);
	for (int i = 0; i < 16; i++) {
		uint8_t mac[6] = { 2, 0, 0, 0, 0xbe, (uint8_t)(0x11 + i) };
		dp_set_neigh(B.m.e, 4, s1.b[i].addr, 1, mac);
	}
	install(B.m.e, &s1, 1);
	install(B.s.e, &s2, 1);
	B.m.l = mklink(&B.m, 1);
	B.s.l = mklink(&B.s, 2);
	if (B.made_ns == NULL || B.lag_us == NULL || B.m.l == NULL ||
	    B.s.l == NULL || udp_pair(&B.m.fd, &B.s.fd) < 0) {
		perror("bench-sync: setup");
		return 1;
	}
	/* The standby keeps the master's entries while the master is up. */
	dp_engine_ct(B.s.e)->keep_mirrored = 1u << 1;
	if (pthread_create(&th, NULL, standby, NULL) != 0)
		return 1;
	/* Meet: both links up, the standby synced (an empty bulk). */
	for (int k = 0; k < 2000; k++) {
		struct sync_link_info in;
		pump(&B.m);
		sync_link_info(B.m.l, &in);
		if (in.peer_up && in.tx_acked == in.tx_seq && k > 20)
			break;
		usleep(1000);
	}

	B.lag_from = UINT32_MAX;	/* saturation: throughput only */
	t_sat = drive(0, conns, 0);
	uint64_t sat_applied = atomic_load(&B.applied);
	st = sync_link_stats(B.m.l);
	bytes0 = st->bytes_sent;
	dgrams0 = st->dgrams_sent;
	uint64_t retx0 = st->retransmits;

	B.lag_from = conns;
	t_paced = drive(conns, conns, rate);
	uint64_t paced_applied = atomic_load(&B.applied) - sat_applied;
	atomic_store(&B.stop, 1);
	pthread_join(th, NULL);

	double bytes = (double)(st->bytes_sent - bytes0);
	double dgrams = (double)(st->dgrams_sent - dgrams0);
	double per_conn = bytes / (double)conns;
	printf("sync pipeline benchmark (two threads, UDP over loopback, "
	    "HMAC-SHA256, routed IPv4)\n");
	printf("  %-40s %10.0f /s   (%llu of %u in %.2f s)\n",
	    "saturation: mirrored connections", (double)sat_applied / t_sat,
	    (unsigned long long)sat_applied, conns, t_sat);
	printf("  %-40s %10.0f /s   (%llu of %u in %.2f s, %llu retransmitted)\n",
	    "paced: mirrored connections", (double)paced_applied / t_paced,
	    (unsigned long long)paced_applied, conns, t_paced,
	    (unsigned long long)(st->retransmits - retx0));
	printf("  %-40s %10.3f ms p50, %.3f ms p99 (at %.0f/s)\n", "lag, "
	    "established -> entry on the standby", lag_pct(50), lag_pct(99),
	    rate);
	printf("  %-40s %10.1f B    (%.1f records per datagram; +%.1f B of "
	    "IP/UDP headers)\n", "bytes per connection (UDP payload)", per_conn,
	    (double)conns / dgrams, 28.0 * dgrams / (double)conns);
	printf("  %-40s %10llu\n", "refused on the standby",
	    (unsigned long long)B.refused);
	printf("sync-pipeline: mirrored_conn_per_s=%.0f lag_p50_ms=%.3f "
	    "lag_p99_ms=%.3f bytes_per_conn=%.1f\n", (double)sat_applied / t_sat,
	    lag_pct(50), lag_pct(99), per_conn);
	return sat_applied == conns && paced_applied == conns ? 0 : 1;
}
