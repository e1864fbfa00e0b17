#!/usr/bin/env python3
"""Several data-plane workers: lbd with `workers 2` on veths of three queues
(tests/netns/topo.py, queues=3: flows hashed over the first two, as a
NIC's RSS would), so that the two directions of a connection often arrive on
queues of different workers. For routed, snat
and dsr, IPv4 and IPv6: every request succeeds and the split is the
scheduler's (each worker runs its own round robin: within one per worker);
both workers receive, frames are handed to the owner of their connection
and none is lost on the way; iperf3 with four streams; path MTU through a
1280-byte hop (the ICMP errors steered to the owner). `workers 4` on three
queues: in the kernel data path (the default) the punt pairs get a queue per
worker, so it runs four; with `datapath userspace` the workers read the
interfaces' own queues, so it runs three, with a warning. Nothing is left
behind.

usage: test_workers.py BUILD_DIR"""
import json
import os
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
REQUESTS = 600
W = 2
QUEUES = 3


def backends(port, v6=False):
    return "\n".join(
        f"    backend {b} {'[' + be6(n) + ']' if v6 else be4(n)}:{port}"
        for b, n in BACKENDS)


def config(sock, workers, datapath="auto"):
    svc = []
    for fam, v in (("4", V4), ("6", V6)):
        v6 = fam == "6"
        for name, port, mode, bport in (("web", 80, "routed", 80),
                                        ("snat", 8080, "snat", 80),
                                        ("dsr", 9090, "dsr", 9090),
                                        ("iperf-routed", 5201, "routed", 5201),
                                        ("iperf-snat", 5202, "snat", 5201)):
            pool = f"    snat-pool {v['snat']}\n" if mode == "snat" else ""
            sched = "sh" if name.startswith("iperf") else "rr"
            svc.append(f"""
service {name}{fam} {{
    listen {v['vip']} tcp {port}
    mode {mode}
{pool}    scheduler {sched}
{backends(bport, v6)}
}}""")
    return f"""global {{
    control-socket {sock}
    workers {workers}
    datapath {datapath}
    interface f0
    interface b0
    garp count 2
}}
""" + "".join(svc)


def main():
    t = Topo(queues=QUEUES)
    tmp = tempfile.mkdtemp(prefix="lbd-workers-")
    sock = os.path.join(tmp, "lbd.sock")
    conf = os.path.join(tmp, "lbd.conf")
    logf = open(os.path.join(tmp, "lbd.log"), "w")
    lbd = None

    def lbctl(*args):
        return t.nsx("lbd", f"{LBCTL} -s {sock} " + " ".join(args),
                     check=False).stdout

    def jctl(*args):
        try:
            return json.loads(lbctl(*args, "--json"))
        except ValueError:
            return {}

    def start_lbd(workers, datapath="auto"):
        nonlocal lbd
        with open(conf, "w") as f:
            f.write(config(sock, workers, datapath))
        lbd = t.popen("lbd", [LBD, "-d", "-f", conf], stdout=logf,
                      stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(sock) and "data-plane" in lbctl("show", "info"):
                return True
            if lbd.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def stop_lbd():
        lbd.terminate()
        lbd.wait(10)

    def load(host, port, n=REQUESTS):
        r = t.nsx("client", f"python3 {HERE}/client.py requests {host} {port} {n}",
                  check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"ok": 0, "fail": n, "by": {}, "errors": {r.stderr: 1}}

    try:
        t.build()
        t.start_backends()
        check(start_lbd(W), f"lbd starts with workers {W} on {QUEUES}-queue veths",
              open(logf.name).read())
        dpi = jctl("show", "info").get("data_plane") or {}
        queues = {i["name"]: i["queues"] for i in dpi.get("interfaces", [])}
        punts = [i.get("punt") for i in dpi.get("interfaces", [])]
        check(dpi.get("datapath") == "kernel" and dpi.get("workers") == W and
              queues == {"f0": W, "b0": W} and all(punts),
              f"show info: kernel data path, {dpi.get('workers')} workers, "
              f"a queue per worker on the punt pairs {punts}: {queues}", dpi)
        time.sleep(0.5)

        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 80), ("snat", 8080), ("dsr", 9090)):
                r = load(v["vip"], port)
                check(r["ok"] == REQUESTS and r["fail"] == 0,
                      f"{mode} IPv{fam}: {REQUESTS} requests all succeed", r)
                got = r.get("by", {})
                want = REQUESTS / len(BACKENDS)
                check(all(abs(got.get(b, 0) - want) <= W for b, _ in BACKENDS),
                      f"{mode} IPv{fam}: split {got} is round robin (within "
                      f"{W}, one per worker)", r)

        dpi = jctl("show", "info").get("data_plane") or {}
        ws = dpi.get("worker", [])
        check(len(ws) == W and all(w["rx"] > 1000 for w in ws),
              "both workers receive frames from their queues "
              f"({[w['rx'] for w in ws]})", ws)
        out = sum(w["handed_out"] for w in ws)
        inn = sum(w["handed_in"] for w in ws)
        full = sum(w["handoff_full"] for w in ws)
        check(out > 100 and inn == out and full == 0,
              f"frames reach the owner of their connection: {out} handed "
              f"over, {inn} taken, {full} lost", ws)
        errs = jctl("show", "errors")
        check(errs.get("no_conn", 0) == 0 and errs.get("handoff_full") == 0,
              "no frame met a worker without its connection "
              f"(no_conn {errs.get('no_conn')})", errs)
        st = jctl("show", "stat")
        svcs = {s["service"]: s for s in st.get("services", [])}
        check(all(svcs.get(f"{n}{f}", {}).get("conns") == REQUESTS
                  for n in ("web", "snat", "dsr") for f in ("4", "6")),
              "show stat adds the workers' counters up (conns per service)",
              {k: s.get("conns") for k, s in svcs.items()})

        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 5201), ("snat", 5202)):
                r = t.nsx("client", f"timeout 20 iperf3 -c {v['vip']} -p {port} "
                          "-t 3 -P 4 -J", check=False)
                try:
                    bps = json.loads(r.stdout)["end"]["sum_received"][
                        "bits_per_second"]
                except (ValueError, KeyError):
                    bps = 0
                check(r.returncode == 0 and bps > 0,
                      f"iperf3 {mode} IPv{fam}, 4 streams: completes, "
                      f"{bps / 1e9:.2f} Gbit/s", (r.stdout or "")[-400:] + r.stderr)

        # Path MTU: the hop's errors come back on any queue and must reach
        # the worker that owns the connection.
        t.nsx("wan", "ip link set w0 mtu 1280")
        for fam, v in (("4", V4), ("6", V6)):
            for mode, port in (("routed", 80), ("snat", 8080)):
                r = t.nsx("client", f"timeout 30 python3 {HERE}/client.py "
                          f"download {v['vip']} {port} 4000000", check=False)
                try:
                    j = json.loads(r.stdout)
                except ValueError:
                    j = {"ok": False, "err": r.stderr}
                check(j.get("ok") is True,
                      f"{mode} IPv{fam}: a 4 MB download through a 1280-byte "
                      "hop completes", j)
        t.nsx("wan", "ip link set w0 mtu 1500")
        stop_lbd()
        check(lbd.returncode == 0, "lbd stops cleanly", lbd.returncode)

        # More workers than the interfaces have queues. The kernel data path
        # reads the punt pairs, made with a queue per worker: all four run.
        check(start_lbd(4), "lbd starts with workers 4", open(logf.name).read())
        dpi = jctl("show", "info").get("data_plane") or {}
        check(dpi.get("workers") == 4,
              f"kernel data path: workers 4 on {QUEUES}-queue interfaces runs "
              f"{dpi.get('workers')} (the punt pairs have a queue each)", dpi)
        r = load(V4["vip"], 8080, 100)
        check(r["ok"] == 100, "and serves", r)
        stop_lbd()

        # The userspace data path reads the interfaces' own queues: as many
        # workers as there are queues. It forwards what it receives as it is,
        # so the senders' checksums must be complete (a veth's are not unless
        # transmit checksumming is off; a NIC's always are).
        for ns, dev in [("client", "c0")] + [(b, "e0") for b, _ in BACKENDS]:
            t.nsx(ns, f"ethtool -K {dev} tx off", check=False)
        check(start_lbd(4, "userspace"), "lbd starts with workers 4, datapath "
              "userspace", open(logf.name).read())
        dpi = jctl("show", "info").get("data_plane") or {}
        log = open(logf.name).read()
        check(dpi.get("datapath") == "userspace" and
              dpi.get("workers") == QUEUES and
              f"running {QUEUES} worker(s)" in log,
              f"userspace data path: workers 4 on {QUEUES} queues runs "
              f"{dpi.get('workers')}, and says so", log[-600:])
        # Each worker binds its AF_XDP sockets as it starts: a few
        # requests through every backend before the count.
        deadline = time.time() + 20
        while time.time() < deadline and \
                len(load(V4["vip"], 8080, 6).get("by", {})) < 3:
            time.sleep(0.2)
        r = load(V4["vip"], 8080, 100)
        check(r["ok"] == 100, "and serves", (r, lbctl("show", "errors"),
                                             lbctl("show", "info")[-1500:]))
        stop_lbd()
    finally:
        if lbd is not None and lbd.poll() is None:
            lbd.kill()
            lbd.wait()
        t.cleanup()
        logf.close()
    check(t.leftover() == [], "every namespace is gone", t.leftover())
    done()


if __name__ == "__main__":
    main()
