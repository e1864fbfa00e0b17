#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/ctlclient.h"
#include "lib/ctlproto.h"

int
ctl_call(const char *path, const char *req, double timeout, ctl_line_fn fn,
    void *arg, bool *ok, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct buf in = { 0 };
	double deadline = (double)mono_ns() / 1e9 + timeout;
	bool done = false;
	int fd, rc = CTL_CALL_FAILED, e;
	size_t len = strlen(req);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return CTL_CALL_FAILED;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return CTL_CALL_FAILED;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return CTL_CALL_NO_LBD;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		close(fd);
		return CTL_CALL_FAILED;
	}
	while (!done) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = deadline - (double)mono_ns() / 1e9;
		char chunk[8192];
		ssize_t n;
		char *nl;

		if (timeout > 0 && (left <= 0 ||
		    poll(&pfd, 1, (int)(left * 1000) + 1) == 0)) {
			snprintf(err, errlen, "no complete reply from lbd within "
			    "%.0fs", timeout);
			goto out;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "lbd closed the connection before "
			    "the end of the reply");
			goto out;
		}
		buf_append(&in, chunk, (size_t)n);
		while (!done && (nl = memchr(in.p, '\n', in.len)) != NULL) {
			size_t l = (size_t)(nl - in.p);
			const char *line = in.p;

			if (l == strlen(CTL_END_OK) &&
			    memcmp(line, CTL_END_OK, l) == 0) {
				done = *ok = true;
			} else if (l == strlen(CTL_END_ERROR) &&
			    memcmp(line, CTL_END_ERROR, l) == 0) {
				done = true;
				*ok = false;
			} else {
				if (l > 0 && line[0] == '.')
					line++, l--;	/* dot-stuffing */
				fn(arg, line, l);
			}
			buf_consume(&in, (size_t)(nl - in.p) + 1);
		}
	}
	rc = CTL_CALL_OK;
out:
	buf_free(&in);
	close(fd);
	return rc;
}
