/*
 * owner — the floating addresses this node holds: VIPs, SNAT pool
 * addresses and the routed-mode gateway. Taking an address adds it to its
 * interface (a macvlan with the VRRP virtual MAC, or the data interface
 * itself without VRRP) and announces it: `garp count` gratuitous ARPs or
 * unsolicited NAs, `garp interval` apart, and again every `garp refresh`
 * (each address with its instance's settings), all addresses together at
 * most `garp rate` frames a second: switches drop bursts, and 10,000 VIPs
 * would be 10,000 frames at once. Addresses take turns, so every address's
 * first announcement goes before any address's second.
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
	uint16_t	group;		/* its vrrp-group + 1, 0: none */
	uint32_t	garp_count, garp_interval_ms, garp_refresh_ms;
	uint32_t	garp_lower;	/* rounds on a lower master's advert */
	/* owner's bookkeeping */
	bool		added;		/* lbd added it (so removes it) */
	uint32_t	announce_left;
	uint64_t	due;		/* its next announcement, ms */
	bool		paced;		/* waiting for the rate now */
	uint64_t	refresh_at;	/* ms, 0: no refresh */
};

struct owner;

struct owner	*owner_new(struct ev_loop *, struct knl *, uint32_t garp_rate);
void		owner_free(struct owner *);	/* releases everything */
/* `garp rate`: frames a second, every address together (0: no limit). */
void		owner_set_rate(struct owner *, uint32_t rate);
/* Take each address not yet held; returns how many failed. */
int		owner_take(struct owner *, const struct owned_addr *, size_t n);
void		owner_release(struct owner *, const struct owned_addr *, size_t n);
/* Keep exactly `v` (a reload): release the rest, take the new. */
int		owner_set(struct owner *, const struct owned_addr *v, size_t n);
bool		owner_holds(const struct owner *, uint8_t family, const uint8_t *addr);
/* Announce the held addresses of vrrp-group `group` (its index + 1; 0:
 * every address) again: their `garp count` rounds (a split brain was
 * resolved in this node's favour), or with `lower` their `garp lower-prio`
 * rounds (a lower priority's adverts were heard). */
void		owner_announce_again(struct owner *, uint16_t group, bool lower);
void		owner_show(const struct owner *, struct buf *, bool json);
uint64_t	owner_announcements(const struct owner *);
/* Announcements that waited for `garp rate`. */
uint64_t	owner_paced(const struct owner *);

#endif /* LBD_DATAPLANE_OWNER_H */
