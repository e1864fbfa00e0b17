#!/usr/bin/env python3
"""N long-lived TCP connections to HOST:PORT (an echod.py behind lbd), each
sending a numbered line every INTERVAL_MS for SECONDS and checking that the
answer comes back, in order, within 3 s, from the same backend and the same
address and port as at first. Prints one JSON line:

  {"conns": N, "lines": sent, "ok": answered, "errors": {reason: count},
   "moved": connections whose backend or address/port changed,
   "by": {backend: connections}, "failed_by": {backend: connections that
   ended in an error}, "failed_at": [the wall-clock time of each error],
   "gap_ms": the longest time any connection went
   without an answer while it had a line out, "gap_end": when it ended,
   "slow": [[when, ms] of each wait over 300 ms, the first 100]}

SIGTERM ends the sending early (the answers still out are awaited), for a
test that cannot know in advance how long its scenario takes.

usage: holdconns.py HOST PORT N SECONDS [INTERVAL_MS]"""
import json
import selectors
import signal
import socket
import sys
import time


def main():
    host, port, n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    spacing = (float(sys.argv[5]) if len(sys.argv) > 5 else 100) / 1000
    sel = selectors.DefaultSelector()
    conns = {}
    errors = {}
    failed_by = {}
    failed_at = []
    by = {}

    def err(reason, s):
        errors[reason] = errors.get(reason, 0) + 1
        failed_at.append(round(time.time(), 2))
        who = conns[s]["who"][0] if s in conns and conns[s]["who"] else "?"
        failed_by[who] = failed_by.get(who, 0) + 1
        if s in conns:
            sel.unregister(s)
            s.close()
            del conns[s]

    for i in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        conns[s] = {"i": i, "seq": 0, "sent_at": {}, "buf": b"", "who": None,
                    "next": time.monotonic() + (i % 10) * spacing / 10}
        sel.register(s, selectors.EVENT_READ)
    lines = ok = 0
    gap, gap_at = 0.0, 0.0
    slow = []
    moved = set()
    end = time.monotonic() + seconds
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    while time.monotonic() < end + 3 and conns:
        now = time.monotonic()
        if stop and now < end:
            end = now
        for s, c in list(conns.items()):
            if now < end and now >= c["next"]:
                c["seq"] += 1
                try:
                    s.send(f"{c['i']} {c['seq']}\n".encode())
                except OSError as e:
                    err(f"send: {e.strerror}", s)
                    continue
                c["sent_at"][c["seq"]] = now
                c["next"] += spacing
                lines += 1
            late = [q for q, t in c["sent_at"].items() if now - t > 3]
            if late:
                err("no answer within 3 s", s)
        if now >= end and all(not c["sent_at"] for c in conns.values()):
            break
        for key, _ in sel.select(0.005):
            s = key.fileobj
            c = conns.get(s)
            if c is None:
                continue
            try:
                b = s.recv(65536)
            except OSError as e:
                err(f"recv: {e.strerror}", s)
                continue
            if not b:
                err("closed by the other end", s)
                continue
            c["buf"] += b
            while b"\n" in c["buf"]:
                line, c["buf"] = c["buf"].split(b"\n", 1)
                parts = line.decode().split()
                who, seq = tuple(parts[:3]), int(parts[4])
                if c["who"] is None:
                    c["who"] = who
                    by[who[0]] = by.get(who[0], 0) + 1
                elif c["who"] != who:
                    moved.add(c["i"])
                sent = c["sent_at"].pop(seq, None)
                if sent is not None:
                    ok += 1
                    # Answers come in order: the line answered is the one
                    # it waited for longest. Waiting since it was sent, or
                    # since the previous answer if that came later.
                    t = time.monotonic()
                    g = t - max(sent, c.get("answered", sent))
                    if g > gap:
                        gap, gap_at = g, time.time()
                    if g > 0.3 and len(slow) < 100:
                        slow.append((round(time.time(), 2), round(g * 1000)))
                    c["answered"] = t
    for s in list(conns):
        s.close()
    print(json.dumps({"conns": n, "lines": lines, "ok": ok, "errors": errors,
                      "moved": len(moved), "by": by,
                      "failed_by": failed_by, "failed_at": failed_at,
                      "gap_ms": round(gap * 1000, 1),
                      "gap_end": round(gap_at, 2), "slow": slow}))


if __name__ == "__main__":
    main()
