/*
 * vrrp_mgr — VRRP for every configured instance: the shell around the pure
 * core vrrp/vrrp_group.c, which decides everything (the accept ladder, the
 * RFC 5798 machines, vrrp-groups as sync groups, tracking). This shell
 * feeds it frames from a packet socket per interface, the time from one
 * timer of the main loop, carrier from netlink and the results of track
 * scripts, and carries its actions out: adverts sent with the virtual MAC
 * as source, notify hooks run, and a group's addresses taken or released
 * through the callback (the data plane's dataplane_hold_group).
 */
#ifndef LBD_VRRP_MGR_H
#define LBD_VRRP_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "lib/buf.h"

struct vrrp_mgr;

/* The group named `group` became master (true) or stopped being it. */
typedef void	vrrp_group_fn(void *arg, const char *group, bool master);

/* NULL with `err` set on failure, NULL with `err` empty without groups. */
struct vrrp_mgr	*vrrp_mgr_start(struct ev_loop *, const struct conf *,
		    vrrp_group_fn *, void *arg, char *err, size_t errlen);
/* A reload: instances keep their state where name, interface, VRID and
 * family are unchanged; others start or stop. */
int		 vrrp_mgr_apply(struct vrrp_mgr *, const struct conf *);
/* Orderly stop: masters resign with priority 0, groups are released. */
void		 vrrp_mgr_stop(struct vrrp_mgr *);

void		 vrrp_mgr_show(const struct vrrp_mgr *, struct buf *, bool json);
/* The VRRP families of the Prometheus scrape (nothing without VRRP). */
void		 vrrp_mgr_metrics(const struct vrrp_mgr *, struct buf *);
size_t		 vrrp_mgr_count(const struct vrrp_mgr *);
/* ha-sync: while held, no instance preempts a master (a node that came
 * back waits for the peer's connections before failing back). */
void		 vrrp_mgr_hold_preempt(struct vrrp_mgr *, bool hold);
/* The data plane's virtual-MAC guard map (dataplane_vrrp_guard_fd), for
 * the advert keeper thread to push forward while lbd lives. */
void		 vrrp_mgr_guard(struct vrrp_mgr *, int map_fd);
/* Tracking: service `name` has (ok) or has not a backend taking new
 * connections. Cheap when nothing changes. */
void		 vrrp_mgr_service(struct vrrp_mgr *, const char *name, bool ok);
/* lbctl ha master|backup|fault GROUP, in `vrrp external` mode. */
int		 vrrp_mgr_ha(struct vrrp_mgr *, const char *state,
		    const char *group, struct buf *err);
/* The heartbeat (sync_mgr): this node's word for the peer (each group's
 * state and priority), and the peer's word or its silence. */
size_t		 vrrp_mgr_hb_word(const struct vrrp_mgr *, uint8_t *out,
		    size_t cap);
void		 vrrp_mgr_hb_peer(struct vrrp_mgr *, bool alive,
		    const uint8_t *word, size_t len);
/* fn(arg, group, lower) when a master group should announce its
 * addresses again: it won a split brain (lower false), or heard a lower
 * priority's adverts (lower true: `garp lower-prio` rounds). */
void		 vrrp_mgr_on_announce(struct vrrp_mgr *,
		    void (*fn)(void *, const char *group, bool lower), void *arg);
/* fn(arg) runs when a group's state changed (the peer should hear it). */
void		 vrrp_mgr_on_change(struct vrrp_mgr *, void (*fn)(void *),
		    void *arg);
/* One group as lbctl ha handover and show pair see it: its state here,
 * its instances' priorities, and the peer's word over the heartbeat. */
struct vrrp_group_view {
	const char	*name;
	const char	*state;		/* "master", "backup", "fault", "init" */
	bool		 master;
	bool		 external;	/* keepalived decides */
	bool		 heartbeat;	/* a heartbeat runs and hears the peer */
	bool		 peer_known;	/* ... and the peer spoke of this group */
	const char	*peer_state;
	bool		 peer_master;
	unsigned	 peer_prio;
	unsigned	 prio;		/* the first instance's effective one */
	unsigned	 n_instances;
};

/* Group `i` (0 .. vrrp_mgr_groups()-1), or -1 past the last. */
size_t		 vrrp_mgr_groups(const struct vrrp_mgr *);
int		 vrrp_mgr_group_view(const struct vrrp_mgr *, size_t i,
		    struct vrrp_group_view *);
/* The index of the group named `name`, or -1. */
int		 vrrp_mgr_group_index(const struct vrrp_mgr *, const char *name);
/* lbctl ha handover: group `i`, master here, resigns to the peer (see
 * vrrp_node_handover); its instances stay at priority 1, and `undo` gets
 * the commands that take it back. 0, or -1 with an error line in `err`. */
int		 vrrp_mgr_handover(struct vrrp_mgr *, size_t i, struct buf *undo,
		    struct buf *err);
/* lbctl vrrp set-priority INSTANCE N|reset: 0 on success, else an error
 * line in `err`. */
int		 vrrp_mgr_set_priority(struct vrrp_mgr *, const char *instance,
		    const char *prio, struct buf *err);

#endif /* LBD_VRRP_MGR_H */
