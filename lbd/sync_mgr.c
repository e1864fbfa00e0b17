/*
 * sync_mgr — ha-sync in lbd: the UDP sockets on the heartbeat links, a
 * link (ha-sync/) to each peer, and the glue to the engine's table through
 * the data plane. On the loop, like everything but the worker.
 *
 * A pair has one peer. A cluster node has one per other node (a full
 * mesh, N up to 8): each of our connections goes to every peer, each peer
 * gets its own bulk resync, and what a peer sends is its own in our table
 * (the origin beside each entry), so that one peer's bulk or silence
 * touches only the entries it owns.
 *
 * What goes to the peers is sync_rec's policy (docs/ha-sync.md).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
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
#define PEERS_MAX	CONF_SYNC_PEERS_MAX

/* How long a heartbeat link may be silent before the other one carries
 * the stream: three keepalives, well before the peer counts as down. */
#define PATH_DEAD_MS	300
#define PROBE_MS	100	/* a keepalive over the idle link this often */

/* A heartbeat link's socket: `interface`, and the optional
 * `backup-interface`. Every peer is reached through it. */
struct sock {
	struct sync_mgr		*m;
	int			 fd;
	ev_io			 rx;
	char			 iface[32];
};

/* A peer's address on one heartbeat link. */
struct path {
	int			 sock;		/* index in sync_mgr.sock */
	struct sockaddr_storage	 addr;
	socklen_t		 addr_len;
	char			 str[64];
	uint64_t		 last_heard;	/* an authenticated datagram */
	uint64_t		 send_errors;
};

struct peer {
	struct sync_mgr		*m;
	uint8_t			 origin;	/* its entries' mark: index + 1 */
	struct sync_link	*link;
	struct path		 path[2];
	int			 n_paths, active;
	uint64_t		 next_probe, switches;
	ev_timer		 timer;

	bool			 bulk_active;	/* streaming our table to it */
	uint32_t		 bulk_cursor;
	/* It restarted: its next bulk gives back what it had mirrored here
	 * (dataplane_sync_reown made those ours). */
	bool			 restarted, bulk_returns;

	uint64_t		 applied, refused;
	uint64_t		 refused_by[DP_SYNC__COUNT];

	/* The heartbeat: our word (VRRP's states) every hb_every ms on
	 * every link; silent for hb_dead ms on every link, the peer is gone
	 * (vrrp/vrrp_hb.c). Only a pair's one peer speaks for VRRP. */
	uint64_t		 hb_heard;	/* any authenticated datagram */
	bool			 hb_alive;
	uint64_t		 hb_losses;	/* alive -> silent */
	uint64_t		 pair_sent;	/* mono ms */
};

struct sync_mgr {
	struct ev_loop		*loop;
	struct dataplane	*dp;
	struct sock		 sock[2];
	int			 n_socks;
	struct peer		 peer[PEERS_MAX];
	int			 n_peers;
	uint16_t		 port;

	ev_idle			 bulk_idle;	/* while a peer's bulk streams */

	struct dp_sync_op	 ops[APPLY_BATCH];
	size_t			 n_ops;

	uint64_t		 foreign;
	uint64_t		 events_lost, lost_logged;
	bool			 same_id_logged;

	ev_timer		 hb_timer;
	uint32_t		 hb_every, hb_dead;
	sync_word_fn		*pair_word_fn;	/* lbd/pair.h, cluster_peers.h */
	sync_pair_fn		*pair_peer_fn;
	void			*pair_arg;
	sync_word_fn		*word_fn;
	sync_peer_fn		*peer_fn;
	void			*hb_arg;
};

/* Each of our connections goes to every peer. A full window gives the
 * record up; that peer gets a bulk. */
static void
put(struct sync_mgr *m, const struct sync_rec *r)
{
	uint64_t now = mono_ms();

	for (int i = 0; i < m->n_peers; i++)
		(void)sync_link_put(m->peer[i].link, now, r);
}

/* ---- the sockets and the timers ----------------------------------------- */

static void
send_on(struct peer *pr, int i, const uint8_t *d, size_t n)
{
	struct path *p = &pr->path[i];

	if (sendto(pr->m->sock[p->sock].fd, d, n, 0,
	    (struct sockaddr *)&p->addr, p->addr_len) < 0 &&
	    p->send_errors++ == 0)
		log_warn("sync: send to %s on %s", p->str,
		    pr->m->sock[p->sock].iface);
}

/* ---- the heartbeat ------------------------------------------------------ */

static void
hb_send(struct sync_mgr *m, uint64_t now)
{
	uint8_t word[SYNC_STATUS_MAX], d[SYNC_MTU_MAX];
	size_t wl;

	if (m->word_fn == NULL)
		return;		/* no VRRP: nothing to carry */
	wl = m->word_fn(m->hb_arg, word, sizeof(word));
	for (int k = 0; k < m->n_peers; k++)
		for (int i = 0; i < m->peer[k].n_paths; i++) {
			size_t n = sync_link_status(m->peer[k].link, now, word,
			    wl, d, sizeof(d));

			if (n > 0)
				send_on(&m->peer[k], i, d, n);
		}
}

/* Heard from a peer (an authenticated datagram, `word` if it carried
 * one): VRRP learns it at once. */
static void
hb_heard(struct peer *pr, uint64_t now, const uint8_t *word, size_t len)
{
	struct sync_mgr *m = pr->m;
	bool was = pr->hb_alive;

	pr->hb_heard = now;
	pr->hb_alive = true;
	if ((word != NULL || !was) && m->peer_fn != NULL && pr == &m->peer[0])
		m->peer_fn(m->hb_arg, true, word, len);
	if (!was)
		log_info("sync: heartbeat hears the peer %s", pr->path[0].str);
}

/* The pair word, once a second on the link that carries the stream. */
static void
pair_send(struct sync_mgr *m, struct peer *pr, uint64_t now)
{
	uint8_t word[SYNC_STATUS_MAX], d[SYNC_MTU_MAX];
	size_t wl, n;

	if (m->pair_word_fn == NULL || now - pr->pair_sent < 1000)
		return;
	pr->pair_sent = now;
	if ((wl = m->pair_word_fn(m->pair_arg, word, sizeof(word))) > 0 &&
	    (n = sync_link_pair(pr->link, now, word, wl, d, sizeof(d))) > 0)
		send_on(pr, pr->active, d, n);
}

static void
hb_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sync_mgr *m = w->data;
	uint64_t now = mono_ms();

	hb_send(m, now);
	for (int k = 0; k < m->n_peers; k++) {
		struct peer *pr = &m->peer[k];

		pair_send(m, pr, now);
		/* Without VRRP no word comes every hb_every ms to judge by. */
		if (m->word_fn == NULL || !pr->hb_alive ||
		    now - pr->hb_heard < m->hb_dead)
			continue;
		pr->hb_alive = false;
		pr->hb_losses++;
		log_warnx("sync: heartbeat: the peer %s silent for %llu ms",
		    pr->path[0].str, (unsigned long long)(now - pr->hb_heard));
		if (m->peer_fn != NULL && k == 0)
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
		peer(arg, m->peer[0].hb_alive, NULL, 0);
}

void
sync_mgr_pair(struct sync_mgr *m, sync_word_fn *pword, sync_pair_fn *ppeer,
    void *arg)
{
	if (m == NULL)
		return;
	m->pair_word_fn = pword;
	m->pair_peer_fn = ppeer;
	m->pair_arg = arg;
	for (int k = 0; k < m->n_peers; k++)
		m->peer[k].pair_sent = 0;
}

static void
pair_cb(void *arg, const uint8_t *word, size_t len)
{
	struct peer *pr = arg;

	hb_heard(pr, mono_ms(), NULL, 0);
	if (pr->m->pair_peer_fn != NULL)
		pr->m->pair_peer_fn(pr->m->pair_arg, pr->origin - 1, word, len);
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
	hb_heard(arg, mono_ms(), word, len);
}

static bool
path_up(const struct path *p, uint64_t now)
{
	return p->last_heard != 0 && now - p->last_heard < PATH_DEAD_MS;
}

/* The stream goes over the first link while the peer is heard on it,
 * else over the second while it is heard there. */
static void
choose_path(struct peer *pr, uint64_t now)
{
	struct sync_mgr *m = pr->m;
	int want = pr->active;

	if (pr->n_paths < 2)
		return;
	for (int i = pr->n_paths - 1; i >= 0; i--)
		if (path_up(&pr->path[i], now))
			want = i;
	if (want == pr->active)
		return;
	log_warnx("sync: the stream to the peer goes over %s now (%s)",
	    m->sock[pr->path[want].sock].iface, want == 0 ? "it is back" :
	    "the first heartbeat link is silent");
	events_emit("sync", "link", m->sock[pr->path[want].sock].iface, "state",
	    "carries", NULL);
	pr->active = want;
	pr->switches++;
}

static void
flush_out(struct peer *pr)
{
	struct sync_mgr *m = pr->m;
	uint8_t d[SYNC_MTU_MAX];
	uint64_t now = mono_ms(), next;
	size_t n;

	sync_link_tick(pr->link, now);
	choose_path(pr, now);
	while ((n = sync_link_output(pr->link, now, d, sizeof(d))) > 0)
		send_on(pr, pr->active, d, n);
	/* The idle link hears from us too, so that its state is known
	 * before the stream needs it. */
	if (pr->n_paths > 1 && now >= pr->next_probe) {
		pr->next_probe = now + PROBE_MS;
		if ((n = sync_link_probe(pr->link, now, d, sizeof(d))) > 0)
			send_on(pr, 1 - pr->active, d, n);
	}
	next = sync_link_deadline(pr->link);
	if (pr->n_paths > 1 && (next == 0 || next > pr->next_probe))
		next = pr->next_probe;
	ev_timer_stop(m->loop, &pr->timer);
	ev_timer_set(&pr->timer, next > now ? (double)(next - now) / 1000.0 :
	    0.0, 0.);
	ev_timer_start(m->loop, &pr->timer);
}

static void
flush_all(struct sync_mgr *m)
{
	for (int k = 0; k < m->n_peers; k++)
		flush_out(&m->peer[k]);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	flush_out(w->data);
}

static void
apply_pending(struct sync_mgr *m)
{
	uint64_t v[DP_SYNC__COUNT];

	if (m->n_ops == 0)
		return;
	/* One batch holds one peer's records (rec_cb applies it before
	 * another peer's), so its verdicts are that peer's. */
	memset(v, 0, sizeof(v));
	dataplane_sync_apply(m->dp, m->ops, m->n_ops, v);
	{
		struct peer *pr = &m->peer[m->ops[0].origin - 1];

		pr->applied += v[DP_SYNC_APPLIED];
		for (int r = 1; r < DP_SYNC__COUNT; r++) {
			pr->refused += v[r];
			pr->refused_by[r] += v[r];
		}
	}
	m->n_ops = 0;
}

static void
rec_cb(void *arg, const struct sync_rec *r)
{
	struct peer *pr = arg;
	struct sync_mgr *m = pr->m;
	struct dp_sync_op *o;

	if (m->n_ops > 0 && m->ops[0].origin != pr->origin)
		apply_pending(m);
	o = &m->ops[m->n_ops++];
	o->origin = pr->origin;
	o->close = sync_rec_to_entry(r, &o->e);
	if (m->n_ops == APPLY_BATCH)
		apply_pending(m);
}

/* One chunk of our table for each peer whose bulk is under way and whose
 * window has room; idle when none has. */
static void
bulk_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct sync_mgr *m = w->data;
	struct ct_entry e[BULK_CHUNK];
	uint64_t now = mono_ms();
	bool more = false;

	for (int k = 0; k < m->n_peers; k++) {
		struct peer *pr = &m->peer[k];
		size_t n;

		/* Half the window (256 datagrams by default) stays for live
		 * records; a chunk fills about BULK_CHUNK / 44 datagrams. */
		if (!pr->bulk_active || sync_link_room(pr->link) <= BULK_ROOM)
			continue;	/* flush_out's acks make room */
		n = dataplane_sync_table(m->dp, &pr->bulk_cursor, e, BULK_CHUNK,
		    pr->bulk_returns ? pr->origin : 0);
		for (size_t i = 0; i < n; i++) {
			struct sync_rec r;

			sync_rec_of_entry(&e[i], &r);
			(void)sync_link_put(pr->link, now, &r);
		}
		if (pr->bulk_cursor == UINT32_MAX) {
			(void)sync_link_bulk_end(pr->link, now);
			pr->bulk_active = false;
			log_info("sync: bulk resync sent to %s", pr->path[0].str);
		} else
			more = true;
		flush_out(pr);
	}
	if (!more)
		ev_idle_stop(loop, w);
}

/* A peer's window drained: its bulk, if one is under way, goes on. */
static void
bulk_resume(struct sync_mgr *m)
{
	for (int k = 0; k < m->n_peers; k++)
		if (m->peer[k].bulk_active && !ev_is_active(&m->bulk_idle))
			ev_idle_start(m->loop, &m->bulk_idle);
}

static void
event_cb(void *arg, enum sync_event e)
{
	struct peer *pr = arg;
	struct sync_mgr *m = pr->m;
	const char *who = pr->path[0].str;
	struct sync_link_info in;

	switch (e) {
	case SYNC_EV_PEER_UP:
		log_info("sync: peer %s up", who);
		events_emit("sync", "peer", who, "state", "up", NULL);
		dataplane_sync_keep(m->dp, pr->origin, true);
		break;
	case SYNC_EV_PEER_DOWN:
		log_warnx("sync: peer %s silent, down", who);
		events_emit("sync", "peer", who, "state", "down", NULL);
		dataplane_sync_keep(m->dp, pr->origin, false);
		break;
	case SYNC_EV_PEER_RESTART: {
		/* It lost its table, or only its link (a reload): what it had
		 * mirrored here is ours now, not to be swept by its first
		 * bulk; it gets them back in ours, flagged, and its own bulk
		 * makes what it still forwards its again. */
		uint32_t n = dataplane_sync_reown(m->dp, pr->origin);

		pr->restarted = true;
		log_info("sync: peer %s restarted (%u of its connections held "
		    "here for it)", who, n);
		events_emit("sync", "peer", who, "state", "restarted", NULL);
		break;
	}
	case SYNC_EV_SEND_BULK:
		if (sync_link_bulk_begin(pr->link, mono_ms()) == 0) {
			pr->bulk_active = true;
			pr->bulk_cursor = 0;
			/* A connection the peer had when it died, and no
			 * packet has brought here since, is only ours to give
			 * back: without it the peer would drop the
			 * connection's next packet. */
			pr->bulk_returns = pr->restarted;
			pr->restarted = false;
			ev_idle_start(m->loop, &m->bulk_idle);
		}
		break;
	case SYNC_EV_BULK_BEGIN:
		apply_pending(m);
		(void)dataplane_sync_bulk(m->dp, pr->origin, false);
		break;
	case SYNC_EV_BULK_END: {
		uint32_t swept;
		apply_pending(m);
		swept = dataplane_sync_bulk(m->dp, pr->origin, true);
		sync_link_info(pr->link, &in);
		log_info("sync: bulk resync from %s complete (%u stale entries "
		    "dropped)%s", who, swept, in.synced ? "" :
		    ", incomplete: asking again");
		events_emit("sync", "peer", who, "state", in.synced ? "synced" :
		    "bulk incomplete", NULL);
		break;
	}
	case SYNC_EV_CFG_MISMATCH:
		sync_link_info(pr->link, &in);
		if (in.cfg_mismatch)
			log_warnx("sync: peer %s runs a different configuration "
			    "(services, backends or VRRP groups differ)", who);
		else
			log_info("sync: peer %s runs the same configuration "
			    "again", who);
		events_emit("sync", "peer", who, "config",
		    in.cfg_mismatch ? "differs" : "agrees", NULL);
		break;
	}
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* Which peer, on which of its paths, a datagram on socket `s` is from. */
static struct peer *
from_peer(struct sync_mgr *m, int s, const struct sockaddr_storage *ss,
    int *path)
{
	for (int k = 0; k < m->n_peers; k++)
		for (int i = 0; i < m->peer[k].n_paths; i++)
			if (m->peer[k].path[i].sock == s &&
			    same_addr(&m->peer[k].path[i].addr, ss)) {
				*path = i;
				return &m->peer[k];
			}
	return NULL;
}

static void
rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *so = w->data;
	struct sync_mgr *m = so->m;
	uint8_t d[SYNC_MTU_MAX];

	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(so->fd, d, sizeof(d), MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &sl);
		enum sync_bad bad;
		struct peer *pr;
		int pi;

		if (n < 0)
			break;
		if ((pr = from_peer(m, (int)(so - m->sock), &ss, &pi)) == NULL) {
			m->foreign++;
			continue;
		}
		bad = sync_link_input(pr->link, mono_ms(), d, (size_t)n);
		if (bad == SYNC_OK) {
			pr->path[pi].last_heard = mono_ms();
			if (!pr->hb_alive)
				hb_heard(pr, pr->path[pi].last_heard, NULL, 0);
			else
				pr->hb_heard = pr->path[pi].last_heard;
		}
		if (bad == SYNC_BAD_SELF && !m->same_id_logged) {
			m->same_id_logged = true;
			log_warnx("sync: the peer %s has this node's node-id; "
			    "give each node its own (node-id in global)",
			    pr->path[0].str);
		}
		apply_pending(m);
	}
	flush_all(m);
	bulk_resume(m);
}

void
sync_mgr_events(struct sync_mgr *m, const struct ct_event *ev, size_t n,
    uint64_t lost)
{
	if (m == NULL)
		return;

	/* The peers missed connections (or keep closed ones): each gets our
	 * whole table again, once its window has room. */
	if (lost > 0) {
		uint64_t now = mono_ms();

		m->events_lost += lost;
		for (int k = 0; k < m->n_peers; k++)
			sync_link_owe_bulk(m->peer[k].link);
		if (now - m->lost_logged >= 10000 || m->lost_logged == 0) {
			m->lost_logged = now;
			log_warnx("sync: %llu connection events lost to a full "
			    "queue (%llu in all): a bulk resync to the peers "
			    "follows", (unsigned long long)lost,
			    (unsigned long long)m->events_lost);
		}
	}

	for (size_t i = 0; i < n; i++) {
		struct sync_rec r;

		if (sync_rec_of_event(&ev[i], &r))
			put(m, &r);
	}
	flush_all(m);
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
	else
		for (int k = 0; k < m->n_peers; k++)
			if (sync_link_set_keys(m->peer[k].link, key, len,
			    s->accept_key_file ? acc : NULL, alen) < 0) {
				log_warnx("sync: a key of a wrong length; the "
				    "keys in use stay");
				break;
			}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(acc, sizeof(acc));
}

/* A UDP socket on `iface` (SO_BINDTODEVICE: each heartbeat link its
 * own, even with the same port), for datagrams to and from the peers. */
static int
open_sock(struct sock *so, const char *iface, int fam, uint16_t port,
    char *err, size_t errlen)
{
	struct sockaddr_storage me;

	snprintf(so->iface, sizeof(so->iface), "%s", iface);
	memset(&me, 0, sizeof(me));
	if (fam == AF_INET) {
		((struct sockaddr_in *)&me)->sin_family = AF_INET;
		((struct sockaddr_in *)&me)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&me)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&me)->sin6_port = htons(port);
	}
	/* No SO_REUSEADDR: with it, any local user's socket with it too
	 * could bind the port beside ours and take the peers' datagrams.
	 * Without it the port is ours alone (UDP keeps no TIME_WAIT). */
	if ((so->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(so->fd, SOL_SOCKET, SO_BINDTODEVICE, iface,
	    (socklen_t)strlen(iface)) < 0 ||
	    bind(so->fd, (struct sockaddr *)&me, fam == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
		snprintf(err, errlen, "sync: UDP port %u on %s: %s", port, iface,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The peer's address `a` on the link of socket `s`. */
static void
set_path(struct path *p, int s, const char *iface, const struct conf_addr *a,
    uint16_t port)
{
	p->sock = s;
	if (a->family != AF_INET6) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&p->addr;
		sa->sin_family = AF_INET;
		sa->sin_port = htons(port);
		memcpy(&sa->sin_addr, &a->u, 4);
		p->addr_len = sizeof(*sa);
	} else {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&p->addr;
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		memcpy(&sa->sin6_addr, &a->u, 16);
		sa->sin6_scope_id = if_nametoindex(iface);
		p->addr_len = sizeof(*sa);
	}
	inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, &a->u, p->str,
	    sizeof(p->str));
}

static uint64_t
our_node_id(const struct conf *c)
{
	char host[256] = "lbd";

	if (c->global.node_id != NULL)
		return sync_node_id(c->global.node_id);
	(void)gethostname(host, sizeof(host) - 1);
	return sync_node_id(host);
}

struct sync_mgr *
sync_mgr_start(struct ev_loop *loop, const struct conf *c, struct dataplane *dp,
    char *err, size_t errlen)
{
	const struct conf_sync *s = &c->sync;
	struct sync_mgr *m;
	uint8_t key[SYNC_KEY_MAX];
	struct sync_link_cfg lc = { 0 };
	int fam;

	err[0] = '\0';
	if (!s->present || dp == NULL || s->n_peers == 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "sync: out of memory");
		return NULL;
	}
	m->loop = loop;
	m->dp = dp;
	m->port = s->port;
	m->sock[0].fd = m->sock[1].fd = -1;
	if (read_key(s->key_file, key, &lc.key_len, err, errlen) < 0)
		goto fail;
	fam = s->peers[0].family == AF_INET6 ? AF_INET6 : AF_INET;
	m->n_socks = 1;
	if (open_sock(&m->sock[0], s->interface, fam, s->port, err, errlen) < 0)
		goto fail;
	if (s->backup_interface != NULL) {
		m->n_socks = 2;
		if (open_sock(&m->sock[1], s->backup_interface, fam, s->port,
		    err, errlen) < 0)
			goto fail;
	}
	lc.node = our_node_id(c);
	lc.epoch = (uint32_t)time(NULL);
	lc.key = key;
	lc.cfg_hash = cfg_hash(c);
	for (size_t k = 0; k < s->n_peers && k < PEERS_MAX; k++) {
		struct peer *pr = &m->peer[k];
		struct sync_cb cb = { .rec = rec_cb, .event = event_cb,
		    .status = status_cb, .pair = pair_cb, .arg = pr };

		pr->m = m;
		pr->origin = (uint8_t)(k + 1);
		pr->n_paths = 1;
		set_path(&pr->path[0], 0, s->interface, &s->peers[k], s->port);
		if (s->backup_interface != NULL) {
			pr->n_paths = 2;
			set_path(&pr->path[1], 1, s->backup_interface,
			    &s->backup_peer, s->port);
		}
		if ((pr->link = sync_link_new(&lc, &cb)) == NULL) {
			snprintf(err, errlen, "sync: out of memory");
			goto fail;
		}
		ev_timer_init(&pr->timer, timer_cb, 0., 0.);
		pr->timer.data = pr;
		m->n_peers++;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (s->accept_key_file != NULL)
		reload_keys(m, s);
	for (int i = 0; i < m->n_socks; i++) {
		m->sock[i].m = m;
		ev_io_init(&m->sock[i].rx, rx_cb, m->sock[i].fd, EV_READ);
		/* Read before the heartbeat's timer after a stall (as VRRP's
		 * sockets): what arrived meanwhile is no silence. */
		ev_set_priority(&m->sock[i].rx, EV_MAXPRI);
		m->sock[i].rx.data = &m->sock[i];
		ev_io_start(loop, &m->sock[i].rx);
	}
	ev_idle_init(&m->bulk_idle, bulk_idle_cb);
	m->bulk_idle.data = m;
	m->hb_every = s->heartbeat_interval_ms;
	m->hb_dead = s->heartbeat_timeout_ms;
	ev_timer_init(&m->hb_timer, hb_timer_cb, 0., m->hb_every / 1000.0);
	m->hb_timer.data = m;
	ev_timer_start(loop, &m->hb_timer);
	for (int k = 0; k < m->n_peers; k++)
		for (int i = 0; i < m->peer[k].n_paths; i++)
			log_info("sync: %s on %s, UDP %u, peer %s", i ?
			    "backup link" : "link",
			    m->sock[m->peer[k].path[i].sock].iface, s->port,
			    m->peer[k].path[i].str);
	flush_all(m);
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
	for (int i = 0; i < m->n_socks; i++)
		ev_io_stop(m->loop, &m->sock[i].rx);
	ev_timer_stop(m->loop, &m->hb_timer);
	ev_idle_stop(m->loop, &m->bulk_idle);
	for (int k = 0; k < m->n_peers; k++) {
		ev_timer_stop(m->loop, &m->peer[k].timer);
		dataplane_sync_keep(m->dp, m->peer[k].origin, false);
		sync_link_free(m->peer[k].link);
	}
	for (int i = 0; i < 2; i++)
		if (m->sock[i].fd >= 0)
			close(m->sock[i].fd);
	free(m);
}

void
sync_mgr_apply(struct sync_mgr *m, const struct conf *c)
{
	if (m == NULL)
		return;
	for (int k = 0; k < m->n_peers; k++)
		sync_link_set_cfg_hash(m->peer[k].link, cfg_hash(c));
	reload_keys(m, &c->sync);
	m->hb_every = c->sync.heartbeat_interval_ms;
	m->hb_dead = c->sync.heartbeat_timeout_ms;
	m->hb_timer.repeat = m->hb_every / 1000.0;
	ev_timer_again(m->loop, &m->hb_timer);
}

bool
sync_mgr_ready(const struct sync_mgr *m, char *why, size_t len)
{
	if (m == NULL) {
		snprintf(why, len, "no sync block: the peer would not have this "
		    "node's connections");
		return false;
	}
	for (int k = 0; k < m->n_peers; k++) {
		const struct peer *pr = &m->peer[k];
		struct sync_link_info in;

		sync_link_info(pr->link, &in);
		if (!in.peer_up)
			snprintf(why, len, "the sync peer %s is down",
			    pr->path[0].str);
		else if (in.cfg_mismatch)
			snprintf(why, len, "the peer %s runs a different "
			    "configuration (lbctl show pair)", pr->path[0].str);
		else if (pr->bulk_active)
			snprintf(why, len, "a bulk resync to the peer %s is under "
			    "way", pr->path[0].str);
		else if (!in.synced)
			snprintf(why, len, "the peer %s's bulk resync has not "
			    "arrived", pr->path[0].str);
		else
			continue;
		return false;
	}
	return true;
}

int
sync_mgr_n_peers(const struct sync_mgr *m)
{
	return m != NULL ? m->n_peers : 0;
}

bool
sync_mgr_peer(const struct sync_mgr *m, int i, struct sync_mgr_peer *out)
{
	struct sync_link_info in;

	if (m == NULL || i < 0 || i >= m->n_peers)
		return false;
	sync_link_info(m->peer[i].link, &in);
	snprintf(out->addr, sizeof(out->addr), "%s", m->peer[i].path[0].str);
	out->up = in.peer_up;
	out->synced = in.synced;
	out->cfg_mismatch = in.cfg_mismatch;
	out->applied = m->peer[i].applied;
	return true;
}

bool
sync_mgr_synced(const struct sync_mgr *m)
{
	if (m == NULL)
		return true;
	for (int k = 0; k < m->n_peers; k++) {
		struct sync_link_info in;

		sync_link_info(m->peer[k].link, &in);
		if (!in.synced)
			return false;
	}
	return true;
}

static void
sync_stats(const struct sync_mgr *m, const struct peer *pr, uint64_t now,
    int64_t *v)
{
	const struct sync_stats *st = sync_link_stats(pr->link);
	struct sync_link_info in;

	sync_link_info(pr->link, &in);
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
	v[SY_APPLIED] = (int64_t)pr->applied;
	v[SY_REFUSED] = (int64_t)pr->refused;
	v[SY_BYTES_RECV] = (int64_t)st->bytes_recv;
	v[SY_BULKS_RECV] = (int64_t)st->bulks_recv;
	v[SY_ACCEPT_KEY] = (int64_t)st->auth_accept_key;
	v[SY_FOREIGN] = (int64_t)m->foreign;
	v[SY_SWITCHES] = (int64_t)pr->switches;
	v[SY_HEARTBEAT] = m->word_fn != NULL ? pr->hb_alive : in.peer_up;
	v[SY_HB_LOSSES] = (int64_t)pr->hb_losses;
}

static void
link_stats(const struct peer *pr, int i, uint64_t now, int64_t *v)
{
	const struct path *p = &pr->path[i];

	v[SL_UP] = path_up(p, now);
	v[SL_ACTIVE] = i == pr->active;
	v[SL_LAST_HEARD] = p->last_heard ? (int64_t)(now - p->last_heard) : -1;
	v[SL_SEND_ERRORS] = (int64_t)p->send_errors;
}

/* One peer's fields of `show sync --json` (after its "peer"). */
static void
peer_json(const struct sync_mgr *m, const struct peer *pr, uint64_t now,
    struct buf *b)
{
	int64_t v[SY__COUNT];

	sync_stats(m, pr, now, v);
	stats_json(b, ST_SYNC, v, true);
	stats_json_reasons(b, &stat_sync_drops, sync_link_stats(pr->link)->bad,
	    true);
	stats_json_reasons(b, &stat_sync_refused, pr->refused_by, true);
	buf_puts(b, ",\"links\":[");
	for (int i = 0; i < pr->n_paths; i++) {
		int64_t lv[SL__COUNT];

		link_stats(pr, i, now, lv);
		buf_printf(b, "%s{\"interface\":\"%s\",\"peer\":\"%s\"",
		    i ? "," : "", m->sock[pr->path[i].sock].iface,
		    pr->path[i].str);
		stats_json(b, ST_SYNC_LINK, lv, true);
		buf_puts(b, "}");
	}
	buf_puts(b, "]");
}

static void
peer_text(const struct sync_mgr *m, const struct peer *pr, uint64_t now,
    struct buf *b)
{
	int64_t v[SY__COUNT];

	sync_stats(m, pr, now, v);
	buf_printf(b, "peer %s on %s (UDP %u): %s, %s, %s\n", pr->path[0].str,
	    m->sock[0].iface, m->port, v[SY_PEER_UP] ? "up" : "down",
	    v[SY_SYNCED] ? "synced" : "not synced (waiting for a bulk resync)",
	    v[SY_CONFIG_AGREES] ? "config agrees" : "CONFIG DIFFERS");
	if (pr->n_paths > 1) {
		buf_printf(b, "links:");
		for (int i = 0; i < pr->n_paths; i++)
			buf_printf(b, "%s %s to %s %s%s", i ? "," : "",
			    m->sock[pr->path[i].sock].iface, pr->path[i].str,
			    path_up(&pr->path[i], now) ? "up" : "SILENT",
			    i == pr->active ? " (carries the stream)" : "");
		buf_puts(b, "; ");
		stats_say(b, ST_SYNC, v, SY_SWITCHES, SY_SWITCHES + 1);
		buf_puts(b, "\n");
	}
	if (m->word_fn != NULL) {
		buf_printf(b, "heartbeat every %u ms, the peer gone after %u ms "
		    "of silence: ", m->hb_every, m->hb_dead);
		stats_say(b, ST_SYNC, v, SY_HEARTBEAT, SY__COUNT);
		buf_puts(b, "\n");
	} else
		buf_puts(b, "heartbeat: none (no vrrp-group for it to carry; "
		    "the stream's keepalives say whether the peer is up)\n");
	buf_puts(b, "stream: ");
	stats_say(b, ST_SYNC, v, SY_TX_SEQ, SY_DGRAMS_SENT);
	buf_puts(b, "\nsent: ");
	stats_say(b, ST_SYNC, v, SY_DGRAMS_SENT, SY_DGRAMS_RECV);
	buf_puts(b, "\nreceived: ");
	stats_say(b, ST_SYNC, v, SY_DGRAMS_RECV, SY_FOREIGN);
	buf_puts(b, "\ndropped:");
	for (int k = 1; k < SYNC_BAD__COUNT; k++)
		buf_printf(b, " %s %llu", sync_bad_name((enum sync_bad)k),
		    (unsigned long long)sync_link_stats(pr->link)->bad[k]);
	buf_puts(b, " ");
	stats_say(b, ST_SYNC, v, SY_FOREIGN, SY_FOREIGN + 1);
	buf_puts(b, "\nrecords refused:");
	for (int k = 1; k < DP_SYNC__COUNT; k++)
		buf_printf(b, " %s %llu", dp_sync_verdict_name((enum dp_sync_verdict)k),
		    (unsigned long long)pr->refused_by[k]);
	buf_puts(b, "\n");
}

/* `lbctl show sync`: each peer. In JSON the first peer's fields are also
 * at the top, as they were when a node had one peer. */
void
sync_mgr_show(const struct sync_mgr *m, struct buf *b, bool json)
{
	uint64_t now = mono_ms();

	if (m == NULL) {
		buf_printf(b, json ? "{\"sync\":null}\n" : "no sync block\n");
		return;
	}
	if (!json) {
		for (int k = 0; k < m->n_peers; k++) {
			if (k > 0)
				buf_puts(b, "\n");
			peer_text(m, &m->peer[k], now, b);
		}
		return;
	}
	buf_printf(b, "{\"sync\":{\"interface\":\"%s\",\"port\":%u,"
	    "\"peer\":\"%s\"", m->sock[0].iface, m->port, m->peer[0].path[0].str);
	peer_json(m, &m->peer[0], now, b);
	buf_puts(b, ",\"peers\":[");
	for (int k = 0; k < m->n_peers; k++) {
		buf_printf(b, "%s{\"peer\":\"%s\"", k ? "," : "",
		    m->peer[k].path[0].str);
		peer_json(m, &m->peer[k], now, b);
		buf_puts(b, "}");
	}
	buf_puts(b, "]}}\n");
}

void
sync_mgr_metrics(const struct sync_mgr *m, struct buf *o)
{
	struct stat_rows sr = { 0 }, lr = { 0 };
	struct stat_reason_rows dr = { .n_labels = 1, .label_names = { "peer" } };
	struct stat_reason_rows rr = { .n_labels = 1, .label_names = { "peer" } };
	uint64_t now = mono_ms();
	int64_t *v;

	if (m == NULL)
		return;
	for (int k = 0; k < m->n_peers; k++) {
		const struct peer *pr = &m->peer[k];
		const char *peer[1] = { pr->path[0].str };

		if ((v = stats_row(&sr, ST_SYNC, peer)) != NULL)
			sync_stats(m, pr, now, v);
		(void)stats_reason_row(&dr, peer, sync_link_stats(pr->link)->bad);
		(void)stats_reason_row(&rr, peer, pr->refused_by);
		for (int i = 0; i < pr->n_paths; i++) {
			const char *l[2] = { m->sock[pr->path[i].sock].iface,
			    pr->path[i].str };

			if ((v = stats_row(&lr, ST_SYNC_LINK, l)) != NULL)
				link_stats(pr, i, now, v);
		}
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
