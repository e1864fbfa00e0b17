/*
 * TCP and HTTP checkers on libev. See checker.h.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "health/checker.h"
#include "lib/proc.h"

struct hc_checker {
	struct ev_loop		*loop;
	struct hc_params	 p;
	struct hc_target	 t;
	struct hc_rf		 rf;
	hc_change_fn		 cb;
	void			*arg;

	ev_timer		 every;		/* the interval */
	ev_timer		 deadline;	/* the running check's timeout */
	ev_io			 io;
	int			 fd;
	bool			 connected;
	ev_tstamp		 started;
	char			 req[640];
	size_t			 req_len, req_off;
	struct hc_http		 http;
	struct hc_expect	 expect;	/* tcp banner */
	struct hc_dns		 dns;
	char			 line[257];	/* agent reply */
	size_t			 line_len;
	struct proc		*run;		/* script */
	struct hc_agent		 agent;
	SSL_CTX			*ctx;		/* tls, https */
	SSL			*ssl;
	bool			 handshaken;
	char			 host[300];	/* Host header, SNI */

	bool			 last_ok;
	char			 last_reason[96];
	double			 last_latency_ms;
};

#define FROM(ptr, field)	((struct hc_checker *)((char *)(ptr) - \
				    offsetof(struct hc_checker, field)))

static void
finish(struct hc_checker *c, bool ok, const char *reason)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
		if (c->p.type != HC_TYPE_SCRIPT && c->p.type != HC_TYPE_UDP &&
		    c->p.type != HC_TYPE_DNS) {
			/* The verdict is in: close abortively. An orderly close
			 * would leave a TIME_WAIT socket per check (60,000 at
			 * 1000 checks/s) and cost a FIN exchange each time. */
			struct linger lg = { 1, 0 };
			(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->fd);
		c->fd = -1;
	}
	ev_timer_stop(c->loop, &c->deadline);
	c->last_ok = ok;
	snprintf(c->last_reason, sizeof(c->last_reason), "%s", reason);
	c->last_latency_ms = (ev_now(c->loop) - c->started) * 1000.0;
	if (hc_rf_result(&c->rf, ok) && c->cb != NULL)
		c->cb(c->arg, c, (enum hc_state)c->rf.state, reason);
}

void
hc_checker_force_down(struct hc_checker *c, const char *reason)
{
	c->last_ok = false;
	snprintf(c->last_reason, sizeof(c->last_reason), "%s", reason);
	if (hc_rf_force_down(&c->rf) && c->cb != NULL)
		c->cb(c->arg, c, HC_DOWN, reason);
}

static const char *
errno_reason(int e)
{
	switch (e) {
	case ECONNREFUSED:	return "connect refused";
	case EHOSTUNREACH:	return "host unreachable";
	case ENETUNREACH:	return "network unreachable";
	case ECONNRESET:	return "connection reset";
	case ETIMEDOUT:		return "timeout";
	default:		return strerror(e);
	}
}

/* Keep the first line of what arrived (agent reply, script output); the
 * rest is read and dropped, so a chatty peer costs no memory. */
static void
keep_line(struct hc_checker *c, const char *d, size_t n)
{
	for (size_t i = 0; i < n && c->line_len < sizeof(c->line) - 1; i++) {
		if (d[i] == '\n') {
			c->line_len = sizeof(c->line) - 1;	/* line complete */
			break;
		}
		c->line[c->line_len++] = d[i];
	}
}

static bool
line_done(const struct hc_checker *c)
{
	return c->line_len == sizeof(c->line) - 1;
}

static void
agent_verdict(struct hc_checker *c)
{
	size_t len = strnlen(c->line, sizeof(c->line) - 1);
	struct hc_agent a;
	char why[128];

	if (hc_agent_parse(c->line, len, &a) < 0) {
		snprintf(why, sizeof(why), "agent: bad reply \"%.40s\"", c->line);
		finish(c, false, why);
		return;
	}
	if (a.state != HC_AGENT_NONE)
		c->agent.state = a.state;
	if (a.weight_pct >= 0)
		c->agent.weight_pct = a.weight_pct;
	snprintf(why, sizeof(why), "agent: %.60s", c->line);
	finish(c, a.state != HC_AGENT_DOWN && a.state != HC_AGENT_MAINT, why);
}

static void
want(struct hc_checker *c, int events)
{
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->loop, &c->io);
}

/* Why a TLS operation failed, in words an operator can act on. */
static void
tls_fail(struct hc_checker *c, const char *what)
{
	char why[160];
	long vr = SSL_get_verify_result(c->ssl);
	unsigned long e = ERR_get_error();

	if (!c->handshaken && c->p.verify && vr != X509_V_OK)
		snprintf(why, sizeof(why), "certificate: %s",
		    X509_verify_cert_error_string(vr));
	else if (e != 0)
		snprintf(why, sizeof(why), "tls %s: %s", what,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
		    "error");
	else
		snprintf(why, sizeof(why), "tls %s: connection closed", what);
	ERR_clear_error();
	finish(c, false, why);
}

/* After a TLS call returned r <= 0: wait for what it wants, or fail. */
static void
tls_wait_or_fail(struct hc_checker *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		want(c, EV_READ);
	else if (e == SSL_ERROR_WANT_WRITE)
		want(c, EV_WRITE);
	else
		tls_fail(c, what);
}

static void
tls_io(struct hc_checker *c)
{
	int r, e;

	if (c->ssl == NULL) {
		if ((c->ssl = SSL_new(c->ctx)) == NULL ||
		    SSL_set_fd(c->ssl, c->fd) != 1) {
			tls_fail(c, "setup");
			return;
		}
		SSL_set_connect_state(c->ssl);
		if (c->p.host[0] != '\0') {
			SSL_set_tlsext_host_name(c->ssl, c->p.host);
			if (c->p.verify)
				SSL_set1_host(c->ssl, c->p.host);
		} else if (c->p.verify) {
			char a[INET6_ADDRSTRLEN];
			inet_ntop(c->t.family, c->t.addr, a, sizeof(a));
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), a);
		}
	}
	if (!c->handshaken) {
		ERR_clear_error();
		if ((r = SSL_do_handshake(c->ssl)) != 1) {
			tls_wait_or_fail(c, r, "handshake");
			return;
		}
		c->handshaken = true;
		if (c->p.type == HC_TYPE_TLS) {
			char why[64];
			snprintf(why, sizeof(why), "handshake ok (%s)",
			    SSL_get_version(c->ssl));
			finish(c, true, why);
			return;
		}
	}
	while (c->req_off < c->req_len) {
		ERR_clear_error();
		r = SSL_write(c->ssl, c->req + c->req_off, (int)(c->req_len - c->req_off));
		if (r <= 0) {
			tls_wait_or_fail(c, r, "write");
			return;
		}
		c->req_off += (size_t)r;
	}
	for (;;) {
		char buf[4096];
		enum hc_http_verdict v;

		ERR_clear_error();
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r > 0) {
			if ((v = hc_http_feed(&c->http, buf, (size_t)r)) != HC_HTTP_MORE) {
				finish(c, v == HC_HTTP_OK, c->http.reason);
				return;
			}
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			want(c, EV_READ);
			return;
		}
		if (e == SSL_ERROR_WANT_WRITE) {
			want(c, EV_WRITE);
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL &&
		    ERR_peek_error() == 0)) {
			v = hc_http_eof(&c->http);
			finish(c, v == HC_HTTP_OK, c->http.reason);
			return;
		}
		tls_fail(c, "read");
		return;
	}
}

static void
udp_read(struct hc_checker *c)
{
	char buf[2048];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
	char why[128];

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* ICMP port unreachable arrives as ECONNREFUSED */
		finish(c, false, errno == ECONNREFUSED ? "port unreachable" :
		    errno_reason(errno));
		return;
	}
	if (c->p.type == HC_TYPE_DNS) {
		enum hc_http_verdict v = hc_dns_reply(&c->dns, (uint8_t *)buf,
		    (size_t)n);

		if (v != HC_HTTP_MORE)
			finish(c, v == HC_HTTP_OK, c->dns.reason);
		return;
	}
	if (c->p.receive[0] != '\0' &&
	    memmem(buf, (size_t)n, c->p.receive, strlen(c->p.receive)) == NULL) {
		snprintf(why, sizeof(why), "reply without \"%.40s\"", c->p.receive);
		finish(c, false, why);
		return;
	}
	finish(c, true, "reply");
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hc_checker *c = FROM(w, io);

	if (c->p.type == HC_TYPE_SCRIPT) {
		char buf[1024];
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n > 0)
			keep_line(c, buf, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			ev_io_stop(loop, &c->io);	/* output done; wait for exit */
			close(c->fd);
			c->fd = -1;
		}
		return;
	}
	if (c->p.type == HC_TYPE_UDP || c->p.type == HC_TYPE_DNS) {
		udp_read(c);
		return;
	}
	if (!c->connected) {
		/* Something to send (http's request, a banner check's send):
		 * it goes now, the connected socket being writable, and a
		 * failed connect shows in the send's error. That spares a
		 * getsockopt, an epoll change and a loop turn per check. */
		bool sends = c->req_len > 0 && c->p.type != HC_TYPE_AGENT &&
		    c->p.type != HC_TYPE_TLS && c->p.type != HC_TYPE_HTTPS;
		int err = 0;
		socklen_t len = sizeof(err);

		if (!sends && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) < 0)
			err = errno;
		if (err != 0) {
			finish(c, false, errno_reason(err));
			return;
		}
		c->connected = true;
		if (c->p.type == HC_TYPE_TCP && !c->p.banner) {
			finish(c, true, "connected");
			return;
		}
		if (c->p.type == HC_TYPE_TLS || c->p.type == HC_TYPE_HTTPS) {
			tls_io(c);
			return;
		}
		if (!sends) {
			/* Only a reply to wait for. */
			ev_io_stop(loop, &c->io);
			ev_io_set(&c->io, c->fd, EV_READ);
			ev_io_start(loop, &c->io);
			return;
		}
		revents = EV_WRITE;
	}
	if (c->p.type == HC_TYPE_TLS || c->p.type == HC_TYPE_HTTPS) {
		tls_io(c);
		return;
	}
	if (c->p.type == HC_TYPE_AGENT) {
		char buf[512];
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			finish(c, false, errno_reason(errno));
			return;
		}
		if (n > 0)
			keep_line(c, buf, (size_t)n);
		if (n == 0 && c->line_len == 0) {
			finish(c, false, "agent: closed without a reply");
			return;
		}
		if (n == 0 || line_done(c))
			agent_verdict(c);
		return;
	}
	if ((revents & EV_WRITE) && c->req_off < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off,
		    MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			finish(c, false, errno_reason(errno));
			return;
		}
		if (n > 0)
			c->req_off += (size_t)n;
		if (c->req_off == c->req_len) {
			ev_io_stop(loop, &c->io);
			ev_io_set(&c->io, c->fd, EV_READ);
			ev_io_start(loop, &c->io);
		}
	}
	if (revents & EV_READ) {
		char buf[4096];
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		enum hc_http_verdict v;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			finish(c, false, errno_reason(errno));
			return;
		}
		if (c->p.type == HC_TYPE_TCP) {
			v = n == 0 ? hc_expect_eof(&c->expect) :
			    hc_expect_feed(&c->expect, buf, (size_t)n);
			if (v != HC_HTTP_MORE)
				finish(c, v == HC_HTTP_OK, c->expect.reason);
			return;
		}
		v = n == 0 ? hc_http_eof(&c->http) :
		    hc_http_feed(&c->http, buf, (size_t)n);
		if (v != HC_HTTP_MORE)
			finish(c, v == HC_HTTP_OK, c->http.reason);
	}
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	finish(FROM(w, deadline), false, "timeout");
}

/* The script's verdict: lib/proc has reaped it (and killed its group at
 * the timeout), and says why in the words the log and lbctl show. */
static void
script_done(void *arg, const struct proc_result *r)
{
	struct hc_checker *c = arg;

	c->run = NULL;
	finish(c, r->ok, r->why);
}

static void
start_script(struct hc_checker *c)
{
	char addr[INET6_ADDRSTRLEN], port[8];
	char e_svc[96], e_be[96], e_addr[80], e_port[32];
	const char *env[] = { e_svc, e_be, e_addr, e_port, NULL };

	inet_ntop(c->t.family, c->t.addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", c->t.port);
	snprintf(e_svc, sizeof(e_svc), "LBD_SERVICE=%s", c->p.service);
	snprintf(e_be, sizeof(e_be), "LBD_BACKEND=%s", c->p.backend);
	snprintf(e_addr, sizeof(e_addr), "LBD_BACKEND_ADDR=%s", addr);
	snprintf(e_port, sizeof(e_port), "LBD_BACKEND_PORT=%s", port);
	if ((c->run = proc_run(c->loop, c->p.command, NULL, env,
	    c->p.timeout_ms, script_done, c)) == NULL)
		finish(c, false, errno_reason(errno));
}

static void
start_check(struct hc_checker *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (c->fd >= 0 || c->run != NULL)
		return;		/* the previous one is still running */
	c->started = ev_now(c->loop);
	c->connected = false;
	c->req_off = 0;
	c->line_len = 0;
	c->handshaken = false;
	memset(c->line, 0, sizeof(c->line));
	if (c->p.type == HC_TYPE_SCRIPT) {
		start_script(c);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (c->t.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->t.port);
		memcpy(&s4->sin_addr, c->t.addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->t.port);
		memcpy(&s6->sin6_addr, c->t.addr, 16);
		sl = sizeof(*s6);
	}
	if ((fd = socket(c->t.family, (c->p.type == HC_TYPE_UDP ||
	    c->p.type == HC_TYPE_DNS ? SOCK_DGRAM :
	    SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		finish(c, false, errno_reason(errno));
		return;
	}
	c->fd = fd;
	if (c->p.has_source) {
		struct sockaddr_storage src;

		memset(&src, 0, sizeof(src));
		if (c->t.family == AF_INET) {
			((struct sockaddr_in *)&src)->sin_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&src)->sin_addr, c->p.source, 4);
		} else {
			((struct sockaddr_in6 *)&src)->sin6_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&src)->sin6_addr, c->p.source,
			    16);
		}
		if (bind(fd, (struct sockaddr *)&src, sl) < 0) {
			char why[96];
			snprintf(why, sizeof(why), "cannot use source address: %s",
			    strerror(errno));
			finish(c, false, why);
			return;
		}
	}
	if (c->p.type == HC_TYPE_HTTP || c->p.type == HC_TYPE_HTTPS)
		hc_http_init(&c->http, &c->p.expect, c->p.body[0] ? c->p.body : NULL);
	if (c->p.banner)
		hc_expect_init(&c->expect, c->p.receive);
	ev_timer_set(&c->deadline, c->p.timeout_ms / 1000.0, 0);
	ev_timer_start(c->loop, &c->deadline);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		finish(c, false, errno_reason(errno));
		return;
	}
	if (c->p.type == HC_TYPE_UDP || c->p.type == HC_TYPE_DNS) {
		const void *q = c->p.send;
		size_t n = strlen(c->p.send);

		if (c->p.type == HC_TYPE_DNS) {
			/* A new ID each time: a late answer to the last query
			 * is not taken for this one's. */
			c->dns.id = (uint16_t)random();
			n = hc_dns_query(c->dns.query, sizeof(c->dns.query),
			    c->dns.id, c->p.query, c->p.qtype);
			c->dns.query_len = n;
			q = c->dns.query;
		}
		if (send(fd, q, n, MSG_NOSIGNAL) < 0) {
			finish(c, false, errno == ECONNREFUSED ? "port unreachable" :
			    errno_reason(errno));
			return;
		}
		ev_io_set(&c->io, fd, EV_READ);
	} else
		ev_io_set(&c->io, fd, EV_WRITE);
	ev_io_start(c->loop, &c->io);
}

static void
every_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_checker *c = FROM(w, every);
	double jitter = 0;

	/* Up to +/- jitter on every interval keeps checks of many backends
	 * from lining up again after the random first offset. */
	if (c->p.jitter_ms > 0)
		jitter = ((double)(random() % 2001) / 1000.0 - 1.0) *
		    (c->p.jitter_ms / 1000.0);
	w->repeat = c->p.interval_ms / 1000.0 + jitter;
	ev_timer_again(loop, w);
	start_check(c);
}

struct hc_checker *
hc_checker_new(struct ev_loop *loop, const struct hc_params *p,
    const struct hc_target *t, enum hc_state initial, hc_change_fn cb, void *arg)
{
	struct hc_checker *c = calloc(1, sizeof(*c));
	char host[300];

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->p = *p;
	c->t = *t;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	hc_rf_init(&c->rf, p->rise, p->fall, initial);
	snprintf(c->last_reason, sizeof(c->last_reason), "not checked yet");
	if (p->host[0] != '\0')
		snprintf(host, sizeof(host), "%s", p->host);
	else {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(t->family, t->addr, a, sizeof(a));
		snprintf(host, sizeof(host), t->family == AF_INET6 ? "[%s]" : "%s", a);
	}
	c->dns.qtype = p->qtype;
	memcpy(c->dns.expect, p->dns_expect, sizeof(c->dns.expect));
	c->dns.expect_len = p->dns_expect_len;
	if (p->banner)
		c->req_len = (size_t)snprintf(c->req, sizeof(c->req), "%s",
		    p->send);
	else if (p->type == HC_TYPE_HTTP || p->type == HC_TYPE_HTTPS)
		c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
		    "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: lbd-health/"
		    LBD_VERSION "\r\nConnection: close\r\n\r\n",
		    p->method[0] ? p->method : "GET", p->path[0] ? p->path : "/",
		    host);
	c->agent.state = HC_AGENT_NONE;
	c->agent.weight_pct = -1;
	if (p->type == HC_TYPE_TLS || p->type == HC_TYPE_HTTPS) {
		if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
			free(c);
			return NULL;
		}
		SSL_CTX_set_min_proto_version(c->ctx, p->tls_min == 13 ?
		    TLS1_3_VERSION : TLS1_2_VERSION);
		if (p->verify) {
			SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
			if ((p->ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(
			    c->ctx, p->ca_file, NULL) :
			    SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
				SSL_CTX_free(c->ctx);
				free(c);
				return NULL;
			}
		} else
			SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	}
	ev_init(&c->io, io_cb);
	ev_init(&c->deadline, deadline_cb);
	ev_init(&c->every, every_cb);
	/* The first check at a random point inside one interval: a thousand
	 * backends configured together do not fire in the same millisecond. */
	c->every.repeat = (p->interval_ms / 1000.0) * ((double)(random() % 1000) /
	    1000.0) + 0.001;
	ev_timer_again(loop, &c->every);
	return c;
}

void
hc_checker_free(struct hc_checker *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
		close(c->fd);
	}
	proc_cancel(c->run);	/* no script left behind, nor a zombie */
	ev_timer_stop(c->loop, &c->deadline);
	ev_timer_stop(c->loop, &c->every);
	free(c);
}

void
hc_checker_set_arg(struct hc_checker *c, void *arg)
{
	c->arg = arg;
}

void
hc_checker_info(const struct hc_checker *c, struct hc_info *i)
{
	i->state = (enum hc_state)c->rf.state;
	i->running = c->fd >= 0 || c->run != NULL;
	i->last_ok = c->last_ok;
	snprintf(i->last_reason, sizeof(i->last_reason), "%s", c->last_reason);
	i->last_latency_ms = c->last_latency_ms;
	i->checks = c->rf.checks;
	i->failures = c->rf.failures;
	i->ok_run = c->rf.ok_run;
	i->fail_run = c->rf.fail_run;
	i->agent_state = c->agent.state;
	i->weight_pct = c->agent.weight_pct;
}
