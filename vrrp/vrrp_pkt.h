/*
 * VRRP advertisements on the wire: VRRPv3 (RFC 5798) for IPv4 and IPv6 and
 * VRRPv2 (RFC 3768) for IPv4, as whole Ethernet frames.
 *
 * lbd sends and receives VRRP on packet sockets, not through the IP stack,
 * so that the advertisement leaves with the virtual MAC as its Ethernet
 * source (the switch learns where the group lives from every advertisement,
 * not only from gratuitous ARPs) and arrives whatever the node's rp_filter
 * or multicast memberships say. Decoding therefore starts at the Ethernet
 * header and checks what RFC 5798 section 7.1 asks of the IP layer too.
 *
 * Checksums: v2 sums the VRRP message alone; v3 adds the IPv4 or IPv6
 * pseudo-header (RFC 5798 section 5.2.8), for both families.
 */
#ifndef LBD_VRRP_PKT_H
#define LBD_VRRP_PKT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define VRRP_PROTO		112
#define VRRP_TTL		255
#define VRRP_MAX_ADDRS		32	/* per advertisement, what we send and keep */
#define VRRP_FRAME_MAX		(14 + 40 + 8 + 16 * VRRP_MAX_ADDRS + 8)

/* Why a frame was not taken as an advertisement; counted per reason. */
enum vrrp_bad {
	VRRP_OK = 0,
	VRRP_BAD_SHORT,		/* truncated frame, IP or VRRP header */
	VRRP_BAD_IP,		/* not IPv4/IPv6, bad IP header, not protocol 112 */
	VRRP_BAD_TTL,		/* TTL / hop limit not 255 */
	VRRP_BAD_VERSION,	/* not 2 or 3, or 2 over IPv6 */
	VRRP_BAD_TYPE,		/* not ADVERTISEMENT (1) */
	VRRP_BAD_CHECKSUM,
	VRRP_BAD_LENGTH,	/* address count does not match the length */
	VRRP_BAD_AUTH,		/* v2: authentication not the instance's (type
				 * or password; the receiver's check) */
	VRRP_BAD_INTERVAL,	/* advertisement interval 0 */
	/* Reasons the receiver (not the decoder) finds: */
	VRRP_BAD_VRID,		/* no instance with this VRID here */
	VRRP_BAD_VERSION_MISMATCH, /* the instance runs the other version */
	VRRP_BAD_V2_INTERVAL,	/* v2: interval differs from ours (RFC 3768) */
	VRRP_BAD_ADDR_LIST,	/* v2, not the owner: address list differs */
	VRRP_BAD_OWN,		/* an advertisement we sent, seen again */
	VRRP_BAD_PEER,		/* unicast instance: not from a unicast-peer */
	VRRP_BAD__COUNT
};

const char	*vrrp_bad_name(enum vrrp_bad);

struct vrrp_adv {
	uint8_t		 version;	/* 2 or 3 */
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 vrid;
	uint8_t		 priority;
	uint16_t	 interval_cs;	/* centiseconds; v2's seconds × 100 */
	uint8_t		 n_addrs;
	uint8_t		 src[16];	/* sender's IP (IPv4 in the first 4 bytes) */
	uint8_t		 src_mac[6];
	uint8_t		 dst[16];	/* decode: the destination; encode: */
	bool		 unicast;	/* used only when this is set */
	const uint8_t	*addrs;		/* n_addrs × 4 or 16 bytes, in the frame */
	/* v2 (RFC 3768 5.3.6): 0 none, 1 simple text password (its 8 bytes,
	 * zero-padded), 2 the withdrawn IP Authentication Header. */
	uint8_t		 auth_type;
	uint8_t		 auth[8];
};

#define VRRP_AUTH_NONE	0
#define VRRP_AUTH_PASS	1

/* Decode an Ethernet frame carrying an advertisement. */
enum vrrp_bad	vrrp_decode(const uint8_t *frame, size_t len, struct vrrp_adv *);

/*
 * Encode an advertisement to the VRRP multicast group (224.0.0.18 or
 * ff02::12), or to `a->dst` when `a->unicast` (the Ethernet destination is
 * then left zero: unicast frames go out through the kernel's IP stack). `a->src` is the sender's primary address (for IPv6 its
 * link-local address), `a->src_mac` the Ethernet source, `addrs` the
 * virtual addresses. Returns the frame length, 0 if `cap` is too small or
 * the advertisement is not encodable.
 */
size_t		vrrp_encode(uint8_t *frame, size_t cap, const struct vrrp_adv *a,
		    const uint8_t *addrs);

#endif /* LBD_VRRP_PKT_H */
