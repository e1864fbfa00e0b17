#!/usr/bin/env python3
"""A pair under partitions, with the heartbeat (a sync block) as VRRP's
second path (vrrp/vrrp_hb.c), end to end.

  - VRRP dropped on the front bridge only (nftables in the switch's
    namespace) for 10 s: the backup's front instance hears nothing, its
    back one still hears the master, and the heartbeat says the master is
    alive. No state changes on either node, the backup reports the
    partition (show vrrp, its log), the switch never gets a frame from a
    virtual MAC out of the backup, and 20 long-lived connections through
    the VIP go on.
  - VRRP dropped on both bridges for 5 s while the heartbeat works: still
    exactly one node holds the addresses (the backup does not take them:
    the heartbeat hears the master), and the connections go on.
  - Then the heartbeat cut too: VRRP alone decides, and the backup takes
    the group (both nodes master: nothing can tell them apart).
  - The heartbeat back, VRRP still dropped: the split brain is seen over
    the heartbeat and resolved by VRRP's rule; n2 (priority 100) steps
    down, counts and logs it, and n1 keeps the addresses (n1 counts it
    too unless n2 stepped down before n1 had seen both master for an
    advert interval).

usage: test_vrrp_partition.py BUILD_DIR"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, Net, master_both  # noqa: E402
from test_sync import hold, hold_results, start_pair, sync_info  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
DROP_VRRP = """table bridge lbdtest {
    chain forward {
        type filter hook forward priority 0;
        ip protocol 112 drop
    }
}
"""


def block(net, sw, on):
    if on:
        net.t.sh(f"ip netns exec {net.t.ns(sw)} nft -f - <<'EOF'\n"
                 f"{DROP_VRRP}EOF")
    else:
        net.t.nsx(sw, "nft delete table bridge lbdtest", check=False)


def group(net, node):
    return (net.vrrp(node).get("groups") or [{}])[0]


def main():
    net = Net(BUILD, prefix="lbp")
    t = net.t
    procs = []
    try:
        net.build()
        start_pair(net)
        took = net.wait(lambda: sync_info(net, "n2").get("synced") and
                        group(net, "n2").get("heartbeat"), 5, step=0.1)
        g2 = group(net, "n2")
        check(took is not None and master_both(net, "n1") and
              g2.get("peer_master"), "n1 master, n2 in sync, and n2's "
              "heartbeat hears n1 as master", (g2, net.states("n2")))
        sniffers = [net.sniff("swf", ["p2"]), net.sniff("swb", ["q2"])]
        procs += sniffers
        conns = hold(net, "7", 20, 19)
        procs.append(conns)
        time.sleep(1)
        before = (net.transitions("n1"), net.transitions("n2"))

        # ---- the front segment partitioned ---------------------------
        block(net, "swf", True)
        time.sleep(10)
        g2 = group(net, "n2")
        check(g2.get("partition") and g2.get("partitions", 0) >= 1 and
              "a partition, not taking over" in net.log("n2"),
              "VRRP dropped on the front bridge: n2 reports a partition "
              f"({g2.get('held_by')})", (g2, net.log("n2")[-1500:]))
        block(net, "swf", False)
        time.sleep(0.5)
        after = (net.transitions("n1"), net.transitions("n2"))
        check(after == before and master_both(net, "n1") and
              not net.holds_vip("n2"),
              "10 s of it: no state change on either node, n1 still master",
              (before, after, net.states("n2")))
        seen = {}
        for s in sniffers:
            seen.update(net.sniffed(s))
        check(all(v.get("frames") == 0 for v in seen.values()) and
              len(seen) == 2, "the switch got no frame from a virtual MAC "
              "out of n2", seen)

        # ---- VRRP dropped on both segments, the heartbeat working -----
        block(net, "swf", True)
        block(net, "swb", True)
        held = []
        for _ in range(50):
            held.append((net.holds_vip("n1"), net.holds_vip("n2")))
            time.sleep(0.1)
        check(set(held) == {(True, False)} and master_both(net, "n1"),
              "VRRP dropped on both bridges, the heartbeat up: for 5 s only "
              "n1 holds the addresses (n2 does not take them)",
              (set(held), net.states("n2"), group(net, "n2")))
        r = hold_results(conns)
        procs.remove(conns)
        check(r.get("errors") == {} and r.get("ok") == r.get("lines") and
              r.get("lines", 0) > 20 * 100,
              f"20 long-lived connections went on through it all "
              f"({r.get('ok')} of {r.get('lines')} lines)", r)

        # ---- and the heartbeat cut: VRRP alone decides ------------------
        t.nsx("n2", "ip link set hb0 down")
        took = net.wait(lambda: master_both(net, "n2"), 3)
        check(took is not None and net.holds_vip("n2"),
              f"the heartbeat cut too: n2 takes the group "
              f"({(took or 0) * 1000:.0f} ms), nothing tells it n1 lives",
              (net.states("n2"), group(net, "n2")))

        # ---- the heartbeat back: the split brain seen and resolved ------
        t.nsx("n2", "ip link set hb0 up")
        t0 = time.time()
        took = net.wait(lambda: not net.holds_vip("n2") and
                        net.states("n2").get("front") == "backup", 5)
        g1, g2 = group(net, "n1"), group(net, "n2")
        check(took is not None and net.holds_vip("n1") and
              master_both(net, "n1") and g2.get("split_brains", 0) >= 1 and
              "split brain" in open(os.path.join(net.tmp, "n2.log")).read(),
              f"the heartbeat back: the split brain is resolved over it, "
              f"n2 (priority 100) steps down "
              f"({(time.time() - t0) * 1000:.0f} ms after hb0 came up), "
              f"n1 keeps the addresses",
              (g1, g2, net.states("n1"), net.states("n2"),
               net.log("n2")[-1500:]))
        block(net, "swf", False)
        block(net, "swb", False)
        time.sleep(1)
        check(master_both(net, "n1") and net.states("n2").get("front") ==
              "backup", "VRRP back: n1 master, n2 backup", net.states("n2"))
    finally:
        net.end(procs)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
