#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/backends.h"
#include "lbd/dataplane/dataplane.h"
#include "lbd/stats.h"

const char *
be_admin_name(enum be_admin a)
{
	return a == BE_ENABLED ? "enabled" : a == BE_DRAIN ? "drain" : "disabled";
}

static const char *
be_name(const void *arg, size_t i)
{
	return ((const struct be *)arg)[i].name;
}

struct be *
backends_find(struct backends *bs, const char *name)
{
	long i = namemap_find(&bs->index, name, be_name, bs->v);

	return i < 0 ? NULL : &bs->v[i];
}

int
backends_apply(struct backends *bs, const struct conf *c)
{
	struct be *nv;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n_services; i++)
		n += c->services[i].n_backends;
	if ((nv = calloc(n ? n : 1, sizeof(*nv))) == NULL)
		return -1;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];
		for (size_t j = 0; j < s->n_backends; j++) {
			const struct conf_backend *b = &s->backends[j];
			struct be *e = &nv[k++], *old;

			snprintf(e->name, sizeof(e->name), "%s/%s", s->name, b->name);
			conf_addr_port_str(&b->addr, b->port, e->addr,
			    sizeof(e->addr));
			e->cfg_weight = b->weight;
			e->weight_override = -1;
			e->admin = BE_ENABLED;
			e->backup = b->backup;
			e->max_conns = b->max_conns;
			e->slow_start_ms = s->slow_start_ms;
			e->ramp_pct = 100;
			/* A backend a reload adds has been seen not taking
			 * connections: it ramps as it starts. */
			e->seen = bs->applied;
			/* The operator's decisions survive a reload, and so
			 * does a ramp under way. */
			if ((old = backends_find(bs, e->name)) != NULL) {
				e->admin = old->admin;
				e->weight_override = old->weight_override;
				e->seen = old->seen;
				e->taking = old->taking;
				e->ramp_from_ms = old->ramp_from_ms;
				e->ramp_pct = old->ramp_pct;
			}
		}
	}
	namemap_free(&bs->index);
	free(bs->v);
	bs->v = nv;
	bs->n = n;
	bs->applied = true;
	if (namemap_build(&bs->index, n, be_name, bs->v) < 0)
		return -1;
	return 0;
}

void
backends_free(struct backends *bs)
{
	namemap_free(&bs->index);
	free(bs->v);
	bs->v = NULL;
	bs->n = 0;
}

void
be_effective(const struct be *b, const struct be_health *h, struct be_effective *out)
{
	uint32_t w = b->weight_override >= 0 ? (uint32_t)b->weight_override :
	    b->cfg_weight;

	if (h->agent_pct >= 0)
		w = (w * (uint32_t)h->agent_pct + 50) / 100;
	out->weight = out->full_weight = w;
	out->ramp_pct = 100;
	out->health_down = h->checked && !h->up;
	if (b->admin == BE_DISABLED) {
		out->state = "disabled";
		out->takes_new = false;
	} else if (h->checked && !h->up) {
		out->state = "down";
		out->takes_new = false;
	} else if (b->admin == BE_DRAIN || h->agent_drain || w == 0) {
		out->state = "drain";
		out->takes_new = false;
	} else {
		out->state = "up";
		out->takes_new = true;
		if (b->ramp_pct < 100) {
			out->ramp_pct = b->ramp_pct;
			out->weight = (w * b->ramp_pct + 50) / 100;
			if (out->weight == 0)
				out->weight = 1;
		}
	}
}

bool
be_ramp(struct be *b, bool takes_new, uint64_t now_ms)
{
	uint8_t was = b->ramp_pct;

	if (!takes_new) {
		b->taking = false;
		b->ramp_from_ms = 0;
		b->ramp_pct = 100;
	} else {
		if (!b->taking && b->seen && b->slow_start_ms != 0)
			b->ramp_from_ms = now_ms ? now_ms : 1;
		b->taking = true;
		if (b->ramp_from_ms != 0) {
			uint64_t dt = now_ms - b->ramp_from_ms;

			if (b->slow_start_ms == 0 || dt >= b->slow_start_ms) {
				b->ramp_from_ms = 0;
				b->ramp_pct = 100;
			} else
				b->ramp_pct = (uint8_t)(dt * 100 / b->slow_start_ms);
		}
	}
	b->seen = true;
	return b->ramp_pct != was;
}

void
be_stats(const struct be *b, const struct be_health *h,
    const struct dp_be_snap *t, int64_t *v)
{
	struct be_effective eff;

	be_effective(b, h, &eff);
	memset(v, 0, SB__COUNT * sizeof(*v));
	v[SB_TAKES_NEW] = eff.takes_new;
	v[SB_WEIGHT] = eff.weight;
	v[SB_CONFIG_WEIGHT] = b->cfg_weight;
	v[SB_WEIGHT_OVERRIDE] = b->weight_override;
	v[SB_SLOW_START] = eff.ramp_pct;
	v[SB_BACKUP] = b->backup;
	v[SB_MAX_CONNS] = b->max_conns;
	if (t == NULL)
		return;
	v[SB_OPEN] = t->open;
	v[SB_ACTIVE] = t->active;
	v[SB_CONNS] = (int64_t)t->cnt.conns;
	v[SB_PKTS_IN] = (int64_t)t->cnt.pkts_in;
	v[SB_PKTS_OUT] = (int64_t)t->cnt.pkts_out;
	v[SB_BYTES_IN] = (int64_t)t->cnt.bytes_in;
	v[SB_BYTES_OUT] = (int64_t)t->cnt.bytes_out;
}

void
be_health_stats(const struct be_health *h, int64_t *v)
{
	v[SH_UP] = h->up;
	v[SH_CHECKED] = h->checked;
	v[SH_LAST_OK] = h->last_ok;
	v[SH_LATENCY] = (int64_t)(h->latency_ms * 1000.0 + 0.5);
	v[SH_CHECKS] = (int64_t)h->checks;
	v[SH_FAILURES] = (int64_t)h->failures;
	v[SH_DRAIN] = h->agent_drain;
	v[SH_WEIGHT_PCT] = h->agent_pct;
	v[SH_OBSERVED] = (int64_t)h->observed;
}
