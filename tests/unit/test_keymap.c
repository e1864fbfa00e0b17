/*
 * lib/keymap: insert, find, delete against a brute-force model under
 * random operations on a key space small enough to collide, and growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keymap.h"

#define KSZ	20

static void
key_of(unsigned n, unsigned char k[KSZ])
{
	memset(k, 0, KSZ);
	k[0] = 4;
	memcpy(k + 4, &n, sizeof(n));
}

static void
test_put_get_dup(void **state)
{
	struct keymap *m = keymap_new(KSZ, 0);
	unsigned char k[KSZ];
	uint32_t *v;

	(void)state;
	assert_non_null(m);
	key_of(7, k);
	assert_null(keymap_get(m, k));
	assert_int_equal(keymap_put(m, k, 3, &v), 1);
	assert_int_equal(*v, 3);
	*v |= 4;
	/* A second put leaves the value alone and says so. */
	assert_int_equal(keymap_put(m, k, 9, &v), 0);
	assert_int_equal(*v, 7);
	assert_int_equal(*keymap_get(m, k), 7);
	assert_int_equal(keymap_count(m), 1);
	assert_true(keymap_del(m, k));
	assert_false(keymap_del(m, k));
	assert_null(keymap_get(m, k));
	assert_int_equal(keymap_count(m), 0);
	keymap_free(m);
}

/* The map has key x with value v exactly when the model says so. */
static void
agrees(const struct keymap *m, unsigned x, bool in, uint32_t v)
{
	unsigned char k[KSZ];
	const uint32_t *got;

	key_of(x, k);
	got = keymap_get(m, k);
	if (in) {
		assert_non_null(got);
		assert_int_equal(*got, v);
	} else {
		assert_null(got);
	}
}

/* 200,000 random puts and deletes over 3,000 keys (so the table grows,
 * shrinks in use, and runs of collisions get holes punched in them); after
 * each step the map agrees with a plain array on the key touched, and at
 * the end on every key. */
static void
test_random_against_model(void **state)
{
	enum { SPACE = 3000, STEPS = 200000 };
	struct keymap *m = keymap_new(KSZ, 4);
	static uint32_t model[SPACE];
	static bool in[SPACE];
	unsigned char k[KSZ];
	size_t n = 0;

	(void)state;
	srand(12345);
	for (int s = 0; s < STEPS; s++) {
		unsigned x = (unsigned)rand() % SPACE;
		key_of(x, k);
		if (rand() % 3 != 0) {
			int rc = keymap_put(m, k, (uint32_t)s, NULL);

			assert_int_equal(rc, in[x] ? 0 : 1);
			if (!in[x]) {
				in[x] = true;
				model[x] = (uint32_t)s;
				n++;
			}
		} else {
			assert_int_equal(keymap_del(m, k), in[x]);
			if (in[x])
				n--;
			in[x] = false;
		}
		agrees(m, x, in[x], model[x]);
		assert_int_equal(keymap_count(m), n);
	}
	for (unsigned x = 0; x < SPACE; x++)
		agrees(m, x, in[x], model[x]);
	keymap_free(m);
}

static void
test_many(void **state)
{
	struct keymap *m = keymap_new(KSZ, 0);
	unsigned char k[KSZ];

	(void)state;
	for (unsigned x = 0; x < 100000; x++) {
		key_of(x, k);
		assert_int_equal(keymap_put(m, k, x, NULL), 1);
	}
	assert_int_equal(keymap_count(m), 100000);
	for (unsigned x = 0; x < 100000; x += 7) {
		key_of(x, k);
		assert_int_equal(*keymap_get(m, k), x);
	}
	key_of(100000, k);
	assert_null(keymap_get(m, k));
	keymap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_dup),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
