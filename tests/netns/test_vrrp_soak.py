#!/usr/bin/env python3
"""The pair through repeated node deaths, end to end: CYCLES times the
master n1 is frozen, its switch ports and heartbeat link go down and it
is killed (a node death, as a test bench pulls a node); n2 takes over;
the links come back and lbd is started again at once (the restart after
a crash: the dead lbd's classifier, macvlans and addresses are still
there); n1 resyncs from n2 and preempts.

Throughout, 200 long-lived connections through the VIPs in every mode
and family at once (snat, routed, dsr; IPv4 and IPv6, forwarding on in
the nodes as the README asks): every line answered, none reset, none
moved to another backend or SNAT address/port, in every cycle. The
longest wait for an answer and when it happened are in the messages: a
restarted node that takes the group back must not make connections wait
for its kernel's second try at a neighbour (the first probe, sent as lbd
started, can be lost to a switch port not forwarding yet).
(test_vrrp_quiet.py sniffs the frames a backup sends meanwhile.)

usage: test_vrrp_soak.py BUILD_DIR [CYCLES]"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import BE, finish, Net, VIP, VIP6, vrrp_instances  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CYCLES = int(sys.argv[2]) if len(sys.argv) > 2 else 10
SNAT6, BE6 = "fd93::100", "fd93::21"
# (what, host, port, connections): 200 in all.
HOLDS = (("snat IPv4", VIP, 7, 34), ("routed IPv4", VIP, 8, 33),
         ("dsr IPv4", VIP, 9, 33), ("snat IPv6", VIP6, 7, 34),
         ("routed IPv6", VIP6, 8, 33), ("dsr IPv6", VIP6, 9, 33))
ALL = sum(h[3] for h in HOLDS)


def v6_instances(prio):
    return vrrp_instances(prio, (("front6", "f0", 51, f"{VIP6}/64", ""),
                                 ("back6", "b0", 52, f"{SNAT6}/64", "")))


def tail(node, key):
    peer = "169.254.77.2" if node == "n1" else "169.254.77.1"
    return f"""sync {{
    interface hb0
    peer {peer}
    key-file {key}
}}
service echo-dsr {{
    listen {VIP} tcp 9
    mode dsr
    backend be1 {BE}:9
}}
service echo6 {{
    listen {VIP6} tcp 7
    mode snat
    snat-pool {SNAT6}
    backend be1 [{BE6}]:7
}}
service echo6-routed {{
    listen {VIP6} tcp 8
    mode routed
    backend be1 [{BE6}]:7
}}
service echo6-dsr {{
    listen {VIP6} tcp 9
    mode dsr
    backend be1 [{BE6}]:9
}}"""


def start(net, node, prio, key):
    return net.start(node, prio, group=v6_instances(prio),
                     tail=tail(node, key), glob=f"node-id {node}")


def all_master(net, node):
    s = net.states(node)
    return len(s) == 4 and set(s.values()) == {"master"}


def all_backup(net, node):
    s = net.states(node)
    return len(s) == 4 and set(s.values()) == {"backup"}


def sync(net, node):
    try:
        return json.loads(net.ctl(node, "show", "sync", "--json"))["sync"] or {}
    except (ValueError, KeyError, TypeError):
        return {}


def ipv6(net):
    """The IPv6 half of the topology: the back segment, the routed
    replies by the back IPv6 floating address, the DSR replies from the
    IPv6 VIP on be1's loopback straight out of its front leg."""
    t = net.t
    for i, n in ((11, "n1"), (12, "n2")):
        t.nsx(n, f"ip -6 addr add fd93::{i}/64 dev b0 nodad")
        t.nsx(n, "sysctl -qw net.ipv6.conf.all.forwarding=1 "
              "net.ipv4.ip_forward=1")
    t.nsx("be1", f"ip -6 addr add {BE6}/64 dev e0 nodad")
    t.nsx("be1", f"ip -6 route add fd92::/64 via {SNAT6}")
    t.nsx("be1", "ip -6 addr add fd92::31/128 dev e1 nodad")
    t.nsx("be1", f"ip -6 addr add {VIP6}/128 dev lo")
    t.nsx("be1", f"ip -6 rule add from {VIP6} table 100")
    t.nsx("be1", "ip -6 route add fd92::/64 dev e1 table 100")


def node_death(net):
    """n1 frozen, its ports and heartbeat down, then killed."""
    p = net.lbd["n1"]
    p.send_signal(signal.SIGSTOP)
    net.t.nsx("swf", "ip link set p1 down")
    net.t.nsx("swb", "ip link set q1 down")
    net.t.nsx("n1", "ip link set hb0 down")
    net.stop("n1", signal.SIGKILL)


def links_back(net):
    net.t.nsx("swf", "ip link set p1 up")
    net.t.nsx("swb", "ip link set q1 up")
    net.t.nsx("n1", "ip link set hb0 up")


# The phase each event of a cycle begins.
PHASE = {"death": "takeover", "n2 master": "takeover",
         "n1 started": "failback", "n1 master": "failback"}


def last_event(events, at):
    """The last (time, "CYCLE: what") of `events` at or before `at`."""
    before = [e for e in events if e[0] <= at]
    return before[-1] if before else None


def when(events, at):
    """`at` told by the last event before it."""
    e = last_event(events, at)
    return f"{at - e[0]:.2f} s after {e[1]}" if e else "before the first death"


def phases(events, slow):
    """How many of the waits `slow` ([end, ms]) ended in each phase."""
    n = {}
    for at, _ in slow:
        e = last_event(events, at)
        what = PHASE[e[1].split(": ")[1]] if e else "start"
        n[what] = n.get(what, 0) + 1
    return n


def main():
    net = Net(BUILD, prefix="lbk")
    t = net.t
    holds = []
    try:
        net.build()
        net.dsr_backend(9)
        ipv6(net)
        key = os.path.join(net.tmp, "sync.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(32))
        ok = start(net, "n1", 150, key)
        net.wait(lambda: all_master(net, "n1"), 5)
        ok = start(net, "n2", 100, key) and ok
        took = net.wait(lambda: all_backup(net, "n2") and
                        sync(net, "n2").get("synced"), 5, step=0.05)
        check(ok and took is not None and all_master(net, "n1"),
              "n1 master of the four instances (IPv4 and IPv6, front and "
              "back), n2 backup and synced",
              (net.states("n1"), net.states("n2"), net.log("n1")[-1500:]))

        holds = [(what, n, t.popen("client", [
            "python3", os.path.join(HERE, "holdconns.py"), host, str(port),
            str(n), "600", "100"], stdout=subprocess.PIPE, text=True))
            for what, host, port, n in HOLDS]
        up = net.wait(lambda: net.fastpath("n1").get("offloaded", 0) >= ALL
                      and sync(net, "n2").get("applied", 0) >= ALL, 10,
                      step=0.1)
        check(up is not None, f"{ALL} connections in n1's fast path and "
              f"mirrored on n2", (net.fastpath("n1"), sync(net, "n2")))

        takeovers, failbacks, resync_first = [], [], 0
        events = []     # (time, what): the failures' times are read by them
        for cycle in range(CYCLES):
            events.append((round(time.time(), 2), f"{cycle}: death"))
            node_death(net)
            took = net.wait(lambda: all_master(net, "n2") and
                            net.holds_vip("n2"), 3)
            takeovers.append(took)
            events.append((round(time.time(), 2), f"{cycle}: n2 master"))
            links_back(net)
            start(net, "n1", 150, key)
            events.append((round(time.time(), 2), f"{cycle}: n1 started"))
            back = net.wait(lambda: all_master(net, "n1") and
                            all_backup(net, "n2") and
                            not net.holds_vip("n2"), 10, step=0.05)
            failbacks.append(back)
            events.append((round(time.time(), 2), f"{cycle}: n1 master"))
            with open(os.path.join(net.tmp, "n1.log")) as f:
                log = f.read().split("started version=")[-1]
            i_sync = log.find("the peer's connections are here")
            i_master = log.find("group=edge state=master")
            resync_first += 0 <= i_sync < i_master
            # Every connection through n1 again before the next death.
            net.wait(lambda: net.fastpath("n1").get("offloaded", 0) >= ALL,
                     5, step=0.1)
            if took is None or back is None:
                break
        check(all(x is not None for x in takeovers) and
              len(takeovers) == CYCLES,
              f"{CYCLES} node deaths of the master: n2 took over every time "
              f"(slowest {max(x or 9 for x in takeovers) * 1000:.0f} ms)",
              (takeovers, net.log("n2")[-1500:]))
        check(all(x is not None for x in failbacks) and
              len(failbacks) == CYCLES and resync_first == CYCLES,
              f"{CYCLES} restarts of n1 at once after its death: it resynced "
              f"from n2 before it preempted every time ({resync_first}), "
              f"slowest failback {max(x or 99 for x in failbacks):.1f} s "
              "after the start", (failbacks, net.log("n1")[-2000:]))

        for what, n, p in holds:
            p.send_signal(signal.SIGTERM)
        for what, n, p in holds:
            try:
                out, _ = p.communicate(timeout=20)
                r = json.loads(out or "{}")
            except (subprocess.TimeoutExpired, ValueError):
                r = {}
            check(r.get("errors") == {} and r.get("ok") == r.get("lines") and
                  r.get("moved") == 0 and r.get("lines", 0) > n * 10 * CYCLES,
                  f"{what}: {n} connections went on through {CYCLES} node "
                  f"deaths and failbacks: {r.get('ok')} of {r.get('lines')} "
                  f"lines answered, errors {r.get('errors')}, "
                  f"{r.get('moved')} moved; longest wait for an answer "
                  f"{r.get('gap_ms')} ms ({when(events, r.get('gap_end', 0))}"
                  f"), waits over 300 ms: {phases(events, r.get('slow', []))}",
                  (r, events, net.diag()))
        holds = []
    finally:
        net.end([p for _, _, p in holds])
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
