/*
 * Fuzz target: frames through the packet engine. The input is a sequence of
 * frames (a length byte, an interface byte, then the frame) run through one
 * engine that has a service in each mode and family, so later frames meet
 * the connection state earlier ones made. Frames are processed singly and in
 * batches. The engine must never crash, read or write out of bounds, or
 * claim a frame longer than its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_engine *
engine(void)
{
	struct dp_service s[6];
	int k = 0;

	struct dp_engine *e;

	topo_maglev_size = 251;		/* a small prime: fast per input */
	e = mk_engine(256);
	for (int fam = 4; fam <= 6; fam += 2) {
		s[k++] = mk_service(fam, 6, 80, DP_MODE_ROUTED, DP_SCHED_MAGLEV, 2, 8080);
		s[k++] = mk_service(fam, 6, 443, DP_MODE_DSR, DP_SCHED_SH, 2, 443);
		s[k++] = mk_service(fam, 17, 53, DP_MODE_SNAT, DP_SCHED_RR, 2, 5353);
	}
	s[0].stateless = true;
	/* Admission on the IPv4 services: persistence, a cap, a backup, a
	 * per-source rate and an allow-list, so that their paths see the
	 * fuzzer's frames too. */
	s[0].persist_ms = s[2].persist_ms = 1000;
	s[0].persist_plen = 24;
	s[2].persist_plen = 32;
	s[0].b[0].max_conns = s[2].b[1].max_conns = 3;
	s[1].b[1].backup = true;
	s[2].limit_rate = 5;
	s[2].limit_burst = 2;
	s[1].allow = calloc(1, sizeof(*s[1].allow));
	s[1].allow[0] = (struct dp_prefix){ .family = 4, .plen = 8,
	    .addr = { 203 } };
	s[1].n_allow = 1;
	install(e, s, (uint32_t)k);
	return e;
}

/* Held frames that leave must be whole frames on a real interface. */
static void
sent(void *arg, uint16_t ifidx, const uint8_t *frame, uint32_t len)
{
	if (ifidx > 1 || len < 14 || len > 2048)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_engine *e = engine();
	struct dp_frame fr[8];
	struct dp_verdict v[8];
	static uint8_t buf[8][2048];
	uint32_t now = 0;
	int nb = 0;

	while (size >= 2) {
		size_t len = data[0] * 2u;	/* up to 510 bytes */
		uint8_t ifc = data[1] & 1;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* The frame sits at the end of an exactly sized allocation, so
		 * ASan sees any read past it. */
		uint8_t *f = malloc(len ? len : 1);
		memcpy(f, data, len);
		struct dp_verdict one;
		dp_process(e, f, (uint32_t)len, (uint32_t)len, ifc, now, &one);
		if (one.action == DP_TX && one.len > len)
			abort();
		free(f);
		/* The same frame again, batched with the ones before it. */
		memcpy(buf[nb], data, len);
		fr[nb].data = buf[nb];
		fr[nb].len = (uint32_t)len;
		fr[nb].cap = sizeof(buf[nb]);
		if (++nb == 8) {
			dp_process_batch(e, fr, 8, ifc, now, v);
			nb = 0;
		}
		data += len;
		size -= len;
		now += 1000;
		dp_expire(e, now, 64);
		(void)dp_release_held(e, now, sent, NULL);
	}
	if (nb > 0)
		dp_process_batch(e, fr, (uint32_t)nb, 0, now, v);
	dp_expire(e, now + 86400000, 100000);
	if (dp_release_held(e, now + 86400000, sent, NULL) != 0)
		abort();
	dp_engine_free(e);
	return 0;
}
