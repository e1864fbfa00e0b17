/*
 * Builds a struct conf from grammar actions.
 *
 * Every value is converted and range-checked here, at the column where it
 * stands, so the operator reads "vrid 300 out of range 1..255" rather than a
 * generic syntax error. Bad values are reported and skipped; parsing goes on so
 * that all problems in a file are found in one run.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf_int.h"
#include "parser.h"

static const char *const key_names[K__COUNT] = {
	[K_NODE_ID] = "node-id", [K_WORKERS] = "workers",
	[K_CONTROL_SOCKET] = "control-socket",
	[K_CONN_TABLE_SIZE] = "conn-table-size",
	[K_INTERFACE] = "interface", [K_VRID] = "vrid",
	[K_PRIORITY] = "priority", [K_ADVERT_INTERVAL] = "advert-interval",
	[K_VIRTUAL_ADDRESS] = "virtual-address", [K_VERSION] = "version",
	[K_PREEMPT] = "preempt", [K_PREEMPT_DELAY] = "preempt-delay",
	[K_PEER] = "peer", [K_PORT] = "port", [K_KEY_FILE] = "key-file",
	[K_RESYNC_WAIT] = "resync-wait",
	[K_BACKUP_INTERFACE] = "backup-interface", [K_BACKUP_PEER] = "backup-peer",
	[K_MODE] = "mode", [K_SCHEDULER] = "scheduler",
	[K_SNAT_POOL] = "snat-pool", [K_INTERVAL] = "interval",
	[K_TIMEOUT] = "timeout", [K_RISE] = "rise", [K_FALL] = "fall",
	[K_PATH] = "path", [K_EXPECT] = "expect", [K_HOST] = "host",
	[K_COMMAND] = "command", [K_WEIGHT] = "weight", [K_LISTEN] = "listen", [K_STATELESS] = "stateless",
	[K_ON_BACKEND_DOWN] = "on-backend-down",
	[K_BODY] = "body", [K_METHOD] = "method", [K_SEND] = "send",
	[K_RECEIVE] = "receive", [K_VERIFY] = "verify", [K_CA_FILE] = "ca-file",
	[K_TLS_MIN] = "tls-min", [K_METRICS] = "metrics", [K_SOURCE] = "source",
	[K_XDP_MODE] = "xdp-mode", [K_GARP_COUNT] = "garp count",
	[K_GARP_INTERVAL] = "garp interval", [K_GARP_REFRESH] = "garp refresh",
	[K_JITTER] = "jitter", [K_NOTIFY] = "notify",
	[K_NOTIFY_TIMEOUT] = "notify-timeout", [K_USE_VMAC] = "use-vmac",
	[K_UNICAST_PEER] = "unicast-peer", [K_VRRP] = "vrrp",
};

/* ---- diagnostics --------------------------------------------------- */

void *
conf_grow(void *arr, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0)
		return arr;
	return realloc(arr, (n ? 2 * n : 1) * size);
}

void
conf_diag_add(struct conf_diags *d, enum conf_severity sev,
    const struct conf_loc *loc, const char *fmt, ...)
{
	struct conf_diag *v, *g;
	va_list ap;

	if ((v = conf_grow(d->v, d->n, sizeof(*v))) == NULL)
		return;
	d->v = v;
	g = &d->v[d->n];
	memset(g, 0, sizeof(*g));
	g->severity = sev;
	g->file = strdup(loc != NULL && loc->file != NULL ? loc->file : "-");
	g->line = loc != NULL ? loc->line : 0;
	g->col = loc != NULL ? loc->col : 0;
	va_start(ap, fmt);
	if (vasprintf(&g->msg, fmt, ap) < 0)
		g->msg = NULL;
	va_end(ap);
	if (g->file == NULL || g->msg == NULL) {
		free(g->file);
		free(g->msg);
		return;
	}
	d->n++;
	if (sev == CONF_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
}

int
conf_diag_format(const struct conf_diag *g, char *buf, size_t len)
{
	const char *sev = g->severity == CONF_ERROR ? "error" : "warning";

	if (g->line == 0)
		return snprintf(buf, len, "%s: %s: %s", g->file, sev, g->msg);
	return snprintf(buf, len, "%s:%d:%d: %s: %s", g->file, g->line, g->col,
	    sev, g->msg);
}

void
conf_diags_print(const struct conf_diags *d, FILE *fp)
{
	char buf[2048];

	for (size_t i = 0; i < d->n; i++) {
		conf_diag_format(&d->v[i], buf, sizeof(buf));
		fprintf(fp, "%s\n", buf);
	}
}

void
conf_diags_free(struct conf_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const char *
conf_intern_file(struct conf *c, const char *name)
{
	char **v;

	for (size_t i = 0; i < c->n_files; i++)
		if (strcmp(c->files[i], name) == 0)
			return c->files[i];
	if ((v = realloc(c->files, (c->n_files + 1) * sizeof(*v))) == NULL)
		return "?";
	c->files = v;
	if ((c->files[c->n_files] = strdup(name)) == NULL)
		return "?";
	return c->files[c->n_files++];
}

/* ---- values -------------------------------------------------------- */

static bool
parse_u32(const char *s, uint32_t *out)
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

/* A number in [lo, hi]; reports and returns false otherwise. */
static bool
get_num(struct conf_parser *p, enum conf_key k, const char *v,
    const struct conf_loc *loc, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint32_t n;

	if (!parse_u32(v, &n)) {
		if (isdigit((unsigned char)v[0]) && strspn(v, "0123456789") == strlen(v))
			conf_err(p, loc, "%s %s out of range %u..%u",
			    key_names[k], v, lo, hi);
		else
			conf_err(p, loc, "%s: expected a number %u..%u, found \"%s\"",
			    key_names[k], lo, hi, v);
		return false;
	}
	if (n < lo || n > hi) {
		conf_err(p, loc, "%s %s out of range %u..%u", key_names[k], v,
		    lo, hi);
		return false;
	}
	*out = n;
	return true;
}

/* "100ms", "2s", "1.5s", "1m", "1h" -> milliseconds. */
static bool
parse_duration_ms(const char *s, uint64_t *ms)
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

static bool
get_duration(struct conf_parser *p, enum conf_key k, const char *v,
    const struct conf_loc *loc, uint32_t lo_ms, uint32_t hi_ms, uint32_t *out)
{
	char a[32], b[32];
	uint64_t ms;

	if (!parse_duration_ms(v, &ms)) {
		if (strspn(v, "0123456789") == strlen(v))
			conf_err(p, loc, "%s: \"%s\" needs a unit, e.g. %sms or %ss",
			    key_names[k], v, v, v);
		else
			conf_err(p, loc, "%s: expected a duration such as 100ms "
			    "or 2s, found \"%s\"", key_names[k], v);
		return false;
	}
	if (ms < lo_ms || ms > hi_ms) {
		conf_err(p, loc, "%s %s out of range %s..%s", key_names[k], v,
		    conf_dur_str(lo_ms, a, sizeof(a)), conf_dur_str(hi_ms, b, sizeof(b)));
		return false;
	}
	*out = (uint32_t)ms;
	return true;
}

static bool
get_bool(struct conf_parser *p, enum conf_key k, const char *v,
    const struct conf_loc *loc, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true" };
	static const char *const no[] = { "off", "no", "false" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	conf_err(p, loc, "%s: expected on or off, found \"%s\"", key_names[k], v);
	return false;
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
		if (!parse_u32(slash + 1, &plen) || plen > a->plen)
			return false;
		a->plen = (uint8_t)plen;
	}
	return true;
}

/* "10.0.0.11:80", "[2001:db8::11]:80", or an address alone (port 0). */
static bool
parse_addr_port(const char *s, struct conf_addr *a, uint32_t *port,
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
	if (ps != NULL && (!parse_u32(ps, port) || *port < 1 || *port > 65535))
		*port_ok = false;
	return true;
}

static bool
valid_name(const char *s)
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

static bool
check_name(struct conf_parser *p, const char *what, const char *s,
    const struct conf_loc *loc)
{
	if (valid_name(s))
		return true;
	conf_err(p, loc, "%s name \"%s\": expected 1..%d letters, digits, "
	    "'-', '_' or '.'", what, s, CONF_NAME_MAX);
	return false;
}

/* ---- enum names ---------------------------------------------------- */

static const char *const mode_names[] = {
	[CONF_MODE_ROUTED] = "routed", [CONF_MODE_SNAT] = "snat",
	[CONF_MODE_DSR] = "dsr",
};
static const char *const sched_names[] = {
	[CONF_SCHED_RR] = "rr", [CONF_SCHED_WRR] = "wrr",
	[CONF_SCHED_LC] = "lc", [CONF_SCHED_WLC] = "wlc",
	[CONF_SCHED_SH] = "sh", [CONF_SCHED_MAGLEV] = "maglev",
};
static const char *const check_names[] = {
	[CONF_CHECK_NONE] = "none", [CONF_CHECK_TCP] = "tcp",
	[CONF_CHECK_HTTP] = "http", [CONF_CHECK_HTTPS] = "https",
	[CONF_CHECK_TLS] = "tls", [CONF_CHECK_UDP] = "udp",
	[CONF_CHECK_SCRIPT] = "script", [CONF_CHECK_AGENT] = "agent",
};

/* on-backend-down, indexed by conf_service.reset_on_down */
static const char *const on_down_names[] = { "keep", "reset" };

const char *conf_mode_name(enum conf_mode m) { return mode_names[m]; }
const char *conf_on_down_name(bool reset) { return on_down_names[reset]; }
const char *conf_sched_name(enum conf_sched s) { return sched_names[s]; }
const char *conf_check_name(enum conf_check_type t) { return check_names[t]; }

const char *
conf_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

static int
lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- blocks -------------------------------------------------------- */

#define GROW(arr, n) do {						\
	void *np_ = conf_grow((arr), (n), sizeof(*(arr)));		\
	if (np_ == NULL)						\
		abort();	/* config parsing has no way forward */	\
	(arr) = np_;							\
	memset(&(arr)[(n)], 0, sizeof(*(arr)));				\
} while (0)

static struct conf_service *
cur_service(struct conf_parser *p)
{
	return p->service >= 0 ? &p->c->services[p->service] : NULL;
}

static struct conf_instance *
cur_instance(struct conf_parser *p)
{
	if (p->group < 0 || p->instance < 0)
		return NULL;
	return &p->c->groups[p->group].instances[p->instance];
}

void
b_block_begin(struct conf_parser *p, enum conf_block blk, char *name,
    const struct conf_loc *loc)
{
	struct conf *c = p->c;

	switch (blk) {
	case BLK_GLOBAL:
		/* Several global blocks merge; a directive repeated across
		 * them is still a duplicate, so `seen` is not reset. */
		break;
	case BLK_SYNC:
		if (c->sync.present) {
			conf_err(p, loc, "duplicate sync block (first at %s:%d:%d)",
			    c->sync.loc.file, c->sync.loc.line, c->sync.loc.col);
		}
		c->sync.present = true;
		c->sync.loc = *loc;
		if (c->sync.port == 0)
			c->sync.port = CONF_DEFAULT_SYNC_PORT;
		c->sync.resync_wait_ms = CONF_DEFAULT_RESYNC_WAIT_MS;
		memset(p->seen, 0, sizeof(p->seen));
		break;
	case BLK_GROUP:
		check_name(p, "vrrp-group", name, loc);
		GROW(c->groups, c->n_groups);
		c->groups[c->n_groups].name = name;
		c->groups[c->n_groups].loc = *loc;
		p->group = (ssize_t)c->n_groups++;
		name = NULL;
		break;
	case BLK_INSTANCE: {
		struct conf_group *g = &c->groups[p->group];
		struct conf_instance *in;

		check_name(p, "instance", name, loc);
		GROW(g->instances, g->n_instances);
		in = &g->instances[g->n_instances];
		in->name = name;
		in->loc = *loc;
		in->priority = CONF_VRRP_DEFAULT_PRIORITY;
		in->advert_ms = CONF_VRRP_DEFAULT_ADVERT_MS;
		in->version = 3;
		in->preempt = true;
		in->use_vmac = true;
		p->instance = (ssize_t)g->n_instances++;
		memset(p->seen, 0, sizeof(p->seen));
		name = NULL;
		break;
	}
	case BLK_SERVICE: {
		struct conf_service *s;

		check_name(p, "service", name, loc);
		GROW(c->services, c->n_services);
		s = &c->services[c->n_services];
		s->name = name;
		s->loc = *loc;
		s->mode = CONF_MODE_ROUTED;
		s->sched = CONF_SCHED_RR;
		p->service = (ssize_t)c->n_services++;
		memset(p->seen, 0, sizeof(p->seen));
		name = NULL;
		break;
	}
	case BLK_CHECK:
		memset(p->check_seen, 0, sizeof(p->check_seen));
		break;
	case BLK_TOP:
		break;
	}
	free(name);
	p->blk = blk;
}

void
b_block_end(struct conf_parser *p)
{
	switch (p->blk) {
	case BLK_CHECK:
		p->blk = BLK_SERVICE;
		break;
	case BLK_INSTANCE:
		p->instance = -1;
		p->blk = BLK_GROUP;
		break;
	case BLK_SERVICE:
		p->service = -1;
		p->blk = BLK_TOP;
		break;
	case BLK_GROUP:
		p->group = -1;
		p->blk = BLK_TOP;
		break;
	default:
		p->blk = BLK_TOP;
		break;
	}
}

void
conf_mark_incomplete(struct conf_parser *p)
{
	struct conf_service *s = cur_service(p);
	struct conf_instance *in = cur_instance(p);

	if (s != NULL)
		s->incomplete = true;
	if (in != NULL)
		in->incomplete = true;
	if (p->blk == BLK_SYNC)
		p->c->sync.incomplete = true;
}

/* A directive given twice in one block is an error, not a silent override. */
static bool
first_use(struct conf_parser *p, enum conf_key k, const struct conf_loc *loc)
{
	struct conf_loc *seen = p->blk == BLK_CHECK ? p->check_seen : p->seen;

	if (seen[k].line != 0) {
		conf_err(p, loc, "duplicate \"%s\" (first set at %s:%d:%d)",
		    key_names[k], seen[k].file, seen[k].line, seen[k].col);
		return false;
	}
	seen[k] = *loc;
	return true;
}

/* Move the token string *v into *dst (the builder owns it from now on). */
static void
take_str(char **dst, char **v)
{
	free(*dst);
	*dst = *v;
	*v = NULL;
}

/* An interface name fits IFNAMSIZ (16 with its NUL). */
static void
take_ifname(struct conf_parser *p, char **dst, char **v,
    const struct conf_loc *vl)
{
	if (strlen(*v) > 15)
		conf_err(p, vl, "interface name \"%s\" longer than 15 bytes", *v);
	else
		take_str(dst, v);
}

static void
set_global(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	uint32_t n;

	switch (k) {
	case K_NODE_ID:
		if (check_name(p, "node-id", *v, vl))
			take_str(&g->node_id, v);
		break;
	case K_WORKERS:
		if (get_num(p, k, *v, vl, 1, 64, &n))
			g->workers = n;
		break;
	case K_CONTROL_SOCKET:
		if ((*v)[0] != '/')
			conf_err(p, vl, "control-socket: expected an absolute "
			    "path, found \"%s\"", *v);
		else if (strlen(*v) > 107)
			conf_err(p, vl, "control-socket: path longer than 107 "
			    "bytes (a Unix socket limit)");
		else
			take_str(&g->control_socket, v);
		break;
	case K_XDP_MODE:
		if (strcmp(*v, "auto") == 0)
			g->xdp_mode = CONF_XDP_AUTO;
		else if (strcmp(*v, "native") == 0)
			g->xdp_mode = CONF_XDP_NATIVE;
		else if (strcmp(*v, "generic") == 0)
			g->xdp_mode = CONF_XDP_GENERIC;
		else
			conf_err(p, vl, "xdp-mode: expected auto, native or "
			    "generic, found \"%s\"", *v);
		break;
	case K_VRRP:
		if (strcmp(*v, "external") == 0)
			g->vrrp_external = true;
		else if (strcmp(*v, "internal") == 0)
			g->vrrp_external = false;
		else
			conf_err(p, vl, "vrrp: expected internal (lbd runs VRRP, "
			    "the default) or external (keepalived decides, "
			    "through lbctl ha), found \"%s\"", *v);
		break;
	case K_NOTIFY_TIMEOUT:
		if (get_duration(p, k, *v, vl, 100, 3600000, &n))
			g->notify_timeout_ms = n;
		break;
	case K_CONN_TABLE_SIZE:
		/* The engine indexes at most 2^24 entries (lbd/engine/ct.h). */
		if (get_num(p, k, *v, vl, 1024, 1u << 24, &n))
			g->conn_table_size = n;
		break;
	default:
		break;
	}
}

static void
set_instance(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_instance *in = cur_instance(p);
	uint32_t n;
	bool b;

	if (in == NULL)
		return;
	switch (k) {
	case K_INTERFACE:
		take_ifname(p, &in->interface, v, vl);
		break;
	case K_VRID:
		in->vrid_loc = *vl;
		if (get_num(p, k, *v, vl, 1, 255, &n))
			in->vrid = (uint8_t)n;
		break;
	case K_PRIORITY:
		if (get_num(p, k, *v, vl, 1, 255, &n))
			in->priority = (uint8_t)n;
		break;
	case K_ADVERT_INTERVAL:
		/* RFC 5798 5.2.7: 12 bits of centiseconds. The v2 range is
		 * checked in validate.c once the version is known. */
		if (get_duration(p, k, *v, vl, 10, 40950, &n)) {
			if (n % 10 != 0)
				conf_err(p, vl, "advert-interval %s: VRRP counts "
				    "in centiseconds (multiples of 10ms)", *v);
			else
				in->advert_ms = n;
		}
		break;
	case K_VERSION:
		if (get_num(p, k, *v, vl, 2, 3, &n))
			in->version = (uint8_t)n;
		break;
	case K_PREEMPT:
		if (get_bool(p, k, *v, vl, &b))
			in->preempt = b;
		break;
	case K_PREEMPT_DELAY:
		if (get_duration(p, k, *v, vl, 0, 3600000, &n))
			in->preempt_delay_ms = n;
		break;
	case K_USE_VMAC:
		if (get_bool(p, k, *v, vl, &b))
			in->use_vmac = b;
		break;
	case K_NOTIFY:
		take_str(&in->notify, v);
		break;
	default:
		break;
	}
}

static void
set_sync(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_sync *s = &p->c->sync;
	uint32_t n;

	switch (k) {
	case K_INTERFACE:
		take_ifname(p, &s->interface, v, vl);
		break;
	case K_PEER:
		if (!conf_parse_addr(*v, false, &s->peer))
			conf_err(p, vl, "peer: expected an IPv4 or IPv6 address, "
			    "found \"%s\"", *v);
		else
			s->has_peer = true;
		break;
	case K_BACKUP_INTERFACE:
		take_ifname(p, &s->backup_interface, v, vl);
		break;
	case K_BACKUP_PEER:
		if (!conf_parse_addr(*v, false, &s->backup_peer))
			conf_err(p, vl, "backup-peer: expected an IPv4 or IPv6 "
			    "address, found \"%s\"", *v);
		else
			s->has_backup_peer = true;
		break;
	case K_PORT:
		if (get_num(p, k, *v, vl, 1, 65535, &n))
			s->port = (uint16_t)n;
		break;
	case K_KEY_FILE:
		/* Relative to the file that names it, as include is. */
		free(s->key_file);
		s->key_file = NULL;
		if ((*v)[0] != '/' && vl->file != NULL && strrchr(vl->file, '/')) {
			const char *dir_end = strrchr(vl->file, '/');
			if (asprintf(&s->key_file, "%.*s/%s",
			    (int)(dir_end - vl->file), vl->file, *v) < 0)
				s->key_file = NULL;
		} else {
			s->key_file = *v;
			*v = NULL;
		}
		s->key_loc = *vl;
		break;
	case K_RESYNC_WAIT:
		if (get_duration(p, k, *v, vl, 0, 3600000, &n))
			s->resync_wait_ms = n;
		break;
	default:
		break;
	}
}

static void
set_service(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	struct conf_service *s = cur_service(p);
	int i;

	if (s == NULL)
		return;
	switch (k) {
	case K_MODE:
		s->mode_loc = *kl;
		if ((i = lookup(mode_names, 3, *v)) < 0)
			conf_err(p, vl, "unknown mode \"%s\", expected routed, "
			    "snat or dsr", *v);
		else
			s->mode = (enum conf_mode)i;
		break;
	case K_STATELESS:
		s->stateless_loc = *kl;
		(void)get_bool(p, k, *v, vl, &s->stateless);
		break;
	case K_ON_BACKEND_DOWN:
		if ((i = lookup(on_down_names, 2, *v)) < 0)
			conf_err(p, vl, "unknown on-backend-down \"%s\", expected "
			    "keep or reset", *v);
		else
			s->reset_on_down = i == 1;
		break;
	case K_SCHEDULER:
		if (strcmp(*v, "source-hash") == 0)
			s->sched = CONF_SCHED_SH;
		else if ((i = lookup(sched_names, 6, *v)) < 0)
			conf_err(p, vl, "unknown scheduler \"%s\", expected rr, "
			    "wrr, lc, wlc, sh or maglev", *v);
		else
			s->sched = (enum conf_sched)i;
		break;
	default:
		break;
	}
}

/* HTTP status list: "200", "200-299", "200,301-302". */
static bool
valid_status_list(const char *s)
{
	const char *q = s;

	while (*q != '\0') {
		uint32_t a = 0, b;
		int n = 0;
		while (isdigit((unsigned char)*q) && n < 4)
			a = a * 10 + (uint32_t)(*q++ - '0'), n++;
		if (n != 3 || a < 100 || a > 599)
			return false;
		b = a;
		if (*q == '-') {
			q++;
			b = 0;
			n = 0;
			while (isdigit((unsigned char)*q) && n < 4)
				b = b * 10 + (uint32_t)(*q++ - '0'), n++;
			if (n != 3 || b < a || b > 599)
				return false;
		}
		if (*q == ',')
			q++;
		else if (*q != '\0')
			return false;
	}
	return q != s;
}

static void
set_check(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_service *s = cur_service(p);
	struct conf_check *ck;
	uint32_t n;

	if (s == NULL)
		return;
	ck = &s->check;
	switch (k) {
	case K_INTERVAL:
		if (get_duration(p, k, *v, vl, 100, 3600000, &n))
			ck->interval_ms = n;
		break;
	case K_TIMEOUT:
		if (get_duration(p, k, *v, vl, 10, 600000, &n))
			ck->timeout_ms = n;
		break;
	case K_RISE:
		if (get_num(p, k, *v, vl, 1, 100, &n))
			ck->rise = n;
		break;
	case K_FALL:
		if (get_num(p, k, *v, vl, 1, 100, &n))
			ck->fall = n;
		break;
	case K_PORT:
		if (get_num(p, k, *v, vl, 1, 65535, &n))
			ck->port = (uint16_t)n;
		break;
	case K_PATH:
		if ((*v)[0] != '/')
			conf_err(p, vl, "path: expected a path starting with "
			    "'/', found \"%s\"", *v);
		else
			take_str(&ck->path, v);
		break;
	case K_EXPECT:
		if (!valid_status_list(*v))
			conf_err(p, vl, "expect: expected HTTP status codes such "
			    "as 200 or 200-299,301, found \"%s\"", *v);
		else
			take_str(&ck->expect, v);
		break;
	case K_HOST:
		take_str(&ck->host, v);
		break;
	case K_COMMAND:
		take_str(&ck->command, v);
		break;
	case K_BODY:
	case K_RECEIVE:
		if (strlen(*v) == 0 || strlen(*v) > 256)
			conf_err(p, vl, "%s: expected 1..256 bytes, found %zu",
			    key_names[k], strlen(*v));
		else
			take_str(k == K_BODY ? &ck->body : &ck->receive, v);
		break;
	case K_SEND:
		if (strlen(*v) > 512)
			conf_err(p, vl, "send: at most 512 bytes, found %zu",
			    strlen(*v));
		else
			take_str(&ck->send, v);
		break;
	case K_VERIFY:
		(void)get_bool(p, k, *v, vl, &ck->verify);
		break;
	case K_SOURCE:
		if (!conf_parse_addr(*v, false, &ck->source))
			conf_err(p, vl, "source: expected an IPv4 or IPv6 address, "
			    "found \"%s\"", *v);
		else
			ck->has_source = true;
		break;
	case K_JITTER:
		(void)get_duration(p, k, *v, vl, 0, 3600000, &ck->jitter_ms);
		break;
	case K_CA_FILE: {
		/* Relative to the file that names it, like key-file. */
		const char *dir_end = vl->file ? strrchr(vl->file, '/') : NULL;
		free(ck->ca_file);
		ck->ca_file = NULL;
		if ((*v)[0] != '/' && dir_end != NULL) {
			if (asprintf(&ck->ca_file, "%.*s/%s",
			    (int)(dir_end - vl->file), vl->file, *v) < 0)
				ck->ca_file = NULL;
		} else
			take_str(&ck->ca_file, v);
		if (ck->ca_file != NULL && access(ck->ca_file, R_OK) != 0)
			conf_err(p, vl, "ca-file \"%s\": cannot read: %s",
			    ck->ca_file, strerror(errno));
		break;
	}
	case K_TLS_MIN:
		if (strcmp(*v, "1.2") == 0)
			ck->tls_min = 12;
		else if (strcmp(*v, "1.3") == 0)
			ck->tls_min = 13;
		else
			conf_err(p, vl, "tls-min: expected 1.2 or 1.3, found \"%s\"",
			    *v);
		break;
	case K_METHOD: {
		bool ok = strlen(*v) > 0 && strlen(*v) <= 16;
		for (const char *q = *v; ok && *q; q++)
			ok = *q >= 'A' && *q <= 'Z';
		if (!ok)
			conf_err(p, vl, "method: expected an HTTP method such as GET "
			    "or HEAD, found \"%s\"", *v);
		else
			take_str(&ck->method, v);
		break;
	}
	default:
		break;
	}
}

void
b_set(struct conf_parser *p, enum conf_key k, char *val,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	if (p->blk == BLK_GROUP && k == K_NOTIFY && p->group >= 0) {
		/* The group's own item: its instances' keys do not count. */
		struct conf_group *g = &p->c->groups[p->group];

		if (g->notify != NULL)
			conf_err(p, kl, "duplicate \"notify\" in vrrp-group \"%s\"",
			    g->name);
		else
			take_str(&g->notify, &val);
		free(val);
		return;
	}
	if (first_use(p, k, kl)) {
		switch (p->blk) {
		case BLK_GLOBAL:
			set_global(p, k, &val, vl);
			break;
		case BLK_INSTANCE:
			set_instance(p, k, &val, vl);
			break;
		case BLK_SYNC:
			set_sync(p, k, &val, vl);
			break;
		case BLK_SERVICE:
			set_service(p, k, &val, kl, vl);
			break;
		case BLK_CHECK:
			set_check(p, k, &val, vl);
			break;
		default:
			break;
		}
	}
	free(val);
}

void
b_list_item(struct conf_parser *p, enum conf_key k, char *val,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	struct conf_addr a;

	if (k == K_VIRTUAL_ADDRESS) {
		struct conf_instance *in = cur_instance(p);
		if (in == NULL)
			;
		else if (!conf_parse_addr(val, true, &a)) {
			conf_err(p, vl, "virtual-address: expected an address "
			    "such as 198.51.100.10/24 or 2001:db8::10/64, found "
			    "\"%s\"", val);
			in->incomplete = true;	/* not "missing" as well */
		} else {
			GROW(in->vaddrs, in->n_vaddrs);
			in->vaddrs[in->n_vaddrs++] = a;
		}
	} else if (k == K_UNICAST_PEER) {
		struct conf_instance *in = cur_instance(p);
		if (in == NULL)
			;
		else if (!conf_parse_addr(val, false, &a))
			conf_err(p, vl, "unicast-peer: expected an IPv4 or IPv6 "
			    "address, found \"%s\"", val);
		else {
			GROW(in->unicast_peers, in->n_unicast_peers);
			in->unicast_peers[in->n_unicast_peers++] = a;
		}
	} else if (k == K_SNAT_POOL) {
		struct conf_service *s = cur_service(p);
		if (s == NULL)
			;
		else if (!conf_parse_addr(val, false, &a))
			conf_err(p, vl, "snat-pool: expected an IPv4 or IPv6 "
			    "address, found \"%s\"", val);
		else {
			if (s->n_snat_pool == 0)
				s->snat_loc = *vl;
			GROW(s->snat_pool, s->n_snat_pool);
			s->snat_pool[s->n_snat_pool++] = a;
		}
	}
	free(val);
}

void
b_listen(struct conf_parser *p, char *addr, char *proto, char *port,
    const struct conf_loc *kl, const struct conf_loc *l1,
    const struct conf_loc *l2, const struct conf_loc *l3)
{
	struct conf_service *s = cur_service(p);
	uint32_t n;

	if (s != NULL && first_use(p, K_LISTEN, kl)) {
		s->listen_loc = *kl;
		if (!conf_parse_addr(addr, false, &s->vip))
			conf_err(p, l1, "listen: expected an IPv4 or IPv6 address, "
			    "found \"%s\"", addr);
		if (strcmp(proto, "tcp") == 0)
			s->proto = IPPROTO_TCP;
		else if (strcmp(proto, "udp") == 0)
			s->proto = IPPROTO_UDP;
		else
			conf_err(p, l2, "listen: unknown protocol \"%s\", expected "
			    "tcp or udp", proto);
		if (!parse_u32(port, &n) || n < 1 || n > 65535)
			conf_err(p, l3, "listen: port %s out of range 1..65535",
			    port);
		else
			s->port = (uint16_t)n;
	}
	free(addr);
	free(proto);
	free(port);
}

void
b_check(struct conf_parser *p, char *type, const struct conf_loc *kl,
    const struct conf_loc *vl)
{
	struct conf_service *s = cur_service(p);
	int i;

	if (s != NULL) {
		if (s->check.loc.line != 0)
			conf_err(p, kl, "duplicate \"check\" (first set at "
			    "%s:%d:%d)", s->check.loc.file, s->check.loc.line,
			    s->check.loc.col);
		else if ((i = lookup(check_names, 8, type)) <= 0)
			conf_err(p, vl, "unknown check \"%s\", expected tcp, "
			    "http, https, tls, udp, script or agent", type);
		else {
			s->check.type = (enum conf_check_type)i;
			s->check.loc = *kl;
			s->check.interval_ms = CONF_CHECK_DEFAULT_INTERVAL_MS;
			s->check.timeout_ms = CONF_CHECK_DEFAULT_TIMEOUT_MS;
			s->check.rise = CONF_CHECK_DEFAULT_RISE;
			s->check.fall = CONF_CHECK_DEFAULT_FALL;
			s->check.tls_min = 12;
		}
	}
	free(type);
}

/* Fill in a backend (or the fallback): name, address, port; takes both
 * strings. `what` names it in messages. */
static void
fill_backend(struct conf_parser *p, struct conf_backend *b, const char *what,
    char *name, char *addrport, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	uint32_t port;
	bool port_ok;

	check_name(p, what, name, nl);
	b->name = name;
	b->loc = *nl;
	b->weight = 1;
	if (!parse_addr_port(addrport, &b->addr, &port, &port_ok))
		conf_err(p, al, "%s \"%s\": expected ADDRESS:PORT such as "
		    "10.0.0.11:80 or [2001:db8::11]:80, found \"%s\"", what, name,
		    addrport);
	else if (!port_ok)
		conf_err(p, al, "%s \"%s\": port in \"%s\" out of range "
		    "1..65535", what, name, addrport);
	else
		b->port = (uint16_t)port;
	free(addrport);
}

void
b_backend(struct conf_parser *p, char *name, char *addrport,
    const struct conf_loc *kl, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	struct conf_service *s = cur_service(p);

	if (s == NULL) {
		free(name);
		free(addrport);
		return;
	}
	GROW(s->backends, s->n_backends);
	fill_backend(p, &s->backends[s->n_backends++], "backend", name, addrport,
	    nl, al);
}

static const char *const timeout_names[CONF_TO__COUNT] = {
	[CONF_TO_TCP_SYN] = "tcp-syn",
	[CONF_TO_TCP_ESTABLISHED] = "tcp-established",
	[CONF_TO_TCP_FIN] = "tcp-fin",
	[CONF_TO_TCP_TIME_WAIT] = "tcp-time-wait",
	[CONF_TO_TCP_CLOSE] = "tcp-close",
	[CONF_TO_UDP] = "udp",
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
};

const char *
conf_timeout_name(enum conf_timeout t)
{
	return timeout_names[t];
}

void
b_timeout(struct conf_parser *p, char *state, char *dur,
    const struct conf_loc *kl, const struct conf_loc *sl,
    const struct conf_loc *dl)
{
	struct conf_global *g = &p->c->global;
	int t = lookup(timeout_names, CONF_TO__COUNT, state);
	uint32_t ms;

	if (t < 0)
		conf_err(p, sl, "timeout: unknown state \"%s\", expected tcp-syn, "
		    "tcp-established, tcp-fin, tcp-time-wait, tcp-close or udp",
		    state);
	else if (g->timeout_loc[t].line != 0)
		conf_err(p, kl, "duplicate \"timeout %s\" (first set at %s:%d:%d)",
		    state, g->timeout_loc[t].file, g->timeout_loc[t].line,
		    g->timeout_loc[t].col);
	else {
		g->timeout_loc[t] = *kl;
		if (get_duration(p, K_TIMEOUT, dur, dl, 1000, 86400000, &ms))
			g->timeout_ms[t] = ms;
	}
	free(state);
	free(dur);
}

const char *
conf_track_name(enum conf_track_type t)
{
	return t == CONF_TRACK_INTERFACE ? "track-interface" :
	    t == CONF_TRACK_SERVICE ? "track-service" : "track-script";
}

const char *
conf_xdp_mode_name(enum conf_xdp_mode m)
{
	return m == CONF_XDP_NATIVE ? "native" :
	    m == CONF_XDP_GENERIC ? "generic" : "auto";
}

/* `interface NAME` in global, once per data interface. */
void
b_data_iface(struct conf_parser *p, char *name, const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	char **v;

	if (strlen(name) > 15) {
		conf_err(p, vl, "interface name \"%s\" longer than 15 bytes", name);
		free(name);
		return;
	}
	for (size_t i = 0; i < g->n_ifaces; i++)
		if (strcmp(g->ifaces[i], name) == 0) {
			conf_err(p, vl, "interface %s listed twice", name);
			free(name);
			return;
		}
	if (g->n_ifaces == 16) {
		conf_err(p, vl, "at most 16 data interfaces");
		free(name);
		return;
	}
	if ((v = realloc(g->ifaces, (g->n_ifaces + 1) * sizeof(*v))) == NULL) {
		conf_err(p, vl, "out of memory");
		free(name);
		return;
	}
	g->ifaces = v;
	g->ifaces[g->n_ifaces++] = name;
}

/* `garp count N`, `garp interval DURATION`, `garp refresh DURATION|off`. */
void
b_garp(struct conf_parser *p, char *what, char *val, const struct conf_loc *wl,
    const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	uint32_t n;

	if (strcmp(what, "count") == 0) {
		if (first_use(p, K_GARP_COUNT, wl) &&
		    get_num(p, K_GARP_COUNT, val, vl, 0, 100, &n))
			g->garp_count = n;
	} else if (strcmp(what, "interval") == 0) {
		if (first_use(p, K_GARP_INTERVAL, wl) &&
		    get_duration(p, K_GARP_INTERVAL, val, vl, 10, 60000, &n))
			g->garp_interval_ms = n;
	} else if (strcmp(what, "refresh") == 0) {
		if (!first_use(p, K_GARP_REFRESH, wl))
			;
		else if (strcmp(val, "off") == 0)
			g->garp_refresh_ms = 0;
		else if (get_duration(p, K_GARP_REFRESH, val, vl, 1000,
		    86400000, &n))
			g->garp_refresh_ms = n;
	} else
		conf_err(p, wl, "garp: expected count, interval or refresh, "
		    "found \"%s\"", what);
	free(what);
	free(val);
}

void
b_metrics(struct conf_parser *p, char *addrport, const struct conf_loc *kl,
    const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	uint32_t port;
	bool port_ok;

	if (first_use(p, K_METRICS, kl)) {
		if (!parse_addr_port(addrport, &g->metrics_addr, &port, &port_ok) ||
		    port == 0)
			conf_err(p, vl, "metrics listen: expected ADDRESS:PORT such "
			    "as 127.0.0.1:9180 or [::1]:9180, found \"%s\"",
			    addrport);
		else if (!port_ok)
			conf_err(p, vl, "metrics listen: port in \"%s\" out of range "
			    "1..65535", addrport);
		else {
			g->metrics = true;
			g->metrics_port = (uint16_t)port;
		}
	}
	free(addrport);
}

/* The backend that takes new connections when no other does (a sorry
 * server). Not health checked, not scheduled otherwise. */
void
b_fallback(struct conf_parser *p, char *name, char *addrport,
    const struct conf_loc *kl, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	struct conf_service *s = cur_service(p);

	if (s != NULL && s->has_fallback)
		conf_err(p, kl, "duplicate \"fallback\" (first set at %s:%d:%d)",
		    s->fallback.loc.file, s->fallback.loc.line, s->fallback.loc.col);
	if (s == NULL || s->has_fallback) {
		free(name);
		free(addrport);
		return;
	}
	s->has_fallback = true;
	fill_backend(p, &s->fallback, "fallback", name, addrport, nl, al);
}

void
b_backend_weight(struct conf_parser *p, char *w, const struct conf_loc *vl)
{
	struct conf_service *s = cur_service(p);
	struct conf_backend *b;
	uint32_t n;

	if (s != NULL && s->n_backends > 0) {
		b = &s->backends[s->n_backends - 1];
		if (!parse_u32(w, &n) || n > 256)
			conf_err(p, vl, "backend \"%s\": weight %s out of range "
			    "0..256", b->name, w);
		else
			b->weight = n;
	}
	free(w);
}

void
b_track(struct conf_parser *p, enum conf_track_type type, char *what,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	struct conf_instance *in = cur_instance(p);
	struct conf_track *t;

	if (in == NULL) {
		free(what);
		return;
	}
	if (type == CONF_TRACK_INTERFACE && strlen(what) > 15) {
		conf_err(p, vl, "interface name \"%s\" longer than 15 bytes", what);
		free(what);
		return;
	}
	GROW(in->tracks, in->n_tracks);
	t = &in->tracks[in->n_tracks++];
	t->type = type;
	t->what = what;
	t->interval_ms = CONF_TRACK_DEFAULT_INTERVAL_MS;
	t->loc = *kl;
}

void
b_track_opt(struct conf_parser *p, enum conf_key k, char *val,
    const struct conf_loc *vl)
{
	struct conf_instance *in = cur_instance(p);
	struct conf_track *t;
	uint32_t n;

	if (in == NULL || in->n_tracks == 0) {
		free(val);
		return;
	}
	t = &in->tracks[in->n_tracks - 1];
	if (k == K_WEIGHT) {
		if (strcmp(val, "0") == 0)
			conf_err(p, vl, "weight 0: leave the weight out to enter "
			    "FAULT while \"%s\" fails; 1..254 lowers the "
			    "priority instead", t->what);
		else if (get_num(p, k, val, vl, 1, 254, &n))
			t->weight = n;
	} else if (t->type != CONF_TRACK_SCRIPT)
		conf_err(p, vl, "interval: only track-script runs on an "
		    "interval");
	else if (get_duration(p, k, val, vl, 100, 3600000, &n))
		t->interval_ms = n;
	free(val);
}

/* ---- load / free --------------------------------------------------- */

static struct conf *
conf_new(const char *path)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->path = strdup(path);
	c->global.workers = CONF_DEFAULT_WORKERS;
	c->global.conn_table_size = CONF_DEFAULT_CONN_TABLE_SIZE;
	c->global.garp_count = CONF_GARP_DEFAULT_COUNT;
	c->global.garp_interval_ms = CONF_GARP_DEFAULT_INTERVAL_MS;
	c->global.notify_timeout_ms = CONF_NOTIFY_DEFAULT_TIMEOUT_MS;
	memcpy(c->global.timeout_ms, conf_timeout_default_ms,
	    sizeof(c->global.timeout_ms));
	c->global.control_socket = strdup(CONF_DEFAULT_SOCKET);
	if (c->path == NULL || c->global.control_socket == NULL) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static struct conf *
load(const char *name, const char *text, struct conf_diags *d)
{
	struct conf_parser p;
	size_t errors_before = d->n_errors;
	int rc;

	memset(&p, 0, sizeof(p));
	p.diags = d;
	p.group = p.instance = p.service = -1;
	if ((p.c = conf_new(name)) == NULL)
		return NULL;
	if (conf_lex_init(&p) != 0) {
		conf_free(p.c);
		return NULL;
	}
	rc = text != NULL ? conf_lex_push_string(&p, name, text) :
	    conf_lex_push_file(&p, name, NULL);
	if (rc == 0)
		yyparse(p.scanner, &p);
	conf_lex_destroy(&p);
	if (rc == 0)
		conf_validate(&p);	/* also after parse errors: report all */
	if (d->n_errors != errors_before) {
		conf_free(p.c);
		return NULL;
	}
	return p.c;
}

struct conf *
conf_load(const char *path, struct conf_diags *d)
{
	return load(path, NULL, d);
}

struct conf *
conf_load_string(const char *name, const char *text, struct conf_diags *d)
{
	return load(name, text, d);
}

static void
check_free(struct conf_check *ck)
{
	free(ck->path);
	free(ck->expect);
	free(ck->host);
	free(ck->command);
	free(ck->body);
	free(ck->method);
	free(ck->send);
	free(ck->receive);
	free(ck->ca_file);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_groups; i++) {
		struct conf_group *g = &c->groups[i];
		for (size_t j = 0; j < g->n_instances; j++) {
			free(g->instances[j].name);
			free(g->instances[j].interface);
			free(g->instances[j].vaddrs);
			free(g->instances[j].unicast_peers);
			free(g->instances[j].notify);
			for (size_t k = 0; k < g->instances[j].n_tracks; k++)
				free(g->instances[j].tracks[k].what);
			free(g->instances[j].tracks);
		}
		free(g->instances);
		free(g->name);
		free(g->notify);
	}
	free(c->groups);
	for (size_t i = 0; i < c->n_services; i++) {
		struct conf_service *s = &c->services[i];
		for (size_t j = 0; j < s->n_backends; j++)
			free(s->backends[j].name);
		free(s->backends);
		free(s->fallback.name);
		free(s->snat_pool);
		check_free(&s->check);
		free(s->name);
	}
	free(c->services);
	free(c->sync.interface);
	free(c->sync.key_file);
	free(c->sync.backup_interface);
	free(c->global.node_id);
	free(c->global.control_socket);
	for (size_t i = 0; i < c->global.n_ifaces; i++)
		free(c->global.ifaces[i]);
	free(c->global.ifaces);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c->path);
	free(c);
}

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
