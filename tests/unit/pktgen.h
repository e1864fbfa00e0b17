/*
 * Test frame builder: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP frames with correct
 * checksums, and a checker. Its checksum code is written separately from the
 * engine's (big-endian word sums here, byte-order-neutral incremental updates
 * there), so a test does not grade the engine with the engine's own code.
 * Used by the unit tests and by the golden pcap generator.
 */
#ifndef TESTS_UNIT_PKTGEN_H
#define TESTS_UNIT_PKTGEN_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Fields a frame is built with; tests set them to describe exact frames. */
static uint8_t	pg_ttl = 64;
static uint16_t	pg_ipid = 0x1234;
static uint16_t	pg_win = 65535;

struct pg_ep {
	int		family;		/* 4 or 6 */
	uint8_t		addr[16];
	uint16_t	port;		/* host order */
};

static inline struct pg_ep
pg_ep(const char *addr, uint16_t port)
{
	struct pg_ep e;

	memset(&e, 0, sizeof(e));
	if (inet_pton(AF_INET, addr, e.addr) == 1)
		e.family = 4;
	else if (inet_pton(AF_INET6, addr, e.addr) == 1)
		e.family = 6;
	e.port = port;
	return e;
}

static inline uint32_t
pg_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static inline uint16_t
pg_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Checksum over L4 with the pseudo-header; 0 when the stored one is right. */
static inline uint16_t
pg_l4_verify(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    const uint8_t *l4, size_t len)
{
	uint32_t s = 0;
	size_t al = family == 4 ? 4 : 16;

	s = pg_sum(src, al, s);
	s = pg_sum(dst, al, s);
	s += proto;
	s += (uint32_t)len;
	if (family == 6)
		s += (uint32_t)(len >> 16);
	s = pg_sum(l4, len, s);
	return pg_fold(s);
}

static inline void
pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Ethernet header; returns its length. */
static inline size_t
pg_eth(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], int family)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	pg_put16(f + 12, family == 4 ? 0x0800 : 0x86dd);
	return 14;
}

/* IP header for `l4len` bytes of `proto`; returns its length. */
static inline size_t
pg_ip(uint8_t *p, const struct pg_ep *s, const struct pg_ep *d, uint8_t proto,
    size_t l4len, uint8_t ttl)
{
	if (s->family == 4) {
		memset(p, 0, 20);
		p[0] = 0x45;
		pg_put16(p + 2, (uint16_t)(20 + l4len));
		pg_put16(p + 4, pg_ipid);
		p[6] = 0x40;	/* DF */
		p[8] = ttl;
		p[9] = proto;
		memcpy(p + 12, s->addr, 4);
		memcpy(p + 16, d->addr, 4);
		pg_put16(p + 10, pg_fold(pg_sum(p, 20, 0)));
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	pg_put16(p + 4, (uint16_t)l4len);
	p[6] = proto;
	p[7] = ttl;
	memcpy(p + 8, s->addr, 16);
	memcpy(p + 24, d->addr, 16);
	return 40;
}

static inline const uint8_t *
pg_src_of(const uint8_t *l3)
{
	return (l3[0] >> 4) == 4 ? l3 + 12 : l3 + 8;
}

static inline const uint8_t *
pg_dst_of(const uint8_t *l3)
{
	return (l3[0] >> 4) == 4 ? l3 + 16 : l3 + 24;
}

#define PG_FIN	0x01
#define PG_SYN	0x02
#define PG_RST	0x04
#define PG_PSH	0x08
#define PG_ACK	0x10

static const uint8_t pg_mac_client[6] = { 0x02, 0, 0, 0, 0, 0xc1 };
static const uint8_t pg_mac_lb[6] = { 0x02, 0, 0, 0, 0, 0x1b };

/* A TCP segment; returns the frame length. */
static inline size_t
pg_tcp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
    const struct pg_ep *s, const struct pg_ep *d, uint8_t flags, uint32_t seq,
    uint32_t ack, const void *payload, size_t plen)
{
	size_t off = pg_eth(f, dmac, smac, s->family);
	uint8_t *l3 = f + off;
	size_t hl = pg_ip(l3, s, d, 6, 20 + plen, pg_ttl);
	uint8_t *t = l3 + hl;

	memset(t, 0, 20);
	pg_put16(t, s->port);
	pg_put16(t + 2, d->port);
	pg_put32(t + 4, seq);
	pg_put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	pg_put16(t + 14, pg_win);
	if (plen)
		memcpy(t + 20, payload, plen);
	pg_put16(t + 16, pg_l4_verify(s->family, s->addr, d->addr, 6, t, 20 + plen));
	return off + hl + 20 + plen;
}

static inline size_t
pg_udp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
    const struct pg_ep *s, const struct pg_ep *d, const void *payload,
    size_t plen, bool zero_csum)
{
	size_t off = pg_eth(f, dmac, smac, s->family);
	uint8_t *l3 = f + off;
	size_t hl = pg_ip(l3, s, d, 17, 8 + plen, pg_ttl);
	uint8_t *u = l3 + hl;

	pg_put16(u, s->port);
	pg_put16(u + 2, d->port);
	pg_put16(u + 4, (uint16_t)(8 + plen));
	pg_put16(u + 6, 0);
	if (plen)
		memcpy(u + 8, payload, plen);
	if (!zero_csum) {
		uint16_t c = pg_l4_verify(s->family, s->addr, d->addr, 17, u, 8 + plen);
		pg_put16(u + 6, c == 0 ? 0xffff : c);
	}
	return off + hl + 8 + plen;
}

/*
 * An ICMP error from `router` to `to` about the packet whose IP header starts
 * at `orig_l3` (up to `quote` bytes of it are embedded). IPv4: type 3 code 4
 * (fragmentation needed) with `mtu`; IPv6: type 2 (packet too big).
 */
static inline size_t
pg_icmp_toobig(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
    const struct pg_ep *router, const struct pg_ep *to, uint32_t mtu,
    const uint8_t *orig_l3, size_t quote)
{
	size_t off = pg_eth(f, dmac, smac, router->family);
	uint8_t *l3 = f + off;
	bool v4 = router->family == 4;
	size_t hl = pg_ip(l3, router, to, v4 ? 1 : 58, 8 + quote, pg_ttl);
	uint8_t *ic = l3 + hl;

	memset(ic, 0, 8);
	if (v4) {
		ic[0] = 3;
		ic[1] = 4;
		pg_put16(ic + 6, (uint16_t)mtu);
	} else {
		ic[0] = 2;
		pg_put32(ic + 4, mtu);
	}
	memcpy(ic + 8, orig_l3, quote);
	if (v4)
		pg_put16(ic + 2, pg_fold(pg_sum(ic, 8 + quote, 0)));
	else
		pg_put16(ic + 2, pg_l4_verify(6, router->addr, to->addr, 58, ic,
		    8 + quote));
	return off + hl + 8 + quote;
}

/*
 * Check every checksum of a frame (IPv4 header, TCP/UDP/ICMP, and an ICMP
 * error's embedded IPv4 header). Returns NULL when all are right, else what
 * is wrong.
 */
static inline const char *
pg_check(const uint8_t *f, size_t len)
{
	size_t off = 14;
	const uint8_t *l3;
	int family;
	size_t hl, tot;
	uint8_t proto;

	if (len < 14)
		return "short";
	if (f[12] == 0x81 && f[13] == 0x00)
		off += 4;
	l3 = f + off;
	family = l3[0] >> 4;
	if (family == 4) {
		hl = (size_t)(l3[0] & 15) * 4;
		tot = (size_t)(l3[2] << 8 | l3[3]);
		proto = l3[9];
		if (pg_fold(pg_sum(l3, hl, 0)) != 0)
			return "ipv4 header checksum";
	} else {
		hl = 40;
		tot = 40 + (size_t)(l3[4] << 8 | l3[5]);
		proto = l3[6];
	}
	if (off + tot > len)
		return "ip length beyond frame";
	if (proto == 6 || proto == 58 ||
	    (proto == 17 && !(family == 4 && l3[hl + 6] == 0 && l3[hl + 7] == 0))) {
		if (pg_l4_verify(family, pg_src_of(l3), pg_dst_of(l3), proto,
		    l3 + hl, tot - hl) != 0)
			return "l4 checksum";
	}
	if (proto == 1) {
		if (pg_fold(pg_sum(l3 + hl, tot - hl, 0)) != 0)
			return "icmp checksum";
		const uint8_t *in = l3 + hl + 8;
		if ((in[0] >> 4) == 4 &&
		    pg_fold(pg_sum(in, (size_t)(in[0] & 15) * 4, 0)) != 0)
			return "embedded ipv4 header checksum";
	}
	return NULL;
}

#endif /* TESTS_UNIT_PKTGEN_H */
