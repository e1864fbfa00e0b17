/*
 * The ha-sync wire format (docs/ha-sync.md): records, the datagram header
 * and its HMAC-SHA256. Big-endian throughout.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ha-sync/sync.h"
#include "lib/addr.h"

static const uint8_t MAGIC[3] = { 'L', 'B', 'S' };

/* ---- records ---------------------------------------------------------- */

/* byte 0: kind | 0x80 for IPv6; byte 1: protocol; an upsert adds state,
 * flags and mode; then the original tuple (src, dst, sport, dport) and, in
 * an upsert, the reply tuple. Ports stay in network order as they are. */
#define REC_V6		0x80
#define REC_KIND_MASK	0x0f

static size_t
tuple_size(uint8_t family)
{
	return family == 6 ? 36 : 12;
}

size_t
sync_rec_size(const struct sync_rec *r)
{
	uint8_t f = r->t[0].family;

	if ((f != 4 && f != 6) || r->t[0].proto == 0)
		return 0;
	if (r->kind == SYNC_REC_CLOSE)
		return 2 + tuple_size(f);
	if (r->kind == SYNC_REC_UPSERT && r->t[1].family == f &&
	    r->t[1].proto == r->t[0].proto)
		return 5 + 2 * tuple_size(f);
	return 0;
}

static uint8_t *
put_tuple(uint8_t *p, const struct sync_tuple *t)
{
	size_t a = t->family == 6 ? 16 : 4;

	memcpy(p, t->src, a);
	memcpy(p + a, t->dst, a);
	memcpy(p + 2 * a, &t->sport, 2);
	memcpy(p + 2 * a + 2, &t->dport, 2);
	return p + 2 * a + 4;
}

static const uint8_t *
get_tuple(const uint8_t *p, struct sync_tuple *t, uint8_t family, uint8_t proto)
{
	size_t a = family == 6 ? 16 : 4;

	memset(t, 0, sizeof(*t));
	memcpy(t->src, p, a);
	memcpy(t->dst, p + a, a);
	memcpy(&t->sport, p + 2 * a, 2);
	memcpy(&t->dport, p + 2 * a + 2, 2);
	t->family = family;
	t->proto = proto;
	return p + 2 * a + 4;
}

size_t
sync_rec_encode(const struct sync_rec *r, uint8_t *p)
{
	size_t n = sync_rec_size(r);
	uint8_t *q = p;

	if (n == 0)
		return 0;
	*q++ = (uint8_t)(r->kind | (r->t[0].family == 6 ? REC_V6 : 0));
	*q++ = r->t[0].proto;
	if (r->kind == SYNC_REC_UPSERT) {
		*q++ = r->state;
		*q++ = r->flags;
		*q++ = r->mode;
	}
	q = put_tuple(q, &r->t[0]);
	if (r->kind == SYNC_REC_UPSERT)
		put_tuple(q, &r->t[1]);
	return n;
}

size_t
sync_rec_decode(struct sync_rec *r, const uint8_t *p, size_t len)
{
	uint8_t kind, family, proto;
	size_t need;

	if (len < 2)
		return 0;
	kind = p[0] & REC_KIND_MASK;
	family = p[0] & REC_V6 ? 6 : 4;
	proto = p[1];
	if ((p[0] & ~(REC_V6 | REC_KIND_MASK)) != 0 || proto == 0)
		return 0;
	if (kind == SYNC_REC_CLOSE)
		need = 2 + tuple_size(family);
	else if (kind == SYNC_REC_UPSERT)
		need = 5 + 2 * tuple_size(family);
	else
		return 0;
	if (len < need)
		return 0;
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	p += 2;
	if (kind == SYNC_REC_UPSERT) {
		r->state = p[0];
		r->flags = p[1];
		r->mode = p[2];
		p += 3;
	}
	p = get_tuple(p, &r->t[0], family, proto);
	if (kind == SYNC_REC_UPSERT)
		get_tuple(p, &r->t[1], family, proto);
	return need;
}

/* ---- datagrams --------------------------------------------------------- */

static void
mac(uint8_t out[SYNC_MAC_LEN], const uint8_t *d, size_t len,
    const uint8_t *key, size_t key_len)
{
	unsigned int n = SYNC_MAC_LEN;

	if (HMAC(EVP_sha256(), key, (int)key_len, d, len, out, &n) == NULL)
		memset(out, 0, SYNC_MAC_LEN);	/* verifies against nothing */
}

size_t
sync_seal(uint8_t *out, size_t cap, const struct sync_hdr *h,
    const uint8_t *payload, size_t plen, const uint8_t *key, size_t key_len)
{
	size_t len = SYNC_HDR_LEN + plen + SYNC_MAC_LEN;

	if (len > cap)
		return 0;
	memcpy(out, MAGIC, 3);
	out[3] = SYNC_VERSION;
	out[4] = h->type;
	out[5] = h->flags;
	put16(out + 6, h->count);
	put64(out + 8, h->node);
	put32(out + 16, h->epoch);
	put32(out + 20, h->peer_epoch);
	put64(out + 24, h->msgid);
	put64(out + 32, h->seq);
	put64(out + 40, h->base);
	put64(out + 48, h->ack);
	put64(out + 56, h->sack);
	put64(out + 64, h->cfg_hash);
	if (plen > 0)
		memmove(out + SYNC_HDR_LEN, payload, plen);
	mac(out + SYNC_HDR_LEN + plen, out, SYNC_HDR_LEN + plen, key, key_len);
	return len;
}

enum sync_bad
sync_open(const uint8_t *d, size_t len, const uint8_t *key, size_t key_len,
    struct sync_hdr *h, const uint8_t **payload, size_t *plen)
{
	uint8_t m[SYNC_MAC_LEN];

	if (len < SYNC_HDR_LEN + SYNC_MAC_LEN)
		return SYNC_BAD_SHORT;
	if (memcmp(d, MAGIC, 3) != 0 || d[3] != SYNC_VERSION)
		return SYNC_BAD_MAGIC;
	mac(m, d, len - SYNC_MAC_LEN, key, key_len);
	if (CRYPTO_memcmp(m, d + len - SYNC_MAC_LEN, SYNC_MAC_LEN) != 0)
		return SYNC_BAD_AUTH;
	h->type = d[4];
	h->flags = d[5];
	h->count = get16(d + 6);
	h->node = get64(d + 8);
	h->epoch = get32(d + 16);
	h->peer_epoch = get32(d + 20);
	h->msgid = get64(d + 24);
	h->seq = get64(d + 32);
	h->base = get64(d + 40);
	h->ack = get64(d + 48);
	h->sack = get64(d + 56);
	h->cfg_hash = get64(d + 64);
	*payload = d + SYNC_HDR_LEN;
	*plen = len - SYNC_HDR_LEN - SYNC_MAC_LEN;
	if (h->type < SYNC_T_DATA || h->type > SYNC_T_PAIR ||
	    (h->type == SYNC_T_DATA && h->seq == 0) ||
	    ((h->type == SYNC_T_STATUS || h->type == SYNC_T_PAIR) &&
	    (*plen > SYNC_STATUS_MAX || h->count != 0)) ||
	    (h->type != SYNC_T_DATA && h->type != SYNC_T_STATUS &&
	    h->type != SYNC_T_PAIR && (*plen != 0 || h->count != 0)))
		return SYNC_BAD_FORMAT;
	return SYNC_OK;
}

const char *
sync_bad_name(enum sync_bad b)
{
	static const char *const names[SYNC_BAD__COUNT] = {
		[SYNC_OK] = "ok", [SYNC_BAD_SHORT] = "short",
		[SYNC_BAD_MAGIC] = "not_ha_sync", [SYNC_BAD_AUTH] = "auth_failed",
		[SYNC_BAD_FORMAT] = "malformed", [SYNC_BAD_REPLAY] = "replayed",
		[SYNC_BAD_EPOCH] = "old_epoch", [SYNC_BAD_SELF] = "own_datagram",
	};

	return (unsigned)b < SYNC_BAD__COUNT ? names[b] : "?";
}

uint64_t
sync_node_id(const char *name)
{
	uint8_t md[32];

	if (EVP_Digest(name, strlen(name), md, NULL, EVP_sha256(), NULL) != 1)
		return 0;
	return get64(md);
}
