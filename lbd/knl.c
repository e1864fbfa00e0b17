#include <linux/if.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "lib/addr.h"
#include "lbd/knl.h"
#include "lib/log.h"

#define KNL_RCVBUF	(8 << 20)
/* The states in which an entry has a MAC to use (the kernel's NUD_VALID). */
#define KNL_NUD_VALID	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | \
			 NUD_PERMANENT | NUD_NOARP)

struct knl {
	struct ev_loop		*loop;
	struct knl_cb		 cb;
	struct nl_sock		*req;		/* requests */
	struct nl_cache_mngr	*mngr;		/* owns the caches */
	struct nl_cache		*links, *routes, *neighs, *addrs;
	bool			 routes_stale;	/* a route was deleted */
	/* Route and address changes are reported once per read of the
	 * socket, not once per object: taking 10,000 VIPs brings 20,000
	 * notifications, and each report rewrites tables. */
	bool			 routes_changed, addrs_changed;
	ev_io			 io;
};

static uint8_t
fam(int af)
{
	return af == AF_INET ? 4 : 6;
}

static bool
addr16(const struct nl_addr *a, uint8_t out[16])
{
	unsigned len;

	memset(out, 0, 16);
	if (a == NULL)
		return false;
	len = nl_addr_get_len(a);
	if (len != 4 && len != 16)
		return false;
	memcpy(out, nl_addr_get_binary_addr(a), len);
	return true;
}

static struct nl_addr *
mk_addr(uint8_t family, const uint8_t *a, uint8_t plen)
{
	struct nl_addr *x = nl_addr_build(family == 4 ? AF_INET : AF_INET6, a,
	    addr_len(family));

	if (x != NULL)
		nl_addr_set_prefixlen(x, plen);
	return x;
}

static void
neigh_report(knl_neigh_fn fn, void *arg, struct rtnl_neigh *ne)
{
	int st = rtnl_neigh_get_state(ne), af = rtnl_neigh_get_family(ne);
	struct nl_addr *ll = rtnl_neigh_get_lladdr(ne);
	uint8_t a[16];

	if ((af != AF_INET && af != AF_INET6) || ll == NULL ||
	    nl_addr_get_len(ll) != 6 || !addr16(rtnl_neigh_get_dst(ne), a))
		return;
	if (!(st & KNL_NUD_VALID))
		return;
	fn(arg, fam(af), a, rtnl_neigh_get_ifindex(ne),
	    nl_addr_get_binary_addr(ll));
}

static void
change_cb(struct nl_cache *c, struct nl_object *o, int action, void *arg)
{
	struct knl *n = arg;

	if (c == n->links && n->cb.link != NULL)
		n->cb.link(n->cb.arg, rtnl_link_get_ifindex((struct rtnl_link *)o));
	else if (c == n->routes && action == NL_ACT_DEL)
		n->routes_stale = true;		/* io_cb reads them again */
	else if (c == n->routes)
		n->routes_changed = true;
	else if (c == n->addrs)
		n->addrs_changed = true;
	else if (c == n->neighs && n->cb.neigh != NULL && action != NL_ACT_DEL)
		neigh_report(n->cb.neigh, n->cb.arg, (struct rtnl_neigh *)o);
}

static void
link_one(struct nl_object *o, void *arg)
{
	struct knl *n = arg;

	n->cb.link(n->cb.arg, rtnl_link_get_ifindex((struct rtnl_link *)o));
}

static void
neigh_again(struct nl_object *o, void *arg)
{
	struct knl *n = arg;

	neigh_report(n->cb.neigh, n->cb.arg, (struct rtnl_neigh *)o);
}

/* Notifications were lost (the socket overflowed): read every table again
 * and report it all as changed. */
static void
resync(struct knl *n)
{
	struct nl_cache *all[] = { n->links, n->routes, n->addrs, n->neighs };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (nl_cache_refill(n->req, all[i]) < 0)
			log_warnx("netlink: cannot read the kernel's tables again");
	n->routes_changed = n->addrs_changed = true;
	if (n->cb.link != NULL)
		nl_cache_foreach(n->links, link_one, n);
	if (n->cb.neigh != NULL)
		nl_cache_foreach(n->neighs, neigh_again, n);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct knl *n = w->data;
	int rc = nl_cache_mngr_data_ready(n->mngr);

	if (rc < 0) {
		log_warnx("netlink: %s; reading the kernel's tables again",
		    nl_geterror(rc));
		resync(n);
	}
	/*
	 * libnl tells routes apart by destination, table, TOS and metric, not
	 * by device: the kernel's 10.0.0.0/24 on eth1 and on a macvlan of it
	 * (every VRRP address brings its connected route) are one object in
	 * the cache. When one of them goes, the cache loses the prefix the
	 * other still routes; a fresh dump after any deletion puts it back.
	 */
	if (n->routes_stale) {
		n->routes_stale = false;
		if (nl_cache_refill(n->req, n->routes) < 0)
			log_warnx("netlink: cannot read the routes again");
		n->routes_changed = true;
	}
	if (n->routes_changed && n->cb.route != NULL)
		n->cb.route(n->cb.arg);
	if (n->addrs_changed && n->cb.addr != NULL)
		n->cb.addr(n->cb.arg);
	n->routes_changed = n->addrs_changed = false;
}

struct knl *
knl_open(struct ev_loop *loop, const struct knl_cb *cb, char *err, size_t errlen)
{
	struct knl *n = calloc(1, sizeof(*n));
	int rc;

	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->loop = loop;
	n->cb = *cb;
	if ((n->req = nl_socket_alloc()) == NULL ||
	    (rc = nl_connect(n->req, NETLINK_ROUTE)) < 0) {
		snprintf(err, errlen, "netlink: cannot connect");
		knl_close(n);
		return NULL;
	}
	if ((rc = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE,
	    &n->mngr)) < 0 ||
	    (rc = nl_cache_mngr_add(n->mngr, "route/link", change_cb, n,
	    &n->links)) < 0 ||
	    (rc = nl_cache_mngr_add(n->mngr, "route/route", change_cb, n,
	    &n->routes)) < 0 ||
	    (rc = nl_cache_mngr_add(n->mngr, "route/neigh", change_cb, n,
	    &n->neighs)) < 0 ||
	    (rc = nl_cache_mngr_add(n->mngr, "route/addr", change_cb, n,
	    &n->addrs)) < 0) {
		snprintf(err, errlen, "netlink caches: %s", nl_geterror(rc));
		knl_close(n);
		return NULL;
	}
	/* Room for the burst of notifications a big reload causes (about
	 * 200 bytes per address and per route); overflowing costs a resync. */
	{
		int fd = nl_cache_mngr_get_fd(n->mngr), sz = KNL_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	ev_io_init(&n->io, io_cb, nl_cache_mngr_get_fd(n->mngr), EV_READ);
	n->io.data = n;
	ev_io_start(loop, &n->io);
	return n;
}

void
knl_close(struct knl *n)
{
	if (n == NULL)
		return;
	if (n->mngr != NULL) {
		ev_io_stop(n->loop, &n->io);
		nl_cache_mngr_free(n->mngr);
	}
	if (n->req != NULL)
		nl_socket_free(n->req);
	free(n);
}

static int
link_info(struct rtnl_link *l, struct knl_link_info *out)
{
	struct nl_addr *mac;

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(l));
	if ((mac = rtnl_link_get_addr(l)) != NULL && nl_addr_get_len(mac) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(mac), 6);
	out->mtu = rtnl_link_get_mtu(l);
	out->up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
	out->carrier = (rtnl_link_get_flags(l) & IFF_LOWER_UP) != 0;
	rtnl_link_put(l);
	return 0;
}

int
knl_link_by_name(struct knl *n, const char *name, struct knl_link_info *out)
{
	struct rtnl_link *l = rtnl_link_get_by_name(n->links, name);

	return l == NULL ? -1 : link_info(l, out);
}

int
knl_link_by_index(struct knl *n, int ifindex, struct knl_link_info *out)
{
	struct rtnl_link *l = rtnl_link_get(n->links, ifindex);

	return l == NULL ? -1 : link_info(l, out);
}

struct each {
	void	*fn;
	void	*arg;
};

static void
route_one(struct nl_object *o, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct each *e = arg;
	struct rtnl_nexthop *nh;
	uint8_t pfx[16], gw[16];
	int af = rtnl_route_get_family(r);

	if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST ||
	    (af != AF_INET && af != AF_INET6) ||
	    rtnl_route_get_nnexthops(r) < 1 ||
	    (nh = rtnl_route_nexthop_n(r, 0)) == NULL)
		return;
	addr16(rtnl_route_get_dst(r), pfx);
	bool has_gw = addr16(rtnl_route_nh_get_gateway(nh), gw);
	((knl_route_fn)e->fn)(e->arg, fam(af), pfx,
	    (uint8_t)nl_addr_get_prefixlen(rtnl_route_get_dst(r)),
	    rtnl_route_nh_get_ifindex(nh), has_gw, gw);
}

void
knl_routes_each(struct knl *n, knl_route_fn fn, void *arg)
{
	struct each e = { (void *)fn, arg };

	nl_cache_foreach(n->routes, route_one, &e);
}

struct announced_each {
	uint32_t		 table;
	knl_announced_fn	 fn;
	void			*arg;
};

static void
announced_one(struct nl_object *o, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct announced_each *e = arg;
	int af = rtnl_route_get_family(r);
	uint8_t pfx[16];

	if (rtnl_route_get_table(r) != e->table ||
	    rtnl_route_get_protocol(r) != KNL_RTPROT_LBD ||
	    (af != AF_INET && af != AF_INET6))
		return;
	addr16(rtnl_route_get_dst(r), pfx);
	e->fn(e->arg, fam(af), pfx,
	    (uint8_t)nl_addr_get_prefixlen(rtnl_route_get_dst(r)),
	    rtnl_route_get_priority(r));
}

void
knl_announced_each(struct knl *n, uint32_t table, knl_announced_fn fn,
    void *arg)
{
	struct announced_each e = { table, fn, arg };

	nl_cache_foreach(n->routes, announced_one, &e);
}

int
knl_announce(struct knl *n, uint32_t table, uint8_t family,
    const uint8_t addr[16], uint8_t plen, uint32_t metric, bool add)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct nl_addr *dst = mk_addr(family, addr, plen);
	int rc = -NLE_NOMEM;

	if (r != NULL && dst != NULL) {
		rtnl_route_set_family(r, family == 4 ? AF_INET : AF_INET6);
		rtnl_route_set_dst(r, dst);
		rtnl_route_set_table(r, table);
		rtnl_route_set_protocol(r, KNL_RTPROT_LBD);
		rtnl_route_set_type(r, RTN_BLACKHOLE);
		rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
		rtnl_route_set_priority(r, metric);
		rc = add ? rtnl_route_add(n->req, r, NLM_F_REPLACE) :
		    rtnl_route_delete(n->req, r, 0);
	}
	nl_addr_put(dst);
	rtnl_route_put(r);
	if (!add && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NOADDR))
		return 0;		/* gone already */
	if (rc < 0) {
		char s[64];

		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, s, sizeof(s));
		log_warnx("%s route %s/%u in table %u: %s", add ? "announce" :
		    "withdraw", s, plen, table, nl_geterror(rc));
		return -1;
	}
	return 0;
}

static void
neigh_one(struct nl_object *o, void *arg)
{
	struct each *e = arg;

	neigh_report((knl_neigh_fn)e->fn, e->arg, (struct rtnl_neigh *)o);
}

void
knl_neigh_each(struct knl *n, knl_neigh_fn fn, void *arg)
{
	struct each e = { (void *)fn, arg };

	nl_cache_foreach(n->neighs, neigh_one, &e);
}

static void
link_each_one(struct nl_object *o, void *arg)
{
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct each *e = arg;
	const char *name = rtnl_link_get_name(l);

	((knl_link_fn)e->fn)(e->arg, rtnl_link_get_ifindex(l), name ? name : "",
	    rtnl_link_get_link(l));
}

void
knl_links_each(struct knl *n, knl_link_fn fn, void *arg)
{
	struct each e = { (void *)fn, arg };

	nl_cache_foreach(n->links, link_each_one, &e);
}

static void
addr_one(struct nl_object *o, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct each *e = arg;
	uint8_t x[16];
	int af = rtnl_addr_get_family(a);

	if ((af != AF_INET && af != AF_INET6) || !addr16(rtnl_addr_get_local(a), x))
		return;
	((knl_addr_fn)e->fn)(e->arg, fam(af), x, rtnl_addr_get_ifindex(a));
}

void
knl_addrs_each(struct knl *n, knl_addr_fn fn, void *arg)
{
	struct each e = { (void *)fn, arg };

	nl_cache_foreach(n->addrs, addr_one, &e);
}

/* The kernel's entry for addr on ifindex has a MAC (or needs none). */
static bool
neigh_valid(struct knl *n, int ifindex, struct nl_addr *a)
{
	struct rtnl_neigh *ne = rtnl_neigh_get(n->neighs, ifindex, a);
	bool valid = ne != NULL && (rtnl_neigh_get_state(ne) & KNL_NUD_VALID);

	rtnl_neigh_put(ne);
	return valid;
}

int
knl_resolve(struct knl *n, uint8_t family, const uint8_t addr[16], int ifindex,
    bool again)
{
	struct rtnl_neigh *ne = rtnl_neigh_alloc();
	struct nl_addr *a = mk_addr(family, addr, family == 4 ? 32 : 128);
	int rc = -1;

	if (ne != NULL && a != NULL) {
		rtnl_neigh_set_ifindex(ne, ifindex);
		rtnl_neigh_set_dst(ne, a);
		rtnl_neigh_set_family(ne, family == 4 ? AF_INET : AF_INET6);
		/* NTF_USE does not hurry an INCOMPLETE entry: its first
		 * probe lost (a switch port not forwarding yet after a link
		 * came up), the next goes out a second later while frames
		 * wait. A new entry probes at once. */
		if (again && !neigh_valid(n, ifindex, a))
			(void)rtnl_neigh_delete(n->req, ne, 0);
		/* NTF_USE: "as if a packet needed it" — starts ARP/ND
		 * without changing an entry that exists. */
		rtnl_neigh_set_flags(ne, NTF_USE);
		rc = rtnl_neigh_add(n->req, ne, NLM_F_CREATE | NLM_F_REPLACE);
	}
	nl_addr_put(a);
	rtnl_neigh_put(ne);
	return rc < 0 ? -1 : 0;
}

static int
addr_op(struct knl *n, int ifindex, uint8_t family, const uint8_t addr[16],
    uint8_t plen, bool add)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *a = mk_addr(family, addr, plen);
	int rc = -1;

	if (ra != NULL && a != NULL) {
		rtnl_addr_set_ifindex(ra, ifindex);
		rtnl_addr_set_family(ra, family == 4 ? AF_INET : AF_INET6);
		rtnl_addr_set_local(ra, a);
		rtnl_addr_set_prefixlen(ra, plen);
		/* A floating address moves in well under DAD's second. */
		if (family == 6)
			rtnl_addr_set_flags(ra, IFA_F_NODAD);
		rc = add ? rtnl_addr_add(n->req, ra, NLM_F_EXCL) :
		    rtnl_addr_delete(n->req, ra, 0);
	}
	nl_addr_put(a);
	rtnl_addr_put(ra);
	if (add && rc == -NLE_EXIST)
		return 1;
	/* Gone already: a link set down takes its IPv6 addresses along. */
	if (!add && (rc == -NLE_NOADDR || rc == -NLE_OBJ_NOTFOUND))
		return 0;
	if (rc < 0) {
		char s[64];
		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, s, sizeof(s));
		log_warnx("%s address %s/%u on ifindex %d: %s", add ? "add" : "remove",
		    s, plen, ifindex, nl_geterror(rc));
		return -1;
	}
	return 0;
}

int
knl_addr_add(struct knl *n, int ifindex, uint8_t family, const uint8_t addr[16],
    uint8_t plen)
{
	return addr_op(n, ifindex, family, addr, plen, true);
}

int
knl_addr_del(struct knl *n, int ifindex, uint8_t family, const uint8_t addr[16],
    uint8_t plen)
{
	return addr_op(n, ifindex, family, addr, plen, false);
}

static void	sysctl_dev(const char *, const char *, const char *);

int
knl_macvlan_add(struct knl *n, int parent, const char *name, const uint8_t mac[6],
    bool ipv6)
{
	struct rtnl_link *l, *cur = NULL;
	struct nl_addr *a;
	int rc, ifindex = -1;

	if (rtnl_link_get_kernel(n->req, 0, name, &cur) == 0) {
		ifindex = rtnl_link_get_ifindex(cur);
		rtnl_link_put(cur);
	} else {
		if ((l = rtnl_link_macvlan_alloc()) == NULL)
			return -1;
		a = nl_addr_build(AF_LLC, mac, 6);
		rtnl_link_set_link(l, parent);
		rtnl_link_set_name(l, name);
		rtnl_link_set_addr(l, a);
		rtnl_link_macvlan_set_mode(l, MACVLAN_MODE_BRIDGE);
		rc = rtnl_link_add(n->req, l, NLM_F_CREATE | NLM_F_EXCL);
		nl_addr_put(a);
		rtnl_link_put(l);
		if (rc < 0) {
			log_warnx("create macvlan %s: %s", name, nl_geterror(rc));
			return -1;
		}
		if (rtnl_link_get_kernel(n->req, 0, name, &cur) != 0)
			return -1;
		ifindex = rtnl_link_get_ifindex(cur);
		rtnl_link_put(cur);
	}
	/*
	 * Nothing but the master's own traffic from the virtual MAC: the
	 * backup has the same macvlan, and any frame from it (DAD, MLD for
	 * the all-routers groups a forwarding host joins, a router
	 * solicitation) would teach the switch that the group lives there.
	 * So no link-local address ever, IPv6 off altogether on an IPv4
	 * macvlan, and the link down while the group is not held.
	 */
	sysctl_dev(name, "addr_gen_mode", "1");
	sysctl_dev(name, "disable_ipv6", ipv6 ? "0" : "1");
	if (knl_link_set_up(n, ifindex, false) < 0)
		return -1;
	return ifindex;
}

int
knl_link_set_up(struct knl *n, int ifindex, bool up)
{
	struct rtnl_link *l = rtnl_link_alloc(), *ch = rtnl_link_alloc();
	int rc = -NLE_NOMEM;

	if (l != NULL && ch != NULL) {
		rtnl_link_set_ifindex(l, ifindex);
		if (up)
			rtnl_link_set_flags(ch, IFF_UP);
		else
			rtnl_link_unset_flags(ch, IFF_UP);
		rc = rtnl_link_change(n->req, l, ch, 0);
	}
	rtnl_link_put(l);
	rtnl_link_put(ch);
	if (rc < 0) {
		log_warnx("set ifindex %d %s: %s", ifindex, up ? "up" : "down",
		    nl_geterror(rc));
		return -1;
	}
	return 0;
}

int
knl_link_del(struct knl *n, int ifindex)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int rc;

	if (l == NULL)
		return -1;
	rtnl_link_set_ifindex(l, ifindex);
	rc = rtnl_link_delete(n->req, l);
	rtnl_link_put(l);
	return rc < 0 ? -1 : 0;
}

int
knl_tc_filters(struct knl *n, int ifindex)
{
	const uint32_t parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	int total = 0;

	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		struct nl_cache *c;

		if (rtnl_cls_alloc_cache(n->req, ifindex, parents[i], &c) < 0)
			return -1;
		total += nl_cache_nitems(c);
		nl_cache_free(c);
	}
	return total;
}

static void
sysctl_dev(const char *name, const char *knob, const char *val)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", name, knob);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			log_warn("%s", path);
		close(fd);
	}
}

static int
link_up(struct knl *n, const char *name)
{
	struct rtnl_link *cur = NULL, *up;
	int rc, ifindex;

	if (rtnl_link_get_kernel(n->req, 0, name, &cur) != 0)
		return -1;
	ifindex = rtnl_link_get_ifindex(cur);
	sysctl_dev(name, "disable_ipv6", "1");
	if ((up = rtnl_link_alloc()) == NULL) {
		rtnl_link_put(cur);
		return -1;
	}
	rtnl_link_set_flags(up, IFF_UP | IFF_NOARP);
	rc = rtnl_link_change(n->req, cur, up, 0);
	rtnl_link_put(cur);
	rtnl_link_put(up);
	if (rc < 0) {
		log_warnx("bring up %s: %s", name, nl_geterror(rc));
		return -1;
	}
	return ifindex;
}

int
knl_veth_add(struct knl *n, const char *a, const char *b, uint32_t queues,
    uint32_t mtu, int *ia, int *ib)
{
	struct rtnl_link *l, *peer, *cur = NULL;
	int rc;

	if (rtnl_link_get_kernel(n->req, 0, a, &cur) == 0) {
		(void)knl_link_del(n, rtnl_link_get_ifindex(cur));
		rtnl_link_put(cur);
	}
	if ((l = rtnl_link_veth_alloc()) == NULL)
		return -1;
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, a);
	rtnl_link_set_name(peer, b);
	rtnl_link_set_num_tx_queues(l, queues);
	rtnl_link_set_num_rx_queues(l, queues);
	rtnl_link_set_num_tx_queues(peer, queues);
	rtnl_link_set_num_rx_queues(peer, queues);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_mtu(peer, mtu);
	rc = rtnl_link_add(n->req, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(l);
	if (rc < 0) {
		log_warnx("create veth %s/%s: %s", a, b, nl_geterror(rc));
		return -1;
	}
	if ((*ia = link_up(n, a)) < 0 || (*ib = link_up(n, b)) < 0)
		return -1;
	return 0;
}
