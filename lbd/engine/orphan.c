/*
 * Backends a reload removed while they still had connections. Those
 * connections keep forwarding until they end (a removed backend drains),
 * but in routed mode the backend's replies reach lbd only while the XDP
 * classifier still takes frames from its address and port; the I/O layer
 * asks for this list (dp_orphans) to keep them in the classifier's map
 * until the last connection is gone.
 *
 * The list is rebuilt from the table at every dp_engine_set_services (which
 * walks the table anyway) and counted down as connections are released; a
 * handful of removed backends is the normal case, so it is a small array.
 */
#include <string.h>

#include "lbd/engine/engine_int.h"

static bool
tracked(const struct ct_entry *ce)
{
	return ce->mode == DP_MODE_ROUTED && ce->backend == ORPHAN;
}

static struct dp_orphan *
find(struct dp_engine *e, const struct dp_tuple *r)
{
	for (uint32_t i = 0; i < e->n_orph; i++) {
		struct dp_orphan *o = &e->orph[i];
		if (o->port == r->sport && o->proto == r->proto &&
		    o->family == r->family && memcmp(o->addr, r->src, 16) == 0)
			return o;
	}
	return NULL;
}

void
orphan_reset(struct dp_engine *e)
{
	e->n_orph = 0;
}

void
orphan_hold(struct dp_engine *e, const struct ct_entry *ce)
{
	const struct dp_tuple *r = &ce->t[CT_REPLY];
	struct dp_orphan *o;

	if (!tracked(ce))
		return;
	if ((o = find(e, r)) == NULL) {
		/* Past the bound a removed backend's replies are left to the
		 * kernel, as they were before this list existed. */
		if (e->n_orph == DP_ORPHAN_MAX)
			return;
		o = &e->orph[e->n_orph++];
		memset(o, 0, sizeof(*o));
		o->family = r->family;
		o->proto = r->proto;
		o->port = r->sport;
		memcpy(o->addr, r->src, 16);
	}
	o->conns++;
}

void
orphan_release(struct dp_engine *e, const struct ct_entry *ce)
{
	struct dp_orphan *o;

	if (tracked(ce) && (o = find(e, &ce->t[CT_REPLY])) != NULL &&
	    o->conns > 0)
		o->conns--;
}

uint32_t
dp_orphans(const struct dp_engine *e, struct dp_orphan *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->n_orph && n < max; i++)
		if (e->orph[i].conns > 0)
			out[n++] = e->orph[i];
	return n;
}
