#!/usr/bin/env python3
"""lbd speaks sd_notify as systemd expects, checked against a fake
NOTIFY_SOCKET (a datagram socket this test binds): READY=1 with STATUS and
MAINPID once it serves; WATCHDOG=1 when WATCHDOG_USEC asks (and not when
WATCHDOG_PID names another process); RELOADING=1 with MONOTONIC_USEC from
CLOCK_MONOTONIC, then READY=1 and a STATUS, for a good reload and a refused
one; STOPPING=1 at SIGTERM.

usage: test_sdnotify.py BUILD_DIR"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tap import check, done  # noqa: E402

CONF = """global {{
    node-id sdn
    control-socket {tmp}/lbd.sock
}}
service web {{
    listen 127.0.0.1 tcp {port}
    backend a 127.0.0.2:80
}}
"""


class Notify:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)

    def next(self, timeout=20):
        """The next datagram as {key: value}, or {} after timeout."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(4096).decode()
        except socket.timeout:
            return {}
        return dict(ln.split("=", 1) for ln in data.split("\n") if "=" in ln)

    def until(self, key, timeout=20):
        """Datagrams up to the first with `key`; that one, or {}."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next(max(0.1, deadline - time.monotonic()))
            if key in m:
                return m
        return {}


def start(lbd, conf, tmp, env):
    log = open(os.path.join(tmp, "lbd.log"), "ab")
    return subprocess.Popen([lbd, "-f", conf, "--foreground-log"], stdout=log,
                            stderr=log, env=dict(os.environ, **env))


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    lbd = os.path.join(build, "lbd", "lbd")
    tmp = tempfile.mkdtemp(prefix="lbd-sdnotify.")
    conf = os.path.join(tmp, "lbd.conf")
    procs = []
    try:
        with open(conf, "w") as f:
            f.write(CONF.format(tmp=tmp, port=8080))
        n = Notify(os.path.join(tmp, "notify"))
        env = {"NOTIFY_SOCKET": n.s.getsockname(), "WATCHDOG_USEC": "200000"}
        env.pop("WATCHDOG_PID", None)
        p = start(lbd, conf, tmp, env)
        procs.append(p)

        m = n.until("READY")
        check(m.get("READY") == "1" and m.get("MAINPID") == str(p.pid) and
              m.get("STATUS") == "running" and
              os.path.exists(os.path.join(tmp, "lbd.sock")),
              "READY=1, STATUS=running and MAINPID once the control socket "
              "is up", m)
        dogs = sum(1 for _ in range(3) if n.until("WATCHDOG").get(
            "WATCHDOG") == "1")
        check(dogs == 3, "WATCHDOG=1 keeps coming when WATCHDOG_USEC asks",
              dogs)

        # A good reload: RELOADING with the monotonic time, then READY.
        with open(conf, "w") as f:
            f.write(CONF.format(tmp=tmp, port=8081))
        before = time.monotonic_ns() // 1000
        p.send_signal(signal.SIGHUP)
        m = n.until("RELOADING")
        after = time.monotonic_ns() // 1000
        usec = int(m.get("MONOTONIC_USEC", "0"))
        check(m.get("RELOADING") == "1" and before <= usec <= after,
              "SIGHUP: RELOADING=1 with MONOTONIC_USEC of CLOCK_MONOTONIC",
              (before, m, after))
        m = n.until("READY")
        check(m.get("READY") == "1" and
              m.get("STATUS", "").startswith("running, 1 reload"),
              "... then READY=1 and a STATUS with the reload", m)

        # A refused reload: READY again, the STATUS says so.
        with open(conf, "w") as f:
            f.write("service { nonsense\n")
        p.send_signal(signal.SIGHUP)
        m1, m2 = n.until("RELOADING"), n.until("READY")
        check(m1.get("RELOADING") == "1" and
              "reload failed" in m2.get("STATUS", "") and p.poll() is None,
              "a refused reload: RELOADING=1, READY=1 and STATUS says the "
              "previous configuration is kept", (m1, m2))

        p.send_signal(signal.SIGTERM)
        m = n.until("STOPPING")
        check(m.get("STOPPING") == "1", "SIGTERM: STOPPING=1", m)
        # No second signal: one that lands while lbd is already on its
        # way out (slow under ASan) would be what ends it.
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            stop(p)
        check(p.returncode == 0, "... and lbd exits 0", p.returncode)

        # The watchdog is another process's: lbd sends none.
        with open(conf, "w") as f:
            f.write(CONF.format(tmp=tmp, port=8082))
        p = start(lbd, conf, tmp, dict(env, WATCHDOG_PID=str(os.getpid())))
        procs.append(p)
        m = n.until("READY")
        stray = n.until("WATCHDOG", timeout=1.5)
        check(m.get("READY") == "1" and not stray,
              "WATCHDOG_PID naming another process: no WATCHDOG=1", stray)
    finally:
        for p in procs:
            stop(p)
        subprocess.run(["rm", "-rf", tmp])
    return done()


if __name__ == "__main__":
    sys.exit(main())
