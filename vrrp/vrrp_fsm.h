/*
 * The RFC 5798 state machine of one virtual router, as a pure core: events
 * and the time (milliseconds, any monotonic origin) go in; what to send,
 * the state it is in and when it next wants to run come out. No sockets,
 * no clock, no allocation — the tests drive it on a virtual clock.
 *
 * Timers are kept in centiseconds like the RFC's formulas and converted to
 * milliseconds only as deadlines:
 *   Skew_Time            = ((256 - Priority) * Master_Adver_Interval) / 256
 *   Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
 * with Master_Adver_Interval learnt from the master's advertisements (v3;
 * v2 requires both sides to be configured alike).
 *
 * Beyond the RFC, as operators know them from keepalived:
 *  - FAULT: a tracked interface lost carrier or a tracked service has no
 *    healthy backend. The router neither advertises nor takes over; leaving
 *    FAULT goes through Initialize again.
 *  - preempt-delay: for that long after start (or after FAULT), a backup
 *    that outranks the master does not preempt it yet.
 *  - forced transitions, so that a sync group moves all its routers
 *    together (vrrp_fsm_force).
 */
#ifndef LBD_VRRP_FSM_H
#define LBD_VRRP_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "vrrp/vrrp_pkt.h"

enum vrrp_state {
	VRRP_INIT = 0,
	VRRP_BACKUP,
	VRRP_MASTER,
	VRRP_FAULT,
};

const char	*vrrp_state_name(enum vrrp_state);

struct vrrp_fsm_cfg {
	uint8_t		vrid;
	uint8_t		priority;	/* 1..255; 255 = address owner */
	uint16_t	adver_cs;	/* Advertisement_Interval, centiseconds */
	uint8_t		version;	/* 2 or 3 */
	bool		preempt;
	uint32_t	preempt_delay_ms;
};

/* What an event asks of the caller, in this order. */
struct vrrp_out {
	bool		send;		/* an advertisement ... */
	uint8_t		send_prio;	/* ... with this priority (0 = resign) */
	bool		changed;	/* the state changed: from -> to */
	enum vrrp_state	from, to;
	bool		lower;		/* a master heard a lower priority's
					 * advert (and discarded it) */
};

struct vrrp_fsm {
	struct vrrp_fsm_cfg cfg;
	enum vrrp_state	state;
	uint8_t		prio;		/* effective priority (cfg or set-priority) */
	uint16_t	master_adver_cs;
	uint64_t	adver_at;	/* Adver_Timer deadline, 0 = off */
	uint64_t	down_at;	/* Master_Down_Timer deadline, 0 = off */
	uint64_t	preempt_after;	/* no preemption before this time */
	bool		preempt_held;	/* nor while this is set */
	uint8_t		family;
	uint8_t		self[16];	/* our primary address (tie-break) */
	uint8_t		master[16];	/* the master we follow, or self */
	uint64_t	transitions;
	uint64_t	became_master;
};

void		vrrp_fsm_init(struct vrrp_fsm *, const struct vrrp_fsm_cfg *,
		    uint8_t family, const uint8_t self[16]);
/* Initialize's Startup event. */
void		vrrp_fsm_start(struct vrrp_fsm *, uint64_t now, struct vrrp_out *);
/* Shutdown: a master resigns with a priority-0 advertisement. */
void		vrrp_fsm_stop(struct vrrp_fsm *, uint64_t now, struct vrrp_out *);
/* A valid advertisement for this VRID. */
void		vrrp_fsm_rx(struct vrrp_fsm *, uint64_t now, const struct vrrp_adv *,
		    struct vrrp_out *);
/* Timers: call when now >= vrrp_fsm_deadline(). */
void		vrrp_fsm_tick(struct vrrp_fsm *, uint64_t now, struct vrrp_out *);
/* Enter (true) or leave (false) FAULT. */
void		vrrp_fsm_fault(struct vrrp_fsm *, uint64_t now, bool fault,
		    struct vrrp_out *);
/* The effective priority changed (tracking, lbctl vrrp set-priority). */
void		vrrp_fsm_set_prio(struct vrrp_fsm *, uint64_t now, uint8_t prio,
		    struct vrrp_out *);
/* A sync-group partner moved: follow it to MASTER or BACKUP. */
void		vrrp_fsm_force(struct vrrp_fsm *, uint64_t now, enum vrrp_state,
		    struct vrrp_out *);
/* No preemption while held (ha-sync: a node that came back waits until
 * it has the peer's connections, or failing back would drop them). */
void		vrrp_fsm_hold_preempt(struct vrrp_fsm *, bool hold);
/* A master's next advertisement comes in `in_ms` (never later than its
 * Adver_Timer would have it). A sync group spreads its routers' adverts
 * over one interval this way, so that the backup, which takes the whole
 * group over when any one router's Master_Down_Timer runs out, notices a
 * dead master up to (k - 1) / k of an interval sooner. */
void		vrrp_fsm_phase(struct vrrp_fsm *, uint64_t now, uint32_t in_ms);
/* The earliest timer, 0 if none runs. */
uint64_t	vrrp_fsm_deadline(const struct vrrp_fsm *);

/* The RFC's derived intervals, in milliseconds (exposed for tests/show). */
uint32_t	vrrp_fsm_skew_ms(const struct vrrp_fsm *);
uint32_t	vrrp_fsm_down_ms(const struct vrrp_fsm *);

#endif /* LBD_VRRP_FSM_H */
