/*
 * pair — what each node of a pair tells the other about itself, beyond
 * VRRP's word: its node id, a hash of each configuration section that must
 * agree (hash-seed, each vrrp-group, each service) and the backends that
 * take no new connections there, and why. It rides in ha-sync's
 * authenticated PAIR datagrams once a second. `lbctl show pair` puts the
 * two nodes side by side from it; `lbctl ha handover` refuses to hand over
 * to a peer whose backends are worse off than ours.
 *
 * The word (at most SYNC_STATUS_MAX bytes, big-endian):
 *   u8 version (1), u8 node-id length, node-id,
 *   u16 sections, each: u8 kind, u32 name hash, u32 content hash
 *     (kind 4, when the services do not fit one by one: 32 buckets of
 *     them, by name hash, each the sum of its services' hashes),
 *   u32 backends out in all, u16 listed, each: u32 name hash, u8 why
 *     (1 health, 2 admin or weight).
 */
#ifndef LBD_PAIR_H
#define LBD_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct lbd;
struct conf;

/* This node's word, into `out` (cap bytes); its length. */
size_t	pair_word(struct lbd *, uint8_t *out, size_t cap);
/* The peer's word (from sync_mgr), kept; -1 if malformed. */
int	pair_peer_word(struct lbd *, const uint8_t *w, size_t len);
/* `lbctl show pair`. */
void	pair_show(struct lbd *, struct buf *, bool json);
/* lbctl ha handover's check: false, with the backends in `why`, when a
 * backend that takes new connections here does not on the peer (or the
 * peer has not said yet). */
bool	pair_backends_ready(struct lbd *, char *why, size_t len);
void	pair_free(struct lbd *);

#endif /* LBD_PAIR_H */
