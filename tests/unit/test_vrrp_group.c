/*
 * Unit tests of the VRRP group core (vrrp/vrrp_group.c) on a virtual
 * clock: the accept ladder (every reason counted once, in its place), sync
 * groups (the routers of a group move together; adverts spread), tracking
 * (priority and FAULT), lbctl's overrides, `vrrp external`, and a reload
 * that keeps what did not change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vrrp/vrrp_group_int.h"

static const uint8_t SELF4[16] = { 10, 0, 0, 2 };
static const uint8_t PEER4[16] = { 10, 0, 0, 3 };
static const uint8_t VIP_FRONT[4] = { 198, 51, 100, 10 };
static const uint8_t VIP_BACK[4] = { 10, 1, 0, 1 };

/* Group "edge" with routers front (eth0, VRID 51) and back (eth1, VRID
 * 52), priority 100, 1 s adverts; group "solo" with one router on eth0,
 * VRID 60, with the tracks given. */
static struct vrrp_node *
node(bool external, const struct vrrp_track *solo_tracks, size_t n_tracks)
{
	struct vrrp_node *n = vrrp_node_new(external);
	struct vrrp_router_cfg rc = {
		.family = 4, .have_self = true, .n_addrs = 1,
		.fsm = { .priority = 100, .adver_cs = 100, .version = 3,
			 .preempt = true },
	};
	int edge, solo, p0, p1;

	assert_non_null(n);
	edge = vrrp_node_add_group(n, "edge");
	solo = vrrp_node_add_group(n, "solo");
	p0 = vrrp_node_add_port(n, "eth0");
	p1 = vrrp_node_add_port(n, "eth1");
	assert_int_equal(vrrp_node_add_port(n, "eth0"), p0);
	memcpy(rc.self, SELF4, 16);

	rc.name = "front"; rc.group = (uint32_t)edge; rc.port = (uint32_t)p0;
	rc.fsm.vrid = 51; rc.addrs = VIP_FRONT;
	assert_int_equal(vrrp_node_add_router(n, &rc), 0);
	rc.name = "back"; rc.port = (uint32_t)p1;
	rc.fsm.vrid = 52; rc.addrs = VIP_BACK;
	assert_int_equal(vrrp_node_add_router(n, &rc), 1);
	rc.name = "single"; rc.group = (uint32_t)solo; rc.port = (uint32_t)p0;
	rc.fsm.vrid = 60; rc.addrs = VIP_FRONT;
	rc.tracks = solo_tracks; rc.n_tracks = n_tracks;
	assert_int_equal(vrrp_node_add_router(n, &rc), 2);
	return n;
}

/* A v2 advertisement's authentication (frame_auth): type and password. */
static uint8_t next_auth_type;
static const char *next_auth;

/* An advertisement from `src` as it arrives on the wire. */
static size_t
frame(uint8_t *f, uint8_t version, uint8_t vrid, uint8_t prio,
    uint16_t interval_cs, const uint8_t *src, const uint8_t *addr)
{
	struct vrrp_adv a = { .version = version, .family = 4, .vrid = vrid,
			      .priority = prio, .interval_cs = interval_cs,
			      .n_addrs = 1, .auth_type = next_auth_type };
	size_t len;

	if (next_auth != NULL)
		memcpy(a.auth, next_auth, strnlen(next_auth, 8));
	memcpy(a.src, src, 16);
	a.src_mac[0] = 0x02;
	len = vrrp_encode(f, VRRP_FRAME_MAX, &a, addr);
	assert_true(len > 0);
	return len;
}

static size_t
count(const struct vrrp_acts *a, enum vrrp_act_kind k, uint32_t idx)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].kind == k && a->v[i].idx == idx;
	return n;
}

static const struct vrrp_act *
find_act(const struct vrrp_acts *a, enum vrrp_act_kind k, uint32_t idx)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == k && a->v[i].idx == idx)
			return &a->v[i];
	return NULL;
}

/* Run the node's timers up to `until`, in deadline order. */
static void
run(struct vrrp_node *n, uint64_t until, struct vrrp_acts *a)
{
	uint64_t d;

	while ((d = vrrp_node_deadline(n)) != 0 && d <= until)
		vrrp_node_tick(n, d, a);
}

static uint64_t
sum(const uint64_t *v, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* ---- the ladder ------------------------------------------------------ */

/* A node with group "g" and, on eth0, router 0: VRRPv2, VRID 51, 1 s;
 * `rc` is left as its config, for the test's second router. */
static struct vrrp_node *
v2_node(struct vrrp_router_cfg *rc)
{
	struct vrrp_node *n = vrrp_node_new(false);
	const struct vrrp_router_cfg v2 = {
		.name = "v2", .family = 4, .have_self = true, .n_addrs = 1,
		.addrs = VIP_FRONT,
		.fsm = { .vrid = 51, .priority = 100, .adver_cs = 100,
			 .version = 2, .preempt = true },
	};

	assert_non_null(n);
	*rc = v2;
	memcpy(rc->self, SELF4, 16);
	vrrp_node_add_group(n, "g");
	vrrp_node_add_port(n, "eth0");
	assert_int_equal(vrrp_node_add_router(n, rc), 0);
	return n;
}

/* RFC 3768 5.3.6: a v2 instance without auth-pass takes only adverts
 * without authentication, one with it only its own password; anything
 * else is refused, counted and said once (a keepalived peer with
 * auth_type PASS would otherwise be master beside us unnoticed). */
static void
test_ladder_v2_auth(void **state)
{
	struct vrrp_router_cfg rc;
	struct vrrp_node *n = v2_node(&rc);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	rc.name = "pass"; rc.fsm.vrid = 52; rc.auth_pass = "s3cret";
	assert_int_equal(vrrp_node_add_router(n, &rc), 1);
	vrrp_node_start(n, 0, &a);

	/* keepalived's sample: auth_type PASS, auth_pass 1111. */
	next_auth_type = VRRP_AUTH_PASS;
	next_auth = "1111";
	len = frame(f, 2, 51, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	vrrp_node_rx(n, 0, f, len, 20, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_AUTH], 2);
	assert_int_equal(count(&a, VRRP_ACT_AUTH, 0), 1);
	assert_int_equal(find_act(&a, VRRP_ACT_AUTH, 0)->auth_type,
	    VRRP_AUTH_PASS);
	assert_int_equal(n->r[0].fsm.master[0], 0);		/* not learnt */
	len = frame(f, 2, 52, 150, 100, PEER4, VIP_FRONT);	/* wrong one */
	vrrp_node_rx(n, 0, f, len, 30, &a);
	assert_int_equal(n->r[1].bad[VRRP_BAD_AUTH], 1);
	assert_int_equal(count(&a, VRRP_ACT_AUTH, 1), 1);
	next_auth = "s3cret";					/* the right one */
	len = frame(f, 2, 52, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 40, &a);
	assert_int_equal(n->r[1].bad[VRRP_BAD_AUTH], 1);
	assert_memory_equal(n->r[1].fsm.master, PEER4, 4);
	next_auth_type = VRRP_AUTH_NONE;			/* none at all */
	next_auth = NULL;
	len = frame(f, 2, 52, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 50, &a);
	assert_int_equal(n->r[1].bad[VRRP_BAD_AUTH], 2);
	assert_int_equal(count(&a, VRRP_ACT_AUTH, 1), 1);	/* said once */
	len = frame(f, 2, 51, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 60, &a);
	assert_memory_equal(n->r[0].fsm.master, PEER4, 4);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

static void
test_ladder(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	vrrp_node_start(n, 1000, &a);
	/* Garbage: the decoder's reason, on the interface. */
	vrrp_node_rx(n, 0, (const uint8_t *)"short", 5, 1000, &a);
	assert_int_equal(n->ports[0].bad[VRRP_BAD_SHORT], 1);
	/* A VRID nobody here runs: on the interface. */
	len = frame(f, 3, 99, 100, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	assert_int_equal(n->ports[0].bad[VRRP_BAD_VRID], 1);
	/* VRID 52 runs on eth1, not eth0. */
	len = frame(f, 3, 52, 100, 100, PEER4, VIP_BACK);
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	assert_int_equal(n->ports[0].bad[VRRP_BAD_VRID], 2);
	assert_int_equal(n->ports[0].rx, 3);
	/* The rest on the router. */
	len = frame(f, 2, 51, 100, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_VERSION_MISMATCH], 1);
	len = frame(f, 3, 51, 100, 100, SELF4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_OWN], 1);
	/* v3 with another address list: counted, warned once, obeyed. */
	len = frame(f, 3, 51, 200, 100, PEER4, VIP_BACK);
	a.n = 0;
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	vrrp_node_rx(n, 0, f, len, 1000, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_ADDR_LIST], 2);
	assert_int_equal(count(&a, VRRP_ACT_ADDR_LIST, 0), 1);
	assert_memory_equal(find_act(&a, VRRP_ACT_ADDR_LIST, 0)->src, PEER4, 4);
	assert_memory_equal(n->r[0].fsm.master, PEER4, 4);
	assert_int_equal(n->r[0].rx, 4);
	/* Every frame counted once on the interface, and there either
	 * dropped for one reason or handed to a router. */
	assert_int_equal(n->ports[0].rx, 7);
	assert_int_equal(sum(n->ports[0].bad, VRRP_BAD__COUNT), 3);
	assert_int_equal(sum(n->ports[0].bad, VRRP_BAD__COUNT) +
	    n->r[0].rx + n->r[2].rx, 7);
	assert_int_equal(sum(n->r[0].bad, VRRP_BAD__COUNT), 4);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* RFC 3768: v2 drops another interval, and another address list unless
 * the owner sent it; a unicast router hears only its peers. */
static void
test_ladder_v2_unicast(void **state)
{
	const uint8_t peers[1][16] = { { 10, 0, 0, 9 } };
	struct vrrp_router_cfg rc;
	struct vrrp_node *n = v2_node(&rc);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	rc.name = "uni"; rc.fsm.vrid = 52; rc.fsm.version = 3;
	rc.peers = peers; rc.n_peers = 1;
	assert_int_equal(vrrp_node_add_router(n, &rc), 1);
	vrrp_node_start(n, 0, &a);

	len = frame(f, 2, 51, 150, 200, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_V2_INTERVAL], 1);
	len = frame(f, 2, 51, 150, 100, PEER4, VIP_BACK);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_ADDR_LIST], 1);
	assert_int_equal(n->r[0].fsm.master[0], 0);	/* not learnt */
	len = frame(f, 2, 51, 255, 100, PEER4, VIP_BACK);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	assert_int_equal(n->r[0].bad[VRRP_BAD_ADDR_LIST], 2);
	assert_memory_equal(n->r[0].fsm.master, PEER4, 4);	/* the owner's */

	len = frame(f, 3, 52, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	assert_int_equal(n->r[1].bad[VRRP_BAD_PEER], 1);
	len = frame(f, 3, 52, 150, 100, peers[0], VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 10, &a);
	assert_int_equal(n->r[1].bad[VRRP_BAD_PEER], 1);
	assert_memory_equal(n->r[1].fsm.master, peers[0], 4);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* ---- sync groups ----------------------------------------------------------- */

static void
test_sync_group(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	uint32_t down;
	size_t len;

	vrrp_node_start(n, 0, &a);
	assert_int_equal(n->r[0].fsm.state, VRRP_BACKUP);
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	/* The first report of a backup is no transition: no hook. */
	assert_false(find_act(&a, VRRP_ACT_GROUP, 0)->notify);
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 0), 0);
	/* A master keeps the back router quiet, the front one goes silent:
	 * the group moves as soon as the first Master_Down runs out. */
	len = frame(f, 3, 52, 150, 100, PEER4, VIP_BACK);
	vrrp_node_rx(n, 1, f, len, 500, &a);
	len = frame(f, 3, 60, 150, 100, PEER4, VIP_FRONT);
	vrrp_node_rx(n, 0, f, len, 500, &a);
	down = vrrp_fsm_down_ms(&n->r[0].fsm);
	a.n = 0;
	run(n, down, &a);
	assert_int_equal(n->r[0].fsm.state, VRRP_MASTER);
	assert_int_equal(n->r[1].fsm.state, VRRP_MASTER);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 0), 1);
	assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 0)->to, VRRP_MASTER);
	assert_true(find_act(&a, VRRP_ACT_GROUP, 0)->notify);
	assert_int_equal(count(&a, VRRP_ACT_SEND, 0), 1);
	assert_int_equal(count(&a, VRRP_ACT_SEND, 1), 1);
	/* The other group did not move. */
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 1), 0);
	/* Spread: the second router's next advert is half an interval
	 * after the first's. */
	assert_int_equal(n->r[0].fsm.adver_at, down + 1000);
	assert_int_equal(n->r[1].fsm.adver_at, down + 500);
	/* A higher priority on one instance takes the whole group back. */
	len = frame(f, 3, 51, 200, 100, PEER4, VIP_FRONT);
	a.n = 0;
	vrrp_node_rx(n, 0, f, len, down + 10, &a);
	assert_int_equal(n->r[0].fsm.state, VRRP_BACKUP);
	assert_int_equal(n->r[1].fsm.state, VRRP_BACKUP);
	assert_int_not_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 0)->to, VRRP_BACKUP);
	assert_int_equal(count(&a, VRRP_ACT_STATE, 0), 1);
	assert_int_equal(count(&a, VRRP_ACT_STATE, 1), 1);
	/* A stop resigns what is master and releases held groups. */
	run(n, 100000, &a);
	a.n = 0;
	vrrp_node_stop(n, 100000, &a);
	assert_int_equal(find_act(&a, VRRP_ACT_SEND, 2)->prio, 0);
	assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 1)->to, VRRP_BACKUP);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* ---- tracking ----------------------------------------------------------- */

static void
test_tracking(void **state)
{
	const struct vrrp_track tr[] = {
		{ .type = VRRP_TRACK_SERVICE, .weight = 30, .what = "web" },
		{ .type = VRRP_TRACK_SCRIPT, .weight = 0, .what = "check.sh" },
	};
	struct vrrp_node *n = node(false, tr, 2);
	struct vrrp_acts a = { 0 };
	uint64_t t;

	vrrp_node_start(n, 0, &a);
	run(n, 10000, &a);
	assert_int_equal(n->r[2].fsm.state, VRRP_MASTER);
	/* A weighted track lowers the priority, and the master says so at
	 * once rather than at its next interval. */
	a.n = 0;
	vrrp_node_service(n, "web", false, 10000, &a);
	assert_int_equal(n->r[2].fsm.prio, 70);
	assert_int_equal(find_act(&a, VRRP_ACT_TRACK, 2)->failing, true);
	assert_int_equal(find_act(&a, VRRP_ACT_SEND, 2)->prio, 70);
	assert_int_equal(n->r[2].fsm.state, VRRP_MASTER);
	/* Unchanged news: nothing at all. */
	a.n = 0;
	vrrp_node_service(n, "web", false, 10001, &a);
	assert_int_equal(a.n, 0);
	/* A track without a weight: FAULT, resigning at once. */
	vrrp_node_track(n, 2, 1, true, 10002, &a);
	assert_int_equal(n->r[2].fsm.state, VRRP_FAULT);
	assert_int_equal(find_act(&a, VRRP_ACT_SEND, 2)->prio, 0);
	assert_int_equal(n->groups[1].state, VRRP_FAULT);
	assert_int_not_equal(n->groups[1].state, VRRP_MASTER);
	/* Recovered: through Initialize, back with the configured priority. */
	a.n = 0;
	vrrp_node_service(n, "web", true, 10003, &a);
	vrrp_node_track(n, 2, 1, false, 10004, &a);
	assert_int_equal(n->r[2].fsm.prio, 100);
	assert_int_equal(n->r[2].fsm.state, VRRP_BACKUP);
	t = 10004 + vrrp_fsm_down_ms(&n->r[2].fsm);
	run(n, t, &a);
	assert_int_equal(n->r[2].fsm.state, VRRP_MASTER);
	/* No carrier on one router of a group: the whole group in FAULT. */
	a.n = 0;
	vrrp_node_link(n, 1, false, t, &a);
	assert_int_equal(count(&a, VRRP_ACT_LINK, 1), 1);
	assert_int_equal(n->r[0].fsm.state, VRRP_FAULT);
	assert_int_equal(n->r[1].fsm.state, VRRP_FAULT);
	assert_int_equal(n->r[2].fsm.state, VRRP_MASTER);
	vrrp_node_link(n, 1, true, t, &a);
	assert_int_equal(n->r[0].fsm.state, VRRP_BACKUP);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* An address owner keeps 255 whatever fails; lbctl's override sets and
 * resets, never to 0 or 255. */
static void
test_priority(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	struct vrrp_router r = { .cfg_prio = 255 };
	struct vrrp_track t = { .weight = 50, .failing = true };

	r.tracks = &t;
	r.n_tracks = 1;
	assert_int_equal(vrrp_router_prio(&r), 255);
	r.cfg_prio = 40;
	assert_int_equal(vrrp_router_prio(&r), 1);

	vrrp_node_start(n, 0, &a);
	assert_int_equal(vrrp_node_set_prio(n, 0, 0, 0, &a), -1);
	assert_int_equal(vrrp_node_set_prio(n, 0, 255, 0, &a), -1);
	assert_int_equal(vrrp_node_set_prio(n, 0, 180, 0, &a), 0);
	assert_int_equal(n->r[0].fsm.prio, 180);
	assert_int_equal(vrrp_node_set_prio(n, 0, -1, 0, &a), 0);
	assert_int_equal(n->r[0].fsm.prio, 100);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* ha-sync holds preemption until the peer's connections are in. */
static void
test_preempt_held(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len = frame(f, 3, 60, 50, 100, PEER4, VIP_FRONT);

	vrrp_node_hold_preempt(n, true);
	vrrp_node_start(n, 0, &a);
	for (uint64_t t = 0; t < 20000; t += 1000) {
		vrrp_node_rx(n, 0, f, len, t, &a);
		run(n, t + 999, &a);
	}
	assert_int_equal(n->r[2].fsm.state, VRRP_BACKUP);
	vrrp_node_hold_preempt(n, false);
	vrrp_node_rx(n, 0, f, len, 20000, &a);
	run(n, 24000, &a);
	assert_int_equal(n->r[2].fsm.state, VRRP_MASTER);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* ---- external ------------------------------------------------------------ */

static void
test_external(void **state)
{
	struct vrrp_node *n = node(true, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len = frame(f, 3, 51, 200, 100, PEER4, VIP_FRONT);

	vrrp_node_start(n, 0, &a);
	assert_int_equal(vrrp_node_deadline(n), 0);
	assert_int_equal(n->r[0].fsm.state, VRRP_BACKUP);
	assert_int_equal(vrrp_node_ha(n, 0, VRRP_MASTER, 50, &a), 0);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(n->r[0].fsm.state, VRRP_MASTER);
	assert_int_equal(n->r[1].fsm.state, VRRP_MASTER);
	assert_int_equal(n->r[1].last_change, 50);
	/* keepalived decides: adverts change nothing, set-priority is refused. */
	vrrp_node_rx(n, 0, f, len, 60, &a);
	assert_int_equal(n->r[0].fsm.state, VRRP_MASTER);
	assert_int_equal(vrrp_node_set_prio(n, 0, 10, 60, &a), -1);
	assert_int_equal(vrrp_node_ha(n, 0, VRRP_INIT, 70, &a), -1);
	assert_int_equal(vrrp_node_ha(n, 0, VRRP_FAULT, 70, &a), 0);
	assert_int_not_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(n->groups[0].state, VRRP_FAULT);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* ---- reload -------------------------------------------------------------- */

static void
test_adopt(void **state)
{
	const struct vrrp_track tr[] = {
		{ .type = VRRP_TRACK_SCRIPT, .weight = 20, .what = "check.sh" },
	};
	struct vrrp_node *old = node(false, tr, 1), *nw;
	struct vrrp_router_cfg rc = {
		.name = "single", .family = 4, .have_self = true, .n_addrs = 1,
		.addrs = VIP_FRONT,
		.fsm = { .vrid = 60, .priority = 120, .adver_cs = 100,
			 .version = 3, .preempt = true },
		.tracks = tr, .n_tracks = 1,
	};
	struct vrrp_acts a = { 0 }, oa = { 0 };

	memcpy(rc.self, SELF4, 16);
	vrrp_node_start(old, 0, &a);
	run(old, 10000, &a);
	vrrp_node_track(old, 2, 0, true, 10000, &a);
	assert_int_equal(old->r[2].fsm.prio, 80);
	assert_int_equal(old->groups[0].state, VRRP_MASTER);
	assert_int_equal(old->groups[1].state, VRRP_MASTER);
	/* The new config: group edge goes, solo keeps its router (priority
	 * 120 now), a group "new" arrives with a router of its own. */
	nw = vrrp_node_new(false);
	vrrp_node_add_group(nw, "new");
	vrrp_node_add_group(nw, "solo");
	vrrp_node_add_port(nw, "eth0");
	rc.group = 1;
	assert_int_equal(vrrp_node_add_router(nw, &rc), 0);
	rc.name = "fresh"; rc.group = 0; rc.fsm.vrid = 70; rc.n_tracks = 0;
	assert_int_equal(vrrp_node_add_router(nw, &rc), 1);
	vrrp_node_adopt(nw, old, 10100, &oa);
	/* single carried: still master, counters and its failing track kept,
	 * the new settings in place. */
	assert_int_equal(nw->r[0].fsm.state, VRRP_MASTER);
	assert_int_equal(nw->r[0].fsm.cfg.priority, 120);
	assert_int_equal(nw->r[0].tx, old->r[2].tx);
	assert_true(nw->r[0].tracks[0].failing);
	assert_int_equal(nw->groups[1].state, VRRP_MASTER);
	/* front and back resign (both were master); edge is released, solo
	 * is not (carried). */
	assert_int_equal(find_act(&oa, VRRP_ACT_SEND, 0)->prio, 0);
	assert_int_equal(find_act(&oa, VRRP_ACT_SEND, 1)->prio, 0);
	assert_int_equal(count(&oa, VRRP_ACT_REMOVED, 0), 1);
	assert_int_equal(count(&oa, VRRP_ACT_REMOVED, 1), 1);
	assert_int_equal(count(&oa, VRRP_ACT_REMOVED, 2), 0);
	assert_int_equal(find_act(&oa, VRRP_ACT_HOLD, 0)->to, VRRP_BACKUP);
	assert_int_equal(count(&oa, VRRP_ACT_HOLD, 1), 0);
	/* Start: single's new priority less its failing track, advertised
	 * at once; fresh starts as backup; nothing moves for solo. */
	a.n = 0;
	vrrp_node_start(nw, 10100, &a);
	assert_int_equal(nw->r[0].fsm.prio, 100);
	assert_int_equal(find_act(&a, VRRP_ACT_SEND, 0)->prio, 100);
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 1), 0);
	assert_int_equal(nw->r[1].fsm.state, VRRP_BACKUP);
	vrrp_acts_free(&a);
	vrrp_acts_free(&oa);
	vrrp_node_free(old);
	vrrp_node_free(nw);
}

/* ---- the heartbeat (vrrp_hb.c) ---------------------------------------- */

/* The peer's word: group "edge" in `st` at `prio` from PEER4, and "solo"
 * backup. */
static size_t
peer_word(uint8_t *w, enum vrrp_state st, uint8_t prio)
{
	const char *names[2] = { "edge", "solo" };
	size_t len = 2;

	w[0] = 1;
	w[1] = 2;
	for (int k = 0; k < 2; k++) {
		uint32_t h = vrrp_hb_name_hash(names[k]);
		uint8_t *p = w + len;

		p[0] = (uint8_t)(h >> 24);
		p[1] = (uint8_t)(h >> 16);
		p[2] = (uint8_t)(h >> 8);
		p[3] = (uint8_t)h;
		p[4] = (uint8_t)(k == 0 ? st : VRRP_BACKUP);
		p[5] = prio;
		p[6] = 4;
		memcpy(p + 7, PEER4, 16);
		len += 23;
	}
	return len;
}

/* Adverts from PEER4 (priority 150) for edge's two routers at `t`. */
static void
adverts(struct vrrp_node *n, uint64_t t, bool front, bool back,
    struct vrrp_acts *a)
{
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	if (front) {
		len = frame(f, 3, 51, 150, 100, PEER4, VIP_FRONT);
		vrrp_node_rx(n, 0, f, len, t, a);
	}
	if (back) {
		len = frame(f, 3, 52, 150, 100, PEER4, VIP_BACK);
		vrrp_node_rx(n, 1, f, len, t + 500, a);
	}
}

/* One segment partitioned (no heartbeat): the front router hears
 * nothing, the back one still hears the master. The backup holds back,
 * reports it once, and says when the master is heard again. */
static void
test_partition_one_segment(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	const struct vrrp_act *x;

	vrrp_node_start(n, 0, &a);
	for (uint64_t t = 0; t < 3000; t += 1000)
		adverts(n, t, true, true, &a);
	a.n = 0;
	for (uint64_t t = 3000; t < 20000; t += 1000) {
		adverts(n, t, false, true, &a);
		run(n, t + 999, &a);
	}
	assert_int_equal(n->r[0].fsm.state, VRRP_BACKUP);
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 0), 0);
	assert_int_equal(count(&a, VRRP_ACT_PARTITION, 0), 1);
	x = find_act(&a, VRRP_ACT_PARTITION, 0);
	assert_true(x->failing);
	assert_int_equal(x->hold, VRRP_HOLD_OTHER);
	assert_int_equal(n->groups[0].partitions, 1);
	/* Healed: the front hears the master again; the episode ends. */
	a.n = 0;
	adverts(n, 20000, true, true, &a);
	x = find_act(&a, VRRP_ACT_PARTITION, 0);
	assert_non_null(x);
	assert_false(x->failing);
	assert_int_equal(n->groups[0].held, VRRP_HOLD_NONE);
	/* Both silent: the master is gone; the group moves. */
	a.n = 0;
	run(n, 30000, &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* lbctl ha handover: the master of "edge" resigns both its routers with
 * a priority-0 advert each, goes BACKUP at priority 1 and releases the
 * group; "solo" is untouched. The peer's adverts (priority 150) keep it a
 * backup; if the peer then dies it takes the group again. A group that is
 * not master here is refused. */
static void
test_handover(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };

	vrrp_node_start(n, 0, &a);
	run(n, 10000, &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(n->groups[1].state, VRRP_MASTER);
	a.n = 0;
	assert_int_equal(vrrp_node_handover(n, 0, 10000, &a), 0);
	for (uint32_t r = 0; r < 2; r++) {
		assert_int_equal(count(&a, VRRP_ACT_SEND, r), 1);
		assert_int_equal(find_act(&a, VRRP_ACT_SEND, r)->prio, 0);
		assert_int_equal(find_act(&a, VRRP_ACT_STATE, r)->to, VRRP_BACKUP);
		assert_int_equal(n->r[r].fsm.state, VRRP_BACKUP);
		assert_int_equal(n->r[r].fsm.prio, 1);
	}
	assert_int_equal(count(&a, VRRP_ACT_STATE, 2), 0);
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 0)->to, VRRP_BACKUP);
	assert_int_equal(count(&a, VRRP_ACT_HOLD, 1), 0);
	assert_int_equal(n->groups[1].state, VRRP_MASTER);
	/* Not master any more: a second handover is refused. */
	assert_int_equal(vrrp_node_handover(n, 0, 10000, &a), -1);
	/* The peer master: it stays backup. */
	for (uint64_t t = 10100; t < 20000; t += 1000) {
		adverts(n, t, true, true, &a);
		run(n, t + 999, &a);
	}
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	/* The peer gone: it takes the group again, at priority 1. */
	run(n, 30000, &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(n->r[0].fsm.prio, 1);
	vrrp_acts_free(&a);
	vrrp_node_free(n);

	n = node(true, NULL, 0);
	vrrp_node_start(n, 0, &a);
	assert_int_equal(vrrp_node_handover(n, 0, 0, &a), -1);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* A node with a heartbeat that has heard the peer say it is master of
 * "edge" at priority 150 (its word in `w`). */
static struct vrrp_node *
hb_node(struct vrrp_acts *a, uint8_t *w, size_t *wl)
{
	struct vrrp_node *n = node(false, NULL, 0);

	*wl = peer_word(w, VRRP_MASTER, 150);
	vrrp_node_set_heartbeat(n, true);
	vrrp_node_start(n, 0, a);
	assert_int_equal(vrrp_node_hb_peer(n, true, w, *wl, 0, a), 0);
	return n;
}

/* With a heartbeat that hears the peer as master, silent adverts on
 * both segments are a partition: no takeover, said once. When the
 * heartbeat goes silent too, the group moves at once. */
static void
test_heartbeat_holds(void **state)
{
	struct vrrp_acts a = { 0 };
	uint8_t w[VRRP_HB_MAX_LEN];
	size_t wl;
	struct vrrp_node *n = hb_node(&a, w, &wl);
	adverts(n, 0, true, true, &a);
	a.n = 0;
	for (uint64_t t = 1000; t < 20000; t += 10) {
		if (t % 1000 == 0)
			(void)vrrp_node_hb_peer(n, true, w, wl, t, &a);
		run(n, t, &a);
	}
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	assert_int_equal(find_act(&a, VRRP_ACT_PARTITION, 0)->hold,
	    VRRP_HOLD_HEARTBEAT);
	assert_int_equal(count(&a, VRRP_ACT_PARTITION, 0), 1);
	/* The heartbeat falls silent too: both paths say gone. */
	a.n = 0;
	(void)vrrp_node_hb_peer(n, false, NULL, 0, 20000, &a);
	run(n, 20000, &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 0)->to, VRRP_MASTER);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* Heartbeat silent (the peer's node died): one advert interval of
 * silence is enough, not Master_Down_Interval (3 intervals + skew). */
static void
test_heartbeat_fast(void **state)
{
	struct vrrp_acts a = { 0 };
	uint8_t w[VRRP_HB_MAX_LEN];
	size_t wl;
	struct vrrp_node *n = hb_node(&a, w, &wl);
	uint32_t fast;

	for (uint64_t t = 0; t <= 5000; t += 1000) {
		adverts(n, t, true, true, &a);
		run(n, t + 999, &a);
	}
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	/* Dead at 6000: its last adverts 5000 (front), 5500 (back). */
	(void)vrrp_node_hb_peer(n, false, NULL, 0, 6100, &a);
	a.n = 0;
	fast = 1000 + 200;	/* an interval and a fifth (> skew / 4) */
	run(n, 5500 + fast - 1, &a);
	assert_int_equal(n->groups[0].state, VRRP_BACKUP);
	run(n, 5500 + fast, &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	assert_true(5500 + fast < 5500 + vrrp_fsm_down_ms(&n->r[1].fsm));
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* The master says over the heartbeat it cannot serve (FAULT): the
 * backup takes over after its skew, as after a priority-0 advert. */
static void
test_heartbeat_fault(void **state)
{
	struct vrrp_acts a = { 0 };
	uint8_t w[VRRP_HB_MAX_LEN];
	size_t wl;
	struct vrrp_node *n = hb_node(&a, w, &wl);
	adverts(n, 0, true, true, &a);
	adverts(n, 1000, true, true, &a);
	wl = peer_word(w, VRRP_FAULT, 150);
	(void)vrrp_node_hb_peer(n, true, w, wl, 1600, &a);
	run(n, 1600 + vrrp_fsm_skew_ms(&n->r[0].fsm), &a);
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* Both master while the heartbeat hears both: after one advert interval
 * the lower steps down, the higher stays and announces again. */
static void
test_split_brain(void **state)
{
	for (int peer_higher = 0; peer_higher <= 1; peer_higher++) {
		struct vrrp_node *n = node(false, NULL, 0);
		struct vrrp_acts a = { 0 };
		uint8_t w[VRRP_HB_MAX_LEN];
		size_t wl = peer_word(w, VRRP_MASTER, peer_higher ? 150 : 50);
		const struct vrrp_act *x;

		vrrp_node_set_heartbeat(n, true);
		vrrp_node_start(n, 0, &a);
		run(n, 5000, &a);	/* alone: master */
		assert_int_equal(n->groups[0].state, VRRP_MASTER);
		a.n = 0;
		(void)vrrp_node_hb_peer(n, true, w, wl, 5000, &a);
		(void)vrrp_node_hb_peer(n, true, w, wl, 5500, &a);
		assert_int_equal(count(&a, VRRP_ACT_SPLIT, 0), 0);
		run(n, 6000, &a);
		x = find_act(&a, VRRP_ACT_SPLIT, 0);
		assert_non_null(x);
		assert_int_equal(n->groups[0].split_brains, 1);
		if (peer_higher) {
			assert_int_equal(x->to, VRRP_BACKUP);
			assert_int_equal(n->groups[0].state, VRRP_BACKUP);
			assert_int_equal(find_act(&a, VRRP_ACT_HOLD, 0)->to,
			    VRRP_BACKUP);
			/* And it stays backup while the peer is master. */
			for (uint64_t t = 6000; t < 15000; t += 100) {
				(void)vrrp_node_hb_peer(n, true, w, wl, t, &a);
				run(n, t, &a);
			}
			assert_int_equal(n->groups[0].state, VRRP_BACKUP);
		} else {
			assert_int_equal(x->to, VRRP_MASTER);
			assert_int_equal(n->groups[0].state, VRRP_MASTER);
		}
		vrrp_acts_free(&a);
		vrrp_node_free(n);
	}
}

/* A higher priority still preempts a lower master the heartbeat hears:
 * its adverts come, so its silence is no evidence of anything. */
static void
test_heartbeat_preempt(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t w[VRRP_HB_MAX_LEN], f[VRRP_FRAME_MAX];
	size_t wl = peer_word(w, VRRP_MASTER, 50), len;

	vrrp_node_set_heartbeat(n, true);
	vrrp_node_start(n, 0, &a);
	for (uint64_t t = 0; t < 10000; t += 1000) {
		(void)vrrp_node_hb_peer(n, true, w, wl, t, &a);
		len = frame(f, 3, 51, 50, 100, PEER4, VIP_FRONT);
		vrrp_node_rx(n, 0, f, len, t, &a);
		len = frame(f, 3, 52, 50, 100, PEER4, VIP_BACK);
		vrrp_node_rx(n, 1, f, len, t + 500, &a);
		run(n, t + 999, &a);
	}
	assert_int_equal(n->groups[0].state, VRRP_MASTER);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
}

/* The word: what one node encodes the other decodes; anything else is
 * refused whole. */
static void
test_heartbeat_word(void **state)
{
	struct vrrp_node *n = node(false, NULL, 0), *p = node(false, NULL, 0);
	struct vrrp_acts a = { 0 };
	uint8_t w[VRRP_HB_MAX_LEN];
	size_t wl;

	vrrp_node_set_heartbeat(n, true);
	vrrp_node_set_heartbeat(p, true);
	vrrp_node_start(p, 0, &a);
	run(p, 5000, &a);
	wl = vrrp_node_hb_encode(p, w, sizeof(w));
	assert_int_equal(wl, 2 + 2 * 23);
	assert_int_equal(vrrp_node_hb_peer(n, true, w, wl, 0, &a), 0);
	assert_true(n->groups[0].peer_known);
	assert_int_equal(n->groups[0].peer_state, VRRP_MASTER);
	assert_int_equal(n->groups[0].peer_prio, 100);
	assert_memory_equal(n->groups[0].peer_addr, SELF4, 4);
	assert_int_equal(vrrp_node_hb_peer(n, true, w, wl - 1, 0, &a), -1);
	w[6] = 9;	/* group 0's state: out of range */
	assert_int_equal(vrrp_node_hb_peer(n, true, w, wl, 0, &a), -1);
	w[0] = 7;
	assert_int_equal(vrrp_node_hb_peer(n, true, w, wl, 0, &a), -1);
	assert_int_equal(n->groups[0].peer_state, VRRP_MASTER);
	assert_int_equal(vrrp_node_hb_peer(n, true, w, 0, 0, &a), 0);
	assert_false(n->groups[0].peer_known);
	vrrp_acts_free(&a);
	vrrp_node_free(n);
	vrrp_node_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ladder),
		cmocka_unit_test(test_ladder_v2_unicast),
		cmocka_unit_test(test_ladder_v2_auth),
		cmocka_unit_test(test_sync_group),
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_handover),
		cmocka_unit_test(test_preempt_held),
		cmocka_unit_test(test_external),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_partition_one_segment),
		cmocka_unit_test(test_heartbeat_holds),
		cmocka_unit_test(test_heartbeat_fast),
		cmocka_unit_test(test_heartbeat_fault),
		cmocka_unit_test(test_split_brain),
		cmocka_unit_test(test_heartbeat_preempt),
		cmocka_unit_test(test_heartbeat_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
