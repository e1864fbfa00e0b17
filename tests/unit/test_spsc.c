/*
 * lib/spsc: room and order on one thread, then a producer and a
 * consumer thread moving a million numbered slots in batches of varying
 * size: every slot arrives once, in order, with its whole payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spsc.h"

static void
test_room_and_order(void **state)
{
	struct spsc *r = spsc_new(6, 100);	/* rounds up to 8 slots */
	uint32_t i;

	(void)state;
	assert_non_null(r);
	assert_true(spsc_slot_size(r) >= 100);
	assert_int_equal(spsc_cons_avail(r), 0);
	for (i = 0; i < 8; i++) {
		uint32_t *s = spsc_prod_slot(r, i);
		assert_non_null(s);
		*s = i;
	}
	/* Nine in flight do not fit, committed or not. */
	assert_null(spsc_prod_slot(r, 8));
	/* Nothing is seen before the commit. */
	assert_int_equal(spsc_cons_avail(r), 0);
	spsc_prod_commit(r, 8);
	assert_null(spsc_prod_slot(r, 0));
	assert_int_equal(spsc_cons_avail(r), 8);
	for (i = 0; i < 3; i++)
		assert_int_equal(*(uint32_t *)spsc_cons_slot(r, i), i);
	spsc_cons_release(r, 3);
	assert_int_equal(spsc_cons_avail(r), 5);
	/* Three slots are free again, and only three. */
	assert_non_null(spsc_prod_slot(r, 2));
	assert_null(spsc_prod_slot(r, 3));
	*(uint32_t *)spsc_prod_slot(r, 0) = 100;
	spsc_prod_commit(r, 1);
	assert_int_equal(spsc_cons_avail(r), 6);
	assert_int_equal(*(uint32_t *)spsc_cons_slot(r, 0), 3);
	assert_int_equal(*(uint32_t *)spsc_cons_slot(r, 5), 100);
	spsc_free(r);
}

#define TOTAL	1000000u
#define PAYLOAD	200

struct msg {
	uint32_t	seq;
	uint8_t		fill[PAYLOAD];
};

static void *
producer(void *arg)
{
	struct spsc *r = arg;
	uint32_t seq = 0, rnd = 12345;

	while (seq < TOTAL) {
		uint32_t want = 1 + (rnd = rnd * 1103515245u + 12345u) % 37, n;
		struct msg *m;

		for (n = 0; n < want && seq + n < TOTAL &&
		    (m = spsc_prod_slot(r, n)) != NULL; n++) {
			m->seq = seq + n;
			memset(m->fill, (uint8_t)(seq + n), PAYLOAD);
		}
		spsc_prod_commit(r, n);
		seq += n;
	}
	return NULL;
}

static void
test_two_threads(void **state)
{
	struct spsc *r = spsc_new(64, sizeof(struct msg));
	pthread_t t;
	uint32_t next = 0, bad = 0;

	(void)state;
	assert_non_null(r);
	assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
	while (next < TOTAL) {
		uint32_t n = spsc_cons_avail(r);

		for (uint32_t i = 0; i < n; i++) {
			const struct msg *m = spsc_cons_slot(r, i);
			uint8_t want = (uint8_t)(next + i);

			bad += m->seq != next + i;
			bad += m->fill[0] != want || m->fill[PAYLOAD - 1] != want;
		}
		spsc_cons_release(r, n);
		next += n;
	}
	pthread_join(t, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(next, TOTAL);
	assert_int_equal(spsc_cons_avail(r), 0);
	spsc_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_and_order),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
