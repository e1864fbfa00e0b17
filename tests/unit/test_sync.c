/*
 * ha-sync: the codec, the HMAC, and the link over a simulated network that
 * loses, duplicates, reorders and corrupts datagrams, on a virtual clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ha-sync/sync.h"

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t KEY2[32] = "0123456789abcdef0123456789abcdeX";

/* Record i: a distinct IPv4 connection; its index can be read back. */
static struct sync_rec
rec(uint32_t i, uint8_t kind)
{
	struct sync_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.state = 2;
	r.flags = 0x02;
	r.mode = 1;
	for (int d = 0; d < 2; d++) {
		r.t[d].family = 4;
		r.t[d].proto = 6;
	}
	r.t[0].src[0] = 10;
	r.t[0].src[1] = (uint8_t)(i >> 16);
	r.t[0].src[2] = (uint8_t)(i >> 8);
	r.t[0].src[3] = (uint8_t)i;
	r.t[0].dst[0] = 192;
	r.t[0].sport = htons(40000);
	r.t[0].dport = htons(80);
	r.t[1].src[0] = 172;
	r.t[1].dst[0] = 10;
	r.t[1].sport = htons(8080);
	r.t[1].dport = htons((uint16_t)(1024 + (i & 0x3fff)));
	if (kind == SYNC_REC_CLOSE)
		memset(&r.t[1], 0, sizeof(r.t[1]));
	return r;
}

static uint32_t
rec_index(const struct sync_rec *r)
{
	return (uint32_t)r->t[0].src[1] << 16 | (uint32_t)r->t[0].src[2] << 8 |
	    r->t[0].src[3];
}

static void
test_records(void **state)
{
	uint8_t buf[SYNC_REC_MAX];
	struct sync_rec r = rec(0x010203, SYNC_REC_UPSERT), back;

	assert_int_equal(sync_rec_size(&r), 29);
	assert_int_equal(sync_rec_encode(&r, buf), 29);
	assert_int_equal(sync_rec_decode(&back, buf, 29), 29);
	assert_memory_equal(&back, &r, sizeof(r));
	/* Truncated anywhere: not a record. */
	for (size_t n = 0; n < 29; n++)
		assert_int_equal(sync_rec_decode(&back, buf, n), 0);
	buf[0] = 0x07;				/* unknown kind */
	assert_int_equal(sync_rec_decode(&back, buf, 29), 0);
	buf[0] = 0x41;				/* unknown bit */
	assert_int_equal(sync_rec_decode(&back, buf, 29), 0);

	r = rec(5, SYNC_REC_CLOSE);
	assert_int_equal(sync_rec_encode(&r, buf), 14);
	assert_int_equal(sync_rec_decode(&back, buf, 14), 14);
	assert_int_equal(back.kind, SYNC_REC_CLOSE);
	assert_memory_equal(&back.t[0], &r.t[0], sizeof(r.t[0]));

	/* IPv6: 77 and 38 bytes. */
	r = rec(9, SYNC_REC_UPSERT);
	for (int d = 0; d < 2; d++) {
		r.t[d].family = 6;
		memset(r.t[d].src, 0xfd, 16);
		memset(r.t[d].dst, 0x20 + d, 16);
	}
	assert_int_equal(sync_rec_encode(&r, buf), SYNC_REC_MAX);
	assert_int_equal(sync_rec_decode(&back, buf, SYNC_REC_MAX), SYNC_REC_MAX);
	assert_memory_equal(&back, &r, sizeof(r));
	r.kind = SYNC_REC_CLOSE;
	assert_int_equal(sync_rec_size(&r), 38);

	/* Not encodable: family, protocol, mixed families. */
	r = rec(1, SYNC_REC_UPSERT);
	r.t[1].family = 6;
	assert_int_equal(sync_rec_size(&r), 0);
	r = rec(1, SYNC_REC_UPSERT);
	r.t[0].proto = 0;
	assert_int_equal(sync_rec_encode(&r, buf), 0);
}

static void
test_seal_open(void **state)
{
	struct sync_hdr h = { .type = SYNC_T_DATA, .flags = SYNC_F_BULK_END,
			      .count = 1, .node = 0x1122334455667788ull,
			      .epoch = 1700000000, .peer_epoch = 1700000001,
			      .msgid = 42, .seq = 7, .base = 5, .ack = 99,
			      .cfg_hash = 0xabcdef };
	struct sync_hdr g;
	struct sync_rec r = rec(3, SYNC_REC_UPSERT);
	uint8_t pl[64], d[256];
	const uint8_t *p;
	size_t plen, pn = sync_rec_encode(&r, pl), n;

	n = sync_seal(d, sizeof(d), &h, pl, pn, KEY, sizeof(KEY));
	assert_int_equal(n, SYNC_HDR_LEN + pn + SYNC_MAC_LEN);
	assert_int_equal(sync_open(d, n, KEY, sizeof(KEY), &g, &p, &plen), SYNC_OK);
	assert_true(g.type == h.type && g.flags == h.flags && g.count == h.count &&
	    g.node == h.node && g.epoch == h.epoch &&
	    g.peer_epoch == h.peer_epoch && g.msgid == h.msgid &&
	    g.seq == h.seq && g.base == h.base && g.ack == h.ack &&
	    g.cfg_hash == h.cfg_hash);
	assert_int_equal(plen, pn);
	assert_memory_equal(p, pl, pn);
	assert_int_equal(sync_seal(d, n - 1, &h, pl, pn, KEY, sizeof(KEY)), 0);

	/* Any bit flipped: rejected, as not ours or as forged. */
	for (size_t i = 0; i < n; i++) {
		enum sync_bad b;
		d[i] ^= 0x10;
		b = sync_open(d, n, KEY, sizeof(KEY), &g, &p, &plen);
		assert_true(b == (i < 4 ? SYNC_BAD_MAGIC : SYNC_BAD_AUTH));
		d[i] ^= 0x10;
	}
	assert_int_equal(sync_open(d, n, KEY2, sizeof(KEY2), &g, &p, &plen),
	    SYNC_BAD_AUTH);
	assert_int_equal(sync_open(d, SYNC_HDR_LEN + SYNC_MAC_LEN - 1, KEY,
	    sizeof(KEY), &g, &p, &plen), SYNC_BAD_SHORT);

	/* Authentic but malformed: DATA without a seq, ACK with records,
	 * an unknown type. */
	h.seq = 0;
	n = sync_seal(d, sizeof(d), &h, pl, pn, KEY, sizeof(KEY));
	assert_int_equal(sync_open(d, n, KEY, sizeof(KEY), &g, &p, &plen),
	    SYNC_BAD_FORMAT);
	h.type = SYNC_T_ACK;
	h.seq = 1;
	n = sync_seal(d, sizeof(d), &h, pl, pn, KEY, sizeof(KEY));
	assert_int_equal(sync_open(d, n, KEY, sizeof(KEY), &g, &p, &plen),
	    SYNC_BAD_FORMAT);
	h.type = 9;
	h.count = 0;
	n = sync_seal(d, sizeof(d), &h, NULL, 0, KEY, sizeof(KEY));
	assert_int_equal(sync_open(d, n, KEY, sizeof(KEY), &g, &p, &plen),
	    SYNC_BAD_FORMAT);

	assert_true(sync_node_id("lb1") != sync_node_id("lb2"));
	assert_int_equal(sync_node_id("lb1"), sync_node_id("lb1"));
	assert_string_equal(sync_bad_name(SYNC_BAD_REPLAY), "replayed");
}

/* ---- a simulated network between two links --------------------------- */

#define QMAX	8192

struct pkt {
	uint64_t	at;
	int		to;
	size_t		len;
	uint8_t		d[1500];
};

struct node {
	struct sync_link *l;
	uint32_t	*got;		/* record indexes, in arrival order */
	size_t		 n_got, cap_got;
	int		 ev[16];	/* events seen, by type */
	/* the "table" this node streams in a bulk: records 0 .. table_n-1,
	 * as much at a time as the window has room for, like lbd */
	uint32_t	 table_n, bulk_next;
	bool		 bulk_active, bulk_streamed;
	uint64_t	*now;
};

struct sim {
	struct node	 n[2];
	struct pkt	*q;
	size_t		 nq;
	uint64_t	 now, rng;
	unsigned	 loss, dup, corrupt, delay;	/* percent, percent, percent, ms */
	bool		 cut;				/* drop everything */
};

static uint32_t
rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)s->rng;
}

static void
on_rec(void *arg, const struct sync_rec *r)
{
	struct node *n = arg;

	if (n->n_got == n->cap_got) {
		n->cap_got = n->cap_got ? n->cap_got * 2 : 1024;
		n->got = realloc(n->got, n->cap_got * sizeof(*n->got));
		assert_non_null(n->got);
	}
	n->got[n->n_got++] = rec_index(r);
}

static void
on_event(void *arg, enum sync_event e)
{
	struct node *n = arg;

	n->ev[e]++;
	if (e == SYNC_EV_SEND_BULK) {
		assert_int_equal(sync_link_bulk_begin(n->l, *n->now), 0);
		n->bulk_active = true;
		n->bulk_next = 0;
	}
}

static void
bulk_more(struct node *n)
{
	while (n->bulk_active && sync_link_room(n->l) > 1) {
		if (n->bulk_next == n->table_n) {
			assert_int_equal(sync_link_bulk_end(n->l, *n->now), 0);
			n->bulk_active = false;
			n->bulk_streamed = true;
		} else {
			struct sync_rec r = rec(n->bulk_next++, SYNC_REC_UPSERT);
			assert_int_equal(sync_link_put(n->l, *n->now, &r), 0);
		}
	}
}

static struct sync_link *
mklink(struct sim *s, int i, uint32_t epoch, const uint8_t *key,
    uint32_t window)
{
	struct sync_link_cfg c = {
		.node = 100 + (uint64_t)i, .epoch = epoch, .key = key,
		.key_len = 32, .cfg_hash = 77, .window = window,
	};
	struct sync_cb cb = { .rec = on_rec, .event = on_event, .arg = &s->n[i] };

	s->n[i].now = &s->now;
	return sync_link_new(&c, &cb);
}

static void
sim_init(struct sim *s, uint32_t window)
{
	memset(s, 0, sizeof(*s));
	s->q = calloc(QMAX, sizeof(*s->q));
	assert_non_null(s->q);
	s->rng = 0x9e3779b97f4a7c15ull;
	s->now = 1000;
	s->n[0].l = mklink(s, 0, 1000, KEY, window);
	s->n[1].l = mklink(s, 1, 1000, KEY, window);
	assert_non_null(s->n[0].l);
	assert_non_null(s->n[1].l);
}

static void
sim_free(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		sync_link_free(s->n[i].l);
		free(s->n[i].got);
	}
	free(s->q);
}

static void
enqueue(struct sim *s, int to, const uint8_t *d, size_t len)
{
	struct pkt *p;

	if (s->cut || rnd(s) % 100 < s->loss || s->nq == QMAX)
		return;
	p = &s->q[s->nq++];
	p->at = s->now + (s->delay ? rnd(s) % (s->delay + 1) : 0);
	p->to = to;
	p->len = len;
	memcpy(p->d, d, len);
	if (rnd(s) % 100 < s->corrupt)
		p->d[rnd(s) % len] ^= (uint8_t)(1 + rnd(s) % 255);
	if (rnd(s) % 100 < s->dup && s->nq < QMAX) {
		s->q[s->nq] = *p;
		s->q[s->nq++].at += rnd(s) % 3;
	}
}

/* One millisecond: timers, output of both sides, then deliveries. */
static void
step(struct sim *s)
{
	uint8_t d[1500];
	size_t n;

	for (int i = 0; i < 2; i++) {
		sync_link_tick(s->n[i].l, s->now);
		bulk_more(&s->n[i]);
		while ((n = sync_link_output(s->n[i].l, s->now, d, sizeof(d))) > 0)
			enqueue(s, 1 - i, d, n);
	}
	/* In the order sent, but for the random delays. */
	for (size_t k = 0; k < s->nq;) {
		if (s->q[k].at <= s->now) {
			struct pkt *p = &s->q[k];
			(void)sync_link_input(s->n[p->to].l, s->now, p->d, p->len);
			memmove(p, p + 1, (--s->nq - k) * sizeof(*p));
		} else
			k++;
	}
	s->now++;
}

static void
run(struct sim *s, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t++)
		step(s);
}

static void
assert_in_order(const struct node *n, uint32_t from, uint32_t count)
{
	assert_int_equal(n->n_got, count);
	for (uint32_t i = 0; i < count; i++)
		assert_int_equal(n->got[i], from + i);
}

static void
test_link_clean(void **state)
{
	struct sim s;
	struct sync_link_info in;

	sim_init(&s, 256);
	run(&s, 5);
	/* Both learnt of the other and asked for (and got) an empty bulk. */
	assert_int_equal(s.n[0].ev[SYNC_EV_PEER_UP], 1);
	assert_int_equal(s.n[1].ev[SYNC_EV_PEER_UP], 1);
	run(&s, 20);
	assert_int_equal(s.n[1].ev[SYNC_EV_BULK_END], 1);
	sync_link_info(s.n[1].l, &in);
	assert_true(in.peer_up && in.synced && !in.cfg_mismatch);
	assert_int_equal(in.peer_node, 100);

	for (uint32_t i = 0; i < 10000; i++) {
		struct sync_rec r = rec(i, SYNC_REC_UPSERT);
		assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
		if (i % 100 == 99)
			step(&s);
	}
	run(&s, 50);
	assert_in_order(&s.n[1], 0, 10000);
	sync_link_info(s.n[0].l, &in);
	assert_int_equal(in.in_flight, 0);
	assert_int_equal(in.tx_acked, in.tx_seq);
	/* 29-byte records in 1400-byte datagrams: 44 a datagram, so the
	 * wire cost per record stays under 32 bytes. */
	assert_true(sync_link_stats(s.n[0].l)->bytes_sent < 10000 * 32 + 20000);
	assert_int_equal(sync_link_stats(s.n[0].l)->retransmits, 0);
	assert_true(sync_lag_pct(in.lag, 99) <= 3);

	/* A probe for a second link: the peer takes it (once), and it does
	 * not stand in for the stream's own keepalive. */
	uint8_t d[1500];
	size_t n = sync_link_probe(s.n[0].l, s.now + 50, d, sizeof(d));
	uint64_t sent = sync_link_stats(s.n[0].l)->dgrams_sent;
	assert_true(n > 0);
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n), SYNC_OK);
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n),
	    SYNC_BAD_REPLAY);
	s.now += 100;		/* since the stream's last datagram, not the probe */
	assert_true(sync_link_output(s.n[0].l, s.now, d, sizeof(d)) > 0);
	assert_int_equal(sync_link_stats(s.n[0].l)->dgrams_sent, sent + 1);
	sim_free(&s);
}

/* A record after an idle stream (a connection just opened) goes out at
 * once, not flush_ms later: a node that dies a moment after has still
 * told its peer. Records that follow within flush_ms share a datagram. */
static void
test_idle_record_at_once(void **state)
{
	struct sim s;
	uint8_t d[1500];
	uint64_t before;
	struct sync_rec r = rec(1, SYNC_REC_UPSERT);

	sim_init(&s, 256);
	run(&s, 30);
	s.now += 50;			/* nothing sent for a while */
	before = sync_link_stats(s.n[0].l)->dgrams_sent;
	assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
	assert_true(sync_link_output(s.n[0].l, s.now, d, sizeof(d)) > 0);
	assert_int_equal(sync_link_stats(s.n[0].l)->dgrams_sent, before + 1);
	/* The same millisecond: these wait for company. */
	for (uint32_t i = 2; i < 12; i++) {
		r = rec(i, SYNC_REC_UPSERT);
		assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
	}
	while (sync_link_output(s.n[0].l, s.now, d, sizeof(d)) > 0)
		;
	assert_int_equal(sync_link_stats(s.n[0].l)->dgrams_sent, before + 1);
	assert_int_equal(sync_link_deadline(s.n[0].l), s.now + 1);
	s.now++;
	assert_true(sync_link_output(s.n[0].l, s.now, d, sizeof(d)) > 0);
	assert_int_equal(sync_link_stats(s.n[0].l)->dgrams_sent, before + 2);
	sim_free(&s);
}

/* Records lost before they reached the link (lbd's event queue was
 * full): sync_link_owe_bulk, and the peer gets the whole table again,
 * every record of it, without asking. */
static void
test_lost_events_owe_bulk(void **state)
{
	struct sim s;
	uint32_t got_before;

	sim_init(&s, 256);
	run(&s, 30);
	assert_int_equal(s.n[0].ev[SYNC_EV_SEND_BULK], 1);	/* the first */
	s.n[0].table_n = 500;		/* records 0..499 on node 0 */
	for (uint32_t i = 0; i < 500; i += 2) {	/* half of them told */
		struct sync_rec r = rec(i, SYNC_REC_UPSERT);
		assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
	}
	run(&s, 50);
	got_before = (uint32_t)s.n[1].n_got;
	assert_int_equal(got_before, 250);
	assert_int_equal(s.n[0].ev[SYNC_EV_SEND_BULK], 1);
	sync_link_owe_bulk(s.n[0].l);
	run(&s, 100);
	assert_int_equal(s.n[0].ev[SYNC_EV_SEND_BULK], 2);
	assert_true(s.n[0].bulk_streamed);
	assert_int_equal(s.n[1].ev[SYNC_EV_BULK_END], 2);
	/* The bulk: 0..499 in order after what came before. */
	assert_int_equal(s.n[1].n_got, got_before + 500);
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(s.n[1].got[got_before + i], i);
	sim_free(&s);
}

static void
test_link_lossy(void **state)
{
	struct sim s;
	const struct sync_stats *st;

	sim_init(&s, 256);
	s.loss = 20;
	s.dup = 10;
	s.corrupt = 5;
	s.delay = 4;
	run(&s, 200);
	/* Offered as fast as the window lets them in. */
	for (uint32_t i = 0; i < 20000; i++) {
		struct sync_rec r = rec(i, SYNC_REC_UPSERT);
		while (sync_link_room(s.n[0].l) < 2)
			step(&s);
		assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
		if (i % 50 == 49)
			step(&s);
	}
	run(&s, 3000);
	/* Every record exactly once, in order, whatever the network did. */
	assert_in_order(&s.n[1], 0, 20000);
	st = sync_link_stats(s.n[0].l);
	assert_true(st->retransmits > 0);
	st = sync_link_stats(s.n[1].l);
	assert_true(st->bad[SYNC_BAD_AUTH] + st->bad[SYNC_BAD_MAGIC] > 0);
	assert_true(st->dups > 0 || st->bad[SYNC_BAD_REPLAY] > 0);
	assert_true(st->out_of_order > 0);
	assert_int_equal(s.n[1].ev[SYNC_EV_PEER_DOWN], 0);
	sim_free(&s);
}

static void
test_replay_and_keys(void **state)
{
	struct sim s;
	struct sync_rec r = rec(1, SYNC_REC_UPSERT);
	uint8_t d[1500], old[1500];
	size_t n, on;
	struct sync_link *wrong;
	struct node nw = { 0 };
	struct sync_link_cfg c = { .node = 9, .epoch = 5000, .key = KEY2,
				   .key_len = 32, .cfg_hash = 77 };
	struct sync_cb cb = { .rec = on_rec, .event = on_event, .arg = &nw };

	sim_init(&s, 64);
	run(&s, 30);
	assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
	s.now += 2;
	n = sync_link_output(s.n[0].l, s.now, d, sizeof(d));
	assert_true(n > 0);
	memcpy(old, d, n);
	on = n;
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n), SYNC_OK);
	assert_int_equal(s.n[1].n_got, 1);
	/* The same datagram again: a replay, nothing applied. */
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n), SYNC_BAD_REPLAY);
	assert_int_equal(s.n[1].n_got, 1);
	/* Our own datagram looped back. */
	assert_int_equal(sync_link_input(s.n[0].l, s.now, d, n), SYNC_BAD_SELF);

	/* A sender with the wrong key: nothing applied, all counted. */
	wrong = sync_link_new(&c, &cb);
	assert_non_null(wrong);
	nw.l = wrong;
	nw.now = &s.now;
	assert_int_equal(sync_link_put(wrong, s.now, &r), 0);
	for (int k = 0; k < 5; k++) {
		s.now += 150;		/* a keepalive each time */
		while ((n = sync_link_output(wrong, s.now, d, sizeof(d))) > 0)
			assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n),
			    SYNC_BAD_AUTH);
	}
	assert_int_equal(s.n[1].n_got, 1);
	assert_true(sync_link_stats(s.n[1].l)->bad[SYNC_BAD_AUTH] >= 5);
	sync_link_free(wrong);

	/* Node 0 restarts (a later epoch): node 1 follows, and from then on
	 * a datagram of the old run is rejected. */
	sync_link_free(s.n[0].l);
	s.n[0].l = mklink(&s, 0, 2000, KEY, 64);
	run(&s, 30);
	assert_int_equal(s.n[1].ev[SYNC_EV_PEER_RESTART], 1);
	assert_int_equal(sync_link_input(s.n[1].l, s.now, old, on), SYNC_BAD_EPOCH);
	assert_int_equal(s.n[1].n_got, 1);
	sim_free(&s);
}

static void
test_resync_after_cut(void **state)
{
	struct sim s;
	struct sync_link_info in;

	/* A small window: a long cut makes the sender give records up. */
	sim_init(&s, 8);
	run(&s, 30);
	s.cut = true;
	for (uint32_t i = 0; i < 2000; i++) {
		struct sync_rec r = rec(i, SYNC_REC_UPSERT);
		(void)sync_link_put(s.n[0].l, s.now, &r);
		if (i % 40 == 39)
			step(&s);
	}
	run(&s, 1200);
	assert_int_equal(s.n[0].ev[SYNC_EV_PEER_DOWN], 1);
	assert_true(sync_link_stats(s.n[0].l)->window_full > 0);
	/* The link returns: the backlog goes out, then the bulk that covers
	 * what was given up (the test's table: records 0 .. 1999). */
	s.cut = false;
	s.n[0].table_n = 2000;
	run(&s, 300);
	assert_int_equal(s.n[0].ev[SYNC_EV_PEER_UP], 2);
	assert_true(s.n[0].bulk_streamed);
	assert_true(s.n[1].ev[SYNC_EV_BULK_END] >= 2);
	/* After the bulk node 1 has seen every record (the bulk's last). */
	assert_true(s.n[1].n_got >= 2000);
	for (uint32_t i = 0; i < 2000; i++)
		assert_int_equal(s.n[1].got[s.n[1].n_got - 2000 + i], i);
	sync_link_info(s.n[1].l, &in);
	assert_true(in.synced);
	sim_free(&s);
}

/* The peer dies while we put records it never acknowledges, and comes
 * back as a new run (a new epoch): it gets them once, in the bulk, not
 * also as the old backlog. */
static void
test_peer_restart_backlog(void **state)
{
	struct sim s;
	struct sync_link_info in;

	sim_init(&s, 64);
	run(&s, 30);
	s.cut = true;
	for (uint32_t i = 0; i < 40; i++) {
		struct sync_rec r = rec(i, SYNC_REC_UPSERT);
		assert_int_equal(sync_link_put(s.n[0].l, s.now, &r), 0);
	}
	run(&s, 1200);
	assert_int_equal(s.n[0].ev[SYNC_EV_PEER_DOWN], 1);
	sync_link_info(s.n[0].l, &in);
	assert_true(in.in_flight > 0);
	/* Node 1 restarts: a fresh link, a later epoch. */
	sync_link_free(s.n[1].l);
	free(s.n[1].got);
	memset(&s.n[1], 0, sizeof(s.n[1]));
	s.n[1].l = mklink(&s, 1, 2000, KEY, 64);
	s.n[0].table_n = 40;
	s.cut = false;
	run(&s, 300);
	assert_int_equal(s.n[0].ev[SYNC_EV_PEER_RESTART], 1);
	assert_true(s.n[0].bulk_streamed);
	assert_in_order(&s.n[1], 0, 40);
	sync_link_info(s.n[1].l, &in);
	assert_true(in.synced);
	sync_link_info(s.n[0].l, &in);
	assert_int_equal(in.in_flight, 0);
	sim_free(&s);
}

static void
test_gap_and_mismatch(void **state)
{
	struct sim s;
	struct sync_hdr h = { .type = SYNC_T_DATA, .node = 100, .epoch = 1000,
			      .peer_epoch = 1000, .msgid = 1000, .seq = 50,
			      .base = 50, .cfg_hash = 78 };
	struct sync_rec r = rec(7, SYNC_REC_CLOSE);
	uint8_t pl[64], d[256];
	size_t n, pn = sync_rec_encode(&r, pl);
	struct sync_link_info in;

	sim_init(&s, 64);
	run(&s, 30);
	sync_link_info(s.n[1].l, &in);
	assert_true(in.synced && !in.cfg_mismatch);
	/* The sender says it no longer holds seq < 50: node 1 applies 50,
	 * counts a gap, and asks for the whole table again. Its config hash
	 * differs too. */
	h.count = 1;
	n = sync_seal(d, sizeof(d), &h, pl, pn, KEY, sizeof(KEY));
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n), SYNC_OK);
	assert_int_equal(s.n[1].n_got, 1);
	assert_int_equal(sync_link_stats(s.n[1].l)->gaps, 1);
	assert_int_equal(s.n[1].ev[SYNC_EV_CFG_MISMATCH], 1);
	sync_link_info(s.n[1].l, &in);
	assert_true(!in.synced && in.cfg_mismatch);
	assert_int_equal(in.rx_seq, 50);
	/* A record that does not parse: the datagram is refused whole. */
	h.msgid++;
	h.seq = 51;
	pl[0] = 0x0f;
	n = sync_seal(d, sizeof(d), &h, pl, pn, KEY, sizeof(KEY));
	assert_int_equal(sync_link_input(s.n[1].l, s.now, d, n), SYNC_BAD_FORMAT);
	assert_int_equal(s.n[1].n_got, 1);
	sim_free(&s);
}

/* A key roll without an outage, as the operator guide tells it: both
 * nodes accept the new key, node 0 signs with it, then node 1, then the
 * old one goes. Records flow all along; nothing fails authentication. */
static void
test_key_roll(void **state)
{
	struct sim s;
	uint32_t sent = 0;

	sim_init(&s, 64);
	run(&s, 30);
	for (int phase = 0; phase < 4; phase++) {
		if (phase == 0)		/* both: KEY, and accept KEY2 */
			for (int i = 0; i < 2; i++)
				assert_int_equal(sync_link_set_keys(s.n[i].l, KEY,
				    sizeof(KEY), KEY2, sizeof(KEY2)), 0);
		else if (phase == 1)	/* node 0 signs with KEY2 */
			assert_int_equal(sync_link_set_keys(s.n[0].l, KEY2,
			    sizeof(KEY2), KEY, sizeof(KEY)), 0);
		else if (phase == 2)	/* node 1 too */
			assert_int_equal(sync_link_set_keys(s.n[1].l, KEY2,
			    sizeof(KEY2), KEY, sizeof(KEY)), 0);
		else			/* KEY is gone */
			for (int i = 0; i < 2; i++)
				assert_int_equal(sync_link_set_keys(s.n[i].l,
				    KEY2, sizeof(KEY2), NULL, 0), 0);
		for (int k = 0; k < 50; k++, sent++) {
			struct sync_rec r = rec(sent, SYNC_REC_UPSERT);
			assert_int_equal(sync_link_put(s.n[sent % 2].l, s.now, &r), 0);
			run(&s, 5);
		}
	}
	run(&s, 200);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sync_link_stats(s.n[i].l)->bad[SYNC_BAD_AUTH], 0);
	assert_int_equal(s.n[0].n_got + s.n[1].n_got, sent);
	/* Phase 1: node 1 verified node 0's datagrams with its accept key;
	 * phase 2 the other way round. */
	assert_true(sync_link_stats(s.n[1].l)->auth_accept_key > 0);
	assert_true(sync_link_stats(s.n[0].l)->auth_accept_key > 0);
	/* A key of the wrong length changes nothing. */
	assert_int_equal(sync_link_set_keys(s.n[0].l, KEY, 8, NULL, 0), -1);
	sim_free(&s);
}

/* An authenticated datagram larger than the link's own datagrams (the
 * receive buffer takes 9,000 bytes; the link's slots hold an MTU's worth):
 * refused as malformed whether it comes in order or ahead of a gap, never
 * copied into a slot. */
static void
test_oversized_datagram(void **state)
{
	struct sync_link_cfg c = { .node = 2, .epoch = 200, .key = KEY,
				   .key_len = sizeof(KEY), .window = 8 };
	struct sync_cb cb = { 0 };
	struct sync_link *l = sync_link_new(&c, &cb);
	static uint8_t payload[8800], d[9000];
	struct sync_rec r = rec(1, SYNC_REC_CLOSE);
	size_t size = sync_rec_size(&r), n = 0, len;
	uint16_t count = 0;

	assert_non_null(l);
	while (n + size <= sizeof(payload)) {
		r = rec(count, SYNC_REC_CLOSE);
		n += sync_rec_encode(&r, payload + n);
		count++;
	}
	for (int i = 0; i < 2; i++) {
		/* Ahead of a gap into the last reorder slot (on the old code
		 * ASan's heap overflow), then the next in order. */
		uint64_t seq = i == 0 ? 63 : 1;
		struct sync_hdr h = { .type = SYNC_T_DATA, .count = count,
				      .node = 9, .epoch = 300, .msgid = seq,
				      .seq = seq, .base = 1 };

		len = sync_seal(d, sizeof(d), &h, payload, n, KEY, sizeof(KEY));
		assert_true(len > 8000);
		assert_int_equal(sync_link_input(l, 1000, d, len),
		    SYNC_BAD_FORMAT);
	}
	assert_int_equal(sync_link_stats(l)->bad[SYNC_BAD_FORMAT], 2);
	assert_int_equal(sync_link_stats(l)->recs_recv, 0);
	sync_link_free(l);
}

static void
test_lag_pct(void **state)
{
	uint64_t lag[SYNC_LAG_BUCKETS] = { 0 };

	assert_int_equal(sync_lag_pct(lag, 50), 0);
	lag[0] = 50;	/* 0 ms */
	lag[2] = 49;	/* 2-3 ms */
	lag[5] = 1;	/* 16-31 ms */
	assert_int_equal(sync_lag_pct(lag, 50), 0);
	assert_int_equal(sync_lag_pct(lag, 99), 3);
	assert_int_equal(sync_lag_pct(lag, 100), 31);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_link_clean),
		cmocka_unit_test(test_idle_record_at_once),
		cmocka_unit_test(test_lost_events_owe_bulk),
		cmocka_unit_test(test_link_lossy),
		cmocka_unit_test(test_replay_and_keys),
		cmocka_unit_test(test_resync_after_cut),
		cmocka_unit_test(test_peer_restart_backlog),
		cmocka_unit_test(test_gap_and_mismatch),
		cmocka_unit_test(test_oversized_datagram),
		cmocka_unit_test(test_key_roll),
		cmocka_unit_test(test_lag_pct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
