/*
 * Who may open a connection to a service, before any backend is chosen:
 *
 *   allow PREFIX...       the client's address must be in one of them
 *   limit new-conns N/s per-source [burst M]
 *                         a token bucket per client address
 *
 * The buckets live in a per-source table of fixed size (srctab.h): a
 * client without a bucket takes the least recently used slot of its set,
 * never memory. Spoofed sources can push a real client's bucket out
 * (counted as rate_evicted), and that client starts again from a full
 * burst, but no traffic can make the table grow. Keyed by the service's
 * address, port and protocol, not its index, so a reload keeps them.
 *
 * With several workers a client's connections spread over them (the owner
 * is a hash of its address and port), so each worker admits its share:
 * rate and burst divided by the workers, rounded up.
 */
#include <string.h>

#include "lbd/engine/engine_int.h"

static bool
in_prefix(const struct dp_prefix *p, uint8_t family, const uint8_t *a)
{
	uint32_t bytes = p->plen / 8, bits = p->plen % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, a, bytes) != 0)
		return false;
	return bits == 0 ||
	    ((p->addr[bytes] ^ a[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

bool
admit_allowed(const struct dp_service *s, const struct dp_tuple *t)
{
	if (s->n_allow == 0)
		return true;
	for (uint32_t i = 0; i < s->n_allow; i++)
		if (in_prefix(&s->allow[i], t->family, t->src))
			return true;
	return false;
}

/* v[0]: tokens x 1000. */
bool
admit_rate(struct dp_engine *e, const struct dp_service *s,
    const struct dp_tuple *t, uint32_t now)
{
	uint32_t n = e->par.workers > 1 ? e->par.workers : 1;
	uint32_t rate = (s->limit_rate + n - 1) / n;
	uint64_t cap = (uint64_t)(s->limit_burst + n - 1) / n * 1000, m;
	struct src_slot *b;
	bool fresh, evicted;

	if (s->limit_rate == 0)
		return true;
	b = srctab_get(&e->rl, t->src, srctab_key(s->vip, s->port, s->proto),
	    now, NULL, NULL, &fresh, &evicted);
	if (b == NULL)
		return true;	/* no memory for the limit: not a reason to
				 * refuse the client */
	e->stats.rate_evicted += evicted;
	if (fresh)
		m = cap;
	else {
		m = b->v[0] + (uint64_t)(uint32_t)(now - b->last_ms) * rate;
		if (m > cap)
			m = cap;
	}
	b->last_ms = now;
	if (m < 1000) {
		b->v[0] = (uint32_t)m;
		return false;
	}
	b->v[0] = (uint32_t)(m - 1000);
	return true;
}
