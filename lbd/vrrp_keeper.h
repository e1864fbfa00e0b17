/*
 * vrrp_keeper — a master's advertisements on time, whatever the main loop
 * is doing. The loop sends every advert the core asks for; this thread,
 * with realtime priority where lbd may have it (as keepalived's
 * vrrp_rt_priority), sends a copy of a master's last advert when the loop
 * has not sent one for an advert interval (a reload of a large config, a
 * long `show`, a CPU hog beside lbd), so that the backup never takes a
 * stall for a death. It decides nothing: it repeats the master's last word
 * until the loop says the router is no longer master (before that
 * router's first word as anything else).
 *
 * Multicast adverts only (an instance with unicast-peer relies on the
 * loop). Thread-safe: every call may come from the loop while the thread
 * runs.
 */
#ifndef LBD_VRRP_KEEPER_H
#define LBD_VRRP_KEEPER_H

#include <sys/socket.h>
#include <linux/if_packet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vrrp_keeper;

/* NULL when out of memory or no thread (then the loop alone sends). */
struct vrrp_keeper *vrrp_keeper_start(void);
void		vrrp_keeper_stop(struct vrrp_keeper *);
/* Router `key` is master and just sent `frame` out of `fd` to `to`:
 * repeat it if the loop is late by `interval_ms`. */
void		vrrp_keeper_sent(struct vrrp_keeper *, uint32_t key, int fd,
		    const struct sockaddr_ll *to, const uint8_t *frame,
		    size_t len, uint32_t interval_ms);
/* Router `key` is no longer master (or stops): repeat nothing more. */
void		vrrp_keeper_clear(struct vrrp_keeper *, uint32_t key);
/* The kernel fast path's guard map (dataplane_vrrp_guard_fd; -1: none):
 * the thread pushes it forward every few ms, so that frames from virtual
 * MACs stop leaving once lbd is killed or frozen. The keeper keeps its
 * own copy of the descriptor. */
void		vrrp_keeper_guard(struct vrrp_keeper *, int map_fd);
/* Adverts the thread sent because the loop was late; realtime or not. */
uint64_t	vrrp_keeper_kept(const struct vrrp_keeper *);
bool		vrrp_keeper_realtime(const struct vrrp_keeper *);

#endif /* LBD_VRRP_KEEPER_H */
