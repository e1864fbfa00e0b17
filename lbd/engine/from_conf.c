#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "lbd/engine/from_conf.h"

_Static_assert(CONF_SNAT_POOL_MAX <= DP_SNAT_MAX, "pool fits the engine");

void
dp_params_from_conf(const struct conf *c, struct dp_params *p)
{
	static const enum ct_class cls[CONF_TO__COUNT] = {
		[CONF_TO_TCP_SYN] = CT_CLASS_SYN,
		[CONF_TO_TCP_ESTABLISHED] = CT_CLASS_EST,
		[CONF_TO_TCP_FIN] = CT_CLASS_FIN,
		[CONF_TO_TCP_TIME_WAIT] = CT_CLASS_TIME_WAIT,
		[CONF_TO_TCP_CLOSE] = CT_CLASS_CLOSE,
		[CONF_TO_UDP] = CT_CLASS_UDP,
		[CONF_TO_UDP_UNREPLIED] = CT_CLASS_UDP_NEW,
	};

	memset(p, 0, sizeof(*p));
	p->conn_max = c->global.conn_table_size;
	p->events = 65536;
	ct_default_timeouts(&p->timeouts);
	for (int t = 0; t < CONF_TO__COUNT; t++)
		if (c->global.timeout_ms[t] != 0)
			p->timeouts.ms[cls[t]] = c->global.timeout_ms[t];
	p->maglev_size = DP_MAGLEV_DEFAULT;
	p->sched_seed = conf_hash_seed(&c->global);
}

/* Is `a` this node's own SNAT address (all are, without a cluster's
 * snat-addresses)? */
static int
snat_own(const struct conf *c, const struct conf_addr *a)
{
	if (c->cluster.n_snat_own == 0)
		return 1;
	for (size_t i = 0; i < c->cluster.n_snat_own; i++)
		if (conf_addr_equal(&c->cluster.snat_own[i], a))
			return 1;
	return 0;
}

int
dp_services_from_conf(const struct conf *c, struct dp_service **out,
    uint32_t *n)
{
	static const uint8_t modes[] = {
		[CONF_MODE_ROUTED] = DP_MODE_ROUTED,
		[CONF_MODE_SNAT] = DP_MODE_SNAT,
		[CONF_MODE_DSR] = DP_MODE_DSR,
	};
	static const uint8_t scheds[] = {
		[CONF_SCHED_RR] = DP_SCHED_RR, [CONF_SCHED_WRR] = DP_SCHED_WRR,
		[CONF_SCHED_LC] = DP_SCHED_LC, [CONF_SCHED_WLC] = DP_SCHED_WLC,
		[CONF_SCHED_SH] = DP_SCHED_SH, [CONF_SCHED_MAGLEV] = DP_SCHED_MAGLEV,
	};
	struct dp_service *v = calloc(c->n_services ? c->n_services : 1,
	    sizeof(*v));

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *cs = &c->services[i];
		struct dp_service *s = &v[i];

		conf_addr_a16(s->vip, &cs->vip);
		s->port = htons(cs->port);
		s->proto = cs->proto;
		s->family = conf_addr_fam(&cs->vip);
		s->mode = modes[cs->mode];
		s->sched = scheds[cs->sched];
		s->stateless = cs->stateless;
		s->quorum = (uint16_t)(cs->quorum ? cs->quorum : 1);
		s->limit_rate = cs->limit_rate;
		s->limit_burst = cs->limit_burst;
		s->persist_ms = cs->persist_ms;
		s->udp_timeout_ms = cs->udp_timeout_ms;
		s->one_packet = cs->one_packet;
		s->tunnel = cs->tunnel == CONF_TUNNEL_IPIP ? DP_TUN_IPIP :
		    cs->tunnel == CONF_TUNNEL_GUE ? DP_TUN_GUE : DP_TUN_NONE;
		s->tun_port = htons(cs->tunnel_port);
		if (cs->tunnel_src.family != 0) {
			s->tun_src.family = conf_addr_fam(&cs->tunnel_src);
			s->tun_src.plen = cs->tunnel_src.plen;
			conf_addr_a16(s->tun_src.addr, &cs->tunnel_src);
		}
		s->observe = cs->check.type != CONF_CHECK_NONE && cs->check.observe;
		s->persist_plen = cs->persist_plen ? cs->persist_plen :
		    s->family == 4 ? 32 : 128;
		if (cs->n_allow != 0 && (s->allow = calloc(cs->n_allow,
		    sizeof(*s->allow))) == NULL) {
			for (size_t j = 0; j < i; j++)
				dp_service_free(&v[j]);
			free(v);
			return -1;
		}
		for (size_t k = 0; k < cs->n_allow; k++) {
			s->allow[k].family = conf_addr_fam(&cs->allow[k]);
			s->allow[k].plen = cs->allow[k].plen;
			conf_addr_a16(s->allow[k].addr, &cs->allow[k]);
		}
		s->n_allow = (uint32_t)cs->n_allow;
		/* A cluster node takes ports on its own addresses only:
		 * those first; the rest are the other nodes', there for the
		 * connections they mirror to this one. */
		for (int own = 1; own >= 0; own--)
			for (size_t k = 0; k < cs->n_snat_pool; k++) {
				if (snat_own(c, &cs->snat_pool[k]) != own)
					continue;
				s->snat_ports[s->n_snat][0] = cs->snat_ports[k].lo;
				s->snat_ports[s->n_snat][1] = cs->snat_ports[k].hi;
				conf_addr_a16(s->snat[s->n_snat++], &cs->snat_pool[k]);
				s->n_snat_own += own;
			}
		s->b = calloc(cs->n_backends + 1, sizeof(*s->b));
		if (s->b == NULL) {
			for (size_t j = 0; j < i; j++)
				dp_service_free(&v[j]);
			free(v);
			return -1;
		}
		s->nb = (uint16_t)cs->n_backends;
		for (size_t k = 0; k < cs->n_backends; k++) {
			conf_addr_a16(s->b[k].addr, &cs->backends[k].addr);
			s->b[k].port = htons(cs->backends[k].port);
			s->b[k].weight = (uint16_t)cs->backends[k].weight;
			s->b[k].max_conns = cs->backends[k].max_conns;
			s->b[k].backup = cs->backends[k].backup;
			s->b[k].up = true;
		}
		if (cs->has_fallback) {
			struct dp_backend *f = &s->b[cs->n_backends];
			conf_addr_a16(f->addr, &cs->fallback.addr);
			f->port = htons(cs->fallback.port);
			f->weight = 1;
			f->up = true;
			s->has_fallback = true;
		}
	}
	*out = v;
	*n = (uint32_t)c->n_services;
	return 0;
}
