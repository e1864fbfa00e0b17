#!/usr/bin/env python3
"""UDP load from the client namespace. Every answer must come from HOST
(the VIP) and name the backend. Prints one JSON line.

  dns HOST PORT N       N requests, each from a socket of its own (a new
                        source port), like a stub resolver:
                        {"ok", "fail", "by": {backend: n}, "wrong_source"}
  flow HOST PORT N GAP  one socket, N datagrams GAP seconds apart:
                        {"ok", "fail", "by", "wrong_source",
                         "seen_as": [the addresses:ports the backends saw],
                         "longest_gap_ms": the longest time between two
                         answers, "last_ok": answers to the last 10}

usage: udp_client.py dns|flow HOST PORT N [GAP]"""
import json
import socket
import sys
import time


def exchange(s, host, port, i, res):
    s.sendto(b"q%d" % i, (host, port))
    try:
        data, src = s.recvfrom(2048)
    except OSError:
        res["fail"] += 1
        return None
    if src[0] != host:
        res["wrong_source"] += 1
    parts = data.decode(errors="replace").split(" ")
    res["ok"] += 1
    res["by"][parts[0]] = res["by"].get(parts[0], 0) + 1
    return parts[1] if len(parts) > 1 else "?"


def main():
    mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    res = {"ok": 0, "fail": 0, "by": {}, "wrong_source": 0}
    if mode == "dns":
        for i in range(n):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.settimeout(1.0)
            exchange(s, host, port, i, res)
            s.close()
    else:
        gap = float(sys.argv[5])
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(1.0)
        seen, last, longest = set(), None, 0.0
        res["last_ok"] = 0
        for i in range(n):
            who = exchange(s, host, port, i, res)
            res["last_ok"] += who is not None and i >= n - 10
            now = time.monotonic()
            if who is not None:
                seen.add(who)
                if last is not None:
                    longest = max(longest, now - last)
                last = now
            time.sleep(gap)
        res["seen_as"] = sorted(seen)
        res["longest_gap_ms"] = round(longest * 1000)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
