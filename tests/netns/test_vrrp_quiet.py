#!/usr/bin/env python3
"""Only the master ever sends from a virtual MAC, end to end.

The pair of pair.py with an IPv6 instance in the group too, and IPv6
forwarding on in both nodes (the README asks routed users for it; a
forwarding host joins the all-routers groups and reports them with MLD).
A sniffer on the switch ports facing n2, the backup, counts every frame
arriving from a virtual MAC while n2 starts, reloads, has its front and
back links flapped, is stopped and started again and is killed and
started again: none may arrive, since each one would pull the switch's
entry for the group's MAC to the backup and blackhole the master's
traffic. The same sniffer on n1's ports sees the master's adverts (the
sniffer works), and the client reaches the VIP over IPv4 and IPv6.
Then n1 is killed and its links flapped: the macvlans it left still hold
the addresses, and nothing may leave them either (the kernel fast path's
guard, lbd_fp_guard) until the restarted lbd removes them.

usage: test_vrrp_quiet.py BUILD_DIR"""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, Net, master_both, ADVERT_MS, VIP6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def front6(prio):
    return f"""instance front6 {{
        interface f0
        vrid 51
        priority {prio}
        advert-interval {ADVERT_MS}ms
        virtual-address {VIP6}/64
    }}"""




def main():
    net = Net(BUILD, prefix="lbq")
    t = net.t
    sniffers = []
    try:
        net.build()
        for n in ("n1", "n2"):
            t.nsx(n, "sysctl -qw net.ipv6.conf.all.forwarding=1 "
                  "net.ipv4.ip_forward=1")
        sniffers = [net.sniff("swf", ["p1", "p2"]),
                    net.sniff("swb", ["q1", "q2"])]
        ok = net.start("n1", 150, group=front6(150))
        took = net.wait(lambda: master_both(net, "n1") and
                        net.states("n1").get("front6") == "master", 3)
        ok = net.start("n2", 100, group=front6(100)) and ok
        net.wait(lambda: net.states("n2").get("front6") == "backup", 3)
        check(ok and took is not None and set(net.states("n2").values()) ==
              {"backup"}, "n1 master of the group (IPv4 and IPv6), n2 backup",
              (net.states("n1"), net.states("n2"), net.log("n2")))
        r = t.nsx("client", f"ping -c 3 -i 0.2 -W 1 {VIP6}", check=False)
        check(r.returncode == 0, "the client reaches the IPv6 VIP on the "
              "master", r.stdout + r.stderr)
        r = net.requests()
        check(r["ok"] == 20, "requests to the IPv4 VIP go through n1", r)

        # What a backup lives through; none of it may speak for the group.
        for link in ("f0", "b0"):
            t.nsx("n2", f"ip link set {link} down")
            time.sleep(0.3)
            t.nsx("n2", f"ip link set {link} up")
        time.sleep(0.5)
        net.lbd["n2"].send_signal(signal.SIGHUP)
        time.sleep(0.5)
        net.stop("n2")
        ok = net.start("n2", 100, group=front6(100))
        time.sleep(0.5)
        net.stop("n2", signal.SIGKILL)
        ok = net.start("n2", 100, group=front6(100)) and ok
        net.wait(lambda: set(net.states("n2").values()) == {"backup"}, 3)
        time.sleep(1)
        backup_ok = set(net.states("n2").values()) == {"backup"} and ok
        seen = {}
        for s in sniffers:
            seen.update(net.sniffed(s))
        sniffers = []
        n1 = seen.get("p1", {}).get("kinds", {}).get("vrrp", 0)
        check(n1 > 20, f"the sniffer sees the master's adverts from its "
              f"virtual MACs ({n1})", seen)
        from_backup = {p: seen.get(p, {}) for p in ("p2", "q2")}
        check(backup_ok and all(v.get("frames") == 0
                                for v in from_backup.values()),
              "n2 started, reloaded, its links flapped, stopped, started, "
              "killed and started, as backup: not one frame from a virtual "
              "MAC reached the switch", (from_backup, net.states("n2"),
                                          net.log("n2")[-1500:]))
        check(master_both(net, "n1") and net.holds_vip("n1"),
              "n1 stayed master throughout", net.states("n1"))

        # Takeover and failback still work with the macvlans down on the
        # backup: the link comes up with the addresses.
        net.stop("n1", signal.SIGKILL)
        took = net.wait(lambda: master_both(net, "n2") and net.holds_vip("n2"),
                        3)
        r6 = t.nsx("client", f"ping -c 3 -i 0.2 -W 1 {VIP6}", check=False)
        r = net.requests()
        check(took is not None and r["ok"] == 20 and r6.returncode == 0,
              "n1 killed: n2 takes over, IPv4 and IPv6 VIPs answer", (r, r6.stdout))
        # The killed master's macvlans are still up with the addresses;
        # its links going down and up make the kernel speak for them (MLD
        # reports, router joins) unless the guard keeps those frames in.
        dead = [net.sniff("swf", ["p1"]), net.sniff("swb", ["q1"])]
        for link in ("f0", "b0"):
            t.nsx("n1", f"ip link set {link} down")
        time.sleep(0.2)
        for link in ("f0", "b0"):
            t.nsx("n1", f"ip link set {link} up")
        time.sleep(1.5)
        seen = {}
        for s in dead:
            seen.update(net.sniffed(s))
        check(seen.keys() == {"p1", "q1"} and
              all(v.get("frames") == 0 for v in seen.values()),
              "the killed master's links flap: not one frame from its "
              "virtual MACs reaches the switch (the guard keeps the kernel's "
              "MLD for the left-over macvlans in)", seen)
        stale = t.nsx("n1", "ip -o link show", check=False).stdout.count(": vr")
        net.start("n1", 150, group=front6(150))
        took = net.wait(lambda: master_both(net, "n1") and
                        not net.holds_vip("n2"), 5)
        log = open(os.path.join(net.tmp, "n1.log")).read().split(
            "started version=")[-2]     # the restarted lbd's start
        check(stale == 3 and "3 macvlan(s) left by an earlier lbd removed" in
              log and log.index("left by an earlier lbd removed") <
              log.find("interface f0: ifindex"), "the killed n1 left its 3 macvlans; the new lbd "
              "removes them (with their addresses) before anything else",
              (stale, log[-2000:]))
        links = t.nsx("n2", "ip -o link show", check=False).stdout
        down = [ln.split(":")[1].strip().split("@")[0] for ln in
                links.splitlines() if ": vr" in ln and "state DOWN" in ln]
        check(took is not None and len(down) == 3,
              "n1 back: it preempts, and n2's three macvlans are down again",
              links)
    finally:
        for s in sniffers:
            net.sniffed(s)
        net.cleanup()
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
