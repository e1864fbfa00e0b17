/*
 * Fuzz target: VRRP advertisements as the packet sockets hand them over,
 * through the whole group core (vrrp/vrrp_group.c): the accept ladder, the
 * machines, sync groups and tracking, on a clock the input advances.
 *
 * The node: group "edge" with a v3 router on each of two interfaces (VRID
 * 51 and 52, one of them unicast to one peer), group "old" with a v2
 * router (VRID 60) and a weighted track. The input is a sequence of chunks:
 * 2 bytes of length, a clock step, an event byte (which interface the
 * frame arrives on; its high bits toggle carrier and the track; bit 3
 * makes the chunk the peer's word over the heartbeat instead, bit 2 the
 * heartbeat alive), then the frame. Any bytes: refused with a counted reason or obeyed, never a
 * crash, never a state outside the machine's, and the books balance: every
 * frame is counted once on its interface and, past the interface's own
 * reasons, once on a router.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp/vrrp_group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vrrp_node *
build(void)
{
	static const uint8_t v1[4] = { 198, 51, 100, 10 }, v2[4] = { 10, 1, 0, 1 };
	static const uint8_t peer[1][16] = { { 10, 0, 0, 3 } };
	static const struct vrrp_track tr = { .type = VRRP_TRACK_SCRIPT,
					      .weight = 30, .what = "t" };
	struct vrrp_node *n = vrrp_node_new(false);
	struct vrrp_router_cfg rc = {
		.family = 4, .have_self = true, .n_addrs = 1,
		.self = { 10, 0, 0, 2 },
		.fsm = { .priority = 100, .adver_cs = 10, .version = 3,
			 .preempt = true },
	};

	if (n == NULL || vrrp_node_add_group(n, "edge") < 0 ||
	    vrrp_node_add_group(n, "old") < 0 || vrrp_node_add_port(n, "a") < 0 ||
	    vrrp_node_add_port(n, "b") < 0)
		abort();
	rc.name = "front"; rc.port = 0; rc.fsm.vrid = 51; rc.addrs = v1;
	if (vrrp_node_add_router(n, &rc) < 0)
		abort();
	rc.name = "back"; rc.port = 1; rc.fsm.vrid = 52; rc.addrs = v2;
	rc.peers = peer; rc.n_peers = 1;
	if (vrrp_node_add_router(n, &rc) < 0)
		abort();
	rc.name = "v2"; rc.group = 1; rc.port = 0; rc.fsm.vrid = 60;
	rc.fsm.version = 2; rc.fsm.adver_cs = 100; rc.fsm.priority = 200;
	rc.addrs = v1; rc.peers = NULL; rc.n_peers = 0;
	rc.tracks = &tr; rc.n_tracks = 1;
	if (vrrp_node_add_router(n, &rc) < 0)
		abort();
	return n;
}

static uint64_t
books(const struct vrrp_node *n, size_t port)
{
	uint64_t s = 0;

	for (int r = 0; r < VRRP_BAD__COUNT; r++)
		s += n->ports[port].bad[r];
	for (size_t i = 0; i < n->n; i++)
		if (n->r[i].port == port)
			s += n->r[i].rx;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vrrp_node *n = build();
	struct vrrp_acts a = { 0 };
	uint64_t now = 1000, d;

	vrrp_node_set_heartbeat(n, true);
	vrrp_node_start(n, now, &a);
	while (size >= 4) {
		size_t len = (size_t)(data[0] | data[1] << 8) % 1600;
		uint8_t ev = data[3];
		uint32_t port = ev & 1;

		now += data[2];
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		while ((d = vrrp_node_deadline(n)) != 0 && d <= now)
			vrrp_node_tick(n, d, &a);
		if (ev & 0x80)
			vrrp_node_link(n, 1, !(ev & 0x40), now, &a);
		if (ev & 0x20)
			vrrp_node_track(n, 2, 0, ev & 0x10, now, &a);
		if (ev & 0x08)
			(void)vrrp_node_hb_peer(n, ev & 0x04, data, len, now, &a);
		else
			vrrp_node_rx(n, port, data, len, now, &a);
		for (size_t i = 0; i < n->n; i++)
			if (n->r[i].fsm.state > VRRP_FAULT)
				abort();
		for (size_t p = 0; p < n->n_ports; p++)
			if (books(n, p) != n->ports[p].rx)
				abort();
		/* A sync group never splits its addresses. */
		if (n->r[0].fsm.state != n->r[1].fsm.state &&
		    (n->r[0].fsm.state == VRRP_MASTER ||
		    n->r[1].fsm.state == VRRP_MASTER))
			abort();
		if ((n->groups[0].state == VRRP_MASTER) !=
		    (n->r[0].fsm.state == VRRP_MASTER))
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (a.v[i].kind == VRRP_ACT_SEND &&
			    a.v[i].idx >= n->n)
				abort();
		a.n = 0;
		data += len;
		size -= len;
	}
	vrrp_node_stop(n, now, &a);
	for (size_t g = 0; g < n->n_groups; g++)
		if (n->groups[g].state == VRRP_MASTER)
			abort();
	vrrp_acts_free(&a);
	vrrp_node_free(n);
	return 0;
}
