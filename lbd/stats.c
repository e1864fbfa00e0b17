/*
 * Every counter and gauge, defined once, and the renderers that turn
 * them into lbctl text, JSON and Prometheus (see stats.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/ct.h"
#include "lbd/engine/dp.h"
#include "lbd/engine/drop.h"
#include "lbd/stats.h"
#include "ha-sync/sync.h"
#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"

#define C	STAT_COUNTER
#define G	STAT_GAUGE

/* ---- the daemon and its control socket ---------------------------------- */

static const struct stat_def daemon_defs[SD__COUNT] = {
	[SD_SERVICES] = { .name = "services", .kind = G, .fmt = STAT_INT,
	    .help = "Services configured.", .say = "%s services" },
	[SD_VRRP_INSTANCES] = { .name = "vrrp_instances", .kind = G,
	    .fmt = STAT_INT,
	    .help = "VRRP instances configured.",
	    .say = "%s VRRP instances" },
	[SD_UPTIME] = { .name = "uptime_s", .kind = G, .fmt = STAT_INT,
	    .help = "Seconds since lbd started.",
	    .prom = "lbd_uptime_seconds" },
	[SD_RELOADS] = { .name = "reloads", .kind = C, .fmt = STAT_INT,
	    .help = "Reloads that took effect.",
	    .prom = "lbd_reloads_total" },
	[SD_RELOAD_FAILURES] = { .name = "reload_failures", .kind = C,
	    .fmt = STAT_INT,
	    .help = "Reloads refused; the previous configuration kept running.",
	    .prom = "lbd_reload_failures_total" },
	[SD_LAST_RELOAD_OK] = { .name = "last_reload_success", .kind = G,
	    .fmt = STAT_BOOL,
	    .help = "1 when the last reload took effect, 0 when it was refused.",
	    .prom = "lbd_last_reload_success" },
	[SD_START] = { .name = "start_time_s", .kind = G, .fmt = STAT_INT,
	    .help = "When lbd started, in seconds since the epoch.",
	    .prom = "lbd_start_time_seconds" },
	[SD_NAT_LOG_LINES] = { .name = "nat_log_lines", .kind = C,
	    .fmt = STAT_INT, .help = "NAT log lines written (nat-log on)." },
	[SD_NAT_LOG_DROPPED] = { .name = "nat_log_dropped", .kind = C,
	    .fmt = STAT_INT, .help = "NAT log lines over nat-log rate, not "
	    "written." },
	[SD_CLUSTER_ANNOUNCED] = { .name = "cluster_announced", .kind = G,
	    .fmt = STAT_INT, .help = "Prefixes a cluster node announces now "
	    "(routes in its announce table): VIPs it can serve, SNAT "
	    "addresses.", .prom = "lbd_cluster_prefixes_announced" },
	[SD_CLUSTER_DRAINED] = { .name = "cluster_drained", .kind = G,
	    .fmt = STAT_BOOL, .help = "1 while the cluster node is drained "
	    "(lbctl cluster drain): its VIPs withdrawn." },
	[SD_CLUSTER_ROUTE_CHANGES] = { .name = "cluster_route_changes",
	    .kind = C, .fmt = STAT_INT, .help = "Routes a cluster node added "
	    "to or removed from its announce table.",
	    .prom = "lbd_cluster_route_changes_total" },
	[SD_CLUSTER_ROUTE_ERRORS] = { .name = "cluster_route_errors",
	    .kind = C, .fmt = STAT_INT, .help = "Route changes the kernel "
	    "refused (the announcement is not what lbd wants; see the log).",
	    .prom = "lbd_cluster_route_errors_total" },
};

static const struct stat_def control_defs[SC__COUNT] = {
	[SC_CLIENTS] = { .name = "clients", .kind = G, .fmt = STAT_INT,
	    .help = "Clients connected to the control socket.",
	    .say = "%s" },
	[SC_WATCHING] = { .name = "watching", .kind = G, .fmt = STAT_INT,
	    .help = "Control clients streaming events (lbctl watch).",
	    .say = "watching %s" },
	[SC_ACCEPTED] = { .name = "accepted", .kind = C, .fmt = STAT_INT,
	    .help = "Control-socket connections accepted.",
	    .say = "accepted %s" },
	[SC_COMMANDS] = { .name = "commands", .kind = C, .fmt = STAT_INT,
	    .help = "Commands received on the control socket.",
	    .prom = "lbd_control_commands_total",
	    .say = "commands %s" },
	[SC_ERRORS] = { .name = "errors", .kind = C, .fmt = STAT_INT,
	    .help = "Control commands answered with an error.",
	    .prom = "lbd_control_errors_total", .say = "errors %s" },
	[SC_OVERLONG] = { .name = "overlong", .kind = C, .fmt = STAT_INT,
	    .help = "Control lines longer than the limit.",
	    .say = "overlong %s" },
	[SC_REFUSED] = { .name = "refused", .kind = C, .fmt = STAT_INT,
	    .help = "Control connections refused: too many clients.",
	    .say = "refused %s" },
	[SC_DROPPED_SLOW] = { .name = "dropped_slow", .kind = C, .fmt = STAT_INT,
	    .help = "Control clients closed for not reading their replies.",
	    .say = "dropped-slow %s" },
	[SC_IDLE_CLOSED] = { .name = "idle_closed", .kind = C, .fmt = STAT_INT,
	    .help = "Control clients closed for idling.",
	    .say = "idle-closed %s" },
	[SC_EVICTED] = { .name = "evicted", .kind = C, .fmt = STAT_INT,
	    .help = "Control clients closed to admit a new one.",
	    .say = "evicted %s" },
};

/* ---- services and backends ---------------------------------------------- */

static const struct stat_def service_defs[SV__COUNT] = {
	[SV_ACTIVE] = { .name = "active", .kind = G, .fmt = STAT_INT,
	    .help = "Connections the service holds now." },
	[SV_CONNS] = { .name = "conns", .kind = C, .fmt = STAT_INT,
	    .help = "Connections the service made.", .col = "CONNS",
	    .width = 10 },
	[SV_PKTS_IN] = { .name = "pkts_in", .kind = C, .fmt = STAT_INT,
	    .help = "Packets from clients to backends.",
	    .col = "PKTS-IN", .width = 12 },
	[SV_PKTS_OUT] = { .name = "pkts_out", .kind = C, .fmt = STAT_INT,
	    .help = "Packets from backends to clients.",
	    .col = "PKTS-OUT", .width = 12 },
	[SV_BYTES_IN] = { .name = "bytes_in", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes from clients to backends.",
	    .col = "BYTES-IN", .width = 14 },
	[SV_BYTES_OUT] = { .name = "bytes_out", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes from backends to clients.",
	    .col = "BYTES-OUT", .width = 14 },
};

static const struct stat_def backend_defs[SB__COUNT] = {
	[SB_TAKES_NEW] = { .name = "takes_new", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the backend takes new connections (admin state, health).",
	    .prom = "lbd_backend_up" },
	[SB_WEIGHT] = { .name = "weight", .kind = G, .fmt = STAT_INT,
	    .help = "The backend's effective weight.",
	    .prom = "lbd_backend_weight" },
	[SB_CONFIG_WEIGHT] = { .name = "config_weight", .kind = G, .fmt = STAT_INT,
	    .help = "The backend's configured weight." },
	[SB_WEIGHT_OVERRIDE] = { .name = "weight_override", .kind = G,
	    .fmt = STAT_INT,
	    .help = "The weight lbctl set weight gave it, -1 when none." },
	[SB_SLOW_START] = { .name = "slow_start_pct", .kind = G,
	    .fmt = STAT_INT,
	    .help = "Slow-start: the percentage of its weight the backend "
	    "has ramped to (100 when not ramping).",
	    .prom = "lbd_backend_slow_start_percent" },
	[SB_BACKUP] = { .name = "backup", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 for a backup backend (new connections only while "
	    "fewer primaries than the service's quorum take them)." },
	[SB_MAX_CONNS] = { .name = "max_conns", .kind = G, .fmt = STAT_INT,
	    .help = "The backend's max-conns, 0 when none." },
	[SB_OPEN] = { .name = "open", .kind = G, .fmt = STAT_INT,
	    .help = "Connections to the backend that are not closing: what "
	    "max-conns counts.",
	    .prom = "lbd_backend_open_connections" },
	[SB_ACTIVE] = { .name = "active", .kind = G, .fmt = STAT_INT,
	    .help = "Connections to the backend now.", .col = "ACTIVE",
	    .width = 7 },
	[SB_CONNS] = { .name = "conns", .kind = C, .fmt = STAT_INT,
	    .help = "Connections made to the backend.", .col = "CONNS",
	    .width = 9 },
	[SB_PKTS_IN] = { .name = "pkts_in", .kind = C, .fmt = STAT_INT,
	    .help = "Packets from clients to the backend.",
	    .col = "PKTS-IN", .width = 12 },
	[SB_PKTS_OUT] = { .name = "pkts_out", .kind = C, .fmt = STAT_INT,
	    .help = "Packets from the backend to clients.",
	    .col = "PKTS-OUT", .width = 12 },
	[SB_BYTES_IN] = { .name = "bytes_in", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes from clients to the backend.",
	    .col = "BYTES-IN", .width = 14 },
	[SB_BYTES_OUT] = { .name = "bytes_out", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes from the backend to clients.",
	    .col = "BYTES-OUT", .width = 14 },
};

static const struct stat_def health_defs[SH__COUNT] = {
	[SH_UP] = { .name = "up", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the backend's health check says up (checked "
	    "backends only).",
	    .prom = "lbd_health_up" },
	[SH_CHECKED] = { .name = "checked", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the check runs (0: it could not start)." },
	[SH_LAST_OK] = { .name = "last_ok", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the last check passed." },
	[SH_LATENCY] = { .name = "latency_ms", .kind = G, .fmt = STAT_US_MS,
	    .help = "How long the last health check took.",
	    .prom = "lbd_health_latency_seconds" },
	[SH_CHECKS] = { .name = "checks", .kind = C, .fmt = STAT_INT,
	    .help = "Health checks run.",
	    .prom = "lbd_health_checks_total" },
	[SH_FAILURES] = { .name = "failures", .kind = C, .fmt = STAT_INT,
	    .help = "Health checks that failed.",
	    .prom = "lbd_health_failures_total" },
	[SH_DRAIN] = { .name = "drain", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the agent asks that the backend take no new "
	    "connections." },
	[SH_WEIGHT_PCT] = { .name = "weight_pct", .kind = G, .fmt = STAT_INT,
	    .help = "The agent's weight in percent, -1 when none." },
	[SH_OBSERVED] = { .name = "observed_errors", .kind = C,
	    .fmt = STAT_INT, .help = "Connections the data plane saw the "
	    "backend refuse or leave unanswered (check ... observe on).",
	    .prom = "lbd_backend_observed_errors_total" },
};

/* ---- the data plane ----------------------------------------------------- */

static const struct stat_def dp_defs[SP__COUNT] = {
	[SP_RX] = { .name = "rx", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the engines received." },
	[SP_TX] = { .name = "tx", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the engines sent." },
	[SP_PASSED] = { .name = "passed", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the engines handed back to the kernel." },
	[SP_ICMP_TRANSLATED] = { .name = "icmp_translated", .kind = C,
	    .fmt = STAT_INT,
	    .help = "ICMP errors translated for a connection." },
	[SP_RST_SENT] = { .name = "rst_sent", .kind = C, .fmt = STAT_INT,
	    .help = "TCP resets sent (on-backend-down reset)." },
	[SP_NEIGH_HELD] = { .name = "neigh_held", .kind = C, .fmt = STAT_INT,
	    .help = "Frames held while their next hop resolved.",
	    .say = "neigh_held %s" },
	[SP_NEIGH_HELD_SENT] = { .name = "neigh_held_sent", .kind = C,
	    .fmt = STAT_INT,
	    .help = "Held frames sent once their next hop resolved.",
	    .say = "(sent %s)" },
	[SP_TX_NO_FRAME] = { .name = "tx_no_frame", .kind = C, .fmt = STAT_INT,
	    .help = "Frames dropped: the egress port had no free frame." },
	[SP_TX_RING_FULL] = { .name = "tx_ring_full", .kind = C, .fmt = STAT_INT,
	    .help = "Frames dropped: the egress TX ring was full." },
	[SP_HANDOFF_FULL] = { .name = "handoff_full", .kind = C, .fmt = STAT_INT,
	    .help = "Frames dropped: the owning worker's ring was full." },
	[SP_SYNC_OTHER_WORKER] = { .name = "sync_other_worker", .kind = C,
	    .fmt = STAT_INT,
	    .help = "Mirrored snat connections whose port is another worker's." },
	[SP_RESOLVE_LOST] = { .name = "resolve_lost", .kind = C, .fmt = STAT_INT,
	    .help = "Next hops to resolve that did not fit the queue." },
	[SP_RESOLVE_ASKED] = { .name = "resolve_asked", .kind = C, .fmt = STAT_INT,
	    .help = "Next hops the kernel was asked to resolve." },
	[SP_TABLE_EVICTED] = { .name = "table_evicted", .kind = C, .fmt = STAT_INT,
	    .help = "Unproven or closing connections evicted from a full table." },
	[SP_TABLE_FULL] = { .name = "table_full", .kind = C, .fmt = STAT_INT,
	    .help = "New connections refused: the table was full." },
	[SP_TABLE_PROVEN] = { .name = "table_proven", .kind = C,
	    .fmt = STAT_INT, .help = "Connections that proved themselves "
	    "(a reply, the backend's SYN-ACK acknowledged, or in dsr traffic "
	    "past a second): only unproven ones are evicted." },
	[SP_STATELESS_UNRECORDED] = { .name = "stateless_unrecorded",
	    .kind = C, .fmt = STAT_INT, .help = "Packets of stateless dsr "
	    "services forwarded by hash without an entry: the table was full." },
	[SP_RATE_EVICTED] = { .name = "rate_evicted", .kind = C,
	    .fmt = STAT_INT, .help = "Per-source rate-limit buckets (limit "
	    "new-conns) given to another client: the table has a fixed size, "
	    "and that client starts again from a full burst." },
	[SP_PERSIST_ENTRIES] = { .name = "persist_entries", .kind = G,
	    .fmt = STAT_INT, .help = "Clients (or client networks) whose "
	    "backend persistence remembers now." },
	[SP_PERSIST_HITS] = { .name = "persist_hits", .kind = C,
	    .fmt = STAT_INT, .help = "New connections sent to the backend "
	    "their client's persistence named." },
	[SP_PERSIST_FULL] = { .name = "persist_full", .kind = C,
	    .fmt = STAT_INT, .help = "New connections of persisting services "
	    "scheduled without persistence: every slot of the client's set "
	    "held connections." },
	[SP_PERSIST_EVICTED] = { .name = "persist_evicted", .kind = C,
	    .fmt = STAT_INT, .help = "Idle persistence entries given to another "
	    "client before their timeout (the table has a fixed size)." },
	[SP_ICMP_SENT] = { .name = "icmp_sent", .kind = C, .fmt = STAT_INT,
	    .help = "ICMP errors sent as a router hop: fragmentation needed / "
	    "packet too big (a packet over its way out's MTU), time exceeded "
	    "(TTL ran out here).",
	    .prom = "lbd_dp_icmp_errors_sent_total" },
	[SP_ICMP_LIMITED] = { .name = "icmp_limited", .kind = C,
	    .fmt = STAT_INT, .help = "ICMP errors not sent: over 1000 a "
	    "second per worker (bursts of 50)." },
	[SP_SNAT_RECLAIMED] = { .name = "snat_reclaimed", .kind = C,
	    .fmt = STAT_INT, .help = "SNAT ports taken back from unproven "
	    "connections for a new one when a port space was exhausted." },
	[SP_ANNOUNCEMENTS_PACED] = { .name = "announcements_paced", .kind = C,
	    .fmt = STAT_INT, .help = "Announcements that waited for garp rate "
	    "(the node-wide frames-per-second limit)." },
	[SP_TABLE_CREATED] = { .name = "table_created", .kind = C, .fmt = STAT_INT,
	    .help = "Connections entered in the table." },
	[SP_TABLE_EXPIRED] = { .name = "table_expired", .kind = C, .fmt = STAT_INT,
	    .help = "Connections that timed out." },
	[SP_TABLE_ENTRIES] = { .name = "table_entries", .kind = G, .fmt = STAT_INT,
	    .help = "Connections in the table now." },
	[SP_EVENTS_LOST] = { .name = "events_lost", .kind = C, .fmt = STAT_INT,
	    .help = "Connection events for ha-sync lost to a full queue." },
	[SP_ANNOUNCEMENTS] = { .name = "announcements", .kind = C, .fmt = STAT_INT,
	    .help = "Gratuitous ARPs and unsolicited NAs sent." },
};

static const struct stat_def worker_defs[SW__COUNT] = {
	[SW_RX] = { .name = "rx", .kind = C, .fmt = STAT_INT,
	    .help = "Frames received on the worker's queues.",
	    .say = "rx %s" },
	[SW_HANDED_OUT] = { .name = "handed_out", .kind = C, .fmt = STAT_INT,
	    .help = "Frames passed to the worker that owns their connection.",
	    .say = "handed out %s" },
	[SW_HANDED_IN] = { .name = "handed_in", .kind = C, .fmt = STAT_INT,
	    .help = "Frames received from the other workers.",
	    .say = "in %s" },
	[SW_HANDOFF_FULL] = { .name = "handoff_full", .kind = C, .fmt = STAT_INT,
	    .help = "Frames dropped: the owner's ring was full.",
	    .say = "(ring full %s)" },
};

static const struct stat_def iface_defs[SI__COUNT] = {
	[SI_MTU] = { .name = "mtu", .kind = G, .fmt = STAT_INT,
	    .help = "The interface's MTU.", .say = "mtu %s" },
	[SI_CARRIER] = { .name = "carrier", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the link has carrier.",
	    .say = "carrier %s" },
	[SI_QUEUES] = { .name = "queues", .kind = G, .fmt = STAT_INT,
	    .help = "Receive queues lbd serves.", .say = "queues %s" },
	[SI_RX] = { .name = "rx", .kind = C, .fmt = STAT_INT,
	    .help = "Frames lbd received from the interface.",
	    .say = "rx %s" },
	[SI_TX] = { .name = "tx", .kind = C, .fmt = STAT_INT,
	    .help = "Frames lbd sent out of the interface.",
	    .say = "tx %s" },
	[SI_REDIRECTED] = { .name = "redirected", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the classifier took for lbd.",
	    .say = "redirected %s" },
	[SI_PASSED] = { .name = "passed", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the classifier left to the kernel.",
	    .say = "passed %s" },
	[SI_NO_SOCKET] = { .name = "no_socket", .kind = C, .fmt = STAT_INT,
	    .help = "Frames for lbd with no socket to take them.",
	    .say = "no socket %s" },
};

static const struct stat_def snat_defs[SN__COUNT] = {
	[SN_PORTS_IN_USE] = { .name = "ports_in_use", .kind = G, .fmt = STAT_INT,
	    .help = "SNAT ports held by connections, over every backend." },
	[SN_PEAK_PCT] = { .name = "fullest_pct", .kind = G, .fmt = STAT_INT,
	    .help = "How full the address's fullest port space is (ports are "
	    "per backend, protocol and port), in percent of the ports this "
	    "node hands out; lbd warns at 80.",
	    .prom = "lbd_snat_fullest_space_percent" },
};

/* ---- VRRP --------------------------------------------------------------- */

static const struct stat_def vrrp_defs[SR__COUNT] = {
	[SR_MASTER] = { .name = "is_master", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the instance is master." },
	[SR_PRIORITY] = { .name = "priority", .kind = G, .fmt = STAT_INT,
	    .help = "The configured (or lbctl's) priority.",
	    .col = "PRIO", .width = 4 },
	[SR_EFFECTIVE_PRIORITY] = { .name = "effective_priority", .kind = G,
	    .fmt = STAT_INT,
	    .help = "The priority advertised, after tracking.",
	    .col = "EFF", .width = 4 },
	[SR_ADVERT_MS] = { .name = "advert_ms", .kind = G, .fmt = STAT_MS,
	    .help = "The configured advertisement interval.",
	    .prom = "lbd_vrrp_advert_interval_seconds" },
	[SR_MASTER_ADVERT_MS] = { .name = "master_advert_ms", .kind = G,
	    .fmt = STAT_MS,
	    .help = "The master's advertisement interval.",
	    .prom = "lbd_vrrp_master_advert_interval_seconds",
	    .col = "ADVERT", .width = 6 },
	[SR_TRANSITIONS] = { .name = "transitions", .kind = C, .fmt = STAT_INT,
	    .help = "State changes." },
	[SR_SINCE] = { .name = "since_s", .kind = G, .fmt = STAT_MS_S,
	    .help = "Seconds in the current state.",
	    .prom = "lbd_vrrp_state_age_seconds" },
	[SR_RX] = { .name = "rx", .kind = C, .fmt = STAT_INT,
	    .help = "Advertisements received.",
	    .prom = "lbd_vrrp_adverts_received_total", .col = "RX",
	    .width = 8 },
	[SR_TX] = { .name = "tx", .kind = C, .fmt = STAT_INT,
	    .help = "Advertisements sent.",
	    .prom = "lbd_vrrp_adverts_sent_total", .col = "TX", .width = 8 },
	[SR_INTERFACE_UP] = { .name = "interface_up", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the instance's interface has carrier." },
};

static const struct stat_def vrrp_port_defs[SRP__COUNT] = {
	[SRP_RX] = { .name = "rx", .kind = C, .fmt = STAT_INT,
	    .help = "VRRP frames received on the interface.",
	    .prom = "lbd_vrrp_interface_frames_received_total" },
};

static const struct stat_def vrrp_keeper_defs[SK__COUNT] = {
	[SK_RUNNING] = { .name = "running", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the VRRP advert keeper thread runs." },
	[SK_REALTIME] = { .name = "realtime", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when it runs at realtime priority (SCHED_FIFO)." },
	[SK_KEPT] = { .name = "kept", .kind = C, .fmt = STAT_INT,
	    .help = "Adverts it sent because the main loop was late.",
	    .prom = "lbd_vrrp_keeper_adverts_total" },
};

static const struct stat_def vrrp_group_defs[SG__COUNT] = {
	[SG_MASTER] = { .name = "master", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while this node holds the group." },
	[SG_HEARTBEAT] = { .name = "heartbeat", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the heartbeat (sync) hears the peer.",
	    .say = "heartbeat %s" },
	[SG_PEER_MASTER] = { .name = "peer_master", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the peer says over the heartbeat it holds the "
	    "group.", .say = "peer master %s" },
	[SG_PARTITION] = { .name = "partition", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while a takeover is held back: the master went quiet on "
	    "some path but is alive (a partition).", .say = "partition %s" },
	[SG_PARTITIONS] = { .name = "partitions", .kind = C, .fmt = STAT_INT,
	    .help = "Partitions seen (takeovers held back, by episode).",
	    .say = "%s partitions" },
	[SG_SPLIT_BRAINS] = { .name = "split_brains", .kind = C,
	    .fmt = STAT_INT, .help = "Split brains resolved over the "
	    "heartbeat (both nodes master).", .say = "%s split brains" },
};

/* ---- ha-sync ---------------------------------------------------------------- */

static const struct stat_def sync_defs[SY__COUNT] = {
	[SY_PEER_UP] = { .name = "peer_up", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the peer is heard." },
	[SY_SYNCED] = { .name = "synced", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 once a complete bulk resync from the peer arrived." },
	[SY_CONFIG_AGREES] = { .name = "config_agrees", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the peer runs the same services." },
	[SY_PEER_EPOCH] = { .name = "peer_epoch", .kind = G, .fmt = STAT_INT,
	    .help = "The peer's epoch (it changes when the peer restarts)." },
	[SY_LAST_HEARD] = { .name = "last_heard_ms", .kind = G, .fmt = STAT_MS,
	    .help = "Since the peer was last heard (-1: never).",
	    .prom = "lbd_sync_last_heard_seconds" },
	[SY_TX_SEQ] = { .name = "tx_seq", .kind = G, .fmt = STAT_INT,
	    .help = "The last sequence number sent.",
	    .say = "sent seq %s" },
	[SY_TX_ACKED] = { .name = "tx_acked", .kind = G, .fmt = STAT_INT,
	    .help = "The last sequence number the peer acknowledged.",
	    .say = "acked %s" },
	[SY_IN_FLIGHT] = { .name = "in_flight", .kind = G, .fmt = STAT_INT,
	    .help = "Datagrams sent and not yet acknowledged.",
	    .say = "in flight %s" },
	[SY_RX_SEQ] = { .name = "rx_seq", .kind = G, .fmt = STAT_INT,
	    .help = "The last sequence number received in order.",
	    .say = "received seq %s" },
	[SY_LAG_P50] = { .name = "lag_p50_ms", .kind = G, .fmt = STAT_MS,
	    .help = "Median time from a connection event to the peer's ack.",
	    .prom = "lbd_sync_lag_p50_seconds",
	    .say = "lag p50 %s ms" },
	[SY_LAG_P99] = { .name = "lag_p99_ms", .kind = G, .fmt = STAT_MS,
	    .help = "99th percentile of that lag.",
	    .prom = "lbd_sync_lag_p99_seconds", .say = "p99 %s ms" },
	[SY_DGRAMS_SENT] = { .name = "dgrams_sent", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams sent.", .say = "%s datagrams" },
	[SY_RECORDS_SENT] = { .name = "records_sent", .kind = C, .fmt = STAT_INT,
	    .help = "Records sent.", .say = "%s records" },
	[SY_BYTES_SENT] = { .name = "bytes_sent", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes sent.", .say = "%s bytes" },
	[SY_RETRANSMITS] = { .name = "retransmits", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams sent again.",
	    .say = "%s retransmitted" },
	[SY_WINDOW_FULL] = { .name = "window_full", .kind = C, .fmt = STAT_INT,
	    .help = "Records given up: the send window was full.",
	    .say = "%s records given up (window full)" },
	[SY_EVENTS_LOST] = { .name = "events_lost", .kind = C, .fmt = STAT_INT,
	    .help = "Connection events lost to a full queue before the link "
	    "(each loss owes the peer a bulk resync).",
	    .say = "%s events lost (queue full)" },
	[SY_BULKS_SENT] = { .name = "bulks_sent", .kind = C, .fmt = STAT_INT,
	    .help = "Bulk resyncs sent.", .say = "%s bulks" },
	[SY_DGRAMS_RECV] = { .name = "dgrams_recv", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams received.", .say = "%s datagrams" },
	[SY_RECORDS_RECV] = { .name = "records_recv", .kind = C, .fmt = STAT_INT,
	    .help = "Records received.", .say = "%s records" },
	[SY_APPLIED] = { .name = "applied", .kind = C, .fmt = STAT_INT,
	    .help = "Records applied to the table.",
	    .say = "%s applied" },
	[SY_REFUSED] = { .name = "refused", .kind = C, .fmt = STAT_INT,
	    .help = "Records the engine refused.",
	    .say = "%s refused" },
	[SY_BYTES_RECV] = { .name = "bytes_recv", .kind = C, .fmt = STAT_INT,
	    .help = "Bytes received.", .say = "%s bytes" },
	[SY_BULKS_RECV] = { .name = "bulks_recv", .kind = C, .fmt = STAT_INT,
	    .help = "Bulk resyncs received.", .say = "%s bulks" },
	[SY_ACCEPT_KEY] = { .name = "accept_key", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams authenticated by accept-key-file (a key roll "
	    "under way: the peer still signs with the other key).",
	    .say = "%s by accept-key-file" },
	[SY_FOREIGN] = { .name = "foreign", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams from another address than the peer's.",
	    .say = "not_from_peer %s" },
	[SY_SWITCHES] = { .name = "switches", .kind = C, .fmt = STAT_INT,
	    .help = "Moves of the stream between heartbeat links.",
	    .say = "%s switches" },
	[SY_HEARTBEAT] = { .name = "heartbeat", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the peer was heard within heartbeat-timeout on "
	    "some heartbeat link (VRRP's second path).",
	    .say = "hears the peer %s" },
	[SY_HB_LOSSES] = { .name = "heartbeat_losses", .kind = C,
	    .fmt = STAT_INT, .help = "Times the peer fell silent for "
	    "heartbeat-timeout on every heartbeat link.",
	    .say = "%s losses" },
};

static const struct stat_def sync_link_defs[SL__COUNT] = {
	[SL_UP] = { .name = "up", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 while the link hears the peer." },
	[SL_ACTIVE] = { .name = "active", .kind = G, .fmt = STAT_BOOL,
	    .help = "1 when the link carries the stream." },
	[SL_LAST_HEARD] = { .name = "last_heard_ms", .kind = G, .fmt = STAT_MS,
	    .help = "Since the peer was last heard on the link (-1: never).",
	    .prom = "lbd_sync_link_last_heard_seconds" },
	[SL_SEND_ERRORS] = { .name = "send_errors", .kind = C, .fmt = STAT_INT,
	    .help = "Datagrams the link could not send." },
};

/* ---- the kernel fast path ------------------------------------------------ */

static const struct stat_def fastpath_defs[SF__COUNT] = {
	[SF_FLOWS] = { .name = "flows", .kind = G, .fmt = STAT_INT,
	    .help = "Flows in the kernel's table now (two per connection, one "
	    "in dsr).", .say = "%s flows" },
	[SF_FORWARDED] = { .name = "forwarded", .kind = C, .fmt = STAT_INT,
	    .help = "Packets (or GSO skbs) the kernel forwarded by a flow.",
	    .say = "forwarded %s" },
	[SF_PUNT_MISS] = { .name = "punted_miss", .kind = C, .fmt = STAT_INT,
	    .help = "Packets of lbd's without a flow, handed to the engine.",
	    .say = "to the engine: no flow %s" },
	[SF_PUNT_FLAGS] = { .name = "punted_flags", .kind = C, .fmt = STAT_INT,
	    .help = "SYN, FIN and RST segments of a flow, handed to the engine.",
	    .say = "syn/fin/rst %s" },
	[SF_PUNT_TTL] = { .name = "punted_ttl", .kind = C, .fmt = STAT_INT,
	    .help = "Packets of a flow with TTL 1, handed to the engine.",
	    .say = "ttl %s" },
	[SF_PUNT_MTU] = { .name = "punted_mtu", .kind = C, .fmt = STAT_INT,
	    .help = "Packets over a flow's MTU, handed to the engine.",
	    .say = "mtu %s" },
	[SF_PASSED] = { .name = "passed", .kind = C, .fmt = STAT_INT,
	    .help = "Packets not lbd's, left to the kernel.", .say = "passed %s" },
	[SF_DEAD] = { .name = "dead", .kind = C, .fmt = STAT_INT,
	    .help = "Packets dropped while lbd was not alive (dead man's switch).",
	    .say = "dead %s" },
	[SF_NO_PUNT] = { .name = "no_punt", .kind = C, .fmt = STAT_INT,
	    .help = "Packets of lbd's dropped: no way to the engine.",
	    .say = "no punt %s" },
	[SF_SENT] = { .name = "sent", .kind = C, .fmt = STAT_INT,
	    .help = "Frames the engine forwarded back through a punt pair (a "
	    "worker without a port of its own on the interface).",
	    .say = "engine's frames via punt pair %s" },
	[SF_GUARDED] = { .name = "vmac_guarded", .kind = C, .fmt = STAT_INT,
	    .help = "Frames from a VRRP virtual MAC kept from leaving while "
	    "lbd's VRRP thread was silent (a killed lbd's macvlans).",
	    .say = "virtual-MAC frames kept in %s" },
	[SF_OFFLOADED] = { .name = "offloaded", .kind = C, .fmt = STAT_INT,
	    .help = "Connections the engine handed to the kernel." },
	[SF_UNLOADED] = { .name = "unloaded", .kind = C, .fmt = STAT_INT,
	    .help = "Connections the engine took back (closing, expired, "
	    "moved, reset, a route or neighbour changed)." },
	[SF_INSTALLED] = { .name = "flows_installed", .kind = C,
	    .fmt = STAT_INT, .help = "Flows written into the kernel's table." },
	[SF_REMOVED] = { .name = "flows_removed", .kind = C, .fmt = STAT_INT,
	    .help = "Flows removed from the kernel's table." },
	[SF_INSTALL_FAILED] = { .name = "flows_failed", .kind = C,
	    .fmt = STAT_INT, .help = "Flows the kernel's table could not take "
	    "(the engine forwards those connections itself)." },
	[SF_OFFLOAD_LOST] = { .name = "offload_lost", .kind = C,
	    .fmt = STAT_INT, .help = "Flow operations the engine's ring could "
	    "not take (installs are retried; removals are reconciled)." },
	[SF_RECONCILED] = { .name = "flows_reconciled", .kind = C,
	    .fmt = STAT_INT, .help = "Stray kernel flows removed after the "
	    "ring overflowed." },
};

#define SCOPE(prefix, defs, ...)					\
	{ prefix, { __VA_ARGS__ }, defs, sizeof(defs) / sizeof(defs[0]) }

const struct stat_scope stat_scopes[ST__COUNT] = {
	[ST_DAEMON] = SCOPE("lbd", daemon_defs, NULL),
	[ST_CONTROL] = SCOPE("lbd_control", control_defs, NULL),
	[ST_SERVICE] = SCOPE("lbd_service", service_defs, "service", NULL),
	[ST_BACKEND] = SCOPE("lbd_backend", backend_defs, "service", "backend",
	    NULL),
	[ST_HEALTH] = SCOPE("lbd_health", health_defs, "service", "backend",
	    NULL),
	[ST_DP] = SCOPE("lbd_dp", dp_defs, NULL),
	[ST_WORKER] = SCOPE("lbd_worker", worker_defs, "worker", NULL),
	[ST_IFACE] = SCOPE("lbd_interface", iface_defs, "interface", NULL),
	[ST_SNAT] = SCOPE("lbd_snat", snat_defs, "address", NULL),
	[ST_VRRP] = SCOPE("lbd_vrrp", vrrp_defs, "vrrp_instance", "group", NULL),
	[ST_VRRP_PORT] = SCOPE("lbd_vrrp_interface", vrrp_port_defs,
	    "interface", NULL),
	[ST_VRRP_GROUP] = SCOPE("lbd_vrrp_group", vrrp_group_defs, "group",
	    NULL),
	[ST_VRRP_KEEPER] = SCOPE("lbd_vrrp_keeper", vrrp_keeper_defs, NULL),
	[ST_SYNC] = SCOPE("lbd_sync", sync_defs, "peer", NULL),
	[ST_SYNC_LINK] = SCOPE("lbd_sync_link", sync_link_defs, "interface",
	    "peer", NULL),
	[ST_FASTPATH] = SCOPE("lbd_fastpath", fastpath_defs, NULL),
};

/* ---- by reason ---------------------------------------------------------- */

static const char *
drop_name(int r)
{
	return dp_drop_name((enum dp_drop)r);
}

static const char *
ct_state_str(int s)
{
	return ct_state_name((enum ct_state)s);
}

static const char *
vrrp_bad_str(int r)
{
	return vrrp_bad_name((enum vrrp_bad)r);
}

static const char *
sync_bad_str(int r)
{
	return sync_bad_name((enum sync_bad)r);
}

const struct stat_reasons stat_dp_drops = {
	"drops", "reason", C, "Frames the engines dropped, by reason.",
	"lbd_dp_drops_total", drop_name, 1, DP_DROP__COUNT };
const struct stat_reasons stat_service_drops = {
	"drops", "reason", C, "Frames of the service dropped, by reason.",
	"lbd_service_drops_total", drop_name, 1, DP_DROP__COUNT };
const struct stat_reasons stat_conn_states = {
	"by_state", "state", G, "Connections in the table now, by state.",
	"lbd_dp_connections", ct_state_str, 1, CT_STATE__COUNT };
const struct stat_reasons stat_vrrp_drops = {
	"dropped", "reason", C, "Advertisements the instance dropped, by reason.",
	"lbd_vrrp_adverts_dropped_total", vrrp_bad_str, 1, VRRP_BAD__COUNT };
const struct stat_reasons stat_vrrp_port_drops = {
	"dropped", "reason", C,
	"VRRP frames no instance took, by reason.",
	"lbd_vrrp_interface_dropped_total", vrrp_bad_str, 1, VRRP_BAD__COUNT };
static const char *
vrrp_state_str(int s)
{
	return vrrp_state_name((enum vrrp_state)s);
}

const struct stat_reasons stat_vrrp_states = {
	"states", "state", G,
	"1 for the state the instance is in (init, backup, master, fault).",
	"lbd_vrrp_state", vrrp_state_str, 0, VRRP_FAULT + 1 };
const struct stat_reasons stat_sync_drops = {
	"dropped", "reason", C, "Sync datagrams dropped, by reason.",
	"lbd_sync_dropped_total", sync_bad_str, 1, SYNC_BAD__COUNT };

static const char *
sync_verdict_str(int v)
{
	return dp_sync_verdict_name((enum dp_sync_verdict)v);
}

const struct stat_reasons stat_sync_refused = {
	"refused_by", "reason", C,
	"Records from the peer the engine refused, by reason (not this node's "
	"service, mode, backend or SNAT address; one of this node's own "
	"connections; ...).",
	"lbd_sync_records_refused_total", sync_verdict_str, 1, DP_SYNC__COUNT };

/* ---- rendering ---------------------------------------------------------- */

static void
json_value(struct buf *b, const struct stat_def *d, int64_t v)
{
	switch (d->fmt) {
	case STAT_BOOL:
		buf_puts(b, v ? "true" : "false");
		break;
	case STAT_MS_S:
		buf_printf(b, "%.1f", (double)v / 1000.0);
		break;
	case STAT_US_MS:
		buf_printf(b, "%.3f", (double)v / 1000.0);
		break;
	case STAT_INT:
	case STAT_MS:
		buf_printf(b, "%lld", (long long)v);
		break;
	}
}

void
stats_json(struct buf *b, int scope, const int64_t *v, bool comma)
{
	const struct stat_scope *s = &stat_scopes[scope];

	for (size_t i = 0; i < s->n; i++) {
		buf_printf(b, "%s\"%s\":", comma || i > 0 ? "," : "",
		    s->defs[i].name);
		json_value(b, &s->defs[i], v[i]);
	}
}

void
stats_json_reasons_flat(struct buf *b, const struct stat_reasons *r,
    const uint64_t *counts, bool comma)
{
	for (int i = r->first; i < r->count; i++)
		buf_printf(b, "%s\"%s\":%llu", comma || i > r->first ? "," : "",
		    r->name_of(i), (unsigned long long)counts[i]);
}

void
stats_json_reasons(struct buf *b, const struct stat_reasons *r,
    const uint64_t *counts, bool comma)
{
	buf_printf(b, "%s\"%s\":{", comma ? "," : "", r->name);
	stats_json_reasons_flat(b, r, counts, false);
	buf_puts(b, "}");
}

void
stats_text_value(struct buf *b, const struct stat_def *d, int64_t v)
{
	switch (d->fmt) {
	case STAT_BOOL:
		buf_puts(b, v ? "yes" : "no");
		break;
	case STAT_MS_S:
		buf_printf(b, "%.1fs", (double)v / 1000.0);
		break;
	case STAT_US_MS:
		buf_printf(b, "%.1fms", (double)v / 1000.0);
		break;
	case STAT_MS:
		/* A phrase names the unit itself. */
		buf_printf(b, d->say == NULL ? "%lldms" : "%lld", (long long)v);
		break;
	case STAT_INT:
		buf_printf(b, "%lld", (long long)v);
		break;
	}
}

void
stats_text_head(struct buf *b, int scope)
{
	const struct stat_scope *s = &stat_scopes[scope];

	for (size_t i = 0; i < s->n; i++)
		if (s->defs[i].col != NULL)
			buf_printf(b, " %*s", s->defs[i].width, s->defs[i].col);
}

void
stats_text_row(struct buf *b, int scope, const int64_t *v)
{
	const struct stat_scope *s = &stat_scopes[scope];

	for (size_t i = 0; i < s->n; i++) {
		struct buf one = { 0 };

		if (s->defs[i].col == NULL)
			continue;
		stats_text_value(&one, &s->defs[i], v[i]);
		buf_printf(b, " %*s", s->defs[i].width, one.p ? one.p : "");
		buf_free(&one);
	}
}

void
stats_say(struct buf *b, int scope, const int64_t *v, int from, int to)
{
	const struct stat_scope *s = &stat_scopes[scope];

	for (int i = from; i < to; i++) {
		const struct stat_def *d = &s->defs[i];
		struct buf one = { 0 };
		const char *say = d->say != NULL ? d->say : "%s";
		const char *pct = strstr(say, "%s");

		stats_text_value(&one, d, v[i]);
		if (i > from)
			buf_puts(b, ", ");
		if (pct == NULL)
			buf_puts(b, say);
		else {
			buf_append(b, say, (size_t)(pct - say));
			buf_puts(b, one.p ? one.p : "");
			buf_puts(b, pct + 2);
		}
		buf_free(&one);
	}
}

void
stats_text_reasons(struct buf *b, const struct stat_reasons *r,
    const uint64_t *counts, const char *indent)
{
	for (int i = r->first; i < r->count; i++)
		if (counts[i] != 0)
			buf_printf(b, "%s%-22s %llu\n", indent, r->name_of(i),
			    (unsigned long long)counts[i]);
}

/* ---- Prometheus --------------------------------------------------------- */

void
stats_prom_label(struct buf *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			buf_puts(o, "\\n");
		else
			buf_append(o, v, 1);
	}
}

static size_t
n_labels(const struct stat_scope *s)
{
	size_t n = 0;

	while (n < 3 && s->labels[n] != NULL)
		n++;
	return n;
}

int64_t *
stats_row(struct stat_rows *r, int scope, const char *const *labels)
{
	const struct stat_scope *s = &stat_scopes[scope];
	size_t nl = n_labels(s);

	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 16;
		const char **l = realloc(r->labels, nc * (nl ? nl : 1) * sizeof(*l));
		int64_t *v;

		if (l == NULL)
			return NULL;
		r->labels = l;
		if ((v = realloc(r->v, nc * s->n * sizeof(*v))) == NULL)
			return NULL;
		r->v = v;
		r->cap = nc;
	}
	for (size_t i = 0; i < nl; i++)
		r->labels[r->n * nl + i] = labels[i];
	memset(&r->v[r->n * s->n], 0, s->n * sizeof(*r->v));
	return &r->v[r->n++ * s->n];
}

void
stats_rows_free(struct stat_rows *r)
{
	free(r->labels);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void
prom_labels(struct buf *o, const char *const *names, const char *const *vals,
    size_t n, const char *extra_name, const char *extra_val)
{
	if (n == 0 && extra_name == NULL)
		return;
	buf_puts(o, "{");
	for (size_t i = 0; i < n; i++) {
		buf_printf(o, "%s%s=\"", i ? "," : "", names[i]);
		stats_prom_label(o, vals[i]);
		buf_puts(o, "\"");
	}
	if (extra_name != NULL) {
		buf_printf(o, "%s%s=\"", n ? "," : "", extra_name);
		stats_prom_label(o, extra_val);
		buf_puts(o, "\"");
	}
	buf_puts(o, "}");
}

static void
prom_value(struct buf *o, const struct stat_def *d, int64_t v)
{
	switch (d->fmt) {
	case STAT_MS:
	case STAT_MS_S:
		if (v < 0)
			buf_puts(o, " -1\n");
		else
			buf_printf(o, " %.3f\n", (double)v / 1000.0);
		break;
	case STAT_US_MS:
		buf_printf(o, " %.6f\n", (double)v / 1e6);
		break;
	case STAT_BOOL:
		buf_printf(o, " %d\n", v != 0);
		break;
	case STAT_INT:
		buf_printf(o, " %lld\n", (long long)v);
		break;
	}
}

/* The family's name: the table's own, or prefix_name[_total]. */
static void
prom_name(char *out, size_t len, const struct stat_scope *s,
    const struct stat_def *d)
{
	if (d->prom != NULL)
		snprintf(out, len, "%s", d->prom);
	else
		snprintf(out, len, "%s_%s%s", s->prom, d->name,
		    d->kind == STAT_COUNTER ? "_total" : "");
}

void
stats_prom(struct buf *o, int scope, const struct stat_rows *r)
{
	const struct stat_scope *s = &stat_scopes[scope];
	size_t nl = n_labels(s);

	if (r->n == 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct stat_def *d = &s->defs[i];
		char name[128];

		prom_name(name, sizeof(name), s, d);
		buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, d->help, name,
		    d->kind == STAT_COUNTER ? "counter" : "gauge");
		for (size_t k = 0; k < r->n; k++) {
			buf_puts(o, name);
			prom_labels(o, s->labels, &r->labels[k * nl], nl, NULL,
			    NULL);
			prom_value(o, d, r->v[k * s->n + i]);
		}
	}
}

int
stats_reason_row(struct stat_reason_rows *r, const char *const *labels,
    const uint64_t *counts)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 16;
		const char **l = realloc(r->labels, nc *
		    (r->n_labels ? r->n_labels : 1) * sizeof(*l));
		const uint64_t **c;

		if (l == NULL)
			return -1;
		r->labels = l;
		if ((c = realloc(r->counts, nc * sizeof(*c))) == NULL)
			return -1;
		r->counts = c;
		r->cap = nc;
	}
	for (size_t i = 0; i < r->n_labels; i++)
		r->labels[r->n * r->n_labels + i] = labels[i];
	r->counts[r->n++] = counts;
	return 0;
}

void
stats_reason_rows_free(struct stat_reason_rows *r)
{
	free(r->labels);
	free(r->counts);
	r->labels = NULL;
	r->counts = NULL;
	r->n = r->cap = 0;
}

void
stats_prom_reasons(struct buf *o, const struct stat_reasons *f,
    const struct stat_reason_rows *r)
{
	if (r->n == 0)
		return;
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", f->prom, f->help, f->prom,
	    f->kind == STAT_COUNTER ? "counter" : "gauge");
	for (size_t k = 0; k < r->n; k++)
		for (int i = f->first; i < f->count; i++) {
			buf_puts(o, f->prom);
			prom_labels(o, r->label_names, &r->labels[k * r->n_labels],
			    r->n_labels, f->label, f->name_of(i));
			buf_printf(o, " %llu\n", (unsigned long long)r->counts[k][i]);
		}
}

/* ---- the table itself --------------------------------------------------- */

/* The family, then each of its names as NAME.REASON. */
static void
print_reasons(FILE *fp, const struct stat_reasons *r)
{
	const char *kind = r->kind == STAT_COUNTER ? "counter" : "gauge";

	fprintf(fp, "%s\t%s\t%s\t%s\n", r->name, r->prom, kind, r->help);
	for (int i = r->first; i < r->count; i++)
		fprintf(fp, "%s.%s\t%s\t%s\t%s=%s\n", r->name, r->name_of(i),
		    r->prom, kind, r->label, r->name_of(i));
}

void
stats_table_print(FILE *fp)
{
	static const struct stat_reasons *const reasons[] = {
		&stat_dp_drops, &stat_service_drops, &stat_conn_states,
		&stat_vrrp_states, &stat_vrrp_drops, &stat_vrrp_port_drops,
		&stat_sync_drops, &stat_sync_refused,
	};

	for (int sc = 0; sc < ST__COUNT; sc++) {
		const struct stat_scope *s = &stat_scopes[sc];

		for (size_t i = 0; i < s->n; i++) {
			char name[128];

			prom_name(name, sizeof(name), s, &s->defs[i]);
			fprintf(fp, "%s\t%s\t%s\t%s\n", s->defs[i].name, name,
			    s->defs[i].kind == STAT_COUNTER ? "counter" : "gauge",
			    s->defs[i].help);
		}
	}
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		print_reasons(fp, reasons[i]);
}
