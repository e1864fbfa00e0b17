/*
 * `vrrp external`: the last word keepalived gave each group (lbctl ha),
 * kept in a file beside the control socket so that it survives an lbd
 * restart. keepalived tells a notify hook once per transition; an lbd
 * that restarted after that would otherwise start its groups as backup
 * and never hear again, and the node would stay dark.
 *
 * The file is /run (tmpfs): a reboot forgets it, as it should. One line
 * per group, "NAME STATE WALLTIME", written whole and renamed into place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lbd/vrrp_mgr_int.h"
#include "lib/log.h"

/* CONTROL-SOCKET without ".sock", then ".vrrp-state". */
char *
vrrp_ext_path(const char *control_socket)
{
	size_t n = strlen(control_socket);
	char *p;

	if (n > 5 && strcmp(control_socket + n - 5, ".sock") == 0)
		n -= 5;
	if ((p = malloc(n + sizeof(".vrrp-state"))) == NULL)
		return NULL;
	memcpy(p, control_socket, n);
	strcpy(p + n, ".vrrp-state");
	return p;
}

static bool
state_of(const char *s, enum vrrp_state *st)
{
	if (strcmp(s, "master") == 0)
		*st = VRRP_MASTER;
	else if (strcmp(s, "backup") == 0)
		*st = VRRP_BACKUP;
	else if (strcmp(s, "fault") == 0)
		*st = VRRP_FAULT;
	else
		return false;
	return true;
}

void
vrrp_ext_load(struct vrrp_mgr *m)
{
	char line[512], name[256], state[16];
	long long when;
	FILE *f;
	int n = 0;

	if (m->ext_path == NULL || (f = fopen(m->ext_path, "r")) == NULL) {
		if (m->ext_path != NULL && errno != ENOENT)
			log_warnx("vrrp external: %s: %s", m->ext_path,
			    strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		enum vrrp_state st;
		int g;

		if (sscanf(line, "%255s %15s %lld", name, state, &when) != 3 ||
		    !state_of(state, &st)) {
			log_warnx("vrrp external: %s: line %d ignored", m->ext_path,
			    n + 1);
			continue;
		}
		n++;
		if ((g = vrrp_node_group(m->node, name)) < 0)
			continue;	/* a group the config no longer has */
		m->node->groups[g].ext = st;
		m->vg[g].src = VEXT_FILE;
		m->vg[g].when = (time_t)when;
		log_info("vrrp group=%s external state=%s (kept from lbctl ha "
		    "before the restart)", name, vrrp_state_name(st));
	}
	fclose(f);
}

void
vrrp_ext_save(const struct vrrp_mgr *m)
{
	char tmp[4096];
	FILE *f;
	bool ok;

	if (m->ext_path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", m->ext_path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warnx("vrrp external: %s: %s (the state will not survive a "
		    "restart)", tmp, strerror(errno));
		return;
	}
	for (size_t g = 0; g < m->node->n_groups; g++)
		if (m->vg[g].src != VEXT_NONE)
			fprintf(f, "%s %s %lld\n", m->node->groups[g].name,
			    vrrp_state_name(m->node->groups[g].ext),
			    (long long)m->vg[g].when);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, m->ext_path) != 0) {
		log_warnx("vrrp external: %s: %s", m->ext_path, strerror(errno));
		(void)unlink(tmp);
	}
}

const char *
vrrp_ext_src_name(enum vext_src s)
{
	switch (s) {
	case VEXT_LBCTL:
		return "lbctl-ha";
	case VEXT_FILE:
		return "state-file";
	default:
		return "none";
	}
}
