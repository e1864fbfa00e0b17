#!/usr/bin/env python3
"""Tunnelled dsr (`mode dsr tunnel ipip|gue`) to backends behind a router,
not on lbd's segment (topo.py, plus two namespaces behind wan):

  client --- wan --- lbd            far1 10.91.3.11 / fd91:3::11  (via w3)
              |  \\
              |   +-- far2 10.91.4.12 / fd91:4::12  (via w4)

Each far backend holds the VIPs on its loopback and answers the client
straight through wan; lbd sees only the client's side. This kernel has no
ipip, ip6_tunnel or fou (CONFIG_NET_IPIP, CONFIG_IPV6_TUNNEL and
CONFIG_NET_FOU off), so decap.py takes the backends' tunnels off into a
TUN device, as those devices would.

  * ipip, GUE (with `source PREFIX`) and ip6ip6: 20 requests each answered
    by both far backends, which saw the client's own address;
  * the outer sources: ipip from lbd's front address; GUE from the prefix,
    spread over several addresses and source ports;
  * a 5 MB download: the reply never enters lbd;
  * an iperf3 upload from a TSO sender: the kernel fast path wraps it
    (its forwarded count grows), every offload on;
  * path MTU: a 1500-byte UDP datagram with DF does not fit once wrapped;
    lbd answers "fragmentation needed" with 1472 (1500 less GUE's 28), the
    client's kernel learns it (sending 1472 again fails with EMSGSIZE) and
    a 1400-byte one is answered.

usage: test_tunnel.py BUILD_DIR"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single  # noqa: E402
from topo import V4, V6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FAR = [("far1", 3, 11), ("far2", 4, 12)]
GUE_PORT = 6080
IPERF_SECONDS = 3


def far4(net, host):
    return f"10.91.{net}.{host}"


def far6(net, host):
    return f"fd91:{net}::{host:x}"


def config(sock):
    b4 = "\n".join(f"    backend {n} {far4(net, h)}" for n, net, h in FAR)
    b6 = "\n".join(f"    backend {n} [{far6(net, h)}]:80" for n, net, h in FAR)
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
service web-ipip {{
    listen {V4['vip']} tcp 80
    mode dsr tunnel ipip
{b4}
}}
service web-gue {{
    listen {V4['vip']} tcp 8081
    mode dsr tunnel gue port {GUE_PORT} source 172.31.0.0/16
{b4}
}}
service web6 {{
    listen {V6['vip']} tcp 80
    mode dsr tunnel ipip
{b6}
}}
service bulk {{
    listen {V4['vip']} tcp 5201
    mode dsr tunnel ipip
    backend far1 {far4(3, 11)}
}}
service dns {{
    listen {V4['vip']} udp 5353
    mode dsr tunnel gue port {GUE_PORT}
    backend far1 {far4(3, 11)}
}}
"""


def add_far(n):
    """The far backends: behind wan, the VIPs on loopback, decap.py and
    the servers. Returns {name: stats file}."""
    t = n.t
    stats = {}
    t.namespaces([f for f, _, _ in FAR])
    for f, net, h in FAR:
        t.veth("wan", f"w{net}", f, "e0")
        t.addr("wan", f"w{net}", far4(net, 1), far6(net, 1))
        t.addr(f, "e0", far4(net, h), far6(net, h))
        t.nsx(f, f"ip route add default via {far4(net, 1)}")
        t.nsx(f, f"ip -6 route add default via {far6(net, 1)}")
        t.nsx(f, f"ip addr add {V4['vip']}/32 dev lo")
        t.nsx(f, f"ip -6 addr add {V6['vip']}/128 dev lo")
        t.nsx(f, "sysctl -qw net.ipv4.conf.all.rp_filter=0 "
              "net.ipv4.conf.default.rp_filter=0")
        stats[f] = os.path.join(n.tmp, f"{f}.decap.json")
        t.popen(f, ["python3", os.path.join(HERE, "decap.py"), "tun0",
                    str(GUE_PORT), stats[f]], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        n.logs[f] = os.path.join(n.tmp, f"{f}.log")
        open(n.logs[f], "w").close()
        t.popen(f, ["python3", os.path.join(HERE, "httpd.py"), f, n.logs[f],
                    "80", "8081"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        t.popen(f, ["python3", os.path.join(HERE, "udpd.py"), f,
                    V4["vip"], "5353"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
    t.popen("far1", ["iperf3", "-s", "-p", "5201"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    for f, net, h in FAR:
        check(n.wait(lambda: t.nsx(f, "ip link set tun0 up",
                                   check=False).returncode == 0, 10)
              is not None, f"{f}: decap.py's TUN device is up")
        n.wait(lambda: t.nsx(f, "python3 -c \"import socket;socket."
                             f"create_connection(('{far4(net, h)}',80),1)\"",
                             check=False).returncode == 0, 10)
    return stats


def decap_stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def counter(t, ns, dev, what):
    return int(t.nsx(ns, f"cat /sys/class/net/{dev}/statistics/{what}")
               .stdout)


UDP_PROBE = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)   # IP_MTU_DISCOVER: IP_PMTUDISC_DO
s.settimeout(1)
s.connect((sys.argv[1], 5353))
out = []
for size in (1472, 1472, 1400):
    try:
        s.send(b"x" * size)
        try:
            out.append("answered %d" % len(s.recv(4096)))
        except socket.timeout:
            out.append("silence")
    except OSError as e:
        out.append("error %d" % e.errno)
print(",".join(out))
"""


def main():
    n = Single(BUILD)
    t = n.t
    try:
        n.build()
        stats = add_far(n)
        check(n.start(config(n.sock)), "lbd starts", n.log()[-2000:])

        # Path MTU once wrapped: first, before any TCP through the VIP
        # teaches the client ipip's 1480.
        e0 = n.json("show", "errors")
        r = t.nsx("client", f"python3 -c '{UDP_PROBE}' {V4['vip']}",
                  check=False)
        cache = t.nsx("client", f"ip route get {V4['vip']}",
                      check=False).stdout
        e1 = n.json("show", "errors")
        got = r.stdout.strip().split(",")
        # The first: no answer (the ICMP error reaches the connected
        # socket as EMSGSIZE, or nothing); the second is refused by the
        # client's own kernel.
        check(len(got) == 3 and got[0] in ("silence", "error 90") and
              got[1] == "error 90" and got[2].startswith("answered") and
              "mtu 1472" in cache and
              e1.get("too_big", 0) > e0.get("too_big", 0) and
              e1.get("icmp_sent", 0) > e0.get("icmp_sent", 0),
              "a 1500-byte datagram with DF that does not fit once wrapped: "
              "lbd says fragmentation needed with 1472, the client's kernel "
              "learns it (EMSGSIZE after) and a 1400-byte one is answered",
              (r.stdout, r.stderr, cache.strip(), e0.get("too_big"),
               e1.get("too_big")))

        # Requests through each tunnel, from the client's own address.
        for svc, url in (("web-ipip", f"http://{V4['vip']}/"),
                         ("web-gue", f"http://{V4['vip']}:8081/"),
                         ("web6", f"http://[{V6['vip']}]/")):
            for f in n.logs:
                open(n.logs[f], "w").close()
            codes = [t.nsx("client", "curl -s -o /dev/null -w '%{http_code}' "
                           f"--max-time 5 {url}", check=False).stdout
                     for _ in range(20)]
            seen = {f: [a.replace("::ffff:", "") for a in
                        open(n.logs[f]).read().split()] for f, _, _ in FAR}
            client = V6["c"] if svc == "web6" else V4["c"]
            check(codes == ["200"] * 20 and all(seen.values()) and
                  all(a == client for v in seen.values() for a in v),
                  f"{svc}: 20 requests through the tunnel are answered by "
                  "both far backends, which saw the client's own address",
                  (codes, {f: len(v) for f, v in seen.items()},
                   {f: decap_stats(p) for f, p in stats.items()}))
        time.sleep(0.5)
        st = {f: decap_stats(p) for f, p in stats.items()}
        srcs = {}
        for s in st.values():
            for a, k in s.get("sources", {}).items():
                srcs[a] = srcs.get(a, 0) + k
        gue_srcs = [a for a in srcs if a.startswith("172.31.")]
        sports = {p for s in st.values() for p in s.get("sports", [])}
        check(all(s.get("ipip", 0) > 0 and s.get("ip6ip6", 0) > 0 and
                  s.get("gue", 0) > 0 and s.get("bad", 1) == 0
                  for s in st.values()) and
              srcs.get(V4["f0"], 0) > 0 and srcs.get(V6["f0"], 0) > 0 and
              len(gue_srcs) >= 3 and len(sports) >= 3,
              "outer sources: ipip and ip6ip6 from lbd's front address, GUE "
              f"from 172.31.0.0/16 ({len(gue_srcs)} addresses, "
              f"{len(sports)} source ports for 20 connections)",
              (st, srcs))

        # The reply goes straight to the client, never through lbd.
        rx0 = counter(t, "lbd", "f0", "rx_bytes")
        r = t.nsx("client", "curl -s -o /dev/null -w '%{http_code} "
                  "%{size_download}' --max-time 20 "
                  f"http://{V4['vip']}/big?n=5000000", check=False)
        rx = counter(t, "lbd", "f0", "rx_bytes") - rx0
        check(r.stdout == "200 5000000" and rx < 1000000,
              f"a 5 MB download completes and its reply never enters lbd "
              f"(lbd received {rx} bytes meanwhile)", (r.stdout, rx))

        # A TSO sender's upload: the kernel fast path wraps its GSO skbs.
        def fastpath():
            return (n.json("show", "info").get("data_plane") or {}) \
                .get("fastpath") or {}
        fp0 = fastpath()
        r = t.nsx("client", f"timeout {IPERF_SECONDS + 15} iperf3 -c "
                  f"{V4['vip']} -p 5201 -t {IPERF_SECONDS} -J", check=False)
        try:
            j = json.loads(r.stdout)
            bps = j["end"]["sum_received"]["bits_per_second"]
        except (ValueError, KeyError):
            bps = 0
        fp1 = fastpath()
        fwd = fp1.get("forwarded", 0) - fp0.get("forwarded", 0)
        far1 = decap_stats(stats["far1"])
        check(r.returncode == 0 and bps > 0 and fwd > 100 and
              far1.get("bad", 1) == 0,
              f"iperf3 upload through ipip ({bps / 1e9:.2f} Gbit/s, bound by "
              f"decap.py): {fwd} packets or GSO skbs wrapped by the kernel "
              "fast path",
              ((r.stdout or "")[-300:], r.stderr, fp0, fp1, far1))

        # show stat names the tunnel.
        out = n.ctl("show", "stat")
        check("dsr/ipip" in out and "dsr/gue" in out,
              "show stat's MODE column says dsr/ipip and dsr/gue", out)
        check(n.lbd.poll() is None, "lbd is still running", n.log()[-1000:])
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
