#!/usr/bin/env python3
"""bench-health: the cost of health checking.

1000 backends with an HTTP check every second, for 30 seconds. lbd runs in
a network namespace of its own and the backends in another, behind a veth
pair (four HTTP server processes, 250 backend addresses each): the backends'
side of every TCP handshake is that namespace's work, not lbd's, as on a
real network (on loopback both ends ran in lbd's context). Measures lbd's
CPU time over the run (from /proc) and counts missed intervals: a backend
that ran fewer checks than the run allows, or any check that failed.
Prints, last:
    health: checks=1000 interval_ms=1000 cpu_pct=... missed=...

usage: health.py BUILD_DIR [SECONDS]   (as root: it makes two namespaces)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
N, SERVERS = 1000, 4
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")

SERVER = r'''
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    def handle_error(self, request, client_address):
        pass    # checks close with RST once they have their answer
S(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
'''


def lbd_pid(wrapper):
    """`ip netns exec` execs lbd: the same process, once it has."""
    for _ in range(100):
        try:
            with open(f"/proc/{wrapper}/comm") as f:
                if f.read().strip() == "lbd":
                    return wrapper
        except OSError:
            break
        time.sleep(0.05)
    return wrapper


def cpu_ticks(pid, which=None):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return user if which == "user" else system if which == "sys" else user + system


NS = f"lbdbh{os.getpid() % 100000}"


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, capture_output=True)


def backend_addr(i):
    return f"10.77.{1 + i // 250}.{1 + i % 250}"


def namespaces():
    """lbd's namespace and the backends', one veth between them; every
    backend address on the backends' end."""
    sh(f"ip netns add {NS}-lbd && ip netns add {NS}-be")
    sh(f"ip link add l0 netns {NS}-lbd type veth peer name b0 netns {NS}-be")
    sh(f"ip -n {NS}-lbd addr add 10.77.0.1/16 dev l0")
    sh(f"ip -n {NS}-lbd link set l0 up && ip -n {NS}-lbd link set lo up")
    sh(f"ip -n {NS}-be link set b0 up && ip -n {NS}-be link set lo up")
    batch = "".join(f"addr add {backend_addr(i)}/16 dev b0\n"
                    for i in range(N))
    subprocess.run(["ip", "-n", f"{NS}-be", "-batch", "-"], input=batch,
                   text=True, check=True, capture_output=True)


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-bench-health.")
    procs = []
    try:
        namespaces()
        ports = list(range(19101, 19101 + SERVERS))
        for p in ports:
            procs.append(subprocess.Popen(["ip", "netns", "exec", f"{NS}-be",
                                           sys.executable, "-c", SERVER,
                                           str(p)]))
        sock = os.path.join(tmp, "lbd.sock")
        lines = [f"global {{ control-socket {sock} }}",
                 "service bench {", "    listen 192.0.2.10 tcp 80",
                 "    check http { path /health interval 1s timeout 900ms }"]
        for i in range(N):
            lines.append(f"    backend b{i} {backend_addr(i)}:"
                         f"{ports[i % SERVERS]}")
        lines.append("}")
        conf = os.path.join(tmp, "lbd.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        time.sleep(1.0)
        lbd = subprocess.Popen(["ip", "netns", "exec", f"{NS}-lbd", LBD, "-f",
                                conf, "--foreground-log"],
                               stderr=open(os.path.join(tmp, "lbd.log"), "w"))
        procs.append(lbd)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        hz = os.sysconf("SC_CLK_TCK")
        pid = lbd_pid(lbd.pid)
        t0, c0, u0 = time.time(), cpu_ticks(pid), cpu_ticks(pid, "user")
        time.sleep(SECONDS)
        t1, c1, u1 = time.time(), cpu_ticks(pid), cpu_ticks(pid, "user")
        out = subprocess.run(["ip", "netns", "exec", f"{NS}-lbd", LBCTL, "-s",
                              sock, "--json", "show", "health"],
                             capture_output=True, text=True, timeout=30).stdout
        checks = json.loads(out)["checks"]
        cpu_pct = 100.0 * (c1 - c0) / hz / (t1 - t0)
        # Each backend gets at least SECONDS - 1 checks (the first one lands at
        # a random point of the first interval); any failure counts too.
        missed = sum(max(0, (SECONDS - 1) - c["checks"]) for c in checks)
        failures = sum(c["failures"] for c in checks)
        total = sum(c["checks"] for c in checks)
        print(f"backends {len(checks)}, checks run {total} in {SECONDS}s "
              f"({total / SECONDS:.0f}/s), failed {failures}")
        user_pct = 100.0 * (u1 - u0) / hz / (t1 - t0)
        print(f"lbd cpu {cpu_pct:.2f}% of one core: user {user_pct:.2f}%, "
              f"kernel {cpu_pct - user_pct:.2f}% (the backends in a namespace "
              f"of their own, behind a veth)")
        print(f"health: checks={len(checks)} interval_ms=1000 cpu_pct={cpu_pct:.2f} "
              f"missed={missed + failures}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        for n in ("lbd", "be"):
            subprocess.run(["ip", "netns", "del", f"{NS}-{n}"],
                           capture_output=True)


if __name__ == "__main__":
    main()
