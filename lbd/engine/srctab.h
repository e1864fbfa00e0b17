/*
 * srctab — a fixed-size table of per-client-address state, for what the
 * engine remembers about a source rather than a connection: the rate
 * limit's token buckets (admit.c) and persistence (persist.c).
 *
 * SRCTAB_SETS sets of SRCTAB_WAYS slots, the set chosen by a keyed hash of
 * (address, service key). A new source takes a free slot of its set or the
 * least recently used one its owner lets go (`may_go`), never new memory:
 * no traffic, spoofed or not, can make it grow. Allocated on first use.
 */
#ifndef LBD_ENGINE_SRCTAB_H
#define LBD_ENGINE_SRCTAB_H

#include <stdbool.h>
#include <stdint.h>

#define SRCTAB_SETS	4096
#define SRCTAB_WAYS	4

struct src_slot {
	uint8_t		src[16];
	uint32_t	key;		/* the service's; 0: free */
	uint32_t	last_ms;
	uint32_t	v[3];		/* the owner's */
};

struct srctab {
	struct src_slot	*s;		/* SRCTAB_SETS x SRCTAB_WAYS, or NULL */
	uint64_t	 seed;
	uint32_t	 used;		/* slots with a key */
};

/* A key for a service, never 0. */
uint32_t	srctab_key(const uint8_t vip[16], uint16_t port, uint8_t proto);
struct src_slot	*srctab_find(const struct srctab *, const uint8_t src[16],
		    uint32_t key);
/*
 * The slot of (src, key): found, or taken (*fresh set, v[] zeroed) from a
 * free one or the least recently used that may_go(slot, arg) allows
 * (*evicted set). NULL when none may go or there is no memory.
 */
struct src_slot	*srctab_get(struct srctab *, const uint8_t src[16],
		    uint32_t key, uint32_t now,
		    bool (*may_go)(const struct src_slot *, void *), void *arg,
		    bool *fresh, bool *evicted);
void		srctab_clear(struct srctab *, struct src_slot *);
void		srctab_free(struct srctab *);

#endif /* LBD_ENGINE_SRCTAB_H */
