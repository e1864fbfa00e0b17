#!/usr/bin/env python3
"""Connection sync across a heartbeat cut: two lbd nodes (pair.py) in sync,
then the heartbeat link hb0 goes down for 10 s while the client opens new
long-lived connections through the master (snat mode on port 7, routed
mode on port 8). The link comes back, the nodes resync, and the master is
killed: the connections opened during the cut go on through the new
master like those opened before it -- no reset, no lost answer, the same
backend, address and port.

usage: test_sync_cut.py BUILD_DIR"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, Net  # noqa: E402
from test_sync import (cleanup, conn_table, hold, kill_and_check,  # noqa: E402
                       start_pair, sync_info)

CUT_S = 10


def main():
    net = Net(BUILD, prefix="lbc")
    t = net.t
    holds = []
    try:
        net.build()
        start_pair(net)
        took = net.wait(lambda: sync_info(net, "n2").get("synced"), 5, step=0.1)
        check(took is not None, "n2 is in sync with n1",
              net.ctl("n2", "show", "sync"))

        # Connections from before the cut, then the cut, and two more
        # groups opened while it lasts. Every group runs until after the
        # failover at the end.
        holds.append(("before the cut, snat", 50, hold(net, "7", 50, CUT_S + 12)))
        time.sleep(1)
        t.nsx("n2", "ip link set hb0 down")
        down = net.wait(lambda: not sync_info(net, "n1").get("peer_up"), 3,
                        step=0.1)
        check(down is not None, f"hb0 cut: n1 counts n2 down "
              f"({(down or 0) * 1000:.0f} ms)", net.ctl("n1", "show", "sync"))
        applied0 = sync_info(net, "n2").get("applied", 0)
        time.sleep(1)
        holds.append(("during the cut, snat", 100, hold(net, "7", 100, CUT_S + 8)))
        time.sleep(3)
        holds.append(("during the cut, routed", 100, hold(net, "8", 100, CUT_S + 4)))
        # Short connections meanwhile, one datagram each, more than n1's
        # window holds: n1 gives records up and owes n2 a bulk resync.
        t_req = time.time()
        r = net.requests(600)
        s1 = sync_info(net, "n1")
        check(r.get("ok") == 600 and s1.get("window_full", 0) > 0,
              f"600 short connections during the cut overflow n1's window: "
              f"{s1.get('window_full')} records given up",
              (r, net.ctl("n1", "show", "sync")))
        time.sleep(max(0, CUT_S - 5 - (down or 0) - (time.time() - t_req)))
        bulks0 = sync_info(net, "n2").get("bulks_recv", 0)
        s2 = sync_info(net, "n2")
        applied_cut = s2.get("applied", 0)
        check(applied_cut == applied0 and not s2.get("peer_up"),
              f"during the cut n2 hears nothing and applies nothing "
              f"({applied_cut} records applied, all before the cut)", s2)

        # The link returns: the nodes meet again and n1's table reaches n2.
        t.nsx("n2", "ip link set hb0 up")
        t_up = time.time()
        took = net.wait(lambda: len([c for c in conn_table(net, "n2")
                                     if c["mirrored"]]) >= 250 and
                        sync_info(net, "n2").get("synced"), 5, step=0.1)
        s2 = sync_info(net, "n2")
        check(took is not None and s2.get("bulks_recv", 0) > bulks0,
              f"hb0 back: n2 resyncs and mirrors all 250 connections "
              f"({(took or 0) * 1000:.0f} ms; {s2.get('bulks_recv')} bulks, "
              f"{s2.get('applied')} records applied)",
              (s2, net.ctl("n1", "show", "sync")))

        # Then the master dies: every connection goes on through n2.
        time.sleep(max(0, 1 - (time.time() - t_up)))
        kill_and_check(net, holds)
    finally:
        cleanup(net, holds)
    return finish(net)


BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")

if __name__ == "__main__":
    sys.exit(main())
