/*
 * buf — a growable byte buffer for replies and output queues.
 * Allocation failure leaves the buffer marked `oom` and unchanged; callers
 * check it once at the end instead of after every append.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

void	buf_append(struct buf *, const void *, size_t);
void	buf_puts(struct buf *, const char *);
void	buf_printf(struct buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void	buf_consume(struct buf *, size_t n);
void	buf_reset(struct buf *);
void	buf_free(struct buf *);
/* NUL-terminated view (the NUL is not counted in len). */
const char *buf_cstr(struct buf *);

/* JSON pieces. */
void	buf_json_str(struct buf *, const char *);

#endif /* LIB_BUF_H */
