/*
 * The names of the config language, written once: directive names as
 * diagnostics show them, the enum tables (modes, schedulers, checks,
 * timeouts, tracks) and their lookups, and the value readers that every
 * other conf file shares (numbers, durations, addresses, names) with the
 * address strings dump and lbctl print.
 *
 * Pure: no clock, no sockets, no files.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

const char *const conf_key_names[K__COUNT] = {
	[K_NODE_ID] = "node-id", [K_WORKERS] = "workers",
	[K_CONTROL_SOCKET] = "control-socket",
	[K_CONN_TABLE_SIZE] = "conn-table-size",
	[K_INTERFACE] = "interface", [K_VRID] = "vrid",
	[K_PRIORITY] = "priority", [K_ADVERT_INTERVAL] = "advert-interval",
	[K_VIRTUAL_ADDRESS] = "virtual-address", [K_VERSION] = "version",
	[K_PREEMPT] = "preempt", [K_PREEMPT_DELAY] = "preempt-delay",
	[K_PEER] = "peer", [K_PORT] = "port", [K_KEY_FILE] = "key-file",
	[K_ACCEPT_KEY_FILE] = "accept-key-file",
	[K_RESYNC_WAIT] = "resync-wait",
	[K_BACKUP_INTERFACE] = "backup-interface", [K_BACKUP_PEER] = "backup-peer",
	[K_HEARTBEAT_INTERVAL] = "heartbeat-interval",
	[K_HEARTBEAT_TIMEOUT] = "heartbeat-timeout",
	[K_MODE] = "mode", [K_SCHEDULER] = "scheduler",
	[K_SNAT_POOL] = "snat-pool", [K_INTERVAL] = "interval",
	[K_TIMEOUT] = "timeout", [K_RISE] = "rise", [K_FALL] = "fall",
	[K_PATH] = "path", [K_EXPECT] = "expect", [K_HOST] = "host",
	[K_COMMAND] = "command", [K_WEIGHT] = "weight", [K_LISTEN] = "listen", [K_STATELESS] = "stateless",
	[K_ON_BACKEND_DOWN] = "on-backend-down",
	[K_MAX_CONNS] = "max-conns", [K_BACKUP] = "backup",
	[K_QUORUM] = "quorum",
	[K_SLOW_START] = "slow-start", [K_ALLOW] = "allow", [K_LIMIT] = "limit",
	[K_PERSIST] = "persist", [K_ONE_PACKET] = "one-packet",
	[K_OBSERVE] = "observe", [K_OBSERVE_ERRORS] = "observe-errors",
	[K_OBSERVE_WINDOW] = "observe-window", [K_QUERY] = "query",
	[K_TYPE] = "type",
	[K_BODY] = "body", [K_METHOD] = "method", [K_SEND] = "send",
	[K_RECEIVE] = "receive", [K_VERIFY] = "verify", [K_CA_FILE] = "ca-file",
	[K_TLS_MIN] = "tls-min", [K_METRICS] = "metrics", [K_SOURCE] = "source",
	[K_XDP_MODE] = "xdp-mode", [K_DATAPATH] = "datapath", [K_HASH_SEED] = "hash-seed",
	[K_SCRIPT_USER] = "script-user",
	[K_CONTROL_SOCKET_RO] = "control-socket-readonly", [K_GARP_COUNT] = "garp count",
	[K_GARP_INTERVAL] = "garp interval", [K_GARP_REFRESH] = "garp refresh",
	[K_GARP_RATE] = "garp rate", [K_GARP_LOWER_PRIO] = "garp lower-prio",
	[K_NAT_LOG] = "nat-log", [K_NAT_LOG_RATE] = "nat-log rate",
	[K_JITTER] = "jitter", [K_NOTIFY] = "notify",
	[K_NOTIFY_TIMEOUT] = "notify-timeout", [K_USE_VMAC] = "use-vmac",
	[K_AUTH_PASS] = "auth-pass",
	[K_UNICAST_PEER] = "unicast-peer", [K_VRRP] = "vrrp",
	[K_ANNOUNCE_TABLE] = "announce-table", [K_WITHDRAW_DELAY] = "withdraw-delay",
	[K_SNAT_ADDRESSES] = "snat-addresses",
};


/* ---- enum names ---------------------------------------------------- */

const char *const conf_mode_names[CONF_MODE__COUNT] = {
	[CONF_MODE_ROUTED] = "routed", [CONF_MODE_SNAT] = "snat",
	[CONF_MODE_DSR] = "dsr",
};
const char *const conf_tunnel_names[CONF_TUNNEL__COUNT] = {
	[CONF_TUNNEL_NONE] = "none", [CONF_TUNNEL_IPIP] = "ipip",
	[CONF_TUNNEL_GUE] = "gue",
};
const char *const conf_sched_names[CONF_SCHED__COUNT] = {
	[CONF_SCHED_RR] = "rr", [CONF_SCHED_WRR] = "wrr",
	[CONF_SCHED_LC] = "lc", [CONF_SCHED_WLC] = "wlc",
	[CONF_SCHED_SH] = "sh", [CONF_SCHED_MAGLEV] = "maglev",
};
const char *const conf_check_names[CONF_CHECK__COUNT] = {
	[CONF_CHECK_NONE] = "none", [CONF_CHECK_TCP] = "tcp",
	[CONF_CHECK_HTTP] = "http", [CONF_CHECK_HTTPS] = "https",
	[CONF_CHECK_TLS] = "tls", [CONF_CHECK_UDP] = "udp",
	[CONF_CHECK_SCRIPT] = "script", [CONF_CHECK_AGENT] = "agent",
	[CONF_CHECK_DNS] = "dns",
};

/* on-backend-down, indexed by conf_service.reset_on_down */
const char *const conf_on_down_names[2] = { "keep", "reset" };

const char *conf_mode_name(enum conf_mode m) { return conf_mode_names[m]; }
const char *conf_tunnel_name(enum conf_tunnel t) { return conf_tunnel_names[t]; }
const char *conf_on_down_name(bool reset) { return conf_on_down_names[reset]; }
const char *conf_sched_name(enum conf_sched s) { return conf_sched_names[s]; }
const char *conf_check_name(enum conf_check_type t) { return conf_check_names[t]; }

const char *
conf_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

int
conf_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}


const char *const conf_timeout_names[CONF_TO__COUNT] = {
	[CONF_TO_TCP_SYN] = "tcp-syn",
	[CONF_TO_TCP_ESTABLISHED] = "tcp-established",
	[CONF_TO_TCP_FIN] = "tcp-fin",
	[CONF_TO_TCP_TIME_WAIT] = "tcp-time-wait",
	[CONF_TO_TCP_CLOSE] = "tcp-close",
	[CONF_TO_UDP] = "udp",
	[CONF_TO_UDP_UNREPLIED] = "udp-unreplied",
};

/* Short embryonic and close timeouts keep a SYN flood from filling the
 * table; established and UDP follow common L4 balancer practice. */
const uint32_t conf_timeout_default_ms[CONF_TO__COUNT] = {
	[CONF_TO_TCP_SYN] = 10 * 1000,
	[CONF_TO_TCP_ESTABLISHED] = 900 * 1000,
	[CONF_TO_TCP_FIN] = 60 * 1000,
	[CONF_TO_TCP_TIME_WAIT] = 60 * 1000,
	[CONF_TO_TCP_CLOSE] = 10 * 1000,
	[CONF_TO_UDP] = 300 * 1000,
	[CONF_TO_UDP_UNREPLIED] = 30 * 1000,
};

const char *
conf_timeout_name(enum conf_timeout t)
{
	return conf_timeout_names[t];
}


const char *
conf_track_name(enum conf_track_type t)
{
	return t == CONF_TRACK_INTERFACE ? "track-interface" :
	    t == CONF_TRACK_SERVICE ? "track-service" : "track-script";
}

const char *
conf_script_user(const struct conf_global *g)
{
	return g->script_user != NULL ? g->script_user : "nobody";
}

uint64_t
conf_hash_seed(const struct conf_global *g)
{
	/* FNV-1a over the word, then splitmix64's finaliser: a word like
	 * "pair-7" spreads over all 64 bits. */
	const char *w = g->hash_seed != NULL ? g->hash_seed : "lbd";
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *w != '\0'; w++)
		h = (h ^ (uint8_t)*w) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

const char *
conf_datapath_name(enum conf_datapath d)
{
	return d == CONF_DP_KERNEL ? "kernel" :
	    d == CONF_DP_USERSPACE ? "userspace" : "auto";
}

const char *
conf_xdp_mode_name(enum conf_xdp_mode m)
{
	return m == CONF_XDP_NATIVE ? "native" :
	    m == CONF_XDP_GENERIC ? "generic" : "auto";
}

/* ---- values -------------------------------------------------------- */

bool
conf_parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}


/* "100ms", "2s", "1.5s", "1m", "1h" -> milliseconds. */
bool
conf_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "us", 0.001 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double r = v * units[i].mult;
			if (r > (double)UINT32_MAX)
				return false;
			*ms = (uint64_t)(r + 0.5);
			return true;
		}
	}
	return false;
}


const char *
conf_dur_str(uint64_t ms, char *buf, size_t len)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}


bool
conf_parse_addr(const char *s, bool allow_plen, struct conf_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint32_t plen;

	if (n >= sizeof(buf) || (slash != NULL && !allow_plen))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->u.v4) == 1) {
		a->family = AF_INET;
		a->plen = 32;
	} else if (inet_pton(AF_INET6, buf, &a->u.v6) == 1) {
		a->family = AF_INET6;
		a->plen = 128;
	} else
		return false;
	if (slash != NULL) {
		if (!conf_parse_u32(slash + 1, &plen) || plen > a->plen)
			return false;
		a->plen = (uint8_t)plen;
	}
	return true;
}


/* "10.0.0.11:80", "[2001:db8::11]:80", or an address alone (port 0). */
bool
conf_parse_addr_port(const char *s, struct conf_addr *a, uint32_t *port,
    bool *port_ok)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *colon, *host = s, *ps = NULL;
	size_t n;

	*port = 0;
	*port_ok = true;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL)
			return false;
		host = s + 1;
		n = (size_t)(rb - host);
		if (rb[1] == ':')
			ps = rb + 2;
		else if (rb[1] != '\0')
			return false;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s);	/* exactly one colon: IPv4:port */
		ps = colon + 1;
	} else
		n = strlen(s);			/* bare IPv4 or IPv6 */
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (!conf_parse_addr(buf, false, a))
		return false;
	if (ps != NULL && (!conf_parse_u32(ps, port) || *port < 1 || *port > 65535))
		*port_ok = false;
	return true;
}


bool
conf_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return false;
	return true;
}

/* ---- addresses ----------------------------------------------------- */

const char *
conf_addr_str(const struct conf_addr *a, bool with_plen, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (a->family == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	inet_ntop(a->family, &a->u, tmp, sizeof(tmp));
	if (with_plen)
		snprintf(buf, len, "%s/%u", tmp, a->plen);
	else
		snprintf(buf, len, "%s", tmp);
	return buf;
}

bool
conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
	if (a->family != b->family || a->plen != b->plen)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
	return true;
}

void
conf_addr_a16(uint8_t out[16], const struct conf_addr *a)
{
	memset(out, 0, 16);
	if (a->family == AF_INET)
		memcpy(out, &a->u.v4, 4);
	else if (a->family == AF_INET6)
		memcpy(out, &a->u.v6, 16);
}

uint8_t
conf_addr_fam(const struct conf_addr *a)
{
	return a->family == AF_INET ? 4 : 6;
}

const char *
conf_addr_port_str(const struct conf_addr *a, uint16_t port, char *buf,
    size_t len)
{
	char t[64];

	conf_addr_str(a, false, t, sizeof(t));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", t, port);
	return buf;
}

bool
conf_observes(const struct conf *c)
{
	for (size_t i = 0; i < c->n_services; i++)
		if (c->services[i].check.type != CONF_CHECK_NONE &&
		    c->services[i].check.observe)
			return true;
	return false;
}
