/*
 * The kernel fast path's programs in the kernel (see tcprog.h).
 */
#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lbd/dataplane/bpf_objs.h"
#include "lbd/dataplane/tcprog.h"
#include "lib/log.h"

/* Where lbd's filters sit in each interface's clsact ingress (and a data
 * interface's egress, the guard): the same place every time, so a new lbd
 * replaces what a killed one left. */
#define TC_HANDLE	0x1bd
#define TC_PRIO		1

#define MAX_ATTACHED	(3 * LBD_FP_MAX_IFS)

struct attached {
	int	ifindex;
	bool	egress;
	bool	hook_created;	/* we made its clsact: remove it again */
};

struct tcprog {
	struct bpf_object	*obj;
	int			 fd_in, fd_out, fd_guard;
	int			 fd_flows, fd_ifs, fd_stats, fd_alive;
	int			 fd_vrrp_alive;
	struct own_fds		 own;
	struct attached		 at[MAX_ATTACHED];
	uint32_t		 n_at;
};

static int
map_fd(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_map_fd_by_name(obj, name);
}

struct tcprog *
tcprog_open(uint32_t flows, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "lbd_fastpath");
	struct tcprog *t = calloc(1, sizeof(*t));
	struct bpf_map *m;
	int rc;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->obj = bpf_object__open_mem(lbd_fp_obj,
	    (size_t)(lbd_fp_obj_end - lbd_fp_obj), &oo);
	if (t->obj == NULL || libbpf_get_error(t->obj)) {
		snprintf(err, errlen, "open the fast path's object: %s",
		    strerror(errno));
		t->obj = NULL;
		goto fail;
	}
	if ((m = bpf_object__find_map_by_name(t->obj, "lbd_fp_flows")) == NULL ||
	    bpf_map__set_max_entries(m, flows) != 0) {
		snprintf(err, errlen, "the fast path's flow table");
		goto fail;
	}
	if ((rc = bpf_object__load(t->obj)) != 0) {
		snprintf(err, errlen, "load the fast path (see the debug log for "
		    "the verifier): %s", strerror(-rc));
		goto fail;
	}
	t->fd_in = bpf_program__fd(bpf_object__find_program_by_name(t->obj,
	    "lbd_fp_in"));
	t->fd_out = bpf_program__fd(bpf_object__find_program_by_name(t->obj,
	    "lbd_fp_out"));
	t->fd_guard = bpf_program__fd(bpf_object__find_program_by_name(t->obj,
	    "lbd_fp_guard"));
	t->fd_flows = map_fd(t->obj, "lbd_fp_flows");
	t->fd_ifs = map_fd(t->obj, "lbd_fp_ifs");
	t->fd_stats = map_fd(t->obj, "lbd_fp_stats");
	t->fd_alive = map_fd(t->obj, "lbd_alive");
	t->fd_vrrp_alive = map_fd(t->obj, "lbd_fp_vrrp_alive");
	t->own.svcs = map_fd(t->obj, "lbd_svcs");
	t->own.addrs = map_fd(t->obj, "lbd_addrs");
	t->own.backends = map_fd(t->obj, "lbd_backends");
	if (t->fd_in < 0 || t->fd_out < 0 || t->fd_guard < 0 || t->fd_flows < 0 ||
	    t->fd_ifs < 0 || t->fd_stats < 0 || t->fd_alive < 0 ||
	    t->fd_vrrp_alive < 0 || t->own.svcs < 0 ||
	    t->own.addrs < 0 || t->own.backends < 0) {
		snprintf(err, errlen, "the fast path's programs or maps missing");
		goto fail;
	}
	return t;
fail:
	bpf_object__close(t->obj);
	free(t);
	return NULL;
}

static enum bpf_tc_attach_point
point(bool egress)
{
	return egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* Whether lbd's filter (handle and priority) is on that side of
 * `ifindex`. */
static bool
ours_there(int ifindex, bool egress)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	    .attach_point = point(egress));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	return bpf_tc_query(&hook, &opts) == 0;
}

static int
attach(struct tcprog *t, int ifindex, bool egress, int prog_fd, char *err,
    size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	    .attach_point = point(egress));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO,
	    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	struct attached *a;
	int rc;

	if (t->n_at == MAX_ATTACHED) {
		snprintf(err, errlen, "too many interfaces");
		return -1;
	}
	a = &t->at[t->n_at];
	a->ifindex = ifindex;
	a->egress = egress;
	rc = bpf_tc_hook_create(&hook);
	if (rc != 0 && rc != -EEXIST) {
		snprintf(err, errlen, "clsact: %s", strerror(-rc));
		return -1;
	}
	/* One a killed lbd made counts as ours (its filter is still on it). */
	a->hook_created = rc == 0 || ours_there(ifindex, egress);
	if ((rc = bpf_tc_attach(&hook, &opts)) != 0) {
		snprintf(err, errlen, "attach the TC program: %s", strerror(-rc));
		if (a->hook_created)
			(void)bpf_tc_hook_destroy(&hook);
		return -1;
	}
	t->n_at++;
	return 0;
}

static int
set_if(struct tcprog *t, int ifindex, uint32_t to, uint32_t kind)
{
	uint32_t k = (uint32_t)ifindex;
	struct lbd_fp_if v = { to, kind };

	return bpf_map_update_elem(t->fd_ifs, &k, &v, BPF_ANY);
}

int
tcprog_attach_data(struct tcprog *t, int ifindex, int punt, char *err,
    size_t errlen)
{
	if (set_if(t, ifindex, (uint32_t)punt, LBD_FP_IF_DATA) != 0) {
		snprintf(err, errlen, "interface map: %s", strerror(errno));
		return -1;
	}
	if (attach(t, ifindex, false, t->fd_in, err, errlen) < 0)
		return -1;
	return attach(t, ifindex, true, t->fd_guard, err, errlen);
}

int
tcprog_attach_punt(struct tcprog *t, int ifindex, int data, char *err,
    size_t errlen)
{
	if (set_if(t, ifindex, (uint32_t)data, LBD_FP_IF_PUNT) != 0) {
		snprintf(err, errlen, "interface map: %s", strerror(errno));
		return -1;
	}
	return attach(t, ifindex, false, t->fd_out, err, errlen);
}

static void
detach(const struct attached *a)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
	    .attach_point = point(a->egress));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	(void)bpf_tc_detach(&hook, &opts);
}

void
tcprog_close(struct tcprog *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n_at; i++)
		detach(&t->at[i]);
	bpf_object__close(t->obj);
	free(t);
}

bool
tcprog_made_clsact(const struct tcprog *t, int ifindex)
{
	for (uint32_t i = 0; t != NULL && i < t->n_at; i++)
		if (t->at[i].ifindex == ifindex)
			return t->at[i].hook_created;
	return false;
}

void
tcprog_clsact_drop(int ifindex)
{
	/* Both attach points: libbpf deletes the qdisc only then (ingress
	 * alone would flush its filters and keep it). */
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	(void)bpf_tc_hook_destroy(&hook);
}

int
tcprog_set_owned(struct tcprog *t, const struct xdp_owned *o)
{
	return bpfmaps_set_owned(&t->own, o);
}

int
tcprog_vrrp_alive_fd(const struct tcprog *t)
{
	return t->fd_vrrp_alive;
}

int
tcprog_set_alive(struct tcprog *t, uint64_t until_ns)
{
	return bpfmaps_set_until(t->fd_alive, until_ns);
}

void
tcprog_stats(const struct tcprog *t, uint64_t out[LBD_FP__COUNT])
{
	bpfmaps_percpu_sum(t->fd_stats, LBD_FP__COUNT, out);
}

int
tcprog_flows_fd(const struct tcprog *t)
{
	return t->fd_flows;
}

int
tcprog_prog_fd(const struct tcprog *t, bool out)
{
	return out ? t->fd_out : t->fd_in;
}

int
tcprog_guard_fd(const struct tcprog *t)
{
	return t->fd_guard;
}

int
tcprog_route(struct tcprog *t, int ifindex, int to, bool data)
{
	return set_if(t, ifindex, (uint32_t)to, data ? LBD_FP_IF_DATA :
	    LBD_FP_IF_PUNT);
}

bool
tcprog_supported(char *why, size_t len)
{
	char err[256];
	struct tcprog *t = tcprog_open(16, err, sizeof(err));

	if (t == NULL) {
		snprintf(why, len, "%s", err);
		return false;
	}
	tcprog_close(t);
	return true;
}
