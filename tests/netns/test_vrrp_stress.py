#!/usr/bin/env python3
"""A pair under stress does not fail over (100 ms adverts, the heartbeat's
defaults): nothing the master's main loop does may look like a death.

  - A reload of 10,000 services (100,000 backends) on the master: its
    main loop is busy
    building and applying them for a second or more; the advert keeper
    thread (lbd/vrrp_keeper.c) sends its adverts meanwhile. No state change
    on either node, and a client opening a connection every 10 ms loses
    none.
  - The same reload on the backup: the master's adverts wait in its
    socket while its loop is busy, and are read before any timer after
    it; no state change.
  - Both cores saturated by CPU hogs started in the nodes' namespaces:
    no state change, no connection lost.

The test reports the reload's length; it asserts no time.

usage: test_vrrp_stress.py BUILD_DIR"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, Net, master_both, lbd_conf, VIP, BE  # noqa: E402
from test_sync import METRICS, start_pair, sync_block, sync_info  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
MANY = 10000
HOG_S = 30


def many_services():
    """MANY services of ten backends each (only be1 is real; nothing is
    sent to these services)."""
    bes = "".join(f"    backend b{j} 10.92.1.{30 + j}:80\n" for j in range(10))
    return "".join(f"""service s{i} {{
    listen {VIP} tcp {20000 + i}
    mode snat
    snat-pool 10.92.1.100
{bes}}}
""" for i in range(MANY))


def write_conf(net, node, key, extra=""):
    """`node`'s config as start_pair wrote it, plus `extra`."""
    sock = os.path.join(net.tmp, f"{node}.sock")
    prio, peer = (150, "169.254.77.2") if node == "n1" else \
        (100, "169.254.77.1")
    with open(os.path.join(net.tmp, f"{node}.conf"), "w") as f:
        f.write(lbd_conf(sock, prio, tail=sync_block(peer, key) +
                         "\n" + extra,
                         glob=f"node-id {node} metrics listen "
                         f"127.0.0.1:{METRICS}"))


def probe(net, seconds):
    return subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(HERE, "probe.py"), VIP, "80", str(seconds), "10"],
        stdout=subprocess.PIPE, text=True)


def watch(net, seconds):
    """n2's states every 50 ms for `seconds`: the set seen."""
    seen, end = set(), time.time() + seconds
    while time.time() < end:
        seen |= set(net.states("n2").values())
        time.sleep(0.05)
    return seen


def main():
    net = Net(BUILD, prefix="lbx")
    procs = []
    try:
        net.build()
        key = start_pair(net)
        took = net.wait(lambda: sync_info(net, "n2").get("synced") and
                        net.vrrp("n2").get("groups", [{}])[0].get(
                            "peer_master"), 5, step=0.1)
        keeper = net.vrrp("n1").get("advert_keeper", {})
        check(took is not None and master_both(net, "n1") and
              keeper.get("running"), "n1 master, n2 in sync and hearing it; "
              f"n1's advert keeper runs (realtime: {keeper.get('realtime')})",
              (net.states("n2"), keeper))
        before = (net.transitions("n1"), net.transitions("n2"))

        # ---- a 10,000-service reload on the master ---------------------
        p = probe(net, 8)
        procs.append(p)
        time.sleep(1)
        write_conf(net, "n1", key, many_services())
        t0 = time.time()
        out = net.ctl("n1", "-T", "60", "reload")
        took = time.time() - t0
        seen = watch(net, 3)
        write_conf(net, "n1", key)
        out2 = net.ctl("n1", "-T", "60", "reload")
        seen |= watch(net, 2)
        r = json.loads(p.communicate(timeout=30)[0] or "{}")
        procs.remove(p)
        kept = net.vrrp("n1").get("advert_keeper", {}).get("kept", 0)
        after = (net.transitions("n1"), net.transitions("n2"))
        check(out.startswith("reload ok") and out2.startswith("reload ok") and
              seen == {"backup"} and after == before and
              master_both(net, "n1"),
              f"a reload of {MANY} services ({MANY * 10} backends) on the master ({took:.2f} s) and "
              f"back: no state change on either node ({kept} adverts sent by "
              f"the keeper while the loop was busy)",
              (out[:300], out2[:300], seen, before, after))
        check(r.get("failed") == 0 and r.get("ok") == r.get("sent") and
              r.get("sent", 0) > 500,
              f"a connection every 10 ms meanwhile: {r.get('ok')} of "
              f"{r.get('sent')} answered (longest gap {r.get('gap_ms')} ms)", r)

        # ---- the same on the backup: its loop is busy, and the master's
        # adverts wait in its socket; read first after the stall, they
        # are not taken for silence ------------------------------------
        write_conf(net, "n2", key, many_services())
        out = net.ctl("n2", "-T", "60", "reload")
        seen = watch(net, 3)
        write_conf(net, "n2", key)
        out2 = net.ctl("n2", "-T", "60", "reload")
        seen |= watch(net, 2)
        after2 = (net.transitions("n1"), net.transitions("n2"))
        check(out.startswith("reload ok") and out2.startswith("reload ok") and
              seen == {"backup"} and after2 == after and
              master_both(net, "n1"),
              f"the same reload on the backup and back: no state change on "
              f"either node", (out[:300], out2[:300], seen, after, after2))

        # ---- both cores saturated ---------------------------------------
        hog = ["python3", "-c", f"import time\nend = time.time() + {HOG_S}\n"
               "while time.time() < end:\n    pass\n"]
        for n in ("n1", "n2"):
            for _ in range(os.cpu_count() or 2):
                procs.append(net.t.popen(n, hog))
        p = probe(net, HOG_S - 2)
        procs.append(p)
        seen = watch(net, HOG_S)
        r = json.loads(p.communicate(timeout=60)[0] or "{}")
        procs.remove(p)
        after = (net.transitions("n1"), net.transitions("n2"))
        check(seen == {"backup"} and after == before and
              master_both(net, "n1"),
              f"{HOG_S} s of CPU hogs on every core in both nodes: no state "
              "change", (seen, before, after))
        check(r.get("failed") == 0 and r.get("ok") == r.get("sent") and
              r.get("sent", 0) > 100,
              f"a connection every 10 ms meanwhile: {r.get('ok')} of "
              f"{r.get('sent')} answered", r)
    finally:
        net.end(procs)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
