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
	uint32_t		 count, interval_ms, refresh_ms;
	uint64_t		 sent, send_errors;
	int			 fd;		/* garp_open */
	ev_timer		 burst, refresh;
};

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

	if (garp_send(o->fd, a->ifindex, a->family, a->addr, a->mac) == 0)
		o->sent++;
	else if (o->send_errors++ == 0)
		log_warn("announce %s on ifindex %d", astr(a, s, sizeof(s)),
		    a->ifindex);
}

static void
burst_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct owner *o = w->data;
	bool more = false;

	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].announce_left > 0) {
			announce(o, &o->v[i]);
			more |= --o->v[i].announce_left > 0;
		}
	if (!more)
		ev_timer_stop(loop, w);
}

void
owner_announce_again(struct owner *o)
{
	bool more = false;

	for (size_t i = 0; i < o->n; i++) {
		o->v[i].announce_left = o->count;
		if (o->count > 0) {
			announce(o, &o->v[i]);
			more |= --o->v[i].announce_left > 0;
		}
	}
	if (more && !ev_is_active(&o->burst)) {
		ev_timer_set(&o->burst, o->interval_ms / 1000.0,
		    o->interval_ms / 1000.0);
		ev_timer_start(o->loop, &o->burst);
	}
}

static void
refresh_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct owner *o = w->data;

	for (size_t i = 0; i < o->n; i++)
		announce(o, &o->v[i]);
}

static void
arm(struct owner *o)
{
	ev_timer_stop(o->loop, &o->refresh);
	if (o->refresh_ms > 0) {
		ev_timer_set(&o->refresh, o->refresh_ms / 1000.0,
		    o->refresh_ms / 1000.0);
		ev_timer_start(o->loop, &o->refresh);
	}
}

struct owner *
owner_new(struct ev_loop *loop, struct knl *nl, uint32_t count,
    uint32_t interval_ms, uint32_t refresh_ms)
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
	ev_timer_init(&o->burst, burst_cb, 0, 0);
	ev_timer_init(&o->refresh, refresh_cb, 0, 0);
	o->burst.data = o->refresh.data = o;
	owner_set_garp(o, count, interval_ms, refresh_ms);
	return o;
}

void
owner_set_garp(struct owner *o, uint32_t count, uint32_t interval_ms,
    uint32_t refresh_ms)
{
	o->count = count;
	o->interval_ms = interval_ms ? interval_ms : 200;
	o->refresh_ms = refresh_ms;
	arm(o);
}

int
owner_take(struct owner *o, const struct owned_addr *v, size_t n)
{
	int failed = 0;
	bool announce_now = false;
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
		a.announce_left = o->count;
		if (taken++ < LOG_ADDRS_MAX)
			log_info("address %s/%u taken on ifindex %d%s",
			    astr(&a, s, sizeof(s)), a.plen, a.ifindex,
			    a.added ? "" : " (already present)");
		o->v[o->n++] = a;
		/* The first announcement goes out at once. */
		if (a.announce_left > 0) {
			announce(o, &o->v[o->n - 1]);
			o->v[o->n - 1].announce_left--;
			announce_now |= o->v[o->n - 1].announce_left > 0;
		}
	}
	log_more(taken, "taken");
	if (announce_now && !ev_is_active(&o->burst)) {
		ev_timer_set(&o->burst, o->interval_ms / 1000.0,
		    o->interval_ms / 1000.0);
		ev_timer_start(o->loop, &o->burst);
	}
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
		 * here and taken again below. */
		if (j == NULL || v[*j].ifindex != o->v[i].ifindex)
			release_at(o, i, &released);
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
	ev_timer_stop(o->loop, &o->burst);
	ev_timer_stop(o->loop, &o->refresh);
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
