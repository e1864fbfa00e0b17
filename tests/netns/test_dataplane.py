#!/usr/bin/env python3
"""End to end through real interfaces: lbd in its own namespace with the XDP
classifier and AF_XDP on its front (f0) and back (b0) veths, a client
behind a router, three backends running real servers (tests/netns/topo.py).
For routed, snat and dsr, IPv4 and IPv6: 1000 requests split as the
scheduler says, the address the backend sees, an iperf3 transfer, PMTU
through a smaller-MTU hop, DSR replies bypassing lbd, routed-mode
non-service traffic, reload removing a backend, kill -9 and restart, and
nothing left behind.

usage: test_dataplane.py BUILD_DIR"""
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
from topo import Topo, V4, V6, BACKENDS, be4, be6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")
IPERF_SECONDS = int(os.environ.get("IPERF_SECONDS", "10"))


def backends(port, weights=(1, 1, 1), v6=False):
    return "\n".join(
        f"    backend {b} {'[' + be6(n) + ']' if v6 else be4(n)}:{port} weight {w}"
        for (b, n), w in zip(BACKENDS, weights))


def config(sock, drop_be3=False):
    svc = []
    for fam, v in (("4", V4), ("6", V6)):
        v6 = fam == "6"
        vip = v["vip"]
        rr = backends(80, v6=v6)
        if drop_be3 and not v6:
            rr = "\n".join(rr.splitlines()[:2])
        svc.append(f"""
service web{fam} {{
    listen {vip} tcp 80
    mode routed
    scheduler rr
{rr}
}}
service snat{fam} {{
    listen {vip} tcp 8080
    mode snat
    snat-pool {v['snat']}
    scheduler wrr
{backends(80, (1, 1, 2), v6)}
}}
service dsr{fam} {{
    listen {vip} tcp 9090
    mode dsr
    scheduler rr
{backends(9090, v6=v6)}
}}
service iperf-routed{fam} {{
    listen {vip} tcp 5201
    mode routed
    scheduler sh
{backends(5201, v6=v6)}
}}
service iperf-snat{fam} {{
    listen {vip} tcp 5202
    mode snat
    snat-pool {v['snat']}
    scheduler sh
{backends(5201, v6=v6)}
}}
service iperf-dsr{fam} {{
    listen {vip} tcp 5203
    mode dsr
    scheduler sh
{backends(5203, v6=v6)}
}}""")
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
    garp count 2
}}
""" + "".join(svc)


def main():
    t = Topo()
    tmp = tempfile.mkdtemp(prefix="lbd-netns-")
    sock = os.path.join(tmp, "lbd.sock")
    conf = os.path.join(tmp, "lbd.conf")
    logf = open(os.path.join(tmp, "lbd.log"), "w")
    lbd = None

    def lbctl(*args):
        r = t.nsx("lbd", f"{LBCTL} -s {sock} " + " ".join(args), check=False)
        return r.stdout

    def stat_json():
        try:
            return json.loads(lbctl("show", "stat", "--json"))
        except ValueError:
            return {}

    def start_lbd():
        nonlocal lbd
        lbd = t.popen("lbd", [LBD, "-d", "-f", conf], stdout=logf,
                      stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(sock) and "data-plane" in lbctl("show", "info"):
                return True
            if lbd.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def load(host, port, n=1000):
        r = t.nsx("client", f"python3 {HERE}/client.py requests {host} {port} {n}",
                  check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"ok": 0, "fail": n, "by": {}, "errors": {r.stderr: 1}}

    def seen(backend):
        with open(t.logs[backend]) as f:
            return [line.strip() for line in f]

    try:
        t.build()
        for b, _ in BACKENDS:
            t.popen(b, ["iperf3", "-s", "-p", "5203"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
        t.start_backends()
        with open(conf, "w") as f:
            f.write(config(sock))
        check(start_lbd(), "lbd starts with the data plane on f0 and b0",
              open(logf.name).read())
        info = json.loads(lbctl("show", "info", "--json") or "{}")
        dpi = info.get("data_plane") or {}
        modes = {i["name"]: i["xdp_mode"] for i in dpi.get("interfaces", [])}
        check(modes.get("f0") in ("native", "generic") and "b0" in modes,
              f"show info reports the XDP mode per interface ({modes})", info)
        addrs = t.nsx("lbd", "ip -o addr show dev f0").stdout
        check(V4["vip"] in addrs and V6["vip"] in addrs,
              "the VIPs are on the front interface", addrs)
        # Warm the neighbour caches the way a first request would.
        time.sleep(0.5)

        for fam, v in (("4", V4), ("6", V6)):
            vip = v["vip"]
            client_seen = V4["c"] if fam == "4" else V6["c"]
            for mode, port, weights in (("routed", 80, (1, 1, 1)),
                                        ("snat", 8080, (1, 1, 2)),
                                        ("dsr", 9090, (1, 1, 1))):
                for b, _ in BACKENDS:
                    open(t.logs[b], "w").close()
                r = load(vip, port)
                check(r["ok"] == 1000 and r["fail"] == 0,
                      f"{mode} IPv{fam}: 1000 requests to the VIP all succeed",
                      r)
                total = sum(weights)
                want = {b: 1000 * w / total for (b, _), w in zip(BACKENDS, weights)}
                got = r.get("by", {})
                check(all(abs(got.get(b, 0) - want[b]) <= 1 for b in want),
                      f"{mode} IPv{fam}: split {got} matches "
                      f"{'rr' if mode != 'snat' else 'wrr 1:1:2'}", r)
                addrs_seen = set()
                for b, _ in BACKENDS:
                    addrs_seen |= set(seen(b))
                expect = v["snat"] if mode == "snat" else client_seen
                norm = {a.replace("::ffff:", "") for a in addrs_seen}
                check(norm == {expect},
                      f"{mode} IPv{fam}: backends see {expect}", sorted(norm))

        st = stat_json()
        svcs = {s["service"]: s for s in st.get("services", [])}
        for fam in ("4", "6"):
            d = svcs.get(f"dsr{fam}", {})
            check(d.get("pkts_in", 0) >= 3000 and d.get("pkts_out", 1) == 0,
                  f"dsr IPv{fam}: lbd saw requests only, replies bypassed it "
                  f"(in {d.get('pkts_in')}, out {d.get('pkts_out')})", d)
            w = svcs.get(f"web{fam}", {})
            check(w.get("conns") == 1000 and w.get("pkts_out", 0) > 0,
                  f"routed IPv{fam}: per-service counters (conns "
                  f"{w.get('conns')})", w)
        bes = {b["backend"]: b for b in st.get("backends", [])}
        check(bes.get("snat4/be3", {}).get("conns") == 500,
              "per-backend counters: snat4/be3 made 500 connections",
              bes.get("snat4/be3"))
        conn = lbctl("show", "conn", "web4", "5")
        check("of" in conn and "connections shown" in conn,
              "show conn lists connections (bounded)", conn)

        # iperf3 through each mode.
        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 5201), ("snat", 5202), ("dsr", 5203)):
                r = t.nsx("client", f"timeout {IPERF_SECONDS + 15} iperf3 -c "
                          f"{v['vip']} -p {port} -t {IPERF_SECONDS} -J",
                          check=False)
                try:
                    j = json.loads(r.stdout)
                    bps = j["end"]["sum_received"]["bits_per_second"]
                except (ValueError, KeyError):
                    j, bps = {}, 0
                check(r.returncode == 0 and bps > 0,
                      f"iperf3 {mode} IPv{fam}: {IPERF_SECONDS}s transfer "
                      f"completes, {bps / 1e9:.2f} Gbit/s",
                      (r.stdout or "")[-400:] + r.stderr)

        # Routed mode: the backends' gateway is lbd; the kernel still
        # routes what is not a service. The VIP answers ping.
        r = t.nsx("be1", f"ping -c 1 -W 2 {V4['c']}", check=False)
        check(r.returncode == 0, "routed: a backend reaches the client "
              "network for non-service traffic (ping)", r.stdout + r.stderr)
        r = t.nsx("client", f"ping -c 1 -W 2 {V4['vip']}", check=False)
        r6 = t.nsx("client", f"ping -c 1 -W 2 {V6['vip']}", check=False)
        check(r.returncode == 0 and r6.returncode == 0, "the VIPs answer ping",
              r.stdout + r6.stdout)

        # Path MTU: a 1280-byte hop on the client's side. The router's
        # "fragmentation needed" / "packet too big" goes to the VIP and
        # lbd hands it, translated, to the backend. In dsr the backend's
        # replies pass the hop without lbd, but the error about them still
        # comes to the VIP, and lbd must hand it, unchanged, to the backend
        # that sent them.
        t.nsx("wan", "ip link set w0 mtu 1280")
        for b, _ in BACKENDS:
            t.nsx(b, "ip route flush cache; ip -6 route flush cache",
                  check=False)
        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 80), ("snat", 8080), ("dsr", 9090)):
                r = t.nsx("client", f"python3 {HERE}/client.py download "
                          f"{v['vip']} {port} 4000000", check=False)
                try:
                    j = json.loads(r.stdout)
                except ValueError:
                    j = {"ok": False, "error": r.stderr}
                check(j.get("ok"), f"PMTU {mode} IPv{fam}: 4 MB download "
                      f"through a 1280-byte hop completes ({j.get('s')}s)", j)
        # The dsr backends learnt the path's MTU from the VIP's errors.
        learnt = [b for b, _ in BACKENDS if "mtu 1280" in t.nsx(
            b, f"ip route get {V4['c']} from {V4['vip']}", check=False).stdout]
        learnt6 = [b for b, _ in BACKENDS if "mtu 1280" in t.nsx(
            b, f"ip -6 route get {V6['c']} from {V6['vip']}",
            check=False).stdout]
        check(learnt and learnt6, "dsr: the backends that sent the big "
              f"replies hold the path MTU 1280 (IPv4 {learnt}, IPv6 {learnt6})")
        t.nsx("wan", "ip link set w0 mtu 1500")
        errs = stat_json().get("errors") or {}
        check(errs.get("icmp_translated", 0) >= 4, "the too-big errors were "
              f"translated ({errs.get('icmp_translated')})", errs)

        # Reload without be3 in web4: it gets no new connections.
        with open(conf, "w") as f:
            f.write(config(sock, drop_be3=True))
        out = lbctl("reload")
        check("web4" in out or "backend" in out, "reload applies", out)
        open(t.logs["be3"], "w").close()
        r = load(V4["vip"], 80, 30)
        check(r["ok"] == 30 and "be3" not in r["by"],
              "a backend removed by reload gets no new connections", r)

        # kill -9: the classifier stays behind; a new lbd removes it and
        # forwards again.
        lbd.send_signal(signal.SIGKILL)
        lbd.wait()
        left = t.nsx("lbd", "ip link show f0").stdout
        check("xdp" in left, "after kill -9 the classifier is still attached "
              "(what a crash leaves)", left)
        os.unlink(sock) if os.path.exists(sock) else None
        ok = start_lbd()
        r = load(V4["vip"], 80, 30) if ok else {"ok": 0}
        check(ok and r["ok"] == 30, "lbd restarted after kill -9 forwards "
              "again", open(logf.name).read()[-2000:])

        # Orderly stop: nothing of lbd stays on the interfaces.
        lbd.send_signal(signal.SIGTERM)
        lbd.wait(10)
        links = t.nsx("lbd", "ip link show").stdout
        addrs = t.nsx("lbd", "ip addr show dev f0").stdout
        check("xdp" not in links, "after stop no XDP program is attached",
              links)
        check(V4["vip"] not in addrs and V6["vip"] not in addrs,
              "after stop the VIPs are released", addrs)
    finally:
        if lbd is not None and lbd.poll() is None:
            lbd.kill()
        t.cleanup()
        logf.close()
        subprocess.run(["rm", "-rf", tmp])
    left = t.leftover()
    check(not left, "every namespace is removed", left)
    return done()


if __name__ == "__main__":
    sys.exit(main())
