/*
 * vrrp_group — every VRRP router of a node, organised in vrrp-groups (sync
 * groups), as a pure core: frames, link and track changes, operator
 * commands and the time (milliseconds, any monotonic origin) go in; what
 * to send, what changed and what to hold come out as a list of actions.
 * No sockets, no clock, no logging: the shell (lbd/vrrp_mgr.c) owns the
 * packet sockets, timers, scripts and hooks and carries the actions out.
 *
 * What it decides, beyond one router's RFC 5798 machine (vrrp_fsm.c):
 *
 *  - The accept ladder (RFC 5798 7.1, RFC 3768 7.1): every check an
 *    advertisement must pass, in one place, each failing check counted by
 *    its reason (per interface before a router is found, per router after),
 *    like OpenBSD's carp_proto_input_c().
 *  - Sync groups: the routers of a vrrp-group move to MASTER and BACKUP
 *    together (a master outranked takes its group to BACKUP with it), and a
 *    group that becomes master spreads its routers' adverts over one
 *    interval so a dead master is noticed as soon as the first goes quiet.
 *  - Tracking: a router's effective priority is its configured one (or the
 *    operator's override) lowered by the weights of its failing weighted
 *    tracks; an interface without carrier or a failing track without a
 *    weight puts its whole group in FAULT, so addresses are never split.
 *  - Groups: a group is MASTER when its routers are (with `vrrp external`,
 *    when keepalived says so through lbctl ha); the shell holds the group's
 *    addresses while it is.
 *  - Reload: routers whose identity (group, name, interface, family, VRID)
 *    did not change keep their state; the others resign or start.
 *  - The heartbeat (vrrp_hb.c): with a sync block, each node's role and
 *    priority per group ride in ha-sync's authenticated keepalives. A
 *    backup does not take a group whose master the heartbeat shows alive
 *    (a partition, reported), nor while another router of the group still
 *    hears the master; it takes it one advert interval into the silence
 *    when the heartbeat is silent too; a split brain the heartbeat sees is
 *    resolved by the VRRP rule within two advert intervals.
 */
#ifndef VRRP_VRRP_GROUP_H
#define VRRP_VRRP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"

#define VRRP_PEERS_MAX	8	/* unicast peers per router */
#define VRRP_LOWER_GAP_MS 1000	/* VRRP_ACT_LOWER at most this often */

enum vrrp_track_type {
	VRRP_TRACK_INTERFACE,
	VRRP_TRACK_SERVICE,
	VRRP_TRACK_SCRIPT,
};

struct vrrp_track {
	enum vrrp_track_type type;
	uint8_t		 weight;	/* 0: FAULT while it fails */
	bool		 failing;
	char		*what;		/* interface, service or command */
};

/* One interface VRRP listens on; counts what no router took. */
struct vrrp_port {
	char		*name;
	uint64_t	 rx, bad[VRRP_BAD__COUNT];
};

struct vrrp_router {
	char		*name;
	uint32_t	 group, port;
	uint8_t		 family;	/* 4 or 6 */
	struct vrrp_fsm	 fsm;
	uint8_t		 cfg_prio;
	uint8_t		 set_prio;	/* lbctl vrrp set-priority, if prio_set */
	bool		 prio_set;
	bool		 own_down;	/* its interface has no carrier */
	bool		 have_self;	/* fsm.self is known */
	bool		 list_warned;
	bool		 auth_warned;
	/* v2 `auth-pass`: sent, and required of every advertisement. */
	bool		 auth_pass;
	uint8_t		 auth[8];
	uint8_t		 addrs[VRRP_MAX_ADDRS * 16];
	uint8_t		 n_addrs;
	uint8_t		 peers[VRRP_PEERS_MAX][16];	/* unicast-peer */
	uint8_t		 n_peers;
	struct vrrp_track *tracks;
	size_t		 n_tracks;
	uint64_t	 rx, tx, bad[VRRP_BAD__COUNT];
	uint64_t	 last_change;	/* ms of the last state change, 0: none */
	uint64_t	 heard_at;	/* a master's advertisement (or start) */
	uint64_t	 held_until;	/* a takeover held back: look again then */
	bool		 resigned;	/* the master's last word was priority 0 */
};

/* Why a backup's takeover was held back (a partition, not a dead master). */
enum vrrp_hold {
	VRRP_HOLD_NONE,
	VRRP_HOLD_HEARTBEAT,	/* the heartbeat shows the peer alive, master */
	VRRP_HOLD_OTHER,	/* another router of the group hears the master */
};

struct vrrp_group {
	char		*name;
	/* What the group last reported (VRRP_INIT: nothing yet); while
	 * MASTER the shell holds its addresses. */
	enum vrrp_state	 state;
	enum vrrp_state	 ext;		/* `vrrp external`: lbctl ha's word */
	uint32_t	 name_hash;	/* names the group on the heartbeat */
	/* The peer's word over the heartbeat (vrrp_node_hb_peer). */
	bool		 peer_known;
	enum vrrp_state	 peer_state;
	uint8_t		 peer_prio, peer_family, peer_addr[16];
	uint64_t	 both_master_since;	/* 0: no split brain seen */
	enum vrrp_hold	 held;		/* a takeover held back now */
	uint64_t	 partitions;	/* episodes of held-back takeovers */
	uint64_t	 lower_at;	/* the last VRRP_ACT_LOWER, ms */
	uint64_t	 split_brains;	/* resolved over the heartbeat */
};

struct vrrp_node {
	struct vrrp_group  *groups;
	size_t		    n_groups;
	struct vrrp_router *r;
	size_t		    n;
	struct vrrp_port   *ports;
	size_t		    n_ports;
	bool		    external;	/* keepalived decides (lbctl ha) */
	bool		    preempt_held;	/* ha-sync: not synced yet */
	bool		    moving;	/* a sync-group move is under way */
	bool		    hb;		/* a heartbeat (sync block) runs */
	bool		    peer_alive;	/* ... and hears the peer */
};

/* ---- what comes out -------------------------------------------------- */

enum vrrp_act_kind {
	VRRP_ACT_SEND,		/* router: an advertisement with `prio` */
	VRRP_ACT_STATE,		/* router: from -> to (its priority `prio`) */
	VRRP_ACT_GROUP,		/* group: from -> to; notify when `notify` */
	VRRP_ACT_HOLD,		/* group: hold (to == MASTER) or release */
	VRRP_ACT_TRACK,		/* router: track `track` fails or recovers */
	VRRP_ACT_LINK,		/* router: its interface lost or regained carrier */
	VRRP_ACT_ADDR_LIST,	/* router: `src` advertises other addresses
				 * (once per router: a misconfiguration) */
	VRRP_ACT_AUTH,		/* router: `src` authenticates otherwise
				 * (type `auth_type`; once per router) */
	VRRP_ACT_REMOVED,	/* router (of the old node): gone by reload */
	VRRP_ACT_PARTITION,	/* group: a takeover held back (`failing`,
				 * why in `hold`) or the master heard again */
	VRRP_ACT_SPLIT,		/* group: both master over the heartbeat;
				 * `to` MASTER: we won (announce again),
				 * BACKUP: we lost; `prio` the peer's */
	VRRP_ACT_LOWER,		/* router: master, it heard `src` advertise
				 * priority `prio`, lower: announce the
				 * group's addresses again (at most once a
				 * second per group) */
};

struct vrrp_act {
	enum vrrp_act_kind kind;
	uint32_t	 idx;		/* router or group */
	uint32_t	 track;
	uint8_t		 prio;
	bool		 notify;
	bool		 failing;	/* TRACK, LINK */
	enum vrrp_state	 from, to;
	uint8_t		 src[16];
	uint8_t		 n_addrs;
	uint8_t		 auth_type;
	enum vrrp_hold	 hold;
};

/* Filled by every call that takes one; the caller empties it (n = 0). */
struct vrrp_acts {
	struct vrrp_act	*v;
	size_t		 n, cap;
};

void		vrrp_acts_free(struct vrrp_acts *);

/* ---- building a node ------------------------------------------------- */

struct vrrp_router_cfg {
	const char		*name;
	uint32_t		 group, port;	/* indexes from the add calls */
	uint8_t			 family;
	struct vrrp_fsm_cfg	 fsm;
	const uint8_t		*addrs;		/* n_addrs x 4 or 16 bytes */
	uint8_t			 n_addrs;
	const uint8_t		(*peers)[16];
	uint8_t			 n_peers;
	const struct vrrp_track	*tracks;	/* `what` is copied */
	size_t			 n_tracks;
	bool			 have_self;
	uint8_t			 self[16];
	const char		*auth_pass;	/* v2 simple password, or NULL */
};

struct vrrp_node *vrrp_node_new(bool external);
void		vrrp_node_free(struct vrrp_node *);
/* Each returns the new index, or -1 when out of memory. A port is added
 * once per name. */
int		vrrp_node_add_group(struct vrrp_node *, const char *name);
int		vrrp_node_add_port(struct vrrp_node *, const char *name);
int		vrrp_node_add_router(struct vrrp_node *,
		    const struct vrrp_router_cfg *);
/* Its primary address became known (the interface had none at start). */
void		vrrp_node_set_self(struct vrrp_node *, uint32_t r,
		    const uint8_t self[16]);

/* ---- events ----------------------------------------------------------- */

/* Routers in Initialize start (or, external, take their group's word). */
void		vrrp_node_start(struct vrrp_node *, uint64_t now,
		    struct vrrp_acts *);
/* Orderly stop: masters resign with priority 0; held groups release. */
void		vrrp_node_stop(struct vrrp_node *, uint64_t now,
		    struct vrrp_acts *);
/* A frame arrived on `port`: the accept ladder, then the machine. */
void		vrrp_node_rx(struct vrrp_node *, uint32_t port,
		    const uint8_t *frame, size_t len, uint64_t now,
		    struct vrrp_acts *);
/* Timers: call at vrrp_node_deadline() or later. */
void		vrrp_node_tick(struct vrrp_node *, uint64_t now,
		    struct vrrp_acts *);
/* The earliest timer of any router, 0 if none runs. */
uint64_t	vrrp_node_deadline(const struct vrrp_node *);
/* Router `r`'s interface has carrier (up) or not. */
void		vrrp_node_link(struct vrrp_node *, uint32_t r, bool up,
		    uint64_t now, struct vrrp_acts *);
/* Track `t` of router `r` fails or recovers. */
void		vrrp_node_track(struct vrrp_node *, uint32_t r, size_t t,
		    bool failing, uint64_t now, struct vrrp_acts *);
/* Every track-service of `service`: it has (ok) or has not a backend
 * taking new connections. */
void		vrrp_node_service(struct vrrp_node *, const char *service, bool ok,
		    uint64_t now, struct vrrp_acts *);
/* lbctl vrrp set-priority: 1..254, or -1 to go back to the configured
 * one. -1 when refused (external mode, or out of range). */
int		vrrp_node_set_prio(struct vrrp_node *, uint32_t r, int prio,
		    uint64_t now, struct vrrp_acts *);
/* lbctl ha handover: group `g`, master here, goes to the peer (see
 * vrrp_group.c). -1 when it is not master here, or in external mode. */
int		vrrp_node_handover(struct vrrp_node *, uint32_t g, uint64_t now,
		    struct vrrp_acts *);
/* lbctl ha (external mode): group `g` is `st` (MASTER, BACKUP, FAULT). */
int		vrrp_node_ha(struct vrrp_node *, uint32_t g, enum vrrp_state st,
		    uint64_t now, struct vrrp_acts *);
/* ha-sync: while held, no router preempts a master. */
void		vrrp_node_hold_preempt(struct vrrp_node *, bool hold);
/*
 * A reload: `nw` (built from the new config, not started) takes over the
 * state of every router of `old` with the same group, name, interface,
 * family and VRID, and of every group by name; the new settings apply
 * from the next advertisement. The routers of `old` that nothing took
 * resign (their actions, with indexes into `old`, go to `old_acts`, as do
 * the releases of groups the new config no longer has). Then start `nw`.
 */
void		vrrp_node_adopt(struct vrrp_node *nw, struct vrrp_node *old,
		    uint64_t now, struct vrrp_acts *old_acts);

/* ---- the heartbeat (vrrp_hb.c) --------------------------------------- */

#define VRRP_HB_MAX_GROUPS	48
#define VRRP_HB_MAX_LEN		(2 + VRRP_HB_MAX_GROUPS * 23)

/* A sync block runs: the heartbeat's word counts (see the top). */
void		vrrp_node_set_heartbeat(struct vrrp_node *, bool on);
/* This node's word for the peer: each group's state, priority and
 * address (at most VRRP_HB_MAX_GROUPS), into `out`; its length. */
size_t		vrrp_node_hb_encode(const struct vrrp_node *, uint8_t *out,
		    size_t cap);
/* The heartbeat hears the peer (`alive`) with its latest word (`blob`,
 * or NULL: unchanged), or has gone silent. -1 if `blob` is malformed
 * (nothing changes then). */
int		vrrp_node_hb_peer(struct vrrp_node *, bool alive,
		    const uint8_t *blob, size_t len, uint64_t now,
		    struct vrrp_acts *);
const char	*vrrp_hold_name(enum vrrp_hold);

/* Lookups by name; -1 when absent. */
int		vrrp_node_router(const struct vrrp_node *, const char *name);
int		vrrp_node_port(const struct vrrp_node *, const char *name);
int		vrrp_node_group(const struct vrrp_node *, const char *name);
/* The router's effective priority from its configuration and tracks. */
uint8_t		vrrp_router_prio(const struct vrrp_router *);

#endif /* VRRP_VRRP_GROUP_H */
