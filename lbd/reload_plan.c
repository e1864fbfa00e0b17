/*
 * `lbctl reload --dry-run` (and `lbd -t --diff`): what a reload of the
 * config file would do to the running lbd, without doing it. The file is
 * read and checked as a reload would; each change is listed with what it
 * does to traffic, from the running connection counts and the rules the
 * engine applies on reload (lbd/engine/engine.c, dp_engine_set_services):
 * a connection stays with the service of its VIP, protocol and port and
 * the backend of its address and port; one whose service is gone ends,
 * one whose backend is gone drains. Settings that need a restart make the
 * reload refused, and are said so. Nothing is applied.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lbd/daemon.h"
#include "lbd/dataplane/dataplane.h"
#include "lbd/reload_plan.h"

struct plan {
	const struct conf	*old, *new;
	struct dp_snapshot	 ss;
	bool			 have;		/* connection counts known */
	unsigned long long	 ending, draining;
};

static bool
same_listen(const struct conf_service *a, const struct conf_service *b)
{
	return a->proto == b->proto && a->port == b->port &&
	    conf_addr_equal(&a->vip, &b->vip);
}

/* The new config's service on `s`'s VIP, protocol and port, or NULL. */
static const struct conf_service *
new_listen(const struct plan *pl, const struct conf_service *s)
{
	for (size_t i = 0; i < pl->new->n_services; i++)
		if (same_listen(&pl->new->services[i], s))
			return &pl->new->services[i];
	return NULL;
}

static bool
has_backend(const struct conf_service *s, const struct conf_backend *b)
{
	for (size_t i = 0; i < s->n_backends; i++)
		if (s->backends[i].port == b->port &&
		    conf_addr_equal(&s->backends[i].addr, &b->addr))
			return true;
	return s->has_fallback && s->fallback.port == b->port &&
	    conf_addr_equal(&s->fallback.addr, &b->addr);
}

/* Where a running backend is: its service and index (the fallback last). */
static bool
locate(const struct conf *c, const struct conf_backend *b, size_t *si,
    size_t *bi)
{
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		if (b >= s->backends && b < s->backends + s->n_backends) {
			*si = i;
			*bi = (size_t)(b - s->backends);
			return true;
		}
		if (s->has_fallback && b == &s->fallback) {
			*si = i;
			*bi = s->n_backends;
			return true;
		}
	}
	return false;
}

static unsigned long long
svc_active(const struct plan *pl, const struct conf_service *s)
{
	size_t i = (size_t)(s - pl->old->services);

	return pl->have && i < pl->ss.n_svc ? pl->ss.svc[i].active : 0;
}

static unsigned long long
be_active(const struct plan *pl, const struct conf_backend *b)
{
	const struct dp_be_snap *bs;
	size_t si, bi;

	if (!pl->have || !locate(pl->old, b, &si, &bi))
		return 0;
	bs = dataplane_backend_snap(&pl->ss, si, bi);
	return bs != NULL ? bs->active : 0;
}

static void
conns(char *buf, size_t len, unsigned long long n)
{
	snprintf(buf, len, "%llu connection%s", n, n == 1 ? "" : "s");
}

/* What one change does to traffic, in a phrase. */
static void
impact(struct plan *pl, const struct conf_change *ch, char *out, size_t len)
{
	const struct conf_service *os = NULL, *ns, *to;
	const struct conf_backend *ob = NULL, *nb;
	unsigned long long n;
	char c[48];

	out[0] = '\0';
	switch (ch->object) {
	case CONF_OBJ_SERVICE:
		os = ch->old_obj;
		ns = ch->new_obj;
		if (ch->kind == CONF_ADDED) {
			snprintf(out, len, "takes new connections");
			break;
		}
		n = svc_active(pl, os);
		conns(c, sizeof(c), n);
		to = new_listen(pl, os);
		if (ch->kind == CONF_CHANGED && same_listen(os, ns))
			snprintf(out, len, "its %s go on; new ones follow the "
			    "new settings", c);
		else if (to != NULL)
			snprintf(out, len, "its %s go on under service %s", c,
			    to->name);
		else {
			snprintf(out, len, n ? "ENDS its %s (the kernel resets "
			    "them)" : "ends its %s", c);
			pl->ending += n;
		}
		break;
	case CONF_OBJ_BACKEND: {
		size_t si, bi;

		ob = ch->old_obj;
		nb = ch->new_obj;
		if (ch->kind == CONF_ADDED) {
			snprintf(out, len, "takes new connections");
			break;
		}
		n = be_active(pl, ob);
		conns(c, sizeof(c), n);
		if (!locate(pl->old, ob, &si, &bi))
			break;
		os = &pl->old->services[si];
		to = new_listen(pl, os);
		if (to == NULL) {
			snprintf(out, len, "its %s end with the service's", c);
		} else if (ch->kind == CONF_CHANGED && nb->port == ob->port &&
		    conf_addr_equal(&nb->addr, &ob->addr)) {
			snprintf(out, len, "its %s go on; new connections see "
			    "the change", c);
		} else if (has_backend(to, ob)) {
			snprintf(out, len, "its %s go on (the address stays in "
			    "service %s)", c, to->name);
		} else {
			snprintf(out, len, "DRAINS: its %s go on until they end; "
			    "no new ones", c);
			pl->draining += n;
		}
		break;
	}
	case CONF_OBJ_GROUP:
	case CONF_OBJ_INSTANCE:
		snprintf(out, len, "the group moves only if the new priorities "
		    "make another node master");
		break;
	case CONF_OBJ_GLOBAL:
	case CONF_OBJ_SYNC:
		break;
	}
}

bool
lbd_reload_plan(struct lbd *d, struct buf *out, bool json)
{
	struct conf_diags diags = { 0 };
	struct conf_diff diff = { 0 };
	struct plan pl = { .old = d->conf };
	struct buf restart = { 0 };
	struct conf *nc;
	char line[2048], imp[256], abs[PATH_MAX];
	int refusals = 0;
	bool applies;

	/* Absolute: `lbd -t --diff` compares it with the file it checked. */
	if (realpath(d->conf_path, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", d->conf_path);
	nc = conf_load(d->conf_path, &diags);
	if (nc != NULL)
		refusals = lbd_reload_refusals(d, nc, &restart);
	applies = nc != NULL && refusals == 0;
	if (json) {
		buf_puts(out, "{\"file\":");
		buf_json_str(out, abs);
		buf_printf(out, ",\"would_apply\":%s,\"diagnostics\":[",
		    applies ? "true" : "false");
		for (size_t i = 0; i < diags.n; i++) {
			conf_diag_format(&diags.v[i], line, sizeof(line));
			buf_puts(out, i ? "," : "");
			buf_json_str(out, line);
		}
		buf_puts(out, "],\"needs_restart\":[");
	} else {
		buf_printf(out, "dry run: %s against the running configuration "
		    "(nothing applied)\n", abs);
		for (size_t i = 0; i < diags.n; i++) {
			conf_diag_format(&diags.v[i], line, sizeof(line));
			buf_printf(out, "%s\n", line);
		}
	}
	/* The refusals, one per line as the reload would report them. */
	for (size_t at = 0; at < restart.len;) {
		const char *p = restart.p + at;
		const char *nl = memchr(p, '\n', restart.len - at);
		size_t l = nl ? (size_t)(nl - p) : restart.len - at;

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (json) {
			buf_puts(out, at ? "," : "");
			buf_json_str(out, line);
		} else
			buf_printf(out, "%s\n", line);
		at += l + 1;
	}
	if (nc != NULL && conf_diff(d->conf, nc, &diff) == 0) {
		pl.new = nc;
		pl.have = dataplane_snapshot(d->dp, &pl.ss) == 0;
		if (json)
			buf_puts(out, "],\"changes\":[");
		for (size_t i = 0; i < diff.n; i++) {
			conf_change_format(&diff.v[i], line, sizeof(line));
			impact(&pl, &diff.v[i], imp, sizeof(imp));
			if (json) {
				buf_puts(out, i ? ",{\"change\":" : "{\"change\":");
				buf_json_str(out, line);
				buf_puts(out, ",\"impact\":");
				buf_json_str(out, imp);
				buf_puts(out, "}");
			} else
				buf_printf(out, "%s%s%s\n", line, imp[0] ? "\n    -> " :
				    "", imp);
		}
		if (pl.have)
			dataplane_snapshot_free(&pl.ss);
	} else if (json)
		buf_puts(out, "],\"changes\":[");
	if (json)
		buf_printf(out, "],\"connections_ending\":%llu,"
		    "\"connections_draining\":%llu}\n", pl.ending, pl.draining);
	else if (nc == NULL)
		buf_printf(out, "a reload would be REFUSED: %zu error%s; the "
		    "running configuration would stay\n", diags.n_errors,
		    diags.n_errors == 1 ? "" : "s");
	else if (refusals > 0)
		buf_puts(out, "a reload would be REFUSED: the settings above need "
		    "a restart; the running configuration would stay\n");
	else if (diff.n == 0)
		buf_puts(out, "a reload would change nothing\n");
	else
		buf_printf(out, "a reload would apply %zu change%s: %llu "
		    "connection%s would end, %llu would drain\n", diff.n,
		    diff.n == 1 ? "" : "s", pl.ending, pl.ending == 1 ? "" : "s",
		    pl.draining);
	conf_diff_free(&diff);
	conf_free(nc);
	conf_diags_free(&diags);
	buf_free(&restart);
	return applies;
}
