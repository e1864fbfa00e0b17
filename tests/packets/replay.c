/*
 * Golden packet tests: replays every CASE.in.pcap in a fixture directory
 * through dp_process() on the standard test topology, and checks each
 * verdict against CASE.expect and each frame sent against CASE.out.pcap,
 * byte for byte. What the engine actually sent is written to
 * OUTDIR/CASE.actual.pcap for an independent dissector (tshark.sh).
 * Prints TAP, one line per frame.
 *
 *   usage: replay [--batch] FIXTURE_DIR OUTDIR
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/topo.h"
#include "golden.h"
#include "pcap.h"
#include "tap.h"

static bool batch_mode;		/* --batch: each case as one dp_process_batch() */

static void
hexdiff(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb)
{
	uint32_t n = na > nb ? na : nb;

	printf("#   length expected %u, got %u\n", na, nb);
	for (uint32_t i = 0; i < n; i++)
		if (i >= na || i >= nb || a[i] != b[i]) {
			printf("#   first difference at byte %u: expected %02x, "
			    "got %02x\n", i, i < na ? a[i] : 0, i < nb ? b[i] : 0);
			return;
		}
}

static void
run_case(const char *dir, const char *outdir, const char *name)
{
	char p[512], line[256];
	FILE *in, *out, *ex, *act;
	struct dp_service svc;
	struct dp_engine *e;
	struct pcap_rec rec, want;
	int k = 0;

	snprintf(p, sizeof(p), "%s/%s.expect", dir, name);
	ex = fopen(p, "r");
	snprintf(p, sizeof(p), "%s/%s.in.pcap", dir, name);
	in = pcap_open(p);
	snprintf(p, sizeof(p), "%s/%s.out.pcap", dir, name);
	out = pcap_open(p);
	snprintf(p, sizeof(p), "%s/%s.actual.pcap", outdir, name);
	act = pcap_create(p);
	if (ex == NULL || in == NULL || out == NULL || act == NULL ||
	    fgets(line, sizeof(line), ex) == NULL || !golden_service(line, &svc)) {
		tap(false, "%s: fixture files readable", name);
		return;
	}
	e = mk_engine(4096);
	install(e, &svc, 1);

	static struct pcap_rec recs[DP_BATCH_MAX];
	static uint8_t frames[DP_BATCH_MAX][2048];
	struct dp_frame fr[DP_BATCH_MAX];
	struct dp_verdict vs[DP_BATCH_MAX];
	int nrec = 0;

	while (nrec < DP_BATCH_MAX && pcap_next(in, &recs[nrec]) == 1) {
		memcpy(frames[nrec], recs[nrec].data, recs[nrec].len);
		fr[nrec].data = frames[nrec];
		fr[nrec].len = recs[nrec].len;
		fr[nrec].cap = sizeof(frames[nrec]);
		nrec++;
	}
	/* Input interface of each frame, from the expectations. */
	long ex_pos = ftell(ex);
	int in_ifs[DP_BATCH_MAX];
	for (int i = 0; i < nrec; i++)
		if (fgets(line, sizeof(line), ex) == NULL ||
		    sscanf(line, "%d", &in_ifs[i]) != 1)
			in_ifs[i] = 0;
	fseek(ex, ex_pos, SEEK_SET);
	if (batch_mode) {
		/* A batch comes from one interface: split where it changes. */
		for (int i = 0; i < nrec; ) {
			int j = i;
			while (j < nrec && in_ifs[j] == in_ifs[i])
				j++;
			dp_process_batch(e, fr + i, (uint32_t)(j - i),
			    (uint16_t)in_ifs[i], recs[i].ts_ms, vs + i);
			i = j;
		}
	} else {
		for (int i = 0; i < nrec; i++)
			dp_process(e, fr[i].data, fr[i].len, fr[i].cap,
			    (uint16_t)in_ifs[i], recs[i].ts_ms, &vs[i]);
	}

	for (int i = 0; i < nrec; i++) {
		struct dp_verdict v = vs[i];
		char verdict[32] = "", arg[32] = "", what[128] = "";
		int in_if = 0;
		uint8_t *frame = frames[i];

		k++;
		if (fgets(line, sizeof(line), ex) == NULL ||
		    sscanf(line, "%d %31s %31s %127[^\n]", &in_if, verdict, arg,
		    what) < 2) {
			tap(false, "%s #%d: an expectation for every frame", name, k);
			break;
		}
		if (strcmp(verdict, "pass") == 0) {	/* "pass WHAT...": no arg */
			char tmp[128];
			snprintf(tmp, sizeof(tmp), "%.31s %.90s", arg, what);
			memcpy(what, tmp, sizeof(what));
		}
		rec = recs[i];

		if (strcmp(verdict, "tx") == 0) {
			int out_if = atoi(arg);
			bool ok = v.action == DP_TX && v.ifidx == out_if &&
			    pcap_next(out, &want) == 1 && want.len == v.len &&
			    memcmp(want.data, frame, v.len) == 0;
			tap(ok, "%s%s #%d: %s -> sent out if%d as expected", name,
			    batch_mode ? " (batch)" : "", k, what, out_if);
			if (!ok) {
				printf("#   verdict %d reason %s if%u\n", v.action,
				    dp_drop_name(v.reason), v.ifidx);
				hexdiff(want.data, want.len, frame, v.len);
			}
			if (v.action == DP_TX)
				pcap_put(act, rec.ts_ms, frame, v.len);
		} else if (strcmp(verdict, "drop") == 0) {
			bool ok = v.action == DP_DROP &&
			    strcmp(dp_drop_name(v.reason), arg) == 0;
			tap(ok, "%s%s #%d: %s -> dropped as %s", name,
			    batch_mode ? " (batch)" : "", k, what, arg);
			if (!ok)
				printf("#   got action %d reason %s\n", v.action,
				    dp_drop_name(v.reason));
		} else {
			tap(v.action == DP_PASS, "%s%s #%d: %s -> passed to the kernel",
			    name, batch_mode ? " (batch)" : "", k, what);
		}
	}
	tap(pcap_next(out, &want) == 0, "%s: no expected frame left unsent", name);
	dp_engine_free(e);
	fclose(in);
	fclose(out);
	fclose(ex);
	fclose(act);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--batch") == 0) {
		batch_mode = true;
		argv++;
		argc--;
	}
	const char *dir = argc > 1 ? argv[1] : "tests/packets/golden";
	const char *outdir = argc > 2 ? argv[2] : "/tmp";
	char *names[256];
	int n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);
		if (l > 7 && strcmp(de->d_name + l - 7, ".expect") == 0)
			names[n++] = strndup(de->d_name, l - 7);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	for (int i = 0; i < n; i++) {
		run_case(dir, outdir, names[i]);
		free(names[i]);
	}
	if (n == 0)
		tap(false, "fixtures found in %s", dir);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
