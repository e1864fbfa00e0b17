/*
 * Builds a struct conf from grammar actions: blocks, the global, VRRP,
 * sync and service directives (the check block and backends are in
 * build_check.c).
 *
 * Every value is converted and range-checked here, at the column where it
 * stands, so the operator reads "vrid 300 out of range 1..255" rather than a
 * generic syntax error. Bad values are reported and skipped; parsing goes on so
 * that all problems in a file are found in one run.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf_int.h"

/* ---- value readers that report ------------------------------------- */

/* A number in [lo, hi]; reports and returns false otherwise. */
bool
b_num(struct conf_parser *p, enum conf_key k, const char *v,
    const struct conf_loc *loc, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint32_t n;

	if (!conf_parse_u32(v, &n)) {
		if (isdigit((unsigned char)v[0]) && strspn(v, "0123456789") == strlen(v))
			conf_err(p, loc, "%s %s out of range %u..%u",
			    conf_key_names[k], v, lo, hi);
		else
			conf_err(p, loc, "%s: expected a number %u..%u, found \"%s\"",
			    conf_key_names[k], lo, hi, v);
		return false;
	}
	if (n < lo || n > hi) {
		conf_err(p, loc, "%s %s out of range %u..%u", conf_key_names[k], v,
		    lo, hi);
		return false;
	}
	*out = n;
	return true;
}


bool
b_duration(struct conf_parser *p, enum conf_key k, const char *v,
    const struct conf_loc *loc, uint32_t lo_ms, uint32_t hi_ms, uint32_t *out)
{
	char a[32], b[32];
	uint64_t ms;

	if (!conf_parse_duration_ms(v, &ms)) {
		if (strspn(v, "0123456789") == strlen(v))
			conf_err(p, loc, "%s: \"%s\" needs a unit, e.g. %sms or %ss",
			    conf_key_names[k], v, v, v);
		else
			conf_err(p, loc, "%s: expected a duration such as 100ms "
			    "or 2s, found \"%s\"", conf_key_names[k], v);
		return false;
	}
	if (ms < lo_ms || ms > hi_ms) {
		conf_err(p, loc, "%s %s out of range %s..%s", conf_key_names[k], v,
		    conf_dur_str(lo_ms, a, sizeof(a)), conf_dur_str(hi_ms, b, sizeof(b)));
		return false;
	}
	*out = (uint32_t)ms;
	return true;
}


bool
b_bool(struct conf_parser *p, enum conf_key k, const char *v,
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
	conf_err(p, loc, "%s: expected on or off, found \"%s\"", conf_key_names[k], v);
	return false;
}


bool
b_name_ok(struct conf_parser *p, const char *what, const char *s,
    const struct conf_loc *loc)
{
	if (conf_valid_name(s))
		return true;
	conf_err(p, loc, "%s name \"%s\": expected 1..%d letters, digits, "
	    "'-', '_' or '.'", what, s, CONF_NAME_MAX);
	return false;
}


/* ---- blocks -------------------------------------------------------- */

struct conf_service *
b_cur_service(struct conf_parser *p)
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
		c->sync.heartbeat_interval_ms = CONF_DEFAULT_HB_INTERVAL_MS;
		c->sync.heartbeat_timeout_ms = CONF_DEFAULT_HB_TIMEOUT_MS;
		c->sync.n_peers = 0;	/* a duplicate block's are its own */
		memset(p->seen, 0, sizeof(p->seen));
		break;
	case BLK_CLUSTER:
		if (c->cluster.present)
			conf_err(p, loc, "duplicate cluster block (first at "
			    "%s:%d:%d)", c->cluster.loc.file, c->cluster.loc.line,
			    c->cluster.loc.col);
		c->cluster.present = true;
		c->cluster.loc = *loc;
		c->cluster.announce_table = CONF_DEFAULT_ANNOUNCE_TABLE;
		c->cluster.withdraw_delay_ms = CONF_DEFAULT_WITHDRAW_DELAY_MS;
		c->cluster.n_snat_own = 0;	/* a duplicate block's are its own */
		memset(p->seen, 0, sizeof(p->seen));
		break;
	case BLK_GROUP:
		b_name_ok(p, "vrrp-group", name, loc);
		GROW(c->groups, c->n_groups);
		c->groups[c->n_groups].name = name;
		c->groups[c->n_groups].loc = *loc;
		p->group = (ssize_t)c->n_groups++;
		name = NULL;
		break;
	case BLK_INSTANCE: {
		struct conf_group *g = &c->groups[p->group];
		struct conf_instance *in;

		b_name_ok(p, "instance", name, loc);
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

		b_name_ok(p, "service", name, loc);
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
	struct conf_service *s = b_cur_service(p);
	struct conf_instance *in = cur_instance(p);

	if (s != NULL)
		s->incomplete = true;
	if (in != NULL)
		in->incomplete = true;
	if (p->blk == BLK_SYNC)
		p->c->sync.incomplete = true;
	if (p->blk == BLK_CLUSTER)
		p->c->cluster.incomplete = true;
}

/* A directive given twice in one block is an error, not a silent override. */
bool
b_first_use(struct conf_parser *p, enum conf_key k, const struct conf_loc *loc)
{
	struct conf_loc *seen = p->blk == BLK_CHECK ? p->check_seen : p->seen;

	if (seen[k].line != 0) {
		conf_err(p, loc, "duplicate \"%s\" (first set at %s:%d:%d)",
		    conf_key_names[k], seen[k].file, seen[k].line, seen[k].col);
		return false;
	}
	seen[k] = *loc;
	return true;
}

/* Move the token string *v into *dst (the builder owns it from now on). */
void
b_take_str(char **dst, char **v)
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
		b_take_str(dst, v);
}

static void
set_global(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	uint32_t n;

	switch (k) {
	case K_NODE_ID:
		if (b_name_ok(p, "node-id", *v, vl))
			b_take_str(&g->node_id, v);
		break;
	case K_WORKERS:
		if (b_num(p, k, *v, vl, 1, 64, &n))
			g->workers = n;
		break;
	case K_CONTROL_SOCKET:
	case K_CONTROL_SOCKET_RO:
		if ((*v)[0] != '/')
			conf_err(p, vl, "%s: expected an absolute path, found "
			    "\"%s\"", conf_key_names[k], *v);
		/* A Unix socket path holds 107 bytes; lbd binds a temporary
		 * name (the path, '.', its pid, ".tmp") before renaming it. */
		else if (strlen(*v) > 88)
			conf_err(p, vl, "%s: path longer than 88 bytes (a Unix "
			    "socket limit)", conf_key_names[k]);
		else
			b_take_str(k == K_CONTROL_SOCKET ? &g->control_socket :
			    &g->control_socket_ro, v);
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
	case K_DATAPATH:
		if (strcmp(*v, "auto") == 0)
			g->datapath = CONF_DP_AUTO;
		else if (strcmp(*v, "kernel") == 0)
			g->datapath = CONF_DP_KERNEL;
		else if (strcmp(*v, "userspace") == 0)
			g->datapath = CONF_DP_USERSPACE;
		else
			conf_err(p, vl, "datapath: expected auto, kernel or "
			    "userspace, found \"%s\"", *v);
		break;
	case K_SCRIPT_USER:
		/* The user must exist where lbd runs: a hook that cannot
		 * start is found at config check, not at the first failover. */
		if (getpwnam(*v) == NULL)
			conf_err(p, vl, "script-user: no user \"%s\" on this "
			    "system", *v);
		else
			b_take_str(&g->script_user, v);
		break;
	case K_HASH_SEED:
		if ((*v)[0] == '\0' || strlen(*v) > 128)
			conf_err(p, vl, "hash-seed: expected a word of 1 to 128 "
			    "characters");
		else
			b_take_str(&g->hash_seed, v);
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
		if (b_duration(p, k, *v, vl, 100, 3600000, &n))
			g->notify_timeout_ms = n;
		break;
	case K_NAT_LOG:
		b_bool(p, k, *v, vl, &g->nat_log);
		break;
	case K_CONN_TABLE_SIZE:
		/* The engine indexes at most 2^24 entries (lbd/engine/ct.h). */
		if (b_num(p, k, *v, vl, 1024, 1u << 24, &n))
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
		if (b_num(p, k, *v, vl, 1, 255, &n))
			in->vrid = (uint8_t)n;
		break;
	case K_PRIORITY:
		in->priority_loc = *vl;
		if (b_num(p, k, *v, vl, 1, 255, &n))
			in->priority = (uint8_t)n;
		break;
	case K_ADVERT_INTERVAL:
		/* RFC 5798 5.2.7: 12 bits of centiseconds. The v2 range is
		 * checked in validate.c once the version is known. */
		if (b_duration(p, k, *v, vl, 10, 40950, &n)) {
			if (n % 10 != 0)
				conf_err(p, vl, "advert-interval %s: VRRP counts "
				    "in centiseconds (multiples of 10ms)", *v);
			else
				in->advert_ms = n;
		}
		break;
	case K_VERSION:
		if (b_num(p, k, *v, vl, 2, 3, &n))
			in->version = (uint8_t)n;
		break;
	case K_PREEMPT:
		if (b_bool(p, k, *v, vl, &b))
			in->preempt = b;
		break;
	case K_PREEMPT_DELAY:
		if (b_duration(p, k, *v, vl, 0, 3600000, &n))
			in->preempt_delay_ms = n;
		break;
	case K_USE_VMAC:
		if (b_bool(p, k, *v, vl, &b))
			in->use_vmac = b;
		break;
	case K_NOTIFY:
		b_take_str(&in->notify, v);
		break;
	case K_AUTH_PASS:
		/* RFC 3768 5.3.6: up to 8 bytes, sent in the clear. */
		if ((*v)[0] == '\0' || strlen(*v) > 8)
			conf_err(p, vl, "auth-pass: expected 1 to 8 characters "
			    "(VRRPv2 simple password, as keepalived's auth_pass)");
		else
			b_take_str(&in->auth_pass, v);
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
	case K_PEER: {
		struct conf_addr a;

		if (!conf_parse_addr(*v, false, &a)) {
			conf_err(p, vl, "peer: expected an IPv4 or IPv6 address, "
			    "found \"%s\"", *v);
			break;
		}
		for (size_t i = 0; i < s->n_peers; i++)
			if (conf_addr_equal(&s->peers[i], &a)) {
				conf_err(p, vl, "peer %s given twice (first at "
				    "%s:%d:%d)", *v, s->peer_locs[i].file,
				    s->peer_locs[i].line, s->peer_locs[i].col);
				return;
			}
		if (s->n_peers == CONF_SYNC_PEERS_MAX) {
			conf_err(p, vl, "peer: at most %d peers (a cluster of %d "
			    "nodes)", CONF_SYNC_PEERS_MAX, CONF_SYNC_PEERS_MAX + 1);
			break;
		}
		s->peer_locs[s->n_peers] = *vl;
		s->peers[s->n_peers++] = a;
		break;
	}
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
		if (b_num(p, k, *v, vl, 1, 65535, &n))
			s->port = (uint16_t)n;
		break;
	case K_KEY_FILE:
	case K_ACCEPT_KEY_FILE: {
		char **dst = k == K_KEY_FILE ? &s->key_file : &s->accept_key_file;

		/* Relative to the file that names it, as include is. */
		free(*dst);
		*dst = NULL;
		if ((*v)[0] != '/' && vl->file != NULL && strrchr(vl->file, '/')) {
			const char *dir_end = strrchr(vl->file, '/');
			if (asprintf(dst, "%.*s/%s",
			    (int)(dir_end - vl->file), vl->file, *v) < 0)
				*dst = NULL;
		} else {
			*dst = *v;
			*v = NULL;
		}
		*(k == K_KEY_FILE ? &s->key_loc : &s->accept_key_loc) = *vl;
		break;
	}
	case K_RESYNC_WAIT:
		if (b_duration(p, k, *v, vl, 0, 3600000, &n))
			s->resync_wait_ms = n;
		break;
	case K_HEARTBEAT_INTERVAL:
		if (b_duration(p, k, *v, vl, 5, 1000, &n))
			s->heartbeat_interval_ms = n;
		break;
	case K_HEARTBEAT_TIMEOUT:
		if (b_duration(p, k, *v, vl, 20, 10000, &n)) {
			s->heartbeat_timeout_ms = n;
			s->heartbeat_timeout_loc = *vl;
		}
		break;
	default:
		break;
	}
}

static void
set_cluster(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_cluster *c = &p->c->cluster;
	uint32_t n;

	switch (k) {
	case K_ANNOUNCE_TABLE:
		/* Not main (254), local (255) or default (253), nor 0: a
		 * table of lbd's own, which nothing routes by. */
		if (b_num(p, k, *v, vl, 1, 252, &n))
			c->announce_table = n;
		break;
	case K_WITHDRAW_DELAY:
		if (b_duration(p, k, *v, vl, 0, 60000, &n))
			c->withdraw_delay_ms = n;
		break;
	default:
		break;
	}
}

static void
set_service(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	struct conf_service *s = b_cur_service(p);
	uint32_t n;
	int i;

	if (s == NULL)
		return;
	switch (k) {
	case K_MODE:
		s->mode_loc = *kl;
		if ((i = conf_lookup(conf_mode_names, 3, *v)) < 0)
			conf_err(p, vl, "unknown mode \"%s\", expected routed, "
			    "snat or dsr", *v);
		else
			s->mode = (enum conf_mode)i;
		break;
	case K_STATELESS:
		s->stateless_loc = *kl;
		(void)b_bool(p, k, *v, vl, &s->stateless);
		break;
	case K_ON_BACKEND_DOWN:
		if ((i = conf_lookup(conf_on_down_names, 2, *v)) < 0)
			conf_err(p, vl, "unknown on-backend-down \"%s\", expected "
			    "keep or reset", *v);
		else
			s->reset_on_down = i == 1;
		break;
	case K_ONE_PACKET:
		s->one_packet_loc = *kl;
		(void)b_bool(p, k, *v, vl, &s->one_packet);
		break;
	case K_QUORUM:
		s->quorum_loc = *kl;
		if (b_num(p, k, *v, vl, 1, CONF_BACKENDS_MAX, &n))
			s->quorum = n;
		break;
	case K_SLOW_START:
		s->slow_start_loc = *kl;
		if (b_duration(p, k, *v, vl, 0, 3600000, &n))
			s->slow_start_ms = n;
		break;
	case K_SCHEDULER:
		if (strcmp(*v, "source-hash") == 0)
			s->sched = CONF_SCHED_SH;
		else if ((i = conf_lookup(conf_sched_names, 6, *v)) < 0)
			conf_err(p, vl, "unknown scheduler \"%s\", expected rr, "
			    "wrr, lc, wlc, sh or maglev", *v);
		else
			s->sched = (enum conf_sched)i;
		break;
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
			b_take_str(&g->notify, &val);
		free(val);
		return;
	}
	/* A cluster node names each other node: `peer` repeats. */
	if (p->blk == BLK_SYNC && k == K_PEER) {
		set_sync(p, k, &val, vl);
		free(val);
		return;
	}
	if (b_first_use(p, k, kl)) {
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
		case BLK_CLUSTER:
			set_cluster(p, k, &val, vl);
			break;
		case BLK_SERVICE:
			set_service(p, k, &val, kl, vl);
			break;
		case BLK_CHECK:
			b_set_check(p, k, &val, vl);
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
	} else if (k == K_ALLOW) {
		struct conf_service *s = b_cur_service(p);
		if (s == NULL)
			;
		else if (!conf_parse_addr(val, true, &a))
			conf_err(p, vl, "allow: expected an address or prefix "
			    "such as 192.0.2.0/24 or 2001:db8::/48, found \"%s\"",
			    val);
		else {
			if (s->n_allow == 0)
				s->allow_loc = *vl;
			GROW(s->allow, s->n_allow);
			s->allow[s->n_allow++] = a;
		}
	} else if (k == K_SNAT_ADDRESSES) {
		struct conf_cluster *cl = &p->c->cluster;

		if (!conf_parse_addr(val, false, &a))
			conf_err(p, vl, "snat-addresses: expected an IPv4 or IPv6 "
			    "address, found \"%s\"", val);
		else {
			GROW(cl->snat_own_locs, cl->n_snat_own);
			GROW(cl->snat_own, cl->n_snat_own);
			cl->snat_own_locs[cl->n_snat_own] = *vl;
			cl->snat_own[cl->n_snat_own++] = a;
		}
	} else if (k == K_SNAT_POOL) {
		struct conf_service *s = b_cur_service(p);
		if (s == NULL)
			;
		else if (!conf_parse_addr(val, false, &a))
			conf_err(p, vl, "snat-pool: expected an IPv4 or IPv6 "
			    "address, found \"%s\"", val);
		else {
			if (s->n_snat_pool == 0)
				s->snat_loc = *vl;
			GROW(s->snat_ports, s->n_snat_pool);
			GROW(s->snat_pool, s->n_snat_pool);
			s->snat_ports[s->n_snat_pool] = (struct conf_ports){ 0, 0 };
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
	struct conf_service *s = b_cur_service(p);
	uint32_t n;

	if (s != NULL && b_first_use(p, K_LISTEN, kl)) {
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
		if (!conf_parse_u32(port, &n) || n < 1 || n > 65535)
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
b_timeout(struct conf_parser *p, char *state, char *dur,
    const struct conf_loc *kl, const struct conf_loc *sl,
    const struct conf_loc *dl)
{
	struct conf_global *g = &p->c->global;
	int t = conf_lookup(conf_timeout_names, CONF_TO__COUNT, state);
	struct conf_service *s;
	uint32_t ms;

	if (p->blk == BLK_SERVICE) {
		/* A service's own: UDP only (the TCP states' are global). */
		if ((s = b_cur_service(p)) == NULL)
			;
		else if (t != CONF_TO_UDP)
			conf_err(p, sl, "timeout: a service sets only \"udp\" (the "
			    "TCP states' timeouts are global), found \"%s\"",
			    state);
		else if (s->udp_timeout_loc.line != 0)
			conf_err(p, kl, "duplicate \"timeout udp\" (first set at "
			    "%s:%d:%d)", s->udp_timeout_loc.file,
			    s->udp_timeout_loc.line, s->udp_timeout_loc.col);
		else if (b_duration(p, K_TIMEOUT, dur, dl, 1000, 86400000, &ms)) {
			s->udp_timeout_loc = *kl;
			s->udp_timeout_ms = ms;
		}
		free(state);
		free(dur);
		return;
	}
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
		if (b_duration(p, K_TIMEOUT, dur, dl, 1000, 86400000, &ms))
			g->timeout_ms[t] = ms;
	}
	free(state);
	free(dur);
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

/* `nat-log rate N`: lines a second at most (the rest counted). */
void
b_nat_log_rate(struct conf_parser *p, char *what, char *val,
    const struct conf_loc *wl, const struct conf_loc *vl)
{
	uint32_t n;

	if (strcmp(what, "rate") != 0)
		conf_err(p, wl, "nat-log: expected on, off or rate N, found "
		    "\"%s\"", what);
	else if (b_first_use(p, K_NAT_LOG_RATE, wl) &&
	    b_num(p, K_NAT_LOG_RATE, val, vl, 1, 1000000, &n))
		p->c->global.nat_log_rate = n;
	free(what);
	free(val);
}

/*
 * `garp count N`, `garp interval DURATION`, `garp refresh DURATION|off`,
 * `garp lower-prio N|off`: in global for every address, in an instance for
 * its own; `garp rate N` (frames/s, 0: no limit) in global only.
 */
void
b_garp(struct conf_parser *p, char *what, char *val, const struct conf_loc *wl,
    const struct conf_loc *vl)
{
	struct conf_global *gl = &p->c->global;
	struct conf_garp *g = &gl->garp;
	bool instance = p->blk == BLK_INSTANCE && p->group >= 0 &&
	    p->instance >= 0;
	uint32_t n;

	if (instance)
		g = &p->c->groups[p->group].instances[p->instance].garp;
	if (strcmp(what, "count") == 0) {
		if (b_first_use(p, K_GARP_COUNT, wl) &&
		    b_num(p, K_GARP_COUNT, val, vl, 0, 100, &n)) {
			g->count = n;
			g->set |= CONF_GARP_SET_COUNT;
		}
	} else if (strcmp(what, "interval") == 0) {
		if (b_first_use(p, K_GARP_INTERVAL, wl) &&
		    b_duration(p, K_GARP_INTERVAL, val, vl, 10, 60000, &n)) {
			g->interval_ms = n;
			g->set |= CONF_GARP_SET_INTERVAL;
		}
	} else if (strcmp(what, "refresh") == 0) {
		if (!b_first_use(p, K_GARP_REFRESH, wl))
			;
		else if (strcmp(val, "off") == 0) {
			g->refresh_ms = 0;
			g->set |= CONF_GARP_SET_REFRESH;
		} else if (b_duration(p, K_GARP_REFRESH, val, vl, 1000,
		    86400000, &n)) {
			g->refresh_ms = n;
			g->set |= CONF_GARP_SET_REFRESH;
		}
	} else if (strcmp(what, "lower-prio") == 0) {
		if (!b_first_use(p, K_GARP_LOWER_PRIO, wl))
			;
		else if (strcmp(val, "off") == 0) {
			g->lower_prio = 0;
			g->set |= CONF_GARP_SET_LOWER;
		} else if (b_num(p, K_GARP_LOWER_PRIO, val, vl, 1, 100, &n)) {
			g->lower_prio = (int32_t)n;
			g->set |= CONF_GARP_SET_LOWER;
		}
	} else if (strcmp(what, "rate") == 0 && !instance) {
		if (b_first_use(p, K_GARP_RATE, wl) &&
		    b_num(p, K_GARP_RATE, val, vl, 0, 1000000, &n))
			gl->garp_rate = n;
	} else
		conf_err(p, wl, "garp: expected count, interval, refresh, "
		    "lower-prio%s, found \"%s\"", instance ? "" : " or rate",
		    what);
	free(what);
	free(val);
}

struct conf_garp
conf_instance_garp(const struct conf_global *gl, const struct conf_instance *in)
{
	struct conf_garp g = gl->garp;

	if (in->garp.set & CONF_GARP_SET_COUNT)
		g.count = in->garp.count;
	if (in->garp.set & CONF_GARP_SET_INTERVAL)
		g.interval_ms = in->garp.interval_ms;
	if (in->garp.set & CONF_GARP_SET_REFRESH)
		g.refresh_ms = in->garp.refresh_ms;
	if (in->garp.set & CONF_GARP_SET_LOWER)
		g.lower_prio = in->garp.lower_prio;
	if (g.lower_prio < 0)
		g.lower_prio = (int32_t)g.count;
	g.set = 0;
	return g;
}

void
b_metrics(struct conf_parser *p, char *addrport, const struct conf_loc *kl,
    const struct conf_loc *vl)
{
	struct conf_global *g = &p->c->global;
	uint32_t port;
	bool port_ok;

	if (b_first_use(p, K_METRICS, kl)) {
		if (!conf_parse_addr_port(addrport, &g->metrics_addr, &port, &port_ok) ||
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
			if (g->metrics_addr.family == AF_INET ?
			    g->metrics_addr.u.v4.s_addr == 0 :
			    IN6_IS_ADDR_UNSPECIFIED(&g->metrics_addr.u.v6))
				conf_warn(p, vl, "metrics listen %s: every "
				    "address of this node; the counters name "
				    "your backends and how busy they are, bind a "
				    "management address", addrport);
		}
	}
	free(addrport);
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
		else if (b_num(p, k, val, vl, 1, 254, &n))
			t->weight = n;
	} else if (t->type != CONF_TRACK_SCRIPT)
		conf_err(p, vl, "interval: only track-script runs on an "
		    "interval");
	else if (b_duration(p, k, val, vl, 100, 3600000, &n))
		t->interval_ms = n;
	free(val);
}
