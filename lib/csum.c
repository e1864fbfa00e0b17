#include <arpa/inet.h>

#include "lib/csum.h"

uint32_t
csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	while (len >= 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		s += (uint64_t)a + b;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t w = 0;
		memcpy(&w, p, 1);	/* the odd byte, padded with zero */
		s += w;
	}
	/* Fold 64 -> 32 bits; the ones'-complement sum is associative. */
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t
csum_l4(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    const void *l4, size_t len)
{
	uint32_t sum = 0;

	if (family == 4) {
		uint16_t ph[2] = { htons(proto), htons((uint16_t)len) };
		sum = csum_partial(src, 4, sum);
		sum = csum_partial(dst, 4, sum);
		sum = csum_partial(ph, 4, sum);
	} else {
		uint32_t ph[2] = { htonl((uint32_t)len), htonl(proto) };
		sum = csum_partial(src, 16, sum);
		sum = csum_partial(dst, 16, sum);
		sum = csum_partial(ph, 8, sum);
	}
	sum = csum_partial(l4, len, sum);
	return csum_fold(sum);
}
