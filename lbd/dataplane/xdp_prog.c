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

#include "lbd/dataplane/bpf_objs.h"
#include "lbd/dataplane/bpfmaps.h"
#include "lbd/dataplane/xdp_prog.h"
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
	int			 fd_alive, fd_cfg;
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
	x->fd_cfg = map_fd(x->prog, "lbd_cls_cfg");
	if (x->fd_svcs < 0 || x->fd_addrs < 0 || x->fd_backends < 0 ||
	    x->fd_xsks < 0 || x->fd_stats < 0 || x->fd_alive < 0 ||
	    x->fd_cfg < 0) {
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
	return bpfmaps_set_until(x->fd_alive, until_ns);
}

int
xdp_prog_take_all(struct xdp_prog *x)
{
	uint32_t zero = 0, all = LBD_CLS_ALL;

	return bpf_map_update_elem(x->fd_cfg, &zero, &all, BPF_ANY);
}

int
xdp_prog_xsk_map_fd(const struct xdp_prog *x)
{
	return x->fd_xsks;
}

int
xdp_prog_set_owned(struct xdp_prog *x, const struct xdp_owned *o)
{
	struct own_fds fds = { x->fd_svcs, x->fd_addrs, x->fd_backends };

	return bpfmaps_set_owned(&fds, o);
}

void
xdp_prog_stats(const struct xdp_prog *x, uint64_t out[LBD_CLS__COUNT])
{
	bpfmaps_percpu_sum(x->fd_stats, LBD_CLS__COUNT, out);
}
