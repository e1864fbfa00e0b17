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

#include "health/checker.h"

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

	bool			 last_ok;
	char			 last_reason[96];
	double			 last_latency_ms;
};

#define FROM(ptr, field)	((struct hc_checker *)((char *)(ptr) - \
				    offsetof(struct hc_checker, field)))

static void
finish(struct hc_checker *c, bool ok, const char *reason)
{
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
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

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hc_checker *c = FROM(w, io);

	if (!c->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			finish(c, false, errno_reason(err));
			return;
		}
		c->connected = true;
		if (c->p.type == HC_TYPE_TCP) {
			finish(c, true, "connected");
			return;
		}
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, EV_READ | EV_WRITE);
		ev_io_start(loop, &c->io);
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

static void
start_check(struct hc_checker *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (c->fd >= 0)
		return;		/* the previous one is still running */
	c->started = ev_now(c->loop);
	c->connected = false;
	c->req_off = 0;
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
	if ((fd = socket(c->t.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		finish(c, false, errno_reason(errno));
		return;
	}
	c->fd = fd;
	if (c->p.type == HC_TYPE_HTTP)
		hc_http_init(&c->http, &c->p.expect, NULL);
	ev_timer_set(&c->deadline, c->p.timeout_ms / 1000.0, 0);
	ev_timer_start(c->loop, &c->deadline);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		finish(c, false, errno_reason(errno));
		return;
	}
	ev_io_set(&c->io, fd, EV_WRITE);
	ev_io_start(c->loop, &c->io);
}

static void
every_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_checker *c = FROM(w, every);

	w->repeat = c->p.interval_ms / 1000.0;
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
	c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: lbd-health/" LBD_VERSION
	    "\r\nConnection: close\r\n\r\n", p->path[0] ? p->path : "/", host);
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
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
		close(c->fd);
	}
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
	i->running = c->fd >= 0;
	i->last_ok = c->last_ok;
	snprintf(i->last_reason, sizeof(i->last_reason), "%s", c->last_reason);
	i->last_latency_ms = c->last_latency_ms;
	i->checks = c->rf.checks;
	i->failures = c->rf.failures;
	i->ok_run = c->rf.ok_run;
	i->fail_run = c->rf.fail_run;
}
