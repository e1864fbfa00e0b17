#include <stdlib.h>
#include <string.h>

#include "lib/namemap.h"

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

int
namemap_build(struct namemap *m, size_t n,
    const char *(*name_of)(const void *, size_t), const void *arg)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	m->slot = calloc(cap, sizeof(*m->slot));
	m->mask = cap - 1;
	if (m->slot == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t j = (size_t)fnv1a(name_of(arg, i)) & m->mask;
		while (m->slot[j] != 0)
			j = (j + 1) & m->mask;
		m->slot[j] = (uint32_t)i + 1;
	}
	return 0;
}

long
namemap_find(const struct namemap *m, const char *name,
    const char *(*name_of)(const void *, size_t), const void *arg)
{
	if (m->slot == NULL)
		return -1;
	for (size_t j = (size_t)fnv1a(name) & m->mask; m->slot[j] != 0;
	    j = (j + 1) & m->mask)
		if (strcmp(name_of(arg, m->slot[j] - 1), name) == 0)
			return (long)m->slot[j] - 1;
	return -1;
}

void
namemap_free(struct namemap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->mask = 0;
}
