/*
 * clock — the monotonic millisecond clock every lbd timer and the engine
 * run on (the engine takes its low 32 bits and compares them wrap-safe).
 */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Now, UTC, to the millisecond: "2026-12-06T08:56:15.181Z" (25 bytes). */
#define CLOCK_UTC_LEN	32
static inline void
utc_ms_str(char buf[CLOCK_UTC_LEN])
{
	struct timespec ts;
	struct tm tm;
	char s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, CLOCK_UTC_LEN, "%s.%03dZ", s,
	    (int)(ts.tv_nsec / 1000000) % 1000);
}

#endif /* LIB_CLOCK_H */
