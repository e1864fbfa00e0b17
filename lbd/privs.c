/*
 * Dropping capabilities without libcap: the bounding set one by one with
 * prctl, then the permitted and effective sets with capset (see privs.h
 * for what is kept and why).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lbd/privs.h"

#define BIT(c)		(UINT64_C(1) << (c))

uint64_t
privs_kept(void)
{
	return BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW) |
	    BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_IPC_LOCK) |
	    BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_SETUID) | BIT(CAP_SETGID);
}

/* The highest capability this kernel knows. */
static int
last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = CAP_LAST_CAP;

	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

int
privs_drop(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];
	uint64_t have;
	int last = last_cap();

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	have = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	if (have == 0) {
		snprintf(err, errlen, "no capabilities to drop");
		return 1;
	}
	/* The bounding set first: it needs CAP_SETPCAP, which goes below.
	 * Without it (a unit that left it out) the bounding set is whatever
	 * the unit made it. */
	for (int c = 0; c <= last && (have & BIT(CAP_SETPCAP)); c++)
		if (!(keep & BIT(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			snprintf(err, errlen, "dropping capability %d from the "
			    "bounding set: %s", c, strerror(errno));
			return -1;
		}
	keep &= have;
	d[0].permitted = d[0].effective = (uint32_t)keep;
	d[1].permitted = d[1].effective = (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) < 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}
