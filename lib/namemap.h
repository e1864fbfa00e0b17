/*
 * namemap — name -> index lookups for tables rebuilt on reload (backends,
 * health checks), so carrying state across a reload and answering per-
 * backend queries stay linear in the number of backends, not quadratic.
 * Open addressing over FNV-1a; the names live in the caller's table.
 */
#ifndef LIB_NAMEMAP_H
#define LIB_NAMEMAP_H

#include <stddef.h>
#include <stdint.h>

struct namemap {
	uint32_t	*slot;		/* index + 1; 0 empty */
	size_t		 mask;
};

/* `name_of(arg, i)` gives the name of entry i (0..n-1). -1: out of memory. */
int	namemap_build(struct namemap *, size_t n,
	    const char *(*name_of)(const void *arg, size_t i), const void *arg);
/* The index of `name`, or -1. */
long	namemap_find(const struct namemap *, const char *name,
	    const char *(*name_of)(const void *arg, size_t i), const void *arg);
void	namemap_free(struct namemap *);

#endif /* LIB_NAMEMAP_H */
