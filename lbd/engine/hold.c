/*
 * Frames waiting for a next hop's MAC.
 *
 * The first packet toward a client or backend the kernel has not talked to
 * yet (typically the first reply after a failover) would otherwise be lost
 * and cost the peer a TCP retransmission timeout, a second or more. The
 * kernel keeps such packets in its neighbour queue while it resolves; so do
 * we, in a small fixed pool: the frame is fully rewritten except for its
 * Ethernet addresses, which are filled in when it is released.
 *
 * Bounded three ways, like the kernel's unres_qlen: HOLD_MAX frames in all,
 * HOLD_PER_HOP per next hop, DP_HOLD_MS at most; beyond that a frame is
 * dropped and counted as neigh_unresolved, as it was before holding existed.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lbd/engine/engine_int.h"

int
hold_init(struct dp_engine *e)
{
	e->hold_buf = malloc((size_t)HOLD_MAX * HOLD_FRAME);
	if (e->hold_buf == NULL)
		return -1;
	for (uint32_t i = 0; i < HOLD_MAX; i++)
		e->hold_free[i] = (uint16_t)(HOLD_MAX - 1 - i);
	e->n_hold_free = HOLD_MAX;
	e->n_held = 0;
	return 0;
}

void
hold_destroy(struct dp_engine *e)
{
	free(e->hold_buf);
	e->hold_buf = NULL;
}

bool
hold_put(struct dp_engine *e, const uint8_t *f, uint32_t len, uint8_t family,
    const uint8_t *nh, uint16_t ifidx, int32_t svc)
{
	struct held *h;
	uint32_t same = 0;

	if (len > HOLD_FRAME || e->n_hold_free == 0)
		return false;
	for (uint32_t i = 0; i < e->n_held; i++)
		if (e->held[i].family == family &&
		    memcmp(e->held[i].nh, nh, addr_len(family)) == 0 &&
		    ++same >= HOLD_PER_HOP)
			return false;
	h = &e->held[e->n_held++];
	h->buf = e->hold_free[--e->n_hold_free];
	memcpy(e->hold_buf + (size_t)h->buf * HOLD_FRAME, f, len);
	h->len = len;
	h->family = family;
	memset(h->nh, 0, sizeof(h->nh));
	memcpy(h->nh, nh, addr_len(family));
	h->ifidx = ifidx;
	h->svc = svc;
	h->since = e->now;
	e->stats.held++;
	return true;
}

uint32_t
dp_held(const struct dp_engine *e)
{
	return e->n_held;
}

uint32_t
dp_release_held(struct dp_engine *e, uint32_t now, dp_send_fn send, void *arg)
{
	uint32_t keep = 0;

	/* In arrival order, so a flow's frames leave as they came. */
	for (uint32_t i = 0; i < e->n_held; i++) {
		struct held *h = &e->held[i];
		const struct neigh *n = neigh_find(e, h->family, h->nh);
		uint8_t *f = e->hold_buf + (size_t)h->buf * HOLD_FRAME;

		if (n != NULL) {
			memcpy(f, n->mac, 6);
			memcpy(f + 6, e->ifs[h->ifidx].mac, 6);
			send(arg, h->ifidx, f, h->len);
			e->stats.tx++;
			e->stats.held_sent++;
		} else if ((int32_t)(now - h->since) >= DP_HOLD_MS) {
			e->stats.drops[DP_DROP_NEIGH_UNRESOLVED]++;
			if (h->svc >= 0 && (uint32_t)h->svc < e->n_svc)
				e->svc[h->svc].drops[DP_DROP_NEIGH_UNRESOLVED]++;
		} else {
			e->held[keep++] = *h;
			continue;
		}
		e->hold_free[e->n_hold_free++] = h->buf;
	}
	e->n_held = keep;
	return keep;
}
