/*
 * sync_rec — the engine's entries and events as ha-sync records, and back.
 */
#include <string.h>

#include "lbd/sync_rec.h"

static void
to_wire(const struct dp_tuple *t, struct sync_tuple *w)
{
	memset(w, 0, sizeof(*w));
	memcpy(w->src, t->src, 16);
	memcpy(w->dst, t->dst, 16);
	w->sport = t->sport;
	w->dport = t->dport;
	w->proto = t->proto;
	w->family = t->family;
}

static void
from_wire(const struct sync_tuple *w, struct dp_tuple *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->src, w->src, 16);
	memcpy(t->dst, w->dst, 16);
	t->sport = w->sport;
	t->dport = w->dport;
	t->proto = w->proto;
	t->family = w->family;
}

static void
rec_of(uint8_t kind, uint8_t state, uint8_t flags, uint8_t mode,
    const struct dp_tuple t[2], struct sync_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->state = state;
	r->mode = mode;
	/* Only what the peer's copy needs: SNAT port held, FINs seen. */
	r->flags = flags & (CT_F_SNAT | CT_F_FIN_ORIG | CT_F_FIN_REPLY);
	to_wire(&t[0], &r->t[0]);
	to_wire(&t[1], &r->t[1]);
}

bool
sync_rec_of_event(const struct ct_event *e, struct sync_rec *r)
{
	bool udp = e->t[0].proto == 17;

	if ((e->flags & CT_F_MIRRORED) || e->type == CT_EV_OBSERVE)
		return false;
	/* A UDP flow is mirrored once proven (a reply, or in dsr traffic past
	 * its probation): a spoofed flood's never cross the heartbeat link. */
	if (udp && !(e->flags & CT_F_PROVEN))
		return false;
	if (e->type == CT_EV_CLOSE) {
		if (!udp && e->state == CT_SYN_SENT)
			return false;
		rec_of(SYNC_REC_CLOSE, e->state, e->flags, e->mode, e->t, r);
		return true;
	}
	if (!udp && e->state != CT_ESTABLISHED)
		return false;
	rec_of(SYNC_REC_UPSERT, e->state, e->flags, e->mode, e->t, r);
	return true;
}

void
sync_rec_of_entry(const struct ct_entry *e, struct sync_rec *r)
{
	rec_of(SYNC_REC_UPSERT, e->state, e->flags, e->mode, e->t, r);
	/* One of the peer's own, given back after it restarted: so marked,
	 * it changes nothing the peer still has (dp_sync_upsert). */
	if (e->flags & CT_F_MIRRORED)
		r->flags |= CT_F_MIRRORED;
}

bool
sync_rec_to_entry(const struct sync_rec *r, struct ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	from_wire(&r->t[0], &e->t[CT_ORIG]);
	from_wire(&r->t[1], &e->t[CT_REPLY]);
	e->state = r->state;
	e->flags = r->flags;		/* the engine keeps what it mirrors */
	e->mode = r->mode;
	return r->kind == SYNC_REC_CLOSE;
}
