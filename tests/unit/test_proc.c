/*
 * lib/proc: commands run from the loop — result, output line,
 * arguments, the deadline killing the whole group, no zombie, cancel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"

struct got {
	int			calls;
	struct proc_result	r;
	double			at;
};

static void
done(void *arg, const struct proc_result *r)
{
	struct got *g = arg;

	g->calls++;
	g->r = *r;
	g->at = ev_now(EV_DEFAULT);
}

/* Our children, zombies included (/proc's list of the main thread's). */
static int
children(void)
{
	char path[64];
	int n = 0, c;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fscanf(fp, "%d", &c) == 1)
		n++;
	fclose(fp);
	return n;
}

/* Running (not gone, not a zombie waiting for its new parent to reap it). */
static bool
alive(int pid)
{
	char path[64], buf[256], *rp;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp != NULL && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Run the loop until `g` has its answer (or 30 s pass: a liveness bound, not a timing). */
static void
wait_for(struct got *g)
{
	double until = ev_time() + 30;

	while (g->calls == 0 && ev_time() < until)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
}

static void
test_exit_status_and_line(void **state)
{
	struct got g = { 0 };

	assert_non_null(proc_run(EV_DEFAULT, "echo first line; echo second; "
	    "exit 3", NULL, NULL, 2000, done, &g));
	wait_for(&g);
	assert_int_equal(g.calls, 1);
	assert_false(g.r.ok);
	assert_false(g.r.timed_out);
	assert_string_equal(g.r.line, "first line");
	assert_string_equal(g.r.why, "exit=3: first line");

	memset(&g, 0, sizeof(g));
	assert_non_null(proc_run(EV_DEFAULT, "true", NULL, NULL, 2000, done, &g));
	wait_for(&g);
	assert_true(g.r.ok);
	assert_string_equal(g.r.why, "exit=0");
}

/* Arguments arrive as "$1".."$n", untouched by the shell. */
static void
test_arguments(void **state)
{
	struct got g = { 0 };
	const char *args[] = { "GROUP", "edge; rm -rf /", "MASTER", NULL };

	assert_non_null(proc_run(EV_DEFAULT, "printf '%s|%s|%s'", args, NULL,
	    2000, done, &g));
	wait_for(&g);
	assert_true(g.r.ok);
	assert_string_equal(g.r.line, "GROUP|edge; rm -rf /|MASTER");
}

/* `env` adds to the command's environment, and only to its. */
static void
test_environment(void **state)
{
	struct got g = { 0 };
	const char *env[] = { "LBD_BACKEND=web/web1", "LBD_BACKEND_PORT=80", NULL };

	assert_non_null(proc_run(EV_DEFAULT, "echo \"$LBD_BACKEND:$LBD_BACKEND_PORT\"",
	    NULL, env, 2000, done, &g));
	wait_for(&g);
	assert_true(g.r.ok);
	assert_string_equal(g.r.line, "web/web1:80");
	assert_null(getenv("LBD_BACKEND"));
}

/* At the deadline the command and what it started are killed and reaped. */
static void
test_timeout_kills_group(void **state)
{
	struct got g = { 0 };
	char path[] = "/tmp/lbd-proc-XXXXXX";
	char cmd[256];
	int fd = mkstemp(path);
	FILE *fp;
	int bg = 0;

	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; sleep 30", path);
	assert_non_null(proc_run(EV_DEFAULT, cmd, NULL, NULL, 300, done, &g));
	wait_for(&g);
	assert_int_equal(g.calls, 1);
	assert_true(g.r.timed_out);
	assert_false(g.r.ok);
	assert_string_equal(g.r.why, "timeout (killed)");
	/* The background sleep was in the group: gone too. */
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fscanf(fp, "%d", &bg), 1);
	fclose(fp);
	unlink(path);
	usleep(100000);
	assert_false(alive(bg));
	/* And nothing is left for us to reap. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_cancel(void **state)
{
	struct got g = { 0 };
	struct proc *p = proc_run(EV_DEFAULT, "sleep 30", NULL, NULL, 10000, done, &g);

	assert_non_null(p);
	/* Cancel does not wait for the child (one stuck in the kernel would
	 * stop the loop); the loop reaps it once it is gone. */
	proc_cancel(p);
	for (int i = 0; i < 500 && children() > 0; i++) {
		ev_run(EV_DEFAULT, EVRUN_NOWAIT);
		usleep(10000);
	}
	assert_int_equal(g.calls, 0);
	assert_int_equal(children(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_and_line),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_cancel),
	};

	(void)EV_DEFAULT;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
