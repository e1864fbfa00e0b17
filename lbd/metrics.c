#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/daemon.h"
#include "lbd/metrics.h"
#include "lbd/stats.h"
#include "lbd/status.h"
#include "lib/log.h"

#define MAX_CLIENTS	64
#define REQ_MAX		8192
#define CLIENT_TIMEOUT	10.0

/* ---- the metrics: every family of lbd/stats.h ----------------------- */

/* "svc/backend" split into its two labels. */
struct be_labels {
	char		svc[CONF_NAME_MAX + 1];
	char		be[CONF_NAME_MAX + 1];
	const char	*l[2];
};

static void
split_name(struct be_labels *bl, const char *name)
{
	const char *slash = strchr(name, '/');
	size_t n = slash != NULL ? (size_t)(slash - name) : strlen(name);

	snprintf(bl->svc, sizeof(bl->svc), "%.*s", (int)n, name);
	snprintf(bl->be, sizeof(bl->be), "%s", slash != NULL ? slash + 1 : "");
	bl->l[0] = bl->svc;
	bl->l[1] = bl->be;
}

static void
render_one(struct buf *o, int scope, const int64_t *v)
{
	struct stat_rows r = { 0 };
	int64_t *row = stats_row(&r, scope, NULL);

	if (row != NULL) {
		memcpy(row, v, stat_scopes[scope].n * sizeof(*v));
		stats_prom(o, scope, &r);
	}
	stats_rows_free(&r);
}

/* Backends (admin, health, the data plane's counters) and services. */
static void
render_services(struct lbd *d, struct buf *o, const struct dp_snapshot *ss,
    bool have)
{
	struct backends *bs = &d->backends;
	const struct conf *cf = d->conf;
	struct be_labels *bl = calloc(bs->n ? bs->n : 1, sizeof(*bl));
	struct stat_rows br = { 0 }, hr = { 0 }, sr = { 0 };
	struct stat_reason_rows dr = { .n_labels = 1,
				       .label_names = { "service" } };
	size_t svc = 0, bi = 0;

	if (bl == NULL)
		return;
	for (size_t i = 0; i < bs->n; i++, bi++) {
		struct be_health h;
		int64_t *v;

		while (svc < cf->n_services && bi >= cf->services[svc].n_backends) {
			svc++;
			bi = 0;
		}
		split_name(&bl[i], bs->v[i].name);
		health_mgr_lookup(d->health, bs->v[i].name, &h);
		if ((v = stats_row(&br, ST_BACKEND, bl[i].l)) != NULL)
			be_stats(&bs->v[i], &h, have ?
			    dataplane_backend_snap(ss, svc, bi) : NULL, v);
		if (h.checked && (v = stats_row(&hr, ST_HEALTH, bl[i].l)) != NULL)
			be_health_stats(&h, v);
	}
	for (uint32_t i = 0; have && i < ss->n_svc && i < cf->n_services; i++) {
		const char *l[1] = { cf->services[i].name };
		int64_t *v = stats_row(&sr, ST_SERVICE, l);

		if (v != NULL)
			dataplane_service_stats(&ss->svc[i], v);
		(void)stats_reason_row(&dr, l, ss->svc[i].drops);
	}
	stats_prom(o, ST_BACKEND, &br);
	stats_prom(o, ST_HEALTH, &hr);
	stats_prom(o, ST_SERVICE, &sr);
	stats_prom_reasons(o, &stat_service_drops, &dr);
	stats_rows_free(&br);
	stats_rows_free(&hr);
	stats_rows_free(&sr);
	stats_reason_rows_free(&dr);
	free(bl);
}

/* The data plane's own counters, its workers, interfaces, SNAT use. */
static void
render_dp(struct buf *o, const struct dp_snapshot *ss)
{
	struct stat_rows wr = { 0 }, ir = { 0 }, nr = { 0 };
	struct stat_reason_rows dr = { 0 }, cr = { 0 };
	char names[64][12];
	uint64_t states[CT_STATE__COUNT];
	int64_t *v;

	render_one(o, ST_DP, ss->v);
	if (ss->kernel)
		render_one(o, ST_FASTPATH, ss->fp);
	(void)stats_reason_row(&dr, NULL, ss->st.drops);
	stats_prom_reasons(o, &stat_dp_drops, &dr);
	for (int i = 0; i < CT_STATE__COUNT; i++)
		states[i] = ss->ct.by_state[i];
	(void)stats_reason_row(&cr, NULL, states);
	stats_prom_reasons(o, &stat_conn_states, &cr);
	for (uint32_t i = 0; i < ss->n_workers && i < 64; i++) {
		const char *l[1] = { names[i] };

		snprintf(names[i], sizeof(names[i]), "%u", i);
		if ((v = stats_row(&wr, ST_WORKER, l)) != NULL)
			memcpy(v, ss->worker[i], sizeof(ss->worker[i]));
	}
	for (uint32_t i = 0; i < ss->n_if; i++) {
		const char *l[1] = { ss->ifs[i].name };

		if ((v = stats_row(&ir, ST_IFACE, l)) != NULL)
			memcpy(v, ss->ifs[i].v, sizeof(ss->ifs[i].v));
	}
	for (uint32_t i = 0; i < ss->n_snat; i++) {
		const char *l[1] = { ss->snat[i].addr };

		if ((v = stats_row(&nr, ST_SNAT, l)) != NULL)
			memcpy(v, ss->snat[i].v, sizeof(ss->snat[i].v));
	}
	stats_prom(o, ST_WORKER, &wr);
	stats_prom(o, ST_IFACE, &ir);
	stats_prom(o, ST_SNAT, &nr);
	stats_rows_free(&wr);
	stats_rows_free(&ir);
	stats_rows_free(&nr);
	stats_reason_rows_free(&dr);
	stats_reason_rows_free(&cr);
}

void
metrics_render(struct lbd *d, struct buf *o)
{
	int64_t dv[SD__COUNT], cv[SC__COUNT];
	struct dp_snapshot ss;
	bool have = dataplane_snapshot(d->dp, &ss) == 0;

	buf_puts(o, "# HELP lbd_info Version and node of this lbd; always 1.\n"
	    "# TYPE lbd_info gauge\n"
	    "lbd_info{version=\"" LBD_VERSION "\",node_id=\"");
	stats_prom_label(o, d->conf->global.node_id ? d->conf->global.node_id : "");
	buf_puts(o, "\"} 1\n");
	lbd_daemon_stats(d, dv);
	render_one(o, ST_DAEMON, dv);
	lbd_control_stats(d, cv);
	render_one(o, ST_CONTROL, cv);
	render_services(d, o, &ss, have);
	if (have) {
		render_dp(o, &ss);
		dataplane_snapshot_free(&ss);
	}
	vrrp_mgr_metrics(d->vrrp, o);
	sync_mgr_metrics(d->sync, o);
}

/* ---- the HTTP responder ---------------------------------------------- */

struct mclient {
	ev_io			 io;	/* first */
	ev_timer		 timer;
	struct metrics_server	*srv;
	struct mclient		*prev, *next;	/* oldest first */
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
	struct mclient		*oldest, *newest;
};

static void
client_free(struct mclient *c)
{
	struct metrics_server *s = c->srv;

	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->timer);
	close(c->io.fd);
	buf_free(&c->out);
	*(c->prev ? &c->prev->next : &s->oldest) = c->next;
	*(c->next ? &c->next->prev : &s->newest) = c->prev;
	s->clients--;
	free(c);
}

/* All places taken: the oldest client still silent about its request goes,
 * so that idle connections never lock a scraper out. */
static bool
evict_idle(struct metrics_server *s)
{
	for (struct mclient *c = s->oldest; c != NULL; c = c->next)
		if (!c->answering) {
			client_free(c);
			return true;
		}
	return false;
}

static void
respond_bytes(struct mclient *c, const char *status, const char *ctype,
    const char *body, size_t len)
{
	/* Nothing here is for another origin, a frame or a cache: the page
	 * runs only its own inline script and fetches only this server. */
	buf_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
	    "Content-Security-Policy: default-src 'none'; connect-src 'self'; "
	    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
	    "img-src data:\r\nConnection: close\r\n\r\n", status, ctype,
	    len);
	buf_append(&c->out, body != NULL ? body : "", len);
	c->answering = true;
	ev_io_stop(c->srv->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, EV_WRITE);
	ev_io_start(c->srv->loop, &c->io);
}

static void
respond(struct mclient *c, const char *status, const char *ctype,
    const struct buf *body)
{
	respond_bytes(c, status, ctype, body->p, body->len);
}

/* Is the request's path `want` (a query string ignored)? */
static bool
is_path(const char *path, size_t len, const char *want)
{
	const char *q = memchr(path, '?', len);

	if (q != NULL)
		len = (size_t)(q - path);
	return len == strlen(want) && memcmp(path, want, len) == 0;
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
	} else if (is_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/metrics")) {
		metrics_render(c->srv->d, &body);
		respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		    &body);
	} else if (is_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/status.json")) {
		status_json(c->srv->d, &body);
		respond(c, "200 OK", "application/json", &body);
	} else if (is_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/") ||
	    is_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/index.html")) {
		size_t len;
		const char *html = status_html(&len);

		respond_bytes(c, "200 OK", "text/html; charset=utf-8", html, len);
	} else {
		buf_puts(&body, "try / (the status page), /status.json or "
		    "/metrics\n");
		respond(c, "404 Not Found", "text/plain", &body);
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
		if ((s->clients >= MAX_CLIENTS && !evict_idle(s)) ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->srv = s;
		c->prev = s->newest;
		*(s->newest ? &s->newest->next : &s->oldest) = c;
		s->newest = c;
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
	while (s->oldest != NULL)
		client_free(s->oldest);
	free(s);
}
