#!/usr/bin/env python3
"""Connection sync with both nodes active: two lbd nodes (pair.py), two
vrrp-groups -- `edge` (VIP 10.92.0.100, SNAT 10.92.1.100), n1 master, and
`edge2` (VIP 10.92.0.101, SNAT 10.92.1.101), n2 master -- each with a
snat-mode echo service. The client holds connections through both VIPs.

Checked: each node mirrors the connections it forwards to the other and
holds the other's as mirrored copies; SIGKILL of n1 moves `edge` to n2, and
the connections of both VIPs go on through n2 without a fault.

usage: test_sync_active.py BUILD_DIR"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import BE, finish, Net, master_both, VIP, vrrp_instances  # noqa: E402
from test_sync import (cleanup, conn_table, hold, kill_and_check,  # noqa: E402
                       new_key, sync_info)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
VIP2, SNAT2 = "10.92.0.101", "10.92.1.101"


def tail(node, key, prio2):
    peer = "169.254.77.2" if node == "n1" else "169.254.77.1"
    inst = vrrp_instances(prio2, (("front2", "f0", 53, f"{VIP2}/24", ""),
                                  ("back2", "b0", 54, f"{SNAT2}/24", "")))
    return f"""sync {{
    interface hb0
    peer {peer}
    key-file {key}
}}
vrrp-group edge2 {{{inst}
}}
service echo2 {{
    listen {VIP2} tcp 7
    mode snat
    snat-pool {SNAT2}
    backend be1 {BE}:7
}}"""


def edge2_master(net, node):
    s = net.states(node)
    return s.get("front2") == "master" and s.get("back2") == "master"


def by_vip(conns, vip):
    return [c for c in conns if c["vip"].startswith(vip + ":")]


def main():
    net = Net(BUILD, prefix="lba")
    holds = []
    try:
        net.build()
        key = new_key(net, "sync.key")
        ok = (net.start("n1", 150, glob="node-id n1", tail=tail("n1", key, 100))
              and net.start("n2", 100, glob="node-id n2",
                            tail=tail("n2", key, 150)))
        check(ok, "two nodes start with two vrrp-groups and a sync block",
              net.log("n1") + net.log("n2"))
        took = net.wait(lambda: master_both(net, "n1") and
                        edge2_master(net, "n2") and
                        sync_info(net, "n1").get("synced") and
                        sync_info(net, "n2").get("synced"), 8, step=0.1)
        check(took is not None and sync_info(net, "n1").get("config_agrees"),
              "n1 is master of edge, n2 of edge2; in sync, configs agree",
              (net.states("n1"), net.states("n2"),
               net.ctl("n1", "show", "sync")))

        holds += [("through n1 (edge)", 100, hold(net, "7", 100, 10)),
                 ("through n2 (edge2)", 100, hold(net, "7", 100, 10,
                                                  host=VIP2))]

        def mirrored_both():
            t1, t2 = conn_table(net, "n1"), conn_table(net, "n2")
            return (len([c for c in by_vip(t1, VIP) if not c["mirrored"]]),
                    len([c for c in by_vip(t2, VIP) if c["mirrored"]]),
                    len([c for c in by_vip(t2, VIP2) if not c["mirrored"]]),
                    len([c for c in by_vip(t1, VIP2) if c["mirrored"]]))
        got = net.wait(lambda: mirrored_both() == (100, 100, 100, 100), 6,
                       step=0.2)
        counts = mirrored_both()
        check(got is not None,
              f"each node mirrors what it forwards: n1 owns {counts[0]} "
              f"edge connections, n2 mirrors {counts[1]}; n2 owns "
              f"{counts[2]} edge2 connections, n1 mirrors {counts[3]}",
              (net.ctl("n1", "show", "sync"), net.ctl("n2", "show", "sync")))
        kill_and_check(net, holds)
    finally:
        cleanup(net, holds)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
