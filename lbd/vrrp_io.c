/*
 * VRRP on the wire: one packet socket per interface (advertisements in
 * and out as whole frames, the virtual MAC as their source, a BPF filter
 * that lets protocol 112 alone through), unicast senders for clouds
 * without multicast, and the primary address an advert is sent from.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/vrrp_mgr_int.h"
#include "lib/log.h"

#define MAX_SOCKS	(sizeof(((struct vrrp_mgr *)0)->socks) / sizeof(struct vsock *))

/* The primary address VRRP sends from: the interface's first IPv4
 * address, or its IPv6 link-local address (RFC 5798 5.1.2.2). */
bool
vrrp_primary_addr(const char *ifname, uint8_t family, uint8_t out[16])
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

/* The packet socket of `ifname`, opened on first use. */
struct vsock *
vrrp_sock_get(struct vrrp_mgr *m, const char *ifname, char *err, size_t errlen)
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
	ev_io_init(&s->io, vrrp_mgr_rx_cb, s->fd, EV_READ);
	/* After a stall of the loop, the adverts that came meanwhile are
	 * read before any timer runs: a late timer must not take a silence
	 * for what was only a busy loop. */
	ev_set_priority(&s->io, EV_MAXPRI);
	s->io.data = s;
	m->socks[m->n_socks++] = s;
	return s;
}

void
vrrp_sock_close(struct vrrp_mgr *m, struct vsock *s)
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
int
vrrp_unicast_socket(uint8_t family, const char *ifname)
{
	int fd = socket(family == 4 ? AF_INET : AF_INET6,
	    SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
unicast(struct vrrp_mgr *m, struct vrrp_router *r, struct vinst *vi,
    struct vrrp_adv *a, uint8_t *f)
{
	for (uint8_t p = 0; p < r->n_peers; p++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		size_t len;

		a->unicast = true;
		memcpy(a->dst, r->peers[p], 16);
		if ((len = vrrp_encode(f, VRRP_FRAME_MAX, a, r->addrs)) == 0)
			return;
		memset(&ss, 0, sizeof(ss));
		if (r->family == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, r->peers[p], 4);
			sl = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, r->peers[p], 16);
			s6->sin6_scope_id = (uint32_t)vi->sock->ifindex;
			sl = sizeof(*s6);
		}
		if (vi->ufd < 0 || sendto(vi->ufd, f + 14, len - 14, 0,
		    (struct sockaddr *)&ss, sl) < 0)
			log_warn("vrrp instance=%s unicast send", r->name);
		else
			r->tx++;
	}
}

void
vrrp_advertise(struct vrrp_mgr *m, struct vrrp_node *node, struct vinst *shell,
    uint32_t ri, uint8_t prio)
{
	struct vrrp_router *r = &node->r[ri];
	struct vinst *vi = &shell[ri];
	struct vrrp_adv a = { .version = r->fsm.cfg.version, .family = r->family,
			      .vrid = r->fsm.cfg.vrid, .priority = prio,
			      .interval_cs = r->fsm.cfg.adver_cs,
			      .n_addrs = r->n_addrs };
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = vi->sock->ifindex, .sll_halen = 6 };
	uint8_t f[VRRP_FRAME_MAX];
	size_t len;

	if (!r->have_self) {
		/* The interface had no address at start; look again. */
		uint8_t self[16];

		if (!vrrp_primary_addr(vi->sock->ifname, r->family, self)) {
			log_warnx("vrrp instance=%s: %s has no %s address to "
			    "advertise from", r->name, vi->sock->ifname,
			    r->family == 4 ? "IPv4" : "IPv6 link-local");
			return;
		}
		vrrp_node_set_self(node, ri, self);
	}
	memcpy(a.src, r->fsm.self, 16);
	memcpy(a.src_mac, vi->mac, 6);
	if (r->auth_pass) {
		a.auth_type = VRRP_AUTH_PASS;
		memcpy(a.auth, r->auth, sizeof(a.auth));
	}
	if (r->n_peers > 0) {
		unicast(m, r, vi, &a, f);
		return;
	}
	if ((len = vrrp_encode(f, sizeof(f), &a, r->addrs)) == 0)
		return;
	memcpy(to.sll_addr, f, 6);
	/* A resignation is this master's last word: nothing repeats it. */
	if (prio == 0 || r->fsm.state != VRRP_MASTER)
		vrrp_keeper_clear(m->keeper, vrrp_keeper_key(node, shell, ri));
	if (sendto(vi->sock->fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_warn("vrrp instance=%s send", r->name);
	else
		r->tx++;
	if (prio > 0 && r->fsm.state == VRRP_MASTER)
		vrrp_keeper_sent(m->keeper, vrrp_keeper_key(node, shell, ri),
		    vi->sock->fd, &to, f, len, r->fsm.cfg.adver_cs * 10u);
}

uint32_t
vrrp_keeper_key(const struct vrrp_node *node, const struct vinst *vi,
    uint32_t ri)
{
	const struct vrrp_router *r = &node->r[ri];

	return (uint32_t)vi[ri].sock->ifindex << 9 |
	    (uint32_t)(r->family == 6) << 8 | r->fsm.cfg.vrid;
}

