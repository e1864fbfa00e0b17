/*
 * Persistence (`persist TIMEOUT [netmask /N]`): a client, or its network,
 * keeps its backend across connections while it has one open and for
 * TIMEOUT after the last ends (IPVS persistence_timeout, relayd
 * sticky-address).
 *
 * A slot of the per-source table (srctab.h) per (service, masked client
 * address): v[0] the service and backend index (16 bits each), v[1] the
 * client's connections in the table, last_ms when one was made or ended.
 * A slot with connections is never given to another source, so a SYN
 * flood can take slots only while its embryonic entries live (ct's short
 * SYN timeout); a client that finds every slot of its set busy is
 * scheduled without persistence (persist_full).
 *
 * Failover: the peer's mirrored connections go through persist_record
 * too (dp_insert_conn), so the backup knows each client's backend while
 * its connections live, and the TIMEOUT after they end if it was there.
 *
 * A backend that no longer takes new connections (down, drained, a
 * standby backup, full) releases its clients: the next connection is
 * scheduled afresh and the slot points to the new choice.
 */
#include <string.h>

#include "lbd/engine/engine_int.h"

#define SLOT_SVC(s)	((s)->v[0] >> 16)
#define SLOT_BE(s)	((s)->v[0] & 0xffff)

static void
masked(const struct dp_service *s, const uint8_t *src, uint8_t out[16])
{
	uint32_t plen = s->persist_plen, bytes = plen / 8, bits = plen % 8;

	memset(out, 0, 16);
	memcpy(out, src, bytes);
	if (bits != 0)
		out[bytes] = src[bytes] & (uint8_t)(0xff << (8 - bits));
}

static struct src_slot *
slot_of(struct dp_engine *e, const struct dp_service *s, const uint8_t *src)
{
	uint8_t m[16];

	masked(s, src, m);
	return srctab_find(&e->persist, m, srctab_key(s->vip, s->port,
	    s->proto));
}

int32_t
persist_pick(struct dp_engine *e, uint32_t si, const struct dp_tuple *t,
    uint32_t now)
{
	struct dp_service *s = &e->svc[si];
	struct src_slot *p;
	uint32_t bi;

	if (s->persist_ms == 0 || (p = slot_of(e, s, t->src)) == NULL)
		return -1;
	if (p->v[1] == 0 && now - p->last_ms > s->persist_ms) {
		srctab_clear(&e->persist, p);	/* timed out */
		e->stats.persist_entries = e->persist.used;
		return -1;
	}
	bi = SLOT_BE(p);
	if (SLOT_SVC(p) != si || bi >= s->nb ||
	    !dp_backend_eligible(s, &s->b[bi]) || dp_backend_full(&s->b[bi]))
		return -1;
	e->stats.persist_hits++;
	return (int32_t)bi;
}

/* A slot may go to another source when none of its connections is left. */
static bool
idle(const struct src_slot *p, void *arg)
{
	(void)arg;
	return p->v[1] == 0;
}

void
persist_record(struct dp_engine *e, uint32_t si, const struct dp_tuple *t,
    uint32_t bi, uint32_t now)
{
	const struct dp_service *s = &e->svc[si];
	struct src_slot *p;
	uint8_t m[16];
	bool fresh, evicted;

	if (s->persist_ms == 0 || bi >= s->nb)	/* not the fallback */
		return;
	masked(s, t->src, m);
	p = srctab_get(&e->persist, m, srctab_key(s->vip, s->port, s->proto),
	    now, idle, NULL, &fresh, &evicted);
	if (p == NULL) {
		e->stats.persist_full++;
		return;
	}
	e->stats.persist_evicted += evicted;
	e->stats.persist_entries = e->persist.used;
	p->v[0] = si << 16 | bi;
	p->v[1]++;
	p->last_ms = now;
}

void
persist_release(struct dp_engine *e, const struct ct_entry *ce, uint32_t now)
{
	struct src_slot *p;

	if (ce->svc >= e->n_svc || ce->backend >= e->svc[ce->svc].nb ||
	    e->svc[ce->svc].persist_ms == 0)
		return;
	p = slot_of(e, &e->svc[ce->svc], ce->t[CT_ORIG].src);
	if (p != NULL && p->v[1] > 0) {
		p->v[1]--;
		p->last_ms = now;
	}
}

/*
 * After a reload (e->svc is the new set, `old` the one before): point each
 * slot at its service's and backend's new indexes, or free it when either
 * is gone or the service's persistence changed its netmask or stopped.
 */
void
persist_remap(struct dp_engine *e, const struct dp_service *old,
    uint32_t old_n)
{
	struct src_slot *v = e->persist.s;

	for (uint32_t i = 0; v != NULL && i < SRCTAB_SETS * SRCTAB_WAYS; i++) {
		struct src_slot *p = &v[i];
		const struct dp_service *os;
		const struct dp_backend *ob;
		int32_t si;
		uint32_t bi;

		if (p->key == 0)
			continue;
		if (SLOT_SVC(p) >= old_n || SLOT_BE(p) >= old[SLOT_SVC(p)].nb) {
			srctab_clear(&e->persist, p);
			continue;
		}
		os = &old[SLOT_SVC(p)];
		ob = &os->b[SLOT_BE(p)];
		si = svc_lookup(e, os->family, os->vip, os->proto, os->port);
		if (si < 0 || e->svc[si].persist_ms == 0 ||
		    e->svc[si].persist_plen != os->persist_plen) {
			srctab_clear(&e->persist, p);
			continue;
		}
		for (bi = 0; bi < e->svc[si].nb; bi++)
			if (e->svc[si].b[bi].port == ob->port &&
			    memcmp(e->svc[si].b[bi].addr, ob->addr, 16) == 0)
				break;
		if (bi == e->svc[si].nb)
			srctab_clear(&e->persist, p);
		else
			p->v[0] = (uint32_t)si << 16 | bi;
	}
	e->stats.persist_entries = e->persist.used;
}
