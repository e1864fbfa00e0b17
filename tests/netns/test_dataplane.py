#!/usr/bin/env python3
"""End to end through real interfaces: lbd in its own namespace with the
kernel fast path (TC) on its front (f0) and back (b0) veths and every
offload on, everywhere; a client behind a router, three backends running
real servers (tests/netns/topo.py). For routed, snat and dsr, IPv4 and
IPv6: 1000 requests split as the scheduler says, the address the backend
sees, an iperf3 transfer from a TSO sender through the fast path (no
checksum error at any receiver; the traffic in show stat), a busy
offloaded connection outliving its idle timeout and an idle one expiring
on time, PMTU through a smaller-MTU hop, DSR replies bypassing lbd,
routed-mode non-service traffic, reload removing a backend, kill -9 and
restart, `datapath userspace` starting, and nothing left behind.

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
IDLE_S = 3          # timeout udp
UDP_ECHO = ("import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM);"
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0);"
            "s.bind(('::', 5353))\nwhile True:\n d, a = s.recvfrom(2048);"
            " s.sendto(d, a)")
# A UDP client from one port: `n` datagrams `gap` seconds apart; prints how
# many were answered.
UDP_CLIENT = ("import socket, sys, time, json; n, gap = int(sys.argv[3]), "
              "float(sys.argv[4]); s = socket.socket(socket.AF_INET, "
              "socket.SOCK_DGRAM); s.bind(('', int(sys.argv[2])));"
              "s.settimeout(1.0); ok = 0\nfor i in range(n):\n"
              " s.sendto(b'ping %d' % i, (sys.argv[1], 5353))\n try:\n"
              "  s.recvfrom(100); ok += 1\n except OSError:\n  pass\n"
              " time.sleep(gap)\nprint(json.dumps({'sent': n, 'ok': ok}))")


def backends(port, weights=(1, 1, 1), v6=False):
    return "\n".join(
        f"    backend {b} {'[' + be6(n) + ']' if v6 else be4(n)}:{port} weight {w}"
        for (b, n), w in zip(BACKENDS, weights))


def config(sock, drop_be3=False, extra=""):
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
}}
service udp{fam} {{
    listen {vip} udp 5353
    mode routed
    scheduler sh
{backends(5353, v6=v6)}
}}
service stateless{fam} {{
    listen {vip} tcp 7
    mode dsr
    scheduler maglev
    stateless on
{backends(7, v6=v6)}
}}""")
    # A short idle timeout for UDP: a busy offloaded flow must outlive
    # it (its packets never reach the engine), an idle one must not.
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
    garp count 2
    timeout udp {IDLE_S}s
    {extra}
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

    def csum_errors():
        """TCP/UDP checksum errors counted by every host but lbd's."""
        n = 0
        for h in ["client"] + [b for b, _ in BACKENDS]:
            out = t.nsx(h, "nstat -asz TcpInCsumErrors UdpInCsumErrors "
                        "Udp6InCsumErrors", check=False).stdout
            for ln in out.splitlines():
                f = ln.split()
                if len(f) >= 2 and f[0].endswith("InCsumErrors"):
                    n += int(f[1])
        return n

    def fastpath():
        try:
            return (json.loads(lbctl("show", "info", "--json"))
                    .get("data_plane") or {}).get("fastpath") or {}
        except ValueError:
            return {}

    def seen(backend):
        with open(t.logs[backend]) as f:
            return [line.strip() for line in f]

    try:
        t.build()
        for b, _ in BACKENDS:
            t.popen(b, ["iperf3", "-s", "-p", "5203"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            t.popen(b, ["python3", "-c", UDP_ECHO], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
        t.start_backends()
        with open(conf, "w") as f:
            f.write(config(sock))
        check(start_lbd(), "lbd starts with the data plane on f0 and b0",
              open(logf.name).read())
        info = json.loads(lbctl("show", "info", "--json") or "{}")
        dpi = info.get("data_plane") or {}
        punts = {i["name"]: (i.get("punt"), i["xdp_mode"])
                 for i in dpi.get("interfaces", [])}
        tcf = t.nsx("lbd", "tc filter show dev f0 ingress").stdout
        check(dpi.get("datapath") == "kernel" and "lbd_fp_in" in tcf and
              all(p and m in ("native", "generic") for p, m in punts.values())
              and len(punts) == 2,
              f"show info: datapath kernel, the fast path on f0 and b0, their "
              f"punt pairs' classifiers ({punts})", (info, tcf))
        # Set up, lbd keeps what it needs (lbd/privs.h); its workers
        # need nothing. (ip netns exec execs lbd: the pid is lbd's.)
        caps = {}
        for tid in os.listdir(f"/proc/{lbd.pid}/task"):
            with open(f"/proc/{lbd.pid}/task/{tid}/status") as f:
                v = dict(ln.split(":", 1) for ln in f if ":" in ln)
            caps[int(tid)] = (int(v["CapEff"], 16), int(v["CapBnd"], 16))
        kept = sum(1 << c for c in (0, 5, 6, 7, 10, 12, 13, 14))
        workers = [c for tid, c in caps.items() if tid != lbd.pid]
        check(caps.get(lbd.pid) == (kept, kept) and workers and
              all(c == (0, 0) for c in workers),
              f"capabilities: the main thread keeps {kept:#x}, its "
              f"{len(workers)} worker thread(s) none", caps)
        csum0 = csum_errors()
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
        # What the engine forwards leaves from its own port on the data
        # interface, not back through the punt pair.
        dpi = json.loads(lbctl("show", "info", "--json") or "{}").get(
            "data_plane") or {}
        txs = {i["name"]: i.get("tx", 0) for i in dpi.get("interfaces", [])}
        fp = dpi.get("fastpath") or {}
        check(all(v > 1000 for v in txs.values()) and len(txs) == 2 and
              fp.get("sent", -1) == 0,
              f"the engine sends from the interfaces themselves (tx {txs}), "
              f"none through the punt pairs (sent {fp.get('sent')})", dpi)

        # iperf3 through each mode, from a TSO sender: the fast path
        # carries it, busy past the idle timeout.
        fp0 = fastpath()
        moved = {}
        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 5201), ("snat", 5202), ("dsr", 5203)):
                r = t.nsx("client", f"timeout {IPERF_SECONDS + 15} iperf3 -c "
                          f"{v['vip']} -p {port} -t {IPERF_SECONDS} -J",
                          check=False)
                try:
                    j = json.loads(r.stdout)
                    bps = j["end"]["sum_received"]["bits_per_second"]
                    moved[(mode, fam)] = j["end"]["sum_sent"]["bytes"]
                except (ValueError, KeyError):
                    j, bps = {}, 0
                check(r.returncode == 0 and bps > 0,
                      f"iperf3 {mode} IPv{fam}: {IPERF_SECONDS}s transfer "
                      f"completes, {bps / 1e9:.2f} Gbit/s",
                      (r.stdout or "")[-400:] + r.stderr)
        fp1 = fastpath()
        fwd = fp1.get("forwarded", 0) - fp0.get("forwarded", 0)
        check(fwd > 0 and fp1.get("flows_installed", 0) >
              fp0.get("flows_installed", 0) and fp1.get("no_punt", 0) == 0,
              f"the kernel fast path carried it: {fwd} packets or GSO skbs "
              f"forwarded by {fp1.get('flows_installed', 0) - fp0.get('flows_installed', 0)} "
              f"flows, nothing dropped for want of a way to the engine", fp1)
        csum1 = csum_errors()
        check(csum1 == csum0, f"no receiver counted a checksum error "
              f"(TCP/UDP InCsumErrors {csum0} -> {csum1})")
        st = stat_json()
        svcs = {x["service"]: x for x in st.get("services", [])}
        for fam in ("4", "6"):
            got = svcs.get(f"iperf-routed{fam}", {}).get("bytes_in", 0)
            want = moved.get(("routed", fam), 0)
            check(want and got >= want,
                  f"show stat counts the fast path's traffic: iperf-routed"
                  f"{fam} bytes_in {got} >= {want} sent by iperf3", svcs.get(
                      f"iperf-routed{fam}"))

        # UDP, offloaded from its first datagram: a busy flow outlives
        # the idle timeout (its datagrams never reach the engine, the
        # kernel's word keeps it); an idle one expires on time and its
        # flows leave the kernel with it.
        def udp_entries(port):
            try:
                j = json.loads(lbctl("show", "conn", "udp4", "--json"))
                return [c for c in j.get("connections", [])
                        if c.get("client") == f"{V4['c']}:{port}"]
            except ValueError:
                return []
        fp0 = fastpath()
        r = t.nsx("client", f"python3 -c \"{UDP_CLIENT}\" {V4['vip']} 40400 "
                  f"{int((IDLE_S * 3) / 0.25)} 0.25", check=False)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {"ok": 0, "error": r.stderr}
        fp1 = fastpath()
        check(j.get("ok") == j.get("sent") and fp1.get("forwarded", 0) -
              fp0.get("forwarded", 0) >= j.get("sent", 1) and
              len(udp_entries(40400)) == 1,
              f"a busy UDP flow lives {IDLE_S * 3}s through the kernel past "
              f"its {IDLE_S}s idle timeout: {j.get('ok')} of {j.get('sent')} "
              f"answered, one connection throughout", (j, fp1))
        f_before = fp1.get("flows", 0)
        t0 = time.time()
        r = t.nsx("client", f"python3 -c \"{UDP_CLIENT}\" {V4['vip']} 40401 "
                  "1 0", check=False)
        here = bool(udp_entries(40401))
        gone = None
        while here and time.time() - t0 < IDLE_S + 20:
            if not udp_entries(40401):
                gone = time.time() - t0
                break
            time.sleep(0.1)
        f_after = fastpath().get("flows", 0)
        check(here and gone is not None and gone >= IDLE_S - 0.5 and
              f_after < f_before + 2,
              f"an idle UDP flow expires after its {IDLE_S}s timeout "
              f"({gone and round(gone, 1)}s) and its flows leave the kernel "
              f"({f_before} -> {f_after})", (r.stdout, fastpath()))

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

        # kill -9: the fast path stays behind; a new lbd replaces it and
        # forwards again. Long-lived connections of a stateless maglev
        # service lose their entries with it; the new lbd hashes their
        # segments to the same backends (hash-seed, not a per-process
        # seed), so they go on.
        for b, _ in BACKENDS:
            t.popen(b, ["python3", os.path.join(HERE, "echod.py"), b, "7"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        holds = [subprocess.Popen(
            ["ip", "netns", "exec", t.ns("client"), "python3",
             os.path.join(HERE, "holdconns.py"), v["vip"], "7", "12", "8"],
            stdout=subprocess.PIPE, text=True) for v in (V4, V6)]
        time.sleep(2)
        lbd.send_signal(signal.SIGKILL)
        lbd.wait()
        left = t.nsx("lbd", "tc filter show dev f0 ingress").stdout
        check("lbd_fp_in" in left, "after kill -9 the fast path is still "
              "attached (what a crash leaves)", left)
        os.unlink(sock) if os.path.exists(sock) else None
        ok = start_lbd()
        r = load(V4["vip"], 80, 30) if ok else {"ok": 0}
        check(ok and r["ok"] == 30, "lbd restarted after kill -9 forwards "
              "again", open(logf.name).read()[-2000:])
        for fam, p in zip(("4", "6"), holds):
            out, _ = p.communicate(timeout=30)
            try:
                h = json.loads(out)
            except ValueError:
                h = {}
            check(h.get("errors") == {} and h.get("moved") == 0 and
                  h.get("ok") == h.get("lines") and h.get("lines", 0) > 12 * 60,
                  f"stateless maglev IPv{fam}: 12 connections through the "
                  f"restart, their entries lost, hashed to the same backends "
                  f"({h.get('ok')} of {h.get('lines')} lines, by "
                  f"{h.get('by')})", h)
        st = stat_json()
        sl = {s["service"]: s for s in st.get("services", [])}
        check(all(sl.get(f"stateless{f}", {}).get("pkts_in", 0) > 0
                  for f in ("4", "6")),
              "the new lbd forwarded their segments (no connection of its "
              "own for them)", {k: v for k, v in sl.items()
                                 if k.startswith("stateless")})

        # Orderly stop: nothing of lbd stays on the interfaces.
        lbd.send_signal(signal.SIGTERM)
        lbd.wait(10)
        links = t.nsx("lbd", "ip link show").stdout
        addrs = t.nsx("lbd", "ip addr show dev f0").stdout
        tcf = (t.nsx("lbd", "tc filter show dev f0 ingress").stdout +
               t.nsx("lbd", "tc filter show dev b0 ingress").stdout)
        qd = (t.nsx("lbd", "tc qdisc show dev f0").stdout +
              t.nsx("lbd", "tc qdisc show dev b0").stdout)
        check("xdp" not in links and "lbd_fp" not in tcf and
              "lbd" not in links and "clsact" not in qd, "after stop no "
              "program, no clsact qdisc and no punt pair is left (also "
              "after a restart that took over a killed lbd's)",
              links + tcf + qd)
        check(V4["vip"] not in addrs and V6["vip"] not in addrs,
              "after stop the VIPs are released", addrs)

        # datapath userspace: the XDP classifier and AF_XDP on the
        # interfaces themselves (for NICs with zero-copy AF_XDP; it needs
        # complete checksums from its neighbours, so no traffic here).
        with open(conf, "w") as f:
            f.write(config(sock, extra="datapath userspace"))
        ok = start_lbd()
        info = json.loads(lbctl("show", "info", "--json") or "{}")
        dpi = info.get("data_plane") or {}
        links = t.nsx("lbd", "ip link show f0").stdout
        check(ok and dpi.get("datapath") == "userspace" and "xdp" in links,
              "datapath userspace: the classifier on f0, show info says so",
              (dpi, links))
        lbd.send_signal(signal.SIGTERM)
        lbd.wait(10)
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
