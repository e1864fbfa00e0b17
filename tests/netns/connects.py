#!/usr/bin/env python3
"""N TCP connections to HOST:PORT from source address SRC, one after the
other, each given TIMEOUT seconds to connect (short: a SYN that lbd drops
is not retried inside it) and closed at once. Prints one JSON line:
{"ok": connected, "fail": not, "s": seconds the whole took}.

usage: connects.py SRC HOST PORT N TIMEOUT"""
import json
import socket
import sys
import time

src, host, port, n, timeout = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                               int(sys.argv[4]), float(sys.argv[5]))
ok = fail = 0
t0 = time.monotonic()
for _ in range(n):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        ok += 1
    except OSError:
        fail += 1
    finally:
        s.close()
print(json.dumps({"ok": ok, "fail": fail,
                  "s": round(time.monotonic() - t0, 3)}))
