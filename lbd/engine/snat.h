/*
 * snat — SNAT port allocation for one-arm mode.
 *
 * Ports are allocated per (SNAT address, backend address, backend port,
 * protocol): the reply tuple backend:port -> snat:PORT must be unique, and
 * that is all that must be. So a pool of N addresses carries N x ~64k
 * connections per backend. One space is a bitmap of the port range; spaces
 * are shared by every service that uses the same SNAT address and backend,
 * created when the configuration is installed (never on the packet path),
 * and looked up through the backend (dp_backend.snat[pool index]).
 *
 * A port stays taken until its connection entry is freed, so a port in
 * TIME_WAIT is never handed out again. Each space starts at a keyed-hash
 * offset in the range and goes up from there.
 *
 * A pool address may have a range of its own (`snat-pool ADDR ports
 * LO-HI`): two nodes sharing an address split its ports, each hands out
 * only its own, and either takes the other's connections (mirrored, or
 * after a failover) whatever their port.
 */
#ifndef LBD_ENGINE_SNAT_H
#define LBD_ENGINE_SNAT_H

#include <stdbool.h>
#include <stdint.h>

struct snat_key {
	uint8_t		snat[16];
	uint8_t		baddr[16];
	uint16_t	bport;		/* network order */
	uint8_t		proto;
	uint8_t		family;
};

struct snat_space {
	struct snat_key	 key;
	struct snat_space *next;	/* registry chain */
	uint32_t	 refs;		/* backends pointing here */
	uint32_t	 used;
	uint32_t	 own;		/* ... of them in lo..hi */
	uint16_t	 lo, hi;	/* what this node hands out */
	uint32_t	 cursor;	/* where the next search starts */
	uint64_t	 bits[1024];	/* bit p set: port p taken */
};

struct snat_registry {
	struct snat_space *head;
	uint16_t	 lo, hi;	/* port range, host order */
	uint64_t	 seed;		/* where each space starts */
	/* With several workers each engine hands out only the ports p with
	 * p % mod == res: a reply to a SNAT port tells which worker owns
	 * its connection (dp_steer). 1 and 0 with one worker. */
	uint32_t	 mod, res;
	/* Per word of the bitmap, the ports outside the class; the pattern
	 * repeats every `period` words (mod <= 64). */
	uint64_t	 theirs[64];
	uint32_t	 period;
};

void	snat_registry_init(struct snat_registry *, uint16_t lo, uint16_t hi,
	    uint64_t seed);
/* Hand out only ports in residue class `res` modulo `mod`. */
void	snat_registry_stride(struct snat_registry *, uint32_t mod, uint32_t res);
/* Find or create the space for `key` (takes a reference). */
struct snat_space *snat_space_get(struct snat_registry *, const struct snat_key *);
void	snat_space_put(struct snat_registry *, struct snat_space *);
/* Hand out only lo..hi of a space (0, 0: the registry's range). */
void	snat_space_range(const struct snat_registry *, struct snat_space *,
	    uint16_t lo, uint16_t hi);
/* How full the space is: its ports in use of those it may hand out, in
 * percent. */
uint32_t snat_space_pct(const struct snat_registry *, const struct snat_space *);
void	snat_registry_free(struct snat_registry *);

/* Take a free port (host order); false when the space is exhausted. */
bool	snat_port_take(const struct snat_registry *, struct snat_space *,
	    uint16_t *port);
/* Reserve a specific port (a mirrored connection, whatever its residue);
 * false when taken. */
bool	snat_port_reserve(const struct snat_registry *, struct snat_space *,
	    uint16_t port);
void	snat_port_release(struct snat_space *, uint16_t port);

#endif /* LBD_ENGINE_SNAT_H */
