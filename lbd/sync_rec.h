/*
 * sync_rec — what of the engine's table travels to the peer, and how a
 * record from the peer becomes a table entry. Pure: lbd's sync_mgr and
 * bench/sync use it alike.
 */
#ifndef LBD_SYNC_REC_H
#define LBD_SYNC_REC_H

#include <stdbool.h>

#include "ha-sync/sync.h"
#include "lbd/engine/ct.h"

/* The record an engine event sends to the peer, or false when it sends
 * none: a TCP connection once established, a UDP flow when created, the
 * close of either; never the peer's own (mirrored) entries, and no close
 * of a TCP connection that never got past SYN (the peer never had it). */
bool	sync_rec_of_event(const struct ct_event *, struct sync_rec *);
/* An entry of our table as a bulk resync sends it. */
void	sync_rec_of_entry(const struct ct_entry *, struct sync_rec *);
/* A record from the peer as an entry for dp_sync_upsert (or, for a CLOSE,
 * the original tuple for dp_sync_close). Returns true for a CLOSE. */
bool	sync_rec_to_entry(const struct sync_rec *, struct ct_entry *);

#endif
