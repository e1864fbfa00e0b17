/* The control commands' words and help; see ctl_list.h. */
#include <string.h>

#include "lbd/ctl_list.h"
#include "lib/buf.h"

const struct ctl_cmd_doc ctl_cmd_docs[CTL_NCMDS] = {
	[CTL_HELP] = { "help", false, 0, "help", "list the commands" },
	[CTL_SHOW_INFO] = { "show info", false, 0, "show info",
	    "version, pid, uptime, config file, reloads and the last result" },
	[CTL_SHOW_CONFIG] = { "show config", false, 0, "show config",
	    "the running configuration, every value explicit" },
	[CTL_SHOW_HEALTH] = { "show health", false, 0, "show health",
	    "every health check: state, last result and reason, latency" },
	[CTL_SHOW_STAT] = { "show stat", false, 0, "show stat",
	    "every service and backend: state, weight, connections, packets, bytes" },
	[CTL_SHOW_CONN] = { "show conn", false, 2, "show conn [SERVICE] [MAX]",
	    "connections in the table (at most MAX, default 100)" },
	[CTL_SHOW_ERRORS] = { "show errors", false, 0, "show errors",
	    "data-plane drops by reason and I/O errors" },
	[CTL_SHOW_VRRP] = { "show vrrp", false, 0, "show vrrp",
	    "VRRP instances: state, priority, master, counters" },
	[CTL_SHOW_SYNC] = { "show sync", false, 0, "show sync",
	    "connection sync: peer, stream, lag, counters, drops by reason" },
	[CTL_SHOW_PAIR] = { "show pair", false, 0, "show pair",
	    "this node and the peer side by side: roles, sync, config and "
	    "backends that differ" },
	[CTL_SHOW_CLUSTER] = { "show cluster", false, 0, "show cluster",
	    "a cluster node's announcements: each VIP and SNAT address, "
	    "announced or withdrawn and why" },
	[CTL_CLUSTER_DRAIN] = { "cluster drain", true, 0, "cluster drain",
	    "withdraw this node's VIPs (existing connections go on; SNAT "
	    "addresses stay announced)" },
	[CTL_CLUSTER_RESUME] = { "cluster resume", true, 0, "cluster resume",
	    "announce the VIPs again after a drain" },
	[CTL_VRRP_PRIO] = { "vrrp set-priority", true, 2,
	    "vrrp set-priority INSTANCE N|reset",
	    "override an instance's priority (1..254) until reset or restart" },
	[CTL_HA_HANDOVER] = { "ha handover", true, 1, "ha handover [GROUP]",
	    "check the peer is ready, give it the group(s), wait until it holds "
	    "them" },
	[CTL_HA] = { "ha", true, 2, "ha master|backup|fault GROUP",
	    "vrrp external: keepalived's notify tells lbd the group's state" },
	[CTL_ENABLE] = { "enable", true, 1, "enable SERVICE/BACKEND",
	    "take new connections again (undo disable or drain)" },
	[CTL_DISABLE] = { "disable", true, 1, "disable SERVICE/BACKEND",
	    "no new connections whatever health says; existing ones continue" },
	[CTL_DRAIN] = { "drain", true, 1, "drain SERVICE/BACKEND",
	    "no new connections; existing ones continue" },
	[CTL_SET_WEIGHT] = { "set weight", true, 2,
	    "set weight SERVICE/BACKEND N|reset",
	    "override the configured weight (0..256); reset goes back to it" },
	[CTL_WATCH] = { "watch", false, 0, "watch",
	    "a live stream of events: VRRP, health, sync, reloads, admin changes" },
	[CTL_RELOAD_DRY] = { "reload --dry-run", false, 0, "reload --dry-run",
	    "what a reload would change and do to connections; nothing applied" },
	[CTL_RELOAD] = { "reload", true, 0, "reload",
	    "read the config file again; on any error keep the running one" },
};

void
ctl_cmd_help(struct buf *out, bool json, bool readonly)
{
	bool first = true;

	if (json) {
		buf_puts(out, "{\"commands\":[");
		for (size_t i = 0; i < CTL_NCMDS; i++) {
			if (ctl_cmd_docs[i].changes && readonly)
				continue;
			buf_puts(out, first ? "{\"usage\":" : ",{\"usage\":");
			first = false;
			buf_json_str(out, ctl_cmd_docs[i].usage);
			buf_puts(out, ",\"help\":");
			buf_json_str(out, ctl_cmd_docs[i].help);
			buf_puts(out, "}");
		}
		buf_puts(out, "]}\n");
		return;
	}
	for (size_t i = 0; i < CTL_NCMDS; i++) {
		const struct ctl_cmd_doc *d = &ctl_cmd_docs[i];

		if (d->changes && readonly)
			continue;
		/* A long usage gets its own line; the help stays aligned. */
		if (strlen(d->usage) < 24)
			buf_printf(out, "%-24s %s\n", d->usage, d->help);
		else
			buf_printf(out, "%s\n%25s%s\n", d->usage, "", d->help);
	}
	buf_printf(out, "%-24s %s\n", "... --json",
	    "any command, answered as one JSON document");
}
