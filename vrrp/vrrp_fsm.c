/*
 * RFC 5798 section 6.4, one virtual router (see vrrp_fsm.h).
 */
#include "lib/addr.h"
#include "vrrp/vrrp_fsm.h"

#include <string.h>

static const char *const state_names[] = {
	[VRRP_INIT] = "init",
	[VRRP_BACKUP] = "backup",
	[VRRP_MASTER] = "master",
	[VRRP_FAULT] = "fault",
};

const char *
vrrp_state_name(enum vrrp_state s)
{
	return (unsigned)s <= VRRP_FAULT ? state_names[s] : "?";
}

/*
 * The RFC states the formulas in centiseconds with integer division; we
 * keep milliseconds so that a 100 ms interval does not lose most of its
 * skew to rounding (at priority 100: 60 ms instead of 6 cs truncated).
 */
uint32_t
vrrp_fsm_skew_ms(const struct vrrp_fsm *m)
{
	return (uint32_t)((256u - m->prio) * m->master_adver_cs * 10u / 256u);
}

uint32_t
vrrp_fsm_down_ms(const struct vrrp_fsm *m)
{
	return 3u * m->master_adver_cs * 10u + vrrp_fsm_skew_ms(m);
}

static uint32_t
adver_ms(const struct vrrp_fsm *m)
{
	return m->cfg.adver_cs * 10u;
}

static void
go(struct vrrp_fsm *m, enum vrrp_state to, struct vrrp_out *o)
{
	if (m->state == to)
		return;
	if (!o->changed)
		o->from = m->state;
	o->changed = true;
	o->to = to;
	m->state = to;
	m->transitions++;
	if (to == VRRP_MASTER)
		m->became_master++;
}

static void
advertise(struct vrrp_fsm *m, uint8_t prio, struct vrrp_out *o)
{
	o->send = true;
	o->send_prio = prio;
}

static void
become_master(struct vrrp_fsm *m, uint64_t now, struct vrrp_out *o)
{
	advertise(m, m->prio, o);
	m->adver_at = now + adver_ms(m);
	m->down_at = 0;
	memcpy(m->master, m->self, 16);
	go(m, VRRP_MASTER, o);
}

static void
become_backup(struct vrrp_fsm *m, uint64_t now, struct vrrp_out *o)
{
	m->adver_at = 0;
	m->down_at = now + vrrp_fsm_down_ms(m);
	go(m, VRRP_BACKUP, o);
}

void
vrrp_fsm_init(struct vrrp_fsm *m, const struct vrrp_fsm_cfg *cfg, uint8_t family,
    const uint8_t self[16])
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->prio = cfg->priority;
	m->master_adver_cs = cfg->adver_cs;
	m->family = family;
	memcpy(m->self, self, 16);
	m->state = VRRP_INIT;
}

void
vrrp_fsm_start(struct vrrp_fsm *m, uint64_t now, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (m->state != VRRP_INIT)
		return;
	m->preempt_after = now + m->cfg.preempt_delay_ms;
	m->master_adver_cs = m->cfg.adver_cs;
	memset(m->master, 0, 16);
	if (m->prio == 255)
		become_master(m, now, o);
	else
		become_backup(m, now, o);
}

void
vrrp_fsm_stop(struct vrrp_fsm *m, uint64_t now, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (m->state == VRRP_MASTER)
		advertise(m, 0, o);
	m->adver_at = m->down_at = 0;
	go(m, VRRP_INIT, o);
}

/* Higher priority wins; a tie goes to the higher primary address. */
static bool
outranks(const struct vrrp_fsm *m, const struct vrrp_adv *a)
{
	if (a->priority != m->prio)
		return a->priority > m->prio;
	return memcmp(a->src, m->self, addr_len(m->family)) > 0;
}

static void
learn(struct vrrp_fsm *m, const struct vrrp_adv *a)
{
	/* v3 learns the master's interval; v2 requires them equal (the
	 * receiver drops a v2 advertisement with another interval). */
	if (m->cfg.version == 3)
		m->master_adver_cs = a->interval_cs;
	memcpy(m->master, a->src, 16);
}

void
vrrp_fsm_rx(struct vrrp_fsm *m, uint64_t now, const struct vrrp_adv *a,
    struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	switch (m->state) {
	case VRRP_BACKUP:
		if (a->priority == 0) {
			/* The master resigned: take over after Skew_Time. */
			m->down_at = now + vrrp_fsm_skew_ms(m);
		} else if (!m->cfg.preempt || a->priority >= m->prio ||
		    now < m->preempt_after || m->preempt_held) {
			learn(m, a);
			m->down_at = now + vrrp_fsm_down_ms(m);
		}
		/* else: a lower master we will preempt; let the timer run. */
		break;
	case VRRP_MASTER:
		if (a->priority == 0) {
			advertise(m, m->prio, o);
			m->adver_at = now + adver_ms(m);
		} else if (outranks(m, a)) {
			learn(m, a);
			become_backup(m, now, o);
		} else
			o->lower = true;	/* discarded (RFC 5798 6.4.3);
						 * the group may announce again */
		break;
	case VRRP_INIT:
	case VRRP_FAULT:
		break;
	}
}

void
vrrp_fsm_tick(struct vrrp_fsm *m, uint64_t now, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (m->state == VRRP_MASTER && m->adver_at != 0 && now >= m->adver_at) {
		advertise(m, m->prio, o);
		m->adver_at = now + adver_ms(m);
	} else if (m->state == VRRP_BACKUP && m->down_at != 0 && now >= m->down_at)
		become_master(m, now, o);
}

void
vrrp_fsm_fault(struct vrrp_fsm *m, uint64_t now, bool fault, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (fault) {
		if (m->state == VRRP_FAULT)
			return;
		/* A master in trouble resigns at once rather than letting
		 * the backup wait out Master_Down_Interval. */
		if (m->state == VRRP_MASTER)
			advertise(m, 0, o);
		m->adver_at = m->down_at = 0;
		go(m, VRRP_FAULT, o);
		return;
	}
	if (m->state != VRRP_FAULT)
		return;
	/* Leaving FAULT goes through Initialize; report it as FAULT -> next. */
	m->state = VRRP_INIT;
	m->transitions++;
	vrrp_fsm_start(m, now, o);
	o->from = VRRP_FAULT;
}

void
vrrp_fsm_set_prio(struct vrrp_fsm *m, uint64_t now, uint8_t prio, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (prio == 0)
		prio = 1;	/* 0 means "resigning" on the wire */
	if (prio == m->prio)
		return;
	m->prio = prio;
	/* Tell the others now rather than at the next interval: a master
	 * that lowered itself lets a preempting backup act sooner. */
	if (m->state == VRRP_MASTER) {
		advertise(m, m->prio, o);
		m->adver_at = now + adver_ms(m);
	}
}

void
vrrp_fsm_force(struct vrrp_fsm *m, uint64_t now, enum vrrp_state to, struct vrrp_out *o)
{
	memset(o, 0, sizeof(*o));
	if (m->state == to || (m->state != VRRP_MASTER && m->state != VRRP_BACKUP))
		return;
	if (to == VRRP_MASTER)
		become_master(m, now, o);
	else if (to == VRRP_BACKUP)
		become_backup(m, now, o);
}

void
vrrp_fsm_hold_preempt(struct vrrp_fsm *m, bool hold)
{
	m->preempt_held = hold;
}

void
vrrp_fsm_phase(struct vrrp_fsm *m, uint64_t now, uint32_t in_ms)
{
	if (m->state == VRRP_MASTER && m->adver_at != 0 &&
	    now + in_ms < m->adver_at)
		m->adver_at = now + in_ms;
}

uint64_t
vrrp_fsm_deadline(const struct vrrp_fsm *m)
{
	if (m->state == VRRP_MASTER)
		return m->adver_at;
	if (m->state == VRRP_BACKUP)
		return m->down_at;
	return 0;
}
