#!/usr/bin/env python3
"""Load from the client namespace: N short HTTP requests (one connection
each) to a VIP, or one download. Prints one JSON line.

usage: client.py requests HOST PORT N      -> {"ok":..,"fail":..,"by":{name:n},
                                               "max_ms": slowest request}
       client.py for HOST PORT SECONDS     -> the same, for that long (or
                                              until SIGTERM)
       client.py download HOST PORT BYTES  -> {"ok":true|false,"bytes":..,"s":..}"""
import json
import signal
import socket
import sys
import time


def get(host, port, path, timeout=5.0, source=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: vip\r\n\r\n".encode())
        data = bytearray()
        while True:
            b = s.recv(262144)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise OSError("bad reply: " + head[:40].decode(errors="replace"))
    return body


def main():
    mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if mode in ("requests", "for"):
        ok = fail = 0
        by, errs = {}, {}
        slowest = 0.0
        end = time.monotonic() + n
        if mode == "for":
            # SIGTERM ends it early, with its figures, for a test that
            # cannot know in advance how long its scenario takes.
            def stop(signum, frame):
                nonlocal end
                end = 0
            signal.signal(signal.SIGTERM, stop)
        while (ok + fail < n) if mode == "requests" else time.monotonic() < end:
            t0 = time.monotonic()
            try:
                name = get(host, port, "/").decode().strip()
                by[name] = by.get(name, 0) + 1
                ok += 1
            except OSError as e:
                fail += 1
                errs[str(e)] = errs.get(str(e), 0) + 1
            slowest = max(slowest, time.monotonic() - t0)
        print(json.dumps({"ok": ok, "fail": fail, "by": by, "errors": errs,
                          "max_ms": round(slowest * 1000, 1)}))
    else:
        n = int(n)
        t0 = time.time()
        try:
            body = get(host, port, f"/big?n={n}", timeout=10)
            print(json.dumps({"ok": len(body) == n, "bytes": len(body),
                              "s": round(time.time() - t0, 3)}))
        except OSError as e:
            print(json.dumps({"ok": False, "error": str(e),
                              "s": round(time.time() - t0, 3)}))


if __name__ == "__main__":
    main()
