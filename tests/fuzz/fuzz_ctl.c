/*
 * Fuzz target: control-socket commands. Each input line goes through the
 * command dispatcher of a daemon state that has a real configuration and
 * control server (on a private socket). Any bytes must give a reply, never a
 * crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lbd/daemon.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct lbd d;
static char dir[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf_diags diags = { 0 };
	char path[128], sock[128];
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/lbd-fuzz-ctl.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/lbd.conf", dir);
	snprintf(sock, sizeof(sock), "%s/lbd.sock", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fprintf(fp, "global { control-socket %s }\n"
	    "service web { listen 192.0.2.1 tcp 80 backend a 192.0.2.2 }\n", sock);
	fclose(fp);
	log_init("fuzz", true, LOG_LVL_ERR);
	d.conf_path = strdup(path);
	d.loop = ev_default_loop(0);
	d.conf = conf_load(path, &diags);
	d.ctl = ctl_open(d.loop, sock, 0660, false, lbd_ctl_dispatch, &d);
	d.health = health_mgr_new(d.loop);
	if (d.conf == NULL || d.ctl == NULL || d.health == NULL ||
	    health_mgr_apply(d.health, d.conf) < 0)
		abort();
	conf_diags_free(&diags);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = { 0 };
	char *line;

	if (size > 4096)
		return 0;
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	/* The first byte's low bit: through the read-only socket or not. */
	{
		struct ctl_caller who = { .pid = 1, .uid = 0, .gid = 0,
					  .readonly = size > 0 && (data[0] & 1) };

		(void)lbd_ctl_dispatch(&d, &who, line, &out);
	}
	if (out.len == 0)
		abort();	/* every command gets a reply body or an error */
	buf_free(&out);
	free(line);
	return 0;
}
