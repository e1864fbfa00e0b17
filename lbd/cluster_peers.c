/*
 * cluster_peers — a cluster node's word to its peers (see the header).
 * Pure: bytes in, bytes out.
 */
#include <string.h>

#include "lbd/cluster_peers.h"
#include "lib/addr.h"

static size_t
alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

size_t
cluster_word(const char *node, const struct ann_prefix *plan, size_t n,
    uint8_t *out, size_t cap)
{
	size_t nl = strlen(node), at, listed = 0, total = 0;

	if (nl > 64)
		nl = 64;
	if (cap < 2 + nl + 4)
		return 0;
	out[0] = CLUSTER_WORD_VERSION;
	out[1] = (uint8_t)nl;
	memcpy(out + 2, node, nl);
	at = 2 + nl + 4;
	for (size_t i = 0; i < n; i++) {
		const struct ann_prefix *p = &plan[i];

		if (!p->announce || (p->family != 4 && p->family != 6))
			continue;
		total++;
		if (listed == CLUSTER_PEER_PFX_MAX || at + 2 + alen(p->family) > cap)
			continue;	/* the total still counts it */
		out[at] = p->family;
		out[at + 1] = p->plen;
		memcpy(out + at + 2, p->addr, alen(p->family));
		at += 2 + alen(p->family);
		listed++;
	}
	put16(out + 2 + nl, (uint16_t)(total > 0xffff ? 0xffff : total));
	put16(out + 2 + nl + 2, (uint16_t)listed);
	return at;
}

bool
cluster_word_is(const uint8_t *w, size_t len)
{
	return len > 0 && w[0] == CLUSTER_WORD_VERSION;
}

int
cluster_word_decode(const uint8_t *w, size_t len, struct cluster_peer *p)
{
	size_t at, listed;

	memset(p, 0, sizeof(*p));
	if (len < 2 || w[0] != CLUSTER_WORD_VERSION || w[1] > 64 ||
	    len < 2u + w[1] + 4)
		return -1;
	memcpy(p->node, w + 2, w[1]);
	for (size_t i = 0; i < w[1]; i++)	/* printed as it is: no controls */
		if ((unsigned char)p->node[i] < 0x20 || p->node[i] == 0x7f ||
		    p->node[i] == '"' || p->node[i] == '\\')
			p->node[i] = '?';
	at = 2u + w[1];
	p->total = get16(w + at);
	listed = get16(w + at + 2);
	at += 4;
	if (listed > CLUSTER_PEER_PFX_MAX || listed > p->total)
		return -1;
	for (size_t i = 0; i < listed; i++) {
		struct ann_prefix *x = &p->pfx[i];

		if (at + 2 > len || (w[at] != 4 && w[at] != 6) ||
		    w[at + 1] > (w[at] == 4 ? 32 : 128) ||
		    at + 2 + alen(w[at]) > len)
			return -1;
		x->family = w[at];
		x->plen = w[at + 1];
		memcpy(x->addr, w + at + 2, alen(w[at]));
		x->announce = true;
		at += 2 + alen(w[at]);
	}
	if (at != len)
		return -1;
	p->n_pfx = listed;
	return 0;
}
