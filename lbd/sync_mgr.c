/*
 * sync_mgr — ha-sync in lbd: the UDP socket on the heartbeat link, the
 * link to the peer (ha-sync/), and the glue to the engine's table through
 * the data plane. On the loop, like everything but the worker.
 *
 * What goes to the peer is sync_rec's policy (docs/ha-sync.md).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ha-sync/sync.h"
#include "lbd/events.h"
#include "lbd/stats.h"
#include "lbd/sync_mgr.h"
#include "lbd/sync_rec.h"
#include "lib/clock.h"
#include "lib/log.h"

#define BULK_CHUNK	512
#define APPLY_BATCH	64
#define BULK_ROOM	(128 + BULK_CHUNK / 40)	/* free datagram slots to go on */

/* How long a heartbeat link may be silent before the other one carries
 * the stream: three keepalives, well before the peer counts as down. */
#define PATH_DEAD_MS	300
#define PROBE_MS	100	/* a keepalive over the idle link this often */

/* A heartbeat link to the peer: `interface`/`peer`, and the optional
 * `backup-interface`/`backup-peer`. */
struct path {
	struct sync_mgr		*m;
	int			 fd;
	ev_io			 rx;
	struct sockaddr_storage	 peer;
	socklen_t		 peer_len;
	char			 peer_str[64], iface[32];
	uint64_t		 last_heard;	/* an authenticated datagram */
	uint64_t		 send_errors;
};

struct sync_mgr {
	struct ev_loop		*loop;
	struct dataplane	*dp;
	struct sync_link	*link;
	struct path		 path[2];
	int			 n_paths, active;
	uint64_t		 next_probe, switches;
	ev_timer		 timer;
	uint16_t		 port;

	bool			 bulk_active;	/* streaming our table */
	uint32_t		 bulk_cursor;
	ev_idle			 bulk_idle;

	struct dp_sync_op	 ops[APPLY_BATCH];
	size_t			 n_ops;

	uint64_t		 applied, refused, foreign;
	uint64_t		 events_lost, lost_logged;
	uint64_t		 refused_by[DP_SYNC__COUNT];
	bool			 same_id_logged;

	/* The heartbeat: our word (VRRP's states) to the peer every
	 * hb_every ms on every link, its word to VRRP; silent for hb_dead
	 * ms on every link, the peer is gone (vrrp/vrrp_hb.c). */
	ev_timer		 hb_timer;
	uint32_t		 hb_every, hb_dead;
	uint64_t		 hb_heard;	/* any authenticated datagram */
	sync_word_fn		*pair_word_fn;	/* lbd/pair.h */
	void			(*pair_peer_fn)(void *, const uint8_t *, size_t);
	void			*pair_arg;
	uint64_t		 pair_sent;	/* mono ms */
	bool			 hb_alive;
	uint64_t		 hb_losses;	/* alive -> silent */
	sync_word_fn		*word_fn;
	sync_peer_fn		*peer_fn;
	void			*hb_arg;
};

static void
put(struct sync_mgr *m, const struct sync_rec *r)
{
	(void)sync_link_put(m->link, mono_ms(), r);	/* full: a bulk follows */
}

/* ---- the socket and the timer ------------------------------------------ */

static void
send_on(struct path *p, const uint8_t *d, size_t n)
{
	if (sendto(p->fd, d, n, 0, (struct sockaddr *)&p->peer,
	    p->peer_len) < 0 && p->send_errors++ == 0)
		log_warn("sync: send to %s on %s", p->peer_str, p->iface);
}

/* ---- the heartbeat ------------------------------------------------------ */

static void
hb_send(struct sync_mgr *m, uint64_t now)
{
	uint8_t word[SYNC_STATUS_MAX], d[SYNC_MTU_MAX];
	size_t wl = m->word_fn != NULL ? m->word_fn(m->hb_arg, word,
	    sizeof(word)) : 0;

	for (int i = 0; i < m->n_paths; i++) {
		size_t n = sync_link_status(m->link, now, word, wl, d, sizeof(d));

		if (n > 0)
			send_on(&m->path[i], d, n);
	}
}

/* Heard from the peer (an authenticated datagram, `word` if it carried
 * one): VRRP learns it at once. */
static void
hb_heard(struct sync_mgr *m, uint64_t now, const uint8_t *word, size_t len)
{
	bool was = m->hb_alive;

	m->hb_heard = now;
	m->hb_alive = true;
	if ((word != NULL || !was) && m->peer_fn != NULL)
		m->peer_fn(m->hb_arg, true, word, len);
	if (!was)
		log_info("sync: heartbeat hears the peer %s", m->path[0].peer_str);
}

/* The pair word, once a second on the link that carries the stream. */
static void
pair_send(struct sync_mgr *m, uint64_t now)
{
	uint8_t word[SYNC_STATUS_MAX], d[SYNC_MTU_MAX];
	size_t wl, n;

	if (m->pair_word_fn == NULL || now - m->pair_sent < 1000)
		return;
	m->pair_sent = now;
	if ((wl = m->pair_word_fn(m->pair_arg, word, sizeof(word))) > 0 &&
	    (n = sync_link_pair(m->link, now, word, wl, d, sizeof(d))) > 0)
		send_on(&m->path[m->active], d, n);
}

static void
hb_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sync_mgr *m = w->data;
	uint64_t now = mono_ms();

	hb_send(m, now);
	pair_send(m, now);
	if (m->hb_alive && now - m->hb_heard >= m->hb_dead) {
		m->hb_alive = false;
		m->hb_losses++;
		log_warnx("sync: heartbeat: the peer %s silent for %llu ms",
		    m->path[0].peer_str, (unsigned long long)(now - m->hb_heard));
		if (m->peer_fn != NULL)
			m->peer_fn(m->hb_arg, false, NULL, 0);
	}
}

void
sync_mgr_heartbeat(struct sync_mgr *m, sync_word_fn *word, sync_peer_fn *peer,
    void *arg)
{
	if (m == NULL)
		return;
	m->word_fn = word;
	m->peer_fn = peer;
	m->hb_arg = arg;
	if (peer != NULL)
		peer(arg, m->hb_alive, NULL, 0);
}

void
sync_mgr_pair(struct sync_mgr *m, sync_word_fn *pword,
    void (*ppeer)(void *, const uint8_t *, size_t), void *arg)
{
	if (m == NULL)
		return;
	m->pair_word_fn = pword;
	m->pair_peer_fn = ppeer;
	m->pair_arg = arg;
	m->pair_sent = 0;
}

static void
pair_cb(void *arg, const uint8_t *word, size_t len)
{
	struct sync_mgr *m = arg;

	hb_heard(m, mono_ms(), NULL, 0);
	if (m->pair_peer_fn != NULL)
		m->pair_peer_fn(m->pair_arg, word, len);
}

void
sync_mgr_word_changed(struct sync_mgr *m)
{
	if (m != NULL)
		hb_send(m, mono_ms());
}

static void
status_cb(void *arg, const uint8_t *word, size_t len)
{
	struct sync_mgr *m = arg;

	hb_heard(m, mono_ms(), word, len);
}

static bool
path_up(const struct path *p, uint64_t now)
{
	return p->last_heard != 0 && now - p->last_heard < PATH_DEAD_MS;
}

/* The stream goes over the first link while the peer is heard on it,
 * else over the second while it is heard there. */
static void
choose_path(struct sync_mgr *m, uint64_t now)
{
	int want = m->active;

	if (m->n_paths < 2)
		return;
	for (int i = m->n_paths - 1; i >= 0; i--)
		if (path_up(&m->path[i], now))
			want = i;
	if (want == m->active)
		return;
	log_warnx("sync: the stream to the peer goes over %s now (%s)",
	    m->path[want].iface, want == 0 ? "it is back" : "the first "
	    "heartbeat link is silent");
	events_emit("sync", "link", m->path[want].iface, "state", "carries",
	    NULL);
	m->active = want;
	m->switches++;
}

static void
flush_out(struct sync_mgr *m)
{
	uint8_t d[SYNC_MTU_MAX];
	uint64_t now = mono_ms(), next;
	size_t n;

	sync_link_tick(m->link, now);
	choose_path(m, now);
	while ((n = sync_link_output(m->link, now, d, sizeof(d))) > 0)
		send_on(&m->path[m->active], d, n);
	/* The idle link hears from us too, so that its state is known
	 * before the stream needs it. */
	if (m->n_paths > 1 && now >= m->next_probe) {
		m->next_probe = now + PROBE_MS;
		if ((n = sync_link_probe(m->link, now, d, sizeof(d))) > 0)
			send_on(&m->path[1 - m->active], d, n);
	}
	next = sync_link_deadline(m->link);
	if (m->n_paths > 1 && (next == 0 || next > m->next_probe))
		next = m->next_probe;
	ev_timer_stop(m->loop, &m->timer);
	ev_timer_set(&m->timer, next > now ? (double)(next - now) / 1000.0 : 0.0,
	    0.);
	ev_timer_start(m->loop, &m->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	flush_out(w->data);
}

static void
apply_pending(struct sync_mgr *m)
{
	uint64_t v[DP_SYNC__COUNT] = { 0 };

	if (m->n_ops == 0)
		return;
	dataplane_sync_apply(m->dp, m->ops, m->n_ops, v);
	m->applied += v[DP_SYNC_APPLIED];
	for (int r = 1; r < DP_SYNC__COUNT; r++) {
		m->refused += v[r];
		m->refused_by[r] += v[r];
	}
	m->n_ops = 0;
}

static void
rec_cb(void *arg, const struct sync_rec *r)
{
	struct sync_mgr *m = arg;
	struct dp_sync_op *o = &m->ops[m->n_ops++];

	o->close = sync_rec_to_entry(r, &o->e);
	if (m->n_ops == APPLY_BATCH)
		apply_pending(m);
}

static void
bulk_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct sync_mgr *m = w->data;
	struct ct_entry e[BULK_CHUNK];
	uint64_t now = mono_ms();
	size_t n, room = sync_link_room(m->link);

	/* Half the window (256 datagrams by default) stays for live records;
	 * a chunk fills about BULK_CHUNK / 44 datagrams. */
	if (room <= BULK_ROOM) {
		ev_idle_stop(loop, w);
		return;		/* flush_out's acks make room; resumed there */
	}
	n = dataplane_sync_table(m->dp, &m->bulk_cursor, e, BULK_CHUNK);
	for (size_t i = 0; i < n; i++) {
		struct sync_rec r;

		sync_rec_of_entry(&e[i], &r);
		put(m, &r);
	}
	if (m->bulk_cursor == UINT32_MAX) {
		(void)sync_link_bulk_end(m->link, now);
		m->bulk_active = false;
		ev_idle_stop(loop, w);
		log_info("sync: bulk resync sent to %s", m->path[0].peer_str);
	}
	flush_out(m);
}

static void
event_cb(void *arg, enum sync_event e)
{
	struct sync_mgr *m = arg;
	struct sync_link_info in;

	switch (e) {
	case SYNC_EV_PEER_UP:
		log_info("sync: peer %s up", m->path[0].peer_str);
		events_emit("sync", "peer", m->path[0].peer_str, "state", "up",
		    NULL);
		dataplane_sync_keep(m->dp, true);
		break;
	case SYNC_EV_PEER_DOWN:
		log_warnx("sync: peer %s silent, down", m->path[0].peer_str);
		events_emit("sync", "peer", m->path[0].peer_str, "state",
		    "down", NULL);
		dataplane_sync_keep(m->dp, false);
		break;
	case SYNC_EV_PEER_RESTART:
		log_info("sync: peer %s restarted", m->path[0].peer_str);
		events_emit("sync", "peer", m->path[0].peer_str, "state",
		    "restarted", NULL);
		break;
	case SYNC_EV_SEND_BULK:
		if (sync_link_bulk_begin(m->link, mono_ms()) == 0) {
			m->bulk_active = true;
			m->bulk_cursor = 0;
			ev_idle_start(m->loop, &m->bulk_idle);
		}
		break;
	case SYNC_EV_BULK_BEGIN:
		apply_pending(m);
		(void)dataplane_sync_bulk(m->dp, false);
		break;
	case SYNC_EV_BULK_END: {
		uint32_t swept;
		apply_pending(m);
		swept = dataplane_sync_bulk(m->dp, true);
		sync_link_info(m->link, &in);
		log_info("sync: bulk resync from %s complete (%u stale entries "
		    "dropped)%s", m->path[0].peer_str, swept, in.synced ? "" :
		    ", incomplete: asking again");
		events_emit("sync", "peer", m->path[0].peer_str, "state",
		    in.synced ? "synced" : "bulk incomplete", NULL);
		break;
	}
	case SYNC_EV_CFG_MISMATCH:
		sync_link_info(m->link, &in);
		if (in.cfg_mismatch)
			log_warnx("sync: peer %s runs a different configuration "
			    "(services, backends or VRRP groups differ)",
			    m->path[0].peer_str);
		else
			log_info("sync: peer %s configuration agrees again",
			    m->path[0].peer_str);
		events_emit("sync", "peer", m->path[0].peer_str, "config",
		    in.cfg_mismatch ? "differs" : "agrees", NULL);
		break;
	}
}

static bool
from_peer(const struct path *p, const struct sockaddr_storage *ss)
{
	if (ss->ss_family != p->peer.ss_family)
		return false;
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)&p->peer)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr,
	    &((const struct sockaddr_in6 *)&p->peer)->sin6_addr, 16) == 0;
}

static void
rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;
	struct sync_mgr *m = p->m;
	uint8_t d[SYNC_MTU_MAX];

	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(p->fd, d, sizeof(d), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &sl);
		enum sync_bad bad;

		if (n < 0)
			break;
		if (!from_peer(p, &ss)) {
			m->foreign++;
			continue;
		}
		bad = sync_link_input(m->link, mono_ms(), d, (size_t)n);
		if (bad == SYNC_OK) {
			p->last_heard = mono_ms();
			if (!m->hb_alive)
				hb_heard(m, p->last_heard, NULL, 0);
			else
				m->hb_heard = p->last_heard;
		}
		if (bad == SYNC_BAD_SELF && !m->same_id_logged) {
			m->same_id_logged = true;
			log_warnx("sync: the peer %s has this node's node-id; "
			    "give each node its own (node-id in global)",
			    m->path[0].peer_str);
		}
		apply_pending(m);
	}
	flush_out(m);
	if (m->bulk_active && !ev_is_active(&m->bulk_idle))
		ev_idle_start(loop, &m->bulk_idle);
}

void
sync_mgr_events(struct sync_mgr *m, const struct ct_event *ev, size_t n,
    uint64_t lost)
{
	if (m == NULL)
		return;

	/* The peer missed connections (or keeps closed ones): it gets our
	 * whole table again, once the window has room. */
	if (lost > 0) {
		uint64_t now = mono_ms();

		m->events_lost += lost;
		sync_link_owe_bulk(m->link);
		if (now - m->lost_logged >= 10000 || m->lost_logged == 0) {
			m->lost_logged = now;
			log_warnx("sync: %llu connection events lost to a full "
			    "queue (%llu in all): a bulk resync to %s follows",
			    (unsigned long long)lost,
			    (unsigned long long)m->events_lost,
			    m->path[0].peer_str);
		}
	}

	for (size_t i = 0; i < n; i++) {
		struct sync_rec r;

		if (sync_rec_of_event(&ev[i], &r))
			put(m, &r);
	}
	flush_out(m);
}

/* ---- setup --------------------------------------------------------------- */

/* What must agree between the two nodes: services (address, port, mode,
 * scheduler, SNAT pool, backends) and VRRP groups (instances, VRIDs,
 * addresses) -- not priorities, node ids or the sync block itself. */
static uint64_t
cfg_hash(const struct conf *c)
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	uint8_t md[32];
	char buf[96];
	uint64_t h = 0;

#define ADD(p, n)	(void)EVP_DigestUpdate(x, (p), (n))
#define ADDS(s)		ADD((s), strlen(s) + 1)
#define ADDA(a)		ADDS(inet_ntop((a)->family == AF_INET6 ? AF_INET6 : \
			    AF_INET, &(a)->u, buf, sizeof(buf)))
	if (x == NULL || EVP_DigestInit_ex(x, EVP_sha256(), NULL) != 1)
		goto out;
	/* Nodes that hash differently send a failed-over flow elsewhere. */
	h = conf_hash_seed(&c->global);
	ADD(&h, sizeof(h));
	h = 0;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];
		ADDS(s->name);
		ADDA(&s->vip);
		ADD(&s->proto, sizeof(s->proto));
		ADD(&s->port, sizeof(s->port));
		ADD(&s->mode, sizeof(s->mode));
		ADD(&s->sched, sizeof(s->sched));
		for (size_t k = 0; k < s->n_snat_pool; k++)
			ADDA(&s->snat_pool[k]);
		for (size_t k = 0; k < s->n_backends; k++) {
			ADDS(s->backends[k].name);
			ADDA(&s->backends[k].addr);
			ADD(&s->backends[k].port, sizeof(s->backends[k].port));
		}
	}
	for (size_t g = 0; g < c->n_groups; g++) {
		ADDS(c->groups[g].name);
		for (size_t i = 0; i < c->groups[g].n_instances; i++) {
			const struct conf_instance *in = &c->groups[g].instances[i];
			ADDS(in->name);
			ADD(&in->vrid, sizeof(in->vrid));
			for (size_t k = 0; k < in->n_vaddrs; k++)
				ADDA(&in->vaddrs[k]);
		}
	}
	if (EVP_DigestFinal_ex(x, md, NULL) == 1)
		for (int i = 0; i < 8; i++)
			h = h << 8 | md[i];
#undef ADD
#undef ADDS
#undef ADDA
out:
	EVP_MD_CTX_free(x);
	return h;
}

static int
read_key(const char *path, uint8_t *key, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "sync: key-file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, key, SYNC_KEY_MAX);
	close(fd);
	if (n < SYNC_KEY_MIN) {
		snprintf(err, errlen, "sync: key-file %s: shorter than %d bytes",
		    path, SYNC_KEY_MIN);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* The key files, read again: a reload takes a new key (and, during a
 * roll, the one to accept too). The old keys stay when one cannot be read. */
static void
reload_keys(struct sync_mgr *m, const struct conf_sync *s)
{
	uint8_t key[SYNC_KEY_MAX], acc[SYNC_KEY_MAX];
	size_t len, alen = 0;
	char err[300];

	if (read_key(s->key_file, key, &len, err, sizeof(err)) < 0 ||
	    (s->accept_key_file != NULL && read_key(s->accept_key_file, acc,
	    &alen, err, sizeof(err)) < 0))
		log_warnx("%s; the keys in use stay", err);
	else if (sync_link_set_keys(m->link, key, len, s->accept_key_file ?
	    acc : NULL, alen) < 0)
		log_warnx("sync: a key of a wrong length; the keys in use stay");
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(acc, sizeof(acc));
}

/* A UDP socket on `iface` (SO_BINDTODEVICE: each heartbeat link its
 * own, even with the same port), for datagrams to and from `peer`. */
static int
open_path(struct path *p, const char *iface, const struct conf_addr *peer,
    uint16_t port, char *err, size_t errlen)
{
	int fam = peer->family == AF_INET6 ? AF_INET6 : AF_INET;
	struct sockaddr_storage me;

	snprintf(p->iface, sizeof(p->iface), "%s", iface);
	memset(&me, 0, sizeof(me));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&p->peer;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, &peer->u, 4);
		p->peer_len = sizeof(*a);
		((struct sockaddr_in *)&me)->sin_family = AF_INET;
		((struct sockaddr_in *)&me)->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p->peer;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, &peer->u, 16);
		a->sin6_scope_id = if_nametoindex(iface);
		p->peer_len = sizeof(*a);
		((struct sockaddr_in6 *)&me)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&me)->sin6_port = htons(port);
	}
	inet_ntop(fam, &peer->u, p->peer_str, sizeof(p->peer_str));
	/* No SO_REUSEADDR: with it, any local user's socket with it too
	 * could bind the port beside ours and take the peer's datagrams.
	 * Without it the port is ours alone (UDP keeps no TIME_WAIT). */
	if ((p->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(p->fd, SOL_SOCKET, SO_BINDTODEVICE, iface,
	    (socklen_t)strlen(iface)) < 0 ||
	    bind(p->fd, (struct sockaddr *)&me, fam == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
		snprintf(err, errlen, "sync: UDP port %u on %s: %s", port, iface,
		    strerror(errno));
		return -1;
	}
	return 0;
}

struct sync_mgr *
sync_mgr_start(struct ev_loop *loop, const struct conf *c, struct dataplane *dp,
    char *err, size_t errlen)
{
	const struct conf_sync *s = &c->sync;
	struct sync_mgr *m;
	uint8_t key[SYNC_KEY_MAX];
	struct sync_link_cfg lc = { 0 };
	struct sync_cb cb;

	err[0] = '\0';
	if (!s->present || dp == NULL)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "sync: out of memory");
		return NULL;
	}
	m->loop = loop;
	m->dp = dp;
	m->port = s->port;
	m->path[0].fd = m->path[1].fd = -1;
	if (read_key(s->key_file, key, &lc.key_len, err, errlen) < 0)
		goto fail;
	m->n_paths = 1;
	if (open_path(&m->path[0], s->interface, &s->peer, s->port, err,
	    errlen) < 0)
		goto fail;
	if (s->backup_interface != NULL) {
		m->n_paths = 2;
		if (open_path(&m->path[1], s->backup_interface, &s->backup_peer,
		    s->port, err, errlen) < 0)
			goto fail;
	}
	if (c->global.node_id != NULL)
		lc.node = sync_node_id(c->global.node_id);
	else {
		char host[256] = "lbd";
		(void)gethostname(host, sizeof(host) - 1);
		lc.node = sync_node_id(host);
	}
	lc.epoch = (uint32_t)time(NULL);
	lc.key = key;
	lc.cfg_hash = cfg_hash(c);
	cb.rec = rec_cb;
	cb.event = event_cb;
	cb.status = status_cb;
	cb.pair = pair_cb;
	cb.arg = m;
	m->link = sync_link_new(&lc, &cb);
	OPENSSL_cleanse(key, sizeof(key));
	if (m->link == NULL) {
		snprintf(err, errlen, "sync: out of memory");
		goto fail;
	}
	if (s->accept_key_file != NULL)
		reload_keys(m, s);
	for (int i = 0; i < m->n_paths; i++) {
		m->path[i].m = m;
		ev_io_init(&m->path[i].rx, rx_cb, m->path[i].fd, EV_READ);
		/* Read before the heartbeat's timer after a stall (as VRRP's
		 * sockets): what arrived meanwhile is no silence. */
		ev_set_priority(&m->path[i].rx, EV_MAXPRI);
		m->path[i].rx.data = &m->path[i];
		ev_io_start(loop, &m->path[i].rx);
	}
	ev_timer_init(&m->timer, timer_cb, 0., 0.);
	m->timer.data = m;
	ev_idle_init(&m->bulk_idle, bulk_idle_cb);
	m->bulk_idle.data = m;
	m->hb_every = s->heartbeat_interval_ms;
	m->hb_dead = s->heartbeat_timeout_ms;
	ev_timer_init(&m->hb_timer, hb_timer_cb, 0., m->hb_every / 1000.0);
	m->hb_timer.data = m;
	ev_timer_start(loop, &m->hb_timer);
	for (int i = 0; i < m->n_paths; i++)
		log_info("sync: %s on %s, UDP %u, peer %s", i ? "backup link" :
		    "link", m->path[i].iface, s->port, m->path[i].peer_str);
	flush_out(m);
	return m;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	sync_mgr_stop(m);
	return NULL;
}

void
sync_mgr_stop(struct sync_mgr *m)
{
	if (m == NULL)
		return;
	if (m->link != NULL) {
		for (int i = 0; i < m->n_paths; i++)
			ev_io_stop(m->loop, &m->path[i].rx);
		ev_timer_stop(m->loop, &m->timer);
		ev_timer_stop(m->loop, &m->hb_timer);
		ev_idle_stop(m->loop, &m->bulk_idle);
		dataplane_sync_keep(m->dp, false);
	}
	sync_link_free(m->link);
	for (int i = 0; i < 2; i++)
		if (m->path[i].fd >= 0)
			close(m->path[i].fd);
	free(m);
}

void
sync_mgr_apply(struct sync_mgr *m, const struct conf *c)
{
	if (m == NULL)
		return;
	sync_link_set_cfg_hash(m->link, cfg_hash(c));
	reload_keys(m, &c->sync);
	m->hb_every = c->sync.heartbeat_interval_ms;
	m->hb_dead = c->sync.heartbeat_timeout_ms;
	m->hb_timer.repeat = m->hb_every / 1000.0;
	ev_timer_again(m->loop, &m->hb_timer);
}

bool
sync_mgr_ready(const struct sync_mgr *m, char *why, size_t len)
{
	struct sync_link_info in;

	if (m == NULL) {
		snprintf(why, len, "no sync block: the peer would not have this "
		    "node's connections");
		return false;
	}
	sync_link_info(m->link, &in);
	if (!in.peer_up)
		snprintf(why, len, "the sync peer %s is down", m->path[0].peer_str);
	else if (in.cfg_mismatch)
		snprintf(why, len, "the peer %s runs a different configuration "
		    "(lbctl show pair)", m->path[0].peer_str);
	else if (m->bulk_active)
		snprintf(why, len, "a bulk resync to the peer is under way");
	else if (!in.synced)
		snprintf(why, len, "the peer's bulk resync has not arrived");
	else
		return true;
	return false;
}

bool
sync_mgr_synced(const struct sync_mgr *m)
{
	struct sync_link_info in;

	if (m == NULL)
		return true;
	sync_link_info(m->link, &in);
	return in.synced;
}

static void
sync_stats(const struct sync_mgr *m, uint64_t now, int64_t *v)
{
	const struct sync_stats *st = sync_link_stats(m->link);
	struct sync_link_info in;

	sync_link_info(m->link, &in);
	v[SY_PEER_UP] = in.peer_up;
	v[SY_SYNCED] = in.synced;
	v[SY_CONFIG_AGREES] = !in.cfg_mismatch;
	v[SY_PEER_EPOCH] = in.peer_epoch;
	v[SY_LAST_HEARD] = in.last_heard ? (int64_t)(now - in.last_heard) : -1;
	v[SY_TX_SEQ] = (int64_t)in.tx_seq;
	v[SY_TX_ACKED] = (int64_t)in.tx_acked;
	v[SY_IN_FLIGHT] = in.in_flight;
	v[SY_RX_SEQ] = (int64_t)in.rx_seq;
	v[SY_LAG_P50] = sync_lag_pct(in.lag, 50);
	v[SY_LAG_P99] = sync_lag_pct(in.lag, 99);
	v[SY_DGRAMS_SENT] = (int64_t)st->dgrams_sent;
	v[SY_RECORDS_SENT] = (int64_t)st->recs_sent;
	v[SY_BYTES_SENT] = (int64_t)st->bytes_sent;
	v[SY_RETRANSMITS] = (int64_t)st->retransmits;
	v[SY_WINDOW_FULL] = (int64_t)st->window_full;
	v[SY_EVENTS_LOST] = (int64_t)m->events_lost;
	v[SY_BULKS_SENT] = (int64_t)st->bulks_sent;
	v[SY_DGRAMS_RECV] = (int64_t)st->dgrams_recv;
	v[SY_RECORDS_RECV] = (int64_t)st->recs_recv;
	v[SY_APPLIED] = (int64_t)m->applied;
	v[SY_REFUSED] = (int64_t)m->refused;
	v[SY_BYTES_RECV] = (int64_t)st->bytes_recv;
	v[SY_BULKS_RECV] = (int64_t)st->bulks_recv;
	v[SY_ACCEPT_KEY] = (int64_t)st->auth_accept_key;
	v[SY_FOREIGN] = (int64_t)m->foreign;
	v[SY_SWITCHES] = (int64_t)m->switches;
	v[SY_HEARTBEAT] = m->hb_alive;
	v[SY_HB_LOSSES] = (int64_t)m->hb_losses;
}

static void
link_stats(const struct sync_mgr *m, int i, uint64_t now, int64_t *v)
{
	const struct path *p = &m->path[i];

	v[SL_UP] = path_up(p, now);
	v[SL_ACTIVE] = i == m->active;
	v[SL_LAST_HEARD] = p->last_heard ? (int64_t)(now - p->last_heard) : -1;
	v[SL_SEND_ERRORS] = (int64_t)p->send_errors;
}

void
sync_mgr_show(const struct sync_mgr *m, struct buf *b, bool json)
{
	uint64_t now = mono_ms();
	int64_t v[SY__COUNT];

	if (m == NULL) {
		buf_printf(b, json ? "{\"sync\":null}\n" : "no sync block\n");
		return;
	}
	sync_stats(m, now, v);
	if (json) {
		buf_printf(b, "{\"sync\":{\"interface\":\"%s\",\"port\":%u,"
		    "\"peer\":\"%s\"", m->path[0].iface, m->port,
		    m->path[0].peer_str);
		stats_json(b, ST_SYNC, v, true);
		stats_json_reasons(b, &stat_sync_drops, sync_link_stats(m->link)->bad,
		    true);
		stats_json_reasons(b, &stat_sync_refused, m->refused_by, true);
		buf_puts(b, ",\"links\":[");
		for (int i = 0; i < m->n_paths; i++) {
			int64_t lv[SL__COUNT];

			link_stats(m, i, now, lv);
			buf_printf(b, "%s{\"interface\":\"%s\",\"peer\":\"%s\"",
			    i ? "," : "", m->path[i].iface, m->path[i].peer_str);
			stats_json(b, ST_SYNC_LINK, lv, true);
			buf_puts(b, "}");
		}
		buf_printf(b, "]}}\n");
		return;
	}
	buf_printf(b, "peer %s on %s (UDP %u): %s, %s, %s\n", m->path[0].peer_str,
	    m->path[0].iface, m->port, v[SY_PEER_UP] ? "up" : "down",
	    v[SY_SYNCED] ? "synced" : "not synced (waiting for a bulk resync)",
	    v[SY_CONFIG_AGREES] ? "config agrees" : "CONFIG DIFFERS");
	if (m->n_paths > 1) {
		buf_printf(b, "links:");
		for (int i = 0; i < m->n_paths; i++)
			buf_printf(b, "%s %s to %s %s%s", i ? "," : "",
			    m->path[i].iface, m->path[i].peer_str,
			    path_up(&m->path[i], now) ? "up" : "SILENT",
			    i == m->active ? " (carries the stream)" : "");
		buf_puts(b, "; ");
		stats_say(b, ST_SYNC, v, SY_SWITCHES, SY_SWITCHES + 1);
		buf_puts(b, "\n");
	}
	buf_printf(b, "heartbeat every %u ms, the peer gone after %u ms of "
	    "silence: ", m->hb_every, m->hb_dead);
	stats_say(b, ST_SYNC, v, SY_HEARTBEAT, SY__COUNT);
	buf_puts(b, "\n");
	buf_puts(b, "stream: ");
	stats_say(b, ST_SYNC, v, SY_TX_SEQ, SY_DGRAMS_SENT);
	buf_puts(b, "\nsent: ");
	stats_say(b, ST_SYNC, v, SY_DGRAMS_SENT, SY_DGRAMS_RECV);
	buf_puts(b, "\nreceived: ");
	stats_say(b, ST_SYNC, v, SY_DGRAMS_RECV, SY_FOREIGN);
	buf_puts(b, "\ndropped:");
	for (int k = 1; k < SYNC_BAD__COUNT; k++)
		buf_printf(b, " %s %llu", sync_bad_name((enum sync_bad)k),
		    (unsigned long long)sync_link_stats(m->link)->bad[k]);
	buf_puts(b, " ");
	stats_say(b, ST_SYNC, v, SY_FOREIGN, SY_FOREIGN + 1);
	buf_puts(b, "\nrecords refused:");
	for (int k = 1; k < DP_SYNC__COUNT; k++)
		buf_printf(b, " %s %llu", dp_sync_verdict_name((enum dp_sync_verdict)k),
		    (unsigned long long)m->refused_by[k]);
	buf_puts(b, "\n");
}

void
sync_mgr_metrics(const struct sync_mgr *m, struct buf *o)
{
	struct stat_rows sr = { 0 }, lr = { 0 };
	struct stat_reason_rows dr = { .n_labels = 1, .label_names = { "peer" } };
	struct stat_reason_rows rr = { .n_labels = 1, .label_names = { "peer" } };
	const char *peer[1];
	uint64_t now = mono_ms();
	int64_t *v;

	if (m == NULL)
		return;
	peer[0] = m->path[0].peer_str;
	if ((v = stats_row(&sr, ST_SYNC, peer)) != NULL)
		sync_stats(m, now, v);
	(void)stats_reason_row(&dr, peer, sync_link_stats(m->link)->bad);
	(void)stats_reason_row(&rr, peer, m->refused_by);
	for (int i = 0; i < m->n_paths; i++) {
		const char *l[2] = { m->path[i].iface, m->path[i].peer_str };

		if ((v = stats_row(&lr, ST_SYNC_LINK, l)) != NULL)
			link_stats(m, i, now, v);
	}
	stats_prom(o, ST_SYNC, &sr);
	stats_prom_reasons(o, &stat_sync_drops, &dr);
	stats_prom_reasons(o, &stat_sync_refused, &rr);
	stats_prom(o, ST_SYNC_LINK, &lr);
	stats_rows_free(&sr);
	stats_rows_free(&lr);
	stats_reason_rows_free(&dr);
	stats_reason_rows_free(&rr);
}
