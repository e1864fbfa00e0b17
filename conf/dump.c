/*
 * The canonical form of a config: every value explicit, defaults included.
 * conf_dump() writes text that conf_load() reads back to an equal config
 * (tests/unit/test_conf.c checks the round trip); conf_dump_json() writes the
 * same content for machines (`lbctl --json show config`).
 */
#include <string.h>

#include "conf/conf_int.h"

static void
put_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t') {
			fputc('\\', fp);
			fputc(*s == '\n' ? 'n' : *s == '\r' ? 'r' : 't', fp);
			continue;
		}
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}


static void
dump_check(const struct conf_check *ck, FILE *fp)
{
	char d[32];

	fprintf(fp, "    check %s {\n", conf_check_name(ck->type));
	fprintf(fp, "        interval %s\n", conf_dur_str(ck->interval_ms, d, sizeof(d)));
	fprintf(fp, "        timeout %s\n", conf_dur_str(ck->timeout_ms, d, sizeof(d)));
	fprintf(fp, "        rise %u\n        fall %u\n", ck->rise, ck->fall);
	if (ck->port != 0)
		fprintf(fp, "        port %u\n", ck->port);
	if (ck->jitter_ms != 0)
		fprintf(fp, "        jitter %s\n", conf_dur_str(ck->jitter_ms, d, sizeof(d)));
	if (ck->observe)
		fprintf(fp, "        observe on\n        observe-errors %u\n"
		    "        observe-window %s\n", ck->observe_errors,
		    conf_dur_str(ck->observe_window_ms, d, sizeof(d)));
	if (ck->has_source) {
		char sa[64];
		fprintf(fp, "        source %s\n", conf_addr_str(&ck->source, false,
		    sa, sizeof(sa)));
	}
	if (ck->path != NULL) {
		fputs("        path ", fp);
		put_quoted(fp, ck->path);
		fputc('\n', fp);
	}
	if (ck->query != NULL) {
		fputs("        query ", fp);
		put_quoted(fp, ck->query);
		fprintf(fp, "\n        type %s\n", ck->qtype == 28 ? "AAAA" : "A");
	}
	if (ck->expect != NULL && ck->type == CONF_CHECK_TCP) {
		fputs("        expect ", fp);
		put_quoted(fp, ck->expect);
		fputc('\n', fp);
	} else if (ck->expect != NULL)
		fprintf(fp, "        expect %s\n", ck->expect);
	if (ck->host != NULL) {
		fputs("        host ", fp);
		put_quoted(fp, ck->host);
		fputc('\n', fp);
	}
	if (ck->type == CONF_CHECK_HTTPS || ck->type == CONF_CHECK_TLS)
		fprintf(fp, "        verify %s\n        tls-min %s\n",
		    ck->verify ? "on" : "off", ck->tls_min == 13 ? "1.3" : "1.2");
	const struct { const char *k; const char *v; } strs[] = {
		{ "command", ck->command }, { "body", ck->body },
		{ "method", ck->method }, { "send", ck->send },
		{ "receive", ck->receive }, { "ca-file", ck->ca_file },
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i].v != NULL) {
			fprintf(fp, "        %s ", strs[i].k);
			put_quoted(fp, strs[i].v);
			fputc('\n', fp);
		}
	fputs("    }\n", fp);
}

/* `garp` lines: all of them (global), or those the block sets. */
static void
put_garp(FILE *fp, const struct conf_garp *g, const char *ind, bool all)
{
	char d[32];

	if (all || (g->set & CONF_GARP_SET_COUNT))
		fprintf(fp, "%sgarp count %u\n", ind, g->count);
	if (all || (g->set & CONF_GARP_SET_INTERVAL))
		fprintf(fp, "%sgarp interval %s\n", ind,
		    conf_dur_str(g->interval_ms, d, sizeof(d)));
	if ((all && g->refresh_ms) || (g->set & CONF_GARP_SET_REFRESH))
		fprintf(fp, "%sgarp refresh %s\n", ind, g->refresh_ms ?
		    conf_dur_str(g->refresh_ms, d, sizeof(d)) : "off");
	if ((all && g->lower_prio >= 0) || (g->set & CONF_GARP_SET_LOWER)) {
		if (g->lower_prio == 0)
			fprintf(fp, "%sgarp lower-prio off\n", ind);
		else
			fprintf(fp, "%sgarp lower-prio %d\n", ind, g->lower_prio);
	}
}

void
conf_dump(const struct conf *c, FILE *fp)
{
	char a[80], d[32];

	fputs("global {\n", fp);
	if (c->global.node_id != NULL)
		fprintf(fp, "    node-id %s\n", c->global.node_id);
	fprintf(fp, "    workers %u\n", c->global.workers);
	fputs("    control-socket ", fp);
	put_quoted(fp, c->global.control_socket);
	if (c->global.control_socket_ro != NULL) {
		fputs("\n    control-socket-readonly ", fp);
		put_quoted(fp, c->global.control_socket_ro);
	}
	fprintf(fp, "\n    conn-table-size %u\n", c->global.conn_table_size);
	for (int t = 0; t < CONF_TO__COUNT; t++)
		fprintf(fp, "    timeout %s %s\n", conf_timeout_name(t),
		    conf_dur_str(c->global.timeout_ms[t], d, sizeof(d)));
	if (c->global.metrics)
		fprintf(fp, "    metrics listen %s\n", conf_addr_port_str(
		    &c->global.metrics_addr, c->global.metrics_port, a, sizeof(a)));
	for (size_t i = 0; i < c->global.n_ifaces; i++) {
		fputs("    interface ", fp);
		put_quoted(fp, c->global.ifaces[i]);
		fputc('\n', fp);
	}
	fprintf(fp, "    xdp-mode %s\n", conf_xdp_mode_name(c->global.xdp_mode));
	fprintf(fp, "    datapath %s\n", conf_datapath_name(c->global.datapath));
	fputs("    script-user ", fp);
	put_quoted(fp, conf_script_user(&c->global));
	fputc('\n', fp);
	if (c->global.hash_seed != NULL) {
		fputs("    hash-seed ", fp);
		put_quoted(fp, c->global.hash_seed);
		fputc('\n', fp);
	}
	put_garp(fp, &c->global.garp, "    ", true);
	fprintf(fp, "    garp rate %u\n", c->global.garp_rate);
	fprintf(fp, "    nat-log %s\n    nat-log rate %u\n",
	    c->global.nat_log ? "on" : "off", c->global.nat_log_rate);
	fprintf(fp, "    vrrp %s\n    notify-timeout %s\n",
	    c->global.vrrp_external ? "external" : "internal",
	    conf_dur_str(c->global.notify_timeout_ms, d, sizeof(d)));
	fputs("}\n", fp);

	for (size_t g = 0; g < c->n_groups; g++) {
		const struct conf_group *gr = &c->groups[g];
		fprintf(fp, "\nvrrp-group \"%s\" {\n", gr->name);
		if (gr->notify != NULL) {
			fputs("    notify ", fp);
			put_quoted(fp, gr->notify);
			fputc('\n', fp);
		}
		for (size_t i = 0; i < gr->n_instances; i++) {
			const struct conf_instance *in = &gr->instances[i];
			fprintf(fp, "    instance \"%s\" {\n", in->name);
			fputs("        interface ", fp);
			put_quoted(fp, in->interface);
			fprintf(fp, "\n        vrid %u\n        priority %u\n",
			    in->vrid, in->priority);
			fprintf(fp, "        advert-interval %s\n",
			    conf_dur_str(in->advert_ms, d, sizeof(d)));
			fprintf(fp, "        version %u\n        preempt %s\n",
			    in->version, in->preempt ? "on" : "off");
			if (in->preempt_delay_ms != 0)
				fprintf(fp, "        preempt-delay %s\n",
				    conf_dur_str(in->preempt_delay_ms, d, sizeof(d)));
			for (size_t k = 0; k < in->n_vaddrs; k++)
				fprintf(fp, "        virtual-address %s\n",
				    conf_addr_str(&in->vaddrs[k], true, a,
				    sizeof(a)));
			fprintf(fp, "        use-vmac %s\n",
			    in->use_vmac ? "on" : "off");
			put_garp(fp, &in->garp, "        ", false);
			if (in->auth_pass != NULL) {
				fputs("        auth-pass ", fp);
				put_quoted(fp, in->auth_pass);
				fputc('\n', fp);
			}
			for (size_t k = 0; k < in->n_unicast_peers; k++)
				fprintf(fp, "        unicast-peer %s\n",
				    conf_addr_str(&in->unicast_peers[k], false,
				    a, sizeof(a)));
			if (in->notify != NULL) {
				fputs("        notify ", fp);
				put_quoted(fp, in->notify);
				fputc('\n', fp);
			}
			for (size_t k = 0; k < in->n_tracks; k++) {
				const struct conf_track *t = &in->tracks[k];

				fprintf(fp, "        %s ", conf_track_name(t->type));
				put_quoted(fp, t->what);
				if (t->weight != 0)
					fprintf(fp, " weight %u", t->weight);
				if (t->type == CONF_TRACK_SCRIPT)
					fprintf(fp, " interval %s", conf_dur_str(
					    t->interval_ms, d, sizeof(d)));
				fputc('\n', fp);
			}
			fputs("    }\n", fp);
		}
		fputs("}\n", fp);
	}

	if (c->sync.present) {
		fputs("\nsync {\n    interface ", fp);
		put_quoted(fp, c->sync.interface);
		for (size_t i = 0; i < c->sync.n_peers; i++)
			fprintf(fp, "\n    peer %s", conf_addr_str(
			    &c->sync.peers[i], false, a, sizeof(a)));
		fprintf(fp, "\n    port %u\n    key-file ", c->sync.port);
		put_quoted(fp, c->sync.key_file);
		if (c->sync.accept_key_file != NULL) {
			fputs("\n    accept-key-file ", fp);
			put_quoted(fp, c->sync.accept_key_file);
		}
		fprintf(fp, "\n    resync-wait %s\n",
		    conf_dur_str(c->sync.resync_wait_ms, d, sizeof(d)));
		fprintf(fp, "    heartbeat-interval %s\n",
		    conf_dur_str(c->sync.heartbeat_interval_ms, d, sizeof(d)));
		fprintf(fp, "    heartbeat-timeout %s\n",
		    conf_dur_str(c->sync.heartbeat_timeout_ms, d, sizeof(d)));
		if (c->sync.backup_interface != NULL) {
			fputs("    backup-interface ", fp);
			put_quoted(fp, c->sync.backup_interface);
			fprintf(fp, "\n    backup-peer %s\n", conf_addr_str(
			    &c->sync.backup_peer, false, a, sizeof(a)));
		}
		fputs("}\n", fp);
	}

	if (c->cluster.present) {
		fprintf(fp, "\ncluster {\n    announce-table %u\n"
		    "    withdraw-delay %s\n", c->cluster.announce_table,
		    conf_dur_str(c->cluster.withdraw_delay_ms, d, sizeof(d)));
		if (c->cluster.n_snat_own > 0) {
			fputs("    snat-addresses", fp);
			for (size_t k = 0; k < c->cluster.n_snat_own; k++)
				fprintf(fp, " %s", conf_addr_str(
				    &c->cluster.snat_own[k], false, a, sizeof(a)));
			fputs("\n", fp);
		}
		fputs("}\n", fp);
	}

	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];
		fprintf(fp, "\nservice \"%s\" {\n", s->name);
		fprintf(fp, "    listen %s %s %u\n",
		    conf_addr_str(&s->vip, false, a, sizeof(a)),
		    conf_proto_name(s->proto), s->port);
		fprintf(fp, "    mode %s", conf_mode_name(s->mode));
		if (s->tunnel != CONF_TUNNEL_NONE)
			fprintf(fp, " tunnel %s", conf_tunnel_name(s->tunnel));
		if (s->tunnel == CONF_TUNNEL_GUE)
			fprintf(fp, " port %u", s->tunnel_port);
		if (s->tunnel_src.family != 0)
			fprintf(fp, " source %s", conf_addr_str(&s->tunnel_src,
			    true, a, sizeof(a)));
		fprintf(fp, "\n    scheduler %s\n", conf_sched_name(s->sched));
		if (s->stateless)
			fputs("    stateless on\n", fp);
		if (s->reset_on_down)
			fputs("    on-backend-down reset\n", fp);
		if (s->quorum)
			fprintf(fp, "    quorum %u\n", s->quorum);
		if (s->udp_timeout_ms)
			fprintf(fp, "    timeout udp %ums\n", s->udp_timeout_ms);
		if (s->one_packet)
			fputs("    one-packet on\n", fp);
		if (s->persist_ms)
			fprintf(fp, "    persist %ums netmask /%u\n",
			    s->persist_ms, s->persist_plen ? s->persist_plen :
			    s->vip.family == AF_INET ? 32 : 128);
		for (size_t k = 0; k < s->n_allow; k++)
			fprintf(fp, "    allow %s\n",
			    conf_addr_str(&s->allow[k], true, a, sizeof(a)));
		if (s->limit_rate)
			fprintf(fp, "    limit new-conns %u/s per-source burst %u\n",
			    s->limit_rate, s->limit_burst);
		if (s->slow_start_ms)
			fprintf(fp, "    slow-start %ums\n", s->slow_start_ms);
		for (size_t k = 0; k < s->n_snat_pool; k++) {
			fprintf(fp, "    snat-pool %s",
			    conf_addr_str(&s->snat_pool[k], false, a, sizeof(a)));
			if (s->snat_ports[k].hi != 0)
				fprintf(fp, " ports %u-%u", s->snat_ports[k].lo,
				    s->snat_ports[k].hi);
			fputc('\n', fp);
		}
		if (s->check.type != CONF_CHECK_NONE)
			dump_check(&s->check, fp);
		for (size_t k = 0; k < s->n_backends; k++) {
			const struct conf_backend *b = &s->backends[k];
			fprintf(fp, "    backend \"%s\" %s weight %u", b->name,
			    conf_addr_port_str(&b->addr, b->port, a, sizeof(a)),
			    b->weight);
			if (b->max_conns)
				fprintf(fp, " max-conns %u", b->max_conns);
			fputs(b->backup ? " backup\n" : "\n", fp);
		}
		if (s->has_fallback)
			fprintf(fp, "    fallback \"%s\" %s\n", s->fallback.name,
			    conf_addr_port_str(&s->fallback.addr, s->fallback.port, a,
			    sizeof(a)));
		fputs("}\n", fp);
	}
}

/* ---- JSON ---------------------------------------------------------- */

static void
jstr(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void
jaddr(FILE *fp, const struct conf_addr *a, bool plen)
{
	char buf[80];

	jstr(fp, conf_addr_str(a, plen, buf, sizeof(buf)));
}

void
conf_dump_json(const struct conf *c, FILE *fp)
{
	fputs("{\"global\":{\"node_id\":", fp);
	jstr(fp, c->global.node_id);
	fprintf(fp, ",\"workers\":%u,\"control_socket\":", c->global.workers);
	jstr(fp, c->global.control_socket);
	fputs(",\"control_socket_readonly\":", fp);
	jstr(fp, c->global.control_socket_ro);
	fprintf(fp, ",\"conn_table_size\":%u,\"timeouts_ms\":{",
	    c->global.conn_table_size);
	for (int t = 0; t < CONF_TO__COUNT; t++)
		fprintf(fp, "%s\"%s\":%u", t ? "," : "", conf_timeout_name(t),
		    c->global.timeout_ms[t]);
	fputs("},\"metrics\":", fp);
	if (c->global.metrics) {
		char mp[80];
		jstr(fp, conf_addr_port_str(&c->global.metrics_addr, c->global.metrics_port,
		    mp, sizeof(mp)));
	} else
		fputs("null", fp);
	fputs(",\"interfaces\":[", fp);
	for (size_t i = 0; i < c->global.n_ifaces; i++) {
		if (i)
			fputc(',', fp);
		jstr(fp, c->global.ifaces[i]);
	}
	fprintf(fp, "],\"datapath\":\"%s\",\"hash_seed\":", conf_datapath_name(
	    c->global.datapath));
	if (c->global.hash_seed != NULL)
		jstr(fp, c->global.hash_seed);
	else
		fputs("null", fp);
	fputs(",\"script_user\":", fp);
	jstr(fp, conf_script_user(&c->global));
	fprintf(fp, ",\"xdp_mode\":\"%s\",\"garp\":{\"count\":%u,"
	    "\"interval_ms\":%u,\"refresh_ms\":%u,\"lower_prio\":%d,"
	    "\"rate\":%u}", conf_xdp_mode_name(c->global.xdp_mode),
	    c->global.garp.count, c->global.garp.interval_ms,
	    c->global.garp.refresh_ms, c->global.garp.lower_prio,
	    c->global.garp_rate);
	fprintf(fp, ",\"nat_log\":%s,\"nat_log_rate\":%u",
	    c->global.nat_log ? "true" : "false", c->global.nat_log_rate);
	fprintf(fp, ",\"vrrp\":\"%s\",\"notify_timeout_ms\":%u",
	    c->global.vrrp_external ? "external" : "internal",
	    c->global.notify_timeout_ms);
	fputs("},\"vrrp_groups\":[", fp);
	for (size_t g = 0; g < c->n_groups; g++) {
		const struct conf_group *gr = &c->groups[g];
		fprintf(fp, "%s{\"name\":", g ? "," : "");
		jstr(fp, gr->name);
		fputs(",\"notify\":", fp);
		jstr(fp, gr->notify);
		fputs(",\"instances\":[", fp);
		for (size_t i = 0; i < gr->n_instances; i++) {
			const struct conf_instance *in = &gr->instances[i];
			fprintf(fp, "%s{\"name\":", i ? "," : "");
			jstr(fp, in->name);
			fputs(",\"interface\":", fp);
			jstr(fp, in->interface);
			fprintf(fp, ",\"vrid\":%u,\"priority\":%u,"
			    "\"advert_interval_ms\":%u,\"version\":%u,"
			    "\"preempt\":%s,\"preempt_delay_ms\":%u,"
			    "\"virtual_addresses\":[", in->vrid, in->priority,
			    in->advert_ms, in->version,
			    in->preempt ? "true" : "false", in->preempt_delay_ms);
			for (size_t k = 0; k < in->n_vaddrs; k++) {
				if (k)
					fputc(',', fp);
				jaddr(fp, &in->vaddrs[k], true);
			}
			{
				struct conf_garp eg = conf_instance_garp(
				    &c->global, in);

				fprintf(fp, "],\"garp\":{\"count\":%u,"
				    "\"interval_ms\":%u,\"refresh_ms\":%u,"
				    "\"lower_prio\":%d}", eg.count,
				    eg.interval_ms, eg.refresh_ms,
				    eg.lower_prio);
			}
			fprintf(fp, ",\"use_vmac\":%s,\"auth_pass\":%s,"
			    "\"unicast_peers\":[", in->use_vmac ? "true" : "false",
			    in->auth_pass != NULL ? "true" : "false");
			for (size_t k = 0; k < in->n_unicast_peers; k++) {
				if (k)
					fputc(',', fp);
				jaddr(fp, &in->unicast_peers[k], false);
			}
			fputs("],\"notify\":", fp);
			jstr(fp, in->notify);
			fputs(",\"tracks\":[", fp);
			for (size_t k = 0; k < in->n_tracks; k++) {
				const struct conf_track *t = &in->tracks[k];

				fprintf(fp, "%s{\"type\":\"%s\",\"what\":",
				    k ? "," : "", conf_track_name(t->type));
				jstr(fp, t->what);
				fprintf(fp, ",\"weight\":%u,\"interval_ms\":%u}",
				    t->weight, t->interval_ms);
			}
			fputs("]}", fp);
		}
		fputs("]}", fp);
	}
	fputs("],\"sync\":", fp);
	if (c->sync.present) {
		fputs("{\"interface\":", fp);
		jstr(fp, c->sync.interface);
		/* "peer": the first, as before there were several. */
		fputs(",\"peer\":", fp);
		jaddr(fp, &c->sync.peers[0], false);
		fputs(",\"peers\":[", fp);
		for (size_t i = 0; i < c->sync.n_peers; i++) {
			fputs(i ? "," : "", fp);
			jaddr(fp, &c->sync.peers[i], false);
		}
		fputc(']', fp);
		fprintf(fp, ",\"port\":%u,\"key_file\":", c->sync.port);
		jstr(fp, c->sync.key_file);
		fputs(",\"accept_key_file\":", fp);
		jstr(fp, c->sync.accept_key_file);
		fprintf(fp, ",\"resync_wait_ms\":%u,\"heartbeat_interval_ms\":%u,"
		    "\"heartbeat_timeout_ms\":%u,\"backup_interface\":",
		    c->sync.resync_wait_ms, c->sync.heartbeat_interval_ms,
		    c->sync.heartbeat_timeout_ms);
		if (c->sync.backup_interface != NULL) {
			jstr(fp, c->sync.backup_interface);
			fputs(",\"backup_peer\":", fp);
			jaddr(fp, &c->sync.backup_peer, false);
		} else
			fputs("null,\"backup_peer\":null", fp);
		fputc('}', fp);
	} else
		fputs("null", fp);
	if (c->cluster.present) {
		fprintf(fp, ",\"cluster\":{\"announce_table\":%u,"
		    "\"withdraw_delay_ms\":%u,\"snat_addresses\":[",
		    c->cluster.announce_table, c->cluster.withdraw_delay_ms);
		for (size_t k = 0; k < c->cluster.n_snat_own; k++) {
			fputs(k ? "," : "", fp);
			jaddr(fp, &c->cluster.snat_own[k], false);
		}
		fputs("]}", fp);
	}
	else
		fputs(",\"cluster\":null", fp);
	fputs(",\"services\":[", fp);
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];
		fprintf(fp, "%s{\"name\":", i ? "," : "");
		jstr(fp, s->name);
		fputs(",\"vip\":", fp);
		jaddr(fp, &s->vip, false);
		fprintf(fp, ",\"proto\":\"%s\",\"port\":%u,\"mode\":\"%s\","
		    "\"scheduler\":\"%s\",\"stateless\":%s,\"on_backend_down\":\"%s\","
		    "\"quorum\":%u,\"slow_start_ms\":%u,\"limit_new_conns\":%u,"
		    "\"limit_burst\":%u,\"persist_ms\":%u,\"persist_netmask\":%u,"
		    "\"timeout_udp_ms\":%u,\"one_packet\":%s,\"snat_pool\":[",
		    conf_proto_name(s->proto), s->port, conf_mode_name(s->mode),
		    conf_sched_name(s->sched), s->stateless ? "true" : "false",
		    conf_on_down_name(s->reset_on_down),
		    s->quorum ? s->quorum : 1, s->slow_start_ms, s->limit_rate,
		    s->limit_burst, s->persist_ms, s->persist_plen ?
		    s->persist_plen : s->vip.family == AF_INET ? 32 : 128,
		    s->udp_timeout_ms, s->one_packet ? "true" : "false");
		for (size_t k = 0; k < s->n_snat_pool; k++) {
			if (k)
				fputc(',', fp);
			jaddr(fp, &s->snat_pool[k], false);
		}
		fputs("],\"snat_ports\":[", fp);
		for (size_t k = 0; k < s->n_snat_pool; k++)
			fprintf(fp, "%s[%u,%u]", k ? "," : "",
			    s->snat_ports[k].hi ? s->snat_ports[k].lo :
			    CONF_SNAT_PORT_LO, s->snat_ports[k].hi ?
			    s->snat_ports[k].hi : CONF_SNAT_PORT_HI);
		fprintf(fp, "],\"tunnel\":\"%s\",\"tunnel_port\":%u,"
		    "\"tunnel_source\":", conf_tunnel_name(s->tunnel),
		    s->tunnel_port);
		if (s->tunnel_src.family != 0)
			jaddr(fp, &s->tunnel_src, true);
		else
			fputs("null", fp);
		fputs(",\"allow\":[", fp);
		for (size_t k = 0; k < s->n_allow; k++) {
			if (k)
				fputc(',', fp);
			jaddr(fp, &s->allow[k], true);
		}
		fputs("],\"check\":", fp);
		if (s->check.type == CONF_CHECK_NONE)
			fputs("null", fp);
		else {
			const struct conf_check *ck = &s->check;
			fprintf(fp, "{\"type\":\"%s\",\"interval_ms\":%u,"
			    "\"timeout_ms\":%u,\"rise\":%u,\"fall\":%u,\"port\":%u,"
			    "\"path\":", conf_check_name(ck->type),
			    ck->interval_ms, ck->timeout_ms, ck->rise, ck->fall,
			    ck->port);
			jstr(fp, ck->path);
			fputs(",\"expect\":", fp);
			jstr(fp, ck->expect);
			fputs(",\"host\":", fp);
			jstr(fp, ck->host);
			fputs(",\"command\":", fp);
			jstr(fp, ck->command);
			fputs(",\"body\":", fp);
			jstr(fp, ck->body);
			fputs(",\"method\":", fp);
			jstr(fp, ck->method);
			fputs(",\"send\":", fp);
			jstr(fp, ck->send);
			fputs(",\"receive\":", fp);
			jstr(fp, ck->receive);
			fprintf(fp, ",\"jitter_ms\":%u,\"observe\":%s,"
			    "\"observe_errors\":%u,\"observe_window_ms\":%u,"
			    "\"source\":", ck->jitter_ms, ck->observe ? "true" :
			    "false", ck->observe_errors, ck->observe_window_ms);
			if (ck->has_source)
				jaddr(fp, &ck->source, false);
			else
				fputs("null", fp);
			fprintf(fp, ",\"verify\":%s,\"tls_min\":\"%s\",\"ca_file\":",
			    ck->verify ? "true" : "false",
			    ck->tls_min == 13 ? "1.3" : "1.2");
			jstr(fp, ck->ca_file);
			fputc('}', fp);
		}
		fputs(",\"backends\":[", fp);
		for (size_t k = 0; k < s->n_backends; k++) {
			const struct conf_backend *b = &s->backends[k];
			fprintf(fp, "%s{\"name\":", k ? "," : "");
			jstr(fp, b->name);
			fputs(",\"address\":", fp);
			jaddr(fp, &b->addr, false);
			fprintf(fp, ",\"port\":%u,\"weight\":%u,\"max_conns\":%u,"
			    "\"backup\":%s}", b->port, b->weight, b->max_conns,
			    b->backup ? "true" : "false");
		}
		fputs("],\"fallback\":", fp);
		if (s->has_fallback) {
			fputs("{\"name\":", fp);
			jstr(fp, s->fallback.name);
			fputs(",\"address\":", fp);
			jaddr(fp, &s->fallback.addr, false);
			fprintf(fp, ",\"port\":%u}", s->fallback.port);
		} else
			fputs("null", fp);
		fputs("}", fp);
	}
	fputs("]}\n", fp);
}
