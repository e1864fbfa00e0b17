/*
 * The per-source table (srctab.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/ct.h"
#include "lbd/engine/srctab.h"

uint32_t
srctab_key(const uint8_t vip[16], uint16_t port, uint8_t proto)
{
	uint64_t h = 0x6c696d6974ull, w[2];

	memcpy(w, vip, 16);
	h = dp_mix64(h ^ w[0]);
	h = dp_mix64(h ^ w[1]);
	h = dp_mix64(h ^ ((uint64_t)port << 8 | proto));
	return (uint32_t)h | 1u;
}

static struct src_slot *
set_of(const struct srctab *t, const uint8_t src[16], uint32_t key)
{
	uint64_t h = t->seed, w[2];

	memcpy(w, src, 16);
	h = dp_mix64(h ^ w[0]);
	h = dp_mix64(h ^ w[1] ^ key);
	return &t->s[(h % SRCTAB_SETS) * SRCTAB_WAYS];
}

struct src_slot *
srctab_find(const struct srctab *t, const uint8_t src[16], uint32_t key)
{
	struct src_slot *v;

	if (t->s == NULL)
		return NULL;
	v = set_of(t, src, key);
	for (int i = 0; i < SRCTAB_WAYS; i++)
		if (v[i].key == key && memcmp(v[i].src, src, 16) == 0)
			return &v[i];
	return NULL;
}

struct src_slot *
srctab_get(struct srctab *t, const uint8_t src[16], uint32_t key,
    uint32_t now, bool (*may_go)(const struct src_slot *, void *), void *arg,
    bool *fresh, bool *evicted)
{
	struct src_slot *v, *b = NULL;
	uint32_t idle = 0;

	*fresh = *evicted = false;
	if (t->s == NULL && (t->s = calloc((size_t)SRCTAB_SETS * SRCTAB_WAYS,
	    sizeof(*t->s))) == NULL)
		return NULL;
	if ((b = srctab_find(t, src, key)) != NULL)
		return b;
	v = set_of(t, src, key);
	for (int i = 0; i < SRCTAB_WAYS; i++) {
		uint32_t d;

		if (v[i].key == 0)
			d = UINT32_MAX;
		else if (may_go != NULL && !may_go(&v[i], arg))
			continue;
		else
			d = now - v[i].last_ms;
		if (b == NULL || d > idle) {
			b = &v[i];
			idle = d;
		}
	}
	if (b == NULL)
		return NULL;
	if (b->key != 0)
		*evicted = true;
	else
		t->used++;
	memset(b, 0, sizeof(*b));
	memcpy(b->src, src, 16);
	b->key = key;
	b->last_ms = now;
	*fresh = true;
	return b;
}

void
srctab_clear(struct srctab *t, struct src_slot *s)
{
	if (s->key != 0)
		t->used--;
	memset(s, 0, sizeof(*s));
}

void
srctab_free(struct srctab *t)
{
	free(t->s);
	t->s = NULL;
	t->used = 0;
}
