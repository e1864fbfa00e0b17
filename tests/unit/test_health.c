/*
 * Unit tests of the health-check core: rise/fall, status lists, the HTTP
 * response parser (well-formed, malformed, truncated, oversized and slow,
 * i.e. fed in every split) and agent replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health/health.h"

/* ---- rise / fall ------------------------------------------------------ */

static void
test_rise_fall(void **state)
{
	struct hc_rf rf;

	hc_rf_init(&rf, 2, 3, HC_UP);
	assert_false(hc_rf_result(&rf, false));
	assert_false(hc_rf_result(&rf, false));
	assert_false(hc_rf_result(&rf, true));		/* the run restarts */
	assert_false(hc_rf_result(&rf, false));
	assert_false(hc_rf_result(&rf, false));
	assert_true(hc_rf_result(&rf, false));		/* 3 in a row: down */
	assert_int_equal(rf.state, HC_DOWN);
	assert_false(hc_rf_result(&rf, false));		/* stays down */
	assert_false(hc_rf_result(&rf, true));
	assert_false(hc_rf_result(&rf, false));
	assert_false(hc_rf_result(&rf, true));
	assert_true(hc_rf_result(&rf, true));		/* 2 in a row: up */
	assert_int_equal(rf.state, HC_UP);
	assert_int_equal(rf.checks, 11);
	assert_int_equal(rf.failures, 7);

	hc_rf_init(&rf, 1, 1, HC_DOWN);
	assert_true(hc_rf_result(&rf, true));
	assert_true(hc_rf_result(&rf, false));
	assert_string_equal(hc_state_name(rf.state), "down");
}

static void
test_status_lists(void **state)
{
	struct hc_status_list l;

	assert_int_equal(hc_status_parse(&l, "200"), 0);
	assert_true(hc_status_match(&l, 200));
	assert_false(hc_status_match(&l, 201));
	assert_int_equal(hc_status_parse(&l, "200-299,301,302-303"), 0);
	assert_true(hc_status_match(&l, 250));
	assert_true(hc_status_match(&l, 301));
	assert_true(hc_status_match(&l, 303));
	assert_false(hc_status_match(&l, 300));
	assert_false(hc_status_match(&l, 304));
	static const char *const bad[] = { "", "20", "2000", "099", "600",
	    "300-200", "200,", "200-", "abc", "200 ", "200;301" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hc_status_parse(&l, bad[i]), -1);
}

/* ---- HTTP --------------------------------------------------------------- */

struct http_case {
	const char	*expect, *needle;
	const char	*resp;		/* NULL-terminated pieces joined */
	bool		 eof;		/* the server closes after sending */
	int		 verdict;
	const char	*reason;
};

static const struct http_case http_cases[] = {
	/* decided at the status line when no body string is wanted */
	{ "200", NULL, "HTTP/1.1 200 OK\r\n", false, HC_HTTP_OK, "status=200" },
	{ "200-399", NULL, "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", false,
	  HC_HTTP_OK, "status=302" },
	{ "200", NULL, "HTTP/1.1 503 Service Unavailable\r\n", false,
	  HC_HTTP_FAIL, "status=503" },
	{ "200", NULL, "HTTP/1.1 200\r\n", false, HC_HTTP_OK, "status=200" },
	/* body strings: Content-Length, chunked, until close */
	{ "200", "healthy", "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nI am healthy!\n",
	  false, HC_HTTP_OK, "status=200" },
	{ "200", "healthy", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nI am unwell\n",
	  false, HC_HTTP_FAIL, "status=200, body without \"healthy\"" },
	{ "200", "healthy", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "4\r\nheal\r\n3;ext=1\r\nthy\r\n0\r\n\r\n", false, HC_HTTP_OK, "status=200" },
	{ "200", "al\r\n3", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "4\r\nheal\r\n3\r\nthy\r\n0\r\n\r\n", false, HC_HTTP_FAIL,
	  "status=200, body without \"al\r\n3\"" },	/* framing is not body */
	{ "200", "ok", "HTTP/1.0 200 OK\r\n\r\nall ok", true, HC_HTTP_OK, "status=200" },
	{ "200", "ok", "HTTP/1.0 200 OK\r\n\r\nnothing", true, HC_HTTP_FAIL,
	  "status=200, body without \"ok\"" },
	{ "200", "ok", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false,
	  HC_HTTP_FAIL, "status=200, empty body" },
	/* malformed */
	{ "200", NULL, "HTTP/2 200 OK\r\n", false, HC_HTTP_FAIL, "bad status line" },
	{ "200", NULL, "HTTP/1.1 20 OK\r\n", false, HC_HTTP_FAIL, "bad status line" },
	{ "200", NULL, "HTTP/1.1 2000 OK\r\n", false, HC_HTTP_FAIL, "bad status line" },
	{ "200", NULL, "SSH-2.0-OpenSSH_9.2\r\n", false, HC_HTTP_FAIL,
	  "bad status line" },
	{ "200", NULL, "HTTP/1.1 200 OK\n", false, HC_HTTP_FAIL,
	  "line not ended by CRLF" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false,
	  HC_HTTP_FAIL, "bad header line" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	  false, HC_HTTP_FAIL, "bad header line" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", false,
	  HC_HTTP_FAIL, "bad header line" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	  false, HC_HTTP_FAIL, "bad chunk size line" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX",
	  false, HC_HTTP_FAIL, "bad chunk framing" },
	/* truncated */
	{ "200", NULL, "", true, HC_HTTP_FAIL, "closed without a response" },
	{ "200", NULL, "HTTP/1.1 2", true, HC_HTTP_FAIL,
	  "closed inside the status line" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nServer: y\r\n", true, HC_HTTP_FAIL,
	  "closed inside the headers" },
	{ "200", "x", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true,
	  HC_HTTP_FAIL, "closed inside the body (truncated)" },
};

static void
feed_split(struct hc_http *h, const char *s, size_t n, unsigned seed)
{
	size_t i = 0;

	srand(seed);
	while (i < n && h->verdict == HC_HTTP_MORE) {
		size_t k = seed == 0 ? n - i : seed == 1 ? 1 :
		    1 + (size_t)rand() % 7;
		if (k > n - i)
			k = n - i;
		hc_http_feed(h, s + i, k);
		i += k;
	}
}

static void
test_http_responses(void **state)
{
	int bad = 0;

	for (size_t c = 0; c < sizeof(http_cases) / sizeof(http_cases[0]); c++) {
		const struct http_case *t = &http_cases[c];
		/* whole, a byte at a time (a slow server), random splits */
		for (unsigned split = 0; split < 12; split++) {
			struct hc_status_list l;
			struct hc_http h;

			assert_int_equal(hc_status_parse(&l, t->expect), 0);
			assert_int_equal(hc_http_init(&h, &l, t->needle), 0);
			feed_split(&h, t->resp, strlen(t->resp), split);
			if (t->eof)
				hc_http_eof(&h);
			if (h.verdict != t->verdict || strcmp(h.reason, t->reason) != 0) {
				print_error("case %zu split %u: got %d \"%s\", want %d "
				    "\"%s\"\n", c, split, h.verdict, h.reason,
				    t->verdict, t->reason);
				bad++;
				break;
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_http_bounds(void **state)
{
	struct hc_status_list l;
	struct hc_http h;
	char *big = malloc(1 << 20);

	assert_int_equal(hc_status_parse(&l, "200"), 0);
	/* A head that never ends: refused at the bound, not buffered. */
	assert_int_equal(hc_http_init(&h, &l, "x"), 0);
	hc_http_feed(&h, "HTTP/1.1 200 OK\r\nX-Pad: ", 25);
	memset(big, 'a', 1 << 20);
	assert_int_equal(hc_http_feed(&h, big, 1 << 20), HC_HTTP_FAIL);
	assert_string_equal(h.reason, "response head over 8192 bytes");
	/* An endless body without the string: given up after the bound. */
	assert_int_equal(hc_http_init(&h, &l, "healthy"), 0);
	hc_http_feed(&h, "HTTP/1.1 200 OK\r\n\r\n", 19);
	size_t fed = 0;
	while (hc_http_feed(&h, big, 4096) == HC_HTTP_MORE)
		fed += 4096;
	assert_true(fed <= HC_HTTP_BODY_MAX);
	assert_string_equal(h.reason,
	    "no \"healthy\" in the first 65536 bytes of the body");
	/* A needle longer than the bound is refused up front. */
	memset(big, 'n', 300);
	big[300] = '\0';
	assert_int_equal(hc_http_init(&h, &l, big), -1);
	/* Bytes after a verdict change nothing. */
	assert_int_equal(hc_http_init(&h, &l, NULL), 0);
	assert_int_equal(hc_http_feed(&h, "HTTP/1.1 200 OK\r\ngarbage", 24),
	    HC_HTTP_OK);
	assert_int_equal(hc_http_feed(&h, "\n\n\n", 3), HC_HTTP_OK);
	assert_int_equal(hc_http_eof(&h), HC_HTTP_OK);
	free(big);
}

/* ---- agent ------------------------------------------------------------ */

static void
test_agent_lines(void **state)
{
	static const struct {
		const char	*line;
		int		 rc;
		int		 state;
		int		 pct;
	} cases[] = {
		{ "up", 0, HC_AGENT_UP, -1 },
		{ "ready\r\n", 0, HC_AGENT_UP, -1 },
		{ "down", 0, HC_AGENT_DOWN, -1 },
		{ "fail", 0, HC_AGENT_DOWN, -1 },
		{ "stopped", 0, HC_AGENT_DOWN, -1 },
		{ "DRAIN", 0, HC_AGENT_DRAIN, -1 },
		{ "maint", 0, HC_AGENT_MAINT, -1 },
		{ "75%", 0, HC_AGENT_NONE, 75 },
		{ "up 50%", 0, HC_AGENT_UP, 50 },
		{ "0%,drain", 0, HC_AGENT_DRAIN, 0 },
		{ "  up\t100%  # load is fine", 0, HC_AGENT_UP, 100 },
		{ "", -1, 0, 0 },
		{ "   ", -1, 0, 0 },
		{ "# only a comment", -1, 0, 0 },
		{ "busy", -1, 0, 0 },
		{ "150%", -1, 0, 0 },
		{ "50% 60%", -1, 0, 0 },
		{ "5x%", -1, 0, 0 },
		{ "%", -1, 0, 0 },
		{ "upupupupupupupupup", -1, 0, 0 },
		{ "up\0down", 0, HC_AGENT_UP, -1 },	/* stops at len */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hc_agent a = { 99, 99 };
		int rc = hc_agent_parse(cases[i].line, strlen(cases[i].line), &a);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d", cases[i].line, rc);
		if (rc == 0) {
			assert_int_equal(a.state, cases[i].state);
			assert_int_equal(a.weight_pct, cases[i].pct);
		} else {
			assert_int_equal(a.state, 99);	/* untouched */
		}
	}
}

/* A banner check's expect: found across reads, bounded, a reason that
 * says what came instead. */
static void
test_expect(void **state)
{
	struct hc_expect x;
	static char big[HC_EXPECT_SCAN_MAX + 10];

	(void)state;
	assert_int_equal(hc_expect_init(&x, "+PONG"), 0);
	assert_int_equal(hc_expect_feed(&x, "+PO", 3), HC_HTTP_MORE);
	assert_int_equal(hc_expect_feed(&x, "NG\r\n", 4), HC_HTTP_OK);
	assert_string_equal(x.reason, "expect matched");

	hc_expect_init(&x, "220 ");
	assert_int_equal(hc_expect_feed(&x, "421 busy\r\n", 10), HC_HTTP_MORE);
	assert_int_equal(hc_expect_eof(&x), HC_HTTP_FAIL);
	assert_string_equal(x.reason, "closed before the expected reply, got "
	    "\"421 busy\\r\\n\"");
	hc_expect_init(&x, "x");
	assert_int_equal(hc_expect_eof(&x), HC_HTTP_FAIL);
	assert_string_equal(x.reason, "closed without a reply");

	/* Any reply will do without a needle. */
	hc_expect_init(&x, NULL);
	assert_int_equal(hc_expect_feed(&x, "\x0a\x00", 2), HC_HTTP_OK);

	/* Not past the bound, whatever the reads' sizes. */
	memset(big, 'a', sizeof(big));
	hc_expect_init(&x, "needle");
	assert_int_equal(hc_expect_feed(&x, big, HC_EXPECT_SCAN_MAX - 3),
	    HC_HTTP_MORE);
	assert_int_equal(hc_expect_feed(&x, "needle", 6), HC_HTTP_FAIL);
	/* ... but right up to it. */
	hc_expect_init(&x, "needle");
	assert_int_equal(hc_expect_feed(&x, big, HC_EXPECT_SCAN_MAX - 6),
	    HC_HTTP_MORE);
	assert_int_equal(hc_expect_feed(&x, "needle", 6), HC_HTTP_OK);
	char longer[HC_HTTP_NEEDLE_MAX + 2];
	memset(longer, 'n', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(hc_expect_init(&x, longer), -1);
}

/* Passive health's window: `limit` errors within it trip, then it starts
 * over; errors spread wider do not. */
static void
test_observe_window(void **state)
{
	struct hc_observe o = { 0 };
	struct hc_rf rf;

	(void)state;
	assert_false(hc_observe_error(&o, 1000, 3, 10000));
	assert_false(hc_observe_error(&o, 5000, 3, 10000));
	assert_true(hc_observe_error(&o, 10999, 3, 10000));
	assert_false(hc_observe_error(&o, 11000, 3, 10000));	/* over again */
	assert_false(hc_observe_error(&o, 30000, 3, 10000));
	assert_false(hc_observe_error(&o, 45000, 3, 10000));
	assert_false(hc_observe_error(&o, 46000, 3, 10000));	/* 16 s apart */
	assert_true(hc_observe_error(&o, 47000, 3, 10000));
	assert_int_equal(o.errors, 8);

	/* Forced down, `rise` good checks bring it back. */
	hc_rf_init(&rf, 2, 3, HC_UP);
	assert_true(hc_rf_force_down(&rf));
	assert_false(hc_rf_force_down(&rf));
	assert_false(hc_rf_result(&rf, true));
	assert_true(hc_rf_result(&rf, true));
	assert_int_equal(rf.state, HC_UP);
}

/* A reply to `d`'s query: the question back, then one answer whose
 * name is a pointer to it. */
static size_t
dns_reply(const struct hc_dns *d, uint8_t *m, uint8_t rcode, uint16_t type,
    const uint8_t *rdata, uint16_t rdlen)
{
	size_t n = d->query_len;

	memcpy(m, d->query, n);
	m[2] |= 0x80;			/* a response */
	m[3] = rcode;
	m[7] = 1;			/* ANCOUNT */
	m[n++] = 0xc0;			/* the name: the question's */
	m[n++] = 12;
	m[n++] = (uint8_t)(type >> 8);
	m[n++] = (uint8_t)type;
	m[n++] = 0;
	m[n++] = 1;			/* IN */
	memset(m + n, 0, 4);		/* TTL */
	n += 4;
	m[n++] = (uint8_t)(rdlen >> 8);
	m[n++] = (uint8_t)rdlen;
	memcpy(m + n, rdata, rdlen);
	return n + rdlen;
}

static void
test_dns(void **state)
{
	struct hc_dns d;
	uint8_t m[512], a[4] = { 192, 0, 2, 53 }, b[4] = { 192, 0, 2, 54 };
	size_t n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.id = 0x1234;
	d.qtype = HC_DNS_TYPE_A;
	d.query_len = hc_dns_query(d.query, sizeof(d.query), d.id,
	    "www.example.com", HC_DNS_TYPE_A);
	assert_int_equal(d.query_len, 12 + 17 + 4);
	assert_memory_equal(d.query + 12, "\3www\7example\3com\0", 17);
	memcpy(d.expect, a, 4);
	d.expect_len = 4;

	n = dns_reply(&d, m, 0, HC_DNS_TYPE_A, a, 4);
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_OK);
	assert_string_equal(d.reason, "dns: the expected address");
	n = dns_reply(&d, m, 0, HC_DNS_TYPE_A, b, 4);
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_FAIL);
	assert_string_equal(d.reason, "dns: the answer is not the expected "
	    "address");
	n = dns_reply(&d, m, 3, HC_DNS_TYPE_A, a, 4);
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_FAIL);
	assert_string_equal(d.reason, "dns: NXDOMAIN");
	/* Another query's answer, or not an answer: still waiting. */
	n = dns_reply(&d, m, 0, HC_DNS_TYPE_A, a, 4);
	m[1] ^= 1;
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_MORE);
	m[1] ^= 1;
	m[2] &= 0x7f;
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_MORE);
	/* Cut anywhere: never read past the end, never OK. */
	n = dns_reply(&d, m, 0, HC_DNS_TYPE_A, a, 4);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(hc_dns_reply(&d, m, k), HC_HTTP_OK);
	/* Any answer of the type will do without an expected address. */
	d.expect_len = 0;
	n = dns_reply(&d, m, 0, HC_DNS_TYPE_A, b, 4);
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_OK);
	n = dns_reply(&d, m, 0, 5 /* CNAME */, b, 4);
	assert_int_equal(hc_dns_reply(&d, m, n), HC_HTTP_FAIL);
	assert_string_equal(d.reason, "dns: no answer of that type");
	/* Names that cannot be asked. */
	assert_int_equal(hc_dns_query(m, sizeof(m), 1, "a..b", 1), 0);
	assert_int_equal(hc_dns_query(m, 20, 1, "www.example.com", 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rise_fall),
		cmocka_unit_test(test_status_lists),
		cmocka_unit_test(test_http_responses),
		cmocka_unit_test(test_http_bounds),
		cmocka_unit_test(test_agent_lines),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_observe_window),
		cmocka_unit_test(test_dns),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
