#!/usr/bin/env python3
"""From each of N source addresses FIRST, FIRST+1, ... (an IPv4 /24 the
client holds), K sequential HTTP requests to HOST:PORT, one connection
each; the body names the backend that answered. Prints one JSON line:
{"by_client": {source: [names, in order]}, "fail": failed requests}.

usage: sticky_client.py HOST PORT PREFIX FIRST N K"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import get  # noqa: E402

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first, n, k = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
by, fail = {}, 0
for i in range(n):
    src = f"{prefix}.{first + i}"
    names = by.setdefault(src, [])
    for _ in range(k):
        try:
            names.append(get(host, port, "/", source=src).decode().strip())
        except OSError:
            fail += 1
print(json.dumps({"by_client": by, "fail": fail}))
