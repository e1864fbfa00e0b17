#!/usr/bin/env python3
"""Connection sync over two heartbeat links: two lbd nodes (pair.py) with
hb0 and a backup link hb1 (`backup-interface`, `backup-peer`). hb0 goes
down while the client holds connections through the master and opens new
ones: the stream moves to hb1 without the peer ever counting as down, the
new connections reach the standby at once (no bulk resync needed); hb0
comes back and the stream returns to it; the master is killed and every
connection goes on through the new master.

usage: test_sync_links.py BUILD_DIR"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, Net, master_both  # noqa: E402
from test_sync import (cleanup, conn_table, hold, kill_and_check,  # noqa: E402
                       new_key, sync_info)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def start(net, node, prio, key):
    me, peer = ("1", "2") if node == "n1" else ("2", "1")
    return net.start(node, prio, glob=f"node-id {node}", tail=f"""sync {{
    interface hb0
    peer 169.254.77.{peer}
    backup-interface hb1
    backup-peer 169.254.78.{peer}
    key-file {key}
}}""")


def carrier(net, node):
    """The link that carries the stream on `node`, from show sync."""
    links = sync_info(net, node).get("links") or []
    return next((ln["interface"] for ln in links if ln.get("active")), None)


def main():
    net = Net(BUILD, prefix="lbl")
    t = net.t
    holds = []
    try:
        net.build()
        t.veth("n1", "hb1", "n2", "hb1")
        t.nsx("n1", "ip addr add 169.254.78.1/30 dev hb1")
        t.nsx("n2", "ip addr add 169.254.78.2/30 dev hb1")
        key = new_key(net, "sync.key")
        ok = start(net, "n1", 150, key) and start(net, "n2", 100, key)
        check(ok, "two nodes start with two heartbeat links",
              net.log("n1") + net.log("n2"))
        net.wait(lambda: master_both(net, "n1"), 5)
        took = net.wait(lambda: sync_info(net, "n2").get("synced") and
                        all(ln["up"] for ln in
                            sync_info(net, "n1").get("links", [])), 5, step=0.1)
        s1 = sync_info(net, "n1")
        check(took is not None and carrier(net, "n1") == "hb0" and
              len(s1.get("links", [])) == 2,
              "in sync, both links up, the stream on hb0",
              net.ctl("n1", "show", "sync"))

        holds.append(("before the cut", 50, hold(net, "7", 50, 12)))
        time.sleep(1)
        bulks = sync_info(net, "n2").get("bulks_recv")
        t.nsx("n2", "ip link set hb0 down")
        # While it lasts the peer never counts as down.
        downs, t0 = 0, time.time()
        while time.time() - t0 < 1.5:
            downs += not sync_info(net, "n1").get("peer_up")
            time.sleep(0.05)
        moved = net.wait(lambda: carrier(net, "n1") == "hb1" and
                         carrier(net, "n2") == "hb1", 2, step=0.05)
        check(moved is not None and downs == 0,
              f"hb0 down: both nodes carry the stream over hb1, the peer "
              f"never down ({downs} samples down)",
              (net.ctl("n1", "show", "sync"), net.ctl("n2", "show", "sync")))
        before = len(conn_table(net, "n2"))
        holds.append(("over hb1", 100, hold(net, "7", 100, 9)))
        got = net.wait(lambda: len(conn_table(net, "n2")) >= before + 100,
                       3, step=0.1)
        s2 = sync_info(net, "n2")
        check(got is not None and s2.get("bulks_recv") == bulks,
              f"100 connections opened meanwhile reach n2 over hb1 "
              f"({(got or 0) * 1000:.0f} ms, no bulk resync needed)",
              net.ctl("n2", "show", "sync"))

        t.nsx("n2", "ip link set hb0 up")
        back = net.wait(lambda: carrier(net, "n1") == "hb0" and
                        carrier(net, "n2") == "hb0", 5, step=0.1)
        check(back is not None, f"hb0 back: the stream returns to it "
              f"({(back or 0) * 1000:.0f} ms)", net.ctl("n1", "show", "sync"))

        kill_and_check(net, holds)
    finally:
        cleanup(net, holds)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
