/*
 * The kernel fast path (`datapath kernel`): TC programs, clsact ingress,
 * direct action, attached by lbd.
 *
 * lbd_fp_in, on each data interface, executes what the engine installed:
 *
 *   a packet whose 5-tuple is in lbd_fp_flows, not a SYN, FIN or RST, with
 *   TTL to spare and within the egress MTU, is rewritten as the flow says
 *   (addresses, ports, TTL, Ethernet addresses; checksums with the
 *   kernel's helpers, right for CHECKSUM_PARTIAL skbs from TSO senders)
 *   and redirected out of the flow's interface as it is: a 64 KiB GSO skb
 *   stays one skb, and the egress segments it (or its NIC does).
 *
 * Everything else that is lbd's (classify.bpf.h says what is) goes to the
 * engine: redirected to the near end of the interface's internal veth
 * pair, whose far end carries an XDP program and the workers' AF_XDP
 * sockets. Every punt is counted by its reason. What is not lbd's passes
 * to the kernel untouched.
 *
 * A tunnelled dsr flow's packet goes whole inside the outer header the flow
 * names (encap(), the engine's tunnel.c header byte for byte); a GSO skb
 * stays one, its segments made smaller by the header.
 *
 * lbd_fp_out, on each pair's near end, sends the frames the engine
 * forwarded out of their data interface.
 *
 * lbd_fp_guard, clsact egress of each data interface: a frame from a VRRP
 * virtual MAC leaves only while lbd lives. Its VRRP thread (vrrp_keeper.c)
 * pushes lbd_fp_vrrp_alive forward every few ms; once lbd is killed or
 * frozen the macvlans it left up still carry the addresses, and the
 * kernel speaks for them unasked (MLD reports and router joins when a
 * link comes back, answers to a querier): each such frame would pull the
 * switch's entry for the MAC away from the new master. 0 (never pushed:
 * lbd starting, or no VRRP) lets everything out.
 *
 * The program decides nothing: a flow is the engine's decision, and the
 * engine's output is what the tests compare it with (tests/packets).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "classify.bpf.h"
#include "fastpath.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 21);	/* lbd resizes it before loading */
	__type(key, struct lbd_fp_key);
	__type(value, struct lbd_fp_act);
} lbd_fp_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBD_FP_MAX_IFS);
	__type(key, __u32);
	__type(value, struct lbd_fp_if);
} lbd_fp_ifs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LBD_FP__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lbd_fp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lbd_fp_vrrp_alive SEC(".maps");

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04

static __always_inline void
count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&lbd_fp_stats, &slot);

	if (v)
		*v += 1;
}

/* To the engine: the near end of this interface's pair. */
static __always_inline int
punt(struct __sk_buff *skb, __u32 why)
{
	__u32 ifi = skb->ifindex;
	struct lbd_fp_if *i = bpf_map_lookup_elem(&lbd_fp_ifs, &ifi);

	if (i == NULL || i->kind != LBD_FP_IF_DATA) {
		/* Never to the kernel: it holds the VIP too and would reset
		 * the connection. */
		count(LBD_FP_NO_PUNT);
		return TC_ACT_SHOT;
	}
	count(why);
	return bpf_redirect(i->to, 0);
}

/* Not a flow's: the engine's if lbd owns it, else the kernel's. */
static __always_inline int
classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	int ours = 0;

	if ((void *)(eth + 1) > end)
		goto pass;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		ours = ipv4_ours(eth + 1, end, to_vmac(eth));
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		ours = ipv6_ours(eth + 1, end, to_vmac(eth));
	if (!ours) {
		if (lbd_dead() && asks_for_floating(eth, end))
			goto dead;
		goto pass;
	}
	if (lbd_dead())
		goto dead;
	return punt(skb, LBD_FP_PUNT_MISS);
pass:
	count(LBD_FP_PASS);
	return TC_ACT_OK;
dead:
	count(LBD_FP_DEAD);
	return TC_ACT_SHOT;
}

/* Replace one address of the packet (4 or 16 bytes at `off`), the
 * checksums that cover it along. */
static __always_inline void
set_addr(struct __sk_buff *skb, __u8 family, __u32 off, __u32 l4csum,
    __u64 l4flags, __u8 *from, __u8 *to)
{
	if (family == 4) {
		__u32 f = *(__u32 *)from, t = *(__u32 *)to;

		bpf_l4_csum_replace(skb, l4csum, f, t, BPF_F_PSEUDO_HDR |
		    l4flags | 4);
		bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check),
		    f, t, 4);
		bpf_skb_store_bytes(skb, off, to, 4, 0);
	} else {
		__s64 diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);

		bpf_l4_csum_replace(skb, l4csum, 0, diff, BPF_F_PSEUDO_HDR |
		    l4flags);
		bpf_skb_store_bytes(skb, off, to, 16, 0);
	}
}

static __always_inline void
set_port(struct __sk_buff *skb, __u32 off, __u32 l4csum, __u64 l4flags,
    __u16 from, __u16 to)
{
	bpf_l4_csum_replace(skb, l4csum, from, to, l4flags | 2);
	bpf_skb_store_bytes(skb, off, &to, 2, 0);
}

/* What a tunnel's outer header takes from the packet inside. */
struct inner {
	__u32	len;		/* its IP length */
	__u16	id;		/* IPv4 */
	__u8	tos;		/* TOS / traffic class */
	__u8	df;		/* IPv4 DF */
};

static __always_inline __u16
ip_csum(const __u16 *h)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += h[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Tunnelled dsr: room for the outer header after the Ethernet one, and the
 * header as tunnel.c writes it. BPF_F_ADJ_ROOM_ENCAP_* mark the skb
 * encapsulated, so a GSO skb's segments come out the header smaller (each
 * with its own outer lengths) and a partial checksum still finds the TCP
 * header. false: the skb could not grow; the engine takes the packet.
 */
static __always_inline int
encap(struct __sk_buff *skb, const struct lbd_fp_act *a, __u8 family,
    const struct inner *in)
{
	__u8 h[48] = {};
	__u8 gue = a->enc_kind == LBD_FP_ENC_GUE;
	__u32 hl;
	__u64 fl;

	if (family == 4) {
		struct iphdr *o = (void *)h;

		hl = gue ? 28 : 20;
		o->version = 4;
		o->ihl = 5;
		o->tos = in->tos;
		o->tot_len = bpf_htons((__u16)(in->len + hl));
		if (in->df)
			o->frag_off = bpf_htons(0x4000);
		else
			o->id = in->id;
		o->ttl = 64;
		o->protocol = gue ? IPPROTO_UDP : IPPROTO_IPIP;
		__builtin_memcpy(&o->saddr, a->enc_src, 4);
		__builtin_memcpy(&o->daddr, a->enc_dst, 4);
		o->check = ip_csum((const __u16 *)h);
		if (gue) {
			__u16 *u = (__u16 *)(h + 20);

			u[0] = a->enc_sport;
			u[1] = a->enc_dport;
			u[2] = bpf_htons((__u16)(in->len + 8));
		}
		fl = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 |
		    (gue ? BPF_F_ADJ_ROOM_ENCAP_L4_UDP : 0);
	} else {
		hl = 40;
		h[0] = 0x60 | in->tos >> 4;
		h[1] = (__u8)(in->tos << 4) | ((a->enc_label >> 16) & 0x0f);
		h[2] = (__u8)(a->enc_label >> 8);
		h[3] = (__u8)a->enc_label;
		*(__u16 *)(h + 4) = bpf_htons((__u16)in->len);
		h[6] = IPPROTO_IPV6;
		h[7] = 64;
		__builtin_memcpy(h + 8, a->enc_src, 16);
		__builtin_memcpy(h + 24, a->enc_dst, 16);
		fl = BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
	}
	if (bpf_skb_adjust_room(skb, hl, BPF_ADJ_ROOM_MAC, fl) != 0)
		return 0;
	if (hl == 20)
		bpf_skb_store_bytes(skb, ETH_HLEN, h, 20, 0);
	else if (hl == 28)
		bpf_skb_store_bytes(skb, ETH_HLEN, h, 28, 0);
	else
		bpf_skb_store_bytes(skb, ETH_HLEN, h, 40, 0);
	return 1;
}

SEC("tc")
int
lbd_fp_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct lbd_fp_key k = {};
	struct lbd_fp_act *a;
	__u32 l4, l4csum, saddr, daddr, segs, tcpseq = 0, tcphl = 0;
	__u16 ttlw = 0, *ports;
	__u8 ttl, tcpfl = 0;
	__u64 l4flags;
	struct inner in = {};
	__u32 hl = 0, len0;

	if ((void *)(eth + 1) > end)
		return classify(skb);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(0x3fff)) ||
		    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
			return classify(skb);
		k.family = 4;
		k.proto = ip->protocol;
		__builtin_memcpy(k.src, &ip->saddr, 4);
		__builtin_memcpy(k.dst, &ip->daddr, 4);
		ttl = ip->ttl;
		ttlw = *(__u16 *)&ip->ttl;
		in.len = bpf_ntohs(ip->tot_len);
		in.id = ip->id;
		in.tos = ip->tos;
		in.df = (ip->frag_off & bpf_htons(0x4000)) != 0;
		l4 = ETH_HLEN + ip->ihl * 4;
		saddr = ETH_HLEN + offsetof(struct iphdr, saddr);
		daddr = ETH_HLEN + offsetof(struct iphdr, daddr);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end ||
		    (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP))
			return classify(skb);
		k.family = 6;
		k.proto = ip6->nexthdr;
		__builtin_memcpy(k.src, &ip6->saddr, 16);
		__builtin_memcpy(k.dst, &ip6->daddr, 16);
		ttl = ip6->hop_limit;
		in.len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		in.tos = (__u8)(((__u8 *)ip6)[0] << 4 | ((__u8 *)ip6)[1] >> 4);
		l4 = ETH_HLEN + sizeof(*ip6);
		saddr = ETH_HLEN + offsetof(struct ipv6hdr, saddr);
		daddr = ETH_HLEN + offsetof(struct ipv6hdr, daddr);
	} else
		return classify(skb);
	if (l4 > 60 + ETH_HLEN)
		return classify(skb);
	ports = data + l4;
	if ((void *)(ports + 2) > end)
		return classify(skb);
	k.sport = ports[0];
	k.dport = ports[1];
	if (k.proto == IPPROTO_TCP) {
		__u8 *th = data + l4;

		if ((void *)(th + 14) > end)
			return classify(skb);
		tcpfl = th[13];
		tcpseq = bpf_ntohl(*(__u32 *)(th + 4));
		tcphl = l4 + (th[12] >> 4) * 4;
	}
	if ((a = bpf_map_lookup_elem(&lbd_fp_flows, &k)) == NULL)
		return classify(skb);

	/* The packets the engine must see. */
	if (tcpfl & (TCP_SYN | TCP_FIN | TCP_RST))
		return punt(skb, LBD_FP_PUNT_FLAGS);
	if ((a->flags & LBD_FP_TTL) && ttl <= 1)
		return punt(skb, LBD_FP_PUNT_TTL);
	if (a->enc_kind != LBD_FP_ENC_NONE) {
		hl = (k.family == 4 ? 20 : 40) +
		    (a->enc_kind == LBD_FP_ENC_GUE ? 8 : 0);
		/* A length the header cannot say (IPv6 jumbograms, BIG TCP):
		 * the engine's. */
		if (in.len < 20 || in.len + ETH_HLEN > skb->len ||
		    in.len + hl > 0xffff)
			return punt(skb, LBD_FP_PUNT_MTU);
	}
	{
		__u32 mtu = 0;

		/* A GSO skb passes: its segments are made to fit (and a
		 * tunnel's header makes them smaller). One packet over the
		 * MTU once wrapped is the engine's, which answers the
		 * sender. */
		if (bpf_check_mtu(skb, a->ifindex, &mtu, (__s32)hl, 0) != 0)
			return punt(skb, LBD_FP_PUNT_MTU);
	}

	/* The rewrite: TTL, addresses, ports, Ethernet addresses. */
	l4csum = l4 + (k.proto == IPPROTO_TCP ? 16 : 6);
	l4flags = k.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	if (a->flags & LBD_FP_TTL) {
		if (k.family == 4) {
			__u16 nw = ttlw;

			((__u8 *)&nw)[0] = ttl - 1;
			bpf_l3_csum_replace(skb, ETH_HLEN +
			    offsetof(struct iphdr, check), ttlw, nw, 2);
			bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr,
			    ttl), &nw, 1, 0);
		} else {
			__u8 nh = ttl - 1;

			bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr,
			    hop_limit), &nh, 1, 0);
		}
	}
	if (a->flags & LBD_FP_DADDR)
		set_addr(skb, k.family, daddr, l4csum, l4flags, k.dst, a->dst);
	if (k.dport != a->dport)
		set_port(skb, l4 + 2, l4csum, l4flags, k.dport, a->dport);
	if (a->flags & LBD_FP_SADDR)
		set_addr(skb, k.family, saddr, l4csum, l4flags, k.src, a->src);
	if (k.sport != a->sport)
		set_port(skb, l4, l4csum, l4flags, k.sport, a->sport);
	len0 = skb->len;
	if (hl != 0 && !encap(skb, a, k.family, &in))
		return punt(skb, LBD_FP_PUNT_MTU);
	bpf_skb_store_bytes(skb, 0, a->dmac, 12, 0);

	if (k.proto == IPPROTO_TCP) {
		/* The segment's end (a GSO skb's: all of it). */
		__u32 next = tcpseq + (len0 > tcphl ? len0 - tcphl : 0);

		if (a->seq_next == 0 || (__s32)(next - a->seq_next) > 0)
			a->seq_next = next;
	}
	segs = skb->gso_segs ? skb->gso_segs : 1;
	__sync_fetch_and_add(&a->pkts, segs);
	__sync_fetch_and_add(&a->bytes, len0);
	a->last_ns = bpf_ktime_get_ns();
	count(LBD_FP_FWD);
	return bpf_redirect(a->ifindex, 0);
}

SEC("tc")
int
lbd_fp_out(struct __sk_buff *skb)
{
	__u32 ifi = skb->ifindex;
	struct lbd_fp_if *i = bpf_map_lookup_elem(&lbd_fp_ifs, &ifi);

	if (i == NULL || i->kind != LBD_FP_IF_PUNT)
		return TC_ACT_SHOT;
	count(LBD_FP_OUT);
	return bpf_redirect(i->to, 0);
}

SEC("tc")
int
lbd_fp_guard(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	__u64 *until;

	if ((void *)(eth + 1) > end || !is_vmac(eth->h_source))
		return TC_ACT_OK;
	until = bpf_map_lookup_elem(&lbd_fp_vrrp_alive, &zero);
	if (until == NULL || *until == 0 || bpf_ktime_get_ns() <= *until)
		return TC_ACT_OK;
	count(LBD_FP_GUARDED);
	return TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
