#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>

#include <errno.h>
#include <string.h>

#include "lbd/dataplane/garp.h"
#include "lib/addr.h"

size_t
garp_build(uint8_t *f, uint8_t family, const uint8_t addr[16],
    const uint8_t mac[6], bool router)
{
	if (family == 4) {
		uint8_t *a = f + 14;

		memset(f, 0xff, 6);			/* broadcast */
		memcpy(f + 6, mac, 6);
		put16(f + 12, ETH_P_ARP);
		put16(a, ARPHRD_ETHER);
		put16(a + 2, ETH_P_IP);
		a[4] = 6;
		a[5] = 4;
		put16(a + 6, ARPOP_REQUEST);
		memcpy(a + 8, mac, 6);			/* sender */
		memcpy(a + 14, addr, 4);
		memset(a + 18, 0, 6);			/* target MAC unknown */
		memcpy(a + 24, addr, 4);		/* target = sender */
		memset(f + 42, 0, 18);			/* pad to 60 */
		return 60;
	}
	/* Ethernet, IPv6 (40), NA (24), target link-layer option (8). */
	uint8_t *ip = f + 14, *na = ip + 40;
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	uint32_t sum = 0;

	f[0] = 0x33; f[1] = 0x33; f[2] = 0; f[3] = 0; f[4] = 0; f[5] = 1;
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_P_IPV6);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, 32);			/* payload length */
	ip[6] = 58;				/* ICMPv6 */
	ip[7] = 255;				/* hop limit: ND requires it */
	memcpy(ip + 8, addr, 16);		/* from the address itself */
	memcpy(ip + 24, all_nodes, 16);
	memset(na, 0, 32);
	na[0] = 136;				/* neighbour advertisement */
	na[4] = router ? 0xa0 : 0x20;		/* (router,) override */
	memcpy(na + 8, addr, 16);		/* target */
	na[24] = 2;				/* target link-layer address */
	na[25] = 1;				/* 8 bytes */
	memcpy(na + 26, mac, 6);
	/* Checksum over the pseudo-header and the message. */
	for (int i = 0; i < 32; i += 2)
		sum += (uint32_t)(ip[8 + i] << 8 | ip[9 + i]);
	sum += 32 + 58;
	for (int i = 0; i < 32; i += 2)
		sum += (uint32_t)(na[i] << 8 | na[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(na + 2, (uint16_t)~sum);
	return 14 + 40 + 32;
}

int
garp_open(void)
{
	return socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
}

int
garp_send(int fd, int ifindex, uint8_t family, const uint8_t addr[16],
    const uint8_t mac[6], bool router)
{
	struct sockaddr_ll sll;
	uint8_t f[128];
	size_t len = garp_build(f, family, addr, mac, router);

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, f, 6);
	return sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
	    (ssize_t)len ? 0 : -1;
}
