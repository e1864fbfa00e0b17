/*
 * Fuzz target: ha-sync datagrams past authentication. The input is a
 * sequence of chunks (2-byte length, then the datagram without its MAC);
 * the harness signs each with the link's key, so the fuzzer reaches the
 * header checks, the epoch and replay logic, the records and the
 * acknowledgements, and between datagrams the link's timers and output run
 * on a clock the input advances. Any bytes: counted and dropped or applied,
 * never a crash, never an endless output loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ha-sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEY[32] = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";

static void
rec_cb(void *arg, const struct sync_rec *r)
{
	size_t *n = arg;

	(*n) += r->kind;
}

static void
ev_cb(void *arg, enum sync_event e)
{
	(void)sync_event_name(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_link_cfg c = { .node = 1, .epoch = 100, .key = KEY,
				   .key_len = sizeof(KEY), .window = 8,
				   .cfg_hash = 5 };
	size_t recs = 0;
	struct sync_cb cb = { .rec = rec_cb, .event = ev_cb, .arg = &recs };
	struct sync_link *l = sync_link_new(&c, &cb);
	/* Datagrams as large as lbd's receive buffer takes (SYNC_MTU_MAX),
	 * larger than the link's own. */
	static uint8_t d[SYNC_MTU_MAX + SYNC_MAC_LEN];
	uint8_t out[2048];
	uint64_t now = 1000;

	if (l == NULL)
		abort();
	while (size >= 3) {
		size_t n = (size_t)(data[0] | data[1] << 8) % (SYNC_MTU_MAX + 1);
		unsigned int mlen = SYNC_MAC_LEN;

		now += data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		memcpy(d, data, n);
		HMAC(EVP_sha256(), KEY, sizeof(KEY), d, n, d + n, &mlen);
		(void)sync_link_input(l, now, d, n + SYNC_MAC_LEN);
		data += n;
		size -= n;
		sync_link_tick(l, now);
		for (int k = 0; sync_link_output(l, now, out, sizeof(out)) > 0; k++)
			if (k > 1000)
				abort();	/* output must run dry */
		if (sync_link_room(l) > 1) {
			struct sync_rec r = { .kind = SYNC_REC_CLOSE };
			r.t[0].family = 4;
			r.t[0].proto = 6;
			(void)sync_link_put(l, now, &r);
		}
		(void)sync_link_deadline(l);
	}
	sync_link_free(l);
	return 0;
}
