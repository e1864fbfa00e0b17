/* The status page's JSON and HTML; see status.h. */
#include <stdlib.h>
#include <string.h>

#include "lbd/ctl.h"
#include "lbd/daemon.h"
#include "lbd/events.h"
#include "lbd/status.h"

#ifndef LBD_STATUS_HTML
#error "LBD_STATUS_HTML: the path of lbd/status.html (the Makefile's)"
#endif

__asm__(
"	.section .rodata\n"
"	.global lbd_status_html\n"
"lbd_status_html:\n"
"	.incbin \"" LBD_STATUS_HTML "\"\n"
"	.global lbd_status_html_end\n"
"lbd_status_html_end:\n"
"	.previous\n");

extern const char lbd_status_html[], lbd_status_html_end[];

const char *
status_html(size_t *len)
{
	*len = (size_t)(lbd_status_html_end - lbd_status_html);
	return lbd_status_html;
}

/* One command's JSON answer, as a read-only caller gets it. */
static void
command(struct lbd *d, const char *key, const char *words, struct buf *out)
{
	struct buf body = { 0 };
	char line[64];

	snprintf(line, sizeof(line), "%s --json", words);
	buf_printf(out, ",\"%s\":", key);
	if (lbd_ctl_dispatch(d, &lbd_self_caller, line, &body) && body.len > 0 &&
	    !body.oom) {
		while (body.len > 0 && body.p[body.len - 1] == '\n')
			body.len--;
		buf_append(out, body.p, body.len);
	} else
		buf_puts(out, "null");
	buf_free(&body);
}

/* Which services the page gets whole (see status.h). */
struct pick {
	struct lbd	*d;
	bool		*only;		/* per service */
	size_t		*svc_of;	/* per backend: its service */
};

static bool
want_check(void *arg, const char *name)
{
	struct pick *p = arg;
	struct be *b = backends_find(&p->d->backends, name);

	return b != NULL && p->only[p->svc_of[b - p->d->backends.v]];
}

/* At most STATUS_SERVICES services, those with a backend out first; how
 * many with a backend out were left out into *hidden_out. 0 on success. */
static int
pick(struct lbd *d, struct pick *p, size_t *shown, size_t *hidden_out)
{
	const struct conf *c = d->conf;
	bool *out = calloc(c->n_services ? c->n_services : 1, sizeof(*out));
	size_t k = 0;

	p->d = d;
	p->only = calloc(c->n_services ? c->n_services : 1, sizeof(bool));
	p->svc_of = calloc(d->backends.n ? d->backends.n : 1, sizeof(size_t));
	if (out == NULL || p->only == NULL || p->svc_of == NULL) {
		free(out);
		return -1;
	}
	for (size_t s = 0, i = 0; s < c->n_services; s++)
		for (size_t j = 0; j < c->services[s].n_backends &&
		    i < d->backends.n; j++, i++) {
			struct be_health h;
			struct be_effective e;

			p->svc_of[i] = s;
			health_mgr_lookup(d->health, d->backends.v[i].name, &h);
			be_effective(&d->backends.v[i], &h, &e);
			out[s] |= strcmp(e.state, "up") != 0;
		}
	*shown = *hidden_out = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < c->n_services; s++) {
			if (p->only[s] || out[s] != (pass == 0))
				continue;
			if (k < STATUS_SERVICES) {
				p->only[s] = true;
				k++;
			} else if (out[s])
				(*hidden_out)++;
		}
	*shown = k;
	free(out);
	return 0;
}

void
status_json(struct lbd *d, struct buf *out)
{
	size_t n = d->conf->n_services, shown = n, hidden_out = 0;
	struct pick p = { 0 };
	bool some = n > STATUS_SERVICES && pick(d, &p, &shown, &hidden_out) == 0;

	buf_printf(out, "{\"events_total\":%llu,\"services_total\":%zu,"
	    "\"services_shown\":%zu,\"services_hidden_out\":%zu",
	    (unsigned long long)events_count(), n, shown, hidden_out);
	command(d, "info", "show info", out);
	if (some) {
		/* A big config: the page gets the services it shows. */
		buf_puts(out, ",\"stat\":");
		lbd_show_stat_json(d, out, p.only);
		while (out->len > 0 && out->p[out->len - 1] == '\n')
			out->len--;
		buf_puts(out, ",\"health\":");
		health_mgr_show_some(d->health, out, want_check, &p);
	} else {
		command(d, "stat", "show stat", out);
		command(d, "health", "show health", out);
	}
	free(p.only);
	free(p.svc_of);
	command(d, "vrrp", "show vrrp", out);
	command(d, "sync", "show sync", out);
	buf_puts(out, ",\"events\":");
	events_json(out, STATUS_EVENTS);
	buf_puts(out, "}\n");
}
