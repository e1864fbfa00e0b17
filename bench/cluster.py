#!/usr/bin/env python3
"""bench-cluster: two active lbd nodes behind ECMP, announced over BGP.

The topology of tests/netns/pair.py (a front and a back bridge, n1 and n2,
a heartbeat link, be1), without VRRP: each node has a `cluster` block and
a `sync` block to the other, and runs BIRD 2 from the shipped example
(conf/examples/cluster-node.bird, with BFD). The client namespace is also
the upstream router: BIRD with `merge paths on`, so the kernel gets one
multipath route to the VIP (10.92.9.100, on no subnet) through both nodes,
hashed on layer 4 (fib_multipath_hash_policy 1). The service is dsr,
maglev, the same hash-seed on both nodes; be1 answers the client straight.

Measured, in this order:
  * cps_1node / cps_2nodes: new connections per second (bench/connrate)
    with n2 drained, then with both announcing;
  * withdraw_ms: `lbctl cluster drain` on n2 until the client's route to
    the VIP has one path left;
  * spread: of 200 long-lived connections (holdconns.py), how many each
    node carries;
  * node loss: n1 is killed (SIGKILL, its links down) while the 200
    connections send a line each 100 ms and new connections are opened:
    conns_survived_pct, new_conn_success_pct, node_loss_gap_ms (the
    longest wait of any connection for its answer).

Connections are mirrored between the two nodes by ha-sync (one peer: with
more nodes this needs the N-way sync issue 23 asks for), so a flow that
ECMP moves to the survivor finds its entry there.

Prints, last:
  cluster: nodes=2 conns_survived_pct=... new_conn_success_pct=...
           withdraw_ms=... node_loss_gap_ms=... cps_1node=... cps_2nodes=...

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
from pair import Net, BE  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
VIP = "10.92.9.100"
PORT = 7003
RATE_PORT = 8080    # bench/connrate's server (be1's httpd.py has 80)
NODES = (("n1", "10.92.0.11", "169.254.77.2"),
         ("n2", "10.92.0.12", "169.254.77.1"))
CLIENT = "10.92.0.2"
TIMERS = """	connect delay time 1;
	connect retry time 1;
	error wait time 1, 2;
	hold time 6;"""


def router_bird():
    peers = "".join(f"""
protocol bgp {n} {{
	local {CLIENT} as 65000;
	neighbor {a} as 65001;
	bfd on;
{TIMERS}
	ipv4 {{ import all; export none; }};
}}""" for n, a, _ in NODES)
    return f"""router id {CLIENT};
protocol device {{ }}
protocol kernel {{
	ipv4 {{ import none; export all; }};
	merge paths on;
}}
protocol bfd {{
	interface "c0" {{ min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }};
}}
{peers}
"""


def node_bird(addr):
    """The shipped example with this node's addresses (its IPv6 session
    to the client is configured but idle: the VIP here is IPv4)."""
    with open(os.path.join(HERE, "..", "conf", "examples",
                           "cluster-node.bird")) as f:
        text = f.read()
    return (text.replace("192.0.2.11", addr).replace("192.0.2.1 ", CLIENT + " ")
            .replace("2001:db8::11", "fd92::" + addr.split(".")[-1])
            .replace("2001:db8::1 ", "fd92::2 ")
            .replace('"eth0"', '"f0"').replace("\thold time 9;", TIMERS))


def lbd_conf(node, peer, key, sock):
    return f"""global {{
    node-id {node}
    control-socket {sock}
    interface f0
    interface b0
    hash-seed "bench cluster"
}}
cluster {{
    announce-table 201
    withdraw-delay 1s
}}
sync {{
    interface hb0
    peer {peer}
    key-file {key}
}}
service echo {{
    listen {VIP} tcp {PORT}
    mode dsr
    scheduler maglev
    backend be1 {BE}
}}
service web {{
    listen {VIP} tcp 80
    mode dsr
    scheduler maglev
    backend be1 {BE}
}}
service rate {{
    listen {VIP} tcp {RATE_PORT}
    mode dsr
    scheduler maglev
    backend be1 {BE}
}}
"""


def paths(t):
    out = t.nsx("client", f"ip -4 route show {VIP}/32", check=False).stdout
    return sorted(w for a in (n for _, n, _ in NODES) for w in [a]
                  if f"via {a} " in out)


COUNTERS = ("TcpExtTCPSynRetrans", "TcpExtPAWSTimewait", "TcpExtPAWSEstab",
            "TcpExtTCPTimeWaitOverflow", "TcpExtListenDrops", "TcpRetransSegs")


def tcp_counters(t):
    """The TCP counters that explain a slow connection rate: the client's
    and be1's, added up."""
    got = {}
    for ns in ("client", "be1"):
        for ln in t.nsx(ns, "nstat -asz", check=False).stdout.splitlines():
            f = ln.split()
            if len(f) >= 2 and f[0] in COUNTERS:
                got[f[0]] = got.get(f[0], 0) + int(f[1])
    return got


def connrate(t, seconds=5):
    """New connections a second for `seconds`, and the TCP counters that
    moved meanwhile."""
    c0 = tcp_counters(t)
    r = t.nsx("client", f"{BUILD}/bench/connrate client {VIP} {RATE_PORT} "
              f"{seconds} 50", check=False)
    c1 = tcp_counters(t)
    moved = {k: v - c0.get(k, 0) for k, v in c1.items() if v != c0.get(k, 0)}
    try:
        j = json.loads(r.stdout)
        moved["failed"] = j["fail"]
        moved["ok"] = j["ok"]
        return float(j["cps"]), moved
    except (ValueError, KeyError):
        return 0.0, moved


def main():
    net = Net(BUILD, prefix="lbc")
    t = net.t
    procs = []
    try:
        net.build()
        net.dsr_backend(PORT)
        t.nsx("be1", f"ip addr add {VIP}/32 dev lo")
        t.nsx("be1", f"ip rule add from {VIP} table 100")
        t.popen("be1", [f"{BUILD}/bench/connrate", "server", str(RATE_PORT)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t.nsx("client", "sysctl -qw net.ipv4.fib_multipath_hash_policy=1")
        key = os.path.join(net.tmp, "sync.key")
        with open(key, "w") as f:
            f.write("cluster-bench-key-0123456789abcd")
        os.chmod(key, 0o600)
        for ns, text in [("client", router_bird())] + [
                (n, node_bird(a)) for n, a, _ in NODES]:
            conf = os.path.join(net.tmp, f"bird-{ns}.conf")
            with open(conf, "w") as f:
                f.write(text)
            procs.append(t.popen(ns, ["bird", "-f", "-c", conf, "-s",
                                      os.path.join(net.tmp, f"bird-{ns}.ctl")],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL))
        for n, _, peer in NODES:
            sock = os.path.join(net.tmp, f"{n}.sock")
            conf = os.path.join(net.tmp, f"{n}.conf")
            with open(conf, "w") as f:
                f.write(lbd_conf(n, peer, key, sock))
            net.lbd[n] = t.popen(n, [net.lbd_bin, "-f", conf], stdout=open(
                os.path.join(net.tmp, f"{n}.log"), "a"),
                stderr=subprocess.STDOUT)
        if net.wait(lambda: len(paths(t)) == 2, 40) is None:
            sys.exit("bench-cluster: the client never got two paths: " +
                     t.nsx("client", f"ip route show {VIP}", check=False).stdout
                     + net.log("n1"))
        print(f"client route: {t.nsx('client', f'ip route show {VIP}').stdout.strip()}")

        # New connections per second: one node, then both.
        net.ctl("n2", "cluster", "drain")
        t0 = time.time()
        net.wait(lambda: len(paths(t)) == 1, 10)
        withdraw_ms = (time.time() - t0) * 1000
        cps1, m1 = connrate(t)
        net.ctl("n2", "cluster", "resume")
        net.wait(lambda: len(paths(t)) == 2, 10)
        cps2, m2 = connrate(t)
        print(f"new connections/s (connrate): {cps1:.0f} through n1 alone "
              f"({m1}), {cps2:.0f} through both ({m2}); drain withdrawn at "
              f"the router in {withdraw_ms:.0f} ms")
        if os.environ.get("BENCH_PAUSE"):
            print(f"paused: namespaces {t.p}-*", flush=True)
            time.sleep(float(os.environ["BENCH_PAUSE"]))

        # 200 long-lived connections and new ones while n1 dies.
        hold = t.popen("client", ["python3", os.path.join(NETNS, "holdconns.py"),
                                  VIP, str(PORT), "200", "14", "100"],
                       stdout=subprocess.PIPE, text=True)
        time.sleep(4)
        carried = {}
        for n, _, _ in NODES:
            try:
                st = json.loads(net.ctl(n, "show", "stat", "--json"))
                carried[n] = sum(s.get("conns", 0) for s in st.get("services", [])
                                 if s.get("service") == "echo")
            except ValueError:
                carried[n] = -1
        print(f"connections made through each node (show stat): {carried}")
        newc = t.popen("client", ["python3", os.path.join(NETNS, "client.py"),
                                  "requests", VIP, "80", "400"],
                       stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        net.lbd["n1"].send_signal(signal.SIGKILL)
        t.nsx("n1", "ip link set f0 down")
        t.nsx("n1", "ip link set b0 down")
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
        print(f"cluster: nodes=2 conns_survived_pct={survived:.1f} "
              f"new_conn_success_pct={new_ok:.1f} withdraw_ms={withdraw_ms:.0f} "
              f"node_loss_gap_ms={h.get('gap_ms', -1)} cps_1node={cps1:.0f} "
              f"cps_2nodes={cps2:.0f}")
    finally:
        for p in procs + list(net.lbd.values()):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        net.t.cleanup()


if __name__ == "__main__":
    main()
