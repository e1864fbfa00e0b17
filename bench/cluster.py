#!/usr/bin/env python3
"""bench-cluster: three active lbd nodes behind ECMP, announced over BGP.

The topology of tests/netns/mesh.py: the client namespace is also the
upstream router, three nodes, two dsr backends, a heartbeat network. Each
node has a `cluster` block, a `sync` block naming the other two (ha-sync's
N-way mesh) and BIRD 2 from the shipped example
(conf/examples/cluster-node.bird, with BFD). The router runs BIRD with
`merge paths on`, so the kernel gets one multipath route to the VIP (on no
subnet) through the nodes, hashed on layer 4 (fib_multipath_hash_policy
1). The services are dsr, maglev, the same hash-seed on every node.

Measured, in this order:
  * cps_1node / cps_3nodes: new connections per second (bench/connrate)
    with n2 and n3 drained, then with all three announcing;
  * withdraw_ms: `lbctl cluster drain` on n2 until the router's route to
    the VIP has lost that path;
  * spread: of 200 long-lived connections (holdconns.py), how many each
    node carries;
  * node loss: n1 is killed (SIGKILL, its links down) while the 200
    connections send a line each 100 ms and new connections are opened:
    conns_survived_pct, new_conn_success_pct, node_loss_gap_ms (the
    longest wait of any connection for its answer). BFD's timers bound
    how long the router keeps sending to n1: 50 ms x 3 here (BFD_MS=100
    for the shipped example's 100 ms); a segment lost meanwhile waits for
    TCP's retransmission (200 ms at least) on top.

Prints, last:
  cluster: nodes=3 conns_survived_pct=... new_conn_success_pct=...
           withdraw_ms=... node_loss_gap_ms=... cps_1node=... cps_3nodes=...

BENCH_PAUSE=SECONDS keeps the namespaces that long after the connection
rates, to look around (the names are printed).

usage: cluster.py BUILD_DIR   (as root)"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "tests", "netns")
sys.path.insert(0, NETNS)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from mesh import Mesh, VIP, wait  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
N_NODES = 3
PORT = 7003
WEB = 80
RATE_PORT = 8080    # bench/connrate's server (httpd.py has 80)
# BFD on every session: BFD_MS x 3 of silence and the router drops the
# path. The shipped example says 100 ms; BFD_MS=100 runs it as shipped.
BFD_MS = int(os.environ.get("BFD_MS", "50"))


COUNTERS = ("TcpExtTCPSynRetrans", "TcpExtPAWSTimewait", "TcpExtPAWSEstab",
            "TcpExtTCPTimeWaitOverflow", "TcpExtListenDrops", "TcpRetransSegs")


def tcp_counters(m):
    """The TCP counters that explain a slow connection rate: the client's
    and the backends', added up."""
    got = {}
    for ns in ("client", *m.backends):
        for ln in m.t.nsx(ns, "nstat -asz", check=False).stdout.splitlines():
            f = ln.split()
            if len(f) >= 2 and f[0] in COUNTERS:
                got[f[0]] = got.get(f[0], 0) + int(f[1])
    return got


def connrate(m, seconds=5):
    """New connections a second for `seconds`, and the TCP counters that
    moved meanwhile."""
    c0 = tcp_counters(m)
    r = m.t.nsx("client", f"{BUILD}/bench/connrate client {VIP} {RATE_PORT} "
                f"{seconds} 50", check=False)
    c1 = tcp_counters(m)
    moved = {k: v - c0.get(k, 0) for k, v in c1.items() if v != c0.get(k, 0)}
    try:
        j = json.loads(r.stdout)
        moved["failed"] = j["fail"]
        moved["ok"] = j["ok"]
        return float(j["cps"]), moved
    except (ValueError, KeyError):
        return 0.0, moved


def main():
    m = Mesh(BUILD, N_NODES, 2, "lbc")
    t = m.t
    try:
        m.build(PORT, WEB)
        for be in m.backends:
            t.popen(be, [f"{BUILD}/bench/connrate", "server", str(RATE_PORT)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m.bird(BFD_MS)
        svc = m.services(((PORT, "maglev"), (WEB, "maglev"), (RATE_PORT, "maglev")))
        for n in m.nodes:
            m.start(n, m.conf(n, svc, cluster="announce-table 201\n"
                              "    withdraw-delay 1s"))
        if wait(lambda: len(m.paths()) == N_NODES, 40) is None:
            sys.exit("bench-cluster: the router never got a path through "
                     "every node: " + t.nsx("client", f"ip route show {VIP}",
                                            check=False).stdout + m.log("n1"))
        wait(lambda: m.meshed(tuple(m.nodes)), 20)
        print(f"router's route: "
              f"{t.nsx('client', f'ip route show {VIP}').stdout.strip()}")

        # New connections per second: one node, then all of them.
        others = [n for n in m.nodes if n != "n1"]
        t0 = time.time()
        m.ctl("n2", "cluster", "drain")
        wait(lambda: "n2" not in m.paths(), 10)
        withdraw_ms = (time.time() - t0) * 1000
        for n in others[1:]:
            m.ctl(n, "cluster", "drain")
        wait(lambda: len(m.paths()) == 1, 10)
        cps1, m1 = connrate(m)
        for n in others:
            m.ctl(n, "cluster", "resume")
        wait(lambda: len(m.paths()) == N_NODES, 10)
        cpsn, mn = connrate(m)
        print(f"new connections/s (connrate): {cps1:.0f} through n1 alone "
              f"({m1}), {cpsn:.0f} through all {N_NODES} ({mn}); n2's drain "
              f"withdrawn at the router in {withdraw_ms:.0f} ms")
        if os.environ.get("BENCH_PAUSE"):
            print(f"paused: namespaces {t.p}-*", flush=True)
            time.sleep(float(os.environ["BENCH_PAUSE"]))

        # 200 long-lived connections and new ones while n1 dies.
        hold = t.popen("client", ["python3", os.path.join(NETNS, "holdconns.py"),
                                  VIP, str(PORT), "200", "14", "100"],
                       stdout=subprocess.PIPE, text=True)
        time.sleep(4)
        carried = {n: m.conns(n, f"s{PORT}") for n in m.nodes}
        print(f"connections made through each node (show stat): {carried}")
        newc = t.popen("client", ["python3", os.path.join(NETNS, "client.py"),
                                  "requests", VIP, str(WEB), "400"],
                       stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        m.kill("n1", signal.SIGKILL)
        kill_at = time.time()
        out, _ = hold.communicate(timeout=60)
        nout, _ = newc.communicate(timeout=120)
        h = json.loads(out)
        nc = json.loads(nout)
        survived = 100.0 * (h["conns"] - sum(h.get("failed_by", {}).values())) \
            / max(1, h["conns"])
        new_ok = 100.0 * nc.get("ok", 0) / max(1, nc.get("ok", 0) +
                                               nc.get("fail", 0))
        print(f"n1 killed at +{kill_at - t0:.1f}s: {h['ok']} of {h['lines']} "
              f"lines answered, errors {h.get('errors')}, moved "
              f"{h.get('moved')}, longest wait {h.get('gap_ms')} ms; new "
              f"requests {nc.get('ok')} ok, {nc.get('fail')} failed")
        print(f"cluster: nodes={N_NODES} conns_survived_pct={survived:.1f} "
              f"new_conn_success_pct={new_ok:.1f} withdraw_ms={withdraw_ms:.0f} "
              f"node_loss_gap_ms={h.get('gap_ms', -1)} cps_1node={cps1:.0f} "
              f"cps_{N_NODES}nodes={cpsn:.0f}")
    finally:
        m.cleanup()     # stops every process it started: lbd, BIRD


if __name__ == "__main__":
    main()
