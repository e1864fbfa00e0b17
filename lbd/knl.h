/*
 * knl — lbd's view of the kernel's network state through rtnetlink (libnl-3):
 * link, route and neighbour caches kept current on the main loop, with a
 * callback per change; and the few writes lbd makes — floating addresses,
 * the macvlan that carries a VRRP virtual MAC, and asking the kernel to
 * resolve a next hop.
 */
#ifndef LBD_KNL_H
#define LBD_KNL_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

struct knl;

struct knl_cb {
	void	(*link)(void *arg, int ifindex);	/* added/changed/gone */
	void	(*route)(void *arg);			/* any route change */
	void	(*addr)(void *arg);			/* any address change */
	void	(*neigh)(void *arg, uint8_t family, const uint8_t addr[16],
		    int ifindex, const uint8_t mac[6]);	/* a usable MAC */
	void	*arg;
};

struct knl_link_info {
	int		ifindex;
	char		name[16];
	uint8_t		mac[6];
	uint32_t	mtu;
	bool		up;		/* administratively */
	bool		carrier;	/* lower layer up */
};

struct knl	*knl_open(struct ev_loop *, const struct knl_cb *, char *err,
		    size_t errlen);
void		knl_close(struct knl *);

int		knl_link_by_name(struct knl *, const char *, struct knl_link_info *);
int		knl_link_by_index(struct knl *, int, struct knl_link_info *);

/* Main-table unicast routes; addresses are 16 bytes (IPv4 in the first 4). */
typedef void	(*knl_route_fn)(void *arg, uint8_t family, const uint8_t prefix[16],
		    uint8_t plen, int oif, bool has_gw, const uint8_t gw[16]);
void		knl_routes_each(struct knl *, knl_route_fn, void *);
typedef void	(*knl_neigh_fn)(void *arg, uint8_t family, const uint8_t addr[16],
		    int ifindex, const uint8_t mac[6]);
void		knl_neigh_each(struct knl *, knl_neigh_fn, void *);
/* Every link: its ifindex, name and the link it sits on (0: none). */
typedef void	(*knl_link_fn)(void *arg, int ifindex, const char *name,
		    int parent);
void		knl_links_each(struct knl *, knl_link_fn, void *);
/* Every address on every interface of this host. */
typedef void	(*knl_addr_fn)(void *arg, uint8_t family, const uint8_t addr[16],
		    int ifindex);
void		knl_addrs_each(struct knl *, knl_addr_fn, void *);

/* Ask the kernel to resolve `addr` on `ifindex` (ARP/ND); the answer
 * arrives through the neigh callback. `again`: an earlier ask is still
 * unanswered, so an entry without a MAC is started over with a probe
 * now instead of the kernel's next one (up to retrans_time, 1 s, away). */
int		knl_resolve(struct knl *, uint8_t family, const uint8_t addr[16],
		    int ifindex, bool again);

/*
 * Route health injection (cluster): blackhole routes of protocol
 * KNL_RTPROT_LBD in table `table`, which nothing routes by; the node's
 * BGP daemon exports them; `metric` (the route's priority) tells it how
 * much to prefer one. 0 done (a withdrawal of a route not there too), -1
 * error (logged). knl_announced_each: those in the table now.
 */
#define KNL_RTPROT_LBD	211
int		knl_announce(struct knl *, uint32_t table, uint8_t family,
		    const uint8_t addr[16], uint8_t plen, uint32_t metric,
		    bool add);
typedef void	(*knl_announced_fn)(void *arg, uint8_t family,
		    const uint8_t addr[16], uint8_t plen, uint32_t metric);
void		knl_announced_each(struct knl *, uint32_t table,
		    knl_announced_fn, void *);

/* 0 added, 1 was already there, -1 error (errno-style message logged). */
int		knl_addr_add(struct knl *, int ifindex, uint8_t family,
		    const uint8_t addr[16], uint8_t plen);
int		knl_addr_del(struct knl *, int ifindex, uint8_t family,
		    const uint8_t addr[16], uint8_t plen);

/* A macvlan (bridge mode) named `name` on `parent` with `mac`, down,
 * IPv6 off unless `ipv6` (and never a link-local address); its ifindex,
 * or -1. An existing link of that name is reused. */
int		knl_macvlan_add(struct knl *, int parent, const char *name,
		    const uint8_t mac[6], bool ipv6);
/* Administratively up or down. */
int		knl_link_set_up(struct knl *, int ifindex, bool up);
int		knl_link_del(struct knl *, int ifindex);
/* A veth pair `a` <-> `b` of `queues` queues each and `mtu`, up, quiet
 * (no ARP, no IPv6: nothing but what lbd sends crosses it); an existing
 * link named `a` is deleted first. The ifindexes, or -1. */
int		knl_veth_add(struct knl *, const char *a, const char *b,
		    uint32_t queues, uint32_t mtu, int *ifindex_a, int *ifindex_b);
/* TC filters on `ifindex`'s clsact, ingress and egress together; -1 if
 * the kernel cannot say. */
int		knl_tc_filters(struct knl *, int ifindex);

#endif /* LBD_KNL_H */
