/*
 * Schedulers: which backend takes a new connection.
 *
 *   rr      round robin over the available backends
 *   wrr     smooth weighted round robin (each pick: every backend gains its
 *           weight, the largest wins and pays back the total)
 *   lc/wlc  least active connections (per unit of weight for wlc)
 *   sh      source hash: weighted rendezvous hashing of the client address,
 *           so removing a backend only moves the clients that were on it
 *   maglev  Maglev consistent hashing (Eisenbud et al., NSDI 2016) of the
 *           5-tuple into a prime-sized lookup table, weighted by giving each
 *           backend turns in proportion to its weight
 *
 * A backend takes new connections when it is up and its weight is non-zero
 * (weight 0 drains: existing connections continue, nothing new arrives).
 * A `backup` backend joins them only while fewer primaries than the
 * service's quorum are available (dp_backend_eligible). A backend at its
 * max-conns is passed over: the counting schedulers choose among the
 * others, the hashing ones take the next choice their hash gives (the
 * next Maglev slot, the next rendezvous score), so every node still
 * agrees given the same counts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/dp.h"

/* A backend's identity for hashing: its address and port, so that its
 * position in the config does not matter. */
static uint64_t
backend_key(const struct dp_backend *b, uint64_t salt)
{
	uint64_t h = salt;

	for (int i = 0; i < 16; i += 8) {
		uint64_t w;
		memcpy(&w, b->addr + i, 8);
		h = dp_mix64(h ^ w);
	}
	return dp_mix64(h ^ b->port);
}

static int32_t
pick_rr(struct dp_service *s)
{
	for (uint32_t k = 0; k < s->nb; k++) {
		uint32_t i = (s->rr_next + k) % s->nb;
		if (dp_backend_eligible(s, &s->b[i]) &&
		    !dp_backend_full(&s->b[i])) {
			s->rr_next = i + 1;
			return (int32_t)i;
		}
	}
	return -1;
}

static int32_t
pick_wrr(struct dp_service *s)
{
	int32_t best = -1, total = 0;

	for (uint32_t i = 0; i < s->nb; i++) {
		struct dp_backend *b = &s->b[i];
		if (!dp_backend_eligible(s, b) || dp_backend_full(b))
			continue;
		b->wrr_cur += b->weight;
		total += b->weight;
		if (best < 0 || b->wrr_cur > s->b[best].wrr_cur)
			best = (int32_t)i;
	}
	if (best >= 0)
		s->b[best].wrr_cur -= total;
	return best;
}

static int32_t
pick_lc(struct dp_service *s, bool weighted)
{
	int32_t best = -1;

	for (uint32_t k = 0; k < s->nb; k++) {
		/* Start after the last pick so ties rotate. */
		uint32_t i = (s->rr_next + k) % s->nb;
		struct dp_backend *b = &s->b[i];
		if (!dp_backend_eligible(s, b) || dp_backend_full(b))
			continue;
		if (best < 0) {
			best = (int32_t)i;
			continue;
		}
		struct dp_backend *o = &s->b[best];
		/* a/wa < b/wb  <=>  a*wb < b*wa */
		uint64_t l = (uint64_t)b->active * (weighted ? o->weight : 1);
		uint64_t r = (uint64_t)o->active * (weighted ? b->weight : 1);
		if (l < r)
			best = (int32_t)i;
	}
	if (best >= 0)
		s->rr_next = (uint32_t)best + 1;
	return best;
}

static int32_t
pick_sh(struct dp_service *s, const struct dp_tuple *t, uint64_t seed)
{
	uint64_t src = seed;
	double best_score = -1;
	int32_t best = -1;

	for (int i = 0; i < 16; i += 8) {
		uint64_t w;
		memcpy(&w, t->src + i, 8);
		src = dp_mix64(src ^ w);
	}
	for (uint32_t i = 0; i < s->nb; i++) {
		struct dp_backend *b = &s->b[i];
		if (!dp_backend_eligible(s, b) || dp_backend_full(b))
			continue;
		/* Weighted rendezvous: score = -w / ln(u), u uniform in (0,1). */
		uint64_t h = dp_mix64(src ^ backend_key(b, 0x5348));
		double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
		double score = -(double)b->weight / log(u);
		if (score > best_score) {
			best_score = score;
			best = (int32_t)i;
		}
	}
	return best;
}

static bool
any_room(const struct dp_service *s)
{
	for (uint32_t i = 0; i < s->nb; i++)
		if (dp_backend_eligible(s, &s->b[i]) && !dp_backend_full(&s->b[i]))
			return true;
	return false;
}

static int32_t
pick_maglev(struct dp_service *s, const struct dp_tuple *t, uint64_t seed)
{
	uint32_t slot;

	if (s->maglev == NULL || s->n_avail == 0)
		return -1;
	slot = (uint32_t)(dp_tuple_hash(t, seed) % s->maglev_size);
	if (!dp_backend_full(&s->b[s->maglev[slot]]))
		return (int32_t)s->maglev[slot];
	/* A full backend: the next slot's, as if it were not in the table
	 * for this flow; none at all when every one is full. */
	if (!any_room(s))
		return -1;
	for (uint32_t k = 1; k < s->maglev_size; k++) {
		uint32_t bi = s->maglev[(slot + k) % s->maglev_size];

		if (!dp_backend_full(&s->b[bi]))
			return (int32_t)bi;
	}
	return -1;
}

int32_t
dp_sched_pick(struct dp_service *s, const struct dp_tuple *t, uint64_t seed)
{
	switch (s->sched) {
	case DP_SCHED_RR:
		return pick_rr(s);
	case DP_SCHED_WRR:
		return pick_wrr(s);
	case DP_SCHED_LC:
		return pick_lc(s, false);
	case DP_SCHED_WLC:
		return pick_lc(s, true);
	case DP_SCHED_SH:
		return pick_sh(s, t, seed);
	case DP_SCHED_MAGLEV:
		return pick_maglev(s, t, seed);
	}
	return -1;
}

/* Maglev table population (paper, section 3.4), weighted. */
static int
maglev_build(struct dp_service *s, uint32_t m)
{
	uint32_t *next = NULL, *offset = NULL, *skip = NULL, *credit = NULL;
	uint32_t filled = 0, maxw = 0;
	int rc = -1;

	if (s->maglev == NULL || s->maglev_size != m) {
		free(s->maglev);
		if ((s->maglev = malloc((size_t)m * sizeof(uint32_t))) == NULL)
			return -1;
		s->maglev_size = m;
	}
	for (uint32_t j = 0; j < m; j++)
		s->maglev[j] = UINT32_MAX;
	if (s->n_avail == 0)
		return 0;
	next = calloc(s->nb, sizeof(*next));
	offset = calloc(s->nb, sizeof(*offset));
	skip = calloc(s->nb, sizeof(*skip));
	credit = calloc(s->nb, sizeof(*credit));
	if (next == NULL || offset == NULL || skip == NULL || credit == NULL)
		goto out;
	for (uint32_t i = 0; i < s->nb; i++) {
		offset[i] = (uint32_t)(backend_key(&s->b[i], 0x6f6666) % m);
		skip[i] = (uint32_t)(backend_key(&s->b[i], 0x736b6970) % (m - 1)) + 1;
		if (dp_backend_eligible(s, &s->b[i]) && s->b[i].weight > maxw)
			maxw = s->b[i].weight;
	}
	while (filled < m) {
		for (uint32_t i = 0; i < s->nb && filled < m; i++) {
			if (!dp_backend_eligible(s, &s->b[i]))
				continue;
			/* A turn for every `maxw` of accumulated weight. */
			credit[i] += s->b[i].weight;
			if (credit[i] < maxw)
				continue;
			credit[i] -= maxw;
			for (;;) {
				uint32_t c = (uint32_t)(((uint64_t)offset[i] +
				    (uint64_t)next[i] * skip[i]) % m);
				next[i]++;
				if (s->maglev[c] == UINT32_MAX) {
					s->maglev[c] = i;
					filled++;
					break;
				}
			}
		}
	}
	rc = 0;
out:
	free(next);
	free(offset);
	free(skip);
	free(credit);
	return rc;
}

/*
 * Maglev table sizes, primes. The paper wants M >> N (100 N keeps the
 * imbalance near 1%); a bigger table also moves fewer keys that were not
 * on a backend that came or went (65537 slots and 10 backends: 0.1%; 1021:
 * 2.7%). Few services get the largest table. Many share a budget of
 * MAGLEV_BUDGET slots (64 MiB), so that 10,000 services do not take 2.6 GB
 * and seconds per reload, but no table gets fewer than about 100 slots per
 * configured backend. Sized by the configured backends and the service
 * count, both from the config: the two nodes of a pair build the same
 * tables, and a backend going down does not resize its service's.
 */
#define MAGLEV_BUDGET	(16u << 20)

static const uint32_t maglev_ladder[] = { 1021, 2053, 4099, 8209, 16411,
    32771, 65537 };
#define LADDER_N	(sizeof(maglev_ladder) / sizeof(maglev_ladder[0]))

uint32_t
dp_maglev_size(uint32_t n_services, uint32_t nb, uint32_t cap)
{
	uint32_t budget = MAGLEV_BUDGET / (n_services ? n_services : 1);
	uint32_t m = maglev_ladder[0];

	for (size_t i = 0; i < LADDER_N && maglev_ladder[i] <= budget; i++)
		m = maglev_ladder[i];
	for (size_t i = 0; i < LADDER_N && m < 100ull * nb; i++)
		if (maglev_ladder[i] > m)
			m = maglev_ladder[i];
	if (cap == 0)
		cap = DP_MAGLEV_DEFAULT;
	return m < cap ? m : cap;
}

void
dp_services_prepare(struct dp_service *svcs, uint32_t n, uint32_t maglev_cap)
{
	for (uint32_t i = 0; i < n; i++)
		svcs[i].sched_ready = dp_sched_rebuild(&svcs[i],
		    dp_maglev_size(n, svcs[i].nb, maglev_cap)) == 0;
}

int
dp_sched_rebuild(struct dp_service *s, uint32_t maglev_size)
{
	uint32_t primaries = 0;

	s->n_avail = 0;
	for (uint32_t i = 0; i < s->nb; i++)
		primaries += !s->b[i].backup && dp_backend_available(&s->b[i]);
	s->use_backups = primaries < (s->quorum ? s->quorum : 1u);
	for (uint32_t i = 0; i < s->nb; i++) {
		if (dp_backend_eligible(s, &s->b[i]))
			s->n_avail++;
		s->b[i].wrr_cur = 0;
	}
	if (s->sched == DP_SCHED_MAGLEV)
		return maglev_build(s, maglev_size ? maglev_size :
		    DP_MAGLEV_DEFAULT);
	return 0;
}

void
dp_service_free(struct dp_service *s)
{
	for (uint32_t i = 0; i < dp_nb_all(s); i++)
		free(s->b[i].snat);
	free(s->b);
	free(s->maglev);
	free(s->allow);
	s->b = NULL;
	s->maglev = NULL;
	s->allow = NULL;
	s->nb = 0;
}
