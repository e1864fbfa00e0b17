/*
 * Cross-object validation, run once the whole file (with its includes) has
 * been parsed: names unique, every required directive present, address
 * families consistent, VRIDs unique per link, mode-specific rules, files that
 * must be readable. Each problem is reported at the object it concerns.
 * Parts that already failed to parse (family 0, port 0) are skipped here so
 * one mistake is not reported twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_int.h"

static const char *
fam(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static bool
same_ip(const struct conf_addr *a, const struct conf_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/*
 * Duplicates: for each item, the first earlier one equal to it under `cmp`
 * (items without a key, per `has_key`, equal none), or NONE. The indexes are
 * sorted, so this is O(n log n): a scan of the earlier items per item made
 * 10,000 services take a quarter of a second to check, and one service of
 * 65,534 backends minutes. NULL when out of memory.
 */
#define NONE	SIZE_MAX

struct dup_ctx {
	const char	*base;
	size_t		 size;
	int		(*cmp)(const void *, const void *, const void *arg);
	const void	*arg;
};

static int
dup_order(const void *a, const void *b, void *ctx)
{
	const struct dup_ctx *d = ctx;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int r = d->cmp(d->base + ia * d->size, d->base + ib * d->size, d->arg);

	if (r != 0)
		return r;
	return ia < ib ? -1 : ia > ib;
}

static size_t *
first_same(const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *, const void *),
    bool (*has_key)(const void *, const void *), const void *arg)
{
	struct dup_ctx d = { base, size, cmp, arg };
	size_t *idx = malloc((n + 1) * sizeof(*idx));
	size_t *first = malloc((n + 1) * sizeof(*first));
	size_t k = 0;

	if (idx == NULL || first == NULL) {
		free(idx);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		first[i] = NONE;
		if (has_key == NULL || has_key(d.base + i * size, arg))
			idx[k++] = i;
	}
	qsort_r(idx, k, sizeof(*idx), dup_order, &d);
	/* Each run of equal items is in index order: all point at its head. */
	for (size_t i = 1, head = 0; i < k; i++) {
		const char *x = d.base + idx[i] * size;

		if (cmp(x, d.base + idx[head] * size, arg) != 0)
			head = i;
		else
			first[idx[i]] = idx[head];
	}
	free(idx);
	return first;
}

static int
addr_cmp(const struct conf_addr *a, const struct conf_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == AF_INET)
		return memcmp(&a->u.v4, &b->u.v4, sizeof(a->u.v4));
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6));
}

static int
svc_name_cmp(const void *a, const void *b, const void *arg)
{
	return strcmp(((const struct conf_service *)a)->name,
	    ((const struct conf_service *)b)->name);
}

static bool
svc_has_listen(const void *a, const void *arg)
{
	const struct conf_service *s = a;

	return s->vip.family != 0 && s->port != 0;
}

static int
svc_listen_cmp(const void *a, const void *b, const void *arg)
{
	const struct conf_service *x = a, *y = b;
	int r = addr_cmp(&x->vip, &y->vip);

	if (r != 0)
		return r;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int
be_name_cmp(const void *a, const void *b, const void *arg)
{
	return strcmp(((const struct conf_backend *)a)->name,
	    ((const struct conf_backend *)b)->name);
}

static bool
be_has_addr(const void *a, const void *arg)
{
	return ((const struct conf_backend *)a)->addr.family != 0;
}

/* Address and port; a backend without a port has the service's (arg). */
static int
be_addr_cmp(const void *a, const void *b, const void *arg)
{
	const struct conf_backend *x = a, *y = b;
	const struct conf_service *s = arg;
	unsigned px = x->port ? x->port : s->port;
	unsigned py = y->port ? y->port : s->port;
	int r = addr_cmp(&x->addr, &y->addr);

	if (r != 0)
		return r;
	return px < py ? -1 : px > py;
}

static void
validate_groups(struct conf_parser *p)
{
	struct conf *c = p->c;

	/* The data plane adds a master's addresses and answers for them;
	 * without a data interface there is none, and a master would hold
	 * its addresses nowhere while reporting MASTER. */
	if (c->n_groups > 0 && c->global.n_ifaces == 0)
		conf_err(p, &c->groups[0].loc, "vrrp-group \"%s\": no data "
		    "interface in global (\"interface NAME\"): a master "
		    "would hold its virtual addresses nowhere", c->groups[0].name);
	for (size_t g = 0; g < c->n_groups; g++) {
		struct conf_group *gr = &c->groups[g];

		for (size_t h = 0; h < g; h++)
			if (strcmp(c->groups[h].name, gr->name) == 0)
				conf_err(p, &gr->loc, "duplicate vrrp-group \"%s\" "
				    "(first at %s:%d:%d)", gr->name,
				    c->groups[h].loc.file, c->groups[h].loc.line,
				    c->groups[h].loc.col);
		if (gr->n_instances == 0)
			conf_err(p, &gr->loc, "vrrp-group \"%s\" has no instance",
			    gr->name);

		for (size_t i = 0; i < gr->n_instances; i++) {
			struct conf_instance *in = &gr->instances[i];

			/* Instance names are unique across groups: lbctl
			 * addresses them by name alone. */
			for (size_t g2 = 0; g2 <= g; g2++) {
				struct conf_group *o = &c->groups[g2];
				size_t lim = g2 == g ? i : o->n_instances;
				for (size_t j = 0; j < lim; j++)
					if (strcmp(o->instances[j].name, in->name) == 0)
						conf_err(p, &in->loc, "duplicate "
						    "instance \"%s\" (first at "
						    "%s:%d:%d)", in->name,
						    o->instances[j].loc.file,
						    o->instances[j].loc.line,
						    o->instances[j].loc.col);
			}
			if (in->incomplete)
				continue;
			if (in->interface == NULL)
				conf_err(p, &in->loc, "instance \"%s\": missing "
				    "\"interface\"", in->name);
			if (in->vrid_loc.line == 0)
				conf_err(p, &in->loc, "instance \"%s\": missing "
				    "\"vrid\" (1..255)", in->name);
			if (in->n_vaddrs == 0)
				conf_err(p, &in->loc, "instance \"%s\": missing "
				    "\"virtual-address\"", in->name);
			for (size_t a = 1; a < in->n_vaddrs; a++)
				if (in->vaddrs[a].family != in->vaddrs[0].family) {
					conf_err(p, &in->loc, "instance \"%s\": "
					    "mixes IPv4 and IPv6 virtual addresses "
					    "(VRRP runs one instance per family)",
					    in->name);
					break;
				}
			/* An owner (255) becomes master the moment it starts
			 * (RFC 5798 6.4.1), before the bulk resync from the
			 * peer that carried its connections meanwhile: every
			 * one of them would be reset. */
			if (in->priority == 255 && c->sync.present)
				conf_err(p, in->priority_loc.line ?
				    &in->priority_loc : &in->loc, "instance "
				    "\"%s\": priority 255 takes the addresses at "
				    "start, before the peer's connections are "
				    "resynced; with a sync block use 254 or lower",
				    in->name);
			if (in->auth_pass != NULL && in->version != 2)
				conf_err(p, &in->loc, "instance \"%s\": "
				    "auth-pass needs version 2 (VRRPv3 has no "
				    "authentication, RFC 5798)", in->name);
			if (in->version == 2) {
				if (in->n_vaddrs > 0 && in->vaddrs[0].family == AF_INET6)
					conf_err(p, &in->loc, "instance \"%s\": "
					    "VRRP version 2 is IPv4 only; use "
					    "version 3 for IPv6", in->name);
				/* RFC 3768 5.3.7: whole seconds, 1..255. */
				if (in->advert_ms % 1000 != 0)
					conf_err(p, &in->loc, "instance \"%s\": "
					    "VRRP version 2 advertises in whole "
					    "seconds; advert-interval must be 1s..255s",
					    in->name);
			}
			for (size_t t = 0; t < in->n_tracks; t++) {
				const struct conf_track *tr = &in->tracks[t];
				bool found = false;

				if (tr->type != CONF_TRACK_SERVICE)
					continue;
				for (size_t s = 0; s < c->n_services && !found; s++)
					found = strcmp(c->services[s].name,
					    tr->what) == 0;
				if (!found)
					conf_err(p, &tr->loc, "track-service: no "
					    "service \"%s\"", tr->what);
			}
			for (size_t u = 0; u < in->n_unicast_peers &&
			    in->n_vaddrs > 0; u++)
				if (in->unicast_peers[u].family !=
				    in->vaddrs[0].family) {
					conf_err(p, &in->loc, "instance \"%s\": "
					    "unicast-peer and virtual-address "
					    "families differ", in->name);
					break;
				}
			if (in->vrid == 0 || in->interface == NULL ||
			    in->n_vaddrs == 0)
				continue;
			/* A VRID names one virtual router per link and family. */
			for (size_t g2 = 0; g2 <= g; g2++) {
				struct conf_group *o = &c->groups[g2];
				size_t lim = g2 == g ? i : o->n_instances;
				for (size_t j = 0; j < lim; j++) {
					struct conf_instance *x = &o->instances[j];
					if (x->vrid == in->vrid && x->interface &&
					    strcmp(x->interface, in->interface) == 0 &&
					    x->n_vaddrs > 0 &&
					    x->vaddrs[0].family == in->vaddrs[0].family)
						conf_err(p, &in->vrid_loc, "vrid %u on "
						    "%s already used by instance "
						    "\"%s\" (at %s:%d:%d)", in->vrid,
						    in->interface, x->name,
						    x->loc.file, x->loc.line,
						    x->loc.col);
				}
			}
		}
	}
}

/* A sync key file: readable, of a key's length, private. */
static void
check_key(struct conf_parser *p, const char *what, const char *path,
    const struct conf_loc *loc)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		conf_err(p, loc, "%s \"%s\": cannot read: %s", what, path,
		    strerror(errno));
		return;
	}
	/* HMAC-SHA256 wants a key as long as its output; fewer than 16
	 * bytes is guessable. The whole file is the key. */
	if (fstat(fd, &st) == 0 && (st.st_size < CONF_SYNC_KEY_MIN ||
	    st.st_size > CONF_SYNC_KEY_MAX))
		conf_err(p, loc, "%s \"%s\": %lld bytes; a key is %d to %d bytes "
		    "(make one: head -c 32 /dev/urandom > FILE)", what, path,
		    (long long)st.st_size, CONF_SYNC_KEY_MIN, CONF_SYNC_KEY_MAX);
	/* Whoever can write the key decides it: refused when every user can.
	 * Whoever else can read it (or its group write it) can forge
	 * connection state into the peer: said at every check, start and
	 * reload, but accepted, so that the examples of a fresh clone (git
	 * keeps no modes) check as documented. Group read is for group lbd. */
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IWOTH))
		conf_err(p, loc, "%s \"%s\": mode %04o lets every user change "
		    "it; the key must be private (chmod 600 %s)", what, path,
		    (unsigned)(st.st_mode & 07777), path);
	else if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXO | S_IWGRP)))
		conf_warn(p, loc, "%s \"%s\": mode %04o lets other users read "
		    "or change the key and forge sync records (chmod 600 %s)",
		    what, path, (unsigned)(st.st_mode & 07777), path);
	close(fd);
}

/* A node is one of a VRRP pair or one of a cluster's active nodes: VRRP
 * would hold a VIP here while BGP draws it elsewhere, or the other way. */
static bool
in_pool(const struct conf_service *s, const struct conf_addr *a)
{
	for (size_t k = 0; k < s->n_snat_pool; k++)
		if (conf_addr_equal(&s->snat_pool[k], a))
			return true;
	return false;
}

/* snat-addresses: each in some snat service's pool, given once; each snat
 * service with one of them at least (its new connections need a port of
 * this node's own). */
static void
validate_snat_own(struct conf_parser *p)
{
	const struct conf *c = p->c;
	const struct conf_cluster *cl = &c->cluster;

	if (cl->n_snat_own == 0)
		return;
	for (size_t i = 0; i < cl->n_snat_own; i++) {
		char a[64];
		bool found = false;

		conf_addr_str(&cl->snat_own[i], false, a, sizeof(a));
		for (size_t k = 0; k < i; k++)
			if (conf_addr_equal(&cl->snat_own[k], &cl->snat_own[i]))
				conf_err(p, &cl->snat_own_locs[i], "snat-addresses: "
				    "%s given twice", a);
		for (size_t s = 0; s < c->n_services && !found; s++)
			found = c->services[s].mode == CONF_MODE_SNAT &&
			    in_pool(&c->services[s], &cl->snat_own[i]);
		if (!found)
			conf_err(p, &cl->snat_own_locs[i], "snat-addresses: %s is "
			    "in no snat service's snat-pool", a);
	}
	for (size_t s = 0; s < c->n_services; s++) {
		const struct conf_service *sv = &c->services[s];
		bool mine = false;

		if (sv->mode != CONF_MODE_SNAT || sv->n_snat_pool == 0)
			continue;
		for (size_t i = 0; i < cl->n_snat_own && !mine; i++)
			mine = in_pool(sv, &cl->snat_own[i]);
		if (!mine)
			conf_err(p, &sv->snat_loc, "service \"%s\": none of its "
			    "snat-pool addresses is in the cluster's "
			    "snat-addresses (this node's own): it would have no "
			    "port to give a new connection", sv->name);
	}
}

static void
validate_cluster(struct conf_parser *p)
{
	const struct conf *c = p->c;

	if (!c->cluster.present)
		return;
	validate_snat_own(p);
	if (c->n_groups == 0)
		return;
	conf_err(p, &c->cluster.loc, "cluster: this node is also one of a VRRP "
	    "pair (vrrp-group \"%s\" at %s:%d:%d); a node is one or the "
	    "other", c->groups[0].name, c->groups[0].loc.file,
	    c->groups[0].loc.line, c->groups[0].loc.col);
}

static void
validate_sync(struct conf_parser *p)
{
	struct conf_sync *s = &p->c->sync;

	if (!s->present || s->incomplete)
		return;
	if (s->interface == NULL)
		conf_err(p, &s->loc, "sync: missing \"interface\" (the heartbeat link)");
	if (s->n_peers == 0)
		conf_err(p, &s->loc, "sync: missing \"peer\"");
	for (size_t i = 1; i < s->n_peers; i++)
		if (s->peers[i].family != s->peers[0].family) {
			conf_err(p, &s->peer_locs[i], "sync: the peers must all "
			    "be IPv4 or all IPv6 (one heartbeat network)");
			break;
		}
	/* Several peers: a cluster's mesh. A VRRP pair has one, and a second
	 * heartbeat link names the one peer's other address. */
	if (s->n_peers > 1 && p->c->n_groups > 0)
		conf_err(p, &s->peer_locs[1], "sync: a second peer, but this node "
		    "is one of a VRRP pair (vrrp-group \"%s\"): a pair has one "
		    "sync peer; several are for a cluster's nodes",
		    p->c->groups[0].name);
	else if (s->n_peers > 1 && s->backup_interface != NULL)
		conf_err(p, &s->peer_locs[1], "sync: a second peer and a "
		    "\"backup-interface\": a second heartbeat link is for one "
		    "peer");
	if ((s->backup_interface != NULL) != s->has_backup_peer)
		conf_err(p, &s->loc, "sync: a second heartbeat link needs both "
		    "\"backup-interface\" and \"backup-peer\"");
	else if (s->has_backup_peer && s->n_peers > 0 &&
	    s->backup_peer.family != s->peers[0].family)
		conf_err(p, &s->loc, "sync: \"peer\" and \"backup-peer\" must "
		    "both be IPv4 or both IPv6");
	else if (s->backup_interface != NULL && s->interface != NULL &&
	    strcmp(s->backup_interface, s->interface) == 0)
		conf_err(p, &s->loc, "sync: \"backup-interface\" is the same "
		    "link as \"interface\" (%s)", s->interface);
	/* A single late keepalive must not look like a dead peer. */
	if (s->heartbeat_timeout_ms < 2 * s->heartbeat_interval_ms)
		conf_err(p, s->heartbeat_timeout_loc.line ?
		    &s->heartbeat_timeout_loc : &s->loc, "sync: heartbeat-timeout "
		    "%ums is less than twice heartbeat-interval (%ums)",
		    s->heartbeat_timeout_ms, s->heartbeat_interval_ms);
	if (s->key_file == NULL) {
		conf_err(p, &s->loc, "sync: missing \"key-file\" (the shared "
		    "HMAC key)");
		return;
	}
	check_key(p, "key-file", s->key_file, &s->key_loc);
	if (s->accept_key_file != NULL)
		check_key(p, "accept-key-file", s->accept_key_file,
		    &s->accept_key_loc);
}

/* Is `a` one of the addresses some VRRP instance moves? */
static bool
carried(const struct conf *c, const struct conf_addr *a)
{
	for (size_t g = 0; g < c->n_groups; g++)
		for (size_t i = 0; i < c->groups[g].n_instances; i++) {
			const struct conf_instance *in = &c->groups[g].instances[i];
			for (size_t k = 0; k < in->n_vaddrs; k++)
				if (same_ip(&in->vaddrs[k], a))
					return true;
		}
	return false;
}

static void
validate_backends(struct conf_parser *p, struct conf_service *s)
{
	char a1[64];
	size_t *fn, *fa;

	if (s->n_backends == 0 && !s->has_fallback)
		conf_warn(p, &s->loc, "service \"%s\" has no backend; it will "
		    "refuse every connection", s->name);
	if (s->has_fallback && s->fallback.addr.family != 0 && s->vip.family != 0) {
		struct conf_backend *f = &s->fallback;

		if (f->addr.family != s->vip.family)
			conf_err(p, &f->loc, "fallback \"%s\" is %s but the VIP of "
			    "service \"%s\" is %s", f->name, fam(f->addr.family),
			    s->name, fam(s->vip.family));
		if (s->mode == CONF_MODE_DSR && f->port != 0 && s->port != 0 &&
		    f->port != s->port)
			conf_err(p, &f->loc, "fallback \"%s\": dsr cannot change "
			    "the port (fallback port %u, service port %u)", f->name,
			    f->port, s->port);
		for (size_t i = 0; i < s->n_backends; i++)
			if (strcmp(s->backends[i].name, f->name) == 0)
				conf_err(p, &f->loc, "fallback \"%s\" has the name of "
				    "a backend of service \"%s\"", f->name, s->name);
	}
	fn = first_same(s->backends, s->n_backends, sizeof(*s->backends),
	    be_name_cmp, NULL, s);
	fa = first_same(s->backends, s->n_backends, sizeof(*s->backends),
	    be_addr_cmp, be_has_addr, s);
	if (fn == NULL || fa == NULL)
		conf_err(p, &s->loc, "service \"%s\": out of memory", s->name);
	for (size_t i = 0; i < s->n_backends; i++) {
		struct conf_backend *b = &s->backends[i], *o;

		if (fn != NULL && fn[i] != NONE) {
			o = &s->backends[fn[i]];
			conf_err(p, &b->loc, "duplicate backend \"%s\" in "
			    "service \"%s\" (first at %s:%d:%d)", b->name,
			    s->name, o->loc.file, o->loc.line, o->loc.col);
		} else if (fa != NULL && fa[i] != NONE) {
			o = &s->backends[fa[i]];
			conf_err(p, &b->loc, "backend \"%s\": %s port %u "
			    "is already backend \"%s\"", b->name,
			    conf_addr_str(&b->addr, false, a1, sizeof(a1)),
			    b->port ? b->port : s->port, o->name);
		}
		if (b->addr.family == 0 || s->vip.family == 0)
			continue;
		if (b->addr.family != s->vip.family)
			conf_err(p, &b->loc, "backend \"%s\" is %s but the VIP of "
			    "service \"%s\" is %s (address families must match)",
			    b->name, fam(b->addr.family), s->name,
			    fam(s->vip.family));
		/* DSR forwards the packet unchanged but for the MAC: the
		 * backend must listen on the VIP's port. */
		if (s->mode == CONF_MODE_DSR && b->port != 0 && s->port != 0 &&
		    b->port != s->port)
			conf_err(p, &b->loc, "backend \"%s\": dsr cannot change "
			    "the port (backend port %u, service port %u)", b->name,
			    b->port, s->port);
	}
	free(fn);
	free(fa);
}

/* A SNAT address is one port space per backend, whichever services use
 * it: its `ports` range must be the same in each. */
struct pool_use {
	const struct conf_addr		*addr;
	const struct conf_ports		*ports;
	const struct conf_service	*svc;
};

static int
pool_use_cmp(const void *a, const void *b)
{
	const struct pool_use *x = a, *y = b;

	if (x->addr->family != y->addr->family)
		return x->addr->family - y->addr->family;
	return memcmp(&x->addr->u, &y->addr->u, x->addr->family == AF_INET ?
	    4 : 16);
}

static void
check_pool_ports(struct conf_parser *p)
{
	struct pool_use *v;
	size_t n = 0;

	for (size_t i = 0; i < p->c->n_services; i++)
		n += p->c->services[i].n_snat_pool;
	if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	n = 0;
	for (size_t i = 0; i < p->c->n_services; i++)
		for (size_t k = 0; k < p->c->services[i].n_snat_pool; k++)
			v[n++] = (struct pool_use){ &p->c->services[i].snat_pool[k],
			    &p->c->services[i].snat_ports[k],
			    &p->c->services[i] };
	qsort(v, n, sizeof(*v), pool_use_cmp);
	for (size_t i = 1; i < n; i++) {
		char a[INET6_ADDRSTRLEN + 4];

		if (pool_use_cmp(&v[i - 1], &v[i]) != 0 ||
		    (v[i - 1].ports->lo == v[i].ports->lo &&
		    v[i - 1].ports->hi == v[i].ports->hi))
			continue;
		conf_err(p, &v[i].svc->snat_loc, "service \"%s\": snat-pool %s "
		    "has other ports than in service \"%s\" (an address's "
		    "ports are one range for every service that uses it)",
		    v[i].svc->name, conf_addr_str(v[i].addr, false, a,
		    sizeof(a)), v[i - 1].svc->name);
	}
	free(v);
}

/* The engine keeps a connection list per distinct per-service UDP timeout
 * (lbd/engine/ct.h CT_UDP_SVC_MAX). */
#define UDP_TIMEOUTS_MAX	4

static void
check_udp_timeouts(struct conf_parser *p)
{
	uint32_t seen[UDP_TIMEOUTS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < p->c->n_services; i++) {
		const struct conf_service *s = &p->c->services[i];
		size_t k;

		if (s->udp_timeout_ms == 0)
			continue;
		for (k = 0; k < n && seen[k] != s->udp_timeout_ms; k++)
			;
		if (k < n)
			continue;
		if (n == UDP_TIMEOUTS_MAX) {
			conf_err(p, &s->udp_timeout_loc, "service \"%s\": a fifth "
			    "distinct timeout udp; services may have at most %d "
			    "different ones", s->name, UDP_TIMEOUTS_MAX);
			return;
		}
		seen[n++] = s->udp_timeout_ms;
	}
}

/* quorum, backup and slow-start together make sense only in some shapes. */
static void
check_admission(struct conf_parser *p, const struct conf_service *s)
{
	size_t backups = 0;

	for (size_t i = 0; i < s->n_backends; i++)
		backups += s->backends[i].backup;
	if (s->quorum != 0 && backups == 0)
		conf_err(p, &s->quorum_loc, "service \"%s\": quorum without a "
		    "backend marked backup (quorum says how many primaries "
		    "keep the backups out)", s->name);
	else if (s->quorum > s->n_backends - backups && backups > 0)
		conf_warn(p, &s->quorum_loc, "service \"%s\": quorum %u is more "
		    "than its %zu primary backends; the backups always take "
		    "connections", s->name, s->quorum, s->n_backends - backups);
	for (size_t i = 0; i < s->n_allow && s->vip.family != 0; i++)
		if (s->allow[i].family != s->vip.family) {
			char a[INET6_ADDRSTRLEN + 4];

			conf_err(p, &s->allow_loc, "service \"%s\": allow %s is "
			    "%s but the VIP is %s", s->name,
			    conf_addr_str(&s->allow[i], true, a, sizeof(a)),
			    s->allow[i].family == AF_INET ? "IPv4" : "IPv6",
			    s->vip.family == AF_INET ? "IPv4" : "IPv6");
			break;
		}
	if (s->one_packet && (s->proto != IPPROTO_UDP || s->mode != CONF_MODE_DSR))
		conf_err(p, &s->one_packet_loc, "service \"%s\": one-packet needs "
		    "a UDP service in mode dsr (in routed and snat the replies "
		    "come back through lbd and need the flow's entry)", s->name);
	else if (s->one_packet && s->persist_ms != 0)
		conf_err(p, &s->one_packet_loc, "service \"%s\": one-packet and "
		    "persist contradict each other", s->name);
	if (s->tunnel == CONF_TUNNEL_GUE && s->vip.family == AF_INET6)
		conf_err(p, &s->tunnel_loc, "service \"%s\": tunnel gue carries "
		    "IPv4 only (over IPv6 a GUE packet needs a UDP checksum the "
		    "kernel's segmentation does not give it); use tunnel ipip, "
		    "which is ip6ip6 here", s->name);
	if (s->tunnel_src.family != 0 && s->vip.family != 0 &&
	    s->tunnel_src.family != s->vip.family)
		conf_err(p, &s->tunnel_loc, "service \"%s\": tunnel source is "
		    "%s but the VIP is %s", s->name,
		    s->tunnel_src.family == AF_INET ? "IPv4" : "IPv6",
		    s->vip.family == AF_INET ? "IPv4" : "IPv6");
	if (s->udp_timeout_ms != 0 && s->proto != IPPROTO_UDP)
		conf_err(p, &s->udp_timeout_loc, "service \"%s\": timeout udp in "
		    "a TCP service", s->name);
	if (s->persist_plen > (s->vip.family == AF_INET ? 32 : 128))
		conf_err(p, &s->persist_loc, "service \"%s\": persist netmask "
		    "/%u is longer than an IPv4 address", s->name,
		    s->persist_plen);
	if (s->slow_start_ms != 0 && (s->sched == CONF_SCHED_RR ||
	    s->sched == CONF_SCHED_LC))
		conf_err(p, &s->slow_start_loc, "service \"%s\": slow-start "
		    "ramps a backend's weight, and scheduler %s ignores weights "
		    "(use wrr, wlc, sh or maglev)", s->name,
		    conf_sched_name(s->sched));
}

static void
validate_services(struct conf_parser *p)
{
	struct conf *c = p->c;
	char a1[64];

	size_t *fn = first_same(c->services, c->n_services,
	    sizeof(*c->services), svc_name_cmp, NULL, NULL);
	size_t *fl = first_same(c->services, c->n_services,
	    sizeof(*c->services), svc_listen_cmp, svc_has_listen, NULL);

	if ((fn == NULL || fl == NULL) && c->n_services > 0)
		conf_err(p, &c->services[0].loc, "out of memory");
	check_udp_timeouts(p);
	check_pool_ports(p);
	if (c->n_services > CONF_SERVICES_MAX) {
		struct conf_service *s = &c->services[CONF_SERVICES_MAX];

		conf_err(p, &s->loc, "service \"%s\": more than %d services",
		    s->name, CONF_SERVICES_MAX);
	}
	for (size_t i = 0, all = 0; i < c->n_services; i++) {
		struct conf_service *s = &c->services[i];

		if (all + s->n_backends > CONF_ALL_BACKENDS_MAX) {
			struct conf_backend *b =
			    &s->backends[CONF_ALL_BACKENDS_MAX - all];

			conf_err(p, &b->loc, "backend \"%s\": more than %d "
			    "backends in all services", b->name,
			    CONF_ALL_BACKENDS_MAX);
			break;
		}
		all += s->n_backends;
	}
	for (size_t i = 0; i < c->n_services; i++) {
		struct conf_service *s = &c->services[i], *o;

		if (fn != NULL && fn[i] != NONE) {
			o = &c->services[fn[i]];
			conf_err(p, &s->loc, "duplicate service \"%s\" "
			    "(first at %s:%d:%d)", s->name, o->loc.file,
			    o->loc.line, o->loc.col);
		} else if (fl != NULL && fl[i] != NONE) {
			o = &c->services[fl[i]];
			conf_err(p, &s->listen_loc, "service \"%s\": %s %s "
			    "%u is already service \"%s\"", s->name,
			    conf_addr_str(&s->vip, false, a1, sizeof(a1)),
			    conf_proto_name(s->proto), s->port, o->name);
		}
		if (s->incomplete)
			continue;
		if (s->listen_loc.line == 0)
			conf_err(p, &s->loc, "service \"%s\": missing \"listen "
			    "ADDRESS tcp|udp PORT\"", s->name);

		/* snat-pool is required by snat mode and meaningless elsewhere. */
		if (s->mode == CONF_MODE_SNAT && s->n_snat_pool == 0)
			conf_err(p, s->mode_loc.line ? &s->mode_loc : &s->loc,
			    "service \"%s\": mode snat needs a \"snat-pool\"",
			    s->name);
		if (s->mode != CONF_MODE_SNAT && s->n_snat_pool > 0)
			conf_err(p, &s->snat_loc, "service \"%s\": snat-pool is "
			    "only used in mode snat (mode is %s)", s->name,
			    conf_mode_name(s->mode));
		if (s->n_snat_pool > CONF_SNAT_POOL_MAX)
			conf_err(p, &s->snat_loc, "service \"%s\": snat-pool has %zu "
			    "addresses, at most %d", s->name, s->n_snat_pool,
			    CONF_SNAT_POOL_MAX);
		if (s->n_backends > CONF_BACKENDS_MAX)
			conf_err(p, &s->loc, "service \"%s\": %zu backends, at most "
			    "%d", s->name, s->n_backends, CONF_BACKENDS_MAX);
		for (size_t k = 0; k < s->n_snat_pool && s->vip.family; k++)
			if (s->snat_pool[k].family != s->vip.family)
				conf_err(p, &s->snat_loc, "service \"%s\": snat-pool "
				    "address %s is %s but the VIP is %s", s->name,
				    conf_addr_str(&s->snat_pool[k], false, a1,
				    sizeof(a1)), fam(s->snat_pool[k].family),
				    fam(s->vip.family));

		check_admission(p, s);
		if (s->stateless && s->sched != CONF_SCHED_SH &&
		    s->sched != CONF_SCHED_MAGLEV)
			conf_err(p, &s->stateless_loc, "service \"%s\": stateless "
			    "needs scheduler sh or maglev (scheduler is %s)",
			    s->name, conf_sched_name(s->sched));
		if (s->check.type != CONF_CHECK_NONE) {
			struct conf_check *ck = &s->check;
			if (ck->timeout_ms > ck->interval_ms)
				conf_err(p, &ck->loc, "check: timeout %ums is longer "
				    "than interval %ums", ck->timeout_ms,
				    ck->interval_ms);
			if (ck->type == CONF_CHECK_SCRIPT && ck->command == NULL)
				conf_err(p, &ck->loc, "check script: missing "
				    "\"command\"");
			bool http = ck->type == CONF_CHECK_HTTP ||
			    ck->type == CONF_CHECK_HTTPS;
			bool tcp = ck->type == CONF_CHECK_TCP;
			bool dns = ck->type == CONF_CHECK_DNS;
			if (dns && ck->query == NULL)
				conf_err(p, &ck->loc, "check dns: missing \"query\"");
			if (!dns && (ck->query || ck->qtype))
				conf_err(p, &ck->loc, "check %s: query and type are "
				    "for dns checks", conf_check_name(ck->type));
			if (dns && ck->expect) {
				struct conf_addr ea;

				if (conf_parse_addr(ck->expect, false, &ea) &&
				    (ea.family == AF_INET) != (ck->qtype != 28))
					conf_err(p, &ck->loc, "check dns: expect %s "
					    "is not an answer to type %s",
					    ck->expect, ck->qtype == 28 ? "AAAA" :
					    "A");
			}
			if (!http && (ck->body || ck->method || ck->path ||
			    (ck->expect && !tcp && !dns)))
				conf_err(p, &ck->loc, "check %s: path, %sbody and "
				    "method are for http and https checks",
				    conf_check_name(ck->type), tcp ? "" : "expect, ");
			if (ck->type != CONF_CHECK_UDP && ck->receive)
				conf_err(p, &ck->loc, "check %s: receive is for udp "
				    "checks%s", conf_check_name(ck->type),
				    tcp ? " (a tcp check says expect)" : "");
			if (ck->type != CONF_CHECK_UDP && !tcp && ck->send)
				conf_err(p, &ck->loc, "check %s: send is for udp and "
				    "tcp checks", conf_check_name(ck->type));

			if (ck->type != CONF_CHECK_HTTPS && ck->type != CONF_CHECK_TLS &&
			    (ck->verify || ck->ca_file))
				conf_err(p, &ck->loc, "check %s: verify and ca-file "
				    "are for https and tls checks",
				    conf_check_name(ck->type));
			if (ck->type != CONF_CHECK_SCRIPT && ck->command)
				conf_err(p, &ck->loc, "check %s: command is for "
				    "script checks", conf_check_name(ck->type));
			if (ck->observe && s->proto != IPPROTO_TCP)
				conf_err(p, &ck->loc, "check: observe watches TCP "
				    "connections (refused, unanswered); service "
				    "\"%s\" is UDP", s->name);
			if (ck->jitter_ms * 2 > ck->interval_ms)
				conf_err(p, &ck->loc, "check: jitter %ums is more than "
				    "half the interval %ums", ck->jitter_ms,
				    ck->interval_ms);
			if (ck->type == CONF_CHECK_SCRIPT && ck->has_source)
				conf_err(p, &ck->loc, "check script: source is for "
				    "checks that open connections");
			for (size_t k = 0; ck->has_source && k < s->n_backends; k++)
				if (s->backends[k].addr.family != 0 &&
				    s->backends[k].addr.family != ck->source.family) {
					conf_err(p, &ck->loc, "check: source %s is %s "
					    "but backend \"%s\" is %s", conf_addr_str(
					    &ck->source, false, a1, sizeof(a1)),
					    fam(ck->source.family), s->backends[k].name,
					    fam(s->backends[k].addr.family));
					break;
				}
			if (ck->type == CONF_CHECK_AGENT && ck->port == 0)
				conf_err(p, &ck->loc, "check agent: missing "
				    "\"port\" (the agent's port on the backend)");
		}
		validate_backends(p, s);

		if (c->n_groups > 0 && s->vip.family != 0 && !carried(c, &s->vip))
			conf_warn(p, &s->listen_loc, "service \"%s\": VIP %s is not "
			    "carried by any VRRP instance; this node serves it "
			    "alone (single-node use)", s->name,
			    conf_addr_str(&s->vip, false, a1, sizeof(a1)));
		for (size_t k = 0; c->n_groups > 0 && k < s->n_snat_pool; k++)
			if (!carried(c, &s->snat_pool[k]))
				conf_warn(p, &s->snat_loc, "service \"%s\": snat-pool "
				    "address %s is not carried by any VRRP instance; "
				    "replies will not follow a failover", s->name,
				    conf_addr_str(&s->snat_pool[k], false, a1,
				    sizeof(a1)));
	}
	free(fn);
	free(fl);
}

/* Fill in what defaults depend on other directives. */
static void
complete(struct conf_parser *p)
{
	for (size_t i = 0; i < p->c->n_services; i++) {
		struct conf_service *s = &p->c->services[i];
		struct conf_check *ck = &s->check;

		/* A backend without a port listens on the service's port. */
		for (size_t k = 0; k < s->n_backends; k++)
			if (s->backends[k].port == 0)
				s->backends[k].port = s->port;
		if (s->has_fallback && s->fallback.port == 0)
			s->fallback.port = s->port;
		if (ck->type == CONF_CHECK_HTTP || ck->type == CONF_CHECK_HTTPS) {
			if (ck->path == NULL)
				ck->path = strdup("/");
			if (ck->expect == NULL)
				ck->expect = strdup("200-399");
		}
	}
}

/* Without a data interface lbd checks health and runs VRRP but forwards
 * nothing: legal (a control-plane-only node), never what a first config
 * means. Said once, not per service, and only of a config that is
 * otherwise good (a refused one has better things to say). */
static void
validate_serving(struct conf_parser *p)
{
	const struct conf *c = p->c;

	if (c->n_services == 0 || c->global.n_ifaces > 0 ||
	    p->diags->n_errors > 0)
		return;
	if (c->n_services == 1)
		conf_warn(p, &c->services[0].loc, "service \"%s\": no data "
		    "interface serves it (no \"interface NAME\" in global); lbd "
		    "will check its backends but forward nothing",
		    c->services[0].name);
	else
		conf_warn(p, &c->services[0].loc, "services \"%s\" and %zu "
		    "more: no data interface serves them (no \"interface "
		    "NAME\" in global); lbd will check their backends but "
		    "forward nothing", c->services[0].name, c->n_services - 1);
}

void
conf_validate(struct conf_parser *p)
{
	validate_groups(p);
	validate_sync(p);
	validate_cluster(p);
	validate_services(p);
	validate_serving(p);
	complete(p);
}
