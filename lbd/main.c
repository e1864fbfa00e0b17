/*
 * lbd — the load-balancer daemon.
 *
 *   lbd -f FILE          run in the foreground (systemd Type=notify)
 *   lbd -t -f FILE       check FILE and exit 0 (OK) or 1 (errors)
 *   lbd -t --diff -f FILE  and ask the running lbd what a reload of FILE
 *                        would change (its dry run; nothing applied)
 *   lbd --withdraw -f FILE  remove a cluster node's announced routes (the
 *                        unit's ExecStopPost: after a crash too)
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lbd/announce.h"
#include "lbd/daemon.h"
#include "lbd/stats.h"
#include "lib/buf.h"
#include "lib/ctlclient.h"
#include "lib/log.h"

#define DEFAULT_CONF	"/etc/lbd/lbd.conf"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: lbd [-t] [-f FILE] [--pidfile FILE] [--foreground-log | --syslog] [-d]\n"
	    "\n"
	    "  -f, --config FILE     configuration file (default " DEFAULT_CONF ")\n"
	    "  -t, --test            check the configuration and exit:\n"
	    "                        0 when it is valid, 1 with FILE:LINE:COL errors\n"
	    "      --diff            with -t: then ask the running lbd (on FILE's\n"
	    "                        control socket) what a reload would change and\n"
	    "                        do to connections; nothing is applied\n"
	    "      --withdraw        remove the routes a cluster node announces\n"
	    "                        (FILE's announce table) and exit\n"
	    "  -p, --pidfile FILE    write the pid to FILE while running\n"
	    "      --foreground-log  log to stderr (the default when not under systemd)\n"
	    "      --syslog          log to syslog (the default under systemd)\n"
	    "  -d, --debug           log debug events too\n"
	    "  -V, --version         print the version\n"
	    "      --stats-table     print every counter and gauge lbd shows:\n"
	    "                        JSON name, Prometheus family, type, help\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "lbd runs in the foreground; SIGHUP reloads the configuration, SIGTERM\n"
	    "stops it. `lbctl help` lists the control commands.\n");
}

/* Checks `path`; on success *sock is its control socket (to free). */
static int
check_config(const char *path, char **sock)
{
	struct conf_diags diags = { 0 };
	struct conf *c = conf_load(path, &diags);
	int rc = c != NULL ? 0 : 1;

	conf_diags_print(&diags, stderr);
	if (c != NULL) {
		if (diags.n_warnings > 0)
			fprintf(stderr, "%s: %zu warning%s\n", path,
			    diags.n_warnings, diags.n_warnings == 1 ? "" : "s");
		printf("%s: configuration OK\n", path);
		*sock = strdup(c->global.control_socket);
	} else
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path,
		    diags.n_errors, diags.n_errors == 1 ? "" : "s",
		    diags.n_warnings, diags.n_warnings == 1 ? "" : "s");
	conf_free(c);
	conf_diags_free(&diags);
	return rc;
}

static void
collect(void *arg, const char *line, size_t len)
{
	buf_append(arg, line, len);
	buf_append(arg, "\n", 1);
}

/*
 * `lbd -t --diff`: the running lbd's dry run of its config file, which must
 * be FILE (a reload reads the file lbd was started with). 0 when a reload
 * would apply it, 1 when it would be refused or lbd reads another file, 2
 * when no lbd answers.
 */
static int
diff_running(const char *path, const char *sock)
{
	struct buf body = { 0 };
	char err[256], want[PATH_MAX], got[PATH_MAX];
	const char *prefix = "dry run: ", *p, *end;
	bool ok = false;
	int rc;

	rc = ctl_call(sock, "reload --dry-run\n", 60, collect, &body, &ok, err,
	    sizeof(err));
	if (rc == CTL_CALL_NO_LBD) {
		fprintf(stderr, "lbd: --diff: no running lbd at %s (%s): nothing "
		    "to compare with\n", sock, strerror(errno));
		return 2;
	}
	if (rc != CTL_CALL_OK) {
		fprintf(stderr, "lbd: --diff: %s\n", err);
		buf_free(&body);
		return 2;
	}
	/* "dry run: PATH against the running configuration ..." */
	p = body.len > strlen(prefix) && memcmp(body.p, prefix,
	    strlen(prefix)) == 0 ? body.p + strlen(prefix) : NULL;
	end = p != NULL ? strstr(p, " against ") : NULL;
	if (p == NULL || end == NULL) {
		fprintf(stderr, "lbd: --diff: the lbd at %s does not do dry runs "
		    "(an older version?)\n%.*s", sock, (int)body.len, body.p);
		buf_free(&body);
		return 2;
	}
	snprintf(got, sizeof(got), "%.*s", (int)(end - p), p);
	if (realpath(path, want) == NULL || strcmp(want, got) != 0) {
		fprintf(stderr, "lbd: --diff: the lbd at %s reads %s, not %s; a "
		    "reload reads the file lbd was started with\n", sock, got,
		    path);
		buf_free(&body);
		return 1;
	}
	fwrite(body.p, 1, body.len, stdout);
	buf_free(&body);
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "test", no_argument, NULL, 't' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "foreground-log", no_argument, NULL, 'F' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "stats-table", no_argument, NULL, 'T' },
		{ "diff", no_argument, NULL, 'D' },
		{ "withdraw", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = DEFAULT_CONF, *pidfile = NULL;
	/* Under systemd (INVOCATION_ID set) log to syslog, else to stderr. */
	bool to_stderr = getenv("INVOCATION_ID") == NULL, test = false;
	bool diff = false, withdraw = false;
	char *sock = NULL;
	enum log_level level = LOG_LVL_INFO;
	int ch;

	while ((ch = getopt_long(argc, argv, "f:tp:dVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'F':
			to_stderr = true;
			break;
		case 'S':
			to_stderr = false;
			break;
		case 'd':
			level = LOG_LVL_DEBUG;
			break;
		case 'V':
			printf("lbd %s\n", LBD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'T':
			stats_table_print(stdout);
			return 0;
		case 'D':
			diff = true;
			break;
		case 'W':
			withdraw = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lbd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (diff && !test) {
		fprintf(stderr, "lbd: --diff goes with -t\n");
		return 2;
	}
	if (test) {
		int rc = check_config(conf_path, &sock);

		if (rc == 0 && diff)
			rc = diff_running(conf_path, sock);
		free(sock);
		return rc;
	}
	log_init("lbd", to_stderr, level);
	if (withdraw)
		return announce_withdraw_file(conf_path);
	return lbd_run(conf_path, pidfile);
}
