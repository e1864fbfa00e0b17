/*
 * The connections the engine hands to the kernel fast path (see dp.h,
 * struct dp_flow).
 *
 * Once a connection is established (TCP: the client's ACK completed the
 * handshake; UDP: its first packet), the engine writes down, direction by
 * direction, the translation it has been applying: the packet as it
 * arrives and as it leaves, with the egress and Ethernet addresses its
 * route and neighbour tables give. The I/O layer puts those flows into the
 * kernel's table and the TC program applies them to the packets that
 * follow; the engine is the oracle the program's tests compare against.
 *
 * The engine takes a flow back whenever it must see the connection's
 * packets again: a FIN or RST (the program hands those over anyway), the
 * entry freed (closed, expired, evicted, replaced), the peer forwarding the
 * connection now, its backend to be reset, or a route, link or neighbour
 * that changed (the next packet of each connection comes through here and
 * installs it again with what is true now).
 *
 * Pure: operations leave through a ring (dp_flow_ops); what the kernel saw
 * comes back through dp_flow_seen, and through the probe before an
 * offloaded connection that looks idle expires.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lbd/engine/engine_int.h"

int
offload_init(struct dp_engine *e)
{
	if (e->par.offload == 0)
		return 0;
	e->fops = calloc(e->par.offload, sizeof(*e->fops));
	return e->fops != NULL ? 0 : -1;
}

void
offload_destroy(struct dp_engine *e)
{
	free(e->fops);
	e->fops = NULL;
}

static bool
push(struct dp_engine *e, bool add, const struct dp_flow *f)
{
	struct dp_flow_op *o;

	if (e->fops_len == e->par.offload) {
		e->stats.offload_lost++;
		return false;
	}
	o = &e->fops[(e->fops_head + e->fops_len++) % e->par.offload];
	o->add = add;
	o->f = *f;
	return true;
}

size_t
dp_flow_ops(struct dp_engine *e, struct dp_flow_op *out, size_t max)
{
	size_t n = 0;

	while (n < max && e->fops_len > 0) {
		out[n++] = e->fops[e->fops_head];
		e->fops_head = (e->fops_head + 1) % e->par.offload;
		e->fops_len--;
	}
	return n;
}

/*
 * Direction `d` of entry `ce` as a flow, as fwd_orig and fwd_reply would
 * treat its packets: false when the engine could not forward one now (no
 * route, or no MAC for the next hop yet).
 */
static bool
flow_of(const struct dp_engine *e, const struct ct_entry *ce, enum ct_dir d,
    struct dp_flow *f)
{
	const struct dp_tuple *o = &ce->t[CT_ORIG], *r = &ce->t[CT_REPLY];
	const struct dp_service *ts;
	const uint8_t *to, *nh;
	const struct neigh *n;
	uint16_t ifidx;

	memset(f, 0, sizeof(*f));
	f->dir = (uint8_t)d;
	f->key = ce->t[d];
	f->out = ce->t[d];
	if (d == CT_ORIG) {
		/* To the backend; in snat mode from the pool address. */
		to = r->src;
		if (ce->mode != DP_MODE_DSR) {
			memcpy(f->out.dst, r->src, 16);
			f->out.dport = r->sport;
			if (ce->mode == DP_MODE_SNAT) {
				memcpy(f->out.src, r->dst, 16);
				f->out.sport = r->dport;
			}
		}
	} else {
		/* Back to the client, from the VIP. */
		if (ce->mode == DP_MODE_DSR)
			return false;	/* replies do not come this way */
		to = o->src;
		memcpy(f->out.src, o->dst, 16);
		f->out.sport = o->dport;
		if (ce->mode == DP_MODE_SNAT) {
			memcpy(f->out.dst, o->src, 16);
			f->out.dport = o->sport;
		}
	}
	if (!route(e, o->family, to, &ifidx, &nh))
		return false;
	if ((ts = tun_service(e, ce)) != NULL) {
		/* Tunnelled: routed to the backend inside the outer header,
		 * as fwd_tunnel sends it. */
		if (!tun_encap_of(e, ts, ce, ifidx, &f->encap))
			return false;
	} else if (ce->mode == DP_MODE_DSR)
		nh = to;	/* the backend's own MAC, whatever the route */
	if ((n = neigh_find(e, o->family, nh)) == NULL)
		return false;
	memcpy(f->dmac, n->mac, 6);
	memcpy(f->smac, e->ifs[ifidx].mac, 6);
	f->ifindex = e->ifs[ifidx].ifindex;
	f->mtu = e->ifs[ifidx].mtu;
	f->ttl = ce->mode != DP_MODE_DSR;
	return true;
}

void
offload_try(struct dp_engine *e, uint32_t idx)
{
	struct ct_entry *ce = &e->ct.e[idx];
	struct dp_flow fo, fr;
	bool orig, reply;

	if (e->par.offload == 0 || (ce->flags & CT_F_OFFLOADED) ||
	    (ce->state != CT_ESTABLISHED && ce->state != CT_UDP) ||
	    (ce->flags & CT_F_MIRRORED))
		return;
	/* Both directions or none (dsr: the one): a half-offloaded entry
	 * would be two kinds of connection at once. Try again at the next
	 * packet when a MAC is missing. */
	orig = flow_of(e, ce, CT_ORIG, &fo);
	reply = ce->mode == DP_MODE_DSR || flow_of(e, ce, CT_REPLY, &fr);
	if (!orig || !reply)
		return;
	/* Room for both, and for the removals that will follow. */
	if (e->fops_len + 2 > e->par.offload / 2) {
		e->stats.offload_lost++;
		return;
	}
	(void)push(e, true, &fo);
	ce->flags |= CT_F_OFF_ORIG;
	if (ce->mode != DP_MODE_DSR) {
		(void)push(e, true, &fr);
		ce->flags |= CT_F_OFF_REPLY;
	}
	e->stats.offloaded++;
}

void
offload_revoke(struct dp_engine *e, struct ct_entry *ce)
{
	struct dp_flow f;

	if (!(ce->flags & CT_F_OFFLOADED))
		return;
	memset(&f, 0, sizeof(f));
	for (int d = CT_ORIG; d <= CT_REPLY; d++)
		if (ce->flags & (d == CT_ORIG ? CT_F_OFF_ORIG : CT_F_OFF_REPLY)) {
			f.key = ce->t[d];
			f.dir = (uint8_t)d;
			(void)push(e, false, &f);
		}
	ce->flags &= (uint8_t)~CT_F_OFFLOADED;
	e->stats.unloaded++;
}

void
offload_revoke_backend(struct dp_engine *e, uint32_t svc, uint32_t b)
{
	for (uint32_t i = 0; i < e->ct.cap; i++) {
		struct ct_entry *ce = &e->ct.e[i];

		if (ce->state != CT_NONE && ce->svc == svc && ce->backend == b)
			offload_revoke(e, ce);
	}
}

void
dp_flows_revoke(struct dp_engine *e)
{
	for (uint32_t i = 0; i < e->ct.cap; i++)
		if (e->ct.e[i].state != CT_NONE)
			offload_revoke(e, &e->ct.e[i]);
}

bool
dp_flow_valid(const struct dp_engine *e, const struct dp_tuple *key)
{
	enum ct_dir dir;
	uint32_t idx = ct_lookup(&e->ct, key, &dir);

	return idx != CT_NIL && (e->ct.e[idx].flags &
	    (dir == CT_ORIG ? CT_F_OFF_ORIG : CT_F_OFF_REPLY));
}

void
dp_flow_seen(struct dp_engine *e, const struct dp_tuple *key, uint64_t pkts,
    uint64_t bytes, uint32_t last, uint32_t seq_next)
{
	enum ct_dir dir;
	uint32_t idx = ct_lookup(&e->ct, key, &dir);
	struct ct_entry *ce;
	struct dp_service *s;
	struct dp_counters *c[2] = { NULL, NULL };

	if (idx == CT_NIL)
		return;
	ce = &e->ct.e[idx];
	if (seq_next != 0 && ce->t[0].proto == DP_PROTO_TCP &&
	    (ce->pkts[dir] == 0 || (int32_t)(seq_next - ce->seq[dir]) > 0))
		ce->seq[dir] = seq_next;
	ce->pkts[dir] += (uint32_t)pkts;
	/* The kernel's clock is the engine's (CLOCK_MONOTONIC): newer
	 * activity keeps the entry (ct_expire requeues it). */
	if (last != 0 && (int32_t)(last - ce->last_seen) > 0)
		ce->last_seen = last;
	/* A dsr flow the kernel forwards proves itself there. */
	if (ct_probation_over(ce))
		ct_prove(&e->ct, idx);
	if (ce->svc == ORPHAN || ce->svc >= e->n_svc)
		return;
	s = &e->svc[ce->svc];
	c[0] = &s->cnt;
	if (ce->backend < dp_nb_all(s))
		c[1] = &s->b[ce->backend].cnt;
	for (int k = 0; k < 2; k++) {
		if (c[k] == NULL)
			continue;
		if (dir == CT_ORIG) {
			c[k]->pkts_in += pkts;
			c[k]->bytes_in += bytes;
		} else {
			c[k]->pkts_out += pkts;
			c[k]->bytes_out += bytes;
		}
	}
}

void
dp_set_flow_probe(struct dp_engine *e, dp_flow_probe_fn fn, void *arg)
{
	e->probe = fn;
	e->probe_arg = arg;
}

/* ct_expire's question before an offloaded entry is judged idle. */
void
offload_refresh(void *arg, struct ct_entry *ce)
{
	struct dp_engine *e = arg;

	if (e->probe == NULL)
		return;
	if (ce->flags & CT_F_OFF_ORIG)
		e->probe(e->probe_arg, e, &ce->t[CT_ORIG]);
	if (ce->flags & CT_F_OFF_REPLY)
		e->probe(e->probe_arg, e, &ce->t[CT_REPLY]);
}
