/* What a cluster node announces, and why; see announce_plan.h. */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lbd/announce_plan.h"

static bool
is_snat(uint8_t why)
{
	return why == ANN_SNAT || why == ANN_SNAT_PEER;
}

/* Another node's SNAT address: in a pool, not in snat-addresses. */
static bool
peer_snat(const struct conf *c, const struct conf_addr *a)
{
	if (c->cluster.n_snat_own == 0)
		return false;
	for (size_t i = 0; i < c->cluster.n_snat_own; i++)
		if (conf_addr_equal(&c->cluster.snat_own[i], a))
			return false;
	return true;
}

static void
put(struct ann_prefix *p, const struct conf *c, const struct conf_addr *a,
    uint32_t svc, bool snat)
{
	memset(p, 0, sizeof(*p));
	p->family = a->family == AF_INET ? 4 : 6;
	p->plen = p->family == 4 ? 32 : 128;
	conf_addr_a16(p->addr, a);
	p->svc = svc;
	p->why = !snat ? ANN_NO_BACKEND : peer_snat(c, a) ? ANN_SNAT_PEER :
	    ANN_SNAT;
	p->metric = p->why == ANN_SNAT_PEER ? ANN_METRIC_PEER : 0;
}

int
announce_prefix_cmp(const struct ann_prefix *a, const struct ann_prefix *b)
{
	if (a->family != b->family)
		return a->family - b->family;
	return memcmp(a->addr, b->addr, 16);
}

static int
cmp(const void *x, const void *y)
{
	const struct ann_prefix *a = x, *b = y;
	int c;

	if ((c = announce_prefix_cmp(a, b)) != 0)
		return c;
	/* The same address: a SNAT use sorts before a VIP's, then by
	 * service, so the merge below keeps the first deciding one. */
	if (is_snat(a->why) != is_snat(b->why))
		return is_snat(a->why) ? -1 : 1;
	return a->svc < b->svc ? -1 : a->svc > b->svc;
}

struct ann_prefix *
announce_plan(const struct conf *c, const bool *svc_ok, bool drained,
    bool stopping, size_t *n)
{
	struct ann_prefix *v;
	size_t total = 0, k = 0, out = 0;

	*n = 0;
	for (size_t i = 0; i < c->n_services; i++)
		total += 1 + c->services[i].n_snat_pool;
	if (total == 0)
		return NULL;
	if ((v = calloc(total, sizeof(*v))) == NULL) {
		*n = SIZE_MAX;
		return NULL;
	}
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		put(&v[k], c, &s->vip, (uint32_t)i, false);
		v[k++].announce = svc_ok[i];
		for (size_t j = 0; j < s->n_snat_pool; j++) {
			put(&v[k], c, &s->snat_pool[j], (uint32_t)i, true);
			v[k++].announce = true;
		}
	}
	qsort(v, k, sizeof(*v), cmp);
	/* One per address: announced if any use announces it (a SNAT use
	 * always; a VIP's while one of its services serves). */
	for (size_t i = 0; i < k; i++) {
		struct ann_prefix *last = out > 0 ? &v[out - 1] : NULL;

		if (last != NULL && last->family == v[i].family &&
		    memcmp(last->addr, v[i].addr, 16) == 0) {
			if (!last->announce && v[i].announce) {
				last->announce = true;
				last->why = is_snat(v[i].why) ? v[i].why :
				    ANN_SERVING;
				last->metric = v[i].metric;
				last->svc = v[i].svc;
			}
			continue;
		}
		v[out] = v[i];
		if (v[out].announce && !is_snat(v[out].why))
			v[out].why = ANN_SERVING;
		out++;
	}
	for (size_t i = 0; i < out; i++) {
		if (stopping) {
			v[i].announce = false;
			v[i].why = ANN_STOPPING;
		} else if (drained && !is_snat(v[i].why)) {
			v[i].announce = false;
			v[i].why = ANN_DRAINED;
		}
	}
	*n = out;
	return v;
}

const char *
announce_why_name(enum ann_why w)
{
	static const char *const names[] = {
		[ANN_SERVING] = "serving", [ANN_SNAT] = "snat address",
		[ANN_NO_BACKEND] = "no backend takes new connections",
		[ANN_DRAINED] = "drained", [ANN_STOPPING] = "stopping",
		[ANN_SNAT_PEER] = "another node's snat address",
	};

	return w <= ANN_SNAT_PEER ? names[w] : "?";
}
