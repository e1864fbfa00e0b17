/*
 * A dns check's query and the reading of its answer (health.h, hc_dns):
 * one question (QNAME, QTYPE A or AAAA, class IN, recursion desired), and
 * a reply that must carry the query's ID and question back, say NOERROR,
 * and hold an answer of that type (the expected address, when one is
 * given). Every length is checked against the datagram before it is
 * read; a compressed name may only point backwards, so no reply can make
 * the reader loop.
 */
#include <stdio.h>
#include <string.h>

#include "health/health.h"

#define DNS_HDR		12
#define DNS_CLASS_IN	1

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t
hc_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
    uint16_t qtype)
{
	size_t o = DNS_HDR;
	const char *label = name;

	if (cap < DNS_HDR + 1 + 4 || name == NULL)
		return 0;
	memset(out, 0, DNS_HDR);
	put16(out, id);
	out[2] = 0x01;			/* RD */
	put16(out + 4, 1);		/* QDCOUNT */
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);

		if (len == 0 || len > 63 || o + 1 + len + 1 + 4 > cap)
			return 0;
		out[o++] = (uint8_t)len;
		memcpy(out + o, label, len);
		o += len;
		label += len;
		if (*label == '.')
			label++;
	}
	if (o - DNS_HDR > 255)
		return 0;
	out[o++] = 0;
	put16(out + o, qtype);
	put16(out + o + 2, DNS_CLASS_IN);
	return o + 4;
}

/* Past the name at *off (labels, or a pointer that ends it); false when it
 * runs out of the datagram or is malformed. */
static bool
skip_name(const uint8_t *m, size_t len, size_t *off)
{
	size_t o = *off;

	while (o < len) {
		uint8_t l = m[o];

		if ((l & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return false;
			*off = o + 2;
			return true;
		}
		if (l & 0xc0)
			return false;	/* the reserved label kinds */
		o += 1 + (size_t)l;
		if (l == 0) {
			*off = o;
			return true;
		}
	}
	return false;
}

static enum hc_http_verdict
verdict(struct hc_dns *d, enum hc_http_verdict v, const char *why)
{
	snprintf(d->reason, sizeof(d->reason), "dns: %s", why);
	return v;
}

enum hc_http_verdict
hc_dns_reply(struct hc_dns *d, const uint8_t *m, size_t len)
{
	static const char *const rcodes[] = { "NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	size_t off = DNS_HDR, qlen;
	uint16_t an;
	bool any = false;

	/* Not an answer to our query (a stray datagram): wait for it. */
	if (len < DNS_HDR || get16(m) != d->id || !(m[2] & 0x80))
		return HC_HTTP_MORE;
	if ((m[3] & 0x0f) != 0)
		return verdict(d, HC_HTTP_FAIL, (m[3] & 0x0f) < 6 ?
		    rcodes[m[3] & 0x0f] : "an error rcode");
	if (m[2] & 0x02)
		return verdict(d, HC_HTTP_FAIL, "truncated");
	/* Our question, as sent. */
	qlen = d->query_len - DNS_HDR;
	if (get16(m + 4) != 1 || len < DNS_HDR + qlen ||
	    memcmp(m + DNS_HDR, d->query + DNS_HDR, qlen) != 0)
		return verdict(d, HC_HTTP_FAIL, "the reply's question is not ours");
	off = DNS_HDR + qlen;
	an = get16(m + 6);
	for (uint16_t i = 0; i < an; i++) {
		uint16_t type, class, rdlen;

		if (!skip_name(m, len, &off) || off + 10 > len)
			return verdict(d, HC_HTTP_FAIL, "malformed answer");
		type = get16(m + off);
		class = get16(m + off + 2);
		rdlen = get16(m + off + 8);
		off += 10;
		if (off + rdlen > len)
			return verdict(d, HC_HTTP_FAIL, "malformed answer");
		if (class == DNS_CLASS_IN && type == d->qtype) {
			any = true;
			if (d->expect_len == 0 || (rdlen == d->expect_len &&
			    memcmp(m + off, d->expect, rdlen) == 0))
				return verdict(d, HC_HTTP_OK, d->expect_len ?
				    "the expected address" : "answered");
		}
		off += rdlen;
	}
	return verdict(d, HC_HTTP_FAIL, any ?
	    "the answer is not the expected address" : "no answer of that type");
}
