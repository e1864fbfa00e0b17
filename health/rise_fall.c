/*
 * Rise/fall and HTTP status lists: the parts of health checking that are
 * pure arithmetic.
 */
#include <ctype.h>
#include <stdlib.h>

#include "health/health.h"

void
hc_rf_init(struct hc_rf *rf, uint32_t rise, uint32_t fall, enum hc_state initial)
{
	rf->state = (uint8_t)initial;
	rf->rise = rise ? rise : 1;
	rf->fall = fall ? fall : 1;
	rf->ok_run = rf->fail_run = 0;
	rf->checks = rf->failures = 0;
}

bool
hc_rf_result(struct hc_rf *rf, bool ok)
{
	rf->checks++;
	if (ok) {
		rf->fail_run = 0;
		rf->ok_run++;
		if (rf->state == HC_DOWN && rf->ok_run >= rf->rise) {
			rf->state = HC_UP;
			return true;
		}
	} else {
		rf->failures++;
		rf->ok_run = 0;
		rf->fail_run++;
		if (rf->state == HC_UP && rf->fail_run >= rf->fall) {
			rf->state = HC_DOWN;
			return true;
		}
	}
	return false;
}

bool
hc_rf_force_down(struct hc_rf *rf)
{
	bool was = rf->state == HC_UP;

	rf->state = HC_DOWN;
	rf->ok_run = 0;
	return was;
}

bool
hc_observe_error(struct hc_observe *o, uint64_t now_ms, uint32_t limit,
    uint32_t window_ms)
{
	uint64_t oldest;

	if (limit == 0 || limit > HC_OBSERVE_MAX)
		limit = HC_OBSERVE_MAX;
	o->errors++;
	o->at[o->head] = now_ms;
	o->head = (o->head + 1) % HC_OBSERVE_MAX;
	if (o->n < HC_OBSERVE_MAX)
		o->n++;
	if (o->n < limit)
		return false;
	/* The limit-th most recent error, counting this one. */
	oldest = o->at[(o->head + HC_OBSERVE_MAX - limit) % HC_OBSERVE_MAX];
	if (now_ms - oldest > window_ms)
		return false;
	o->n = 0;
	return true;
}

const char *
hc_state_name(enum hc_state s)
{
	return s == HC_UP ? "up" : "down";
}

static int
three_digits(const char **p)
{
	int v = 0;

	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return isdigit((unsigned char)**p) ? -1 : v;
}

int
hc_status_parse(struct hc_status_list *l, const char *s)
{
	l->n = 0;
	for (;;) {
		int lo = three_digits(&s), hi;

		if (lo < 100 || lo > 599 || l->n == HC_STATUS_RANGES_MAX)
			return -1;
		hi = lo;
		if (*s == '-') {
			s++;
			hi = three_digits(&s);
			if (hi < lo || hi > 599)
				return -1;
		}
		l->lo[l->n] = (uint16_t)lo;
		l->hi[l->n++] = (uint16_t)hi;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

bool
hc_status_match(const struct hc_status_list *l, unsigned status)
{
	for (uint8_t i = 0; i < l->n; i++)
		if (status >= l->lo[i] && status <= l->hi[i])
			return true;
	return false;
}
