/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 *
 * All functions work on 16-bit words loaded straight from memory, so they
 * are byte-order neutral: pass checksum fields as they are stored in the
 * packet and store the result back the same way.
 */
#ifndef LIB_CSUM_H
#define LIB_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Ones'-complement sum of `len` bytes added to `sum` (not folded). */
uint32_t	csum_partial(const void *buf, size_t len, uint32_t sum);

static inline uint16_t
csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over every 16-bit word that
 * changes from `old` to `new` (len even). `csum` as stored in the packet.
 */
static inline uint16_t
csum_replace(uint16_t csum, const void *old, const void *new, size_t len)
{
	const uint8_t *o = old, *n = new;
	uint32_t sum = (uint16_t)~csum;

	for (size_t i = 0; i < len; i += 2) {
		uint16_t a, b;
		memcpy(&a, o + i, 2);
		memcpy(&b, n + i, 2);
		sum += (uint16_t)~a;
		sum += b;
	}
	return csum_fold(sum);
}

static inline uint16_t
csum_replace16(uint16_t csum, uint16_t old, uint16_t new)
{
	return csum_replace(csum, &old, &new, 2);
}

/* TCP/UDP/ICMPv6 checksum of `len` bytes of L4 with its pseudo-header. */
uint16_t	csum_l4(int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, const void *l4, size_t len);

#endif /* LIB_CSUM_H */
