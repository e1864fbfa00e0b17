#!/usr/bin/env python3
"""A stream of short HTTP requests (a new TCP connection each) at a fixed
spacing, for measuring what a client sees during a failover. Run in the
client's namespace; prints one JSON line:

  {"sent": N, "ok": N, "failed": N, "gap_ms": G, "gap_at": S, "start": T}

gap_ms is the longest time between two consecutive answers arriving (the
interruption the client saw); gap_at is when it began, in seconds from the
first probe, which was sent at T (seconds since the epoch). A request still unanswered after TIMEOUT_MS counts as failed;
a stream whose answers stop before the end has its gap run to the end.
"why" counts the failures by reason, "failed_from"/"failed_to" say when
the first and last failed one were sent (seconds from the first probe).

usage: probe.py HOST PORT SECONDS [INTERVAL_MS [TIMEOUT_MS]]"""
import errno
import json
import selectors
import socket
import sys
import time


def main():
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    spacing = (float(sys.argv[4]) if len(sys.argv) > 4 else 10) / 1000
    timeout = (float(sys.argv[5]) if len(sys.argv) > 5 else 2000) / 1000
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    request = b"GET / HTTP/1.0\r\nHost: vip\r\n\r\n"
    sel = selectors.DefaultSelector()
    live = {}                   # socket -> [sent at, bytes received]
    answers, sent, failed = [], 0, 0
    t0, wall0 = time.monotonic(), time.time()
    next_send, end = t0, t0 + seconds

    why = {}                    # failures by reason
    failed_at = []              # when each failed one was sent

    def close(s, ok, reason="bad answer"):
        nonlocal failed
        at = live[s][0]
        sel.unregister(s)
        s.close()
        del live[s]
        if ok:
            answers.append(time.monotonic())
        else:
            failed += 1
            why[reason] = why.get(reason, 0) + 1
            failed_at.append(at - t0)

    while time.monotonic() < end or live:
        now = time.monotonic()
        if now >= next_send and now < end:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                failed += 1
            else:
                live[s] = [now, b""]
                sel.register(s, selectors.EVENT_WRITE)
            sent += 1
            next_send += spacing
        wait = max(0.0, min(next_send - time.monotonic(), 0.005))
        for key, ev in sel.select(wait):
            s = key.fileobj
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) \
                if ev & selectors.EVENT_WRITE else 0
            if ev & selectors.EVENT_WRITE and err == 0:
                try:
                    s.send(request)
                    sel.modify(s, selectors.EVENT_READ)
                except OSError as e:
                    close(s, False, f"send: {errno.errorcode.get(e.errno)}")
            elif ev & selectors.EVENT_WRITE:
                close(s, False, f"connect: {errno.errorcode.get(err)}")
            else:
                try:
                    b = s.recv(4096)
                except OSError as e:
                    close(s, False, f"recv: {errno.errorcode.get(e.errno)}")
                    continue
                if b:
                    live[s][1] += b
                else:
                    close(s, live[s][1].startswith(b"HTTP/1.0 200"))
        now = time.monotonic()
        for s in [s for s, (at, _) in live.items() if now - at > timeout]:
            close(s, False, "timeout")

    points = sorted(answers)
    if not points or points[-1] < end - 2 * spacing:
        points.append(end)      # answers stopped: the gap runs to the end
    points.insert(0, t0)
    gaps = [(b - a, a) for a, b in zip(points, points[1:])]
    gap, at = max(gaps)
    print(json.dumps({"sent": sent, "ok": len(answers), "failed": failed,
                      "gap_ms": round(gap * 1000, 1),
                      "gap_at": round(at - t0, 3),
                      "start": round(wall0, 3), "why": why,
                      "failed_from": round(min(failed_at), 3) if failed_at
                      else None,
                      "failed_to": round(max(failed_at), 3) if failed_at
                      else None}))


if __name__ == "__main__":
    main()
