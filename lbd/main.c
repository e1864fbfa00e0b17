/*
 * lbd — the load-balancer daemon.
 *
 *   lbd -f FILE          run in the foreground (systemd Type=notify)
 *   lbd -t -f FILE       check FILE and exit 0 (OK) or 1 (errors)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lbd/daemon.h"
#include "lbd/stats.h"
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

static int
check_config(const char *path)
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
	} else
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path,
		    diags.n_errors, diags.n_errors == 1 ? "" : "s",
		    diags.n_warnings, diags.n_warnings == 1 ? "" : "s");
	conf_free(c);
	conf_diags_free(&diags);
	return rc;
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
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = DEFAULT_CONF, *pidfile = NULL;
	/* Under systemd (INVOCATION_ID set) log to syslog, else to stderr. */
	bool to_stderr = getenv("INVOCATION_ID") == NULL, test = false;
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
	if (test)
		return check_config(conf_path);
	log_init("lbd", to_stderr, level);
	return lbd_run(conf_path, pidfile);
}
