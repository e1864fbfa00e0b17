/*
 * checker — the I/O shell around the health core: one checker per backend,
 * running on the main libev loop, never blocking it.
 *
 * Every `interval` (the first one at a random offset inside the interval, so
 * that many backends do not all fire at once) a check runs:
 *   tcp     succeeds when the connection is accepted; with `banner`, sends
 *           `send` (if any) and succeeds when the reply contains `receive`
 *           (hc_expect; any reply when it is empty)
 *   http    when the response satisfies hc_http (status list, body string)
 *   udp     sends `send`; succeeds on a reply (containing `receive` if set),
 *           fails at once on ICMP port unreachable
 *   agent   reads one line from the agent port (hc_agent_parse): up/ready
 *           succeed, down/fail/stopped/maint fail, drain succeeds but asks
 *           that the backend take no new connections, NN% sets a weight
 *   tls     the TLS handshake completes (SNI from `host`; with `verify`, the
 *           certificate must chain to `ca_file` or the system store and name
 *           `host`, or the address)
 *   https   http over such a TLS connection
 *   dns     sends a query for `query` (type A or AAAA) over UDP; succeeds
 *           on a NOERROR answer of that type, holding `dns_expect` when
 *           set; fails on an error code or ICMP port unreachable
 *   script  runs `/bin/sh -c command` (LBD_SERVICE, LBD_BACKEND,
 *           LBD_BACKEND_ADDR, LBD_BACKEND_PORT in its environment); exit 0
 *           succeeds; at the timeout its whole process group is killed; it is
 *           always reaped; its first output line is kept as the reason
 * A check that has not decided within `timeout` fails with reason "timeout". Results go through rise/fall; a change of state
 * is reported to the owner's callback with the reason of the deciding check.
 */
#ifndef HEALTH_CHECKER_H
#define HEALTH_CHECKER_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <ev.h>

#include "health/health.h"

enum hc_type {
	HC_TYPE_TCP,
	HC_TYPE_HTTP,
	HC_TYPE_UDP,
	HC_TYPE_AGENT,
	HC_TYPE_SCRIPT,
	HC_TYPE_TLS,		/* the TLS handshake completes */
	HC_TYPE_HTTPS,		/* http over TLS */
	HC_TYPE_DNS,		/* a query answered (hc_dns) */
};

struct hc_params {
	uint8_t			type;		/* enum hc_type */
	uint32_t		interval_ms;
	uint32_t		timeout_ms;
	uint32_t		rise, fall;
	struct hc_status_list	expect;		/* http */
	char			path[256];	/* http */
	char			host[256];	/* http Host header; "" = address */
	char			method[17];	/* http; "" = GET */
	char			body[257];	/* http; "" = the status decides */
	char			send[513];	/* udp payload; tcp banner's */
	char			receive[257];	/* udp, tcp banner; "" = any reply */
	bool			banner;		/* tcp: send, then expect a reply */
	char			query[256];	/* dns: the name asked */
	uint16_t		qtype;		/* dns: HC_DNS_TYPE_A or _AAAA */
	uint8_t			dns_expect[16];	/* dns: the address wanted */
	uint8_t			dns_expect_len;	/* 4, 16, or 0: any answer */
	char			command[1024];	/* script */
	char			service[64];	/* script environment */
	char			backend[64];
	bool			verify;		/* tls/https: check the certificate */
	char			ca_file[512];	/* "" = the system's trust store */
	uint8_t			tls_min;	/* 12 or 13 */
	bool			has_source;	/* bind checks to this address */
	uint8_t			source[16];
	uint32_t		jitter_ms;	/* each interval +/- up to this */
	/* Passive health (the owner's: hc_observe): this many errors within
	 * the window take the backend down; 0: not observed. */
	uint32_t		observe_errors;
	uint32_t		observe_window_ms;
};

struct hc_target {
	int			family;		/* AF_INET or AF_INET6 */
	uint8_t			addr[16];
	uint16_t		port;		/* host order */
};

struct hc_checker;

typedef void (*hc_change_fn)(void *arg, struct hc_checker *, enum hc_state,
    const char *reason);

struct hc_info {
	enum hc_state	state;
	bool		running;	/* a check is in flight */
	bool		last_ok;
	char		last_reason[96];
	double		last_latency_ms;
	uint64_t	checks, failures;
	uint32_t	ok_run, fail_run;
	uint8_t		agent_state;	/* enum hc_agent_state, agent checks */
	int16_t		weight_pct;	/* agent checks: -1 none given */
};

/* Starts checking at once (first check within one interval). The initial
 * state is `initial`, e.g. carried over from the checker this one replaces. */
struct hc_checker *hc_checker_new(struct ev_loop *, const struct hc_params *,
		    const struct hc_target *, enum hc_state initial,
		    hc_change_fn, void *arg);
void		hc_checker_free(struct hc_checker *);
/* Where the change callback's `arg` points (the owner moved its slot). */
void		hc_checker_set_arg(struct hc_checker *, void *arg);
void		hc_checker_info(const struct hc_checker *, struct hc_info *);
/* Passive health saw it fail: down now (the change callback runs, with
 * `reason`), until `rise` good checks bring it back. */
void		hc_checker_force_down(struct hc_checker *, const char *reason);

#endif /* HEALTH_CHECKER_H */
