/*
 * The data interfaces, in one of two data paths (DESIGN.md section 2):
 *
 *   kernel     the TC fast path on each interface (tcprog.c) forwards
 *              established connections itself and hands the rest to the
 *              engine through an internal veth pair per interface: its
 *              near end (lbdNNNa) takes the punts and sends the engine's
 *              frames out of the interface; its far end (lbdNNNb) carries
 *              the classifier, in "all" mode, and one AF_XDP port per
 *              worker. Nothing is attached that turns an offload off on
 *              the interface or its peer.
 *   userspace  the XDP classifier on the interface itself and one AF_XDP
 *              port per receive queue, given to worker q % N: every packet
 *              through the engine.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/dataplane/dp_int.h"
#include "lib/log.h"

/* conf refuses more than the classifier's maps hold. */
_Static_assert(CONF_SERVICES_MAX <= LBD_CLS_MAX_SVCS &&
    CONF_ALL_BACKENDS_MAX <= LBD_CLS_MAX_BACKENDS,
    "conf limits exceed the classifier maps");

int
dp_if_index(const struct dataplane *p, int ifindex)
{
	for (uint32_t i = 0; i < p->ifs.n; i++)
		if (p->ifs.v[i].ifindex == ifindex)
			return (int)i;
	for (uint32_t i = 0; i < p->own.n_mv; i++)
		if (p->own.mv[i].ifindex == ifindex)
			return dp_if_index(p, p->own.mv[i].parent);
	return -1;
}

static uint32_t
rx_queues(const char *name)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t n = 1;

	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		n = ch.combined_count + ch.rx_count;
		if (n == 0)
			n = 1;
	}
	close(fd);
	return n > LBD_CLS_MAX_QUEUES ? LBD_CLS_MAX_QUEUES : n;
}

/* The first IPv4 address of the interface, and its first global IPv6
 * one (a link-local source cannot reach a client beyond the link). */
static void
own_addr(void *arg, uint8_t family, const uint8_t addr[16], int ifindex)
{
	struct dp_iface *out = arg;

	if ((uint32_t)ifindex != out->ifindex)
		return;
	if (family == 4 && !out->has_addr4) {
		memcpy(out->addr4, addr, 4);
		out->has_addr4 = true;
	} else if (family == 6 && !out->has_addr6 &&
	    !(addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)) {
		memcpy(out->addr6, addr, 16);
		out->has_addr6 = true;
	}
}

void
dp_iface_desc(struct dataplane *p, const struct knl_link_info *li,
    struct dp_iface *out)
{
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)li->ifindex;
	memcpy(out->mac, li->mac, 6);
	out->mtu = (uint16_t)(li->mtu > 65535 ? 65535 : li->mtu);
	knl_addrs_each(p->knl.nl, own_addr, out);
}

/*
 * As many workers as asked. In userspace mode no more than the data
 * interfaces have receive queues: each worker needs a port of its own on
 * every interface (to send from), and a queue holds one. In kernel mode
 * the punt pairs have a queue per worker.
 */
uint32_t
dp_ifaces_workers(const struct dataplane *p, const struct conf *c)
{
	uint32_t n = c->global.workers > 0 ? c->global.workers : 1;
	uint32_t fewest = WORKER_MAX;
	const char *which = NULL;

	if (p->ifs.kernel)
		return n;
	for (size_t i = 0; i < c->global.n_ifaces; i++) {
		uint32_t q = rx_queues(c->global.ifaces[i]);

		if (q < fewest) {
			fewest = q;
			which = c->global.ifaces[i];
		}
	}
	if (n > fewest) {
		log_warnx("workers %u: interface %s has %u receive queue(s); "
		    "running %u worker(s) (more queues: ethtool -L, or "
		    "numrxqueues for veth)", n, which, fewest, fewest);
		n = fewest;
	}
	return n;
}

/* The XDP classifier and AF_XDP ports on `name` (ifindex `ifi`) for data
 * interface `di`: the interface itself, or the far end of its pair. */
static int
open_ports(struct dataplane *p, const struct conf *c, struct dp_if *di,
    const char *name, int ifi, char *err, size_t errlen)
{
	char why[256];
	int stale;

	if ((stale = xdp_prog_remove_stale(ifi)) > 0)
		log_info("interface %s: removed %d classifier(s) left by an "
		    "earlier lbd", name, stale);
	di->prog = xdp_prog_attach(ifi, c->global.xdp_mode == CONF_XDP_GENERIC,
	    why, sizeof(why));
	if (di->prog == NULL) {
		snprintf(err, errlen, "interface %s: %s", name, why);
		return -1;
	}
	if (c->global.xdp_mode == CONF_XDP_NATIVE &&
	    xdp_prog_mode(di->prog) != XDP_PROG_NATIVE) {
		snprintf(err, errlen, "interface %s: native XDP not supported by "
		    "its driver (xdp-mode native); use auto or generic", name);
		return -1;
	}
	if (p->ifs.kernel && xdp_prog_take_all(di->prog) != 0) {
		snprintf(err, errlen, "interface %s: classifier map", name);
		return -1;
	}
	di->nq = p->ifs.kernel ? p->wk.n : rx_queues(name);
	if ((di->ports = calloc(di->nq, sizeof(*di->ports))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t q = 0; q < di->nq; q++) {
		if (xsk_port_open(&di->ports[q], name, ifi, q,
		    xdp_prog_xsk_map_fd(di->prog), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "interface %s: %s", name, why);
			return -1;
		}
		di->n_open++;
		di->ports[q].eng_if = (uint16_t)(di - p->ifs.v);
		(void)worker_add_port(p->wk.w[q % p->wk.n], &di->ports[q]);
	}
	return 0;
}

/* Transmit checksumming off on our own near end: a CHECKSUM_PARTIAL skb
 * punted to it gets its checksum computed in full before the engine sees
 * it (and a GSO one is segmented: a native XDP program on the far end
 * already took GSO off this end). The data interfaces keep theirs. */
static int
tx_csum_off(const char *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc;
}

/* Worker w's transmit-only port on queue w of the data interface, as far
 * as the interface has queues (and nobody else's socket is on one). */
static int
open_tx_ports(struct dataplane *p, struct dp_if *di, char *err, size_t errlen)
{
	char why[256];

	if ((di->txports = calloc(p->wk.n, sizeof(*di->txports))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t q = 0; q < p->wk.n; q++) {
		if (xsk_port_open_tx(&di->txports[q], di->name, di->ifindex, q,
		    why, sizeof(why)) < 0) {
			log_info("interface %s: workers %u and up send through "
			    "the punt pair (%s)", di->name, q, why);
			break;
		}
		di->n_tx++;
		di->txports[q].eng_if = (uint16_t)(di - p->ifs.v);
		(void)worker_add_port(p->wk.w[q], &di->txports[q]);
	}
	return 0;
}

/* The punt pair of data interface `di` and the TC programs on both. */
static int
open_kernel(struct dataplane *p, const struct conf *c, struct dp_if *di,
    char *err, size_t errlen)
{
	char near[IFNAMSIZ], why[256];
	int stale;

	snprintf(near, sizeof(near), "lbd%da", di->ifindex);
	snprintf(di->punt_name, sizeof(di->punt_name), "lbd%db", di->ifindex);
	if ((stale = xdp_prog_remove_stale(di->ifindex)) > 0)
		log_info("interface %s: removed %d classifier(s) left by an "
		    "earlier lbd", di->name, stale);
	if (knl_veth_add(p->knl.nl, near, di->punt_name, p->wk.n,
	    di->info.mtu > 1500 ? di->info.mtu : 1500, &di->punt_near,
	    &di->punt_far) < 0) {
		snprintf(err, errlen, "interface %s: cannot create its punt "
		    "pair %s/%s (see the log)", di->name, near, di->punt_name);
		return -1;
	}
	if (tx_csum_off(near) != 0)
		log_warn("%s: transmit checksumming stays on", near);
	if (open_ports(p, c, di, di->punt_name, di->punt_far, err, errlen) < 0)
		return -1;
	if (tcprog_attach_punt(p->ifs.tc, di->punt_near, di->ifindex, why,
	    sizeof(why)) < 0) {
		snprintf(err, errlen, "interface %s: %s", di->name, why);
		return -1;
	}
	return open_tx_ports(p, di, err, errlen);
}

int
dp_ifaces_arm(struct dataplane *p, char *err, size_t errlen)
{
	char why[256];

	for (uint32_t i = 0; p->ifs.kernel && i < p->ifs.n; i++) {
		struct dp_if *di = &p->ifs.v[i];

		if (tcprog_attach_data(p->ifs.tc, di->ifindex, di->punt_near, why,
		    sizeof(why)) < 0) {
			snprintf(err, errlen, "interface %s: %s", di->name, why);
			return -1;
		}
	}
	return 0;
}

static int
open_iface(struct dataplane *p, const struct conf *c, const char *name,
    char *err, size_t errlen)
{
	struct dp_if *di = &p->ifs.v[p->ifs.n];
	struct dp_iface ifc;

	memset(di, 0, sizeof(*di));
	snprintf(di->name, sizeof(di->name), "%s", name);
	if (knl_link_by_name(p->knl.nl, name, &di->info) != 0) {
		snprintf(err, errlen, "interface %s: no such interface", name);
		return -1;
	}
	di->ifindex = di->info.ifindex;
	/* Bigger frames would be dropped without a word: refuse now. */
	if (di->info.mtu > DP_MTU_MAX) {
		snprintf(err, errlen, "interface %s: mtu %u is more than lbd "
		    "forwards (at most %u: the engine's frames and the XDP "
		    "program on its punt pair each fit one 4096-byte page); "
		    "set the interface's mtu to %u or less", name, di->info.mtu,
		    DP_MTU_MAX, DP_MTU_MAX);
		return -1;
	}
	dp_iface_desc(p, &di->info, &ifc);
	if (dp_call_add_iface(p, &ifc) < 0) {
		snprintf(err, errlen, "too many interfaces");
		return -1;
	}
	p->ifs.n++;
	if (p->ifs.kernel ? open_kernel(p, c, di, err, errlen) :
	    open_ports(p, c, di, name, di->ifindex, err, errlen))
		return -1;
	if (p->ifs.kernel)
		log_info("interface %s: ifindex %d, kernel fast path (TC), punt "
		    "pair %s with XDP %s, %u queue(s), mtu %u", name, di->ifindex,
		    di->punt_name, xdp_prog_mode_name(xdp_prog_mode(di->prog)),
		    di->nq, di->info.mtu);
	else
		log_info("interface %s: ifindex %d, XDP %s mode, %u queue(s), "
		    "mtu %u", name, di->ifindex,
		    xdp_prog_mode_name(xdp_prog_mode(di->prog)), di->nq,
		    di->info.mtu);
	return 0;
}

int
dp_ifaces_open(struct dataplane *p, const struct conf *c, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < c->global.n_ifaces; i++)
		if (open_iface(p, c, c->global.ifaces[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* The workers are stopped: the fast path, the ports, the classifiers and
 * the punt pairs go. */
void
dp_ifaces_close(struct dataplane *p)
{
	bool made[DP_MAX_IF];

	for (uint32_t i = 0; i < DP_MAX_IF; i++)
		made[i] = p->ifs.v[i].ifindex > 0 &&
		    tcprog_made_clsact(p->ifs.tc, p->ifs.v[i].ifindex);
	tcprog_close(p->ifs.tc);
	p->ifs.tc = NULL;
	/* A clsact lbd added goes too, unless someone put a filter of
	 * theirs on it meanwhile. */
	for (uint32_t i = 0; i < DP_MAX_IF; i++)
		if (made[i] && knl_tc_filters(p->knl.nl, p->ifs.v[i].ifindex) == 0)
			tcprog_clsact_drop(p->ifs.v[i].ifindex);
	for (uint32_t i = 0; i < DP_MAX_IF; i++) {
		struct dp_if *di = &p->ifs.v[i];

		for (uint32_t q = 0; q < di->n_open; q++)
			xsk_port_close(&di->ports[q]);
		free(di->ports);
		di->ports = NULL;
		di->n_open = 0;
		for (uint32_t q = 0; q < di->n_tx; q++)
			xsk_port_close(&di->txports[q]);
		free(di->txports);
		di->txports = NULL;
		di->n_tx = 0;
		if (di->prog != NULL)
			xdp_prog_detach(di->prog);
		di->prog = NULL;
		if (di->punt_near > 0)
			(void)knl_link_del(p->knl.nl, di->punt_near);
		di->punt_near = di->punt_far = 0;
	}
}

/*
 * `datapath auto` runs the kernel's fast path wherever its programs load;
 * `kernel` insists on it; `userspace` never takes it. Decided before the
 * workers are made (the engines offload only in kernel mode).
 */
int
dp_ifaces_choose(struct dataplane *p, const struct conf *c, char *err,
    size_t errlen)
{
	uint64_t flows = 2ull * c->global.conn_table_size;
	char why[160];

	if (flows > (1u << 24))
		flows = 1u << 24;
	if (c->global.datapath == CONF_DP_USERSPACE) {
		snprintf(p->ifs.why, sizeof(p->ifs.why), "datapath userspace "
		    "in the config");
		return 0;
	}
	if ((p->ifs.tc = tcprog_open((uint32_t)flows, why, sizeof(why))) != NULL) {
		p->ifs.kernel = true;
		snprintf(p->ifs.why, sizeof(p->ifs.why), "%s",
		    c->global.datapath == CONF_DP_KERNEL ? "datapath kernel in "
		    "the config" : "the kernel runs the TC fast path (datapath "
		    "auto)");
		return 0;
	}
	if (c->global.datapath == CONF_DP_KERNEL) {
		snprintf(err, errlen, "datapath kernel: %s", why);
		return -1;
	}
	snprintf(p->ifs.why, sizeof(p->ifs.why), "the TC fast path cannot run "
	    "here (%s); every packet through the engine", why);
	log_warnx("data plane: %s", p->ifs.why);
	return 0;
}
