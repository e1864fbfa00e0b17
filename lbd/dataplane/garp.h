/*
 * garp — announce that this node now holds an address: a gratuitous ARP
 * (IPv4, an ARP request with sender = target = the address, broadcast) or an
 * unsolicited neighbour advertisement (IPv6, override flag, to all-nodes;
 * the router flag too for a VRRP address, as RFC 5798 6.4.2 has it: it is
 * the hosts' gateway, and a host must not take it for a host),
 * sent with AF_PACKET from the interface that carries the address, so the
 * neighbours' caches and the switches' tables move to our MAC at once.
 */
#ifndef LBD_DATAPLANE_GARP_H
#define LBD_DATAPLANE_GARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Build the frame into buf (at least 128 bytes); returns its length. */
size_t	garp_build(uint8_t *buf, uint8_t family, const uint8_t addr[16],
	    const uint8_t mac[6], bool router);
/* The socket announcements go out on: AF_PACKET, protocol 0 (it receives
 * nothing). Kept open for the process's life: closing a packet socket
 * waits for an RCU grace period (10-15 ms measured), which at a takeover
 * would delay the next address and its announcement. -1 on error. */
int	garp_open(void);
/* Send one announcement on `fd` from garp_open; 0 or -1 (errno set). */
int	garp_send(int fd, int ifindex, uint8_t family, const uint8_t addr[16],
	    const uint8_t mac[6], bool router);

#endif /* LBD_DATAPLANE_GARP_H */
