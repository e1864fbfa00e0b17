/*
 * Unit tests of lib/addr.h: address length by family, prefix match at
 * every boundary, big-endian loads and stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/addr.h"

static void
test_len(void **state)
{
	assert_int_equal(addr_len(4), 4);
	assert_int_equal(addr_len(6), 16);
}

static void
test_prefix(void **state)
{
	const uint8_t net[16] = { 10, 1, 2, 0 };
	uint8_t a[16] = { 10, 1, 2, 200 };

	assert_true(addr_pfx_match(a, net, 0));
	assert_true(addr_pfx_match(a, net, 24));
	assert_false(addr_pfx_match(a, net, 25));	/* 200 = 1100 1000 */
	assert_false(addr_pfx_match(a, net, 32));
	a[3] = 0x7f;					/* 0111 1111 */
	assert_true(addr_pfx_match(a, net, 25));
	assert_false(addr_pfx_match(a, net, 26));
	/* Every length of a /128 against itself and a one-bit change. */
	for (unsigned bit = 0; bit < 128; bit++) {
		uint8_t x[16], y[16];

		memset(x, 0xa5, 16);
		memcpy(y, x, 16);
		y[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		assert_true(addr_pfx_match(x, y, (uint8_t)bit));
		assert_false(addr_pfx_match(x, y, (uint8_t)(bit + 1)));
	}
	assert_true(addr_pfx_match(a, a, 128));
}

static void
test_loads_stores(void **state)
{
	uint8_t b[8];

	put16(b, 0x1234);
	assert_memory_equal(b, "\x12\x34", 2);
	assert_int_equal(get16(b), 0x1234);
	put32(b, 0xdeadbeef);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(get32(b), 0xdeadbeef);
	put64(b, 0x0102030405060708ull);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(get64(b) == 0x0102030405060708ull);
	/* Unaligned. */
	{
		uint8_t u[9] = { 0 };

		put32(u + 1, 0x0a0b0c0d);
		assert_int_equal(get32(u + 1), 0x0a0b0c0d);
		assert_int_equal(get16(u + 2), 0x0b0c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_len),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_loads_stores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
