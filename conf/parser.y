/*
 * Grammar of the lbd configuration language (see conf/conf.h, lbd.conf(5)).
 *
 *   file      := { global | vrrp-group | sync | cluster | service }
 *   global    := "global" "{" { node-id V | workers V | control-socket V
 *                 | conn-table-size V | timeout STATE DURATION
 *                 | metrics listen ADDR:PORT | interface V | xdp-mode V
 *                 | datapath V
 *                 | garp count|interval|refresh V | vrrp V
 *                 | notify-timeout V } "}"
 *   vrrp-group:= "vrrp-group" NAME "{" { instance | notify V } "}"
 *   instance  := "instance" NAME "{" { interface V | vrid V | priority V
 *                 | advert-interval V | virtual-address V+ | version V
 *                 | preempt V | preempt-delay V | notify V | use-vmac V
 *                 | unicast-peer V+
 *                 | track-interface|track-service|track-script V
 *                   [ weight V ] [ interval V ] } "}"
 *   cluster   := "cluster" "{" { announce-table V | withdraw-delay V
 *                 | snat-addresses ADDR+ } "}"
 *   sync      := "sync" "{" { interface V | peer V | port V | key-file V
 *                 | resync-wait V | backup-interface V | backup-peer V
 *                 | heartbeat-interval V | heartbeat-timeout V } "}"
 *   service   := "service" NAME "{" { listen ADDR PROTO PORT | mode V
 *                 | mode dsr tunnel ipip|gue [ port N ] [ source PREFIX ]
 *                 | scheduler V | stateless V | on-backend-down V
 *                 | quorum V | slow-start V | allow PREFIX+
 *                 | snat-pool { ADDR [ ports LO-HI ] }+
 *                 | limit new-conns N/s per-source [ burst N ]
 *                 | persist DURATION [ netmask /N ] | one-packet V
 *                 | timeout udp DURATION
 *                 | check TYPE [ "{" ... "}" ]
 *                 | backend NAME ADDR:PORT [ weight V ] [ max-conns V ] [ backup ]
 *                 | fallback NAME ADDR:PORT } "}"
 *
 * Values are checked by the builder (build.c), not here, so that a bad value
 * gets a message about the value ("vrid 300 out of range 1..255") at its own
 * column instead of a generic syntax error. Syntax errors recover at the
 * enclosing block's item list, so every error in a file is reported.
 */
%define api.pure full
%define api.location.type {struct conf_loc}
%define parse.error custom
%locations
%parse-param {void *scanner} {struct conf_parser *p}
%lex-param {void *scanner}

%code requires {
#include "conf/conf_int.h"
}

%code {
#include <stdlib.h>
#include <string.h>

int yylex(YYSTYPE *, YYLTYPE *, void *);

/* A rule's location is where its first symbol starts. */
#define YYLLOC_DEFAULT(Cur, Rhs, N) do {				\
	if (N)								\
		(Cur) = YYRHSLOC(Rhs, 1);				\
	else								\
		(Cur) = YYRHSLOC(Rhs, 0);				\
} while (0)

static void
yyerror(YYLTYPE *loc, void *scanner, struct conf_parser *p, const char *msg)
{
	conf_err(p, loc, "%s", msg);
}
}

%union {
	char	*str;
}

%token <str>	WORD "word" NUMBER "number" DURATION "duration" STRING "string"
%token		T_GLOBAL "global" T_NODE_ID "node-id" T_WORKERS "workers"
		T_CONTROL_SOCKET "control-socket"
		T_CONN_TABLE_SIZE "conn-table-size"
		T_VRRP_GROUP "vrrp-group" T_INSTANCE "instance"
		T_INTERFACE "interface" T_VRID "vrid" T_PRIORITY "priority"
		T_ADVERT_INTERVAL "advert-interval"
		T_VIRTUAL_ADDRESS "virtual-address" T_VERSION "version"
		T_PREEMPT "preempt" T_PREEMPT_DELAY "preempt-delay"
		T_SYNC "sync" T_PEER "peer" T_PORT "port" T_KEY_FILE "key-file" T_ACCEPT_KEY_FILE "accept-key-file"
		T_RESYNC_WAIT "resync-wait" T_BACKUP_INTERFACE "backup-interface"
		T_BACKUP_PEER "backup-peer" T_HEARTBEAT_INTERVAL "heartbeat-interval"
		T_HEARTBEAT_TIMEOUT "heartbeat-timeout"
		T_SERVICE "service" T_LISTEN "listen" T_MODE "mode"
		T_SCHEDULER "scheduler" T_SNAT_POOL "snat-pool" T_CHECK "check"
		T_BACKEND "backend" T_WEIGHT "weight" T_INTERVAL "interval"
		T_TIMEOUT "timeout" T_RISE "rise" T_FALL "fall" T_PATH "path"
		T_EXPECT "expect" T_HOST "host" T_COMMAND "command"
		T_STATELESS "stateless" T_ON_BACKEND_DOWN "on-backend-down" T_BODY "body" T_METHOD "method"
		T_SEND "send" T_RECEIVE "receive" T_VERIFY "verify"
		T_CA_FILE "ca-file" T_TLS_MIN "tls-min" T_METRICS "metrics"
		T_SOURCE "source" T_JITTER "jitter" T_FALLBACK "fallback"
		T_XDP_MODE "xdp-mode" T_DATAPATH "datapath" T_HASH_SEED "hash-seed" T_SCRIPT_USER "script-user" T_CONTROL_SOCKET_RO "control-socket-readonly" T_GARP "garp"
		T_TRACK_INTERFACE "track-interface" T_TRACK_SERVICE "track-service"
		T_TRACK_SCRIPT "track-script" T_NOTIFY "notify"
		T_NOTIFY_TIMEOUT "notify-timeout" T_UNICAST_PEER "unicast-peer"
		T_USE_VMAC "use-vmac" T_AUTH_PASS "auth-pass" T_VRRP "vrrp"
		T_NAT_LOG "nat-log" T_MAX_CONNS "max-conns" T_BACKUP "backup"
		T_QUORUM "quorum" T_SLOW_START "slow-start" T_ALLOW "allow"
		T_LIMIT "limit" T_PERSIST "persist" T_ONE_PACKET "one-packet"
		T_PORTS "ports" T_OBSERVE "observe" T_OBSERVE_ERRORS "observe-errors"
		T_OBSERVE_WINDOW "observe-window" T_QUERY "query" T_TYPE "type"
		T_CLUSTER "cluster" T_ANNOUNCE_TABLE "announce-table"
		T_WITHDRAW_DELAY "withdraw-delay" T_SNAT_ADDRESSES "snat-addresses"

%type <str>	value name

%destructor { free($$); } <str>

%%

file		: %empty
		| file top		{ yyerrok; }
		| file error
		;

top		: global
		| group
		| sync
		| cluster
		| service
		;

value		: WORD | NUMBER | DURATION | STRING ;
name		: WORD | NUMBER | STRING ;

/* ---- global ---- */

global		: global_head global_items '}'		{ b_block_end(p); }
		;
global_head	: "global" '{'				{ b_block_begin(p, BLK_GLOBAL, NULL, &@1); }
		;
global_items	: %empty
		| global_items global_item	{ yyerrok; }
		| global_items error
		;
global_item	: "node-id" value		{ b_set(p, K_NODE_ID, $2, &@1, &@2); }
		| "workers" value		{ b_set(p, K_WORKERS, $2, &@1, &@2); }
		| "control-socket" value	{ b_set(p, K_CONTROL_SOCKET, $2, &@1, &@2); }
		| "control-socket-readonly" value { b_set(p, K_CONTROL_SOCKET_RO, $2, &@1, &@2); }
		| "script-user" value		{ b_set(p, K_SCRIPT_USER, $2, &@1, &@2); }
		| "conn-table-size" value	{ b_set(p, K_CONN_TABLE_SIZE, $2, &@1, &@2); }
		| "timeout" value value		{ b_timeout(p, $2, $3, &@1, &@2, &@3); }
		| "metrics" "listen" value	{ b_metrics(p, $3, &@1, &@3); }
		| "interface" value		{ b_data_iface(p, $2, &@2); }
		| "xdp-mode" value		{ b_set(p, K_XDP_MODE, $2, &@1, &@2); }
		| "datapath" value		{ b_set(p, K_DATAPATH, $2, &@1, &@2); }
		| "hash-seed" value		{ b_set(p, K_HASH_SEED, $2, &@1, &@2); }
		| "garp" value value		{ b_garp(p, $2, $3, &@2, &@3); }
		| "garp" "interval" value	{ b_garp(p, strdup("interval"), $3, &@2, &@3); }
		| "vrrp" value			{ b_set(p, K_VRRP, $2, &@1, &@2); }
		| "notify-timeout" value	{ b_set(p, K_NOTIFY_TIMEOUT, $2, &@1, &@2); }
		| "nat-log" value		{ b_set(p, K_NAT_LOG, $2, &@1, &@2); }
		| "nat-log" value value		{ b_nat_log_rate(p, $2, $3, &@2, &@3); }
		;

/* ---- vrrp-group / instance ---- */

group		: group_head group_items '}'		{ b_block_end(p); }
		;
group_head	: "vrrp-group" name '{'			{ b_block_begin(p, BLK_GROUP, $2, &@2); }
		;
group_items	: %empty
		| group_items instance	{ yyerrok; }
		| group_items "notify" value	{ b_set(p, K_NOTIFY, $3, &@2, &@3); yyerrok; }
		| group_items error
		;
instance	: instance_head instance_items '}'	{ b_block_end(p); }
		;
instance_head	: "instance" name '{'			{ b_block_begin(p, BLK_INSTANCE, $2, &@2); }
		;
instance_items	: %empty
		| instance_items instance_item	{ yyerrok; }
		| instance_items error
		;
instance_item	: "interface" value		{ b_set(p, K_INTERFACE, $2, &@1, &@2); }
		| "vrid" value			{ b_set(p, K_VRID, $2, &@1, &@2); }
		| "priority" value		{ b_set(p, K_PRIORITY, $2, &@1, &@2); }
		| "advert-interval" value	{ b_set(p, K_ADVERT_INTERVAL, $2, &@1, &@2); }
		| "version" value		{ b_set(p, K_VERSION, $2, &@1, &@2); }
		| "preempt" value		{ b_set(p, K_PREEMPT, $2, &@1, &@2); }
		| "preempt-delay" value		{ b_set(p, K_PREEMPT_DELAY, $2, &@1, &@2); }
		| "virtual-address" vaddr_list
		| "notify" value		{ b_set(p, K_NOTIFY, $2, &@1, &@2); }
		| "use-vmac" value		{ b_set(p, K_USE_VMAC, $2, &@1, &@2); }
		| "auth-pass" value		{ b_set(p, K_AUTH_PASS, $2, &@1, &@2); }
		| "garp" value value		{ b_garp(p, $2, $3, &@2, &@3); }
		| "garp" "interval" value	{ b_garp(p, strdup("interval"), $3, &@2, &@3); }
		| "unicast-peer" peer_list
		| track
		;
vaddr_list	: vaddr
		| vaddr_list vaddr
		;
vaddr		: value				{ b_list_item(p, K_VIRTUAL_ADDRESS, $1, &@1, &@1); }
		;
peer_list	: peer
		| peer_list peer
		;
peer		: value				{ b_list_item(p, K_UNICAST_PEER, $1, &@1, &@1); }
		;
track		: track_head track_opts
		;
track_head	: "track-interface" value	{ b_track(p, CONF_TRACK_INTERFACE, $2, &@1, &@2); }
		| "track-service" value		{ b_track(p, CONF_TRACK_SERVICE, $2, &@1, &@2); }
		| "track-script" value		{ b_track(p, CONF_TRACK_SCRIPT, $2, &@1, &@2); }
		;
track_opts	: %empty
		| track_opts "weight" value	{ b_track_opt(p, K_WEIGHT, $3, &@3); }
		| track_opts "interval" value	{ b_track_opt(p, K_INTERVAL, $3, &@3); }
		;

/* ---- sync ---- */

sync		: sync_head sync_items '}'		{ b_block_end(p); }
		;
sync_head	: "sync" '{'				{ b_block_begin(p, BLK_SYNC, NULL, &@1); }
		;
sync_items	: %empty
		| sync_items sync_item	{ yyerrok; }
		| sync_items error
		;
sync_item	: "interface" value		{ b_set(p, K_INTERFACE, $2, &@1, &@2); }
		| "peer" value			{ b_set(p, K_PEER, $2, &@1, &@2); }
		| "port" value			{ b_set(p, K_PORT, $2, &@1, &@2); }
		| "key-file" value		{ b_set(p, K_KEY_FILE, $2, &@1, &@2); }
		| "accept-key-file" value	{ b_set(p, K_ACCEPT_KEY_FILE, $2, &@1, &@2); }
		| "resync-wait" value		{ b_set(p, K_RESYNC_WAIT, $2, &@1, &@2); }
		| "backup-interface" value	{ b_set(p, K_BACKUP_INTERFACE, $2, &@1, &@2); }
		| "backup-peer" value		{ b_set(p, K_BACKUP_PEER, $2, &@1, &@2); }
		| "heartbeat-interval" value	{ b_set(p, K_HEARTBEAT_INTERVAL, $2, &@1, &@2); }
		| "heartbeat-timeout" value	{ b_set(p, K_HEARTBEAT_TIMEOUT, $2, &@1, &@2); }
		;

/* ---- cluster ---- */

cluster		: cluster_head cluster_items '}'	{ b_block_end(p); }
		;
cluster_head	: "cluster" '{'				{ b_block_begin(p, BLK_CLUSTER, NULL, &@1); }
		;
cluster_items	: %empty
		| cluster_items cluster_item	{ yyerrok; }
		| cluster_items error
		;
cluster_item	: "announce-table" value	{ b_set(p, K_ANNOUNCE_TABLE, $2, &@1, &@2); }
		| "withdraw-delay" value	{ b_set(p, K_WITHDRAW_DELAY, $2, &@1, &@2); }
		| "snat-addresses" own_list
		;
own_list	: own_item
		| own_list own_item
		;
own_item	: value				{ b_list_item(p, K_SNAT_ADDRESSES, $1, &@1, &@1); }
		;

/* ---- service ---- */

service		: service_head service_items '}'	{ b_block_end(p); }
		;
service_head	: "service" name '{'			{ b_block_begin(p, BLK_SERVICE, $2, &@2); }
		;
service_items	: %empty
		| service_items service_item	{ yyerrok; }
		| service_items error
		;
service_item	: "listen" value value value
			{ b_listen(p, $2, $3, $4, &@1, &@2, &@3, &@4); }
		| "mode" value			{ b_set(p, K_MODE, $2, &@1, &@2); }
		| mode_tunnel tunnel_opts
		| "scheduler" value		{ b_set(p, K_SCHEDULER, $2, &@1, &@2); }
		| "stateless" value		{ b_set(p, K_STATELESS, $2, &@1, &@2); }
		| "on-backend-down" value	{ b_set(p, K_ON_BACKEND_DOWN, $2, &@1, &@2); }
		| "quorum" value		{ b_set(p, K_QUORUM, $2, &@1, &@2); }
		| "slow-start" value		{ b_set(p, K_SLOW_START, $2, &@1, &@2); }
		| "snat-pool" snat_list
		| "one-packet" value		{ b_set(p, K_ONE_PACKET, $2, &@1, &@2); }
		| "timeout" value value		{ b_timeout(p, $2, $3, &@1, &@2, &@3); }
		| "persist" value		{ b_persist(p, $2, NULL, NULL, &@1, &@2, NULL); }
		| "persist" value value value	{ b_persist(p, $2, $3, $4, &@1, &@2, &@3); }
		| "allow" allow_list
		| "limit" value value value
			{ b_limit(p, $2, $3, $4, NULL, NULL, &@1, &@2, &@3, &@4, NULL); }
		| "limit" value value value value value
			{ b_limit(p, $2, $3, $4, $5, $6, &@1, &@2, &@3, &@4, &@5); }
		| check
		| backend
		| "fallback" name value		{ b_fallback(p, $2, $3, &@1, &@2, &@3); }
		;
/* `mode dsr tunnel ipip|gue [port N] [source PREFIX]`, the options applied
 * to the service as they come, as backend_opts are. */
mode_tunnel	: "mode" value value value
			{ b_mode_tunnel(p, $2, $3, $4, &@1, &@2, &@3, &@4); }
		;
tunnel_opts	: %empty
		| tunnel_opts "port" value	{ b_tunnel_opt(p, K_PORT, $3, &@2, &@3); }
		| tunnel_opts "source" value	{ b_tunnel_opt(p, K_SOURCE, $3, &@2, &@3); }
		;
snat_list	: snat_addr
		| snat_list snat_addr
		;
snat_addr	: value				{ b_list_item(p, K_SNAT_POOL, $1, &@1, &@1); }
		| value "ports" value		{ b_snat_ports(p, $1, $3, &@1, &@3); }
		;
allow_list	: allow_item
		| allow_list allow_item
		;
allow_item	: value				{ b_list_item(p, K_ALLOW, $1, &@1, &@1); }
		;

check		: check_head
		| check_head check_block
		;
check_head	: "check" value			{ b_check(p, $2, &@1, &@2); }
		;
check_block	: check_open check_items '}'	{ b_block_end(p); }
		;
check_open	: '{'				{ b_block_begin(p, BLK_CHECK, NULL, &@1); }
		;
check_items	: %empty
		| check_items check_item	{ yyerrok; }
		| check_items error
		;
check_item	: "interval" value		{ b_set(p, K_INTERVAL, $2, &@1, &@2); }
		| "timeout" value		{ b_set(p, K_TIMEOUT, $2, &@1, &@2); }
		| "rise" value			{ b_set(p, K_RISE, $2, &@1, &@2); }
		| "fall" value			{ b_set(p, K_FALL, $2, &@1, &@2); }
		| "port" value			{ b_set(p, K_PORT, $2, &@1, &@2); }
		| "path" value			{ b_set(p, K_PATH, $2, &@1, &@2); }
		| "expect" value		{ b_set(p, K_EXPECT, $2, &@1, &@2); }
		| "host" value			{ b_set(p, K_HOST, $2, &@1, &@2); }
		| "command" value		{ b_set(p, K_COMMAND, $2, &@1, &@2); }
		| "body" value			{ b_set(p, K_BODY, $2, &@1, &@2); }
		| "method" value		{ b_set(p, K_METHOD, $2, &@1, &@2); }
		| "send" value			{ b_set(p, K_SEND, $2, &@1, &@2); }
		| "receive" value		{ b_set(p, K_RECEIVE, $2, &@1, &@2); }
		| "verify" value		{ b_set(p, K_VERIFY, $2, &@1, &@2); }
		| "ca-file" value		{ b_set(p, K_CA_FILE, $2, &@1, &@2); }
		| "tls-min" value		{ b_set(p, K_TLS_MIN, $2, &@1, &@2); }
		| "source" value		{ b_set(p, K_SOURCE, $2, &@1, &@2); }
		| "jitter" value		{ b_set(p, K_JITTER, $2, &@1, &@2); }
		| "observe" value		{ b_set(p, K_OBSERVE, $2, &@1, &@2); }
		| "observe-errors" value	{ b_set(p, K_OBSERVE_ERRORS, $2, &@1, &@2); }
		| "observe-window" value	{ b_set(p, K_OBSERVE_WINDOW, $2, &@1, &@2); }
		| "query" value			{ b_set(p, K_QUERY, $2, &@1, &@2); }
		| "type" value			{ b_set(p, K_TYPE, $2, &@1, &@2); }
		;

/* A rule of its own, not a mid-rule action: the strings change owner only
 * at a reduction, so error recovery can never free them a second time. */
backend		: backend_head backend_opts
		;
backend_head	: "backend" name value		{ b_backend(p, $2, $3, &@1, &@2, &@3); }
		;
backend_opts	: %empty
		| backend_opts "weight" value	{ b_backend_opt(p, K_WEIGHT, $3, &@3); }
		| backend_opts "max-conns" value { b_backend_opt(p, K_MAX_CONNS, $3, &@3); }
		| backend_opts "backup"		{ b_backend_opt(p, K_BACKUP, NULL, &@2); }
		;

%%

/*
 * "unexpected word "lissten", expected one of: "listen", "mode", ... or "}""
 * The found token's text comes from the lexer; the expected list from the
 * parser tables, so it is always exactly what the grammar accepts here.
 */
static int
yyreport_syntax_error(const yypcontext_t *ctx, void *scanner,
    struct conf_parser *p)
{
	yysymbol_kind_t expected[32];
	yysymbol_kind_t tok = yypcontext_token(ctx);
	int n = yypcontext_expected_tokens(ctx, expected, 32);
	char msg[1024];
	size_t off = 0;

	if (tok == YYSYMBOL_YYEOF)
		off += snprintf(msg + off, sizeof(msg) - off,
		    "unexpected end of file");
	else if (tok == YYSYMBOL_WORD || tok == YYSYMBOL_NUMBER ||
	    tok == YYSYMBOL_DURATION || tok == YYSYMBOL_STRING)
		off += snprintf(msg + off, sizeof(msg) - off,
		    "unexpected %s \"%s\"", yysymbol_name(tok), p->last_text);
	else if (tok == YYSYMBOL_YYUNDEF)
		off += snprintf(msg + off, sizeof(msg) - off,
		    "unexpected character '%s'", p->last_text);
	else
		off += snprintf(msg + off, sizeof(msg) - off,
		    "unexpected %s", yysymbol_name(tok));

	/* Token aliases print with quotes; any value token reads "a value". */
	const char *names[32];
	int k = 0;
	bool value_seen = false;
	for (int i = 0; i < n; i++) {
		if (expected[i] == YYSYMBOL_WORD || expected[i] == YYSYMBOL_NUMBER ||
		    expected[i] == YYSYMBOL_DURATION ||
		    expected[i] == YYSYMBOL_STRING) {
			if (!value_seen)
				names[k++] = "a value";
			value_seen = true;
		} else
			names[k++] = yysymbol_name(expected[i]);
	}
	if (k > 0 && k <= 24) {
		off += snprintf(msg + off, sizeof(msg) - off, ", expected ");
		for (int i = 0; i < k && off < sizeof(msg); i++)
			off += snprintf(msg + off, sizeof(msg) - off, "%s%s",
			    i == 0 ? "" : (i == k - 1 ? " or " : ", "), names[i]);
	}
	conf_err(p, yypcontext_location(ctx), "%s", msg);
	conf_mark_incomplete(p);
	return 0;
}
