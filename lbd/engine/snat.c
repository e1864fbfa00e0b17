#include <stdlib.h>
#include <string.h>

#include "lbd/engine/ct.h"
#include "lbd/engine/snat.h"

void
snat_registry_init(struct snat_registry *r, uint16_t lo, uint16_t hi,
    uint64_t seed)
{
	r->head = NULL;
	r->lo = lo;
	r->hi = hi;
	r->seed = seed;
	snat_registry_stride(r, 1, 0);
}

void
snat_registry_stride(struct snat_registry *r, uint32_t mod, uint32_t res)
{
	r->mod = mod > 1 && mod <= 64 ? mod : 1;
	r->res = res % r->mod;
	/* 64 * period is a multiple of mod: the pattern repeats from there. */
	for (r->period = 1; (64 * r->period) % r->mod != 0; r->period++)
		;
	for (uint32_t w = 0; w < r->period; w++) {
		uint64_t ours = 0;

		for (uint32_t i = 0; i < 64; i++)
			if ((w * 64 + i) % r->mod == r->res)
				ours |= 1ull << i;
		r->theirs[w] = ~ours;
	}
}

/* The ports of bitmap word `w` outside our residue class, as set bits:
 * they count as taken. */
static inline uint64_t
not_ours(const struct snat_registry *r, uint32_t w)
{
	return r->mod == 1 ? 0 : r->theirs[w % r->period];
}

/*
 * Where a new space starts handing out ports: a keyed hash of the space, as
 * in RFC 6056's algorithm 3. Ports are not guessable from outside, and —
 * what bites in practice — a node that just took over does not walk the
 * same ports the old master used seconds ago, which the backend still
 * holds in TIME_WAIT for that very tuple.
 */
static uint32_t
first_port(const struct snat_registry *r, const struct snat_space *s,
    const struct snat_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = r->seed;

	for (size_t i = 0; i + 8 <= sizeof(*k); i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = dp_mix64(h ^ w);
	}
	for (size_t i = sizeof(*k) & ~(size_t)7; i < sizeof(*k); i++)
		h = dp_mix64(h ^ p[i]);
	return s->lo + (uint32_t)(h % ((uint32_t)s->hi - s->lo + 1));
}

struct snat_space *
snat_space_get(struct snat_registry *r, const struct snat_key *k)
{
	struct snat_space *s;

	for (s = r->head; s != NULL; s = s->next)
		if (memcmp(&s->key, k, sizeof(*k)) == 0) {
			s->refs++;
			return s;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->key = *k;
	s->refs = 1;
	s->lo = r->lo;
	s->hi = r->hi;
	s->cursor = first_port(r, s, k);
	s->next = r->head;
	r->head = s;
	return s;
}

/* A space lives while a backend or a connection needs it: connections hold
 * no reference, so a space is kept while it still has ports in use. */
void
snat_space_put(struct snat_registry *r, struct snat_space *s)
{
	if (s == NULL || --s->refs > 0 || s->used > 0)
		return;
	for (struct snat_space **p = &r->head; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			free(s);
			return;
		}
}

void
snat_registry_free(struct snat_registry *r)
{
	while (r->head != NULL) {
		struct snat_space *n = r->head->next;
		free(r->head);
		r->head = n;
	}
}

static inline bool
taken(const struct snat_space *s, uint16_t p)
{
	return (s->bits[p >> 6] >> (p & 63)) & 1;
}

static inline bool
mine(const struct snat_space *s, uint32_t p)
{
	return p >= s->lo && p <= s->hi;
}

void
snat_space_range(const struct snat_registry *r, struct snat_space *s,
    uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 0) {
		lo = r->lo;
		hi = r->hi;
	}
	if (lo == s->lo && hi == s->hi)
		return;
	s->lo = lo;
	s->hi = hi;
	s->own = 0;
	for (uint32_t p = lo; p <= hi; p++)
		s->own += taken(s, (uint16_t)p);
	s->cursor = first_port(r, s, &s->key);
}

uint32_t
snat_space_pct(const struct snat_registry *r, const struct snat_space *s)
{
	uint32_t cap = ((uint32_t)s->hi - s->lo + 1) / r->mod;

	return cap == 0 ? 100 : (uint32_t)((uint64_t)s->own * 100 / cap);
}

bool
snat_port_reserve(const struct snat_registry *r, struct snat_space *s,
    uint16_t port)
{
	if (port < r->lo || port > r->hi || taken(s, port))
		return false;
	s->bits[port >> 6] |= 1ull << (port & 63);
	s->used++;
	s->own += mine(s, port);
	return true;
}

bool
snat_port_take(const struct snat_registry *r, struct snat_space *s,
    uint16_t *port)
{
	uint32_t range = (uint32_t)s->hi - s->lo + 1;
	uint32_t p = s->cursor;

	if (s->own >= range)
		return false;
	/* Walk word by word from the cursor; a free port is found within
	 * range/64 word reads at worst. */
	for (uint32_t scanned = 0; scanned <= range + 64; ) {
		if (p > s->hi || p < s->lo)
			p = s->lo;
		uint64_t w = s->bits[p >> 6] | ((1ull << (p & 63)) - 1) |
		    not_ours(r, p >> 6);
		if (w != UINT64_MAX) {
			uint32_t q = (p & ~63u) + (uint32_t)__builtin_ctzll(~w);
			if (mine(s, q)) {
				s->bits[q >> 6] |= 1ull << (q & 63);
				s->used++;
				s->own++;
				s->cursor = q + 1;
				*port = (uint16_t)q;
				return true;
			}
		}
		scanned += 64 - (p & 63);
		p = (p | 63) + 1;
	}
	return false;
}

void
snat_port_release(struct snat_space *s, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);

	if (s->bits[port >> 6] & bit) {
		s->bits[port >> 6] &= ~bit;
		s->used--;
		s->own -= mine(s, port);
	}
}
