/*
 * VRRP advertisement codec: Ethernet + IPv4/IPv6 + VRRPv2/v3 (see vrrp_pkt.h).
 */
#include "vrrp/vrrp_pkt.h"

#include <string.h>

#include "lib/addr.h"
#include "lib/csum.h"

#define ETH_HLEN_	14
#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd
#define VRRP_TYPE_ADV	1

static const uint8_t MCAST4[4] = { 224, 0, 0, 18 };
static const uint8_t MCAST6[16] = { 0xff, 0x02, [15] = 0x12 };

static const char *const bad_names[VRRP_BAD__COUNT] = {
	[VRRP_OK] = "ok",
	[VRRP_BAD_SHORT] = "short",
	[VRRP_BAD_IP] = "bad_ip",
	[VRRP_BAD_TTL] = "bad_ttl",
	[VRRP_BAD_VERSION] = "bad_version",
	[VRRP_BAD_TYPE] = "bad_type",
	[VRRP_BAD_CHECKSUM] = "bad_checksum",
	[VRRP_BAD_LENGTH] = "bad_length",
	[VRRP_BAD_AUTH] = "bad_auth",
	[VRRP_BAD_INTERVAL] = "bad_interval",
	[VRRP_BAD_VRID] = "unknown_vrid",
	[VRRP_BAD_VERSION_MISMATCH] = "version_mismatch",
	[VRRP_BAD_V2_INTERVAL] = "interval_mismatch",
	[VRRP_BAD_ADDR_LIST] = "address_list_mismatch",
	[VRRP_BAD_OWN] = "own",
	[VRRP_BAD_PEER] = "not_a_peer",
};

const char *
vrrp_bad_name(enum vrrp_bad b)
{
	return (unsigned)b < VRRP_BAD__COUNT ? bad_names[b] : "?";
}

/* The checksum over the VRRP message, with the v3 pseudo-header: the value
 * to store (field zeroed), or 0 over a message whose checksum is right. */
static uint16_t
vrrp_csum(uint8_t version, uint8_t family, const uint8_t *src, const uint8_t *dst,
    const uint8_t *msg, size_t len)
{
	uint32_t sum = 0;

	if (version == 3) {
		uint8_t tail[8] = { 0 };
		size_t alen = addr_len(family);

		sum = csum_partial(src, alen, sum);
		sum = csum_partial(dst, alen, sum);
		if (family == 4) {	/* zero, protocol, length (16 bits) */
			tail[1] = VRRP_PROTO;
			put16(tail + 2, (uint16_t)len);
			sum = csum_partial(tail, 4, sum);
		} else {		/* length (32 bits), zero, next header */
			put16(tail + 2, (uint16_t)len);
			tail[7] = VRRP_PROTO;
			sum = csum_partial(tail, 8, sum);
		}
	}
	sum = csum_partial(msg, len, sum);
	return csum_fold(sum);	/* in memory order, like the field */
}

enum vrrp_bad
vrrp_decode(const uint8_t *f, size_t len, struct vrrp_adv *a)
{
	const uint8_t *ip, *v, *dst;
	size_t plen, alen, need;
	uint16_t et;

	memset(a, 0, sizeof(*a));
	if (len < ETH_HLEN_ + 20)
		return VRRP_BAD_SHORT;
	memcpy(a->src_mac, f + 6, 6);
	et = get16(f + 12);
	ip = f + ETH_HLEN_;
	len -= ETH_HLEN_;
	if (et == ET_IPV4) {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = get16(ip + 2);

		if (ip[0] >> 4 != 4 || ihl < 20 || tot < ihl || tot > len)
			return VRRP_BAD_IP;
		if (ip[9] != VRRP_PROTO || (get16(ip + 6) & 0x3fff) != 0 ||
		    csum_fold(csum_partial(ip, ihl, 0)) != 0)
			return VRRP_BAD_IP;	/* not VRRP, a fragment, bad sum */
		if (ip[8] != VRRP_TTL)
			return VRRP_BAD_TTL;
		a->family = 4;
		memcpy(a->src, ip + 12, 4);
		dst = ip + 16;
		v = ip + ihl;
		plen = tot - ihl;
		alen = 4;
	} else if (et == ET_IPV6) {
		if (len < 40 || ip[0] >> 4 != 6 || (size_t)get16(ip + 4) + 40 > len)
			return len < 40 ? VRRP_BAD_SHORT : VRRP_BAD_IP;
		/* Extension headers are not followed: VRRP never needs them. */
		if (ip[6] != VRRP_PROTO)
			return VRRP_BAD_IP;
		if (ip[7] != VRRP_TTL)
			return VRRP_BAD_TTL;
		a->family = 6;
		memcpy(a->src, ip + 8, 16);
		dst = ip + 24;
		v = ip + 40;
		plen = get16(ip + 4);
		alen = 16;
	} else
		return VRRP_BAD_IP;

	if (plen < 8)
		return VRRP_BAD_SHORT;
	a->version = v[0] >> 4;
	if (a->version != 3 && !(a->version == 2 && a->family == 4))
		return VRRP_BAD_VERSION;
	if ((v[0] & 0x0f) != VRRP_TYPE_ADV)
		return VRRP_BAD_TYPE;
	a->vrid = v[1];
	a->priority = v[2];
	a->n_addrs = v[3];
	need = 8 + (size_t)a->n_addrs * alen;
	if (a->version == 3) {
		if (plen != need)
			return plen < need ? VRRP_BAD_SHORT : VRRP_BAD_LENGTH;
		a->interval_cs = get16(v + 4) & 0x0fff;
	} else {
		/* RFC 3768 carries 8 bytes of authentication data after
		 * the addresses; accept senders that leave them out. */
		if (plen != need && plen != need + 8)
			return plen < need ? VRRP_BAD_SHORT : VRRP_BAD_LENGTH;
		/* Whether it is the instance's is the receiver's question. */
		a->auth_type = v[4];
		memset(a->auth, 0, sizeof(a->auth));
		if (plen == need + 8)
			memcpy(a->auth, v + need, sizeof(a->auth));
		a->interval_cs = (uint16_t)(v[5] * 100);
	}
	/* Summed with its own checksum field, a correct message gives 0. */
	if (vrrp_csum(a->version, a->family, a->src, dst, v, plen) != 0)
		return VRRP_BAD_CHECKSUM;
	if (a->interval_cs == 0)
		return VRRP_BAD_INTERVAL;
	a->addrs = v + 8;
	memcpy(a->dst, dst, alen);
	a->unicast = memcmp(dst, a->family == 4 ? MCAST4 : MCAST6, alen) != 0;
	return VRRP_OK;
}

size_t
vrrp_encode(uint8_t *f, size_t cap, const struct vrrp_adv *a, const uint8_t *addrs)
{
	size_t alen = addr_len(a->family), iplen = a->family == 4 ? 20 : 40;
	size_t vlen = 8 + (size_t)a->n_addrs * alen + (a->version == 2 ? 8 : 0);
	size_t total = ETH_HLEN_ + iplen + vlen;
	uint8_t *ip = f + ETH_HLEN_, *v = ip + iplen;
	const uint8_t *dst = a->unicast ? a->dst : a->family == 4 ? MCAST4 : MCAST6;
	uint16_t csum;

	if ((a->family != 4 && a->family != 6) || (a->version != 2 && a->version != 3) ||
	    (a->version == 2 && a->family != 4) || a->n_addrs > VRRP_MAX_ADDRS ||
	    total > cap)
		return 0;
	if (a->version == 2 && (a->interval_cs % 100 != 0 || a->interval_cs / 100 > 255 ||
	    a->interval_cs == 0))
		return 0;
	if (a->version == 3 && (a->interval_cs == 0 || a->interval_cs > 0x0fff))
		return 0;
	memset(f, 0, total);
	if (a->family == 4) {
		if (!a->unicast) {
			f[0] = 0x01; f[1] = 0x00; f[2] = 0x5e; f[5] = 0x12;
		}
		put16(f + 12, ET_IPV4);
		ip[0] = 0x45;
		ip[1] = 0xc0;		/* DSCP CS6, network control */
		put16(ip + 2, (uint16_t)(iplen + vlen));
		ip[8] = VRRP_TTL;
		ip[9] = VRRP_PROTO;
		memcpy(ip + 12, a->src, 4);
		memcpy(ip + 16, dst, 4);
		csum = csum_fold(csum_partial(ip, 20, 0));
		memcpy(ip + 10, &csum, 2);
	} else {
		if (!a->unicast) {
			f[0] = 0x33; f[1] = 0x33; f[5] = 0x12;
		}
		put16(f + 12, ET_IPV6);
		ip[0] = 0x6c;		/* version 6, traffic class CS6 */
		put16(ip + 4, (uint16_t)vlen);
		ip[6] = VRRP_PROTO;
		ip[7] = VRRP_TTL;
		memcpy(ip + 8, a->src, 16);
		memcpy(ip + 24, dst, 16);
	}
	memcpy(f + 6, a->src_mac, 6);
	v[0] = (uint8_t)(a->version << 4 | VRRP_TYPE_ADV);
	v[1] = a->vrid;
	v[2] = a->priority;
	v[3] = a->n_addrs;
	if (a->version == 3)
		put16(v + 4, a->interval_cs);
	else {
		v[4] = a->auth_type;
		v[5] = (uint8_t)(a->interval_cs / 100);
		memcpy(v + 8 + (size_t)a->n_addrs * alen, a->auth,
		    sizeof(a->auth));
	}
	memcpy(v + 8, addrs, (size_t)a->n_addrs * alen);
	csum = vrrp_csum(a->version, a->family, a->src, dst, v, vlen);
	memcpy(v + 6, &csum, 2);
	return total;
}
