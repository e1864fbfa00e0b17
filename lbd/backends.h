/*
 * backends — the control plane's view of every backend: configured weight,
 * the operator's admin state and weight override (`lbctl disable|enable|
 * drain SVC/BACKEND`, `lbctl set weight SVC/BACKEND N`), kept across reloads
 * by name, and the effective state that results together with health.
 *
 * Effective: a backend takes new connections when it is enabled, its health
 * (if checked) is up, and its weight is not 0; `drain` (admin or agent) and
 * weight 0 keep existing connections and take no new ones; `disabled` the
 * same, shown as such. An agent's NN% scales the weight.
 */
#ifndef LBD_BACKENDS_H
#define LBD_BACKENDS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "lib/namemap.h"

enum be_admin {
	BE_ENABLED,
	BE_DRAIN,
	BE_DISABLED,
};

struct be {
	char		name[2 * CONF_NAME_MAX + 2];	/* "svc/backend" */
	char		addr[64];			/* "10.0.0.11:80" */
	uint32_t	cfg_weight;
	int32_t		weight_override;		/* -1: none */
	uint8_t		admin;				/* enum be_admin */
	bool		backup;				/* config's `backup` */
	uint32_t	max_conns;			/* config's, 0: none */
	/* slow-start (be_ramp): the service's duration, whether the backend
	 * took new connections when last looked at, since when it ramps. */
	uint32_t	slow_start_ms;
	bool		seen, taking;
	uint64_t	ramp_from_ms;			/* 0: not ramping */
	uint8_t		ramp_pct;			/* 100: full weight */
};

/* What health says about a backend (health_mgr), for be_effective(). */
struct be_health {
	bool		checked;
	bool		up;
	bool		agent_drain;
	bool		last_ok;			/* the last check passed */
	int16_t		agent_pct;			/* -1: none */
	uint64_t	checks, failures;
	double		latency_ms;			/* of the last check */
	uint64_t	observed;			/* passive health's errors */
};

struct be_effective {
	bool		takes_new;
	bool		health_down;	/* checked and failing, whatever the
					 * admin state */
	uint32_t	weight;		/* as shown: slow-start applied */
	uint32_t	full_weight;	/* without slow-start */
	uint8_t		ramp_pct;	/* slow-start: 0..99, 100 when done */
	const char	*state;		/* up, down, drain, disabled */
};

struct backends {
	struct be	*v;
	size_t		 n;
	struct namemap	 index;		/* by name */
	bool		 applied;	/* a config was applied before */
};

/* Rebuild from a config, keeping admin state and overrides by name. */
int		backends_apply(struct backends *, const struct conf *);
void		backends_free(struct backends *);
struct be	*backends_find(struct backends *, const char *name);
void		be_effective(const struct be *, const struct be_health *,
		    struct be_effective *);
const char	*be_admin_name(enum be_admin);
/*
 * slow-start: told whether the backend takes new connections now (its
 * effective state without the ramp), at monotonic `now_ms`. A backend that
 * begins taking them after lbd has started (health, enable, added by a
 * reload) ramps its weight from ~0 to full over the service's slow-start.
 * Returns true when ramp_pct changed.
 */
bool		be_ramp(struct be *, bool takes_new, uint64_t now_ms);
/* The backend's values (lbd/stats.h ST_BACKEND); `t` the data plane's
 * counters for it, or NULL. */
struct dp_be_snap;
/* What health says, as values (ST_HEALTH). */
void		be_health_stats(const struct be_health *, int64_t *v);
void		be_stats(const struct be *, const struct be_health *,
		    const struct dp_be_snap *t, int64_t *v);

#endif /* LBD_BACKENDS_H */
