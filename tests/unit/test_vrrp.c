/*
 * Unit tests of the VRRP cores: the codec against advertisements keepalived
 * sent (the pcap files in tests/vrrp/, captured by tests/vrrp/capture.sh), every
 * rejection reason, truncation at every length; and the RFC 5798 state
 * machine on a virtual clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/csum.h"
#include "tests/packets/pcap.h"
#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"

/* ---- codec -------------------------------------------------------------- */

static struct pcap_rec *
first_frame(const char *name)
{
	static struct pcap_rec rec;
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/vrrp/%s", TEST_SRCDIR, name);
	fp = pcap_open(path);
	assert_non_null(fp);
	assert_int_equal(pcap_next(fp, &rec), 1);
	fclose(fp);
	return &rec;
}

/* Offset of the VRRP message in a frame without IP options. */
static size_t
vrrp_off(const uint8_t *f)
{
	return f[12] == 0x08 ? 14 + 20 : 14 + 40;
}

static void
test_keepalived_samples(void **state)
{
	struct {
		const char	*file;
		uint8_t		 version, family, vrid, prio, n;
		uint16_t	 interval_cs;
		const char	*addr0;		/* bytes of the first address */
	} want[] = {
		{ "v2-ipv4.pcap", 2, 4, 51, 150, 2, 100, "\xc0\x00\x02\x64" },
		{ "v3-ipv4.pcap", 3, 4, 52, 200, 1, 10, "\xc0\x00\x02\x66" },
		{ "v3-ipv6.pcap", 3, 6, 53, 100, 2, 100,
		  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\x01\x00" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct pcap_rec *r = first_frame(want[i].file);
		struct vrrp_adv a;
		uint8_t again[VRRP_FRAME_MAX];
		size_t n, off = vrrp_off(r->data);

		assert_int_equal(vrrp_decode(r->data, r->len, &a), VRRP_OK);
		assert_int_equal(a.version, want[i].version);
		assert_int_equal(a.family, want[i].family);
		assert_int_equal(a.vrid, want[i].vrid);
		assert_int_equal(a.priority, want[i].prio);
		assert_int_equal(a.n_addrs, want[i].n);
		assert_int_equal(a.interval_cs, want[i].interval_cs);
		assert_memory_equal(a.addrs, want[i].addr0, a.family == 4 ? 4 : 16);
		assert_memory_equal(a.src_mac, r->data + 6, 6);
		if (a.family == 4)
			assert_memory_equal(a.src, "\xc0\x00\x02\x0a", 4);
		else	/* keepalived sends from the link-local address */
			assert_memory_equal(a.src, "\xfe\x80", 2);

		/* Our encoder produces the same VRRP message, checksum and
		 * all, and decodes it back. */
		n = vrrp_encode(again, sizeof(again), &a, a.addrs);
		assert_true(n > 0);
		assert_memory_equal(again + off, r->data + off, n - off);
		assert_memory_equal(again, r->data, 6);		/* multicast MAC */
		assert_int_equal(vrrp_decode(again, n, &a), VRRP_OK);
		assert_int_equal(a.vrid, want[i].vrid);
	}
}

static void
fix_ip4_csum(uint8_t *f)
{
	f[24] = f[25] = 0;
	uint16_t c = csum_fold(csum_partial(f + 14, 20, 0));
	memcpy(f + 24, &c, 2);
}

/* Change one byte of the VRRP message and repair its checksum. */
static void
poke(uint8_t *f, size_t off, uint8_t val)
{
	size_t w = off & ~(size_t)1;
	uint16_t old, new, c;

	memcpy(&old, f + w, 2);
	f[off] = val;
	memcpy(&new, f + w, 2);
	memcpy(&c, f + vrrp_off(f) + 6, 2);
	c = csum_replace16(c, old, new);
	memcpy(f + vrrp_off(f) + 6, &c, 2);
}

static void
test_rejections(void **state)
{
	struct pcap_rec *r = first_frame("v3-ipv4.pcap");
	uint8_t f[2048];
	size_t len = r->len, v = vrrp_off(r->data);
	struct vrrp_adv a;

#define FRESH() memcpy(f, r->data, len)
	FRESH();
	f[v + 6] ^= 0x01;
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_CHECKSUM);
	FRESH();
	f[14 + 8] = 254;		/* TTL */
	fix_ip4_csum(f);
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_TTL);
	FRESH();
	f[14 + 10] ^= 0xff;		/* IP header checksum */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_IP);
	FRESH();
	f[14 + 9] = 17;			/* protocol */
	fix_ip4_csum(f);
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_IP);
	FRESH();
	f[14 + 6] = 0x20;		/* more fragments */
	fix_ip4_csum(f);
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_IP);
	FRESH();
	poke(f, v, 0x41);		/* version 4 */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_VERSION);
	FRESH();
	poke(f, v, 0x32);		/* type 2 */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_TYPE);
	FRESH();
	poke(f, v + 3, 2);		/* two addresses claimed, one sent */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_SHORT);
	FRESH();
	poke(f, v + 3, 0);		/* none claimed, one sent */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_LENGTH);
	FRESH();
	poke(f, v + 5, 0);		/* interval 0 */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_INTERVAL);
	FRESH();
	f[12] = 0x08; f[13] = 0x06;	/* ARP */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_IP);

	/* v2: the authentication type and data are read, not judged (the
	 * instance's auth-pass decides, vrrp_group); v2 over IPv6 does not
	 * exist. */
	r = first_frame("v2-ipv4.pcap");
	len = r->len;
	FRESH();
	poke(f, v + 4, 1);
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_OK);
	assert_int_equal(a.auth_type, VRRP_AUTH_PASS);
	/* A simple password goes out in its 8 bytes and comes back. */
	{
		uint8_t g[VRRP_FRAME_MAX], addrs[16];
		struct vrrp_adv b;
		size_t n;

		memcpy(addrs, a.addrs, 4);
		b = a;
		memcpy(b.auth, "secret\0\0", 8);
		n = vrrp_encode(g, sizeof(g), &b, addrs);
		assert_true(n > 0);
		assert_int_equal(vrrp_decode(g, n, &b), VRRP_OK);
		assert_int_equal(b.auth_type, VRRP_AUTH_PASS);
		assert_memory_equal(b.auth, "secret\0\0", 8);
	}
	r = first_frame("v3-ipv6.pcap");
	len = r->len;
	v = vrrp_off(r->data);
	FRESH();
	f[14 + 7] = 1;			/* hop limit */
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_TTL);
	FRESH();
	poke(f, v, 0x21);
	assert_int_equal(vrrp_decode(f, len, &a), VRRP_BAD_VERSION);
#undef FRESH
	assert_string_equal(vrrp_bad_name(VRRP_BAD_CHECKSUM), "bad_checksum");
}

static void
test_truncation(void **state)
{
	const char *files[] = { "v2-ipv4.pcap", "v3-ipv4.pcap", "v3-ipv6.pcap" };

	for (size_t i = 0; i < 3; i++) {
		struct pcap_rec *r = first_frame(files[i]);
		struct vrrp_adv a;
		/* Exactly sized copies, so ASan sees any read past the end. */
		for (size_t n = 0; n < r->len; n++) {
			uint8_t *f = malloc(n ? n : 1);
			enum vrrp_bad b;

			memcpy(f, r->data, n);
			/* Even a v2 frame cut just before its auth data:
			 * the IP length says more is there. */
			b = vrrp_decode(f, n, &a);
			assert_int_not_equal(b, VRRP_OK);
			free(f);
		}
	}
}

static void
test_encode_limits(void **state)
{
	struct vrrp_adv a = { .version = 2, .family = 4, .vrid = 1, .priority = 100,
			      .interval_cs = 150, .n_addrs = 1 };
	uint8_t f[VRRP_FRAME_MAX], addr[4] = { 10, 0, 0, 1 };

	assert_int_equal(vrrp_encode(f, sizeof(f), &a, addr), 0);	/* 1.5 s in v2 */
	a.interval_cs = 100;
	assert_true(vrrp_encode(f, sizeof(f), &a, addr) > 0);
	assert_int_equal(vrrp_encode(f, 20, &a, addr), 0);		/* no room */
	a.family = 6;
	assert_int_equal(vrrp_encode(f, sizeof(f), &a, addr), 0);	/* v2 over v6 */
	a.version = 3;
	a.interval_cs = 4096;
	assert_int_equal(vrrp_encode(f, sizeof(f), &a, addr), 0);	/* 12 bits */
	a.interval_cs = 1;
	a.n_addrs = VRRP_MAX_ADDRS + 1;
	assert_int_equal(vrrp_encode(f, sizeof(f), &a, addr), 0);
}

/* Unicast: the peer's address as destination, in the checksum too (v3
 * pseudo-header), for both families; the decoder tells it apart. */
static void
test_unicast(void **state)
{
	static const uint8_t peer6[16] = { 0xfe, 0x80, [15] = 0x12 };
	uint8_t f[VRRP_FRAME_MAX], addr[16] = { 10, 0, 0, 100 };
	struct vrrp_adv a = { .version = 3, .family = 4, .vrid = 9, .priority = 150,
			      .interval_cs = 10, .n_addrs = 1, .src = { 10, 0, 0, 11 },
			      .dst = { 10, 0, 0, 12 }, .unicast = true };
	struct vrrp_adv d;
	size_t n;

	assert_true((n = vrrp_encode(f, sizeof(f), &a, addr)) > 0);
	assert_int_equal(vrrp_decode(f, n, &d), VRRP_OK);
	assert_true(d.unicast);
	assert_memory_equal(d.dst, a.dst, 4);
	assert_memory_equal(f + 14 + 16, a.dst, 4);
	a.unicast = false;
	assert_true((n = vrrp_encode(f, sizeof(f), &a, addr)) > 0);
	assert_int_equal(vrrp_decode(f, n, &d), VRRP_OK);
	assert_false(d.unicast);

	a.family = 6;
	a.unicast = true;
	memset(a.src, 0, 16);
	a.src[0] = 0xfe; a.src[1] = 0x80; a.src[15] = 0x11;
	memcpy(a.dst, peer6, 16);
	memset(addr, 0, 16);
	addr[0] = 0x20; addr[1] = 0x01; addr[15] = 0x64;
	assert_true((n = vrrp_encode(f, sizeof(f), &a, addr)) > 0);
	assert_int_equal(vrrp_decode(f, n, &d), VRRP_OK);
	assert_true(d.unicast);
	assert_memory_equal(d.dst, peer6, 16);
	/* The checksum covers the destination: change it and it fails. */
	f[14 + 24 + 15] ^= 1;
	assert_int_equal(vrrp_decode(f, n, &d), VRRP_BAD_CHECKSUM);
}

/* ---- state machine ------------------------------------------------------ */

static const uint8_t SELF[16] = { 10, 0, 0, 2 };
static const uint8_t PEER_HI[16] = { 10, 0, 0, 3 };
static const uint8_t PEER_LO[16] = { 10, 0, 0, 1 };

static struct vrrp_fsm
router(uint8_t prio, uint16_t adver_cs, bool preempt, uint32_t delay_ms)
{
	struct vrrp_fsm m;
	struct vrrp_fsm_cfg c = { .vrid = 7, .priority = prio, .adver_cs = adver_cs,
				  .version = 3, .preempt = preempt,
				  .preempt_delay_ms = delay_ms };

	vrrp_fsm_init(&m, &c, 4, SELF);
	return m;
}

static struct vrrp_adv
adv(const uint8_t *src, uint8_t prio, uint16_t interval_cs)
{
	struct vrrp_adv a = { .version = 3, .family = 4, .vrid = 7, .priority = prio,
			      .interval_cs = interval_cs };

	memcpy(a.src, src, 16);
	return a;
}

static void
test_fsm_timers(void **state)
{
	struct vrrp_fsm m = router(100, 100, true, 0);
	struct vrrp_out o;

	/* Skew = (256 - 100) * 1000 / 256 = 609 ms; down = 3609 ms. */
	vrrp_fsm_start(&m, 1000, &o);
	assert_true(o.changed);
	assert_int_equal(o.from, VRRP_INIT);
	assert_int_equal(o.to, VRRP_BACKUP);
	assert_false(o.send);
	assert_int_equal(vrrp_fsm_skew_ms(&m), 609);
	assert_int_equal(vrrp_fsm_down_ms(&m), 3609);
	assert_int_equal(vrrp_fsm_deadline(&m), 4609);
	vrrp_fsm_tick(&m, 4608, &o);
	assert_false(o.changed);
	assert_int_equal(m.state, VRRP_BACKUP);
	vrrp_fsm_tick(&m, 4609, &o);
	assert_true(o.changed && o.to == VRRP_MASTER);
	assert_true(o.send);
	assert_int_equal(o.send_prio, 100);
	assert_int_equal(vrrp_fsm_deadline(&m), 5609);
	vrrp_fsm_tick(&m, 5609, &o);
	assert_true(o.send && !o.changed);
	assert_int_equal(vrrp_fsm_deadline(&m), 6609);
	assert_int_equal(m.became_master, 1);

	/* The address owner (255) starts as master, advertising at once. */
	m = router(255, 100, true, 0);
	vrrp_fsm_start(&m, 0, &o);
	assert_true(o.send && o.changed && o.to == VRRP_MASTER);
	assert_int_equal(vrrp_fsm_skew_ms(&m), 3);

	/* Centisecond intervals: 100 ms at priority 200 -> skew 21 ms. */
	m = router(200, 10, true, 0);
	vrrp_fsm_start(&m, 0, &o);
	assert_int_equal(vrrp_fsm_skew_ms(&m), 21);
	assert_int_equal(vrrp_fsm_deadline(&m), 321);
}

static void
test_fsm_backup(void **state)
{
	struct vrrp_fsm m = router(100, 100, true, 0);
	struct vrrp_out o;
	struct vrrp_adv a;

	vrrp_fsm_start(&m, 0, &o);
	/* A higher master resets the timer and teaches its interval (v3). */
	a = adv(PEER_HI, 150, 50);
	vrrp_fsm_rx(&m, 1000, &a, &o);
	assert_false(o.changed || o.send);
	assert_int_equal(m.master_adver_cs, 50);
	assert_int_equal(vrrp_fsm_down_ms(&m), 1500 + 304);
	assert_int_equal(vrrp_fsm_deadline(&m), 1000 + 1804);
	assert_memory_equal(m.master, PEER_HI, 4);
	/* An equal priority master is followed too. */
	a = adv(PEER_LO, 100, 100);
	vrrp_fsm_rx(&m, 2000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 2000 + 3609);
	/* A lower master with preemption on: ignored, so we take over when
	 * the timer runs out. */
	a = adv(PEER_LO, 50, 100);
	vrrp_fsm_rx(&m, 3000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 2000 + 3609);
	vrrp_fsm_tick(&m, 5609, &o);
	assert_int_equal(m.state, VRRP_MASTER);

	/* Without preemption, a lower master is followed. */
	m = router(100, 100, false, 0);
	vrrp_fsm_start(&m, 0, &o);
	vrrp_fsm_rx(&m, 3000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 3000 + 3609);

	/* Priority 0: the master resigned, take over after Skew_Time. */
	a = adv(PEER_LO, 0, 100);
	vrrp_fsm_rx(&m, 4000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 4000 + 609);
	vrrp_fsm_tick(&m, 4609, &o);
	assert_true(o.changed && o.to == VRRP_MASTER && o.send);
}

static void
test_fsm_preempt_delay(void **state)
{
	struct vrrp_fsm m = router(200, 100, true, 10000);
	struct vrrp_out o;
	struct vrrp_adv a = adv(PEER_LO, 100, 100);

	vrrp_fsm_start(&m, 0, &o);
	/* Within the delay a lower master is followed ... */
	vrrp_fsm_rx(&m, 9000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 9000 + vrrp_fsm_down_ms(&m));
	vrrp_fsm_tick(&m, 10000, &o);
	assert_int_equal(m.state, VRRP_BACKUP);
	/* ... after it, preempted. */
	vrrp_fsm_rx(&m, 10000, &a, &o);
	assert_int_equal(vrrp_fsm_deadline(&m), 9000 + vrrp_fsm_down_ms(&m));
	vrrp_fsm_tick(&m, 9000 + vrrp_fsm_down_ms(&m), &o);
	assert_int_equal(m.state, VRRP_MASTER);
}

/* Held (waiting for ha-sync's resync): no preemption at all, the master
 * is followed; released: preempted at the next advert's timeout. */
static void
test_fsm_preempt_held(void **state)
{
	struct vrrp_fsm m = router(200, 100, true, 0);
	struct vrrp_out o;
	struct vrrp_adv a = adv(PEER_LO, 100, 100);

	vrrp_fsm_hold_preempt(&m, true);
	vrrp_fsm_start(&m, 0, &o);
	for (uint64_t t = 100; t < 60000; t += 1000) {
		vrrp_fsm_rx(&m, t, &a, &o);
		vrrp_fsm_tick(&m, t + 999, &o);
		assert_int_equal(m.state, VRRP_BACKUP);
	}
	vrrp_fsm_hold_preempt(&m, false);
	vrrp_fsm_rx(&m, 60100, &a, &o);
	vrrp_fsm_tick(&m, 59100 + vrrp_fsm_down_ms(&m), &o);
	assert_int_equal(m.state, VRRP_MASTER);
}

static void
test_fsm_master(void **state)
{
	struct vrrp_fsm m = router(100, 100, true, 0);
	struct vrrp_out o;
	struct vrrp_adv a;

	vrrp_fsm_start(&m, 0, &o);
	vrrp_fsm_tick(&m, 3609, &o);
	assert_int_equal(m.state, VRRP_MASTER);
	/* Lower priority, or equal from a lower address: discarded. */
	a = adv(PEER_LO, 99, 100);
	vrrp_fsm_rx(&m, 4000, &a, &o);
	assert_false(o.send || o.changed);
	a = adv(PEER_LO, 100, 100);
	vrrp_fsm_rx(&m, 4000, &a, &o);
	assert_false(o.send || o.changed);
	/* Priority 0 from a resigning peer: answer at once. */
	a = adv(PEER_LO, 0, 100);
	vrrp_fsm_rx(&m, 4100, &a, &o);
	assert_true(o.send && !o.changed);
	assert_int_equal(vrrp_fsm_deadline(&m), 5100);
	/* Equal priority from a higher address wins. */
	a = adv(PEER_HI, 100, 200);
	vrrp_fsm_rx(&m, 4200, &a, &o);
	assert_true(o.changed && o.from == VRRP_MASTER && o.to == VRRP_BACKUP);
	assert_false(o.send);
	assert_int_equal(m.master_adver_cs, 200);
	assert_int_equal(vrrp_fsm_deadline(&m), 4200 + 6000 + 1218);
	/* Back to master, then a higher priority takes over. */
	vrrp_fsm_tick(&m, 4200 + 7218, &o);
	assert_int_equal(m.state, VRRP_MASTER);
	a = adv(PEER_LO, 101, 100);
	vrrp_fsm_rx(&m, 20000, &a, &o);
	assert_int_equal(m.state, VRRP_BACKUP);
	assert_int_equal(m.transitions, 5);
}

static void
test_fsm_stop_fault_prio(void **state)
{
	struct vrrp_fsm m = router(255, 100, true, 0);
	struct vrrp_out o;
	struct vrrp_adv a = adv(PEER_HI, 254, 100);

	vrrp_fsm_start(&m, 0, &o);
	/* Shutdown of a master: a priority-0 advertisement, then Initialize. */
	vrrp_fsm_stop(&m, 100, &o);
	assert_true(o.send);
	assert_int_equal(o.send_prio, 0);
	assert_true(o.changed && o.to == VRRP_INIT);
	assert_int_equal(vrrp_fsm_deadline(&m), 0);

	m = router(100, 100, true, 0);
	vrrp_fsm_start(&m, 0, &o);
	vrrp_fsm_tick(&m, 3609, &o);
	/* FAULT: resign, stay quiet, ignore advertisements and timers. */
	vrrp_fsm_fault(&m, 4000, true, &o);
	assert_true(o.send && o.send_prio == 0);
	assert_true(o.changed && o.from == VRRP_MASTER && o.to == VRRP_FAULT);
	assert_int_equal(vrrp_fsm_deadline(&m), 0);
	vrrp_fsm_rx(&m, 4100, &a, &o);
	vrrp_fsm_tick(&m, 99999, &o);
	assert_false(o.send || o.changed);
	vrrp_fsm_fault(&m, 5000, false, &o);
	assert_true(o.changed && o.from == VRRP_FAULT && o.to == VRRP_BACKUP);
	assert_int_equal(vrrp_fsm_deadline(&m), 5000 + 3609);

	/* set-priority on a master advertises the new priority at once. */
	vrrp_fsm_tick(&m, 8609, &o);
	vrrp_fsm_set_prio(&m, 9000, 50, &o);
	assert_true(o.send);
	assert_int_equal(o.send_prio, 50);
	vrrp_fsm_set_prio(&m, 9000, 0, &o);	/* 0 is not a priority */
	assert_int_equal(m.prio, 1);

	/* Forced moves (sync groups). */
	vrrp_fsm_force(&m, 9100, VRRP_BACKUP, &o);
	assert_true(o.changed && o.to == VRRP_BACKUP && !o.send);
	vrrp_fsm_force(&m, 9200, VRRP_MASTER, &o);
	assert_true(o.changed && o.to == VRRP_MASTER && o.send);
	assert_string_equal(vrrp_state_name(m.state), "master");

	/* Phase: the next advert comes sooner, never later. */
	assert_int_equal(vrrp_fsm_deadline(&m), 9200 + 1000);
	vrrp_fsm_phase(&m, 9200, 500);
	assert_int_equal(vrrp_fsm_deadline(&m), 9700);
	vrrp_fsm_phase(&m, 9200, 800);
	assert_int_equal(vrrp_fsm_deadline(&m), 9700);
	vrrp_fsm_tick(&m, 9700, &o);
	assert_true(o.send);
	assert_int_equal(vrrp_fsm_deadline(&m), 9700 + 1000);
	/* Only a master has an advert to move. */
	vrrp_fsm_force(&m, 9800, VRRP_BACKUP, &o);
	vrrp_fsm_phase(&m, 9800, 10);
	assert_int_equal(vrrp_fsm_deadline(&m), 9800 + vrrp_fsm_down_ms(&m));
}

static void
test_fsm_v2_keeps_interval(void **state)
{
	struct vrrp_fsm m;
	struct vrrp_fsm_cfg c = { .vrid = 7, .priority = 100, .adver_cs = 100,
				  .version = 2, .preempt = true };
	struct vrrp_out o;
	struct vrrp_adv a = adv(PEER_HI, 200, 300);

	vrrp_fsm_init(&m, &c, 4, SELF);
	vrrp_fsm_start(&m, 0, &o);
	vrrp_fsm_rx(&m, 100, &a, &o);
	assert_int_equal(m.master_adver_cs, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalived_samples),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_unicast),
		cmocka_unit_test(test_fsm_timers),
		cmocka_unit_test(test_fsm_backup),
		cmocka_unit_test(test_fsm_preempt_delay),
		cmocka_unit_test(test_fsm_preempt_held),
		cmocka_unit_test(test_fsm_master),
		cmocka_unit_test(test_fsm_stop_fault_prio),
		cmocka_unit_test(test_fsm_v2_keeps_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
