#!/usr/bin/env python3
"""bench-e2e: lbd against the kernel and HAProxy on the same topology.

The topology is the end-to-end test's (tests/netns/topo.py): client behind a
router (wan), the lbd node with a front (f0) and a back (b0) veth, three
backends on a bridge. For each system below, in one run, IPv4:

  direct       kernel IP forwarding on the lbd node, client -> be1 (no NAT):
               the same hops as routed mode, the reference
  nft          nftables DNAT on the lbd node (the routed-mode peer)
  tc-dnat      the least a TC-BPF fast path can do (bench/tc_dnat.bpf.c):
               one static DNAT rule, no table, no slow path; the ceiling
               of lbd's kernel fast path, measured in the same run
  haproxy      HAProxy in TCP mode with splice, source address = SNAT address
               (the one-arm peer)
  lbd-routed, lbd-snat, lbd-dsr
               lbd as installed (datapath auto: the kernel fast path on f0
               and b0, the engine behind its punt pairs)

it measures bulk TCP throughput (iperf3, 1 and 4 streams), the CPU time the
whole machine spent per GB those transfers moved (client, router, the node
and the backends alike: /proc/stat), and the new-connection rate
(bench/connrate: one request per connection, 100 in flight). The table is
run twice: with the veths' default offloads on every interface, neighbours
included (the kernel paths carry 64 KiB GSO segments), and with TSO/GSO/GRO
and checksum offload off everywhere (frame for frame).

Prints the tables and, last:
  e2e: routed_vs_nft_gbps=… snat_vs_haproxy_gbps=… routed_vs_nft_cps=…
       snat_vs_haproxy_cps=… dsr_vs_direct_gbps=…
(default offloads; the same line for offloads off comes just before it as
e2e-nooffload:).

usage: e2e.py BUILD_DIR [SECONDS]       PERF=1 also profiles lbd-routed (perf)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))
from topo import Topo, V4, BACKENDS, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")
CONNRATE = os.path.join(BUILD, "bench", "connrate")
CONC = 100
VIP = V4["vip"]


SNAT_POOL = 4   # lbd's snat-pool: addresses from snat_addr on, 10 apart


def snat_pool(system, on):
    """lbd's pool. One address gives 64,512 ports per backend, held for
    the 60 s of TIME_WAIT (operator guide): about 1,075 new connections/s
    per backend over a minute, 6,450/s within a 10 s run. Three backends
    at 20,000 connections/s need more than that in 10 s, so lbd gets
    what an operator would give it at this rate: four addresses. (HAProxy
    keeps one; its kernel does not hold ports for the backends'
    TIME_WAIT.)"""
    base = snat_addr(system, on)
    head, last = base.rsplit(".", 1)
    return [f"{head}.{int(last) + 10 * i}" for i in range(SNAT_POOL)]


def snat_addr(system, on):
    """A SNAT address per system and offload round. The backends hold each
    connection's 4-tuple in TIME_WAIT for 60 s (the server closes first);
    a new connection on one of them, with another client's timestamps, is
    refused by PAWS and the client sends its SYN again a second later.
    Back to back on one address the second system got a third of its
    rate, which measured the previous run, not the system."""
    return f"10.91.2.{100 + (system != 'haproxy') + (0 if on else 2)}"
SYSTEMS = ["direct", "nft", "tc-dnat", "haproxy", "lbd-routed", "lbd-snat",
           "lbd-dsr"]
# E2E_WORKERS=N runs lbd with N workers (default 1).
WORKERS = int(os.environ.get("E2E_WORKERS", "1"))
# E2E_DATAPATH=userspace runs lbd's AF_XDP-only data path. It needs
# complete checksums from the senders next to it, so then (only then) wan's
# w1 and the backends' e0 keep transmit checksumming off.
DATAPATH = os.environ.get("E2E_DATAPATH", "auto")
TO_LBD = {("wan", "w1")} | {(b, "e0") for b, _ in BACKENDS}
# E2E_SYSTEMS=lbd-routed,lbd-snat runs a subset (no summary line then).
ONLY = [x for x in os.environ.get("E2E_SYSTEMS", "").split(",") if x]
# TCP counters read around each connection-rate run: a SYN the client had
# to send again costs it a second; the backends' side says why.
CLIENT_CTRS = ["TcpExtTCPSynRetrans"]
BACKEND_CTRS = ["TcpExtTCPChallengeACK", "TcpExtTCPSYNChallenge",
                "TcpExtPAWSTimewait", "TcpExtTWRecycled", "TcpExtTCPTimeWaitOverflow"]
# Where each system listens: (address, iperf port, connrate port).
TARGET = {
    # Port 9090: the nft and lbd runs that follow reach be1:80 from the
    # same client ports, and be1's TIME_WAIT entries of this run (other
    # timestamps) would make it refuse their SYNs (see snat_addr).
    "direct": (be4(11), 5201, 9090),
    "nft": (VIP, 5201, 80),
    "tc-dnat": (VIP, 5201, None),	# the rule covers bulk only
    "haproxy": (VIP, 5201, 80),
    "lbd-routed": (VIP, 5201, 80),
    "lbd-snat": (VIP, 5202, 8080),
    "lbd-dsr": (VIP, 5203, 9090),
}


def servers(port):
    return "\n".join(f"    server {b} {be4(n)}:{port}" for b, n in BACKENDS)


def backends(port):
    return "\n".join(f"    backend {b} {be4(n)}:{port}" for b, n in BACKENDS)


def lbd_config(sock, snat):
    svc = ""
    for mode, ip, cp, bip, bcp in (("routed", 5201, 80, 5201, 80),
                                   ("snat", 5202, 8080, 5201, 80),
                                   ("dsr", 5203, 9090, 5203, 9090)):
        pool = f"    snat-pool {' '.join(snat)}\n" if mode == "snat" else ""
        svc += f"""
service bulk-{mode} {{
    listen {VIP} tcp {ip}
    mode {mode}
{pool}    scheduler sh
{backends(bip)}
}}
service rate-{mode} {{
    listen {VIP} tcp {cp}
    mode {mode}
{pool}    scheduler rr
{backends(bcp)}
}}
"""
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
    conn-table-size 1048576
    workers {WORKERS}
    datapath {DATAPATH}
}}
{svc}"""


# maxconn stays within a default descriptor limit (HAProxy refuses to start
# when it cannot raise the limit to twice maxconn).
def haproxy_config(snat):
    return f"""global
    maxconn 4000
defaults
    mode tcp
    option splice-auto
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend bulk
    bind {VIP}:5201
    default_backend bulk
backend bulk
    balance source
    source {snat}
{servers(5201)}
frontend rate
    bind {VIP}:80
    default_backend rate
backend rate
    balance roundrobin
    source {snat}
{servers(80)}
"""

# iperf3 keeps its control and data connections on one backend only if the
# choice depends on the client's address alone (lbd: sh; HAProxy: source).
NFT = f"""table ip lbdbench {{
    chain pre {{
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr {VIP} tcp dport 5201 dnat to jhash ip saddr mod 3 map {{ 0 : {be4(11)}, 1 : {be4(12)}, 2 : {be4(13)} }}
        ip daddr {VIP} tcp dport 80 dnat to numgen inc mod 3 map {{ 0 : {be4(11)}, 1 : {be4(12)}, 2 : {be4(13)} }}
    }}
}}
"""


class Bench:
    def __init__(self):
        self.t = Topo(prefix=f"lbb{os.getpid() % 100000}")
        self.tmp = tempfile.mkdtemp(prefix="lbd-bench-")
        self.sock = os.path.join(self.tmp, "lbd.sock")
        self.lbd = None
        self.hap = None

    # -- the topology ----------------------------------------------------
    def veths(self):
        out = []
        for n in ["client", "wan", "lbd", "sw"] + [b for b, _ in BACKENDS]:
            r = self.t.nsx(n, "ip -o link show type veth")
            for line in r.stdout.splitlines():
                out.append((n, line.split(":")[1].strip().split("@")[0]))
        return out

    def offloads(self, on):
        flags = "tx on tso on gso on gro on" if on else \
            "tx off tso off gso off gro off"
        for n, dev in self.veths():
            f = flags
            if DATAPATH == "userspace" and (n, dev) in TO_LBD:
                f = flags.replace("tx on", "tx off")
            self.t.nsx(n, f"ethtool -K {dev} {f}", check=False)

    # -- the systems under test ------------------------------------------
    def setup(self, system, on):
        t = self.t
        if system == "direct":
            t.nsx("wan", f"ip route add {be4(11)}/32 via {V4['f0']}")
        elif system == "nft":
            t.nsx("lbd", f"ip addr add {VIP}/32 dev f0")
            self.nft_file = os.path.join(self.tmp, "nft.conf")
            open(self.nft_file, "w").write(NFT)
            t.nsx("lbd", f"nft -f {self.nft_file}")
        elif system == "tc-dnat":
            t.nsx("lbd", f"ip addr add {VIP}/32 dev f0")
            self.tc_dnat()
        elif system == "haproxy":
            self.snat = snat_addr(system, on)
            t.nsx("lbd", f"ip addr add {VIP}/32 dev f0")
            t.nsx("lbd", f"ip addr add {self.snat}/32 dev b0")
            conf = os.path.join(self.tmp, "haproxy.cfg")
            open(conf, "w").write(haproxy_config(self.snat))
            log = open(os.path.join(self.tmp, "haproxy.log"), "a")
            self.hap = t.popen("lbd", ["haproxy", "-db", "-f", conf],
                               stdout=log, stderr=subprocess.STDOUT)
            if not self.wait_port(VIP, 80):
                raise RuntimeError("haproxy did not start: " +
                                   open(log.name).read()[-2000:])
        elif system.startswith("lbd-") and self.lbd is None:
            conf = os.path.join(self.tmp, "lbd.conf")
            open(conf, "w").write(lbd_config(self.sock, snat_pool(system, on)))
            log = open(os.path.join(self.tmp, "lbd.log"), "a")
            self.lbd = t.popen("lbd", [LBD, "-d", "-f", conf], stdout=log,
                               stderr=subprocess.STDOUT)
            for _ in range(100):
                r = t.nsx("lbd", f"{LBCTL} -s {self.sock} show info", check=False)
                if "data-plane" in r.stdout:
                    break
                if self.lbd.poll() is not None:
                    raise RuntimeError("lbd did not start: " +
                                       open(log.name).read()[-2000:])
                time.sleep(0.1)
            time.sleep(0.5)

    def teardown(self, system, on):
        t = self.t
        if system == "direct":
            t.nsx("wan", f"ip route del {be4(11)}/32", check=False)
        elif system == "nft":
            t.nsx("lbd", "nft delete table ip lbdbench", check=False)
            t.nsx("lbd", f"ip addr del {VIP}/32 dev f0", check=False)
        elif system == "tc-dnat":
            for dev in ("f0", "b0"):
                t.nsx("lbd", f"tc qdisc del dev {dev} clsact", check=False)
            t.nsx("lbd", f"ip addr del {VIP}/32 dev f0", check=False)
        elif system == "haproxy":
            self.stop(self.hap)
            self.hap = None
            t.nsx("lbd", f"ip addr del {VIP}/32 dev f0", check=False)
            t.nsx("lbd", f"ip addr del {self.snat}/32 dev b0", check=False)
        elif system == "lbd-dsr":
            self.stop(self.lbd)
            self.lbd = None
        # Conntrack and neighbour state from one system must not help or
        # hurt the next.
        t.nsx("lbd", "sh -c 'command -v conntrack >/dev/null && conntrack -F'",
              check=False)

    def tc_dnat(self):
        """bench/tc_dnat.bpf.c for VIP:5201 -> be1:5201 (iperf3); no
        connection-rate figure (the rule is for bulk throughput)."""
        t = self.t
        def n32(a):
            return hex(int.from_bytes(bytes(int(x) for x in a.split(".")),
                                      "little"))
        def ifindex(dev):
            return t.nsx("lbd", f"cat /sys/class/net/{dev}/ifindex").stdout.strip()
        for dev, side in (("f0", ["-DIN"]), ("b0", [])):
            obj = os.path.join(self.tmp, f"tc_dnat_{dev}.o")
            subprocess.run(["clang", "-O2", "-g", "-target", "bpf",
                            f"-I/usr/include/{os.uname().machine}-linux-gnu",
                            f"-DVIP={n32(VIP)}", f"-DBACKEND={n32(be4(11))}",
                            "-DPORT=5201", f"-DFRONT={ifindex('f0')}",
                            f"-DBACK={ifindex('b0')}", *side, "-c",
                            os.path.join(HERE, "tc_dnat.bpf.c"), "-o", obj],
                           check=True)
            t.nsx("lbd", f"tc qdisc add dev {dev} clsact")
            t.nsx("lbd", f"tc filter add dev {dev} ingress bpf da obj {obj} "
                  "sec tc")

    def stop(self, p):
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def wait_port(self, host, port):
        for _ in range(50):
            r = self.t.nsx("client", f"python3 -c \"import socket;"
                           f"socket.create_connection(('{host}',{port}),1)\"",
                           check=False)
            if r.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    # -- the measurements ------------------------------------------------
    def iperf(self, host, port, streams):
        """Gbit/s received, bytes received, and the CPU seconds the whole
        machine was busy meanwhile."""
        c0 = cpu_busy()
        r = self.t.nsx("client", f"timeout {SECONDS + 20} iperf3 -c {host} -p {port} "
                       f"-t {SECONDS} -P {streams} -J", check=False)
        cpu = cpu_busy() - c0
        try:
            end = json.loads(r.stdout)["end"]["sum_received"]
            return end["bits_per_second"] / 1e9, end["bytes"], cpu
        except (ValueError, KeyError):
            return 0.0, 0, cpu

    def counters(self, ns, names):
        r = self.t.nsx(ns, "nstat -asz", check=False)
        got = {}
        for ln in r.stdout.splitlines():
            f = ln.split()
            if len(f) >= 2 and f[0] in names:
                got[f[0]] = int(f[1])
        return got

    def tcp_state(self):
        c = self.counters("client", CLIENT_CTRS)
        for b, _ in BACKENDS:
            for k, v in self.counters(b, BACKEND_CTRS).items():
                c[k] = c.get(k, 0) + v
        return c

    def fastpath(self):
        r = self.t.nsx("lbd", f"{LBCTL} -s {self.sock} show info --json",
                       check=False)
        try:
            return json.loads(r.stdout)["data_plane"]["fastpath"] or {}
        except (ValueError, KeyError, TypeError):
            return {}

    def connrate(self, host, port):
        r = self.t.nsx("client", f"timeout {SECONDS + 20} {CONNRATE} client {host} "
                       f"{port} {SECONDS} {CONC}", check=False)
        try:
            j = json.loads(r.stdout)
            return j["cps"], j["fail"]
        except (ValueError, KeyError):
            return 0.0, -1

    def perf(self, host, port):
        """Profile the whole machine during a single-stream transfer."""
        self.perf_during(self.iperf, host, port, 1)

    def perf_during(self, fn, *args):
        """Run fn(*args) under a system-wide profile; print its top."""
        data = os.path.join(self.tmp, "perf.data")
        p = subprocess.Popen(["perf", "record", "-a", "-g", "-o", data, "--",
                              "sleep", str(SECONDS)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        out = fn(*args)
        p.wait()

        def report(*extra):
            r = subprocess.run(["perf", "report", "-i", data, "--no-children",
                                "--stdio", "-g", "none", *extra],
                               capture_output=True, text=True)
            print("\n".join(line for line in r.stdout.splitlines()
                            if line and not line.startswith("#")))
        print("   by thread:")
        report("--sort", "comm", "--percent-limit", "2")
        print("   lbd-worker, by symbol (self):")
        report("--comms", "lbd-worker", "--sort", "dso,sym",
               "--percent-limit", "1")
        print("   lbd-worker, by symbol with what it calls (children):")
        r = subprocess.run(["perf", "report", "-i", data, "--children",
                            "--stdio", "-g", "none", "--comms", "lbd-worker",
                            "--sort", "sym", "--percent-limit", "4"],
                           capture_output=True, text=True)
        print("\n".join(line for line in r.stdout.splitlines()
                        if line and not line.startswith("#")))
        return out

    def run(self, on):
        self.offloads(on)
        rows = {}
        for s in [x for x in SYSTEMS if not ONLY or x in ONLY]:
            host, bp, cp = TARGET[s]
            self.setup(s, on)
            g1, n1, c1 = self.iperf(host, bp, 1)
            g4, n4, c4 = self.iperf(host, bp, 4)
            spg = (c1 + c4) / ((n1 + n4) / 1e9) if n1 + n4 else 0.0
            before = self.tcp_state()
            fp0 = self.fastpath() if s.startswith("lbd-") else {}
            if cp is None:
                cps, fail = 0.0, 0
            elif os.environ.get("PERF") == "cps" and s.startswith("lbd-"):
                print(f"-- perf during the connection rate, {s}, offloads "
                      f"{'on' if on else 'off'}")
                cps, fail = self.perf_during(self.connrate, host, cp)
            else:
                cps, fail = self.connrate(host, cp)
            after = self.tcp_state()
            tcp = {k.replace("TcpExt", ""): after[k] - before.get(k, 0)
                   for k in after if after[k] != before.get(k, 0)}
            if fp0 and cps:
                # Per connection made: packets the kernel forwarded by a
                # flow, and those it handed to the engine.
                fp1, made = self.fastpath(), cps * SECONDS
                for k in ("forwarded", "punted_miss", "punted_flags", "sent"):
                    tcp[f"fp_{k}/conn"] = round(
                        (fp1.get(k, 0) - fp0.get(k, 0)) / made, 1)
            if s == "lbd-routed" and os.environ.get("PERF") == "1":
                print(f"-- perf, lbd-routed, offloads {'on' if on else 'off'}")
                self.perf(host, bp)
            self.teardown(s, on)
            rows[s] = (g1, g4, cps, fail, spg)
            print(f"  {s:<11} {g1:7.2f} {g4:7.2f} {spg:7.2f} {cps:9.0f} {fail:6d}   "
                  f"{' '.join(f'{k}={v}' for k, v in sorted(tcp.items()))}",
                  flush=True)
        self.stop(self.lbd)
        self.lbd = None
        return rows


def cpu_busy():
    """Seconds all CPUs spent on anything but idle and iowait."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def ratio(a, b):
    return a / b if b else 0.0


def line(tag, r):
    return (f"{tag}: routed_vs_nft_gbps={ratio(r['lbd-routed'][0], r['nft'][0]):.2f} "
            f"snat_vs_haproxy_gbps={ratio(r['lbd-snat'][0], r['haproxy'][0]):.2f} "
            f"routed_vs_nft_cps={ratio(r['lbd-routed'][2], r['nft'][2]):.2f} "
            f"snat_vs_haproxy_cps={ratio(r['lbd-snat'][2], r['haproxy'][2]):.2f} "
            f"dsr_vs_direct_gbps={ratio(r['lbd-dsr'][0], r['direct'][0]):.2f}")


def main():
    b = Bench()
    t = b.t
    try:
        t.build()
        for n in ("client", "lbd"):
            t.nsx(n, "sysctl -qw net.ipv4.ip_local_port_range='1024 65535'")
        t.nsx("client", "sysctl -qw net.ipv4.tcp_tw_reuse=1")
        for bname, _ in BACKENDS:
            for port in (5201, 5203):
                t.popen(bname, ["iperf3", "-s", "-p", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t.popen(bname, [CONNRATE, "server", "80", "9090"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        results = {}
        for on in (True, False):
            print(f"\noffloads {'default (TSO/GSO/GRO on)' if on else 'off'}, "
                  f"{SECONDS}s per figure, IPv4")
            print(f"  {'system':<11} {'1 strm':>7} {'4 strm':>7} {'CPU s/GB':>7} "
                  f"{'conn/s':>9} {'fails':>6}   (Gbit/s; CPU: whole machine "
                  "over both transfers; TCP counters the conn/s run moved; "
                  "lbd's fast path per connection)")
            results[on] = b.run(on)
        if not ONLY:
            print()
            print(line("e2e-nooffload", results[False]))
            print(line("e2e", results[True]))
    finally:
        b.stop(b.lbd)
        b.stop(b.hap)
        t.cleanup()
        subprocess.run(["rm", "-rf", b.tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
