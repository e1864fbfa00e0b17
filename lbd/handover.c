/*
 * lbctl ha handover [GROUP]: hand a VRRP group (every group this node is
 * master of, without GROUP) to the peer, safely. First every check: the
 * peer is heard over the heartbeat and is backup of the group, connection
 * sync says the peer has this node's connections and runs the same
 * configuration, and the peer's backends are as healthy as ours (what the
 * peer says over the heartbeat, lbd/pair.c). Any failing check refuses
 * the whole command with its reason and changes nothing. Then each group
 * resigns (vrrp_node_handover) and the reply waits, on a 10 ms tick, until
 * the heartbeat shows the peer master of it, and says how long that took;
 * or says so after HANDOVER_WAIT_MS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/ctl.h"
#include "lbd/daemon.h"
#include "lbd/events.h"
#include "lbd/handover.h"
#include "lbd/pair.h"
#include "lbd/sync_mgr.h"
#include "lbd/vrrp_mgr.h"
#include "lib/clock.h"

#define HANDOVER_WAIT_MS	5000
#define HANDOVER_GROUPS_MAX	64
#define HANDOVER_TICK_S		0.01

struct handover {
	struct lbd		*d;
	struct ctl_later	*later;
	ev_timer		 tick;
	bool			 json;
	uint64_t		 t0;		/* the resign, mono ms */
	size_t			 n;
	struct {
		size_t		 group;
		uint64_t	 done_ms;	/* after t0; 0: not yet */
	}			 g[HANDOVER_GROUPS_MAX];
	struct buf		 undo;
	struct buf		 json_out;
};

static void say(struct handover *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct handover *h, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (h->json)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctl_later_line(h->later, line);
}

static void
finish(struct handover *h, bool ok)
{
	struct vrrp_group_view v;
	char line[1200];

	if (h->json) {
		buf_puts(&h->json_out, "{\"handover\":[");
		for (size_t i = 0; i < h->n; i++) {
			vrrp_mgr_group_view(h->d->vrrp, h->g[i].group, &v);
			buf_printf(&h->json_out, "%s{\"group\":", i ? "," : "");
			buf_json_str(&h->json_out, v.name);
			buf_printf(&h->json_out, ",\"peer_master\":%s,\"ms\":",
			    h->g[i].done_ms ? "true" : "false");
			if (h->g[i].done_ms)
				buf_printf(&h->json_out, "%llu",
				    (unsigned long long)h->g[i].done_ms);
			else
				buf_puts(&h->json_out, "null");
			buf_puts(&h->json_out, "}");
		}
		buf_puts(&h->json_out, "],\"undo\":");
		buf_json_str(&h->json_out, h->undo.p != NULL ? h->undo.p : "");
		buf_puts(&h->json_out, "}");
		ctl_later_line(h->later, h->json_out.p);
	} else {
		snprintf(line, sizeof(line), "to take it back: %s", h->undo.p);
		ctl_later_line(h->later, line);
	}
	ctl_later_end(h->later, ok);
	ev_timer_stop(h->d->loop, &h->tick);
	h->d->handover = NULL;
	buf_free(&h->undo);
	buf_free(&h->json_out);
	free(h);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct handover *h = w->data;
	uint64_t since = mono_ms() - h->t0;
	bool all = true;

	for (size_t i = 0; i < h->n; i++) {
		struct vrrp_group_view v;

		if (h->g[i].done_ms != 0 ||
		    vrrp_mgr_group_view(h->d->vrrp, h->g[i].group, &v) < 0)
			continue;
		if (!v.master && v.peer_master) {
			h->g[i].done_ms = since ? since : 1;
			say(h, "group %s: the peer is master %llu ms after the "
			    "resign; this node is backup", v.name,
			    (unsigned long long)since);
			events_emit("handover", "group", v.name, "state", "done",
			    NULL);
		} else
			all = false;
	}
	if (all)
		finish(h, true);
	else if (since >= HANDOVER_WAIT_MS) {
		for (size_t i = 0; i < h->n; i++) {
			struct vrrp_group_view v;

			if (h->g[i].done_ms == 0 &&
			    vrrp_mgr_group_view(h->d->vrrp, h->g[i].group,
			    &v) == 0)
				say(h, "group %s: the peer did not take it within "
				    "%llu ms; this node stays backup at priority 1 "
				    "and takes it again if the peer stays silent",
				    v.name, (unsigned long long)HANDOVER_WAIT_MS);
		}
		finish(h, false);
	}
}

/* Every check for group `g`; false with the reason in `why`. */
static bool
ready(struct lbd *d, size_t g, char *why, size_t len)
{
	struct vrrp_group_view v;

	vrrp_mgr_group_view(d->vrrp, g, &v);
	if (v.external)
		snprintf(why, len, "vrrp external: keepalived decides; hand the "
		    "group over there");
	else if (!v.master)
		snprintf(why, len, "group %s is %s here; there is nothing to hand "
		    "over", v.name, v.state);
	else if (!v.heartbeat)
		snprintf(why, len, "the peer is not heard over the heartbeat (the "
		    "sync block's link): lbd cannot check it is ready");
	else if (!v.peer_known || strcmp(v.peer_state, "backup") != 0)
		snprintf(why, len, "the peer is %s for group %s, not backup",
		    v.peer_known ? v.peer_state : "silent", v.name);
	else if (!sync_mgr_ready(d->sync, why, len))
		return false;
	else if (!pair_backends_ready(d, why, len))
		return false;
	else
		return true;
	return false;
}

bool
lbd_handover(struct lbd *d, const struct ctl_caller *who, const char *group,
    bool json, struct buf *out)
{
	struct handover *h;
	char why[256];
	size_t groups[HANDOVER_GROUPS_MAX], n = 0;

	if (d->vrrp == NULL) {
		buf_puts(out, "error: no VRRP here: nothing to hand over\n");
		return false;
	}
	if (d->handover != NULL) {
		buf_puts(out, "error: a handover is under way\n");
		return false;
	}
	if (group != NULL) {
		int g = vrrp_mgr_group_index(d->vrrp, group);

		if (g < 0) {
			buf_printf(out, "error: no vrrp-group \"%.64s\" (see \"show "
			    "vrrp\")\n", group);
			return false;
		}
		groups[n++] = (size_t)g;
	} else {
		for (size_t g = 0; g < vrrp_mgr_groups(d->vrrp) &&
		    n < HANDOVER_GROUPS_MAX; g++) {
			struct vrrp_group_view v;

			if (vrrp_mgr_group_view(d->vrrp, g, &v) == 0 && v.master)
				groups[n++] = g;
		}
		if (n == 0) {
			buf_puts(out, "error: this node is master of no group: "
			    "nothing to hand over\n");
			return false;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!ready(d, groups[i], why, sizeof(why))) {
			buf_printf(out, "error: handover refused, nothing changed: "
			    "%s\n", why);
			return false;
		}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->later = ctl_later(who)) == NULL) {
		free(h);
		buf_puts(out, "error: handover needs a control connection\n");
		return false;
	}
	h->d = d;
	h->json = json;
	h->t0 = mono_ms();
	for (size_t i = 0; i < n; i++) {
		struct vrrp_group_view v;
		struct buf err = { 0 };

		vrrp_mgr_group_view(d->vrrp, groups[i], &v);
		if (!json)
			buf_printf(out, "group %s: checks passed (the peer is backup "
			    "at priority %u and heard, sync ready, backends "
			    "agree)\n", v.name, v.peer_prio);
		if (vrrp_mgr_handover(d->vrrp, groups[i], &h->undo, &err) < 0) {
			if (!json)
				buf_append(out, err.p, err.len);
			buf_free(&err);
			continue;
		}
		h->g[h->n++].group = groups[i];
		events_emit("handover", "group", v.name, "state", "resigned",
		    NULL);
		if (!json)
			buf_printf(out, "group %s: resigned (priority 0 sent); its "
			    "instances stay at priority 1\n", v.name);
	}
	d->handover = h;
	ev_timer_init(&h->tick, tick_cb, HANDOVER_TICK_S, HANDOVER_TICK_S);
	h->tick.data = h;
	ev_timer_start(d->loop, &h->tick);
	return true;
}

void
lbd_handover_stop(struct lbd *d)
{
	struct handover *h = d->handover;

	if (h == NULL)
		return;
	if (!h->json)
		ctl_later_line(h->later, "lbd is stopping");
	finish(h, false);
}
