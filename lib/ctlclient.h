/*
 * The client side of the control protocol (lib/ctlproto.h): send one
 * command line, read the reply to its terminator. Used by lbctl, and by
 * `lbd -t --diff`, which asks the running lbd for a dry run.
 */
#ifndef LIB_CTLCLIENT_H
#define LIB_CTLCLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* One body line of the reply, dot-stuffing undone, without its newline. */
typedef void (*ctl_line_fn)(void *arg, const char *line, size_t len);

enum {
	CTL_CALL_OK = 0,	/* a whole reply came; *ok tells .ok from .error */
	CTL_CALL_FAILED = -1,	/* sent or read badly; err says why */
	CTL_CALL_NO_LBD = -2,	/* nothing listens at the path; errno says why */
};

/*
 * Send `req` (one line, with its newline) to the socket at `path` and hand
 * each body line to `fn` as it arrives. `timeout` seconds for the whole
 * reply; 0 waits as long as lbd keeps the connection (a stream: `watch`).
 */
int	ctl_call(const char *path, const char *req, double timeout,
	    ctl_line_fn fn, void *arg, bool *ok, char *err, size_t errlen);

#endif /* LIB_CTLCLIENT_H */
