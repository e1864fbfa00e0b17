#!/usr/bin/env python3
"""`make demo`, part 4: a cluster. Three active lbd nodes behind the
upstream router's ECMP (tests/netns/mesh.py), each announcing the VIP over
BGP with BIRD 2 from the shipped example and mirroring its connections to
the other two. The demo shows the router's three paths and each node's
`lbctl show cluster`, opens 60 long-lived connections and a stream of new
ones, kills n2 (SIGKILL, its links down), and prints what the client saw:
BFD takes the dead node's path away, the other two carry its connections
on. Everything is removed at the end, also on failure or Ctrl-C.

usage: cluster.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "netns")
sys.path.insert(0, NETNS)
from mesh import Mesh, VIP, wait  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ECHO, WEB = 7003, 80
BFD_MS = 50


def say(s):
    print(f"\n\033[1m== {s}\033[0m", flush=True)


def main():
    m = Mesh(BUILD, 3, 2, "lbdemo3")

    def lbctl(node, *a):
        print(f"[{node}] $ lbctl {' '.join(a)}")
        print(m.ctl(node, *a), end="", flush=True)

    try:
        say("19. a cluster: three active nodes behind the router's ECMP, "
            "BIRD on each, a heartbeat network between them")
        m.build(ECHO, WEB)
        m.bird(BFD_MS)
        svc = m.services(((ECHO, "maglev"), (WEB, "maglev")))
        for n in m.nodes:
            m.start(n, m.conf(n, svc, cluster="announce-table 201\n"
                              "    withdraw-delay 1s"))
        print(m.conf("n1", svc, cluster="announce-table 201\n"
                     "    withdraw-delay 1s").replace(m.sock("n1"),
                                                 "/run/lbd/lbd.sock")
              .replace(m.tmp, "/etc/lbd"))
        print("(n2 and n3 run the same file with their own node-id and "
              "peers)")
        if wait(lambda: len(m.paths()) == 3, 40) is None:
            print("the router never got three paths:\n" + m.log("n1"))
            return 1
        wait(lambda: m.meshed(tuple(m.nodes)), 20)
        time.sleep(1.5)         # every node has told the others once
        say("20. the router's route to the VIP: one path through each node "
            "(BGP, BFD 50 ms x 3)")
        print(m.t.nsx("client", f"ip route show {VIP}").stdout, end="")
        lbctl("n1", "show", "cluster")

        say("21. n2 dies (SIGKILL, links down) under 60 long-lived "
            "connections and a stream of new ones")
        hold = m.t.popen("client", ["python3", os.path.join(NETNS, "holdconns.py"),
                                    VIP, str(ECHO), "60", "6", "100"],
                         stdout=subprocess.PIPE, text=True)
        web = m.t.popen("client", ["python3", os.path.join(NETNS, "client.py"),
                                   "for", VIP, str(WEB), "6"],
                        stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        carried = {n: m.conns(n, f"s{ECHO}") for n in m.nodes}
        print(f"long-lived connections through each node: {carried}")
        m.kill("n2", signal.SIGKILL)
        t0 = time.monotonic()
        gone = wait(lambda: "n2" not in m.paths(), 5)
        print(f"the router dropped n2's path {(gone and time.monotonic() - t0) * 1000:.0f} "
              f"ms after the kill (BFD)")
        h = json.loads(hold.communicate(timeout=30)[0] or "{}")
        w = json.loads(web.communicate(timeout=30)[0] or "{}")
        print(f"long-lived: {h.get('ok')} of {h.get('lines')} lines answered, "
              f"errors {h.get('errors')}, {len(h.get('moved') or [])} moved to "
              f"another backend; longest wait \033[1m{h.get('gap_ms')} ms"
              f"\033[0m (BFD's 150 ms, then TCP's retransmission)")
        print(f"new connections meanwhile: {w.get('ok')} ok, {w.get('fail')} "
              f"failed")
        print(m.t.nsx("client", f"ip route show {VIP}").stdout, end="")
        lbctl("n1", "show", "cluster")
        ok = (h.get("ok") == h.get("lines") and not h.get("errors") and
              w.get("fail", 1) == 0)
        return 0 if ok else 1
    finally:
        m.cleanup()     # stops every process it started: lbd, BIRD


if __name__ == "__main__":
    sys.exit(main())
