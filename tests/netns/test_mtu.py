#!/usr/bin/env python3
"""The largest MTU lbd forwards (topo.py, kernel datapath):

  * a data interface with an MTU over it (3600): lbd refuses to start and
    says which interface, its MTU, the limit and why;
  * every link at the limit (3504): lbd starts, and a 20 MB download
    through the VIP, in segments of that size, completes;
  * the MTU raised past the limit while lbd runs: said in the log.

usage: test_mtu.py BUILD_DIR"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check, done  # noqa: E402
from topo import Topo, V4, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LIMIT = 3504


def links(t, ns):
    out = t.nsx(ns, "ip -o link show", check=False).stdout
    return [ln.split(": ")[1].split("@")[0] for ln in out.splitlines()
            if ": lo:" not in ln]


def main():
    t = Topo(prefix=f"lmu{os.getpid() % 100000}")
    tmp = f"/tmp/lbd-mtu-{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    sock, conf = os.path.join(tmp, "lbd.sock"), os.path.join(tmp, "lbd.conf")
    lbd_bin = os.path.join(BUILD, "lbd", "lbd")
    try:
        t.build()
        t.start_backends(iperf=False)
        with open(conf, "w") as f:
            f.write(f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
service web {{
    listen {V4['vip']} tcp 80
    backend be1 {be4(11)}:80
}}
""")
        t.nsx("lbd", "ip link set f0 mtu 3600")
        p = t.popen("lbd", [lbd_bin, "-f", conf], stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        check(p.returncode not in (0, None) and
              f"interface f0: mtu 3600 is more than lbd forwards (at most "
              f"{LIMIT}" in out,
              "a data interface over the limit: lbd refuses to start and "
              "says why", out[-600:])

        for ns in ("client", "wan", "lbd", "sw", "be1", "be2", "be3"):
            for dev in links(t, ns):
                t.nsx(ns, f"ip link set {dev} mtu {LIMIT}", check=False)
        logf = open(os.path.join(tmp, "lbd.log"), "w")
        p = t.popen("lbd", [lbd_bin, "-f", conf], stdout=logf,
                    stderr=subprocess.STDOUT)
        lbctl = os.path.join(BUILD, "lbd", "lbctl")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None and \
                f" {V4['vip']}/" not in t.nsx("lbd", "ip -o addr show f0",
                                               check=False).stdout:
            time.sleep(0.1)
        r = t.nsx("client", "curl -s -o /dev/null -w '%{http_code} "
                  f"%{{size_download}}' --max-time 60 "
                  f"http://{V4['vip']}/big?n=20000000", check=False)
        check(p.poll() is None and r.stdout == "200 20000000",
              f"every link at mtu {LIMIT}: lbd starts and a 20 MB download "
              "through the VIP completes", (r.stdout, t.nsx(
                  "lbd", f"{lbctl} -s {sock} show errors", check=False).stdout))

        t.nsx("lbd", "ip link set b0 mtu 3600")
        deadline = time.monotonic() + 10
        log = ""
        while time.monotonic() < deadline and "more than lbd forwards" \
                not in log:
            time.sleep(0.1)
            with open(logf.name) as f:
                log = f.read()
        check(f"interface b0: mtu {LIMIT} -> 3600, more than lbd forwards "
              f"({LIMIT})" in log, "raised past the limit while running: "
              "said in the log", log[-600:])
        logf.close()
    finally:
        t.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    left = t.leftover()
    check(not left, "every namespace is removed", left)
    return done()


if __name__ == "__main__":
    sys.exit(main())
