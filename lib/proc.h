/*
 * proc — run an operator's shell command from the main loop without ever
 * blocking it (VRRP notify hooks, track scripts, script health checks).
 *
 * The command runs as `/bin/sh -c COMMAND` in a process group of its own,
 * with arguments as "$1".."$n" when given; its first line of output
 * (stdout and stderr) is kept for the log. At the deadline the whole group
 * is killed. Every child is reaped through an ev_child watcher, so neither
 * a hung command nor a zombie is left behind. libev runs child watchers on
 * the default loop only, which is lbd's main loop.
 */
#ifndef LIB_PROC_H
#define LIB_PROC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

struct proc;

struct proc_result {
	bool		ok;		/* exited with status 0 in time */
	bool		timed_out;	/* killed at the deadline */
	int		status;		/* wait status */
	char		line[160];	/* first line of output, if any */
	char		why[200];	/* "exit=1: msg", "timeout (killed)", ... */
};

typedef void	proc_done_fn(void *arg, const struct proc_result *);

/* NULL when it cannot start (errno set; nothing to reap). `args` is a
 * NULL-terminated list or NULL; `env` a NULL-terminated list of
 * "NAME=value" added to the command's environment, or NULL. `done` runs
 * once, after the child is reaped; the proc is freed after it returns. */
struct proc	*proc_run(struct ev_loop *, const char *command,
		    const char *const *args, const char *const *env,
		    uint32_t timeout_ms, proc_done_fn *done, void *arg);
/* Kill and reap now; `done` is not called. */
void		 proc_cancel(struct proc *);

/* Every command started from now on runs as `uid`:`gid` with the
 * supplementary groups `groups` (n of them, at most PROC_GROUPS_MAX; copied)
 * -- and, when `uid` is not 0, with no capabilities (the kernel clears them
 * on the switch from root). (uid_t)-1: as the caller. A command that cannot
 * switch exits 126 unrun. */
#define PROC_GROUPS_MAX	64
void		 proc_set_user(uid_t uid, gid_t gid, const gid_t *groups,
		    size_t n);

#endif /* LIB_PROC_H */
