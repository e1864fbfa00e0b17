/*
 * bpfmaps — the ownership maps (classify.bpf.h) kept in step with what lbd
 * owns, and per-CPU counters read back; for the XDP classifier and the TC
 * fast path alike.
 */
#ifndef LBD_DATAPLANE_BPFMAPS_H
#define LBD_DATAPLANE_BPFMAPS_H

#include <stdint.h>

#include "lbd/dataplane/classifier.h"

/* Make the ownership maps hold exactly this set: entries not in it are
 * deleted, so a reload removes what it no longer owns; only new or changed
 * entries are written. A key listed twice is one entry (address flags
 * OR-ed). -1 when a map could not take it all (logged, with the map). */
struct xdp_owned {
	struct lbd_flow_key	*svcs;
	uint32_t		 n_svcs;
	struct lbd_addr_key	*addrs;
	uint32_t		*addr_flags;
	uint32_t		 n_addrs;
	struct lbd_flow_key	*backends;
	uint32_t		*backend_flags;	/* LBD_BE_* */
	uint32_t		 n_backends;
};
struct own_fds {
	int	svcs, addrs, backends;
};

int	bpfmaps_set_owned(const struct own_fds *, const struct xdp_owned *);
/* A dead man's switch (lbd_alive, lbd_fp_vrrp_alive: a one-slot array):
 * alive until `until_ns` (CLOCK_MONOTONIC), 0 for "never set". */
int	bpfmaps_set_until(int fd, uint64_t until_ns);
/* out[k] = the sum over CPUs of slot k of per-CPU array `fd`, k < n. */
void	bpfmaps_percpu_sum(int fd, uint32_t n, uint64_t *out);

#endif /* LBD_DATAPLANE_BPFMAPS_H */
