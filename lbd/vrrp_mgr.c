/*
 * VRRP instances on real interfaces (see vrrp_mgr.h).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lbd/knl.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lbd/vrrp_mgr.h"
#include "vrrp/vrrp_fsm.h"
#include "vrrp/vrrp_pkt.h"

#define MAX_SOCKS	32
#define MAX_PEERS	8
#define NOTIFY_QUEUE	64

/* One packet socket per interface, shared by its instances. */
struct vsock {
	struct vrrp_mgr	*m;
	int		 ifindex;
	char		 ifname[IFNAMSIZ];
	int		 fd;
	ev_io		 io;
	uint64_t	 rx, bad[VRRP_BAD__COUNT];
};

/* Something an instance watches (conf_track). */
struct vtrack {
	struct vrrp_mgr	*m;
	enum conf_track_type type;
	char		*what;
	uint8_t		 weight;	/* 0: FAULT */
	bool		 failing;
	uint32_t	 interval_ms;
	ev_timer	 every;		/* scripts */
	struct proc	*run;
	char		 why[200];	/* the script's last result */
};

struct vinst {
	char		*group;
	char		*name;
	struct vsock	*sock;
	struct vtrack	*tracks;
	size_t		 n_tracks;
	bool		 own_down;	/* its interface has no carrier */
	uint8_t		 set_prio;	/* lbctl vrrp set-priority, if prio_set */
	char		*notify;
	uint8_t		 peers[MAX_PEERS][16];	/* unicast-peer */
	size_t		 n_peers;
	int		 ufd;		/* unicast sender (IPPROTO_RAW), -1 */
	bool		 use_vmac;
	uint8_t		 family;
	uint8_t		 mac[6];	/* 00:00:5e:00:01|02:VRID */
	uint8_t		 addrs[VRRP_MAX_ADDRS * 16];
	uint8_t		 n_addrs;
	uint8_t		 cfg_prio;
	bool		 prio_set;	/* lbctl vrrp set-priority holds */
	bool		 have_self;
	struct vrrp_fsm	 fsm;
	uint64_t	 rx, tx, bad[VRRP_BAD__COUNT];
	bool		 list_warned;
	double		 last_change;	/* ev_now */
};

/* A vrrp-group: its notify hook, the state it last reported, and in
 * external mode the state lbctl ha gave it. */
struct vgroup {
	char		*name;
	char		*notify;
	const char	*reported;	/* MASTER, BACKUP, FAULT; NULL at first */
	enum vrrp_state	 ext;
};

struct notice {
	char		*cmd;
	char		*args[4];
	struct notice	*next;
};

struct vrrp_mgr {
	struct ev_loop	*loop;
	struct knl	*nl;		/* carrier of tracked interfaces */
	struct vgroup	*groups;
	size_t		 n_groups;
	bool		 external;	/* `vrrp external`: lbctl ha decides */
	uint32_t	 notify_timeout_ms;
	struct notice	*nq, **nq_tail;
	size_t		 nq_len;
	struct proc	*nrun;
	vrrp_group_fn	*fn;
	void		*arg;
	struct vinst	*v;
	size_t		 n;
	struct vsock	*socks[MAX_SOCKS];
	size_t		 n_socks;
	ev_timer	 timer;
	char		**held;		/* groups reported as master */
	size_t		 n_held;
	bool		 moving;	/* a sync-group move is under way */
	bool		 preempt_held;	/* ha-sync: not synced yet */
};

/* ---- notify hooks ------------------------------------------------------ */

/*
 * One hook at a time, in the order of the transitions, each bounded by
 * notify-timeout: a script that sees BACKUP after MASTER can trust the
 * order, and a hung one cannot pile up processes.
 */
static void	notify_pump(struct vrrp_mgr *);

static void
notice_free(struct notice *n)
{
	free(n->cmd);
	for (int i = 0; i < 4; i++)
		free(n->args[i]);
	free(n);
}

static void
notify_done(void *arg, const struct proc_result *r)
{
	struct vrrp_mgr *m = arg;

	m->nrun = NULL;
	if (r->ok)
		log_info("vrrp notify done");
	else
		log_warnx("vrrp notify failed: %s", r->why);
	notify_pump(m);
}

static void
notify_pump(struct vrrp_mgr *m)
{
	while (m->nrun == NULL && m->nq != NULL) {
		struct notice *n = m->nq;
		const char *args[5] = { n->args[0], n->args[1], n->args[2],
					n->args[3], NULL };

		if ((m->nq = n->next) == NULL)
			m->nq_tail = &m->nq;
		m->nq_len--;
		log_info("vrrp notify: %s %s %s %s%s", n->cmd, args[0], args[1],
		    args[2], args[3] ? " ..." : "");
		if ((m->nrun = proc_run(m->loop, n->cmd, args, NULL,
		    m->notify_timeout_ms, notify_done, m)) == NULL)
			log_warn("vrrp notify: cannot run %s", n->cmd);
		notice_free(n);
	}
}

/* keepalived's convention, so existing scripts work: TYPE NAME STATE [PRIO]. */
static void
notify(struct vrrp_mgr *m, const char *cmd, const char *type, const char *name,
    const char *state, int prio)
{
	struct notice *n;
	char p[8];

	if (cmd == NULL)
		return;
	if (m->nq_len >= NOTIFY_QUEUE) {
		log_warnx("vrrp notify: %zu hooks waiting, %s %s %s dropped",
		    m->nq_len, type, name, state);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return;
	snprintf(p, sizeof(p), "%d", prio);
	n->cmd = strdup(cmd);
	n->args[0] = strdup(type);
	n->args[1] = strdup(name);
	n->args[2] = strdup(state);
	n->args[3] = prio >= 0 ? strdup(p) : NULL;
	if (n->cmd == NULL || n->args[0] == NULL || n->args[1] == NULL ||
	    n->args[2] == NULL) {
		notice_free(n);
		return;
	}
	*m->nq_tail = n;
	m->nq_tail = &n->next;
	m->nq_len++;
	notify_pump(m);
}

static const char *
upper_state(enum vrrp_state s)
{
	return s == VRRP_MASTER ? "MASTER" : s == VRRP_FAULT ? "FAULT" :
	    s == VRRP_BACKUP ? "BACKUP" : "STOP";
}

/* ---- addresses of this node ---------------------------------------- */

/* The primary address VRRP sends from: the interface's first IPv4
 * address, or its IPv6 link-local address (RFC 5798 5.1.2.2). */
static bool
primary_addr(const char *ifname, uint8_t family, uint8_t out[16])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) != 0)
			continue;
		memset(out, 0, 16);
		if (family == 4 && i->ifa_addr->sa_family == AF_INET) {
			memcpy(out, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
			found = true;
		} else if (family == 6 && i->ifa_addr->sa_family == AF_INET6) {
			const uint8_t *a = ((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr.s6_addr;

			if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
				memcpy(out, a, 16);
				found = true;
			}
		}
	}
	freeifaddrs(ifa);
	return found;
}

/* ---- sockets ----------------------------------------------------------- */

static void	rx_cb(struct ev_loop *, ev_io *, int);

/* IPv4 protocol 112 or IPv6 next header 112, nothing else reaches us. */
static struct sock_filter vrrp_bpf[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRRP_PROTO, 4, 5),
	BPF_STMT(BPF_RET | BPF_K, 0),	/* (unreached) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 3),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRRP_PROTO, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static struct vsock *
sock_get(struct vrrp_mgr *m, const char *ifname, char *err, size_t errlen)
{
	struct sock_fprog prog = { sizeof(vrrp_bpf) / sizeof(vrrp_bpf[0]), vrrp_bpf };
	static const uint8_t groups[2][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x12 },
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x12 },
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	struct vsock *s;
	int ifindex = (int)if_nametoindex(ifname);

	for (size_t i = 0; i < m->n_socks; i++)
		if (strcmp(m->socks[i]->ifname, ifname) == 0)
			return m->socks[i];
	if (ifindex == 0) {
		snprintf(err, errlen, "interface %s: no such interface", ifname);
		return NULL;
	}
	if (m->n_socks == MAX_SOCKS || (s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "interface %s: too many VRRP interfaces", ifname);
		return NULL;
	}
	s->m = m;
	s->ifindex = ifindex;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	sll.sll_ifindex = ifindex;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "interface %s: VRRP packet socket: %s", ifname,
		    strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	/* Real NICs filter multicast MACs nobody asked for. */
	for (int g = 0; g < 2; g++) {
		struct packet_mreq mr = { .mr_ifindex = ifindex,
					  .mr_type = PACKET_MR_MULTICAST, .mr_alen = 6 };

		memcpy(mr.mr_address, groups[g], 6);
		(void)setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		    sizeof(mr));
	}
	ev_io_init(&s->io, rx_cb, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(m->loop, &s->io);
	m->socks[m->n_socks++] = s;
	return s;
}

static void
sock_close(struct vrrp_mgr *m, struct vsock *s)
{
	ev_io_stop(m->loop, &s->io);
	close(s->fd);
	free(s);
}

/* ---- sending ----------------------------------------------------------- */

/*
 * Unicast (clouds without multicast): to each unicast-peer through the IP
 * stack, which finds the peer's MAC; the packet is ours, header included
 * (IPPROTO_RAW), so TTL 255 and the source address stay as VRRP wants.
 */
static int
unicast_socket(const struct vinst *vi)
{
	int fd = socket(vi->family == 4 ? AF_INET : AF_INET6,
	    SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, vi->sock->ifname,
	    (socklen_t)strlen(vi->sock->ifname)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
unicast(struct vinst *vi, struct vrrp_adv *a, uint8_t *f)
{
	for (size_t p = 0; p < vi->n_peers; p++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		size_t len;

		a->unicast = true;
		memcpy(a->dst, vi->peers[p], 16);
		if ((len = vrrp_encode(f, VRRP_FRAME_MAX, a, vi->addrs)) == 0)
			return;
		memset(&ss, 0, sizeof(ss));
		if (vi->family == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, vi->peers[p], 4);
			sl = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, vi->peers[p], 16);
			s6->sin6_scope_id = (uint32_t)vi->sock->ifindex;
			sl = sizeof(*s6);
		}
		if (vi->ufd < 0 || sendto(vi->ufd, f + 14, len - 14, 0,
		    (struct sockaddr *)&ss, sl) < 0)
			log_warn("vrrp instance=%s unicast send", vi->name);
		else
			vi->tx++;
	}
}

static void
advertise(struct vrrp_mgr *m, struct vinst *vi, uint8_t prio)
{
	struct vrrp_adv a = { .version = vi->fsm.cfg.version, .family = vi->family,
			      .vrid = vi->fsm.cfg.vrid, .priority = prio,
			      .interval_cs = vi->fsm.cfg.adver_cs,
			      .n_addrs = vi->n_addrs };
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = vi->sock->ifindex, .sll_halen = 6 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	if (!vi->have_self) {
		/* The interface had no address at start; look again. */
		uint8_t self[16];

		if (!primary_addr(vi->sock->ifname, vi->family, self)) {
			log_warnx("vrrp instance=%s: %s has no %s address to "
			    "advertise from", vi->name, vi->sock->ifname,
			    vi->family == 4 ? "IPv4" : "IPv6 link-local");
			return;
		}
		memcpy(vi->fsm.self, self, 16);
		vi->have_self = true;
	}
	memcpy(a.src, vi->fsm.self, 16);
	memcpy(a.src_mac, vi->mac, 6);
	if (vi->n_peers > 0) {
		unicast(vi, &a, f);
		return;
	}
	if ((len = vrrp_encode(f, sizeof(f), &a, vi->addrs)) == 0)
		return;
	memcpy(to.sll_addr, f, 6);
	if (sendto(vi->sock->fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_warn("vrrp instance=%s send", vi->name);
	else
		vi->tx++;
}

/* ---- state changes and sync groups ------------------------------------ */

static void	handle(struct vrrp_mgr *, struct vinst *, const struct vrrp_out *);

static bool
group_held(const struct vrrp_mgr *m, const char *g, size_t *at)
{
	for (size_t i = 0; i < m->n_held; i++)
		if (strcmp(m->held[i], g) == 0) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static struct vgroup *
vgroup(struct vrrp_mgr *m, const char *name)
{
	for (size_t i = 0; i < m->n_groups; i++)
		if (strcmp(m->groups[i].name, name) == 0)
			return &m->groups[i];
	return NULL;
}

/* A group is master when its instances are (in external mode: when lbctl
 * ha says so); tell the data plane and the notify hook when that changes. */
static void
group_update(struct vrrp_mgr *m, const char *g)
{
	struct vgroup *vg = vgroup(m, g);
	bool master = false, fault = false, held;
	const char *st;
	size_t at;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].group, g) == 0) {
			master |= m->v[i].fsm.state == VRRP_MASTER;
			fault |= m->v[i].fsm.state == VRRP_FAULT;
		}
	if (m->external && vg != NULL) {
		master = vg->ext == VRRP_MASTER;
		fault = vg->ext == VRRP_FAULT;
	}
	st = master ? "MASTER" : fault ? "FAULT" : "BACKUP";
	if (vg != NULL && (vg->reported == NULL || strcmp(vg->reported, st) != 0)) {
		/* The first report of a backup is not a transition. */
		if (vg->reported != NULL || master || fault)
			notify(m, vg->notify, "GROUP", g, st, -1);
		vg->reported = st;
	}
	held = group_held(m, g, &at);
	if (master == held)
		return;
	if (master) {
		char **nh = realloc(m->held, (m->n_held + 1) * sizeof(*nh));

		if (nh == NULL || (nh[m->n_held] = strdup(g)) == NULL) {
			if (nh)
				m->held = nh;
			log_warnx("vrrp group=%s: out of memory", g);
			return;
		}
		m->held = nh;
		m->n_held++;
	} else {
		free(m->held[at]);
		m->held[at] = m->held[--m->n_held];
	}
	log_info("vrrp group=%s state=%s", g, master ? "master" : "backup");
	m->fn(m->arg, g, master);
}

/* A group that just became master: its k routers advertise at j/k of
 * their interval (j = 0..k-1) from now on instead of all together, so a
 * backup notices a dead master as soon as the first of them goes quiet
 * for Master_Down_Interval (see vrrp_fsm_phase). */
static void
spread(struct vrrp_mgr *m, const char *g, uint64_t now)
{
	size_t k = 0, j = 0;

	for (size_t i = 0; i < m->n; i++)
		k += strcmp(m->v[i].group, g) == 0;
	for (size_t i = 0; i < m->n && k > 1; i++) {
		struct vrrp_fsm *f = &m->v[i].fsm;

		if (strcmp(m->v[i].group, g) != 0)
			continue;
		if (j > 0)
			vrrp_fsm_phase(f, now, (uint32_t)(f->cfg.adver_cs * 10u *
			    j / k));
		j++;
	}
}

static void
handle(struct vrrp_mgr *m, struct vinst *vi, const struct vrrp_out *o)
{
	if (o->send)
		advertise(m, vi, o->send_prio);
	if (!o->changed)
		return;
	vi->last_change = ev_now(m->loop);
	log_info("vrrp instance=%s group=%s state=%s->%s priority=%u", vi->name,
	    vi->group, vrrp_state_name(o->from), vrrp_state_name(o->to),
	    vi->fsm.prio);
	if (o->to != VRRP_INIT)
		notify(m, vi->notify, "INSTANCE", vi->name, upper_state(o->to),
		    vi->fsm.prio);
	/* Sync group: the others follow to MASTER, or back to BACKUP when a
	 * master was outranked. A forced move does not cascade again. */
	if (!m->moving && (o->to == VRRP_MASTER ||
	    (o->from == VRRP_MASTER && o->to == VRRP_BACKUP))) {
		uint64_t now = mono_ms();

		m->moving = true;
		for (size_t i = 0; i < m->n; i++) {
			struct vinst *x = &m->v[i];
			struct vrrp_out xo;

			if (x == vi || strcmp(x->group, vi->group) != 0)
				continue;
			vrrp_fsm_force(&x->fsm, now, o->to, &xo);
			handle(m, x, &xo);
		}
		m->moving = false;
		if (o->to == VRRP_MASTER)
			spread(m, vi->group, now);
	}
	if (!m->moving)
		group_update(m, vi->group);
}

static void
rearm(struct vrrp_mgr *m)
{
	uint64_t next = 0, now = mono_ms();

	for (size_t i = 0; i < m->n; i++) {
		uint64_t d = vrrp_fsm_deadline(&m->v[i].fsm);

		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	ev_timer_stop(m->loop, &m->timer);
	if (next == 0)
		return;
	ev_timer_set(&m->timer, next > now ? (double)(next - now) / 1000.0 : 0., 0.);
	ev_timer_start(m->loop, &m->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vrrp_mgr *m = w->data;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < m->n; i++) {
		struct vinst *vi = &m->v[i];
		uint64_t d = vrrp_fsm_deadline(&vi->fsm);
		struct vrrp_out o;

		if (d == 0 || now < d)
			continue;
		vrrp_fsm_tick(&vi->fsm, now, &o);
		handle(m, vi, &o);
	}
	rearm(m);
}

/* ---- tracking ------------------------------------------------------------ */

/*
 * Tracks decide two things. FAULT: the instance's own interface has no
 * carrier, or a track without a weight fails; a sync group enters FAULT as
 * a whole, so its addresses are never split. Priority: the configured one
 * (or set-priority's) lowered by the weights of the failing weighted
 * tracks, never below 1; an address owner (255) keeps 255.
 */
static uint8_t
effective_prio(const struct vinst *vi)
{
	int p = vi->prio_set ? vi->set_prio : vi->cfg_prio;

	if (p == 255)
		return 255;
	for (size_t t = 0; t < vi->n_tracks; t++)
		if (vi->tracks[t].failing && vi->tracks[t].weight > 0)
			p -= vi->tracks[t].weight;
	return (uint8_t)(p < 1 ? 1 : p > 254 ? 254 : p);
}

static bool
inst_fault(const struct vinst *vi)
{
	if (vi->own_down)
		return true;
	for (size_t t = 0; t < vi->n_tracks; t++)
		if (vi->tracks[t].failing && vi->tracks[t].weight == 0)
			return true;
	return false;
}

static void
reevaluate(struct vrrp_mgr *m)
{
	uint64_t now = mono_ms();

	if (m->external)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct vinst *vi = &m->v[i];
		bool fault = false;
		struct vrrp_out o;

		for (size_t j = 0; j < m->n && !fault; j++)
			fault = strcmp(m->v[j].group, vi->group) == 0 &&
			    inst_fault(&m->v[j]);
		/* The priority first, so leaving FAULT starts with it. */
		vrrp_fsm_set_prio(&vi->fsm, now, effective_prio(vi), &o);
		handle(m, vi, &o);
		if (fault != (vi->fsm.state == VRRP_FAULT) &&
		    vi->fsm.state != VRRP_INIT) {
			vrrp_fsm_fault(&vi->fsm, now, fault, &o);
			handle(m, vi, &o);
		}
	}
	for (size_t i = 0; i < m->n; i++)
		group_update(m, m->v[i].group);
	rearm(m);
}

static void
track_set(struct vrrp_mgr *m, struct vinst *vi, struct vtrack *t, bool failing,
    const char *why)
{
	if (t->failing == failing)
		return;
	t->failing = failing;
	log_info("vrrp instance=%s %s \"%s\" %s%s%s", vi->name,
	    conf_track_name(t->type), t->what, failing ? "fails" : "recovers",
	    why ? ": " : "", why ? why : "");
}

/* Carrier of every interface an instance uses or tracks. */
static void
links_update(struct vrrp_mgr *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct vinst *vi = &m->v[i];
		struct knl_link_info li;
		bool up;

		up = m->nl != NULL && knl_link_by_name(m->nl, vi->sock->ifname,
		    &li) == 0 && li.up && li.carrier;
		if (vi->own_down != !up)
			log_info("vrrp instance=%s interface %s %s", vi->name,
			    vi->sock->ifname, up ? "has carrier again" :
			    "lost carrier");
		vi->own_down = !up;
		for (size_t t = 0; t < vi->n_tracks; t++) {
			struct vtrack *tr = &vi->tracks[t];

			if (tr->type != CONF_TRACK_INTERFACE)
				continue;
			up = m->nl != NULL && knl_link_by_name(m->nl, tr->what,
			    &li) == 0 && li.up && li.carrier;
			track_set(m, vi, tr, !up, up ? NULL : "no carrier");
		}
	}
}

static void
link_cb(void *arg, int ifindex)
{
	struct vrrp_mgr *m = arg;

	links_update(m);
	reevaluate(m);
}

static struct vinst *
track_owner(struct vrrp_mgr *m, const struct vtrack *t)
{
	for (size_t i = 0; i < m->n; i++)
		if (t >= m->v[i].tracks && t < m->v[i].tracks + m->v[i].n_tracks)
			return &m->v[i];
	return NULL;
}

static void
script_done(void *arg, const struct proc_result *r)
{
	struct vtrack *t = arg;
	struct vinst *vi = track_owner(t->m, t);

	t->run = NULL;
	snprintf(t->why, sizeof(t->why), "%s", r->why);
	if (vi != NULL) {
		track_set(t->m, vi, t, !r->ok, r->why);
		reevaluate(t->m);
	}
}

static void
script_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vtrack *t = w->data;

	if (t->run != NULL)
		return;		/* its own timeout ends it first */
	/* Bounded by the interval: the next run never overlaps this one. */
	if ((t->run = proc_run(loop, t->what, NULL, NULL, t->interval_ms, script_done,
	    t)) == NULL)
		log_warn("vrrp track-script \"%s\": cannot run", t->what);
}

/* lbctl/daemon: service `name` has (ok) or has not a backend taking new
 * connections. */
void
vrrp_mgr_service(struct vrrp_mgr *m, const char *name, bool ok)
{
	bool changed = false;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		for (size_t t = 0; t < m->v[i].n_tracks; t++) {
			struct vtrack *tr = &m->v[i].tracks[t];

			if (tr->type != CONF_TRACK_SERVICE ||
			    strcmp(tr->what, name) != 0 || tr->failing == !ok)
				continue;
			track_set(m, &m->v[i], tr, !ok, ok ? NULL :
			    "no backend takes new connections");
			changed = true;
		}
	if (changed)
		reevaluate(m);
}

/* ---- receiving --------------------------------------------------------- */

static struct vinst *
find(struct vrrp_mgr *m, const struct vsock *s, uint8_t family, uint8_t vrid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].sock == s && m->v[i].family == family &&
		    m->v[i].fsm.cfg.vrid == vrid)
			return &m->v[i];
	return NULL;
}

static void
receive(struct vrrp_mgr *m, struct vsock *s, const uint8_t *f, size_t len)
{
	struct vrrp_adv a;
	enum vrrp_bad bad = vrrp_decode(f, len, &a);
	struct vinst *vi;
	struct vrrp_out o;
	size_t alen;

	s->rx++;
	if (bad != VRRP_OK) {
		s->bad[bad]++;
		return;
	}
	if ((vi = find(m, s, a.family, a.vrid)) == NULL) {
		s->bad[VRRP_BAD_VRID]++;
		return;
	}
	vi->rx++;
	alen = a.family == 4 ? 4 : 16;
	if (vi->n_peers > 0) {
		bool known = false;

		for (size_t k = 0; k < vi->n_peers && !known; k++)
			known = memcmp(vi->peers[k], a.src, alen) == 0;
		if (!known) {
			vi->bad[VRRP_BAD_PEER]++;
			return;
		}
	}
	if (a.version != vi->fsm.cfg.version)
		bad = VRRP_BAD_VERSION_MISMATCH;
	else if (vi->have_self && memcmp(a.src, vi->fsm.self, alen) == 0)
		bad = VRRP_BAD_OWN;
	else if (a.version == 2 && a.interval_cs != vi->fsm.cfg.adver_cs)
		bad = VRRP_BAD_V2_INTERVAL;
	else if (a.n_addrs != vi->n_addrs ||
	    memcmp(a.addrs, vi->addrs, alen * a.n_addrs) != 0) {
		/* RFC 3768 drops unless the owner sent it; RFC 5798 asks
		 * only for a log line. */
		if (!vi->list_warned) {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.src, ip,
			    sizeof(ip));
			log_warnx("vrrp instance=%s: %s advertises %u address(es) "
			    "that differ from ours (misconfiguration?)", vi->name,
			    ip, a.n_addrs);
			vi->list_warned = true;
		}
		vi->bad[VRRP_BAD_ADDR_LIST]++;
		if (a.version == 2 && a.priority != 255)
			return;
	}
	if (bad != VRRP_OK) {
		vi->bad[bad]++;
		return;
	}
	vrrp_fsm_rx(&vi->fsm, mono_ms(), &a, &o);
	handle(m, vi, &o);
}

static void
rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vsock *s = w->data;
	uint8_t f[2048];

	for (int k = 0; k < 64; k++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s->fd, f, sizeof(f), 0, (struct sockaddr *)&from,
		    &fl);

		if (r < 0)
			break;
		/* Our own advertisements, looped back to the socket. */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		receive(s->m, s, f, (size_t)r);
	}
	rearm(s->m);
}

/* ---- configuration ------------------------------------------------------ */

static int
inst_init(struct vrrp_mgr *m, struct vinst *vi, const struct conf_group *g,
    const struct conf_instance *in, char *err, size_t errlen)
{
	struct vrrp_fsm_cfg c = { .vrid = in->vrid, .priority = in->priority,
				  .adver_cs = (uint16_t)(in->advert_ms / 10),
				  .version = in->version, .preempt = in->preempt,
				  .preempt_delay_ms = in->preempt_delay_ms };
	uint8_t self[16] = { 0 };

	memset(vi, 0, sizeof(*vi));
	vi->ufd = -1;
	vi->family = in->n_vaddrs > 0 && in->vaddrs[0].family == AF_INET6 ? 6 : 4;
	if ((vi->sock = sock_get(m, in->interface, err, errlen)) == NULL)
		return -1;
	vi->group = strdup(g->name);
	vi->name = strdup(in->name);
	if (vi->group == NULL || vi->name == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vi->ufd = -1;
	vi->use_vmac = in->use_vmac;
	vi->mac[2] = 0x5e;
	vi->mac[4] = vi->family == 4 ? 0x01 : 0x02;
	vi->mac[5] = in->vrid;
	if (!in->use_vmac) {
		struct knl_link_info li;

		if (m->nl == NULL || knl_link_by_name(m->nl, in->interface, &li) < 0) {
			snprintf(err, errlen, "interface %s: no MAC address",
			    in->interface);
			return -1;
		}
		memcpy(vi->mac, li.mac, 6);
	}
	if (in->notify != NULL && (vi->notify = strdup(in->notify)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < in->n_unicast_peers && k < MAX_PEERS; k++) {
		const struct conf_addr *pa = &in->unicast_peers[k];

		memcpy(vi->peers[vi->n_peers++], &pa->u, pa->family == AF_INET ? 4 : 16);
	}
	if (vi->n_peers > 0 && (vi->ufd = unicast_socket(vi)) < 0) {
		snprintf(err, errlen, "instance %s: unicast socket: %s", in->name,
		    strerror(errno));
		return -1;
	}
	if (in->n_tracks > 0 &&
	    (vi->tracks = calloc(in->n_tracks, sizeof(*vi->tracks))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < in->n_tracks; k++) {
		struct vtrack *t = &vi->tracks[k];

		t->m = m;
		t->type = in->tracks[k].type;
		t->weight = (uint8_t)in->tracks[k].weight;
		t->interval_ms = in->tracks[k].interval_ms;
		if ((t->what = strdup(in->tracks[k].what)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		vi->n_tracks++;
		ev_timer_init(&t->every, script_cb, 0.05, t->interval_ms / 1000.0);
		t->every.data = t;
	}
	for (size_t k = 0; k < in->n_vaddrs && vi->n_addrs < VRRP_MAX_ADDRS; k++) {
		const struct conf_addr *a = &in->vaddrs[k];

		if (vi->family == 4)
			memcpy(vi->addrs + 4 * vi->n_addrs++, &a->u.v4, 4);
		else
			memcpy(vi->addrs + 16 * vi->n_addrs++, &a->u.v6, 16);
	}
	vi->cfg_prio = in->priority;
	vi->have_self = primary_addr(in->interface, vi->family, self);
	vrrp_fsm_init(&vi->fsm, &c, vi->family, self);
	vrrp_fsm_hold_preempt(&vi->fsm, m->preempt_held);
	return 0;
}

static void
inst_free(struct vrrp_mgr *m, struct vinst *vi)
{
	for (size_t t = 0; t < vi->n_tracks; t++) {
		ev_timer_stop(m->loop, &vi->tracks[t].every);
		proc_cancel(vi->tracks[t].run);
		free(vi->tracks[t].what);
	}
	free(vi->tracks);
	vi->tracks = NULL;
	vi->n_tracks = 0;
	if (vi->ufd >= 0)
		close(vi->ufd);
	vi->ufd = -1;
	free(vi->notify);
	free(vi->group);
	free(vi->name);
}

/* Scripts start once the instance sits in its final place in m->v. */
static void
inst_go(struct vrrp_mgr *m, struct vinst *vi)
{
	for (size_t t = 0; t < vi->n_tracks; t++)
		if (vi->tracks[t].type == CONF_TRACK_SCRIPT)
			ev_timer_start(m->loop, &vi->tracks[t].every);
}

/*
 * Instances in their final place in m->v get going: in external mode they
 * take their group's state from lbctl ha; otherwise carrier is read,
 * scripts start, and new routers leave Initialize.
 */
static void
go_all(struct vrrp_mgr *m, uint64_t now)
{
	if (!m->external)
		links_update(m);
	for (size_t i = 0; i < m->n; i++) {
		struct vinst *vi = &m->v[i];
		struct vgroup *vg = vgroup(m, vi->group);
		struct vrrp_out o;

		if (m->external) {
			vi->fsm.state = vg != NULL ? vg->ext : VRRP_BACKUP;
			continue;
		}
		inst_go(m, vi);
		if (vi->fsm.state == VRRP_INIT) {
			vrrp_fsm_start(&vi->fsm, now, &o);
			handle(m, vi, &o);
		}
	}
}

static int
groups_set(struct vrrp_mgr *m, const struct conf *c)
{
	struct vgroup *ng = calloc(c->n_groups ? c->n_groups : 1, sizeof(*ng));

	if (ng == NULL)
		return -1;
	for (size_t g = 0; g < c->n_groups; g++) {
		struct vgroup *old = vgroup(m, c->groups[g].name);

		ng[g].name = strdup(c->groups[g].name);
		ng[g].notify = c->groups[g].notify ? strdup(c->groups[g].notify) : NULL;
		ng[g].reported = old != NULL ? old->reported : NULL;
		ng[g].ext = old != NULL ? old->ext : VRRP_BACKUP;
	}
	for (size_t g = 0; g < m->n_groups; g++) {
		free(m->groups[g].name);
		free(m->groups[g].notify);
	}
	free(m->groups);
	m->groups = ng;
	m->n_groups = c->n_groups;
	m->external = c->global.vrrp_external;
	m->notify_timeout_ms = c->global.notify_timeout_ms;
	return 0;
}

static size_t
count(const struct conf *c)
{
	size_t n = 0;

	for (size_t g = 0; g < c->n_groups; g++)
		n += c->groups[g].n_instances;
	return n;
}

struct vrrp_mgr *
vrrp_mgr_start(struct ev_loop *loop, const struct conf *c, vrrp_group_fn *fn,
    void *arg, char *err, size_t errlen)
{
	struct knl_cb cb = { .link = link_cb };
	struct vrrp_mgr *m;
	size_t n = count(c), k = 0;
	uint64_t now = mono_ms();

	err[0] = '\0';
	if (n == 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->v = calloc(n, sizeof(*m->v))) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->fn = fn;
	m->arg = arg;
	m->nq_tail = &m->nq;
	ev_timer_init(&m->timer, timer_cb, 0., 0.);
	m->timer.data = m;
	cb.arg = m;
	if (groups_set(m, c) < 0) {
		snprintf(err, errlen, "out of memory");
		vrrp_mgr_stop(m);
		return NULL;
	}
	if (!m->external && (m->nl = knl_open(loop, &cb, err, errlen)) == NULL) {
		vrrp_mgr_stop(m);
		return NULL;
	}
	for (size_t g = 0; g < c->n_groups; g++)
		for (size_t i = 0; i < c->groups[g].n_instances; i++, k++) {
			m->n = k + 1;
			if (inst_init(m, &m->v[k], &c->groups[g],
			    &c->groups[g].instances[i], err, errlen) < 0) {
				vrrp_mgr_stop(m);
				return NULL;
			}
		}
	go_all(m, now);
	if (m->external) {
		/* No VRRP of our own: sockets stay closed, groups wait for
		 * lbctl ha. */
		for (size_t s = 0; s < m->n_socks; s++)
			ev_io_stop(loop, &m->socks[s]->io);
		log_info("vrrp external: %zu group(s) follow lbctl ha", m->n_groups);
		return m;
	}
	reevaluate(m);
	return m;
}

static bool
same_router(const struct vinst *a, const struct vinst *b)
{
	return strcmp(a->group, b->group) == 0 && strcmp(a->name, b->name) == 0 &&
	    a->sock == b->sock && a->family == b->family &&
	    a->fsm.cfg.vrid == b->fsm.cfg.vrid;
}

/* A track the reload kept: no flap while a script runs again. */
static void
carry_tracks(struct vinst *nv, const struct vinst *o)
{
	for (size_t t = 0; t < nv->n_tracks; t++)
		for (size_t u = 0; u < o->n_tracks; u++)
			if (nv->tracks[t].type == o->tracks[u].type &&
			    strcmp(nv->tracks[t].what, o->tracks[u].what) == 0) {
				nv->tracks[t].failing = o->tracks[u].failing;
				memcpy(nv->tracks[t].why, o->tracks[u].why,
				    sizeof(nv->tracks[t].why));
			}
}

int
vrrp_mgr_apply(struct vrrp_mgr *m, const struct conf *c)
{
	size_t n = count(c), k = 0;
	struct vinst *nv;
	uint64_t now = mono_ms();
	char err[256];
	int rc = 0;

	if (m == NULL)
		return 0;
	if (c->global.vrrp_external != m->external) {
		log_warnx("vrrp: switching between internal and external VRRP "
		    "needs a restart; kept %s", m->external ? "external" :
		    "internal");
		rc = -1;
	}
	{
		bool ext = m->external;

		if (groups_set(m, c) < 0)
			return -1;
		m->external = ext;
	}
	if ((nv = calloc(n ? n : 1, sizeof(*nv))) == NULL)
		return -1;
	for (size_t g = 0; g < c->n_groups; g++)
		for (size_t i = 0; i < c->groups[g].n_instances; i++) {
			if (inst_init(m, &nv[k], &c->groups[g],
			    &c->groups[g].instances[i], err, sizeof(err)) < 0) {
				log_warnx("vrrp: %s", err);
				inst_free(m, &nv[k]);
				rc = -1;
				continue;
			}
			k++;
		}
	/* Carry the running state over; the new settings apply from the
	 * next advertisement. */
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < m->n; j++) {
			struct vinst *o = &m->v[j];
			struct vrrp_fsm_cfg cfg = nv[i].fsm.cfg;

			if (o->name == NULL || !same_router(&nv[i], o))
				continue;
			nv[i].fsm = o->fsm;
			nv[i].fsm.cfg = cfg;
			nv[i].prio_set = o->prio_set;
			nv[i].set_prio = o->set_prio;
			nv[i].own_down = o->own_down;
			carry_tracks(&nv[i], o);
			memcpy(nv[i].bad, o->bad, sizeof(o->bad));
			nv[i].rx = o->rx;
			nv[i].tx = o->tx;
			nv[i].last_change = o->last_change;
			inst_free(m, o);
			o->name = NULL;		/* taken over */
		}
	/* Routers that went away resign. */
	for (size_t j = 0; j < m->n; j++) {
		struct vrrp_out o;

		if (m->v[j].name == NULL)
			continue;
		vrrp_fsm_stop(&m->v[j].fsm, now, &o);
		if (o.send && !m->external)
			advertise(m, &m->v[j], 0);
		log_info("vrrp instance=%s removed", m->v[j].name);
		inst_free(m, &m->v[j]);
	}
	free(m->v);
	m->v = nv;
	m->n = k;
	go_all(m, now);
	/* Groups that no longer exist, or have no master instance, let go. */
	for (size_t i = m->n_held; i-- > 0;) {
		char *g = strdup(m->held[i]);

		if (g != NULL) {
			group_update(m, g);
			free(g);
		}
	}
	for (size_t i = 0; i < m->n; i++)
		group_update(m, m->v[i].group);
	/* Sockets no instance uses any more. */
	for (size_t s = 0; s < m->n_socks;) {
		bool used = false;

		for (size_t i = 0; i < m->n && !used; i++)
			used = m->v[i].sock == m->socks[s];
		if (used) {
			if (m->external)
				ev_io_stop(m->loop, &m->socks[s]->io);
			s++;
			continue;
		}
		sock_close(m, m->socks[s]);
		m->socks[s] = m->socks[--m->n_socks];
	}
	reevaluate(m);
	return rc;
}

void
vrrp_mgr_stop(struct vrrp_mgr *m)
{
	uint64_t now = mono_ms();

	if (m == NULL)
		return;
	ev_timer_stop(m->loop, &m->timer);
	/* Resign first (the backup takes over after its Skew_Time), then
	 * let the addresses go. */
	for (size_t i = 0; i < m->n; i++) {
		struct vrrp_out o;

		if (m->v[i].name == NULL)
			continue;
		vrrp_fsm_stop(&m->v[i].fsm, now, &o);
		if (o.send && !m->external)
			advertise(m, &m->v[i], 0);
		if (o.changed)
			log_info("vrrp instance=%s state=%s->init (stop)",
			    m->v[i].name, vrrp_state_name(o.from));
	}
	while (m->n_held > 0) {
		char *g = m->held[--m->n_held];

		m->fn(m->arg, g, false);
		free(g);
	}
	free(m->held);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].name != NULL)
			inst_free(m, &m->v[i]);
	free(m->v);
	for (size_t s = 0; s < m->n_socks; s++)
		sock_close(m, m->socks[s]);
	/* Hooks still waiting are not run on the way out; a running one
	 * is stopped, not left behind. */
	proc_cancel(m->nrun);
	while (m->nq != NULL) {
		struct notice *nx = m->nq->next;

		notice_free(m->nq);
		m->nq = nx;
	}
	for (size_t g = 0; g < m->n_groups; g++) {
		free(m->groups[g].name);
		free(m->groups[g].notify);
	}
	free(m->groups);
	knl_close(m->nl);
	free(m);
}

/* lbctl ha master|backup|fault GROUP (external mode). */
int
vrrp_mgr_ha(struct vrrp_mgr *m, const char *state, const char *group,
    struct buf *err)
{
	struct vgroup *vg = m != NULL ? vgroup(m, group) : NULL;
	enum vrrp_state st;

	if (m == NULL || !m->external) {
		buf_puts(err, "error: lbctl ha needs \"vrrp external\" in global "
		    "(lbd runs VRRP itself here)\n");
		return -1;
	}
	if (strcmp(state, "master") == 0)
		st = VRRP_MASTER;
	else if (strcmp(state, "backup") == 0)
		st = VRRP_BACKUP;
	else if (strcmp(state, "fault") == 0)
		st = VRRP_FAULT;
	else {
		buf_printf(err, "error: ha: expected master, backup or fault, "
		    "found \"%.32s\"\n", state);
		return -1;
	}
	if (vg == NULL) {
		buf_printf(err, "error: no vrrp-group \"%.64s\" (see \"show "
		    "vrrp\")\n", group);
		return -1;
	}
	if (vg->ext != st) {
		log_info("vrrp group=%s external state=%s (lbctl ha)", group,
		    vrrp_state_name(st));
		vg->ext = st;
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->v[i].group, group) == 0) {
				if (m->v[i].fsm.state != st)
					m->v[i].fsm.transitions++;
				m->v[i].fsm.state = st;
				m->v[i].last_change = ev_now(m->loop);
			}
	}
	group_update(m, group);
	return 0;
}

/* ---- control ------------------------------------------------------------- */

void
vrrp_mgr_hold_preempt(struct vrrp_mgr *m, bool hold)
{
	if (m == NULL)
		return;
	m->preempt_held = hold;
	for (size_t i = 0; i < m->n; i++)
		vrrp_fsm_hold_preempt(&m->v[i].fsm, hold);
}

size_t
vrrp_mgr_count(const struct vrrp_mgr *m)
{
	return m == NULL ? 0 : m->n;
}

int
vrrp_mgr_set_priority(struct vrrp_mgr *m, const char *name, const char *val,
    struct buf *err)
{
	struct vinst *vi = NULL;
	unsigned long p;
	char *end;

	for (size_t i = 0; m != NULL && i < m->n && vi == NULL; i++)
		if (strcmp(m->v[i].name, name) == 0)
			vi = &m->v[i];
	if (vi == NULL) {
		buf_printf(err, "error: no VRRP instance \"%.64s\" (see \"show "
		    "vrrp\")\n", name);
		return -1;
	}
	if (strcmp(val, "reset") == 0) {
		p = vi->cfg_prio;
		vi->prio_set = false;
	} else {
		errno = 0;
		p = strtoul(val, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 254) {
			buf_printf(err, "error: priority \"%.32s\": expected 1..254 "
			    "or reset (255 is the address owner's, set in the "
			    "config)\n", val);
			return -1;
		}
		vi->prio_set = true;
	}
	if (m->external) {
		buf_puts(err, "error: vrrp external: keepalived holds the "
		    "priorities here\n");
		return -1;
	}
	vi->set_prio = (uint8_t)p;
	log_info("vrrp instance=%s priority=%lu (was %u)", vi->name, p,
	    vi->prio_set ? vi->fsm.prio : vi->cfg_prio);
	reevaluate(m);
	return 0;
}

static void
show_addr(struct buf *b, uint8_t family, const uint8_t *a)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
	buf_puts(b, ip);
}

/* Drops by reason: `"r":n,...` for JSON, ` r n ...` for people. */
static void
show_drops(struct buf *b, const uint64_t bad[VRRP_BAD__COUNT], bool json)
{
	bool first = true;

	for (int r = 1; r < VRRP_BAD__COUNT; r++) {
		if (bad[r] == 0)
			continue;
		buf_printf(b, json ? "%s\"%s\":%llu" : "%s%s %llu",
		    json ? (first ? "" : ",") : " ", vrrp_bad_name((enum vrrp_bad)r),
		    (unsigned long long)bad[r]);
		first = false;
	}
}

static uint64_t
drops(const uint64_t bad[VRRP_BAD__COUNT])
{
	uint64_t n = 0;

	for (int r = 1; r < VRRP_BAD__COUNT; r++)
		n += bad[r];
	return n;
}

void
vrrp_mgr_show(const struct vrrp_mgr *m, struct buf *b, bool json)
{
	double now = m != NULL ? ev_now(m->loop) : 0;

	if (json)
		buf_puts(b, "{\"instances\":[");
	else
		buf_printf(b, "%-12s %-10s %-8s %4s %-7s %4s %4s %-24s %6s %8s %8s %s\n",
		    "INSTANCE", "GROUP", "IFACE", "VRID", "STATE", "PRIO", "EFF",
		    "MASTER", "ADVERT", "RX", "TX", "TRANSITIONS");
	for (size_t i = 0; m != NULL && i < m->n; i++) {
		const struct vinst *vi = &m->v[i];
		const struct vrrp_fsm *f = &vi->fsm;

		if (json) {
			buf_printf(b, "%s{\"instance\":\"%s\",\"group\":\"%s\","
			    "\"interface\":\"%s\",\"vrid\":%u,\"family\":%u,"
			    "\"version\":%u,\"state\":\"%s\",\"priority\":%u,"
			    "\"effective_priority\":%u,\"master\":\"", i ? "," : "",
			    vi->name, vi->group, vi->sock->ifname, f->cfg.vrid,
			    vi->family, f->cfg.version, vrrp_state_name(f->state),
			    vi->cfg_prio, f->prio);
			if (f->state != VRRP_INIT && f->state != VRRP_FAULT)
				show_addr(b, vi->family, f->master);
			buf_printf(b, "\",\"advert_ms\":%u,\"master_advert_ms\":%u,"
			    "\"transitions\":%llu,\"since_s\":%.1f,\"rx\":%llu,"
			    "\"tx\":%llu,\"dropped\":{", f->cfg.adver_cs * 10u,
			    f->master_adver_cs * 10u,
			    (unsigned long long)f->transitions,
			    vi->last_change > 0 ? now - vi->last_change : 0.,
			    (unsigned long long)vi->rx, (unsigned long long)vi->tx);
			show_drops(b, vi->bad, true);
			buf_printf(b, "},\"interface_up\":%s,\"unicast_peers\":%zu,"
			    "\"tracks\":[", vi->own_down ? "false" : "true",
			    vi->n_peers);
			for (size_t t = 0; t < vi->n_tracks; t++) {
				const struct vtrack *tr = &vi->tracks[t];

				buf_printf(b, "%s{\"type\":\"%s\",\"what\":",
				    t ? "," : "", conf_track_name(tr->type));
				buf_json_str(b, tr->what);
				buf_printf(b, ",\"weight\":%u,\"failing\":%s,"
				    "\"last\":", tr->weight, tr->failing ?
				    "true" : "false");
				buf_json_str(b, tr->why);
				buf_puts(b, "}");
			}
			buf_puts(b, "]}");
			continue;
		}
		{
			struct buf ma = { 0 };
			char adv[16];

			if (f->state == VRRP_MASTER)
				buf_puts(&ma, "self");
			else if (f->state == VRRP_BACKUP && f->master[0] != 0)
				show_addr(&ma, vi->family, f->master);
			else
				buf_puts(&ma, "-");
			snprintf(adv, sizeof(adv), "%ums", f->master_adver_cs * 10u);
			buf_printf(b, "%-12s %-10s %-8s %4u %-7s %4u %4u %-24s %6s "
			    "%8llu %8llu %llu\n", vi->name, vi->group,
			    vi->sock->ifname, f->cfg.vrid, vrrp_state_name(f->state),
			    vi->cfg_prio, f->prio, ma.p ? ma.p : "-", adv,
			    (unsigned long long)vi->rx, (unsigned long long)vi->tx,
			    (unsigned long long)f->transitions);
			buf_free(&ma);
		}
		if (drops(vi->bad) > 0) {
			buf_puts(b, "  dropped:");
			show_drops(b, vi->bad, false);
			buf_puts(b, "\n");
		}
		if (vi->own_down)
			buf_printf(b, "  interface %s has no carrier: FAULT\n",
			    vi->sock->ifname);
		for (size_t t = 0; t < vi->n_tracks; t++) {
			const struct vtrack *tr = &vi->tracks[t];

			if (!tr->failing)
				continue;
			buf_printf(b, "  %s %s fails: ", conf_track_name(tr->type),
			    tr->what);
			if (tr->weight)
				buf_printf(b, "priority -%u\n", tr->weight);
			else
				buf_puts(b, "FAULT\n");
		}
	}
	if (json) {
		buf_printf(b, "],\"external\":%s,\"interfaces\":[",
		    m != NULL && m->external ? "true" : "false");
		for (size_t s = 0; m != NULL && s < m->n_socks; s++) {
			const struct vsock *k = m->socks[s];

			buf_printf(b, "%s{\"interface\":\"%s\",\"rx\":%llu,\"dropped\":{",
			    s ? "," : "", k->ifname, (unsigned long long)k->rx);
			show_drops(b, k->bad, true);
			buf_puts(b, "}}");
		}
		buf_puts(b, "]}\n");
		return;
	}
	for (size_t s = 0; m != NULL && s < m->n_socks; s++) {
		const struct vsock *k = m->socks[s];

		buf_printf(b, "interface %s: %llu VRRP frames received", k->ifname,
		    (unsigned long long)k->rx);
		if (drops(k->bad) > 0) {
			buf_puts(b, ", dropped:");
			show_drops(b, k->bad, false);
		}
		buf_puts(b, "\n");
	}
	if (m == NULL)
		buf_puts(b, "no VRRP instances (no vrrp-group in the config)\n");
	else if (m->external)
		buf_puts(b, "vrrp external: states come from lbctl ha (keepalived)\n");
}
