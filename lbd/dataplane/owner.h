/*
 * owner — the floating addresses this node holds: VIPs, SNAT pool
 * addresses and the routed-mode gateway. Taking an address adds it to its
 * interface (a macvlan with the VRRP virtual MAC, or the data interface
 * itself without VRRP) and announces it: `garp count` gratuitous ARPs or
 * unsolicited NAs, `garp interval` apart, and again every `garp refresh`.
 * Releasing removes the address, also one that was present before (left by
 * a killed lbd, say): floating addresses belong to lbd, and an operator
 * must not configure them by hand. VRRP drives take/release; without VRRP
 * lbd takes all at start.
 */
#ifndef LBD_DATAPLANE_OWNER_H
#define LBD_DATAPLANE_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "lbd/knl.h"
#include "lib/buf.h"

struct owned_addr {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		addr[16];
	uint8_t		plen;
	int		ifindex;	/* where it goes */
	uint8_t		mac[6];		/* announced with */
	/* owner's bookkeeping */
	bool		added;		/* lbd added it (so removes it) */
	uint32_t	announce_left;
};

struct owner;

struct owner	*owner_new(struct ev_loop *, struct knl *, uint32_t garp_count,
		    uint32_t garp_interval_ms, uint32_t garp_refresh_ms);
void		owner_free(struct owner *);	/* releases everything */
void		owner_set_garp(struct owner *, uint32_t count, uint32_t interval_ms,
		    uint32_t refresh_ms);
/* Take each address not yet held; returns how many failed. */
int		owner_take(struct owner *, const struct owned_addr *, size_t n);
void		owner_release(struct owner *, const struct owned_addr *, size_t n);
/* Keep exactly `v` (a reload): release the rest, take the new. */
int		owner_set(struct owner *, const struct owned_addr *v, size_t n);
bool		owner_holds(const struct owner *, uint8_t family, const uint8_t *addr);
/* Announce every held address again, a burst as on taking it (a split
 * brain was resolved in this node's favour). */
void		owner_announce_again(struct owner *);
void		owner_show(const struct owner *, struct buf *, bool json);
uint64_t	owner_announcements(const struct owner *);

#endif /* LBD_DATAPLANE_OWNER_H */
