/*
 * xdp_prog — the classifier on one interface: attach (native XDP, falling
 * back to generic/SKB mode), the map writes that tell it what lbd owns, and
 * detach. The BPF object is built into lbd (classifier_obj.c), so an
 * installed lbd needs no separate file.
 */
#ifndef LBD_DATAPLANE_XDP_PROG_H
#define LBD_DATAPLANE_XDP_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "lbd/dataplane/classifier.h"

struct xdp_prog;

enum xdp_prog_mode {
	XDP_PROG_NATIVE,
	XDP_PROG_GENERIC,
};

/* Remove any lbd classifier left on `ifindex` (by a crashed lbd). Returns
 * how many were removed. */
int		xdp_prog_remove_stale(int ifindex);

/* Attach to `ifindex`; `force_generic` skips the native attempt. NULL with
 * a message in `err` on failure. */
struct xdp_prog	*xdp_prog_attach(int ifindex, bool force_generic, char *err,
		    size_t errlen);
void		xdp_prog_detach(struct xdp_prog *);
enum xdp_prog_mode xdp_prog_mode(const struct xdp_prog *);
const char	*xdp_prog_mode_name(enum xdp_prog_mode);

int		xdp_prog_xsk_map_fd(const struct xdp_prog *);

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
	uint32_t		 n_backends;
};
int		xdp_prog_set_owned(struct xdp_prog *, const struct xdp_owned *);

/* Push the dead man's switch forward: alive until `until_ns`
 * (CLOCK_MONOTONIC). See classifier.h. */
int		xdp_prog_set_alive(struct xdp_prog *, uint64_t until_ns);

/* Classifier counters summed over CPUs, enum lbd_cls_stat order. */
void		xdp_prog_stats(const struct xdp_prog *, uint64_t out[LBD_CLS__COUNT]);

/* libxdp needs bpffs at /sys/fs/bpf; mount it when it is missing. */
int		xdp_prog_ensure_bpffs(void);

#endif /* LBD_DATAPLANE_XDP_PROG_H */
