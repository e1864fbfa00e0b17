#!/usr/bin/env python3
"""Persistence across a failover, on a VRRP pair with ha-sync (pair.py):
a snat service with `persist 60s` and three backends (three servers on
be1, each saying its own name), round robin.

  * 50 clients (50 source addresses), each with 10 sequential
    connections: every client's 10 land on one backend, and the clients
    are spread over all three;
  * n2 learns the clients' backends from the mirrored connections
    (persist_entries);
  * the master is killed; on n2, the same 50 clients' 10 connections each
    land on the backend each had before;
  * a UDP flow (snat, a datagram every 50 ms) through the kill goes on
    over n2 with the same SNAT address and port: the mirrored entry, not
    a new one, carries it.

usage: test_persist.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import Net, VIP, SNAT, BE, master_both, finish  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CLIENTS, CONNS = 50, 10
NAMES = ("pa", "pb", "pc")
PORTS = (8001, 8002, 8003)
SERVICES = f"""service dns {{
    listen {VIP} udp 53
    mode snat
    snat-pool {SNAT}
    backend be1 {BE}:5353
}}
service sticky {{
    listen {VIP} tcp 8080
    mode snat
    snat-pool {SNAT}
    scheduler rr
    persist 60s
""" + "".join(f"    backend {n} {BE}:{p}\n" for n, p in zip(NAMES, PORTS)) + "}\n"


def persist_entries(net, node):
    try:
        return json.loads(net.ctl(node, "show", "errors", "--json"))\
            .get("persist_entries", 0)
    except ValueError:
        return 0


def round_(net):
    r = net.t.nsx("client", f"python3 {HERE}/sticky_client.py {VIP} 8080 "
                  f"10.92.0 50 {CLIENTS} {CONNS}", check=False)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"by_client": {}, "fail": -1, "err": r.stderr[-500:]}


def sticky(res):
    """{client: its one backend}, or None for a client that moved."""
    return {c: (names[0] if len(set(names)) == 1 and len(names) == CONNS
                else None) for c, names in res["by_client"].items()}


def main():
    net = Net(BUILD, prefix="lbp")
    try:
        net.build()
        for name, port in zip(NAMES, PORTS):
            net.t.popen("be1", ["python3", os.path.join(HERE, "httpd.py"),
                                name, "/dev/null", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        net.t.popen("be1", ["python3", os.path.join(HERE, "udpd.py"), "be1",
                            BE, "5353"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(CLIENTS):
            net.t.nsx("client", f"ip addr add 10.92.0.{50 + i}/24 dev c0")
        ok = net.start_sync_pair(services=SERVICES)
        check(ok and net.wait(lambda: master_both(net, "n1"), 10) is not None,
              "a pair with a persist service starts; n1 is master",
              net.log("n1") + net.log("n2"))

        first = round_(net)
        s1 = sticky(first)
        used = {b for b in s1.values() if b}
        check(first["fail"] == 0 and len(s1) == CLIENTS and
              all(s1.values()) and used == set(NAMES),
              f"{CLIENTS} clients x {CONNS} connections: each client's on "
              f"one backend, the clients on all three",
              (first.get("fail"), used,
               [c for c, b in s1.items() if not b][:5]))

        learnt = net.wait(lambda: persist_entries(net, "n2") >= CLIENTS, 10,
                          step=0.1)
        check(learnt is not None,
              "the backup learns every client's backend from the mirrored "
              "connections", (persist_entries(net, "n2"),
                              net.ctl("n2", "show", "sync")))

        flow = net.t.popen("client", ["python3",
                                      os.path.join(HERE, "udp_client.py"),
                                      "flow", VIP, "53", "80", "0.05"],
                           stdout=subprocess.PIPE, text=True)
        net.wait(lambda: False, 1)
        net.stop("n1", signal.SIGKILL)
        took = net.wait(lambda: master_both(net, "n2"), 10)
        second = round_(net)
        s2 = sticky(second)
        moved = [c for c in s1 if s2.get(c) != s1[c]]
        check(took is not None and second["fail"] == 0 and not moved,
              f"after the master is killed: every client's {CONNS} new "
              "connections go to the backend it had before",
              (second.get("fail"), moved[:5],
               [(c, s1[c], second["by_client"].get(c)) for c in moved[:3]]))
        try:
            u = json.loads(flow.communicate(timeout=60)[0])
        except (ValueError, subprocess.TimeoutExpired):
            u = {}
        check(u.get("last_ok") == 10 and len(u.get("seen_as", [])) == 1 and
              u.get("wrong_source") == 0,
              f"a UDP flow through the kill goes on over n2 with the same "
              f"SNAT address and port ({u.get('ok')} of 80 answered, the "
              f"longest wait {u.get('longest_gap_ms')} ms)", u)
    finally:
        net.cleanup()
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
