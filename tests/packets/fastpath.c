/*
 * The kernel fast path against its oracle, the engine: every frame of the
 * golden cases (tests/packets/golden), and of a connection in every mode,
 * family and protocol, goes through an engine with the fast path on; the
 * flows it installs are written into the real TC program's table
 * (lbd/dataplane/fastpath.bpf.c, loaded as lbd loads it), and each frame
 * that has a flow is also run through the program with BPF_PROG_TEST_RUN.
 *
 *   - a frame the program forwards must come out byte for byte as the
 *     engine sent it, to the same interface;
 *   - a frame the program does not forward (SYN, FIN, RST, TTL 1, no flow,
 *     an ICMP error) must go to the engine, never to the kernel, whenever
 *     the engine forwards or drops it as lbd's.
 *
 * Needs root (BPF) and a network namespace where ifindex 1 and 2 are
 * interfaces of MTU 1500 (the engine's interfaces in topo.h):
 * tests/packets/fastpath.sh makes one. Prints TAP.
 *
 *   usage: fastpath GOLDEN_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "../unit/topo.h"
#include "lbd/dataplane/flows.h"
#include "lbd/dataplane/tcprog.h"
#include "lbd/engine/parse.h"
#include "golden.h"
#include "pcap.h"
#include "tap.h"

static int fwd_total, punt_total;

struct rig {
	struct tcprog		*tc;
	int			 prog, flows;
	struct dp_engine	*e;
};

/* The program's view of a frame: forwarded (its bytes in `out`), punted
 * to the engine, passed to the kernel, or dropped. */
enum tc_fate { TC_FWD, TC_PUNT, TC_PASS, TC_DROP };

static enum tc_fate
run_tc(struct rig *r, const uint8_t *f, uint32_t len, uint8_t *out,
    uint32_t *out_len)
{
	uint64_t before[LBD_FP__COUNT], after[LBD_FP__COUNT];
	struct __sk_buff ctx = { .ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
	    .data_out = out, .data_size_out = 2048, .ctx_in = &ctx,
	    .ctx_size_in = sizeof(ctx), .repeat = 1);

	tcprog_stats(r->tc, before);
	if (bpf_prog_test_run_opts(r->prog, &o) != 0) {
		printf("# test run (%u bytes): %s\n", len, strerror(errno));
		return TC_DROP;
	}
	tcprog_stats(r->tc, after);
	*out_len = o.data_size_out;
	if (o.retval == TC_ACT_OK)
		return TC_PASS;
	if (o.retval != TC_ACT_REDIRECT)
		return TC_DROP;
	return after[LBD_FP_FWD] > before[LBD_FP_FWD] ? TC_FWD : TC_PUNT;
}

/* The engine's flow operations into the program's table. */
static void
apply_ops(struct rig *r)
{
	struct dp_flow_op ops[64];
	size_t n;

	while ((n = dp_flow_ops(r->e, ops, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			struct lbd_fp_key k;
			struct lbd_fp_act a;

			fp_flow_to_kernel(&ops[i].f, &k, &a);
			if (ops[i].add)
				(void)bpf_map_update_elem(r->flows, &k, &a, BPF_ANY);
			else
				(void)bpf_map_delete_elem(r->flows, &k);
		}
}

/* What lbd owns for service `s`, as lbd would write it: `held`, the
 * node holds the service's VRRP group (else a backup's maps). */
static void
own_as(struct tcprog *tc, const struct dp_service *s, bool held)
{
	struct lbd_flow_key svc = { .family = s->family, .proto = s->proto,
				    .port = s->port };
	struct lbd_addr_key addrs[2];
	uint32_t flags[2] = { LBD_ADDR_VIP, LBD_ADDR_SNAT };
	struct lbd_flow_key be[8];
	uint32_t bef[8];
	struct xdp_owned o = { .svcs = &svc, .n_svcs = held, .addrs = addrs,
			       .addr_flags = flags, .n_addrs = held,
			       .backends = be, .backend_flags = bef };

	memcpy(svc.addr, s->vip, 16);
	memset(addrs, 0, sizeof(addrs));
	addrs[0].family = addrs[1].family = s->family;
	memcpy(addrs[0].addr, s->vip, 16);
	if (s->mode == DP_MODE_SNAT) {
		memcpy(addrs[1].addr, s->snat[0], 16);
		o.n_addrs = held ? 2 : 0;
	}
	for (uint16_t i = 0; s->mode == DP_MODE_ROUTED && i < s->nb && i < 8; i++) {
		memset(&be[i], 0, sizeof(be[i]));
		be[i].family = s->family;
		be[i].proto = s->proto;
		be[i].port = s->b[i].port;
		memcpy(be[i].addr, s->b[i].addr, 16);
		bef[o.n_backends++] = held ? LBD_BE_HELD : LBD_BE_UNHELD;
	}
	if (tcprog_set_owned(tc, &o) != 0)
		printf("# ownership maps not written\n");
}

/* One frame through both; `name` and `k` name it in the messages. */
static void
one_frame(struct rig *r, const char *name, int k, uint8_t *f, uint32_t len,
    uint16_t in_if, uint32_t now)
{
	uint8_t kout[2048];
	uint32_t klen = 0;
	/* The kernel hands TC nothing shorter than an Ethernet header. */
	enum tc_fate fate = len < 14 ? TC_PUNT : run_tc(r, f, len, kout, &klen);
	struct dp_verdict v;
	struct dp_pkt p;
	bool ours;

	dp_parse(f, len, &p);
	dp_process(r->e, f, len, 2048, in_if, now, &v);
	apply_ops(r);
	if (fate == TC_FWD) {
		fwd_total++;
		tap(v.action == DP_TX && klen == v.len && memcmp(kout, f, v.len) == 0,
		    "%s #%d: the kernel forwards it byte for byte as the engine "
		    "does (%u bytes)", name, k, v.len);
		if (v.action != DP_TX || klen != v.len) {
			printf("#   engine action %d len %u, kernel len %u\n",
			    v.action, v.len, klen);
		} else
			for (uint32_t i = 0; i < v.len; i++)
				if (kout[i] != f[i]) {
					printf("#   first difference at byte %u: "
					    "engine %02x, kernel %02x\n", i, f[i],
					    kout[i]);
					break;
				}
		return;
	}
	/* Not forwarded by the kernel: the engine's, whenever the engine
	 * treats it as lbd's (forwarded, or dropped by its policy; malformed
	 * frames the classifiers leave to the kernel, which drops them too). */
	ours = v.action == DP_TX || (v.action == DP_DROP &&
	    v.reason >= DP_DROP_FRAGMENT && p.ip.family != 0);
	if (fate == TC_PUNT)
		punt_total++;
	if (ours)
		tap(fate == TC_PUNT, "%s #%d: not a flow's; the kernel hands it to "
		    "the engine (%s)", name, k, fate == TC_PUNT ? "punted" :
		    fate == TC_PASS ? "PASSED to the kernel" : "dropped");
}

static struct rig
rig_new(struct tcprog *tc, const struct dp_service *s)
{
	struct rig r = { .tc = tc };
	struct dp_service copy = *s;

	topo_offload = 4096;
	r.e = mk_engine(4096);
	topo_offload = 0;
	r.flows = tcprog_flows_fd(tc);
	r.prog = tcprog_prog_fd(tc, false);
	own_as(tc, s, true);
	install(r.e, &copy, 1);
	return r;
}

/* Empty the program's flow table between cases. */
static void
flush(int fd)
{
	struct lbd_fp_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		(void)bpf_map_delete_elem(fd, &k);
}

static void
golden_case(struct tcprog *tc, const char *dir, const char *name)
{
	char p[512], line[256];
	FILE *in, *ex;
	struct dp_service svc;
	struct pcap_rec rec;
	struct rig r;
	int k = 0;

	snprintf(p, sizeof(p), "%s/%s.expect", dir, name);
	ex = fopen(p, "r");
	snprintf(p, sizeof(p), "%s/%s.in.pcap", dir, name);
	in = pcap_open(p);
	if (ex == NULL || in == NULL || fgets(line, sizeof(line), ex) == NULL ||
	    !golden_service(line, &svc)) {
		tap(false, "%s: fixture files readable", name);
		return;
	}
	flush(tcprog_flows_fd(tc));
	r = rig_new(tc, &svc);
	while (pcap_next(in, &rec) == 1) {
		int in_if = 0;

		if (fgets(line, sizeof(line), ex) == NULL ||
		    sscanf(line, "%d", &in_if) != 1)
			in_if = 0;
		one_frame(&r, name, ++k, rec.data, rec.len, (uint16_t)in_if,
		    rec.ts_ms);
	}
	dp_engine_free(r.e);
	fclose(in);
	fclose(ex);
}

/* A connection in `mode`: handshake (TCP), data both ways, a close. `tun`:
 * dsr through that tunnel (enum dp_tunnel), which also gets a packet too
 * big once wrapped. */
static void
connection(struct tcprog *tc, int family, uint8_t proto, enum dp_mode mode,
    uint8_t tun)
{
	struct dp_service svc = mk_service(family, proto, 80, mode, DP_SCHED_RR,
	    1, 8080);
	struct pg_ep c = pg_ep(family == 4 ? "203.0.113.7" : "2001:db8:c::7", 40001);
	struct pg_ep v = pg_ep(family == 4 ? "198.51.100.10" : "2001:db8:f::10", 80);
	struct pg_ep b = pg_ep(family == 4 ? be4[0] : be6[0], 8080), to = c;
	static const char *const mn[] = { "routed", "snat", "dsr" };
	char name[64];
	uint8_t f[2048];
	struct rig r;
	size_t len;
	int k = 0, fw0 = fwd_total;
	uint32_t now = 1000;
	bool tcp = proto == 6;

	snprintf(name, sizeof(name), "%s %s%s v%d", tcp ? "tcp" : "udp",
	    mn[mode], tun == DP_TUN_IPIP ? "/ipip" : tun == DP_TUN_GUE ?
	    "/gue" : "", family);
	svc.tunnel = tun;
	svc.tun_port = htons(6080);
	if (tun == DP_TUN_GUE) {	/* outer sources from a prefix */
		svc.tun_src.family = 4;
		svc.tun_src.plen = 12;
		addr(svc.tun_src.addr, "172.16.0.0");
	}
	flush(tcprog_flows_fd(tc));
	r = rig_new(tc, &svc);
	/* The first packet; the engine's SNAT address and port from it. */
	len = tcp ? pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0,
	    NULL, 0) : pg_udp(f, pg_mac_lb, pg_mac_client, &c, &v, "q", 1, false);
	one_frame(&r, name, ++k, f, (uint32_t)len, 0, now);
	if (mode == DP_MODE_SNAT) {
		size_t l4 = 14 + (family == 4 ? 20 : 40);

		to = pg_ep(family == 4 ? "10.0.0.200" : "2001:db8:b::200", 0);
		to.port = (uint16_t)(f[l4] << 8 | f[l4 + 1]);
	}
	if (tcp) {
		if (mode != DP_MODE_DSR) {
			len = pg_tcp(f, mac_if1, mac_be[0], &b, &to, PG_SYN | PG_ACK,
			    9, 2, NULL, 0);
			one_frame(&r, name, ++k, f, (uint32_t)len, 1, now);
		}
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 2, 10,
		    NULL, 0);
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now);
	}
	for (int i = 0; i < 4; i++) {
		char pay[64];

		snprintf(pay, sizeof(pay), "request %d with some bytes", i);
		len = tcp ? pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v,
		    PG_ACK | PG_PSH, 2 + 100 * i, 10, pay, strlen(pay)) :
		    pg_udp(f, pg_mac_lb, pg_mac_client, &c, &v, pay, strlen(pay),
		    i == 2 && family == 4);
		/* dsr: a flow still going a probation later is proven (and
		 * offloaded); the others prove themselves by a reply. */
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now + i +
		    (mode == DP_MODE_DSR ? CT_PROBATION_MS : 0));
		if (mode == DP_MODE_DSR)
			continue;
		snprintf(pay, sizeof(pay), "response %d, longer than that", i);
		len = tcp ? pg_tcp(f, mac_if1, mac_be[0], &b, &to, PG_ACK | PG_PSH,
		    10 + 100 * i, 2, pay, strlen(pay)) : pg_udp(f, mac_if1,
		    mac_be[0], &b, &to, pay, strlen(pay), i == 3 && family == 4);
		one_frame(&r, name, ++k, f, (uint32_t)len, 1, now + i);
	}
	if (tun != DP_TUN_NONE) {
		/* Fits the link, not once wrapped: the engine's, which
		 * answers with the MTU less the tunnel's header. */
		static char big[1500];
		uint32_t room = 1500 - (family == 4 ? 20 : 40) - (tcp ? 20 : 8);

		memset(big, 'x', sizeof(big));
		len = tcp ? pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK,
		    400, 10, big, room) : pg_udp(f, pg_mac_lb, pg_mac_client, &c,
		    &v, big, room, false);
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now + 4 +
		    CT_PROBATION_MS);
	}
	/* TTL 1: the engine's (it drops it, counted). */
	pg_ttl = 1;
	len = tcp ? pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 500, 10,
	    NULL, 0) : pg_udp(f, pg_mac_lb, pg_mac_client, &c, &v, "t", 1, false);
	pg_ttl = 64;
	if (mode != DP_MODE_DSR)
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now + 5);
	if (tcp) {
		now += mode == DP_MODE_DSR ? CT_PROBATION_MS : 0;
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_FIN | PG_ACK,
		    600, 10, NULL, 0);
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now + 6);
		len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_ACK, 601, 11,
		    NULL, 0);
		one_frame(&r, name, ++k, f, (uint32_t)len, 0, now + 7);
	}
	tap(fwd_total - fw0 >= (mode == DP_MODE_DSR ? 3 : 6), "%s: the kernel "
	    "forwarded the established connection (%d frames)", name,
	    fwd_total - fw0);
	dp_engine_free(r.e);
}

/*
 * A backup's classifier (the service's group not held): a routed backend's
 * reply sent to this node's own MAC is the engine's (the kernel would
 * forward it untranslated and the client would reset the connection); one
 * flooded to the virtual MAC, and the clients' traffic to the VIP, are the
 * kernel's (which drops what is not its).
 */
static void
backup_classifier(struct tcprog *tc, int family)
{
	struct dp_service svc = mk_service(family, 6, 80, DP_MODE_ROUTED,
	    DP_SCHED_RR, 1, 8080);
	struct pg_ep c = pg_ep(family == 4 ? "203.0.113.7" : "2001:db8:c::7", 40001);
	struct pg_ep v = pg_ep(family == 4 ? "198.51.100.10" : "2001:db8:f::10", 80);
	struct pg_ep b = pg_ep(family == 4 ? be4[0] : be6[0], 8080);
	static const uint8_t vmac[6] = { 0, 0, 0x5e, 0, 1, 0x33 };
	struct rig r = { .tc = tc, .prog = tcprog_prog_fd(tc, false) };
	uint8_t f[2048], out[2048];
	uint32_t olen;
	size_t len;

	flush(tcprog_flows_fd(tc));
	own_as(tc, &svc, false);
	len = pg_tcp(f, mac_if1, mac_be[0], &b, &c, PG_ACK | PG_PSH, 10, 2,
	    "reply", 5);
	tap(run_tc(&r, f, (uint32_t)len, out, &olen) == TC_PUNT, "backup v%d: "
	    "a backend's reply to this node's MAC goes to the engine", family);
	len = pg_tcp(f, vmac, mac_be[0], &b, &c, PG_ACK | PG_PSH, 10, 2,
	    "reply", 5);
	tap(run_tc(&r, f, (uint32_t)len, out, &olen) == TC_PASS, "backup v%d: "
	    "one flooded to the virtual MAC is left to the kernel", family);
	len = pg_tcp(f, pg_mac_lb, pg_mac_client, &c, &v, PG_SYN, 1, 0, NULL, 0);
	tap(run_tc(&r, f, (uint32_t)len, out, &olen) == TC_PASS, "backup v%d: "
	    "a client's SYN to the VIP is left to the kernel", family);
	free(svc.b);
}

/*
 * The virtual-MAC guard on a data interface's egress: a frame from a
 * virtual MAC leaves while the VRRP thread's time is ahead (or was never
 * set), not once it has passed (lbd killed or frozen); any other source
 * always leaves.
 */
static void
guard(struct tcprog *tc)
{
	static const uint8_t vmac4[6] = { 0, 0, 0x5e, 0, 1, 0x33 };
	static const uint8_t vmac6[6] = { 0, 0, 0x5e, 0, 2, 0x33 };
	struct rig r = { .tc = tc, .prog = tcprog_guard_fd(tc) };
	struct pg_ep c = pg_ep("203.0.113.7", 40001);
	struct pg_ep v = pg_ep("198.51.100.10", 80);
	int fd = tcprog_vrrp_alive_fd(tc);
	uint8_t f[2048], out[2048];
	uint32_t olen, zero = 0;
	uint64_t t;
	struct timespec ts;
	size_t len4, len6, lenr;
	uint8_t f6[2048], fr[2048];
	enum tc_fate a, b, d;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	len4 = pg_tcp(f, pg_mac_client, vmac4, &v, &c, PG_ACK, 1, 1, NULL, 0);
	len6 = pg_tcp(f6, pg_mac_client, vmac6, &v, &c, PG_ACK, 1, 1, NULL, 0);
	lenr = pg_tcp(fr, pg_mac_client, mac_if1, &v, &c, PG_ACK, 1, 1, NULL, 0);
	t = 0;
	(void)bpf_map_update_elem(fd, &zero, &t, BPF_ANY);
	tap(run_tc(&r, f, (uint32_t)len4, out, &olen) == TC_PASS, "guard: a "
	    "virtual MAC's frame leaves before the VRRP thread ever spoke");
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
	    60000000000ull;
	(void)bpf_map_update_elem(fd, &zero, &t, BPF_ANY);
	tap(run_tc(&r, f, (uint32_t)len4, out, &olen) == TC_PASS &&
	    run_tc(&r, f6, (uint32_t)len6, out, &olen) == TC_PASS, "guard: "
	    "frames from the IPv4 and IPv6 virtual MACs leave while it speaks");
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec -
	    1000000ull;
	(void)bpf_map_update_elem(fd, &zero, &t, BPF_ANY);
	a = run_tc(&r, f, (uint32_t)len4, out, &olen);
	b = run_tc(&r, f6, (uint32_t)len6, out, &olen);
	d = run_tc(&r, fr, (uint32_t)lenr, out, &olen);
	tap(a == TC_DROP && b == TC_DROP && d == TC_PASS, "guard: once it is "
	    "silent they are kept in (%d %d), the interface's own frames leave "
	    "(%d)", a, b, d);
	t = 0;
	(void)bpf_map_update_elem(fd, &zero, &t, BPF_ANY);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/packets/golden";
	char err[256], *names[256];
	struct tcprog *tc;
	struct dirent *de;
	DIR *d;
	int n = 0;

	libbpf_set_print(NULL);
	if ((tc = tcprog_open(65536, err, sizeof(err))) == NULL) {
		tap(false, "the fast path loads: %s", err);
		printf("1..%d\n", n_tests);
		return 1;
	}
	/* Punts from "interface" 1 go to 1: in a test run only the verdict
	 * is seen. */
	tcprog_route(tc, 1, 1, true);
	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);
		if (l > 7 && strcmp(de->d_name + l - 7, ".expect") == 0)
			names[n++] = strndup(de->d_name, l - 7);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	for (int i = 0; i < n; i++) {
		golden_case(tc, dir, names[i]);
		free(names[i]);
	}
	for (int fam = 4; fam <= 6; fam += 2) {
		for (int m = DP_MODE_ROUTED; m <= DP_MODE_DSR; m++) {
			connection(tc, fam, 6, (enum dp_mode)m, DP_TUN_NONE);
			connection(tc, fam, 17, (enum dp_mode)m, DP_TUN_NONE);
		}
		for (uint8_t t = DP_TUN_IPIP; t <= DP_TUN_GUE; t++) {
			if (fam == 6 && t == DP_TUN_GUE)
				continue;	/* IPv4 only (tunnel.c) */
			connection(tc, fam, 6, DP_MODE_DSR, t);
			connection(tc, fam, 17, DP_MODE_DSR, t);
		}
	}
	backup_classifier(tc, 4);
	backup_classifier(tc, 6);
	guard(tc);
	tap(fwd_total > 0 && punt_total > 0, "in all: %d frames forwarded by "
	    "the kernel, %d handed to the engine", fwd_total, punt_total);
	tcprog_close(tc);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
