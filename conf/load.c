/*
 * Loading a configuration (parse, build, validate: all or nothing) and
 * freeing one.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"
#include "parser.h"

static struct conf *
conf_new(const char *path)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->path = strdup(path);
	c->global.workers = CONF_DEFAULT_WORKERS;
	c->global.conn_table_size = CONF_DEFAULT_CONN_TABLE_SIZE;
	c->global.garp.count = CONF_GARP_DEFAULT_COUNT;
	c->global.garp.interval_ms = CONF_GARP_DEFAULT_INTERVAL_MS;
	c->global.garp.lower_prio = -1;
	c->global.garp_rate = CONF_GARP_DEFAULT_RATE;
	c->global.nat_log_rate = CONF_NAT_LOG_DEFAULT_RATE;
	c->global.notify_timeout_ms = CONF_NOTIFY_DEFAULT_TIMEOUT_MS;
	memcpy(c->global.timeout_ms, conf_timeout_default_ms,
	    sizeof(c->global.timeout_ms));
	c->global.control_socket = strdup(CONF_DEFAULT_SOCKET);
	if (c->path == NULL || c->global.control_socket == NULL) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static struct conf *
load(const char *name, const char *text, struct conf_diags *d)
{
	struct conf_parser p;
	size_t errors_before = d->n_errors;
	int rc;

	memset(&p, 0, sizeof(p));
	p.diags = d;
	p.group = p.instance = p.service = -1;
	if ((p.c = conf_new(name)) == NULL)
		return NULL;
	if (conf_lex_init(&p) != 0) {
		conf_free(p.c);
		return NULL;
	}
	rc = text != NULL ? conf_lex_push_string(&p, name, text) :
	    conf_lex_push_file(&p, name, NULL);
	if (rc == 0)
		yyparse(p.scanner, &p);
	conf_lex_destroy(&p);
	if (rc == 0)
		conf_validate(&p);	/* also after parse errors: report all */
	if (d->n_errors != errors_before) {
		conf_free(p.c);
		return NULL;
	}
	return p.c;
}

struct conf *
conf_load(const char *path, struct conf_diags *d)
{
	return load(path, NULL, d);
}

struct conf *
conf_load_string(const char *name, const char *text, struct conf_diags *d)
{
	return load(name, text, d);
}

static void
check_free(struct conf_check *ck)
{
	free(ck->path);
	free(ck->expect);
	free(ck->host);
	free(ck->command);
	free(ck->body);
	free(ck->method);
	free(ck->send);
	free(ck->receive);
	free(ck->query);
	free(ck->ca_file);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_groups; i++) {
		struct conf_group *g = &c->groups[i];
		for (size_t j = 0; j < g->n_instances; j++) {
			free(g->instances[j].name);
			free(g->instances[j].interface);
			free(g->instances[j].vaddrs);
			free(g->instances[j].unicast_peers);
			free(g->instances[j].notify);
			free(g->instances[j].auth_pass);
			for (size_t k = 0; k < g->instances[j].n_tracks; k++)
				free(g->instances[j].tracks[k].what);
			free(g->instances[j].tracks);
		}
		free(g->instances);
		free(g->name);
		free(g->notify);
	}
	free(c->groups);
	for (size_t i = 0; i < c->n_services; i++) {
		struct conf_service *s = &c->services[i];
		for (size_t j = 0; j < s->n_backends; j++)
			free(s->backends[j].name);
		free(s->backends);
		free(s->fallback.name);
		free(s->snat_pool);
		free(s->snat_ports);
		free(s->allow);
		check_free(&s->check);
		free(s->name);
	}
	free(c->services);
	free(c->cluster.snat_own);
	free(c->cluster.snat_own_locs);
	free(c->sync.interface);
	free(c->sync.key_file);
	free(c->sync.accept_key_file);
	free(c->sync.backup_interface);
	free(c->global.node_id);
	free(c->global.hash_seed);
	free(c->global.script_user);
	free(c->global.control_socket);
	free(c->global.control_socket_ro);
	for (size_t i = 0; i < c->global.n_ifaces; i++)
		free(c->global.ifaces[i]);
	free(c->global.ifaces);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c->path);
	free(c);
}

