/*
 * sync_mgr — ha-sync in lbd (DESIGN.md section 3): mirrors this node's
 * connections to the peer named in the `sync` block and applies the
 * peer's, over UDP on the heartbeat interface. The protocol is
 * docs/ha-sync.md; the pure core is ha-sync/.
 */
#ifndef LBD_SYNC_MGR_H
#define LBD_SYNC_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "lbd/dataplane/dataplane.h"
#include "lib/buf.h"

struct sync_mgr;

/* NULL with an empty `err` when there is nothing to do (no sync block, or
 * no data plane); NULL with `err` set on failure. */
struct sync_mgr	*sync_mgr_start(struct ev_loop *, const struct conf *,
		    struct dataplane *, char *err, size_t errlen);
void		 sync_mgr_stop(struct sync_mgr *);
/* A reload that kept the sync block: the config hash follows. */
void		 sync_mgr_apply(struct sync_mgr *, const struct conf *);
/* A complete bulk resync from the peer has arrived (true without sync). */
bool		 sync_mgr_synced(const struct sync_mgr *);
/*
 * The heartbeat: VRRP's second path to the peer (vrrp/vrrp_hb.c). Every
 * heartbeat-interval lbd sends the peer its `word` (word() fills it) on
 * every heartbeat link, and tells peer() the peer's word, and when the
 * peer goes silent on every link for heartbeat-timeout (alive false) or
 * is heard again. Set once both exist; cheap.
 */
typedef size_t	sync_word_fn(void *arg, uint8_t *out, size_t cap);
typedef void	sync_peer_fn(void *arg, bool alive, const uint8_t *word,
		    size_t len);
void		 sync_mgr_heartbeat(struct sync_mgr *, sync_word_fn *,
		    sync_peer_fn *, void *arg);
/* The engine's connection events, on the loop: each becomes a record for
 * the peer; `lost` events make a bulk resync follow. */
struct ct_event;
void		 sync_mgr_events(struct sync_mgr *, const struct ct_event *,
		    size_t n, uint64_t lost);
/* The pair word (lbd/pair.h), or a cluster node's (lbd/cluster_peers.h):
 * pword() fills ours, sent to every peer once a second beside the
 * heartbeat; ppeer() gets each peer's, with the peer's index (the order of
 * the sync block's `peer` lines). */
typedef void	sync_pair_fn(void *arg, int peer, const uint8_t *word,
		    size_t len);
void		 sync_mgr_pair(struct sync_mgr *, sync_word_fn *pword,
		    sync_pair_fn *ppeer, void *arg);
/* The peers, for lbctl show cluster. */
struct sync_mgr_peer {
	char		 addr[64];
	bool		 up, synced, cfg_mismatch;
	uint64_t	 applied;
};
int		 sync_mgr_n_peers(const struct sync_mgr *);
bool		 sync_mgr_peer(const struct sync_mgr *, int i,
		    struct sync_mgr_peer *);
/* Our word changed (a VRRP group moved): tell the peer now. */
void		 sync_mgr_word_changed(struct sync_mgr *);
/* Can the peer take our connections over now (lbctl ha handover)? True
 * when the peer is up, runs the same configuration, has our table (no
 * bulk of ours under way; the stream's last milliseconds follow it) and
 * we have its bulk; otherwise false with the reason in `why`. */
bool		 sync_mgr_ready(const struct sync_mgr *, char *why, size_t len);
/* `lbctl show sync`. */
void		 sync_mgr_show(const struct sync_mgr *, struct buf *, bool json);
/* The sync families of the Prometheus scrape (nothing without sync). */
void		 sync_mgr_metrics(const struct sync_mgr *, struct buf *);

#endif /* LBD_SYNC_MGR_H */
