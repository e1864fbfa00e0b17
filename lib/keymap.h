/*
 * keymap — fixed-size binary keys (addresses, classifier map keys) to a
 * uint32 each, for the sets the control plane compares at every reload:
 * the addresses it owns against the ones it wants, a BPF map's keys against
 * the new set. With tens of thousands of VIPs and backends a linear scan
 * per key made those comparisons quadratic (seconds per reload); this keeps
 * them linear. Open addressing, linear probing, deletion by backward shift.
 * The keys are copied in.
 */
#ifndef LIB_KEYMAP_H
#define LIB_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keymap;

/* Keys of `ksz` bytes; room for `expect` before the first growth. */
struct keymap	*keymap_new(size_t ksz, size_t expect);
void		 keymap_free(struct keymap *);

/* Insert `key` with `val`. 1: inserted; 0: it was there (its value left
 * alone); -1: out of memory. `*slot`, when asked for, points at the value
 * (valid until the next insertion or deletion). */
int		 keymap_put(struct keymap *, const void *key, uint32_t val,
		    uint32_t **slot);
/* The value of `key`, or NULL. */
uint32_t	*keymap_get(const struct keymap *, const void *key);
bool		 keymap_del(struct keymap *, const void *key);
size_t		 keymap_count(const struct keymap *);

/* The key of an IP address (family 4 or 6, 16 bytes as everywhere in lbd),
 * the commonest use. */
#define KEYMAP_ADDR_LEN	17

static inline const uint8_t *
keymap_addr_key(uint8_t k[KEYMAP_ADDR_LEN], uint8_t family, const uint8_t *addr)
{
	k[0] = family;
	for (int i = 0; i < 16; i++)
		k[1 + i] = addr[i];
	return k;
}

#endif /* LIB_KEYMAP_H */
