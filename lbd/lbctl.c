/*
 * lbctl — talk to a running lbd over its control socket.
 *
 *   lbctl [-s SOCKET] [--json] COMMAND...
 *
 * Sends one command line, prints the reply body (to stdout when it ended in
 * ".ok", to stderr when it ended in ".error") and exits 0, 1 for a command
 * error, or 2 when lbd could not be reached or the reply was cut.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lbd/ctl_list.h"
#include "lib/buf.h"
#include "lib/ctlproto.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: lbctl [-s SOCKET] [--json] [-T SECONDS] COMMAND...\n"
	    "\n"
	    "  -s, --socket PATH   control socket (default $LBD_SOCKET or "
	    CONF_DEFAULT_SOCKET ")\n"
	    "  -j, --json          ask for JSON instead of a table\n"
	    "  -T, --timeout SEC   give up after SEC seconds (default 10)\n"
	    "  -V, --version       print the version\n"
	    "\n"
	    "commands:\n");
}

/* `--help`, and `lbctl help` when no lbd answers: the list this lbctl
 * knows. (A running lbd answers `help` itself, with only what the socket
 * allows.) */
static void
help(FILE *fp, bool json)
{
	struct buf out = { 0 };

	if (!json)
		usage(fp);
	ctl_cmd_help(&out, json, false);
	fwrite(out.p, 1, out.len, fp);
	buf_free(&out);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Send one request and collect the reply body. Returns 0 when a complete
 * reply arrived (*ok tells .ok from .error), -2 when no lbd listens (errno
 * says why; not reported), -1 otherwise (reported). */
static int
talk(const char *path, const struct buf *req, double timeout, struct buf *body,
    bool *ok)
{
	struct sockaddr_un sun;
	struct buf in = { 0 };
	double deadline;
	bool done = false;
	int fd, rc = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "lbctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -2;	/* the caller says so, or answers help itself */
	}
	if (send(fd, req->p, req->len, MSG_NOSIGNAL) != (ssize_t)req->len) {
		fprintf(stderr, "lbctl: send: %s\n", strerror(errno));
		close(fd);
		return -1;
	}

	deadline = now_s() + timeout;
	while (!done) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = deadline - now_s();
		char chunk[8192];
		ssize_t n;
		char *nl;

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0) {
			fprintf(stderr, "lbctl: no complete reply from lbd within "
			    "%.0fs\n", timeout);
			goto out;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "lbctl: lbd closed the connection before "
			    "the end of the reply\n");
			goto out;
		}
		buf_append(&in, chunk, (size_t)n);
		while (!done && (nl = memchr(in.p, '\n', in.len)) != NULL) {
			size_t len = (size_t)(nl - in.p);
			const char *line = in.p;

			if (len == strlen(CTL_END_OK) &&
			    memcmp(line, CTL_END_OK, len) == 0) {
				done = *ok = true;
			} else if (len == strlen(CTL_END_ERROR) &&
			    memcmp(line, CTL_END_ERROR, len) == 0) {
				done = true;
				*ok = false;
			} else {
				if (len > 0 && line[0] == '.')
					line++, len--;	/* dot-stuffing */
				buf_append(body, line, len);
				buf_append(body, "\n", 1);
			}
			buf_consume(&in, (size_t)(nl - in.p) + 1);
		}
	}
	rc = 0;
out:
	buf_free(&in);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("LBD_SOCKET");
	struct buf req = { 0 }, body = { 0 };
	double timeout = 10;
	bool json = false, ok = false;
	int ch, rc;

	if (path == NULL || path[0] == '\0')
		path = CONF_DEFAULT_SOCKET;
	while ((ch = getopt_long(argc, argv, "+s:jT:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'T':
			timeout = atof(optarg);
			if (timeout <= 0) {
				fprintf(stderr, "lbctl: bad timeout \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'V':
			printf("lbctl %s\n", LBD_VERSION);
			return 0;
		case 'h':
			help(stdout, false);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		help(stderr, false);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if (req.len > 0)
			buf_puts(&req, " ");
		buf_puts(&req, argv[i]);
	}
	if (json)
		buf_puts(&req, " --json");
	if (req.len >= CTL_LINE_MAX) {
		fprintf(stderr, "lbctl: command longer than %d bytes\n",
		    CTL_LINE_MAX);
		buf_free(&req);
		return 2;
	}
	buf_puts(&req, "\n");

	rc = talk(path, &req, timeout, &body, &ok);
	if (rc == -2 && strcmp(req.p, json ? "help --json\n" : "help\n") == 0) {
		fprintf(stderr, "lbctl: no lbd at %s; the commands this lbctl "
		    "knows:\n", path);
		help(stdout, json);
		rc = 0, ok = true;
	} else if (rc == -2) {
		fprintf(stderr, "lbctl: cannot reach lbd at %s: %s\n", path,
		    strerror(errno));
	}
	if (rc == 0 && body.len > 0)
		fwrite(body.p, 1, body.len, ok ? stdout : stderr);
	buf_free(&req);
	buf_free(&body);
	if (rc != 0)
		return 2;
	return ok ? 0 : 1;
}
