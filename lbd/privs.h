/*
 * privs — what lbd keeps of root's power once it is set up.
 *
 * Loading the BPF programs, opening the raw and AF_XDP sockets and binding
 * the control socket happen at start. From then on lbd keeps only the
 * capabilities its running work needs, in its permitted, effective and
 * bounding sets alike (so nothing it starts can get more back):
 *
 *   CAP_NET_ADMIN         VIPs and neighbours (netlink), the programs on the
 *                         data interfaces, the kernel's flow maps
 *   CAP_NET_RAW           VRRP, gratuitous ARP and NA sockets of instances
 *                         a reload adds
 *   CAP_NET_BIND_SERVICE  a metrics port under 1024 given on reload
 *   CAP_IPC_LOCK          AF_XDP packet buffers (pinned memory)
 *   CAP_CHOWN             a control socket a reload creates
 *   CAP_KILL              the scripts and hooks it started, which run as
 *                         another user (script-user)
 *   CAP_SETUID, CAP_SETGID  starting them as that user
 *
 * Everything else goes: CAP_BPF and CAP_PERFMON (the programs are loaded),
 * CAP_SYS_ADMIN (bpffs mounted, an earlier lbd's programs removed),
 * CAP_DAC_OVERRIDE, CAP_SYS_PTRACE, CAP_SYS_MODULE... lbd still runs as
 * uid 0 (its files are root's).
 */
#ifndef LBD_PRIVS_H
#define LBD_PRIVS_H

#include <stddef.h>
#include <stdint.h>

/* The capabilities the main thread keeps, as a bit mask (bit n:
 * capability n). */
uint64_t privs_kept(void);

/* Drop, in the calling thread (capabilities are per thread), every
 * capability not in `keep`: the main thread keeps privs_kept(), the data
 * plane's workers nothing at all. Returns 0; 1 when the thread has no
 * capability to drop (lbd was not started as root);
 * -1 with the reason in `err` when the kernel refused (the thread goes on
 * with what it had). */
int	privs_drop(uint64_t keep, char *err, size_t errlen);

#endif /* LBD_PRIVS_H */
