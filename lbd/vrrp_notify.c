/*
 * VRRP notify hooks (keepalived's convention: TYPE NAME STATE [PRIORITY]),
 * run one at a time through lib/proc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/vrrp_mgr_int.h"
#include "lib/log.h"

/*
 * One hook at a time, in the order of the transitions, each bounded by
 * notify-timeout: a script that sees BACKUP after MASTER can trust the
 * order, and a hung one cannot pile up processes.
 */
struct notice {
	char		*cmd;
	char		*args[4];
	struct notice	*next;
};

#define NOTIFY_QUEUE	64

static void	notify_pump(struct vrrp_mgr *);

static void
notice_free(struct notice *n)
{
	free(n->cmd);
	for (int i = 0; i < 4; i++)
		free(n->args[i]);
	free(n);
}

static void
notify_done(void *arg, const struct proc_result *r)
{
	struct vrrp_mgr *m = arg;

	m->nrun = NULL;
	if (r->ok)
		log_info("vrrp notify done");
	else
		log_warnx("vrrp notify failed: %s", r->why);
	notify_pump(m);
}

static void
notify_pump(struct vrrp_mgr *m)
{
	while (m->nrun == NULL && m->nq != NULL) {
		struct notice *n = m->nq;
		const char *args[5] = { n->args[0], n->args[1], n->args[2],
					n->args[3], NULL };

		if ((m->nq = n->next) == NULL)
			m->nq_tail = &m->nq;
		m->nq_len--;
		log_info("vrrp notify: %s %s %s %s%s", n->cmd, args[0], args[1],
		    args[2], args[3] ? " ..." : "");
		if ((m->nrun = proc_run(m->loop, n->cmd, args, NULL,
		    m->notify_timeout_ms, notify_done, m)) == NULL)
			log_warn("vrrp notify: cannot run %s", n->cmd);
		notice_free(n);
	}
}

/* keepalived's convention, so existing scripts work: TYPE NAME STATE [PRIO]. */
void
vrrp_notify(struct vrrp_mgr *m, const char *cmd, const char *type, const char *name,
    const char *state, int prio)
{
	struct notice *n;
	char p[8];

	if (cmd == NULL)
		return;
	if (m->nq_len >= NOTIFY_QUEUE) {
		log_warnx("vrrp notify: %zu hooks waiting, %s %s %s dropped",
		    m->nq_len, type, name, state);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return;
	snprintf(p, sizeof(p), "%d", prio);
	n->cmd = strdup(cmd);
	n->args[0] = strdup(type);
	n->args[1] = strdup(name);
	n->args[2] = strdup(state);
	n->args[3] = prio >= 0 ? strdup(p) : NULL;
	if (n->cmd == NULL || n->args[0] == NULL || n->args[1] == NULL ||
	    n->args[2] == NULL) {
		notice_free(n);
		return;
	}
	*m->nq_tail = n;
	m->nq_tail = &n->next;
	m->nq_len++;
	notify_pump(m);
}

const char *
vrrp_notify_state(enum vrrp_state s)
{
	return s == VRRP_MASTER ? "MASTER" : s == VRRP_FAULT ? "FAULT" :
	    s == VRRP_BACKUP ? "BACKUP" : "STOP";
}

/* Hooks still waiting are not run on the way out; a running one is
 * stopped, not left behind. */
void
vrrp_notify_stop(struct vrrp_mgr *m)
{
	proc_cancel(m->nrun);
	m->nrun = NULL;
	while (m->nq != NULL) {
		struct notice *nx = m->nq->next;

		notice_free(m->nq);
		m->nq = nx;
	}
	m->nq_tail = &m->nq;
	m->nq_len = 0;
}
