/*
 * What this node owns: the floating addresses (VIPs, SNAT pool addresses,
 * the routed-mode gateway) with their vMAC links, the classifier's maps
 * that take those addresses' traffic from the kernel, the VRRP groups this
 * node holds, and the classifier's dead man's switch.
 *
 * The ordering rule: the classifier takes the traffic of an address from
 * the moment this node means to hold it until the kernel has let it go;
 * never is the address the kernel's alone (it would reset our connections).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/dataplane/dp_int.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/keymap.h"
#include "lib/log.h"

/*
 * Pushed every ALIVE_EVERY; if lbd stops for ALIVE_GRACE the classifier
 * stops this node from answering for its floating addresses (classifier.h).
 * The grace outlasts a long reload's pause of the loop.
 */
#define ALIVE_EVERY	0.1
#define ALIVE_GRACE_NS	1000000000ull

/* How often drained backends are looked for, to stop taking their frames. */
#define ORPHAN_EVERY	1.0

/* ---- the classifier's maps ------------------------------------------- */

/* An address listed twice (a VIP of several services, a VIP that is also
 * local) is one map entry with the flags OR-ed, by xdp_prog_set_owned. */
static void
add_addr_key(struct xdp_owned *o, uint8_t family, const uint8_t *addr,
    uint32_t flag)
{
	memset(&o->addrs[o->n_addrs], 0, sizeof(o->addrs[0]));
	o->addrs[o->n_addrs].family = family;
	memcpy(o->addrs[o->n_addrs].addr, addr, 16);
	o->addr_flags[o->n_addrs++] = flag;
}

struct local_collect {
	struct xdp_owned	*o;
	size_t			 cap;
};

static void
local_one(void *arg, uint8_t family, const uint8_t addr[16], int ifindex)
{
	struct local_collect *lc = arg;
	struct xdp_owned *o = lc->o;

	if (o->n_addrs == lc->cap) {
		size_t nc = lc->cap * 2;
		struct lbd_addr_key *na = realloc(o->addrs, nc * sizeof(*na));
		uint32_t *nf;

		if (na == NULL)
			return;
		o->addrs = na;
		if ((nf = realloc(o->addr_flags, nc * sizeof(*nf))) == NULL)
			return;
		o->addr_flags = nf;
		lc->cap = nc;
	}
	add_addr_key(o, family, addr, LBD_ADDR_LOCAL);
}

/* The classifier takes the traffic of an address from the moment this
 * node means to hold it until the kernel has let it go: never is the
 * address the kernel's alone (it would reset our connections). */
/* The addresses this node means to hold, as a set (NULL: out of memory,
 * and wanted() falls back to the owner alone). */
static struct keymap *
want_set(const struct dataplane *p)
{
	struct keymap *m = keymap_new(KEYMAP_ADDR_LEN, p->own.n_want);
	uint8_t k[KEYMAP_ADDR_LEN];

	for (size_t i = 0; m != NULL && i < p->own.n_want; i++) {
		const struct owned_addr *w = &p->own.want[i];

		if (keymap_put(m, keymap_addr_key(k, w->family, w->addr), 1,
		    NULL) < 0) {
			keymap_free(m);
			m = NULL;
		}
	}
	return m;
}

static bool
wanted(const struct dataplane *p, const struct keymap *want, uint8_t family,
    const uint8_t *a)
{
	uint8_t k[KEYMAP_ADDR_LEN];

	if (owner_holds(p->own.owner, family, a))
		return true;
	return want != NULL &&
	    keymap_get(want, keymap_addr_key(k, family, a)) != NULL;
}

static int
owned_maps(struct dataplane *p, const struct conf *c, struct xdp_owned *o)
{
	size_t ns = c->n_services, na = 0, nb = 0;
	struct local_collect lc;
	struct keymap *want = c->n_groups > 0 ? want_set(p) : NULL;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ns; i++) {
		na += 1 + c->services[i].n_snat_pool;
		nb += c->services[i].n_backends + 1;
	}
	nb += p->own.n_orph;
	o->svcs = calloc(ns + 1, sizeof(*o->svcs));
	o->addrs = calloc(na + 1, sizeof(*o->addrs));
	o->addr_flags = calloc(na + 1, sizeof(*o->addr_flags));
	o->backends = calloc(nb + 1, sizeof(*o->backends));
	o->backend_flags = calloc(nb + 1, sizeof(*o->backend_flags));
	if (!o->svcs || !o->addrs || !o->addr_flags || !o->backends ||
	    !o->backend_flags) {
		keymap_free(want);
		return -1;
	}
	for (size_t i = 0; i < ns; i++) {
		const struct conf_service *s = &c->services[i];
		struct lbd_flow_key *k;
		uint8_t a[16];
		bool held;

		/* With VRRP a backup takes nothing from the kernel: a frame
		 * flooded to it for the virtual MAC is not its to forward. */
		conf_addr_a16(a, &s->vip);
		held = c->n_groups == 0 || wanted(p, want, conf_addr_fam(&s->vip), a);
		if (held) {
			k = &o->svcs[o->n_svcs++];
			k->family = conf_addr_fam(&s->vip);
			k->proto = s->proto;
			k->port = htons(s->port);
			conf_addr_a16(k->addr, &s->vip);
			add_addr_key(o, k->family, k->addr, LBD_ADDR_VIP);
		}
		for (size_t j = 0; held && s->mode == CONF_MODE_SNAT &&
		    j < s->n_snat_pool; j++) {
			conf_addr_a16(a, &s->snat_pool[j]);
			add_addr_key(o, conf_addr_fam(&s->snat_pool[j]), a, LBD_ADDR_SNAT);
		}
		/* Routed mode: replies come from the backends' own port. Held
		 * or not (classifier.h, LBD_BE_UNHELD): a reply sent to this
		 * node's own MAC while it is not master (a data link flapped,
		 * the backends' gateway is a fixed address) must never be
		 * forwarded by the kernel untranslated. */
		for (size_t j = 0; s->mode == CONF_MODE_ROUTED &&
		    j <= s->n_backends; j++) {
			const struct conf_backend *b = j < s->n_backends ?
			    &s->backends[j] : s->has_fallback ? &s->fallback : NULL;
			struct lbd_flow_key *bk;

			if (b == NULL)
				continue;
			o->backend_flags[o->n_backends] = held ? LBD_BE_HELD :
			    LBD_BE_UNHELD;
			bk = &o->backends[o->n_backends++];
			bk->family = conf_addr_fam(&b->addr);
			bk->proto = s->proto;
			bk->port = htons(b->port);
			conf_addr_a16(bk->addr, &b->addr);
		}
	}
	for (uint32_t i = 0; i < p->own.n_orph; i++) {
		struct lbd_flow_key *bk;

		o->backend_flags[o->n_backends] = LBD_BE_HELD;
		bk = &o->backends[o->n_backends++];
		bk->family = p->own.orph[i].family;
		bk->proto = p->own.orph[i].proto;
		bk->port = p->own.orph[i].port;
		memcpy(bk->addr, p->own.orph[i].addr, 16);
	}
	/* This host's addresses, so that answers to its own connections
	 * (health checks) are left to the kernel. */
	keymap_free(want);
	lc.o = o;
	lc.cap = na + 1;
	knl_addrs_each(p->knl.nl, local_one, &lc);
	return 0;
}

static void
owned_maps_free(struct xdp_owned *o)
{
	free(o->svcs);
	free(o->addrs);
	free(o->addr_flags);
	free(o->backends);
	free(o->backend_flags);
}

/* The data interface an address belongs on: the one whose connected
 * route covers it, else the first. */
static const struct dp_if *
home_iface(struct dataplane *p, uint8_t family, const uint8_t *addr)
{
	int ifindex = dp_kernel_connected(p, family, addr);

	for (uint32_t i = 0; i < p->ifs.n; i++)
		if (p->ifs.v[i].ifindex == ifindex)
			return &p->ifs.v[i];
	return &p->ifs.v[0];
}

static void
write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		log_warn("set %s", path);
	if (fd >= 0)
		close(fd);
}

/* The macvlan carrying the virtual MAC of (parent, family, vrid). */
static int
vmac_link(struct dataplane *p, const struct dp_if *parent, uint8_t family,
    uint8_t vrid, uint8_t mac[6])
{
	char name[IFNAMSIZ], path[128];
	int ifindex;

	mac[0] = 0x00; mac[1] = 0x00; mac[2] = 0x5e; mac[3] = 0x00;
	mac[4] = family == 4 ? 0x01 : 0x02;
	mac[5] = vrid;
	snprintf(name, sizeof(name), "vr%u-%u-%d", family, vrid, parent->ifindex);
	for (uint32_t i = 0; i < p->own.n_mv; i++)
		if (strcmp(p->own.mv[i].name, name) == 0)
			return p->own.mv[i].ifindex;
	if (p->own.n_mv == DP_MAX_MACVLANS)
		return -1;
	{
		/* Left by a run that was killed: its floating addresses
		 * must not come back with it. */
		struct knl_link_info li;

		if (knl_link_by_name(p->knl.nl, name, &li) == 0) {
			log_info("macvlan %s: left by a previous run, recreated",
			    name);
			(void)knl_link_del(p->knl.nl, li.ifindex);
		}
	}
	if ((ifindex = knl_macvlan_add(p->knl.nl, parent->ifindex, name, mac,
	    family == 6)) < 0)
		return -1;
	p->own.mv[p->own.n_mv].ifindex = ifindex;
	p->own.mv[p->own.n_mv].parent = parent->ifindex;
	p->own.mv[p->own.n_mv].up = false;
	snprintf(p->own.mv[p->own.n_mv].name, IFNAMSIZ, "%s", name);
	p->own.n_mv++;
	/* Only the macvlan answers ARP for its addresses, with the virtual
	 * MAC; the parent keeps quiet about them, and so does every other
	 * group's macvlan: were one to answer for another group's address,
	 * the clients would follow it when it moves to the peer without that
	 * address (two groups, each master on a different node). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/arp_ignore",
	    parent->name);
	write_sysctl(path, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/arp_ignore",
	    name);
	write_sysctl(path, "1");
	log_info("macvlan %s on %s carries %02x:%02x:%02x:%02x:%02x:%02x", name,
	    parent->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return ifindex;
}

static bool
group_held(const struct dataplane *p, const char *name)
{
	for (uint32_t i = 0; i < p->own.n_held; i++)
		if (strcmp(p->own.held[i], name) == 0)
			return true;
	return false;
}

static size_t
owned_addrs(struct dataplane *p, const struct conf *c, struct owned_addr **out)
{
	size_t n = 0, cap = 0;
	struct owned_addr *v = NULL;
	struct keymap *seen = NULL;

#define PUSH(fam_, a_, plen_, ifi_, mac_, garp_, group_) do {		\
	if (n == cap) {							\
		cap = cap ? cap * 2 : 16;				\
		struct owned_addr *nv_ = realloc(v, cap * sizeof(*v));	\
		if (nv_ == NULL) {					\
			free(v);					\
			keymap_free(seen);				\
			*out = NULL;					\
			return 0;					\
		}							\
		v = nv_;						\
	}								\
	memset(&v[n], 0, sizeof(v[n]));					\
	v[n].family = (fam_);						\
	memcpy(v[n].addr, (a_), 16);					\
	v[n].plen = (plen_);						\
	v[n].ifindex = (ifi_);						\
	memcpy(v[n].mac, (mac_), 6);					\
	v[n].group = (group_);						\
	v[n].garp_count = (garp_).count;				\
	v[n].garp_interval_ms = (garp_).interval_ms;			\
	v[n].garp_refresh_ms = (garp_).refresh_ms;			\
	v[n].garp_lower = (garp_).lower_prio < 0 ? (garp_).count :	\
	    (uint32_t)(garp_).lower_prio;				\
	n++;								\
} while (0)

	if (c->n_groups > 0) {
		/* VRRP instances: the virtual addresses of the groups this
		 * node is master of, on a macvlan with the group's MAC. */
		for (size_t g = 0; g < c->n_groups; g++)
			for (size_t i = 0; i < c->groups[g].n_instances; i++) {
				const struct conf_instance *in =
				    &c->groups[g].instances[i];
				const struct dp_if *par = NULL;
				bool held = group_held(p, c->groups[g].name);

				for (uint32_t k = 0; k < p->ifs.n; k++)
					if (strcmp(p->ifs.v[k].name, in->interface) == 0)
						par = &p->ifs.v[k];
				if (par == NULL || in->n_vaddrs == 0)
					continue;
				/* The macvlan exists from the start, held or
				 * not (down while not: macvlans_follow), so
				 * that taking over is a link up and addresses.
				 * use-vmac off: on the interface, its own MAC. */
				for (size_t k = 0; k < in->n_vaddrs; k++) {
					const struct conf_addr *ca = &in->vaddrs[k];
					uint8_t a[16], mac[6];
					int ifi = par->ifindex;

					memcpy(mac, par->info.mac, 6);
					if (in->use_vmac)
						ifi = vmac_link(p, par, conf_addr_fam(ca),
						    in->vrid, mac);

					if (ifi < 0 || !held)
						continue;
					conf_addr_a16(a, ca);
					PUSH(conf_addr_fam(ca), a, ca->plen, ifi, mac,
					    conf_instance_garp(&c->global, in),
					    (uint16_t)(g + 1));
				}
			}
	} else {
		/* Services share VIPs and pools: each address once. */
		if ((seen = keymap_new(KEYMAP_ADDR_LEN, c->n_services)) == NULL) {
			free(v);
			*out = NULL;
			return 0;
		}
		for (size_t i = 0; i < c->n_services; i++) {
			const struct conf_service *s = &c->services[i];
			for (size_t j = 0; j <= s->n_snat_pool; j++) {
				const struct conf_addr *ca = j == 0 ? &s->vip :
				    &s->snat_pool[j - 1];
				uint8_t a[16], k[KEYMAP_ADDR_LEN], f = conf_addr_fam(ca);
				const struct dp_if *home;

				conf_addr_a16(a, ca);
				keymap_addr_key(k, f, a);
				if (keymap_put(seen, k, 0, NULL) != 1)
					continue;
				home = home_iface(p, f, a);
				PUSH(f, a, f == 4 ? 32 : 128, home->ifindex,
				    home->info.mac, c->global.garp, 0);
			}
		}
		keymap_free(seen);
	}
#undef PUSH
	*out = v;
	return n;
}

int
dp_owned_maps(struct dataplane *p, const struct conf *c)
{
	struct xdp_owned o;
	int rc = 0;

	if (owned_maps(p, c, &o) < 0) {
		owned_maps_free(&o);
		return -1;
	}
	/* The fast path decides for every interface from one set of maps;
	 * the classifiers (userspace mode) each from their own. */
	if (p->ifs.kernel && tcprog_set_owned(p->ifs.tc, &o) < 0) {
		log_warnx("fast path: ownership maps not fully written");
		rc = -1;
	}
	for (uint32_t i = 0; i < p->ifs.n && !p->ifs.kernel; i++)
		if (xdp_prog_set_owned(p->ifs.v[i].prog, &o) < 0) {
			log_warnx("interface %s: classifier maps not fully "
			    "written", p->ifs.v[i].name);
			rc = -1;
		}
	owned_maps_free(&o);
	return rc;
}

/*
 * A macvlan is up only while it carries addresses this node holds
 * (knl_macvlan_add says why). Down before its addresses go, so that their
 * removal is silent (a link going down sends nothing; its IPv6 addresses
 * go with it); up before addresses come, `ups` says which of the two.
 */
static void
macvlans_follow(struct dataplane *p, const struct owned_addr *v, size_t n,
    bool ups)
{
	for (uint32_t i = 0; i < p->own.n_mv; i++) {
		struct dp_macvlan *mv = &p->own.mv[i];
		bool carries = false;

		for (size_t k = 0; k < n && !carries; k++)
			carries = v[k].ifindex == mv->ifindex;
		if (carries == mv->up || carries != ups)
			continue;
		if (knl_link_set_up(p->knl.nl, mv->ifindex, carries) == 0)
			mv->up = carries;
	}
}

static bool
sysctl_on(const char *path)
{
	char b[8] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, b, sizeof(b) - 1) < 0)
			b[0] = '\0';
		close(fd);
	}
	return b[0] == '1';
}

/*
 * A dsr VIP on no data interface's subnet goes on the first one. When the
 * backends' replies (from the VIP, to the client) pass back through this
 * node, as they do when it is their gateway, its kernel drops them as
 * martians (a local source address) unless accept_local is set; nothing
 * in lbd can count them. Said once per VIP at start and at each reload.
 */
static void
warn_dsr_martians(struct dataplane *p, const struct conf *c)
{
	char path[96], a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];
		uint8_t vip[16];
		bool set;

		if (s->mode != CONF_MODE_DSR || s->tunnel != CONF_TUNNEL_NONE ||
		    s->vip.family != AF_INET)
			continue;
		conf_addr_a16(vip, &s->vip);
		if (dp_kernel_connected(p, 4, vip) >= 0)
			continue;
		set = sysctl_on("/proc/sys/net/ipv4/conf/all/accept_local");
		for (uint32_t k = 0; k < p->ifs.n && !set; k++) {
			snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/"
			    "accept_local", p->ifs.v[k].name);
			set = sysctl_on(path);
		}
		if (set)
			continue;
		inet_ntop(AF_INET, vip, a, sizeof(a));
		log_warnx("service %s: dsr VIP %s is on no data interface's "
		    "subnet, so lbd holds it on %s. If the backends' replies "
		    "pass back through this node (it is their gateway), its "
		    "kernel drops them as martians, their source being a local "
		    "address: set net.ipv4.conf.<the backends' interface>."
		    "accept_local=1, or route the replies elsewhere", s->name,
		    a, p->ifs.v[0].name);
	}
}

int
dp_owned_apply(struct dataplane *p, const struct conf *c)
{
	struct owned_addr *v = NULL;
	size_t n;
	int rc = 0;

	p->conf = c;
	warn_dsr_martians(p, c);
	owner_set_rate(p->own.owner, c->global.garp_rate);
	n = owned_addrs(p, c, &v);
	free(p->own.want);
	p->own.want = v;
	p->own.n_want = n;
	keymap_free(p->own.want_set);
	if ((p->own.want_set = keymap_new(KEYMAP_ADDR_LEN, n)) != NULL)
		for (size_t i = 0; i < n; i++) {
			uint8_t k[KEYMAP_ADDR_LEN];

			if (keymap_put(p->own.want_set, keymap_addr_key(k,
			    v[i].family, v[i].addr), 1, NULL) < 0) {
				keymap_free(p->own.want_set);
				p->own.want_set = NULL;
				break;
			}
		}
	/* The classifier first: once the kernel holds a VIP, a frame for it
	 * that the classifier does not take yet gets the kernel's reset (a
	 * failback would lose connections in that window). */
	if (dp_owned_maps(p, c) < 0)
		rc = -1;
	macvlans_follow(p, v, n, false);
	macvlans_follow(p, v, n, true);
	if (owner_set(p->own.owner, v, n) > 0)
		rc = -1;
	/* After the addresses, so they count as local too. */
	if (dp_owned_maps(p, c) < 0)
		rc = -1;
	return rc;
}

struct knl *
dataplane_knl(struct dataplane *p)
{
	return p != NULL ? p->knl.nl : NULL;
}

int
dataplane_vrrp_guard_fd(const struct dataplane *p)
{
	return p != NULL && p->ifs.kernel && p->ifs.tc != NULL ?
	    tcprog_vrrp_alive_fd(p->ifs.tc) : -1;
}

int
dataplane_hold_group(struct dataplane *p, const char *group, bool hold)
{
	uint32_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->own.n_held && strcmp(p->own.held[i], group) != 0; i++)
		;
	if (hold && i == p->own.n_held) {
		if (p->own.n_held == DP_MAX_HELD || (p->own.held[i] = strdup(group)) == NULL)
			return -1;
		p->own.n_held++;
	} else if (!hold && i < p->own.n_held) {
		free(p->own.held[i]);
		p->own.held[i] = p->own.held[--p->own.n_held];
	} else
		return 0;	/* held already, or never */
	return p->conf != NULL ? dp_owned_apply(p, p->conf) : 0;
}

void
dataplane_announce_group(struct dataplane *p, const char *group, bool lower)
{
	const struct conf *c = p != NULL ? p->conf : NULL;

	for (size_t g = 0; c != NULL && p->own.owner != NULL &&
	    g < c->n_groups; g++)
		if (strcmp(c->groups[g].name, group) == 0)
			owner_announce_again(p->own.owner, (uint16_t)(g + 1),
			    lower);
}

/* ---- drained backends ------------------------------------------------ */

/* Read the engines' removed-but-draining backends; true when the set
 * changed, so the classifier's maps need writing. */
bool
dp_owned_orphans(struct dataplane *p)
{
	static struct dp_orphan v[DP_ORPHAN_MAX];	/* main thread only */
	uint32_t n = dp_call_orphans(p, v);
	bool same = n == p->own.n_orph;

	for (uint32_t i = 0; same && i < n; i++)
		same = v[i].port == p->own.orph[i].port &&
		    v[i].proto == p->own.orph[i].proto &&
		    v[i].family == p->own.orph[i].family &&
		    memcmp(v[i].addr, p->own.orph[i].addr, 16) == 0;
	memcpy(p->own.orph, v, n * sizeof(*v));
	p->own.n_orph = n;
	return !same;
}

static void
orphan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dataplane *p = w->data;

	if (dp_owned_orphans(p) && p->conf != NULL)
		(void)dp_owned_maps(p, p->conf);
}

/* ---- the dead man's switch ------------------------------------------ */

static void
set_alive(struct dataplane *p, uint64_t grace_ns)
{
	uint64_t until = mono_ns() + grace_ns;

	if (p->ifs.kernel && tcprog_set_alive(p->ifs.tc, until) < 0)
		log_warn("fast path: alive map");
	for (uint32_t i = 0; i < p->ifs.n && !p->ifs.kernel; i++)
		if (p->ifs.v[i].prog != NULL &&
		    xdp_prog_set_alive(p->ifs.v[i].prog, until) < 0)
			log_warn("interface %s: classifier alive map", p->ifs.v[i].name);
}

static void
alive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	set_alive(w->data, ALIVE_GRACE_NS);
}

void
dataplane_busy(struct dataplane *p, double seconds)
{
	if (p != NULL)
		set_alive(p, (uint64_t)(seconds * 1e9));
}

/* ---- lifetime -------------------------------------------------------- */

struct stale {
	int	parents[DP_MAX_IF];
	size_t	n_parents;
	int	ifindex[DP_MAX_MACVLANS];
	uint32_t n;
};

static void
stale_one(void *arg, int ifindex, const char *name, int parent)
{
	struct stale *s = arg;
	unsigned fam, vrid;
	int par;
	char end;

	if (sscanf(name, "vr%u-%u-%d%c", &fam, &vrid, &par, &end) != 3 ||
	    (fam != 4 && fam != 6) || par != parent || s->n == DP_MAX_MACVLANS)
		return;
	for (size_t i = 0; i < s->n_parents; i++)
		if (s->parents[i] == parent) {
			s->ifindex[s->n++] = ifindex;
			return;
		}
}

/*
 * The macvlans a killed lbd left on our data interfaces, with the floating
 * addresses on them, go before anything else: before the new classifier
 * replaces the dead one (which drops the addresses' traffic rather than
 * let the kernel reset it), so that the kernel never holds a VIP that
 * nothing guards. Without the address a frame for it is not the kernel's
 * and is dropped; the client retransmits to whoever is master.
 */
void
dp_owned_clear_stale(struct dataplane *p, const struct conf *c)
{
	struct stale s = { .n_parents = 0 };

	for (size_t i = 0; i < c->global.n_ifaces && i < DP_MAX_IF; i++) {
		struct knl_link_info li;

		if (knl_link_by_name(p->knl.nl, c->global.ifaces[i], &li) == 0)
			s.parents[s.n_parents++] = li.ifindex;
	}

	knl_links_each(p->knl.nl, stale_one, &s);
	for (uint32_t i = 0; i < s.n; i++)
		(void)knl_link_del(p->knl.nl, s.ifindex[i]);
	if (s.n > 0)
		log_info("data plane: %u macvlan(s) left by an earlier lbd "
		    "removed, with their addresses", s.n);
}

int
dp_owned_start(struct dataplane *p, const struct conf *c, char *err,
    size_t errlen)
{
	ev_timer_init(&p->own.alive_timer, alive_cb, 0., ALIVE_EVERY);
	p->own.alive_timer.data = p;
	ev_timer_init(&p->own.orphan_timer, orphan_cb, ORPHAN_EVERY, ORPHAN_EVERY);
	p->own.orphan_timer.data = p;
	if ((p->own.owner = owner_new(p->loop, p->knl.nl,
	    c->global.garp_rate)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Once the workers run: addresses, maps, and the switch armed. */
void
dp_owned_go(struct dataplane *p, const struct conf *c)
{
	if (dp_owned_apply(p, c) < 0)
		log_warnx("data plane: some addresses or classifier entries "
		    "could not be set (see above)");
	alive_cb(p->loop, &p->own.alive_timer, 0);
	ev_timer_again(p->loop, &p->own.alive_timer);
	ev_timer_start(p->loop, &p->own.orphan_timer);
}

/* Addresses first: the neighbours stop sending here. The macvlans go
 * once the classifiers are detached (dp_owned_free). */
void
dp_owned_stop(struct dataplane *p)
{
	ev_timer_stop(p->loop, &p->own.alive_timer);
	ev_timer_stop(p->loop, &p->own.orphan_timer);
	for (uint32_t i = 0; i < p->own.n_held; i++)
		free(p->own.held[i]);
	p->own.n_held = 0;
	p->conf = NULL;
	macvlans_follow(p, NULL, 0, false);	/* silent releases */
	owner_free(p->own.owner);
	p->own.owner = NULL;
}

void
dp_owned_free(struct dataplane *p)
{
	for (uint32_t i = 0; i < p->own.n_mv; i++)
		(void)knl_link_del(p->knl.nl, p->own.mv[i].ifindex);
	p->own.n_mv = 0;
	free(p->own.want);
	p->own.want = NULL;
	keymap_free(p->own.want_set);
	p->own.want_set = NULL;
}

bool
dp_owned_holds(const struct dataplane *p, uint8_t family, const uint8_t addr[16])
{
	uint8_t k[KEYMAP_ADDR_LEN];

	/* Out of memory for the set: say held, the cautious answer (the
	 * peer then changes none of ours). */
	return p->own.want_set == NULL ||
	    keymap_get(p->own.want_set, keymap_addr_key(k, family, addr)) != NULL;
}
