"""Two lbd nodes with VRRP in network namespaces: the topology and the
handles shared by the VRRP tests, `make bench-failover` and the demo.

  client --+                 +-- n1 (f0 .11 / b0 .11) --+
           |  front bridge   |                          |  back bridge
           +-----------------+-- n2 (f0 .12 / b0 .12) --+-- be1 .21
  10.92.0.0/24 + fd92::/64, VIP .100 / fd92::100     10.92.1.0/24, SNAT .100

Everything is named with one prefix and removed by cleanup()."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check, done  # noqa: E402
from topo import Topo  # noqa: E402

VIP, SNAT, BE = "10.92.0.100", "10.92.1.100", "10.92.1.21"
VIP6 = "fd92::100"
VMAC_FRONT = "00:00:5e:00:01:33"
ADVERT_MS = 100


# The echo service of be1 (port 7), snat: the long-lived connections'.
ECHO_SERVICE = f"""service echo {{
    listen {VIP} tcp 7
    mode snat
    snat-pool {SNAT}
    backend be1 {BE}:7
}}"""


def vrrp_instances(prio, specs, preempt=True):
    """Instance blocks at `prio`, one per (name, interface, vrid,
    address/plen, extra directives) of `specs`."""
    return "".join(f"""
    instance {name} {{
        interface {iface}
        vrid {vrid}
        priority {prio}
        advert-interval {ADVERT_MS}ms
        preempt {"yes" if preempt else "no"}
        virtual-address {addr}
        {extra}
    }}""" for name, iface, vrid, addr, extra in specs)


def lbd_conf(sock, prio, preempt=True, front="", back="", group="",
             glob="", tail=""):
    """`front`, `back`, `group`, `glob`: extra directives for the front
    and back instances, the vrrp-group and global; `tail`: more blocks."""
    instances = vrrp_instances(prio, (("front", "f0", 51, f"{VIP}/24", front),
                                      ("back", "b0", 52, f"{SNAT}/24", back)),
                               preempt)
    text = f"""global {{
    control-socket {sock}
    interface f0
    interface b0
    garp count 3
    garp interval 50ms
    {glob}
}}
vrrp-group edge {{{instances}
    {group}
}}
service web {{
    listen {VIP} tcp 80
    mode snat
    snat-pool {SNAT}
    scheduler rr
    backend be1 {BE}:80
}}
{ECHO_SERVICE}
service echo-routed {{
    listen {VIP} tcp 8
    mode routed
    backend be1 {BE}:7
}}
{tail}
"""
    return "".join(ln for ln in text.splitlines(True) if ln.strip())


HEALTH_PORT = 81    # be1's health server, when a test starts one
METRICS = 9180      # metrics listen, on each node's own loopback


def sync_conf(node, prio, peer, key, services=None, sync_extra=""):
    """A node of a pair with a sync block on hb0 (to `peer`, key file
    `key`), metrics on its loopback, and `services` (default: web, snat,
    health-checked on HEALTH_PORT; echo, snat, port 7), as a text for
    Net.start(text=...): {sock} stands for the control socket."""
    inst = vrrp_instances(prio, (("front", "f0", 51, f"{VIP}/24", ""),
                                 ("back", "b0", 52, f"{SNAT}/24", "")))
    if services is None:
        services = f"""service web {{
    listen {VIP} tcp 80
    mode snat
    snat-pool {SNAT}
    check http {{ port {HEALTH_PORT} interval 200ms timeout 150ms rise 1 fall 1 }}
    backend be1 {BE}:80
}}
{ECHO_SERVICE}
"""
    text = f"""global {{
    node-id {node}
    control-socket SOCK
    interface f0
    interface b0
    metrics listen 127.0.0.1:{METRICS}
}}
vrrp-group edge {{{inst}
}}
sync {{
    interface hb0
    peer {peer}
    key-file {key}{sync_extra}
}}
{services}"""
    return text.replace("{", "{{").replace("}", "}}").replace("SOCK", "{sock}")


class Net:
    def __init__(self, build, prefix="lbv"):
        self.lbd_bin = os.path.join(build, "lbd", "lbd")
        self.lbctl = os.path.join(build, "lbd", "lbctl")
        self.t = Topo(prefix=f"{prefix}{os.getpid() % 100000}")
        self.tmp = tempfile.mkdtemp(prefix="lbd-vrrp-")
        self.lbd = {}

    def build(self):
        t = self.t
        t.namespaces(["client", "n1", "n2", "swf", "swb", "be1"])
        for sw in ("swf", "swb"):
            t.nsx(sw, "ip link add br0 type bridge")
            # Learn at once, forget slowly: like a switch.
            t.nsx(sw, "ip link set br0 up")
        t.veth("client", "c0", "swf", "pc")
        t.veth("n1", "f0", "swf", "p1")
        t.veth("n2", "f0", "swf", "p2")
        t.veth("n1", "b0", "swb", "q1")
        t.veth("n2", "b0", "swb", "q2")
        t.veth("be1", "e0", "swb", "qb")
        for sw, ports in (("swf", ("pc", "p1", "p2")), ("swb", ("q1", "q2", "qb"))):
            for p in ports:
                t.nsx(sw, f"ip link set {p} master br0")
        t.nsx("client", "ip addr add 10.92.0.2/24 dev c0")
        t.nsx("client", "ip -6 addr add fd92::2/64 dev c0 nodad")
        for i, n in ((11, "n1"), (12, "n2")):
            t.nsx(n, f"ip addr add 10.92.0.{i}/24 dev f0")
            t.nsx(n, f"ip -6 addr add fd92::{i}/64 dev f0 nodad")
            t.nsx(n, f"ip addr add 10.92.1.{i}/24 dev b0")
        t.nsx("be1", f"ip addr add {BE}/24 dev e0")
        t.popen("be1", ["python3", os.path.join(HERE, "httpd.py"), "be1",
                        os.path.join(self.tmp, "be1.log"), "80"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t.popen("be1", ["python3", os.path.join(HERE, "echod.py"), "be1", "7"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Routed mode: replies to the clients go back through the master,
        # by the back instance's floating address.
        t.nsx("be1", f"ip route add 10.92.0.0/24 via {SNAT}")
        # The heartbeat link: n1 hb0 169.254.77.1 -- n2 hb0 169.254.77.2.
        t.veth("n1", "hb0", "n2", "hb0")
        t.nsx("n1", "ip addr add 169.254.77.1/30 dev hb0")
        t.nsx("n2", "ip addr add 169.254.77.2/30 dev hb0")

    def dsr_backend(self, port):
        """be1 as a DSR backend of the VIP: the VIP on its loopback, never
        answered for on the wire, an echod.py on `port`, and replies from
        the VIP sent straight to the client over a second leg on the front
        bridge, so they never cross lbd."""
        t = self.t
        t.veth("be1", "e1", "swf", "pd")
        t.nsx("swf", "ip link set pd master br0")
        t.nsx("be1", "ip addr add 10.92.0.31/32 dev e1")
        t.nsx("be1", f"ip addr add {VIP}/32 dev lo")
        t.nsx("be1", "sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
              "net.ipv4.conf.all.arp_announce=2 "
              "net.ipv4.conf.e0.arp_ignore=1 net.ipv4.conf.e1.arp_ignore=1 "
              "net.ipv4.conf.all.rp_filter=0")
        t.nsx("be1", f"ip rule add from {VIP} table 100")
        t.nsx("be1", "ip route add 10.92.0.0/24 dev e1 table 100")
        t.popen("be1", ["python3", os.path.join(HERE, "echod.py"), "be1",
                        str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, node, prio, preempt=True, text=None, **extra):
        """Start lbd on `node` with lbd_conf(...), or with `text` (a
        format string: {sock} is the control socket)."""
        sock = os.path.join(self.tmp, f"{node}.sock")
        conf = os.path.join(self.tmp, f"{node}.conf")
        with open(conf, "w") as f:
            f.write(text.format(sock=sock) if text else
                    lbd_conf(sock, prio, preempt, **extra))
        if os.path.exists(sock):
            os.unlink(sock)
        log = open(os.path.join(self.tmp, f"{node}.log"), "a")
        p = self.t.popen(node, [self.lbd_bin, "-d", "-f", conf], stdout=log,
                         stderr=subprocess.STDOUT)
        self.lbd[node] = p
        for _ in range(100):
            if "INSTANCE" in self.ctl(node, "show vrrp"):
                return True
            if p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def start_sync_pair(self, services=None, sync_extra=""):
        """n1 (priority 150) and n2 (100) with sync_conf(), a fresh key,
        and a health server on be1 (returned: stop it to fail the check).
        `sync_extra`: more lines for the sync block. True when both
        started."""
        key = os.path.join(self.tmp, "sync.key")
        with open(key, "w") as f:
            f.write("pair-test-key-0123456789abcdef01")
        os.chmod(key, 0o600)
        self.health = self.t.popen(
            "be1", ["python3", os.path.join(HERE, "httpd.py"), "be1",
                    "/dev/null", str(HEALTH_PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (self.start("n1", 150, text=sync_conf(
                    "n1", 150, "169.254.77.2", key, services,
                    sync_extra)) and
                self.start("n2", 100, text=sync_conf(
                    "n2", 100, "169.254.77.1", key, services, sync_extra)))

    def log(self, node):
        try:
            return open(os.path.join(self.tmp, f"{node}.log")).read()[-3000:]
        except OSError:
            return ""

    def ctl(self, node, *args):
        sock = os.path.join(self.tmp, f"{node}.sock")
        r = self.t.nsx(node, f"{self.lbctl} -s {sock} " + " ".join(args), check=False)
        return r.stdout + r.stderr

    def states(self, node):
        try:
            j = json.loads(self.ctl(node, "show", "vrrp", "--json"))
            return {i["instance"]: i["state"] for i in j["instances"]}
        except (ValueError, KeyError):
            return {}

    def fastpath(self, node):
        """`node`'s kernel fast-path counters (show info)."""
        try:
            j = json.loads(self.ctl(node, "show", "info", "--json"))
            return j["data_plane"]["fastpath"] or {}
        except (ValueError, KeyError, TypeError):
            return {}

    def holds(self, node, addr):
        out = self.t.nsx(node, "ip -o addr show", check=False).stdout
        return f" {addr}/" in out

    def holds_vip(self, node):
        return self.holds(node, VIP)

    def wait(self, cond, timeout, step=0.01):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if cond():
                return time.time() - t0
            time.sleep(step)
        return None

    def requests(self, n=20):
        r = self.t.nsx("client", f"python3 {HERE}/client.py requests {VIP} 80 {n}",
                       check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"ok": 0, "fail": n, "errors": r.stderr}

    def diag(self, *extra):
        """What explains lost requests: drops on both nodes, who is
        master, where the bridges put the virtual MACs."""
        out = [str(x) for x in extra]
        for n in ("n1", "n2"):
            out.append(f"{n}: {self.states(n)} errors: "
                       + self.ctl(n, "show", "errors", "--json").strip())
        out.append("client: " + self.t.nsx("client", "ip neigh",
                                           check=False).stdout.strip())
        ss = self.t.nsx("be1", "ss -tanH", check=False).stdout.splitlines()
        out.append(f"be1: {len(ss)} sockets; " + "; ".join(
            ln for ln in ss if "TIME-WAIT" not in ln)[:600])
        for n in ("n1", "n2"):
            out.append(f"{n} conns: " + self.ctl(n, "show", "conn")[:800])
        for sw in ("swf", "swb"):
            fdb = self.t.nsx(sw, "bridge fdb show br br0", check=False).stdout
            out += [f"{sw}: {ln}" for ln in fdb.splitlines()
                    if ln.startswith("00:00:5e")]
        return "\n".join(out)

    def client_mac(self):
        out = self.t.nsx("client", f"ip neigh show {VIP}", check=False).stdout
        return out.split("lladdr ")[1].split()[0] if "lladdr" in out else ""

    def vmac_tx(self, node):
        """Frames sent from the back instance's macvlan on `node`."""
        out = self.t.nsx(node, "ip -j -s link show", check=False).stdout
        try:
            for link in json.loads(out):
                if link["ifname"].startswith("vr4-52-"):
                    return link["stats64"]["tx"]["packets"]
        except (ValueError, KeyError):
            pass
        return None

    def vrrp(self, node):
        """`node`'s show vrrp --json ({} when it does not answer)."""
        try:
            return json.loads(self.ctl(node, "show", "vrrp", "--json"))
        except ValueError:
            return {}

    def transitions(self, node):
        """{instance: transitions} on `node`."""
        return {i["instance"]: i["transitions"]
                for i in self.vrrp(node).get("instances", [])}

    def end(self, procs):
        """After a test, also a failed one: the processes it started
        (`procs`) and its namespaces."""
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.cleanup()

    def sniff(self, sw, ports):
        """vmac_sniff.py on switch `sw`'s `ports`, ready; its result with
        sniffed()."""
        p = self.t.popen(sw, ["python3", os.path.join(HERE, "vmac_sniff.py")]
                         + ports, stdout=subprocess.PIPE, text=True)
        p.stdout.readline()     # "ready"
        return p

    @staticmethod
    def sniffed(p):
        """Stop a sniff(): {port: {"frames": n, "kinds": {...}}}."""
        p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
            return json.loads(out.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            return {}

    def stop(self, node, sig=signal.SIGTERM):
        p = self.lbd.pop(node, None)
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for n in list(self.lbd):
            self.stop(n, signal.SIGKILL)
        self.t.cleanup()
        subprocess.run(["rm", "-rf", self.tmp])


def master_both(net, node):
    s = net.states(node)
    return s.get("front") == "master" and s.get("back") == "master"


def finish(net):
    """After net.cleanup(): nothing of ours is left. Ends the TAP output."""
    left = net.t.leftover()
    check(not left, "every namespace is removed", left)
    return done()
