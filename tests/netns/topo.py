"""The end-to-end topology, built in network namespaces with veth pairs.
Used by the netns tests, the demo and bench/e2e. Everything it creates is
named with one prefix and removed by cleanup(), also after a failure.

  client --c0--w0-- wan --w1--f0-- lbd --b0--+
   10.91.0.2     .1       .1   .2     .1    |  switch (bridge)   10.91.2.0/24
                          wan --w2----------+--- be1 .11, be2 .12, be3 .13
                                 .254

IPv6 mirrors it: fd91::/64, fd91:1::/64, fd91:2::/64 with the same host
numbers. VIP 10.91.1.100 / fd91:1::100 (routed, dsr), SNAT address
10.91.2.100 / fd91:2::100. Backends route replies via lbd (routed mode);
replies from the VIP (DSR) go straight to wan by a source rule, so they
never cross lbd."""
import os
import signal
import subprocess
import time

V4 = {"c": "10.91.0.2", "w0": "10.91.0.1", "w1": "10.91.1.1", "f0": "10.91.1.2",
      "b0": "10.91.2.1", "w2": "10.91.2.254", "vip": "10.91.1.100",
      "snat": "10.91.2.100"}
V6 = {"c": "fd91::2", "w0": "fd91::1", "w1": "fd91:1::1", "f0": "fd91:1::2",
      "b0": "fd91:2::1", "w2": "fd91:2::fe", "vip": "fd91:1::100",
      "snat": "fd91:2::100"}
BACKENDS = [("be1", 11), ("be2", 12), ("be3", 13)]


def be4(n):
    return f"10.91.2.{n}"


def be6(n):
    return f"fd91:2::{n:x}"


def _term(signum, frame):
    # A timeout (tests/run, CI) sends SIGTERM: unwind, so that the caller's
    # `finally: cleanup()` removes what was built.
    raise SystemExit(128 + signum)


class Topo:
    def __init__(self, prefix=None, workdir="/tmp", queues=1):
        signal.signal(signal.SIGTERM, _term)
        # veth queues, standing in for a NIC's RSS: a sender hashes flows
        # over its TX queues. This kernel's veth delivers TX queue m to RX
        # queue m - 1 (it reads the mapping as a recorded RX queue; 0 also
        # lands on 0), so with 3 queues RX queue 0 gets about 2/3 of the
        # flows, queue 1 the rest, and queue 2 none.
        self.queues = queues
        self.p = prefix or f"lbt{os.getpid() % 100000}"
        self.workdir = workdir
        self.procs = []          # (ns, Popen) we started
        self.made = []           # namespaces we created

    def ns(self, name):
        return f"{self.p}-{name}"

    def sh(self, cmd, check=True):
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{cmd}: {r.stderr.strip()}")
        return r

    def nsx(self, name, cmd, check=True):
        return self.sh(f"ip netns exec {self.ns(name)} {cmd}", check)

    def popen(self, name, args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(name)] + args,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def veth(self, a, ia, b, ib, mtu=None):
        q = (f" numtxqueues {self.queues} numrxqueues {self.queues}"
             if self.queues > 1 else "")
        self.sh(f"ip link add {ia} netns {self.ns(a)}{q} type veth peer "
                f"name {ib} netns {self.ns(b)}{q}")
        # Every offload stays on, as operators run it: senders hand lbd
        # 64 KiB GSO skbs with their checksums still to be filled in.
        for n, i in ((a, ia), (b, ib)):
            if mtu:
                self.nsx(n, f"ip link set {i} mtu {mtu}")
            self.nsx(n, f"ip link set {i} up")

    def addr(self, n, dev, a4, a6, plen4=24, plen6=64):
        self.nsx(n, f"ip addr add {a4}/{plen4} dev {dev}")
        self.nsx(n, f"ip -6 addr add {a6}/{plen6} dev {dev} nodad")

    def namespaces(self, names):
        """Create the namespaces `names` (first removing ones of ours a
        killed run left), loopback up, no duplicate address detection."""
        for n in names:
            subprocess.run(["ip", "netns", "del", self.ns(n)],
                           capture_output=True)
        for n in names:
            self.sh(f"ip netns add {self.ns(n)}")
            self.made.append(self.ns(n))
            self.nsx(n, "ip link set lo up")
            self.nsx(n, "sysctl -qw net.ipv6.conf.all.accept_dad=0 "
                     "net.ipv6.conf.default.accept_dad=0")

    def build(self):
        self.namespaces(["client", "wan", "lbd", "sw"] + [b for b, _ in BACKENDS])
        self.nsx("sw", "ip link add br0 type bridge")
        self.nsx("sw", "ip link set br0 up")
        self.veth("client", "c0", "wan", "w0")
        self.veth("wan", "w1", "lbd", "f0")
        self.veth("lbd", "b0", "sw", "sl")
        self.veth("wan", "w2", "sw", "sw")
        self.nsx("sw", "ip link set sl master br0")
        self.nsx("sw", "ip link set sw master br0")
        self.addr("client", "c0", V4["c"], V6["c"])
        self.addr("wan", "w0", V4["w0"], V6["w0"])
        self.addr("wan", "w1", V4["w1"], V6["w1"])
        self.addr("wan", "w2", V4["w2"], V6["w2"])
        self.addr("lbd", "f0", V4["f0"], V6["f0"])
        self.addr("lbd", "b0", V4["b0"], V6["b0"])
        self.nsx("client", f"ip route add default via {V4['w0']}")
        self.nsx("client", f"ip -6 route add default via {V6['w0']}")
        self.nsx("lbd", f"ip route add default via {V4['w1']}")
        self.nsx("lbd", f"ip -6 route add default via {V6['w1']}")
        for n in ("wan", "lbd"):
            self.nsx(n, "sysctl -qw net.ipv4.ip_forward=1 "
                     "net.ipv6.conf.all.forwarding=1 "
                     "net.ipv4.conf.all.rp_filter=0 "
                     "net.ipv4.conf.default.rp_filter=0")
        # wan reaches the VIP through lbd (not via its own w2 leg).
        for b, n in BACKENDS:
            self.veth(b, "e0", "sw", f"s{n}")
            self.nsx("sw", f"ip link set s{n} master br0")
            self.addr(b, "e0", be4(n), be6(n))
            self.nsx(b, f"ip route add default via {V4['b0']}")
            self.nsx(b, f"ip -6 route add default via {V6['b0']}")
            # DSR: the VIP on loopback, never answered for on the wire,
            # and replies from it go straight to wan.
            self.nsx(b, f"ip addr add {V4['vip']}/32 dev lo")
            self.nsx(b, f"ip -6 addr add {V6['vip']}/128 dev lo")
            self.nsx(b, "sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
                     "net.ipv4.conf.all.arp_announce=2 "
                     "net.ipv4.conf.e0.arp_ignore=1 "
                     "net.ipv4.conf.e0.arp_announce=2 "
                     "net.ipv4.conf.all.rp_filter=0")
            self.nsx(b, f"ip rule add from {V4['vip']} table 100")
            self.nsx(b, f"ip route add default via {V4['w2']} table 100")
            self.nsx(b, f"ip -6 rule add from {V6['vip']} table 100")
            self.nsx(b, f"ip -6 route add default via {V6['w2']} table 100")
        return self

    def start_backends(self, ports=(80, 9090), iperf=True):
        here = os.path.dirname(os.path.abspath(__file__))
        self.logs = {}
        for b, _ in BACKENDS:
            log = os.path.join(self.workdir, f"{self.p}-{b}.log")
            open(log, "w").close()
            self.logs[b] = log
            self.popen(b, ["python3", os.path.join(here, "httpd.py"), b, log] +
                       [str(p) for p in ports], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
            if iperf:
                self.popen(b, ["iperf3", "-s", "-p", "5201"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until every server answers.
        deadline = time.time() + 10
        for b, n in BACKENDS:
            while time.time() < deadline:
                r = self.nsx(b, f"python3 -c \"import socket;"
                             f"socket.create_connection(('{be4(n)}',80),1)\"",
                             check=False)
                if r.returncode == 0:
                    break
                time.sleep(0.1)

    def leftover(self):
        """Namespaces of this topology still there (after cleanup: none)."""
        out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                             text=True).stdout.split()
        return [n for n in out if n.startswith(self.p + "-")]

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        # Deleting a namespace removes its veths (and their XDP programs).
        for n in reversed(self.made):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        for f in getattr(self, "logs", {}).values():
            try:
                os.unlink(f)
            except OSError:
                pass
