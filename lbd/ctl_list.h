/*
 * The control commands as words, usage and a line of help: one list that lbd
 * dispatches from (lbd/ctl_cmds.c gives each its handler) and that lbctl
 * prints for `lbctl help` with no daemon to ask. Reads no clock, opens no
 * socket.
 */
#ifndef LBD_CTL_LIST_H
#define LBD_CTL_LIST_H

#include <stdbool.h>
#include <stddef.h>

enum ctl_cmd_id {
	CTL_HELP,
	CTL_SHOW_INFO,
	CTL_SHOW_CONFIG,
	CTL_SHOW_HEALTH,
	CTL_SHOW_STAT,
	CTL_SHOW_CONN,
	CTL_SHOW_ERRORS,
	CTL_SHOW_VRRP,
	CTL_SHOW_SYNC,
	CTL_SHOW_PAIR,
	CTL_SHOW_CLUSTER,
	CTL_CLUSTER_DRAIN,
	CTL_CLUSTER_RESUME,
	CTL_VRRP_PRIO,
	CTL_HA_HANDOVER,	/* before CTL_HA */
	CTL_HA,
	CTL_ENABLE,
	CTL_DISABLE,
	CTL_DRAIN,
	CTL_SET_WEIGHT,
	CTL_WATCH,
	CTL_RELOAD_DRY,		/* before CTL_RELOAD: matched in order */
	CTL_RELOAD,
	CTL_NCMDS
};

struct ctl_cmd_doc {
	const char	*words;		/* "show info" */
	bool		 changes;	/* changes lbd: not on a read-only socket,
					 * and logged with who sent it */
	int		 max_args;	/* words after the command's own */
	const char	*usage;
	const char	*help;
};

extern const struct ctl_cmd_doc ctl_cmd_docs[CTL_NCMDS];

struct buf;

/* The list as `help` answers it: one line per command, or one JSON
 * document; a read-only socket's callers see only what they may run. */
void	ctl_cmd_help(struct buf *out, bool json, bool readonly);

#endif /* LBD_CTL_LIST_H */
