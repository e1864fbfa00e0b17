/*
 * from_conf — the engine's view of a configuration: services with their
 * backends, schedulers and SNAT pools, and the table parameters (size,
 * timeouts). Used at start and on every reload.
 */
#ifndef LBD_ENGINE_FROM_CONF_H
#define LBD_ENGINE_FROM_CONF_H

#include "conf/conf.h"
#include "lbd/engine/dp.h"

/* Engine parameters: conn-table-size and the timeouts. */
void	dp_params_from_conf(const struct conf *, struct dp_params *);

/*
 * Build the service array for dp_engine_set_services() (which takes it).
 * Backends start up; health checks change that later. -1 when out of memory.
 */
int	dp_services_from_conf(const struct conf *, struct dp_service **out,
	    uint32_t *n);

#endif /* LBD_ENGINE_FROM_CONF_H */
