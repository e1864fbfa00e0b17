/*
 * Diagnostics (FILE:LINE:COL: severity: message), the file-name table
 * they point into, and the growth rule of conf's append-only arrays.
 *
 * Pure: no clock, no sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

void *
conf_grow(void *arr, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0)
		return arr;
	return realloc(arr, (n ? 2 * n : 1) * size);
}

void
conf_diag_add(struct conf_diags *d, enum conf_severity sev,
    const struct conf_loc *loc, const char *fmt, ...)
{
	struct conf_diag *v, *g;
	va_list ap;

	if ((v = conf_grow(d->v, d->n, sizeof(*v))) == NULL)
		return;
	d->v = v;
	g = &d->v[d->n];
	memset(g, 0, sizeof(*g));
	g->severity = sev;
	g->file = strdup(loc != NULL && loc->file != NULL ? loc->file : "-");
	g->line = loc != NULL ? loc->line : 0;
	g->col = loc != NULL ? loc->col : 0;
	va_start(ap, fmt);
	if (vasprintf(&g->msg, fmt, ap) < 0)
		g->msg = NULL;
	va_end(ap);
	if (g->file == NULL || g->msg == NULL) {
		free(g->file);
		free(g->msg);
		return;
	}
	d->n++;
	if (sev == CONF_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
}

int
conf_diag_format(const struct conf_diag *g, char *buf, size_t len)
{
	const char *sev = g->severity == CONF_ERROR ? "error" : "warning";

	if (g->line == 0)
		return snprintf(buf, len, "%s: %s: %s", g->file, sev, g->msg);
	return snprintf(buf, len, "%s:%d:%d: %s: %s", g->file, g->line, g->col,
	    sev, g->msg);
}

void
conf_diags_print(const struct conf_diags *d, FILE *fp)
{
	char buf[2048];

	for (size_t i = 0; i < d->n; i++) {
		conf_diag_format(&d->v[i], buf, sizeof(buf));
		fprintf(fp, "%s\n", buf);
	}
}

void
conf_diags_free(struct conf_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const char *
conf_intern_file(struct conf *c, const char *name)
{
	char **v;

	for (size_t i = 0; i < c->n_files; i++)
		if (strcmp(c->files[i], name) == 0)
			return c->files[i];
	if ((v = realloc(c->files, (c->n_files + 1) * sizeof(*v))) == NULL)
		return "?";
	c->files = v;
	if ((c->files[c->n_files] = strdup(name)) == NULL)
		return "?";
	return c->files[c->n_files++];
}

