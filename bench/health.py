#!/usr/bin/env python3
"""bench-health: the cost of health checking.

1000 backends with an HTTP check every second, for 30 seconds, against HTTP
servers on loopback (four server processes, 250 backends each, on distinct
127.0.0.x addresses). Measures lbd's CPU time over the run (from /proc) and
counts missed intervals: a backend that ran fewer checks than the run allows,
or any check that failed. Prints, last:
    health: checks=1000 interval_ms=1000 cpu_pct=... missed=...

usage: health.py BUILD_DIR [SECONDS]
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


def cpu_ticks(pid, which=None):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return user if which == "user" else system if which == "sys" else user + system


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-bench-health.")
    procs = []
    try:
        ports = list(range(19101, 19101 + SERVERS))
        for p in ports:
            procs.append(subprocess.Popen([sys.executable, "-c", SERVER, str(p)]))
        sock = os.path.join(tmp, "lbd.sock")
        lines = [f"global {{ control-socket {sock} }}",
                 "service bench {", "    listen 192.0.2.10 tcp 80",
                 "    check http { path /health interval 1s timeout 900ms }"]
        for i in range(N):
            addr = f"127.0.{1 + i // 250}.{1 + i % 250}"
            lines.append(f"    backend b{i} {addr}:{ports[i % SERVERS]}")
        lines.append("}")
        conf = os.path.join(tmp, "lbd.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        time.sleep(1.0)
        lbd = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                               stderr=open(os.path.join(tmp, "lbd.log"), "w"))
        procs.append(lbd)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        hz = os.sysconf("SC_CLK_TCK")
        t0, c0, u0 = time.time(), cpu_ticks(lbd.pid), cpu_ticks(lbd.pid, "user")
        time.sleep(SECONDS)
        t1, c1, u1 = time.time(), cpu_ticks(lbd.pid), cpu_ticks(lbd.pid, "user")
        out = subprocess.run([LBCTL, "-s", sock, "--json", "show", "health"],
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
              f"kernel {cpu_pct - user_pct:.2f}% (on loopback the kernel's TCP "
              f"work for both ends runs in lbd's context)")
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


if __name__ == "__main__":
    main()
