/*
 * vrrp_group's private header: what vrrp_group.c (routers, groups, the
 * accept ladder, time) and vrrp_hb.c (the heartbeat's word) share.
 * Pure, like both.
 */
#ifndef VRRP_VRRP_GROUP_INT_H
#define VRRP_VRRP_GROUP_INT_H

#include "vrrp/vrrp_group.h"

/* A new action on the list (NULL when out of memory). */
struct vrrp_act	*vrrp_act_new(struct vrrp_acts *, enum vrrp_act_kind,
		    uint32_t idx);
/* What router `ri`'s machine asked for, and what follows for its group. */
void		 vrrp_handle(struct vrrp_node *, uint32_t ri,
		    const struct vrrp_out *, uint64_t now, struct vrrp_acts *);

/* vrrp_hb.c */
/* The interval the router's master advertises at, in ms. */
uint32_t	 vrrp_master_adver_ms(const struct vrrp_router *);
/* Router `ri` (a backup whose master went quiet) may take its group
 * over, or why not. */
enum vrrp_hold	 vrrp_hb_hold(const struct vrrp_node *, uint32_t ri,
		    uint64_t now);
/* When router `ri`, a backup, may take over before its Master_Down
 * timer: one advert interval into the silence while the heartbeat is
 * silent too (0: no such deadline). */
uint64_t	 vrrp_hb_fast_at(const struct vrrp_node *, uint32_t ri);
/* A takeover of group `g` was held back for `why` (NONE: the master is
 * heard again everywhere): report the start and end of an episode. */
void		 vrrp_hb_held(struct vrrp_node *, uint32_t g, enum vrrp_hold why,
		    struct vrrp_acts *);
/* Split brains the heartbeat shows, resolved; and their next deadline
 * (0: none). */
void		 vrrp_hb_tick(struct vrrp_node *, uint64_t now, struct vrrp_acts *);
uint64_t	 vrrp_hb_deadline(const struct vrrp_node *);
/* A group's name on the heartbeat. */
uint32_t	 vrrp_hb_name_hash(const char *);

#endif /* VRRP_VRRP_GROUP_INT_H */
