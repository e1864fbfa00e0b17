/*
 * The data interfaces: for each `interface` in global, the XDP classifier
 * and one AF_XDP port per receive queue, the port given to worker q % N.
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

void
dp_iface_desc(const struct knl_link_info *li, struct dp_iface *out)
{
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)li->ifindex;
	memcpy(out->mac, li->mac, 6);
	out->mtu = (uint16_t)(li->mtu > 65535 ? 65535 : li->mtu);
}

/*
 * As many workers as asked, but no more than the data interfaces have
 * receive queues: each worker needs a port of its own on every interface
 * (to send from), and a queue holds one.
 */
uint32_t
dp_ifaces_workers(const struct conf *c)
{
	uint32_t n = c->global.workers > 0 ? c->global.workers : 1;
	uint32_t fewest = WORKER_MAX;
	const char *which = NULL;

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

static int
open_iface(struct dataplane *p, const struct conf *c, const char *name,
    char *err, size_t errlen)
{
	struct dp_if *di = &p->ifs.v[p->ifs.n];
	struct dp_iface ifc;
	char why[256];
	int stale;

	memset(di, 0, sizeof(*di));
	snprintf(di->name, sizeof(di->name), "%s", name);
	if (knl_link_by_name(p->knl.nl, name, &di->info) != 0) {
		snprintf(err, errlen, "interface %s: no such interface", name);
		return -1;
	}
	di->ifindex = di->info.ifindex;
	if ((stale = xdp_prog_remove_stale(di->ifindex)) > 0)
		log_info("interface %s: removed %d classifier(s) left by an "
		    "earlier lbd", name, stale);
	di->prog = xdp_prog_attach(di->ifindex,
	    c->global.xdp_mode == CONF_XDP_GENERIC, why, sizeof(why));
	if (di->prog == NULL) {
		snprintf(err, errlen, "interface %s: %s", name, why);
		return -1;
	}
	if (c->global.xdp_mode == CONF_XDP_NATIVE &&
	    xdp_prog_mode(di->prog) != XDP_PROG_NATIVE) {
		snprintf(err, errlen, "interface %s: native XDP not supported by "
		    "its driver (xdp-mode native); use auto or generic", name);
		xdp_prog_detach(di->prog);
		di->prog = NULL;
		return -1;
	}
	di->nq = rx_queues(name);
	if ((di->ports = calloc(di->nq, sizeof(*di->ports))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dp_iface_desc(&di->info, &ifc);
	if (dp_call_add_iface(p, &ifc) < 0) {
		snprintf(err, errlen, "too many interfaces");
		return -1;
	}
	for (uint32_t q = 0; q < di->nq; q++) {
		if (xsk_port_open(&di->ports[q], name, di->ifindex, q,
		    xdp_prog_xsk_map_fd(di->prog), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "interface %s: %s", name, why);
			return -1;
		}
		di->n_open++;
		di->ports[q].eng_if = (uint16_t)p->ifs.n;
		(void)worker_add_port(p->wk.w[q % p->wk.n], &di->ports[q]);
	}
	log_info("interface %s: ifindex %d, XDP %s mode, %u queue(s), mtu %u",
	    name, di->ifindex, xdp_prog_mode_name(xdp_prog_mode(di->prog)),
	    di->nq, di->info.mtu);
	p->ifs.n++;
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

/* The workers are stopped: the ports and classifiers go. */
void
dp_ifaces_close(struct dataplane *p)
{
	for (uint32_t i = 0; i < DP_MAX_IF; i++) {
		struct dp_if *di = &p->ifs.v[i];

		for (uint32_t q = 0; q < di->n_open; q++)
			xsk_port_close(&di->ports[q]);
		free(di->ports);
		di->ports = NULL;
		di->n_open = 0;
		if (di->prog != NULL)
			xdp_prog_detach(di->prog);
		di->prog = NULL;
	}
}
