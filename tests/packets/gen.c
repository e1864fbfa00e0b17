/*
 * Writes the golden packet fixtures: for each case, CASE.in.pcap (frames
 * into the engine), CASE.out.pcap (the frames it must send, in order) and
 * CASE.expect (the service under test, then one verdict per input frame).
 *
 * Expected frames are built here from what they must contain (addresses,
 * ports, TTL, MACs), never by running the engine, so the replay test
 * (replay.c) compares the engine against an independent description.
 *
 *   usage: gen DIR        (make packets-regen writes tests/packets/golden)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/topo.h"
#include "lbd/engine/snat.h"
#include "pcap.h"

struct gcase {
	FILE		*in, *out, *ex;
	uint32_t	 t;
};

static struct gcase
open_case(const char *dir, const char *name, const char *service)
{
	struct gcase c;
	char p[512];

	snprintf(p, sizeof(p), "%s/%s.in.pcap", dir, name);
	c.in = pcap_create(p);
	snprintf(p, sizeof(p), "%s/%s.out.pcap", dir, name);
	c.out = pcap_create(p);
	snprintf(p, sizeof(p), "%s/%s.expect", dir, name);
	c.ex = fopen(p, "w");
	if (c.in == NULL || c.out == NULL || c.ex == NULL) {
		perror(p);
		exit(1);
	}
	fprintf(c.ex, "service %s\n", service);
	c.t = 0;
	return c;
}

static void
close_case(struct gcase *c)
{
	fclose(c->in);
	fclose(c->out);
	fclose(c->ex);
}

/* One input frame and what must come of it. */
static void
step_tx(struct gcase *c, int in_if, const uint8_t *in, size_t in_len,
    int out_if, const uint8_t *out, size_t out_len, const char *what)
{
	pcap_put(c->in, c->t, in, (uint32_t)in_len);
	pcap_put(c->out, c->t, out, (uint32_t)out_len);
	fprintf(c->ex, "%d tx %d %s\n", in_if, out_if, what);
	c->t += 10;
}

static void
step_other(struct gcase *c, int in_if, const uint8_t *in, size_t in_len,
    const char *verdict, const char *what)
{
	pcap_put(c->in, c->t, in, (uint32_t)in_len);
	fprintf(c->ex, "%d %s %s\n", in_if, verdict, what);
	c->t += 10;
}

struct fam {
	int		 f;
	const char	*cli, *cli2, *vip, *be, *snat, *rtr_front, *rtr_back;
};

static const struct fam fams[2] = {
	{ 4, "203.0.113.5", "203.0.113.6", "198.51.100.10", "10.0.0.11",
	  "10.0.0.200", "192.0.2.1", "10.0.0.254" },
	{ 6, "2001:db8:c::5", "2001:db8:c::6", "2001:db8:f::10", "2001:db8:b::11",
	  "2001:db8:b::200", "2001:db8:99::1", "2001:db8:b::fe" },
};

static const char *const mode_names[] = { "routed", "snat", "dsr" };

/*
 * The n-th SNAT port (from 0) the engine hands out toward backend:bport.
 * Where a space starts is the allocator's business (a keyed hash, unit
 * tested on its own); the fixtures only need to know which port it is.
 */
static uint16_t
snat_port(const char *snat, const char *be, uint16_t bport, uint8_t proto,
    int n)
{
	struct snat_registry r;
	struct snat_space *sp;
	struct snat_key k;
	struct pg_ep a = pg_ep(snat, 0), b = pg_ep(be, 0);
	uint16_t port = 0;

	snat_registry_init(&r, DP_SNAT_PORT_LO, DP_SNAT_PORT_HI, TOPO_SEED);
	memset(&k, 0, sizeof(k));
	memcpy(k.snat, a.addr, 16);
	memcpy(k.baddr, b.addr, 16);
	k.bport = htons(bport);
	k.proto = proto;
	k.family = (uint8_t)a.family;
	if ((sp = snat_space_get(&r, &k)) == NULL)
		abort();
	for (int i = 0; i <= n; i++)
		if (!snat_port_take(&r, sp, &port))
			abort();
	snat_registry_free(&r);
	return port;
}

/* Frames of one TCP exchange as client, lbd and backend see them. */
static void
gen_tcp(const char *dir, const struct fam *fm, enum dp_mode mode)
{
	char name[64], svc[128];
	uint8_t in[2048], out[2048];
	size_t ni, no;
	bool dsr = mode == DP_MODE_DSR, snat = mode == DP_MODE_SNAT;
	uint16_t bport = dsr ? 80 : 8080;
	struct pg_ep c = pg_ep(fm->cli, 40000), c2 = pg_ep(fm->cli2, 40001);
	struct pg_ep v = pg_ep(fm->vip, 80), b = pg_ep(fm->be, bport);
	struct pg_ep s1 = snat ? pg_ep(fm->snat,
	    snat_port(fm->snat, fm->be, bport, 6, 0)) : c;
	struct pg_ep s2 = snat ? pg_ep(fm->snat,
	    snat_port(fm->snat, fm->be, bport, 6, 1)) : c2;
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	snprintf(name, sizeof(name), "tcp-%s-v%d", mode_names[mode], fm->f);
	snprintf(svc, sizeof(svc), "mode=%s family=%d proto=tcp port=80 "
	    "bport=%u backends=1", mode_names[mode], fm->f, bport);
	struct gcase g = open_case(dir, name, svc);

	/* Client -> VIP becomes (client or SNAT) -> backend, one hop on. In
	 * DSR only the Ethernet addresses change. */
#define TO_BACKEND(flags, seq, ack, data, dlen, what) do {		\
	pg_ttl = 64;							\
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, flags, seq, ack, data, dlen); \
	if (dsr) {							\
		no = pg_tcp(out, mac_be[0], mac_if1, &c, &v, flags, seq, ack, \
		    data, dlen);					\
	} else {							\
		pg_ttl = 63;						\
		no = pg_tcp(out, mac_be[0], mac_if1, &s1, &b, flags, seq, ack, \
		    data, dlen);					\
	}								\
	step_tx(&g, 0, in, ni, 1, out, no, what);			\
} while (0)
#define TO_CLIENT(flags, seq, ack, data, dlen, what) do {		\
	pg_ttl = 64;							\
	ni = pg_tcp(in, mac_if1, mac_be[0], &b, &s1, flags, seq, ack, data, dlen); \
	pg_ttl = 63;							\
	no = pg_tcp(out, mac_gw, mac_if0, &v, &c, flags, seq, ack, data, dlen); \
	step_tx(&g, 1, in, ni, 0, out, no, what);			\
} while (0)

	TO_BACKEND(PG_SYN, 1000, 0, NULL, 0, "client SYN");
	if (!dsr)
		TO_CLIENT(PG_SYN | PG_ACK, 7000, 1001, NULL, 0, "backend SYN-ACK");
	TO_BACKEND(PG_ACK | PG_PSH, 1001, 7001, req, sizeof(req) - 1,
	    "client request");
	if (!dsr)
		TO_CLIENT(PG_ACK | PG_PSH, 7001, 1001 + sizeof(req) - 1, rsp,
		    sizeof(rsp) - 1, "backend response");
	TO_BACKEND(PG_FIN | PG_ACK, 1001 + sizeof(req) - 1,
	    7001 + sizeof(rsp) - 1, NULL, 0, "client FIN");
	if (!dsr)
		TO_CLIENT(PG_FIN | PG_ACK, 7001 + sizeof(rsp) - 1,
		    1002 + sizeof(req) - 1, NULL, 0, "backend FIN");

	/* A second connection, reset by the client after its SYN. */
	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c2, &v, PG_SYN, 500, 0, NULL, 0);
	pg_ttl = dsr ? 64 : 63;
	no = pg_tcp(out, mac_be[0], mac_if1, dsr ? &c2 : &s2, dsr ? &v : &b,
	    PG_SYN, 500, 0, NULL, 0);
	step_tx(&g, 0, in, ni, 1, out, no, "second client SYN");
	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c2, &v, PG_RST, 501, 0, NULL, 0);
	pg_ttl = dsr ? 64 : 63;
	no = pg_tcp(out, mac_be[0], mac_if1, dsr ? &c2 : &s2, dsr ? &v : &b,
	    PG_RST, 501, 0, NULL, 0);
	step_tx(&g, 0, in, ni, 1, out, no, "second client RST");

	/* Mid-stream segment of a connection lbd never saw. */
	struct pg_ep c3 = pg_ep(fm->cli, 45000);
	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c3, &v, PG_ACK, 1, 1, NULL, 0);
	step_other(&g, 0, in, ni, "drop no_conn", "ACK without a connection");
	close_case(&g);
#undef TO_BACKEND
#undef TO_CLIENT
}

/* ICMP too-big in both directions (routed and snat). */
static void
gen_icmp(const char *dir, const struct fam *fm, enum dp_mode mode)
{
	char name[64], svc[128];
	uint8_t in[2048], out[2048], pkt[2048];
	size_t ni, no, hl = fm->f == 4 ? 20 : 40;
	bool snat = mode == DP_MODE_SNAT;
	struct pg_ep c = pg_ep(fm->cli, 40000), v = pg_ep(fm->vip, 80);
	struct pg_ep b = pg_ep(fm->be, 8080);
	struct pg_ep s1 = snat ? pg_ep(fm->snat,
	    snat_port(fm->snat, fm->be, 8080, 6, 0)) : c;
	struct pg_ep rf = pg_ep(fm->rtr_front, 0), rb = pg_ep(fm->rtr_back, 0);

	snprintf(name, sizeof(name), "icmp-%s-v%d", mode_names[mode], fm->f);
	snprintf(svc, sizeof(svc), "mode=%s family=%d proto=tcp port=80 "
	    "bport=8080 backends=1", mode_names[mode], fm->f);
	struct gcase g = open_case(dir, name, svc);

	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	pg_ttl = 63;
	no = pg_tcp(out, mac_be[0], mac_if1, &s1, &b, PG_SYN, 1000, 0, NULL, 0);
	step_tx(&g, 0, in, ni, 1, out, no, "client SYN");

	/* A router behind lbd cannot take what lbd sent to the backend. The
	 * client must get it, about client -> VIP (TTL as it left lbd). */
	memcpy(pkt, out, no);
	pg_ttl = 64;
	ni = pg_icmp_toobig(in, mac_if1, mac_be[0], &rb, snat ? &s1 : &c, 1280,
	    pkt + 14, hl + 20);
	pg_ttl = 63;
	no = pg_tcp(pkt, mac_gw, mac_if0, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	no = pg_icmp_toobig(out, mac_gw, mac_if0, &rb, &c, 1280, pkt + 14, hl + 20);
	step_tx(&g, 1, in, ni, 0, out, no, "too big from the backend side");

	/* The backend answers; a router in front cannot take lbd's reply.
	 * The backend must get it, about backend -> (client or SNAT). */
	pg_ttl = 64;
	ni = pg_tcp(in, mac_if1, mac_be[0], &b, &s1, PG_SYN | PG_ACK, 7000, 1001,
	    NULL, 0);
	pg_ttl = 63;
	no = pg_tcp(out, mac_gw, mac_if0, &v, &c, PG_SYN | PG_ACK, 7000, 1001,
	    NULL, 0);
	step_tx(&g, 1, in, ni, 0, out, no, "backend SYN-ACK");
	memcpy(pkt, out, no);
	pg_ttl = 64;
	ni = pg_icmp_toobig(in, mac_if0, mac_gw, &rf, &v, 1280, pkt + 14, hl + 20);
	pg_ttl = 63;
	no = pg_tcp(pkt, mac_gw, mac_if0, &b, &s1, PG_SYN | PG_ACK, 7000, 1001,
	    NULL, 0);
	no = pg_icmp_toobig(out, mac_be[0], mac_if1, &rf, &b, 1280, pkt + 14,
	    hl + 20);
	step_tx(&g, 0, in, ni, 1, out, no, "too big from the client side");
	close_case(&g);
}

/*
 * DSR: the backend answers the client directly, from the VIP. An ICMP error
 * about such a reply is addressed to the VIP, so it reaches lbd, which hands
 * it to the backend unchanged but for the MACs. An error about what lbd sent
 * to the backend is addressed to the client and is not lbd's.
 */
static void
gen_icmp_dsr(const char *dir, const struct fam *fm)
{
	char name[64], svc[128];
	uint8_t in[2048], out[2048], pkt[2048];
	size_t ni, no, hl = fm->f == 4 ? 20 : 40;
	struct pg_ep c = pg_ep(fm->cli, 40000), v = pg_ep(fm->vip, 80);
	struct pg_ep rf = pg_ep(fm->rtr_front, 0), rb = pg_ep(fm->rtr_back, 0);

	snprintf(name, sizeof(name), "icmp-dsr-v%d", fm->f);
	snprintf(svc, sizeof(svc), "mode=dsr family=%d proto=tcp port=80 "
	    "bport=80 backends=1", fm->f);
	struct gcase g = open_case(dir, name, svc);

	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	no = pg_tcp(out, mac_be[0], mac_if1, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	step_tx(&g, 0, in, ni, 1, out, no, "client SYN");

	/* the backend's SYN-ACK, VIP -> client, as the backend sent it */
	pg_ttl = 64;
	no = pg_tcp(pkt, mac_gw, mac_be[0], &v, &c, PG_SYN | PG_ACK, 7000, 1001,
	    NULL, 0);
	ni = pg_icmp_toobig(in, mac_if0, mac_gw, &rf, &v, 1280, pkt + 14, hl + 20);
	no = pg_icmp_toobig(out, mac_be[0], mac_if1, &rf, &v, 1280, pkt + 14,
	    hl + 20);
	step_tx(&g, 0, in, ni, 1, out, no, "too big about the backend's reply");

	/* about client -> VIP as lbd passed it on: addressed to the client */
	no = pg_tcp(pkt, mac_be[0], mac_if1, &c, &v, PG_SYN, 1000, 0, NULL, 0);
	ni = pg_icmp_toobig(in, mac_if1, mac_be[0], &rb, &c, 1280, pkt + 14, hl + 20);
	step_other(&g, 1, in, ni, "pass", "too big addressed to the client");
	close_case(&g);
}

static void
set_frag(uint8_t *f, uint16_t fragw)
{
	pg_put16(f + 14 + 6, fragw);
	f[14 + 10] = f[14 + 11] = 0;
	pg_put16(f + 14 + 10, pg_fold(pg_sum(f + 14, 20, 0)));
}

/* Fragments of service traffic, malformed frames, things not ours. */
static void
gen_misc(const char *dir)
{
	uint8_t in[2048];
	size_t ni;
	struct pg_ep c = pg_ep("203.0.113.5", 40000), v = pg_ep("198.51.100.10", 80);
	struct pg_ep c6 = pg_ep("2001:db8:c::5", 40000), v6 = pg_ep("2001:db8:f::10", 80);
	struct gcase g = open_case(dir, "misc-v4", "mode=routed family=4 "
	    "proto=tcp port=80 bport=8080 backends=1");

	pg_ttl = 64;
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, "abcdefgh", 8);
	set_frag(in, 0x2000);
	step_other(&g, 0, in, ni, "drop fragment", "first fragment to the VIP");
	set_frag(in, 0x0010);
	step_other(&g, 0, in, ni, "drop fragment", "later fragment to the VIP");

	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	step_other(&g, 0, in, 10, "drop short_eth", "10-byte frame");
	step_other(&g, 0, in, 30, "drop short_ip", "IPv4 header cut");
	in[14] = 0x44;
	step_other(&g, 0, in, ni, "drop bad_ihl", "IHL 4");
	in[14] = 0x45;
	pg_put16(in + 16, 400);
	step_other(&g, 0, in, ni, "drop bad_ip_len", "total length past the frame");
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	in[14 + 8] = 1;
	step_other(&g, 0, in, ni, "drop bad_ip_csum", "header checksum wrong");
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &v, PG_SYN, 1, 0, NULL, 0);
	in[14 + 20 + 12] = 0x30;
	step_other(&g, 0, in, ni, "drop bad_tcp_hlen", "TCP data offset 3");
	/* Not for a service: the kernel's. */
	struct pg_ep ssh = pg_ep("198.51.100.10", 22);
	ni = pg_tcp(in, mac_if0, mac_gw, &c, &ssh, PG_SYN, 1, 0, NULL, 0);
	step_other(&g, 0, in, ni, "pass", "SYN to another port of the VIP");
	memset(in, 0, 60);
	memcpy(in, "\xff\xff\xff\xff\xff\xff", 6);
	memcpy(in + 6, mac_gw, 6);
	in[12] = 0x08;
	in[13] = 0x06;
	step_other(&g, 0, in, 60, "pass", "ARP");
	close_case(&g);

	g = open_case(dir, "misc-v6", "mode=routed family=6 proto=tcp port=80 "
	    "bport=8080 backends=1");
	ni = pg_tcp(in, mac_if0, mac_gw, &c6, &v6, PG_SYN, 1, 0, NULL, 0);
	in[14 + 6] = 60;			/* a destination-options header */
	in[54 + 1] = 200;			/* 1608 bytes long */
	step_other(&g, 0, in, ni, "drop bad_ext_hdr", "IPv6 extension header overrun");
	ni = pg_tcp(in, mac_if0, mac_gw, &c6, &v6, PG_SYN, 1, 0, NULL, 0);
	{
		/* IPv6 fragment header, offset 0, more fragments */
		uint8_t g6[2048];
		memcpy(g6, in, 54);
		g6[14 + 6] = 44;
		memset(g6 + 54, 0, 8);
		g6[54] = 6;
		g6[57] = 1;
		pg_put32(g6 + 58, 77);
		memcpy(g6 + 62, in + 54, ni - 54);
		pg_put16(g6 + 14 + 4, (uint16_t)(ni - 54 + 8));
		step_other(&g, 0, g6, ni + 8, "drop fragment", "IPv6 first fragment");
		/* The same for a VIP lbd does not serve: the kernel's. */
		struct pg_ep other6 = pg_ep("2001:db8:f::99", 80);
		ni = pg_tcp(in, mac_if0, mac_gw, &c6, &other6, PG_SYN, 1, 0, NULL, 0);
		memcpy(g6, in, 54);
		g6[14 + 6] = 44;
		memcpy(g6 + 62, in + 54, ni - 54);
		pg_put16(g6 + 14 + 4, (uint16_t)(ni - 54 + 8));
		step_other(&g, 0, g6, ni + 8, "pass", "IPv6 fragment not for a VIP");
	}
	close_case(&g);
}

/* UDP through snat, with and without a checksum. */
static void
gen_udp(const char *dir)
{
	uint8_t in[2048], out[2048];
	size_t ni, no;
	/* An unassigned port, so dissectors read the payload as plain data. */
	struct pg_ep c = pg_ep("203.0.113.5", 34567), v = pg_ep("198.51.100.10", 24680);
	struct pg_ep b = pg_ep("10.0.0.11", 24680), s = pg_ep("10.0.0.200",
	    snat_port("10.0.0.200", "10.0.0.11", 24680, 17, 0));
	struct gcase g = open_case(dir, "udp-snat-v4", "mode=snat family=4 "
	    "proto=udp port=24680 bport=24680 backends=1");

	for (int zero = 1; zero >= 0; zero--) {
		pg_ttl = 64;
		ni = pg_udp(in, mac_if0, mac_gw, &c, &v, "query", 5, zero);
		pg_ttl = 63;
		no = pg_udp(out, mac_be[0], mac_if1, &s, &b, "query", 5, zero);
		step_tx(&g, 0, in, ni, 1, out, no, zero ? "query, no checksum" :
		    "query, checksum");
	}
	pg_ttl = 64;
	ni = pg_udp(in, mac_if1, mac_be[0], &b, &s, "answer", 6, false);
	pg_ttl = 63;
	no = pg_udp(out, mac_gw, mac_if0, &v, &c, "answer", 6, false);
	step_tx(&g, 1, in, ni, 0, out, no, "answer");
	close_case(&g);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";

	for (int f = 0; f < 2; f++) {
		for (int m = 0; m < 3; m++)
			gen_tcp(dir, &fams[f], (enum dp_mode)m);
		gen_icmp(dir, &fams[f], DP_MODE_ROUTED);
		gen_icmp(dir, &fams[f], DP_MODE_SNAT);
		gen_icmp_dsr(dir, &fams[f]);
	}
	gen_misc(dir);
	gen_udp(dir);
	return 0;
}
