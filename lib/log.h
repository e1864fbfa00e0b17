/*
 * log — one event per line, key=value fields, to syslog or stderr.
 *
 *   log_info("reload ok changes=%zu", n);
 *   log_warn("bind %s", path);          appends ": <strerror(errno)>"
 *
 * fatalx() is for broken internal invariants only, never for bad input.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void	log_init(const char *ident, bool to_stderr, enum log_level);
void	log_set_level(enum log_level);
bool	log_to_stderr(void);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* LIB_LOG_H */
