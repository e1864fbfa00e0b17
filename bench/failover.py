#!/usr/bin/env python3
"""bench-failover: the interruption a client sees when the master dies, lbd
against keepalived, in one run on one topology.

The topology is the VRRP tests' (tests/netns/pair.py): client, nodes n1 and
n2 on a front bridge, backend be1 on a back bridge. Both systems use VRRPv3
with 100 ms adverts, n1 priority 150 (master), n2 100, and serve HTTP on the
VIP 10.92.0.100:80 from be1:

  lbd        lbd on both nodes: one vrrp-group (VIP and SNAT address), a
             snat-mode service, the packet path in XDP/AF_XDP
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

Last line:
  failover: lbd_gap_ms=… keepalived_gap_ms=… advert_ms=100

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
from pair import Net, master_both, VIP, BE, ADVERT_MS  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
BEFORE, AFTER = 1.0, 3.0        # seconds of probing around the kill

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
    """What a killed daemon leaves on a node: XDP programs, macvlans,
    addresses. Removed so that every round starts the same."""
    for n in ("n1", "n2"):
        for dev in ("f0", "b0"):
            net.t.nsx(n, f"ip link set dev {dev} xdp off", check=False)
        out = net.t.nsx(n, "ip -o link show", check=False).stdout
        for ln in out.splitlines():
            name = ln.split(":")[1].strip().split("@")[0]
            if name.startswith("vr"):
                net.t.nsx(n, f"ip link del {name}", check=False)
        net.t.nsx(n, f"ip addr del {VIP}/24 dev f0", check=False)


def probe(net):
    """Start the client's probe stream; returns its process."""
    return subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(NETNS, "probe.py"), VIP, "80", str(BEFORE + AFTER), "10"],
        stdout=subprocess.PIPE, text=True)


def measure(net, pgids):
    """Probe, and SIGKILL the process groups `pgids` right after one of
    the master's adverts (advert_kill.py)."""
    p = probe(net)
    time.sleep(BEFORE)
    k = subprocess.run(["ip", "netns", "exec", net.t.ns("client"), "python3",
                        os.path.join(HERE, "advert_kill.py"), "c0", "51"] +
                       [str(g) for g in pgids], capture_output=True, text=True)
    if k.returncode != 0:
        p.kill()
        raise RuntimeError("advert_kill: " + k.stderr)
    out, _ = p.communicate(timeout=BEFORE + AFTER + 10)
    return json.loads(out)


def round_lbd(net):
    reset(net)
    if not (net.start("n1", 150) and net.start("n2", 100)):
        raise RuntimeError("lbd did not start: " + net.log("n1") + net.log("n2"))
    if net.wait(lambda: master_both(net, "n1"), 5) is None:
        raise RuntimeError("n1 never became master")
    r = measure(net, [net.lbd["n1"].pid])
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


def main():
    net = Net(BUILD, prefix="lbf")
    gaps = {"lbd": [], "keepalived": []}
    try:
        net.build()
        print(f"{'round':>5} {'system':<11} {'gap_ms':>8} {'gap_at_s':>8} "
              f"{'sent':>5} {'ok':>5} {'failed':>6}", flush=True)
        for i in range(ROUNDS):
            for name, fn in (("lbd", round_lbd),
                             ("keepalived", round_keepalived)):
                r = fn(net)
                gaps[name].append(r["gap_ms"])
                print(f"{i + 1:>5} {name:<11} {r['gap_ms']:>8.1f} "
                      f"{r['gap_at']:>8.3f} {r['sent']:>5} {r['ok']:>5} "
                      f"{r['failed']:>6}", flush=True)
    finally:
        net.cleanup()
    lbd = statistics.median(gaps["lbd"])
    kp = statistics.median(gaps["keepalived"])
    print(f"medians over {ROUNDS} rounds: lbd {lbd:.0f} ms "
          f"(min {min(gaps['lbd']):.0f}, max {max(gaps['lbd']):.0f}), "
          f"keepalived {kp:.0f} ms (min {min(gaps['keepalived']):.0f}, "
          f"max {max(gaps['keepalived']):.0f})")
    print(f"failover: lbd_gap_ms={lbd:.0f} keepalived_gap_ms={kp:.0f} "
          f"advert_ms={ADVERT_MS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
