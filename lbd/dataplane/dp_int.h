/*
 * The data plane wing's private header: struct dataplane, made of one part
 * per file, each part named after what that file talks to (as relayd
 * splits its pfe into pfe.c, pfe_filter.c and pfe_route.c):
 *
 *   dataplane.c  lifecycle: start, reload, stop; who calls whom
 *   ifaces.c     the data interfaces: classifier attach, AF_XDP ports
 *   calls.c      every call into the workers, and what the workers hand
 *                back (resolve requests, connection events)
 *   kernel.c     the kernel's routes, neighbours and links (netlink)
 *   owned.c      what this node owns: floating addresses, vMAC links,
 *                the classifier's maps, the groups VRRP gave it, the
 *                classifier's dead man's switch
 *   show.c       lbctl's view: info, errors, connections
 *
 * Only the main thread touches struct dataplane; the workers see their
 * engine and ports, and hand things back through the queues in `calls`.
 */
#ifndef LBD_DATAPLANE_DP_INT_H
/*
 * The largest MTU a data interface may have. Every frame the engine
 * handles fits one 4096-byte AF_XDP frame, and on the punt pair (kernel
 * datapath) native XDP takes a frame only while it fits one page with
 * XDP's headroom (256 + 2) and the skb's shared info (320): 4096 - 258 -
 * 320 = 3518 bytes, less the Ethernet header (14). Above it the kernel
 * falls back to generic XDP, which does not carry the engine's frames.
 */
#define DP_MTU_MAX	3504

#define LBD_DATAPLANE_DP_INT_H

#include <net/if.h>
#include <pthread.h>

#include "lbd/dataplane/dataplane.h"
#include "lbd/dataplane/owner.h"
#include "lbd/dataplane/tcprog.h"
#include "lbd/dataplane/worker.h"
#include "lbd/dataplane/xdp_prog.h"
#include "lbd/dataplane/xsk_port.h"
#include "lbd/knl.h"

#define DP_MAX_MACVLANS		64
#define DP_MAX_HELD		64
#define DP_RESOLVE_QUEUE	256
#define DP_EVENT_QUEUE		16384
#define DP_FLOW_RING		65536	/* the engine's flow operations */

/* ---- ifaces.c ------------------------------------------------------- */

struct dp_if {
	char			 name[IFNAMSIZ];
	int			 ifindex;
	struct knl_link_info	 info;
	/* The XDP classifier and the AF_XDP ports: on the interface itself
	 * (`datapath userspace`), or on the far end of its punt pair, the
	 * internal veth pair the TC fast path hands the engine's frames to
	 * (`datapath kernel`). */
	struct xdp_prog		*prog;
	uint32_t		 nq;
	struct xsk_port		*ports;
	uint32_t		 n_open;
	int			 punt_near, punt_far;	/* 0: no pair */
	char			 punt_name[IFNAMSIZ];	/* the far end */
	/* Kernel data path: a transmit-only port per worker on the
	 * interface itself, so what the engine sends goes to the wire
	 * directly; a worker without one (the interface has fewer queues)
	 * sends through the punt pair. */
	struct xsk_port		*txports;
	uint32_t		 n_tx;
};

struct dp_ifaces {
	struct dp_if		 v[DP_MAX_IF];
	uint32_t		 n;
	bool			 kernel;	/* the TC fast path runs */
	char			 why[256];	/* why this data path */
	struct tcprog		*tc;
};

/* Which data path runs (p->ifs.kernel, .why), and with the kernel's, its
 * programs loaded: before the workers are made. -1 with `err` when the
 * one `datapath` asks for cannot run. */
int		dp_ifaces_choose(struct dataplane *, const struct conf *, char *err,
		    size_t errlen);
/* How many workers `c` gets: as asked; in userspace mode at most the
 * fewest receive queues of its data interfaces (each worker needs a port
 * on every one). */
uint32_t	dp_ifaces_workers(const struct dataplane *, const struct conf *c);
/* Attach the classifier and open the ports of every data interface; each
 * port goes to worker q % n. */
int		dp_ifaces_open(struct dataplane *, const struct conf *, char *err,
		    size_t errlen);
void		dp_ifaces_close(struct dataplane *);
/* The kernel data path's program on the data interfaces, last: its maps
 * (who owns what) are written by then. Until it replaces it, a killed
 * lbd's program keeps its flows and drops the rest (dead man's switch);
 * attached earlier, with empty maps, it would pass a VIP's traffic to the
 * kernel, which holds the address and answers with resets. */
int		dp_ifaces_arm(struct dataplane *, char *err, size_t errlen);
/* The engine's index of an interface (a macvlan counts as its parent),
 * or -1 when it is not a data interface. */
int		dp_if_index(const struct dataplane *, int ifindex);
/* What the engine needs to know of a link. */
void		dp_iface_desc(struct dataplane *, const struct knl_link_info *,
		    struct dp_iface *);

/* ---- calls.c --------------------------------------------------------- */

struct dp_workers {
	/* Worker i owns engine i: its receive queues are those q with
	 * q % n == i, its connections those dp_steer gives it. */
	struct dp_engine	*e[WORKER_MAX];
	struct worker		*w[WORKER_MAX];
	uint32_t		 n;
	uint32_t		 maglev_cap;	/* the engines' dp_params */
};

/* Worker -> main: connection events for ha-sync. */
struct dp_events {
	bool			 on;		/* a sync block: events flow */
	pthread_mutex_t		 mu;
	struct ct_event		*q;
	uint32_t		 n;
	uint64_t		 lost;		/* the queue was full */
	uint64_t		 lost_new;	/* lost here or in an engine's
						 * ring, not yet told to fn */
	ev_async		 async;
	dataplane_events_fn	 fn;
	void			*arg;
	uint64_t		 sync_split;	/* mirrored snat entries whose
						 * port is another worker's */
};

/* Make the engines and workers (not started), and the event queue. */
int		dp_workers_new(struct dataplane *, const struct conf *, char *err,
		    size_t errlen);
int		dp_workers_start(struct dataplane *, char *err, size_t errlen);
/* Stop every worker (all before any is freed: they share rings). */
void		dp_workers_stop(struct dataplane *);
void		dp_workers_free(struct dataplane *);
/* Tell every engine. */
void		dp_call_routes(struct dataplane *, struct dp_route *, uint32_t n);
void		dp_call_neigh(struct dataplane *, uint8_t family,
		    const uint8_t addr[16], uint16_t ifidx, const uint8_t mac[6]);
void		dp_call_iface(struct dataplane *, uint16_t idx,
		    const struct dp_iface *);
int		dp_call_add_iface(struct dataplane *, const struct dp_iface *);
/* The services of `c`, with the backends' states `st` when given, built
 * here and handed to each engine whole. */
int		dp_call_services(struct dataplane *, const struct conf *c,
		    const struct dp_backend_state *st, size_t n_st);
/* The engines' removed-but-draining backends (their union). */
uint32_t	dp_call_orphans(struct dataplane *, struct dp_orphan *out);
/* Up to `max` connections of service `svc` (-1: all) from every engine;
 * *total counts them all. */
uint32_t	dp_call_conns(struct dataplane *, int32_t svc, struct ct_entry *out,
		    uint32_t max, uint32_t *total);
/* The engines' counters added up (services, drops, table, SNAT use). */
int		dp_call_snapshot(struct dataplane *, struct dp_snapshot *,
		    struct dp_snat_use **snat, size_t *n_snat);
/* Every worker's ports' counters, and each worker's hand-off counters. */
size_t		dp_call_port_stats(struct dataplane *, struct worker_port_stats *,
		    size_t max);
void		dp_call_worker_stats(struct dataplane *, struct worker_stats *out);

/* ---- kernel.c -------------------------------------------------------- */

/* The connected routes of the data interfaces, where an address belongs
 * (dp_kernel_connected): the routes push_routes found without a gateway.
 * The kernel's route cache also holds a local route per VIP, thousands
 * with a big config; walking it per address was quadratic. */
struct dp_cover_route {
	uint8_t		family, plen;
	uint8_t		prefix[16];
	int		ifindex;
};

#define DP_ASKED_MAX	64
#define DP_REASK_MS	200

struct dp_kernel {
	struct knl		*nl;
	struct dp_cover_route	 cover[DP_MAX_ROUTES];
	uint32_t		 n_cover;
	/* Worker -> main: next hops the engines could not resolve. */
	pthread_mutex_t		 rq_mu;
	struct dp_resolve	 rq[DP_RESOLVE_QUEUE];
	uint32_t		 n_rq;
	uint64_t		 rq_lost, resolve_asked;
	ev_async		 rq_async;
	/* Next hops asked for lately (main thread): the workers ask again
	 * for every frame that waits, so an ask within DP_REASK_MS of the
	 * last is dropped, and one later starts the kernel's resolution
	 * over (its own next probe may be a second away). */
	struct dp_asked {
		uint8_t		 family;
		uint8_t		 addr[16];
		ev_tstamp	 at;
	}			 asked[DP_ASKED_MAX];
	uint32_t		 n_asked;
};

int		dp_kernel_open(struct dataplane *, char *err, size_t errlen);
void		dp_kernel_close(struct dataplane *);
/* Routes and neighbours to every engine (at start; later on change). */
void		dp_kernel_push(struct dataplane *);
/* Ask the kernel now for the MACs the first packets will need. */
void		dp_kernel_preresolve(struct dataplane *, const struct conf *);
/* The data interface whose connected route covers `addr` most narrowly,
 * or -1. */
int		dp_kernel_connected(const struct dataplane *, uint8_t family,
		    const uint8_t *addr);
/* Worker thread: queue next hops for the main thread to resolve. */
void		dp_kernel_resolve_from_worker(const struct dp_resolve *, size_t n,
		    void *dataplane);

/* ---- owned.c --------------------------------------------------------- */

struct dp_macvlan {
	int	ifindex, parent;
	bool	up;		/* only while it carries held addresses */
	char	name[IFNAMSIZ];
};

struct dp_owned {
	struct owner		*owner;
	struct dp_macvlan	 mv[DP_MAX_MACVLANS];
	uint32_t		 n_mv;
	/* With VRRP, the groups this node is master of (by name, so that a
	 * reload keeps them): only their addresses are held, and only
	 * traffic to those is taken from the kernel. The one keeper of
	 * which groups this node holds: vrrp_mgr reports, this decides. */
	char			*held[DP_MAX_HELD];
	uint32_t		 n_held;
	/* The floating addresses this node means to hold: the classifier
	 * takes their traffic from the moment they are decided, before the
	 * kernel has them. */
	struct owned_addr	*want;
	size_t			 n_want;
	struct keymap		*want_set;	/* the same, to look up */
	/* Backends a reload removed whose routed connections still drain:
	 * the classifier keeps taking their replies (dp_orphans). */
	struct dp_orphan	 orph[DP_ORPHAN_MAX];
	uint32_t		 n_orph;
	ev_timer		 orphan_timer;
	ev_timer		 alive_timer;	/* the dead man's switch */
};

/* First of all: delete the macvlans (and addresses) a killed lbd left. */
void		dp_owned_clear_stale(struct dataplane *, const struct conf *);
int		dp_owned_start(struct dataplane *, const struct conf *, char *err,
		    size_t errlen);
/* Addresses, classifier maps and GARP knobs as `c` and the held groups
 * say. */
int		dp_owned_apply(struct dataplane *, const struct conf *c);
/* Write the classifier's maps again (an address or orphan changed). */
int		dp_owned_maps(struct dataplane *, const struct conf *c);
/* A floating address this node holds now (its group's master), or a VIP
 * it always holds (no VRRP). */
bool		dp_owned_holds(const struct dataplane *, uint8_t family,
		    const uint8_t addr[16]);
/* Read the engines' orphans; true when the set changed. */
bool		dp_owned_orphans(struct dataplane *);
/* Once the workers run: take the addresses, arm the dead man's switch. */
void		dp_owned_go(struct dataplane *, const struct conf *);
/* Release every address, stop the timers (before the workers stop). */
void		dp_owned_stop(struct dataplane *);
/* Delete the macvlans (after the classifiers are detached). */
void		dp_owned_free(struct dataplane *);

/* ---- the whole ------------------------------------------------------- */

/* show.c: a SNAT address whose fullest port space passes SNAT_WARN_PCT
 * is said in the log, again at most once a minute while it stays there. */
#define SNAT_WARN_PCT		80
#define SNAT_WATCH_S		10.
#define SNAT_WATCH_MAX		64

struct dp_snat_watch {
	ev_timer		 timer;
	struct {
		char		 addr[48];
		ev_tstamp	 at;
	}			 warned[SNAT_WATCH_MAX];
	uint32_t		 n;
};

void		dp_snat_watch_start(struct dataplane *);
void		dp_snat_watch_stop(struct dataplane *);

struct dataplane {
	struct ev_loop		*loop;
	const struct conf	*conf;		/* the daemon's current one */
	struct dp_ifaces	 ifs;
	struct dp_workers	 wk;
	struct dp_events	 ev;
	struct dp_kernel	 knl;
	struct dp_owned		 own;
	struct dp_snat_watch	 snat_watch;
};

#endif /* LBD_DATAPLANE_DP_INT_H */
