/*
 * Internals shared by the lexer (lexer.l), the grammar (parser.y), the
 * builder (build.c) and the validator (validate.c). Not part of the API.
 */
#ifndef CONF_CONF_INT_H
#define CONF_CONF_INT_H

#include <glob.h>
#include <stdarg.h>

#include "conf/conf.h"

/* Directives, as the grammar hands them to the builder. */
enum conf_key {
	K_NODE_ID, K_WORKERS, K_CONTROL_SOCKET, K_CONN_TABLE_SIZE,
	K_INTERFACE, K_VRID, K_PRIORITY, K_ADVERT_INTERVAL, K_VIRTUAL_ADDRESS,
	K_VERSION, K_PREEMPT, K_PREEMPT_DELAY,
	K_PEER, K_PORT, K_KEY_FILE, K_ACCEPT_KEY_FILE, K_RESYNC_WAIT, K_BACKUP_INTERFACE,
	K_BACKUP_PEER, K_HEARTBEAT_INTERVAL, K_HEARTBEAT_TIMEOUT,
	K_MODE, K_SCHEDULER, K_SNAT_POOL,
	K_INTERVAL, K_TIMEOUT, K_RISE, K_FALL, K_PATH, K_EXPECT, K_HOST,
	K_COMMAND, K_BODY, K_METHOD, K_SEND, K_RECEIVE, K_VERIFY, K_CA_FILE,
	K_TLS_MIN, K_METRICS, K_SOURCE, K_JITTER, K_XDP_MODE, K_DATAPATH, K_HASH_SEED, K_CONTROL_SOCKET_RO, K_SCRIPT_USER,
	K_GARP_COUNT, K_GARP_INTERVAL, K_GARP_REFRESH, K_GARP_RATE,
	K_GARP_LOWER_PRIO, K_NAT_LOG, K_NAT_LOG_RATE,
	K_WEIGHT, K_LISTEN, K_STATELESS, K_ON_BACKEND_DOWN,
	K_MAX_CONNS, K_BACKUP, K_QUORUM, K_SLOW_START, K_ALLOW, K_LIMIT, K_PERSIST, K_ONE_PACKET,
	K_OBSERVE, K_OBSERVE_ERRORS, K_OBSERVE_WINDOW, K_QUERY, K_TYPE,
	K_NOTIFY, K_NOTIFY_TIMEOUT, K_USE_VMAC, K_AUTH_PASS, K_UNICAST_PEER, K_VRRP,
	K_ANNOUNCE_TABLE, K_WITHDRAW_DELAY, K_SNAT_ADDRESSES,
	K__COUNT
};

/* One file being read; the lexer keeps a stack of them for `include`. */
struct conf_src {
	FILE		*fp;		/* NULL for the string source */
	void		*buf;		/* flex YY_BUFFER_STATE */
	const char	*file;		/* interned name */
	int		 line, col;
	glob_t		 glob;		/* the rest of this include's matches */
	size_t		 glob_next;
	bool		 has_glob;
	int		 depth;
};

enum conf_block {
	BLK_TOP, BLK_GLOBAL, BLK_GROUP, BLK_INSTANCE, BLK_SYNC, BLK_CLUSTER, BLK_SERVICE,
	BLK_CHECK,
};

struct conf_parser {
	struct conf		*c;
	struct conf_diags	*diags;
	void			*scanner;

	struct conf_src		 src[CONF_INCLUDE_DEPTH_MAX + 2];
	int			 nsrc;
	char			 last_text[80];	/* the token last lexed, for syntax errors */

	/* Where the builder is. Indexes, not pointers: the arrays grow. */
	enum conf_block		 blk;
	ssize_t			 group, instance, service;
	struct conf_loc		 seen[K__COUNT];	/* first use of each directive in the block */
	struct conf_loc		 check_seen[K__COUNT];
};

/* Diagnostics. */
void	conf_diag_add(struct conf_diags *, enum conf_severity,
	    const struct conf_loc *, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
#define conf_err(p, loc, ...)	conf_diag_add((p)->diags, CONF_ERROR, loc, __VA_ARGS__)
#define conf_warn(p, loc, ...)	conf_diag_add((p)->diags, CONF_WARNING, loc, __VA_ARGS__)

const char *conf_intern_file(struct conf *, const char *name);

/*
 * Room for element n of an array that is only ever appended to (build.c
 * GROW, diagnostics, the diff). It doubles when n is zero or a power of
 * two, so the capacity is implicit and 65,536 elements cost a few copies
 * each instead of one realloc per element: quadratic wherever realloc
 * cannot grow in place (under ASan, parsing 65,536 services took minutes).
 * Returns the array, or NULL when out of memory (the old one stays).
 */
void	*conf_grow(void *arr, size_t n, size_t size);

/* Lexer entry points (lexer.l). */
int	conf_lex_init(struct conf_parser *);
int	conf_lex_push_file(struct conf_parser *, const char *path,
	    const struct conf_loc *from);
int	conf_lex_push_string(struct conf_parser *, const char *name,
	    const char *text);
void	conf_lex_destroy(struct conf_parser *);
int	conf_lex_include(struct conf_parser *, const char *pattern,
	    const struct conf_loc *loc);

/* Builder (build.c), called from grammar actions. Ownership of every
 * `char *` passes to the builder. */
void	b_block_begin(struct conf_parser *, enum conf_block, char *name,
	    const struct conf_loc *);
void	b_block_end(struct conf_parser *);
void	b_data_iface(struct conf_parser *, char *name, const struct conf_loc *);
void	b_nat_log_rate(struct conf_parser *, char *what, char *val,
	    const struct conf_loc *wl, const struct conf_loc *vl);
void	b_garp(struct conf_parser *, char *what, char *val,
	    const struct conf_loc *wloc, const struct conf_loc *vloc);
void	b_set(struct conf_parser *, enum conf_key, char *val,
	    const struct conf_loc *kloc, const struct conf_loc *vloc);
void	b_listen(struct conf_parser *, char *addr, char *proto, char *port,
	    const struct conf_loc *kloc, const struct conf_loc *l1,
	    const struct conf_loc *l2, const struct conf_loc *l3);
void	b_check(struct conf_parser *, char *type, const struct conf_loc *kloc,
	    const struct conf_loc *vloc);
void	b_backend(struct conf_parser *, char *name, char *addrport,
	    const struct conf_loc *kloc, const struct conf_loc *nloc,
	    const struct conf_loc *aloc);
void	b_timeout(struct conf_parser *, char *state, char *dur,
	    const struct conf_loc *kloc, const struct conf_loc *sloc,
	    const struct conf_loc *dloc);
void	b_metrics(struct conf_parser *, char *addrport,
	    const struct conf_loc *kloc, const struct conf_loc *vloc);
void	b_fallback(struct conf_parser *, char *name, char *addrport,
	    const struct conf_loc *kloc, const struct conf_loc *nloc,
	    const struct conf_loc *aloc);
void	b_snat_ports(struct conf_parser *, char *addr, char *range,
	    const struct conf_loc *al, const struct conf_loc *rl);
void	b_mode_tunnel(struct conf_parser *, char *mode, char *kw, char *kind,
	    const struct conf_loc *kl, const struct conf_loc *ml,
	    const struct conf_loc *wl, const struct conf_loc *tl);
void	b_tunnel_opt(struct conf_parser *, enum conf_key, char *val,
	    const struct conf_loc *kl, const struct conf_loc *vl);
void	b_persist(struct conf_parser *, char *dur, char *kw, char *mask,
	    const struct conf_loc *kl, const struct conf_loc *dl,
	    const struct conf_loc *ml);
void	b_limit(struct conf_parser *, char *what, char *rate, char *per,
	    char *burst_kw, char *burst, const struct conf_loc *kl,
	    const struct conf_loc *wl, const struct conf_loc *rl,
	    const struct conf_loc *pl, const struct conf_loc *bl);
void	b_backend_opt(struct conf_parser *, enum conf_key, char *val,
	    const struct conf_loc *vloc);
void	b_track(struct conf_parser *, enum conf_track_type, char *what,
	    const struct conf_loc *kl, const struct conf_loc *vl);
void	b_track_opt(struct conf_parser *, enum conf_key, char *val,
	    const struct conf_loc *vl);
void	b_list_item(struct conf_parser *, enum conf_key, char *val,
	    const struct conf_loc *kloc, const struct conf_loc *vloc);

/* A syntax error hit the current block: validation skips its
 * completeness checks so one mistake is reported once. */
void	conf_mark_incomplete(struct conf_parser *);

/* Names and values (names.c), shared by every conf file. */
extern const char *const conf_key_names[K__COUNT];
extern const char *const conf_mode_names[CONF_MODE__COUNT];
extern const char *const conf_tunnel_names[CONF_TUNNEL__COUNT];
extern const char *const conf_sched_names[CONF_SCHED__COUNT];
extern const char *const conf_check_names[CONF_CHECK__COUNT];
extern const char *const conf_on_down_names[2];
extern const char *const conf_timeout_names[CONF_TO__COUNT];
/* The index of `s` in `names[0..n)`, or -1. */
int	conf_lookup(const char *const *names, size_t n, const char *s);
bool	conf_parse_u32(const char *s, uint32_t *out);
/* "100ms", "2s", "1.5s", "1m", "1h" -> milliseconds. */
bool	conf_parse_duration_ms(const char *s, uint64_t *ms);
bool	conf_parse_addr(const char *s, bool allow_plen, struct conf_addr *);
/* "10.0.0.11:80", "[2001:db8::11]:80", or an address alone (port 0);
 * *port_ok is false when the port is out of 1..65535. */
bool	conf_parse_addr_port(const char *s, struct conf_addr *a, uint32_t *port,
	    bool *port_ok);
/* 1..CONF_NAME_MAX letters, digits, '-', '_' or '.'. */
bool	conf_valid_name(const char *s);
/* 2000 -> "2s", 150 -> "150ms": how durations are written back. */
const char *conf_dur_str(uint64_t ms, char *buf, size_t len);

/* The builder's own helpers (build.c), shared with build_check.c: each
 * reads one value, reports what is wrong at `loc` and returns false. */
bool	b_num(struct conf_parser *, enum conf_key, const char *v,
	    const struct conf_loc *loc, uint32_t lo, uint32_t hi, uint32_t *out);
bool	b_duration(struct conf_parser *, enum conf_key, const char *v,
	    const struct conf_loc *loc, uint32_t lo_ms, uint32_t hi_ms,
	    uint32_t *out);
bool	b_bool(struct conf_parser *, enum conf_key, const char *v,
	    const struct conf_loc *loc, bool *out);
bool	b_name_ok(struct conf_parser *, const char *what, const char *s,
	    const struct conf_loc *loc);
/* A directive given twice in one block is an error, not an override. */
bool	b_first_use(struct conf_parser *, enum conf_key,
	    const struct conf_loc *loc);
/* Move the token string *v into *dst (the builder owns it from now on). */
void	b_take_str(char **dst, char **v);
struct conf_service *b_cur_service(struct conf_parser *);
/* The check block's directives (build_check.c). */
void	b_set_check(struct conf_parser *, enum conf_key, char **v,
	    const struct conf_loc *vl);

/* Append room for element n of an array (see conf_grow). */
#define GROW(arr, n) do {						\
	void *np_ = conf_grow((arr), (n), sizeof(*(arr)));		\
	if (np_ == NULL)						\
		abort();	/* config parsing has no way forward */	\
	(arr) = np_;							\
	memset(&(arr)[(n)], 0, sizeof(*(arr)));				\
} while (0)

/* Cross-object validation (validate.c). */
void	conf_validate(struct conf_parser *);

#endif /* CONF_CONF_INT_H */
