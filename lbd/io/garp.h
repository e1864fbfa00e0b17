/*
 * garp — announce that this node now holds an address: a gratuitous ARP
 * (IPv4, an ARP request with sender = target = the address, broadcast) or an
 * unsolicited neighbour advertisement (IPv6, override flag, to all-nodes),
 * sent with AF_PACKET from the interface that carries the address, so the
 * neighbours' caches and the switches' tables move to our MAC at once.
 */
#ifndef LBD_IO_GARP_H
#define LBD_IO_GARP_H

#include <stddef.h>
#include <stdint.h>

/* Build the frame into buf (at least 128 bytes); returns its length. */
size_t	garp_build(uint8_t *buf, uint8_t family, const uint8_t addr[16],
	    const uint8_t mac[6]);
/* Send one announcement; 0 or -1 (errno set). */
int	garp_send(int ifindex, uint8_t family, const uint8_t addr[16],
	    const uint8_t mac[6]);

#endif /* LBD_IO_GARP_H */
