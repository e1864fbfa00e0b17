/*
 * HTTP/1.x responses for health checks, read incrementally.
 *
 * Strict where it matters for a verdict (status line, CRLF line ends, header
 * syntax, chunk framing) and bounded everywhere: at most HC_HTTP_HEAD_MAX
 * bytes of head are kept and at most HC_HTTP_BODY_MAX bytes of body are
 * scanned, so a huge or endless response costs a bounded amount of memory and
 * time. The verdict comes as early as it can: at the status line when no body
 * string is expected, at the first occurrence of the string otherwise.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "health/health.h"

enum {
	PH_HEAD,	/* status line, then header lines */
	PH_BODY,	/* Content-Length or until close */
	PH_CHUNK_SIZE,
	PH_CHUNK_DATA,
	PH_CHUNK_CR,
	PH_CHUNK_LF,
};

int
hc_http_init(struct hc_http *h, const struct hc_status_list *expect,
    const char *needle)
{
	size_t n = needle != NULL ? strlen(needle) : 0;

	if (n > HC_HTTP_NEEDLE_MAX)
		return -1;
	memset(h, 0, sizeof(*h));
	h->expect = *expect;
	if (n > 0)
		memcpy(h->needle, needle, n);
	h->needle_len = n;
	h->content_length = -1;
	h->verdict = HC_HTTP_MORE;
	return 0;
}

static enum hc_http_verdict
fail(struct hc_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum hc_http_verdict
fail(struct hc_http *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
	va_end(ap);
	h->verdict = HC_HTTP_FAIL;
	return HC_HTTP_FAIL;
}

static enum hc_http_verdict
ok(struct hc_http *h)
{
	snprintf(h->reason, sizeof(h->reason), "status=%u", h->status);
	h->verdict = HC_HTTP_OK;
	return HC_HTTP_OK;
}

/* "HTTP/1.1 200 OK": the version, three digits, then a space or the end. */
static int
parse_status_line(const char *s, size_t n)
{
	unsigned v = 0;

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') ||
	    s[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 100 || (n > 12 && s[12] != ' '))
		return -1;
	return (int)v;
}

/* One header line (no CRLF). */
static int
parse_header(struct hc_http *h, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t name_len, vlen;
	const char *v;

	if (colon == NULL || colon == s)
		return -1;
	name_len = (size_t)(colon - s);
	for (size_t i = 0; i < name_len; i++)	/* a token, no spaces */
		if (!isgraph((unsigned char)s[i]))
			return -1;
	v = colon + 1;
	vlen = n - name_len - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (name_len == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
		int64_t cl = 0;
		if (vlen == 0 || vlen > 18)
			return -1;
		for (size_t i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)v[i]))
				return -1;
			cl = cl * 10 + (v[i] - '0');
		}
		if (h->content_length >= 0 && h->content_length != cl)
			return -1;	/* conflicting lengths: request smuggling */
		h->content_length = cl;
	} else if (name_len == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0) {
		if (vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0)
			h->chunked = true;
	}
	return 0;
}

/* Look for the needle in body bytes, across the feeds' boundaries. */
static bool
scan(struct hc_http *h, const char *d, size_t m)
{
	size_t nl = h->needle_len, keep = nl - 1;
	char joint[2 * HC_HTTP_NEEDLE_MAX];
	size_t k = m < keep ? m : keep;

	memcpy(joint, h->tail, h->tail_len);
	memcpy(joint + h->tail_len, d, k);
	if (memmem(joint, h->tail_len + k, h->needle, nl) != NULL ||
	    memmem(d, m, h->needle, nl) != NULL)
		return true;
	/* keep the last nl-1 bytes of what was seen */
	if (m >= keep) {
		memcpy(h->tail, d + m - keep, keep);
		h->tail_len = keep;
	} else {
		size_t total = h->tail_len + m, drop = total > keep ? total - keep : 0;
		memmove(h->tail, h->tail + drop, h->tail_len - drop);
		memcpy(h->tail + h->tail_len - drop, d, m);
		h->tail_len = total - drop;
	}
	return false;
}

static enum hc_http_verdict
body_bytes(struct hc_http *h, const char *d, size_t m)
{
	if (scan(h, d, m))
		return ok(h);
	h->body_seen += m;
	if (h->body_seen > HC_HTTP_BODY_MAX)
		return fail(h, "no \"%.40s\" in the first %d bytes of the body",
		    h->needle, HC_HTTP_BODY_MAX);
	return HC_HTTP_MORE;
}

static enum hc_http_verdict
end_of_head(struct hc_http *h)
{
	if (h->chunked) {
		h->phase = PH_CHUNK_SIZE;
		return HC_HTTP_MORE;
	}
	h->phase = PH_BODY;
	if (h->content_length == 0)
		return fail(h, "status=%u, empty body", h->status);
	return HC_HTTP_MORE;
}

enum hc_http_verdict
hc_http_feed(struct hc_http *h, const char *d, size_t n)
{
	size_t i = 0;

	while (i < n && h->verdict == HC_HTTP_MORE) {
		switch (h->phase) {
		case PH_HEAD: {
			char c = d[i++];
			size_t ll;

			if (h->head_len == sizeof(h->head))
				return fail(h, "response head over %d bytes",
				    HC_HTTP_HEAD_MAX);
			h->head[h->head_len++] = c;
			if (c != '\n')
				break;
			if (h->head_len < 2 || h->head[h->head_len - 2] != '\r')
				return fail(h, "line not ended by CRLF");
			ll = h->head_len - 2 - h->line_start;
			if (h->status == 0) {
				int st = parse_status_line(h->head, ll);
				if (st < 0)
					return fail(h, "bad status line");
				h->status = (unsigned)st;
				if (!hc_status_match(&h->expect, h->status))
					return fail(h, "status=%u", h->status);
				if (h->needle_len == 0)
					return ok(h);
			} else if (ll == 0) {
				if (end_of_head(h) != HC_HTTP_MORE)
					return h->verdict;
			} else if (parse_header(h, h->head + h->line_start, ll) < 0)
				return fail(h, "bad header line");
			h->line_start = h->head_len;
			break;
		}
		case PH_BODY: {
			size_t m = n - i;
			if (h->content_length >= 0 &&
			    (uint64_t)m > (uint64_t)h->content_length - h->body_seen)
				m = (size_t)((uint64_t)h->content_length - h->body_seen);
			if (body_bytes(h, d + i, m) != HC_HTTP_MORE)
				return h->verdict;
			i += m;
			if (h->content_length >= 0 &&
			    h->body_seen == (uint64_t)h->content_length)
				return fail(h, "status=%u, body without \"%.40s\"",
				    h->status, h->needle);
			break;
		}
		case PH_CHUNK_SIZE: {
			char c = d[i++];
			if (c != '\n') {
				if (h->cline_len == sizeof(h->cline))
					return fail(h, "bad chunk size line");
				h->cline[h->cline_len++] = c;
				break;
			}
			if (h->cline_len == 0 || h->cline[h->cline_len - 1] != '\r')
				return fail(h, "bad chunk size line");
			uint64_t size = 0;
			size_t k, digits = 0;
			for (k = 0; k + 1 < h->cline_len && isxdigit((unsigned char)
			    h->cline[k]); k++, digits++) {
				if (digits == 15)
					return fail(h, "bad chunk size line");
				char x = h->cline[k];
				size = size * 16 + (uint64_t)(isdigit((unsigned char)x) ?
				    x - '0' : (tolower((unsigned char)x) - 'a' + 10));
			}
			if (digits == 0 || (k + 1 < h->cline_len && h->cline[k] != ';'))
				return fail(h, "bad chunk size line");
			h->cline_len = 0;
			if (size == 0)
				return fail(h, "status=%u, body without \"%.40s\"",
				    h->status, h->needle);
			h->chunk_left = size;
			h->phase = PH_CHUNK_DATA;
			break;
		}
		case PH_CHUNK_DATA: {
			size_t m = n - i;
			if ((uint64_t)m > h->chunk_left)
				m = (size_t)h->chunk_left;
			if (body_bytes(h, d + i, m) != HC_HTTP_MORE)
				return h->verdict;
			i += m;
			h->chunk_left -= m;
			if (h->chunk_left == 0)
				h->phase = PH_CHUNK_CR;
			break;
		}
		case PH_CHUNK_CR:
		case PH_CHUNK_LF:
			if (d[i++] != (h->phase == PH_CHUNK_CR ? '\r' : '\n'))
				return fail(h, "bad chunk framing");
			h->phase = h->phase == PH_CHUNK_CR ? PH_CHUNK_LF :
			    PH_CHUNK_SIZE;
			break;
		}
	}
	return (enum hc_http_verdict)h->verdict;
}

enum hc_http_verdict
hc_http_eof(struct hc_http *h)
{
	if (h->verdict != HC_HTTP_MORE)
		return (enum hc_http_verdict)h->verdict;
	if (h->status == 0)
		return fail(h, h->head_len == 0 ? "closed without a response" :
		    "closed inside the status line");
	if (h->phase == PH_HEAD)
		return fail(h, "closed inside the headers");
	if (h->phase == PH_BODY && h->content_length < 0)
		return fail(h, "status=%u, body without \"%.40s\"", h->status,
		    h->needle);
	return fail(h, "closed inside the body (truncated)");
}
