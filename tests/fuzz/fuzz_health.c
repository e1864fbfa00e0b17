/*
 * Fuzz target: health-check replies. The input is fed to the HTTP response
 * parser in pieces whose sizes come from the input itself, then to a banner
 * check's expect in the same pieces, whole to the dns reply reader, then
 * each of its lines to the agent-reply parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_status_list l;
	struct hc_http h;
	struct hc_agent a;
	struct hc_expect x;
	struct hc_dns d;
	size_t step, i = 0;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 64;
	data++;
	size--;
	if (hc_status_parse(&l, "200-299,301") != 0 ||
	    hc_http_init(&h, &l, size % 2 ? "ok" : NULL) != 0)
		abort();
	while (i < size) {
		size_t k = size - i < step ? size - i : step;
		enum hc_http_verdict v = hc_http_feed(&h, (const char *)data + i, k);
		i += k;
		if (v != HC_HTTP_MORE)
			break;
	}
	if (hc_http_eof(&h) == HC_HTTP_MORE)
		abort();	/* a closed connection always decides */
	if (hc_expect_init(&x, size % 3 ? "+PONG\r\n" : NULL) != 0)
		abort();
	for (i = 0; i < size; i += step)
		if (hc_expect_feed(&x, (const char *)data + i, size - i < step ?
		    size - i : step) != HC_HTTP_MORE)
			break;
	if (hc_expect_eof(&x) == HC_HTTP_MORE)
		abort();
	/* The input as a dns check's reply (its ID, its question). */
	memset(&d, 0, sizeof(d));
	d.qtype = HC_DNS_TYPE_A;
	d.id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	d.query_len = hc_dns_query(d.query, sizeof(d.query), d.id, "a.example",
	    HC_DNS_TYPE_A);
	d.expect_len = size % 2 ? 4 : 0;
	(void)hc_dns_reply(&d, data, size);
	for (i = 0; i < size; ) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - data - i) : size - i;
		(void)hc_agent_parse((const char *)data + i, len, &a);
		i += len + 1;
	}
	return 0;
}
