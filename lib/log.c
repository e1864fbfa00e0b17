#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"

static bool		use_stderr = true;
static enum log_level	max_level = LOG_LVL_INFO;
static const char	*log_ident = "lbd";

void
log_init(const char *ident, bool to_stderr, enum log_level level)
{
	log_ident = ident;
	use_stderr = to_stderr;
	max_level = level;
	if (!use_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	max_level = level;
}

bool
log_to_stderr(void)
{
	return use_stderr;
}

static void vlog(enum log_level, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vlog(enum log_level level, int saved_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char msg[2048];
	int n;

	if (level > max_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (saved_errno != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(saved_errno));
	if (use_stderr) {
		char when[CLOCK_UTC_LEN];

		utc_ms_str(when);
		fprintf(stderr, "%s %s[%s] %s\n", when, log_ident,
		    names[level], msg);
	} else
		syslog(prio[level], "%s", msg);
}

#define DEFINE_LOG(name, level, with_errno)				\
void									\
name(const char *fmt, ...)						\
{									\
	int e = (with_errno) ? errno : 0;				\
	va_list ap;							\
	va_start(ap, fmt);						\
	vlog(level, e, fmt, ap);					\
	va_end(ap);							\
}

DEFINE_LOG(log_warn, LOG_LVL_WARN, 1)
DEFINE_LOG(log_warnx, LOG_LVL_WARN, 0)
DEFINE_LOG(log_info, LOG_LVL_INFO, 0)
DEFINE_LOG(log_debug, LOG_LVL_DEBUG, 0)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	abort();
}
