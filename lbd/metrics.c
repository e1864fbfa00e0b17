#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/daemon.h"
#include "lbd/metrics.h"
#include "lib/log.h"

#define MAX_CLIENTS	64
#define REQ_MAX		8192
#define CLIENT_TIMEOUT	10.0

/* ---- the metrics, defined once ------------------------------------------ */

enum {
	M_INFO, M_START, M_RELOADS, M_RELOAD_FAILURES, M_LAST_RELOAD_OK,
	M_CTL_COMMANDS, M_CTL_ERRORS, M_BACKEND_UP, M_BACKEND_WEIGHT,
	M_HEALTH_UP, M_HEALTH_CHECKS, M_HEALTH_FAILURES, M_HEALTH_LATENCY,
	M__COUNT
};

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} defs[M__COUNT] = {
	[M_INFO] = { "lbd_info", "gauge", "Version and node of this lbd; always 1." },
	[M_START] = { "lbd_start_time_seconds", "gauge",
	    "When lbd started, in seconds since the epoch." },
	[M_RELOADS] = { "lbd_reloads_total", "counter",
	    "Reloads that took effect." },
	[M_RELOAD_FAILURES] = { "lbd_reload_failures_total", "counter",
	    "Reloads refused; the previous configuration kept running." },
	[M_LAST_RELOAD_OK] = { "lbd_last_reload_success", "gauge",
	    "1 when the last reload took effect, 0 when it was refused." },
	[M_CTL_COMMANDS] = { "lbd_control_commands_total", "counter",
	    "Commands received on the control socket." },
	[M_CTL_ERRORS] = { "lbd_control_errors_total", "counter",
	    "Control commands answered with an error." },
	[M_BACKEND_UP] = { "lbd_backend_up", "gauge",
	    "1 when the backend takes new connections (admin state, health)." },
	[M_BACKEND_WEIGHT] = { "lbd_backend_weight", "gauge",
	    "The backend's effective weight." },
	[M_HEALTH_UP] = { "lbd_health_up", "gauge",
	    "1 when the backend's health check says up (checked backends only)." },
	[M_HEALTH_CHECKS] = { "lbd_health_checks_total", "counter",
	    "Health checks run." },
	[M_HEALTH_FAILURES] = { "lbd_health_failures_total", "counter",
	    "Health checks that failed." },
	[M_HEALTH_LATENCY] = { "lbd_health_latency_seconds", "gauge",
	    "How long the last health check took." },
};

static void
head(struct buf *o, int m)
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", defs[m].name, defs[m].help,
	    defs[m].name, defs[m].type);
}

/* A label value, escaped as the text format requires. */
static void
label(struct buf *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			buf_puts(o, "\\n");
		else
			buf_append(o, v, 1);
	}
}

static void
backend_labels(struct buf *o, const char *name)
{
	const char *slash = strchr(name, '/');

	buf_puts(o, "{service=\"");
	if (slash != NULL) {
		char svc[CONF_NAME_MAX + 1];
		size_t n = (size_t)(slash - name) < sizeof(svc) - 1 ?
		    (size_t)(slash - name) : sizeof(svc) - 1;
		memcpy(svc, name, n);
		svc[n] = '\0';
		label(o, svc);
		buf_puts(o, "\",backend=\"");
		label(o, slash + 1);
	} else
		label(o, name);
	buf_puts(o, "\"}");
}

void
metrics_render(struct lbd *d, struct buf *o)
{
	const struct ctl_stats *cs = ctl_stats(d->ctl);
	struct backends *bs = &d->backends;

	head(o, M_INFO);
	buf_puts(o, "lbd_info{version=\"" LBD_VERSION "\",node_id=\"");
	label(o, d->conf->global.node_id ? d->conf->global.node_id : "");
	buf_puts(o, "\"} 1\n");
	head(o, M_START);
	buf_printf(o, "lbd_start_time_seconds %lld\n", (long long)d->started.tv_sec);
	head(o, M_RELOADS);
	buf_printf(o, "lbd_reloads_total %u\n", d->reloads);
	head(o, M_RELOAD_FAILURES);
	buf_printf(o, "lbd_reload_failures_total %u\n", d->reload_failures);
	head(o, M_LAST_RELOAD_OK);
	buf_printf(o, "lbd_last_reload_success %d\n",
	    d->last_result != LBD_RELOAD_FAILED);
	head(o, M_CTL_COMMANDS);
	buf_printf(o, "lbd_control_commands_total %llu\n",
	    (unsigned long long)cs->commands);
	head(o, M_CTL_ERRORS);
	buf_printf(o, "lbd_control_errors_total %llu\n",
	    (unsigned long long)cs->errors);

	/* Per backend: one family at a time, as the format wants them. */
	for (int m = M_BACKEND_UP; m < M__COUNT; m++) {
		bool any = false;
		for (size_t i = 0; i < bs->n; i++) {
			struct be_health h;
			struct be_effective eff;

			health_mgr_lookup(d->health, bs->v[i].name, &h);
			if (m >= M_HEALTH_UP && !h.checked)
				continue;
			if (!any)
				head(o, m);
			any = true;
			be_effective(&bs->v[i], &h, &eff);
			buf_puts(o, defs[m].name);
			backend_labels(o, bs->v[i].name);
			switch (m) {
			case M_BACKEND_UP:
				buf_printf(o, " %d\n", eff.takes_new);
				break;
			case M_BACKEND_WEIGHT:
				buf_printf(o, " %u\n", eff.weight);
				break;
			case M_HEALTH_UP:
				buf_printf(o, " %d\n", h.up);
				break;
			case M_HEALTH_CHECKS:
				buf_printf(o, " %llu\n", (unsigned long long)h.checks);
				break;
			case M_HEALTH_FAILURES:
				buf_printf(o, " %llu\n", (unsigned long long)h.failures);
				break;
			case M_HEALTH_LATENCY:
				buf_printf(o, " %.6f\n", h.latency_ms / 1000.0);
				break;
			}
		}
	}
}

/* ---- the HTTP responder ---------------------------------------------- */

struct mclient {
	ev_io			 io;	/* first */
	ev_timer		 timer;
	struct metrics_server	*srv;
	char			 req[REQ_MAX];
	size_t			 req_len;
	struct buf		 out;
	bool			 answering;
};

struct metrics_server {
	struct ev_loop		*loop;
	ev_io			 lio;
	int			 fd;
	struct lbd		*d;
	unsigned		 clients;
};

static void
client_free(struct mclient *c)
{
	ev_io_stop(c->srv->loop, &c->io);
	ev_timer_stop(c->srv->loop, &c->timer);
	close(c->io.fd);
	buf_free(&c->out);
	c->srv->clients--;
	free(c);
}

static void
respond(struct mclient *c, const char *status, const char *ctype,
    const struct buf *body)
{
	buf_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, ctype,
	    body->len);
	buf_append(&c->out, body->p ? body->p : "", body->len);
	c->answering = true;
	ev_io_stop(c->srv->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, EV_WRITE);
	ev_io_start(c->srv->loop, &c->io);
}

static void
handle(struct mclient *c)
{
	struct buf body = { 0 };
	char *sp1, *sp2;

	c->req[c->req_len] = '\0';
	sp1 = strchr(c->req, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		buf_puts(&body, "bad request\n");
		respond(c, "400 Bad Request", "text/plain", &body);
	} else if ((size_t)(sp1 - c->req) != 3 || strncmp(c->req, "GET", 3) != 0) {
		buf_puts(&body, "only GET\n");
		respond(c, "405 Method Not Allowed", "text/plain", &body);
	} else if ((size_t)(sp2 - sp1 - 1) != 8 || strncmp(sp1 + 1, "/metrics", 8) != 0) {
		buf_puts(&body, "try /metrics\n");
		respond(c, "404 Not Found", "text/plain", &body);
	} else {
		metrics_render(c->srv->d, &body);
		respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		    &body);
	}
	buf_free(&body);
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mclient *c = (struct mclient *)w;
	ssize_t n;

	if (c->answering) {
		n = send(w->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_free(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
		if (c->out.len == 0) {
			shutdown(w->fd, SHUT_WR);
			client_free(c);
		}
		return;
	}
	n = recv(w->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->req_len += (size_t)n;
	if (memmem(c->req, c->req_len, "\r\n\r\n", 4) != NULL ||
	    memmem(c->req, c->req_len, "\n\n", 2) != NULL)
		handle(c);
	else if (c->req_len >= sizeof(c->req) - 1) {
		struct buf body = { 0 };
		buf_puts(&body, "request too large\n");
		respond(c, "431 Request Header Fields Too Large", "text/plain", &body);
		buf_free(&body);
	}
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_free((struct mclient *)((char *)w - offsetof(struct mclient, timer)));
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_server *s = (struct metrics_server *)((char *)w -
	    offsetof(struct metrics_server, lio));

	for (int i = 0; i < 16; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct mclient *c;

		if (fd < 0)
			return;
		if (s->clients >= MAX_CLIENTS || (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->srv = s;
		s->clients++;
		ev_io_init(&c->io, client_cb, fd, EV_READ);
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->timer, timeout_cb, CLIENT_TIMEOUT, 0);
		ev_timer_start(loop, &c->timer);
	}
}

struct metrics_server *
metrics_open(struct ev_loop *loop, const struct conf_addr *a, uint16_t port,
    struct lbd *d)
{
	struct sockaddr_storage ss;
	struct metrics_server *s;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->u.v4;
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->u.v6;
		sl = sizeof(*s6);
	}
	if ((fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		log_warn("metrics: socket");
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		log_warn("metrics: listen on port %u", port);
		close(fd);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return NULL;
	}
	s->loop = loop;
	s->fd = fd;
	s->d = d;
	ev_io_init(&s->lio, accept_cb, fd, EV_READ);
	ev_io_start(loop, &s->lio);
	return s;
}

void
metrics_close(struct metrics_server *s)
{
	if (s == NULL)
		return;
	ev_io_stop(s->loop, &s->lio);
	close(s->fd);
	free(s);
}
