/*
 * spsc — a bounded ring of fixed-size slots between exactly one producer
 * thread and one consumer thread, with no lock: each side owns one index
 * and reads the other's with acquire ordering. Workers hand frames to the
 * worker that owns their connection through these (worker.c).
 *
 * The producer fills slots in place (spsc_prod_slot) and publishes them in
 * one step (spsc_prod_commit); the consumer reads them in place
 * (spsc_cons_slot) and gives them back in one step (spsc_cons_release), so
 * a batch costs two atomic stores, not two per frame.
 */
#ifndef LIB_SPSC_H
#define LIB_SPSC_H

#include <stdint.h>

struct spsc;

/* `slots` is rounded up to a power of two. */
struct spsc	*spsc_new(uint32_t slots, uint32_t slot_size);
void		 spsc_free(struct spsc *);

/* Producer: the i-th slot past what it has committed, or NULL when the
 * ring has no room for it. */
void		*spsc_prod_slot(struct spsc *, uint32_t i);
void		 spsc_prod_commit(struct spsc *, uint32_t n);

/* Consumer: how many slots wait; the i-th of them; give back n. */
uint32_t	 spsc_cons_avail(struct spsc *);
void		*spsc_cons_slot(struct spsc *, uint32_t i);
void		 spsc_cons_release(struct spsc *, uint32_t n);

uint32_t	 spsc_slot_size(const struct spsc *);

#endif /* LIB_SPSC_H */
