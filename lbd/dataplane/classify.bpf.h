/*
 * classify.bpf.h — what lbd owns, decided the same way by the XDP
 * classifier (classifier.bpf.c, `datapath userspace`) and the TC fast path
 * (fastpath.bpf.c, `datapath kernel`): the ownership maps lbd writes and
 * the parsing that asks them, written once. Each program that includes
 * this gets its own instance of the maps.
 *
 * Ours:
 *   - TCP/UDP to a service (VIP, proto, port);
 *   - TCP/UDP to a SNAT pool address (replies of one-arm connections);
 *   - TCP/UDP from a routed-mode backend's (address, port) to anything but
 *     this host's own addresses: the replies (a health check's answer to
 *     this host is the kernel's). While this node does not hold the
 *     service's group, only those not sent to a virtual MAC: a frame
 *     flooded to the master's MAC is not this node's to forward, but one
 *     sent to this node's own MAC would be forwarded by the kernel
 *     untranslated, and the client would reset the connection;
 *   - ICMP errors about any of those (so PMTU works through lbd), and
 *     fragments to a VIP or SNAT address (lbd counts and drops them).
 *
 * Parsing: a bounds check before every header access; `data`/`end` are the
 * frame's, from an xdp_md or a __sk_buff alike.
 */
#ifndef LBD_DATAPLANE_CLASSIFY_BPF_H
#define LBD_DATAPLANE_CLASSIFY_BPF_H

#include "classifier.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBD_CLS_MAX_SVCS);
	__type(key, struct lbd_flow_key);
	__type(value, __u32);
} lbd_svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBD_CLS_MAX_ADDRS);
	__type(key, struct lbd_addr_key);
	__type(value, __u32);
} lbd_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBD_CLS_MAX_BACKENDS);
	__type(key, struct lbd_flow_key);
	__type(value, __u32);
} lbd_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lbd_alive SEC(".maps");

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define NEXTHDR_FRAGMENT 44
#define IPPROTO_ICMPV6_	58

struct l4ports {
	__u16	sport, dport;
};

static __always_inline int
addr_has(__u8 family, const void *a, __u32 flag)
{
	struct lbd_addr_key k = { .family = family };
	__u32 *v;

	__builtin_memcpy(k.addr, a, family == 4 ? 4 : 16);
	v = bpf_map_lookup_elem(&lbd_addrs, &k);
	return v && (*v & flag);
}

static __always_inline int
flow_has(void *map, __u8 family, __u8 proto, const void *a, __u16 port)
{
	struct lbd_flow_key k = { .family = family, .proto = proto, .port = port };

	__builtin_memcpy(k.addr, a, family == 4 ? 4 : 16);
	return bpf_map_lookup_elem(map, &k) != 0;
}

/* A routed backend's reply: its LBD_BE_* flags, 0 when not a backend. */
static __always_inline __u32
backend_flags(__u8 family, __u8 proto, const void *a, __u16 port)
{
	struct lbd_flow_key k = { .family = family, .proto = proto, .port = port };
	__u32 *v;

	__builtin_memcpy(k.addr, a, family == 4 ? 4 : 16);
	v = bpf_map_lookup_elem(&lbd_backends, &k);
	return v ? *v : 0;
}

/* A VRRP virtual MAC (00:00:5e:00:01:xx, IPv6 00:00:5e:00:02:xx)? */
static __always_inline int
is_vmac(const __u8 *m)
{
	return m[0] == 0 && m[1] == 0 && m[2] == 0x5e && m[3] == 0 &&
	    (m[4] == 1 || m[4] == 2);
}

/* Sent to one? */
static __always_inline int
to_vmac(const struct ethhdr *eth)
{
	return is_vmac(eth->h_dest);
}

/* TCP/UDP from src:sport to dst:dport: is it ours? */
static __always_inline int
l4_ours(__u8 family, __u8 proto, const void *src, const void *dst,
    __u16 sport, __u16 dport, int vmac)
{
	__u32 be;

	if (flow_has(&lbd_svcs, family, proto, dst, dport))
		return 1;
	if (addr_has(family, dst, LBD_ADDR_SNAT))
		return 1;
	be = backend_flags(family, proto, src, sport);
	if (!(be & LBD_BE_HELD) && !((be & LBD_BE_UNHELD) && !vmac))
		return 0;
	return !addr_has(family, dst, LBD_ADDR_LOCAL);
}

/* An ICMP error quotes the offending packet, which went the other way:
 * ours when the quoted packet would have been. */
static __always_inline int
icmp4_ours(void *inner, void *end, const struct iphdr *outer)
{
	struct iphdr *ip = inner;
	struct l4ports *p;

	if (addr_has(4, &outer->daddr, LBD_ADDR_VIP | LBD_ADDR_SNAT))
		return 1;
	if (addr_has(4, &outer->daddr, LBD_ADDR_LOCAL))
		return 0;
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return 0;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return 0;
	p = (void *)ip + ip->ihl * 4;
	if ((void *)(p + 1) > end)
		return 0;
	/* Quoted: backend -> client (a reply) or lbd -> backend (DNATed). */
	return (backend_flags(4, ip->protocol, &ip->saddr, p->sport) |
	    backend_flags(4, ip->protocol, &ip->daddr, p->dport)) & LBD_BE_HELD;
}

static __always_inline int
icmp6_ours(void *inner, void *end, const struct ipv6hdr *outer)
{
	struct ipv6hdr *ip = inner;
	struct l4ports *p;

	if (addr_has(6, &outer->daddr, LBD_ADDR_VIP | LBD_ADDR_SNAT))
		return 1;
	if (addr_has(6, &outer->daddr, LBD_ADDR_LOCAL))
		return 0;
	if ((void *)(ip + 1) > end)
		return 0;
	if (ip->nexthdr != IPPROTO_TCP && ip->nexthdr != IPPROTO_UDP)
		return 0;
	p = (void *)(ip + 1);
	if ((void *)(p + 1) > end)
		return 0;
	return (backend_flags(6, ip->nexthdr, &ip->saddr, p->sport) |
	    backend_flags(6, ip->nexthdr, &ip->daddr, p->dport)) & LBD_BE_HELD;
}

static __always_inline int
ipv4_ours(void *l3, void *end, int vmac)
{
	struct iphdr *ip = l3;
	struct l4ports *p;
	__u8 *icmp;

	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return 0;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return addr_has(4, &ip->daddr, LBD_ADDR_VIP | LBD_ADDR_SNAT);
	p = l3 + ip->ihl * 4;
	switch (ip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((void *)(p + 1) > end)
			return 0;
		return l4_ours(4, ip->protocol, &ip->saddr, &ip->daddr,
		    p->sport, p->dport, vmac);
	case IPPROTO_ICMP:
		icmp = (__u8 *)p;
		if ((void *)(icmp + 8) > end)
			return 0;
		/* destination unreachable, time exceeded, parameter problem */
		if (icmp[0] != 3 && icmp[0] != 11 && icmp[0] != 12)
			return 0;
		return icmp4_ours(icmp + 8, end, ip);
	}
	return 0;
}

static __always_inline int
ipv6_ours(void *l3, void *end, int vmac)
{
	struct ipv6hdr *ip = l3;
	struct l4ports *p = (void *)(ip + 1);
	__u8 *icmp;

	if ((void *)(ip + 1) > end)
		return 0;
	switch (ip->nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((void *)(p + 1) > end)
			return 0;
		return l4_ours(6, ip->nexthdr, &ip->saddr, &ip->daddr,
		    p->sport, p->dport, vmac);
	case NEXTHDR_FRAGMENT:
		return addr_has(6, &ip->daddr, LBD_ADDR_VIP | LBD_ADDR_SNAT);
	case IPPROTO_ICMPV6_:
		icmp = (__u8 *)p;
		if ((void *)(icmp + 8) > end)
			return 0;
		/* unreachable, packet too big, time exceeded, parameter problem;
		 * never ND (133..137), which the kernel answers. */
		if (icmp[0] < 1 || icmp[0] > 4)
			return 0;
		return icmp6_ours(icmp + 8, end, ip);
	}
	return 0;
}

static __always_inline int
lbd_dead(void)
{
	__u32 zero = 0;
	__u64 *until = bpf_map_lookup_elem(&lbd_alive, &zero);

	/* 0: never set (lbd is starting) counts as alive. */
	return until && *until != 0 && bpf_ktime_get_ns() > *until;
}

/* An ARP request or neighbour solicitation for a floating address. */
static __always_inline int
asks_for_floating(struct ethhdr *eth, void *end)
{
	__u8 *p = (void *)(eth + 1);
	__u8 a[16];

	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		/* Ethernet/IPv4 ARP: target IP at offset 24. */
		if ((void *)(p + 28) > end || p[7] != 1)
			return 0;
		__builtin_memcpy(a, p + 24, 4);
		return addr_has(4, a, LBD_ADDR_VIP | LBD_ADDR_SNAT);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip = (void *)p;
		__u8 *icmp = (void *)(ip + 1);

		if ((void *)(icmp + 24) > end || ip->nexthdr != IPPROTO_ICMPV6_ ||
		    icmp[0] != 135)
			return 0;
		__builtin_memcpy(a, icmp + 8, 16);
		return addr_has(6, a, LBD_ADDR_VIP | LBD_ADDR_SNAT);
	}
	return 0;
}

#endif /* LBD_DATAPLANE_CLASSIFY_BPF_H */
