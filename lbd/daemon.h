/*
 * daemon — the lbd process: one libev loop in the main thread, the current
 * configuration, reload on SIGHUP or `lbctl reload`, orderly stop on
 * SIGTERM/SIGINT, and the control socket.
 */
#ifndef LBD_DAEMON_H
#define LBD_DAEMON_H

#include <stdbool.h>
#include <time.h>

#include <ev.h>

#include "conf/conf.h"
#include "lbd/backends.h"
#include "lbd/dataplane/dataplane.h"
#include "lbd/ctl.h"
#include "lbd/natlog.h"
#include "lbd/health_mgr.h"
#include "lbd/metrics.h"
#include "lib/buf.h"
#include "lbd/sync_mgr.h"
#include "lbd/vrrp_mgr.h"

/* A backend's state as last handed to the engine. */
struct be_pushed {
	bool			 valid;
	struct dp_backend_state	 st;
};

enum lbd_reload_result {
	LBD_RELOAD_NONE,
	LBD_RELOAD_OK,
	LBD_RELOAD_FAILED,
};

struct lbd {
	struct ev_loop		*loop;
	const char		*conf_path;
	const char		*pidfile;
	struct conf		*conf;		/* current; replaced whole on reload */
	struct ctl_server	*ctl;
	struct ctl_server	*ctl_ro;	/* control-socket-readonly */
	struct health_mgr	*health;
	struct backends		 backends;	/* admin state, across reloads */
	struct metrics_server	*metrics;	/* NULL without `metrics listen` */
	struct dataplane	*dp;		/* NULL without `interface` */
	struct vrrp_mgr		*vrrp;		/* NULL without vrrp-group */
	struct sync_mgr		*sync;		/* NULL without sync (or data plane) */
	bool			 preempt_held;	/* until the first resync */
	double			 held_since;	/* ev_now */
	struct be_pushed	*pushed;	/* what the engine was told, per
						 * backend (conf order) */
	size_t			 n_pushed;
	ev_timer		 be_timer;
	ev_timer		 watchdog;	/* systemd's WatchdogSec= */

	struct timespec		 started;	/* CLOCK_REALTIME */
	double			 started_mono;	/* ev_now at start */
	unsigned		 reloads;	/* successful */
	unsigned		 reload_failures;
	time_t			 last_reload;
	enum lbd_reload_result	 last_result;
	struct buf		 last_report;	/* errors, or the changes applied */

	struct pair_peer	*pair;		/* the peer's word (lbd/pair.h) */
	struct handover		*handover;	/* lbctl ha handover under way */
	uint64_t		 pair_bad;	/* the peer's pair word malformed */
	struct natlog		 natlog;	/* `nat-log on` */
	struct announce		*announce;	/* a cluster node's routes */
	/* What each cluster peer said (lbd/cluster_peers.h), by the index of
	 * its `peer` line; CONF_SYNC_PEERS_MAX of them once one spoke. */
	struct cluster_peer	*cpeers;
	ev_timer		 stop_timer;	/* withdraw-delay after SIGTERM */
	bool			 stopping;

	ev_signal		 sig_hup, sig_term, sig_int;
	int			 stop_signal;
};

/* Load the config, open the control socket, run until stopped.
 * Returns the process exit status. */
int	lbd_run(const char *conf_path, const char *pidfile);

/*
 * Parse and validate the file again; on success swap to it and log what
 * changed, on failure keep the running config untouched. `report` receives
 * the diagnostics (and on success the changes), one per line.
 * Returns 0 when the new config is running.
 */
int	lbd_reload(struct lbd *, struct buf *report);

/* Changes from the running config to `new` the running process cannot
 * take without a restart: one "FILE: error: ..." line each into `report`;
 * their count. */
int	lbd_reload_refusals(const struct lbd *, const struct conf *new,
	    struct buf *report);

/* A backend's admin state, weight or health changed: tell the engine and
 * VRRP's service tracking now rather than at the next timer tick. */
void	lbd_backends_changed(struct lbd *);
/* lbctl cluster drain|resume: withdraw the VIPs (the SNAT addresses stay
 * announced, for the connections' replies) or announce them again. */
void	lbd_cluster_drain(struct lbd *, bool drained);

/* The daemon's and the control socket's values (lbd/stats.h ST_DAEMON,
 * ST_CONTROL). */
void	lbd_daemon_stats(const struct lbd *, int64_t *v);
void	lbd_control_stats(const struct lbd *, int64_t *v);
/* Control commands (ctl_cmds.c). */
/* The caller lbd's own requests run as: read-only, nobody's. */
extern const struct ctl_caller lbd_self_caller;
/* `show stat --json`, of the services `only` marks (by index; NULL: all). */
void	lbd_show_stat_json(struct lbd *, struct buf *, const bool *only);
bool	lbd_ctl_dispatch(void *lbd, const struct ctl_caller *, char *line,
	    struct buf *body);

#endif /* LBD_DAEMON_H */
