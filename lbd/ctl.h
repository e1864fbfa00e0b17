/*
 * ctl — the control socket: a Unix stream socket served on the main libev
 * loop. It frames lines and replies (lib/ctlproto.h) and hands each
 * command line to a dispatch function; it never blocks on a client. A client
 * that sends an overlong line gets an error and is closed; a client that sends
 * a command while more than CTL_OUTBUF_MAX bytes of replies wait unread is
 * dropped (one large reply is fine);
 * an idle client is closed after CTL_IDLE_TIMEOUT seconds.
 */
#ifndef LBD_CTL_H
#define LBD_CTL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "lib/buf.h"

#define CTL_MAX_CLIENTS		1024
#define CTL_OUTBUF_MAX		(4u << 20)
#define CTL_IDLE_TIMEOUT	60.0

/* Who sent a command: the peer's credentials when it connected
 * (SO_PEERCRED), and whether it came through a read-only socket. */
struct ctl_caller {
	pid_t		pid;
	uid_t		uid;
	gid_t		gid;
	bool		readonly;
	/* A command that turns its connection into an event stream (watch)
	 * sets *stream: its reply body goes out without a terminator, then
	 * every ctl_publish() line, until the client sends anything (the
	 * stream ends with ".ok") or closes. */
	enum ctl_stream { CTL_STREAM_NONE, CTL_STREAM_TEXT, CTL_STREAM_JSON }
			*stream;
	struct ctl_client *client;	/* for ctl_later() */
};

/*
 * Run one command: `line` is the request without its newline. The reply body
 * goes to `body`; return true for ".ok", false for ".error".
 */
typedef bool (*ctl_dispatch_fn)(void *arg, const struct ctl_caller *,
    char *line, struct buf *body);

struct ctl_stats {
	uint64_t	accepted;
	uint64_t	commands;
	uint64_t	errors;		/* replies that ended in .error */
	uint64_t	overlong;	/* lines over CTL_LINE_MAX */
	uint64_t	refused;	/* over CTL_MAX_CLIENTS */
	uint64_t	dropped_slow;	/* never read their replies */
	uint64_t	idle_closed;
	uint64_t	evicted;	/* oldest client closed to admit a new one */
	unsigned	clients;	/* connected now */
	unsigned	watching;	/* of them, streaming events */
};

struct ctl_server;

/* Listen on `path` (creating its directory, replacing a stale socket, with
 * `mode`, group "lbd" when that group exists); a `readonly` socket's
 * callers are marked so. NULL on failure, logged. */
struct ctl_server	*ctl_open(struct ev_loop *, const char *path,
			    mode_t mode, bool readonly, ctl_dispatch_fn,
			    void *arg);
void			 ctl_close(struct ctl_server *);
/*
 * A reply that ends later (lbctl ha handover waits for the peer): called
 * by a command's handler, it sends the body so far at once and keeps the
 * connection for more lines and the terminator, which ctl_later_end()
 * sends (and frees the handle). If the client goes away meanwhile, the
 * lines go nowhere. NULL without a connection (or out of memory): then
 * the handler answers at once.
 */
struct ctl_later	*ctl_later(const struct ctl_caller *);
void			 ctl_later_line(struct ctl_later *, const char *text);
void			 ctl_later_end(struct ctl_later *, bool ok);

/* One event to every streaming client, as `text` or `json` (one line each,
 * no newline). A client more than CTL_OUTBUF_MAX behind is dropped. */
void			 ctl_publish(struct ctl_server *, const char *text,
			    const char *json);
const struct ctl_stats	*ctl_stats(const struct ctl_server *);
const char		*ctl_path(const struct ctl_server *);

#endif /* LBD_CTL_H */
