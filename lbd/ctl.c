/*
 * Control socket server. See ctl.h for the contract and
 * lib/ctlproto.h for the wire format.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/ctl.h"
#include "lib/ctlproto.h"
#include "lib/log.h"

struct ctl_client {
	ev_io			 rio;	/* first: the watcher owns the client */
	ev_io			 wio;
	ev_timer		 idle;
	struct ctl_server	*srv;
	struct ctl_client	*next, *prev;
	struct ctl_caller	 who;
	char			 in[CTL_LINE_MAX + 1];
	size_t			 inlen;
	struct buf		 out;
	bool			 closing;	/* flush `out`, then close */
	bool			 peer_done;	/* the peer closed its side */
	bool			 draining;	/* reply sent; discarding input */
	enum ctl_stream		 stream;	/* events follow (watch) */
	struct ctl_later	*later;		/* a reply that ends later */
};

struct ctl_later {
	struct ctl_client	*c;		/* NULL once it went away */
};

struct ctl_server {
	struct ev_loop		*loop;
	ev_io			 lio;
	ev_timer		 pause;		/* accept paused: out of descriptors */
	int			 fd;
	int			 spare;		/* reserve descriptor, see accept_cb */
	char			*path;
	bool			 readonly;
	ctl_dispatch_fn		 dispatch;
	void			*arg;
	struct ctl_client	*clients;
	struct ctl_stats	 stats;
};

static void	client_read_cb(struct ev_loop *, ev_io *, int);
static void	client_write_cb(struct ev_loop *, ev_io *, int);
static void	client_idle_cb(struct ev_loop *, ev_timer *, int);

static void
client_free(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;

	ev_io_stop(s->loop, &c->rio);
	ev_io_stop(s->loop, &c->wio);
	ev_timer_stop(s->loop, &c->idle);
	if (c->later != NULL)
		c->later->c = NULL;
	close(c->rio.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	buf_free(&c->out);
	s->stats.clients--;
	if (c->stream != CTL_STREAM_NONE)
		s->stats.watching--;
	free(c);
}

/* Try to send what is queued. Returns false when the client was freed. */
static bool
client_flush(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;

	while (c->out.len > 0) {
		ssize_t n = send(c->rio.fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_free(c);
			return false;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len > 0) {
		ev_io_start(s->loop, &c->wio);
		return true;
	}
	ev_io_stop(s->loop, &c->wio);
	if (c->closing) {
		if (c->peer_done) {
			client_free(c);
			return false;
		}
		/* Closing with unread input would reset the connection and
		 * could destroy the reply before the peer reads it: send FIN,
		 * then discard what still arrives until the peer closes. */
		shutdown(c->rio.fd, SHUT_WR);
		c->draining = true;
		c->idle.repeat = 2.0;
		ev_timer_again(s->loop, &c->idle);
		ev_io_start(s->loop, &c->rio);
	}
	return true;
}

static void
run_line(struct ctl_client *c, char *line)
{
	struct ctl_server *s = c->srv;
	struct buf body = { 0 };
	bool ok;

	s->stats.commands++;
	c->who.stream = &c->stream;
	c->who.client = c;
	ok = s->dispatch(s->arg, &c->who, line, &body);
	c->who.stream = NULL;
	c->who.client = NULL;
	if (body.oom) {
		buf_reset(&body);
		buf_puts(&body, "error: out of memory\n");
		ok = false;
		c->stream = CTL_STREAM_NONE;
	}
	if (!ok)
		s->stats.errors++;
	if (c->later != NULL) {
		/* The rest comes with ctl_later_end(); no other command
		 * is read meanwhile. */
		ctl_stuff_lines(&c->out, body.p != NULL ? body.p : "", body.len);
		ev_io_stop(s->loop, &c->rio);
		ev_timer_stop(s->loop, &c->idle);
	} else if (ok && c->stream != CTL_STREAM_NONE) {
		/* A stream: the body now, events as they come, no idling
		 * out. The terminator waits for the stream's end. */
		ctl_stuff_lines(&c->out, body.p != NULL ? body.p : "", body.len);
		s->stats.watching++;
		ev_timer_stop(s->loop, &c->idle);
	} else
		ctl_frame_reply(&c->out, body.p != NULL ? body.p : "", body.len,
		    ok);
	buf_free(&body);
}

struct ctl_later *
ctl_later(const struct ctl_caller *who)
{
	struct ctl_client *c = who->client;

	if (c == NULL || c->later != NULL ||
	    (c->later = calloc(1, sizeof(*c->later))) == NULL)
		return NULL;
	c->later->c = c;
	return c->later;
}

void
ctl_later_line(struct ctl_later *l, const char *text)
{
	if (l == NULL || l->c == NULL)
		return;
	ctl_stuff_lines(&l->c->out, text, strlen(text));
	client_flush(l->c);
}

void
ctl_later_end(struct ctl_later *l, bool ok)
{
	struct ctl_client *c;

	if (l == NULL)
		return;
	if ((c = l->c) != NULL) {
		struct ctl_server *s = c->srv;

		c->later = NULL;
		if (!ok)
			s->stats.errors++;
		buf_puts(&c->out, ok ? CTL_END_OK "\n" : CTL_END_ERROR "\n");
		ev_timer_again(s->loop, &c->idle);
		/* Lines that came meanwhile wait in c->in: read on. */
		ev_io_start(s->loop, &c->rio);
		client_flush(c);
	}
	free(l);
}

/* The client spoke while streaming: the stream ends with its terminator,
 * and the line is a command like any other. */
static void
stream_end(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;

	c->stream = CTL_STREAM_NONE;
	s->stats.watching--;
	buf_puts(&c->out, CTL_END_OK "\n");
	ev_timer_again(s->loop, &c->idle);
}

void
ctl_publish(struct ctl_server *s, const char *text, const char *json)
{
	struct ctl_client *c, *next;

	if (s == NULL || s->stats.watching == 0)
		return;
	for (c = s->clients; c != NULL; c = next) {
		const char *line = c->stream == CTL_STREAM_JSON ? json : text;

		next = c->next;
		if (c->stream == CTL_STREAM_NONE)
			continue;
		if (c->out.len > CTL_OUTBUF_MAX) {
			/* Watching but not reading: it cannot hold lbd's
			 * memory hostage. */
			s->stats.dropped_slow++;
			log_warnx("ctl: watcher dropped reason=not_reading "
			    "queued=%zu", c->out.len);
			client_free(c);
			continue;
		}
		ctl_stuff_lines(&c->out, line, strlen(line));
		client_flush(c);
	}
}

static void
client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = (struct ctl_client *)w;
	struct ctl_server *s = c->srv;
	ssize_t n;

	if (c->draining) {
		char sink[4096];
		n = recv(w->fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			client_free(c);
		return;
	}
	n = recv(w->fd, c->in + c->inlen, CTL_LINE_MAX + 1 - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The peer is done sending: answer what it asked, then close. */
		c->closing = true;
		c->peer_done = true;
		ev_io_stop(loop, &c->rio);
		client_flush(c);
		return;
	}
	ev_timer_again(loop, &c->idle);
	c->inlen += (size_t)n;

	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);
		size_t used;

		if (nl == NULL) {
			if (c->inlen > CTL_LINE_MAX) {
				struct buf msg = { 0 };
				s->stats.overlong++;
				buf_printf(&msg, "error: line longer than %d bytes\n",
				    CTL_LINE_MAX);
				ctl_frame_reply(&c->out, msg.p, msg.len, false);
				buf_free(&msg);
				s->stats.errors++;
				c->closing = true;
				c->inlen = 0;
				ev_io_stop(loop, &c->rio);
			}
			break;
		}
		if (c->out.len > CTL_OUTBUF_MAX) {
			/* Another command while megabytes of replies wait:
			 * it sends but does not read. One big reply is fine. */
			s->stats.dropped_slow++;
			log_warnx("ctl: client dropped reason=not_reading queued=%zu",
			    c->out.len);
			client_free(c);
			return;
		}
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		if (c->stream != CTL_STREAM_NONE)
			stream_end(c);
		run_line(c, c->in);
		used = (size_t)(nl - c->in) + 1;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
	client_flush(c);
}

static void
client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = (struct ctl_client *)((char *)w -
	    offsetof(struct ctl_client, wio));

	client_flush(c);
}

static void
client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_client *c = (struct ctl_client *)((char *)w -
	    offsetof(struct ctl_client, idle));

	c->srv->stats.idle_closed++;
	client_free(c);
}

/* The oldest client (the list's tail) makes room for a new one: a flood of
 * idle connections must not lock the operator out. */
static bool
evict_oldest(struct ctl_server *s)
{
	struct ctl_client *c = s->clients;

	if (c == NULL)
		return false;
	while (c->next != NULL)
		c = c->next;
	s->stats.evicted++;
	client_free(c);
	return true;
}

static void
pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_server *s = (struct ctl_server *)((char *)w -
	    offsetof(struct ctl_server, pause));

	ev_io_start(loop, &s->lio);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_server *s = (struct ctl_server *)((char *)w -
	    offsetof(struct ctl_server, lio));

	/* Bounded, so a connect storm cannot starve the rest of the loop. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			/* Out of descriptors. Left alone, the pending
			 * connection keeps the socket readable and the loop
			 * spins: free the reserve and the oldest client, try
			 * again, and if that fails pause accepting briefly. */
			if (s->spare >= 0) {
				close(s->spare);
				s->spare = -1;
			}
			if (evict_oldest(s))
				fd = accept4(s->fd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
			s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				log_warnx("ctl: out of file descriptors; accepting "
				    "paused for 100ms");
				ev_io_stop(loop, &s->lio);
				ev_timer_set(&s->pause, 0.1, 0);
				ev_timer_start(loop, &s->pause);
				return;
			}
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("ctl: accept");
			return;
		}
		if (s->stats.clients >= CTL_MAX_CLIENTS)
			evict_oldest(s);
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			static const char msg[] = "error: out of memory\n"
			    CTL_END_ERROR "\n";
			s->stats.refused++;
			(void)send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->srv = s;
		c->who.readonly = s->readonly;
		{
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			/* Unknown credentials are nobody's. */
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0) {
				c->who.pid = cr.pid;
				c->who.uid = cr.uid;
				c->who.gid = cr.gid;
			} else {
				c->who.pid = -1;
				c->who.uid = c->who.gid = (uid_t)-1;
			}
		}
		ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
		ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
		ev_init(&c->idle, client_idle_cb);
		c->idle.repeat = CTL_IDLE_TIMEOUT;
		ev_timer_again(loop, &c->idle);
		ev_io_start(loop, &c->rio);
		c->next = s->clients;
		if (s->clients != NULL)
			s->clients->prev = c;
		s->clients = c;
		s->stats.clients++;
		s->stats.accepted++;
	}
}

static int
make_parent_dir(const char *path)
{
	char *dup = strdup(path), *slash;
	int rc = 0;

	if (dup == NULL)
		return -1;
	if ((slash = strrchr(dup, '/')) != NULL && slash != dup) {
		*slash = '\0';
		if (mkdir(dup, 0755) < 0 && errno != EEXIST) {
			log_warn("ctl: mkdir %s", dup);
			rc = -1;
		}
	}
	free(dup);
	return rc;
}

struct ctl_server *
ctl_open(struct ev_loop *loop, const char *path, mode_t mode, bool readonly,
    ctl_dispatch_fn dispatch, void *arg)
{
	struct sockaddr_un sun, tmp;
	struct ctl_server *s;
	struct group *gr;
	mode_t old_umask;
	int fd;

	memset(&sun, 0, sizeof(sun));
	memset(&tmp, 0, sizeof(tmp));
	sun.sun_family = tmp.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("ctl: socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if (make_parent_dir(path) < 0)
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		log_warn("ctl: socket");
		return NULL;
	}
	/* A socket file that answers belongs to a running lbd: never steal it.
	 * One that refuses is left over from a crash: replace it. */
	{
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			close(fd);
			log_warnx("ctl: %s is in use (is another lbd running?)",
			    path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
	}
	/*
	 * The socket file appears only once it listens: bind a temporary
	 * name, set its mode, listen, then rename it into place. A client
	 * that sees the file can always connect (no ECONNREFUSED window
	 * between bind and listen).
	 */
	if (snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%ld.tmp", path,
	    (long)getpid()) >= (int)sizeof(tmp.sun_path)) {
		log_warnx("ctl: socket path too long: %s", path);
		close(fd);
		return NULL;
	}
	unlink(tmp.sun_path);
	old_umask = umask(0117);
	if (bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0) {
		umask(old_umask);
		log_warn("ctl: bind %s", tmp.sun_path);
		close(fd);
		return NULL;
	}
	umask(old_umask);
	if (chmod(tmp.sun_path, mode) < 0)
		log_warn("ctl: chmod %s", tmp.sun_path);
	if ((gr = getgrnam("lbd")) != NULL &&
	    chown(tmp.sun_path, (uid_t)-1, gr->gr_gid) < 0)
		log_warn("ctl: chown %s group lbd", tmp.sun_path);
	if (listen(fd, SOMAXCONN) < 0 || rename(tmp.sun_path, path) < 0) {
		log_warn("ctl: listen on %s", path);
		close(fd);
		unlink(tmp.sun_path);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		close(fd);
		unlink(path);
		return NULL;
	}
	s->loop = loop;
	s->fd = fd;
	s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->readonly = readonly;
	s->dispatch = dispatch;
	s->arg = arg;
	ev_init(&s->pause, pause_cb);
	ev_io_init(&s->lio, accept_cb, fd, EV_READ);
	ev_io_start(loop, &s->lio);
	return s;
}

void
ctl_close(struct ctl_server *s)
{
	if (s == NULL)
		return;
	while (s->clients != NULL)
		client_free(s->clients);
	ev_io_stop(s->loop, &s->lio);
	ev_timer_stop(s->loop, &s->pause);
	if (s->spare >= 0)
		close(s->spare);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}

const struct ctl_stats *
ctl_stats(const struct ctl_server *s)
{
	return &s->stats;
}

const char *
ctl_path(const struct ctl_server *s)
{
	return s->path;
}
