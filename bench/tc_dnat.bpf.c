/*
 * The ceiling of a TC-BPF fast path on the bench topology (bench/e2e.py,
 * system "tc-dnat"): the least a kernel fast path can do for routed mode.
 * One static rule, compiled in: TCP to VIP:PORT on the front interface is
 * DNATed to BACKEND:PORT and sent out of the back interface; the backend's
 * replies get the VIP back as their source. Checksums with the kernel's
 * helpers (right for CHECKSUM_PARTIAL skbs), TTL down by one, forwarded
 * with bpf_redirect_neigh (GSO skbs stay whole). No table, no counters, no
 * slow path: what lbd's fast path costs beyond this is lbd's.
 *
 * Build: clang -O2 -target bpf -DVIP=0x.. -DBACKEND=0x.. -DPORT=5201
 *        -DFRONT=ifindex -DBACK=ifindex (addresses in network order), once
 *        with -DIN (the front's program) and once without (the back's).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_CSUM		(ETH_HLEN + offsetof(struct iphdr, check))
#define TCP_CSUM	(ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, check))

static __always_inline int
rewrite(struct __sk_buff *skb, int off, __u32 from, __u32 to)
{
	struct iphdr *ip = (void *)(long)skb->data + ETH_HLEN;
	__u16 old_ttl, new_ttl;

	if ((void *)(ip + 1) > (void *)(long)skb->data_end || ip->ttl <= 1)
		return TC_ACT_OK;
	old_ttl = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new_ttl = *(__u16 *)&ip->ttl;
	bpf_l3_csum_replace(skb, IP_CSUM, old_ttl, new_ttl, 2);
	bpf_l4_csum_replace(skb, TCP_CSUM, from, to, BPF_F_PSEUDO_HDR | 4);
	bpf_l3_csum_replace(skb, IP_CSUM, from, to, 4);
	bpf_skb_store_bytes(skb, ETH_HLEN + off, &to, 4, 0);
	return 1;
}

/* Returns the TCP header of an IPv4 packet without options, or NULL. */
static __always_inline struct tcphdr *
tcp_of(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
		return NULL;
	return th;
}

#ifdef IN
SEC("tc")
int
dnat_in(struct __sk_buff *skb)
{
	struct tcphdr *th = tcp_of(skb);
	struct iphdr *ip = (void *)(long)skb->data + ETH_HLEN;

	if (th == NULL || ip->daddr != VIP || th->dest != bpf_htons(PORT))
		return TC_ACT_OK;
	if (rewrite(skb, offsetof(struct iphdr, daddr), VIP, BACKEND) != 1)
		return TC_ACT_OK;
	return bpf_redirect_neigh(BACK, NULL, 0, 0);
}
#else
SEC("tc")
int
dnat_out(struct __sk_buff *skb)
{
	struct tcphdr *th = tcp_of(skb);
	struct iphdr *ip = (void *)(long)skb->data + ETH_HLEN;

	if (th == NULL || ip->saddr != BACKEND || th->source != bpf_htons(PORT))
		return TC_ACT_OK;
	if (rewrite(skb, offsetof(struct iphdr, saddr), BACKEND, VIP) != 1)
		return TC_ACT_OK;
	return bpf_redirect_neigh(FRONT, NULL, 0, 0);
}
#endif

char _license[] SEC("license") = "GPL";
