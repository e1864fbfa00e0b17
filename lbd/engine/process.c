/*
 * dp_process(): one frame, in place.
 *
 *   parse -> ICMP error?  -> translate the error and its embedded packet
 *         -> conn lookup  -> hit: forward (orig) or un-NAT (reply)
 *         -> service?     -> new connection: schedule, enter, forward
 *         -> otherwise PASS to the kernel
 *
 * Address rewrites update checksums incrementally (RFC 1624). ICMP errors are
 * rare and their checksums are recomputed whole.
 */
#include <arpa/inet.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/csum.h"
#include "lbd/engine/engine_int.h"

static void
verdict_drop(struct dp_engine *e, struct dp_verdict *v, enum dp_drop r,
    int32_t svc)
{
	v->action = DP_DROP;
	v->reason = (uint8_t)r;
	v->svc = svc;
	e->stats.drops[r]++;
	if (svc >= 0)
		e->svc[svc].drops[r]++;
}

static void
verdict_pass(struct dp_engine *e, struct dp_verdict *v)
{
	v->action = DP_PASS;
	e->stats.pass++;
}

static inline uint8_t *
addr_ptr(uint8_t *f, const struct dp_l34 *ip, bool src)
{
	if (ip->family == 4)
		return f + ip->l3_off + (src ? 12 : 16);
	return f + ip->l3_off + (src ? 8 : 24);
}

static inline uint8_t *
l4_csum_ptr(uint8_t *f, const struct dp_l34 *ip)
{
	if (ip->proto == DP_PROTO_TCP)
		return f + ip->l4_off + 16;
	return f + ip->l4_off + 6;	/* UDP */
}

/* Replace one side's address and port of the outer packet. */
static void
nat_side(uint8_t *f, const struct dp_l34 *ip, bool src, const uint8_t *addr,
    uint16_t port)
{
	size_t al = addr_len(ip->family);
	uint8_t *a = addr_ptr(f, ip, src);
	uint8_t *pp = f + ip->l4_off + (src ? 0 : 2);
	uint8_t *cp = l4_csum_ptr(f, ip);
	uint16_t csum, old_port;
	/* IPv4 UDP may carry no checksum (0), and must keep carrying none. */
	bool l4 = !(ip->family == 4 && ip->proto == DP_PROTO_UDP &&
	    cp[0] == 0 && cp[1] == 0);

	memcpy(&csum, cp, 2);
	if (memcmp(a, addr, al) != 0) {
		if (ip->family == 4) {
			uint16_t hc;
			memcpy(&hc, f + ip->l3_off + 10, 2);
			hc = csum_replace(hc, a, addr, 4);
			memcpy(f + ip->l3_off + 10, &hc, 2);
		}
		if (l4)
			csum = csum_replace(csum, a, addr, al);
		memcpy(a, addr, al);
	}
	memcpy(&old_port, pp, 2);
	if (old_port != port) {
		if (l4)
			csum = csum_replace16(csum, old_port, port);
		memcpy(pp, &port, 2);
	}
	if (l4) {
		if (ip->proto == DP_PROTO_UDP && csum == 0)
			csum = 0xffff;	/* 0 means "none" for UDP */
		memcpy(cp, &csum, 2);
	}
}

/* Forwarding is a router hop: TTL/hop limit down by one. */
static bool
ttl_dec(uint8_t *f, const struct dp_l34 *ip)
{
	if (ip->family == 4) {
		uint8_t *t = f + ip->l3_off + 8;
		uint16_t old, new, hc;

		if (*t <= 1)
			return false;
		memcpy(&old, t, 2);
		(*t)--;
		memcpy(&new, t, 2);
		memcpy(&hc, f + ip->l3_off + 10, 2);
		hc = csum_replace16(hc, old, new);
		memcpy(f + ip->l3_off + 10, &hc, 2);
		return true;
	}
	if (f[ip->l3_off + 7] <= 1)
		return false;
	f[ip->l3_off + 7]--;
	return true;
}

/*
 * Ethernet addresses for the next hop toward `dst`. `direct`: the next hop is
 * `dst` itself whatever the route says (DSR needs the backend's own MAC).
 */
static bool l2_send(struct dp_engine *, uint8_t *f, const struct dp_l34 *,
    uint16_t ifidx, const uint8_t *nh, struct dp_verdict *, int32_t svc);

static bool
l2_out(struct dp_engine *e, uint8_t *f, const struct dp_l34 *ip,
    const uint8_t *dst, bool direct, struct dp_verdict *v, int32_t svc)
{
	const uint8_t *nh;
	uint16_t ifidx;

	if (!route(e, ip->family, dst, &ifidx, &nh)) {
		verdict_drop(e, v, DP_DROP_NO_ROUTE, svc);
		return false;
	}
	return l2_send(e, f, ip, ifidx, direct ? dst : nh, v, svc);
}

/* ... to next hop `nh` out of interface `ifidx`, the route known. */
static bool
l2_send(struct dp_engine *e, uint8_t *f, const struct dp_l34 *ip,
    uint16_t ifidx, const uint8_t *nh, struct dp_verdict *v, int32_t svc)
{
	const struct neigh *n;

	if (ip->l3_len > e->ifs[ifidx].mtu) {
		verdict_drop(e, v, DP_DROP_TOO_BIG, svc);
		return false;
	}
	if ((n = neigh_find(e, ip->family, nh)) == NULL) {
		/* Never send to a zero MAC: ask the caller to resolve, and
		 * keep the frame meanwhile if there is room. */
		want_resolve(e, ip->family, ifidx, nh);
		if (hold_put(e, f, v->len, ip->family, nh, ifidx, svc)) {
			v->action = DP_HELD;
			v->ifidx = ifidx;
			v->svc = svc;
			return false;
		}
		verdict_drop(e, v, DP_DROP_NEIGH_UNRESOLVED, svc);
		return false;
	}
	memcpy(f, n->mac, 6);
	memcpy(f + 6, e->ifs[ifidx].mac, 6);
	v->action = DP_TX;
	v->ifidx = ifidx;
	e->stats.tx++;
	return true;
}

static void
count(struct dp_engine *e, const struct ct_entry *ce, bool in, uint32_t len)
{
	struct dp_service *s;
	struct dp_backend *b;

	if (ce->svc == ORPHAN || ce->svc >= e->n_svc)
		return;
	s = &e->svc[ce->svc];
	b = ce->backend < dp_nb_all(s) ? &s->b[ce->backend] : NULL;
	if (in) {
		s->cnt.pkts_in++;
		s->cnt.bytes_in += len;
		if (b != NULL) {
			b->cnt.pkts_in++;
			b->cnt.bytes_in += len;
		}
	} else {
		s->cnt.pkts_out++;
		s->cnt.bytes_out += len;
		if (b != NULL) {
			b->cnt.pkts_out++;
			b->cnt.bytes_out += len;
		}
	}
}

static int32_t
svc_of(const struct ct_entry *ce)
{
	return ce->svc == ORPHAN ? -1 : (int32_t)ce->svc;
}

/*
 * Larger than the link toward dst: dropped, and answered with an ICMP
 * error when the rules allow (icmp_send.c). Checked before any rewrite, so
 * that the error quotes the packet as its sender sent it; only packets over
 * the smallest link's MTU pay for the route lookup.
 */
static bool
too_big(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    const uint8_t *dst, struct dp_verdict *v)
{
	uint16_t ifidx, in_if = v->ifidx;
	const uint8_t *nh;

	if (p->ip.l3_len <= e->min_mtu ||
	    !route(e, p->ip.family, dst, &ifidx, &nh) ||
	    p->ip.l3_len <= e->ifs[ifidx].mtu)
		return false;
	verdict_drop(e, v, DP_DROP_TOO_BIG, v->svc);
	icmp_send_error(e, f, cap, p, in_if, ICMP_TOO_BIG, e->ifs[ifidx].mtu, v);
	return true;
}

/* TTL or hop limit down by one, or the packet ends here with an ICMP
 * time exceeded to its sender. */
static bool
hop(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    struct dp_verdict *v)
{
	uint16_t in_if = v->ifidx;

	if (ttl_dec(f, &p->ip))
		return true;
	verdict_drop(e, v, DP_DROP_TTL_EXCEEDED, v->svc);
	icmp_send_error(e, f, cap, p, in_if, ICMP_TIME_EXCEEDED, 0, v);
	return false;
}

/*
 * Client -> a tunnelled dsr service's backend: the packet whole inside the
 * outer header (tunnel.c), routed toward the backend as any packet lbd
 * sends. Too big once wrapped: the sender learns the link's MTU less the
 * tunnel's bytes.
 */
static void
fwd_tunnel(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    const struct ct_entry *ce, const struct dp_service *s, struct dp_verdict *v)
{
	const uint8_t *be = ce->t[CT_REPLY].src, *nh;
	uint32_t hl = tun_overhead(s->tunnel, s->family);
	uint16_t ifidx, in_if = v->ifidx;
	struct dp_l34 outer = p->ip;
	struct dp_encap x;

	if (!route(e, p->ip.family, be, &ifidx, &nh)) {
		verdict_drop(e, v, DP_DROP_NO_ROUTE, v->svc);
		return;
	}
	if (p->ip.l3_len + hl > e->ifs[ifidx].mtu) {
		verdict_drop(e, v, DP_DROP_TOO_BIG, v->svc);
		icmp_send_error(e, f, cap, p, in_if, ICMP_TOO_BIG,
		    e->ifs[ifidx].mtu - hl, v);
		return;
	}
	if (!tun_encap_of(e, s, ce, ifidx, &x)) {
		verdict_drop(e, v, DP_DROP_TUNNEL_NO_SOURCE, v->svc);
		return;
	}
	if (v->len + hl > cap) {
		verdict_drop(e, v, DP_DROP_TOO_BIG, v->svc);
		return;
	}
	tun_push(f + p->ip.l3_off, v->len - p->ip.l3_off, p->ip.l3_len, &x);
	v->len += hl;
	outer.l3_len += hl;
	l2_send(e, f, &outer, ifidx, nh, v, v->svc);
}

/* Client -> backend. */
static void
fwd_orig(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    const struct ct_entry *ce, struct dp_verdict *v)
{
	const struct dp_tuple *r = &ce->t[CT_REPLY];
	const struct dp_service *ts;

	v->svc = svc_of(ce);
	count(e, ce, true, v->len);
	if ((ts = tun_service(e, ce)) != NULL) {
		fwd_tunnel(e, f, cap, p, ce, ts, v);
		return;
	}
	if (too_big(e, f, cap, p, r->src, v))
		return;
	if (ce->mode == DP_MODE_DSR) {
		l2_out(e, f, &p->ip, r->src, true, v, v->svc);
		return;
	}
	if (!hop(e, f, cap, p, v))
		return;
	nat_side(f, &p->ip, false, r->src, r->sport);
	if (ce->mode == DP_MODE_SNAT)
		nat_side(f, &p->ip, true, r->dst, r->dport);
	l2_out(e, f, &p->ip, r->src, false, v, v->svc);
}

/* Backend -> client. */
static void
fwd_reply(struct dp_engine *e, uint8_t *f, uint32_t cap,
    const struct dp_pkt *p, const struct ct_entry *ce, struct dp_verdict *v)
{
	const struct dp_tuple *o = &ce->t[CT_ORIG];

	v->svc = svc_of(ce);
	if (ce->mode == DP_MODE_DSR) {
		verdict_pass(e, v);	/* DSR replies do not come back this way */
		return;
	}
	count(e, ce, false, v->len);
	if (too_big(e, f, cap, p, o->src, v) || !hop(e, f, cap, p, v))
		return;
	nat_side(f, &p->ip, true, o->dst, o->dport);
	if (ce->mode == DP_MODE_SNAT)
		nat_side(f, &p->ip, false, o->src, o->sport);
	l2_out(e, f, &p->ip, o->src, false, v, v->svc);
}

/*
 * Refuse a TCP SYN cleanly: turn the frame into the RST+ACK that answers it
 * and send it back where it came from.
 */
static void
send_rst(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    uint16_t in_if, struct dp_verdict *v)
{
	const struct dp_l34 *ip = &p->ip;
	uint8_t mac[6], src[16], dst[16];
	uint32_t seq, ack, paylen;
	uint16_t sport, dport;
	size_t hl = ip->family == 4 ? 20 : 40;
	uint8_t *l3 = f + ip->l3_off, *th;
	uint8_t fl = ip->tcp_flags;

	if ((size_t)ip->l3_off + hl + 20 > cap)
		return;
	paylen = (uint32_t)(ip->l3_off + ip->l3_len - ip->l4_off) -
	    (uint32_t)((f[ip->l4_off + 12] >> 4) * 4);
	memcpy(&seq, f + ip->l4_off + 4, 4);
	memcpy(&ack, f + ip->l4_off + 8, 4);
	memcpy(&sport, f + ip->l4_off, 2);
	memcpy(&dport, f + ip->l4_off + 2, 2);
	memcpy(src, ip->src, 16);
	memcpy(dst, ip->dst, 16);

	memcpy(mac, f, 6);		/* our MAC, as the client addressed it */
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	dp_ip_header(l3, ip->family, DP_PROTO_TCP, dst, src, 20, 0, true);
	th = l3 + hl;
	memset(th, 0, 20);
	memcpy(th, &dport, 2);
	memcpy(th + 2, &sport, 2);
	/* RFC 9293 3.10.7.1: seq from the segment's ACK if any, and ACK what
	 * it occupied (SYN and FIN count one each). */
	if (fl & DP_TCP_ACK)
		memcpy(th + 4, &ack, 4);
	ack = htonl(ntohl(seq) + paylen + ((fl & DP_TCP_SYN) ? 1 : 0) +
	    ((fl & DP_TCP_FIN) ? 1 : 0));
	memcpy(th + 8, &ack, 4);
	th[12] = 5 << 4;
	th[13] = DP_TCP_RST | DP_TCP_ACK;
	{
		uint16_t c = csum_l4(ip->family == 4 ? 4 : 6, l3 + (ip->family == 4 ? 12 : 8),
		    l3 + (ip->family == 4 ? 16 : 24), DP_PROTO_TCP, th, 20);
		memcpy(th + 16, &c, 2);
	}
	v->action = DP_TX;
	v->ifidx = in_if;
	v->len = (uint32_t)(ip->l3_off + hl + 20);
	e->stats.tx++;
	e->stats.rst_sent++;
}

/* A TCP segment's sequence and acknowledgment numbers (host order) and
 * payload bytes; the parser checked the header is whole. */
static void
tcp_numbers(const uint8_t *f, const struct dp_l34 *ip, uint32_t *seq,
    uint32_t *ack, uint32_t *len)
{
	uint32_t hl;

	*seq = *ack = *len = 0;
	if (ip->proto != DP_PROTO_TCP)
		return;
	memcpy(seq, f + ip->l4_off + 4, 4);
	memcpy(ack, f + ip->l4_off + 8, 4);
	*seq = ntohl(*seq);
	*ack = ntohl(*ack);
	hl = (uint32_t)(ip->l4_off - ip->l3_off) + (uint32_t)(f[ip->l4_off + 12] >> 4) * 4;
	*len = ip->l3_len > hl ? ip->l3_len - hl : 0;
}

static void
tuple_of(struct dp_tuple *t, const struct dp_l34 *ip)
{
	memcpy(t->src, ip->src, 16);
	memcpy(t->dst, ip->dst, 16);
	t->sport = ip->sport;
	t->dport = ip->dport;
	t->proto = ip->proto;
	t->family = ip->family;
	t->zero = 0;
}

/*
 * A SNAT port for pool address `pi`. With several workers a reply is steered
 * by its port unless it is addressed to a service (a pool address can be a
 * VIP): a port that is a service port there stays taken, never handed out.
 */
static bool
take_port(struct dp_engine *e, const struct dp_service *s, uint32_t pi,
    struct snat_space *sp, uint16_t *port)
{
	while (snat_port_take(&e->snat, sp, port)) {
		if (e->par.workers <= 1 || svc_lookup(e, s->family, s->snat[pi],
		    s->proto, htons(*port)) < 0)
			return true;
	}
	return false;
}

/* Does an entry hold a port of this backend's SNAT spaces? */
struct reclaim {
	struct dp_engine	*e;
	const struct dp_service	*s;
	const struct dp_backend	*b;
};

static bool
holds_port_of(void *arg, const struct ct_entry *ce)
{
	const struct reclaim *r = arg;
	const struct snat_space *sp;

	if (!(ce->flags & CT_F_SNAT) || (sp = entry_space(r->e, ce)) == NULL)
		return false;
	for (uint32_t k = 0; k < r->s->n_snat; k++)
		if (r->b->snat[k] == sp)
			return true;
	return false;
}

/* A SNAT address and port for a new connection to backend `bi`, from the
 * pool in turn. With every port taken, one held by an unproven entry (a
 * SYN flood's, most likely) is taken back first: a flood through one
 * address and backend exhausts its 64,512 ports long before a large table
 * fills. */
static bool
snat_pick(struct dp_engine *e, struct dp_service *s, uint32_t bi,
    struct dp_tuple *r, uint32_t now)
{
	struct reclaim rc = { e, s, &s->b[bi] };
	uint32_t own = dp_snat_own(s);

	for (int round = 0; round < 2; round++) {
		for (uint32_t k = 0; k < own; k++) {
			uint32_t pi = (s->snat_next + k) % own;
			struct snat_space *sp = s->b[bi].snat[pi];
			uint16_t port;

			if (sp != NULL && take_port(e, s, pi, sp, &port)) {
				memcpy(r->dst, s->snat[pi], 16);
				r->dport = htons(port);
				s->snat_next = pi + 1;
				return true;
			}
		}
		if (round > 0 || !ct_evict(&e->ct, 256, holds_port_of, &rc))
			break;
		e->stats.snat_reclaimed++;
	}
	return false;
}

/*
 * A stateless dsr service whose packet finds no room in the table: it is
 * forwarded by hash all the same -- that is what stateless is for, and
 * the next packet of the flow hashes to the same backend.
 */
static void
fwd_unrecorded(struct dp_engine *e, uint8_t *f, uint32_t cap,
    const struct dp_pkt *p, const struct dp_tuple *t, int32_t si, int32_t bi,
    struct dp_verdict *v)
{
	const struct dp_service *s = &e->svc[si];
	struct ct_entry tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.t[CT_ORIG] = *t;
	memcpy(tmp.t[CT_REPLY].src, s->b[bi].addr, 16);
	tmp.t[CT_REPLY].sport = s->b[bi].port;
	tmp.mode = DP_MODE_DSR;
	tmp.svc = (uint16_t)si;
	tmp.backend = (uint16_t)bi;
	fwd_orig(e, f, cap, p, &tmp, v);
}

static void
new_conn(struct dp_engine *e, uint8_t *f, uint32_t cap, const struct dp_pkt *p,
    const struct dp_tuple *t, int32_t si, uint16_t in_if, uint32_t now,
    struct dp_verdict *v)
{
	struct dp_service *s = &e->svc[si];
	bool tcp = p->ip.proto == DP_PROTO_TCP;
	uint8_t fl = p->ip.tcp_flags & (DP_TCP_SYN | DP_TCP_ACK | DP_TCP_RST |
	    DP_TCP_FIN);
	bool syn = tcp && fl == DP_TCP_SYN;
	struct ct_entry *ce;
	struct dp_tuple *r;
	enum ct_dir dir;
	uint32_t idx;
	int32_t bi;

	v->svc = si;
	/* A mid-stream segment with no entry: only hash schedulers can place
	 * it where its connection was, and only if the service asked. */
	if (tcp && !syn && !(s->stateless && (s->sched == DP_SCHED_SH ||
	    s->sched == DP_SCHED_MAGLEV))) {
		verdict_drop(e, v, DP_DROP_NO_CONN, si);
		return;
	}
	/* Not this client: as if the service were not there for it (no
	 * RST, which would tell a scanner it is). Over its rate: dropped
	 * too, a SYN is retried by the client a second later. */
	if (!admit_allowed(s, t)) {
		verdict_drop(e, v, DP_DROP_NOT_ALLOWED, si);
		return;
	}
	if ((syn || !tcp) && !admit_rate(e, s, t, now)) {
		verdict_drop(e, v, DP_DROP_RATE_LIMITED, si);
		return;
	}
	if ((bi = persist_pick(e, (uint32_t)si, t, now)) < 0 &&
	    (bi = dp_sched_pick(s, t, e->par.sched_seed)) < 0 && s->has_fallback)
		bi = s->nb;	/* nobody takes new connections: the fallback */
	if (bi < 0) {
		/* Backends that would take it but are at their max-conns:
		 * told apart, it is a capacity problem, not a health one. */
		verdict_drop(e, v, s->n_avail > 0 ? DP_DROP_BACKENDS_FULL :
		    DP_DROP_NO_BACKEND, si);
		if (syn)
			send_rst(e, f, cap, p, in_if, v);
		return;
	}
	/* udp one-packet (dsr): this datagram alone, no entry; the next one
	 * from the same client port is scheduled again (IPVS's ops). */
	if (!tcp && s->one_packet) {
		s->b[bi].cnt.conns++;
		s->cnt.conns++;
		fwd_unrecorded(e, f, cap, p, t, si, bi, v);
		return;
	}
	if ((idx = ct_alloc(&e->ct, now)) == CT_NIL) {
		if (s->stateless && s->mode == DP_MODE_DSR && bi < (int32_t)s->nb) {
			e->stats.stateless_unrecorded++;
			fwd_unrecorded(e, f, cap, p, t, si, bi, v);
		} else
			verdict_drop(e, v, DP_DROP_TABLE_FULL, si);
		return;
	}
	ce = &e->ct.e[idx];
	ce->t[CT_ORIG] = *t;
	ce->mode = s->mode;
	ce->svc = (uint16_t)si;
	ce->backend = (uint16_t)bi;
	r = &ce->t[CT_REPLY];
	r->family = t->family;
	r->proto = t->proto;
	memcpy(r->src, s->b[bi].addr, 16);
	r->sport = s->b[bi].port;
	if (s->mode == DP_MODE_SNAT) {
		if (snat_pick(e, s, (uint32_t)bi, r, now)) {
			ce->flags |= CT_F_SNAT;
		} else {
			ct_abort(&e->ct, idx);
			verdict_drop(e, v, DP_DROP_SNAT_EXHAUSTED, si);
			if (syn)
				send_rst(e, f, cap, p, in_if, v);
			return;
		}
	} else {
		memcpy(r->dst, t->src, 16);
		r->dport = t->sport;
	}
	/* Two VIPs sending the same client port to one backend would share a
	 * reply tuple in routed mode: refuse the second rather than mix them. */
	if (ct_lookup(&e->ct, r, &dir) != CT_NIL) {
		if (ce->flags & CT_F_SNAT)
			snat_port_release(s->b[bi].snat[(s->snat_next +
			    dp_snat_own(s) - 1) % dp_snat_own(s)], ntohs(r->dport));
		ct_abort(&e->ct, idx);
		verdict_drop(e, v, DP_DROP_TUPLE_CONFLICT, si);
		return;
	}
	if (tcp) {
		uint32_t ack, len;

		/* Where the client is: past its SYN, or past this segment
		 * (a stateless service's mid-stream one). */
		tcp_numbers(f, &p->ip, &ce->seq[CT_ORIG], &ack, &len);
		ce->seq[CT_ORIG] += syn ? 1 : len;
		if (!syn && (p->ip.tcp_flags & DP_TCP_ACK))
			ce->seq[CT_REPLY] = ack;	/* where it says the backend is */
	}
	/* UDP, or a stateless service's mid-stream segment: open from its
	 * first packet, but unproven (and so not offloaded) until a reply
	 * or, in dsr, its probation says it is not a flood's. */
	ct_commit(&e->ct, idx, tcp ? (syn ? CT_SYN_SENT : CT_ESTABLISHED) : CT_UDP,
	    now, 0);
	ce->pkts[CT_ORIG] = 1;
	s->b[bi].active++;
	s->b[bi].open++;
	s->b[bi].cnt.conns++;
	persist_record(e, (uint32_t)si, t, (uint32_t)bi, now);
	s->cnt.conns++;
	fwd_orig(e, f, cap, p, ce, v);
}

/* Passive health is on for the entry's service. */
static bool
observed(const struct dp_engine *e, const struct ct_entry *ce)
{
	return ce->svc != ORPHAN && ce->svc < e->n_svc &&
	    ce->backend < e->svc[ce->svc].nb && e->svc[ce->svc].observe;
}

/* Write a tuple over the embedded packet's addresses and ports. */
static void
icmp_inner_rewrite(uint8_t *f, uint32_t end, const struct dp_l34 *in,
    const struct dp_tuple *nt)
{
	size_t al = addr_len(in->family);
	uint8_t *sa = addr_ptr(f, in, true), *da = addr_ptr(f, in, false);
	uint8_t *l4 = f + in->l4_off;
	size_t csum_off = in->proto == DP_PROTO_TCP ? 16 : 6;
	bool have_csum = in->l4_off + csum_off + 2 <= end;
	uint16_t csum = 0;

	if (have_csum)
		memcpy(&csum, l4 + csum_off, 2);
	if (have_csum && !(in->proto == DP_PROTO_UDP && csum == 0)) {
		csum = csum_replace(csum, sa, nt->src, al);
		csum = csum_replace(csum, da, nt->dst, al);
		csum = csum_replace(csum, l4, &nt->sport, 2);
		csum = csum_replace(csum, l4 + 2, &nt->dport, 2);
		memcpy(l4 + csum_off, &csum, 2);
	}
	memcpy(sa, nt->src, al);
	memcpy(da, nt->dst, al);
	memcpy(l4, &nt->sport, 2);
	memcpy(l4 + 2, &nt->dport, 2);
	if (in->family == 4) {
		size_t ihl = (size_t)(f[in->l3_off] & 0x0f) * 4;
		uint16_t hc = 0;
		memcpy(f + in->l3_off + 10, &hc, 2);
		hc = csum_fold(csum_partial(f + in->l3_off, ihl, 0));
		memcpy(f + in->l3_off + 10, &hc, 2);
	}
}

/*
 * An ICMP error about a translated connection (fragmentation needed, packet
 * too big, unreachable): translate the outer destination and the embedded
 * packet so the host that sent the offending packet recognises it. This is
 * what keeps path MTU discovery working through routed and snat modes.
 */
static void
icmp_error(struct dp_engine *e, uint8_t *f, const struct dp_pkt *p,
    struct dp_verdict *v)
{
	const struct dp_l34 *ip = &p->ip;
	uint32_t end = (uint32_t)ip->l3_off + ip->l3_len;
	struct dp_tuple ti, rev;
	const struct ct_entry *ce;
	const struct dp_tuple *nt;
	const uint8_t *to;
	enum ct_dir dir;
	uint32_t idx;

	tuple_of(&ti, &p->inner);
	dp_tuple_reverse(&rev, &ti);
	if ((idx = ct_lookup(&e->ct, &rev, &dir)) == CT_NIL) {
		verdict_pass(e, v);	/* about traffic of the host's own */
		return;
	}
	ce = &e->ct.e[idx];
	v->svc = svc_of(ce);
	if (ce->mode == DP_MODE_DSR) {
		/* The backend sent the offending reply itself, from the VIP:
		 * hand it the error unchanged. */
		if (dir == CT_ORIG)
			l2_out(e, f, ip, ce->t[CT_REPLY].src, true, v, v->svc);
		else
			verdict_pass(e, v);
		return;
	}
	if (!ttl_dec(f, ip)) {
		verdict_drop(e, v, DP_DROP_TTL_EXCEEDED, v->svc);
		return;
	}
	if (dir == CT_ORIG) {
		/* About a packet we sent toward the client: it was the
		 * backend's reply, so the backend gets the error. */
		nt = &ce->t[CT_REPLY];
		to = ce->t[CT_REPLY].src;
	} else {
		/* About a packet we sent toward the backend: the client's. */
		nt = &ce->t[CT_ORIG];
		to = ce->t[CT_ORIG].src;
	}
	icmp_inner_rewrite(f, end, &p->inner, nt);
	memcpy(addr_ptr(f, ip, false), to, addr_len(ip->family));
	if (ip->family == 4) {
		size_t ihl = (size_t)(f[ip->l3_off] & 0x0f) * 4;
		uint16_t c = 0;
		memcpy(f + ip->l3_off + 10, &c, 2);
		c = csum_fold(csum_partial(f + ip->l3_off, ihl, 0));
		memcpy(f + ip->l3_off + 10, &c, 2);
		memset(f + ip->l4_off + 2, 0, 2);
		c = csum_fold(csum_partial(f + ip->l4_off, end - ip->l4_off, 0));
		memcpy(f + ip->l4_off + 2, &c, 2);
	} else {
		uint16_t c = 0;
		memcpy(f + ip->l4_off + 2, &c, 2);
		c = csum_l4(6, f + ip->l3_off + 8, f + ip->l3_off + 24,
		    DP_PROTO_ICMP6, f + ip->l4_off, end - ip->l4_off);
		memcpy(f + ip->l4_off + 2, &c, 2);
	}
	e->stats.icmp_translated++;
	l2_out(e, f, ip, to, false, v, v->svc);
}

/*
 * May the kernel forward this entry's packets? A proven one, yes. In dsr,
 * where the proof is time (CT_PROBATION_MS of traffic), a flow that looks
 * like a client's goes to the kernel at once -- a handshake whose ACK fit,
 * a second datagram -- or a bulk transfer would spend its first second in
 * the engine; the kernel's reports of its packets prove it later, and
 * until then it is evicted like any unproven entry. A single spoofed
 * packet never makes a flow.
 */
static bool
offloadable(const struct ct_entry *ce)
{
	return (ce->flags & CT_F_PROVEN) || (ce->mode == DP_MODE_DSR &&
	    (ce->state == CT_ESTABLISHED || ce->pkts[CT_ORIG] >= 2));
}

/* Is the entry's backend down with its connections to be reset? */
static bool
dead_backend(const struct dp_engine *e, const struct ct_entry *ce)
{
	return e->n_reset > 0 && ce->svc != ORPHAN && ce->backend != ORPHAN &&
	    ce->svc < e->n_svc && ce->backend < e->svc[ce->svc].nb &&
	    e->svc[ce->svc].b[ce->backend].reset;
}

/* Is this a packet whose connection is looked up (tuple and hash made)? */
static bool
lookup_candidate(const struct dp_pkt *p)
{
	return p->ip.family != 0 && !p->is_icmp_err && p->ip.frag == DP_FRAG_NONE &&
	    p->ip.l4_off != 0 &&
	    (p->ip.proto == DP_PROTO_TCP || p->ip.proto == DP_PROTO_UDP);
}

/* Everything after parsing; `t`/`h` are set when lookup_candidate(). */
static void
process_parsed(struct dp_engine *e, uint8_t *f, uint32_t cap, uint16_t in_if,
    uint32_t now, struct dp_verdict *v, const struct dp_pkt *p, enum dp_drop r,
    const struct dp_tuple *t, uint64_t h)
{
	enum ct_dir dir;
	uint32_t idx;
	int32_t si;

	v->svc = -1;
	v->ifidx = in_if;
	e->stats.rx++;
	if (r != DP_DROP_NONE) {
		verdict_drop(e, v, r, -1);
		return;
	}
	if (p->ip.family == 0) {
		verdict_pass(e, v);	/* ARP and other ethertypes */
		return;
	}
	if (p->is_icmp_err) {
		icmp_error(e, f, p, v);
		return;
	}
	if (p->ip.frag != DP_FRAG_NONE) {
		struct dp_tuple ft;
		/* Fragments of our traffic are not reassembled here: counted
		 * and dropped (PMTU discovery keeps TCP unfragmented). */
		if (is_vip(e, p->ip.family, p->ip.dst) ||
		    (p->ip.l4_off != 0 && (tuple_of(&ft, &p->ip),
		    ct_lookup(&e->ct, &ft, &dir) != CT_NIL)))
			verdict_drop(e, v, DP_DROP_FRAGMENT, -1);
		else
			verdict_pass(e, v);
		return;
	}
	if (!lookup_candidate(p)) {
		verdict_pass(e, v);	/* ping to a VIP and the like: the kernel */
		return;
	}
	if ((idx = ct_lookup_h(&e->ct, t, h, &dir)) != CT_NIL) {
		struct ct_entry *ce = &e->ct.e[idx];
		uint8_t fl = p->ip.tcp_flags & (DP_TCP_SYN | DP_TCP_ACK);

		if (dir == CT_ORIG && p->ip.proto == DP_PROTO_TCP &&
		    fl == DP_TCP_SYN && (ce->state == CT_TIME_WAIT ||
		    ce->state == CT_CLOSE || (ce->flags & CT_F_FIN_ORIG))) {
			/* The client reuses the port of a connection it has
			 * closed: a new connection, scheduled afresh. "Closed
			 * by the client" counts too: in dsr lbd never sees the
			 * server's FIN, so the entry stays in FIN_WAIT, and the
			 * new SYN went to the old backend past the scheduler. */
			ct_free(&e->ct, idx);
		} else if (dead_backend(e, ce)) {
			/* on-backend-down reset: end it now, so the client
			 * learns at once instead of retransmitting into a
			 * dead host; a UDP flow moves to a live backend. */
			bool tcp = p->ip.proto == DP_PROTO_TCP;

			v->svc = (int32_t)ce->svc;
			/* A TCP segment from the backend (a reply that was on
			 * its way): the backend gets the RST, the entry stays
			 * for the client's next segment (its retransmission of
			 * what this answered) to get its own. Freed now, the
			 * client would be left waiting, its segments then
			 * matching no connection. */
			if (tcp && dir == CT_REPLY) {
				verdict_drop(e, v, DP_DROP_BACKEND_DOWN, v->svc);
				if (!(p->ip.tcp_flags & DP_TCP_RST))
					send_rst(e, f, cap, p, in_if, v);
				return;
			}
			ct_free(&e->ct, idx);
			if (tcp || dir == CT_REPLY) {
				verdict_drop(e, v, DP_DROP_BACKEND_DOWN, v->svc);
				if (tcp && !(p->ip.tcp_flags & DP_TCP_RST))
					send_rst(e, f, cap, p, in_if, v);
				return;
			}
		} else {
			uint32_t seq, ack, len;
			bool failed = ce->state == CT_SYN_SENT &&
			    ce->pkts[CT_REPLY] == 0 && observed(e, ce) && (
			    /* refused: the backend's RST to the SYN */
			    (dir == CT_REPLY && (p->ip.tcp_flags & DP_TCP_RST)) ||
			    /* unanswered: the client's SYN again, a real
			     * retransmission's time later (in dsr the replies
			     * are not seen; spoofed SYNs rarely wait) */
			    (dir == CT_ORIG && fl == DP_TCP_SYN &&
			    ce->pkts[CT_ORIG] == 1 &&
			    now - ce->last_seen >= DP_SYN_RETRY_MS));

			tcp_numbers(f, &p->ip, &seq, &ack, &len);
			/* The kernel forwarded the rest: where are the sides? */
			if ((p->ip.tcp_flags & DP_TCP_RST) &&
			    (ce->flags & CT_F_OFFLOADED))
				offload_refresh(e, ce);
			if (ct_seen(&e->ct, idx, dir, p->ip.tcp_flags, seq, ack,
			    len, now) == CT_SEEN_BAD_RST) {
				/* Blind: whoever sent it cannot see the
				 * connection. Neither end would take it
				 * (RFC 5961); nor does the table. */
				verdict_drop(e, v, DP_DROP_RST_OUT_OF_WINDOW,
				    svc_of(ce));
				return;
			}
			if (failed)
				ct_event_observe(&e->ct, idx);
			if (dir == CT_ORIG)
				fwd_orig(e, f, cap, p, ce, v);
			else
				fwd_reply(e, f, cap, p, ce, v);
			/* Established: the kernel can take the rest, once
			 * offloadable(); closing (a FIN or RST): the engine
			 * must see it all again. */
			if (ce->state == CT_ESTABLISHED || ce->state == CT_UDP) {
				if (!offloadable(ce))
					return;
				if (v->action == DP_TX)
					offload_try(e, idx);
			} else
				offload_revoke(e, ce);
			return;
		}
	}
	if ((si = svc_lookup(e, p->ip.family, p->ip.dst, p->ip.proto,
	    p->ip.dport)) < 0) {
		verdict_pass(e, v);
		return;
	}
	new_conn(e, f, cap, p, t, si, in_if, now, v);
}

void
dp_process(struct dp_engine *e, uint8_t *f, uint32_t len, uint32_t cap,
    uint16_t in_if, uint32_t now, struct dp_verdict *v)
{
	struct dp_pkt p;
	struct dp_tuple t;
	uint64_t h = 0;
	enum dp_drop r = dp_parse(f, len, &p);

	e->now = now;
	v->len = len;
	if (r == DP_DROP_NONE && lookup_candidate(&p)) {
		tuple_of(&t, &p.ip);
		h = dp_tuple_hash(&t, e->ct.seed);
	}
	process_parsed(e, f, cap, in_if, now, v, &p, r, &t, h);
}

void
dp_process_batch(struct dp_engine *e, struct dp_frame *fr, uint32_t n,
    uint16_t in_if, uint32_t now, struct dp_verdict *v)
{
	struct dp_pkt p[DP_BATCH_MAX];
	struct dp_tuple t[DP_BATCH_MAX];
	uint64_t h[DP_BATCH_MAX];
	enum dp_drop r[DP_BATCH_MAX];
	bool look[DP_BATCH_MAX];

	if (n > DP_BATCH_MAX)
		n = DP_BATCH_MAX;
	e->now = now;
	/* 1: parse and hash everything, start loading the buckets */
	for (uint32_t i = 0; i < n; i++) {
		r[i] = dp_parse(fr[i].data, fr[i].len, &p[i]);
		v[i].len = fr[i].len;
		look[i] = r[i] == DP_DROP_NONE && lookup_candidate(&p[i]);
		if (look[i]) {
			tuple_of(&t[i], &p[i].ip);
			h[i] = dp_tuple_hash(&t[i], e->ct.seed);
			ct_prefetch_bucket(&e->ct, h[i]);
		}
	}
	/* 2: the buckets have arrived: start loading the first entries */
	for (uint32_t i = 0; i < n; i++)
		if (look[i])
			ct_prefetch_entry(&e->ct, h[i]);
	/* 3: process, mostly from cache now */
	for (uint32_t i = 0; i < n; i++)
		process_parsed(e, fr[i].data, fr[i].cap, in_if, now, &v[i], &p[i],
		    r[i], &t[i], h[i]);
}

const char *
dp_sync_verdict_name(enum dp_sync_verdict v)
{
	static const char *const names[DP_SYNC__COUNT] = {
		[DP_SYNC_APPLIED] = "applied", [DP_SYNC_INVALID] = "invalid",
		[DP_SYNC_NO_SERVICE] = "no_service", [DP_SYNC_MODE] = "mode",
		[DP_SYNC_NO_BACKEND] = "no_backend",
		[DP_SYNC_SNAT_ADDRESS] = "snat_address",
		[DP_SYNC_OURS] = "ours", [DP_SYNC_EXISTS] = "exists",
		[DP_SYNC_NO_ROOM] = "no_room", [DP_SYNC_NO_ENTRY] = "no_entry",
		[DP_SYNC_MOVED] = "moved",
	};

	return (unsigned)v < DP_SYNC__COUNT && names[v] != NULL ? names[v] : "?";
}

/*
 * Does the peer's record describe a connection of this node's
 * configuration? The peer is authenticated, but it may run another
 * configuration (a reload that reached one node only) or be confused: a
 * record for a service, backend or SNAT address we do not have would make
 * an entry that forwards where nothing here is configured to.
 */
static enum dp_sync_verdict
sync_fits(struct dp_engine *e, const struct ct_entry *in, int32_t *si_out,
    int32_t *bi_out)
{
	const struct dp_tuple *o = &in->t[CT_ORIG], *r = &in->t[CT_REPLY];
	const struct dp_service *s;
	size_t al;
	int32_t si, bi = -1;
	bool snat = (in->flags & CT_F_SNAT) != 0, pooled = false;

	if (in->state == CT_NONE || in->state >= CT_STATE__COUNT ||
	    in->mode > DP_MODE_DSR || (o->family != 4 && o->family != 6) ||
	    (o->proto != 6 && o->proto != 17) || r->family != o->family ||
	    r->proto != o->proto)
		return DP_SYNC_INVALID;
	if ((si = svc_lookup(e, o->family, o->dst, o->proto, o->dport)) < 0)
		return DP_SYNC_NO_SERVICE;
	s = &e->svc[si];
	if (in->mode != s->mode || snat != (s->mode == DP_MODE_SNAT))
		return DP_SYNC_MODE;
	for (uint32_t i = 0; i < dp_nb_all(s) && bi < 0; i++)
		if (s->b[i].port == r->sport &&
		    memcmp(s->b[i].addr, r->src, 16) == 0)
			bi = (int32_t)i;
	if (bi < 0)
		return DP_SYNC_NO_BACKEND;
	al = addr_len(o->family);
	if (snat) {
		for (uint32_t k = 0; k < s->n_snat && !pooled; k++)
			pooled = memcmp(s->snat[k], r->dst, al) == 0;
		if (!pooled)
			return DP_SYNC_SNAT_ADDRESS;
	} else if (memcmp(r->dst, o->src, al) != 0 || r->dport != o->sport)
		return DP_SYNC_INVALID;		/* the reply goes to the client */
	*si_out = si;
	*bi_out = bi;
	return DP_SYNC_APPLIED;
}

enum dp_sync_verdict
dp_insert_conn(struct dp_engine *e, const struct ct_entry *in, uint32_t now,
    uint8_t origin)
{
	enum dp_sync_verdict v;
	enum ct_dir dir;
	uint32_t idx;
	int32_t si = -1, bi = -1;

	if ((v = sync_fits(e, in, &si, &bi)) != DP_SYNC_APPLIED)
		return v;
	if (ct_lookup(&e->ct, &in->t[CT_ORIG], &dir) != CT_NIL ||
	    ct_lookup(&e->ct, &in->t[CT_REPLY], &dir) != CT_NIL)
		return DP_SYNC_EXISTS;
	if ((idx = ct_alloc(&e->ct, now)) == CT_NIL)
		return DP_SYNC_NO_ROOM;
	e->ct.e[idx].t[0] = in->t[0];
	e->ct.e[idx].t[1] = in->t[1];
	e->ct.e[idx].mode = in->mode;
	e->ct.e[idx].flags = in->flags & (CT_F_SNAT | CT_F_FIN_ORIG | CT_F_FIN_REPLY);
	e->ct.e[idx].svc = (uint16_t)si;
	e->ct.e[idx].backend = (uint16_t)bi;
	if (in->flags & CT_F_SNAT) {
		struct snat_space *sp = entry_space(e, &e->ct.e[idx]);
		if (sp == NULL || !snat_port_reserve(&e->snat, sp,
		    ntohs(in->t[CT_REPLY].dport))) {
			ct_abort(&e->ct, idx);
			return DP_SYNC_NO_ROOM;
		}
	}
	ct_commit(&e->ct, idx, (enum ct_state)in->state, now, origin);
	e->svc[si].b[bi].active++;
	e->svc[si].b[bi].open += ct_state_open(in->state);
	persist_record(e, (uint32_t)si, &in->t[CT_ORIG], (uint32_t)bi, now);
	return DP_SYNC_APPLIED;
}

enum dp_sync_verdict
dp_sync_upsert(struct dp_engine *e, const struct ct_entry *in, uint32_t now,
    bool holds, uint8_t origin)
{
	enum ct_dir dir;
	uint32_t idx = ct_lookup(&e->ct, &in->t[CT_ORIG], &dir);
	struct ct_entry *ce;
	enum dp_sync_verdict v;
	int32_t si, bi;
	bool moved;

	if (idx == CT_NIL)
		return dp_insert_conn(e, in, now, origin);
	if (dir != CT_ORIG)
		return DP_SYNC_INVALID;
	if ((v = sync_fits(e, in, &si, &bi)) != DP_SYNC_APPLIED)
		return v;
	ce = &e->ct.e[idx];
	/* The peer gives back one of ours after we restarted (its copy was
	 * mirrored): one we forward is right as it is here; a copy we hold
	 * of the peer's is renewed as by any upsert (its bulk marked it). */
	if ((in->flags & CT_F_MIRRORED) && !(ce->flags & CT_F_MIRRORED))
		return DP_SYNC_EXISTS;
	/* The client's port reused for another connection, or a peer that
	 * would send one of ours elsewhere. */
	moved = memcmp(&ce->t[CT_REPLY], &in->t[CT_REPLY], sizeof(ce->t[0])) != 0;
	if (moved && holds && !(ce->flags & CT_F_MIRRORED))
		return DP_SYNC_OURS;
	/* One of ours that the peer now forwards (it took the address, or
	 * failback gave it back): the peer's word is the newer one, so the
	 * entry becomes its mirrored copy, renewed and closed by the peer.
	 * Should a packet still reach us, ct_seen takes it back. */
	ce->flags |= CT_F_MIRRORED;
	ct_prove(&e->ct, idx);		/* the peer vouches for it */
	offload_revoke(e, ce);		/* the peer forwards it now */
	if (moved) {
		ct_free(&e->ct, idx);
		return dp_insert_conn(e, in, now, origin);
	}
	/* The last node to speak of it owns it (ECMP moved it there). */
	ct_set_origin(&e->ct, idx, origin);
	ce->flags |= in->flags & (CT_F_FIN_ORIG | CT_F_FIN_REPLY);
	ct_set_state(&e->ct, idx, (enum ct_state)in->state, now);
	ct_renew(&e->ct, idx, now);
	return DP_SYNC_APPLIED;
}

enum dp_sync_verdict
dp_sync_close(struct dp_engine *e, const struct dp_tuple *orig,
    uint8_t origin)
{
	enum ct_dir dir;
	uint32_t idx = ct_lookup(&e->ct, orig, &dir);

	if (idx == CT_NIL || dir != CT_ORIG)
		return DP_SYNC_NO_ENTRY;
	if (!(e->ct.e[idx].flags & CT_F_MIRRORED))
		return DP_SYNC_OURS;
	if (e->ct.origin[idx] != origin)
		return DP_SYNC_MOVED;
	ct_free(&e->ct, idx);
	return DP_SYNC_APPLIED;
}
