/*
 * The XDP classifier lbd attaches to each data interface (loaded with libxdp,
 * so other XDP programs can run beside it). It only decides; lbd's workers do
 * the rest. Ours, redirected to the AF_XDP socket of the receiving queue:
 *
 *   - TCP/UDP to a service (VIP, proto, port);
 *   - TCP/UDP to a SNAT pool address (replies of one-arm connections);
 *   - TCP/UDP from a routed-mode backend's (address, port) to anything but
 *     this host's own addresses: the replies (a health check's answer to
 *     this host is the kernel's);
 *   - ICMP errors about any of those (so PMTU works through lbd), and
 *     fragments to a VIP or SNAT address (lbd counts and drops them).
 *
 * Everything else — ARP/ND, VRRP, the sync link, health-check replies, ping
 * to a VIP, management — passes to the kernel untouched. A frame of ours
 * with no socket bound on its queue (lbd starting, or just killed) is
 * dropped, never passed: the kernel holds the VIP too and would answer it
 * with a reset, killing a connection the peer is about to take over.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "classifier.h"
#include "classify.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, LBD_CLS_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} lbd_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LBD_CLS__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lbd_cls_stats SEC(".maps");

/* [0]: LBD_CLS_ALL on the far end of a punt pair (`datapath kernel`):
 * what arrives there is the engine's, sent by the TC fast path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lbd_cls_cfg SEC(".maps");

/* Run first among XDP programs on the interface. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(lbd_classify);

static __always_inline void
count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&lbd_cls_stats, &slot);

	if (v)
		*v += 1;
}

SEC("xdp")
int
lbd_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 q = ctx->rx_queue_index;
	int ours = 0;

	__u32 zero = 0, *cfg = bpf_map_lookup_elem(&lbd_cls_cfg, &zero);

	if ((void *)(eth + 1) > end)
		goto pass;
	if (cfg != NULL && (*cfg & LBD_CLS_ALL))
		ours = 1;
	else if (eth->h_proto == bpf_htons(ETH_P_IP))
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
	if (bpf_map_lookup_elem(&lbd_xsks, &q) == 0) {
		count(LBD_CLS_NO_SOCKET);
		return XDP_DROP;
	}
	count(LBD_CLS_REDIRECT);
	return bpf_redirect_map(&lbd_xsks, q, XDP_DROP);
pass:
	count(LBD_CLS_PASS);
	return XDP_PASS;
dead:
	count(LBD_CLS_DEAD);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
