/*
 * Control commands, as one table: the words that select a command, its
 * handler, its usage and a line of help. `help` is generated from the table.
 * Every command answers in a table for people or, with --json anywhere on the
 * line, one JSON document for machines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/announce.h"
#include "lbd/ctl_list.h"
#include "lbd/daemon.h"
#include "lbd/events.h"
#include "lbd/handover.h"
#include "lbd/pair.h"
#include "lbd/reload_plan.h"
#include "lbd/stats.h"
#include "lib/log.h"

#define CMD_MAX_WORDS	16

struct cmd_ctx {
	struct lbd	*d;
	const struct ctl_caller *who;
	int		 argc;		/* words after the command's own */
	char		**argv;
	bool		 json;
	struct buf	*out;
	const bool	*only;		/* show stat: these services (by
					 * index) only; NULL: all */
};

static bool	cmd_help(struct cmd_ctx *);
static bool	cmd_show_info(struct cmd_ctx *);
static bool	cmd_show_config(struct cmd_ctx *);
static bool	cmd_reload(struct cmd_ctx *);
static bool	cmd_show_health(struct cmd_ctx *);
static bool	cmd_show_stat(struct cmd_ctx *);
static bool	cmd_admin(struct cmd_ctx *);
static bool	cmd_set_weight(struct cmd_ctx *);
static bool	cmd_show_conn(struct cmd_ctx *);
static bool	cmd_show_errors(struct cmd_ctx *);
static bool	cmd_show_vrrp(struct cmd_ctx *);
static bool	cmd_show_sync(struct cmd_ctx *);
static bool	cmd_vrrp_prio(struct cmd_ctx *);
static bool	cmd_ha(struct cmd_ctx *);
static bool	cmd_reload_dry(struct cmd_ctx *);
static bool	cmd_watch(struct cmd_ctx *);
static bool	cmd_show_pair(struct cmd_ctx *);
static bool	cmd_show_cluster(struct cmd_ctx *);
static bool	cmd_cluster_drain(struct cmd_ctx *);
static bool	cmd_handover(struct cmd_ctx *);

/* Each command of lbd/ctl_list.c and its handler; matched in list order. */
static bool (*const handlers[CTL_NCMDS])(struct cmd_ctx *) = {
	[CTL_HELP] = cmd_help,
	[CTL_SHOW_INFO] = cmd_show_info,
	[CTL_SHOW_CONFIG] = cmd_show_config,
	[CTL_SHOW_HEALTH] = cmd_show_health,
	[CTL_SHOW_STAT] = cmd_show_stat,
	[CTL_SHOW_CONN] = cmd_show_conn,
	[CTL_SHOW_ERRORS] = cmd_show_errors,
	[CTL_SHOW_VRRP] = cmd_show_vrrp,
	[CTL_SHOW_SYNC] = cmd_show_sync,
	[CTL_VRRP_PRIO] = cmd_vrrp_prio,
	[CTL_SHOW_PAIR] = cmd_show_pair,
	[CTL_SHOW_CLUSTER] = cmd_show_cluster,
	[CTL_CLUSTER_DRAIN] = cmd_cluster_drain,
	[CTL_CLUSTER_RESUME] = cmd_cluster_drain,
	[CTL_HA_HANDOVER] = cmd_handover,
	[CTL_HA] = cmd_ha,
	[CTL_ENABLE] = cmd_admin,
	[CTL_DISABLE] = cmd_admin,
	[CTL_DRAIN] = cmd_admin,
	[CTL_SET_WEIGHT] = cmd_set_weight,
	[CTL_WATCH] = cmd_watch,
	[CTL_RELOAD_DRY] = cmd_reload_dry,
	[CTL_RELOAD] = cmd_reload,
};

/* node-id, or the host's name when the config gives none. */
static const char *
node_name(const struct lbd *d, char *host, size_t len)
{
	if (d->conf->global.node_id != NULL)
		return d->conf->global.node_id;
	if (gethostname(host, len) != 0)
		snprintf(host, len, "-");
	host[len - 1] = '\0';
	return host;
}

static void
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_uptime(double s, char *buf, size_t len)
{
	unsigned long t = (unsigned long)s;

	if (t >= 86400)
		snprintf(buf, len, "%lud%02luh%02lum%02lus", t / 86400,
		    t / 3600 % 24, t / 60 % 60, t % 60);
	else if (t >= 3600)
		snprintf(buf, len, "%luh%02lum%02lus", t / 3600, t / 60 % 60,
		    t % 60);
	else if (t >= 60)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, len, "%lus", t);
}

static const char *
result_name(enum lbd_reload_result r)
{
	return r == LBD_RELOAD_OK ? "ok" : r == LBD_RELOAD_FAILED ? "failed" :
	    "none";
}

/* Lines of text as a JSON array of strings. */
static void
json_lines(struct buf *o, const struct buf *text)
{
	const char *p = text->p, *end = p + text->len;
	bool first = true;

	buf_puts(o, "[");
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, len);

		if (line != NULL) {
			buf_puts(o, first ? "" : ",");
			buf_json_str(o, line);
			free(line);
			first = false;
		}
		p += len + 1;
	}
	buf_puts(o, "]");
}

static bool
cmd_help(struct cmd_ctx *c)
{
	ctl_cmd_help(c->out, c->json, c->who->readonly);
	return true;
}

static bool
cmd_show_info(struct cmd_ctx *c)
{
	struct lbd *d = c->d;
	char started[32], last[32], up[32];
	int64_t dv[SD__COUNT], cv[SC__COUNT];
	char host[64];
	const char *node = node_name(d, host, sizeof(host));

	lbd_daemon_stats(d, dv);
	lbd_control_stats(d, cv);
	fmt_time(d->started.tv_sec, started, sizeof(started));
	fmt_uptime((double)dv[SD_UPTIME], up, sizeof(up));
	if (d->last_result != LBD_RELOAD_NONE)
		fmt_time(d->last_reload, last, sizeof(last));
	else
		snprintf(last, sizeof(last), "-");

	if (c->json) {
		struct buf *o = c->out;
		buf_puts(o, "{\"version\":");
		buf_json_str(o, LBD_VERSION);
		buf_printf(o, ",\"pid\":%ld,\"node_id\":", (long)getpid());
		buf_json_str(o, node);
		buf_printf(o, ",\"started\":\"%s\",\"config_file\":", started);
		buf_json_str(o, d->conf_path);
		stats_json(o, ST_DAEMON, dv, true);
		buf_puts(o, ",\"last_reload\":");
		if (d->last_result == LBD_RELOAD_NONE)
			buf_puts(o, "null");
		else {
			buf_printf(o, "{\"time\":\"%s\",\"result\":\"%s\","
			    "\"messages\":", last, result_name(d->last_result));
			json_lines(o, &d->last_report);
			buf_puts(o, "}");
		}
		buf_puts(o, ",\"data_plane\":");
		dataplane_show_info(d->dp, o, true);
		buf_printf(o, ",\"control\":{\"socket\":");
		buf_json_str(o, ctl_path(d->ctl));
		stats_json(o, ST_CONTROL, cv, true);
		buf_puts(o, "}}\n");
		return true;
	}
	buf_printf(c->out,
	    "version          %s\n"
	    "pid              %ld\n"
	    "node-id          %s\n"
	    "started          %s\n"
	    "uptime           %s\n"
	    "config-file      %s\n"
	    "services         %lld\n"
	    "vrrp-instances   %lld\n"
	    "reloads          %lld\n"
	    "reload-failures  %lld\n"
	    "last-reload      %s %s\n",
	    LBD_VERSION, (long)getpid(), node, started, up, d->conf_path,
	    (long long)dv[SD_SERVICES], (long long)dv[SD_VRRP_INSTANCES],
	    (long long)dv[SD_RELOADS], (long long)dv[SD_RELOAD_FAILURES],
	    last, result_name(d->last_result));
	if (d->last_result != LBD_RELOAD_NONE && d->last_report.len > 0) {
		const char *p = d->last_report.p, *end = p + d->last_report.len;
		buf_puts(c->out, d->last_result == LBD_RELOAD_FAILED ?
		    "last-reload-errors\n" : "last-reload-changes\n");
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			buf_puts(c->out, "  ");
			buf_append(c->out, p, len);
			buf_puts(c->out, "\n");
			p += len + 1;
		}
	}
	dataplane_show_info(d->dp, c->out, false);
	buf_printf(c->out, "control-socket   %s\ncontrol-clients  ", ctl_path(d->ctl));
	stats_say(c->out, ST_CONTROL, cv, SC_CLIENTS, SC_ACCEPTED);
	buf_puts(c->out, " (");
	stats_say(c->out, ST_CONTROL, cv, SC_ACCEPTED, SC__COUNT);
	buf_puts(c->out, ")\n");
	return true;
}

static bool
cmd_show_config(struct cmd_ctx *c)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mem, &len);

	if (fp == NULL) {
		buf_puts(c->out, "error: out of memory\n");
		return false;
	}
	if (c->json)
		conf_dump_json(c->d->conf, fp);
	else
		conf_dump(c->d->conf, fp);
	fclose(fp);
	buf_append(c->out, mem, len);
	free(mem);
	return true;
}

static bool
cmd_show_health(struct cmd_ctx *c)
{
	health_mgr_show(c->d->health, c->out, c->json);
	return true;
}

/* The MODE column: dsr/ipip, dsr/gue for a tunnelled dsr service. */
static const char *
service_mode(const struct conf_service *s, char *buf, size_t len)
{
	if (s->tunnel == CONF_TUNNEL_NONE)
		return conf_mode_name(s->mode);
	snprintf(buf, len, "%s/%s", conf_mode_name(s->mode),
	    conf_tunnel_name(s->tunnel));
	return buf;
}

static void
stat_service_rows(struct cmd_ctx *c, const struct dp_snapshot *ss)
{
	const struct conf *cf = c->d->conf;
	char mode[16];

	if (!c->json) {
		buf_printf(c->out, "\n%-24s %-8s", "SERVICE", "MODE");
		stats_text_head(c->out, ST_SERVICE);
		buf_printf(c->out, " %10s\n", "DROPS");
	}
	for (uint32_t i = 0, n = 0; i < ss->n_svc && i < cf->n_services; i++) {
		const struct dp_svc_snap *sv = &ss->svc[i];
		int64_t v[SV__COUNT];
		uint64_t drops = 0;

		if (c->only != NULL && !c->only[i])
			continue;
		dataplane_service_stats(sv, v);
		for (int r = 1; r < DP_DROP__COUNT; r++)
			drops += sv->drops[r];
		if (c->json) {
			buf_puts(c->out, n++ ? ",{\"service\":" : "{\"service\":");
			buf_json_str(c->out, cf->services[i].name);
			buf_printf(c->out, ",\"mode\":\"%s\"",
			    conf_mode_name(cf->services[i].mode));
			if (cf->services[i].tunnel != CONF_TUNNEL_NONE)
				buf_printf(c->out, ",\"tunnel\":\"%s\"",
				    conf_tunnel_name(cf->services[i].tunnel));
			stats_json(c->out, ST_SERVICE, v, true);
			stats_json_reasons(c->out, &stat_service_drops, sv->drops,
			    true);
			buf_puts(c->out, "}");
			continue;
		}
		buf_printf(c->out, "%-24s %-8s", cf->services[i].name,
		    service_mode(&cf->services[i], mode, sizeof(mode)));
		stats_text_row(c->out, ST_SERVICE, v);
		buf_printf(c->out, " %10llu\n", (unsigned long long)drops);
	}
}

/* How many of service i's primary (not backup) backends take new
 * connections; `first` its first backend's index in c->d->backends. */
static size_t
primaries_up(struct cmd_ctx *c, size_t i, size_t first)
{
	const struct conf_service *s = &c->d->conf->services[i];
	size_t n = 0;

	for (size_t j = 0; j < s->n_backends && first + j < c->d->backends.n;
	    j++) {
		const struct be *b = &c->d->backends.v[first + j];
		struct be_health h;
		struct be_effective e;

		health_mgr_lookup(c->d->health, b->name, &h);
		be_effective(b, &h, &e);
		n += e.takes_new && !b->backup;
	}
	return n;
}

/* The state as an operator reads it: an up backup the quorum keeps out is
 * "standby", an up backend at its max-conns "full". */
static const char *
shown_state(const struct be_effective *e, const struct be *b,
    const struct conf_service *s, size_t primaries, const int64_t *v)
{
	if (!e->takes_new)
		return e->state;
	if (b->backup && primaries >= (s->quorum ? s->quorum : 1))
		return "standby";
	if (b->max_conns != 0 && v[SB_OPEN] >= (int64_t)b->max_conns)
		return "full";
	return e->state;
}

static bool
cmd_show_stat(struct cmd_ctx *c)
{
	struct backends *bs = &c->d->backends;
	const struct conf *cf = c->d->conf;
	struct dp_snapshot ss;
	bool have = dataplane_snapshot(c->d->dp, &ss) == 0;
	size_t svc = 0, bi = 0, shown = 0, prim = 0;

	if (c->json)
		buf_puts(c->out, "{\"backends\":[");
	else {
		buf_printf(c->out, "%-32s %-28s %-9s %-8s %-7s %-9s", "BACKEND",
		    "ADDRESS", "STATE", "ADMIN", "HEALTH", "WEIGHT");
		stats_text_head(c->out, ST_BACKEND);
		buf_puts(c->out, "\n");
	}
	for (size_t i = 0; i < bs->n; i++, bi++) {
		const struct be *b = &bs->v[i];
		struct be_health h;
		struct be_effective eff;
		int64_t v[SB__COUNT];
		const char *hs, *st;
		char wt[24];

		while (svc < cf->n_services && bi >= cf->services[svc].n_backends) {
			svc++;
			bi = 0;
		}
		if (c->only != NULL && svc < cf->n_services && !c->only[svc])
			continue;
		if (svc >= cf->n_services)
			break;
		if (bi == 0)
			prim = primaries_up(c, svc, i);
		health_mgr_lookup(c->d->health, b->name, &h);
		be_effective(b, &h, &eff);
		be_stats(b, &h, have ? dataplane_backend_snap(&ss, svc, bi) : NULL, v);
		st = shown_state(&eff, b, &cf->services[svc], prim, v);
		hs = !h.checked ? "-" : h.up ? "up" : "down";
		if (c->json) {
			buf_puts(c->out, shown++ ? ",{\"backend\":" :
			    "{\"backend\":");
			buf_json_str(c->out, b->name);
			buf_puts(c->out, ",\"address\":");
			buf_json_str(c->out, b->addr);
			buf_printf(c->out, ",\"state\":\"%s\",\"admin\":\"%s\","
			    "\"health\":\"%s\"", st,
			    be_admin_name(b->admin), hs);
			stats_json(c->out, ST_BACKEND, v, true);
			buf_puts(c->out, "}");
			continue;
		}
		snprintf(wt, sizeof(wt), "%u (%u)", eff.weight, b->cfg_weight);
		buf_printf(c->out, "%-32s %-28s %-9s %-8s %-7s %-9s", b->name,
		    b->addr, st, be_admin_name(b->admin), hs, wt);
		stats_text_row(c->out, ST_BACKEND, v);
		buf_puts(c->out, "\n");
	}
	if (c->json)
		buf_puts(c->out, "],\"services\":[");
	if (have)
		stat_service_rows(c, &ss);
	if (c->json) {
		buf_puts(c->out, "],\"errors\":");
		dataplane_show_errors(c->d->dp, c->out, true);
		buf_puts(c->out, "}\n");
	}
	if (have)
		dataplane_snapshot_free(&ss);
	return true;
}

static bool
cmd_show_conn(struct cmd_ctx *c)
{
	int32_t svc = -1;
	uint32_t max = 100;

	for (int i = 0; i < c->argc; i++) {
		char *end;
		unsigned long n = strtoul(c->argv[i], &end, 10);

		if (*end == '\0' && end != c->argv[i]) {
			if (n == 0 || n > 100000) {
				buf_printf(c->out, "MAX must be 1..100000\n");
				return false;
			}
			max = (uint32_t)n;
			continue;
		}
		svc = -1;
		for (size_t k = 0; k < c->d->conf->n_services; k++)
			if (strcmp(c->d->conf->services[k].name, c->argv[i]) == 0)
				svc = (int32_t)k;
		if (svc < 0) {
			buf_printf(c->out, "no service \"%s\"\n", c->argv[i]);
			return false;
		}
	}
	dataplane_show_conn(c->d->dp, c->d->conf, svc, max, c->out, c->json);
	return true;
}

static bool
cmd_show_errors(struct cmd_ctx *c)
{
	if (c->d->dp == NULL) {
		buf_puts(c->out, c->json ? "{}\n" : "no data plane (no `interface` "
		    "in global)\n");
		return true;
	}
	dataplane_show_errors(c->d->dp, c->out, c->json);
	if (c->json)
		buf_puts(c->out, "\n");
	return true;
}

static bool
cmd_show_vrrp(struct cmd_ctx *c)
{
	vrrp_mgr_show(c->d->vrrp, c->out, c->json);
	return true;
}

static bool
cmd_show_sync(struct cmd_ctx *c)
{
	sync_mgr_show(c->d->sync, c->out, c->json);
	return true;
}

/* {"k1":"v1","k2":"v2"}: what the VRRP commands answer in JSON. */
static void
json_pair(struct buf *b, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	buf_printf(b, "{\"%s\":", k1);
	buf_json_str(b, v1);
	buf_printf(b, ",\"%s\":", k2);
	buf_json_str(b, v2);
	buf_puts(b, "}\n");
}

static bool
cmd_vrrp_prio(struct cmd_ctx *c)
{
	if (c->argc < 2) {
		buf_puts(c->out, "error: usage: vrrp set-priority INSTANCE N|reset\n");
		return false;
	}
	if (vrrp_mgr_set_priority(c->d->vrrp, c->argv[0], c->argv[1], c->out) < 0)
		return false;
	events_emit("admin", "instance", c->argv[0], "priority", c->argv[1],
	    NULL);
	if (c->json)
		json_pair(c->out, "instance", c->argv[0], "priority", c->argv[1]);
	else
		buf_printf(c->out, "instance %s priority %s\n", c->argv[0], c->argv[1]);
	return true;
}

static bool
cmd_ha(struct cmd_ctx *c)
{
	if (c->argc < 2) {
		buf_puts(c->out, "error: usage: ha master|backup|fault GROUP\n");
		return false;
	}
	if (vrrp_mgr_ha(c->d->vrrp, c->argv[0], c->argv[1], c->out) < 0)
		return false;
	events_emit("admin", "group", c->argv[1], "external", c->argv[0],
	    NULL);
	if (c->json)
		json_pair(c->out, "group", c->argv[1], "state", c->argv[0]);
	else
		buf_printf(c->out, "group %s %s\n", c->argv[1], c->argv[0]);
	return true;
}

static struct be *
backend_arg(struct cmd_ctx *c)
{
	struct be *b;

	if (c->argc < 1) {
		buf_puts(c->out, "error: which backend? (SERVICE/BACKEND)\n");
		return NULL;
	}
	if ((b = backends_find(&c->d->backends, c->argv[0])) == NULL)
		buf_printf(c->out, "error: no backend \"%.130s\" (see \"show "
		    "stat\")\n", c->argv[0]);
	return b;
}

static bool
cmd_admin(struct cmd_ctx *c)
{
	/* The command's own word is just before its arguments. */
	const char *verb = c->argv[-1];
	struct be *b = backend_arg(c);
	enum be_admin was;

	if (b == NULL)
		return false;
	was = (enum be_admin)b->admin;
	b->admin = strcmp(verb, "enable") == 0 ? BE_ENABLED :
	    strcmp(verb, "drain") == 0 ? BE_DRAIN : BE_DISABLED;
	log_info("admin: backend=%s %s->%s", b->name, be_admin_name(was),
	    be_admin_name((enum be_admin)b->admin));
	events_emit("admin", "backend", b->name, "admin",
	    be_admin_name((enum be_admin)b->admin), "was", be_admin_name(was),
	    NULL);
	lbd_backends_changed(c->d);
	if (c->json)
		buf_printf(c->out, "{\"backend\":\"%s\",\"admin\":\"%s\","
		    "\"was\":\"%s\"}\n", b->name,
		    be_admin_name((enum be_admin)b->admin), be_admin_name(was));
	else
		buf_printf(c->out, "backend %s: %s (was %s)%s\n", b->name,
		    be_admin_name((enum be_admin)b->admin), be_admin_name(was),
		    b->admin != BE_ENABLED ? "; existing connections continue" : "");
	return true;
}

static bool
cmd_set_weight(struct cmd_ctx *c)
{
	struct be *b = backend_arg(c);
	char *end;
	long w;

	if (b == NULL)
		return false;
	if (c->argc != 2) {
		buf_puts(c->out, "error: usage: set weight SERVICE/BACKEND N|reset\n");
		return false;
	}
	if (strcmp(c->argv[1], "reset") == 0)
		w = -1;
	else {
		w = strtol(c->argv[1], &end, 10);
		if (*end != '\0' || end == c->argv[1] || w < 0 || w > 256) {
			buf_printf(c->out, "error: weight \"%.20s\" out of range "
			    "0..256\n", c->argv[1]);
			return false;
		}
	}
	b->weight_override = (int32_t)w;
	log_info("admin: backend=%s weight=%s", b->name, c->argv[1]);
	events_emit("admin", "backend", b->name, "weight", c->argv[1], NULL);
	lbd_backends_changed(c->d);
	if (c->json)
		buf_printf(c->out, "{\"backend\":\"%s\",\"weight\":%u}\n",
		    b->name, w < 0 ? b->cfg_weight : (unsigned)w);
	else
		buf_printf(c->out, "backend %s: weight %u%s\n", b->name,
		    w < 0 ? b->cfg_weight : (unsigned)w,
		    w < 0 ? " (the configured one)" : "");
	return true;
}

static bool
cmd_reload(struct cmd_ctx *c)
{
	struct buf report = { 0 };
	int rc = lbd_reload(c->d, &report);

	if (c->json) {
		buf_printf(c->out, "{\"result\":\"%s\",\"messages\":",
		    rc == 0 ? "ok" : "failed");
		json_lines(c->out, &report);
		buf_puts(c->out, "}\n");
	} else {
		if (rc == 0)
			buf_puts(c->out, "reload ok\n");
		else
			buf_puts(c->out, "error: reload failed; the previous "
			    "configuration is still running\n");
		if (report.len > 0)
			buf_append(c->out, report.p, report.len);
	}
	buf_free(&report);
	return rc == 0;
}

static bool
cmd_show_cluster(struct cmd_ctx *c)
{
	announce_show(c->d->announce, c->d->conf, c->d->sync, c->d->cpeers,
	    c->out, c->json);
	return true;
}

/* cluster drain | cluster resume */
static bool
cmd_cluster_drain(struct cmd_ctx *c)
{
	bool drain = strcmp(c->argv[-1], "drain") == 0;
	bool was = announce_drained(c->d->announce);

	if (c->d->announce == NULL) {
		buf_puts(c->out, "error: not a cluster node (no cluster block, "
		    "or no data plane)\n");
		return false;
	}
	lbd_cluster_drain(c->d, drain);
	log_info("admin: cluster %s (was %s)", drain ? "drained" : "resumed",
	    was ? "drained" : "serving");
	events_emit("admin", "cluster", drain ? "drained" : "resumed", NULL);
	if (c->json)
		buf_printf(c->out, "{\"drained\":%s,\"was\":%s}\n",
		    drain ? "true" : "false", was ? "true" : "false");
	else
		buf_printf(c->out, "cluster: %s (was %s)%s\n", drain ?
		    "drained: VIPs withdrawn" : "VIPs announced again",
		    was ? "drained" : "serving", drain ? "; existing "
		    "connections go on, SNAT addresses stay announced" : "");
	return true;
}

static bool
cmd_show_pair(struct cmd_ctx *c)
{
	pair_show(c->d, c->out, c->json);
	return true;
}

static bool
cmd_handover(struct cmd_ctx *c)
{
	return lbd_handover(c->d, c->who, c->argc > 0 ? c->argv[0] : NULL,
	    c->json, c->out);
}

/* The connection becomes a stream of events (lbd/events.h). */
static bool
cmd_watch(struct cmd_ctx *c)
{
	char host[64];
	const char *node = node_name(c->d, host, sizeof(host));

	if (c->who->stream == NULL) {
		buf_puts(c->out, "error: watch needs a control connection\n");
		return false;
	}
	*c->who->stream = c->json ? CTL_STREAM_JSON : CTL_STREAM_TEXT;
	if (c->json) {
		buf_puts(c->out, "{\"event\":\"watching\",\"node\":");
		buf_json_str(c->out, node);
		buf_puts(c->out, "}\n");
	} else
		buf_printf(c->out, "watching node %s: events follow as they "
		    "happen (interrupt to stop)\n", node);
	return true;
}

/* lbd asking itself (the status page): nobody's credentials, read-only. */
const struct ctl_caller lbd_self_caller = { .pid = -1, .uid = (uid_t)-1,
    .gid = (gid_t)-1, .readonly = true };

void
lbd_show_stat_json(struct lbd *d, struct buf *out, const bool *only)
{
	struct cmd_ctx c = { .d = d, .who = &lbd_self_caller, .json = true,
	    .out = out, .only = only };

	(void)cmd_show_stat(&c);
}

/* .error when a reload would be refused, so that `lbctl reload --dry-run
 * && lbctl reload` does what it says. */
static bool
cmd_reload_dry(struct cmd_ctx *c)
{
	return lbd_reload_plan(c->d, c->out, c->json);
}

/* Does the command's word list match the start of argv? */
static int
match(const char *words, int argc, char **argv)
{
	char tmp[64];
	char *save, *w;
	int n = 0;

	snprintf(tmp, sizeof(tmp), "%s", words);
	for (w = strtok_r(tmp, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (n >= argc || strcmp(argv[n], w) != 0)
			return -1;
		n++;
	}
	return n;
}

/* A command that changes lbd, in the log with who sent it. */
static void
audit(const struct ctl_caller *who, int argc, char **argv)
{
	char line[160];
	size_t k = 0;

	for (int a = 0; a < argc && k < sizeof(line) - 1; a++)
		for (const char *s = argv[a]; k < sizeof(line) - 1; s++) {
			if (*s == '\0') {
				if (a + 1 < argc)
					line[k++] = ' ';
				break;
			}
			line[k++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
		}
	line[k] = '\0';
	log_info("ctl: \"%s\" from uid %ld pid %ld", line, (long)who->uid,
	    (long)who->pid);
}

bool
lbd_ctl_dispatch(void *arg, const struct ctl_caller *who, char *line,
    struct buf *out)
{
	struct cmd_ctx c = { .d = arg, .who = who, .out = out };
	char *argv[CMD_MAX_WORDS];
	int argc = 0;
	char *save, *w;

	for (w = strtok_r(line, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "--json") == 0) {
			c.json = true;
			continue;
		}
		if (argc == CMD_MAX_WORDS) {
			buf_printf(out, "error: more than %d words\n",
			    CMD_MAX_WORDS);
			return false;
		}
		argv[argc++] = w;
	}
	if (argc == 0) {
		buf_puts(out, "error: empty command (try \"help\")\n");
		return false;
	}
	for (size_t i = 0; i < CTL_NCMDS; i++) {
		const struct ctl_cmd_doc *cmd = &ctl_cmd_docs[i];
		int n = match(cmd->words, argc, argv);
		if (n < 0)
			continue;
		if (argc - n > cmd->max_args) {
			buf_printf(out, "error: usage: %s\n", cmd->usage);
			return false;
		}
		if (cmd->changes && who->readonly) {
			buf_printf(out, "error: \"%s\" changes lbd, and this is "
			    "the read-only control socket; use the other one\n",
			    cmd->words);
			return false;
		}
		if (cmd->changes)
			audit(who, argc, argv);
		c.argc = argc - n;
		c.argv = argv + n;	/* argv[-1]: the command's last word */
		return handlers[i](&c);
	}
	/* Echo only a bounded, printable copy of what was sent. */
	{
		char shown[80];
		size_t k = 0;
		bool cut = false;
		for (int a = 0; a < argc && !cut; a++)
			for (const char *s = argv[a]; ; s++) {
				if (k >= sizeof(shown) - 4) {
					cut = true;
					break;
				}
				if (*s == '\0') {
					if (a + 1 < argc)
						shown[k++] = ' ';
					break;
				}
				shown[k++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
			}
		if (cut)
			shown[k++] = '.', shown[k++] = '.', shown[k++] = '.';
		shown[k] = '\0';
		buf_printf(out, "error: unknown command \"%s\" (try \"help\")\n",
		    shown);
	}
	return false;
}
