/*
 * health — backend health checking.
 *
 * This header is the pure core: no sockets, no clock, no libev. The checkers
 * that talk to backends (TCP, HTTP, HTTPS, TLS, UDP, script, agent) feed
 * bytes and results in here and act on the verdicts that come out.
 *
 *   hc_rf_*      rise/fall: a backend goes down after `fall` consecutive
 *                failures and up after `rise` consecutive successes
 *   hc_status_*  "200", "200-299,301": does a status code match?
 *   hc_http_*    an HTTP/1.x response read incrementally, strictly and with
 *                bounds: decided as soon as possible (at the status line when
 *                no body string is wanted), never buffering more than
 *                HC_HTTP_HEAD_MAX of head or scanning more than
 *                HC_HTTP_BODY_MAX of body
 *   hc_agent_*   one line from an agent check, as operators know it from
 *                HAProxy: "up", "down", "drain", "maint", "ready", "75%", ...
 *   hc_dns_*     a dns check's query, and whether a reply answers it (with
 *                the expected address, when one is given)
 *   hc_expect_*  a string the reply of a banner protocol (SMTP, Redis,
 *                MySQL's greeting) must contain, looked for across reads
 *                in at most HC_EXPECT_SCAN_MAX bytes
 */
#ifndef HEALTH_HEALTH_H
#define HEALTH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- rise / fall ------------------------------------------------------ */

enum hc_state {
	HC_UP,
	HC_DOWN,
};

struct hc_rf {
	uint8_t		state;		/* enum hc_state */
	uint32_t	rise, fall;
	uint32_t	ok_run;		/* consecutive successes */
	uint32_t	fail_run;	/* consecutive failures */
	uint64_t	checks, failures;
};

/* Start in `initial` (lbd starts backends up, as HAProxy does, so traffic
 * flows while the first checks run). */
void	hc_rf_init(struct hc_rf *, uint32_t rise, uint32_t fall,
	    enum hc_state initial);
/* Record one check result; true when the state changed. */
bool	hc_rf_result(struct hc_rf *, bool ok);
/* Down now, whatever the last checks said (passive health saw the backend
 * fail): `rise` good checks bring it back. True when it was up. */
bool	hc_rf_force_down(struct hc_rf *);
const char *hc_state_name(enum hc_state);

/* ---- passive health ----------------------------------------------------- */

/*
 * Errors the data plane saw (a backend's RST to a new connection, a SYN
 * sent again unanswered): `limit` of them within `window_ms` trip it.
 * The last HC_OBSERVE_MAX error times are kept; tripping starts over.
 */
#define HC_OBSERVE_MAX	16

struct hc_observe {
	uint64_t	at[HC_OBSERVE_MAX];	/* ms, a ring */
	uint32_t	n, head;
	uint64_t	errors;			/* all seen */
};

/* One error at `now_ms`; true when it makes `limit` within `window_ms`. */
bool	hc_observe_error(struct hc_observe *, uint64_t now_ms, uint32_t limit,
	    uint32_t window_ms);

/* ---- status lists ----------------------------------------------------- */

#define HC_STATUS_RANGES_MAX	16

struct hc_status_list {
	uint16_t	lo[HC_STATUS_RANGES_MAX], hi[HC_STATUS_RANGES_MAX];
	uint8_t		n;
};

/* "200", "200-299", "200-299,301"; -1 when malformed. */
int	hc_status_parse(struct hc_status_list *, const char *);
bool	hc_status_match(const struct hc_status_list *, unsigned status);

/* ---- HTTP responses ---------------------------------------------------- */

#define HC_HTTP_HEAD_MAX	8192	/* status line + headers */
#define HC_HTTP_BODY_MAX	65536	/* scanned for the expected string */
#define HC_HTTP_NEEDLE_MAX	256

enum hc_http_verdict {
	HC_HTTP_MORE,		/* feed more bytes */
	HC_HTTP_OK,		/* status matched (and the body, if asked) */
	HC_HTTP_FAIL,		/* see `reason` */
};

struct hc_http {
	/* what is expected */
	struct hc_status_list	 expect;
	char			 needle[HC_HTTP_NEEDLE_MAX + 1];
	size_t			 needle_len;	/* 0: the status decides */

	/* progress */
	uint8_t			 phase;
	char			 head[HC_HTTP_HEAD_MAX];
	size_t			 head_len;
	size_t			 line_start;	/* of the header line being read */
	uint64_t		 chunk_left;
	char			 cline[40];	/* chunk-size line */
	size_t			 cline_len;
	unsigned		 status;
	bool			 chunked;
	int64_t			 content_length;	/* -1: until close */
	uint64_t		 body_seen;
	char			 tail[HC_HTTP_NEEDLE_MAX];	/* body overlap for matching */
	size_t			 tail_len;
	uint8_t			 verdict;
	char			 reason[96];	/* "status=503", "bad status line" ... */
};

/* `needle` may be NULL. Returns -1 when it is longer than HC_HTTP_NEEDLE_MAX. */
int	hc_http_init(struct hc_http *, const struct hc_status_list *expect,
	    const char *needle);
/* Feed bytes as they arrive; the verdict, once not MORE, does not change. */
enum hc_http_verdict hc_http_feed(struct hc_http *, const char *, size_t);
/* The peer closed the connection. */
enum hc_http_verdict hc_http_eof(struct hc_http *);

/* ---- agent checks ------------------------------------------------------ */

enum hc_agent_state {
	HC_AGENT_NONE,		/* the line only set a weight */
	HC_AGENT_UP,		/* "up", "ready" */
	HC_AGENT_DOWN,		/* "down", "fail", "stopped" */
	HC_AGENT_DRAIN,		/* "drain": no new connections */
	HC_AGENT_MAINT,		/* "maint": out of service */
};

struct hc_agent {
	uint8_t		state;		/* enum hc_agent_state */
	int16_t		weight_pct;	/* -1: not given; else 0..100 */
};

/*
 * One response line (without its newline): words separated by spaces, tabs
 * or commas, any of the states above and at most one "NN%"; "#" starts a
 * comment. Returns -1 (and leaves *out alone) on anything else.
 */
int	hc_agent_parse(const char *line, size_t len, struct hc_agent *out);

/* ---- dns checks ---------------------------------------------------------- */

#define HC_DNS_TYPE_A		1
#define HC_DNS_TYPE_AAAA	28

struct hc_dns {
	uint16_t	id, qtype;
	uint8_t		query[300];
	size_t		query_len;
	uint8_t		expect[16];	/* the address an answer must have */
	size_t		expect_len;	/* 4, 16, or 0: any answer */
	char		reason[96];
};

/* The query for `name` (dotted, at most 253 bytes); 0 when it does not
 * fit or a label is empty or longer than 63. */
size_t	hc_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
	    uint16_t qtype);
/* MORE: not an answer to this query (another ID, not a response): keep
 * waiting; OK or FAIL with `reason`. d->query/query_len, id, qtype and
 * expect set by the caller (hc_dns_query into d->query). */
enum hc_http_verdict hc_dns_reply(struct hc_dns *, const uint8_t *, size_t);

/* ---- banner replies (tcp checks with send/expect) ------------------- */

#define HC_EXPECT_SCAN_MAX	16384

struct hc_expect {
	char		needle[HC_HTTP_NEEDLE_MAX + 1];
	size_t		needle_len;	/* 0: any byte will do */
	char		tail[HC_HTTP_NEEDLE_MAX];	/* overlap between reads */
	size_t		tail_len;
	size_t		seen;
	char		first[33];	/* what came first, for the reason */
	size_t		first_len;
	uint8_t		verdict;	/* enum hc_http_verdict */
	char		reason[96];
};

/* -1 when `needle` is longer than HC_HTTP_NEEDLE_MAX. */
int	hc_expect_init(struct hc_expect *, const char *needle);
enum hc_http_verdict hc_expect_feed(struct hc_expect *, const char *, size_t);
enum hc_http_verdict hc_expect_eof(struct hc_expect *);

#endif /* HEALTH_HEALTH_H */
