#!/usr/bin/env python3
"""bench-health: the cost of health checking.

1000 backends with an HTTP check every second, for 30 seconds. lbd runs in
a network namespace of its own and the backends in another, behind a veth
pair (four HTTP server processes, 250 backend addresses each).

A veth hands a frame to the other end's stack in the sender's context, so
the backends' half of each handshake would still be charged to lbd. Both
ends therefore receive through threaded NAPI (GRO on, `threaded` 1; TSO
off, without which a veth never queues TCP to NAPI -- a check's segments
are all smaller than one MSS, so TSO has nothing to do for them): what
arrives at the backends' end is processed in that end's kernel thread, as
the backends' own machine would, and what arrives at lbd's end in lbd's
end's thread, which is counted as lbd's (its receive path). Measures that
CPU time over the run (from /proc) and counts missed intervals: a backend
that ran fewer checks than the run allows, or any check that failed.

Then HAProxy, in lbd's place, checks the same backends the same way (an
HTTP GET every second each, one thread), measured alike: the same machine
in the same run, so the ratio means more than either figure. Prints, last:
    health: checks=1000 interval_ms=1000 cpu_pct=... missed=...
            haproxy_cpu_pct=... ratio=...

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


def napi_threads(dev):
    """The kernel threads that receive for `dev` (napi/DEV-ID)."""
    out = []
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip().startswith(f"napi/{dev}-"):
                    out.append(int(p))
        except (OSError, ValueError):
            pass
    return out


def cpu_ticks(pid, which=None):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return user if which == "user" else system if which == "sys" else user + system


NS = f"lbdbh{os.getpid() % 100000}"
LDEV = f"bh{os.getpid() % 100000}l"     # lbd's end of the veth (unique)


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, capture_output=True)


def backend_addr(i):
    return f"10.77.{1 + i // 250}.{1 + i % 250}"


def namespaces():
    """lbd's namespace and the backends', one veth between them; every
    backend address on the backends' end."""
    sh(f"ip netns add {NS}-lbd && ip netns add {NS}-be")
    sh(f"ip link add {LDEV} netns {NS}-lbd type veth peer name b0 netns "
       f"{NS}-be")
    sh(f"ip -n {NS}-lbd addr add 10.77.0.1/16 dev {LDEV}")
    sh(f"ip -n {NS}-lbd link set {LDEV} up && ip -n {NS}-lbd link set lo up")
    sh(f"ip -n {NS}-be link set b0 up && ip -n {NS}-be link set lo up")
    # Each end receives in a kernel thread of its own (see the top).
    for ns, dev in (("lbd", LDEV), ("be", "b0")):
        sh(f"ip netns exec {NS}-{ns} ethtool -K {dev} gro on tso off")
        sh(f"ip netns exec {NS}-{ns} sh -c 'echo 1 > "
           f"/sys/class/net/{dev}/threaded'")
    batch = "".join(f"addr add {backend_addr(i)}/16 dev b0\n"
                    for i in range(N))
    subprocess.run(["ip", "-n", f"{NS}-be", "-batch", "-"], input=batch,
                   text=True, check=True, capture_output=True)


def measure(pid, rx):
    """CPU of `pid` and of the receive threads `rx` over SECONDS, as % of
    one core: (process, its user part, receiving)."""
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0, u0 = time.time(), cpu_ticks(pid), cpu_ticks(pid, "user")
    r0 = sum(cpu_ticks(p) for p in rx)
    time.sleep(SECONDS)
    t1, c1, u1 = time.time(), cpu_ticks(pid), cpu_ticks(pid, "user")
    r1 = sum(cpu_ticks(p) for p in rx)
    k = 100.0 / hz / (t1 - t0)
    return (c1 - c0) * k, (u1 - u0) * k, (r1 - r0) * k


HAPROXY_VERSION = ""


def haproxy(tmp, ports):
    """HAProxy in lbd's namespace with the same 1000 servers, an HTTP
    check of /health every second (one thread, as lbd's checks run on
    one)."""
    global HAPROXY_VERSION
    HAPROXY_VERSION = subprocess.run(["haproxy", "-v"], capture_output=True,
                                     text=True).stdout.split()[2]
    lines = ["global", "    nbthread 1", "    maxconn 4096",
             f"    stats socket {tmp}/haproxy.sock", "defaults",
             "    mode http", "    timeout connect 900ms",
             "    timeout check 900ms", "    timeout client 5s",
             "    timeout server 5s", "frontend f",
             "    bind 127.0.0.1:18080", "    default_backend bench",
             "backend bench", "    option httpchk GET /health"]
    for i in range(N):
        lines.append(f"    server b{i} {backend_addr(i)}:{ports[i % SERVERS]} "
                     "check inter 1s")
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.Popen(["ip", "netns", "exec", f"{NS}-lbd", "haproxy",
                          "-db", "-f", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(tmp, "haproxy.log"), "w"))
    for _ in range(100):
        if os.path.exists(f"{tmp}/haproxy.sock"):
            break
        time.sleep(0.05)
    return p


def haproxy_up(sock):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    rows = [r.split(",") for r in data.decode().splitlines()]
    st = [h.lstrip("# ") for h in rows[0]].index("status")
    return sum(1 for r in rows[1:] if len(r) > st and r[1] not in
               ("FRONTEND", "BACKEND") and r[st] == "UP")


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
        rx = napi_threads(LDEV)
        if not rx:
            sys.exit(f"bench-health: no napi/{LDEV} thread (threaded NAPI)")
        proc_pct, user_pct, rx_pct = measure(lbd_pid(lbd.pid), rx)
        cpu_pct = proc_pct + rx_pct
        out = subprocess.run(["ip", "netns", "exec", f"{NS}-lbd", LBCTL, "-s",
                              sock, "--json", "show", "health"],
                             capture_output=True, text=True, timeout=30).stdout
        checks = json.loads(out)["checks"]
        lbd.send_signal(signal.SIGTERM)
        lbd.wait(10)
        # Each backend gets at least SECONDS - 1 checks (the first one lands at
        # a random point of the first interval); any failure counts too.
        missed = sum(max(0, (SECONDS - 1) - c["checks"]) for c in checks)
        failures = sum(c["failures"] for c in checks)
        total = sum(c["checks"] for c in checks)
        print(f"backends {len(checks)}, checks run {total} in {SECONDS}s "
              f"({total / SECONDS:.0f}/s), failed {failures}")
        print(f"lbd cpu {cpu_pct:.2f}% of one core: user {user_pct:.2f}%, "
              f"kernel {proc_pct - user_pct:.2f}% in its calls, "
              f"{rx_pct:.2f}% receiving (its end's NAPI thread); the "
              f"backends behind a veth, receiving in their own")

        # HAProxy checking the same backends the same way, measured alike.
        hp = haproxy(tmp, ports)
        procs.append(hp)
        time.sleep(2.0)
        hproc, huser, hrx = measure(hp.pid, rx)
        hcpu = hproc + hrx
        up = haproxy_up(os.path.join(tmp, "haproxy.sock"))
        print(f"haproxy {HAPROXY_VERSION} cpu {hcpu:.2f}% of one core: user "
              f"{huser:.2f}%, kernel {hproc - huser:.2f}% in its calls, "
              f"{hrx:.2f}% receiving; {up} of {N} servers up")
        print(f"health: checks={len(checks)} interval_ms=1000 cpu_pct={cpu_pct:.2f} "
              f"missed={missed + failures} haproxy_cpu_pct={hcpu:.2f} "
              f"ratio={cpu_pct / hcpu if hcpu else 0:.2f}")
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
