#!/usr/bin/env python3
"""Control-socket floods: lbd out of file descriptors (200 silent clients
against a limit of 64) must neither spin nor lock the operator out, and
10,000 clients at once must leave lbctl working, CPU quiet and memory
bounded. Every process is the test's own, stopped by PID. Prints TAP.

usage: test_ctl_flood.py BUILD_DIR
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from tap import check, done

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")


def ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(tmp, name, fd_limit=None):
    sock = os.path.join(tmp, name + ".sock")
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write(f"global {{ control-socket {sock} }}\n")
    cmd = f"exec {LBD} -f {conf} --foreground-log"
    if fd_limit:
        cmd = f"ulimit -n {fd_limit}; " + cmd
    p = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.02)
    return p, sock


def lbctl_ok(sock):
    t0 = time.time()
    r = subprocess.run([LBCTL, "-s", sock, "-T", "5", "show", "info"],
                       capture_output=True, text=True)
    return r.returncode == 0, time.time() - t0


def connect_at_first_sight(tmp, name):
    """Start lbd and connect the moment its socket file appears: that
    must work (the file appears only once the socket listens)."""
    sock = os.path.join(tmp, name + ".sock")
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write(f"global {{ control-socket {sock} }}\n")
    p = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    err = "never appeared"
    try:
        t0 = time.time()
        while time.time() - t0 < 30:
            if os.path.exists(sock):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(sock)
                    err = None
                except OSError as e:
                    err = str(e)
                s.close()
                break
    finally:
        p.terminate()
        p.wait(20)
    return err


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    tmp = tempfile.mkdtemp(prefix="lbd-ctlflood.")
    procs, conns = [], []
    try:
        # 0. A client that sees the socket file can connect to it.
        errs = [connect_at_first_sight(tmp, f"first{i}") for i in range(10)]
        check(errs == [None] * 10, "the control socket file appears only "
              "once it listens (10 starts, connected at first sight)", errs)

        # 1. Out of descriptors.
        p, sock = start(tmp, "fd64", fd_limit=64)
        procs.append(p)
        for _ in range(200):
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            conns.append(s)
        t0 = ticks(p.pid)
        time.sleep(2)
        spent = ticks(p.pid) - t0
        hz = os.sysconf("SC_CLK_TCK")
        check(spent < hz * 0.3,
              f"out of descriptors, lbd does not spin ({spent} ticks in 2s)")
        ok, t = lbctl_ok(sock)
        check(ok, f"... and lbctl is still answered ({t:.2f}s)")
        for s in conns:
            s.close()
        conns.clear()

        # 2. Ten thousand clients.
        p, sock = start(tmp, "many")
        procs.append(p)
        rss0 = rss_kb(p.pid)
        t0 = time.time()
        for _ in range(10000):
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            conns.append(s)
        time.sleep(0.5)
        ok, t = lbctl_ok(sock)
        check(ok, f"with 10,000 clients connected lbctl is answered "
              f"({t:.2f}s)")
        r = subprocess.run([LBCTL, "-s", sock, "show", "info"], capture_output=True,
                           text=True)
        check("evicted" in r.stdout and p.poll() is None,
              "lbd is alive and counts the clients it evicted",
              r.stdout[-300:])
        c0 = ticks(p.pid)
        time.sleep(1)
        check(ticks(p.pid) - c0 < hz * 0.3, "and it is quiet while they sit there")
        rss = rss_kb(p.pid)
        # (an ASan build keeps freed memory in quarantine: room for that)
        check(rss - rss0 < 128 * 1024,
              f"memory stays bounded ({rss0} -> {rss} KiB)")
    finally:
        for s in conns:
            s.close()
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
