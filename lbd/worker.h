/*
 * worker — a data-plane thread. It owns the packet engine and the AF_XDP
 * ports, and runs to completion: receive a batch on a port, process it,
 * send, repeat; poll() when idle (an eventfd wakes it for the main thread).
 *
 * The main thread never touches the engine. It hands the worker a function
 * to run between two batches (worker_call) and waits for it: that is how
 * service sets, backend states, routes, neighbours and statistics cross,
 * with no lock on the packet path — the worker looks at one atomic flag per
 * loop turn.
 */
#ifndef LBD_WORKER_H
#define LBD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "lbd/engine/dp.h"
#include "lbd/io/xsk_port.h"

#define WORKER_MAX_PORTS	64

struct worker;

typedef void	(*worker_fn)(struct dp_engine *, void *arg);
/* Called on the worker thread with next hops the engine could not resolve;
 * must only queue them (the main thread asks the kernel). */
typedef void	(*worker_resolve_fn)(const struct dp_resolve *, size_t n, void *arg);

struct worker_port_stats {
	int		ifindex;
	uint32_t	queue;
	struct xsk_port_stats st;
	bool		frames_ok;
};

/* Called on the worker thread with connection events drained from the
 * engine (ha-sync); must only queue them. */
typedef void	(*worker_events_fn)(const struct ct_event *, size_t n, void *arg);

struct worker	*worker_new(struct dp_engine *, worker_resolve_fn, void *arg);
/* Before worker_start only. */
void		worker_set_events(struct worker *, worker_events_fn, void *arg);
/* Before worker_start only. The port must be open. */
int		worker_add_port(struct worker *, struct xsk_port *);
int		worker_start(struct worker *);
/* Stop the thread; the engine and ports go back to the caller. */
void		worker_stop(struct worker *);
void		worker_free(struct worker *);

/* Run fn(engine, arg) on the worker thread between batches; returns when it
 * has run (or at once, on this thread, when the worker is not running). */
void		worker_call(struct worker *, worker_fn fn, void *arg);

/* Port counters (a consistent copy, taken on the worker thread). */
size_t		worker_port_stats(struct worker *, struct worker_port_stats *out,
		    size_t max);

#endif /* LBD_WORKER_H */
