/*
 * Unit tests of the stats table (lbd/stats.c): the table itself is
 * consistent (one name per value, one Prometheus family per value, help
 * for each, counters named as Prometheus wants), and each renderer writes
 * what lbctl, JSON and Prometheus readers expect from the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lbd/stats.h"

static char *
text(struct buf *b)
{
	static char out[65536];

	snprintf(out, sizeof(out), "%.*s", (int)b->len, b->p ? b->p : "");
	b->len = 0;
	return out;
}

/* Names unique within a scope; every value has help; a counter's family
 * ends in _total and a gauge's does not; a column is as wide as its
 * header. */
static void
test_table(void **state)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mem, &len);
	char *line, *save;
	size_t lines = 0;

	for (int s = 0; s < ST__COUNT; s++) {
		const struct stat_scope *sc = &stat_scopes[s];

		assert_non_null(sc->prom);
		assert_true(sc->n > 0);
		for (size_t i = 0; i < sc->n; i++) {
			const struct stat_def *d = &sc->defs[i];

			assert_non_null(d->name);
			assert_non_null(d->help);
			assert_true(strlen(d->help) > 5);
			assert_true(d->col == NULL || d->width >= (int)strlen(d->col));
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(d->name, sc->defs[j].name);
		}
	}
	assert_non_null(fp);
	stats_table_print(fp);
	fclose(fp);
	/* Families: each once, except a family by reason (one line each). */
	for (line = strtok_r(mem, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128], fam[128], kind[16];

		assert_int_equal(sscanf(line, "%127[^\t]\t%127[^\t]\t%15[^\t]",
		    name, fam, kind), 3);
		assert_true(strncmp(fam, "lbd_", 4) == 0);
		if (strcmp(kind, "counter") == 0 && strchr(name, '.') == NULL)
			assert_true(strstr(fam, "_total") != NULL);
		else if (strcmp(kind, "gauge") == 0)
			assert_null(strstr(fam, "_total"));
		lines++;
	}
	assert_true(lines > 100);
	free(mem);
}

static void
test_json(void **state)
{
	struct buf b = { 0 };
	int64_t v[SB__COUNT] = { [SB_TAKES_NEW] = 1, [SB_WEIGHT] = 10,
				 [SB_WEIGHT_OVERRIDE] = -1, [SB_CONNS] = 7 };
	int64_t h[SH__COUNT] = { [SH_LATENCY] = 1234, [SH_UP] = 0 };
	int64_t r[SR__COUNT] = { [SR_SINCE] = 2500 };
	uint64_t drops[40] = { [1] = 3 };

	stats_json(&b, ST_BACKEND, v, false);
	assert_string_equal(text(&b), "\"takes_new\":true,\"weight\":10,"
	    "\"config_weight\":0,\"weight_override\":-1,\"active\":0,"
	    "\"conns\":7,\"pkts_in\":0,\"pkts_out\":0,\"bytes_in\":0,"
	    "\"bytes_out\":0,\"slow_start_pct\":0,\"backup\":false,"
	    "\"max_conns\":0,\"open\":0");
	stats_json(&b, ST_HEALTH, h, true);
	assert_true(strstr(text(&b), ",\"up\":false,") != NULL);
	stats_json(&b, ST_HEALTH, h, true);
	assert_true(strstr(text(&b), "\"latency_ms\":1.234,") != NULL);
	stats_json(&b, ST_VRRP, r, false);
	assert_true(strstr(text(&b), "\"since_s\":2.5,") != NULL);
	stats_json_reasons(&b, &stat_sync_drops, drops, true);
	assert_true(strncmp(text(&b), ",\"dropped\":{\"", 13) == 0);
	buf_free(&b);
}

static void
test_text(void **state)
{
	struct buf b = { 0 };
	int64_t y[SY__COUNT] = { [SY_DGRAMS_SENT] = 5, [SY_RECORDS_SENT] = 9,
				 [SY_LAG_P50] = 2 };
	int64_t v[SB__COUNT] = { [SB_ACTIVE] = 3, [SB_CONNS] = 12345 };
	int64_t r[SR__COUNT] = { [SR_MASTER_ADVERT_MS] = 100, [SR_RX] = 4 };

	stats_say(&b, ST_SYNC, y, SY_DGRAMS_SENT, SY_RETRANSMITS);
	assert_string_equal(text(&b), "5 datagrams, 9 records, 0 bytes");
	stats_say(&b, ST_SYNC, y, SY_LAG_P50, SY_LAG_P50 + 1);
	assert_string_equal(text(&b), "lag p50 2 ms");
	stats_text_head(&b, ST_BACKEND);
	assert_string_equal(text(&b), "  ACTIVE     CONNS      PKTS-IN     "
	    "PKTS-OUT       BYTES-IN      BYTES-OUT");
	stats_text_row(&b, ST_BACKEND, v);
	assert_string_equal(text(&b), "       3     12345            0            "
	    "0              0              0");
	/* A milliseconds column without a phrase says its unit. */
	stats_text_row(&b, ST_VRRP, r);
	assert_true(strstr(text(&b), " 100ms ") != NULL);
	buf_free(&b);
}

static void
test_prom(void **state)
{
	struct buf b = { 0 };
	struct stat_rows rows = { 0 };
	struct stat_reason_rows rr = { .n_labels = 1,
				       .label_names = { "peer" } };
	const char *l1[2] = { "web", "a\"b\\c" }, *l2[2] = { "web", "b" };
	const char *peer[1] = { "169.254.77.2" };
	uint64_t drops[40] = { [2] = 7 };
	int64_t *v;
	char *out;

	assert_non_null(v = stats_row(&rows, ST_BACKEND, l1));
	v[SB_CONNS] = 3;
	v[SB_TAKES_NEW] = 1;
	assert_non_null(v = stats_row(&rows, ST_BACKEND, l2));
	v[SB_CONNS] = 4;
	stats_prom(&b, ST_BACKEND, &rows);
	out = text(&b);
	/* One HELP and TYPE per family, its rows together, labels escaped. */
	assert_non_null(strstr(out, "# HELP lbd_backend_conns_total "
	    "Connections made to the backend.\n# TYPE lbd_backend_conns_total "
	    "counter\nlbd_backend_conns_total{service=\"web\",backend="
	    "\"a\\\"b\\\\c\"} 3\nlbd_backend_conns_total{service=\"web\","
	    "backend=\"b\"} 4\n"));
	assert_non_null(strstr(out, "# TYPE lbd_backend_up gauge\n"));
	assert_non_null(strstr(out, "lbd_backend_up{service=\"web\",backend="
	    "\"b\"} 0\n"));
	assert_null(strstr(out, "lbd_backend_takes_new"));
	stats_rows_free(&rows);

	assert_int_equal(stats_reason_row(&rr, peer, drops), 0);
	stats_prom_reasons(&b, &stat_sync_drops, &rr);
	out = text(&b);
	assert_non_null(strstr(out, "# TYPE lbd_sync_dropped_total counter\n"));
	assert_non_null(strstr(out, "{peer=\"169.254.77.2\",reason=\""));
	assert_non_null(strstr(out, "\"} 7\n"));
	stats_reason_rows_free(&rr);

	/* Milliseconds become seconds; -1 (never) stays -1. */
	assert_non_null(v = stats_row(&rows, ST_SYNC, peer));
	v[SY_LAG_P99] = 1500;
	v[SY_LAST_HEARD] = -1;
	stats_prom(&b, ST_SYNC, &rows);
	out = text(&b);
	assert_non_null(strstr(out, "lbd_sync_lag_p99_seconds{peer="
	    "\"169.254.77.2\"} 1.500\n"));
	assert_non_null(strstr(out, "lbd_sync_last_heard_seconds{peer="
	    "\"169.254.77.2\"} -1\n"));
	stats_rows_free(&rows);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_prom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
