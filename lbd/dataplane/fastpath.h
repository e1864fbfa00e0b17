/*
 * fastpath — what the TC program (fastpath.bpf.c) and lbd share: the flow
 * table's key and value, the interface map, the statistics slots. Plain
 * fixed-size types only: this header is compiled for BPF too.
 *
 *   lbd_fp_flows  the packet as it arrives -> what to do with it
 *                 (written only by lbd, from the engine's struct dp_flow;
 *                 the program adds to its counters)
 *   lbd_fp_ifs    ifindex -> where its frames go: from a data interface,
 *                 the frames for the engine to the near end of its
 *                 internal veth pair; from that near end, the frames the
 *                 engine sends back out of the data interface
 *   lbd_fp_stats  per CPU, enum lbd_fp_stat
 *   (and classify.bpf.h's ownership maps and lbd_alive)
 */
#ifndef LBD_DATAPLANE_FASTPATH_H
#define LBD_DATAPLANE_FASTPATH_H

#include <linux/types.h>

/* The layout of the engine's struct dp_tuple: addresses 16 bytes (IPv4
 * in the first 4), ports in network order. */
struct lbd_fp_key {
	__u8	src[16];
	__u8	dst[16];
	__u16	sport, dport;
	__u8	proto;
	__u8	family;		/* 4 or 6 */
	__u16	zero;
};

#define LBD_FP_TTL	0x1	/* decrement TTL / hop limit */
#define LBD_FP_SADDR	0x2	/* the source address changes */
#define LBD_FP_DADDR	0x4	/* the destination address changes */

/* enc_kind: the engine's enum dp_tunnel */
#define LBD_FP_ENC_NONE	0
#define LBD_FP_ENC_IPIP	1	/* IPv4 in IPv4, IPv6 in IPv6 */
#define LBD_FP_ENC_GUE	2	/* IPv4 in UDP in IPv4 (GUE variant 1) */

struct lbd_fp_act {
	__u8	src[16];	/* as the packet leaves */
	__u8	dst[16];
	__u16	sport, dport;
	__u8	dmac[6];
	__u8	smac[6];
	__u32	ifindex;	/* egress */
	__u16	mtu;		/* the IP packet's, at most */
	__u8	flags;		/* LBD_FP_* */
	__u8	dir;		/* the engine's direction, for lbd */
	/* Tunnelled dsr: the outer header (the engine's struct dp_encap).
	 * enc_kind LBD_FP_ENC_NONE: none. */
	__u8	enc_kind;
	__u8	enc_pad[3];
	__u16	enc_sport, enc_dport;	/* GUE, network order */
	__u32	enc_label;		/* IPv6 flow label */
	__u8	enc_src[16];
	__u8	enc_dst[16];
	/* The program's: TCP, the end of the furthest segment forwarded
	 * (host order; 0 until one), so the engine can tell a RST that fits
	 * from a blind one. */
	__u32	seq_next;
	/* The program's, added to atomically: */
	__u64	pkts;
	__u64	bytes;
	__u64	last_ns;	/* CLOCK_MONOTONIC */
};

struct lbd_fp_if {
	__u32	to;		/* bpf_redirect target */
	__u32	kind;		/* LBD_FP_IF_* */
};

#define LBD_FP_IF_DATA	1	/* a data interface: `to` is its punt device */
#define LBD_FP_IF_PUNT	2	/* a punt device's near end: `to` the data one */

enum lbd_fp_stat {
	LBD_FP_FWD,		/* forwarded by a flow */
	LBD_FP_PUNT_MISS,	/* ours, no flow: to the engine */
	LBD_FP_PUNT_FLAGS,	/* SYN, FIN or RST of a flow: to the engine */
	LBD_FP_PUNT_TTL,	/* TTL 1: to the engine */
	LBD_FP_PUNT_MTU,	/* over the flow's MTU: to the engine */
	LBD_FP_PASS,		/* not ours: to the kernel */
	LBD_FP_DEAD,		/* dropped: lbd is not alive */
	LBD_FP_NO_PUNT,		/* ours, but no way to the engine: dropped */
	LBD_FP_OUT,		/* sent out for the engine */
	LBD_FP_GUARDED,		/* from a virtual MAC while lbd's VRRP thread
				 * was silent: dropped (lbd_fp_guard) */
	LBD_FP__COUNT
};

#define LBD_FP_MAX_IFS	64

#endif /* LBD_DATAPLANE_FASTPATH_H */
