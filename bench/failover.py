#!/usr/bin/env python3
"""bench-failover: the interruption a client sees when the master dies, lbd
against keepalived, in one run on one topology.

The topology is the VRRP tests' (tests/netns/pair.py): client, nodes n1 and
n2 on a front bridge, backend be1 on a back bridge. Both systems use VRRPv3
with 100 ms adverts, n1 priority 150 (master), n2 100, and serve HTTP on the
VIP 10.92.0.100:80 from be1:

  lbd        lbd on both nodes: one vrrp-group (VIP and SNAT address), a
             snat-mode service, the kernel fast path (datapath auto)
  keepalived keepalived on both nodes moving the VIP, HAProxy (TCP mode) on
             both nodes forwarding to be1 -- the usual keepalived pairing
             (LVS is not in this kernel)

Each round: the client opens a new connection every 10 ms (probe.py); one
second later, right after one of the master's adverts (advert_kill.py: the
worst moment, and the same one for both systems), the master's daemons are
SIGKILLed; the stream runs 3 more seconds. For lbd that is lbd, which both decides and forwards; for the
peer it is keepalived and HAProxy together (keepalived's whole process
group): killing keepalived alone leaves the VIP on n1 and HAProxy serving
from it, which measures nothing -- as killing keepalived alone would leave
LVS forwarding in the kernel. The gap is the longest time
between two consecutive answers. Rounds alternate between the systems; the
figure is the median of the rounds.

lbd's nodes also mirror their connections (a `sync` block over the
heartbeat veth), and in its rounds 20 connections opened before the kill
send a line every 10 ms to an echo service (holdconns.py): the longest a
line of theirs waited for its answer is the established connections' gap.
They run in the master's kernel fast path; after the kill each one's first
packet at the new master finds no flow there, goes to the engine, which
has the mirrored entry, forwards it and installs the flows (`offloaded`,
counted on n2). keepalived + HAProxy loses such connections (HAProxy's
die with its process), so it has no such figure.

A third system, lbd-node, is lbd again, with the whole node dying: right
after the kill n1's f0, b0 and hb0 go down, so its kernel stops
forwarding too (a killed lbd's kernel keeps forwarding the flows it was
given until the traffic moves to the new master).

Then a stress run of lbd's pair (STRESS_S seconds, 60 by default; 0 skips
it): CPU hogs on every core of both nodes, n1 reloading 10,000 services
(100,000 backends) and back every 10 s, a probe stream throughout; every
VRRP state change in it is a false failover.

Last two lines:
  failover: lbd_gap_ms=… keepalived_gap_ms=… lbd_established_gap_ms=…
            lbd_node_gap_ms=… lbd_node_established_gap_ms=… advert_ms=100
  failover: lbd_gap_ms=… keepalived_gap_ms=… lbd_failed=…
            keepalived_failed=… false_failovers_under_stress=…

usage: failover.py BUILD_DIR [ROUNDS]"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "tests", "netns")
sys.path.insert(0, NETNS)
from pair import Net, master_both, lbd_conf, VIP, BE, ADVERT_MS  # noqa: E402
from test_vrrp_stress import many_services  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
BEFORE, AFTER = 1.0, 3.0        # seconds of probing around the kill
HOLD_N = 20                     # established connections in lbd's rounds
STRESS_S = int(os.environ.get("STRESS_S", "60"))    # the stress run
RELOAD_EVERY = 10               # seconds between its big reloads

KEEPALIVED = f"""vrrp_instance front {{{{
    interface f0
    virtual_router_id 51
    priority {{prio}}
    advert_int {ADVERT_MS / 1000}
    version 3
    state BACKUP
    virtual_ipaddress {{{{ {VIP}/24 }}}}
}}}}
"""

HAPROXY = f"""global
    maxconn 4096
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind :80
    default_backend be
backend be
    server be1 {BE}:80
"""


def reset(net):
    """What a killed daemon leaves on a node: XDP and TC programs (the
    fast path's would drop the VIP's traffic as a dead lbd's), punt pairs,
    macvlans, addresses. Removed so that every round starts the same."""
    for n in ("n1", "n2"):
        for dev in ("f0", "b0"):
            net.t.nsx(n, f"ip link set dev {dev} xdp off", check=False)
            net.t.nsx(n, f"tc qdisc del dev {dev} clsact", check=False)
        out = net.t.nsx(n, "ip -o link show", check=False).stdout
        for ln in out.splitlines():
            name = ln.split(":")[1].strip().split("@")[0]
            if name.startswith(("vr", "lbd")):
                net.t.nsx(n, f"ip link del {name}", check=False)
        net.t.nsx(n, f"ip addr del {VIP}/24 dev f0", check=False)
        for dev in ("f0", "b0", "hb0"):
            net.t.nsx(n, f"ip link set {dev} up", check=False)


def probe(net):
    """Start the client's probe stream; returns its process."""
    return subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(NETNS, "probe.py"), VIP, "80", str(BEFORE + AFTER), "10"],
        stdout=subprocess.PIPE, text=True)


def measure(net, pgids, down=None):
    """Probe, and SIGKILL the process groups `pgids` right after one of
    the master's adverts (advert_kill.py); `down` ("NETNS:IF,IF"): then
    set those interfaces down too."""
    p = probe(net)
    time.sleep(BEFORE)
    k = subprocess.run(["ip", "netns", "exec", net.t.ns("client"), "python3",
                        os.path.join(HERE, "advert_kill.py")] +
                       (["--down", down] if down else []) + ["c0", "51"] +
                       [str(g) for g in pgids], capture_output=True, text=True)
    if k.returncode != 0:
        p.kill()
        raise RuntimeError("advert_kill: " + k.stderr)
    out, _ = p.communicate(timeout=BEFORE + AFTER + 10)
    return json.loads(out)


def sync_tail(net, node):
    peer = "169.254.77.2" if node == "n1" else "169.254.77.1"
    return f"""sync {{
    interface hb0
    peer {peer}
    key-file {net.key}
}}"""


def sync_applied(net, node):
    try:
        j = json.loads(net.ctl(node, "show", "sync", "--json"))
        return (j["sync"] or {}).get("applied", 0)
    except (ValueError, KeyError, TypeError):
        return 0


def start_lbd(net):
    """lbd on both nodes with a sync block, n1 master."""
    reset(net)
    if not (net.start("n1", 150, tail=sync_tail(net, "n1"), glob="node-id n1")
            and net.start("n2", 100, tail=sync_tail(net, "n2"),
                          glob="node-id n2")):
        raise RuntimeError("lbd did not start: " + net.log("n1") + net.log("n2"))
    if net.wait(lambda: master_both(net, "n1"), 5) is None:
        raise RuntimeError("n1 never became master")


def round_lbd(net, node_dies=False):
    start_lbd(net)
    hold = subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(NETNS, "holdconns.py"), VIP, "7", str(HOLD_N),
         str(BEFORE + AFTER + 1), "10"], stdout=subprocess.PIPE, text=True)
    # In n1's fast path and mirrored on n2 before the kill.
    if net.wait(lambda: net.fastpath("n1").get("offloaded", 0) >= HOLD_N and
                sync_applied(net, "n2") >= HOLD_N, 1, step=0.02) is None:
        hold.kill()
        raise RuntimeError("the held connections were not offloaded and "
                           "mirrored: " + net.ctl("n1", "show", "info") +
                           net.ctl("n2", "show", "sync"))
    r = measure(net, [net.lbd["n1"].pid],
                f"{net.t.ns('n1')}:f0,b0,hb0" if node_dies else None)
    out, _ = hold.communicate(timeout=BEFORE + AFTER + 10)
    h = json.loads(out or "{}")
    r["est_gap_ms"] = h.get("gap_ms", 0.0)
    r["est"] = f"{h.get('ok', 0)}/{h.get('lines', 0)}"
    r["n2_offloaded"] = net.fastpath("n2").get("offloaded", 0)
    net.stop("n1", signal.SIGKILL)      # reaped
    net.stop("n2")
    return r


def round_keepalived(net):
    reset(net)
    # HAProxy runs only in these rounds: in lbd's, nothing on the nodes
    # but lbd may answer for the VIP.
    hcfg = os.path.join(net.tmp, "haproxy.cfg")
    with open(hcfg, "w") as f:
        f.write(HAPROXY)
    procs = {}
    for n in ("n1", "n2"):
        procs["haproxy-" + n] = net.t.popen(
            n, ["haproxy", "-db", "-f", hcfg],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for n, prio in (("n1", 150), ("n2", 100)):
        conf = os.path.join(net.tmp, f"k-{n}.conf")
        with open(conf, "w") as f:
            f.write(KEEPALIVED.format(prio=prio))
        stamp = f"{n}-{time.monotonic_ns()}"
        procs[n] = net.t.popen(n, [
            "keepalived", "-n", "-l", "-D", "-P", "-f", conf,
            "-p", os.path.join(net.tmp, f"k-{stamp}.pid"),
            "-r", os.path.join(net.tmp, f"k-{stamp}.vpid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if net.wait(lambda: net.holds("n1", VIP) and not net.holds("n2", VIP),
                8, step=0.05) is None:
        raise RuntimeError("keepalived: n1 never became master")
    r = measure(net, [procs["n1"].pid, procs["haproxy-n1"].pid])
    for p in procs.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    return r


def stress(net):
    """lbd's pair for STRESS_S seconds with CPU hogs on every core of both
    nodes and n1 reloading 10,000 services (100,000 backends) and back
    every RELOAD_EVERY seconds: the state changes seen (false failovers),
    the reloads' lengths, and a probe stream's result."""
    start_lbd(net)
    time.sleep(1)
    before = sum(net.transitions("n1").values()) + \
        sum(net.transitions("n2").values())
    sock = os.path.join(net.tmp, "n1.sock")
    texts = [lbd_conf(sock, 150, tail=sync_tail(net, "n1") + "\n" + big,
                      glob="node-id n1") for big in (many_services(), "")]
    hog = ["python3", "-c", f"import time\nend = time.time() + {STRESS_S}\n"
           "while time.time() < end:\n    pass\n"]
    hogs = [net.t.popen(n, hog) for n in ("n1", "n2")
            for _ in range(os.cpu_count() or 2)]
    p = subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(NETNS, "probe.py"), VIP, "80", str(STRESS_S - 2), "10"],
        stdout=subprocess.PIPE, text=True)
    reloads, end, k = [], time.time() + STRESS_S, 0
    while time.time() < end:
        with open(os.path.join(net.tmp, "n1.conf"), "w") as f:
            f.write(texts[k % 2])
        t0 = time.time()
        out = net.ctl("n1", "-T", "60", "reload")
        if out.startswith("reload ok"):
            reloads.append(time.time() - t0)
        k += 1
        time.sleep(max(0.0, min(RELOAD_EVERY, end - time.time())))
    for h in hogs:
        h.wait()
    r = json.loads(p.communicate(timeout=60)[0] or "{}")
    after = sum(net.transitions("n1").values()) + \
        sum(net.transitions("n2").values())
    r["false_failovers"] = after - before
    r["reloads"] = reloads
    r["master"] = master_both(net, "n1")
    net.stop("n1")
    net.stop("n2")
    return r


def main():
    net = Net(BUILD, prefix="lbf")
    systems = (("lbd", round_lbd),
               ("lbd-node", lambda net: round_lbd(net, node_dies=True)),
               ("keepalived", round_keepalived))
    gaps = {name: [] for name, _ in systems}
    failed = {name: 0 for name, _ in systems}
    est = {"lbd": [], "lbd-node": []}
    try:
        net.build()
        # Every round starts both nodes afresh, each SNAT space at a random
        # first port, while the backend would keep the earlier rounds'
        # ports in TIME_WAIT for 60 s: a new master walking into them sees
        # about half its SYNs refused, which no failover in the field does
        # (the peer's mirrored entries hold the ports it used). The
        # backend keeps none.
        net.t.nsx("be1", "sysctl -qw net.ipv4.tcp_max_tw_buckets=0")
        net.key = os.path.join(net.tmp, "sync.key")
        with open(os.open(net.key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(32))
        print(f"{'round':>5} {'system':<11} {'gap_ms':>8} {'gap_at_s':>8} "
              f"{'sent':>5} {'ok':>5} {'failed':>6}   established: "
              f"{'gap_ms':>7} {'answered':>9} {'n2 offloaded':>12}", flush=True)
        for i in range(ROUNDS):
            for name, fn in systems:
                r = fn(net)
                gaps[name].append(r["gap_ms"])
                failed[name] += r.get("failed", 0)
                tail = ""
                if "est_gap_ms" in r:
                    est[name].append(r["est_gap_ms"])
                    tail = (f"{'':>16}{r['est_gap_ms']:>7.1f} {r['est']:>9} "
                            f"{r['n2_offloaded']:>12}")
                print(f"{i + 1:>5} {name:<11} {r['gap_ms']:>8.1f} "
                      f"{r['gap_at']:>8.3f} {r['sent']:>5} {r['ok']:>5} "
                      f"{r['failed']:>6}{tail}", flush=True)
                if r.get("failed") and r.get("why"):
                    print(f"#     failed: {r['why']}, sent from "
                          f"{r.get('failed_from')} to {r.get('failed_to')} s",
                          flush=True)
        s = stress(net) if STRESS_S > 0 else {"false_failovers": "-"}
        if STRESS_S > 0:
            print(f"stress: {STRESS_S} s of CPU hogs on every core of both "
                  f"nodes, n1 reloading {len(s['reloads'])} times between 0 "
                  f"and 10,000 services (longest "
                  f"{max(s['reloads'] or [0]):.2f} s): "
                  f"{s['false_failovers']} state changes, n1 "
                  f"{'still' if s['master'] else 'NOT'} master; probes "
                  f"{s.get('ok')}/{s.get('sent')} answered, longest gap "
                  f"{s.get('gap_ms')} ms", flush=True)
    finally:
        net.cleanup()
    med = {k: statistics.median(v) for k, v in gaps.items()}
    print(f"medians over {ROUNDS} rounds: " + ", ".join(
        f"{k} {med[k]:.0f} ms (min {min(v):.0f}, max {max(v):.0f})"
        for k, v in gaps.items()))
    print(f"failover: lbd_gap_ms={med['lbd']:.0f} "
          f"keepalived_gap_ms={med['keepalived']:.0f} "
          f"lbd_established_gap_ms={statistics.median(est['lbd']):.0f} "
          f"lbd_node_gap_ms={med['lbd-node']:.0f} "
          f"lbd_node_established_gap_ms="
          f"{statistics.median(est['lbd-node']):.0f} advert_ms={ADVERT_MS}")
    print(f"failover: lbd_gap_ms={med['lbd']:.0f} "
          f"keepalived_gap_ms={med['keepalived']:.0f} "
          f"lbd_failed={failed['lbd']} keepalived_failed={failed['keepalived']} "
          f"false_failovers_under_stress={s['false_failovers']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
