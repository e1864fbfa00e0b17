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

#include "lbd/dataplane/bpfmaps.h"
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
/* Every frame is ours: the far end of a punt pair (`datapath kernel`). */
int		xdp_prog_take_all(struct xdp_prog *);

/* The ownership maps hold exactly this set (bpfmaps_set_owned). */
int		xdp_prog_set_owned(struct xdp_prog *, const struct xdp_owned *);

/* Push the dead man's switch forward: alive until `until_ns`
 * (CLOCK_MONOTONIC). See classifier.h. */
int		xdp_prog_set_alive(struct xdp_prog *, uint64_t until_ns);

/* Classifier counters summed over CPUs, enum lbd_cls_stat order. */
void		xdp_prog_stats(const struct xdp_prog *, uint64_t out[LBD_CLS__COUNT]);

/* libxdp needs bpffs at /sys/fs/bpf; mount it when it is missing. */
int		xdp_prog_ensure_bpffs(void);

#endif /* LBD_DATAPLANE_XDP_PROG_H */
