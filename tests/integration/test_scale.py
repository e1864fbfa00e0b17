#!/usr/bin/env python3
"""Scale: a configuration of 10,000 services and 100,000 backends is
checked, loaded and reloaded each in under 2 seconds, and the control
socket serves it (a show stat of 100,000 rows, admin state kept across the
reload by name). Prints TAP.

usage: test_scale.py BUILD_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from tap import check, done

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")
SERVICES, PER = 10000, 10


def write_conf(path, sock, weight):
    lines = [f"global {{ control-socket {sock} }}"]
    for s in range(SERVICES):
        a, b = divmod(s, 250)
        lines.append(f"service s{s} {{ listen 10.{100 + a // 250}.{a % 250}.{b + 1} "
                     "tcp 80 scheduler maglev")
        for k in range(PER):
            lines.append(f"  backend b{k} 172.16.{s % 250}.{k + 1}:{8000 + s // 250} "
                         f"weight {weight}")
        lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-scale.")
    proc = None
    try:
        sock = os.path.join(tmp, "lbd.sock")
        conf = os.path.join(tmp, "lbd.conf")
        write_conf(conf, sock, 1)

        t0 = time.time()
        p = subprocess.run([LBD, "-t", "-f", conf], capture_output=True, text=True)
        t = time.time() - t0
        check(p.returncode == 0,
              f"lbd -t checks 10,000 services / 100,000 backends ({t:.2f}s)",
              p.stderr[-500:])

        t0 = time.time()
        proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        up = False
        while time.time() - t0 < 60:
            if os.path.exists(sock) and subprocess.run(
                    [LBCTL, "-s", sock, "show", "info"], capture_output=True).returncode == 0:
                up = True
                break
            time.sleep(0.02)
        t = time.time() - t0
        check(up, f"lbd starts and serves ({t:.2f}s)")

        p = subprocess.run([LBCTL, "-s", sock, "drain", "s9999/b9"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 0, "drain one backend among 100,000", p.stderr)

        write_conf(conf, sock, 2)
        t0 = time.time()
        p = subprocess.run([LBCTL, "-s", sock, "-T", "30", "--json", "reload"],
                           capture_output=True, text=True, timeout=60)
        t = time.time() - t0
        ok = p.returncode == 0 and json.loads(p.stdout)["result"] == "ok"
        check(ok, f"a reload changing 100,000 weights applies ({t:.2f}s)",
              p.stdout[-300:] + p.stderr[-300:])

        t0 = time.time()
        p = subprocess.run([LBCTL, "-s", sock, "-T", "30", "--json", "show", "stat"],
                           capture_output=True, text=True, timeout=60)
        rows = json.loads(p.stdout)["backends"] if p.returncode == 0 else []
        t = time.time() - t0
        check(len(rows) == SERVICES * PER,
              f"show stat lists all 100,000 backends ({len(p.stdout) // 1024} KiB "
              f"in {t:.2f}s)", p.stderr)
        by = {r["backend"]: r for r in rows}
        check(by.get("s9999/b9", {}).get("admin") == "drain"
              and by.get("s0/b0", {}).get("weight") == 2,
              "the admin state survived the reload; the new weights are in",
              by.get("s9999/b9"))
    finally:
        if proc is not None:
            proc.terminate()
            check(proc.wait(20) == 0, "lbd stops cleanly")
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
