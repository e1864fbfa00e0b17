/*
 * The data plane's lifecycle: start, reload, VRRP's word, stop. What each
 * step does is in the file of what it talks to (dp_int.h); this file only
 * says in which order, and why that order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/dataplane/dp_int.h"
#include "lib/log.h"

struct dataplane *
dataplane_start(struct ev_loop *loop, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st, char *err, size_t errlen)
{
	struct dataplane *p;

	err[0] = '\0';
	if (c->global.n_ifaces == 0)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->loop = loop;
	(void)xdp_prog_ensure_bpffs();
	if (dp_kernel_open(p, err, errlen) < 0 ||
	    dp_ifaces_choose(p, c, err, errlen) < 0)
		goto fail;
	/* Before the dead lbd's classifier is replaced (owned.c). */
	dp_owned_clear_stale(p, c);
	if (dp_workers_new(p, c, err, errlen) < 0 ||
	    dp_owned_start(p, c, err, errlen) < 0 ||
	    dp_ifaces_open(p, c, err, errlen) < 0)
		goto fail;
	/* Tables before traffic: routes, neighbours, services. */
	dp_kernel_push(p);
	if (dp_call_services(p, c, st, n_st) < 0) {
		snprintf(err, errlen, "services: out of memory");
		goto fail;
	}
	if (dp_workers_start(p, err, errlen) < 0)
		goto fail;
	dp_owned_go(p, c);
	if (dp_ifaces_arm(p, err, errlen) < 0)
		goto fail;
	dp_kernel_preresolve(p, c);
	dp_snat_watch_start(p);
	return p;
fail:
	dataplane_stop(p);
	return NULL;
}

int
dataplane_apply(struct dataplane *p, const struct conf *c,
    const struct dp_backend_state *st, size_t n_st)
{
	int rc = 0;

	if (p == NULL)
		return 0;
	if (dp_call_services(p, c, st, n_st) < 0)
		rc = -1;
	(void)dp_owned_orphans(p);
	if (dp_owned_apply(p, c) < 0)
		rc = -1;
	dp_kernel_preresolve(p, c);
	return rc;
}

void
dataplane_stop(struct dataplane *p)
{
	if (p == NULL)
		return;
	dp_snat_watch_stop(p);
	dp_owned_stop(p);
	dp_workers_stop(p);
	dp_ifaces_close(p);
	dp_owned_free(p);
	dp_workers_free(p);
	dp_kernel_close(p);
	free(p);
}
