/*
 * lbctl ha handover [GROUP]: hand VRRP groups to the peer after checking
 * it is ready; the reply waits until the peer holds them (handover.c).
 */
#ifndef LBD_HANDOVER_H
#define LBD_HANDOVER_H

#include <stdbool.h>

#include "lib/buf.h"

struct lbd;
struct ctl_caller;

/* The command: false with an error line in `out` when refused (nothing
 * changed); true when under way (the reply ends later). */
bool	lbd_handover(struct lbd *, const struct ctl_caller *,
	    const char *group, bool json, struct buf *out);
/* lbd stops: a handover under way ends with an error. */
void	lbd_handover_stop(struct lbd *);

#endif /* LBD_HANDOVER_H */
