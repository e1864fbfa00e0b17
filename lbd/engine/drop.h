/*
 * Reasons the engine drops (or refuses) a frame. One counter per reason; the
 * names are the ones `lbctl show errors`, JSON and Prometheus use.
 */
#ifndef LBD_ENGINE_DROP_H
#define LBD_ENGINE_DROP_H

#define DP_DROP_REASONS(X)						\
	X(NONE,			"none")					\
	/* malformed input */						\
	X(SHORT_ETH,		"short_eth")				\
	X(SHORT_VLAN,		"short_vlan")				\
	X(SHORT_IP,		"short_ip")				\
	X(BAD_IP_VERSION,	"bad_ip_version")			\
	X(BAD_IHL,		"bad_ihl")				\
	X(BAD_IP_LEN,		"bad_ip_len")				\
	X(BAD_IP_CSUM,		"bad_ip_csum")				\
	X(BAD_FRAG,		"bad_frag")				\
	X(BAD_EXT_HDR,		"bad_ext_hdr")				\
	X(SHORT_L4,		"short_l4")				\
	X(BAD_TCP_HLEN,		"bad_tcp_hlen")				\
	X(SHORT_ICMP_INNER,	"short_icmp_inner")			\
	X(BAD_ICMP_INNER,	"bad_icmp_inner")			\
	/* policy */							\
	X(FRAGMENT,		"fragment")				\
	X(NO_CONN,		"no_conn")				\
	X(NO_BACKEND,		"no_backend")				\
	X(BACKENDS_FULL,	"backends_full")			\
	X(NOT_ALLOWED,		"not_allowed")				\
	X(RATE_LIMITED,		"rate_limited")				\
	X(SNAT_EXHAUSTED,	"snat_exhausted")			\
	X(TABLE_FULL,		"table_full")				\
	X(TUPLE_CONFLICT,	"tuple_conflict")			\
	X(NO_ROUTE,		"no_route")				\
	X(TUNNEL_NO_SOURCE,	"tunnel_no_source")			\
	X(NEIGH_UNRESOLVED,	"neigh_unresolved")			\
	X(TTL_EXCEEDED,		"ttl_exceeded")				\
	X(TOO_BIG,		"too_big")				\
	X(ICMP_NO_CONN,		"icmp_no_conn")				\
	X(BACKEND_DOWN,		"backend_down")				\
	X(RST_OUT_OF_WINDOW,	"rst_out_of_window")

enum dp_drop {
#define DP_DROP_ENUM(name, str)	DP_DROP_##name,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP__COUNT
};

const char	*dp_drop_name(enum dp_drop);

#endif /* LBD_ENGINE_DROP_H */
