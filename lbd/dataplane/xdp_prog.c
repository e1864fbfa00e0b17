#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "lbd/dataplane/classifier_obj.h"
#include "lbd/dataplane/xdp_prog.h"
#include "lib/keymap.h"
#include "lib/log.h"

#define PROG_NAME	"lbd_classify"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

struct xdp_prog {
	struct xdp_program	*prog;
	int			 ifindex;
	enum xdp_prog_mode	 mode;
	int			 fd_svcs, fd_addrs, fd_backends, fd_xsks, fd_stats;
	int			 fd_alive;
};

/* libbpf and libxdp talk on stderr; their words go to our log at debug
 * level (lbd reports what failed itself), verifier output included. */
static int lib_print(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static int
lib_print(const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0)
		log_debug("bpf: %s", line);
	return 0;
}

static int bpf_print(enum libbpf_print_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
static int xdp_print(enum libxdp_print_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static int
bpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lib_print(fmt, ap);
}

static int
xdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	return lib_print(fmt, ap);
}

int
xdp_prog_ensure_bpffs(void)
{
	struct statfs st;

	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
	/* Older kernels charge BPF maps to locked memory. */
	(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	(void)mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
		log_warn("mount bpffs at /sys/fs/bpf");
		return -1;
	}
	log_info("mounted bpffs at /sys/fs/bpf (libxdp needs it)");
	return 0;
}

static void
xdp_err(int err, char *buf, size_t len, const char *what)
{
	char msg[256];

	libxdp_strerror(err, msg, sizeof(msg));
	snprintf(buf, len, "%s: %s", what, msg);
}

int
xdp_prog_remove_stale(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int n = 0;

	if (libxdp_get_error(mp) || mp == NULL)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p != NULL && strcmp(xdp_program__name(p), PROG_NAME) == 0 &&
		    xdp_multiprog__detach(mp) == 0)
			n++;
		xdp_multiprog__close(mp);
		return n;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p != NULL;
	    p = xdp_multiprog__next_prog(p, mp))
		if (strcmp(xdp_program__name(p), PROG_NAME) == 0 &&
		    xdp_program__detach(p, ifindex,
		    xdp_multiprog__attach_mode(mp), 0) == 0)
			n++;
	xdp_multiprog__close(mp);
	return n;
}

static struct xdp_program *
open_prog(char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "lbd_classifier");
	struct bpf_object *obj;
	struct xdp_program *p;

	obj = bpf_object__open_mem(lbd_cls_obj,
	    (size_t)(lbd_cls_obj_end - lbd_cls_obj), &oo);
	if (obj == NULL || libbpf_get_error(obj)) {
		snprintf(err, errlen, "open classifier object: %s", strerror(errno));
		return NULL;
	}
	p = xdp_program__from_bpf_obj(obj, "xdp");
	if (libxdp_get_error(p) || p == NULL) {
		xdp_err((int)libxdp_get_error(p), err, errlen, "classifier");
		bpf_object__close(obj);
		return NULL;
	}
	return p;
}

/* xdp_program__from_bpf_obj leaves the object to its caller: close both
 * (LeakSanitizer found the object left behind on stop). */
static void
close_prog(struct xdp_program *p)
{
	struct bpf_object *obj;

	if (p == NULL)
		return;
	obj = xdp_program__bpf_obj(p);
	xdp_program__close(p);
	bpf_object__close(obj);
}

static int
map_fd(struct xdp_program *p, const char *name)
{
	return bpf_object__find_map_fd_by_name(xdp_program__bpf_obj(p), name);
}

struct xdp_prog *
xdp_prog_attach(int ifindex, bool force_generic, char *err, size_t errlen)
{
	struct xdp_prog *x = calloc(1, sizeof(*x));
	int rc = -1;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->ifindex = ifindex;
	if (!force_generic) {
		if ((x->prog = open_prog(err, errlen)) == NULL)
			goto fail;
		rc = xdp_program__attach(x->prog, ifindex, XDP_MODE_NATIVE, 0);
		x->mode = XDP_PROG_NATIVE;
		if (rc != 0) {
			/* A program that failed to attach cannot be reused. */
			close_prog(x->prog);
			x->prog = NULL;
		}
	}
	if (rc != 0) {
		if ((x->prog = open_prog(err, errlen)) == NULL)
			goto fail;
		rc = xdp_program__attach(x->prog, ifindex, XDP_MODE_SKB, 0);
		x->mode = XDP_PROG_GENERIC;
	}
	if (rc != 0) {
		xdp_err(rc, err, errlen, "attach classifier");
		goto fail;
	}
	x->fd_svcs = map_fd(x->prog, "lbd_svcs");
	x->fd_addrs = map_fd(x->prog, "lbd_addrs");
	x->fd_backends = map_fd(x->prog, "lbd_backends");
	x->fd_xsks = map_fd(x->prog, "lbd_xsks");
	x->fd_stats = map_fd(x->prog, "lbd_cls_stats");
	x->fd_alive = map_fd(x->prog, "lbd_alive");
	if (x->fd_svcs < 0 || x->fd_addrs < 0 || x->fd_backends < 0 ||
	    x->fd_xsks < 0 || x->fd_stats < 0 || x->fd_alive < 0) {
		snprintf(err, errlen, "classifier maps missing");
		xdp_prog_detach(x);
		return NULL;
	}
	return x;
fail:
	close_prog(x->prog);
	free(x);
	return NULL;
}

void
xdp_prog_detach(struct xdp_prog *x)
{
	if (x == NULL)
		return;
	if (xdp_program__detach(x->prog, x->ifindex, x->mode == XDP_PROG_NATIVE ?
	    XDP_MODE_NATIVE : XDP_MODE_SKB, 0) != 0)
		log_warnx("detach classifier from ifindex %d failed", x->ifindex);
	close_prog(x->prog);
	free(x);
}

enum xdp_prog_mode
xdp_prog_mode(const struct xdp_prog *x)
{
	return x->mode;
}

const char *
xdp_prog_mode_name(enum xdp_prog_mode m)
{
	return m == XDP_PROG_NATIVE ? "native" : "generic";
}

int
xdp_prog_set_alive(struct xdp_prog *x, uint64_t until_ns)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(x->fd_alive, &zero, &until_ns, BPF_ANY);
}

int
xdp_prog_xsk_map_fd(const struct xdp_prog *x)
{
	return x->fd_xsks;
}

/* Every key and value of map `fd` (at most `max`): one batch read where
 * the kernel has it, else key by key. Returns how many, or -1. */
static long
read_map(int fd, size_t ksz, uint32_t max, unsigned char *keys, uint32_t *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	unsigned char tok_in[64], tok_out[64], prev[64];
	uint32_t got = 0;
	bool first = true;

	for (;;) {
		uint32_t count = max - got;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : tok_in, tok_out,
		    keys + (size_t)got * ksz, vals + got, &count, &opts);

		if (rc < 0 && errno != ENOENT && first && count == 0)
			break;			/* no batch ops: key by key */
		got += count;
		if (rc < 0)
			return errno == ENOENT ? (long)got : -1;
		if (got == max)
			return got;
		memcpy(tok_in, tok_out, sizeof(tok_in));
		first = false;
	}
	got = 0;
	first = true;
	while (got < max && bpf_map_get_next_key(fd, first ? NULL : prev,
	    keys + (size_t)got * ksz) == 0) {
		memcpy(prev, keys + (size_t)got * ksz, ksz);
		first = false;
		if (bpf_map_lookup_elem(fd, prev, &vals[got]) == 0)
			got++;
	}
	return got;
}

static int
delete_keys(int fd, const unsigned char *keys, size_t ksz, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t count = n;
	int rc = 0;

	if (n == 0 || bpf_map_delete_batch(fd, keys, &count, &opts) == 0)
		return 0;
	for (uint32_t i = count; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + (size_t)i * ksz) != 0 &&
		    errno != ENOENT)
			rc = -1;
	return rc;
}

static int
update_keys(int fd, const unsigned char *keys, const uint32_t *vals, size_t ksz,
    uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t count = n;
	int rc = 0;

	if (n == 0 || bpf_map_update_batch(fd, keys, vals, &count, &opts) == 0)
		return 0;
	for (uint32_t i = count; i < n; i++)
		if (bpf_map_update_elem(fd, keys + (size_t)i * ksz, &vals[i],
		    BPF_ANY) != 0)
			rc = -1;
	return rc;
}

/*
 * Make map `fd` (`max` entries) hold exactly keys[0..n), with vals (or 1
 * each); a key given twice gets its values OR-ed (an address that is both
 * a VIP and this host's). The map is read once and compared through a hash
 * of the new set, then what is gone is deleted and only what is new or
 * changed is written: linear in the set, a few batch calls, and a reload
 * that changes nothing writes nothing. (A linear search per key made a
 * 100,000-backend reload take half a minute.)
 */
static int
sync_map(int fd, const char *what, uint32_t max, const void *keys, size_t ksz,
    uint32_t n, const uint32_t *vals)
{
	struct keymap *want = keymap_new(ksz, n);
	unsigned char *uk = malloc((size_t)n * ksz + 1);
	uint32_t *uv = malloc((size_t)n * sizeof(*uv) + 1);
	unsigned char *cur = malloc((size_t)max * ksz);
	uint32_t *cv = malloc((size_t)max * sizeof(*cv));
	bool *same = calloc((size_t)n + 1, sizeof(*same));
	uint32_t nu = 0, nd = 0, nw = 0;
	long nc;
	int rc = -1;

	if (want == NULL || uk == NULL || uv == NULL || cur == NULL ||
	    cv == NULL || same == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *k = (const unsigned char *)keys +
		    (size_t)i * ksz;
		uint32_t v = vals ? vals[i] : 1, *slot;
		int r = keymap_put(want, k, nu, &slot);

		if (r < 0)
			goto out;
		if (r == 0) {
			uv[*slot] |= v;
			continue;
		}
		memcpy(uk + (size_t)nu * ksz, k, ksz);
		uv[nu++] = v;
	}
	if ((nc = read_map(fd, ksz, max, cur, cv)) < 0)
		goto out;
	/* Deletions are packed to the front of cur, in place. */
	for (long i = 0; i < nc; i++) {
		const unsigned char *k = cur + (size_t)i * ksz;
		uint32_t *slot = keymap_get(want, k);

		if (slot == NULL)
			memmove(cur + (size_t)nd++ * ksz, k, ksz);
		else if (uv[*slot] == cv[i])
			same[*slot] = true;
	}
	rc = delete_keys(fd, cur, ksz, nd);
	/* The writes are packed to the front of uk and uv. */
	for (uint32_t i = 0; i < nu; i++)
		if (!same[i]) {
			memmove(uk + (size_t)nw * ksz, uk + (size_t)i * ksz, ksz);
			uv[nw++] = uv[i];
		}
	if (update_keys(fd, uk, uv, ksz, nw) < 0)
		rc = -1;
	if (nu > max)
		log_warnx("classifier map %s: %u entries wanted, it holds %u",
		    what, nu, max);
out:
	keymap_free(want);
	free(uk);
	free(uv);
	free(cur);
	free(cv);
	free(same);
	return rc;
}

int
xdp_prog_set_owned(struct xdp_prog *x, const struct xdp_owned *o)
{
	int rc = 0;

	/* Add before delete would briefly own too much; delete first would
	 * briefly pass too much to the kernel. A key present in both sets is
	 * never removed, so steady traffic is never dropped either way. */
	rc |= sync_map(x->fd_svcs, "lbd_svcs", LBD_CLS_MAX_SVCS, o->svcs,
	    sizeof(*o->svcs), o->n_svcs, NULL);
	rc |= sync_map(x->fd_addrs, "lbd_addrs", LBD_CLS_MAX_ADDRS, o->addrs,
	    sizeof(*o->addrs), o->n_addrs, o->addr_flags);
	rc |= sync_map(x->fd_backends, "lbd_backends", LBD_CLS_MAX_BACKENDS,
	    o->backends, sizeof(*o->backends), o->n_backends, NULL);
	return rc;
}

void
xdp_prog_stats(const struct xdp_prog *x, uint64_t out[LBD_CLS__COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	memset(out, 0, sizeof(uint64_t) * LBD_CLS__COUNT);
	if (ncpu <= 0 || (v = calloc((size_t)ncpu, sizeof(*v))) == NULL)
		return;
	for (uint32_t k = 0; k < LBD_CLS__COUNT; k++)
		if (bpf_map_lookup_elem(x->fd_stats, &k, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[k] += v[c];
	free(v);
}
