/*
 * lbctl — talk to a running lbd over its control socket.
 *
 *   lbctl [-s SOCKET] [--json] COMMAND...
 *
 * Sends one command line, prints the reply body (to stdout when it ended in
 * ".ok", to stderr when it ended in ".error") and exits 0, 1 for a command
 * error, or 2 when lbd could not be reached or the reply was cut.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lbd/ctl_list.h"
#include "lib/buf.h"
#include "lib/ctlclient.h"
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

/* `watch`: each line as it comes. */
static void
print_now(void *arg, const char *line, size_t len)
{
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Each reply line into the body, to be printed once the reply is whole. */
static void
collect(void *arg, const char *line, size_t len)
{
	struct buf *body = arg;

	buf_append(body, line, len);
	buf_append(body, "\n", 1);
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
	char err[256];
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

	if (strcmp(argv[optind], "watch") == 0)
		/* A stream: no deadline, lines printed as they arrive. */
		rc = ctl_call(path, req.p, 0, print_now, NULL, &ok, err,
		    sizeof(err));
	else
		rc = ctl_call(path, req.p, timeout, collect, &body, &ok, err,
		    sizeof(err));
	if (rc == CTL_CALL_FAILED)
		fprintf(stderr, "lbctl: %s\n", err);
	if (rc == CTL_CALL_NO_LBD &&
	    strcmp(req.p, json ? "help --json\n" : "help\n") == 0) {
		fprintf(stderr, "lbctl: no lbd at %s; the commands this lbctl "
		    "knows:\n", path);
		help(stdout, json);
		rc = 0, ok = true;
	} else if (rc == CTL_CALL_NO_LBD) {
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
