/*
 * sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.
 * A no-op when not started by systemd with Type=notify.
 */
#ifndef LBD_SDNOTIFY_H
#define LBD_SDNOTIFY_H

void	sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* LBD_SDNOTIFY_H */
