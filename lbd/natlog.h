/*
 * The NAT log: a line per snat connection (natlog.c says when, and its
 * form), rate-limited.
 */
#ifndef LBD_NATLOG_H
#define LBD_NATLOG_H

#include <stddef.h>
#include <stdint.h>

struct lbd;
struct ct_event;

struct natlog {
	double		 tokens;	/* lines the rate allows now */
	uint64_t	 filled;	/* mono ms of the last count */
	uint64_t	 lines, dropped;
	uint64_t	 said, said_at;	/* dropped lines last told of, when */
};

/* The engine's connection events, on the loop (a no-op without
 * `nat-log on`). */
void	natlog_events(struct lbd *, const struct ct_event *, size_t n);

#endif /* LBD_NATLOG_H */
