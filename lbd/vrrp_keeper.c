/*
 * vrrp_keeper: see vrrp_keeper.h. One thread, a mutex, a handful of
 * entries (one per master router); it sleeps until the earliest entry is
 * due or the loop changes the set.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lbd/dataplane/bpfmaps.h"
#include "lbd/vrrp_keeper.h"
#include "lib/clock.h"
#include "lib/log.h"

#define KEEP_MAX	64
#define FRAME_MAX	1500
/* How late the loop may be before the thread sends in its place: a few
 * ms, so a backup's fast takeover (an interval plus a fifth of it, at
 * least, vrrp_hb.c) never sees a silence from a stalled master. */
#define LATE_MS		3
/* The realtime priority asked for (SCHED_FIFO, 1..99): above ordinary
 * work, below the kernel's own threads that run at 50. */
#define RT_PRIO		10
/* The guard (vrrp_keeper_guard): pushed every GUARD_EVERY_MS to now +
 * GUARD_GRACE_MS. The grace is far above the thread's own lateness (it
 * runs at realtime priority), and far below the ~250 ms in which a dead
 * node's links come back and its kernel speaks for the virtual MACs. */
#define GUARD_EVERY_MS	10
#define GUARD_GRACE_MS	100

struct entry {
	uint32_t		key;
	int			fd;
	struct sockaddr_ll	to;
	uint8_t			frame[FRAME_MAX];
	size_t			len;
	uint32_t		interval_ms;
	uint64_t		last_ms;
};

struct vrrp_keeper {
	pthread_t		thr;
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	bool			stop, rt;
	struct entry		e[KEEP_MAX];
	size_t			n;
	uint64_t		kept;
	int			guard_fd;	/* -1: none */
};

static void
push_guard(int fd)
{
	(void)bpfmaps_set_until(fd, mono_ns() + GUARD_GRACE_MS * 1000000ull);
}

static void *
keeper_main(void *arg)
{
	struct vrrp_keeper *k = arg;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		uint64_t now = mono_ms(), next = now + 1000;
		struct timespec ts;

		if (k->guard_fd >= 0) {
			push_guard(k->guard_fd);
			next = now + GUARD_EVERY_MS;
		}
		for (size_t i = 0; i < k->n; i++) {
			struct entry *e = &k->e[i];
			uint64_t due = e->last_ms + e->interval_ms + LATE_MS;

			if (now >= due) {
				if (sendto(e->fd, e->frame, e->len, 0,
				    (struct sockaddr *)&e->to, sizeof(e->to)) >= 0)
					k->kept++;
				e->last_ms = now;
				due = now + e->interval_ms + LATE_MS;
			}
			if (due < next)
				next = due;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)((next - now) / 1000);
		ts.tv_nsec += (long)((next - now) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

struct vrrp_keeper *
vrrp_keeper_start(void)
{
	struct vrrp_keeper *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	pthread_attr_t ta;
	struct sched_param sp = { .sched_priority = RT_PRIO };
	int rc;

	if (k == NULL)
		return NULL;
	k->guard_fd = -1;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Realtime where allowed (CAP_SYS_NICE at start, RLIMIT_RTPRIO),
	 * else an ordinary thread: it still does not wait for the loop. */
	pthread_attr_init(&ta);
	pthread_attr_setinheritsched(&ta, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&ta, SCHED_FIFO);
	pthread_attr_setschedparam(&ta, &sp);
	rc = pthread_create(&k->thr, &ta, keeper_main, k);
	pthread_attr_destroy(&ta);
	if (rc == EPERM) {
		rc = pthread_create(&k->thr, NULL, keeper_main, k);
		if (rc == 0)
			log_info("vrrp: advert keeper thread at normal priority "
			    "(no realtime allowed: CAP_SYS_NICE or RLIMIT_RTPRIO)");
	} else if (rc == 0)
		k->rt = true;
	if (rc != 0) {
		log_warnx("vrrp: advert keeper thread: %s; adverts wait for "
		    "the main loop", strerror(rc));
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		free(k);
		return NULL;
	}
	(void)pthread_setname_np(k->thr, "lbd-vrrp");
	return k;
}

void
vrrp_keeper_stop(struct vrrp_keeper *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thr, NULL);
	/* Stopped, not dead: the guard stands down (0) rather than keep
	 * the frames of a master that is shutting down in. */
	if (k->guard_fd >= 0) {
		(void)bpfmaps_set_until(k->guard_fd, 0);
		close(k->guard_fd);
	}
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

void
vrrp_keeper_guard(struct vrrp_keeper *k, int map_fd)
{
	int fd = map_fd >= 0 ? fcntl(map_fd, F_DUPFD_CLOEXEC, 3) : -1;

	if (k == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	pthread_mutex_lock(&k->mu);
	if (k->guard_fd >= 0)
		close(k->guard_fd);
	k->guard_fd = fd;
	if (fd >= 0)
		push_guard(fd);
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static struct entry *
find(struct vrrp_keeper *k, uint32_t key)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->e[i].key == key)
			return &k->e[i];
	return NULL;
}

void
vrrp_keeper_sent(struct vrrp_keeper *k, uint32_t key, int fd,
    const struct sockaddr_ll *to, const uint8_t *frame, size_t len,
    uint32_t interval_ms)
{
	struct entry *e;

	if (k == NULL || len > FRAME_MAX || interval_ms == 0)
		return;
	pthread_mutex_lock(&k->mu);
	if ((e = find(k, key)) == NULL && k->n < KEEP_MAX)
		e = &k->e[k->n++];
	if (e != NULL) {
		e->key = key;
		e->fd = fd;
		e->to = *to;
		memcpy(e->frame, frame, len);
		e->len = len;
		e->interval_ms = interval_ms;
		e->last_ms = mono_ms();
		pthread_cond_signal(&k->cv);
	}
	pthread_mutex_unlock(&k->mu);
}

void
vrrp_keeper_clear(struct vrrp_keeper *k, uint32_t key)
{
	struct entry *e;

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	if ((e = find(k, key)) != NULL)
		*e = k->e[--k->n];
	pthread_mutex_unlock(&k->mu);
}

uint64_t
vrrp_keeper_kept(const struct vrrp_keeper *k)
{
	uint64_t n;

	if (k == NULL)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&k->mu);
	n = k->kept;
	pthread_mutex_unlock((pthread_mutex_t *)&k->mu);
	return n;
}

bool
vrrp_keeper_realtime(const struct vrrp_keeper *k)
{
	return k != NULL && k->rt;
}
