/*
 * Fuzz target: VRRP advertisements as the packet socket hands them over.
 * The input is a sequence of chunks (2-byte length, a clock step, then an
 * Ethernet frame); each frame is decoded and, when valid for VRID 51, fed
 * to a state machine (backup, priority 100) whose timers run on a clock
 * the input advances. Any bytes: refused with a reason or obeyed, never a
 * crash, never a state outside the machine's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vrrp_fsm_cfg cfg = { .vrid = 51, .priority = 100,
					  .adver_cs = 10, .version = 3,
					  .preempt = true };
	const uint8_t self[16] = { 10, 0, 0, 2 };
	struct vrrp_fsm f;
	struct vrrp_out o;
	uint64_t now = 1000;

	vrrp_fsm_init(&f, &cfg, 4, self);
	vrrp_fsm_start(&f, now, &o);
	while (size >= 3) {
		size_t n = (size_t)(data[0] | data[1] << 8) % 1600;
		struct vrrp_adv a;
		enum vrrp_bad why;

		now += data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		while (vrrp_fsm_deadline(&f) != 0 && vrrp_fsm_deadline(&f) <= now)
			vrrp_fsm_tick(&f, vrrp_fsm_deadline(&f), &o);
		why = vrrp_decode(data, n, &a);
		if (vrrp_bad_name(why) == NULL)
			abort();
		if (why == VRRP_OK) {
			/* The addresses lie inside the frame. */
			size_t al = a.family == 4 ? 4 : 16;
			if (a.n_addrs > 0 && (a.addrs < data ||
			    a.addrs + (size_t)a.n_addrs * al > data + n))
				abort();
			if (a.vrid == cfg.vrid && a.family == 4 &&
			    a.version == cfg.version)
				vrrp_fsm_rx(&f, now, &a, &o);
		}
		if (f.state > VRRP_FAULT)
			abort();
		data += n;
		size -= n;
	}
	vrrp_fsm_stop(&f, now, &o);
	return 0;
}
