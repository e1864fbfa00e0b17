/*
 * Header parsing: a cursor walks the frame, and every header is checked
 * against the bytes that remain before it is read. Each failed check returns
 * its own reason. The IP payload is bounded by the IP length field, not by the
 * frame, which may carry Ethernet padding after it.
 */
#include <string.h>

#include "lib/csum.h"
#include "lbd/engine/parse.h"

#define RD16(p)	((uint16_t)(((uint16_t)(p)[0] << 8) | (p)[1]))
#define RD32(p)	(((uint32_t)(p)[0] << 24) | ((uint32_t)(p)[1] << 16) | \
		 ((uint32_t)(p)[2] << 8) | (p)[3])

bool
dp_icmp_is_error(uint8_t family, uint8_t type)
{
	if (family == 4)	/* unreachable, source quench, time exceeded, param */
		return type == 3 || type == 4 || type == 11 || type == 12;
	return type >= 1 && type <= 4;	/* unreach, too big, time exceeded, param */
}

/*
 * Parse L4 ports/flags at `off`, within [off, end). `inner` packets only
 * promise the first 8 bytes of their L4 header (RFC 792, RFC 4443 2.4).
 */
static enum dp_drop
parse_l4(const uint8_t *f, size_t off, size_t end, struct dp_l34 *ip, bool inner)
{
	size_t avail = end > off ? end - off : 0;

	ip->l4_off = (uint16_t)off;
	switch (ip->proto) {
	case DP_PROTO_TCP:
		if (avail < (inner ? 8u : 20u))
			return DP_DROP_SHORT_L4;
		memcpy(&ip->sport, f + off, 2);		/* network order */
		memcpy(&ip->dport, f + off + 2, 2);
		if (!inner) {
			size_t doff = (size_t)(f[off + 12] >> 4) * 4;
			if (doff < 20 || doff > avail)
				return DP_DROP_BAD_TCP_HLEN;
			ip->tcp_flags = f[off + 13];
		}
		break;
	case DP_PROTO_UDP:
		if (avail < 8)
			return DP_DROP_SHORT_L4;
		memcpy(&ip->sport, f + off, 2);
		memcpy(&ip->dport, f + off + 2, 2);
		break;
	case DP_PROTO_ICMP:
	case DP_PROTO_ICMP6:
		if ((ip->proto == DP_PROTO_ICMP) != (ip->family == 4))
			return DP_DROP_NONE;	/* ICMP over the other family: not ours */
		if (avail < 8)
			return DP_DROP_SHORT_L4;
		ip->icmp_type = f[off];
		ip->icmp_code = f[off + 1];
		/* Echo id as both "ports", so echo could be tracked like UDP. */
		memcpy(&ip->sport, f + off + 4, 2);
		ip->dport = ip->sport;
		break;
	default:
		ip->l4_off = 0;
		break;
	}
	return DP_DROP_NONE;
}

static enum dp_drop
parse_ipv4(const uint8_t *f, size_t off, size_t len, struct dp_l34 *ip,
    bool inner)
{
	size_t ihl, tot, end;
	uint16_t fragw;

	if (len < off + 20)
		return inner ? DP_DROP_SHORT_ICMP_INNER : DP_DROP_SHORT_IP;
	if ((f[off] >> 4) != 4)
		return inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_IP_VERSION;
	ihl = (size_t)(f[off] & 0x0f) * 4;
	if (ihl < 20 || off + ihl > len)
		return inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_IHL;
	tot = RD16(f + off + 2);
	if (tot < ihl)
		return inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_IP_LEN;
	if (!inner) {
		if (off + tot > len)
			return DP_DROP_BAD_IP_LEN;
		if (csum_fold(csum_partial(f + off, ihl, 0)) != 0)
			return DP_DROP_BAD_IP_CSUM;
		end = off + tot;
	} else
		end = off + tot < len ? off + tot : len;	/* may be cut */

	ip->family = 4;
	ip->l3_off = (uint16_t)off;
	ip->l3_len = (uint16_t)tot;
	ip->proto = f[off + 9];
	memset(ip->src, 0, 16);
	memset(ip->dst, 0, 16);
	memcpy(ip->src, f + off + 12, 4);
	memcpy(ip->dst, f + off + 16, 4);
	ip->frag_id = RD16(f + off + 4);
	fragw = RD16(f + off + 6);
	if (fragw & 0x8000)
		return inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_FRAG;
	if ((fragw & 0x1fff) != 0) {
		ip->frag = DP_FRAG_LATER;
		ip->l4_off = 0;
		return DP_DROP_NONE;
	}
	ip->frag = (fragw & 0x2000) ? DP_FRAG_FIRST : DP_FRAG_NONE;
	return parse_l4(f, off + ihl, end, ip, inner);
}

/* IPv6: fixed header, then the extension-header chain (RFC 8200 4). */
static enum dp_drop
parse_ipv6(const uint8_t *f, size_t off, size_t len, struct dp_l34 *ip,
    bool inner)
{
	enum dp_drop bad = inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_EXT_HDR;
	size_t plen, end, cur;
	uint8_t nh;

	if (len < off + 40)
		return inner ? DP_DROP_SHORT_ICMP_INNER : DP_DROP_SHORT_IP;
	if ((f[off] >> 4) != 6)
		return inner ? DP_DROP_BAD_ICMP_INNER : DP_DROP_BAD_IP_VERSION;
	plen = RD16(f + off + 4);
	if (!inner) {
		/* A zero payload length means a jumbogram: not on Ethernet. */
		if (plen == 0 || off + 40 + plen > len)
			return DP_DROP_BAD_IP_LEN;
		end = off + 40 + plen;
	} else
		end = off + 40 + plen < len ? off + 40 + plen : len;

	ip->family = 6;
	ip->l3_off = (uint16_t)off;
	ip->l3_len = (uint16_t)(40 + plen);
	memcpy(ip->src, f + off + 8, 16);
	memcpy(ip->dst, f + off + 24, 16);
	ip->frag = DP_FRAG_NONE;
	nh = f[off + 6];
	cur = off + 40;
	for (int n = 0; ; n++) {
		size_t hlen;

		switch (nh) {
		case 0:		/* hop-by-hop: only directly after the header */
			if (n != 0)
				return bad;
			/* FALLTHROUGH */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (cur + 2 > end)
				return bad;
			hlen = ((size_t)f[cur + 1] + 1) * 8;
			break;
		case 51:	/* authentication header */
			if (cur + 2 > end)
				return bad;
			hlen = ((size_t)f[cur + 1] + 2) * 4;
			break;
		case 44: {	/* fragment */
			uint16_t fo;
			if (cur + 8 > end)
				return bad;
			hlen = 8;
			fo = RD16(f + cur + 2);
			ip->frag_id = RD32(f + cur + 4);
			if ((fo & 0xfff8) != 0) {
				ip->frag = DP_FRAG_LATER;
				ip->proto = f[cur];
				ip->l4_off = 0;
				return DP_DROP_NONE;
			}
			if (fo & 1)
				ip->frag = DP_FRAG_FIRST;
			break;
		}
		default:
			ip->proto = nh;
			return parse_l4(f, cur, end, ip, inner);
		}
		if (n >= 8 || cur + hlen > end)
			return bad;
		nh = f[cur];
		cur += hlen;
	}
}

static enum dp_drop
parse_ip(const uint8_t *f, size_t off, size_t len, uint16_t ethertype,
    struct dp_l34 *ip, bool inner)
{
	memset(ip, 0, sizeof(*ip));
	if (ethertype == DP_ETH_P_IP)
		return parse_ipv4(f, off, len, ip, inner);
	return parse_ipv6(f, off, len, ip, inner);
}

enum dp_drop
dp_parse(const uint8_t *f, size_t len, struct dp_pkt *p)
{
	size_t off = 12;
	enum dp_drop r;

	p->n_vlan = 0;
	p->vlan[0] = p->vlan[1] = 0;
	p->is_icmp_err = false;
	p->ip.family = 0;
	if (len < DP_ETH_HLEN)
		return DP_DROP_SHORT_ETH;
	p->ethertype = RD16(f + off);
	while (p->ethertype == DP_ETH_P_8021Q || p->ethertype == DP_ETH_P_8021AD) {
		if (p->n_vlan == 2 || len < off + 6)
			return DP_DROP_SHORT_VLAN;
		p->vlan[p->n_vlan++] = RD16(f + off + 2);
		off += 4;
		p->ethertype = RD16(f + off);
	}
	off += 2;
	if (p->ethertype != DP_ETH_P_IP && p->ethertype != DP_ETH_P_IPV6)
		return DP_DROP_NONE;	/* ARP and the rest: the kernel's */

	if ((r = parse_ip(f, off, len, p->ethertype, &p->ip, false)) != DP_DROP_NONE)
		return r;

	/* An ICMP error carries the start of the packet it is about. */
	if (p->ip.l4_off != 0 && p->ip.frag == DP_FRAG_NONE &&
	    ((p->ip.family == 4 && p->ip.proto == DP_PROTO_ICMP) ||
	    (p->ip.family == 6 && p->ip.proto == DP_PROTO_ICMP6)) &&
	    dp_icmp_is_error(p->ip.family, p->ip.icmp_type)) {
		size_t end = (size_t)p->ip.l3_off + p->ip.l3_len;
		r = parse_ip(f, (size_t)p->ip.l4_off + 8, end, p->ethertype,
		    &p->inner, true);
		if (r != DP_DROP_NONE)
			return r;
		if (p->inner.l4_off == 0 || (p->inner.proto != DP_PROTO_TCP &&
		    p->inner.proto != DP_PROTO_UDP))
			return DP_DROP_NONE;	/* about something we never translate */
		p->is_icmp_err = true;
	}
	return DP_DROP_NONE;
}
