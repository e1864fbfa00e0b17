/*
 * The reply a tcp check with `expect` waits for (health.h, hc_expect): the
 * needle is looked for in the bytes as they arrive, keeping the last
 * needle_len - 1 of each read so that a match split across reads is
 * found, and no more than HC_EXPECT_SCAN_MAX bytes are looked at. The
 * reason of a failure quotes what the backend did say, printable.
 */
#include <stdio.h>
#include <string.h>

#include "health/health.h"

int
hc_expect_init(struct hc_expect *x, const char *needle)
{
	size_t n = needle != NULL ? strlen(needle) : 0;

	memset(x, 0, sizeof(*x));
	if (n > HC_HTTP_NEEDLE_MAX)
		return -1;
	memcpy(x->needle, needle != NULL ? needle : "", n + 1);
	x->needle_len = n;
	x->verdict = HC_HTTP_MORE;
	return 0;
}

static enum hc_http_verdict
fail(struct hc_expect *x, const char *why)
{
	char shown[sizeof(x->first) * 4];
	size_t o = 0;

	for (size_t i = 0; i < x->first_len && o + 5 < sizeof(shown); i++) {
		unsigned char ch = (unsigned char)x->first[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			shown[o++] = (char)ch;
		else
			o += (size_t)snprintf(shown + o, sizeof(shown) - o,
			    ch == '\r' ? "\\r" : ch == '\n' ? "\\n" : "\\x%02x",
			    ch);
	}
	shown[o] = '\0';
	if (x->first_len == 0)
		snprintf(x->reason, sizeof(x->reason), "%s", why);
	else
		snprintf(x->reason, sizeof(x->reason), "%.36s, got \"%.48s\"",
		    why, shown);
	x->verdict = HC_HTTP_FAIL;
	return HC_HTTP_FAIL;
}

enum hc_http_verdict
hc_expect_feed(struct hc_expect *x, const char *buf, size_t n)
{
	char win[HC_HTTP_NEEDLE_MAX * 2];

	if (x->verdict != HC_HTTP_MORE || n == 0)
		return (enum hc_http_verdict)x->verdict;
	for (size_t i = 0; i < n && x->first_len < sizeof(x->first) - 1; i++)
		x->first[x->first_len++] = buf[i];
	if (x->needle_len == 0) {
		snprintf(x->reason, sizeof(x->reason), "replied");
		x->verdict = HC_HTTP_OK;
		return HC_HTTP_OK;
	}
	if (x->seen + n > HC_EXPECT_SCAN_MAX)
		n = HC_EXPECT_SCAN_MAX - x->seen;
	x->seen += n;
	/* Each piece with what is kept of the one before. */
	while (n > 0) {
		size_t take = sizeof(win) - x->tail_len, keep;

		if (take > n)
			take = n;
		memcpy(win, x->tail, x->tail_len);
		memcpy(win + x->tail_len, buf, take);
		if (memmem(win, x->tail_len + take, x->needle,
		    x->needle_len) != NULL) {
			snprintf(x->reason, sizeof(x->reason), "expect matched");
			x->verdict = HC_HTTP_OK;
			return HC_HTTP_OK;
		}
		keep = x->needle_len - 1;
		if (keep > x->tail_len + take)
			keep = x->tail_len + take;
		memmove(x->tail, win + x->tail_len + take - keep, keep);
		x->tail_len = keep;
		buf += take;
		n -= take;
	}
	if (x->seen >= HC_EXPECT_SCAN_MAX)
		return fail(x, "not in the first 16384 bytes");
	return HC_HTTP_MORE;
}

enum hc_http_verdict
hc_expect_eof(struct hc_expect *x)
{
	if (x->verdict != HC_HTTP_MORE)
		return (enum hc_http_verdict)x->verdict;
	return fail(x, x->first_len == 0 ? "closed without a reply" :
	    "closed before the expected reply");
}
