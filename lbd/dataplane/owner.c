#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/dataplane/garp.h"
#include "lbd/dataplane/owner.h"
#include "lib/keymap.h"
#include "lib/log.h"

struct owner {
	struct ev_loop		*loop;
	struct knl		*nl;
	struct owned_addr	*v;
	size_t			 n, cap;
	struct keymap		*index;		/* family+address -> v[i] */
	uint32_t		 rate;		/* frames/s, 0: no limit */
	double			 tokens;	/* the rate's bucket */
	uint64_t		 filled;	/* ms, when tokens were counted */
	size_t			 cursor;	/* where the next turn starts */
	uint64_t		 sent, send_errors, paced;
	int			 fd;		/* garp_open */
	ev_timer		 pace;
};

/* The pacer wakes at least this often while frames wait for the rate, and
 * its bucket holds that long's worth (one frame at least). */
#define PACE_TICK_MS	10

static const char *
astr(const struct owned_addr *a, char *buf, size_t len)
{
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, (socklen_t)len);
	return buf;
}

/* Addresses logged one per line by one take or release; a big config's
 * thousands of VIPs are counted instead. */
#define LOG_ADDRS_MAX	32

static void
log_more(size_t n, const char *what)
{
	if (n > LOG_ADDRS_MAX)
		log_info("and %zu more addresses %s", n - LOG_ADDRS_MAX, what);
}

static ssize_t
find(const struct owner *o, uint8_t family, const uint8_t *addr)
{
	uint8_t k[KEYMAP_ADDR_LEN];
	uint32_t *i = keymap_get(o->index, keymap_addr_key(k, family, addr));

	return i == NULL ? -1 : (ssize_t)*i;
}

static void
announce(struct owner *o, struct owned_addr *a)
{
	char s[64];

	if (garp_send(o->fd, a->ifindex, a->family, a->addr, a->mac,
	    a->group != 0) == 0)
		o->sent++;
	else if (o->send_errors++ == 0)
		log_warn("announce %s on ifindex %d", astr(a, s, sizeof(s)),
		    a->ifindex);
}

static uint64_t
now_ms(const struct owner *o)
{
	return (uint64_t)(ev_now(o->loop) * 1000);
}

/* The rate's bucket holds a tick's worth of frames, one at least. */
static double
bucket_cap(const struct owner *o)
{
	double cap = o->rate * PACE_TICK_MS / 1000.0;

	return cap < 1 ? 1 : cap;
}

/*
 * Every announcement due, in turns from the cursor, while the rate's
 * bucket has frames; refreshes come due here too. Then sleep until the
 * next one is due, or a tick when the rate held some back.
 */
static void
pace(struct owner *o)
{
	uint64_t now = now_ms(o), next = UINT64_MAX;
	bool held = false;

	if (o->rate) {
		o->tokens += (double)(now - o->filled) * o->rate / 1000.0;
		if (o->tokens > bucket_cap(o))
			o->tokens = bucket_cap(o);
	}
	o->filled = now;
	for (size_t k = 0; k < o->n; k++) {
		size_t i = (o->cursor + k) % o->n;
		struct owned_addr *a = &o->v[i];

		if (a->refresh_at != 0 && now >= a->refresh_at) {
			if (a->announce_left == 0) {
				a->announce_left = 1;
				a->due = now;
			}
			a->refresh_at = now + a->garp_refresh_ms;
		}
		if (a->announce_left > 0 && a->due <= now) {
			if (o->rate && o->tokens < 1) {
				if (!held)
					o->cursor = i;
				held = true;
				if (!a->paced)
					o->paced++;	/* once per wait */
				a->paced = true;
				continue;
			}
			o->tokens -= o->rate ? 1 : 0;
			a->paced = false;
			announce(o, a);
			a->due = now + a->garp_interval_ms;
			if (--a->announce_left > 0 && a->due < next)
				next = a->due;
		} else if (a->announce_left > 0 && a->due < next)
			next = a->due;
		if (a->refresh_at != 0 && a->refresh_at < next)
			next = a->refresh_at;
	}
	if (!held)
		o->cursor = 0;
	else if (now + PACE_TICK_MS < next)
		next = now + PACE_TICK_MS;
	ev_timer_stop(o->loop, &o->pace);
	if (next != UINT64_MAX) {
		ev_timer_set(&o->pace, (double)(next - now) / 1000.0, 0);
		ev_timer_start(o->loop, &o->pace);
	}
}

static void
pace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_now_update(loop);
	pace(w->data);
}

/* Address `a` announces `rounds` more times, starting now. */
static void
queue(struct owner *o, struct owned_addr *a, uint32_t rounds)
{
	if (rounds > a->announce_left)
		a->announce_left = rounds;
	if (a->announce_left > 0)
		a->due = now_ms(o);
}

void
owner_announce_again(struct owner *o, uint16_t group, bool lower)
{
	for (size_t i = 0; i < o->n; i++)
		if (group == 0 || o->v[i].group == group)
			queue(o, &o->v[i], lower ? o->v[i].garp_lower :
			    o->v[i].garp_count);
	pace(o);
}

struct owner *
owner_new(struct ev_loop *loop, struct knl *nl, uint32_t rate)
{
	struct owner *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->loop = loop;
	o->nl = nl;
	if ((o->index = keymap_new(KEYMAP_ADDR_LEN, 16)) == NULL) {
		free(o);
		return NULL;
	}
	if ((o->fd = garp_open()) < 0)
		log_warn("announcements: packet socket");
	ev_timer_init(&o->pace, pace_cb, 0, 0);
	o->pace.data = o;
	owner_set_rate(o, rate);
	return o;
}

void
owner_set_rate(struct owner *o, uint32_t rate)
{
	o->rate = rate;
	o->tokens = bucket_cap(o);
	o->filled = now_ms(o);
}

int
owner_take(struct owner *o, const struct owned_addr *v, size_t n)
{
	int failed = 0;
	size_t taken = 0;
	char s[64];

	for (size_t i = 0; i < n; i++) {
		struct owned_addr a = v[i];
		uint8_t k[KEYMAP_ADDR_LEN];
		int rc;

		if (find(o, a.family, a.addr) >= 0)
			continue;
		if (o->n == o->cap) {
			size_t nc = o->cap ? o->cap * 2 : 16;
			struct owned_addr *nv = realloc(o->v, nc * sizeof(*nv));
			if (nv == NULL) {
				failed++;
				continue;
			}
			o->v = nv;
			o->cap = nc;
		}
		rc = knl_addr_add(o->nl, a.ifindex, a.family, a.addr, a.plen);
		if (rc < 0) {
			failed++;
			continue;
		}
		if (keymap_put(o->index, keymap_addr_key(k, a.family, a.addr),
		    (uint32_t)o->n, NULL) < 0) {
			if (rc == 0)
				(void)knl_addr_del(o->nl, a.ifindex, a.family,
				    a.addr, a.plen);
			failed++;
			continue;
		}
		a.added = rc == 0;
		a.announce_left = 0;
		if (a.garp_interval_ms == 0)
			a.garp_interval_ms = 200;
		a.refresh_at = a.garp_refresh_ms ? now_ms(o) +
		    a.garp_refresh_ms : 0;
		if (taken++ < LOG_ADDRS_MAX)
			log_info("address %s/%u taken on ifindex %d%s",
			    astr(&a, s, sizeof(s)), a.plen, a.ifindex,
			    a.added ? "" : " (already present)");
		o->v[o->n++] = a;
		queue(o, &o->v[o->n - 1], a.garp_count);
	}
	log_more(taken, "taken");
	/* The first announcements go out at once, as the rate allows. */
	if (taken > 0)
		pace(o);
	return failed;
}

static void
release_at(struct owner *o, size_t i, size_t *released)
{
	struct owned_addr *a = &o->v[i];
	uint8_t k[KEYMAP_ADDR_LEN];
	uint32_t *moved;
	char s[64];

	/* Floating addresses are lbd's by definition (VIPs, SNAT pool,
	 * VRRP addresses): remove them even when they were already there,
	 * e.g. left by an lbd that was killed. */
	(void)knl_addr_del(o->nl, a->ifindex, a->family, a->addr, a->plen);
	if ((*released)++ < LOG_ADDRS_MAX)
		log_info("address %s/%u released from ifindex %d",
		    astr(a, s, sizeof(s)), a->plen, a->ifindex);
	(void)keymap_del(o->index, keymap_addr_key(k, a->family, a->addr));
	o->v[i] = o->v[--o->n];
	if (i < o->n && (moved = keymap_get(o->index,
	    keymap_addr_key(k, o->v[i].family, o->v[i].addr))) != NULL)
		*moved = (uint32_t)i;
}

void
owner_release(struct owner *o, const struct owned_addr *v, size_t n)
{
	size_t released = 0;

	for (size_t i = 0; i < n; i++) {
		ssize_t k = find(o, v[i].family, v[i].addr);
		if (k >= 0)
			release_at(o, (size_t)k, &released);
	}
	log_more(released, "released");
}

int
owner_set(struct owner *o, const struct owned_addr *v, size_t n)
{
	struct keymap *want = keymap_new(KEYMAP_ADDR_LEN, n);
	uint8_t k[KEYMAP_ADDR_LEN];
	size_t released = 0;

	if (want == NULL)
		return (int)n;
	for (size_t i = 0; i < n; i++)
		(void)keymap_put(want, keymap_addr_key(k, v[i].family, v[i].addr),
		    (uint32_t)i, NULL);
	for (size_t i = o->n; i-- > 0;) {
		uint32_t *j = keymap_get(want, keymap_addr_key(k, o->v[i].family,
		    o->v[i].addr));

		/* An address that moves to another interface is released
		 * here and taken again below; one that stays takes its
		 * (maybe new) group and announcement settings. */
		if (j == NULL || v[*j].ifindex != o->v[i].ifindex) {
			release_at(o, i, &released);
			continue;
		}
		o->v[i].group = v[*j].group;
		o->v[i].garp_count = v[*j].garp_count;
		o->v[i].garp_lower = v[*j].garp_lower;
		o->v[i].garp_interval_ms = v[*j].garp_interval_ms ?
		    v[*j].garp_interval_ms : 200;
		if (o->v[i].garp_refresh_ms != v[*j].garp_refresh_ms)
			o->v[i].refresh_at = v[*j].garp_refresh_ms ?
			    now_ms(o) + v[*j].garp_refresh_ms : 0;
		o->v[i].garp_refresh_ms = v[*j].garp_refresh_ms;
	}
	log_more(released, "released");
	keymap_free(want);
	return owner_take(o, v, n);
}

bool
owner_holds(const struct owner *o, uint8_t family, const uint8_t *addr)
{
	return find(o, family, addr) >= 0;
}

void
owner_free(struct owner *o)
{
	size_t released = 0;

	if (o == NULL)
		return;
	ev_timer_stop(o->loop, &o->pace);
	while (o->n > 0)
		release_at(o, o->n - 1, &released);
	log_more(released, "released");
	if (o->fd >= 0)
		close(o->fd);
	keymap_free(o->index);
	free(o->v);
	free(o);
}

void
owner_show(const struct owner *o, struct buf *b, bool json)
{
	char s[64];

	if (json) {
		buf_puts(b, "[");
		for (size_t i = 0; i < o->n; i++)
			buf_printf(b, "%s{\"address\":\"%s/%u\",\"ifindex\":%d,"
			    "\"added\":%s}", i ? "," : "", astr(&o->v[i], s,
			    sizeof(s)), o->v[i].plen, o->v[i].ifindex,
			    o->v[i].added ? "true" : "false");
		buf_puts(b, "]");
		return;
	}
	for (size_t i = 0; i < o->n; i++)
		buf_printf(b, "  %s/%u ifindex %d%s\n", astr(&o->v[i], s, sizeof(s)),
		    o->v[i].plen, o->v[i].ifindex, o->v[i].added ? "" :
		    " (was present)");
}

uint64_t
owner_announcements(const struct owner *o)
{
	return o->sent;
}

uint64_t
owner_paced(const struct owner *o)
{
	return o->paced;
}
