/*
 * announce — route health injection for a cluster node (DESIGN.md section
 * 3b): announce_plan's prefixes written as blackhole routes into the
 * cluster's announce table, which the node's BGP daemon (BIRD, FRR)
 * exports to the upstream routers. Kept in step with the services'
 * states, the node's drain and its stop; lbd never speaks BGP itself.
 *
 *   a = announce_start(knl, table);     stale routes of ours go first
 *   announce_update(a, conf, svc_ok);   after any change of state
 *   announce_set(a, drained, stopping); then announce_update again
 *   announce_free(a, true);             withdrawn on a clean stop
 *
 * A crashed lbd leaves its routes: the packaged unit's ExecStopPost runs
 * `lbd --withdraw`, which removes them (announce_withdraw_file).
 */
#ifndef LBD_ANNOUNCE_H
#define LBD_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>

struct announce;
struct buf;
struct conf;
struct knl;

struct announce *announce_start(struct knl *, uint32_t table);
void		announce_free(struct announce *, bool withdraw);
/* Another table (a reload): everything leaves the old one first. */
void		announce_retable(struct announce *, uint32_t table);
void		announce_update(struct announce *, const struct conf *,
		    const bool *svc_ok);
void		announce_set(struct announce *, bool drained, bool stopping);
bool		announce_drained(const struct announce *);
/* For the stats table (SD_CLUSTER_*): zeros for NULL. */
void		announce_counts(const struct announce *, uint64_t *announced,
		    uint64_t *changes, uint64_t *errors);
/* The last plan (announce_plan.h), sorted; NULL with *n 0 for NULL. */
const struct ann_prefix *announce_prefixes(const struct announce *, size_t *n);
/* `lbctl show cluster`: our prefixes, then each sync peer (`sync`, may be
 * NULL) with what it last said (`peers`, may be NULL: none yet). */
struct sync_mgr;
struct cluster_peer;
void		announce_show(const struct announce *, const struct conf *,
		    const struct sync_mgr *, const struct cluster_peer *peers,
		    struct buf *, bool json);
/* `lbd --withdraw -f FILE`: remove this node's routes from FILE's
 * announce table and exit: 0 done (or no cluster block), 1 error. */
int		announce_withdraw_file(const char *conf_path);

#endif /* LBD_ANNOUNCE_H */
