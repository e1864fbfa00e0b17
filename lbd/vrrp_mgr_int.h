/*
 * vrrp_mgr's private header: the shell's state beside the core's, shared
 * by vrrp_mgr.c (sockets, timers, scripts, hooks) and vrrp_show.c.
 */
#ifndef LBD_VRRP_MGR_INT_H
#define LBD_VRRP_MGR_INT_H

#include <net/if.h>
#include <time.h>

#include "lbd/vrrp_keeper.h"
#include "lbd/vrrp_mgr.h"
#include "lib/addr.h"
#include "lib/proc.h"
#include "vrrp/vrrp_group.h"

/* One packet socket per interface, shared by its routers. */
struct vsock {
	struct vrrp_mgr	*m;
	int		 ifindex;
	char		 ifname[IFNAMSIZ];
	int		 fd;
	ev_io		 io;
};

/* A track's runner (scripts) and its last word, for the log and show. */
struct vtrack {
	struct vrrp_mgr	*m;
	uint32_t	 router;
	size_t		 track;
	uint32_t	 interval_ms;
	ev_timer	 every;		/* scripts */
	struct proc	*run;
	char		 why[200];
};

/* The shell of one router of the core (same index). */
struct vinst {
	struct vsock	*sock;
	int		 ufd;		/* unicast sender (IPPROTO_RAW), -1 */
	uint8_t		 mac[6];	/* 00:00:5e:00:01|02:VRID, or the NIC's */
	char		*notify;
	struct vtrack	*tracks;
	size_t		 n_tracks;
};

/* Where a `vrrp external` group's state came from. */
enum vext_src {
	VEXT_NONE,		/* nothing yet: backup */
	VEXT_LBCTL,		/* lbctl ha, in this run */
	VEXT_FILE,		/* lbctl ha before a restart (the state file) */
};

/* The shell of one group of the core (same index): its hook; with
 * `vrrp external`, where its state came from and when (wall clock). */
struct vgroup {
	char		*notify;
	enum vext_src	 src;
	time_t		 when;
};

struct notice;

struct vrrp_mgr {
	struct ev_loop	*loop;
	struct knl	*nl;		/* carrier of tracked interfaces */
	struct vrrp_node *node;		/* the core */
	struct vrrp_acts acts;
	struct vinst	*vi;
	struct vgroup	*vg;
	struct vsock	*socks[32];
	size_t		 n_socks;
	ev_timer	 timer;
	uint32_t	 notify_timeout_ms;
	struct notice	*nq, **nq_tail;
	size_t		 nq_len;
	struct proc	*nrun;
	vrrp_group_fn	*fn;
	void		*arg;
	char		*ext_path;	/* `vrrp external`: the state file */
	void		(*change_fn)(void *);
	void		*change_arg;
	void		(*announce_fn)(void *, const char *group, bool lower);
	void		*announce_arg;
	uint64_t	 hb_bad;	/* the peer's word malformed */
	struct vrrp_keeper *keeper;	/* a master's adverts on time */
};

const char	*vrrp_mgr_track_name(enum vrrp_track_type);
/* The packet sockets' readiness (vrrp_mgr.c): frames into the core. */
void		 vrrp_mgr_rx_cb(struct ev_loop *, ev_io *, int);

/* vrrp_io.c */
bool		 vrrp_primary_addr(const char *ifname, uint8_t family,
		    uint8_t out[16]);
struct vsock	*vrrp_sock_get(struct vrrp_mgr *, const char *ifname, char *err,
		    size_t errlen);
void		 vrrp_sock_close(struct vrrp_mgr *, struct vsock *);
int		 vrrp_unicast_socket(uint8_t family, const char *ifname);
/* Router `ri` of `node` (its shell `vi`) advertises with `prio`. */
void		 vrrp_advertise(struct vrrp_mgr *, struct vrrp_node *node,
		    struct vinst *vi, uint32_t ri, uint8_t prio);
/* Router `ri`'s name for the advert keeper: interface, family, VRID. */
uint32_t	 vrrp_keeper_key(const struct vrrp_node *node,
		    const struct vinst *vi, uint32_t ri);

/* vrrp_notify.c: hooks queued and run one at a time, in order. */
void		 vrrp_notify(struct vrrp_mgr *, const char *cmd, const char *type,
		    const char *name, const char *state, int prio);
const char	*vrrp_notify_state(enum vrrp_state);
void		 vrrp_notify_stop(struct vrrp_mgr *);

/* vrrp_ext_state.c: `vrrp external` states across a restart. The file
 * for a control socket (malloc'd); load into the groups of m->node
 * before it starts; save after every lbctl ha. */
char		*vrrp_ext_path(const char *control_socket);
void		 vrrp_ext_load(struct vrrp_mgr *);
void		 vrrp_ext_save(const struct vrrp_mgr *);
const char	*vrrp_ext_src_name(enum vext_src);

#endif /* LBD_VRRP_MGR_INT_H */
