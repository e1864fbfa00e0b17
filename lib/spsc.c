#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/spsc.h"

#define CACHELINE	64

struct spsc {
	/* Written by the producer only. */
	alignas(CACHELINE) _Atomic uint32_t tail;
	uint32_t	 head_seen;	/* producer's copy of head */
	/* Written by the consumer only. */
	alignas(CACHELINE) _Atomic uint32_t head;
	alignas(CACHELINE) uint32_t mask;
	uint32_t	 slot_size;
	uint8_t		*data;
};

struct spsc *
spsc_new(uint32_t slots, uint32_t slot_size)
{
	struct spsc *r;
	uint32_t n = 1;

	while (n < slots)
		n <<= 1;
	if ((r = aligned_alloc(CACHELINE, sizeof(*r))) == NULL)
		return NULL;
	atomic_init(&r->tail, 0);
	atomic_init(&r->head, 0);
	r->head_seen = 0;
	r->mask = n - 1;
	/* Slots on cache-line boundaries: frames are copied in whole. */
	r->slot_size = (slot_size + CACHELINE - 1) & ~(uint32_t)(CACHELINE - 1);
	if ((r->data = aligned_alloc(CACHELINE, (size_t)n * r->slot_size)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
spsc_free(struct spsc *r)
{
	if (r == NULL)
		return;
	free(r->data);
	free(r);
}

static inline void *
slot(struct spsc *r, uint32_t idx)
{
	return r->data + (size_t)(idx & r->mask) * r->slot_size;
}

void *
spsc_prod_slot(struct spsc *r, uint32_t i)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed) + i;

	if (t - r->head_seen > r->mask) {
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t - r->head_seen > r->mask)
			return NULL;
	}
	return slot(r, t);
}

void
spsc_prod_commit(struct spsc *r, uint32_t n)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, t + n, memory_order_release);
}

uint32_t
spsc_cons_avail(struct spsc *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	return atomic_load_explicit(&r->tail, memory_order_acquire) - h;
}

void *
spsc_cons_slot(struct spsc *r, uint32_t i)
{
	return slot(r, atomic_load_explicit(&r->head, memory_order_relaxed) + i);
}

void
spsc_cons_release(struct spsc *r, uint32_t n)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, h + n, memory_order_release);
}

uint32_t
spsc_slot_size(const struct spsc *r)
{
	return r->slot_size;
}
