/*
 * dataplane — the forwarding half of lbd on real interfaces (DESIGN.md
 * section 2): for each `interface` in global, the XDP classifier and one
 * AF_XDP port per receive queue; the engine, owned by a worker thread; the
 * kernel's routes, neighbours and links through netlink; the floating
 * addresses (owner.c). The main thread keeps it in step with the config,
 * the backends' effective states and the kernel.
 *
 * Without an `interface` there is no data plane (a control-plane-only lbd,
 * as in the tests that need no packets) and dataplane_start returns NULL
 * with an empty `err`.
 */
#ifndef LBD_DATAPLANE_DATAPLANE_H
#define LBD_DATAPLANE_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "lbd/engine/dp.h"
#include "lbd/stats.h"
#include "lib/buf.h"

struct dataplane;

/* `st`: the backends' states to start from (NULL: as configured). */
struct dataplane *dataplane_start(struct ev_loop *, const struct conf *,
		    const struct dp_backend_state *st, size_t n_st, char *err,
		    size_t errlen);
/* The main loop is about to be busy for up to `seconds` (a reload of a
 * big config): the classifier's dead man's switch must not take that for
 * a hang. The next tick of its timer shortens the grace again. */
void		dataplane_busy(struct dataplane *, double seconds);
/* A reload: services (their backends in states `st` when given),
 * classifier maps, addresses, GARP knobs. */
int		dataplane_apply(struct dataplane *, const struct conf *,
		    const struct dp_backend_state *st, size_t n_st);
/* Backends (service and backend indexes in conf order) take new
 * connections or not, with a weight; with `reset`, their connections end at
 * their next packet (dp_backends_set). One pause of the worker for all. */
void		dataplane_backends(struct dataplane *,
		    const struct dp_backend_state *, size_t n);
/*
 * VRRP: this node became master of `group` (hold) or stopped being it.
 * Takes or releases the group's addresses (with GARP/NA on taking) and
 * the classifier's share of its services. With VRRP configured nothing is
 * held until VRRP says so. Told to hold a group it holds, it announces
 * its addresses again.
 */
int		dataplane_hold_group(struct dataplane *, const char *group, bool hold);
/* Announce the addresses of `group` (held here) again: its `garp count`
 * rounds, or with `lower` its `garp lower-prio` rounds. */
void		dataplane_announce_group(struct dataplane *, const char *group,
		    bool lower);
/*
 * The kernel fast path's guard (fastpath.bpf.c, lbd_fp_guard): the map
 * lbd's VRRP thread pushes forward so that frames from virtual MACs leave
 * only while lbd lives. -1 without the kernel fast path.
 */
int		dataplane_vrrp_guard_fd(const struct dataplane *);
/* The data plane's rtnetlink handle (lbd/knl.h): lbd/announce.c writes
 * the cluster's routes through it. */
struct knl	*dataplane_knl(struct dataplane *);
/*
 * ha-sync (lbd/sync_mgr.c). With a `sync` block the worker hands the
 * engine's connection events to the loop, where `fn` gets them (without
 * one set, they are counted and dropped), with `lost`: how many events a
 * full ring or queue dropped since the last call (the peer is out of date
 * until a bulk resync). The peer's word goes into the table in batches; a
 * bulk resync reads our own entries chunk by chunk.
 */
typedef void	(*dataplane_events_fn)(void *arg, const struct ct_event *,
		    size_t n, uint64_t lost);
void		dataplane_sync_events(struct dataplane *, dataplane_events_fn,
		    void *arg);
/* Do the workers hand out connection events (decided at start: a sync
 * block or `nat-log on`)? */
bool		dataplane_events_on(const struct dataplane *);
struct dp_sync_op {
	bool		 close;		/* else an upsert */
	uint8_t		 origin;	/* the sync peer that sent it: 1 up */
	struct ct_entry	 e;
};
/* Each record to the engine that owns it; what became of each is counted
 * in `verdicts` (by enum dp_sync_verdict). */
void		dataplane_sync_apply(struct dataplane *, const struct dp_sync_op *,
		    size_t n, uint64_t verdicts[DP_SYNC__COUNT]);
/* Up to `max` of our own (not mirrored, past SYN) entries from index
 * *cursor on; with `origin` (not 0), those taken from that peer when it
 * restarted are flagged CT_F_MIRRORED (given back). *cursor moves past
 * them, to UINT32_MAX at the end. */
size_t		dataplane_sync_table(struct dataplane *, uint32_t *cursor,
		    struct ct_entry *out, size_t max, uint8_t origin);
/* A bulk from peer `origin` begins (mark its entries) or ends (sweep the
 * ones it did not renew). Returns how many were marked or swept. */
uint32_t	dataplane_sync_bulk(struct dataplane *, uint8_t origin, bool end);
/* Peer `origin` restarted: what it lost is ours now (ct_reown). */
uint32_t	dataplane_sync_reown(struct dataplane *, uint8_t origin);
/* Peer `origin` is there to vouch for its entries (they do not time out). */
void		dataplane_sync_keep(struct dataplane *, uint8_t origin, bool keep);

/* "10.0.0.1:80" or "[2001:db8::1]:80": a tuple's source (or destination). */
const char	*dataplane_tuple_str(const struct dp_tuple *, bool src, char *buf,
		    size_t len);

/* Release addresses, detach, stop the worker. */
void		dataplane_stop(struct dataplane *);

/*
 * Every counter of the data plane (lbd/stats.h names them): the engines'
 * (taken on each worker between two batches, added up), the workers',
 * the interfaces' and the SNAT addresses'.
 */
struct dp_be_snap {
	struct dp_counters	cnt;
	uint32_t		active;
	uint32_t		open;		/* not closing: max-conns counts */
};
struct dp_svc_snap {
	struct dp_counters	cnt;
	uint64_t		drops[DP_DROP__COUNT];
	uint32_t		nb;		/* backends, fallback last if any */
	uint32_t		active;
	struct dp_be_snap	*b;
};
struct dp_if_snap {
	char			 name[16];
	int			 ifindex;
	const char		*xdp_mode;
	char			 punt[16];	/* kernel: its punt pair's far end */
	int64_t			 v[SI__COUNT];
};
struct dp_snat_snap {
	char			 addr[48];
	int64_t			 v[SN__COUNT];
};
struct dp_snapshot {
	bool			 kernel;	/* the TC fast path runs */
	const char		*why;		/* why this data path */
	int64_t			 fp[SF__COUNT];	/* kernel: the fast path's */
	uint32_t		 n_svc;
	struct dp_svc_snap	*svc;
	struct dp_stats		 st;
	struct ct_stats		 ct;
	int64_t			 v[SP__COUNT];
	uint32_t		 n_workers;
	int64_t			(*worker)[SW__COUNT];
	uint32_t		 n_if;
	struct dp_if_snap	 ifs[DP_MAX_IF];
	uint32_t		 n_snat;
	struct dp_snat_snap	*snat;
};
int		dataplane_snapshot(struct dataplane *, struct dp_snapshot *);
void		dataplane_snapshot_free(struct dp_snapshot *);
/* A service's values (ST_SERVICE); backend `bi` of service `svc` (conf
 * order), or NULL. */
void		dataplane_service_stats(const struct dp_svc_snap *, int64_t *v);
const struct dp_be_snap *dataplane_backend_snap(const struct dp_snapshot *,
		    size_t svc, size_t bi);

/* `lbctl show info` lines, `show stat` trailer, `show conn`. */
void		dataplane_show_info(struct dataplane *, struct buf *, bool json);
void		dataplane_show_errors(struct dataplane *, struct buf *, bool json);
/* Connections of service index `svc` (-1: all), at most `max`. */
void		dataplane_show_conn(struct dataplane *, const struct conf *,
		    int32_t svc, uint32_t max, struct buf *, bool json);

#endif /* LBD_DATAPLANE_DATAPLANE_H */
