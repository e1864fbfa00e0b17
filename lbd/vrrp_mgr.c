/*
 * VRRP on real interfaces: the shell around vrrp/vrrp_group.c (see
 * vrrp_mgr.h). It owns what the core must not: the timer, track scripts,
 * carrier from netlink, and the config's translation into routers; the
 * sockets are in vrrp_io.c, the hooks in vrrp_notify.c. Every decision is
 * the core's, carried out here from its list of actions.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/events.h"
#include "lbd/knl.h"
#include "lbd/vrrp_mgr_int.h"
#include "lib/clock.h"
#include "lib/log.h"

/* ---- the core's actions, carried out ---------------------------------- */

static void
addr_list_warn(const struct vrrp_router *r, const struct vrrp_act *x)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(r->family == 4 ? AF_INET : AF_INET6, x->src, ip, sizeof(ip));
	log_warnx("vrrp instance=%s: %s advertises %u address(es) that differ "
	    "from ours (misconfiguration?)", r->name, ip, x->n_addrs);
}

/* Said once per instance: such a peer is master beside us. */
static void
auth_warn(const struct vrrp_router *r, const struct vrrp_act *x)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET, x->src, ip, sizeof(ip));
	if (r->auth_pass)
		log_warnx("vrrp instance=%s: refusing VRRPv2 advertisements "
		    "from %s: %s; both would be master (counted as bad_auth "
		    "in show vrrp)", r->name, ip, x->auth_type == VRRP_AUTH_PASS ?
		    "another auth-pass" : "not authenticated with auth-pass");
	else
		log_warnx("vrrp instance=%s: refusing VRRPv2 advertisements "
		    "from %s: authentication type %u (%s), this instance has "
		    "none; both would be master. For a keepalived peer with "
		    "auth_type PASS, give the instance its auth_pass as "
		    "auth-pass (counted as bad_auth in show vrrp)", r->name, ip,
		    x->auth_type, x->auth_type == VRRP_AUTH_PASS ?
		    "simple password" : x->auth_type == 2 ? "IP AH" : "unknown");
}

/* The actions of `node` (the running one, or an old one a reload is
 * retiring, with its own shell arrays). */
static void
carry_out(struct vrrp_mgr *m, struct vrrp_node *node, struct vinst *vi,
    struct vgroup *vg, struct vrrp_acts *a)
{
	bool changed = false;

	for (size_t i = 0; i < a->n; i++) {
		const struct vrrp_act *x = &a->v[i];
		struct vrrp_router *r = x->kind == VRRP_ACT_GROUP ||
		    x->kind == VRRP_ACT_HOLD || x->kind == VRRP_ACT_PARTITION ||
		    x->kind == VRRP_ACT_SPLIT ? NULL : &node->r[x->idx];
		const char *g = r != NULL ? node->groups[r->group].name :
		    node->groups[x->idx].name;

		switch (x->kind) {
		case VRRP_ACT_SEND:
			if (!node->external)
				vrrp_advertise(m, node, vi, x->idx, x->prio);
			break;
		case VRRP_ACT_STATE:
			if (x->from == VRRP_MASTER && x->to != VRRP_MASTER)
				vrrp_keeper_clear(m->keeper,
				    vrrp_keeper_key(node, vi, x->idx));
			log_info("vrrp instance=%s group=%s state=%s->%s "
			    "priority=%u", r->name, g, vrrp_state_name(x->from),
			    vrrp_state_name(x->to), r->fsm.prio);
			events_emit("vrrp", "instance", r->name, "group", g,
			    "state", vrrp_state_name(x->to), "was",
			    vrrp_state_name(x->from), NULL);
			if (x->notify)
				vrrp_notify(m, vi[x->idx].notify, "INSTANCE", r->name,
				    vrrp_notify_state(x->to), x->prio);
			break;
		case VRRP_ACT_GROUP:
			if (x->notify)
				vrrp_notify(m, vg[x->idx].notify, "GROUP", g,
				    vrrp_notify_state(x->to), -1);
			break;
		case VRRP_ACT_HOLD:
			log_info("vrrp group=%s state=%s", g, x->to == VRRP_MASTER ?
			    "master" : "backup");
			events_emit("vrrp-group", "group", g, "state",
			    x->to == VRRP_MASTER ? "master" : "backup", NULL);
			m->fn(m->arg, g, x->to == VRRP_MASTER);
			break;
		case VRRP_ACT_TRACK: {
			const struct vrrp_track *t = &r->tracks[x->track];
			const char *why = vi[x->idx].tracks[x->track].why;

			log_info("vrrp instance=%s %s \"%s\" %s%s%s", r->name,
			    vrrp_mgr_track_name(t->type), t->what,
			    x->failing ? "fails" : "recovers",
			    x->failing && why[0] ? ": " : "", x->failing ? why : "");
			break;
		}
		case VRRP_ACT_LINK:
			log_info("vrrp instance=%s interface %s %s", r->name,
			    vi[x->idx].sock->ifname, x->failing ? "lost carrier" :
			    "has carrier again");
			break;
		case VRRP_ACT_ADDR_LIST:
			addr_list_warn(r, x);
			break;
		case VRRP_ACT_AUTH:
			auth_warn(r, x);
			break;
		case VRRP_ACT_REMOVED:
			log_info("vrrp instance=%s removed", r->name);
			break;
		case VRRP_ACT_PARTITION:
			if (x->failing)
				log_warnx("vrrp group=%s: the master went quiet on "
				    "some path but is alive (%s): a partition, "
				    "not taking over", g, vrrp_hold_name(x->hold));
			else
				log_info("vrrp group=%s: the master is heard again "
				    "(partition over)", g);
			break;
		case VRRP_ACT_SPLIT: {
			char ip[INET6_ADDRSTRLEN];
			const struct vrrp_group *gr = &node->groups[x->idx];

			inet_ntop(gr->peer_family == 6 ? AF_INET6 : AF_INET, x->src,
			    ip, sizeof(ip));
			log_warnx("vrrp group=%s: split brain: the peer %s "
			    "(priority %u) is master too, seen over the heartbeat; "
			    "%s", g, ip, x->prio, x->to == VRRP_MASTER ?
			    "this node stays master and announces its addresses "
			    "again" : "this node steps down");
			if (x->to == VRRP_MASTER && m->announce_fn != NULL)
				m->announce_fn(m->announce_arg, g, false);
			changed = true;
			break;
		}
		case VRRP_ACT_LOWER: {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, x->src, ip,
			    sizeof(ip));
			log_info("vrrp instance=%s group=%s: %s advertises priority "
			    "%u, lower: this node stays master and announces its "
			    "addresses again", r->name, g, ip, x->prio);
			if (m->announce_fn != NULL)
				m->announce_fn(m->announce_arg, g, true);
			break;
		}
		}
		if (x->kind == VRRP_ACT_GROUP || x->kind == VRRP_ACT_HOLD)
			changed = true;
	}
	a->n = 0;
	if (changed && m->change_fn != NULL && node == m->node)
		m->change_fn(m->change_arg);
}

static void
rearm(struct vrrp_mgr *m)
{
	uint64_t next = vrrp_node_deadline(m->node), now = mono_ms();

	ev_timer_stop(m->loop, &m->timer);
	if (next == 0)
		return;
	ev_timer_set(&m->timer, next > now ? (double)(next - now) / 1000.0 : 0., 0.);
	ev_timer_start(m->loop, &m->timer);
}

/* Carry out what the core asked for, then wait for its next deadline. */
static void
done(struct vrrp_mgr *m)
{
	carry_out(m, m->node, m->vi, m->vg, &m->acts);
	rearm(m);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vrrp_mgr *m = w->data;

	vrrp_node_tick(m->node, mono_ms(), &m->acts);
	done(m);
}

void
vrrp_mgr_rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vsock *s = w->data;
	struct vrrp_mgr *m = s->m;
	uint8_t f[2048];
	int port = vrrp_node_port(m->node, s->ifname);

	for (int k = 0; k < 64 && port >= 0; k++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s->fd, f, sizeof(f), 0, (struct sockaddr *)&from,
		    &fl);

		if (r < 0)
			break;
		/* Our own advertisements, looped back to the socket. */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		vrrp_node_rx(m->node, (uint32_t)port, f, (size_t)r, mono_ms(),
		    &m->acts);
	}
	done(m);
}

/* ---- tracking ------------------------------------------------------------ */

/* Carrier of every interface a router uses or tracks. */
static void
links_update(struct vrrp_mgr *m)
{
	uint64_t now = mono_ms();

	for (size_t i = 0; i < m->node->n; i++) {
		struct vrrp_router *r = &m->node->r[i];
		struct knl_link_info li;
		bool up;

		up = m->nl != NULL && knl_link_by_name(m->nl,
		    m->vi[i].sock->ifname, &li) == 0 && li.up && li.carrier;
		vrrp_node_link(m->node, (uint32_t)i, up, now, &m->acts);
		for (size_t t = 0; t < r->n_tracks; t++) {
			if (r->tracks[t].type != VRRP_TRACK_INTERFACE)
				continue;
			up = m->nl != NULL && knl_link_by_name(m->nl,
			    r->tracks[t].what, &li) == 0 && li.up && li.carrier;
			snprintf(m->vi[i].tracks[t].why,
			    sizeof(m->vi[i].tracks[t].why), "%s",
			    up ? "" : "no carrier");
			vrrp_node_track(m->node, (uint32_t)i, t, !up, now, &m->acts);
		}
	}
}

static void
link_cb(void *arg, int ifindex)
{
	struct vrrp_mgr *m = arg;

	links_update(m);
	done(m);
}

static void
script_done(void *arg, const struct proc_result *r)
{
	struct vtrack *t = arg;
	struct vrrp_mgr *m = t->m;

	t->run = NULL;
	snprintf(t->why, sizeof(t->why), "%s", r->why);
	vrrp_node_track(m->node, t->router, t->track, !r->ok, mono_ms(), &m->acts);
	done(m);
}

static void
script_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vtrack *t = w->data;
	const struct vrrp_track *tr = &t->m->node->r[t->router].tracks[t->track];

	if (t->run != NULL)
		return;		/* its own timeout ends it first */
	/* Bounded by the interval: the next run never overlaps this one. */
	if ((t->run = proc_run(loop, tr->what, NULL, NULL, t->interval_ms,
	    script_done, t)) == NULL)
		log_warn("vrrp track-script \"%s\": cannot run", tr->what);
}

void
vrrp_mgr_service(struct vrrp_mgr *m, const char *name, bool ok)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->node->n; i++)
		for (size_t t = 0; t < m->node->r[i].n_tracks; t++)
			if (m->node->r[i].tracks[t].type == VRRP_TRACK_SERVICE &&
			    strcmp(m->node->r[i].tracks[t].what, name) == 0)
				snprintf(m->vi[i].tracks[t].why,
				    sizeof(m->vi[i].tracks[t].why), "%s", ok ? "" :
				    "no backend takes new connections");
	vrrp_node_service(m->node, name, ok, mono_ms(), &m->acts);
	done(m);
}

/* ---- building from the config ------------------------------------------ */

static enum vrrp_track_type
track_type(enum conf_track_type t)
{
	return t == CONF_TRACK_INTERFACE ? VRRP_TRACK_INTERFACE :
	    t == CONF_TRACK_SERVICE ? VRRP_TRACK_SERVICE : VRRP_TRACK_SCRIPT;
}

const char *
vrrp_mgr_track_name(enum vrrp_track_type t)
{
	return t == VRRP_TRACK_INTERFACE ? "track-interface" :
	    t == VRRP_TRACK_SERVICE ? "track-service" : "track-script";
}

static void
shell_free(struct vrrp_mgr *m, struct vinst *vi, size_t n, struct vgroup *vg,
    size_t n_groups)
{
	for (size_t i = 0; vi != NULL && i < n; i++) {
		for (size_t t = 0; t < vi[i].n_tracks; t++) {
			ev_timer_stop(m->loop, &vi[i].tracks[t].every);
			proc_cancel(vi[i].tracks[t].run);
		}
		free(vi[i].tracks);
		if (vi[i].ufd >= 0)
			close(vi[i].ufd);
		free(vi[i].notify);
	}
	free(vi);
	for (size_t g = 0; vg != NULL && g < n_groups; g++)
		free(vg[g].notify);
	free(vg);
}

/* One router of the core and its shell: socket, MAC, unicast sender,
 * hook and track runners. */
static int
inst_build(struct vrrp_mgr *m, struct vrrp_node *node, struct vinst *vi,
    uint32_t group, const struct conf_instance *in, char *err, size_t errlen)
{
	struct vrrp_router_cfg rc = {
		.name = in->name, .group = group,
		.fsm = { .vrid = in->vrid, .priority = in->priority,
			 .adver_cs = (uint16_t)(in->advert_ms / 10),
			 .version = in->version, .preempt = in->preempt,
			 .preempt_delay_ms = in->preempt_delay_ms },
	};
	uint8_t addrs[VRRP_MAX_ADDRS * 16], peers[VRRP_PEERS_MAX][16];
	struct vrrp_track *tracks = NULL;
	int port, ri;

	memset(vi, 0, sizeof(*vi));
	vi->ufd = -1;
	rc.family = in->n_vaddrs > 0 && in->vaddrs[0].family == AF_INET6 ? 6 : 4;
	if ((vi->sock = vrrp_sock_get(m, in->interface, err, errlen)) == NULL)
		return -1;
	if ((port = vrrp_node_add_port(node, in->interface)) < 0)
		goto oom;
	rc.port = (uint32_t)port;
	vi->mac[2] = 0x5e;
	vi->mac[4] = rc.family == 4 ? 0x01 : 0x02;
	vi->mac[5] = in->vrid;
	if (!in->use_vmac) {
		struct knl_link_info li;

		if (m->nl == NULL || knl_link_by_name(m->nl, in->interface, &li) < 0) {
			snprintf(err, errlen, "interface %s: no MAC address",
			    in->interface);
			return -1;
		}
		memcpy(vi->mac, li.mac, 6);
	}
	if (in->notify != NULL && (vi->notify = strdup(in->notify)) == NULL)
		goto oom;
	for (size_t k = 0; k < in->n_unicast_peers && k < VRRP_PEERS_MAX; k++) {
		memset(peers[k], 0, 16);
		conf_addr_a16(peers[k], &in->unicast_peers[k]);
		rc.n_peers++;
	}
	rc.peers = (const uint8_t (*)[16])peers;
	if (rc.n_peers > 0 && (vi->ufd = vrrp_unicast_socket(rc.family,
	    in->interface)) < 0) {
		snprintf(err, errlen, "instance %s: unicast socket: %s", in->name,
		    strerror(errno));
		return -1;
	}
	for (size_t k = 0; k < in->n_vaddrs && rc.n_addrs < VRRP_MAX_ADDRS; k++) {
		uint8_t a[16];

		conf_addr_a16(a, &in->vaddrs[k]);
		memcpy(addrs + addr_len(rc.family) * rc.n_addrs++, a,
		    addr_len(rc.family));
	}
	rc.addrs = addrs;
	if (in->n_tracks > 0 &&
	    ((tracks = calloc(in->n_tracks, sizeof(*tracks))) == NULL ||
	    (vi->tracks = calloc(in->n_tracks, sizeof(*vi->tracks))) == NULL)) {
		free(tracks);
		goto oom;
	}
	for (size_t k = 0; k < in->n_tracks; k++) {
		tracks[k].type = track_type(in->tracks[k].type);
		tracks[k].weight = (uint8_t)in->tracks[k].weight;
		tracks[k].what = in->tracks[k].what;
	}
	rc.tracks = tracks;
	rc.n_tracks = in->n_tracks;
	rc.have_self = vrrp_primary_addr(in->interface, rc.family, rc.self);
	rc.auth_pass = in->auth_pass;
	ri = vrrp_node_add_router(node, &rc);
	free(tracks);
	if (ri < 0)
		goto oom;
	vi->n_tracks = in->n_tracks;
	for (size_t k = 0; k < in->n_tracks; k++) {
		struct vtrack *t = &vi->tracks[k];

		t->m = m;
		t->router = (uint32_t)ri;
		t->track = k;
		t->interval_ms = in->tracks[k].interval_ms;
		ev_timer_init(&t->every, script_cb, 0.05, t->interval_ms / 1000.0);
		t->every.data = t;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* A core and its shell arrays from `c`; NULL with `err` set. */
static struct vrrp_node *
build(struct vrrp_mgr *m, const struct conf *c, bool external,
    struct vinst **vi_out, struct vgroup **vg_out, char *err, size_t errlen)
{
	struct vrrp_node *node = vrrp_node_new(external);
	size_t n = 0, k = 0;

	if (node != NULL)
		vrrp_node_set_heartbeat(node, c->sync.present);
	struct vinst *vi;
	struct vgroup *vg;

	for (size_t g = 0; g < c->n_groups; g++)
		n += c->groups[g].n_instances;
	vi = calloc(n ? n : 1, sizeof(*vi));
	vg = calloc(c->n_groups ? c->n_groups : 1, sizeof(*vg));
	if (node == NULL || vi == NULL || vg == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t g = 0; g < c->n_groups; g++) {
		const struct conf_group *cg = &c->groups[g];

		if (vrrp_node_add_group(node, cg->name) < 0 ||
		    (cg->notify != NULL && (vg[g].notify = strdup(cg->notify)) ==
		    NULL)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < cg->n_instances; i++, k++)
			if (inst_build(m, node, &vi[k], (uint32_t)g,
			    &cg->instances[i], err, errlen) < 0) {
				k++;
				goto fail;
			}
	}
	*vi_out = vi;
	*vg_out = vg;
	return node;
fail:
	shell_free(m, vi, k, vg, c->n_groups);
	vrrp_node_free(node);
	return NULL;
}

/* Scripts start once their routers sit in the running node; sockets
 * listen unless keepalived decides (external). */
static void
go(struct vrrp_mgr *m)
{
	for (size_t i = 0; i < m->node->n; i++)
		for (size_t t = 0; t < m->vi[i].n_tracks && !m->node->external; t++)
			if (m->node->r[i].tracks[t].type == VRRP_TRACK_SCRIPT)
				ev_timer_start(m->loop, &m->vi[i].tracks[t].every);
	for (size_t s = 0; s < m->n_socks; s++)
		if (m->node->external)
			ev_io_stop(m->loop, &m->socks[s]->io);
		else
			ev_io_start(m->loop, &m->socks[s]->io);
}

struct vrrp_mgr *
vrrp_mgr_start(struct ev_loop *loop, const struct conf *c, vrrp_group_fn *fn,
    void *arg, char *err, size_t errlen)
{
	struct knl_cb cb = { .link = link_cb };
	struct vrrp_mgr *m;

	err[0] = '\0';
	if (c->n_groups == 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->fn = fn;
	m->arg = arg;
	m->nq_tail = &m->nq;
	m->notify_timeout_ms = c->global.notify_timeout_ms;
	ev_timer_init(&m->timer, timer_cb, 0., 0.);
	m->timer.data = m;
	cb.arg = m;
	if (!c->global.vrrp_external &&
	    (m->nl = knl_open(loop, &cb, err, errlen)) == NULL) {
		vrrp_mgr_stop(m);
		return NULL;
	}
	if ((m->node = build(m, c, c->global.vrrp_external, &m->vi, &m->vg, err,
	    errlen)) == NULL) {
		vrrp_mgr_stop(m);
		return NULL;
	}
	if (!m->node->external)
		m->keeper = vrrp_keeper_start();
	go(m);
	if (m->node->external) {
		if ((m->ext_path = vrrp_ext_path(c->global.control_socket)) == NULL)
			log_warnx("vrrp external: out of memory: states will not "
			    "survive a restart");
		vrrp_ext_load(m);
		vrrp_node_start(m->node, mono_ms(), &m->acts);
		done(m);
		log_info("vrrp external: %zu group(s) follow lbctl ha",
		    m->node->n_groups);
		return m;
	}
	links_update(m);
	vrrp_node_start(m->node, mono_ms(), &m->acts);
	done(m);
	return m;
}

int
vrrp_mgr_apply(struct vrrp_mgr *m, const struct conf *c)
{
	struct vrrp_acts old_acts = { 0 };
	struct vrrp_node *node;
	struct vinst *vi;
	struct vgroup *vg;
	char err[256];
	int rc = 0;

	if (m == NULL)
		return 0;
	if (c->global.vrrp_external != m->node->external) {
		log_warnx("vrrp: switching between internal and external VRRP "
		    "needs a restart; kept %s", m->node->external ? "external" :
		    "internal");
		rc = -1;
	}
	if ((node = build(m, c, m->node->external, &vi, &vg, err,
	    sizeof(err))) == NULL) {
		log_warnx("vrrp: %s", err);
		return -1;
	}
	m->notify_timeout_ms = c->global.notify_timeout_ms;
	/* Script runners of the old shell go; the new ones start in go(). */
	vrrp_node_adopt(node, m->node, mono_ms(), &old_acts);
	carry_out(m, m->node, m->vi, m->vg, &old_acts);
	vrrp_acts_free(&old_acts);
	for (size_t g = 0; g < node->n_groups; g++) {
		int o = vrrp_node_group(m->node, node->groups[g].name);

		if (o >= 0) {
			vg[g].src = m->vg[o].src;
			vg[g].when = m->vg[o].when;
		}
	}
	for (size_t i = 0; i < node->n; i++) {
		int o = vrrp_node_router(m->node, node->r[i].name);

		/* A kept track keeps its last word until the script speaks. */
		for (size_t t = 0; o >= 0 && t < node->r[i].n_tracks; t++)
			for (size_t u = 0; u < m->vi[o].n_tracks; u++)
				if (strcmp(node->r[i].tracks[t].what,
				    m->node->r[o].tracks[u].what) == 0)
					memcpy(vi[i].tracks[t].why,
					    m->vi[o].tracks[u].why,
					    sizeof(vi[i].tracks[t].why));
	}
	shell_free(m, m->vi, m->node->n, m->vg, m->node->n_groups);
	vrrp_node_free(m->node);
	m->node = node;
	m->vi = vi;
	m->vg = vg;
	/* Sockets no router uses any more. */
	for (size_t s = 0; s < m->n_socks;) {
		bool used = false;

		for (size_t i = 0; i < m->node->n && !used; i++)
			used = m->vi[i].sock == m->socks[s];
		if (used) {
			s++;
			continue;
		}
		vrrp_sock_close(m, m->socks[s]);
		m->socks[s] = m->socks[--m->n_socks];
	}
	go(m);
	if (!m->node->external)
		links_update(m);
	vrrp_node_start(m->node, mono_ms(), &m->acts);
	done(m);
	return rc;
}

void
vrrp_mgr_stop(struct vrrp_mgr *m)
{
	if (m == NULL)
		return;
	ev_timer_stop(m->loop, &m->timer);
	if (m->node != NULL) {
		vrrp_node_stop(m->node, mono_ms(), &m->acts);
		carry_out(m, m->node, m->vi, m->vg, &m->acts);
		shell_free(m, m->vi, m->node->n, m->vg, m->node->n_groups);
		vrrp_node_free(m->node);
	}
	vrrp_keeper_stop(m->keeper);
	vrrp_acts_free(&m->acts);
	for (size_t s = 0; s < m->n_socks; s++)
		vrrp_sock_close(m, m->socks[s]);
	vrrp_notify_stop(m);
	knl_close(m->nl);
	free(m->ext_path);
	free(m);
}

/* ---- control ------------------------------------------------------------- */

int
vrrp_mgr_ha(struct vrrp_mgr *m, const char *state, const char *group,
    struct buf *err)
{
	enum vrrp_state st;
	int g;

	if (m == NULL || !m->node->external) {
		buf_puts(err, "error: lbctl ha needs \"vrrp external\" in global "
		    "(lbd runs VRRP itself here)\n");
		return -1;
	}
	if (strcmp(state, "master") == 0)
		st = VRRP_MASTER;
	else if (strcmp(state, "backup") == 0)
		st = VRRP_BACKUP;
	else if (strcmp(state, "fault") == 0)
		st = VRRP_FAULT;
	else {
		buf_printf(err, "error: ha: expected master, backup or fault, "
		    "found \"%.32s\"\n", state);
		return -1;
	}
	if ((g = vrrp_node_group(m->node, group)) < 0) {
		buf_printf(err, "error: no vrrp-group \"%.64s\" (see \"show "
		    "vrrp\")\n", group);
		return -1;
	}
	if (m->node->groups[g].ext != st)
		log_info("vrrp group=%s external state=%s (lbctl ha)", group,
		    vrrp_state_name(st));
	(void)vrrp_node_ha(m->node, (uint32_t)g, st, mono_ms(), &m->acts);
	m->vg[g].src = VEXT_LBCTL;
	m->vg[g].when = time(NULL);
	vrrp_ext_save(m);
	done(m);
	return 0;
}

size_t
vrrp_mgr_groups(const struct vrrp_mgr *m)
{
	return m != NULL ? m->node->n_groups : 0;
}

int
vrrp_mgr_group_index(const struct vrrp_mgr *m, const char *name)
{
	return m != NULL ? vrrp_node_group(m->node, name) : -1;
}

int
vrrp_mgr_group_view(const struct vrrp_mgr *m, size_t i,
    struct vrrp_group_view *v)
{
	const struct vrrp_node *n;
	const struct vrrp_group *g;

	if (m == NULL || i >= m->node->n_groups)
		return -1;
	n = m->node;
	g = &n->groups[i];
	memset(v, 0, sizeof(*v));
	v->name = g->name;
	v->state = vrrp_state_name(g->state);
	v->master = g->state == VRRP_MASTER;
	v->external = n->external;
	v->heartbeat = n->hb && n->peer_alive;
	v->peer_known = v->heartbeat && g->peer_known;
	v->peer_state = v->peer_known ? vrrp_state_name(g->peer_state) : "-";
	v->peer_master = v->peer_known && g->peer_state == VRRP_MASTER;
	v->peer_prio = v->peer_known ? g->peer_prio : 0;
	for (size_t r = 0; r < n->n; r++)
		if (n->r[r].group == i && v->n_instances++ == 0)
			v->prio = n->r[r].fsm.prio;
	return 0;
}

int
vrrp_mgr_handover(struct vrrp_mgr *m, size_t i, struct buf *undo,
    struct buf *err)
{
	if (m == NULL || i >= m->node->n_groups) {
		buf_puts(err, "error: no such vrrp-group\n");
		return -1;
	}
	if (vrrp_node_handover(m->node, (uint32_t)i, mono_ms(), &m->acts) < 0) {
		buf_printf(err, "error: group %s is not master on this node\n",
		    m->node->groups[i].name);
		return -1;
	}
	log_info("vrrp group=%s handover: resigned to the peer, instances at "
	    "priority 1", m->node->groups[i].name);
	for (size_t r = 0; r < m->node->n; r++)
		if (m->node->r[r].group == i)
			buf_printf(undo, "%slbctl vrrp set-priority %s reset",
			    undo->len ? "; " : "", m->node->r[r].name);
	done(m);
	return 0;
}

size_t
vrrp_mgr_hb_word(const struct vrrp_mgr *m, uint8_t *out, size_t cap)
{
	return m != NULL ? vrrp_node_hb_encode(m->node, out, cap) : 0;
}

void
vrrp_mgr_hb_peer(struct vrrp_mgr *m, bool alive, const uint8_t *word,
    size_t len)
{
	if (m == NULL)
		return;
	if (vrrp_node_hb_peer(m->node, alive, word, len, mono_ms(),
	    &m->acts) < 0 && m->hb_bad++ == 0)
		log_warnx("vrrp: the peer's word over the heartbeat is "
		    "malformed (%zu bytes): ignored", len);
	done(m);
}

void
vrrp_mgr_on_announce(struct vrrp_mgr *m,
    void (*fn)(void *, const char *, bool), void *arg)
{
	if (m == NULL)
		return;
	m->announce_fn = fn;
	m->announce_arg = arg;
}

void
vrrp_mgr_on_change(struct vrrp_mgr *m, void (*fn)(void *), void *arg)
{
	if (m == NULL)
		return;
	m->change_fn = fn;
	m->change_arg = arg;
}

void
vrrp_mgr_hold_preempt(struct vrrp_mgr *m, bool hold)
{
	if (m != NULL)
		vrrp_node_hold_preempt(m->node, hold);
}

void
vrrp_mgr_guard(struct vrrp_mgr *m, int map_fd)
{
	if (m != NULL)
		vrrp_keeper_guard(m->keeper, map_fd);
}

size_t
vrrp_mgr_count(const struct vrrp_mgr *m)
{
	return m == NULL ? 0 : m->node->n;
}

int
vrrp_mgr_set_priority(struct vrrp_mgr *m, const char *name, const char *val,
    struct buf *err)
{
	int ri = m != NULL ? vrrp_node_router(m->node, name) : -1;
	unsigned long p;
	char *end;
	uint8_t was;

	if (ri < 0) {
		buf_printf(err, "error: no VRRP instance \"%.64s\" (see \"show "
		    "vrrp\")\n", name);
		return -1;
	}
	if (strcmp(val, "reset") == 0)
		p = 0;
	else {
		errno = 0;
		p = strtoul(val, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 254) {
			buf_printf(err, "error: priority \"%.32s\": expected 1..254 "
			    "or reset (255 is the address owner's, set in the "
			    "config)\n", val);
			return -1;
		}
	}
	if (m->node->external) {
		buf_puts(err, "error: vrrp external: keepalived holds the "
		    "priorities here\n");
		return -1;
	}
	was = m->node->r[ri].fsm.prio;
	(void)vrrp_node_set_prio(m->node, (uint32_t)ri, p == 0 ? -1 : (int)p,
	    mono_ms(), &m->acts);
	log_info("vrrp instance=%s priority=%u (was %u)", name,
	    m->node->r[ri].fsm.prio, was);
	done(m);
	return 0;
}
