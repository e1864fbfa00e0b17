#!/usr/bin/env python3
"""The example configs, run as a user would: each of conf/examples/routed.conf,
snat.conf and dsr.conf is checked with `lbd -t` in place (a fresh clone's
modes) and then run as written on the network its comments describe, built
here in namespaces: eth0 (and eth1) named as in the file, the node's own
addresses as the comments give them, backends at the file's addresses
serving what the file's health check asks. Only the control socket is moved
into a temporary directory (the examples use the system's). A client then
fetches from the first IPv4 service through its VIP and must be answered by
the backends, spread over more than one, each request seen by lbd.

The HA pair (ha-lb1.conf, ha-lb2.conf) runs the same way on two nodes with
the key as a fresh clone has it: lb1 becomes master and forwards; killed,
lb2 takes over and forwards.

usage: test_examples.py BUILD_DIR"""
import json
import os
import re
import shutil
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

SRC = os.path.join(HERE, "..", "..")
EXAMPLES = os.path.join(SRC, "conf", "examples")
REQUESTS = 30

# Per example: the node's interfaces (name, its address, "client" when the
# client sits on that segment, else the backends do), the backends (name,
# address, the port their server listens on, "tls" for HTTPS), extra set-up
# per backend, and the request the client makes.
EXAMPLES_NET = {
    "routed.conf": {
        "ifaces": [("eth0", "198.51.100.1/24", "client"),
                   ("eth1", "10.0.0.1/24", "backends")],
        "client": "198.51.100.2/24",
        "backends": [("web1", "10.0.0.11", 80), ("web2", "10.0.0.12", 80),
                     ("web3", "10.0.0.13", 80)],
        "route": "default via 10.0.0.1",
        "url": "http://198.51.100.10/",
    },
    "snat.conf": {
        "ifaces": [("eth0", "192.0.2.1/24", "both")],
        "client": "192.0.2.50/24",
        "backends": [("api1", "192.0.2.11", 8443, "tls"),
                     ("api2", "192.0.2.12", 8443, "tls"),
                     ("api3", "192.0.2.13", 8443, "tls")],
        "url": "https://192.0.2.80/",
        # api3 has weight 0 in the file: it takes nothing.
        "serving": ("api1", "api2"),
        "seen_from": ("192.0.2.200", "192.0.2.201"),
    },
    "dsr.conf": {
        "ifaces": [("eth0", "203.0.113.1/24", "both")],
        "client": "203.0.113.50/24",
        "backends": [("edge1", "203.0.113.21", 443),
                     ("edge2", "203.0.113.22", 443),
                     ("edge3", "203.0.113.23", 443)],
        # As the file's comment says: the VIP on loopback, no ARP for it.
        "vip_on_lo": "203.0.113.10/32",
        "url": "http://203.0.113.10:443/",
    },
}


def cert(tmp):
    c, k = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", k, "-out", c, "-days", "2", "-subj",
                    "/CN=api.example.net"], check=True, capture_output=True)
    return c, k


def run_example(build, name, net, tmp):
    lbd_bin = os.path.join(build, "lbd", "lbd")
    lbctl_bin = os.path.join(build, "lbd", "lbctl")
    path = os.path.join(EXAMPLES, name)

    p = subprocess.run([lbd_bin, "-t", "-f", path], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and "error" not in p.stderr and
          "forward nothing" not in p.stderr,
          f"{name}: lbd -t -f conf/examples/{name} passes, and says the file "
          "forwards", p.stdout + p.stderr)

    t = Topo(prefix=f"lbx{os.getpid() % 100000}")
    logf = open(os.path.join(tmp, f"{name}.log"), "w")
    try:
        bes = [b[0] for b in net["backends"]]
        t.namespaces(["lb", "cl", "sw"] + bes)
        # A bridge per segment, named after the node's interface on it.
        for i, (dev, addr, side) in enumerate(net["ifaces"]):
            t.nsx("sw", f"ip link add br{i} type bridge")
            t.nsx("sw", f"ip link set br{i} up")
            t.veth("lb", dev, "sw", f"p{i}")
            t.nsx("sw", f"ip link set p{i} master br{i}")
            t.nsx("lb", f"ip addr add {addr} dev {dev}")
            if side in ("client", "both"):
                t.veth("cl", "c0", "sw", "pc")
                t.nsx("sw", f"ip link set pc master br{i}")
                t.nsx("cl", f"ip addr add {net['client']} dev c0")
            if side in ("backends", "both"):
                be_br = f"br{i}"
        for b, addr, port, *tls in net["backends"]:
            t.veth(b, "e0", "sw", f"q{b}")
            t.nsx("sw", f"ip link set q{b} master {be_br}")
            t.nsx(b, f"ip addr add {addr}/24 dev e0")
            if "route" in net:
                t.nsx(b, f"ip route add {net['route']}")
            if "vip_on_lo" in net:
                t.nsx(b, f"ip addr add {net['vip_on_lo']} dev lo")
                t.nsx(b, "sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
                      "net.ipv4.conf.all.arp_announce=2")
            log = os.path.join(tmp, f"{b}.log")
            open(log, "w").close()
            args = ["python3", os.path.join(HERE, "httpd.py")]
            if tls:
                args += ["--tls", *cert(tmp)]
            t.popen(b, args + [b, log, str(port)], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)

        # The file as written; only the control socket moves.
        sock = os.path.join(tmp, f"{name}.sock")
        conf = os.path.join(tmp, name)
        as_written(path, sock, conf)
        lbd = t.popen("lb", [lbd_bin, "-f", conf], stdout=logf,
                      stderr=subprocess.STDOUT)

        def ctl(*args):
            return t.nsx("lb", f"{lbctl_bin} -s {sock} " + " ".join(args),
                         check=False).stdout

        serving = net.get("serving", bes)

        def up():
            try:
                rows = json.loads(ctl("show", "stat", "--json"))["backends"]
            except (ValueError, KeyError):
                return set()
            return {r["backend"].split("/")[1] for r in rows
                    if r["state"] == "up"}

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and lbd.poll() is None and \
                not set(serving) <= up():
            time.sleep(0.2)
        info = ctl("show", "info")
        check(lbd.poll() is None and "data-plane" in info,
              f"{name}: lbd runs the file with its data plane", info)

        got, ok = {}, 0
        for _ in range(REQUESTS):
            r = t.nsx("cl", f"curl -sk --max-time 5 {net['url']}", check=False)
            if r.returncode == 0 and r.stdout.strip() in bes:
                ok += 1
                got[r.stdout.strip()] = got.get(r.stdout.strip(), 0) + 1
        check(ok == REQUESTS and len(got) >= 2 and set(got) <= set(serving),
              f"{name}: {REQUESTS} requests to {net['url']} answered by the "
              f"backends ({got})", up())
        seen = set()
        for b in bes:
            with open(os.path.join(tmp, f"{b}.log")) as f:
                seen |= {ln.strip().removeprefix("::ffff:") for ln in f}
        # The health checks come from the node's own addresses.
        seen -= {a.split("/")[0] for _, a, _ in net["ifaces"]}
        want = set(net.get("seen_from", (net["client"].split("/")[0],)))
        check(seen and seen <= want,
              f"{name}: the backends saw {sorted(want)}", seen)
        stat = ctl("show", "stat", "--json")
        try:
            conns = sum(r["conns"] for r in json.loads(stat)["backends"])
        except (ValueError, KeyError):
            conns = 0
        check(conns == REQUESTS,
              f"{name}: lbd counted the connections ({conns})", stat[:400])
    finally:
        t.cleanup()     # stops what it started, lbd too
        logf.close()
    left = t.leftover()
    check(not left, f"{name}: every namespace is removed", left)


def as_written(path, sock, out):
    """The example at `path` into `out`, its control socket moved to
    `sock`; nothing else changes."""
    with open(path) as f:
        text = f.read()
    with open(out, "w") as f:
        f.write(re.sub(r"^global \{\n", f"global {{\n    control-socket {sock}\n",
                       text, count=1, flags=re.M))


def run_pair(build, tmp):
    """ha-lb1.conf and ha-lb2.conf on the network their comments give."""
    lbd_bin = os.path.join(build, "lbd", "lbd")
    lbctl_bin = os.path.join(build, "lbd", "lbctl")
    t = Topo(prefix=f"lbp{os.getpid() % 100000}")
    nodes = {"lb1": (2, "169.254.77.1"), "lb2": (3, "169.254.77.2")}
    procs = {}
    try:
        t.namespaces(["lb1", "lb2", "cl", "sw", "web1", "web2"])
        for br in ("front", "back"):
            t.nsx("sw", f"ip link add {br} type bridge")
            t.nsx("sw", f"ip link set {br} up")
        t.veth("cl", "c0", "sw", "pc")
        t.nsx("sw", "ip link set pc master front")
        t.nsx("cl", "ip addr add 198.51.100.50/24 dev c0")
        for node, (n, hb) in nodes.items():
            t.veth(node, "eth0", "sw", f"f{n}")
            t.veth(node, "eth1", "sw", f"b{n}")
            t.nsx("sw", f"ip link set f{n} master front")
            t.nsx("sw", f"ip link set b{n} master back")
            t.nsx(node, f"ip addr add 198.51.100.{n}/24 dev eth0")
            t.nsx(node, f"ip addr add 10.0.0.{n}/24 dev eth1")
        t.veth("lb1", "hb0", "lb2", "hb0")
        for node, (n, hb) in nodes.items():
            t.nsx(node, f"ip addr add {hb}/30 dev hb0")
        for b, n in (("web1", 11), ("web2", 12)):
            t.veth(b, "e0", "sw", f"q{n}")
            t.nsx("sw", f"ip link set q{n} master back")
            t.nsx(b, f"ip addr add 10.0.0.{n}/24 dev e0")
            t.nsx(b, "ip route add default via 10.0.0.1")
            log = os.path.join(tmp, f"{b}.log")
            open(log, "w").close()
            t.popen(b, ["python3", os.path.join(HERE, "httpd.py"), b, log,
                        "80"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
        # The files as written, beside the demo key as git leaves it.
        shutil.copy(os.path.join(EXAMPLES, "sync.key"), tmp)
        socks = {}
        for node in nodes:
            socks[node] = os.path.join(tmp, f"{node}.sock")
            conf = os.path.join(tmp, f"ha-{node}.conf")
            as_written(os.path.join(EXAMPLES, f"ha-{node}.conf"), socks[node],
                       conf)
            procs[node] = t.popen(node, [lbd_bin, "-f", conf], stdout=open(
                os.path.join(tmp, f"{node}.log"), "w"), stderr=subprocess.STDOUT)

        def state(node):
            r = t.nsx(node, f"{lbctl_bin} -s {socks[node]} show vrrp --json",
                      check=False)
            try:
                return {g["group"]: g["state"] for g in
                        json.loads(r.stdout)["groups"]}.get("edge")
            except (ValueError, KeyError):
                return None

        def up(node):
            r = t.nsx(node, f"{lbctl_bin} -s {socks[node]} show stat --json",
                      check=False)
            try:
                return sum(b["state"] == "up" for b in
                           json.loads(r.stdout)["backends"]
                           if b["backend"].startswith("web/"))
            except (ValueError, KeyError):
                return 0

        def fetch(n):
            got = {}
            for _ in range(n):
                r = t.nsx("cl", "curl -s --max-time 5 http://198.51.100.10/",
                          check=False)
                got[r.stdout.strip()] = got.get(r.stdout.strip(), 0) + 1
            return got

        wait(lambda: state("lb1") == "master" and state("lb2") == "backup"
             and up("lb1") == 2, 60)
        got = fetch(20)
        check(state("lb1") == "master" and state("lb2") == "backup" and
              set(got) == {"web1", "web2"} and sum(got.values()) == 20,
              f"ha-lb1.conf and ha-lb2.conf as written: lb1 master, 20 "
              f"requests to 198.51.100.10 answered by web1 and web2 ({got})",
              (state("lb1"), state("lb2")))
        procs["lb1"].send_signal(signal.SIGKILL)
        procs["lb1"].wait()
        wait(lambda: state("lb2") == "master" and up("lb2") == 2, 30)
        got = fetch(20)
        check(state("lb2") == "master" and set(got) == {"web1", "web2"} and
              sum(got.values()) == 20,
              f"lb1 killed: lb2 master, 20 requests answered ({got})",
              state("lb2"))
    finally:
        t.cleanup()     # stops what it started, both lbds too
    left = t.leftover()
    check(not left, "the pair: every namespace is removed", left)


def wait(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        time.sleep(0.2)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    tmp = tempfile.mkdtemp(prefix="lbd-examples.")
    try:
        for name, net in EXAMPLES_NET.items():
            run_example(build, name, net, tmp)
        run_pair(build, tmp)
    finally:
        subprocess.run(["rm", "-rf", tmp])
    return done()


if __name__ == "__main__":
    sys.exit(main())
