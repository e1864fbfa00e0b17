/*
 * parse — header parsing for the packet engine.
 *
 * Ethernet (+ one or two 802.1Q/802.1ad tags), ARP, IPv4 (options,
 * fragments), IPv6 (extension-header chain), TCP, UDP, ICMP and ICMPv6,
 * including the packet embedded in an ICMP error. Every header is bounds
 * checked before it is read; a malformed frame yields exactly one reason
 * (enum dp_drop) and the parser never reads past `len`.
 *
 * All offsets are from the start of the frame; addresses are kept in network
 * byte order in 16-byte arrays (IPv4 in the first 4 bytes, the rest zero), so
 * the rest of the engine handles both families with one code path.
 */
#ifndef LBD_ENGINE_PARSE_H
#define LBD_ENGINE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lbd/engine/drop.h"

#define DP_ETH_HLEN	14
#define DP_ETH_P_IP	0x0800
#define DP_ETH_P_ARP	0x0806
#define DP_ETH_P_IPV6	0x86dd
#define DP_ETH_P_8021Q	0x8100
#define DP_ETH_P_8021AD	0x88a8

#define DP_PROTO_ICMP	1
#define DP_PROTO_TCP	6
#define DP_PROTO_UDP	17
#define DP_PROTO_ICMP6	58

#define DP_TCP_FIN	0x01
#define DP_TCP_SYN	0x02
#define DP_TCP_RST	0x04
#define DP_TCP_ACK	0x10

/* The L3/L4 view of one IP packet (outer, or the one inside an ICMP error). */
struct dp_l34 {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;		/* L4 protocol after extension headers */
	uint8_t		tcp_flags;
	uint8_t		frag;		/* DP_FRAG_* */
	uint16_t	l3_off;
	uint16_t	l4_off;		/* 0 when no L4 header (later fragment) */
	uint16_t	l3_len;		/* IP total length as the header says */
	uint16_t	sport, dport;	/* network order; ICMP echo: id in both */
	uint8_t		src[16], dst[16];
	uint8_t		icmp_type, icmp_code;
	uint32_t	frag_id;	/* IPv4 id or IPv6 fragment id */
};

#define DP_FRAG_NONE	0
#define DP_FRAG_FIRST	1	/* offset 0, more fragments follow */
#define DP_FRAG_LATER	2	/* offset > 0: no L4 header here */

struct dp_pkt {
	uint16_t	vlan[2];	/* TCI, 0 when absent */
	uint8_t		n_vlan;
	uint16_t	ethertype;	/* after the tags */
	struct dp_l34	ip;		/* valid for IPv4/IPv6 */
	bool		is_icmp_err;	/* ICMP(v6) error carrying `inner` */
	struct dp_l34	inner;		/* the offending packet, as embedded */
};

/*
 * Parse `len` bytes of `frame`. Returns DP_DROP_NONE with `p` filled, or the
 * reason the frame is malformed. Non-IP ethertypes parse successfully with
 * only the L2 fields set.
 */
enum dp_drop	dp_parse(const uint8_t *frame, size_t len, struct dp_pkt *p);

/* Is this ICMP/ICMPv6 type an error that carries the offending packet? */
bool		dp_icmp_is_error(uint8_t family, uint8_t type);

#endif /* LBD_ENGINE_PARSE_H */
