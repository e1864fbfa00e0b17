/*
 * The lbd process. Reload follows "new generation -> validate -> diff ->
 * publish -> retire old": the new file is parsed and validated completely
 * before anything changes, settings that cannot change live are refused with a
 * message (never half-applied), and only then is the new config published.
 */
#include <sys/resource.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/announce.h"
#include "lbd/cluster_peers.h"
#include "lbd/daemon.h"
#include "lbd/events.h"
#include "lbd/handover.h"
#include "lbd/pair.h"
#include "lbd/stats.h"
#include "lbd/privs.h"
#include "lbd/sdnotify.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"

/* Config changes logged one per line at a reload; the rest are counted. */
#define LOG_CHANGES_MAX	100
/* The longest a reload may keep the loop from feeding the classifier's
 * dead man's switch. */
#define RELOAD_GRACE_S	10.0

static void
log_diags(const struct conf_diags *d)
{
	char line[2048];

	for (size_t i = 0; i < d->n; i++) {
		conf_diag_format(&d->v[i], line, sizeof(line));
		if (d->v[i].severity == CONF_ERROR)
			log_warnx("config: %s", line);
		else
			log_info("config: %s", line);
	}
}

static void
diags_to_buf(const struct conf_diags *d, struct buf *b)
{
	char line[2048];

	for (size_t i = 0; i < d->n; i++) {
		conf_diag_format(&d->v[i], line, sizeof(line));
		buf_printf(b, "%s\n", line);
	}
}

/*
 * Hand the engine every backend whose effective state (admin x health x
 * weight) changed since it was last told. Runs at each health transition
 * and lbctl command, so the next connection already sees it (at 2,000 new
 * connections/s a 100 ms delay sent 60 of them to a backend already shown
 * down), and on a short timer for what has no event of its own: agent
 * weights, drain and slow-start's ramps.
 */
#define BE_PUSH_INTERVAL	0.1

/* Backend k (service i, backend j) of config c as the engine should have
 * it: admin state, health and agent weight together. */
static struct dp_backend_state
backend_state(struct lbd *d, const struct conf *c, size_t i, size_t j,
    size_t k)
{
	struct be *b = &d->backends.v[k];
	struct be_health h;
	struct be_effective eff;
	uint32_t w;

	health_mgr_lookup(d->health, b->name, &h);
	be_effective(b, &h, &eff);
	if (be_ramp(b, eff.takes_new, mono_ms()))
		be_effective(b, &h, &eff);
	w = eff.full_weight > 256 ? 256 : eff.full_weight;
	/* slow-start: every weight of the service in hundredths, so that a
	 * ramping weight-1 backend can start near 0 (the ratios, all the
	 * schedulers use, are the same). */
	if (c->services[i].slow_start_ms != 0)
		w *= eff.ramp_pct == 0 ? 1 : eff.ramp_pct;
	return (struct dp_backend_state){ .svc = (uint32_t)i, .b = (uint32_t)j,
	    .up = eff.takes_new, .weight = (uint16_t)(eff.takes_new ? w : 0),
	    .reset = eff.health_down && c->services[i].reset_on_down };
}

static void
push_backends(struct lbd *d)
{
	struct dp_backend_state *v;
	size_t k = 0, n = 0;

	if (d->dp == NULL)
		return;
	if ((v = malloc((d->n_pushed + 1) * sizeof(*v))) == NULL)
		return;
	for (size_t i = 0; i < d->conf->n_services; i++)
		for (size_t j = 0; j < d->conf->services[i].n_backends; j++, k++) {
			struct dp_backend_state st;
			struct be_pushed *pp;

			if (k >= d->n_pushed || k >= d->backends.n)
				goto out;
			st = backend_state(d, d->conf, i, j, k);
			pp = &d->pushed[k];
			if (pp->valid && pp->st.up == st.up &&
			    pp->st.weight == st.weight &&
			    pp->st.reset == st.reset)
				continue;
			v[n++] = st;
			pp->valid = true;
			pp->st = st;
		}
out:
	dataplane_backends(d->dp, v, n);
	free(v);
}

/* Every backend's state for config c, whose backends d->backends holds
 * (conf order); the engine gets them with the services, so that a reload
 * builds each scheduler once. NULL when out of memory. */
static struct dp_backend_state *
all_states(struct lbd *d, const struct conf *c, size_t *n)
{
	struct dp_backend_state *v = malloc((d->backends.n + 1) * sizeof(*v));
	size_t k = 0;

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_services; i++)
		for (size_t j = 0; j < c->services[i].n_backends &&
		    k < d->backends.n; j++, k++)
			v[k] = backend_state(d, c, i, j, k);
	*n = k;
	return v;
}

/*
 * VRRP's track-service and a cluster node's announcements: a service
 * counts as failing when none of its backends takes new connections (a
 * fallback does not count: the other nodes' backends may well be
 * healthy). A cluster node also waits for a checked backend's first
 * passing check before it draws traffic with it: the other nodes serve
 * meanwhile. vrrp_mgr_service ignores repeats, announce_update changes
 * only what changed.
 */
static void
push_services(struct lbd *d)
{
	size_t k = 0, n = d->conf->n_services;
	bool *ok, *ann;

	if (d->vrrp == NULL && d->announce == NULL)
		return;
	if ((ok = calloc(n ? 2 * n : 1, sizeof(*ok))) == NULL)
		return;
	ann = ok + n;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d->conf->services[i].n_backends &&
		    k < d->backends.n; j++, k++) {
			struct be_health h;
			bool up = backend_state(d, d->conf, i, j, k).up;

			ok[i] |= up;
			if (up && d->announce != NULL) {
				health_mgr_lookup(d->health,
				    d->backends.v[k].name, &h);
				ann[i] |= !h.checked || (h.checks > 0 &&
				    h.last_ok);
			}
		}
		vrrp_mgr_service(d->vrrp, d->conf->services[i].name, ok[i]);
	}
	announce_update(d->announce, d->conf, ann);
	free(ok);
}

/* The cluster block at start or after a reload: announce from the
 * configured table, or stop announcing. */
static void
cluster_apply(struct lbd *d)
{
	const struct conf_cluster *cc = &d->conf->cluster;

	if (!cc->present || d->dp == NULL) {
		if (cc->present)
			log_warnx("cluster: no data plane (no \"interface\" in "
			    "global): nothing is announced");
		announce_free(d->announce, true);
		d->announce = NULL;
		return;
	}
	if (d->announce == NULL) {
		d->announce = announce_start(dataplane_knl(d->dp),
		    cc->announce_table);
		if (d->announce == NULL)
			log_warnx("cluster: out of memory; nothing is announced");
	} else
		announce_retable(d->announce, cc->announce_table);
}

void
lbd_cluster_drain(struct lbd *d, bool drained)
{
	announce_set(d->announce, drained, d->stopping);
	push_services(d);
}

/* VRRP moved a group: take or release its addresses. */
static void
vrrp_group_cb(void *arg, const char *group, bool master)
{
	struct lbd *d = arg;

	if (dataplane_hold_group(d->dp, group, master) < 0)
		log_warnx("vrrp group=%s: addresses not fully %s", group,
		    master ? "taken" : "released");
}

/* The heartbeat carries VRRP's word between the nodes (sync_mgr.h). */
static size_t
hb_word(void *arg, uint8_t *out, size_t cap)
{
	return vrrp_mgr_hb_word(((struct lbd *)arg)->vrrp, out, cap);
}

static void
hb_peer(void *arg, bool alive, const uint8_t *word, size_t len)
{
	vrrp_mgr_hb_peer(((struct lbd *)arg)->vrrp, alive, word, len);
}

/* ... and the pair word (lbd/pair.h), or a cluster node's word to each
 * of its peers (lbd/cluster_peers.h). */
static size_t
pair_word_cb(void *arg, uint8_t *out, size_t cap)
{
	struct lbd *d = arg;
	const struct ann_prefix *plan;
	size_t n;

	if (!d->conf->cluster.present)
		return pair_word(d, out, cap);
	plan = announce_prefixes(d->announce, &n);
	return cluster_word(d->conf->global.node_id ? d->conf->global.node_id :
	    "", plan, n, out, cap);
}

static void
pair_peer_cb(void *arg, int peer, const uint8_t *word, size_t len)
{
	struct lbd *d = arg;
	struct cluster_peer cp;

	if (cluster_word_is(word, len)) {
		if (peer < 0 || peer >= CONF_SYNC_PEERS_MAX ||
		    cluster_word_decode(word, len, &cp) < 0) {
			if (d->pair_bad++ == 0)
				log_warnx("sync: a cluster peer's word is "
				    "malformed (%zu bytes): ignored", len);
			return;
		}
		if (d->cpeers == NULL && (d->cpeers = calloc(CONF_SYNC_PEERS_MAX,
		    sizeof(*d->cpeers))) == NULL)
			return;
		cp.heard = mono_ms();
		d->cpeers[peer] = cp;
		return;
	}
	if (peer != 0)
		return;		/* a pair has one peer */
	if (pair_peer_word(d, word, len) < 0 && d->pair_bad++ == 0)
		log_warnx("sync: the peer's pair word is malformed (%zu bytes): "
		    "ignored", len);
}

/* Passive health's reports among them: by name to the health manager. */
static void
observe_events(struct lbd *d, const struct ct_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_service *s;
		char name[2 * CONF_NAME_MAX + 2];

		if (ev[i].type != CT_EV_OBSERVE || ev[i].svc >= d->conf->n_services)
			continue;
		s = &d->conf->services[ev[i].svc];
		if (ev[i].backend >= s->n_backends)
			continue;
		snprintf(name, sizeof(name), "%s/%s", s->name,
		    s->backends[ev[i].backend].name);
		health_mgr_observe(d->health, name, mono_ms());
	}
}

/* The engine's connection events: to the peer (ha-sync), the NAT log and
 * passive health. */
static void
conn_events_cb(void *arg, const struct ct_event *ev, size_t n, uint64_t lost)
{
	struct lbd *d = arg;

	sync_mgr_events(d->sync, ev, n, lost);
	natlog_events(d, ev, n);
	observe_events(d, ev, n);
}

/* A master group announces its addresses again (lbd/vrrp_mgr.h). */
static void
announce_cb(void *arg, const char *group, bool lower)
{
	dataplane_announce_group(((struct lbd *)arg)->dp, group, lower);
}

static void
vrrp_changed(void *arg)
{
	sync_mgr_word_changed(((struct lbd *)arg)->sync);
}

/* After either of the two was (re)started. Also: VRRP's thread keeps the
 * data plane's virtual-MAC guard open while lbd lives. */
static void
wire_heartbeat(struct lbd *d)
{
	/* Without VRRP there is nothing for the heartbeat to carry (a
	 * cluster node): the stream's own keepalives tell the peers' state. */
	if (d->vrrp != NULL)
		sync_mgr_heartbeat(d->sync, hb_word, hb_peer, d);
	else
		sync_mgr_heartbeat(d->sync, NULL, NULL, d);
	sync_mgr_pair(d->sync, pair_word_cb, pair_peer_cb, d);
	vrrp_mgr_on_change(d->vrrp, vrrp_changed, d);
	vrrp_mgr_on_announce(d->vrrp, announce_cb, d);
	vrrp_mgr_guard(d->vrrp, dataplane_vrrp_guard_fd(d->dp));
}

/*
 * A node with a sync block does not take a VRRP group back from the peer
 * (preempt) before it has the peer's connections: a complete bulk resync,
 * or `resync-wait` at most. Taking over from a dead peer is not held.
 */
static void
release_preempt(struct lbd *d)
{
	if (!d->preempt_held)
		return;
	if (sync_mgr_synced(d->sync))
		log_info("sync: the peer's connections are here; VRRP may "
		    "preempt");
	else if ((ev_now(d->loop) - d->held_since) * 1000.0 >=
	    d->conf->sync.resync_wait_ms)
		log_warnx("sync: no complete resync from the peer after %.1fs "
		    "(resync-wait); VRRP may preempt anyway",
		    ev_now(d->loop) - d->held_since);
	else
		return;
	d->preempt_held = false;
	vrrp_mgr_hold_preempt(d->vrrp, false);
}

void
lbd_backends_changed(struct lbd *d)
{
	push_backends(d);
	push_services(d);
}

static void
health_changed(void *arg)
{
	lbd_backends_changed(arg);
}

static void
be_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	push_backends(w->data);
	push_services(w->data);
	release_preempt(w->data);
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A changed sync block starts the links afresh: a new epoch, and the peers
 * resync. A changed key file does not (sync_mgr_apply reads the keys
 * again): a key roll keeps the peers hearing each other throughout.
 * Without the data plane's events (sync was not configured at start) live
 * mirroring waits for a restart. */
static void
reload_sync(struct lbd *d, const struct conf *nc)
{
	const struct conf_sync *o = &d->conf->sync, *n = &nc->sync;
	char err[256];

	if (o->present == n->present && (!n->present ||
	    (same_str(o->interface, n->interface) && o->port == n->port &&
	    o->n_peers == n->n_peers && memcmp(o->peers, n->peers,
	    sizeof(o->peers)) == 0 &&
	    same_str(o->backup_interface, n->backup_interface) &&
	    memcmp(&o->backup_peer, &n->backup_peer, sizeof(o->backup_peer)) == 0)))
		sync_mgr_apply(d->sync, nc);
	else {
		sync_mgr_stop(d->sync);
		d->sync = sync_mgr_start(d->loop, nc, d->dp, err, sizeof(err));
		if (d->sync == NULL && err[0] != '\0')
			log_warnx("reload: %s", err);
		if (n->present && !o->present && d->sync != NULL)
			log_warnx("reload: sync added: connections are mirrored "
			    "after the next restart of lbd (the peer's are "
			    "applied now)");
	}
}

/* After a new service set: the engine has the states `st` it got with the
 * services, or (NULL) the config's weights. */
static int
reset_pushed(struct lbd *d, const struct dp_backend_state *st, size_t n_st)
{
	size_t n = d->backends.n;
	struct be_pushed *v = calloc(n ? n : 1, sizeof(*v));

	if (v == NULL)
		return -1;
	for (size_t k = 0; st != NULL && k < n_st && k < n; k++) {
		v[k].valid = true;
		v[k].st = st[k];
	}
	free(d->pushed);
	d->pushed = v;
	d->n_pushed = n;
	return 0;
}

/* Every event to whoever watches on either control socket. */
static void
publish_event(void *arg, const char *text, const char *json)
{
	struct lbd *d = arg;

	ctl_publish(d->ctl, text, json);
	ctl_publish(d->ctl_ro, text, json);
}

int
lbd_reload_refusals(const struct lbd *d, const struct conf *new,
    struct buf *report)
{
	const struct conf *old = d->conf;
	int n = 0;
	bool same_ifaces = old->global.n_ifaces == new->global.n_ifaces;

	for (size_t i = 0; same_ifaces && i < old->global.n_ifaces; i++)
		same_ifaces = strcmp(old->global.ifaces[i],
		    new->global.ifaces[i]) == 0;
	if (!same_ifaces || old->global.xdp_mode != new->global.xdp_mode ||
	    old->global.datapath != new->global.datapath) {
		buf_printf(report, "%s: error: interface, xdp-mode and datapath "
		    "cannot change on reload; restart lbd to attach to other "
		    "interfaces or run another data path\n", new->path);
		n++;
	}
	if (conf_hash_seed(&old->global) != conf_hash_seed(&new->global)) {
		buf_printf(report, "%s: error: hash-seed cannot change on reload "
		    "(it would move sh, maglev and stateless flows to other "
		    "backends); change it on both nodes and restart them\n",
		    new->path);
		n++;
	}

	if (old->global.workers != new->global.workers) {
		buf_printf(report, "%s: error: workers cannot change on reload "
		    "(%u -> %u); restart lbd to run another count\n", new->path,
		    old->global.workers, new->global.workers);
		n++;
	}
	if (strcmp(old->global.control_socket, new->global.control_socket) != 0 ||
	    (old->global.control_socket_ro == NULL) !=
	    (new->global.control_socket_ro == NULL) ||
	    (old->global.control_socket_ro != NULL &&
	    strcmp(old->global.control_socket_ro, new->global.control_socket_ro))) {
		buf_printf(report, "%s: error: control-socket and "
		    "control-socket-readonly cannot change on reload; restart "
		    "lbd to move them\n", new->path);
		n++;
	}
	if (old->global.metrics != new->global.metrics ||
	    (new->global.metrics && (!conf_addr_equal(&old->global.metrics_addr,
	    &new->global.metrics_addr) ||
	    old->global.metrics_port != new->global.metrics_port))) {
		buf_printf(report, "%s: error: metrics listen cannot change on "
		    "reload; restart lbd to move it\n", new->path);
		n++;
	}
	if ((new->global.nat_log || conf_observes(new)) && d->dp != NULL &&
	    !dataplane_events_on(d->dp)) {
		buf_printf(report, "%s: error: %s needs a restart here (the "
		    "workers hand out connection events only when lbd starts "
		    "with a sync block, nat-log on or a check's observe on)\n",
		    new->path, new->global.nat_log ? "nat-log on" :
		    "observe on");
		n++;
	}
	return n;
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notifyf("WATCHDOG=1");
}

/*
 * systemd's watchdog (WatchdogSec= in the unit): "WATCHDOG=1" from the main
 * loop at half the interval, so a loop that stops turning -- a hang, a
 * deadlock with a worker -- gets lbd killed and restarted. A no-op when
 * systemd did not ask, or asked another process (WATCHDOG_PID).
 */
static void
watchdog_start(struct lbd *d)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	double s;

	ev_timer_init(&d->watchdog, watchdog_cb, 1., 1.);
	if (usec == NULL || (pid != NULL && atol(pid) != (long)getpid()) ||
	    (s = strtod(usec, NULL) / 1e6) <= 0)
		return;
	d->watchdog.repeat = s / 2;
	ev_timer_again(d->loop, &d->watchdog);
	log_info("systemd watchdog: every %.3f s", s / 2);
}

/* Check scripts, track scripts and notify hooks run as script-user, with
 * none of lbd's capabilities (lib/proc.h). An lbd not started as root
 * cannot switch: they run as lbd does. */
static void
apply_script_user(const struct conf *c)
{
	const char *name = conf_script_user(&c->global);
	const struct passwd *pw;
	gid_t groups[PROC_GROUPS_MAX];
	int n = PROC_GROUPS_MAX;

	if (geteuid() != 0) {
		proc_set_user((uid_t)-1, (gid_t)-1, NULL, 0);
		return;
	}
	if ((pw = getpwnam(name)) == NULL) {
		/* Checked when the config was read; gone since. Never root. */
		log_warnx("script-user %s: no such user now; scripts run as "
		    "uid 65534", name);
		proc_set_user(65534, 65534, NULL, 0);
		return;
	}
	/* Its groups from /etc/group, read here: the child after fork may
	 * only make system calls. */
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
		log_warnx("script-user %s: in more than %d groups; scripts get "
		    "the first %d", name, PROC_GROUPS_MAX, PROC_GROUPS_MAX);
		n = PROC_GROUPS_MAX;
	}
	proc_set_user(pw->pw_uid, pw->pw_gid, groups, (size_t)n);
}

int
lbd_reload(struct lbd *d, struct buf *report)
{
	struct conf_diags diags = { 0 };
	struct conf_diff diff;
	struct conf *nc;
	char line[512];
	uint64_t t0;
	size_t n_changes = 0;

	/* MONOTONIC_USEC: what Type=notify-reload wants with RELOADING. */
	sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(mono_ns() / 1000));
	log_info("reload start file=%s", d->conf_path);
	d->last_reload = time(NULL);
	t0 = mono_ms();
	/* 10,000 services take about a second to load and apply; the loop
	 * does nothing else meanwhile. */
	dataplane_busy(d->dp, RELOAD_GRACE_S);
	buf_reset(&d->last_report);

	nc = conf_load(d->conf_path, &diags);
	log_diags(&diags);
	diags_to_buf(&diags, report);
	if (nc != NULL && lbd_reload_refusals(d, nc, report) > 0) {
		conf_free(nc);
		nc = NULL;
	}
	if (nc == NULL) {
		d->reload_failures++;
		d->last_result = LBD_RELOAD_FAILED;
		buf_append(&d->last_report, report->p, report->len);
		log_warnx("reload failed errors=%zu; still running the previous "
		    "configuration", diags.n_errors ? diags.n_errors : 1);
		snprintf(line, sizeof(line), "%zu", diags.n_errors ?
		    diags.n_errors : 1);
		events_emit("reload", "result", "failed", "errors", line,
		    "file", d->conf_path, NULL);
		conf_diags_free(&diags);
		sd_notifyf("READY=1\nSTATUS=reload failed, previous configuration "
		    "kept");
		return -1;
	}
	apply_script_user(nc);		/* before anything new can run */

	if (conf_diff(d->conf, nc, &diff) == 0) {
		for (size_t i = 0; i < diff.n; i++) {
			conf_change_format(&diff.v[i], line, sizeof(line));
			if (i < LOG_CHANGES_MAX)
				log_info("config change: %s", line);
			buf_printf(report, "%s\n", line);
		}
		/* A reload of a generated config can change 100,000 lines:
		 * the log gets a sample, the one who reloaded gets them all. */
		if (diff.n > LOG_CHANGES_MAX)
			log_info("config change: and %zu more (the reply to "
			    "\"lbctl reload\" lists them all)",
			    diff.n - LOG_CHANGES_MAX);
		if (diff.n == 0)
			buf_puts(report, "no changes\n");
		n_changes = diff.n;
		log_info("reload ok changes=%zu", diff.n);
		conf_diff_free(&diff);
	}
	/* Publish, then retire the old generation. Each component takes its
	 * share of the new config before the old one is freed. */
	if (backends_apply(&d->backends, nc) < 0)
		log_warnx("reload: backend states could not be updated (out of "
		    "memory)");
	if (d->health != NULL && health_mgr_apply(d->health, nc) < 0)
		log_warnx("reload: health checks could not be updated (out of "
		    "memory); the previous checks keep running");
	if (d->dp != NULL) {
		size_t n_st;
		struct dp_backend_state *st = all_states(d, nc, &n_st);

		if (dataplane_apply(d->dp, nc, st, n_st) < 0 ||
		    reset_pushed(d, st, n_st) < 0)
			log_warnx("reload: the data plane took part of the new "
			    "configuration (see above)");
		free(st);
	}
	reload_sync(d, nc);
	if (d->vrrp == NULL && nc->n_groups > 0) {
		char err[256];

		if ((d->vrrp = vrrp_mgr_start(d->loop, nc, vrrp_group_cb, d, err,
		    sizeof(err))) == NULL)
			log_warnx("reload: vrrp: %s", err);
	} else if (d->vrrp != NULL && nc->n_groups == 0) {
		vrrp_mgr_stop(d->vrrp);
		d->vrrp = NULL;
	} else if (vrrp_mgr_apply(d->vrrp, nc) < 0)
		log_warnx("reload: vrrp took part of the new configuration "
		    "(see above)");
	wire_heartbeat(d);
	conf_free(d->conf);
	d->conf = nc;
	cluster_apply(d);
	push_backends(d);
	push_services(d);
	d->reloads++;
	d->last_result = LBD_RELOAD_OK;
	log_info("reload done in %llu ms", (unsigned long long)(mono_ms() - t0));
	{
		char nch[24], ms[24];

		snprintf(nch, sizeof(nch), "%zu", n_changes);
		snprintf(ms, sizeof(ms), "%llu", (unsigned long long)(mono_ms() -
		    t0));
		events_emit("reload", "result", "ok", "changes", nch, "ms", ms,
		    "file", d->conf_path, NULL);
	}
	buf_append(&d->last_report, report->p, report->len);
	conf_diags_free(&diags);
	sd_notifyf("READY=1\nSTATUS=running, %u reloads", d->reloads);
	return 0;
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct lbd *d = w->data;
	struct buf report = { 0 };

	log_info("signal=HUP action=reload");
	lbd_reload(d, &report);
	buf_free(&report);
}

static void
stop_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_info("cluster: withdraw-delay over; stopping");
	ev_break(loop, EVBREAK_ALL);
}

/*
 * A cluster node withdraws its routes first and goes on forwarding for
 * withdraw-delay, while the routers move its flows elsewhere; a second
 * signal stops it at once.
 */
static void
sigstop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct lbd *d = w->data;
	uint32_t delay = d->conf->cluster.withdraw_delay_ms;

	d->stop_signal = w->signum;
	log_info("signal=%s action=stop", w->signum == SIGTERM ? "TERM" : "INT");
	if (d->announce != NULL && !d->stopping && delay > 0) {
		d->stopping = true;
		announce_set(d->announce, announce_drained(d->announce), true);
		push_services(d);
		log_info("cluster: routes withdrawn; forwarding %u ms more "
		    "(withdraw-delay)", delay);
		sd_notifyf("STOPPING=1\nSTATUS=stopping: routes withdrawn, "
		    "forwarding %u ms more", delay);
		ev_timer_init(&d->stop_timer, stop_timer_cb, delay / 1000.0, 0);
		ev_timer_start(loop, &d->stop_timer);
		return;
	}
	ev_break(loop, EVBREAK_ALL);
}

static int
write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		log_warn("pidfile %s", path);
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		log_warn("pidfile %s", path);
		return -1;
	}
	return 0;
}

/*
 * Everything lbd_run set up, in reverse: VRRP resigns (priority 0) and lets
 * the addresses go before the data plane detaches. Safe on a partly started
 * daemon: each piece is NULL or an inactive watcher until it was started.
 */
static void
lbd_teardown(struct lbd *d, bool pid_written)
{
	lbd_handover_stop(d);
	vrrp_mgr_stop(d->vrrp);
	sync_mgr_stop(d->sync);
	pair_free(d);
	free(d->cpeers);
	if (d->loop != NULL) {
		ev_signal_stop(d->loop, &d->sig_hup);
		ev_signal_stop(d->loop, &d->sig_term);
		ev_signal_stop(d->loop, &d->sig_int);
		ev_timer_stop(d->loop, &d->be_timer);
		ev_timer_stop(d->loop, &d->watchdog);
		ev_timer_stop(d->loop, &d->stop_timer);
	}
	/* Routes first: the routers stop sending before forwarding stops. */
	announce_free(d->announce, true);
	d->announce = NULL;
	dataplane_stop(d->dp);
	free(d->pushed);
	metrics_close(d->metrics);
	health_mgr_free(d->health);
	backends_free(&d->backends);
	ctl_close(d->ctl);
	ctl_close(d->ctl_ro);
	events_set_sink(NULL, NULL);
	if (pid_written)
		unlink(d->pidfile);
	conf_free(d->conf);
	buf_free(&d->last_report);
	if (d->loop != NULL)
		ev_loop_destroy(d->loop);
}

int
lbd_run(const char *conf_path, const char *pidfile)
{
	struct conf_diags diags = { 0 };
	struct lbd d;
	struct dp_backend_state *st;
	size_t n_st;
	char err[512];
	bool pid_written = false;

	memset(&d, 0, sizeof(d));
	d.conf_path = conf_path;
	d.pidfile = pidfile;
	clock_gettime(CLOCK_REALTIME, &d.started);

	d.conf = conf_load(conf_path, &diags);
	log_diags(&diags);
	conf_diags_free(&diags);
	if (d.conf == NULL) {
		log_warnx("start failed: configuration %s has errors", conf_path);
		return 1;
	}
	apply_script_user(d.conf);

	/* The control socket is local and a closed client must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* Health checks and control clients each hold a descriptor: take all
	 * the kernel allows this process. */
	{
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (d.loop == NULL) {
		log_warnx("start failed: cannot create the event loop");
		goto fail;
	}
	d.started_mono = ev_now(d.loop);

	d.ctl = ctl_open(d.loop, d.conf->global.control_socket, 0660, false,
	    lbd_ctl_dispatch, &d);
	if (d.ctl == NULL) {
		log_warnx("start failed: control socket %s",
		    d.conf->global.control_socket);
		goto fail;
	}
	/* Anyone on the node may look; changing needs the other socket. */
	if (d.conf->global.control_socket_ro != NULL &&
	    (d.ctl_ro = ctl_open(d.loop, d.conf->global.control_socket_ro,
	    0666, true, lbd_ctl_dispatch, &d)) == NULL) {
		log_warnx("start failed: control socket %s",
		    d.conf->global.control_socket_ro);
		goto fail;
	}
	events_set_sink(publish_event, &d);
	if (pidfile != NULL) {
		if (write_pidfile(pidfile) < 0)
			goto fail;
		pid_written = true;
	}
	srandom((unsigned)(time(NULL) ^ getpid()));	/* check jitter */
	if (d.conf->global.metrics && (d.metrics = metrics_open(d.loop,
	    &d.conf->global.metrics_addr, d.conf->global.metrics_port, &d)) == NULL) {
		log_warnx("start failed: metrics listener");
		goto fail;
	}
	if (backends_apply(&d.backends, d.conf) < 0 ||
	    (d.health = health_mgr_new(d.loop)) == NULL ||
	    health_mgr_apply(d.health, d.conf) < 0) {
		log_warnx("start failed: health checks: out of memory");
		goto fail;
	}
	health_mgr_on_change(d.health, health_changed, &d);

	/* The engine starts from the backends' states, not the config's. */
	st = all_states(&d, d.conf, &n_st);
	d.dp = dataplane_start(d.loop, d.conf, st, n_st, err, sizeof(err));
	if (d.dp != NULL && reset_pushed(&d, st, n_st) < 0) {
		free(st);
		log_warnx("start failed: out of memory");
		goto fail;
	}
	free(st);
	if (d.dp == NULL && err[0] != '\0') {
		log_warnx("start failed: data plane: %s", err);
		goto fail;
	}
	d.sync = sync_mgr_start(d.loop, d.conf, d.dp, err, sizeof(err));
	if (d.sync == NULL && err[0] != '\0') {
		log_warnx("start failed: %s", err);
		goto fail;
	}
	dataplane_sync_events(d.dp, conn_events_cb, &d);
	ev_timer_init(&d.be_timer, be_timer_cb, BE_PUSH_INTERVAL, BE_PUSH_INTERVAL);
	d.be_timer.data = &d;
	if (d.dp != NULL)
		push_backends(&d);
	d.vrrp = vrrp_mgr_start(d.loop, d.conf, vrrp_group_cb, &d, err, sizeof(err));
	if (d.vrrp == NULL && err[0] != '\0') {
		log_warnx("start failed: vrrp: %s", err);
		goto fail;
	}
	wire_heartbeat(&d);
	if (d.sync != NULL && d.vrrp != NULL) {
		d.preempt_held = true;
		d.held_since = ev_now(d.loop);
		vrrp_mgr_hold_preempt(d.vrrp, true);
	}
	cluster_apply(&d);
	push_services(&d);
	ev_timer_start(d.loop, &d.be_timer);

	ev_signal_init(&d.sig_hup, sighup_cb, SIGHUP);
	ev_signal_init(&d.sig_term, sigstop_cb, SIGTERM);
	ev_signal_init(&d.sig_int, sigstop_cb, SIGINT);
	d.sig_hup.data = d.sig_term.data = d.sig_int.data = &d;
	ev_signal_start(d.loop, &d.sig_hup);
	ev_signal_start(d.loop, &d.sig_term);
	ev_signal_start(d.loop, &d.sig_int);

	/* Set up: from here on only what running needs (privs.h). */
	if (privs_drop(privs_kept(), err, sizeof(err)) < 0)
		log_warnx("capabilities: %s", err);
	log_info("started version=%s pid=%ld config=%s services=%zu socket=%s",
	    LBD_VERSION, (long)getpid(), conf_path, d.conf->n_services,
	    d.conf->global.control_socket);
	sd_notifyf("READY=1\nSTATUS=running\nMAINPID=%ld", (long)getpid());
	watchdog_start(&d);

	ev_run(d.loop, 0);

	sd_notifyf("STOPPING=1\nSTATUS=stopping: withdrawing addresses");
	lbd_teardown(&d, pid_written);
	log_info("stopped");
	return 0;
fail:
	lbd_teardown(&d, pid_written);
	return 1;
}

void
lbd_daemon_stats(const struct lbd *d, int64_t *v)
{
	size_t n_instances = 0;

	for (size_t g = 0; g < d->conf->n_groups; g++)
		n_instances += d->conf->groups[g].n_instances;
	v[SD_SERVICES] = (int64_t)d->conf->n_services;
	v[SD_VRRP_INSTANCES] = (int64_t)n_instances;
	v[SD_UPTIME] = (int64_t)(ev_now(d->loop) - d->started_mono);
	v[SD_RELOADS] = d->reloads;
	v[SD_RELOAD_FAILURES] = d->reload_failures;
	v[SD_LAST_RELOAD_OK] = d->last_result != LBD_RELOAD_FAILED;
	v[SD_START] = (int64_t)d->started.tv_sec;
	v[SD_NAT_LOG_LINES] = (int64_t)d->natlog.lines;
	v[SD_NAT_LOG_DROPPED] = (int64_t)d->natlog.dropped;
	{
		uint64_t up, ch, er;

		announce_counts(d->announce, &up, &ch, &er);
		v[SD_CLUSTER_ANNOUNCED] = (int64_t)up;
		v[SD_CLUSTER_DRAINED] = announce_drained(d->announce);
		v[SD_CLUSTER_ROUTE_CHANGES] = (int64_t)ch;
		v[SD_CLUSTER_ROUTE_ERRORS] = (int64_t)er;
	}
}

void
lbd_control_stats(const struct lbd *d, int64_t *v)
{
	/* Both sockets, added up. */
	memset(v, 0, SC__COUNT * sizeof(*v));
	for (int i = 0; i < 2; i++) {
		const struct ctl_server *s = i == 0 ? d->ctl : d->ctl_ro;
		const struct ctl_stats *cs;

		if (s == NULL)
			continue;
		cs = ctl_stats(s);
		v[SC_CLIENTS] += cs->clients;
		v[SC_WATCHING] += cs->watching;
		v[SC_ACCEPTED] += (int64_t)cs->accepted;
		v[SC_COMMANDS] += (int64_t)cs->commands;
		v[SC_ERRORS] += (int64_t)cs->errors;
		v[SC_OVERLONG] += (int64_t)cs->overlong;
		v[SC_REFUSED] += (int64_t)cs->refused;
		v[SC_DROPPED_SLOW] += (int64_t)cs->dropped_slow;
		v[SC_IDLE_CLOSED] += (int64_t)cs->idle_closed;
		v[SC_EVICTED] += (int64_t)cs->evicted;
	}
}
