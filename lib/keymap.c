#include <stdlib.h>
#include <string.h>

#include "lib/keymap.h"

struct keymap {
	size_t		 ksz, n, mask;
	unsigned char	*keys;
	uint32_t	*vals;
	uint8_t		*used;
};

static uint64_t
hash(const unsigned char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static int
alloc_slots(struct keymap *m, size_t cap)
{
	m->keys = malloc(cap * m->ksz);
	m->vals = malloc(cap * sizeof(*m->vals));
	m->used = calloc(cap, 1);
	m->mask = cap - 1;
	if (m->keys == NULL || m->vals == NULL || m->used == NULL) {
		free(m->keys);
		free(m->vals);
		free(m->used);
		return -1;
	}
	return 0;
}

struct keymap *
keymap_new(size_t ksz, size_t expect)
{
	struct keymap *m = calloc(1, sizeof(*m));
	size_t cap = 16;

	if (m == NULL || ksz == 0)
		goto fail;
	while (cap < 2 * expect)
		cap <<= 1;
	m->ksz = ksz;
	if (alloc_slots(m, cap) < 0)
		goto fail;
	return m;
fail:
	free(m);
	return NULL;
}

void
keymap_free(struct keymap *m)
{
	if (m == NULL)
		return;
	free(m->keys);
	free(m->vals);
	free(m->used);
	free(m);
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t
probe(const struct keymap *m, const void *key)
{
	size_t i = (size_t)hash(key, m->ksz) & m->mask;

	while (m->used[i] && memcmp(m->keys + i * m->ksz, key, m->ksz) != 0)
		i = (i + 1) & m->mask;
	return i;
}

static int
grow(struct keymap *m)
{
	struct keymap old = *m;

	if (alloc_slots(m, (old.mask + 1) * 2) < 0) {
		*m = old;
		return -1;
	}
	for (size_t i = 0; i <= old.mask; i++)
		if (old.used[i]) {
			size_t j = probe(m, old.keys + i * m->ksz);

			m->used[j] = 1;
			memcpy(m->keys + j * m->ksz, old.keys + i * m->ksz, m->ksz);
			m->vals[j] = old.vals[i];
		}
	free(old.keys);
	free(old.vals);
	free(old.used);
	return 0;
}

int
keymap_put(struct keymap *m, const void *key, uint32_t val, uint32_t **slot)
{
	size_t i = probe(m, key);

	if (!m->used[i]) {
		/* At most half full, so probes stay short. */
		if (2 * (m->n + 1) > m->mask + 1) {
			if (grow(m) < 0)
				return -1;
			i = probe(m, key);
		}
		m->used[i] = 1;
		memcpy(m->keys + i * m->ksz, key, m->ksz);
		m->vals[i] = val;
		m->n++;
		if (slot != NULL)
			*slot = &m->vals[i];
		return 1;
	}
	if (slot != NULL)
		*slot = &m->vals[i];
	return 0;
}

uint32_t *
keymap_get(const struct keymap *m, const void *key)
{
	size_t i = probe(m, key);

	return m->used[i] ? &m->vals[i] : NULL;
}

bool
keymap_del(struct keymap *m, const void *key)
{
	size_t i = probe(m, key), j = i;

	if (!m->used[i])
		return false;
	/* Backward shift: move up every later entry of the run whose home
	 * slot is not between the hole and itself. */
	for (;;) {
		size_t home;

		m->used[i] = 0;
		for (;;) {
			j = (j + 1) & m->mask;
			if (!m->used[j])
				goto out;
			home = (size_t)hash(m->keys + j * m->ksz, m->ksz) & m->mask;
			/* Movable unless home lies in (i, j], cyclically. */
			if (i <= j ? (home <= i || home > j) :
			    (home <= i && home > j))
				break;
		}
		m->used[i] = 1;
		memcpy(m->keys + i * m->ksz, m->keys + j * m->ksz, m->ksz);
		m->vals[i] = m->vals[j];
		i = j;
	}
out:
	m->n--;
	return true;
}

size_t
keymap_count(const struct keymap *m)
{
	return m->n;
}
