#!/usr/bin/env python3
"""A cluster of active nodes behind ECMP, end to end: three lbd nodes, each
announcing over BGP with BIRD (the shipped example, BFD 100 ms x 3) to the
upstream router's BIRD, every node mirroring its connections to every
other (ha-sync N-way), and a fourth node joining later.

The topology is tests/netns/mesh.py: the client is also the upstream
router (BIRD with `merge paths on`: one multipath route to the VIP through
the nodes that announce it, layer-4 hash), be1 and be2 are the backends,
and each node's sync peers are the other three on the heartbeat network
(n4 included before it runs). The backends reach the SNAT addresses
through the router too, so BGP decides where each address's replies go.

Two dsr services. The long-lived connections' uses the `rr` scheduler on
purpose: rr is not a consistent hash, so a connection that ECMP moves to a
node without its entry would be sent to whichever backend comes next, and
fail there. Only the mirrored entry keeps it on its backend. The one for
new connections uses maglev with the nodes' shared hash-seed, as a cluster
should: a connection that moves while its handshake is under way (not
mirrored yet) still reaches the backend that every node picks for it.

  * every node hears both running peers, and learns every connection,
    whichever node it went through; `lbctl show cluster` lists the peers,
    their sync state and what each announces;
  * the router has a path through each node for the VIP;
  * 120 long-lived connections, spread over the three nodes, each sending
    a line every 100 ms, go on through: n1 killed (SIGKILL, links down:
    BFD takes its path away; its flows move to n2 and n3, and ECMP's
    rehash moves flows between n2 and n3 too), then n4 started (a bulk
    from each peer; its announcement adds a path, flows move to it), then
    n3 drained (`lbctl cluster drain` withdraws its path) -- no reset, no
    changed backend, no line lost;
  * 60 snat connections do too, each keeping its SNAT address and port:
    every node's pool lists the four nodes' addresses, each node takes
    ports on its own (`cluster { snat-addresses }`) and announces the
    others' at route metric 1024, which the example exports with a longer
    AS path: the router sends an address's replies to its node, and n1's
    to the survivors once n1 is gone. After ECMP moved a connection, its
    client's packets reach one node and its replies the SNAT address's
    node: each forwards its side;
  * new connections go on being made throughout, at least 99.9% of them
    (the issue's goal; a connection caught on n1 as it dies waits for its
    retransmission);
  * every namespace is removed.

usage: test_cluster_sync.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check, done  # noqa: E402
from mesh import CLIENT, Mesh, VIP, wait  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ECHO, WEB, SNAT_PORT = 7003, 80, 7004
# Each node's own SNAT address; every node's pool lists all four.
SNAT = {f"n{k}": f"10.93.2.{k}" for k in (1, 2, 3, 4)}


def snat_service(m):
    backends = "".join(f"    backend {b} {a}:{ECHO}\n"
                       for b, (a, _) in m.backends.items())
    return f"""service snat {{
    listen {VIP} tcp {SNAT_PORT}
    mode snat
    scheduler rr
    snat-pool {" ".join(SNAT.values())}
{backends}}}
"""


def node_conf(m, n, svc):
    return m.conf(n, svc, cluster=f"withdraw-delay 0s\n    snat-addresses "
                  f"{SNAT[n]}")


def via_router(m):
    """The backends reach the SNAT addresses through the router (over
    their front leg), which forwards by what BGP told it."""
    m.t.nsx("client", "sysctl -qw net.ipv4.ip_forward=1 "
            "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.c0.rp_filter=0")
    for be in m.backends:
        m.t.nsx(be, f"ip route add {CLIENT}/32 dev e1")
        m.t.nsx(be, f"ip route add 10.93.2.0/24 via {CLIENT} dev e1")


def at_router(m, addr):
    """The nodes the router's route to `addr` goes through."""
    out = m.t.nsx("client", f"ip -4 route show {addr}/32", check=False).stdout
    return sorted(n for n, a in m.nodes.items() if f"via {a[0]} " in out)


def main():
    c = Mesh(BUILD, 4, 2, "lcs")
    svc = c.services(((ECHO, "rr"), (WEB, "maglev"))) + snat_service(c)
    hb = {n: a[2] for n, a in c.nodes.items()}
    try:
        c.build(ECHO, WEB)
        via_router(c)
        c.bird(100)
        for n in ("n1", "n2", "n3"):
            c.start(n, node_conf(c, n, svc))
        check(wait(lambda: c.meshed(("n1", "n2", "n3")), 30) and
              not c.sync("n1").get(hb["n4"], {"peer_up": True})["peer_up"],
              "n1, n2 and n3 each hear the other two over the heartbeat "
              "network and have their bulks; n4 (not started) is down",
              {n: c.sync(n) for n in ("n1", "n2")})

        def peers(n):
            try:
                return {p["peer"]: p for p in json.loads(c.ctl(
                    n, "show", "cluster", "--json"))["peers"]}
            except (ValueError, KeyError, TypeError):
                return {}

        def told():
            p = peers("n2")
            return p if all(p.get(hb[m], {}).get("node") == m and
                            f"{VIP}/32" in p[hb[m]]["prefixes"]
                            for m in ("n1", "n3")) else None
        p2 = wait(told, 10)
        text = c.ctl("n2", "show", "cluster")
        check(p2 and not p2[hb["n4"]]["up"] and not p2[hb["n4"]]["heard"] and
              "up, synced" in text and "(not heard)" in text,
              "lbctl show cluster on n2 lists its peers: n1 and n3 up and "
              "synced, each announcing the VIP (their word over the "
              "heartbeat network), n4 down and not heard", (p2, text))

        three = wait(lambda: c.paths() == ["n1", "n2", "n3"] and all(
            at_router(c, SNAT[n]) == [n] for n in ("n1", "n2", "n3")), 30)
        check(three, "the router has a path to the VIP through each of the "
              "three nodes (BGP), and to each node's SNAT address through "
              "that node", c.t.nsx("client", "ip route", check=False).stdout)
        tbl = c.t.nsx("n2", "ip route show table 201", check=False).stdout
        lines = {ln.split()[1]: ln for ln in tbl.splitlines()
                 if ln.startswith("blackhole ")}
        check(SNAT["n2"] in lines and "metric" not in lines[SNAT["n2"]] and
              all("metric 1024" in lines.get(SNAT[m], "")
                  for m in ("n1", "n3", "n4")),
              "n2 announces its own SNAT address, and the others' at route "
              "metric 1024 (a lower preference, for when their node is "
              "gone)", tbl)
        hold = c.t.popen("client", ["python3", os.path.join(HERE, "holdconns.py"),
                                    VIP, str(ECHO), "120", "60", "100"],
                         stdout=subprocess.PIPE, text=True)
        hold_snat = c.t.popen("client", ["python3", os.path.join(
            HERE, "holdconns.py"), VIP, str(SNAT_PORT), "60", "60", "100"],
            stdout=subprocess.PIPE, text=True)
        web = c.t.popen("client", ["python3", os.path.join(HERE, "client.py"),
                                   "for", VIP, str(WEB), "60"],
                        stdout=subprocess.PIPE, text=True)

        def learned():
            # What each node applied of its peers' records.
            return {n: sum(p.get("applied", 0) for p in c.sync(n).values())
                    for n in ("n1", "n2", "n3")}
        time.sleep(3)
        made = {n: c.conns(n, f"s{ECHO}") for n in ("n1", "n2", "n3")}
        got = wait(lambda: (lambda g: g if all(
            g[n] >= sum(made.values()) - made[n] for n in g) else None)(
                learned()), 10)
        check(sum(1 for v in made.values() if v > 0) == 3 and
              sum(made.values()) >= 120 and got,
              f"the client's connections spread over the three nodes "
              f"({made}), and each node applied its peers' records of them",
              (made, learned()))

        # n1 dies: BFD takes its paths away; its flows move to n2 and n3,
        # which have their entries, and the replies to its SNAT address go
        # to them by their fallback announcements.
        c.kill("n1", signal.SIGKILL)
        gone = wait(lambda: c.paths() == ["n2", "n3"] and
                    at_router(c, SNAT["n1"]) and
                    "n1" not in at_router(c, SNAT["n1"]), 10)
        check(gone, "n1 killed: BFD takes its path to the VIP away, and n1's "
              "SNAT address goes through the survivors now (their fallback "
              f"announcements): {at_router(c, SNAT['n1'])}",
              c.t.nsx("client", "ip route", check=False).stdout)
        time.sleep(3)

        # n4 joins: a bulk from each running peer, then a path of its own.
        c.start("n4", node_conf(c, "n4", svc))
        joined = wait(lambda: c.meshed(("n2", "n3", "n4")), 30)
        entries = wait(lambda: (lambda s: s if sum(
            p.get("applied", 0) for p in s.values()) >= 100 else None)(
                c.sync("n4")), 10)
        check(joined and entries,
              "n4 starts, hears n2 and n3, and their bulks bring it the "
              "connections they carry",
              {p: (v.get("peer_up"), v.get("applied"))
               for p, v in c.sync("n4").items()})
        four = wait(lambda: c.paths() == ["n2", "n3", "n4"], 15)
        check(four, "n4's announcement gives the router a path through it",
              c.t.nsx("client", f"ip route show {VIP}", check=False).stdout)
        time.sleep(3)

        # n3 drained: its path goes, and its flows move to n2 and n4.
        c.ctl("n3", "cluster", "drain")
        gone = wait(lambda: c.paths() == ["n2", "n4"], 10)
        check(gone, "lbctl cluster drain on n3 withdraws its path at the "
              "router", (c.ctl("n3", "show", "cluster"),
                         c.t.nsx("client", f"ip route show {VIP}",
                                 check=False).stdout))
        time.sleep(3)

        # New connections each node made in all (n4's: since it joined).
        took = {n: c.conns(n, f"s{WEB}") for n in ("n2", "n3", "n4")}
        hold.send_signal(signal.SIGTERM)
        hold_snat.send_signal(signal.SIGTERM)
        web.send_signal(signal.SIGTERM)
        for p, n, what, moved in (
                (hold, 120, "120 connections went on through n1's death, "
                 "n4's joining and n3's drain", "moved to another backend"),
                (hold_snat, 60, "60 snat connections too", "with another "
                 "backend or another SNAT address or port")):
            out, _ = p.communicate(timeout=30)
            h = json.loads(out) if out.strip() else {}
            check(h.get("conns") == n and h.get("ok") == h.get("lines") and
                  not h.get("errors") and not h.get("moved"),
                  f"{what}: {h.get('ok')} of {h.get('lines')} lines answered, "
                  f"errors {h.get('errors')}, {len(h.get('moved') or [])} "
                  f"{moved}, longest wait {h.get('gap_ms')} ms",
                  (h, c.log("n2")))
        wout, _ = web.communicate(timeout=30)
        try:
            w = json.loads(wout)
        except ValueError:
            w = {}
        tried = w.get("ok", 0) + w.get("fail", 0)
        check(w.get("ok", 0) > 50 and w.get("ok", 0) >= 0.999 * tried and
              all(v > 0 for v in took.values()),
              f"new connections throughout, at least 99.9% made: "
              f"{w.get('ok')} ok, {w.get('fail')} failed; n2, n3 and n4 each "
              f"made some ({took})", (w, took))
    finally:
        c.cleanup()     # stops every process it started: lbd, BIRD
    check(not c.t.leftover(), "every namespace is removed", c.t.leftover())
    return done()


if __name__ == "__main__":
    sys.exit(main())
