/*
 * stats — every counter and gauge lbd shows, defined once.
 *
 * Each scope (the daemon, a service, a backend, a VRRP instance, the sync
 * peer, ...) has a table of its values: name, counter or gauge, format,
 * help text, and how lbctl's text shows it. The module that owns the
 * values fills an array indexed by the scope's enum (where each is read);
 * `lbctl show ...` (a table, or prose), `--json` and Prometheus are all
 * rendered from the table, so a value has one name everywhere: the JSON
 * key is the name, the Prometheus family is <scope prefix>_<name> (plus
 * _total for a counter) unless the table gives it another for
 * compatibility, and a value counted by reason is one family with a
 * `reason` label. Like HAProxy's stat_col table.
 *
 * Values are int64_t; a format says how to print them (a count, a
 * boolean, milliseconds shown as seconds, microseconds shown as
 * milliseconds).
 */
#ifndef LBD_STATS_H
#define LBD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/buf.h"

enum stat_kind {
	STAT_COUNTER,
	STAT_GAUGE,
};

enum stat_fmt {
	STAT_INT,
	STAT_BOOL,	/* JSON true/false, Prometheus 0/1 */
	STAT_MS,	/* milliseconds; Prometheus in seconds */
	STAT_MS_S,	/* milliseconds, JSON and text in seconds (.1) */
	STAT_US_MS,	/* microseconds, JSON and text in ms (.3), Prometheus s */
};

struct stat_def {
	const char	*name;		/* JSON key */
	enum stat_kind	 kind;
	enum stat_fmt	 fmt;
	const char	*help;
	const char	*prom;		/* Prometheus family, if not derived */
	const char	*col;		/* lbctl table header, NULL: no column */
	int		 width;
	const char	*say;		/* lbctl prose, "%s datagrams" */
};

/* A family counted by reason (or by state): one value per name. */
struct stat_reasons {
	const char	*name;		/* JSON key */
	const char	*label;		/* "reason" */
	enum stat_kind	 kind;
	const char	*help;
	const char	*prom;		/* the Prometheus family, whole */
	const char	*(*name_of)(int);
	int		 first, count;	/* the names [first, count) */
};

struct stat_scope {
	const char		*prom;		/* family prefix: "lbd_backend" */
	const char		*labels[3];	/* label names, NULL-ended */
	const struct stat_def	*defs;
	size_t			 n;
};

/* ---- the scopes, and the index of each value in its scope --------------- */

enum {
	ST_DAEMON, ST_CONTROL, ST_SERVICE, ST_BACKEND, ST_HEALTH, ST_DP,
	ST_WORKER, ST_IFACE, ST_SNAT, ST_VRRP, ST_VRRP_PORT, ST_VRRP_GROUP,
	ST_VRRP_KEEPER,
	ST_SYNC, ST_SYNC_LINK, ST_FASTPATH,
	ST__COUNT
};

extern const struct stat_scope stat_scopes[ST__COUNT];

enum { SD_SERVICES, SD_VRRP_INSTANCES, SD_UPTIME, SD_RELOADS,
	SD_RELOAD_FAILURES, SD_LAST_RELOAD_OK, SD_START, SD_NAT_LOG_LINES,
	SD_NAT_LOG_DROPPED, SD_CLUSTER_ANNOUNCED, SD_CLUSTER_DRAINED,
	SD_CLUSTER_ROUTE_CHANGES, SD_CLUSTER_ROUTE_ERRORS, SD__COUNT };
enum { SC_CLIENTS, SC_WATCHING, SC_ACCEPTED, SC_COMMANDS, SC_ERRORS, SC_OVERLONG,
	SC_REFUSED, SC_DROPPED_SLOW, SC_IDLE_CLOSED, SC_EVICTED, SC__COUNT };
enum { SV_ACTIVE, SV_CONNS, SV_PKTS_IN, SV_PKTS_OUT, SV_BYTES_IN,
	SV_BYTES_OUT, SV__COUNT };
enum { SB_TAKES_NEW, SB_WEIGHT, SB_CONFIG_WEIGHT, SB_WEIGHT_OVERRIDE,
	SB_ACTIVE, SB_CONNS, SB_PKTS_IN, SB_PKTS_OUT, SB_BYTES_IN,
	SB_BYTES_OUT, SB_SLOW_START, SB_BACKUP, SB_MAX_CONNS, SB_OPEN,
	SB__COUNT };
enum { SH_UP, SH_CHECKED, SH_LAST_OK, SH_LATENCY, SH_CHECKS, SH_FAILURES,
	SH_DRAIN, SH_WEIGHT_PCT, SH_OBSERVED, SH__COUNT };
enum { SP_RX, SP_TX, SP_PASSED, SP_ICMP_TRANSLATED, SP_RST_SENT,
	SP_NEIGH_HELD, SP_NEIGH_HELD_SENT, SP_TX_NO_FRAME, SP_TX_RING_FULL,
	SP_HANDOFF_FULL, SP_SYNC_OTHER_WORKER, SP_RESOLVE_LOST,
	SP_RESOLVE_ASKED, SP_TABLE_EVICTED, SP_TABLE_FULL, SP_TABLE_CREATED,
	SP_TABLE_EXPIRED, SP_TABLE_ENTRIES, SP_EVENTS_LOST, SP_ANNOUNCEMENTS,
	SP_TABLE_PROVEN, SP_STATELESS_UNRECORDED, SP_RATE_EVICTED, SP_PERSIST_ENTRIES, SP_PERSIST_HITS,
	SP_PERSIST_FULL, SP_PERSIST_EVICTED, SP_ICMP_SENT, SP_ICMP_LIMITED,
	SP_SNAT_RECLAIMED,
	SP_ANNOUNCEMENTS_PACED, SP__COUNT };
enum { SW_RX, SW_HANDED_OUT, SW_HANDED_IN, SW_HANDOFF_FULL, SW__COUNT };
enum { SI_MTU, SI_CARRIER, SI_QUEUES, SI_RX, SI_TX, SI_REDIRECTED,
	SI_PASSED, SI_NO_SOCKET, SI__COUNT };
enum { SN_PORTS_IN_USE, SN_PEAK_PCT, SN__COUNT };
enum { SR_MASTER, SR_PRIORITY, SR_EFFECTIVE_PRIORITY, SR_ADVERT_MS,
	SR_MASTER_ADVERT_MS, SR_TRANSITIONS, SR_SINCE, SR_RX, SR_TX,
	SR_INTERFACE_UP, SR__COUNT };
enum { SRP_RX, SRP__COUNT };
enum { SK_RUNNING, SK_REALTIME, SK_KEPT, SK__COUNT };
enum { SG_MASTER, SG_HEARTBEAT, SG_PEER_MASTER, SG_PARTITION, SG_PARTITIONS,
	SG_SPLIT_BRAINS, SG__COUNT };
enum { SY_PEER_UP, SY_SYNCED, SY_CONFIG_AGREES, SY_PEER_EPOCH,
	SY_LAST_HEARD, SY_TX_SEQ, SY_TX_ACKED, SY_IN_FLIGHT, SY_RX_SEQ,
	SY_LAG_P50, SY_LAG_P99, SY_DGRAMS_SENT, SY_RECORDS_SENT, SY_BYTES_SENT,
	SY_RETRANSMITS, SY_WINDOW_FULL, SY_EVENTS_LOST, SY_BULKS_SENT, SY_DGRAMS_RECV,
	SY_RECORDS_RECV, SY_APPLIED, SY_REFUSED, SY_BYTES_RECV, SY_BULKS_RECV,
	SY_ACCEPT_KEY, SY_FOREIGN, SY_SWITCHES, SY_HEARTBEAT, SY_HB_LOSSES,
	SY__COUNT };
enum { SL_UP, SL_ACTIVE, SL_LAST_HEARD, SL_SEND_ERRORS, SL__COUNT };
enum { SF_FLOWS, SF_FORWARDED, SF_PUNT_MISS, SF_PUNT_FLAGS, SF_PUNT_TTL,
	SF_PUNT_MTU, SF_PASSED, SF_DEAD, SF_NO_PUNT, SF_SENT, SF_GUARDED, SF_OFFLOADED,
	SF_UNLOADED, SF_INSTALLED, SF_REMOVED, SF_INSTALL_FAILED,
	SF_OFFLOAD_LOST, SF_RECONCILED, SF__COUNT };

/* Families by reason or state. */
extern const struct stat_reasons stat_dp_drops, stat_service_drops,
	   stat_conn_states, stat_vrrp_drops, stat_vrrp_port_drops,
	   stat_vrrp_states, stat_sync_drops, stat_sync_refused;

/* ---- rendering ------------------------------------------------------------ */

/* `"name":value` for every value of the scope, comma-separated (a leading
 * comma when `comma`). */
void	stats_json(struct buf *, int scope, const int64_t *v, bool comma);
/* `"name":{"reason":n,...}` (a leading comma when `comma`), or only
 * the `"reason":n,...` inside. */
void	stats_json_reasons(struct buf *, const struct stat_reasons *,
	    const uint64_t *counts, bool comma);
void	stats_json_reasons_flat(struct buf *, const struct stat_reasons *,
	    const uint64_t *counts, bool comma);
/* lbctl tables: the headers and one row of the scope's columns. */
void	stats_text_head(struct buf *, int scope);
void	stats_text_row(struct buf *, int scope, const int64_t *v);
/* lbctl prose: the phrases of values [from, to), ", "-separated. */
void	stats_say(struct buf *, int scope, const int64_t *v, int from, int to);
/* One value as lbctl's text shows it. */
void	stats_text_value(struct buf *, const struct stat_def *, int64_t v);
/* `name value` lines for the reasons that are not zero. */
void	stats_text_reasons(struct buf *, const struct stat_reasons *,
	    const uint64_t *counts, const char *indent);

/*
 * Prometheus: the rows of a scope (their label values and values),
 * rendered family by family as the text format wants them.
 */
struct stat_rows {
	size_t		  n, cap;
	const char	**labels;	/* n x the scope's label count */
	int64_t		 *v;		/* n x the scope's value count */
};
/* Room for a row; its labels are copied by the caller (strings must live
 * until rendered). NULL when out of memory. */
int64_t	*stats_row(struct stat_rows *, int scope, const char *const *labels);
void	stats_rows_free(struct stat_rows *);
void	stats_prom(struct buf *, int scope, const struct stat_rows *);
/* A family by reason: rows of label values, each with its counts. */
struct stat_reason_rows {
	size_t		  n, cap;
	const char	**labels;	/* n x n_labels */
	const uint64_t	**counts;	/* n pointers to the caller's arrays */
	size_t		  n_labels;
	const char	 *label_names[3];
};
int	stats_reason_row(struct stat_reason_rows *, const char *const *labels,
	    const uint64_t *counts);
void	stats_reason_rows_free(struct stat_reason_rows *);
void	stats_prom_reasons(struct buf *, const struct stat_reasons *,
	    const struct stat_reason_rows *);
/* Every value: JSON name, Prometheus family, type, help (lbd --stats-table). */
void	stats_table_print(FILE *);
/* A Prometheus label value, escaped. */
void	stats_prom_label(struct buf *, const char *);

#endif /* LBD_STATS_H */
