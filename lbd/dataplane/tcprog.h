/*
 * tcprog — the kernel fast path's programs (fastpath.bpf.c) in the kernel:
 * loaded once, attached with libbpf's TC API (clsact ingress, direct
 * action; netlink, so kernels without tcx work too) to every data
 * interface and to the near end of each internal punt pair, the guard to
 * every data interface's egress, and the maps lbd writes: flows,
 * interfaces, ownership, the dead man's switches.
 */
#ifndef LBD_DATAPLANE_TCPROG_H
#define LBD_DATAPLANE_TCPROG_H

#include <stdbool.h>
#include <stdint.h>

#include "lbd/dataplane/bpfmaps.h"
#include "lbd/dataplane/fastpath.h"

struct tcprog;

/* Load the programs with room for `flows` flows. NULL with `err` set. */
struct tcprog	*tcprog_open(uint32_t flows, char *err, size_t errlen);
/* Take lbd's filter off everywhere it is attached, then free. */
void		 tcprog_close(struct tcprog *);
/* Whether the clsact qdisc on `ifindex` was made by lbd (none was there,
 * or a killed lbd's filter was on it), and dropping one: the caller drops what it made once no filter
 * is left on it, so nobody else's filter goes with it. */
bool		 tcprog_made_clsact(const struct tcprog *, int ifindex);
void		 tcprog_clsact_drop(int ifindex);
/* lbd_fp_in on data interface `ifindex`, its punts to `punt_ifindex`;
 * lbd_fp_guard on its egress. */
int		 tcprog_attach_data(struct tcprog *, int ifindex, int punt_ifindex,
		    char *err, size_t errlen);
/* lbd_fp_out on the near end `ifindex` of a pair, out of `data_ifindex`. */
int		 tcprog_attach_punt(struct tcprog *, int ifindex, int data_ifindex,
		    char *err, size_t errlen);
int		 tcprog_set_owned(struct tcprog *, const struct xdp_owned *);
int		 tcprog_set_alive(struct tcprog *, uint64_t until_ns);
/* The map lbd's VRRP thread pushes forward (CLOCK_MONOTONIC ns until
 * which frames from virtual MACs may leave): fastpath.bpf.c's guard. */
int		 tcprog_vrrp_alive_fd(const struct tcprog *);
void		 tcprog_stats(const struct tcprog *, uint64_t out[LBD_FP__COUNT]);
int		 tcprog_flows_fd(const struct tcprog *);
/* The programs (lbd_fp_out when `out`) and the interface map, for tests
 * that run them with BPF_PROG_TEST_RUN: frames of `ifindex` go to `to`
 * (a data interface's punts when `data`, else a pair's way out). */
int		 tcprog_prog_fd(const struct tcprog *, bool out);
int		 tcprog_guard_fd(const struct tcprog *);
int		 tcprog_route(struct tcprog *, int ifindex, int to, bool data);
/* Can this kernel run it at all (clsact, cls_bpf, the helpers)? The
 * reason when not. */
bool		 tcprog_supported(char *why, size_t len);

#endif /* LBD_DATAPLANE_TCPROG_H */
