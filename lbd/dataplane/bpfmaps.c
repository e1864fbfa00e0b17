/*
 * BPF maps lbd keeps in step with what it owns, for the XDP classifier and
 * the TC fast path alike (classify.bpf.h): synced as sets, in a few batch
 * calls; and per-CPU counters added up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lbd/dataplane/bpfmaps.h"
#include "lib/keymap.h"
#include "lib/log.h"

/* Every key and value of map `fd` (at most `max`): one batch read where
 * the kernel has it, else key by key. Returns how many, or -1. */
static long
read_map(int fd, size_t ksz, uint32_t max, unsigned char *keys, uint32_t *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	unsigned char tok_in[64], tok_out[64], prev[64];
	uint32_t got = 0;
	bool first = true;

	for (;;) {
		uint32_t count = max - got;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : tok_in, tok_out,
		    keys + (size_t)got * ksz, vals + got, &count, &opts);

		if (rc < 0 && errno != ENOENT && first && count == 0)
			break;			/* no batch ops: key by key */
		got += count;
		if (rc < 0)
			return errno == ENOENT ? (long)got : -1;
		if (got == max)
			return got;
		memcpy(tok_in, tok_out, sizeof(tok_in));
		first = false;
	}
	got = 0;
	first = true;
	while (got < max && bpf_map_get_next_key(fd, first ? NULL : prev,
	    keys + (size_t)got * ksz) == 0) {
		memcpy(prev, keys + (size_t)got * ksz, ksz);
		first = false;
		if (bpf_map_lookup_elem(fd, prev, &vals[got]) == 0)
			got++;
	}
	return got;
}

static int
delete_keys(int fd, const unsigned char *keys, size_t ksz, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t count = n;
	int rc = 0;

	if (n == 0 || bpf_map_delete_batch(fd, keys, &count, &opts) == 0)
		return 0;
	for (uint32_t i = count; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + (size_t)i * ksz) != 0 &&
		    errno != ENOENT)
			rc = -1;
	return rc;
}

static int
update_keys(int fd, const unsigned char *keys, const uint32_t *vals, size_t ksz,
    uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t count = n;
	int rc = 0;

	if (n == 0 || bpf_map_update_batch(fd, keys, vals, &count, &opts) == 0)
		return 0;
	for (uint32_t i = count; i < n; i++)
		if (bpf_map_update_elem(fd, keys + (size_t)i * ksz, &vals[i],
		    BPF_ANY) != 0)
			rc = -1;
	return rc;
}

/*
 * Make map `fd` (`max` entries) hold exactly keys[0..n), with vals (or 1
 * each); a key given twice gets its values OR-ed (an address that is both
 * a VIP and this host's). The map is read once and compared through a hash
 * of the new set, then what is gone is deleted and only what is new or
 * changed is written: linear in the set, a few batch calls, and a reload
 * that changes nothing writes nothing. (A linear search per key made a
 * 100,000-backend reload take half a minute.)
 */
static int
sync_map(int fd, const char *what, uint32_t max, const void *keys, size_t ksz,
    uint32_t n, const uint32_t *vals)
{
	struct keymap *want = keymap_new(ksz, n);
	unsigned char *uk = malloc((size_t)n * ksz + 1);
	uint32_t *uv = malloc((size_t)n * sizeof(*uv) + 1);
	unsigned char *cur = malloc((size_t)max * ksz);
	uint32_t *cv = malloc((size_t)max * sizeof(*cv));
	bool *same = calloc((size_t)n + 1, sizeof(*same));
	uint32_t nu = 0, nd = 0, nw = 0;
	long nc;
	int rc = -1;

	if (want == NULL || uk == NULL || uv == NULL || cur == NULL ||
	    cv == NULL || same == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *k = (const unsigned char *)keys +
		    (size_t)i * ksz;
		uint32_t v = vals ? vals[i] : 1, *slot;
		int r = keymap_put(want, k, nu, &slot);

		if (r < 0)
			goto out;
		if (r == 0) {
			uv[*slot] |= v;
			continue;
		}
		memcpy(uk + (size_t)nu * ksz, k, ksz);
		uv[nu++] = v;
	}
	if ((nc = read_map(fd, ksz, max, cur, cv)) < 0)
		goto out;
	/* Deletions are packed to the front of cur, in place. */
	for (long i = 0; i < nc; i++) {
		const unsigned char *k = cur + (size_t)i * ksz;
		uint32_t *slot = keymap_get(want, k);

		if (slot == NULL)
			memmove(cur + (size_t)nd++ * ksz, k, ksz);
		else if (uv[*slot] == cv[i])
			same[*slot] = true;
	}
	rc = delete_keys(fd, cur, ksz, nd);
	/* The writes are packed to the front of uk and uv. */
	for (uint32_t i = 0; i < nu; i++)
		if (!same[i]) {
			memmove(uk + (size_t)nw * ksz, uk + (size_t)i * ksz, ksz);
			uv[nw++] = uv[i];
		}
	if (update_keys(fd, uk, uv, ksz, nw) < 0)
		rc = -1;
	if (nu > max)
		log_warnx("classifier map %s: %u entries wanted, it holds %u",
		    what, nu, max);
out:
	keymap_free(want);
	free(uk);
	free(uv);
	free(cur);
	free(cv);
	free(same);
	return rc;
}

int
bpfmaps_set_owned(const struct own_fds *fds, const struct xdp_owned *o)
{
	int rc = 0;

	/* Add before delete would briefly own too much; delete first would
	 * briefly pass too much to the kernel. A key present in both sets is
	 * never removed, so steady traffic is never dropped either way. */
	rc |= sync_map(fds->svcs, "lbd_svcs", LBD_CLS_MAX_SVCS, o->svcs,
	    sizeof(*o->svcs), o->n_svcs, NULL);
	rc |= sync_map(fds->addrs, "lbd_addrs", LBD_CLS_MAX_ADDRS, o->addrs,
	    sizeof(*o->addrs), o->n_addrs, o->addr_flags);
	rc |= sync_map(fds->backends, "lbd_backends", LBD_CLS_MAX_BACKENDS,
	    o->backends, sizeof(*o->backends), o->n_backends, o->backend_flags);
	return rc;
}

int
bpfmaps_set_until(int fd, uint64_t until_ns)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(fd, &zero, &until_ns, BPF_ANY);
}

void
bpfmaps_percpu_sum(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	memset(out, 0, sizeof(uint64_t) * n);
	if (ncpu <= 0 || (v = calloc((size_t)ncpu, sizeof(*v))) == NULL)
		return;
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map_lookup_elem(fd, &k, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[k] += v[c];
	free(v);
}
