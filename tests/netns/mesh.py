"""The cluster's topology, for test_cluster_sync.py and bench-cluster: K
active lbd nodes between a client that is also the upstream router and
DSR backends, with a heartbeat network between the nodes.

  client 10.93.0.2 (one route to the VIP through the nodes; layer-4
     |              multipath hash)
  swf --- nK f0 10.93.0.1K ------- beN e1 10.93.0.3N (DSR replies, from
     |                                  the VIP on lo, straight back)
  swb --- nK b0 10.93.1.1K ------- beN e0 10.93.1.2N (the backends)
  swh --- nK hb0 169.254.78.1K     (the heartbeat network: ha-sync)

The VIP, 10.93.9.100, is on no subnet: the client reaches it through a
route (static, or BGP). Everything is named with one prefix and removed by
cleanup(), also after a failure."""
import json
import os
import subprocess
import time

from topo import Topo

HERE = os.path.dirname(os.path.abspath(__file__))
VIP = "10.93.9.100"
CLIENT = "10.93.0.2"


def node_addrs(k):
    """(front, back, heartbeat) addresses of node n<k>."""
    return f"10.93.0.{10 + k}", f"10.93.1.{10 + k}", f"169.254.78.{10 + k}"


class Mesh:
    def __init__(self, build, n_nodes, n_backends, prefix):
        self.lbd_bin = os.path.join(build, "lbd", "lbd")
        self.lbctl = os.path.join(build, "lbd", "lbctl")
        self.nodes = {f"n{k}": node_addrs(k) for k in range(1, n_nodes + 1)}
        self.backends = {f"be{k}": (f"10.93.1.{20 + k}", f"10.93.0.{30 + k}")
                         for k in range(1, n_backends + 1)}
        self.t = Topo(prefix=f"{prefix}{os.getpid() % 100000}")
        self.tmp = f"/tmp/lbd-mesh-{os.getpid()}"
        os.makedirs(self.tmp, exist_ok=True)
        self.lbd = {}
        self.key = os.path.join(self.tmp, "sync.key")

    def build(self, echo_port, web_port):
        """The namespaces; on each backend an echod.py on echo_port and an
        httpd.py on web_port."""
        t = self.t
        t.namespaces(["client", "swf", "swb", "swh", *self.nodes,
                      *self.backends])
        for sw in ("swf", "swb", "swh"):
            t.nsx(sw, "ip link add br0 type bridge")
            t.nsx(sw, "ip link set br0 up")

        def port(ns, dev, sw, p):
            t.veth(ns, dev, sw, p)
            t.nsx(sw, f"ip link set {p} master br0")
        port("client", "c0", "swf", "pc")
        t.nsx("client", f"ip addr add {CLIENT}/24 dev c0")
        t.nsx("client", "sysctl -qw net.ipv4.fib_multipath_hash_policy=1")
        for i, (n, (f, b, h)) in enumerate(self.nodes.items()):
            port(n, "f0", "swf", f"pf{i}")
            port(n, "b0", "swb", f"pb{i}")
            port(n, "hb0", "swh", f"ph{i}")
            # A switch floods a frame for a MAC it has forgotten (a dead
            # node's port went down) to every port; a node's NIC drops
            # one that is not its own, but a veth hands it to lbd's XDP
            # program all the same, and another node would forward the
            # dead one's flows before the routers move them. So the
            # nodes' ports do not take unknown unicast, as a NIC would.
            for sw, p in (("swf", f"pf{i}"), ("swb", f"pb{i}")):
                t.nsx(sw, f"bridge link set dev {p} flood off")
            t.nsx(n, f"ip addr add {f}/24 dev f0")
            t.nsx(n, f"ip addr add {b}/24 dev b0")
            t.nsx(n, f"ip addr add {h}/24 dev hb0")
        for i, (be, (back, front)) in enumerate(self.backends.items()):
            port(be, "e0", "swb", f"qb{i}")
            port(be, "e1", "swf", f"qf{i}")
            t.nsx(be, f"ip addr add {back}/24 dev e0")
            t.nsx(be, f"ip addr add {front}/32 dev e1")
            t.nsx(be, f"ip addr add {VIP}/32 dev lo")
            # The VIP is the backend's alone to answer from, never on
            # the wire; its replies go straight to the client.
            t.nsx(be, "sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
                  "net.ipv4.conf.all.arp_announce=2 "
                  "net.ipv4.conf.all.rp_filter=0")
            t.nsx(be, f"ip rule add from {VIP} table 100")
            t.nsx(be, "ip route add 10.93.0.0/24 dev e1 table 100")
            t.popen(be, ["python3", os.path.join(HERE, "echod.py"), be,
                         str(echo_port)], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            t.popen(be, ["python3", os.path.join(HERE, "httpd.py"), be,
                         "/dev/null", str(web_port)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(self.key, "w") as fp:
            fp.write("cluster-mesh-key-0123456789abcdef")
        os.chmod(self.key, 0o600)

    def conf(self, node, services, cluster="withdraw-delay 0s"):
        """A node's config: the cluster block, a sync block naming every
        other node, and `services` (text)."""
        peers = "".join(f"    peer {h}\n" for n, (_, _, h) in self.nodes.items()
                        if n != node)
        return f"""global {{
    node-id {node}
    control-socket {self.sock(node)}
    interface f0
    interface b0
    hash-seed "cluster mesh"
}}
cluster {{
    {cluster}
}}
sync {{
    interface hb0
{peers}    key-file {self.key}
}}
{services}"""

    def services(self, ports):
        """A dsr service s<PORT> on the VIP for each (port, scheduler) of
        `ports`, with every backend."""
        backends = "".join(f"    backend {b} {a}\n"
                           for b, (a, _) in self.backends.items())
        return "".join(f"""service s{port} {{
    listen {VIP} tcp {port}
    mode dsr
    scheduler {sched}
{backends}}}
""" for port, sched in ports)

    def sock(self, n):
        return os.path.join(self.tmp, f"{n}.sock")

    def start(self, n, text):
        path = os.path.join(self.tmp, f"{n}.conf")
        with open(path, "w") as fp:
            fp.write(text)
        self.lbd[n] = self.t.popen(n, [self.lbd_bin, "-d", "-f", path],
                                   stdout=open(os.path.join(
                                       self.tmp, f"{n}.log"), "a"),
                                   stderr=subprocess.STDOUT)

    def ctl(self, n, *args):
        return subprocess.run([self.lbctl, "-s", self.sock(n), *args],
                              capture_output=True, text=True).stdout

    def sync(self, n):
        """{peer heartbeat address: its entry of show sync --json}."""
        try:
            return {p["peer"]: p for p in
                    json.loads(self.ctl(n, "show", "sync", "--json"))
                    ["sync"]["peers"]}
        except (ValueError, KeyError, TypeError):
            return {}

    def meshed(self, nodes):
        """Each of `nodes` hears each other one and has its bulk."""
        for n in nodes:
            s = self.sync(n)
            for m in nodes:
                p = s.get(self.nodes[m][2], {})
                if m != n and not (p.get("peer_up") and p.get("synced")):
                    return False
        return True

    def conns(self, n, service):
        """Connections node n made for `service` (show stat)."""
        try:
            st = json.loads(self.ctl(n, "show", "stat", "--json"))
            return sum(s.get("conns", 0) for s in st.get("services", [])
                       if s.get("service") == service)
        except ValueError:
            return -1

    def bird(self, bfd_ms):
        """BIRD 2 on the router and on every node (the shipped example),
        BFD at bfd_ms x 3; cleanup() stops them. The processes."""
        t = self.t
        for n, a in self.nodes.items():
            t.nsx(n, f"ip -6 addr add fd93::{a[0].split('.')[-1]}/64 dev f0 "
                  "nodad")
        t.nsx("client", "ip -6 addr add fd93::2/64 dev c0 nodad")
        procs = []
        for ns, text in [("client", router_bird(self.nodes, bfd_ms))] + [
                (n, node_bird(a[0], bfd_ms)) for n, a in self.nodes.items()]:
            conf = os.path.join(self.tmp, f"bird-{ns}.conf")
            with open(conf, "w") as f:
                f.write(text)
            procs.append(t.popen(ns, ["bird", "-f", "-c", conf, "-s",
                                      os.path.join(self.tmp, f"bird-{ns}.ctl")],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL))
        return procs

    def paths(self):
        """The nodes the router's route to the VIP goes through."""
        out = self.t.nsx("client", f"ip -4 route show {VIP}/32",
                         check=False).stdout
        return sorted(n for n, a in self.nodes.items() if f"via {a[0]} " in out)

    def kill(self, n, sig):
        """Signal lbd on n and take its links down: a node's death."""
        self.lbd[n].send_signal(sig)
        for dev in ("f0", "b0", "hb0"):
            self.t.nsx(n, f"ip link set {dev} down")

    def log(self, n):
        try:
            with open(os.path.join(self.tmp, f"{n}.log")) as fp:
                return fp.read()[-3000:]
        except OSError:
            return ""

    def cleanup(self):
        self.t.cleanup()
        subprocess.run(["rm", "-rf", self.tmp])


# BGP timers for namespaces that start together: sessions up in a second.
TIMERS = """	connect delay time 1;
	connect retry time 1;
	error wait time 1, 2;
	hold time 6;"""


def router_bird(nodes, bfd_ms):
    """The upstream router: an eBGP session with BFD to each node, the
    learned routes into the kernel with `merge paths on` (one multipath
    route through every node that announces a prefix)."""
    peers = "".join(f"""
protocol bgp {n} {{
	local {CLIENT} as 65000;
	neighbor {a[0]} as 65001;
	bfd on;
{TIMERS}
	ipv4 {{ import all; export none; }};
}}""" for n, a in nodes.items())
    return f"""router id {CLIENT};
protocol device {{ }}
protocol kernel {{
	ipv4 {{ import none; export all; }};
	merge paths on;
}}
protocol bfd {{
	interface "c0" {{ min rx interval {bfd_ms} ms; min tx interval {bfd_ms} ms; multiplier 3; }};
}}
{peers}
"""


def node_bird(addr, bfd_ms):
    """The shipped example (conf/examples/cluster-node.bird) with this
    node's addresses and BFD interval (its IPv6 session to the router is
    configured but idle: the VIP here is IPv4)."""
    with open(os.path.join(HERE, "..", "..", "conf", "examples",
                           "cluster-node.bird")) as f:
        text = f.read()
    return (text.replace("192.0.2.11", addr).replace("192.0.2.1 ", CLIENT + " ")
            .replace("2001:db8::11", "fd93::" + addr.split(".")[-1])
            .replace("2001:db8::1 ", "fd93::2 ")
            .replace('"eth0"', '"f0"').replace("\thold time 9;", TIMERS)
            .replace("interval 100 ms", f"interval {bfd_ms} ms"))


def wait(cond, timeout, step=0.05):
    """cond()'s first true value within `timeout` seconds, else None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return None
