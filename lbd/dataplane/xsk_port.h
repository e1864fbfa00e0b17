/*
 * xsk_port — one AF_XDP socket on one (interface, queue), with its own UMEM.
 * Frames are owned in exactly one place at a time: the free stack, the fill
 * ring (given to the kernel for RX), the worker (received, being processed)
 * or the TX ring (until the completion ring hands it back). Every path
 * returns a frame to the free stack, so none leaks; `xsk_port_frames_ok`
 * checks the books.
 *
 * Forwarding to another interface copies the frame into a free frame of the
 * egress port (veth and most drivers run AF_XDP in copy mode anyway);
 * hairpin traffic (DSR, one-arm) is sent from the frame it arrived in.
 *
 * A transmit-only port (xsk_port_open_tx) has no receive ring and no place
 * in a classifier's socket map: in the kernel data path the engine sends
 * from one on the data interface itself, straight to the wire, instead of
 * through the punt pair and the kernel's second hop.
 */
#ifndef LBD_DATAPLANE_XSK_PORT_H
#define LBD_DATAPLANE_XSK_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

#define XSK_FRAME_SIZE	4096u
#define XSK_NUM_FRAMES	4096u
#define XSK_RING_SIZE	2048u

struct xsk_port_stats {
	uint64_t	rx, tx;
	uint64_t	tx_no_frame;	/* egress had no free frame: dropped */
	uint64_t	tx_ring_full;
	uint64_t	too_long;	/* frame larger than the egress frame */
};

struct xsk_port {
	struct xsk_socket	*xsk;
	struct xsk_umem		*umem;
	uint8_t			*area;
	struct xsk_ring_prod	 fq, tx;
	struct xsk_ring_cons	 cq, rx;
	uint64_t		 free[XSK_NUM_FRAMES];
	uint32_t		 nfree;
	uint32_t		 in_fill, in_tx, in_hand;
	uint32_t		 tx_pending;	/* reserved, not yet submitted */
	int			 fd;
	int			 ifindex;
	uint32_t		 queue;
	uint16_t		 eng_if;	/* the engine's interface index */
	bool			 tx_only;
	struct xsk_port_stats	 st;
};

struct xsk_rx {
	uint64_t	addr;
	uint8_t		*data;
	uint32_t	len, cap;
};

/* `xsks_map_fd` -1: transmit only (xsk_port_open_tx). */
int	xsk_port_open(struct xsk_port *, const char *ifname, int ifindex,
	    uint32_t queue, int xsks_map_fd, char *err, size_t errlen);
/* Transmit only, on (ifname, queue); no frame is given to the kernel. */
int	xsk_port_open_tx(struct xsk_port *, const char *ifname, int ifindex,
	    uint32_t queue, char *err, size_t errlen);
void	xsk_port_close(struct xsk_port *);

/* Up to `max` received frames (none from a transmit-only port); the
 * caller owns them until it sends or recycles each one. */
uint32_t xsk_port_rx(struct xsk_port *, struct xsk_rx *out, uint32_t max);
/* Send a received frame back out of its own port. */
void	xsk_port_tx_same(struct xsk_port *, const struct xsk_rx *, uint32_t len);
/* Copy `len` bytes into a free frame of `p` and send it. */
bool	xsk_port_tx_copy(struct xsk_port *p, const uint8_t *data, uint32_t len);
/* Give a received frame back (dropped, or copied elsewhere). */
void	xsk_port_recycle(struct xsk_port *, const struct xsk_rx *);
/* Submit TX, wake the kernel if it asks, reap completions, refill RX. */
void	xsk_port_flush(struct xsk_port *);
bool	xsk_port_frames_ok(const struct xsk_port *);

#endif /* LBD_DATAPLANE_XSK_PORT_H */
