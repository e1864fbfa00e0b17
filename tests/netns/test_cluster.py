#!/usr/bin/env python3
"""Route health injection with a real BGP speaker (topo.py, plus BIRD 2 on
the wan router and on the lbd node, the node's from the shipped example
conf/examples/cluster-node.bird, BFD on both):

  lbd writes its VIP into table 201 (`cluster { announce-table 201 }`);
  the node's BIRD learns the table and announces it over eBGP to the wan
  router's BIRD, which puts it into wan's kernel. The VIP 10.91.9.100 is on
  no subnet: wan reaches it only by what BGP says.

  * the route appears at wan, and requests through it are answered; the
    IPv6 VIP's too, over the example's IPv6 session;
  * a snat service's pool: this node's address (`snat-addresses`) as it
    is, another node's at metric 1024 and, through the example's filter,
    with the AS path prepended;
  * every backend failing its check withdraws it (show cluster says why),
    and it comes back with them;
  * lbctl cluster drain withdraws it, cluster resume brings it back;
  * a reload to another announce-table moves the route there, and back;
  * SIGTERM: withdrawn at wan while lbd still forwards (withdraw-delay),
    then lbd exits 0;
  * SIGKILL: the route stays (nobody removed it) until `lbd --withdraw`,
    what the packaged unit's ExecStopPost runs; a new lbd starts from an
    empty table.

usage: test_cluster.py BUILD_DIR"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single, HEALTH_PORT  # noqa: E402
from topo import BACKENDS, V4, V6, be4, be6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
VIP = "10.91.9.100"
VIP6 = "fd91:9::100"
TABLE = 201
# A snat service's pool: 201 is this node's (cluster snat-addresses), 202
# another node's, which this one announces at a lower preference.
SNAT_OWN, SNAT_PEER = "10.91.9.201", "10.91.9.202"

BGP_TIMERS = """	connect delay time 1;
	connect retry time 1;
	error wait time 1, 2;
	hold time 6;"""

ROUTER = f"""router id {V4['w1']};
protocol device {{ }}
protocol kernel {{
	ipv4 {{ import none; export all; }};
	merge paths on;
}}
protocol kernel {{
	ipv6 {{ import none; export all; }};
	merge paths on;
}}
protocol bfd {{
	interface "w1" {{ min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }};
}}
protocol bgp lb1 {{
	local {V4['w1']} as 65000;
	neighbor {V4['f0']} as 65001;
	bfd on;
{BGP_TIMERS}
	ipv4 {{ import all; export none; }};
}}
protocol bgp lb1v6 {{
	local {V6['w1']} as 65000;
	neighbor {V6['f0']} as 65001;
	bfd on;
{BGP_TIMERS}
	ipv6 {{ import all; export none; }};
}}
"""



def node_bird():
    """The shipped example (conf/examples/cluster-node.bird) with this
    topology's addresses and interface, and quicker BGP timers for a
    test: what an operator would run."""
    with open(os.path.join(HERE, "..", "..", "conf", "examples",
                           "cluster-node.bird")) as f:
        text = f.read()
    text = (text.replace("192.0.2.11", V4["f0"]).replace("192.0.2.1 ",
            V4["w1"] + " ").replace("2001:db8::11", V6["f0"])
            .replace("2001:db8::1 ", V6["w1"] + " ").replace('"eth0"', '"f0"')
            .replace("\thold time 9;", BGP_TIMERS))
    assert V4["f0"] in text and V4["w1"] in text and '"f0"' in text and \
        "connect delay time" in text, "the example changed shape"
    return text


def config(sock, table=TABLE):
    backends = "\n".join(f"    backend {b} {be4(n)}:80" for b, n in BACKENDS)
    backends6 = "\n".join(f"    backend {b} [{be6(n)}]:80" for b, n in BACKENDS)
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
cluster {{
    announce-table {table}
    withdraw-delay 2s
    snat-addresses {SNAT_OWN}
}}
service app {{
    listen {VIP} tcp 8080
    mode snat
    snat-pool {SNAT_OWN} {SNAT_PEER}
    check http {{ port {HEALTH_PORT} interval 200ms timeout 150ms rise 1 fall 1 }}
{backends}
}}
service web {{
    listen {VIP} tcp 80
    check http {{ port {HEALTH_PORT} interval 200ms timeout 150ms rise 1 fall 1 }}
{backends}
}}
service web6 {{
    listen {VIP6} tcp 80
    check http {{ port {HEALTH_PORT} interval 200ms timeout 150ms rise 1 fall 1 }}
{backends6}
}}
"""


def main():
    n = Single(BUILD)
    t = n.t

    def at_wan():
        return t.nsx("wan", f"ip -4 route show {VIP}/32", check=False).stdout

    def routed():
        return f"via {V4['f0']}" in at_wan()

    def routed6():
        return f"via {V6['f0']}" in t.nsx(
            "wan", f"ip -6 route show {VIP6}/128", check=False).stdout

    def announced():
        """VIPs announced (the SNAT addresses stay through a drain)."""
        return sum(1 for p in n.json("show", "cluster").get("prefixes", [])
                   if p.get("announced") and p.get("reason") != "snat address"
                   and not p.get("reason", "").startswith("another"))

    def birdc(cmd):
        return t.nsx("wan", "birdc -s " + os.path.join(n.tmp, "bird-wan.ctl")
                     + " " + cmd, check=False).stdout

    def curl():
        return t.nsx("client", "curl -s -o /dev/null -w '%{http_code}' "
                     f"--max-time 2 http://{VIP}/", check=False).stdout

    try:
        n.build()
        birds = {}
        for ns, text in (("wan", ROUTER), ("lbd", node_bird())):
            conf = os.path.join(n.tmp, f"bird-{ns}.conf")
            with open(conf, "w") as f:
                f.write(text)
            birds[ns] = t.popen(ns, ["bird", "-f", "-c", conf, "-s",
                                     os.path.join(n.tmp, f"bird-{ns}.ctl"),
                                     "-P", os.path.join(n.tmp, f"bird-{ns}.pid")],
                                stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(n.tmp, f"bird-{ns}.log"),
                                            "w"))
        check(n.start(config(n.sock)), "lbd starts as a cluster node",
              n.log()[-2000:])
        took = n.wait(routed, 30)
        check(took is not None, f"the VIP reaches wan over BGP from the "
              f"node's BIRD ({took:.1f} s after lbd started)" if took else
              "the VIP reaches wan over BGP",
              (at_wan(), t.nsx("lbd", f"ip route show table {TABLE}",
                               check=False).stdout,
               open(os.path.join(n.tmp, "bird-lbd.log")).read()[-1000:]))
        def bfd_up():
            return " Up " in t.nsx("wan", "birdc -s " + os.path.join(
                n.tmp, "bird-wan.ctl") + " show bfd sessions",
                check=False).stdout
        check(n.wait(bfd_up, 10) is not None, "BFD between the router and "
              "the node is up (the example's 100 ms x 3)",
              t.nsx("wan", "birdc -s " + os.path.join(n.tmp, "bird-wan.ctl")
                    + " show bfd sessions", check=False).stdout)
        # The SNAT addresses: ours as it is, the other node's at metric
        # 1024, which the example exports with a longer AS path.
        def paths():
            own = birdc(f"show route {SNAT_OWN}/32 all")
            peer = birdc(f"show route {SNAT_PEER}/32 all")
            return (own, peer) if "BGP.as_path: 65001\n" in own and \
                "BGP.as_path: 65001 65001" in peer else None
        got = n.wait(paths, 10)
        tbl = t.nsx("lbd", f"ip route show table {TABLE}", check=False).stdout
        lines = {ln.split()[1]: ln for ln in tbl.splitlines()
                 if ln.startswith("blackhole ")}
        check(got is not None and "metric 1024" in lines.get(SNAT_PEER, "")
              and SNAT_OWN in lines and "metric" not in lines[SNAT_OWN],
              "this node's SNAT address reaches wan as it is, another "
              "node's (in the pool, not in snat-addresses) at route metric "
              "1024, exported with the AS path prepended: the routers keep "
              "its replies on its own node while it lives", (tbl, got or
                                                              (birdc(f"show route {SNAT_PEER}/32 all"),)))
        codes = [curl() for _ in range(10)]
        check(codes == ["200"] * 10, "10 requests through the announced VIP "
              "are answered", codes)
        took6 = n.wait(routed6, 20)
        c6 = t.nsx("client", "curl -s -o /dev/null -w '%{http_code}' "
                   f"--max-time 2 http://[{VIP6}]/", check=False).stdout
        check(took6 is not None and c6 == "200", "the IPv6 VIP too, over "
              "the example's IPv6 session, and a request through it",
              (t.nsx("wan", f"ip -6 route show {VIP6}/128", check=False).stdout,
               c6))

        # Every backend failing: withdrawn, and back with them.
        for b, _ in BACKENDS:
            n.stop_health(b)
        gone = n.wait(lambda: not routed() and not routed6(), 15)
        sc = n.json("show", "cluster")
        why = {p.get("reason") for p in sc.get("prefixes", [])
               if p.get("prefix", "").split("/")[0] in (VIP, VIP6)}
        check(gone is not None and why == {"no backend takes new connections"},
              f"every backend failing its check: withdrawn at wan in "
              f"{gone or 0:.1f} s, show cluster says why", (at_wan(), sc))
        for b, _ in BACKENDS:
            n.start_health(b)
        back = n.wait(lambda: routed() and routed6(), 15)
        check(back is not None and curl() == "200", f"the backends back: "
              f"announced again ({back or 0:.1f} s)", (at_wan(), n.ctl("show",
                                                                         "cluster")))

        # Drain and resume.
        out = n.ctl("cluster", "drain")
        gone = n.wait(lambda: not routed(), 10)
        check(gone is not None and "drained" in out and announced() == 0,
              f"cluster drain: withdrawn at wan in {gone or 0:.1f} s",
              (out, at_wan()))
        n.ctl("cluster", "resume")
        back = n.wait(routed, 10)
        check(back is not None and curl() == "200",
              f"cluster resume: announced again ({back or 0:.1f} s)", at_wan())

        # A reload to another table moves the routes there.
        def table(k):
            return t.nsx("lbd", f"ip route show table {k}", check=False).stdout
        n.write_conf(config(n.sock, TABLE + 1))
        out = n.ctl("reload")
        moved = n.wait(lambda: VIP in table(TABLE + 1) and
                       VIP not in table(TABLE), 5)
        n.write_conf(config(n.sock))
        out += n.ctl("reload")
        back = n.wait(lambda: VIP in table(TABLE) and
                      VIP not in table(TABLE + 1), 5)
        check(moved is not None and back is not None and n.wait(routed, 10)
              is not None, "a reload to another announce-table moves the "
              "routes there, and back", (out, table(TABLE), table(TABLE + 1)))

        # SIGTERM: withdrawn first, forwarding meanwhile, then gone.
        n.lbd.send_signal(signal.SIGTERM)
        gone = n.wait(lambda: not routed(), 1.8)
        alive = n.lbd.poll() is None
        check(gone is not None and alive, f"SIGTERM: withdrawn at wan in "
              f"{gone or 0:.2f} s while lbd still forwards (withdraw-delay "
              "2 s)", (at_wan(), alive))
        try:
            rc = n.lbd.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "... then lbd exits 0", (rc, n.log()[-800:]))

        # SIGKILL: nothing removes the route but lbd --withdraw.
        check(n.start(config(n.sock)) and n.wait(routed, 30) is not None,
              "a new lbd announces again", at_wan())
        n.lbd.send_signal(signal.SIGKILL)
        n.lbd.wait(10)
        time.sleep(2.5)
        stale = t.nsx("lbd", f"ip route show table {TABLE}", check=False).stdout
        check(VIP in stale and routed(), "SIGKILL: the route stays (nothing "
              "ran to remove it)", (stale, at_wan()))
        r = t.nsx("lbd", f"{n.lbd_bin} --withdraw -f {n.conf}", check=False)
        gone = n.wait(lambda: not routed(), 10)
        left = t.nsx("lbd", f"ip route show table {TABLE}; ip -6 route show "
                     f"table {TABLE}", check=False).stdout
        check(r.returncode == 0 and left.strip() == "" and gone is not None,
              f"lbd --withdraw (the unit's ExecStopPost) removes it; gone at "
              f"wan in {gone or 0:.1f} s", (r.stderr, left, at_wan()))
        for ns, p in birds.items():
            check(p.poll() is None, f"BIRD in {ns} ran throughout")
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
