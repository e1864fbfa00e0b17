/*
 * The heartbeat's word in VRRP's decisions (see vrrp_group.h): with a sync
 * block the nodes tell each other, over ha-sync's authenticated link, each
 * group's state, priority and address, several times per advert interval.
 *
 * Two independent paths, VRRP's adverts and the heartbeat, both fall
 * silent when the master's node dies; only one does on a partition. So:
 *
 *   adverts     heartbeat            a backup ...
 *   silent      hears the master     holds back: a partition (reported)
 *   silent      hears a non-master   takes over at Master_Down (VRRP)
 *   silent      silent               takes over one interval in (fast)
 *   heard       either               stays backup (or preempts, as VRRP)
 *
 * and, without a heartbeat or with it silent, a backup whose other
 * routers of the group still hear the master holds back too (a partition
 * of one segment). Both nodes master while the heartbeat hears both: the
 * lower (priority, then address) goes backup after one advert interval,
 * the higher announces its addresses again.
 *
 * Wire (inside an authenticated ha-sync STATUS datagram): version 1, a
 * count, then per group: FNV-1a of its name (4, big-endian), state,
 * priority, family, address (16).
 *
 * Pure: no clock, no sockets, no logging.
 */
#include <string.h>

#include "lib/addr.h"
#include "vrrp/vrrp_group_int.h"

#define HB_VERSION	1
#define HB_ENTRY	23

uint32_t
vrrp_hb_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

const char *
vrrp_hold_name(enum vrrp_hold h)
{
	switch (h) {
	case VRRP_HOLD_HEARTBEAT:
		return "heartbeat_hears_master";
	case VRRP_HOLD_OTHER:
		return "other_instance_hears_master";
	default:
		return "none";
	}
}

void
vrrp_node_set_heartbeat(struct vrrp_node *n, bool on)
{
	n->hb = on && !n->external;
	if (!n->hb)
		n->peer_alive = false;
}

uint32_t
vrrp_master_adver_ms(const struct vrrp_router *r)
{
	return r->fsm.master_adver_cs * 10u;
}

/* The first router of group `g`: its priority and address speak for the
 * group (a group's routers share a node, and usually a priority). */
static const struct vrrp_router *
first(const struct vrrp_node *n, uint32_t g)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->r[i].group == g)
			return &n->r[i];
	return NULL;
}

size_t
vrrp_node_hb_encode(const struct vrrp_node *n, uint8_t *out, size_t cap)
{
	size_t k = 0, len = 2;

	if (cap < 2)
		return 0;
	for (size_t g = 0; g < n->n_groups && k < VRRP_HB_MAX_GROUPS; g++) {
		const struct vrrp_router *r = first(n, (uint32_t)g);
		uint32_t h = n->groups[g].name_hash;
		uint8_t *p = out + len;

		if (r == NULL || len + HB_ENTRY > cap)
			continue;
		p[0] = (uint8_t)(h >> 24);
		p[1] = (uint8_t)(h >> 16);
		p[2] = (uint8_t)(h >> 8);
		p[3] = (uint8_t)h;
		p[4] = (uint8_t)n->groups[g].state;
		p[5] = r->fsm.prio;
		p[6] = r->family;
		memcpy(p + 7, r->fsm.self, 16);
		len += HB_ENTRY;
		k++;
	}
	out[0] = HB_VERSION;
	out[1] = (uint8_t)k;
	return len;
}

/* Decode into the groups' peer view; false (nothing changed) if bad. */
static bool
decode(struct vrrp_node *n, const uint8_t *b, size_t len)
{
	static const uint8_t none[2] = { HB_VERSION, 0 };

	if (len == 0) {		/* a peer without VRRP */
		b = none;
		len = 2;
	}
	if (len < 2 || b[0] != HB_VERSION || b[1] > VRRP_HB_MAX_GROUPS ||
	    len != 2 + (size_t)b[1] * HB_ENTRY)
		return false;
	for (size_t k = 0; k < b[1]; k++) {
		const uint8_t *p = b + 2 + k * HB_ENTRY;

		if (p[4] > VRRP_FAULT || (p[6] != 4 && p[6] != 6))
			return false;
	}
	for (size_t g = 0; g < n->n_groups; g++) {
		struct vrrp_group *gr = &n->groups[g];

		gr->peer_known = false;
		for (size_t k = 0; k < b[1] && !gr->peer_known; k++) {
			const uint8_t *p = b + 2 + k * HB_ENTRY;
			uint32_t h = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | p[3];

			if (h != gr->name_hash)
				continue;
			gr->peer_known = true;
			gr->peer_state = (enum vrrp_state)p[4];
			gr->peer_prio = p[5];
			gr->peer_family = p[6];
			memcpy(gr->peer_addr, p + 7, 16);
		}
	}
	return true;
}

int
vrrp_node_hb_peer(struct vrrp_node *n, bool alive, const uint8_t *blob,
    size_t len, uint64_t now, struct vrrp_acts *out)
{
	enum vrrp_state was[VRRP_HB_MAX_GROUPS];
	bool known[VRRP_HB_MAX_GROUPS];

	if (!n->hb)
		return 0;
	for (size_t g = 0; g < n->n_groups && g < VRRP_HB_MAX_GROUPS; g++) {
		was[g] = n->groups[g].peer_state;
		known[g] = n->groups[g].peer_known && n->peer_alive;
	}
	if (blob != NULL && !decode(n, blob, len))
		return -1;
	/* The heartbeat falling silent is new evidence: look again now. */
	if (n->peer_alive && !alive)
		for (size_t i = 0; i < n->n; i++)
			n->r[i].held_until = 0;
	n->peer_alive = alive;
	for (size_t g = 0; g < n->n_groups && g < VRRP_HB_MAX_GROUPS; g++) {
		const struct vrrp_group *gr = &n->groups[g];

		/* The master says over the heartbeat that it cannot serve
		 * (FAULT) or stopped: as good as a priority-0 advert, which
		 * its dead interface may not have carried. */
		if (!alive || !known[g] || was[g] != VRRP_MASTER ||
		    !gr->peer_known || gr->peer_state == VRRP_MASTER ||
		    gr->peer_state == VRRP_BACKUP)
			continue;
		for (size_t i = 0; i < n->n; i++) {
			struct vrrp_fsm *f = &n->r[i].fsm;
			uint64_t at = now + vrrp_fsm_skew_ms(f);

			if (n->r[i].group == g && f->state == VRRP_BACKUP &&
			    (f->down_at == 0 || at < f->down_at)) {
				f->down_at = at;
				n->r[i].resigned = true;
			}
		}
	}
	vrrp_hb_tick(n, now, out);
	return 0;
}

/*
 * A router's master went quiet: is that the master gone? Not while the
 * router's own adverts come (a lower master it preempts), and not while
 * the evidence says the master lives: the heartbeat hears it as master,
 * or another router of the group still hears it.
 */
enum vrrp_hold
vrrp_hb_hold(const struct vrrp_node *n, uint32_t ri, uint64_t now)
{
	const struct vrrp_router *r = &n->r[ri];
	const struct vrrp_group *gr = &n->groups[r->group];

	if (r->resigned || now - r->heard_at < vrrp_master_adver_ms(r))
		return VRRP_HOLD_NONE;
	if (n->hb && n->peer_alive && gr->peer_known &&
	    gr->peer_state == VRRP_MASTER)
		return VRRP_HOLD_HEARTBEAT;
	for (size_t j = 0; j < n->n; j++) {
		const struct vrrp_router *o = &n->r[j];

		if (j == ri || o->group != r->group || o->resigned ||
		    o->fsm.state != VRRP_BACKUP)
			continue;
		if (now - o->heard_at < vrrp_master_adver_ms(o) +
		    vrrp_fsm_skew_ms(&o->fsm))
			return VRRP_HOLD_OTHER;
	}
	return VRRP_HOLD_NONE;
}

/* One interval and a margin: a fifth of it at least (a master's adverts
 * keep their time within a few ms whatever its loop does: lbd's keeper
 * thread), more with the skew of a lower backup. */
static uint32_t
fast_down_ms(const struct vrrp_router *r)
{
	uint32_t skew = vrrp_fsm_skew_ms(&r->fsm) / 4;
	uint32_t fifth = vrrp_master_adver_ms(r) / 5;

	return vrrp_master_adver_ms(r) + (skew > fifth ? skew : fifth);
}

uint64_t
vrrp_hb_fast_at(const struct vrrp_node *n, uint32_t ri)
{
	const struct vrrp_router *r = &n->r[ri];

	uint64_t at;

	if (!n->hb || n->peer_alive || r->fsm.state != VRRP_BACKUP ||
	    r->heard_at == 0)
		return 0;
	at = r->heard_at + fast_down_ms(r);
	return at > r->held_until ? at : r->held_until;
}

void
vrrp_hb_held(struct vrrp_node *n, uint32_t g, enum vrrp_hold why,
    struct vrrp_acts *out)
{
	struct vrrp_group *gr = &n->groups[g];
	struct vrrp_act *x;

	if (why == gr->held || (why != VRRP_HOLD_NONE && gr->held != VRRP_HOLD_NONE))
		return;
	if (why != VRRP_HOLD_NONE)
		gr->partitions++;
	if ((x = vrrp_act_new(out, VRRP_ACT_PARTITION, g)) != NULL) {
		x->failing = why != VRRP_HOLD_NONE;
		x->hold = why != VRRP_HOLD_NONE ? why : gr->held;
	}
	gr->held = why;
}

/* Does the peer's word outrank ours for group `g` (VRRP's rule)? */
static bool
peer_outranks(const struct vrrp_node *n, uint32_t g)
{
	const struct vrrp_group *gr = &n->groups[g];
	const struct vrrp_router *r = first(n, g);

	if (r == NULL)
		return true;
	if (gr->peer_prio != r->fsm.prio)
		return gr->peer_prio > r->fsm.prio;
	if (gr->peer_family != r->family)
		return gr->peer_family > r->family;
	return memcmp(gr->peer_addr, r->fsm.self, addr_len(r->family)) > 0;
}

void
vrrp_hb_tick(struct vrrp_node *n, uint64_t now, struct vrrp_acts *out)
{
	for (size_t g = 0; g < n->n_groups; g++) {
		struct vrrp_group *gr = &n->groups[g];
		const struct vrrp_router *r = first(n, (uint32_t)g);
		struct vrrp_act *x;
		bool lost;

		if (!n->hb || !n->peer_alive || !gr->peer_known || r == NULL ||
		    gr->peer_state != VRRP_MASTER || gr->state != VRRP_MASTER) {
			gr->both_master_since = 0;
			continue;
		}
		/* A handover shows both as master for a moment; a split brain
		 * lasts. */
		if (gr->both_master_since == 0)
			gr->both_master_since = now;
		if (now - gr->both_master_since < vrrp_master_adver_ms(r))
			continue;
		gr->both_master_since = 0;
		gr->split_brains++;
		lost = peer_outranks(n, (uint32_t)g);
		if ((x = vrrp_act_new(out, VRRP_ACT_SPLIT, (uint32_t)g)) != NULL) {
			x->to = lost ? VRRP_BACKUP : VRRP_MASTER;
			x->prio = gr->peer_prio;
			memcpy(x->src, gr->peer_addr, 16);
		}
		if (!lost)
			continue;
		/* One router steps down; the group follows it (vrrp_handle). */
		for (size_t i = 0; i < n->n; i++) {
			struct vrrp_out o;

			if (n->r[i].group != g || n->r[i].fsm.state != VRRP_MASTER)
				continue;
			vrrp_fsm_force(&n->r[i].fsm, now, VRRP_BACKUP, &o);
			n->r[i].heard_at = now;
			vrrp_handle(n, (uint32_t)i, &o, now, out);
			break;
		}
	}
}

uint64_t
vrrp_hb_deadline(const struct vrrp_node *n)
{
	uint64_t next = 0;

	for (size_t g = 0; g < n->n_groups; g++) {
		const struct vrrp_router *r = first(n, (uint32_t)g);
		uint64_t d;

		if (n->groups[g].both_master_since == 0 || r == NULL)
			continue;
		d = n->groups[g].both_master_since + vrrp_master_adver_ms(r);
		if (next == 0 || d < next)
			next = d;
	}
	return next;
}
