/*
 * conf — the lbd configuration language.
 *
 * conf_load() reads a file (following `include` globs), parses it with the
 * bison grammar in parser.y, validates the result across objects and returns
 * an immutable struct conf. Every problem found is reported as a diagnostic
 * "FILE:LINE:COL: error: message"; all of them are collected, not only the
 * first. conf_diff() lists what was added, removed and changed between two
 * configs, for reload.
 *
 * The object is built once and then only read: callers hold
 * `const struct conf *` and free it with conf_free() when retired.
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#define CONF_NAME_MAX		63
#define CONF_DEFAULT_SOCKET	"/run/lbd/lbd.sock"
#define CONF_DEFAULT_SYNC_PORT	7788
#define CONF_DEFAULT_RESYNC_WAIT_MS	60000
#define CONF_DEFAULT_HB_INTERVAL_MS	10
#define CONF_DEFAULT_HB_TIMEOUT_MS	100
#define CONF_SYNC_KEY_MIN	16	/* bytes; ha-sync's SYNC_KEY_MIN */
#define CONF_SYNC_KEY_MAX	1024
#define CONF_INCLUDE_DEPTH_MAX	16
#define CONF_SNAT_POOL_MAX	64	/* addresses per service */
#define CONF_BACKENDS_MAX	65534	/* per service */
/* The data plane's classifier has room for this many services and backend
 * (address, port) pairs (lbd/dataplane/classifier.h). */
#define CONF_SERVICES_MAX	65536
#define CONF_ALL_BACKENDS_MAX	262144	/* all services' together */

struct conf_loc {
	const char	*file;		/* interned in the owning struct conf */
	int		 line;		/* 1-based */
	int		 col;		/* 1-based, in bytes */
};

struct conf_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 plen;		/* prefix length; 32/128 when none given */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} u;
};

enum conf_mode {
	CONF_MODE_ROUTED,
	CONF_MODE_SNAT,
	CONF_MODE_DSR,
	CONF_MODE__COUNT
};

/* mode dsr tunnel ...: to backends beyond the L2 segment */
enum conf_tunnel {
	CONF_TUNNEL_NONE,
	CONF_TUNNEL_IPIP,	/* ipip, or ip6ip6 for an IPv6 service */
	CONF_TUNNEL_GUE,	/* IPv4 in UDP (GUE variant 1) */
	CONF_TUNNEL__COUNT
};
#define CONF_TUNNEL_GUE_PORT	6080	/* `port` of `tunnel gue` unless said */

enum conf_sched {
	CONF_SCHED_RR,
	CONF_SCHED_WRR,
	CONF_SCHED_LC,
	CONF_SCHED_WLC,
	CONF_SCHED_SH,
	CONF_SCHED_MAGLEV,
	CONF_SCHED__COUNT
};

enum conf_check_type {
	CONF_CHECK_NONE,
	CONF_CHECK_TCP,
	CONF_CHECK_HTTP,
	CONF_CHECK_HTTPS,
	CONF_CHECK_TLS,
	CONF_CHECK_UDP,
	CONF_CHECK_SCRIPT,
	CONF_CHECK_AGENT,
	CONF_CHECK_DNS,
	CONF_CHECK__COUNT
};

struct conf_backend {
	char			*name;
	struct conf_addr	 addr;
	uint16_t		 port;
	uint32_t		 weight;	/* 0..256; 0 = drain */
	uint32_t		 max_conns;	/* open connections; 0: no limit */
	bool			 backup;	/* only below the service's quorum */
	struct conf_loc		 loc;
};

/* `snat-pool ADDR ports LO-HI`: the ports this node hands out. */
struct conf_ports {
	uint16_t		 lo, hi;
};
#define CONF_SNAT_PORT_LO	1024
#define CONF_SNAT_PORT_HI	65535

struct conf_check {
	enum conf_check_type	 type;
	uint32_t		 interval_ms;
	uint32_t		 timeout_ms;
	uint32_t		 rise;
	uint32_t		 fall;
	uint16_t		 port;		/* 0 = the backend's port */
	char			*path;		/* http/https */
	char			*expect;	/* http/https status list, e.g. "200-299" */
	char			*host;		/* http/https Host header / SNI */
	char			*command;	/* script */
	char			*body;		/* http/https: the body must contain it */
	char			*method;	/* http/https, default GET */
	char			*send;		/* udp: the payload */
	char			*receive;	/* udp: the reply must contain it */
	bool			 verify;	/* https/tls: check the certificate */
	char			*ca_file;	/* https/tls: trust these, not the system's */
	uint8_t			 tls_min;	/* https/tls: 12 or 13 (TLS 1.2, 1.3) */
	bool			 has_source;
	struct conf_addr	 source;	/* local address checks come from */
	uint32_t		 jitter_ms;	/* each interval +/- up to this */
	char			*query;		/* dns: the name asked */
	uint16_t		 qtype;		/* dns: 1 (A) or 28 (AAAA) */
	bool			 observe;	/* passive health */
	uint32_t		 observe_errors;
	uint32_t		 observe_window_ms;
	struct conf_loc		 loc;
};

#define CONF_CHECK_DEFAULT_INTERVAL_MS	2000
#define CONF_CHECK_DEFAULT_TIMEOUT_MS	1000
#define CONF_CHECK_DEFAULT_RISE		2
#define CONF_CHECK_DEFAULT_FALL		3
#define CONF_OBSERVE_DEFAULT_ERRORS	3
#define CONF_OBSERVE_DEFAULT_WINDOW_MS	10000

struct conf_service {
	char			*name;
	struct conf_addr	 vip;
	uint8_t			 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t		 port;
	enum conf_mode		 mode;
	enum conf_tunnel	 tunnel;	/* dsr: how to reach the backends */
	uint16_t		 tunnel_port;	/* gue: the backends' UDP port */
	struct conf_addr	 tunnel_src;	/* outer sources (a prefix); family
						 * 0: the way out's own address */
	struct conf_loc		 tunnel_loc;
	enum conf_sched		 sched;
	struct conf_addr	*snat_pool;
	struct conf_ports	*snat_ports;	/* per pool address; 0, 0: all */
	size_t			 n_snat_pool;
	struct conf_check	 check;		/* type NONE when absent */
	bool			 stateless;	/* sh/maglev: place mid-stream
						 * packets without an entry */
	struct conf_loc		 stateless_loc;
	bool			 reset_on_down;	/* on-backend-down reset: the
						 * connections of a backend
						 * health marks down are reset */
	struct conf_backend	*backends;
	size_t			 n_backends;
	bool			 has_fallback;	/* takes new connections when no */
	struct conf_backend	 fallback;	/* backend does */
	uint32_t		 quorum;	/* primaries available that keep
						 * the backups out (default 1) */
	struct conf_loc		 quorum_loc;
	struct conf_addr	*allow;		/* clients allowed; none: all */
	size_t			 n_allow;
	struct conf_loc		 allow_loc;
	uint32_t		 limit_rate;	/* new connections/s per client
						 * address; 0: no limit */
	uint32_t		 limit_burst;
	struct conf_loc		 limit_loc;
	uint32_t		 udp_timeout_ms;	/* `timeout udp` here; 0: global */
	struct conf_loc		 udp_timeout_loc;
	bool			 one_packet;	/* UDP dsr: each datagram alone */
	struct conf_loc		 one_packet_loc;
	uint32_t		 persist_ms;	/* a client keeps its backend
						 * this long after its last
						 * connection; 0: no persistence */
	uint8_t			 persist_plen;	/* of the client address; 0: all */
	struct conf_loc		 persist_loc;
	uint32_t		 slow_start_ms;	/* a backend that starts taking
						 * new connections ramps its
						 * weight over this; 0: off */
	struct conf_loc		 slow_start_loc;
	struct conf_loc		 loc;
	struct conf_loc		 listen_loc;
	struct conf_loc		 mode_loc;
	struct conf_loc		 snat_loc;
	bool			 incomplete;	/* a syntax error hit this block */
};

/* What an instance watches: failing -> FAULT (weight 0) or the priority
 * lowered by `weight`. */
enum conf_track_type {
	CONF_TRACK_INTERFACE,	/* carrier down */
	CONF_TRACK_SERVICE,	/* no backend takes new connections */
	CONF_TRACK_SCRIPT,	/* the command exits non-zero or times out */
};

struct conf_track {
	enum conf_track_type	 type;
	char			*what;		/* interface, service or command */
	uint32_t		 weight;	/* 0: FAULT; else 1..254 */
	uint32_t		 interval_ms;	/* script: run this often */
	struct conf_loc		 loc;
};

#define CONF_TRACK_DEFAULT_INTERVAL_MS	2000

/* How a taken address is announced (gratuitous ARP, unsolicited NA):
 * `garp ...` in global for every address, in an instance for its own. */
struct conf_garp {
	uint32_t		 count;		/* rounds (0: none) */
	uint32_t		 interval_ms;	/* between rounds */
	uint32_t		 refresh_ms;	/* again every ...; 0: never */
	int32_t			 lower_prio;	/* rounds when a master hears a
						 * lower priority's advert; -1:
						 * as count, 0: off */
	uint8_t			 set;		/* CONF_GARP_SET_*: given here */
};
#define CONF_GARP_SET_COUNT	0x01
#define CONF_GARP_SET_INTERVAL	0x02
#define CONF_GARP_SET_REFRESH	0x04
#define CONF_GARP_SET_LOWER	0x08

struct conf_instance {
	char			*name;
	char			*interface;
	uint8_t			 vrid;		/* 1..255 */
	uint8_t			 priority;	/* 1..255 */
	uint32_t		 advert_ms;
	uint8_t			 version;	/* 2 or 3 */
	bool			 preempt;
	uint32_t		 preempt_delay_ms;
	struct conf_addr	*vaddrs;
	size_t			 n_vaddrs;
	struct conf_track	*tracks;
	size_t			 n_tracks;
	struct conf_addr	*unicast_peers;	/* none: multicast */
	size_t			 n_unicast_peers;
	bool			 use_vmac;	/* default yes */
	char			*notify;	/* command, or NULL */
	char			*auth_pass;	/* v2 simple password, or NULL */
	struct conf_garp	 garp;		/* what it sets; the rest global's */
	struct conf_loc		 loc;
	struct conf_loc		 vrid_loc;
	struct conf_loc		 priority_loc;	/* line 0: the default */
	bool			 incomplete;	/* a syntax error hit this block */
};

#define CONF_VRRP_DEFAULT_PRIORITY	100
#define CONF_VRRP_DEFAULT_ADVERT_MS	1000

struct conf_group {
	char			*name;
	struct conf_instance	*instances;
	size_t			 n_instances;
	char			*notify;	/* command, or NULL */
	struct conf_loc		 loc;
};

/* A pair has one sync peer; a cluster node mirrors to each other node. */
#define CONF_SYNC_PEERS_MAX	7

struct conf_sync {
	bool			 present;
	char			*interface;
	struct conf_addr	 peers[CONF_SYNC_PEERS_MAX];
	struct conf_loc		 peer_locs[CONF_SYNC_PEERS_MAX];
	size_t			 n_peers;
	uint16_t		 port;
	char			*key_file;
	/* During a key roll: a second key, accepted but never sent. */
	char			*accept_key_file;
	char			*backup_interface;	/* a second heartbeat link */
	struct conf_addr	 backup_peer;	/* the peer's address on it */
	bool			 has_backup_peer;
	uint32_t		 resync_wait_ms;	/* preemption held at most this */
	/* VRRP's second path: the peer's word this often, and silent for
	 * this long means gone (vrrp/vrrp_hb.c). */
	uint32_t		 heartbeat_interval_ms;
	uint32_t		 heartbeat_timeout_ms;
	struct conf_loc		 heartbeat_timeout_loc;
	struct conf_loc		 loc;
	struct conf_loc		 key_loc;
	struct conf_loc		 accept_key_loc;
	bool			 incomplete;	/* a syntax error hit this block */
};

/*
 * cluster { ... }: this node is one of several active ones behind the
 * upstream routers' ECMP. lbd writes the prefixes it wants announced (each
 * VIP while one of its services takes new connections, the SNAT pool
 * addresses) as routes into `announce_table`; the node's BGP daemon
 * exports that table (route health injection).
 */
#define CONF_DEFAULT_ANNOUNCE_TABLE	 201
#define CONF_DEFAULT_WITHDRAW_DELAY_MS	 2000
struct conf_cluster {
	bool			 present;
	uint32_t		 announce_table;
	uint32_t		 withdraw_delay_ms;	/* SIGTERM: routes gone,
							 * forwarding this long */
	/* This node's own SNAT addresses, where the services' snat-pools
	 * list every node's: new connections take ports on these only; the
	 * others are announced at a lower preference, for when their node
	 * is gone. None: the whole pool is this node's. */
	struct conf_addr	*snat_own;
	size_t			 n_snat_own;
	struct conf_loc		*snat_own_locs;
	struct conf_loc		 loc;
	bool			 incomplete;
};

/* Connection timeouts by state, `timeout STATE DURATION` in global. */
enum conf_timeout {
	CONF_TO_TCP_SYN,
	CONF_TO_TCP_ESTABLISHED,
	CONF_TO_TCP_FIN,
	CONF_TO_TCP_TIME_WAIT,
	CONF_TO_TCP_CLOSE,
	CONF_TO_UDP,
	CONF_TO_UDP_UNREPLIED,
	CONF_TO__COUNT
};

enum conf_xdp_mode {
	CONF_XDP_AUTO,		/* native, else generic */
	CONF_XDP_NATIVE,
	CONF_XDP_GENERIC,
};

/* Who forwards established connections (DESIGN.md section 2). */
enum conf_datapath {
	CONF_DP_AUTO,		/* the kernel's fast path where it runs */
	CONF_DP_KERNEL,		/* TC-BPF fast path, or refuse to start */
	CONF_DP_USERSPACE,	/* every packet through AF_XDP and the engine */
};

#define CONF_NOTIFY_DEFAULT_TIMEOUT_MS	10000

#define CONF_GARP_DEFAULT_COUNT		5
#define CONF_GARP_DEFAULT_INTERVAL_MS	200
#define CONF_GARP_DEFAULT_RATE		1000	/* frames/s, node-wide */
#define CONF_NAT_LOG_DEFAULT_RATE	1000	/* lines/s */

struct conf_global {
	char			*node_id;
	uint32_t		 workers;
	char			*control_socket;
	char			*control_socket_ro;	/* read-only, or NULL */
	uint32_t		 conn_table_size;
	uint32_t		 timeout_ms[CONF_TO__COUNT];
	struct conf_loc		 timeout_loc[CONF_TO__COUNT];
	bool			 metrics;	/* `metrics listen ADDR:PORT` */
	struct conf_addr	 metrics_addr;
	uint16_t		 metrics_port;
	char			**ifaces;	/* `interface NAME`: data interfaces */
	size_t			 n_ifaces;
	enum conf_xdp_mode	 xdp_mode;
	enum conf_datapath	 datapath;
	struct conf_garp	 garp;		/* every address's default */
	uint32_t		 garp_rate;	/* `garp rate N`: frames/s, all
						 * addresses together (0: no limit) */
	bool			 nat_log;	/* `nat-log on`: a line per snat
						 * connection */
	uint32_t		 nat_log_rate;	/* lines/s at most */
	bool			 vrrp_external;	/* `vrrp external`: keepalived
						 * decides, through lbctl ha */
	uint32_t		 notify_timeout_ms;
	/* `hash-seed WORD`: what sh, maglev and stateless hash with; the
	 * same on both nodes of a pair and across restarts (NULL: the
	 * built-in one). */
	char			*hash_seed;
	char			*script_user;	/* NULL: nobody */
};

const char	*conf_xdp_mode_name(enum conf_xdp_mode);
const char	*conf_datapath_name(enum conf_datapath);
/* The scheduling hash seed `hash-seed` names (or the built-in one). */
uint64_t	 conf_hash_seed(const struct conf_global *);
/* An instance's announcements: what it sets, the rest global's. */
struct conf_garp conf_instance_garp(const struct conf_global *,
		    const struct conf_instance *);
/* Who runs check scripts, track scripts and notify hooks ("nobody" unless
 * script-user says otherwise). */
const char	*conf_script_user(const struct conf_global *);
const char	*conf_track_name(enum conf_track_type);

const char	*conf_timeout_name(enum conf_timeout);
extern const uint32_t conf_timeout_default_ms[CONF_TO__COUNT];

#define CONF_DEFAULT_WORKERS		1
#define CONF_DEFAULT_CONN_TABLE_SIZE	1048576

struct conf {
	char			*path;		/* the top-level file */
	struct conf_global	 global;
	struct conf_group	*groups;
	size_t			 n_groups;
	struct conf_sync	 sync;
	struct conf_cluster	 cluster;
	struct conf_service	*services;
	size_t			 n_services;

	char			**files;	/* every file read, for conf_loc.file */
	size_t			 n_files;
};

enum conf_severity {
	CONF_ERROR,
	CONF_WARNING,
};

struct conf_diag {
	enum conf_severity	 severity;
	char			*file;
	int			 line;
	int			 col;
	char			*msg;
};

struct conf_diags {
	struct conf_diag	*v;
	size_t			 n;
	size_t			 n_errors;
	size_t			 n_warnings;
};

/*
 * Load, parse and validate `path`. Returns the config, or NULL when any error
 * was found. Diagnostics (errors and warnings) are appended to `diags` either
 * way; the caller frees them with conf_diags_free().
 */
struct conf	*conf_load(const char *path, struct conf_diags *diags);

/* The same from a string; `name` is used as the file name in diagnostics and
 * includes are resolved relative to the current directory. */
/* Does any service's check have `observe on`? */
bool		conf_observes(const struct conf *);
struct conf	*conf_load_string(const char *name, const char *text,
		    struct conf_diags *diags);

void		 conf_free(struct conf *);
void		 conf_diags_free(struct conf_diags *);
/* One diagnostic, formatted "FILE:LINE:COL: error: msg" (no newline). */
int		 conf_diag_format(const struct conf_diag *, char *buf, size_t len);
void		 conf_diags_print(const struct conf_diags *, FILE *);

/* Canonical text of a config, which conf_load() reads back to an equal one. */
void		 conf_dump(const struct conf *, FILE *);
/* The same content as a JSON object. */
void		 conf_dump_json(const struct conf *, FILE *);

/* ---- diff ------------------------------------------------------------- */

enum conf_change_kind {
	CONF_ADDED,
	CONF_REMOVED,
	CONF_CHANGED,
};

enum conf_object {
	CONF_OBJ_GLOBAL,
	CONF_OBJ_SYNC,
	CONF_OBJ_GROUP,
	CONF_OBJ_INSTANCE,
	CONF_OBJ_SERVICE,
	CONF_OBJ_BACKEND,
};

struct conf_change {
	enum conf_change_kind	 kind;
	enum conf_object	 object;
	char			 name[2 * CONF_NAME_MAX + 2];	/* "svc" or "svc/backend" */
	char			 detail[256];	/* for CHANGED: "weight 10 -> 20, port 80 -> 8080" */
	const void		*old_obj;	/* NULL when ADDED */
	const void		*new_obj;	/* NULL when REMOVED */
};

struct conf_diff {
	struct conf_change	*v;
	size_t			 n;
};

/* What changed from `a` to `b`. Either may be NULL (an empty config). */
int		 conf_diff(const struct conf *a, const struct conf *b,
		    struct conf_diff *out);
void		 conf_diff_free(struct conf_diff *);
/* "service web: added", "backend web/web1: changed: weight 10 -> 20" */
int		 conf_change_format(const struct conf_change *, char *buf,
		    size_t len);

/* ---- names ------------------------------------------------------------ */

const char	*conf_mode_name(enum conf_mode);
const char	*conf_tunnel_name(enum conf_tunnel);
const char	*conf_on_down_name(bool reset_on_down);
const char	*conf_sched_name(enum conf_sched);
const char	*conf_check_name(enum conf_check_type);
const char	*conf_proto_name(uint8_t proto);
/* "198.51.100.10", "2001:db8::1", with "/plen" when with_plen. */
const char	*conf_addr_str(const struct conf_addr *, bool with_plen,
		    char *buf, size_t len);
bool		 conf_addr_equal(const struct conf_addr *, const struct conf_addr *);
/* "10.0.0.11:80", "[2001:db8::11]:80" */
const char	*conf_addr_port_str(const struct conf_addr *, uint16_t port,
		    char *buf, size_t len);
/* The address as 16 bytes (IPv4 in the first 4, the rest zero), and its
 * family as the engine counts it (4 or 6). */
void		 conf_addr_a16(uint8_t out[16], const struct conf_addr *);
uint8_t		 conf_addr_fam(const struct conf_addr *);

#endif /* CONF_CONF_H */
