/*
 * announce_plan — what a cluster node announces, and why (route health
 * injection, DESIGN.md section 3b). Pure: the configuration and each
 * service's state in, the prefixes out; lbd/announce.c writes them into
 * the kernel's announce table for the node's BGP daemon to export.
 *
 *   a VIP       while one of its services has a backend that takes new
 *               connections, and the node is neither drained nor stopping;
 *   a SNAT pool address
 *               while the node is not stopping: a drained node takes no
 *               new flows, but its connections' replies must still come
 *               back to it (the ports are its own);
 *   another node's SNAT address (in a pool, not in the cluster's
 *               snat-addresses)
 *               likewise, with route metric ANN_METRIC_PEER, which the
 *               BGP daemon exports at a lower preference (the example
 *               prepends the AS path): the routers send its replies to
 *               its own node while that one announces it, here when it
 *               is gone -- and this node has its connections (ha-sync).
 */
#ifndef LBD_ANNOUNCE_PLAN_H
#define LBD_ANNOUNCE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

enum ann_why {
	ANN_SERVING,		/* a VIP a service of which takes new ones */
	ANN_SNAT,		/* a SNAT pool address */
	ANN_NO_BACKEND,		/* withdrawn: no backend takes new ones */
	ANN_DRAINED,		/* withdrawn: lbctl cluster drain */
	ANN_STOPPING,		/* withdrawn: lbd is stopping */
	ANN_SNAT_PEER,		/* another node's SNAT address, lower
				 * preference */
};

/* The route metric of another node's SNAT address; this node's own
 * prefixes have 0. */
#define ANN_METRIC_PEER	1024

struct ann_prefix {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		plen;		/* 32 or 128 */
	uint8_t		addr[16];
	bool		announce;
	uint8_t		why;		/* enum ann_why */
	uint32_t	metric;		/* 0, or ANN_METRIC_PEER */
	uint32_t	svc;		/* the service that decides it (the
					 * first serving one, else the first) */
};

/* Every VIP and SNAT address of c's services, once each, sorted by family
 * and address; `svc_ok[i]`: service i has a backend that takes new
 * connections. NULL with *n 0 when there are none or out of memory (*n
 * SIZE_MAX). */
struct ann_prefix *announce_plan(const struct conf *c, const bool *svc_ok,
		    bool drained, bool stopping, size_t *n);
const char	*announce_why_name(enum ann_why);
/* The plan's order: family, then address. */
int		announce_prefix_cmp(const struct ann_prefix *,
		    const struct ann_prefix *);

#endif /* LBD_ANNOUNCE_PLAN_H */
