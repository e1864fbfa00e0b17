/*
 * addr — the small helpers every layer needs for addresses and wire
 * fields, written once: address length by family, prefix match, and
 * big-endian 16/32/64-bit loads and stores from unaligned memory.
 *
 * Addresses are held as 16 bytes everywhere in lbd (an IPv4 address in the
 * first 4, the rest zero) with a family of 4 or 6.
 *
 * Pure: no clock, no sockets.
 */
#ifndef LIB_ADDR_H
#define LIB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes of an address of `family` (4 or 6). */
static inline size_t
addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Do the first `plen` bits of `a` and `p` agree? */
static inline bool
addr_pfx_match(const uint8_t *a, const uint8_t *p, uint8_t plen)
{
	uint8_t full = plen / 8, rest = plen % 8, mask;

	if (memcmp(a, p, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (p[full] & mask);
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

#endif /* LIB_ADDR_H */
