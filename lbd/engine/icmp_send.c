/*
 * The ICMP errors lbd sends as a router hop, in place of the packet that
 * caused them (the frame is rewritten, as send_rst does):
 *
 *   too big        IPv4 "fragmentation needed" (3/4, RFC 1191) for a packet
 *                  with DF set, IPv6 "packet too big" (2/0, RFC 8201): a
 *                  packet larger than its egress link, so that the sender's
 *                  path MTU discovery learns the link instead of
 *                  retransmitting into a black hole (an overlay's 1450-byte
 *                  back side, say);
 *   time exceeded  11/0, ICMPv6 3/0: TTL or hop limit ran out here
 *                  (traceroute shows lbd).
 *
 * From the address of the interface the packet came in on (the node's own,
 * as a router's), to the packet's source, quoting as much of the packet as
 * RFC 1812 4.3.2.3 / RFC 4443 2.4(c) allow (576 / 1280 bytes in all). Never
 * about a packet from a source that is not unicast (RFC 1812 4.3.2.7); at
 * most ICMP_RATE a second with bursts of ICMP_BURST, like the kernel's
 * icmp_msgs_per_sec, counted when over (icmp_limited).
 */
#include <arpa/inet.h>
#include <string.h>

#include "lbd/engine/engine_int.h"
#include "lib/csum.h"

#define ICMP_RATE	1000	/* per second, per engine */
#define ICMP_BURST	50

static bool
unicast(uint8_t family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == 4)
		return a[0] != 0 && a[0] < 224 && a[0] != 127 &&
		    !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
	return a[0] != 0xff && memcmp(a, zero, 16) != 0;
}

/* A token from the engine's bucket (thousandths of a message). */
static bool
token(struct dp_engine *e)
{
	uint64_t m = e->icmp_milli + (uint64_t)(uint32_t)(e->now -
	    e->icmp_last) * ICMP_RATE;

	if (!e->icmp_used) {		/* a full bucket to start with */
		e->icmp_used = true;
		m = ICMP_BURST * 1000;
	}
	if (m > ICMP_BURST * 1000)
		m = ICMP_BURST * 1000;
	e->icmp_last = e->now;
	if (m < 1000) {
		e->icmp_milli = (uint32_t)m;
		return false;
	}
	e->icmp_milli = (uint32_t)(m - 1000);
	return true;
}

void
dp_ip_header(uint8_t *l3, uint8_t family, uint8_t proto, const uint8_t *src,
    const uint8_t *dst, uint16_t l4len, uint8_t tos, bool df)
{
	if (family == 4) {
		uint16_t tot = htons((uint16_t)(20 + l4len)), c;

		memset(l3, 0, 20);
		l3[0] = 0x45;
		l3[1] = tos;
		memcpy(l3 + 2, &tot, 2);
		l3[6] = df ? 0x40 : 0;
		l3[8] = 64;
		l3[9] = proto;
		memcpy(l3 + 12, src, 4);
		memcpy(l3 + 16, dst, 4);
		c = csum_fold(csum_partial(l3, 20, 0));
		memcpy(l3 + 10, &c, 2);
	} else {
		uint16_t plen = htons(l4len);

		memset(l3, 0, 40);
		l3[0] = 0x60;
		memcpy(l3 + 4, &plen, 2);
		l3[6] = proto;
		l3[7] = 64;
		memcpy(l3 + 8, src, 16);
		memcpy(l3 + 24, dst, 16);
	}
}

bool
icmp_send_error(struct dp_engine *e, uint8_t *f, uint32_t cap,
    const struct dp_pkt *p, uint16_t in_if, enum icmp_kind kind, uint32_t mtu,
    struct dp_verdict *v)
{
	const struct dp_l34 *ip = &p->ip;
	const struct dp_iface *ifc;
	bool v4 = ip->family == 4;
	uint32_t hl = v4 ? 20 : 40, quote, room;
	uint8_t src[16], dst[16], *l3, *ic;
	uint16_t c;

	if (in_if >= e->n_if)
		return false;
	ifc = &e->ifs[in_if];
	if (v4 ? !ifc->has_addr4 : !ifc->has_addr6)
		return false;
	if (!unicast(ip->family, ip->src))
		return false;
	/* No DF: the sender allowed fragments; lbd does not make them, the
	 * packet is only dropped (too_big). */
	if (v4 && kind == ICMP_TOO_BIG && !(f[ip->l3_off + 6] & 0x40))
		return false;
	if ((uint32_t)ip->l3_off + hl + 8 + 28 > cap)
		return false;
	if (!token(e)) {
		e->stats.icmp_limited++;
		return false;
	}
	quote = ip->l3_len;
	if (quote > (v4 ? 576u : 1280u) - hl - 8)
		quote = (v4 ? 576u : 1280u) - hl - 8;
	room = cap - ip->l3_off - hl - 8;
	if (quote > room)
		quote = room;
	memcpy(dst, ip->src, 16);
	memset(src, 0, 16);
	memcpy(src, v4 ? ifc->addr4 : ifc->addr6, v4 ? 4 : 16);
	l3 = f + ip->l3_off;
	memmove(l3 + hl + 8, l3, quote);

	/* Back to whoever handed it to us, from this interface. */
	memcpy(f, f + 6, 6);
	memcpy(f + 6, ifc->mac, 6);
	dp_ip_header(l3, ip->family, v4 ? DP_PROTO_ICMP : DP_PROTO_ICMP6, src,
	    dst, (uint16_t)(8 + quote), 0xc0, false);	/* as Linux: CS6 */
	ic = l3 + hl;
	memset(ic, 0, 8);
	if (v4 && kind == ICMP_TOO_BIG) {
		uint16_t m = htons((uint16_t)mtu);

		ic[0] = 3;
		ic[1] = 4;
		memcpy(ic + 6, &m, 2);
	} else if (v4)
		ic[0] = 11;
	else if (kind == ICMP_TOO_BIG) {
		uint32_t m = htonl(mtu);

		ic[0] = 2;
		memcpy(ic + 4, &m, 4);
	} else
		ic[0] = 3;
	c = v4 ? csum_fold(csum_partial(ic, 8 + quote, 0)) :
	    csum_l4(6, src, dst, DP_PROTO_ICMP6, ic, 8 + quote);
	memcpy(ic + 2, &c, 2);
	v->action = DP_TX;
	v->ifidx = in_if;
	v->len = ip->l3_off + hl + 8 + quote;
	e->stats.tx++;
	e->stats.icmp_sent++;
	return true;
}
