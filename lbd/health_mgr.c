#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "health/checker.h"
#include "lbd/events.h"
#include "lbd/health_mgr.h"
#include "lbd/stats.h"
#include "lib/log.h"
#include "lib/namemap.h"

struct hm_check {
	struct health_mgr	*m;
	char			 name[2 * CONF_NAME_MAX + 2];	/* "svc/backend" */
	enum conf_check_type	 type;
	struct hc_params	 p;
	struct hc_target	 t;
	struct hc_checker	*c;
	struct hc_observe	 obs;		/* passive health */
};

struct health_mgr {
	struct ev_loop		*loop;
	struct hm_check		*v;
	size_t			 n;
	struct namemap		 index;		/* by backend name */
	void			(*changed)(void *);
	void			*changed_arg;
};

static const char *
check_name(const void *arg, size_t i)
{
	return ((const struct hm_check *)arg)[i].name;
}

struct health_mgr *
health_mgr_new(struct ev_loop *loop)
{
	struct health_mgr *m = calloc(1, sizeof(*m));

	if (m != NULL)
		m->loop = loop;
	return m;
}

static void
on_change(void *arg, struct hc_checker *c, enum hc_state st, const char *reason)
{
	struct hm_check *hc = arg;
	struct hc_info i;

	hc_checker_info(c, &i);
	log_info("health: backend=%s check=%s %s->%s reason=\"%s\" checks=%llu "
	    "failures=%llu", hc->name, conf_check_name(hc->type),
	    st == HC_UP ? "DOWN" : "UP", st == HC_UP ? "UP" : "DOWN", reason,
	    (unsigned long long)i.checks, (unsigned long long)i.failures);
	events_emit("health", "backend", hc->name, "check",
	    conf_check_name(hc->type), "state", st == HC_UP ? "up" : "down",
	    "reason", reason, NULL);
	if (hc->m->changed != NULL)
		hc->m->changed(hc->m->changed_arg);
}

void
health_mgr_on_change(struct health_mgr *m, void (*fn)(void *), void *arg)
{
	m->changed = fn;
	m->changed_arg = arg;
}

static void
build(struct hm_check *hc, const struct conf_service *s,
    const struct conf_backend *b)
{
	const struct conf_check *ck = &s->check;

	memset(hc, 0, sizeof(*hc));
	snprintf(hc->name, sizeof(hc->name), "%s/%s", s->name, b->name);
	hc->type = ck->type;
	static const uint8_t types[] = {
		[CONF_CHECK_TCP] = HC_TYPE_TCP, [CONF_CHECK_HTTP] = HC_TYPE_HTTP,
		[CONF_CHECK_HTTPS] = HC_TYPE_HTTPS, [CONF_CHECK_TLS] = HC_TYPE_TLS,
		[CONF_CHECK_UDP] = HC_TYPE_UDP, [CONF_CHECK_SCRIPT] = HC_TYPE_SCRIPT,
		[CONF_CHECK_AGENT] = HC_TYPE_AGENT, [CONF_CHECK_DNS] = HC_TYPE_DNS,
	};
	hc->p.type = types[ck->type];
	hc->p.interval_ms = ck->interval_ms;
	hc->p.timeout_ms = ck->timeout_ms;
	hc->p.rise = ck->rise;
	hc->p.fall = ck->fall;
	if (ck->expect != NULL && (ck->type == CONF_CHECK_HTTP ||
	    ck->type == CONF_CHECK_HTTPS))
		hc_status_parse(&hc->p.expect, ck->expect);
	if (ck->type == CONF_CHECK_DNS) {
		snprintf(hc->p.query, sizeof(hc->p.query), "%s", ck->query ?
		    ck->query : "");
		hc->p.qtype = ck->qtype ? ck->qtype : HC_DNS_TYPE_A;
		/* conf checked it is an address of the type's family. */
		if (ck->expect != NULL)
			hc->p.dns_expect_len = inet_pton(hc->p.qtype ==
			    HC_DNS_TYPE_AAAA ? AF_INET6 : AF_INET, ck->expect,
			    hc->p.dns_expect) == 1 ? (hc->p.qtype ==
			    HC_DNS_TYPE_AAAA ? 16 : 4) : 0;
	}
	if (ck->path != NULL)
		snprintf(hc->p.path, sizeof(hc->p.path), "%s", ck->path);
	if (ck->host != NULL)
		snprintf(hc->p.host, sizeof(hc->p.host), "%s", ck->host);
	if (ck->method != NULL)
		snprintf(hc->p.method, sizeof(hc->p.method), "%s", ck->method);
	if (ck->body != NULL)
		snprintf(hc->p.body, sizeof(hc->p.body), "%s", ck->body);
	if (ck->type == CONF_CHECK_TCP) {
		/* A banner protocol's: send (maybe nothing), expect a reply. */
		hc->p.banner = ck->send != NULL || ck->expect != NULL;
		snprintf(hc->p.send, sizeof(hc->p.send), "%s", ck->send ?
		    ck->send : "");
		snprintf(hc->p.receive, sizeof(hc->p.receive), "%s", ck->expect ?
		    ck->expect : "");
	} else {
		snprintf(hc->p.send, sizeof(hc->p.send), "%s", ck->send ?
		    ck->send : "lbd-health\n");
		if (ck->receive != NULL)
			snprintf(hc->p.receive, sizeof(hc->p.receive), "%s",
			    ck->receive);
	}
	if (ck->command != NULL)
		snprintf(hc->p.command, sizeof(hc->p.command), "%s", ck->command);
	hc->p.jitter_ms = ck->jitter_ms;
	if (ck->observe) {
		hc->p.observe_errors = ck->observe_errors;
		hc->p.observe_window_ms = ck->observe_window_ms;
	}
	if (ck->has_source) {
		hc->p.has_source = true;
		if (ck->source.family == AF_INET)
			memcpy(hc->p.source, &ck->source.u.v4, 4);
		else
			memcpy(hc->p.source, &ck->source.u.v6, 16);
	}
	hc->p.verify = ck->verify;
	hc->p.tls_min = ck->tls_min ? ck->tls_min : 12;
	if (ck->ca_file != NULL)
		snprintf(hc->p.ca_file, sizeof(hc->p.ca_file), "%s", ck->ca_file);
	snprintf(hc->p.service, sizeof(hc->p.service), "%s", s->name);
	snprintf(hc->p.backend, sizeof(hc->p.backend), "%s", b->name);
	hc->t.family = b->addr.family;
	if (b->addr.family == AF_INET)
		memcpy(hc->t.addr, &b->addr.u.v4, 4);
	else
		memcpy(hc->t.addr, &b->addr.u.v6, 16);
	hc->t.port = ck->port ? ck->port : b->port;
}

static bool
same(const struct hm_check *a, const struct hm_check *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	    memcmp(&a->p, &b->p, sizeof(a->p)) == 0 &&
	    memcmp(&a->t, &b->t, sizeof(a->t)) == 0;
}

int
health_mgr_apply(struct health_mgr *m, const struct conf *c)
{
	struct hm_check *nv;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n_services; i++)
		if (c->services[i].check.type != CONF_CHECK_NONE)
			n += c->services[i].n_backends;
	if ((nv = calloc(n ? n : 1, sizeof(*nv))) == NULL)
		return -1;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		if (s->check.type == CONF_CHECK_NONE)
			continue;
		for (size_t j = 0; j < s->n_backends; j++) {
			struct hm_check *hc = &nv[k++];

			build(hc, s, &s->backends[j]);
			hc->m = m;
			/* An unchanged check keeps running, state and all. */
			long o = namemap_find(&m->index, hc->name, check_name, m->v);
			if (o >= 0 && m->v[o].c != NULL && same(&m->v[o], hc)) {
				hc->c = m->v[o].c;
				hc->obs = m->v[o].obs;
				m->v[o].c = NULL;
			}
			if (hc->c == NULL && (hc->c = hc_checker_new(m->loop,
			    &hc->p, &hc->t, HC_UP, on_change, hc)) == NULL)
				log_warnx("health: backend=%s: could not start its "
				    "check (out of memory)", hc->name);
		}
	}
	/* Checkers carried over point their callback at the new slot. */
	for (size_t i = 0; i < m->n; i++)
		hc_checker_free(m->v[i].c);
	free(m->v);
	namemap_free(&m->index);
	m->v = nv;
	m->n = n;
	if (namemap_build(&m->index, n, check_name, m->v) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (nv[i].c != NULL)
			hc_checker_set_arg(nv[i].c, &nv[i]);
	return 0;
}

void
health_mgr_free(struct health_mgr *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		hc_checker_free(m->v[i].c);
	free(m->v);
	namemap_free(&m->index);
	free(m);
}

void
health_mgr_lookup(const struct health_mgr *m, const char *name,
    struct be_health *h)
{
	long i;

	memset(h, 0, sizeof(*h));
	h->agent_pct = -1;
	if ((i = namemap_find(&m->index, name, check_name, m->v)) >= 0 &&
	    m->v[i].c != NULL) {
		struct hc_info in;

		hc_checker_info(m->v[i].c, &in);
		h->checked = true;
		h->up = in.state == HC_UP;
		h->agent_drain = in.agent_state == HC_AGENT_DRAIN;
		h->agent_pct = in.weight_pct;
		h->checks = in.checks;
		h->failures = in.failures;
		h->latency_ms = in.last_latency_ms;
		h->last_ok = in.last_ok;
		h->observed = m->v[i].obs.errors;
		return;
	}
}

static void	show(const struct health_mgr *, struct buf *, bool,
		    bool (*)(void *, const char *), void *);

void
health_mgr_show(const struct health_mgr *m, struct buf *o, bool json)
{
	show(m, o, json, NULL, NULL);
}

void
health_mgr_show_some(const struct health_mgr *m, struct buf *o,
    bool (*want)(void *, const char *), void *arg)
{
	show(m, o, true, want, arg);
}

static void
show(const struct health_mgr *m, struct buf *o, bool json,
    bool (*want)(void *, const char *), void *arg)
{
	size_t shown = 0;

	if (json)
		buf_puts(o, "{\"checks\":[");
	else
		buf_printf(o, "%-32s %-6s %-6s %-9s %8s %12s  %s\n", "BACKEND",
		    "CHECK", "STATE", "LAST", "LATENCY", "CHECKS/FAILS", "REASON");
	for (size_t i = 0; i < m->n; i++) {
		const struct hm_check *hc = &m->v[i];
		struct hc_info in;
		struct be_health h;
		int64_t v[SH__COUNT];
		struct buf lat = { 0 };
		char cf[48];

		if (want != NULL && !want(arg, hc->name))
			continue;
		memset(&in, 0, sizeof(in));
		if (hc->c != NULL)
			hc_checker_info(hc->c, &in);
		else
			snprintf(in.last_reason, sizeof(in.last_reason),
			    "not checked (could not start)");
		health_mgr_lookup(m, hc->name, &h);
		be_health_stats(&h, v);
		if (json) {
			buf_puts(o, shown++ ? ",{\"backend\":" : "{\"backend\":");
			buf_json_str(o, hc->name);
			buf_printf(o, ",\"check\":\"%s\",\"state\":\"%s\","
			    "\"reason\":", conf_check_name(hc->type),
			    hc->c ? hc_state_name(in.state) : "up");
			buf_json_str(o, in.last_reason);
			stats_json(o, ST_HEALTH, v, true);
			buf_puts(o, "}");
			continue;
		}
		stats_text_value(&lat, &stat_scopes[ST_HEALTH].defs[SH_LATENCY],
		    v[SH_LATENCY]);
		snprintf(cf, sizeof(cf), "%lld/%lld", (long long)v[SH_CHECKS],
		    (long long)v[SH_FAILURES]);
		buf_printf(o, "%-32s %-6s %-6s %-9s %8s %12s  %s\n", hc->name,
		    conf_check_name(hc->type),
		    hc->c == NULL ? "up*" : in.agent_state == HC_AGENT_DRAIN &&
		    in.state == HC_UP ? "drain" : hc_state_name(in.state),
		    in.checks == 0 ? "-" : in.last_ok ? "ok" : "failed",
		    in.checks && lat.p ? lat.p : "-", cf, in.last_reason);
		buf_free(&lat);
	}
	if (json)
		buf_puts(o, "]}\n");
	else if (m->n == 0)
		buf_puts(o, "(no service has a check)\n");
}


void
health_mgr_observe(struct health_mgr *m, const char *name, uint64_t now_ms)
{
	long i = namemap_find(&m->index, name, check_name, m->v);
	struct hm_check *hc;
	char why[96];

	if (i < 0)
		return;
	hc = &m->v[i];
	if (hc->p.observe_errors == 0 || hc->c == NULL ||
	    !hc_observe_error(&hc->obs, now_ms, hc->p.observe_errors,
	    hc->p.observe_window_ms))
		return;
	snprintf(why, sizeof(why), "observed: %u connections refused or "
	    "unanswered in %.1fs", hc->p.observe_errors,
	    hc->p.observe_window_ms / 1000.0);
	hc_checker_force_down(hc->c, why);
}
