/*
 * Every VRRP router of a node, in vrrp-groups (see vrrp_group.h).
 *
 * Pure: no clock, no sockets, no logging. Allocates only when a node is
 * built and when the action list grows.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "vrrp/vrrp_group_int.h"

/* ---- actions --------------------------------------------------------- */

struct vrrp_act *
vrrp_act_new(struct vrrp_acts *a, enum vrrp_act_kind kind, uint32_t idx)
{
	struct vrrp_act *x;

	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 16;
		struct vrrp_act *nv = realloc(a->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		a->v = nv;
		a->cap = nc;
	}
	x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->idx = idx;
	return x;
}

void
vrrp_acts_free(struct vrrp_acts *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---- building --------------------------------------------------------- */

struct vrrp_node *
vrrp_node_new(bool external)
{
	struct vrrp_node *n = calloc(1, sizeof(*n));

	if (n != NULL)
		n->external = external;
	return n;
}

static void
router_free(struct vrrp_router *r)
{
	for (size_t t = 0; t < r->n_tracks; t++)
		free(r->tracks[t].what);
	free(r->tracks);
	free(r->name);
}

void
vrrp_node_free(struct vrrp_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		router_free(&n->r[i]);
	for (size_t i = 0; i < n->n_groups; i++)
		free(n->groups[i].name);
	for (size_t i = 0; i < n->n_ports; i++)
		free(n->ports[i].name);
	free(n->r);
	free(n->groups);
	free(n->ports);
	free(n);
}

/* Room for one more element of an array of `size` holding `n`. */
static void *
grow(void *v, size_t n, size_t size)
{
	return realloc(v, (n + 1) * size);
}

int
vrrp_node_add_group(struct vrrp_node *n, const char *name)
{
	struct vrrp_group *v = grow(n->groups, n->n_groups, sizeof(*v)), *g;

	if (v == NULL)
		return -1;
	n->groups = v;
	g = &v[n->n_groups];
	memset(g, 0, sizeof(*g));
	if ((g->name = strdup(name)) == NULL)
		return -1;
	g->state = VRRP_INIT;
	g->ext = VRRP_BACKUP;
	g->name_hash = vrrp_hb_name_hash(name);
	return (int)n->n_groups++;
}

int
vrrp_node_add_port(struct vrrp_node *n, const char *name)
{
	struct vrrp_port *v;

	for (size_t i = 0; i < n->n_ports; i++)
		if (strcmp(n->ports[i].name, name) == 0)
			return (int)i;
	if ((v = grow(n->ports, n->n_ports, sizeof(*v))) == NULL)
		return -1;
	n->ports = v;
	memset(&v[n->n_ports], 0, sizeof(*v));
	if ((v[n->n_ports].name = strdup(name)) == NULL)
		return -1;
	return (int)n->n_ports++;
}

int
vrrp_node_add_router(struct vrrp_node *n, const struct vrrp_router_cfg *c)
{
	struct vrrp_router *v = grow(n->r, n->n, sizeof(*v)), *r;
	size_t al = addr_len(c->family);

	if (v == NULL)
		return -1;
	n->r = v;
	r = &v[n->n];
	memset(r, 0, sizeof(*r));
	if ((r->name = strdup(c->name)) == NULL)
		return -1;
	if (c->n_tracks > 0 &&
	    (r->tracks = calloc(c->n_tracks, sizeof(*r->tracks))) == NULL) {
		router_free(r);
		return -1;
	}
	for (size_t t = 0; t < c->n_tracks; t++) {
		r->tracks[t] = c->tracks[t];
		r->tracks[t].failing = false;
		if ((r->tracks[t].what = strdup(c->tracks[t].what)) == NULL) {
			r->n_tracks = t;
			router_free(r);
			return -1;
		}
	}
	r->n_tracks = c->n_tracks;
	r->group = c->group;
	r->port = c->port;
	r->family = c->family;
	r->cfg_prio = c->fsm.priority;
	r->n_addrs = c->n_addrs < VRRP_MAX_ADDRS ? c->n_addrs : VRRP_MAX_ADDRS;
	memcpy(r->addrs, c->addrs, al * r->n_addrs);
	r->n_peers = c->n_peers < VRRP_PEERS_MAX ? c->n_peers : VRRP_PEERS_MAX;
	for (uint8_t k = 0; k < r->n_peers; k++)
		memcpy(r->peers[k], c->peers[k], 16);
	r->have_self = c->have_self;
	memset(r->auth, 0, sizeof(r->auth));
	if ((r->auth_pass = c->auth_pass != NULL))
		memcpy(r->auth, c->auth_pass, strnlen(c->auth_pass,
		    sizeof(r->auth)));
	vrrp_fsm_init(&r->fsm, &c->fsm, c->family, c->self);
	vrrp_fsm_hold_preempt(&r->fsm, n->preempt_held);
	return (int)n->n++;
}

void
vrrp_node_set_self(struct vrrp_node *n, uint32_t r, const uint8_t self[16])
{
	memcpy(n->r[r].fsm.self, self, 16);
	n->r[r].have_self = true;
}

int
vrrp_node_router(const struct vrrp_node *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->r[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vrrp_node_port(const struct vrrp_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_ports; i++)
		if (strcmp(n->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vrrp_node_group(const struct vrrp_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_groups; i++)
		if (strcmp(n->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- groups ------------------------------------------------------------ */

/* The group's addresses are to be held (master) or released: the data
 * plane keeps which groups this node holds; this only says when. */
static void
release_or_hold(struct vrrp_acts *out, uint32_t g, bool master)
{
	struct vrrp_act *x = vrrp_act_new(out, VRRP_ACT_HOLD, g);

	if (x != NULL) {
		x->from = master ? VRRP_BACKUP : VRRP_MASTER;
		x->to = master ? VRRP_MASTER : VRRP_BACKUP;
	}
}

/*
 * A group is master when any of its routers is (they move together, so
 * that is all of them outside a move), in FAULT when one is; with `vrrp
 * external` it is what lbctl ha said. Report a change of state (the
 * first report of a backup is no transition, so no hook runs for it) and
 * hold or release the group's addresses when mastership changes.
 */
static void
group_update(struct vrrp_node *n, uint32_t g, struct vrrp_acts *out)
{
	struct vrrp_group *gr = &n->groups[g];
	bool master = false, fault = false;
	enum vrrp_state st;
	struct vrrp_act *x;

	for (size_t i = 0; i < n->n; i++)
		if (n->r[i].group == g) {
			master |= n->r[i].fsm.state == VRRP_MASTER;
			fault |= n->r[i].fsm.state == VRRP_FAULT;
		}
	if (n->external) {
		master = gr->ext == VRRP_MASTER;
		fault = gr->ext == VRRP_FAULT;
	}
	st = master ? VRRP_MASTER : fault ? VRRP_FAULT : VRRP_BACKUP;
	if (st == gr->state)
		return;
	if (st != VRRP_BACKUP)
		vrrp_hb_held(n, g, VRRP_HOLD_NONE, out);
	if ((x = vrrp_act_new(out, VRRP_ACT_GROUP, g)) != NULL) {
		x->from = gr->state;
		x->to = st;
		x->notify = gr->state != VRRP_INIT || st != VRRP_BACKUP;
	}
	if (master != (gr->state == VRRP_MASTER))
		release_or_hold(out, g, master);
	gr->state = st;
}

/* A group that just became master: its k routers advertise at j/k of
 * their interval (j = 0..k-1) from now on instead of all together, so a
 * backup notices a dead master as soon as the first of them goes quiet
 * for Master_Down_Interval (see vrrp_fsm_phase). */
static void
spread(struct vrrp_node *n, uint32_t g, uint64_t now)
{
	size_t k = 0, j = 0;

	for (size_t i = 0; i < n->n; i++)
		k += n->r[i].group == g;
	for (size_t i = 0; i < n->n && k > 1; i++) {
		struct vrrp_fsm *f = &n->r[i].fsm;

		if (n->r[i].group != g)
			continue;
		if (j > 0)
			vrrp_fsm_phase(f, now, (uint32_t)(f->cfg.adver_cs * 10u *
			    j / k));
		j++;
	}
}

/* What one router's machine asked for, and what follows from it for its
 * group. */
void
vrrp_handle(struct vrrp_node *n, uint32_t ri, const struct vrrp_out *o, uint64_t now,
    struct vrrp_acts *out)
{
	struct vrrp_router *r = &n->r[ri];
	struct vrrp_act *x;

	if (o->send && (x = vrrp_act_new(out, VRRP_ACT_SEND, ri)) != NULL)
		x->prio = o->send_prio;
	if (!o->changed)
		return;
	r->last_change = now;
	/* A backup's silence counts from when it became one. */
	if (o->to == VRRP_BACKUP) {
		r->heard_at = now;
		r->resigned = false;
	}
	if ((x = vrrp_act_new(out, VRRP_ACT_STATE, ri)) != NULL) {
		x->from = o->from;
		x->to = o->to;
		x->prio = r->fsm.prio;
		x->notify = o->to != VRRP_INIT;
	}
	/* Sync group: the others follow to MASTER, or back to BACKUP when a
	 * master was outranked. A forced move does not cascade again. */
	if (!n->moving && (o->to == VRRP_MASTER ||
	    (o->from == VRRP_MASTER && o->to == VRRP_BACKUP))) {
		n->moving = true;
		for (size_t i = 0; i < n->n; i++) {
			struct vrrp_out xo;

			if (i == ri || n->r[i].group != r->group)
				continue;
			vrrp_fsm_force(&n->r[i].fsm, now, o->to, &xo);
			vrrp_handle(n, (uint32_t)i, &xo, now, out);
		}
		n->moving = false;
		if (o->to == VRRP_MASTER)
			spread(n, r->group, now);
	}
	if (!n->moving)
		group_update(n, r->group, out);
}

/* ---- tracking ------------------------------------------------------------ */

uint8_t
vrrp_router_prio(const struct vrrp_router *r)
{
	int p = r->prio_set ? r->set_prio : r->cfg_prio;

	/* An address owner keeps 255 whatever fails. */
	if (p == 255)
		return 255;
	for (size_t t = 0; t < r->n_tracks; t++)
		if (r->tracks[t].failing && r->tracks[t].weight > 0)
			p -= r->tracks[t].weight;
	return (uint8_t)(p < 1 ? 1 : p > 254 ? 254 : p);
}

static bool
router_fault(const struct vrrp_router *r)
{
	if (r->own_down)
		return true;
	for (size_t t = 0; t < r->n_tracks; t++)
		if (r->tracks[t].failing && r->tracks[t].weight == 0)
			return true;
	return false;
}

/* Priorities and FAULT follow the tracks; a group enters FAULT as a
 * whole when any of its routers has a reason to. */
static void
reevaluate(struct vrrp_node *n, uint64_t now, struct vrrp_acts *out)
{
	if (n->external)
		return;
	for (size_t i = 0; i < n->n; i++) {
		struct vrrp_router *r = &n->r[i];
		bool fault = false;
		struct vrrp_out o;

		for (size_t j = 0; j < n->n && !fault; j++)
			fault = n->r[j].group == r->group && router_fault(&n->r[j]);
		/* The priority first, so leaving FAULT starts with it. */
		vrrp_fsm_set_prio(&r->fsm, now, vrrp_router_prio(r), &o);
		vrrp_handle(n, (uint32_t)i, &o, now, out);
		if (fault != (r->fsm.state == VRRP_FAULT) &&
		    r->fsm.state != VRRP_INIT) {
			vrrp_fsm_fault(&r->fsm, now, fault, &o);
			vrrp_handle(n, (uint32_t)i, &o, now, out);
		}
	}
	for (size_t g = 0; g < n->n_groups; g++)
		group_update(n, (uint32_t)g, out);
}

static void
track_set(struct vrrp_node *n, uint32_t ri, size_t t, bool failing,
    struct vrrp_acts *out)
{
	struct vrrp_track *tr = &n->r[ri].tracks[t];
	struct vrrp_act *x;

	if (tr->failing == failing)
		return;
	tr->failing = failing;
	if ((x = vrrp_act_new(out, VRRP_ACT_TRACK, ri)) != NULL) {
		x->track = (uint32_t)t;
		x->failing = failing;
	}
}

void
vrrp_node_link(struct vrrp_node *n, uint32_t ri, bool up, uint64_t now,
    struct vrrp_acts *out)
{
	struct vrrp_router *r = &n->r[ri];
	struct vrrp_act *x;

	if (r->own_down != !up && (x = vrrp_act_new(out, VRRP_ACT_LINK, ri)) != NULL)
		x->failing = !up;
	r->own_down = !up;
	reevaluate(n, now, out);
}

void
vrrp_node_track(struct vrrp_node *n, uint32_t ri, size_t t, bool failing,
    uint64_t now, struct vrrp_acts *out)
{
	track_set(n, ri, t, failing, out);
	reevaluate(n, now, out);
}

void
vrrp_node_service(struct vrrp_node *n, const char *service, bool ok,
    uint64_t now, struct vrrp_acts *out)
{
	size_t before = out->n;

	for (size_t i = 0; i < n->n; i++)
		for (size_t t = 0; t < n->r[i].n_tracks; t++)
			if (n->r[i].tracks[t].type == VRRP_TRACK_SERVICE &&
			    strcmp(n->r[i].tracks[t].what, service) == 0)
				track_set(n, (uint32_t)i, t, !ok, out);
	/* Cheap when nothing changed: the common case, every tick. */
	if (out->n != before)
		reevaluate(n, now, out);
}

int
vrrp_node_set_prio(struct vrrp_node *n, uint32_t ri, int prio, uint64_t now,
    struct vrrp_acts *out)
{
	struct vrrp_router *r = &n->r[ri];

	if (n->external || prio == 0 || prio > 254 || prio < -1)
		return -1;
	r->prio_set = prio > 0;
	r->set_prio = prio > 0 ? (uint8_t)prio : r->cfg_prio;
	reevaluate(n, now, out);
	return 0;
}

/*
 * lbctl ha handover: this node gives group `g` to the peer. Every router
 * of the group takes the lowest priority (1, an override like lbctl vrrp
 * set-priority's, undone by its reset) so that the peer outranks it, and
 * a master resigns at once: a priority-0 advert, which has the peer take
 * over after its skew time, and BACKUP. The group stays a backup ready to
 * take over if the peer dies. -1 unless the group is master here (or with
 * `vrrp external`, where keepalived decides).
 */
int
vrrp_node_handover(struct vrrp_node *n, uint32_t g, uint64_t now,
    struct vrrp_acts *out)
{
	struct vrrp_act *x;

	if (n->external || g >= n->n_groups ||
	    n->groups[g].state != VRRP_MASTER)
		return -1;
	n->moving = true;	/* every router is moved here: no cascade */
	for (size_t i = 0; i < n->n; i++) {
		struct vrrp_router *r = &n->r[i];
		struct vrrp_out o;

		if (r->group != g)
			continue;
		r->prio_set = true;
		r->set_prio = 1;
		if (r->fsm.state == VRRP_MASTER &&
		    (x = vrrp_act_new(out, VRRP_ACT_SEND, (uint32_t)i)) != NULL)
			x->prio = 0;
		vrrp_fsm_force(&r->fsm, now, VRRP_BACKUP, &o);
		vrrp_handle(n, (uint32_t)i, &o, now, out);
		vrrp_fsm_set_prio(&r->fsm, now, vrrp_router_prio(r), &o);
		vrrp_handle(n, (uint32_t)i, &o, now, out);
	}
	n->moving = false;
	group_update(n, g, out);
	return 0;
}

/* ---- the accept ladder ------------------------------------------------ */

/* A takeover of group `g` was held back: over when each of its backups
 * hears the master again. */
static void
heard_again(struct vrrp_node *n, uint32_t g, uint64_t now,
    struct vrrp_acts *out)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct vrrp_router *r = &n->r[i];

		if (r->group == g && r->fsm.state == VRRP_BACKUP &&
		    now - r->heard_at >= vrrp_master_adver_ms(r))
			return;
	}
	vrrp_hb_held(n, g, VRRP_HOLD_NONE, out);
}

static struct vrrp_router *
find(struct vrrp_node *n, uint32_t port, uint8_t family, uint8_t vrid)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->r[i].port == port && n->r[i].family == family &&
		    n->r[i].fsm.cfg.vrid == vrid)
			return &n->r[i];
	return NULL;
}

static bool
from_peer(const struct vrrp_router *r, const struct vrrp_adv *a)
{
	for (uint8_t k = 0; k < r->n_peers; k++)
		if (memcmp(r->peers[k], a->src, addr_len(a->family)) == 0)
			return true;
	return false;
}

/*
 * Every check an advertisement must pass before it reaches a router's
 * machine (RFC 5798 7.1; RFC 3768 7.1 for v2), in one place. Each failed
 * check counts its own reason and returns: the decoder's reasons and an
 * unknown VRID on the interface, the rest on the router.
 */
void
vrrp_node_rx(struct vrrp_node *n, uint32_t port, const uint8_t *frame,
    size_t len, uint64_t now, struct vrrp_acts *out)
{
	struct vrrp_port *pt = &n->ports[port];
	struct vrrp_router *r;
	struct vrrp_adv a;
	enum vrrp_bad bad;
	struct vrrp_out o;
	size_t al;

	pt->rx++;
	if ((bad = vrrp_decode(frame, len, &a)) != VRRP_OK) {
		pt->bad[bad]++;
		return;
	}
	if ((r = find(n, port, a.family, a.vrid)) == NULL) {
		pt->bad[VRRP_BAD_VRID]++;
		return;
	}
	r->rx++;
	al = addr_len(a.family);
	if (r->n_peers > 0 && !from_peer(r, &a)) {
		r->bad[VRRP_BAD_PEER]++;
		return;
	}
	if (a.version != r->fsm.cfg.version) {
		r->bad[VRRP_BAD_VERSION_MISMATCH]++;
		return;
	}
	if (r->have_self && memcmp(a.src, r->fsm.self, al) == 0) {
		r->bad[VRRP_BAD_OWN]++;
		return;
	}
	/* RFC 3768 5.3.6 and 7.1: the instance's authentication, or none.
	 * A peer that authenticates otherwise would be master beside us:
	 * said once (keepalived's sample config has auth_type PASS). */
	if (a.version == 2 && (r->auth_pass ? a.auth_type != VRRP_AUTH_PASS ||
	    memcmp(a.auth, r->auth, sizeof(r->auth)) != 0 :
	    a.auth_type != VRRP_AUTH_NONE)) {
		struct vrrp_act *x;

		if (!r->auth_warned &&
		    (x = vrrp_act_new(out, VRRP_ACT_AUTH, (uint32_t)(r - n->r))) != NULL) {
			memcpy(x->src, a.src, 16);
			x->auth_type = a.auth_type;
			r->auth_warned = true;
		}
		r->bad[VRRP_BAD_AUTH]++;
		return;
	}
	/* RFC 3768 7.1: v2 routers of one VRID must agree on the interval. */
	if (a.version == 2 && a.interval_cs != r->fsm.cfg.adver_cs) {
		r->bad[VRRP_BAD_V2_INTERVAL]++;
		return;
	}
	if (a.n_addrs != r->n_addrs ||
	    memcmp(a.addrs, r->addrs, al * a.n_addrs) != 0) {
		/* RFC 3768 drops unless the owner sent it; RFC 5798 asks
		 * only for a log line (once: it is a misconfiguration). */
		struct vrrp_act *x;

		if (!r->list_warned &&
		    (x = vrrp_act_new(out, VRRP_ACT_ADDR_LIST, (uint32_t)(r - n->r))) != NULL) {
			memcpy(x->src, a.src, 16);
			x->n_addrs = a.n_addrs;
			r->list_warned = true;
		}
		r->bad[VRRP_BAD_ADDR_LIST]++;
		if (a.version == 2 && a.priority != 255)
			return;
	}
	if (n->external)
		return;		/* keepalived decides; nothing to learn */
	r->heard_at = now;
	r->resigned = a.priority == 0;
	vrrp_fsm_rx(&r->fsm, now, &a, &o);
	vrrp_handle(n, (uint32_t)(r - n->r), &o, now, out);
	/* Another node thinks it is master (a node that came back, a
	 * partition healing): its neighbours may have learnt its MAC; say
	 * ours again, but not to each of a flood of its adverts. */
	if (o.lower && (n->groups[r->group].lower_at == 0 ||
	    now - n->groups[r->group].lower_at >= VRRP_LOWER_GAP_MS)) {
		struct vrrp_act *x = vrrp_act_new(out, VRRP_ACT_LOWER,
		    (uint32_t)(r - n->r));

		n->groups[r->group].lower_at = now;
		if (x != NULL) {
			x->prio = a.priority;
			memcpy(x->src, a.src, 16);
		}
	}
	if (n->groups[r->group].held != VRRP_HOLD_NONE)
		heard_again(n, r->group, now, out);
}

/* ---- time -------------------------------------------------------------- */

/*
 * A backup whose master went quiet takes its group over only when the
 * master is gone by the evidence (vrrp_hb.c): else its timer runs again
 * one interval on and the group reports a partition.
 */
void
vrrp_node_tick(struct vrrp_node *n, uint64_t now, struct vrrp_acts *out)
{
	if (!n->external)
		vrrp_hb_tick(n, now, out);
	for (size_t i = 0; i < n->n; i++) {
		struct vrrp_router *r = &n->r[i];
		uint64_t d = vrrp_fsm_deadline(&r->fsm);
		uint64_t fast = n->external ? 0 : vrrp_hb_fast_at(n, (uint32_t)i);
		enum vrrp_hold why;
		struct vrrp_out o;

		if ((d == 0 || now < d) && (fast == 0 || now < fast))
			continue;
		if (r->fsm.state != VRRP_BACKUP || n->external) {
			vrrp_fsm_tick(&r->fsm, now, &o);
			vrrp_handle(n, (uint32_t)i, &o, now, out);
			continue;
		}
		if ((why = vrrp_hb_hold(n, (uint32_t)i, now)) != VRRP_HOLD_NONE) {
			r->fsm.down_at = r->held_until = now +
			    vrrp_master_adver_ms(r);
			vrrp_hb_held(n, r->group, why, out);
			continue;
		}
		if (d != 0 && now >= d)
			vrrp_fsm_tick(&r->fsm, now, &o);
		else	/* both paths silent: one interval is enough */
			vrrp_fsm_force(&r->fsm, now, VRRP_MASTER, &o);
		vrrp_handle(n, (uint32_t)i, &o, now, out);
	}
}

uint64_t
vrrp_node_deadline(const struct vrrp_node *n)
{
	uint64_t next = 0;

	for (size_t i = 0; i < n->n; i++) {
		uint64_t d = vrrp_fsm_deadline(&n->r[i].fsm);
		uint64_t f = n->external ? 0 : vrrp_hb_fast_at(n, (uint32_t)i);

		if (d != 0 && (next == 0 || d < next))
			next = d;
		if (f != 0 && (next == 0 || f < next))
			next = f;
	}
	{
		uint64_t h = vrrp_hb_deadline(n);

		if (h != 0 && (next == 0 || h < next))
			next = h;
	}
	return next;
}

/* ---- life ---------------------------------------------------------------- */

void
vrrp_node_start(struct vrrp_node *n, uint64_t now, struct vrrp_acts *out)
{
	for (size_t i = 0; i < n->n; i++) {
		struct vrrp_router *r = &n->r[i];
		struct vrrp_out o;

		if (n->external) {
			r->fsm.state = n->groups[r->group].ext;
			continue;
		}
		if (r->fsm.state == VRRP_INIT) {
			vrrp_fsm_start(&r->fsm, now, &o);
			vrrp_handle(n, (uint32_t)i, &o, now, out);
		}
	}
	if (n->external)
		for (size_t g = 0; g < n->n_groups; g++)
			group_update(n, (uint32_t)g, out);
	else
		reevaluate(n, now, out);
}

/* Resign first (the backup takes over after its Skew_Time), then let
 * the addresses go. */
void
vrrp_node_stop(struct vrrp_node *n, uint64_t now, struct vrrp_acts *out)
{
	for (size_t i = 0; i < n->n; i++) {
		struct vrrp_out o;
		struct vrrp_act *x;

		vrrp_fsm_stop(&n->r[i].fsm, now, &o);
		if (o.send && !n->external &&
		    (x = vrrp_act_new(out, VRRP_ACT_SEND, (uint32_t)i)) != NULL)
			x->prio = 0;
		if (o.changed && (x = vrrp_act_new(out, VRRP_ACT_STATE, (uint32_t)i)) != NULL) {
			x->from = o.from;
			x->to = o.to;
		}
	}
	for (size_t g = 0; g < n->n_groups; g++)
		if (n->groups[g].state == VRRP_MASTER) {
			n->groups[g].state = VRRP_INIT;
			release_or_hold(out, (uint32_t)g, false);
		}
}

int
vrrp_node_ha(struct vrrp_node *n, uint32_t g, enum vrrp_state st, uint64_t now,
    struct vrrp_acts *out)
{
	if (!n->external || (st != VRRP_MASTER && st != VRRP_BACKUP &&
	    st != VRRP_FAULT))
		return -1;
	if (n->groups[g].ext != st) {
		n->groups[g].ext = st;
		for (size_t i = 0; i < n->n; i++) {
			struct vrrp_router *r = &n->r[i];

			if (r->group != g)
				continue;
			if (r->fsm.state != st)
				r->fsm.transitions++;
			r->fsm.state = st;
			r->last_change = now;
		}
	}
	group_update(n, g, out);
	return 0;
}

void
vrrp_node_hold_preempt(struct vrrp_node *n, bool hold)
{
	n->preempt_held = hold;
	for (size_t i = 0; i < n->n; i++)
		vrrp_fsm_hold_preempt(&n->r[i].fsm, hold);
}

/* ---- reload ---------------------------------------------------------------- */

static bool
same_router(const struct vrrp_node *na, const struct vrrp_router *a,
    const struct vrrp_node *nb, const struct vrrp_router *b)
{
	return strcmp(na->groups[a->group].name, nb->groups[b->group].name) == 0 &&
	    strcmp(a->name, b->name) == 0 &&
	    strcmp(na->ports[a->port].name, nb->ports[b->port].name) == 0 &&
	    a->family == b->family && a->fsm.cfg.vrid == b->fsm.cfg.vrid;
}

/* A track the reload kept (same type and target): no flap while a script
 * runs again. */
static void
carry_tracks(struct vrrp_router *nr, const struct vrrp_router *o)
{
	for (size_t t = 0; t < nr->n_tracks; t++)
		for (size_t u = 0; u < o->n_tracks; u++)
			if (nr->tracks[t].type == o->tracks[u].type &&
			    strcmp(nr->tracks[t].what, o->tracks[u].what) == 0)
				nr->tracks[t].failing = o->tracks[u].failing;
}

void
vrrp_node_adopt(struct vrrp_node *nw, struct vrrp_node *old, uint64_t now,
    struct vrrp_acts *old_acts)
{
	bool *taken = calloc(old->n ? old->n : 1, sizeof(*taken));

	nw->preempt_held = old->preempt_held;
	nw->peer_alive = old->peer_alive && nw->hb;
	for (size_t i = 0; i < nw->n; i++) {
		struct vrrp_router *r = &nw->r[i];

		vrrp_fsm_hold_preempt(&r->fsm, nw->preempt_held);
		for (size_t j = 0; j < old->n; j++) {
			struct vrrp_router *o = &old->r[j];
			struct vrrp_fsm_cfg cfg = r->fsm.cfg;
			uint8_t self[16];

			if ((taken != NULL && taken[j]) ||
			    !same_router(nw, r, old, o))
				continue;
			/* The running state with the new settings, which
			 * apply from the next advertisement. */
			memcpy(self, r->fsm.self, 16);
			r->fsm = o->fsm;
			r->fsm.cfg = cfg;
			if (r->have_self)	/* the address as it is now */
				memcpy(r->fsm.self, self, 16);
			else
				r->have_self = o->have_self;
			r->prio_set = o->prio_set;
			r->set_prio = o->set_prio;
			r->own_down = o->own_down;
			r->list_warned = o->list_warned;
			r->auth_warned = o->auth_warned;
			carry_tracks(r, o);
			memcpy(r->bad, o->bad, sizeof(o->bad));
			r->rx = o->rx;
			r->tx = o->tx;
			r->last_change = o->last_change;
			r->heard_at = o->heard_at;
			r->resigned = o->resigned;
			if (taken != NULL)
				taken[j] = true;
			break;
		}
	}
	for (size_t p = 0; p < nw->n_ports; p++)
		for (size_t op = 0; op < old->n_ports; op++)
			if (strcmp(nw->ports[p].name, old->ports[op].name) == 0) {
				nw->ports[p].rx = old->ports[op].rx;
				memcpy(nw->ports[p].bad, old->ports[op].bad,
				    sizeof(nw->ports[p].bad));
			}
	for (size_t g = 0; g < nw->n_groups; g++) {
		int og = vrrp_node_group(old, nw->groups[g].name);

		if (og < 0)
			continue;
		nw->groups[g].state = old->groups[og].state;
		nw->groups[g].ext = old->groups[og].ext;
		nw->groups[g].peer_known = old->groups[og].peer_known;
		nw->groups[g].peer_state = old->groups[og].peer_state;
		nw->groups[g].peer_prio = old->groups[og].peer_prio;
		nw->groups[g].peer_family = old->groups[og].peer_family;
		memcpy(nw->groups[g].peer_addr, old->groups[og].peer_addr, 16);
		nw->groups[g].held = old->groups[og].held;
		nw->groups[g].partitions = old->groups[og].partitions;
		nw->groups[g].split_brains = old->groups[og].split_brains;
		old->groups[og].state = VRRP_INIT;	/* carried, not released */
	}
	/* Routers that went away resign. */
	for (size_t j = 0; j < old->n; j++) {
		struct vrrp_out o;
		struct vrrp_act *x;

		if (taken == NULL || taken[j])
			continue;
		vrrp_fsm_stop(&old->r[j].fsm, now, &o);
		if (o.send && !old->external &&
		    (x = vrrp_act_new(old_acts, VRRP_ACT_SEND, (uint32_t)j)) != NULL)
			x->prio = 0;
		vrrp_act_new(old_acts, VRRP_ACT_REMOVED, (uint32_t)j);
	}
	/* Groups that no longer exist let go. */
	for (size_t g = 0; g < old->n_groups; g++)
		if (old->groups[g].state == VRRP_MASTER) {
			old->groups[g].state = VRRP_INIT;
			release_or_hold(old_acts, (uint32_t)g, false);
		}
	free(taken);
}
