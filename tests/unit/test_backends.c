/*
 * Unit tests of the control plane's view of a backend (lbd/backends.c):
 * the config's max-conns and backup reach it, and slow-start ramps a
 * backend's weight on a virtual clock from ~0 to its weight, only when it
 * begins taking new connections after lbd started (health, enable, a
 * reload that adds it), and survives a reload under way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "lbd/backends.h"

#define WEB_HEAD							\
    "service web {\n"							\
    "  listen 198.51.100.10 tcp 80\n"					\
    "  scheduler wlc\n"							\
    "  slow-start 10s\n"						\
    "  quorum 1\n"							\
    "  backend a 10.0.0.11:80 weight 50 max-conns 100\n"		\
    "  backend b 10.0.0.12:80 weight 50 backup\n"

static const char *const cfg = WEB_HEAD "}\n";
/* ... and a backend added by a reload. */
static const char *const cfg_more = WEB_HEAD
    "  backend c 10.0.0.13:80 weight 50\n}\n";

static const struct be_health up = { .checked = true, .up = true,
	.agent_pct = -1 };
static const struct be_health down = { .checked = true, .up = false,
	.agent_pct = -1 };

static struct conf *
load(const char *text)
{
	struct conf_diags d = { 0 };
	struct conf *c = conf_load_string("t.conf", text, &d);

	conf_diags_free(&d);
	assert_non_null(c);
	return c;
}

/* The backend's effective weight, after telling it the time. */
static uint32_t
weight_at(struct be *b, const struct be_health *h, uint64_t now)
{
	struct be_effective e;

	be_effective(b, h, &e);
	be_ramp(b, e.takes_new, now);
	be_effective(b, h, &e);
	return e.takes_new ? e.weight : 0;
}

static void
test_slow_start_ramp(void **state)
{
	struct conf *c = load(cfg), *c2;
	struct backends bs = { 0 };
	struct be *a;

	(void)state;
	assert_int_equal(backends_apply(&bs, c), 0);
	a = backends_find(&bs, "web/a");
	assert_non_null(a);
	assert_int_equal(a->max_conns, 100);
	assert_false(a->backup);
	assert_true(backends_find(&bs, "web/b")->backup);

	/* Up when lbd starts: full weight at once. */
	assert_int_equal(weight_at(a, &up, 1000), 50);
	assert_int_equal(a->ramp_pct, 100);

	/* Down, then up again: from ~0 to 50 over 10 s. */
	assert_int_equal(weight_at(a, &down, 2000), 0);
	assert_int_equal(weight_at(a, &up, 3000), 1);
	assert_int_equal(a->ramp_pct, 0);
	assert_int_equal(weight_at(a, &up, 3000 + 2500), 13);	/* 25% */
	assert_int_equal(a->ramp_pct, 25);
	assert_int_equal(weight_at(a, &up, 3000 + 5000), 25);
	assert_int_equal(weight_at(a, &up, 3000 + 9990), 50 * 99 / 100 + 1);
	assert_int_equal(weight_at(a, &up, 3000 + 10000), 50);
	assert_int_equal(a->ramp_pct, 100);
	assert_int_equal(weight_at(a, &up, 3000 + 60000), 50);

	/* Disabled and enabled by the operator: a ramp too. */
	assert_int_equal(weight_at(a, &up, 100000), 50);
	a->admin = BE_DISABLED;
	assert_int_equal(weight_at(a, &up, 100100), 0);
	a->admin = BE_ENABLED;
	assert_int_equal(weight_at(a, &up, 100200), 1);
	assert_int_equal(weight_at(a, &up, 105200), 25);

	/* A reload keeps the ramp under way and ramps the backend it
	 * adds; the others stay where they are. */
	c2 = load(cfg_more);
	assert_int_equal(backends_apply(&bs, c2), 0);
	a = backends_find(&bs, "web/a");
	assert_int_equal(a->ramp_pct, 50);
	assert_int_equal(weight_at(a, &up, 107700), 38);	/* 75% */
	assert_int_equal(weight_at(backends_find(&bs, "web/b"), &up, 107700), 50);
	assert_int_equal(weight_at(backends_find(&bs, "web/c"), &up, 107700), 1);
	assert_int_equal(weight_at(backends_find(&bs, "web/c"), &up, 112700), 25);

	backends_free(&bs);
	conf_free(c);
	conf_free(c2);
}

/* Without slow-start nothing ramps, whatever happens. */
static void
test_no_slow_start(void **state)
{
	struct conf *c = load("service s {\n listen 198.51.100.10 tcp 80\n"
	    " backend a 10.0.0.11:80 weight 7\n}\n");
	struct backends bs = { 0 };
	struct be *a;

	(void)state;
	assert_int_equal(backends_apply(&bs, c), 0);
	a = backends_find(&bs, "s/a");
	assert_int_equal(weight_at(a, &down, 1000), 0);
	assert_int_equal(weight_at(a, &up, 2000), 7);
	assert_int_equal(a->ramp_pct, 100);
	backends_free(&bs);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_start_ramp),
		cmocka_unit_test(test_no_slow_start),
	};

	return cmocka_run_group_tests_name("backends", tests, NULL, NULL);
}
