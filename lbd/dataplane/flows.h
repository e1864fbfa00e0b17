/*
 * flows — one worker's flows in the kernel's table (lbd_fp_flows): the
 * engine's flow operations written into the BPF map, and what the kernel
 * did with each flow reported back to the engine (packets, bytes, the
 * last packet's time). Runs on the worker's thread; the map is shared by
 * every worker, each writing only its own connections' flows.
 */
#ifndef LBD_DATAPLANE_FLOWS_H
#define LBD_DATAPLANE_FLOWS_H

#include <stdint.h>

#include "lbd/dataplane/fastpath.h"
#include "lbd/engine/dp.h"

struct fp_flows;

struct fp_flows_stats {
	uint64_t	installed, removed;
	uint64_t	install_failed;	/* the kernel's table was full */
	uint64_t	reconciled;	/* stray kernel flows removed */
};

/* `max`: the most this worker keeps (its share of the table). */
struct fp_flows	*fp_flows_new(int map_fd, uint32_t max);
/* Free (the kernel's table goes with the programs, tcprog_close). */
void		 fp_flows_free(struct fp_flows *);
/* Write the engine's pending operations into the kernel's table. */
void		 fp_flows_apply(struct fp_flows *, struct dp_engine *);
/* Report up to `budget` flows' news to the engine, round robin. */
void		 fp_flows_poll(struct fp_flows *, struct dp_engine *,
		    uint32_t budget);
/* dp_flow_probe_fn: report one flow now (before it may expire). */
void		 fp_flows_probe(void *fp_flows, struct dp_engine *,
		    const struct dp_tuple *key);
void		 fp_flows_stats(const struct fp_flows *, struct fp_flows_stats *);
uint32_t	 fp_flows_count(const struct fp_flows *);

/* The kernel's form of an engine flow (tests compare the two). */
void		 fp_flow_to_kernel(const struct dp_flow *, struct lbd_fp_key *,
		    struct lbd_fp_act *);

#endif /* LBD_DATAPLANE_FLOWS_H */
