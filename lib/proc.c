/*
 * Shell commands from the main loop (see proc.h).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"

#define PROC_ARGS_MAX	8

static uid_t	run_uid = (uid_t)-1;
static gid_t	run_gid = (gid_t)-1;
static gid_t	run_groups[PROC_GROUPS_MAX];
static size_t	run_ngroups;

void
proc_set_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	run_uid = uid;
	run_gid = gid;
	run_ngroups = n < PROC_GROUPS_MAX ? n : PROC_GROUPS_MAX;
	if (run_ngroups > 0)
		memcpy(run_groups, groups, run_ngroups * sizeof(*groups));
}

struct proc {
	struct ev_loop	*loop;
	pid_t		 pid;
	int		 fd;		/* read end of the output pipe */
	ev_child	 child;
	ev_io		 io;
	ev_timer	 deadline;
	proc_done_fn	*done;
	void		*arg;
	struct proc_result r;
	size_t		 line_len;
	bool		 line_done;
};

/* Keep the first line; read and forget the rest so the child never
 * blocks on a full pipe. */
static void
drain(struct proc *p)
{
	char buf[512];
	ssize_t n;

	while ((n = read(p->fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n && !p->line_done; i++) {
			if (buf[i] == '\n' || p->line_len + 1 >= sizeof(p->r.line))
				p->line_done = true;
			else
				p->r.line[p->line_len++] = buf[i];
		}
	if (n == 0 && ev_is_active(&p->io))
		ev_io_stop(p->loop, &p->io);	/* EOF: the child may live on */
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain(w->data);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc *p = w->data;

	p->r.timed_out = true;
	kill(-p->pid, SIGKILL);		/* child_cb reaps it */
}

static void
release(struct proc *p)
{
	ev_child_stop(p->loop, &p->child);
	ev_io_stop(p->loop, &p->io);
	ev_timer_stop(p->loop, &p->deadline);
	close(p->fd);
	free(p);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct proc *p = w->data;
	int st = w->rstatus;

	drain(p);
	p->r.line[p->line_len] = '\0';
	p->r.status = st;
	p->r.ok = !p->r.timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (p->r.timed_out)
		snprintf(p->r.why, sizeof(p->r.why), "timeout (killed)");
	else if (WIFEXITED(st))
		snprintf(p->r.why, sizeof(p->r.why), "exit=%d%s%s",
		    WEXITSTATUS(st), p->r.line[0] ? ": " : "", p->r.line);
	else
		snprintf(p->r.why, sizeof(p->r.why), "killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	/* Whatever the shell left running in its group goes too. */
	kill(-p->pid, SIGKILL);
	p->done(p->arg, &p->r);
	release(p);
}

struct proc *
proc_run(struct ev_loop *loop, const char *command, const char *const *args,
    const char *const *env, uint32_t timeout_ms, proc_done_fn *done, void *arg)
{
	const char *argv[4 + PROC_ARGS_MAX + 1];
	char *script = NULL;
	struct proc *p;
	int pfd[2], n = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	/* "$@" passes the arguments through the shell untouched. */
	if (args != NULL && asprintf(&script, "%s \"$@\"", command) < 0) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script != NULL ? script : command;
	argv[n++] = "sh";
	for (int i = 0; args != NULL && args[i] != NULL && i < PROC_ARGS_MAX; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(script);
		free(p);
		return NULL;
	}
	if ((p->pid = fork()) < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		free(script);
		free(p);
		errno = e;
		return NULL;
	}
	if (p->pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setsid();	/* a group of its own: the timeout kills all */
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		/* Group first: after setuid there is no right to change it. */
		if (run_uid != (uid_t)-1 && (setgroups(run_ngroups, run_groups) < 0 ||
		    setgid(run_gid) < 0 || setuid(run_uid) < 0)) {
			static const char msg[] = "cannot switch to script-user\n";
			(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
			_exit(126);
		}
		for (int i = 0; env != NULL && env[i] != NULL; i++)
			(void)putenv((char *)env[i]);	/* this copy only */
		execv("/bin/sh", (char *const *)argv);
		_exit(127);
	}
	free(script);
	close(pfd[1]);
	p->loop = loop;
	p->fd = pfd[0];
	p->done = done;
	p->arg = arg;
	ev_child_init(&p->child, child_cb, p->pid, 0);
	p->child.data = p;
	ev_child_start(loop, &p->child);
	ev_io_init(&p->io, io_cb, p->fd, EV_READ);
	p->io.data = p;
	ev_io_start(loop, &p->io);
	ev_timer_init(&p->deadline, deadline_cb, timeout_ms / 1000.0, 0.);
	p->deadline.data = p;
	ev_timer_start(loop, &p->deadline);
	return p;
}

void
proc_cancel(struct proc *p)
{
	if (p == NULL)
		return;
	/* The group, and the child itself: cancelled right after it was
	 * started, it may not have made its group yet (setsid). Never wait
	 * for it here: a command stuck in the kernel (D state, a dead NFS
	 * mount) would stop the whole loop. Not reaped yet, it is a zombie
	 * until libev's SIGCHLD handler, which reaps every child of the
	 * default loop, takes it. */
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	(void)waitpid(p->pid, NULL, WNOHANG);
	release(p);
}
