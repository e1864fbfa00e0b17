#!/usr/bin/env python3
"""The NAT log (`nat-log on`) on one node (topo.py), snat service on the
VIP, port 8080, three backends, a pool of two addresses with a port range
each (`snat-pool ADDR ports LO-HI ...`):

  * 30 requests: 30 lines, one per connection, each naming the client's
    address and port, the SNAT address and a port, the backend by name and
    address; the ports are all different, and each backend got as many
    requests as lines name it; both pool addresses carry connections, each
    port within its address's range, and `show info` counts both;
  * a SYN flood from spoofed clients (spoof.py): no line (an unproven
    connection is not logged);
  * a reload to `nat-log rate 5`: a burst of 40 requests writes at most a
    second's worth of lines and counts the rest (nat_log_dropped), said in
    the log.

usage: test_natlog.py BUILD_DIR"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single  # noqa: E402
from topo import BACKENDS, V4, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LINE = re.compile(r"nat: client=10\.91\.0\.2:(\d+) "
                  r"snat=(10\.91\.2\.10[01]):(\d+) "
                  r"backend=web/(be\d) (10\.91\.2\.\d+):80 proto=tcp")
# Two pool addresses, each with a range of its own (snat-pool ... ports).
POOL = {"10.91.2.100": (20000, 29999), "10.91.2.101": (40000, 49999)}


def config(sock, rate=None):
    bes = "\n".join(f"    backend {b} {be4(n)}:80" for b, n in BACKENDS)
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
    nat-log on
    {f"nat-log rate {rate}" if rate else ""}
}}
service web {{
    listen {V4['vip']} tcp 8080
    mode snat
    snat-pool {" ".join(f"{a} ports {lo}-{hi}" for a, (lo, hi) in POOL.items())}
{bes}
}}
"""


def lines(n):
    return LINE.findall(n.log())


def main():
    n = Single(BUILD)
    try:
        n.build()
        check(n.start(config(n.sock)), "lbd starts with nat-log on",
              n.log()[-2000:])
        n.clear_seen()
        r = n.client("client.py", "requests", V4["vip"], 8080, 30)
        res = Single.result(r)
        n.wait(lambda: len(lines(n)) >= 30, 10)
        got = lines(n)
        per_be = {}
        for _, _, _, be, addr in got:
            per_be[be] = per_be.get(be, 0) + 1
        seen = {b: n.seen(b) for b, _ in BACKENDS}
        check(res.get("ok") == 30 and len(got) == 30 and
              len({c for c, _, _, _, _ in got}) == 30 and
              len({(a, s) for _, a, s, _, _ in got}) == 30 and
              all(addr == be4(dict(BACKENDS)[be])
                  for _, _, _, be, addr in got)
              and per_be == {b: c for b, c in seen.items() if c},
              "30 requests: 30 NAT log lines, each client port and SNAT "
              "address:port once, the backend by name and address as it saw "
              "them", (res, per_be, seen))
        used = {a for _, a, _, _, _ in got}
        within = all(POOL[a][0] <= int(s) <= POOL[a][1]
                     for _, a, s, _, _ in got)
        snat = {x.get("address"): x for x in
                (n.json("show", "info").get("data_plane") or {})
                .get("snat", [])}
        check(used == set(POOL) and within and
              all(snat.get(a, {}).get("ports_in_use", 0) > 0 for a in POOL),
              "a pool of two addresses, each with its own port range: both "
              "carry connections, every port within its address's range, "
              "show info counts each address's ports",
              (used, [(a, s) for _, a, s, _, _ in got][:6], snat))

        # A spoofed SYN flood: nothing proven, nothing logged.
        before = len(lines(n))
        f = n.client("spoof.py", "syn", "10.91.0", V4["vip"], 8080, 2, 2000)
        Single.result(f, timeout=60)
        check(len(lines(n)) == before,
              "a spoofed SYN flood writes no line", len(lines(n)) - before)

        # The rate: a second's worth at most, the rest counted.
        n.write_conf(config(n.sock, rate=5))
        out = n.ctl("reload", stderr=True)
        before = len(lines(n))
        r = n.client("client.py", "requests", V4["vip"], 8080, 40)
        res = Single.result(r)
        n.wait(lambda: "over nat-log rate" in n.log(), 15)
        info = json.loads(n.ctl("show", "info", "--json") or "{}")
        new = len(lines(n)) - before
        check(res.get("ok") == 40 and "changed" in out and new <= 5 + 5 and
              info.get("nat_log_dropped", 0) >= 40 - new - 5 and
              info.get("nat_log_lines", 0) == before + new and
              "lines over nat-log rate 5/s not written" in n.log(),
              f"nat-log rate 5: {new} lines for 40 connections, "
              f"{info.get('nat_log_dropped')} counted as not written",
              (res, out, info.get("nat_log_dropped")))
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
