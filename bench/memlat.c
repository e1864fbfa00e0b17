/*
 * bench-memlat: what random memory access costs on this machine, for reading
 * the engine's figures. Over a 128 MiB region (the size of a 1M-connection
 * table, huge pages requested like the table's):
 *   dependent   each load's address comes from the previous load (latency)
 *   independent addresses known in advance (what the core overlaps)
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(void)
{
	size_t lines = (128u << 20) / 64, steps = 5000000;
	uint64_t *a = aligned_alloc(2u << 20, lines * 64);
	uint32_t *perm = malloc(lines * sizeof(*perm));
	uint64_t x, s = 0, r = 88172645463325252ull;
	double t0, dep, ind;

	if (a == NULL || perm == NULL)
		return 1;
	(void)madvise(a, lines * 64, MADV_HUGEPAGE);
	for (size_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {	/* one random cycle */
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		size_t j = r % (i + 1);
		uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
	}
	for (size_t i = 0; i < lines; i++)
		a[(size_t)perm[i] * 8] = perm[(i + 1) % lines];
	x = perm[0];
	t0 = now_s();
	for (size_t i = 0; i < steps; i++)
		x = a[x * 8];
	dep = (now_s() - t0) / (double)steps * 1e9;
	t0 = now_s();
	for (size_t i = 0; i < steps; i++) {
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		s += a[(r % lines) * 8];
	}
	ind = (now_s() - t0) / (double)steps * 1e9;
	printf("memlat: dependent_ns=%.1f independent_ns=%.1f (check %llu)\n",
	    dep, ind, (unsigned long long)((x + s) & 1));
	return 0;
}
