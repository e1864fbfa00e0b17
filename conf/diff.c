/*
 * What changed between two configs, object by object and matched by name:
 * global settings, the sync block, VRRP groups and instances, services and
 * their backends. Reload logs this list and (later) applies it: each change
 * points at the old and the new object so the caller can carry runtime state
 * (health, counters, connections) across.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

struct detail {
	char	*buf;
	size_t	 len;
	size_t	 off;
};

static void
add(struct detail *d, const char *what, const char *a, const char *b)
{
	if (d->off >= d->len)
		return;
	d->off += (size_t)snprintf(d->buf + d->off, d->len - d->off, "%s%s %s -> %s",
	    d->off ? ", " : "", what, a, b);
}

static void
add_u(struct detail *d, const char *what, unsigned a, unsigned b)
{
	char x[16], y[16];

	if (a == b)
		return;
	snprintf(x, sizeof(x), "%u", a);
	snprintf(y, sizeof(y), "%u", b);
	add(d, what, x, y);
}

static void
add_s(struct detail *d, const char *what, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		add(d, what, a ? a : "-", b ? b : "-");
}

static void
add_addr(struct detail *d, const char *what, const struct conf_addr *a,
    const struct conf_addr *b)
{
	char x[64], y[64];

	if (!conf_addr_equal(a, b))
		add(d, what, conf_addr_str(a, a->plen != 32 && a->plen != 128, x,
		    sizeof(x)), conf_addr_str(b, b->plen != 32 && b->plen != 128,
		    y, sizeof(y)));
}

static void
add_addrs(struct detail *d, const char *what, const struct conf_addr *a,
    size_t na, const struct conf_addr *b, size_t nb)
{
	bool same = na == nb;

	for (size_t i = 0; same && i < na; i++)
		same = conf_addr_equal(&a[i], &b[i]);
	if (!same) {
		char x[16], y[16];
		snprintf(x, sizeof(x), "[%zu]", na);
		snprintf(y, sizeof(y), "[%zu]", nb);
		add(d, what, x, y);
	}
}

static int
push(struct conf_diff *out, enum conf_change_kind kind, enum conf_object obj,
    const char *n1, const char *n2, const char *detail, const void *old_obj,
    const void *new_obj)
{
	struct conf_change *ch, *v;

	/* A reload can change 100,000 lines. */
	if ((v = conf_grow(out->v, out->n, sizeof(*v))) == NULL)
		return -1;
	out->v = v;
	ch = &out->v[out->n++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->object = obj;
	if (n2 != NULL)
		snprintf(ch->name, sizeof(ch->name), "%s/%s", n1, n2);
	else
		snprintf(ch->name, sizeof(ch->name), "%s", n1);
	snprintf(ch->detail, sizeof(ch->detail), "%s", detail ? detail : "");
	ch->old_obj = old_obj;
	ch->new_obj = new_obj;
	return 0;
}

static const struct conf_service *
find_service(const struct conf *c, const char *name)
{
	for (size_t i = 0; c != NULL && i < c->n_services; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

static const struct conf_backend *
find_backend(const struct conf_service *s, const char *name)
{
	for (size_t i = 0; s != NULL && i < s->n_backends; i++)
		if (strcmp(s->backends[i].name, name) == 0)
			return &s->backends[i];
	return NULL;
}

static const struct conf_instance *
find_instance(const struct conf *c, const char *name, const char **group)
{
	for (size_t g = 0; c != NULL && g < c->n_groups; g++)
		for (size_t i = 0; i < c->groups[g].n_instances; i++)
			if (strcmp(c->groups[g].instances[i].name, name) == 0) {
				if (group != NULL)
					*group = c->groups[g].name;
				return &c->groups[g].instances[i];
			}
	return NULL;
}

static const struct conf_group *
find_group(const struct conf *c, const char *name)
{
	for (size_t g = 0; c != NULL && g < c->n_groups; g++)
		if (strcmp(c->groups[g].name, name) == 0)
			return &c->groups[g];
	return NULL;
}

static void
diff_check(struct detail *d, const struct conf_check *a,
    const struct conf_check *b)
{
	if (a->type != b->type) {
		add(d, "check", conf_check_name(a->type), conf_check_name(b->type));
		return;
	}
	add_u(d, "check interval_ms", a->interval_ms, b->interval_ms);
	add_u(d, "check timeout_ms", a->timeout_ms, b->timeout_ms);
	add_u(d, "check rise", a->rise, b->rise);
	add_u(d, "check fall", a->fall, b->fall);
	add_u(d, "check port", a->port, b->port);
	add_s(d, "check path", a->path, b->path);
	add_s(d, "check expect", a->expect, b->expect);
	add_s(d, "check host", a->host, b->host);
	add_s(d, "check command", a->command, b->command);
	add_s(d, "check body", a->body, b->body);
	add_s(d, "check method", a->method, b->method);
	add_s(d, "check send", a->send, b->send);
	add_s(d, "check receive", a->receive, b->receive);
	add_s(d, "check query", a->query, b->query);
	add_u(d, "check type", a->qtype, b->qtype);
	add_u(d, "check verify", a->verify, b->verify);
	add_s(d, "check ca-file", a->ca_file, b->ca_file);
	add_u(d, "check tls-min", a->tls_min, b->tls_min);
	add_u(d, "check jitter_ms", a->jitter_ms, b->jitter_ms);
	add_u(d, "check observe", a->observe, b->observe);
	add_u(d, "check observe-errors", a->observe_errors, b->observe_errors);
	add_u(d, "check observe-window_ms", a->observe_window_ms,
	    b->observe_window_ms);
	if (a->has_source != b->has_source || (a->has_source &&
	    !conf_addr_equal(&a->source, &b->source)))
		add_addr(d, "check source", &a->source, &b->source);
}

static int
diff_services(const struct conf *a, const struct conf *b, struct conf_diff *out)
{
	char buf[256];

	for (size_t i = 0; a != NULL && i < a->n_services; i++)
		if (find_service(b, a->services[i].name) == NULL &&
		    push(out, CONF_REMOVED, CONF_OBJ_SERVICE, a->services[i].name,
		    NULL, NULL, &a->services[i], NULL) < 0)
			return -1;
	for (size_t i = 0; b != NULL && i < b->n_services; i++) {
		const struct conf_service *ns = &b->services[i];
		const struct conf_service *os = find_service(a, ns->name);
		struct detail d = { buf, sizeof(buf), 0 };

		buf[0] = '\0';
		if (os == NULL) {
			if (push(out, CONF_ADDED, CONF_OBJ_SERVICE, ns->name, NULL,
			    NULL, NULL, ns) < 0)
				return -1;
			continue;
		}
		add_addr(&d, "vip", &os->vip, &ns->vip);
		if (os->proto != ns->proto)
			add(&d, "proto", conf_proto_name(os->proto),
			    conf_proto_name(ns->proto));
		add_u(&d, "port", os->port, ns->port);
		if (os->mode != ns->mode)
			add(&d, "mode", conf_mode_name(os->mode),
			    conf_mode_name(ns->mode));
		if (os->tunnel != ns->tunnel)
			add(&d, "tunnel", conf_tunnel_name(os->tunnel),
			    conf_tunnel_name(ns->tunnel));
		add_u(&d, "tunnel port", os->tunnel_port, ns->tunnel_port);
		if (os->tunnel_src.family == 0 || ns->tunnel_src.family == 0) {
			if (os->tunnel_src.family != ns->tunnel_src.family)
				add(&d, "tunnel source", os->tunnel_src.family ?
				    "prefix" : "-", ns->tunnel_src.family ?
				    "prefix" : "-");
		} else
			add_addr(&d, "tunnel source", &os->tunnel_src,
			    &ns->tunnel_src);
		if (os->sched != ns->sched)
			add(&d, "scheduler", conf_sched_name(os->sched),
			    conf_sched_name(ns->sched));
		add_addrs(&d, "snat-pool", os->snat_pool, os->n_snat_pool,
		    ns->snat_pool, ns->n_snat_pool);
		if (os->n_snat_pool == ns->n_snat_pool && ns->n_snat_pool > 0 &&
		    memcmp(os->snat_ports, ns->snat_ports, ns->n_snat_pool *
		    sizeof(*ns->snat_ports)) != 0)
			add(&d, "snat-pool ports", "...", "changed");
		add_u(&d, "stateless", os->stateless, ns->stateless);
		add_u(&d, "quorum", os->quorum, ns->quorum);
		add_addrs(&d, "allow", os->allow, os->n_allow, ns->allow,
		    ns->n_allow);
		add_u(&d, "limit new-conns", os->limit_rate, ns->limit_rate);
		add_u(&d, "limit burst", os->limit_burst, ns->limit_burst);
		add_u(&d, "persist", os->persist_ms, ns->persist_ms);
		add_u(&d, "timeout udp", os->udp_timeout_ms, ns->udp_timeout_ms);
		add_u(&d, "one-packet", os->one_packet, ns->one_packet);
		add_u(&d, "persist netmask", os->persist_plen, ns->persist_plen);
		add_u(&d, "slow-start", os->slow_start_ms, ns->slow_start_ms);
		if (os->reset_on_down != ns->reset_on_down)
			add(&d, "on-backend-down",
			    conf_on_down_name(os->reset_on_down),
			    conf_on_down_name(ns->reset_on_down));
		if (os->has_fallback != ns->has_fallback || (ns->has_fallback &&
		    (strcmp(os->fallback.name, ns->fallback.name) != 0 ||
		    !conf_addr_equal(&os->fallback.addr, &ns->fallback.addr) ||
		    os->fallback.port != ns->fallback.port)))
			add(&d, "fallback", os->has_fallback ? os->fallback.name : "-",
			    ns->has_fallback ? ns->fallback.name : "-");
		diff_check(&d, &os->check, &ns->check);
		if (d.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_SERVICE,
		    ns->name, NULL, buf, os, ns) < 0)
			return -1;

		for (size_t k = 0; k < os->n_backends; k++)
			if (find_backend(ns, os->backends[k].name) == NULL &&
			    push(out, CONF_REMOVED, CONF_OBJ_BACKEND, ns->name,
			    os->backends[k].name, NULL, &os->backends[k], NULL) < 0)
				return -1;
		for (size_t k = 0; k < ns->n_backends; k++) {
			const struct conf_backend *nb = &ns->backends[k];
			const struct conf_backend *ob = find_backend(os, nb->name);
			struct detail bd = { buf, sizeof(buf), 0 };

			buf[0] = '\0';
			if (ob == NULL) {
				if (push(out, CONF_ADDED, CONF_OBJ_BACKEND, ns->name,
				    nb->name, NULL, NULL, nb) < 0)
					return -1;
				continue;
			}
			add_addr(&bd, "address", &ob->addr, &nb->addr);
			add_u(&bd, "port", ob->port, nb->port);
			add_u(&bd, "weight", ob->weight, nb->weight);
			add_u(&bd, "max-conns", ob->max_conns, nb->max_conns);
			add_u(&bd, "backup", ob->backup, nb->backup);
			if (bd.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_BACKEND,
			    ns->name, nb->name, buf, ob, nb) < 0)
				return -1;
		}
	}
	/* Backends of removed and added services are implied by the service. */
	return 0;
}

static int
diff_vrrp(const struct conf *a, const struct conf *b, struct conf_diff *out)
{
	char buf[256];

	for (size_t g = 0; a != NULL && g < a->n_groups; g++)
		if (find_group(b, a->groups[g].name) == NULL &&
		    push(out, CONF_REMOVED, CONF_OBJ_GROUP, a->groups[g].name,
		    NULL, NULL, &a->groups[g], NULL) < 0)
			return -1;
	for (size_t g = 0; b != NULL && g < b->n_groups; g++) {
		const struct conf_group *og = find_group(a, b->groups[g].name);
		struct detail gd = { buf, sizeof(buf), 0 };

		if (og == NULL) {
			if (push(out, CONF_ADDED, CONF_OBJ_GROUP, b->groups[g].name,
			    NULL, NULL, NULL, &b->groups[g]) < 0)
				return -1;
			continue;
		}
		buf[0] = '\0';
		add_s(&gd, "notify", og->notify, b->groups[g].notify);
		if (gd.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_GROUP,
		    b->groups[g].name, NULL, buf, og, &b->groups[g]) < 0)
			return -1;
	}

	for (size_t g = 0; a != NULL && g < a->n_groups; g++)
		for (size_t i = 0; i < a->groups[g].n_instances; i++) {
			const struct conf_instance *oi = &a->groups[g].instances[i];
			if (find_instance(b, oi->name, NULL) == NULL &&
			    push(out, CONF_REMOVED, CONF_OBJ_INSTANCE, oi->name,
			    NULL, NULL, oi, NULL) < 0)
				return -1;
		}
	for (size_t g = 0; b != NULL && g < b->n_groups; g++)
		for (size_t i = 0; i < b->groups[g].n_instances; i++) {
			const struct conf_instance *ni = &b->groups[g].instances[i];
			const char *ogroup = NULL;
			const struct conf_instance *oi = find_instance(a, ni->name,
			    &ogroup);
			struct detail d = { buf, sizeof(buf), 0 };

			buf[0] = '\0';
			if (oi == NULL) {
				if (push(out, CONF_ADDED, CONF_OBJ_INSTANCE, ni->name,
				    NULL, NULL, NULL, ni) < 0)
					return -1;
				continue;
			}
			add_s(&d, "group", ogroup, b->groups[g].name);
			add_s(&d, "interface", oi->interface, ni->interface);
			add_u(&d, "vrid", oi->vrid, ni->vrid);
			add_u(&d, "priority", oi->priority, ni->priority);
			add_u(&d, "advert_interval_ms", oi->advert_ms, ni->advert_ms);
			add_u(&d, "version", oi->version, ni->version);
			add_u(&d, "preempt", oi->preempt, ni->preempt);
			add_u(&d, "preempt_delay_ms", oi->preempt_delay_ms,
			    ni->preempt_delay_ms);
			add_addrs(&d, "virtual-address", oi->vaddrs, oi->n_vaddrs,
			    ni->vaddrs, ni->n_vaddrs);
			add_addrs(&d, "unicast-peer", oi->unicast_peers,
			    oi->n_unicast_peers, ni->unicast_peers,
			    ni->n_unicast_peers);
			add_u(&d, "use-vmac", oi->use_vmac, ni->use_vmac);
			{
				struct conf_garp og = conf_instance_garp(
				    &a->global, oi), ng = conf_instance_garp(
				    &b->global, ni);

				add_u(&d, "garp count", og.count, ng.count);
				add_u(&d, "garp interval ms", og.interval_ms,
				    ng.interval_ms);
				add_u(&d, "garp refresh ms", og.refresh_ms,
				    ng.refresh_ms);
				add_u(&d, "garp lower-prio",
				    (unsigned)og.lower_prio,
				    (unsigned)ng.lower_prio);
			}
			/* Said, not shown (a reload's report goes to the log). */
			if ((oi->auth_pass == NULL) != (ni->auth_pass == NULL) ||
			    (oi->auth_pass != NULL &&
			    strcmp(oi->auth_pass, ni->auth_pass) != 0))
				add(&d, "auth-pass", oi->auth_pass ? "(set)" : "-",
				    ni->auth_pass == NULL ? "-" : oi->auth_pass ?
				    "(another)" : "(set)");
			add_s(&d, "notify", oi->notify, ni->notify);
			add_u(&d, "tracks", (unsigned)oi->n_tracks,
			    (unsigned)ni->n_tracks);
			for (size_t t = 0; t < oi->n_tracks &&
			    oi->n_tracks == ni->n_tracks; t++)
				if (oi->tracks[t].type != ni->tracks[t].type ||
				    strcmp(oi->tracks[t].what, ni->tracks[t].what) ||
				    oi->tracks[t].weight != ni->tracks[t].weight ||
				    oi->tracks[t].interval_ms !=
				    ni->tracks[t].interval_ms) {
					add(&d, "track", ni->tracks[t].what,
					    "changed");
					break;
				}
			if (d.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_INSTANCE,
			    ni->name, NULL, buf, oi, ni) < 0)
				return -1;
		}
	return 0;
}

static int
diff_global(const struct conf *a, const struct conf *b, struct conf_diff *out)
{
	static const struct conf_global none = {
		.workers = CONF_DEFAULT_WORKERS,
		.conn_table_size = CONF_DEFAULT_CONN_TABLE_SIZE,
		.garp = { .count = CONF_GARP_DEFAULT_COUNT,
			  .interval_ms = CONF_GARP_DEFAULT_INTERVAL_MS,
			  .lower_prio = -1 },
		.garp_rate = CONF_GARP_DEFAULT_RATE,
		.nat_log_rate = CONF_NAT_LOG_DEFAULT_RATE,
	};
	const struct conf_global *ga = a ? &a->global : &none;
	const struct conf_global *gb = b ? &b->global : &none;
	char buf[256];
	struct detail d = { buf, sizeof(buf), 0 };

	buf[0] = '\0';
	add_s(&d, "node-id", ga->node_id, gb->node_id);
	add_u(&d, "workers", ga->workers, gb->workers);
	add_s(&d, "control-socket", ga->control_socket, gb->control_socket);
	add_s(&d, "control-socket-readonly", ga->control_socket_ro,
	    gb->control_socket_ro);
	add_u(&d, "conn-table-size", ga->conn_table_size, gb->conn_table_size);
	for (int t = 0; t < CONF_TO__COUNT; t++) {
		char what[48];
		snprintf(what, sizeof(what), "timeout %s ms", conf_timeout_name(t));
		add_u(&d, what, ga->timeout_ms[t] ? ga->timeout_ms[t] :
		    conf_timeout_default_ms[t], gb->timeout_ms[t] ? gb->timeout_ms[t] :
		    conf_timeout_default_ms[t]);
	}
	if (ga->metrics != gb->metrics || (ga->metrics &&
	    (!conf_addr_equal(&ga->metrics_addr, &gb->metrics_addr) ||
	    ga->metrics_port != gb->metrics_port)))
		add(&d, "metrics", ga->metrics ? "on" : "off", gb->metrics ? "changed" : "off");
	{
		char ia[160] = "", ib[160] = "";
		for (size_t i = 0; i < ga->n_ifaces; i++)
			snprintf(ia + strlen(ia), sizeof(ia) - strlen(ia), "%s%s",
			    i ? "," : "", ga->ifaces[i]);
		for (size_t i = 0; i < gb->n_ifaces; i++)
			snprintf(ib + strlen(ib), sizeof(ib) - strlen(ib), "%s%s",
			    i ? "," : "", gb->ifaces[i]);
		add_s(&d, "interfaces", ga->n_ifaces ? ia : NULL,
		    gb->n_ifaces ? ib : NULL);
	}
	add_s(&d, "xdp-mode", conf_xdp_mode_name(ga->xdp_mode),
	    conf_xdp_mode_name(gb->xdp_mode));
	add_s(&d, "datapath", conf_datapath_name(ga->datapath),
	    conf_datapath_name(gb->datapath));
	add_s(&d, "hash-seed", ga->hash_seed, gb->hash_seed);
	add_s(&d, "script-user", conf_script_user(ga), conf_script_user(gb));
	add_u(&d, "garp count", ga->garp.count, gb->garp.count);
	add_u(&d, "garp interval ms", ga->garp.interval_ms, gb->garp.interval_ms);
	add_u(&d, "garp refresh ms", ga->garp.refresh_ms, gb->garp.refresh_ms);
	add_u(&d, "garp lower-prio", (unsigned)(ga->garp.lower_prio + 1),
	    (unsigned)(gb->garp.lower_prio + 1));
	add_u(&d, "garp rate", ga->garp_rate, gb->garp_rate);
	add_u(&d, "nat-log", ga->nat_log, gb->nat_log);
	add_u(&d, "nat-log rate", ga->nat_log_rate, gb->nat_log_rate);
	add_s(&d, "vrrp", ga->vrrp_external ? "external" : "internal",
	    gb->vrrp_external ? "external" : "internal");
	add_u(&d, "notify-timeout ms", ga->notify_timeout_ms,
	    gb->notify_timeout_ms);
	if (a != NULL && b != NULL) {
		add_u(&d, "cluster", a->cluster.present, b->cluster.present);
		add_u(&d, "cluster announce-table", a->cluster.announce_table,
		    b->cluster.announce_table);
		add_u(&d, "cluster withdraw-delay ms",
		    a->cluster.withdraw_delay_ms, b->cluster.withdraw_delay_ms);
		add_addrs(&d, "cluster snat-addresses", a->cluster.snat_own,
		    a->cluster.n_snat_own, b->cluster.snat_own,
		    b->cluster.n_snat_own);
	}
	if (d.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_GLOBAL, "global", NULL,
	    buf, ga, gb) < 0)
		return -1;

	{
		static const struct conf_sync nosync;
		const struct conf_sync *sa = a ? &a->sync : &nosync;
		const struct conf_sync *sb = b ? &b->sync : &nosync;
		struct detail sd = { buf, sizeof(buf), 0 };

		buf[0] = '\0';
		if (sa->present && !sb->present)
			return push(out, CONF_REMOVED, CONF_OBJ_SYNC, "sync", NULL,
			    NULL, sa, NULL);
		if (!sa->present && sb->present)
			return push(out, CONF_ADDED, CONF_OBJ_SYNC, "sync", NULL,
			    NULL, NULL, sb);
		if (!sa->present)
			return 0;
		add_s(&sd, "interface", sa->interface, sb->interface);
		add_addrs(&sd, "peers", sa->peers, sa->n_peers, sb->peers,
		    sb->n_peers);
		add_u(&sd, "port", sa->port, sb->port);
		add_s(&sd, "key-file", sa->key_file, sb->key_file);
		add_s(&sd, "accept-key-file", sa->accept_key_file,
		    sb->accept_key_file);
		add_u(&sd, "resync_wait_ms", sa->resync_wait_ms,
		    sb->resync_wait_ms);
		add_u(&sd, "heartbeat_interval_ms", sa->heartbeat_interval_ms,
		    sb->heartbeat_interval_ms);
		add_u(&sd, "heartbeat_timeout_ms", sa->heartbeat_timeout_ms,
		    sb->heartbeat_timeout_ms);
		add_s(&sd, "backup-interface", sa->backup_interface,
		    sb->backup_interface);
		add_addr(&sd, "backup-peer", &sa->backup_peer, &sb->backup_peer);
		if (sd.off > 0 && push(out, CONF_CHANGED, CONF_OBJ_SYNC, "sync",
		    NULL, buf, sa, sb) < 0)
			return -1;
	}
	return 0;
}

int
conf_diff(const struct conf *a, const struct conf *b, struct conf_diff *out)
{
	memset(out, 0, sizeof(*out));
	if (diff_global(a, b, out) < 0 || diff_vrrp(a, b, out) < 0 ||
	    diff_services(a, b, out) < 0) {
		conf_diff_free(out);
		return -1;
	}
	return 0;
}

void
conf_diff_free(struct conf_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int
conf_change_format(const struct conf_change *ch, char *buf, size_t len)
{
	static const char *const objs[] = {
		[CONF_OBJ_GLOBAL] = "global", [CONF_OBJ_SYNC] = "sync",
		[CONF_OBJ_GROUP] = "vrrp-group", [CONF_OBJ_INSTANCE] = "instance",
		[CONF_OBJ_SERVICE] = "service", [CONF_OBJ_BACKEND] = "backend",
	};
	static const char *const kinds[] = {
		[CONF_ADDED] = "added", [CONF_REMOVED] = "removed",
		[CONF_CHANGED] = "changed",
	};

	if (ch->object == CONF_OBJ_GLOBAL || ch->object == CONF_OBJ_SYNC) {
		if (ch->kind == CONF_CHANGED)
			return snprintf(buf, len, "%s: changed: %s", objs[ch->object],
			    ch->detail);
		return snprintf(buf, len, "%s: %s", objs[ch->object],
		    kinds[ch->kind]);
	}
	if (ch->kind == CONF_CHANGED)
		return snprintf(buf, len, "%s %s: changed: %s", objs[ch->object],
		    ch->name, ch->detail);
	return snprintf(buf, len, "%s %s: %s", objs[ch->object], ch->name,
	    kinds[ch->kind]);
}
