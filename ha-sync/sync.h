/*
 * ha-sync — connection-state mirroring between the two nodes of a pair,
 * over UDP on the heartbeat link. The protocol is docs/ha-sync.md.
 *
 * A pure core, like vrrp/: datagrams and the time (milliseconds, any
 * monotonic origin) go in; datagrams to send, connection records and
 * events come out. No sockets, no clock, no allocation after creation —
 * so the tests run it over a simulated lossy link on a virtual clock.
 *
 * Two layers:
 *  - the codec: records (a connection created or changed, or closed) and
 *    the datagram header, authenticated with HMAC-SHA256 over the whole
 *    datagram (OpenSSL);
 *  - the link: one per peer. Records are batched into datagrams with a
 *    sequence number, kept until the peer acknowledges them and sent again
 *    after a retransmission timeout. Selective repeat: the receiver keeps
 *    datagrams that arrive ahead of a gap and acknowledges them (a bitmap
 *    after the cumulative ack), so only what was lost goes again; it
 *    applies datagrams strictly in sequence, so records of one connection
 *    are never applied out of order. A replay window over a per-datagram message
 *    number rejects old and duplicated datagrams; an epoch (the sender's
 *    start) tells a restart from a replay. Keepalives tell whether the peer
 *    is there. A gap the sender can no longer fill (it gave records up)
 *    and a peer that (re)joins both end in a bulk resync: the sender
 *    streams its whole table between BULK_BEGIN and BULK_END markers, in
 *    the same reliable stream.
 */
#ifndef LBD_HA_SYNC_H
#define LBD_HA_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNC_VERSION	1
#define SYNC_HDR_LEN	72
#define SYNC_MAC_LEN	32		/* HMAC-SHA256 */
#define SYNC_KEY_MIN	16		/* bytes of key at least */
#define SYNC_KEY_MAX	1024
#define SYNC_MTU_MIN	256
#define SYNC_MTU_MAX	9000
#define SYNC_REC_MAX	77		/* an IPv6 upsert */

/* ---- records --------------------------------------------------------- */

enum sync_rec_kind {
	SYNC_REC_UPSERT = 1,	/* created or changed: the whole entry */
	SYNC_REC_CLOSE = 2,	/* freed on the sender: the original tuple */
};

/* One direction of a connection; addresses and ports in network order,
 * IPv4 in the first 4 bytes (the engine's dp_tuple, without padding). */
struct sync_tuple {
	uint8_t		src[16], dst[16];
	uint16_t	sport, dport;
	uint8_t		proto;
	uint8_t		family;		/* 4 or 6 */
};

struct sync_rec {
	uint8_t		kind;		/* enum sync_rec_kind */
	uint8_t		state;		/* the engine's ct_state */
	uint8_t		flags;		/* the engine's CT_F_* worth mirroring */
	uint8_t		mode;		/* the engine's dp_mode */
	struct sync_tuple t[2];		/* [0] original, [1] reply (upsert) */
};

/* Encoded size of `r` (0 if it cannot be encoded). */
size_t	sync_rec_size(const struct sync_rec *r);
/* Encode into `p` (at least sync_rec_size bytes); returns the size. */
size_t	sync_rec_encode(const struct sync_rec *r, uint8_t *p);
/* Decode one record from `p`; returns the bytes used, 0 if malformed. */
size_t	sync_rec_decode(struct sync_rec *r, const uint8_t *p, size_t len);

/* ---- datagrams ------------------------------------------------------- */

enum sync_type {
	SYNC_T_DATA = 1,	/* records, in the reliable stream */
	SYNC_T_ACK = 2,		/* acknowledgement and keepalive only */
	SYNC_T_RESYNC = 3,	/* please send me your whole table */
	SYNC_T_STATUS = 4,	/* a keepalive with the sender's word for the
				 * peer (VRRP's states): outside the stream */
	SYNC_T_PAIR = 5,	/* the same with the sender's pair word (its
				 * config sections, backends out): lbctl show
				 * pair. An lbd before it drops it as malformed */
};

#define SYNC_STATUS_MAX	1200	/* bytes of word in a STATUS datagram */

#define SYNC_F_BULK_BEGIN	0x01	/* a bulk resync starts here */
#define SYNC_F_BULK_END		0x02	/* ... and is complete here */

struct sync_hdr {
	uint8_t		type;		/* enum sync_type */
	uint8_t		flags;		/* SYNC_F_* */
	uint16_t	count;		/* records in the payload */
	uint64_t	node;		/* sender's node id */
	uint32_t	epoch;		/* sender's start, seconds */
	uint32_t	peer_epoch;	/* the epoch `ack` refers to (0: none) */
	uint64_t	msgid;		/* per datagram, never reused: replay */
	uint64_t	seq;		/* DATA: position in the stream (from 1) */
	uint64_t	base;		/* oldest seq the sender still holds */
	uint64_t	ack;		/* every seq up to this one received */
	uint64_t	sack;		/* bit i: seq ack + 2 + i received too */
	uint64_t	cfg_hash;	/* what must match between the nodes */
};

/* Why a datagram was dropped; counted per reason. */
enum sync_bad {
	SYNC_OK = 0,
	SYNC_BAD_SHORT,		/* shorter than header + MAC */
	SYNC_BAD_MAGIC,		/* not ha-sync, or another version */
	SYNC_BAD_AUTH,		/* HMAC does not verify */
	SYNC_BAD_FORMAT,	/* authenticated, but type/records malformed */
	SYNC_BAD_REPLAY,	/* message number old or seen */
	SYNC_BAD_EPOCH,		/* from an earlier run of the peer */
	SYNC_BAD_SELF,		/* our own node id (looped back) */
	SYNC_BAD__COUNT
};

const char *sync_bad_name(enum sync_bad);

/* Header + payload + MAC into `out` (cap bytes); returns the datagram's
 * length, 0 if it does not fit. */
size_t	sync_seal(uint8_t *out, size_t cap, const struct sync_hdr *h,
	    const uint8_t *payload, size_t plen, const uint8_t *key,
	    size_t key_len);
/* Check magic, version and MAC, decode the header; *payload and *plen
 * point into `d`. */
enum sync_bad sync_open(const uint8_t *d, size_t len, const uint8_t *key,
	    size_t key_len, struct sync_hdr *h, const uint8_t **payload,
	    size_t *plen);

/* ---- the link to one peer -------------------------------------------- */

enum sync_event {
	SYNC_EV_PEER_UP,	/* heard from the peer (first time, or again) */
	SYNC_EV_PEER_DOWN,	/* silent for dead_ms */
	SYNC_EV_PEER_RESTART,	/* the peer runs with a new epoch */
	SYNC_EV_SEND_BULK,	/* the peer needs our whole table (asked, or
				 * we gave records up): stream it with
				 * sync_link_bulk_begin/put/end */
	SYNC_EV_BULK_BEGIN,	/* the peer's bulk starts: mark */
	SYNC_EV_BULK_END,	/* ... complete: sweep what was not renewed */
	SYNC_EV_CFG_MISMATCH,	/* the peer's config hash differs (or again
				 * matches: sync_link_cfg_mismatch) */
};

const char *sync_event_name(enum sync_event);

struct sync_cb {
	void	(*rec)(void *arg, const struct sync_rec *);
	void	(*event)(void *arg, enum sync_event);
	/* The peer's word, from a STATUS datagram (may be NULL). */
	void	(*status)(void *arg, const uint8_t *word, size_t len);
	/* The peer's pair word, from a PAIR datagram (may be NULL). */
	void	(*pair)(void *arg, const uint8_t *word, size_t len);
	void	*arg;
};

struct sync_link_cfg {
	uint64_t	node;		/* ours, from node-id */
	uint32_t	epoch;		/* ours: start time in seconds */
	const uint8_t	*key;		/* copied */
	size_t		key_len;
	uint64_t	cfg_hash;
	uint16_t	mtu;		/* datagram size limit (default 1400) */
	uint32_t	window;		/* datagrams in flight (default 256) */
	uint32_t	rto_ms;		/* retransmission timeout (default 20) */
	uint32_t	flush_ms;	/* a part-filled datagram waits at most
					 * this long (default 1) */
	uint32_t	keepalive_ms;	/* (default 100) */
	uint32_t	dead_ms;	/* peer down after this silence
					 * (default 1000) */
	uint32_t	resync_retry_ms;	/* repeat a RESYNC request
						 * (default 500) */
};

struct sync_stats {
	uint64_t	dgrams_sent, dgrams_recv;
	uint64_t	recs_sent, recs_recv;
	uint64_t	bytes_sent, bytes_recv;
	uint64_t	retransmits;
	uint64_t	dups;		/* DATA already applied */
	uint64_t	out_of_order;	/* DATA ahead of a gap (kept if it fits) */
	uint64_t	gaps;		/* gaps the sender could not fill */
	uint64_t	window_full;	/* records given up: window full */
	uint64_t	resyncs_asked;	/* RESYNC requests sent */
	uint64_t	bulks_sent, bulks_recv;
	uint64_t	auth_accept_key;	/* verified by the accept-only key */
	uint64_t	bad[SYNC_BAD__COUNT];
};

/* Lag: from a record entering a datagram to the peer's acknowledgement. */
#define SYNC_LAG_BUCKETS	16	/* 0, 1, 2-3, 4-7, ... ms */

struct sync_link;

struct sync_link *sync_link_new(const struct sync_link_cfg *, const struct sync_cb *);
void	sync_link_free(struct sync_link *);

/* Queue a record. -1 when the window is full: the record is given up, and
 * the peer gets a bulk resync once the window has drained. */
int	sync_link_put(struct sync_link *, uint64_t now, const struct sync_rec *);
/* Records were lost before they reached the link (a full queue): the
 * peer gets a bulk resync, as when the window gave records up. */
void	sync_link_owe_bulk(struct sync_link *);
/* Free datagram slots in the window (a bulk stream leaves room for live
 * records by streaming only while this is above half the window). */
uint32_t sync_link_room(const struct sync_link *);
/* Markers around a bulk resync's records (empty datagrams in the stream);
 * -1 when the window has no room for them. */
int	sync_link_bulk_begin(struct sync_link *, uint64_t now);
int	sync_link_bulk_end(struct sync_link *, uint64_t now);

/* The next datagram to send now into `out` (cap >= mtu); 0 when none. */
size_t	sync_link_output(struct sync_link *, uint64_t now, uint8_t *out,
	    size_t cap);
/* A keepalive for a second path to the peer (a backup heartbeat link),
 * so that its liveness is known before it is needed; it changes nothing
 * of the stream's timing. 0 on error. */
size_t	sync_link_probe(struct sync_link *, uint64_t now, uint8_t *out,
	    size_t cap);
/* A STATUS datagram carrying `word` (at most SYNC_STATUS_MAX bytes) for
 * any path to the peer: the heartbeat; it changes nothing of the stream's
 * timing. 0 on error. */
size_t	sync_link_status(struct sync_link *, uint64_t now, const uint8_t *word,
	    size_t len, uint8_t *out, size_t cap);
/* The same for a PAIR datagram (`word` at most SYNC_STATUS_MAX bytes). */
size_t	sync_link_pair(struct sync_link *, uint64_t now, const uint8_t *word,
	    size_t len, uint8_t *out, size_t cap);
/* A datagram from the network: records and events go to the callbacks.
 * Returns SYNC_OK or why it was dropped (also counted). */
enum sync_bad sync_link_input(struct sync_link *, uint64_t now,
	    const uint8_t *d, size_t len);
/* Timers (peer down); call at sync_link_deadline(). */
void	sync_link_tick(struct sync_link *, uint64_t now);
/* When output or tick next has something to do (0: nothing pending). */
uint64_t sync_link_deadline(const struct sync_link *);

/* A reload changed what must agree between the nodes. */
void	sync_link_set_cfg_hash(struct sync_link *, uint64_t);
/* New keys (a reload): `key` signs and verifies, `accept` (NULL: none)
 * verifies too, for a roll without an outage. -1 if a length is wrong. */
int	sync_link_set_keys(struct sync_link *, const uint8_t *key, size_t len,
	    const uint8_t *accept, size_t accept_len);

/* What `lbctl show sync` shows. */
struct sync_link_info {
	bool		peer_up;
	bool		synced;		/* a complete bulk from the peer arrived */
	bool		cfg_mismatch;
	uint64_t	peer_node;
	uint32_t	peer_epoch;
	uint64_t	tx_seq;		/* last seq given out */
	uint64_t	tx_acked;	/* acknowledged by the peer */
	uint64_t	rx_seq;		/* last seq applied */
	uint32_t	in_flight;	/* datagrams not yet acknowledged */
	uint64_t	last_heard;	/* time, 0 = never */
	uint64_t	lag[SYNC_LAG_BUCKETS];
};

void	sync_link_info(const struct sync_link *, struct sync_link_info *);
const struct sync_stats *sync_link_stats(const struct sync_link *);
/* The lag (ms) below which `pct` percent of acknowledged datagrams were. */
uint32_t sync_lag_pct(const uint64_t lag[SYNC_LAG_BUCKETS], unsigned pct);

/* The node id for a node-id string (first 8 bytes of its SHA-256). */
uint64_t sync_node_id(const char *name);

#endif /* LBD_HA_SYNC_H */
