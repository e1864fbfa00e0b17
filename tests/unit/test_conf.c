/*
 * Unit tests of the configuration language: every construct, every error
 * message with its exact FILE:LINE:COL, includes, the canonical dump's round
 * trip, and the diff.
 */
#define TEST_KEY "/tmp/lbdt.key"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

/* Does a global block of `text` name an interface? */
static bool
global_iface(const char *text)
{
	for (const char *g = text; (g = strstr(g, "global")) != NULL; g++) {
		const char *end = strchr(g, '}'), *i = strstr(g, "interface");

		if (end != NULL && i != NULL && i < end)
			return true;
	}
	return false;
}

/* VRRP needs a data interface (validate.c): a text with a vrrp-group and
 * no global interface gets one in a global block of its own at the end,
 * so that its diagnostics keep their lines. */
static struct conf *
load(const char *text, struct conf_diags *d)
{
	static const char more[] = "\nglobal { interface eth0 }\n";
	struct conf *c;
	char *t;

	memset(d, 0, sizeof(*d));
	if (strstr(text, "vrrp-group") == NULL || global_iface(text))
		return conf_load_string("t.conf", text, d);
	t = malloc(strlen(text) + sizeof(more));
	assert_non_null(t);
	strcpy(t, text);
	strcat(t, more);
	c = conf_load_string("t.conf", t, d);
	free(t);
	return c;
}

/* All diagnostics, one per line, for exact comparison. */
static char *
diag_text(const struct conf_diags *d)
{
	static char out[8192];
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		char line[1024];
		conf_diag_format(&d->v[i], line, sizeof(line));
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s\n", line);
	}
	return out;
}

static void
expect_diags(const char *text, const char *expected)
{
	struct conf_diags d;
	struct conf *c = load(text, &d);

	assert_string_equal(diag_text(&d), expected);
	if (strstr(expected, ": error: ") != NULL)
		assert_null(c);
	else
		assert_non_null(c);
	conf_free(c);
	conf_diags_free(&d);
}

/* ---- constructs ---------------------------------------------------- */

static const char full[] =
    "# comment line\n"
    "global {\n"
    "    node-id lb1          # trailing comment\n"
    "    workers 2\n"
    "    control-socket /tmp/x.sock\n"
    "    conn-table-size 4096\n"
    "    timeout tcp-established 30m\n"
    "    timeout udp 45s\n"
    "    metrics listen [::1]:9180\n"
    "    hash-seed \"pair 7\"\n"
    "    garp rate 250\n"
    "    garp lower-prio 1\n"
    "}\n"
    "vrrp-group edge {\n"
    "    instance front { interface eth0 vrid 51 priority 150 advert-interval 100ms\n"
    "                     virtual-address 198.51.100.10/24 198.51.100.20/24\n"
    "                     preempt off preempt-delay 1.5s version 3 }\n"
    "    instance front6 { interface eth0 vrid 51 virtual-address 2001:db8::10/64 }\n"
    "    instance v2 { interface eth1 vrid 9 version 2 advert-interval 1s\n"
    "                  virtual-address 10.0.0.1 unicast-peer 10.0.0.2 10.0.0.3\n"
    "                  use-vmac no notify \"/bin/echo v2\"\n"
    "                  track-interface hb0 track-service web weight 30\n"
    "                  track-script \"pidof x\" weight 5 interval 500ms\n"
    "                  garp count 2 garp lower-prio off garp refresh 1m }\n"
    "    notify \"/usr/bin/logger -t lbd\"\n"
    "}\n"
    "sync { interface hb0 peer fe80::2 port 9000 key-file /tmp/lbdt.key\n"
    "       resync-wait 90s backup-interface hb1 backup-peer fe80::1:2 }\n"
    "service web {\n"
    "    listen 198.51.100.10 tcp 80\n"
    "    mode snat\n"
    "    scheduler maglev\n"
    "    stateless on\n"
    "    on-backend-down reset\n"
    "    snat-pool 198.51.100.20\n"
    "    check http { path \"/health z\" expect 200-299,301 interval 1m timeout 2s\n"
    "                 rise 4 fall 5 port 8080 host www.example.net\n"
    "                 body \"all good\" method HEAD jitter 5s\n"
    "                 source 198.51.100.250 }\n"
    "    backend web1 198.51.100.11:8080 weight 0\n"
    "    backend web2 198.51.100.12\n"
    "}\n"
    "service \"check\" {\n"
    "    listen 2001:db8::10 udp 53\n"
    "    scheduler source-hash\n"
    "    check script { command \"/bin/true --x\" }\n"
    "    backend ns1 [2001:db8::53]:5353 weight 256\n"
    "}\n"
    "service far {\n"
    "    listen 198.51.100.10 tcp 8080\n"
    "    mode dsr tunnel gue port 7000 source 172.16.0.0/16\n"
    "    backend far1 10.9.0.1\n"
    "}\n";

static void
test_all_constructs(void **state)
{
	struct conf_diags d;
	struct conf *c = load(full, &d);

	assert_string_equal(diag_text(&d), "");
	assert_non_null(c);
	assert_string_equal(c->global.node_id, "lb1");
	assert_int_equal(c->global.workers, 2);
	assert_string_equal(c->global.control_socket, "/tmp/x.sock");
	assert_int_equal(c->global.conn_table_size, 4096);
	assert_int_equal(c->global.timeout_ms[CONF_TO_TCP_ESTABLISHED], 1800000);
	assert_int_equal(c->global.timeout_ms[CONF_TO_UDP], 45000);
	assert_int_equal(c->global.timeout_ms[CONF_TO_TCP_SYN],
	    conf_timeout_default_ms[CONF_TO_TCP_SYN]);
	assert_true(c->global.metrics);
	assert_int_equal(c->global.metrics_addr.family, AF_INET6);
	assert_int_equal(c->global.metrics_port, 9180);
	assert_true(c->services[0].stateless);
	assert_false(c->services[1].stateless);
	assert_true(c->services[0].reset_on_down);
	assert_false(c->services[1].reset_on_down);	/* keep by default */

	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups[0].n_instances, 3);
	const struct conf_instance *in = &c->groups[0].instances[0];
	assert_string_equal(in->name, "front");
	assert_string_equal(in->interface, "eth0");
	assert_int_equal(in->vrid, 51);
	assert_int_equal(in->priority, 150);
	assert_int_equal(in->advert_ms, 100);
	assert_false(in->preempt);
	assert_int_equal(in->preempt_delay_ms, 1500);
	assert_int_equal(in->n_vaddrs, 2);
	assert_int_equal(in->vaddrs[0].plen, 24);
	/* Same VRID on the same link is fine across families. */
	assert_int_equal(c->groups[0].instances[1].vaddrs[0].family, AF_INET6);
	assert_int_equal(c->groups[0].instances[1].priority, 100);
	assert_int_equal(c->groups[0].instances[1].advert_ms, 1000);
	assert_int_equal(c->groups[0].instances[2].version, 2);
	assert_int_equal(c->groups[0].instances[2].vaddrs[0].plen, 32);

	assert_true(c->sync.present);
	assert_string_equal(c->sync.interface, "hb0");
	assert_int_equal(c->sync.peers[0].family, AF_INET6);
	assert_int_equal(c->sync.port, 9000);
	assert_int_equal(c->sync.resync_wait_ms, 90000);
	assert_int_equal(c->sync.heartbeat_interval_ms, 10);
	assert_int_equal(c->sync.heartbeat_timeout_ms, 100);
	assert_string_equal(c->sync.backup_interface, "hb1");
	assert_true(c->sync.has_backup_peer);

	assert_int_equal(c->n_services, 3);
	assert_int_equal(c->services[2].mode, CONF_MODE_DSR);
	assert_int_equal(c->services[2].tunnel, CONF_TUNNEL_GUE);
	assert_int_equal(c->services[2].tunnel_port, 7000);
	assert_int_equal(c->services[2].tunnel_src.plen, 16);
	assert_int_equal(c->services[1].tunnel, CONF_TUNNEL_NONE);
	const struct conf_service *s = &c->services[0];
	assert_int_equal(s->proto, IPPROTO_TCP);
	assert_int_equal(s->port, 80);
	assert_int_equal(s->mode, CONF_MODE_SNAT);
	assert_int_equal(s->sched, CONF_SCHED_MAGLEV);
	assert_int_equal(s->n_snat_pool, 1);
	assert_int_equal(s->check.type, CONF_CHECK_HTTP);
	assert_string_equal(s->check.path, "/health z");
	assert_string_equal(s->check.expect, "200-299,301");
	assert_int_equal(s->check.interval_ms, 60000);
	assert_int_equal(s->check.timeout_ms, 2000);
	assert_int_equal(s->check.rise, 4);
	assert_int_equal(s->check.fall, 5);
	assert_int_equal(s->check.port, 8080);
	assert_string_equal(s->check.host, "www.example.net");
	assert_string_equal(s->check.body, "all good");
	assert_string_equal(s->check.method, "HEAD");
	assert_int_equal(s->check.jitter_ms, 5000);
	assert_true(s->check.has_source);
	assert_int_equal(s->n_backends, 2);
	assert_int_equal(s->backends[0].weight, 0);
	assert_int_equal(s->backends[0].port, 8080);
	assert_int_equal(s->backends[1].weight, 1);
	assert_int_equal(s->backends[1].port, 80);	/* the service's port */

	s = &c->services[1];
	assert_string_equal(s->name, "check");		/* quoted keyword */
	assert_int_equal(s->proto, IPPROTO_UDP);
	assert_int_equal(s->mode, CONF_MODE_ROUTED);	/* default */
	assert_int_equal(s->sched, CONF_SCHED_SH);
	assert_int_equal(s->check.type, CONF_CHECK_SCRIPT);
	assert_string_equal(s->check.command, "/bin/true --x");
	assert_int_equal(s->check.interval_ms, CONF_CHECK_DEFAULT_INTERVAL_MS);
	assert_int_equal(s->backends[0].port, 5353);
	assert_int_equal(s->backends[0].weight, 256);
	conf_free(c);
	conf_diags_free(&d);
}

static void
test_defaults(void **state)
{
	struct conf_diags d;
	struct conf *c = load("service s { listen 10.0.0.1 tcp 80 check http "
	    "backend b 10.0.0.2:80 }", &d);

	assert_non_null(c);
	assert_null(c->global.node_id);
	assert_int_equal(c->global.workers, CONF_DEFAULT_WORKERS);
	assert_string_equal(c->global.control_socket, CONF_DEFAULT_SOCKET);
	assert_int_equal(c->global.conn_table_size, CONF_DEFAULT_CONN_TABLE_SIZE);
	assert_int_equal(c->services[0].sched, CONF_SCHED_RR);
	assert_string_equal(c->services[0].check.path, "/");
	assert_string_equal(c->services[0].check.expect, "200-399");
	assert_int_equal(c->services[0].check.rise, CONF_CHECK_DEFAULT_RISE);
	assert_int_equal(c->services[0].check.fall, CONF_CHECK_DEFAULT_FALL);
	assert_false(c->sync.present);
	conf_free(c);
	conf_diags_free(&d);
}

static void
test_empty_file(void **state)
{
	expect_diags("", "");
	expect_diags("# only a comment\n\n", "");
}

/* ---- errors: each message, exact position ----------------------------- */

struct err_case {
	const char	*text;
	const char	*diags;
};

static const struct err_case err_cases[] = {
	/* syntax */
	{ "global {\n  nodeid x\n}\n",
	  "t.conf:2:3: error: unexpected word \"nodeid\", expected node-id, "
	  "workers, control-socket, conn-table-size, interface, timeout, metrics, xdp-mode, datapath, hash-seed, script-user, control-socket-readonly, garp, notify-timeout, vrrp, nat-log or '}'\n" },
	{ "service s {\n",
	  "t.conf:2:1: error: unexpected end of file, expected listen, mode, "
	  "scheduler, snat-pool, check, backend, timeout, stateless, on-backend-down, fallback, quorum, slow-start, allow, limit, persist, one-packet or '}'\n" },
	{ "cluster { announce-table 254 withdraw-delay 2m bogus 1 }\n"
	  "cluster { }\n"
	  "global { interface eth0 }\n"
	  "vrrp-group g { instance i { interface eth0 vrid 1 "
	  "virtual-address 10.0.0.1 } }\n",
	  "t.conf:1:26: error: announce-table 254 out of range 1..252\n"
	  "t.conf:1:45: error: withdraw-delay 2m out of range 0ms..60s\n"
	  "t.conf:1:48: error: unexpected word \"bogus\", expected "
	  "announce-table, withdraw-delay, snat-addresses or '}'\n"
	  "t.conf:2:1: error: duplicate cluster block (first at t.conf:1:1)\n"
	  "t.conf:2:1: error: cluster: this node is also one of a VRRP pair "
	  "(vrrp-group \"g\" at t.conf:4:12); a node is one or the other\n" },
	{ "frobnicate { }\n",
	  "t.conf:1:1: error: unexpected word \"frobnicate\", expected end of "
	  "file, global, vrrp-group, sync, service or cluster\n" },
	{ "global { workers 1; }\n",
	  "t.conf:1:19: error: unexpected character ';', expected node-id, "
	  "workers, control-socket, conn-table-size, interface, timeout, metrics, xdp-mode, datapath, hash-seed, script-user, control-socket-readonly, garp, notify-timeout, vrrp, nat-log or '}'\n" },
	{ "global { node-id \"abc }\n",
	  "t.conf:1:18: error: unterminated string (a string ends on the same line)\n"
	  "t.conf:2:1: error: unexpected end of file, expected a value\n" },
	{ "service {\n}\n",
	  "t.conf:1:9: error: unexpected '{', expected a value\n" },
	{ "global { script-user no-such-user-here }\n",
	  "t.conf:1:22: error: script-user: no user \"no-such-user-here\" on "
	  "this system\n" },
	/* several syntax errors in one file are all reported */
	{ "global {\n bad1 1\n workers 2\n bad2 2\n}\nservice s {\n bad3\n"
	  " listen 10.0.0.1 tcp 80\n backend b 10.0.0.2:80\n}\n",
	  "t.conf:2:2: error: unexpected word \"bad1\", expected node-id, workers, "
	  "control-socket, conn-table-size, interface, timeout, metrics, xdp-mode, datapath, hash-seed, script-user, control-socket-readonly, garp, notify-timeout, vrrp, nat-log or '}'\n"
	  "t.conf:4:2: error: unexpected word \"bad2\", expected node-id, workers, "
	  "control-socket, conn-table-size, interface, timeout, metrics, xdp-mode, datapath, hash-seed, script-user, control-socket-readonly, garp, notify-timeout, vrrp, nat-log or '}'\n"
	  "t.conf:7:2: error: unexpected word \"bad3\", expected listen, mode, "
	  "scheduler, snat-pool, check, backend, timeout, stateless, on-backend-down, fallback, quorum, slow-start, allow, limit, persist, one-packet or '}'\n" },
	/* admission: max-conns, backup and quorum, slow-start */
	{ "service s {\n listen 10.0.0.1 tcp 80\n"
	  " backend a 10.0.0.2:80 max-conns 0\n"
	  " backend b 10.0.0.3:80 backup backup\n}\n",
	  "t.conf:3:34: error: backend \"a\": max-conns 0 out of range "
	  "1..16777216 (weight 0 drains a backend)\n"
	  "t.conf:4:31: error: backend \"b\": duplicate \"backup\"\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n quorum 2\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:3:2: error: service \"s\": quorum without a backend marked "
	  "backup (quorum says how many primaries keep the backups out)\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n quorum 3\n"
	  " backend a 10.0.0.2:80\n backend b 10.0.0.3:80 backup\n}\n",
	  "t.conf:3:2: warning: service \"s\": quorum 3 is more than its 1 "
	  "primary backends; the backups always take connections\n"
	  "t.conf:1:9: warning: service \"s\": no data interface serves it "
	  "(no \"interface NAME\" in global); lbd will check its backends "
	  "but forward nothing\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n slow-start 30s\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:3:2: error: service \"s\": slow-start ramps a backend's "
	  "weight, and scheduler rr ignores weights (use wrr, wlc, sh or "
	  "maglev)\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n slow-start forever\n"
	  " scheduler wlc\n backend a 10.0.0.2:80 weight 3 max-conns 100 backup\n}\n",
	  "t.conf:3:13: error: slow-start: expected a duration such as 100ms "
	  "or 2s, found \"forever\"\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n allow 10.1.0.0/16 2001:db8::/32\n"
	  " limit new-conns 20/m per-source\n limit connections 5/s per-source\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:4:18: error: limit new-conns: expected a rate such as 20/s "
	  "(1/s..1000000/s), found \"20/m\"\n"
	  "t.conf:5:8: error: limit: unknown \"connections\", expected "
	  "new-conns\n"
	  "t.conf:3:8: error: service \"s\": allow 2001:db8::/32 is IPv6 but "
	  "the VIP is IPv4\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n"
	  " limit new-conns 20/s per-client burst 0\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:3:23: error: limit new-conns: unknown \"per-client\", "
	  "expected per-source\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n persist 10m netmask /33\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:3:2: error: service \"s\": persist netmask /33 is longer "
	  "than an IPv4 address\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n persist 10m mask 24\n"
	  " persist 5\n backend a 10.0.0.2:80\n}\n",
	  "t.conf:3:14: error: persist: unknown \"mask\", expected netmask\n"
	  "t.conf:4:10: error: persist: \"5\" needs a unit, e.g. 5ms or 5s\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n one-packet on\n"
	  " timeout udp 5s\n timeout tcp-established 1h\n"
	  " backend a 10.0.0.2:80\n}\n",
	  "t.conf:5:10: error: timeout: a service sets only \"udp\" (the TCP "
	  "states' timeouts are global), found \"tcp-established\"\n"
	  "t.conf:3:2: error: service \"s\": one-packet needs a UDP service in "
	  "mode dsr (in routed and snat the replies come back through lbd and "
	  "need the flow's entry)\n"
	  "t.conf:4:2: error: service \"s\": timeout udp in a TCP service\n" },
	{ "service s {\n listen 10.0.0.1 tcp 80\n mode snat\n"
	  " snat-pool 10.0.0.9 ports 1024-32767 10.0.0.8 ports 100-200\n"
	  " backend a 10.0.0.2:80\n}\n"
	  "service t {\n listen 10.0.0.1 tcp 81\n mode snat\n"
	  " snat-pool 10.0.0.9 ports 32768-65535\n backend a 10.0.0.2:80\n}\n",
	  "t.conf:4:53: error: snat-pool: ports 100-200: expected LO-HI within "
	  "1024-65535, at least 64 ports, such as 1024-32767\n"
	  "t.conf:10:12: error: service \"t\": snat-pool 10.0.0.9 has other "
	  "ports than in service \"s\" (an address's ports are one range for "
	  "every service that uses it)\n" },
	{ "service a {\n listen 10.0.0.1 tcp 80\n mode snat tunnel gue\n"
	  " backend b 10.9.0.11\n}\n"
	  "service b {\n listen 10.0.0.1 tcp 81\n mode dsr tunel gue\n"
	  " backend b 10.9.0.11\n}\n"
	  "service c {\n listen 10.0.0.1 tcp 82\n mode dsr tunnel vxlan\n"
	  " backend b 10.9.0.11\n}\n"
	  "service d {\n listen 10.0.0.1 tcp 83\n mode dsr tunnel ipip port 5\n"
	  " backend b 10.9.0.11\n}\n"
	  "service e {\n listen 2001:db8::1 tcp 84\n"
	  " mode dsr tunnel gue port 0 source 10.0.0.0/8\n"
	  " backend b 2001:db8::5\n}\n"
	  "service f {\n listen 10.0.0.1 tcp 85\n mode dsr\n"
	  " mode dsr tunnel ipip\n backend b 10.9.0.11\n}\n"
	  "service g {\n listen 10.0.0.1 tcp 86\n"
	  " mode dsr tunnel ipip source 0.0.0.0/0 source 10.1.0.0/16\n"
	  " backend b 10.9.0.11\n}\n",
	  "t.conf:3:7: error: mode snat: only dsr tunnels (routed and snat need "
	  "the replies back through lbd)\n"
	  "t.conf:8:11: error: mode dsr: unknown \"tunel\", expected tunnel\n"
	  "t.conf:13:18: error: unknown tunnel \"vxlan\", expected ipip or gue "
	  "(ipip is ip6ip6 in an IPv6 service)\n"
	  "t.conf:18:23: error: tunnel ipip has no port (gue has)\n"
	  "t.conf:23:27: error: tunnel gue: port 0 out of range 1..65535\n"
	  "t.conf:29:2: error: duplicate \"mode\" (first set at t.conf:28:2)\n"
	  "t.conf:34:30: error: tunnel source: expected an address or prefix "
	  "such as 172.16.0.0/16 or 2001:db8:ffff::/64, found \"0.0.0.0/0\"\n"
	  "t.conf:23:18: error: service \"e\": tunnel gue carries IPv4 only "
	  "(over IPv6 a GUE packet needs a UDP checksum the kernel's "
	  "segmentation does not give it); use tunnel ipip, which is ip6ip6 "
	  "here\n"
	  "t.conf:23:18: error: service \"e\": tunnel source is IPv4 but the "
	  "VIP is IPv6\n" },
	{ "service s {\n listen 10.0.0.1 udp 53\n"
	  " check udp { observe on observe-errors 17 }\n"
	  " backend a 10.0.0.2:53\n}\n",
	  "t.conf:3:40: error: observe-errors 17 out of range 1..16\n"
	  "t.conf:3:2: error: check: observe watches TCP connections (refused, "
	  "unanswered); service \"s\" is UDP\n" },
	/* values */
	{ "global { workers 0 }",
	  "t.conf:1:18: error: workers 0 out of range 1..64\n" },
	{ "global { workers many }",
	  "t.conf:1:18: error: workers: expected a number 1..64, found \"many\"\n" },
	{ "global { workers 1 workers 2 }",
	  "t.conf:1:20: error: duplicate \"workers\" (first set at t.conf:1:10)\n" },
	{ "global { control-socket run/x.sock }",
	  "t.conf:1:25: error: control-socket: expected an absolute path, found "
	  "\"run/x.sock\"\n" },
	{ "global { node-id lb/1 }",
	  "t.conf:1:18: error: node-id name \"lb/1\": expected 1..63 letters, "
	  "digits, '-', '_' or '.'\n" },
	{ "global { timeout tcp-forever 5s }",
	  "t.conf:1:18: error: timeout: unknown state \"tcp-forever\", expected "
	  "tcp-syn, tcp-established, tcp-fin, tcp-time-wait, tcp-close or udp\n" },
	{ "global { timeout udp 1s timeout udp 2s }",
	  "t.conf:1:25: error: duplicate \"timeout udp\" (first set at "
	  "t.conf:1:10)\n" },
	{ "global { timeout udp 5 }",
	  "t.conf:1:22: error: timeout: \"5\" needs a unit, e.g. 5ms or 5s\n" },
	{ "global { timeout tcp-syn 10ms }",
	  "t.conf:1:26: error: timeout 10ms out of range 1s..86400s\n" },
	{ "service s { listen 10.0.0.1 tcp 80 stateless on backend b 10.0.0.2 }",
	  "t.conf:1:36: error: service \"s\": stateless needs scheduler sh or "
	  "maglev (scheduler is rr)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 scheduler sh stateless maybe "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:59: error: stateless: expected on or off, found \"maybe\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 on-backend-down drop "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:52: error: unknown on-backend-down \"drop\", expected keep "
	  "or reset\n" },
	{ "global { metrics listen localhost:9180 }",
	  "t.conf:1:25: error: metrics listen: expected ADDRESS:PORT such as "
	  "127.0.0.1:9180 or [::1]:9180, found \"localhost:9180\"\n" },
	{ "global { metrics listen 127.0.0.1 }",
	  "t.conf:1:25: error: metrics listen: expected ADDRESS:PORT such as "
	  "127.0.0.1:9180 or [::1]:9180, found \"127.0.0.1\"\n" },
	{ "global { metrics listen [::1]:70000 }",
	  "t.conf:1:25: error: metrics listen: port in \"[::1]:70000\" out of "
	  "range 1..65535\n" },
	{ "global { conn-table-size 10 }",
	  "t.conf:1:26: error: conn-table-size 10 out of range 1024..16777216\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 0 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:49: error: vrid 0 out of range 1..255\n" },
	/* garp: rate is the node's, not an instance's. */
	{ "global { interface eth0 }\nvrrp-group g { instance i { interface "
	  "eth0 vrid 1 virtual-address 10.0.0.1 garp rate 5 } }",
	  "t.conf:2:81: error: garp: expected count, interval, refresh, "
	  "lower-prio, found \"rate\"\n" },
	{ "global { garp lower-prio 0 }",
	  "t.conf:1:26: error: garp lower-prio 0 out of range 1..100\n" },
	{ "vrrp-group g { instance i { interface eth0 virtual-address 10.0.0.1 } }",
	  "t.conf:1:25: error: instance \"i\": missing \"vrid\" (1..255)\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 256 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:49: error: vrid 256 out of range 1..255\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 priority 0 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:60: error: priority 0 out of range 1..255\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 advert-interval 5 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:67: error: advert-interval: \"5\" needs a unit, e.g. 5ms or 5s\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 advert-interval 1h "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:67: error: advert-interval 1h out of range 10ms..40950ms\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 advert-interval 15ms "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:67: error: advert-interval 15ms: VRRP counts in centiseconds "
	  "(multiples of 10ms)\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 preempt maybe "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:59: error: preempt: expected on or off, found \"maybe\"\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 "
	  "virtual-address 10.0.0.1/33 } }",
	  "t.conf:1:67: error: virtual-address: expected an address such as "
	  "198.51.100.10/24 or 2001:db8::10/64, found \"10.0.0.1/33\"\n" },
	{ "vrrp-group g { instance i { interface averyveryverylongname vrid 1 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:39: error: interface name \"averyveryverylongname\" longer "
	  "than 15 bytes\n"
	  "t.conf:1:25: error: instance \"i\": missing \"interface\"\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 version 4 "
	  "virtual-address 10.0.0.1 } }",
	  "t.conf:1:59: error: version 4 out of range 2..3\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 version 2 "
	  "virtual-address 2001:db8::1 } }",
	  "t.conf:1:25: error: instance \"i\": VRRP version 2 is IPv4 only; use "
	  "version 3 for IPv6\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 version 2 "
	  "advert-interval 100ms virtual-address 10.0.0.1 } }",
	  "t.conf:1:25: error: instance \"i\": VRRP version 2 advertises in whole "
	  "seconds; advert-interval must be 1s..255s\n" },
	{ "vrrp-group g { instance i { interface eth0 vrid 1 "
	  "virtual-address 10.0.0.1 2001:db8::1 } }",
	  "t.conf:1:25: error: instance \"i\": mixes IPv4 and IPv6 virtual "
	  "addresses (VRRP runs one instance per family)\n" },
	{ "vrrp-group g { }",
	  "t.conf:1:12: error: vrrp-group \"g\" has no instance\n" },
	{ "vrrp-group g {\n instance a { interface eth0 vrid 7 virtual-address 10.0.0.1 }\n"
	  "}\nvrrp-group g {\n instance b { interface eth0 vrid 7 virtual-address 10.0.0.2 }\n}\n",
	  "t.conf:4:12: error: duplicate vrrp-group \"g\" (first at t.conf:1:12)\n"
	  "t.conf:5:35: error: vrid 7 on eth0 already used by instance \"a\" (at "
	  "t.conf:2:11)\n" },
	{ "vrrp-group g {\n instance a { interface eth0 vrid 7 virtual-address 10.0.0.1 }\n"
	  " instance a { interface eth1 vrid 7 virtual-address 10.0.0.2 }\n}\n",
	  "t.conf:3:11: error: duplicate instance \"a\" (first at t.conf:2:11)\n" },
	{ "sync { interface hb0 }",
	  "t.conf:1:1: error: sync: missing \"peer\"\n"
	  "t.conf:1:1: error: sync: missing \"key-file\" (the shared HMAC key)\n" },
	{ "sync { interface hb0 peer 10.0.0.300 key-file /tmp/lbdt.key }",
	  "t.conf:1:27: error: peer: expected an IPv4 or IPv6 address, found "
	  "\"10.0.0.300\"\n"
	  "t.conf:1:1: error: sync: missing \"peer\"\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /nonexistent/key }",
	  "t.conf:1:45: error: key-file \"/nonexistent/key\": cannot read: No "
	  "such file or directory\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key port 0 }",
	  "t.conf:1:64: error: port 0 out of range 1..65535\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key }\n"
	  "vrrp-group g { instance i { interface eth0 vrid 1 priority 255 "
	  "virtual-address 10.0.0.1 } }\n",
	  "t.conf:2:60: error: instance \"i\": priority 255 takes the addresses "
	  "at start, before the peer's connections are resynced; with a sync "
	  "block use 254 or lower\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key }\n"
	  "sync { interface hb1 peer 10.0.0.2 key-file /tmp/lbdt.key }\n",
	  "t.conf:2:1: error: duplicate sync block (first at t.conf:1:1)\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "backup-interface hb1 }",
	  "t.conf:1:1: error: sync: a second heartbeat link needs both "
	  "\"backup-interface\" and \"backup-peer\"\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "backup-interface hb0 backup-peer 10.0.1.2 }",
	  "t.conf:1:1: error: sync: \"backup-interface\" is the same link as "
	  "\"interface\" (hb0)\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "backup-interface hb1 backup-peer fe80::2 }",
	  "t.conf:1:1: error: sync: \"peer\" and \"backup-peer\" must both "
	  "be IPv4 or both IPv6\n" },
	{ "cluster { snat-addresses 10.0.0.9 10.0.0.300 }\n"
	  "service s { listen 10.0.0.1 tcp 80 mode snat snat-pool 10.0.0.8 "
	  "backend a 10.0.0.11 }\n",
	  "t.conf:1:35: error: snat-addresses: expected an IPv4 or IPv6 "
	  "address, found \"10.0.0.300\"\n"
	  "t.conf:1:26: error: snat-addresses: 10.0.0.9 is in no snat "
	  "service's snat-pool\n"
	  "t.conf:2:56: error: service \"s\": none of its snat-pool addresses "
	  "is in the cluster's snat-addresses (this node's own): it would have "
	  "no port to give a new connection\n" },
	{ "cluster { snat-addresses 10.0.0.8 10.0.0.8 }\n"
	  "service s { listen 10.0.0.1 tcp 80 mode snat snat-pool 10.0.0.8 "
	  "backend a 10.0.0.11 }\n",
	  "t.conf:1:35: error: snat-addresses: 10.0.0.8 given twice\n" },
	{ "cluster { snat-addresses 10.0.0.8 }\n"
	  "service s { listen 10.0.0.1 tcp 80 mode snat snat-pool 10.0.0.8 "
	  "backend a 10.0.0.11 }\n"
	  "service t { listen 10.0.0.1 tcp 81 mode snat snat-pool 10.0.0.7 "
	  "backend a 10.0.0.11 }\n",
	  "t.conf:3:56: error: service \"t\": none of its snat-pool addresses "
	  "is in the cluster's snat-addresses (this node's own): it would have "
	  "no port to give a new connection\n" },
	{ "sync { interface hb0 peer 10.0.0.2 peer 10.0.0.2 key-file "
	  "/tmp/lbdt.key }",
	  "t.conf:1:41: error: peer 10.0.0.2 given twice (first at "
	  "t.conf:1:27)\n" },
	{ "sync { interface hb0 peer 10.0.0.1 peer 10.0.0.2 peer 10.0.0.3 "
	  "peer 10.0.0.4 peer 10.0.0.5 peer 10.0.0.6 peer 10.0.0.7 peer "
	  "10.0.0.8 key-file /tmp/lbdt.key }",
	  "t.conf:1:125: error: peer: at most 7 peers (a cluster of 8 nodes)\n" },
	{ "sync { interface hb0 peer 10.0.0.2 peer 10.0.0.3 key-file "
	  "/tmp/lbdt.key }\n"
	  "vrrp-group g { instance i { interface eth0 vrid 1 priority 100 "
	  "virtual-address 10.0.0.1 } }\n",
	  "t.conf:1:41: error: sync: a second peer, but this node is one of "
	  "a VRRP pair (vrrp-group \"g\"): a pair has one sync peer; several "
	  "are for a cluster's nodes\n" },
	{ "sync { interface hb0 peer 10.0.0.2 peer 10.0.0.3 key-file "
	  "/tmp/lbdt.key backup-interface hb1 backup-peer 10.0.1.2 }",
	  "t.conf:1:41: error: sync: a second peer and a \"backup-interface\": "
	  "a second heartbeat link is for one peer\n" },
	{ "sync { interface hb0 peer 10.0.0.2 peer fd00::3 key-file "
	  "/tmp/lbdt.key }",
	  "t.conf:1:41: error: sync: the peers must all be IPv4 or all IPv6 "
	  "(one heartbeat network)\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "resync-wait 2h }",
	  "t.conf:1:71: error: resync-wait 2h out of range 0ms..3600s\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "heartbeat-interval 50ms heartbeat-timeout 60ms }",
	  "t.conf:1:101: error: sync: heartbeat-timeout 60ms is less than "
	  "twice heartbeat-interval (50ms)\n" },
	{ "sync { interface hb0 peer 10.0.0.2 key-file /tmp/lbdt.key "
	  "heartbeat-interval 1ms }",
	  "t.conf:1:78: error: heartbeat-interval 1ms out of range 5ms..1s\n" },
	{ "global { metrics listen [::]:9180 }",
	  "t.conf:1:25: warning: metrics listen [::]:9180: every address of this "
	  "node; the counters name your backends and how busy they are, bind a "
	  "management address\n" },
	{ "vrrp-group g { instance a { interface eth0 vrid 5 virtual-address "
	  "10.0.0.1/24 auth-pass x } }",
	  "t.conf:1:25: error: instance \"a\": auth-pass needs version 2 (VRRPv3 "
	  "has no authentication, RFC 5798)\n" },
	{ "vrrp-group g { instance a { interface eth0 vrid 5 version 2 "
	  "advert-interval 1s virtual-address 10.0.0.1/24 auth-pass 123456789 } }",
	  "t.conf:1:118: error: auth-pass: expected 1 to 8 characters (VRRPv2 "
	  "simple password, as keepalived's auth_pass)\n" },
	/* services */
	{ "service s { backend b 10.0.0.2:80 }",
	  "t.conf:1:9: error: service \"s\": missing \"listen ADDRESS tcp|udp "
	  "PORT\"\n" },
	{ "global { interface eth0 }\nservice s { listen 10.0.0.1 tcp 80 }",
	  "t.conf:2:9: warning: service \"s\" has no backend; it will refuse every "
	  "connection\n" },
	/* No data interface: said once, of a config otherwise good. */
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 }",
	  "t.conf:1:9: warning: service \"s\": no data interface serves it (no "
	  "\"interface NAME\" in global); lbd will check its backends but "
	  "forward nothing\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 }\n"
	  "service t { listen 10.0.0.1 tcp 81 backend b 10.0.0.2 }\n"
	  "service u { listen 10.0.0.1 tcp 82 backend b 10.0.0.2 }",
	  "t.conf:1:9: warning: services \"s\" and 2 more: no data interface "
	  "serves them (no \"interface NAME\" in global); lbd will check their "
	  "backends but forward nothing\n" },
	{ "service s { listen 10.0.0.1 tcp 0 backend b 10.0.0.2:80 }",
	  "t.conf:1:33: error: listen: port 0 out of range 1..65535\n" },
	{ "service s { listen 10.0.0.1 tcp 65536 backend b 10.0.0.2:80 }",
	  "t.conf:1:33: error: listen: port 65536 out of range 1..65535\n" },
	{ "service s { listen 10.0.0.1 sctp 80 backend b 10.0.0.2:80 }",
	  "t.conf:1:29: error: listen: unknown protocol \"sctp\", expected tcp or "
	  "udp\n" },
	{ "service s { listen www.example.com tcp 80 backend b 10.0.0.2:80 }",
	  "t.conf:1:20: error: listen: expected an IPv4 or IPv6 address, found "
	  "\"www.example.com\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 listen 10.0.0.1 tcp 81 "
	  "backend b 10.0.0.2:80 }",
	  "t.conf:1:36: error: duplicate \"listen\" (first set at t.conf:1:13)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 mode nat backend b 10.0.0.2:80 }",
	  "t.conf:1:41: error: unknown mode \"nat\", expected routed, snat or dsr\n" },
	{ "service s { listen 10.0.0.1 tcp 80 scheduler random "
	  "backend b 10.0.0.2:80 }",
	  "t.conf:1:46: error: unknown scheduler \"random\", expected rr, wrr, lc, "
	  "wlc, sh or maglev\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check ping backend b 10.0.0.2:80 }",
	  "t.conf:1:42: error: unknown check \"ping\", expected tcp, http, https, "
	  "tls, udp, dns, script or agent\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check tcp check tcp "
	  "backend b 10.0.0.2:80 }",
	  "t.conf:1:46: error: duplicate \"check\" (first set at t.conf:1:36)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 mode snat backend b 10.0.0.2:80 }",
	  "t.conf:1:36: error: service \"s\": mode snat needs a \"snat-pool\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 snat-pool 10.0.0.9 "
	  "backend b 10.0.0.2:80 }",
	  "t.conf:1:46: error: service \"s\": snat-pool is only used in mode snat "
	  "(mode is routed)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 mode snat snat-pool 2001:db8::9 "
	  "backend b 10.0.0.2:80 }",
	  "t.conf:1:56: error: service \"s\": snat-pool address 2001:db8::9 is "
	  "IPv6 but the VIP is IPv4\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b [2001:db8::2]:80 }",
	  "t.conf:1:44: error: backend \"b\" is IPv6 but the VIP of service \"s\" "
	  "is IPv4 (address families must match)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2:99999 }",
	  "t.conf:1:46: error: backend \"b\": port in \"10.0.0.2:99999\" out of "
	  "range 1..65535\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b web:80 }",
	  "t.conf:1:46: error: backend \"b\": expected ADDRESS:PORT such as "
	  "10.0.0.11:80 or [2001:db8::11]:80, found \"web:80\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 weight 257 }",
	  "t.conf:1:62: error: backend \"b\": weight 257 out of range 0..256\n" },
	{ "service s { listen 10.0.0.1 tcp 80\n backend b 10.0.0.2\n"
	  " backend b 10.0.0.3\n}",
	  "t.conf:3:10: error: duplicate backend \"b\" in service \"s\" (first at "
	  "t.conf:2:10)\n" },
	{ "service s { listen 10.0.0.1 tcp 80\n backend a 10.0.0.2\n"
	  " backend b 10.0.0.2:80\n}",
	  "t.conf:3:10: error: backend \"b\": 10.0.0.2 port 80 is already backend "
	  "\"a\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 mode dsr backend b 10.0.0.2:8080 }",
	  "t.conf:1:53: error: backend \"b\": dsr cannot change the port (backend "
	  "port 8080, service port 80)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 }\n"
	  "service s { listen 10.0.0.1 tcp 81 backend b 10.0.0.2 }\n",
	  "t.conf:2:9: error: duplicate service \"s\" (first at t.conf:1:9)\n" },
	{ "service a { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 }\n"
	  "service b { listen 10.0.0.1 tcp 80 backend b 10.0.0.3 }\n",
	  "t.conf:2:13: error: service \"b\": 10.0.0.1 tcp 80 is already service "
	  "\"a\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { timeout 3s interval 2s } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check: timeout 3000ms is longer than interval 2000ms\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { path health } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:54: error: path: expected a path starting with '/', found "
	  "\"health\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { expect OK } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:56: error: expect: expected HTTP status codes such as 200 or "
	  "200-299,301, found \"OK\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { rise 0 } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:54: error: rise 0 out of range 1..100\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { interval 2s interval 3s } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:61: error: duplicate \"interval\" (first set at t.conf:1:49)\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check script backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check script: missing \"command\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check agent backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check agent: missing \"port\" (the agent's port on "
	  "the backend)\n" },
	{ "service bad/name { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 }",
	  "t.conf:1:9: error: service name \"bad/name\": expected 1..63 letters, "
	  "digits, '-', '_' or '.'\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { method get } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:56: error: method: expected an HTTP method such as GET or "
	  "HEAD, found \"get\"\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check tcp { path /x } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check tcp: path, body and method are for "
	  "http and https checks\n" },
	{ "service s { listen 10.0.0.1 udp 53 check udp { send q receive a "
	  "command x } backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check udp: command is for script checks\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { send x } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check http: send is for udp and tcp checks\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check http { body \"\" } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:54: error: body: expected 1..256 bytes, found 0\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check tcp { interval 2s jitter 1.5s } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check: jitter 1500ms is more than half the "
	  "interval 2000ms\n" },
	{ "service s { listen 10.0.0.1 tcp 80 check tcp { source 2001:db8::1 } "
	  "backend b 10.0.0.2 }",
	  "t.conf:1:36: error: check: source 2001:db8::1 is IPv6 but backend "
	  "\"b\" is IPv4\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 "
	  "fallback sorry [2001:db8::9]:80 }",
	  "t.conf:1:64: error: fallback \"sorry\" is IPv6 but the VIP of service "
	  "\"s\" is IPv4\n" },
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 "
	  "fallback x 10.0.0.8 fallback y 10.0.0.9 }",
	  "t.conf:1:75: error: duplicate \"fallback\" (first set at t.conf:1:64)\n" },
	/* A syntax error right after a backend (found by fuzz_conf: the
	 * backend's strings were freed twice during error recovery). */
	{ "service s { listen 10.0.0.1 tcp 80 backend b 10.0.0.2 weight }",
	  "t.conf:1:62: error: unexpected '}', expected a value\n" },
	/* VRRP coverage: a warning only, the config loads */
	{ "vrrp-group g { instance i { interface eth0 vrid 1 "
	  "virtual-address 10.0.0.1/24 } }\n"
	  "service s { listen 10.0.0.9 tcp 80 backend b 10.0.0.2 }\n",
	  "t.conf:2:13: warning: service \"s\": VIP 10.0.0.9 is not carried by any "
	  "VRRP instance; this node serves it alone (single-node use)\n" },
	/* includes */
	{ "include \"/nonexistent/x.conf\"\n",
	  "t.conf:1:9: error: cannot open include file \"/nonexistent/x.conf\": No "
	  "such file or directory\n" },
	{ "include\n",
	  "t.conf:1:8: error: include: expected a file name or glob\n" },
	{ "include",
	  "t.conf:1:8: error: include: expected a file name or glob, found end of "
	  "file\n" },
};

static void
test_error_messages(void **state)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		struct conf_diags d;
		struct conf *c = load(err_cases[i].text, &d);
		const char *got = diag_text(&d);

		if (strcmp(got, err_cases[i].diags) != 0) {
			print_error("case %zu: %s\n--- expected\n%s--- got\n%s", i,
			    err_cases[i].text, err_cases[i].diags, got);
			bad++;
		}
		if ((strstr(err_cases[i].diags, ": error: ") != NULL) !=
		    (c == NULL)) {
			print_error("case %zu: config %s despite the diagnostics\n",
			    i, c == NULL ? "rejected" : "accepted");
			bad++;
		}
		conf_free(c);
		conf_diags_free(&d);
	}
	assert_int_equal(bad, 0);
}

/* ---- includes ------------------------------------------------------ */

static char tmpdir[64];

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lbd-conf-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_include_glob(void **state)
{
	struct conf_diags d = { 0 };
	char path[256];
	struct conf *c;

	char sub[256];
	snprintf(sub, sizeof(sub), "%s/conf.d", tmpdir);
	mkdir(sub, 0755);
	write_file("main.conf", "global { node-id inc interface eth0 }\ninclude conf.d/*.conf\n"
	    "service z { listen 10.0.0.1 tcp 9 backend b 10.0.0.2 }\n");
	write_file("conf.d/b.conf", "service b { listen 10.0.0.1 tcp 2\n"
	    "  include ../backends.inc\n}\n");
	write_file("conf.d/a.conf", "service a { listen 10.0.0.1 tcp 1 "
	    "backend a1 10.0.0.2 }\n");
	write_file("backends.inc", "backend b1 10.0.0.3\nbackend b2 10.0.0.4\n");
	snprintf(path, sizeof(path), "%s/main.conf", tmpdir);
	c = conf_load(path, &d);
	assert_string_equal(diag_text(&d), "");
	assert_non_null(c);
	/* Glob matches are read in sorted order, at the include's place. */
	assert_int_equal(c->n_services, 3);
	assert_string_equal(c->services[0].name, "a");
	assert_string_equal(c->services[1].name, "b");
	assert_string_equal(c->services[2].name, "z");
	assert_int_equal(c->services[1].n_backends, 2);
	conf_free(c);
	conf_diags_free(&d);

	/* An error inside an included file names that file and line. */
	write_file("backends.inc", "backend b1 10.0.0.3\nbackend b2 10.0.0.4 weight 999\n");
	c = conf_load(path, &d);
	assert_null(c);
	char want[512];
	snprintf(want, sizeof(want), "%s/conf.d/../backends.inc:2:28: error: "
	    "backend \"b2\": weight 999 out of range 0..256\n", tmpdir);
	assert_string_equal(diag_text(&d), want);
	conf_diags_free(&d);

	/* A glob over a missing directory matches nothing, without error. */
	write_file("main.conf", "global { interface eth0 }\n"
	    "include nothing/*.conf\nservice s { listen 10.0.0.1 tcp 1 backend b 10.0.0.2 }\n");
	c = conf_load(path, &d);
	assert_string_equal(diag_text(&d), "");
	assert_non_null(c);
	conf_free(c);
	conf_diags_free(&d);

	/* A recursive include is caught. */
	write_file("main.conf", "include main.conf\n");
	c = conf_load(path, &d);
	assert_null(c);
	assert_non_null(strstr(diag_text(&d), "nested more than 16 deep"));
	conf_diags_free(&d);
}

/* ---- dump round trip ----------------------------------------------- */

static char *
dump_str(const struct conf *c, bool json)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mem, &len);

	if (json)
		conf_dump_json(c, fp);
	else
		conf_dump(c, fp);
	fclose(fp);
	return mem;
}

static void
test_dump_roundtrip(void **state)
{
	struct conf_diags d = { 0 };
	struct conf *a = load(full, &d), *b;
	char *t1, *t2;

	assert_non_null(a);
	t1 = dump_str(a, false);
	conf_diags_free(&d);
	b = load(t1, &d);
	assert_string_equal(diag_text(&d), "");
	assert_non_null(b);
	t2 = dump_str(b, false);
	assert_string_equal(t1, t2);

	/* An equal config has an empty diff. */
	struct conf_diff diff;
	assert_int_equal(conf_diff(a, b, &diff), 0);
	assert_int_equal(diff.n, 0);
	conf_diff_free(&diff);

	char *j = dump_str(a, true);
	assert_non_null(strstr(j, "\"name\":\"web\""));
	assert_non_null(strstr(j, "\"path\":\"/health z\""));
	assert_non_null(strstr(j, "\"virtual_addresses\":[\"198.51.100.10/24\""));
	assert_non_null(strstr(j, "\"unicast_peers\":[\"10.0.0.2\",\"10.0.0.3\"]"));
	assert_non_null(strstr(j, "{\"type\":\"track-script\",\"what\":\"pidof x\","
	    "\"weight\":5,\"interval_ms\":500}"));
	assert_non_null(strstr(j, "\"notify\":\"/usr/bin/logger -t lbd\""));
	assert_non_null(strstr(t1, "        track-service \"web\" weight 30\n"));
	/* A tunnel: the mode line says it all, JSON says each part. */
	assert_non_null(strstr(t1, "    mode dsr tunnel gue port 7000 source "
	    "172.16.0.0/16\n"));
	assert_non_null(strstr(j, "\"mode\":\"dsr\""));
	assert_non_null(strstr(j, "\"tunnel\":\"gue\",\"tunnel_port\":7000,"
	    "\"tunnel_source\":\"172.16.0.0/16\""));
	/* garp: the instance's own lines, the rest from global. */
	assert_non_null(strstr(t1, "    garp rate 250\n    "));
	assert_non_null(strstr(t1, "        garp count 2\n        garp refresh 60s\n"
	    "        garp lower-prio off\n"));
	assert_non_null(strstr(j, "\"garp\":{\"count\":2,\"interval_ms\":200,"
	    "\"refresh_ms\":60000,\"lower_prio\":0}"));
	/* hash-seed: kept as written, hashed the same way every time. */
	assert_non_null(strstr(t1, "    hash-seed \"pair 7\"\n"));
	assert_non_null(strstr(j, "\"hash_seed\":\"pair 7\""));
	assert_true(conf_hash_seed(&a->global) == conf_hash_seed(&b->global));
	free(a->global.hash_seed);
	a->global.hash_seed = NULL;
	assert_true(conf_hash_seed(&a->global) != conf_hash_seed(&b->global));
	free(j);
	free(t1);
	free(t2);
	conf_free(a);
	conf_free(b);
	conf_diags_free(&d);
}

/* A cluster block: its defaults, written back, and a change of table is
 * a change the reload reports. */
static void
test_cluster_block(void **state)
{
	static const char *const text =
	    "cluster { announce-table 150 snat-addresses 10.0.0.101 }\n"
	    "sync { interface hb0 peer 10.9.0.2 peer 10.9.0.3 peer 10.9.0.4 "
	    "key-file " TEST_KEY " }\n"
	    "service web { listen 10.0.0.1 tcp 80 backend a 10.0.0.11 }\n"
	    "service app { listen 10.0.0.1 tcp 81 mode snat snat-pool "
	    "10.0.0.101 10.0.0.102 backend a 10.0.0.11 }\n";
	struct conf_diags d = { 0 };
	struct conf *a = load(text, &d), *b;
	struct conf_diff diff;
	char *t1, *j;

	assert_non_null(a);
	assert_true(a->cluster.present);
	assert_int_equal(a->cluster.announce_table, 150);
	assert_int_equal(a->cluster.withdraw_delay_ms, 2000);
	assert_int_equal(a->sync.n_peers, 3);
	t1 = dump_str(a, false);
	/* Each other node a sync peer, written back in order. */
	assert_non_null(strstr(t1, "    peer 10.9.0.2\n    peer 10.9.0.3\n"
	    "    peer 10.9.0.4\n"));
	assert_non_null(strstr(t1, "cluster {\n    announce-table 150\n"
	    "    withdraw-delay 2s\n    snat-addresses 10.0.0.101\n}\n"));
	j = dump_str(a, true);
	assert_non_null(strstr(j, "\"cluster\":{\"announce_table\":150,"
	    "\"withdraw_delay_ms\":2000,\"snat_addresses\":[\"10.0.0.101\"]}"));
	assert_non_null(strstr(j, "\"peers\":[\"10.9.0.2\",\"10.9.0.3\","
	    "\"10.9.0.4\"]"));
	conf_diags_free(&d);
	b = load("cluster { announce-table 151 snat-addresses 10.0.0.101 }\n"
	    "sync { interface hb0 peer 10.9.0.2 peer 10.9.0.3 key-file "
	    TEST_KEY " }\n"
	    "service web { listen 10.0.0.1 tcp 80 backend a 10.0.0.11 }\n"
	    "service app { listen 10.0.0.1 tcp 81 mode snat snat-pool "
	    "10.0.0.101 10.0.0.102 backend a 10.0.0.11 }\n", &d);
	assert_int_equal(conf_diff(a, b, &diff), 0);
	assert_int_equal(diff.n, 2);	/* the table; a peer fewer */
	assert_int_equal(diff.v[0].object, CONF_OBJ_GLOBAL);
	assert_int_equal(diff.v[1].object, CONF_OBJ_SYNC);
	conf_diff_free(&diff);
	free(t1);
	free(j);
	conf_free(a);
	conf_free(b);
	conf_diags_free(&d);
}

/* ---- diff ---------------------------------------------------------- */

static const char diff_old[] =
    "vrrp-group g {\n"
    "  instance front { interface eth0 vrid 1 priority 150 virtual-address 10.0.0.1 }\n"
    "  instance gone { interface eth1 vrid 2 virtual-address 10.1.0.1 }\n"
    "}\n"
    "service web { listen 10.0.0.1 tcp 80 scheduler rr\n"
    "  backend w1 10.0.0.11 weight 10\n"
    "  backend w2 10.0.0.12 weight 10\n"
    "  backend w3 10.0.0.13 }\n"
    "service old { listen 10.0.0.1 tcp 25 backend m 10.0.0.30 }\n"
    "service same { listen 10.0.0.1 tcp 22 backend s 10.0.0.40 }\n";

static const char diff_new[] =
    "global { workers 2 }\n"
    "vrrp-group g {\n"
    "  instance front { interface eth0 vrid 1 priority 100 virtual-address 10.0.0.1 }\n"
    "  instance added { interface eth2 vrid 3 virtual-address 10.2.0.1 }\n"
    "}\n"
    "service web { listen 10.0.0.1 tcp 80 scheduler maglev\n"
    "  backend w1 10.0.0.11 weight 20\n"
    "  backend w2 10.0.0.12 weight 10\n"
    "  backend w4 10.0.0.14 }\n"
    "service new { listen 10.0.0.1 tcp 443 backend n 10.0.0.50 }\n"
    "service same { listen 10.0.0.1 tcp 22 backend s 10.0.0.40 }\n";

static void
test_diff(void **state)
{
	struct conf_diags d = { 0 };
	struct conf *a = load(diff_old, &d), *b;
	struct conf_diff diff;
	char out[4096] = "", line[512];

	assert_non_null(a);
	conf_diags_free(&d);
	b = load(diff_new, &d);
	assert_non_null(b);
	assert_int_equal(conf_diff(a, b, &diff), 0);
	for (size_t i = 0; i < diff.n; i++) {
		conf_change_format(&diff.v[i], line, sizeof(line));
		strcat(out, line);
		strcat(out, "\n");
	}
	assert_string_equal(out,
	    "global: changed: workers 1 -> 2\n"
	    "instance gone: removed\n"
	    "instance front: changed: priority 150 -> 100\n"
	    "instance added: added\n"
	    "service old: removed\n"
	    "service web: changed: scheduler rr -> maglev\n"
	    "backend web/w3: removed\n"
	    "backend web/w1: changed: weight 10 -> 20\n"
	    "backend web/w4: added\n"
	    "service new: added\n");
	/* Changes point at the objects, for carrying state across a reload. */
	for (size_t i = 0; i < diff.n; i++) {
		if (diff.v[i].kind == CONF_ADDED)
			assert_null(diff.v[i].old_obj);
		else
			assert_non_null(diff.v[i].old_obj);
		if (diff.v[i].kind == CONF_REMOVED)
			assert_null(diff.v[i].new_obj);
		else
			assert_non_null(diff.v[i].new_obj);
	}
	conf_diff_free(&diff);

	/* From nothing, everything is added. */
	assert_int_equal(conf_diff(NULL, b, &diff), 0);
	assert_int_equal(diff.n, 1 + 1 + 2 + 3);	/* global, group, 2 inst, 3 svc */
	conf_diff_free(&diff);
	conf_free(a);
	conf_free(b);
	conf_diags_free(&d);
}

/* Copies conf/examples/NAME into DIR with MODE. */
static void
copy_example(const char *name, const char *dir, mode_t mode)
{
	char from[512], to[512], buf[4096];
	FILE *in, *out;
	size_t n;

	snprintf(from, sizeof(from), "%s/../conf/examples/%s", TEST_SRCDIR,
	    name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	assert_non_null(in = fopen(from, "r"));
	assert_non_null(out = fopen(to, "w"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, mode), 0);
}

static void
test_examples(void **state)
{
	static const char *const names[] = {
		"routed.conf", "snat.conf", "dsr.conf", "ha-lb1.conf", "ha-lb2.conf",
		"cluster.conf",
	};
	char dir[] = "/tmp/lbdt-examples.XXXXXX", path[512];

	/* A copy: git keeps no file modes, and the key must be private. */
	assert_non_null(mkdtemp(dir));
	copy_example("sync.key", dir, 0600);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct conf_diags d = { 0 };
		struct conf *c;

		copy_example(names[i], dir, 0644);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		c = conf_load(path, &d);
		if (c == NULL)
			print_error("%s:\n%s", path, diag_text(&d));
		assert_non_null(c);
		assert_true(c->n_services >= 1);
		conf_free(c);
		conf_diags_free(&d);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sync.key", dir);
	unlink(path);
	rmdir(dir);
}

/* The sync blocks above name a key file: a real one, as lbd requires. */
static int
make_key(void **state)
{
	FILE *fp = fopen(TEST_KEY, "w");

	if (fp == NULL || chmod(TEST_KEY, 0600) != 0)
		return -1;
	fputs("0123456789abcdef0123456789abcdef", fp);
	return fclose(fp);
}

static int
drop_key(void **state)
{
	return unlink(TEST_KEY);
}

/* The classifier's room: 65,536 services and 262,144 backends in all load;
 * one more is an error at the line of the one too many. */
static char *
many(unsigned services, unsigned per, unsigned extra_backends)
{
	size_t cap = (size_t)services * (80 + per * 48) + extra_backends * 48 + 64;
	char *t = malloc(cap);
	size_t off = 0;

	assert_non_null(t);
	for (unsigned s = 0; s < services; s++) {
		unsigned nb = per + (s == services - 1 ? extra_backends : 0);

		off += (size_t)snprintf(t + off, cap - off, "service s%u {\n"
		    "listen 10.%u.%u.%u tcp 80\n", s, 100 + s / 65536,
		    (s / 256) % 256, s % 256);
		for (unsigned b = 0; b < nb; b++)
			off += (size_t)snprintf(t + off, cap - off, "backend b%u "
			    "172.16.%u.%u:%u\n", b, b / 250, b % 250 + 1, 8000 + s % 1000);
		off += (size_t)snprintf(t + off, cap - off, "}\n");
	}
	return t;
}

/* A vrrp-group without a data interface is refused at the group: its
 * master would hold its addresses nowhere. One interface is enough. */
static void
test_vrrp_needs_interface(void **state)
{
	static const char grp[] =
	    "vrrp-group edge {\n"
	    "  instance front { interface eth0 vrid 51 virtual-address 10.0.0.1/24 }\n"
	    "}\n";
	char with[256];
	struct conf_diags d = { 0 };
	struct conf *c = conf_load_string("t.conf", grp, &d);

	(void)state;
	assert_null(c);
	assert_string_equal(diag_text(&d), "t.conf:1:12: error: vrrp-group "
	    "\"edge\": no data interface in global (\"interface NAME\"): a "
	    "master would hold its virtual addresses nowhere\n");
	conf_diags_free(&d);
	snprintf(with, sizeof(with), "global { interface eth1 }\n%s", grp);
	memset(&d, 0, sizeof(d));
	c = conf_load_string("t.conf", with, &d);
	assert_non_null(c);
	assert_string_equal(diag_text(&d), "");
	conf_free(c);
	conf_diags_free(&d);
}

static void
test_limits(void **state)
{
	struct conf_diags d;
	struct conf *c;
	char *t;

	(void)state;
	t = many(65536, 1, 0);
	c = load(t, &d);
	assert_non_null(c);
	conf_free(c);
	conf_diags_free(&d);
	free(t);

	t = many(65537, 1, 0);
	c = load(t, &d);
	assert_null(c);
	assert_non_null(strstr(diag_text(&d), "t.conf:262145:9: error: service "
	    "\"s65536\": more than 65536 services"));
	conf_diags_free(&d);
	free(t);

	/* 4 services of 65,534 backends and one of 8: 262,144, and b8 beyond. */
	{
		size_t cap = 5 * 65534 * 48 + 4096, off = 0;
		char *u = malloc(cap);

		assert_non_null(u);
		for (unsigned s = 0; s < 5; s++) {
			unsigned nb = s < 4 ? 65534 : 262144 - 4 * 65534 + 1;

			off += (size_t)snprintf(u + off, cap - off, "service s%u {\n"
			    "listen 10.100.0.%u tcp 80\n", s, s + 1);
			for (unsigned b = 0; b < nb; b++)
				off += (size_t)snprintf(u + off, cap - off,
				    "backend b%u 172.%u.%u.%u:80\n", b, 16 + b / 62500,
				    (b / 250) % 250, b % 250 + 1);
			off += (size_t)snprintf(u + off, cap - off, "}\n");
		}
		c = load(u, &d);
		assert_null(c);
		assert_non_null(strstr(diag_text(&d), "error: backend \"b8\": "
		    "more than 262144 backends in all services"));
		conf_diags_free(&d);
		/* One backend fewer: it loads. */
		*strstr(u, "backend b8 ") = '#';
		c = load(u, &d);
		assert_non_null(c);
		conf_free(c);
		conf_diags_free(&d);
		free(u);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_constructs),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test_setup_teardown(test_include_glob, setup_dir,
		    teardown_dir),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_cluster_block),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_vrrp_needs_interface),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("conf", tests, make_key, drop_key);
}
