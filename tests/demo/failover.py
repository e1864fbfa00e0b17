#!/usr/bin/env python3
"""`make demo`, part 3: failover. Two lbd nodes share a VIP with VRRP
(tests/netns/pair.py: client and nodes n1, n2 on a front bridge, a backend
on a back bridge). The demo shows n1 serving the VIP, kills n1's lbd while
the client sends a request every 10 ms, prints the interruption the client
saw and shows n2 serving; then n1 comes back and takes over again.
Everything is removed at the end, also on failure or Ctrl-C.

usage: failover.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "netns")
sys.path.insert(0, NETNS)
from pair import Net, master_both, VIP  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def say(s):
    print(f"\n\033[1m== {s}\033[0m", flush=True)


def main():
    net = Net(BUILD, prefix="lbdemo2")

    def lbctl(node, *a):
        print(f"[{node}] $ lbctl {' '.join(a)}")
        print(net.ctl(node, *a), end="", flush=True)

    def requests(n):
        r = net.requests(n)
        print(f"{n} requests from the client to {VIP}:80: ok {r['ok']}, "
              f"failed {r['fail']}", flush=True)
        return r["ok"] == n

    try:
        say("14. two nodes: client and n1, n2 on a front bridge, a backend behind")
        net.build()
        if not (net.start("n1", 150) and net.start("n2", 100)):
            print(net.log("n1") + net.log("n2"))
            return 1
        print(open(os.path.join(net.tmp, "n1.conf")).read())
        print("(n2 runs the same file with priority 100)")
        say("15. n1 (priority 150) becomes master of the group, n2 backup")
        if net.wait(lambda: master_both(net, "n1"), 5) is None:
            print(net.log("n1"))
            return 1
        time.sleep(0.3)
        lbctl("n1", "show", "vrrp")
        lbctl("n2", "show", "vrrp")
        ok = requests(50)

        say("16. n1's lbd is killed (SIGKILL) while the client sends a "
            "request every 10 ms")
        p = subprocess.Popen(
            ["ip", "netns", "exec", net.t.ns("client"), "python3",
             os.path.join(NETNS, "probe.py"), VIP, "80", "3", "10"],
            stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        net.lbd["n1"].send_signal(signal.SIGKILL)
        took = net.wait(lambda: master_both(net, "n2"), 5)
        net.stop("n1")
        out, _ = p.communicate(timeout=15)
        r = json.loads(out)
        print(f"n2 was master {(took or 0) * 1000:.0f} ms after the kill")
        print(f"the client sent {r['sent']} requests, {r['ok']} answered; "
              f"longest time without an answer: \033[1m{r['gap_ms']:.0f} ms"
              f"\033[0m (100 ms adverts: the backup waits at most 3 x 100 ms + 61 ms skew after the last advert it heard)")
        lbctl("n2", "show", "vrrp")
        ok &= requests(50)

        say("17. n1 comes back with the higher priority and preempts")
        net.start("n1", 150)
        net.wait(lambda: master_both(net, "n1"), 5)
        time.sleep(0.3)
        lbctl("n1", "show", "vrrp")
        ok &= requests(50)

        say("18. orderly stop of n1: it resigns (priority 0), n2 takes over "
            "after its skew time")
        net.lbd["n1"].send_signal(signal.SIGTERM)
        took = net.wait(lambda: master_both(net, "n2"), 5)
        net.stop("n1")
        print(f"n2 was master {(took or 0) * 1000:.0f} ms after the SIGTERM "
              f"(skew time at priority 100: 61 ms)")
        net.stop("n2")
        return 0 if ok else 1
    finally:
        net.cleanup()


if __name__ == "__main__":
    sys.exit(main())
