/*
 * classifier — what the XDP program (classifier.bpf.c) and lbd share: the
 * map keys and the statistics slots. The program redirects to lbd's AF_XDP
 * socket only the frames lbd owns and passes everything else to the kernel.
 *
 *   lbd_svcs      (family, proto, VIP, port)        traffic to a service
 *   lbd_addrs     (family, address) -> LBD_ADDR_*   VIPs and SNAT addresses
 *   lbd_backends  (family, proto, backend, port)    routed-mode replies
 *                 -> LBD_BE_*
 *   lbd_xsks      rx queue -> AF_XDP socket
 *   lbd_alive     [0] -> until when lbd is alive (CLOCK_MONOTONIC ns)
 *   lbd_cls_cfg   [0] -> LBD_CLS_ALL: every frame is ours (the far end of
 *                 a punt pair, `datapath kernel`)
 *
 * lbd_alive is a dead man's switch: lbd pushes the time forward several
 * times a second. When it stops (lbd killed or hung, node and links still
 * up) the program stops the node from attracting traffic for the floating
 * addresses it was holding: ARP requests and neighbour solicitations for
 * them are dropped, so the kernel no longer answers for the virtual MAC
 * and the VRRP backup's GARPs stay the truth; frames to them are dropped
 * rather than handed to a kernel that would reset the connections.
 *
 * Addresses are 16 bytes, IPv4 in the first 4 and the rest zero; ports in
 * network order. Shared with BPF C, so plain fixed-size types only.
 */
#ifndef LBD_DATAPLANE_CLASSIFIER_H
#define LBD_DATAPLANE_CLASSIFIER_H

#include <linux/types.h>

struct lbd_flow_key {
	__u8	family;		/* 4 or 6 */
	__u8	proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u16	port;		/* network order */
	__u8	addr[16];
};

struct lbd_addr_key {
	__u8	family;
	__u8	pad[3];
	__u8	addr[16];
};

#define LBD_ADDR_VIP	0x1	/* ICMP errors and fragments to it are ours */
#define LBD_ADDR_SNAT	0x2	/* also every TCP/UDP frame to it */
#define LBD_ADDR_LOCAL	0x4	/* this host's own: a backend's reply to it
				 * (a health check) is the kernel's */

#define LBD_BE_HELD	0x1	/* its service's group is held (or no VRRP) */
#define LBD_BE_UNHELD	0x2	/* not held: ours unless sent to a virtual
				 * MAC (the kernel would forward it
				 * untranslated) */

#define LBD_CLS_ALL	0x1	/* lbd_cls_cfg: every frame is ours */

enum lbd_cls_stat {
	LBD_CLS_REDIRECT,	/* handed to AF_XDP */
	LBD_CLS_PASS,		/* not ours: to the kernel */
	LBD_CLS_NO_SOCKET,	/* ours, but no socket on this queue: dropped */
	LBD_CLS_DEAD,		/* dropped: lbd is not alive (lbd_alive) */
	LBD_CLS__COUNT
};

#define LBD_CLS_MAX_SVCS	65536
#define LBD_CLS_MAX_ADDRS	65536	/* VIPs, SNAT and local addresses */
#define LBD_CLS_MAX_BACKENDS	262144
#define LBD_CLS_MAX_QUEUES	64

#endif /* LBD_DATAPLANE_CLASSIFIER_H */
