/*
 * Who may open a connection to a service, before any backend is chosen:
 *
 *   allow PREFIX...       the client's address must be in one of them
 *   limit new-conns N/s per-source [burst M]
 *                         a token bucket per client address
 *
 * The buckets live in one table per engine of fixed size, RL_SETS sets of
 * RL_WAYS, found by a keyed hash of (client address, service). A client
 * without a bucket takes the least recently used slot of its set, never
 * memory: spoofed sources can push a real client's bucket out (counted as
 * rate_evicted), and that client starts again from a full burst, but no
 * traffic can make the table grow. Keyed by the service's address, port
 * and protocol, not its index, so a reload keeps the buckets.
 *
 * With several workers a client's connections spread over them (the owner
 * is a hash of its address and port), so each worker admits its share:
 * rate and burst divided by the workers, rounded up.
 */
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/engine_int.h"

#define RL_SETS		4096
#define RL_WAYS		4

struct rl_bucket {
	uint8_t		src[16];
	uint32_t	svc_key;	/* 0: free */
	uint32_t	last_ms;
	uint32_t	milli;		/* tokens x 1000 */
};

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

static uint32_t
svc_key(const struct dp_service *s)
{
	uint64_t h = 0x6c696d6974ull;
	uint64_t w[2];

	memcpy(w, s->vip, 16);
	h = dp_mix64(h ^ w[0]);
	h = dp_mix64(h ^ w[1]);
	h = dp_mix64(h ^ ((uint64_t)s->port << 8 | s->proto));
	return (uint32_t)h | 1u;	/* never 0: that is a free slot */
}

bool
admit_rate(struct dp_engine *e, const struct dp_service *s,
    const struct dp_tuple *t, uint32_t now)
{
	uint32_t key, set, n = e->par.workers > 1 ? e->par.workers : 1;
	uint32_t rate = (s->limit_rate + n - 1) / n;
	uint64_t cap = (uint64_t)(s->limit_burst + n - 1) / n * 1000;
	struct rl_bucket *b = NULL, *v;
	uint64_t h = e->par.seed, w[2], m;

	if (s->limit_rate == 0)
		return true;
	if (e->rl == NULL &&
	    (e->rl = calloc(RL_SETS * RL_WAYS, sizeof(*e->rl))) == NULL)
		return true;	/* no memory for the limit: not a reason to
				 * refuse the client */
	key = svc_key(s);
	memcpy(w, t->src, 16);
	h = dp_mix64(h ^ w[0]);
	h = dp_mix64(h ^ w[1] ^ key);
	set = (uint32_t)(h % RL_SETS);
	v = &e->rl[set * RL_WAYS];
	for (int i = 0; i < RL_WAYS && b == NULL; i++)
		if (v[i].svc_key == key && memcmp(v[i].src, t->src, 16) == 0)
			b = &v[i];
	if (b == NULL) {
		/* A free slot, or the set's least recently used. */
		uint32_t idle = 0;

		for (int i = 0; i < RL_WAYS; i++) {
			uint32_t d = v[i].svc_key == 0 ? UINT32_MAX :
			    now - v[i].last_ms;
			if (b == NULL || d > idle) {
				b = &v[i];
				idle = d;
			}
		}
		if (b->svc_key != 0)
			e->stats.rate_evicted++;
		memcpy(b->src, t->src, 16);
		b->svc_key = key;
		m = cap;
	} else {
		m = b->milli + (uint64_t)(uint32_t)(now - b->last_ms) * rate;
		if (m > cap)
			m = cap;
	}
	b->last_ms = now;
	if (m < 1000) {
		b->milli = (uint32_t)m;
		return false;
	}
	b->milli = (uint32_t)(m - 1000);
	return true;
}

void
admit_free(struct dp_engine *e)
{
	free(e->rl);
	e->rl = NULL;
}
