/*
 * worker — a data-plane thread. It owns a packet engine and its AF_XDP
 * ports, and runs to completion: receive a batch on a port, process it,
 * send, repeat; poll() when idle (an eventfd wakes it for the main thread).
 *
 * With several workers (worker_link) each owns the connections dp_steer
 * gives it and the receive queues the caller gave it. A frame that arrives
 * at one worker for another's connection is copied into a ring to that
 * worker (lib/spsc, one ring per ordered pair), which processes it and
 * sends it from a port of its own: both directions of a connection meet in
 * one engine, whatever queue the NIC's hash put them on.
 *
 * The main thread never touches the engine. It hands the worker a function
 * to run between two batches (worker_call) and waits for it: that is how
 * service sets, backend states, routes, neighbours and statistics cross,
 * with no lock on the packet path — the worker looks at one atomic flag per
 * loop turn.
 */
#ifndef LBD_DATAPLANE_WORKER_H
#define LBD_DATAPLANE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "lbd/engine/dp.h"
#include "lbd/dataplane/flows.h"
#include "lbd/dataplane/xsk_port.h"

#define WORKER_MAX_PORTS	64
#define WORKER_MAX		64	/* workers 1..64 in conf */

struct worker;

typedef void	(*worker_fn)(struct dp_engine *, void *arg);
/* Called on the worker thread with next hops the engine could not resolve;
 * must only queue them (the main thread asks the kernel). */
typedef void	(*worker_resolve_fn)(const struct dp_resolve *, size_t n, void *arg);

struct worker_port_stats {
	int		ifindex;
	uint16_t	eng_if;		/* the data interface it serves */
	uint32_t	queue;
	struct xsk_port_stats st;
	bool		frames_ok;
};

struct worker_stats {
	uint64_t	rx;		/* frames received on its own ports */
	uint64_t	handed_out;	/* frames passed to their owner */
	uint64_t	handed_in;	/* frames received from the others */
	uint64_t	handoff_full;	/* dropped: the owner's ring was full */
	uint32_t	flows;		/* its flows in the kernel now */
	struct fp_flows_stats fl;
};

/* Called on the worker thread with connection events drained from the
 * engine (ha-sync), and `lost`: how many its event ring dropped since the
 * last call; must only queue them. */
typedef void	(*worker_events_fn)(const struct ct_event *, size_t n,
		    uint64_t lost, void *arg);

struct worker	*worker_new(struct dp_engine *, worker_resolve_fn, void *arg);
/* Before worker_start only. */
void		worker_set_events(struct worker *, worker_events_fn, void *arg);
/* Before worker_start only: the engine's flows go to the kernel through
 * `f` (the kernel fast path); the worker owns it from now on. */
void		worker_set_flows(struct worker *, struct fp_flows *f);
/* Before worker_start only. The port must be open. */
int		worker_add_port(struct worker *, struct xsk_port *);
/* Before worker_start only: workers ws[0..n) hand frames to each other;
 * ws[i]'s engine must have been made as worker i of n (dp_params). */
int		worker_link(struct worker **ws, uint32_t n);
int		worker_start(struct worker *);
/* Stop the thread; the engine and ports go back to the caller. */
void		worker_stop(struct worker *);
void		worker_free(struct worker *);

/* Run fn(engine, arg) on the worker thread between batches; returns when it
 * has run (or at once, on this thread, when the worker is not running). */
void		worker_call(struct worker *, worker_fn fn, void *arg);

/* Bring the engine's counters up to date with the kernel fast path's
 * (before a snapshot of them). */
void		worker_sync_flows(struct worker *);
/* Hand-off counters (a consistent copy, taken on the worker thread). */
void		worker_stats(struct worker *, struct worker_stats *);

/* Port counters (a consistent copy, taken on the worker thread). */
size_t		worker_port_stats(struct worker *, struct worker_port_stats *out,
		    size_t max);

#endif /* LBD_DATAPLANE_WORKER_H */
