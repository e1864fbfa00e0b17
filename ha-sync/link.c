/*
 * The ha-sync link to one peer: batching, the reliable stream (go-back-N),
 * replay protection, keepalives, and when a bulk resync is due. See sync.h
 * for the model and docs/ha-sync.md for the protocol.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ha-sync/sync.h"

#define REPLAY_BITS	1024	/* RFC 6479's window: reordering this deep is fine */
#define REORDER		64	/* datagrams kept ahead of a gap (= sack bits) */

struct slot {				/* one datagram of the window */
	uint64_t	 opened_at;	/* its first record: the lag's start */
	uint64_t	 sent_at;	/* 0: (re)send it */
	uint32_t	 tries;
	uint16_t	 len, count;
	uint8_t		 flags;
	bool		 sacked;	/* the peer holds it, ahead of a gap */
	uint8_t		*payload;	/* mtu bytes */
};

struct held {				/* received ahead of a gap */
	bool		 used;
	uint64_t	 seq;
	uint8_t		 flags;
	uint16_t	 count, len;
	uint8_t		*payload;
};

struct sync_link {
	struct sync_link_cfg cfg;
	uint8_t		 key[SYNC_KEY_MAX];
	uint8_t		 key2[SYNC_KEY_MAX];	/* accepted too (a roll) */
	size_t		 key2_len;		/* 0: none */
	struct sync_cb	 cb;
	size_t		 max_payload;

	/* sending: slots for seq base .. next_seq-1 are in flight; the slot
	 * for next_seq is being filled when `open` */
	struct slot	*win;
	uint8_t		*mem;
	uint64_t	 base, next_seq;
	bool		 open;
	uint64_t	 msgid;
	uint64_t	 last_sent;
	uint64_t	 last_data;	/* a DATA datagram first went out */
	bool		 sent_any;	/* the first datagram says hello at once */
	bool		 owe_bulk;	/* the peer needs our table */
	bool		 bulk_out;	/* we are streaming it */

	/* receiving */
	bool		 peer_known, peer_up;
	uint64_t	 peer_node;
	uint32_t	 peer_epoch;
	uint64_t	 rx_next;	/* the seq we apply next */
	struct held	 held[REORDER];	/* by seq % REORDER */
	uint8_t		*held_mem;
	uint64_t	 replay_hi, replay_bits[REPLAY_BITS / 64];
	uint64_t	 last_heard;
	bool		 ack_due;
	bool		 want_bulk;	/* ask the peer for its table */
	uint64_t	 last_ask;
	bool		 asked;
	bool		 synced, tainted;	/* tainted: a gap inside a bulk */
	bool		 mismatch;

	uint64_t	 lag[SYNC_LAG_BUCKETS];
	struct sync_stats st;
};

static struct slot *
slot(const struct sync_link *l, uint64_t seq)
{
	return &l->win[seq % l->cfg.window];
}

static void
emit(struct sync_link *l, enum sync_event ev)
{
	if (l->cb.event != NULL)
		l->cb.event(l->cb.arg, ev);
}

struct sync_link *
sync_link_new(const struct sync_link_cfg *cfg, const struct sync_cb *cb)
{
	struct sync_link *l;

	if (cfg->key_len < SYNC_KEY_MIN || cfg->key_len > SYNC_KEY_MAX ||
	    (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->cfg = *cfg;
	memcpy(l->key, cfg->key, cfg->key_len);
	l->cfg.key = l->key;
	if (cb != NULL)
		l->cb = *cb;
#define DEF(f, v)	if (l->cfg.f == 0) l->cfg.f = (v)
	DEF(mtu, 1400);
	DEF(window, 256);
	DEF(rto_ms, 20);
	DEF(flush_ms, 1);
	DEF(keepalive_ms, 100);
	DEF(dead_ms, 1000);
	DEF(resync_retry_ms, 500);
#undef DEF
	if (l->cfg.mtu < SYNC_MTU_MIN)
		l->cfg.mtu = SYNC_MTU_MIN;
	if (l->cfg.mtu > SYNC_MTU_MAX)
		l->cfg.mtu = SYNC_MTU_MAX;
	l->max_payload = l->cfg.mtu - SYNC_HDR_LEN - SYNC_MAC_LEN;
	l->win = calloc(l->cfg.window, sizeof(*l->win));
	l->mem = calloc(l->cfg.window, l->max_payload);
	l->held_mem = calloc(REORDER, l->max_payload);
	if (l->win == NULL || l->mem == NULL || l->held_mem == NULL) {
		sync_link_free(l);
		return NULL;
	}
	for (uint32_t i = 0; i < l->cfg.window; i++)
		l->win[i].payload = l->mem + (size_t)i * l->max_payload;
	for (uint32_t i = 0; i < REORDER; i++)
		l->held[i].payload = l->held_mem + (size_t)i * l->max_payload;
	l->base = l->next_seq = 1;
	return l;
}

void
sync_link_free(struct sync_link *l)
{
	if (l == NULL)
		return;
	free(l->win);
	free(l->mem);
	free(l->held_mem);
	OPENSSL_cleanse(l->key, sizeof(l->key));
	OPENSSL_cleanse(l->key2, sizeof(l->key2));
	free(l);
}

/* ---- sending ----------------------------------------------------------- */

static uint32_t
in_flight(const struct sync_link *l)
{
	return (uint32_t)(l->next_seq - l->base);
}

uint32_t
sync_link_room(const struct sync_link *l)
{
	return l->cfg.window - in_flight(l) - (l->open ? 1 : 0);
}

/* The timeout doubles with each try, up to 4 x: a peer that has just died
 * is not sent the window 50 times a second until it counts as down, and a
 * lossy link still gets its repairs within 80 ms. */
static uint64_t
rto(const struct sync_link *l, const struct slot *s)
{
	uint32_t k = s->tries > 0 ? s->tries - 1 : 0;

	return (uint64_t)l->cfg.rto_ms << (k < 2 ? k : 2);
}

/* Nothing goes out past what the receiver can keep ahead of a gap: it
 * would only be dropped there and sent again. */
static uint64_t
send_limit(const struct sync_link *l)
{
	return l->next_seq < l->base + REORDER ? l->next_seq : l->base + REORDER;
}

/* The datagram being filled joins the stream. */
static void
close_open(struct sync_link *l)
{
	if (l->open) {
		l->next_seq++;
		l->open = false;
	}
}

static struct slot *
open_slot(struct sync_link *l, uint64_t now, uint8_t flags)
{
	struct slot *s;

	if (in_flight(l) >= l->cfg.window)
		return NULL;
	s = slot(l, l->next_seq);
	s->opened_at = now;
	s->sent_at = 0;
	s->tries = 0;
	s->sacked = false;
	s->len = s->count = 0;
	s->flags = flags;
	l->open = true;
	return s;
}

int
sync_link_put(struct sync_link *l, uint64_t now, const struct sync_rec *r)
{
	size_t n = sync_rec_size(r);
	struct slot *s = l->open ? slot(l, l->next_seq) : NULL;

	if (n == 0)
		return -1;
	if (s != NULL && (s->len + n > l->max_payload || s->count == UINT16_MAX)) {
		close_open(l);
		s = NULL;
	}
	if (s == NULL && (s = open_slot(l, now, 0)) == NULL) {
		/* Given up: the peer is out of date until a bulk resync. */
		l->st.window_full++;
		l->owe_bulk = true;
		return -1;
	}
	s->len = (uint16_t)(s->len + sync_rec_encode(r, s->payload + s->len));
	s->count++;
	l->st.recs_sent++;
	return 0;
}

/* An empty datagram carrying a marker. */
static int
marker(struct sync_link *l, uint64_t now, uint8_t flag)
{
	close_open(l);
	if (open_slot(l, now, flag) == NULL) {
		l->owe_bulk = true;
		return -1;
	}
	close_open(l);
	return 0;
}

void
sync_link_owe_bulk(struct sync_link *l)
{
	l->owe_bulk = true;
}

int
sync_link_bulk_begin(struct sync_link *l, uint64_t now)
{
	if (marker(l, now, SYNC_F_BULK_BEGIN) < 0)
		return -1;
	l->bulk_out = true;
	l->owe_bulk = false;
	l->st.bulks_sent++;
	return 0;
}

int
sync_link_bulk_end(struct sync_link *l, uint64_t now)
{
	l->bulk_out = false;
	return marker(l, now, SYNC_F_BULK_END);
}

/* Bit i: seq rx_next + 1 + i is held (rx_next itself is missing). */
static uint64_t
sack_bits(const struct sync_link *l)
{
	uint64_t bits = 0;

	for (unsigned i = 0; i + 1 < REORDER; i++) {
		const struct held *k = &l->held[(l->rx_next + 1 + i) % REORDER];
		if (k->used && k->seq == l->rx_next + 1 + i)
			bits |= 1ull << i;
	}
	return bits;
}

/* A datagram of ours, sealed and counted: a slot's records, or `word`. */
static size_t
seal_word(struct sync_link *l, uint8_t type, const struct slot *s,
    uint64_t seq, const uint8_t *word, size_t wlen, uint8_t *out, size_t cap)
{
	struct sync_hdr h = {
		.type = type, .node = l->cfg.node, .epoch = l->cfg.epoch,
		.peer_epoch = l->peer_known ? l->peer_epoch : 0,
		.msgid = ++l->msgid, .base = l->base,
		.ack = l->rx_next > 0 ? l->rx_next - 1 : 0,
		.sack = l->peer_known ? sack_bits(l) : 0,
		.cfg_hash = l->cfg.cfg_hash,
	};
	size_t n;

	if (s != NULL) {
		h.seq = seq;
		h.flags = s->flags;
		h.count = s->count;
	}
	n = sync_seal(out, cap, &h, s ? s->payload : word, s ? s->len : wlen,
	    l->key, l->cfg.key_len);
	if (n > 0) {
		l->st.dgrams_sent++;
		l->st.bytes_sent += n;
	}
	return n;
}

static size_t
seal_dgram(struct sync_link *l, uint8_t type, const struct slot *s,
    uint64_t seq, uint8_t *out, size_t cap)
{
	return seal_word(l, type, s, seq, NULL, 0, out, cap);
}

/* The same, on the stream's path: it carries the current ack, so no
 * keepalive or ACK is due for a while. */
static size_t
send_dgram(struct sync_link *l, uint64_t now, uint8_t type, const struct slot *s,
    uint64_t seq, uint8_t *out, size_t cap)
{
	size_t n = seal_dgram(l, type, s, seq, out, cap);

	if (n > 0) {
		l->last_sent = now;
		l->sent_any = true;
		l->ack_due = false;
	}
	return n;
}

size_t
sync_link_output(struct sync_link *l, uint64_t now, uint8_t *out, size_t cap)
{
	/* A part-filled datagram waits flush_ms for company, unless the
	 * stream was idle that long: then its first record (a connection
	 * just opened, most likely) goes at once, and a node that dies a
	 * moment later has still told the peer. */
	if (l->open && (now - slot(l, l->next_seq)->opened_at >= l->cfg.flush_ms ||
	    now - l->last_data >= l->cfg.flush_ms))
		close_open(l);
	/* First sends, then whatever the peer neither acknowledged nor holds
	 * after a timeout (only while it is there to hear). */
	for (uint64_t q = l->base; q < send_limit(l); q++) {
		struct slot *s = slot(l, q);
		size_t n;

		if (s->sent_at != 0 && (s->sacked || !l->peer_up ||
		    now - s->sent_at < rto(l, s)))
			continue;
		if ((n = send_dgram(l, now, SYNC_T_DATA, s, q, out, cap)) == 0)
			return 0;
		if (s->sent_at == 0)
			l->last_data = now;
		s->sent_at = now;
		if (s->tries++ > 0)
			l->st.retransmits++;
		return n;
	}
	if (l->want_bulk && l->peer_up &&
	    (!l->asked || now - l->last_ask >= l->cfg.resync_retry_ms)) {
		l->last_ask = now;
		l->asked = true;
		l->st.resyncs_asked++;
		return send_dgram(l, now, SYNC_T_RESYNC, NULL, 0, out, cap);
	}
	if (l->ack_due || !l->sent_any ||
	    now - l->last_sent >= l->cfg.keepalive_ms)
		return send_dgram(l, now, SYNC_T_ACK, NULL, 0, out, cap);
	return 0;
}

size_t
sync_link_probe(struct sync_link *l, uint64_t now, uint8_t *out, size_t cap)
{
	return seal_dgram(l, SYNC_T_ACK, NULL, 0, out, cap);
}

/* A STATUS or PAIR datagram: a word outside the stream. */
static size_t
word_dgram(struct sync_link *l, uint8_t type, const uint8_t *word,
    size_t len, uint8_t *out, size_t cap)
{
	return len > SYNC_STATUS_MAX ? 0 :
	    seal_word(l, type, NULL, 0, word, len, out, cap);
}

size_t
sync_link_status(struct sync_link *l, uint64_t now, const uint8_t *word,
    size_t len, uint8_t *out, size_t cap)
{
	return word_dgram(l, SYNC_T_STATUS, word, len, out, cap);
}

size_t
sync_link_pair(struct sync_link *l, uint64_t now, const uint8_t *word,
    size_t len, uint8_t *out, size_t cap)
{
	return word_dgram(l, SYNC_T_PAIR, word, len, out, cap);
}

/* ---- receiving --------------------------------------------------------- */

static unsigned
lag_bucket(uint64_t ms)
{
	unsigned b = 0;

	while (ms > 0 && b < SYNC_LAG_BUCKETS - 1) {
		ms >>= 1;
		b++;
	}
	return b;
}

uint32_t
sync_lag_pct(const uint64_t lag[SYNC_LAG_BUCKETS], unsigned pct)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned i = 0; i < SYNC_LAG_BUCKETS; i++)
		total += lag[i];
	if (total == 0)
		return 0;
	want = (total * pct + 99) / 100;
	for (unsigned i = 0; i < SYNC_LAG_BUCKETS; i++)
		if ((seen += lag[i]) >= want)
			return i == 0 ? 0 : (1u << i) - 1;
	return (1u << (SYNC_LAG_BUCKETS - 1)) - 1;
}

/* A sliding window over message numbers, as IPsec's (RFC 6479): bit
 * id % REPLAY_BITS says whether id was seen, for the REPLAY_BITS numbers
 * up to the highest seen; anything older is refused. */
static bool
replayed(struct sync_link *l, uint64_t id)
{
	uint64_t *w = l->replay_bits;

	if (id == 0 || id + REPLAY_BITS <= l->replay_hi)
		return true;
	if (id > l->replay_hi) {
		if (id - l->replay_hi >= REPLAY_BITS)
			memset(l->replay_bits, 0, sizeof(l->replay_bits));
		else
			for (uint64_t k = l->replay_hi + 1; k < id; k++)
				w[k % REPLAY_BITS / 64] &= ~(1ull << (k % 64));
		l->replay_hi = id;
	} else if (w[id % REPLAY_BITS / 64] >> (id % 64) & 1)
		return true;
	w[id % REPLAY_BITS / 64] |= 1ull << (id % 64);
	return false;
}

/* A peer we did not know, or that restarted: its stream starts afresh. */
static void
new_peer(struct sync_link *l, const struct sync_hdr *h)
{
	bool restart = l->peer_known;

	l->peer_known = true;
	l->peer_node = h->node;
	l->peer_epoch = h->epoch;
	l->replay_hi = 0;
	memset(l->replay_bits, 0, sizeof(l->replay_bits));
	l->rx_next = h->base;
	for (unsigned i = 0; i < REORDER; i++)
		l->held[i].used = false;
	l->synced = l->tainted = false;
	l->want_bulk = true;
	l->asked = false;
	if (restart && !l->bulk_out) {
		/* It lost our table with its old run and gets all of it in a
		 * bulk; what it did not acknowledge is in there, so it is not
		 * sent a second time. */
		l->open = false;
		l->base = l->next_seq;
		l->owe_bulk = true;
	}
	if (restart)
		emit(l, SYNC_EV_PEER_RESTART);
}

/* Check the records of a DATA datagram before applying any. */
static bool
records_ok(const uint8_t *p, size_t len, uint16_t count)
{
	struct sync_rec r;

	for (uint16_t i = 0; i < count; i++) {
		size_t n = sync_rec_decode(&r, p, len);
		if (n == 0)
			return false;
		p += n;
		len -= n;
	}
	return len == 0;
}

static void
apply(struct sync_link *l, uint8_t flags, uint16_t count, const uint8_t *p,
    size_t len)
{
	struct sync_rec r;

	if (flags & SYNC_F_BULK_BEGIN) {
		l->tainted = false;
		emit(l, SYNC_EV_BULK_BEGIN);
	}
	for (uint16_t i = 0; i < count; i++) {
		size_t n = sync_rec_decode(&r, p, len);
		p += n;
		len -= n;
		if (l->cb.rec != NULL)
			l->cb.rec(l->cb.arg, &r);
	}
	l->st.recs_recv += count;
	if (flags & SYNC_F_BULK_END) {
		l->st.bulks_recv++;
		/* A gap inside the bulk lost some of it: ask again. */
		if (!l->tainted) {
			l->synced = true;
			l->want_bulk = false;
		}
		emit(l, SYNC_EV_BULK_END);
	}
}

/* Keep a datagram that came ahead of a gap. */
static void
hold(struct sync_link *l, const struct sync_hdr *h, const uint8_t *p, size_t len)
{
	struct held *k = &l->held[h->seq % REORDER];

	l->st.out_of_order++;
	if (h->seq >= l->rx_next + REORDER || (k->used && k->seq == h->seq))
		return;		/* too far ahead, or held already */
	k->used = true;
	k->seq = h->seq;
	k->flags = h->flags;
	k->count = h->count;
	k->len = (uint16_t)len;
	memcpy(k->payload, p, len);
}

/* Apply what is next in sequence, then what was held behind it. */
static void
deliver(struct sync_link *l, const struct sync_hdr *h, const uint8_t *p,
    size_t len)
{
	apply(l, h->flags, h->count, p, len);
	for (l->rx_next++;; l->rx_next++) {
		struct held *k = &l->held[l->rx_next % REORDER];
		if (!k->used || k->seq != l->rx_next)
			break;
		k->used = false;
		apply(l, k->flags, k->count, k->payload, k->len);
	}
}

static void
data(struct sync_link *l, const struct sync_hdr *h, const uint8_t *p, size_t len)
{
	l->ack_due = true;
	if (h->seq < l->rx_next) {
		l->st.dups++;
		return;
	}
	if (h->seq > l->rx_next && h->base > l->rx_next) {
		/* What we miss is gone from the sender: carry on from its
		 * oldest, and have the whole table sent again. */
		l->st.gaps++;
		l->rx_next = h->base;
		for (unsigned i = 0; i < REORDER; i++)
			if (l->held[i].seq < l->rx_next)
				l->held[i].used = false;
		l->want_bulk = l->tainted = true;
		l->synced = false;
	}
	if (h->seq > l->rx_next) {
		hold(l, h, p, len);
		return;
	}
	deliver(l, h, p, len);
}

enum sync_bad
sync_link_input(struct sync_link *l, uint64_t now, const uint8_t *d, size_t len)
{
	struct sync_hdr h;
	const uint8_t *p;
	size_t plen;
	enum sync_bad b;
	bool mismatch;

	b = sync_open(d, len, l->key, l->cfg.key_len, &h, &p, &plen);
	/* During a key roll the peer may still sign with the other key. */
	if (b == SYNC_BAD_AUTH && l->key2_len > 0 &&
	    (b = sync_open(d, len, l->key2, l->key2_len, &h, &p, &plen)) ==
	    SYNC_OK)
		l->st.auth_accept_key++;
	/* Never more than our own datagrams carry: a held one is copied
	 * into a slot of that size. */
	if (b == SYNC_OK && h.type == SYNC_T_DATA && (plen > l->max_payload ||
	    !records_ok(p, plen, h.count)))
		b = SYNC_BAD_FORMAT;
	if (b == SYNC_OK && h.node == l->cfg.node)
		b = SYNC_BAD_SELF;
	/* An earlier epoch is an old run of the peer, or a replay of one. */
	if (b == SYNC_OK && l->peer_known && h.epoch < l->peer_epoch)
		b = SYNC_BAD_EPOCH;
	if (b == SYNC_OK && (!l->peer_known || h.epoch != l->peer_epoch)) {
		/* Check the message number against a fresh window first, so
		 * that nothing changes for a datagram that fails it. */
		if (h.msgid == 0)
			b = SYNC_BAD_REPLAY;
		else
			new_peer(l, &h);
	}
	if (b == SYNC_OK && replayed(l, h.msgid))
		b = SYNC_BAD_REPLAY;
	if (b != SYNC_OK) {
		l->st.bad[b]++;
		return b;
	}
	l->st.dgrams_recv++;
	l->st.bytes_recv += len;
	l->last_heard = now;
	if (!l->peer_up) {
		l->peer_up = true;
		/* Whatever it missed while away goes out again now. */
		for (uint64_t q = l->base; q < l->next_seq; q++)
			slot(l, q)->sent_at = 0;
		emit(l, SYNC_EV_PEER_UP);
	}
	if (h.peer_epoch == l->cfg.epoch) {
		for (; l->base <= h.ack && l->base < l->next_seq; l->base++)
			l->lag[lag_bucket(now - slot(l, l->base)->opened_at)]++;
		for (unsigned i = 0; i < 64; i++) {
			uint64_t q = h.ack + 2 + i;
			if (h.sack >> i & 1 && q >= l->base && q < l->next_seq)
				slot(l, q)->sacked = true;
		}
	}
	mismatch = h.cfg_hash != l->cfg.cfg_hash;
	if (mismatch != l->mismatch) {
		l->mismatch = mismatch;
		emit(l, SYNC_EV_CFG_MISMATCH);
	}
	if (h.type == SYNC_T_STATUS && l->cb.status != NULL)
		l->cb.status(l->cb.arg, p, plen);
	if (h.type == SYNC_T_PAIR && l->cb.pair != NULL)
		l->cb.pair(l->cb.arg, p, plen);
	if (h.type == SYNC_T_RESYNC && !l->bulk_out)
		l->owe_bulk = true;
	else if (h.type == SYNC_T_DATA)
		data(l, &h, p, plen);
	return SYNC_OK;
}

/* ---- timers and state ---------------------------------------------------- */

/* A bulk needs half the window free, the other half stays for live records. */
static bool
bulk_ready(const struct sync_link *l)
{
	return l->owe_bulk && l->peer_up && !l->bulk_out &&
	    sync_link_room(l) >= l->cfg.window / 2;
}

void
sync_link_tick(struct sync_link *l, uint64_t now)
{
	if (l->peer_up && now - l->last_heard >= l->cfg.dead_ms) {
		l->peer_up = false;
		emit(l, SYNC_EV_PEER_DOWN);
	}
	if (bulk_ready(l)) {
		l->owe_bulk = false;
		emit(l, SYNC_EV_SEND_BULK);
	}
}

uint64_t
sync_link_deadline(const struct sync_link *l)
{
	uint64_t d = l->last_sent + l->cfg.keepalive_ms;

#define SOONER(t)	do { if ((t) < d) d = (t); } while (0)
	if (l->ack_due || bulk_ready(l) || !l->sent_any ||
	    (l->want_bulk && l->peer_up && !l->asked))
		return 1;
	for (uint64_t q = l->base; q < send_limit(l); q++) {
		const struct slot *x = slot(l, q);
		if (x->sent_at == 0)
			return 1;
		if (l->peer_up && !x->sacked)
			SOONER(x->sent_at + rto(l, x));
	}
	if (l->open) {
		SOONER(slot(l, l->next_seq)->opened_at + l->cfg.flush_ms);
		SOONER(l->last_data + l->cfg.flush_ms);
	}
	if (l->peer_up)
		SOONER(l->last_heard + l->cfg.dead_ms);
	if (l->want_bulk && l->peer_up)
		SOONER(l->last_ask + l->cfg.resync_retry_ms);
#undef SOONER
	return d;
}

void
sync_link_info(const struct sync_link *l, struct sync_link_info *i)
{
	memset(i, 0, sizeof(*i));
	i->peer_up = l->peer_up;
	i->synced = l->synced;
	i->cfg_mismatch = l->mismatch;
	i->peer_node = l->peer_node;
	i->peer_epoch = l->peer_epoch;
	i->tx_seq = l->next_seq - 1;
	i->tx_acked = l->base - 1;
	i->rx_seq = l->rx_next > 0 ? l->rx_next - 1 : 0;
	i->in_flight = in_flight(l);
	i->last_heard = l->last_heard;
	memcpy(i->lag, l->lag, sizeof(i->lag));
}

void
sync_link_set_cfg_hash(struct sync_link *l, uint64_t h)
{
	l->cfg.cfg_hash = h;
}

int
sync_link_set_keys(struct sync_link *l, const uint8_t *key, size_t len,
    const uint8_t *accept, size_t accept_len)
{
	if (len < SYNC_KEY_MIN || len > SYNC_KEY_MAX || (accept != NULL &&
	    (accept_len < SYNC_KEY_MIN || accept_len > SYNC_KEY_MAX)))
		return -1;
	OPENSSL_cleanse(l->key, sizeof(l->key));
	OPENSSL_cleanse(l->key2, sizeof(l->key2));
	memcpy(l->key, key, len);
	l->cfg.key_len = len;
	l->key2_len = accept != NULL ? accept_len : 0;
	if (accept != NULL)
		memcpy(l->key2, accept, accept_len);
	return 0;
}

const struct sync_stats *
sync_link_stats(const struct sync_link *l)
{
	return &l->st;
}

const char *
sync_event_name(enum sync_event e)
{
	static const char *const names[] = {
		[SYNC_EV_PEER_UP] = "peer_up", [SYNC_EV_PEER_DOWN] = "peer_down",
		[SYNC_EV_PEER_RESTART] = "peer_restart",
		[SYNC_EV_SEND_BULK] = "send_bulk",
		[SYNC_EV_BULK_BEGIN] = "bulk_begin", [SYNC_EV_BULK_END] = "bulk_end",
		[SYNC_EV_CFG_MISMATCH] = "config_mismatch",
	};

	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}
