/*
 * One worker's flows in the kernel's table (see flows.h).
 *
 * The worker keeps the flows it installed in a dense array (a keymap finds
 * each by key), with what it last reported of each to the engine: the
 * kernel's counters only grow, and the engine takes differences.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lbd/dataplane/flows.h"
#include "lib/keymap.h"

_Static_assert(LBD_FP_ENC_IPIP == DP_TUN_IPIP && LBD_FP_ENC_GUE == DP_TUN_GUE,
    "the program's tunnel kinds are the engine's");
_Static_assert(sizeof(struct lbd_fp_key) == sizeof(struct dp_tuple),
    "the kernel's flow key is the engine's tuple");

struct fp_one {
	struct lbd_fp_key	key;
	uint64_t		pkts, bytes;	/* reported so far */
	uint64_t		last_ns;
};

struct fp_flows {
	int			 fd;
	uint32_t		 max, n, cap, cursor;
	struct fp_one		*v;
	struct keymap		*idx;		/* key -> index in v */
	uint64_t		 lost_seen;	/* the engine's offload_lost */
	struct fp_flows_stats	 st;
};

#define OPS_BATCH	256

struct fp_flows *
fp_flows_new(int map_fd, uint32_t max)
{
	struct fp_flows *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->fd = map_fd;
	f->max = max;
	f->cap = 1024;
	f->v = calloc(f->cap, sizeof(*f->v));
	f->idx = keymap_new(sizeof(struct lbd_fp_key), f->cap);
	if (f->v == NULL || f->idx == NULL) {
		fp_flows_free(f);
		return NULL;
	}
	return f;
}

/* The kernel's table goes with the programs (tcprog_close). */
void
fp_flows_free(struct fp_flows *f)
{
	if (f == NULL)
		return;
	keymap_free(f->idx);
	free(f->v);
	free(f);
}

void
fp_flow_to_kernel(const struct dp_flow *fl, struct lbd_fp_key *k,
    struct lbd_fp_act *a)
{
	size_t al = fl->key.family == 4 ? 4 : 16;

	memcpy(k, &fl->key, sizeof(*k));
	memset(a, 0, sizeof(*a));
	memcpy(a->src, fl->out.src, 16);
	memcpy(a->dst, fl->out.dst, 16);
	a->sport = fl->out.sport;
	a->dport = fl->out.dport;
	memcpy(a->dmac, fl->dmac, 6);
	memcpy(a->smac, fl->smac, 6);
	a->ifindex = fl->ifindex;
	a->mtu = fl->mtu;
	a->dir = fl->dir;
	if (fl->ttl)
		a->flags |= LBD_FP_TTL;
	if (memcmp(fl->key.src, fl->out.src, al) != 0)
		a->flags |= LBD_FP_SADDR;
	if (memcmp(fl->key.dst, fl->out.dst, al) != 0)
		a->flags |= LBD_FP_DADDR;
	a->enc_kind = fl->encap.kind;
	if (fl->encap.kind != DP_TUN_NONE) {
		a->enc_sport = fl->encap.sport;
		a->enc_dport = fl->encap.dport;
		a->enc_label = fl->encap.label;
		memcpy(a->enc_src, fl->encap.src, 16);
		memcpy(a->enc_dst, fl->encap.dst, 16);
	}
}

/* Forget entry i (swap the last one into its place). */
static void
drop_at(struct fp_flows *f, uint32_t i)
{
	uint32_t *slot;

	(void)keymap_del(f->idx, &f->v[i].key);
	if (i != --f->n) {
		f->v[i] = f->v[f->n];
		if ((slot = keymap_get(f->idx, &f->v[i].key)) != NULL)
			*slot = i;
	}
	if (f->cursor >= f->n)
		f->cursor = 0;
}

/* Tell the engine what the kernel did since the last report. */
static void
report(struct fp_flows *f, struct dp_engine *e, struct fp_one *o,
    const struct lbd_fp_act *a)
{
	uint64_t dp = a->pkts - o->pkts, db = a->bytes - o->bytes;
	uint32_t last = 0;

	if (a->pkts < o->pkts || (dp == 0 && a->last_ns == o->last_ns))
		return;
	if (a->last_ns != o->last_ns)
		last = (uint32_t)(a->last_ns / 1000000u);
	o->pkts = a->pkts;
	o->bytes = a->bytes;
	o->last_ns = a->last_ns;
	dp_flow_seen(e, (const struct dp_tuple *)&o->key, dp, db, last,
	    a->seq_next);
}

static void
remove_one(struct fp_flows *f, struct dp_engine *e, const struct lbd_fp_key *k)
{
	uint32_t *slot = keymap_get(f->idx, k);
	struct lbd_fp_act a;

	if (slot == NULL) {
		(void)bpf_map_delete_elem(f->fd, k);
		return;
	}
	/* The last word of the kernel's counters before they go. */
	if (bpf_map_lookup_elem(f->fd, k, &a) == 0)
		report(f, e, &f->v[*slot], &a);
	(void)bpf_map_delete_elem(f->fd, k);
	drop_at(f, *slot);
	f->st.removed++;
}

static void
install(struct fp_flows *f, const struct dp_flow *fl)
{
	struct lbd_fp_key k;
	struct lbd_fp_act a;
	uint32_t *slot;
	int r;

	fp_flow_to_kernel(fl, &k, &a);
	if (f->n == f->cap && f->cap < f->max) {
		uint32_t nc = f->cap * 2 < f->max ? f->cap * 2 : f->max;
		struct fp_one *nv = realloc(f->v, nc * sizeof(*nv));

		if (nv != NULL) {
			f->v = nv;
			f->cap = nc;
		}
	}
	if (f->n == f->cap || bpf_map_update_elem(f->fd, &k, &a, BPF_ANY) != 0) {
		/* The engine still forwards it, packet by packet. */
		f->st.install_failed++;
		return;
	}
	if ((r = keymap_put(f->idx, &k, f->n, &slot)) < 0) {
		(void)bpf_map_delete_elem(f->fd, &k);
		f->st.install_failed++;
		return;
	}
	if (r == 0) {			/* replaced: counters start again */
		f->v[*slot].pkts = f->v[*slot].bytes = f->v[*slot].last_ns = 0;
		return;
	}
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	f->v[f->n++].key = k;
	f->st.installed++;
}

/* The ring overflowed: some removals never reached us. Every flow the
 * engine no longer has leaves the kernel. */
static void
reconcile(struct fp_flows *f, struct dp_engine *e)
{
	for (uint32_t i = 0; i < f->n;) {
		if (dp_flow_valid(e, (const struct dp_tuple *)&f->v[i].key)) {
			i++;
			continue;
		}
		(void)bpf_map_delete_elem(f->fd, &f->v[i].key);
		drop_at(f, i);
		f->st.reconciled++;
	}
}

void
fp_flows_apply(struct fp_flows *f, struct dp_engine *e)
{
	struct dp_flow_op ops[OPS_BATCH];
	size_t n;

	while ((n = dp_flow_ops(e, ops, OPS_BATCH)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (ops[i].add)
				install(f, &ops[i].f);
			else
				remove_one(f, e, (const struct lbd_fp_key *)
				    &ops[i].f.key);
		}
	if (dp_engine_stats(e)->offload_lost != f->lost_seen) {
		f->lost_seen = dp_engine_stats(e)->offload_lost;
		reconcile(f, e);
	}
}

void
fp_flows_poll(struct fp_flows *f, struct dp_engine *e, uint32_t budget)
{
	struct lbd_fp_act a;

	for (uint32_t k = 0; k < budget && k < f->n; k++) {
		if (f->cursor >= f->n)
			f->cursor = 0;
		if (bpf_map_lookup_elem(f->fd, &f->v[f->cursor].key, &a) == 0)
			report(f, e, &f->v[f->cursor], &a);
		f->cursor++;
	}
}

void
fp_flows_probe(void *arg, struct dp_engine *e, const struct dp_tuple *key)
{
	struct fp_flows *f = arg;
	uint32_t *slot = keymap_get(f->idx, key);
	struct lbd_fp_act a;

	if (slot != NULL && bpf_map_lookup_elem(f->fd, key, &a) == 0)
		report(f, e, &f->v[*slot], &a);
}

void
fp_flows_stats(const struct fp_flows *f, struct fp_flows_stats *st)
{
	*st = f->st;
}

uint32_t
fp_flows_count(const struct fp_flows *f)
{
	return f->n;
}
