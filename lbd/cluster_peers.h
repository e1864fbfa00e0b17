/*
 * cluster_peers — what each node of a cluster tells the others about
 * itself: its node id and the prefixes it announces. It rides in ha-sync's
 * authenticated PAIR datagrams, once a second to every peer, in place of
 * a pair's word (lbd/pair.h); `lbctl show cluster` lists each peer with
 * its sync state and what it announces.
 *
 * The word (at most SYNC_STATUS_MAX bytes, big-endian):
 *   u8 version (0xC1: never a pair word's), u8 node-id length, node-id,
 *   u16 prefixes announced in all, u16 listed, each: u8 family (4, 6),
 *   u8 prefix length, the address (4 or 16 bytes).
 */
#ifndef LBD_CLUSTER_PEERS_H
#define LBD_CLUSTER_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lbd/announce_plan.h"

#define CLUSTER_WORD_VERSION	0xC1
#define CLUSTER_PEER_PFX_MAX	64	/* listed per peer; the total is said */

struct cluster_peer {
	char		 node[65];
	struct ann_prefix pfx[CLUSTER_PEER_PFX_MAX];
	size_t		 n_pfx;		/* listed */
	uint32_t	 total;		/* announced in all */
	uint64_t	 heard;		/* mono ms; 0: never */
};

/* Our word: `node` and the prefixes of `plan` (n of them) that are
 * announced, as many as fit; its length (0 if not even the head fits). */
size_t	cluster_word(const char *node, const struct ann_prefix *plan, size_t n,
	    uint8_t *out, size_t cap);
/* A peer's word into *p (heard not set); -1 if malformed. */
int	cluster_word_decode(const uint8_t *w, size_t len, struct cluster_peer *p);
/* Is it one (by its first byte)? */
bool	cluster_word_is(const uint8_t *w, size_t len);

#endif /* LBD_CLUSTER_PEERS_H */
