/*
 * The golden cases' first .expect line names the service the case runs
 * against; replay (engine only) and fastpath (engine vs the TC program)
 * read it the same way.
 */
#ifndef LBD_TESTS_PACKETS_GOLDEN_H
#define LBD_TESTS_PACKETS_GOLDEN_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../unit/topo.h"

static inline bool
golden_service(const char *line, struct dp_service *s)
{
	char mode[16], proto[8];
	int family, port, bport, nb;
	enum dp_mode m;

	if (sscanf(line, "service mode=%15s family=%d proto=%7s port=%d bport=%d "
	    "backends=%d", mode, &family, proto, &port, &bport, &nb) != 6)
		return false;
	m = strcmp(mode, "routed") == 0 ? DP_MODE_ROUTED :
	    strcmp(mode, "snat") == 0 ? DP_MODE_SNAT : DP_MODE_DSR;
	*s = mk_service(family, strcmp(proto, "tcp") == 0 ? 6 : 17,
	    (uint16_t)port, m, DP_SCHED_RR, nb, (uint16_t)bport);
	return true;
}

#endif
