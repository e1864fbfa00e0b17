#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_xdp.h>

#include "lbd/dataplane/xsk_port.h"

static void
refill(struct xsk_port *p)
{
	uint32_t want = XSK_RING_SIZE - p->in_fill, idx, n;

	if (p->tx_only)
		return;
	/* Keep a quarter of the frames for TX copies into this port. */
	if (p->nfree <= XSK_NUM_FRAMES / 4)
		return;
	if (want > p->nfree - XSK_NUM_FRAMES / 4)
		want = p->nfree - XSK_NUM_FRAMES / 4;
	if (want == 0)
		return;
	n = xsk_ring_prod__reserve(&p->fq, want, &idx);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&p->fq, idx + i) = p->free[--p->nfree];
	xsk_ring_prod__submit(&p->fq, n);
	p->in_fill += n;
}

int
xsk_port_open(struct xsk_port *p, const char *ifname, int ifindex,
    uint32_t queue, int xsks_map_fd, char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	size_t sz = (size_t)XSK_FRAME_SIZE * XSK_NUM_FRAMES;
	int rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->ifindex = ifindex;
	p->queue = queue;
	p->area = mmap(NULL, sz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		snprintf(err, errlen, "UMEM: %s", strerror(errno));
		return -1;
	}
	if ((rc = xsk_umem__create(&p->umem, p->area, sz, &p->fq, &p->cq,
	    &uc)) != 0) {
		snprintf(err, errlen, "UMEM: %s", strerror(-rc));
		xsk_port_close(p);
		return -1;
	}
	if ((rc = xsk_socket__create(&p->xsk, ifname, queue, p->umem,
	    xsks_map_fd < 0 ? NULL : &p->rx, &p->tx, &sc)) != 0) {
		snprintf(err, errlen, "AF_XDP socket on %s queue %u: %s", ifname,
		    queue, strerror(-rc));
		xsk_port_close(p);
		return -1;
	}
	if (xsks_map_fd >= 0 &&
	    (rc = xsk_socket__update_xskmap(p->xsk, xsks_map_fd)) != 0) {
		snprintf(err, errlen, "AF_XDP socket map on %s: %s", ifname,
		    strerror(-rc));
		xsk_port_close(p);
		return -1;
	}
	p->fd = xsk_socket__fd(p->xsk);
	p->tx_only = xsks_map_fd < 0;
	for (uint32_t i = 0; i < XSK_NUM_FRAMES; i++)
		p->free[p->nfree++] = (uint64_t)i * XSK_FRAME_SIZE;
	refill(p);
	return 0;
}

int
xsk_port_open_tx(struct xsk_port *p, const char *ifname, int ifindex,
    uint32_t queue, char *err, size_t errlen)
{
	return xsk_port_open(p, ifname, ifindex, queue, -1, err, errlen);
}

void
xsk_port_close(struct xsk_port *p)
{
	if (p->xsk != NULL)
		xsk_socket__delete(p->xsk);
	if (p->umem != NULL)
		(void)xsk_umem__delete(p->umem);
	if (p->area != NULL)
		munmap(p->area, (size_t)XSK_FRAME_SIZE * XSK_NUM_FRAMES);
	p->xsk = NULL;
	p->umem = NULL;
	p->area = NULL;
	p->fd = -1;
}

uint32_t
xsk_port_rx(struct xsk_port *p, struct xsk_rx *out, uint32_t max)
{
	uint32_t idx, n;

	if (p->tx_only)
		return 0;
	n = xsk_ring_cons__peek(&p->rx, max, &idx);

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);
		uint64_t off = d->addr & (XSK_FRAME_SIZE - 1);

		out[i].addr = d->addr;
		out[i].data = xsk_umem__get_data(p->area, d->addr);
		out[i].len = d->len;
		out[i].cap = (uint32_t)(XSK_FRAME_SIZE - off);
	}
	xsk_ring_cons__release(&p->rx, n);
	p->in_fill -= n;
	p->in_hand += n;
	p->st.rx += n;
	return n;
}

static bool
tx_desc(struct xsk_port *p, uint64_t addr, uint32_t len)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
		p->st.tx_ring_full++;
		return false;
	}
	xsk_ring_prod__tx_desc(&p->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&p->tx, idx)->len = len;
	xsk_ring_prod__tx_desc(&p->tx, idx)->options = 0;
	p->tx_pending++;
	p->in_tx++;
	p->st.tx++;
	return true;
}

void
xsk_port_tx_same(struct xsk_port *p, const struct xsk_rx *f, uint32_t len)
{
	p->in_hand--;
	if (!tx_desc(p, f->addr, len))
		p->free[p->nfree++] = f->addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
}

bool
xsk_port_tx_copy(struct xsk_port *p, const uint8_t *data, uint32_t len)
{
	uint64_t a;

	if (len > XSK_FRAME_SIZE) {
		p->st.too_long++;
		return false;
	}
	if (p->nfree == 0) {
		p->st.tx_no_frame++;
		return false;
	}
	a = p->free[--p->nfree];
	memcpy(xsk_umem__get_data(p->area, a), data, len);
	if (!tx_desc(p, a, len)) {
		p->free[p->nfree++] = a;
		return false;
	}
	return true;
}

void
xsk_port_recycle(struct xsk_port *p, const struct xsk_rx *f)
{
	p->in_hand--;
	p->free[p->nfree++] = f->addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
}

void
xsk_port_flush(struct xsk_port *p)
{
	uint32_t idx, n;

	if (p->tx_pending > 0) {
		xsk_ring_prod__submit(&p->tx, p->tx_pending);
		p->tx_pending = 0;
	}
	/* Copy mode transmits only when asked; ask whenever frames wait. */
	if (p->in_tx > 0 && xsk_ring_prod__needs_wakeup(&p->tx))
		(void)sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	n = xsk_ring_cons__peek(&p->cq, XSK_RING_SIZE, &idx);
	for (uint32_t i = 0; i < n; i++)
		p->free[p->nfree++] = *xsk_ring_cons__comp_addr(&p->cq, idx + i) &
		    ~(uint64_t)(XSK_FRAME_SIZE - 1);
	xsk_ring_cons__release(&p->cq, n);
	p->in_tx -= n;
	refill(p);
}

bool
xsk_port_frames_ok(const struct xsk_port *p)
{
	return p->nfree + p->in_fill + p->in_tx + p->in_hand == XSK_NUM_FRAMES;
}
