#!/usr/bin/env python3
"""Integration tests of health checks in the real lbd, against real servers.

Servers run inside this process on loopback: an HTTP server whose /healthz
answers 200 or 503 as the test decides, a server that accepts connections
and never answers, and a port nobody listens on. lbd checks them every 200 ms;
the test asserts on `lbctl show health --json` and on lbd's log. Everything it
starts is stopped at the end, also on failure. Prints TAP.

usage: test_health.py BUILD_DIR
"""
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")

from tap import check, done, free_port  # noqa: E402


class Health:
    status = 200
    src_seen = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/src":
            Health.src_seen.add(self.client_address[0])
        code = Health.status if self.path in ("/healthz", "/src") else 404
        body = b"fine\n" if code == 200 else b"not fine\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """Health checks close abortively (RST) once they have a verdict; a bare
    tcp check resets right after connecting. Not an error here."""
    def handle_error(self, request, client_address):
        pass


CONF = """\
global {{ control-socket {sock} }}
service web {{
    listen 192.0.2.10 tcp 80
    check http {{ path /healthz expect 200 interval 200ms timeout 150ms rise 2 fall 2 }}
    backend good 127.0.0.1:{good}
    backend hang 127.0.0.1:{hang}
    backend closed 127.0.0.1:{closed}
}}
service src {{
    listen 192.0.2.10 tcp 8081
    check http {{ path /src interval 200ms timeout 150ms jitter 50ms source 127.0.0.2 }}
    backend s1 127.0.0.1:{good}
}}
service nosrc {{
    listen 192.0.2.10 tcp 8082
    check tcp {{ interval 200ms timeout 150ms fall 1 source 192.0.2.99 }}
    backend n1 127.0.0.1:{good}
}}
service ssh {{
    listen 192.0.2.10 tcp 22
    check tcp {{ interval 200ms timeout 150ms rise 1 fall 1 }}
    backend local 127.0.0.1:{good}
}}
service tls {{
    listen 192.0.2.10 tcp 443
    check tls {{ interval 200ms timeout 150ms fall 1 }}
    backend x 127.0.0.1:{good}
}}
"""


def health(sock):
    p = subprocess.run([LBCTL, "-s", sock, "--json", "show", "health"],
                       capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        return {}
    return {c["backend"]: c for c in json.loads(p.stdout)["checks"]}


def wait_for(sock, backend, state, limit):
    """Seconds until `backend` is in `state`, or None after `limit`."""
    t0 = time.time()
    while time.time() - t0 < limit:
        h = health(sock).get(backend)
        if h is not None and h["state"] == state:
            return time.time() - t0
        time.sleep(0.05)
    return None


CONF2 = """\
global {{ control-socket {sock} }}
service dns {{
    listen 192.0.2.10 udp 53
    check udp {{ send ping receive pong interval 200ms timeout 150ms rise 1 fall 1 }}
    backend echo 127.0.0.1:{udp}
    backend silent 127.0.0.1:{closed}
}}
service app {{
    listen 192.0.2.10 tcp 8080
    check agent {{ port {agent} interval 200ms timeout 150ms rise 1 fall 1 }}
    backend a1 127.0.0.1:8080
}}
service job {{
    listen 192.0.2.10 tcp 9000
    check script {{ command "test -e {flag} && echo ready on $LBD_BACKEND_ADDR:$LBD_BACKEND_PORT"
                   interval 300ms timeout 250ms rise 1 fall 1 }}
    backend j1 127.0.0.1:9000
}}
service stuck {{
    listen 192.0.2.10 tcp 9001
    check script {{ command "echo $$ >> {pids}; exec sleep 30" interval 200ms timeout 100ms rise 1 fall 1 }}
    backend s1 127.0.0.1:9001
}}
service redis {{
    listen 192.0.2.10 tcp 6379
    check tcp {{ send "PING\\r\\n" expect "+PONG" interval 200ms timeout 150ms rise 1 fall 1 }}
    backend good 127.0.0.1:{redis}
    backend wrong 127.0.0.1:{wrong}
}}
service smtp {{
    listen 192.0.2.10 tcp 25
    check tcp {{ expect "220 " interval 200ms timeout 150ms rise 1 fall 1 }}
    backend mx 127.0.0.1:{smtp}
}}
service ns {{
    listen 192.0.2.12 udp 53
    check dns {{ query www.example.com type A expect 192.0.2.53 interval 200ms timeout 150ms rise 1 fall 1 }}
    backend right 127.0.0.1:{dns}
    backend stale 127.0.0.1:{stale}
}}
service nx {{
    listen 192.0.2.11 udp 53
    check dns {{ query missing.example.com interval 200ms timeout 150ms rise 1 fall 1 }}
    backend right 127.0.0.1:{dns}
}}
service who {{
    listen 192.0.2.10 tcp 9002
    check script {{ command "echo uid=$(id -u) gid=$(id -g) groups=$(id -G) $(grep CapEff /proc/self/status)"
                   interval 300ms timeout 250ms rise 1 fall 1 }}
    backend w1 127.0.0.1:9002
}}
"""


class Agent:
    reply = b"up\n"


def serve_datagrams(sock, stop, answer):
    """Answer each datagram on `sock` with answer(data), until `stop`;
    None answers nothing."""
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            continue
        except OSError:
            return
        reply = answer(data)
        if reply is not None:
            sock.sendto(reply, peer)


def serve_udp(sock, stop):
    serve_datagrams(sock, stop, lambda d: b"pong" if d == b"ping" else None)


def serve_dns(sock, stop, address):
    """A DNS server that knows one name, www.example.com, at `address`;
    NXDOMAIN for anything else."""
    def answer(q):
        end = q.index(b"\0", 12) + 5          # the question, its type, class
        known = q[12:end - 4] == b"\3www\7example\3com\0"
        head = q[:2] + bytes([0x81, 0x80 if known else 0x83]) + \
            b"\0\1" + (b"\0\1" if known else b"\0\0") + b"\0\0\0\0"
        return head + q[12:end] + ((b"\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4" +
                                    socket.inet_aton(address)) if known
                                   else b"")
    serve_datagrams(sock, stop, answer)


def serve_tcp(sock, stop, handle):
    """Accept on `sock` until `stop`; handle(conn) each connection."""
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        with conn:
            conn.settimeout(1)
            try:
                handle(conn)
            except OSError:
                pass


def serve_agent(sock, stop):
    serve_tcp(sock, stop, lambda conn: conn.sendall(Agent.reply))


def serve_banner(sock, stop, greeting, replies):
    """A banner protocol: `greeting` at once, then for the request line
    the reply `replies` has for it (Redis, SMTP)."""
    def handle(conn):
        if greeting:
            conn.sendall(greeting)
        line = conn.recv(512)
        if line in replies:
            conn.sendall(replies[line])
    serve_tcp(sock, stop, handle)


def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


def alive_sleep(pid):
    """Is `pid` still the `sleep 30` a stuck script exec'd (not a reuse)?"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:2] == [b"sleep", b"30"]
    except OSError:
        return False


def children_of(pid):
    try:
        out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "--ppid", str(pid)],
                             capture_output=True, text=True, timeout=5).stdout
    except Exception:
        return []
    return [l for l in out.splitlines() if l.strip()]


# What lbd keeps (lbd/privs.h): CHOWN KILL SETGID SETUID NET_BIND_SERVICE
# NET_ADMIN NET_RAW IPC_LOCK.
KEPT = sum(1 << c for c in (0, 5, 6, 7, 10, 12, 13, 14))


def lbd_caps(pid):
    """KEPT and {thread id: (CapEff, CapBnd)} of lbd's threads."""
    caps = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            v = dict(line.split(":", 1) for line in f if ":" in line)
        caps[tid] = (int(v["CapEff"], 16), int(v["CapBnd"], 16))
    return KEPT, caps


def other_checks(tmp):
    """udp, agent and script checks, against servers made here."""
    stop = threading.Event()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    agent = socket.socket()
    agent.bind(("127.0.0.1", 0))
    agent.listen(16)
    redis, wrong, smtp = listener(), listener(), listener()
    dns, stale = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                  for _ in range(2))
    dns.bind(("127.0.0.1", 0))
    stale.bind(("127.0.0.1", 0))
    threads = [threading.Thread(target=serve_udp, args=(udp, stop), daemon=True),
               threading.Thread(target=serve_agent, args=(agent, stop), daemon=True),
               threading.Thread(target=serve_banner, daemon=True, args=(
                   redis, stop, b"", {b"PING\r\n": b"+PONG\r\n"})),
               threading.Thread(target=serve_banner, daemon=True, args=(
                   wrong, stop, b"", {b"PING\r\n": b"-NOAUTH Authentication "
                                      b"required.\r\n"})),
               threading.Thread(target=serve_banner, daemon=True, args=(
                   smtp, stop, b"220 mx.example ESMTP\r\n", {})),
               threading.Thread(target=serve_dns, daemon=True,
                                args=(dns, stop, "192.0.2.53")),
               threading.Thread(target=serve_dns, daemon=True,
                                args=(stale, stop, "192.0.2.54"))]
    for t in threads:
        t.start()
    sock = os.path.join(tmp, "lbd2.sock")
    conf = os.path.join(tmp, "lbd2.conf")
    flag = os.path.join(tmp, "ready.flag")
    pids = os.path.join(tmp, "stuck.pids")   # each stuck script's own pid
    open(pids, "w").close()
    os.chmod(pids, 0o666)
    log = os.path.join(tmp, "lbd2.log")
    with open(conf, "w") as f:
        f.write(CONF2.format(sock=sock, udp=udp.getsockname()[1], closed=free_port(),
                             agent=agent.getsockname()[1], flag=flag,
                             pids=pids, redis=redis.getsockname()[1],
                             wrong=wrong.getsockname()[1],
                             smtp=smtp.getsockname()[1],
                             dns=dns.getsockname()[1],
                             stale=stale.getsockname()[1]))
    logf = open(log, "w")
    proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"], stdout=logf,
                            stderr=logf)
    try:
        for _ in range(100):
            if os.path.exists(sock) or proc.poll() is not None:
                break
            time.sleep(0.05)
        if not check(proc.poll() is None, "lbd starts with udp, agent and script checks",
                     open(log).read()):
            return
        time.sleep(0.8)
        h = health(sock)
        check(h["dns/echo"]["state"] == "up" and h["dns/echo"]["reason"] == "reply",
              "udp: a server that answers is up", h.get("dns/echo"))
        check(h["dns/silent"]["state"] == "down"
              and h["dns/silent"]["reason"] == "port unreachable",
              "udp: ICMP port unreachable takes it down at once", h.get("dns/silent"))
        check(h["app/a1"]["state"] == "up" and not h["app/a1"]["drain"],
              "agent: \"up\" is up", h.get("app/a1"))
        check(h["redis/good"]["state"] == "up" and
              h["redis/good"]["reason"] == "expect matched" and
              h["redis/wrong"]["state"] == "down" and
              h["redis/wrong"]["reason"] == 'closed before the expected '
              'reply, got "-NOAUTH Authentication required."',
              "tcp send \"PING\\r\\n\" expect \"+PONG\": a Redis that "
              "answers +PONG is up, one that answers -NOAUTH is down with "
              "what it said", (h.get("redis/good"), h.get("redis/wrong")))
        check(h["ns/right"]["state"] == "up" and
              h["ns/right"]["reason"] == "dns: the expected address" and
              h["ns/stale"]["state"] == "down" and
              h["ns/stale"]["reason"] == "dns: the answer is not the "
              "expected address" and h["nx/right"]["state"] == "down" and
              h["nx/right"]["reason"] == "dns: NXDOMAIN",
              "dns: the server answering with the expected address is up; "
              "one with another address, and a name it does not know "
              "(NXDOMAIN), are down", (h.get("ns/right"), h.get("ns/stale"),
                                       h.get("nx/right")))
        check(h["smtp/mx"]["state"] == "up" and
              h["smtp/mx"]["reason"] == "expect matched",
              "tcp expect \"220 \" without send: an SMTP greeting is up",
              h.get("smtp/mx"))
        check(h["job/j1"]["state"] == "down" and h["job/j1"]["reason"].startswith("exit=1"),
              "script: a failing command is down (exit=1)", h.get("job/j1"))
        check(h["stuck/s1"]["state"] == "down"
              and h["stuck/s1"]["reason"] == "timeout (killed)",
              "script: a command that overruns its timeout is killed", h.get("stuck/s1"))
        # Run by root, lbd starts scripts as script-user (nobody by
        # default), in nobody's group alone, with no capabilities.
        nobody = pwd.getpwnam("nobody")
        uid, gid = ((nobody.pw_uid, nobody.pw_gid) if os.geteuid() == 0
                    else (os.geteuid(), os.getegid()))
        why = h.get("who/w1", {}).get("reason", "")
        check(why.startswith(f"exit=0: uid={uid} gid={gid} groups={gid} ")
              and why.endswith("CapEff: 0000000000000000" if os.geteuid() == 0
                               else ""),
              f"script: runs as uid {uid}, gid {gid}, no other group"
              f"{', no capability' if os.geteuid() == 0 else ''}",
              h.get("who/w1"))
        if os.geteuid() == 0:
            mask, caps = lbd_caps(proc.pid)
            check(caps and all(eff == mask and bnd == mask
                               for eff, bnd in caps.values()),
                  f"lbd keeps only the capabilities it needs once set up "
                  f"(CapEff = CapBnd = {mask:#x} in each of its "
                  f"{len(caps)} threads)", caps)

        Agent.reply = b"drain\n"
        time.sleep(0.6)
        h = health(sock)["app/a1"]
        check(h["state"] == "up" and h["drain"] and "agent: drain" in h["reason"],
              "agent: \"drain\" keeps it up but drained", h)
        Agent.reply = b"down # maintenance\n"
        check(wait_for(sock, "app/a1", "down", 3) is not None,
              "agent: \"down\" takes it down")
        Agent.reply = b"up 75%\n"
        check(wait_for(sock, "app/a1", "up", 3) is not None
              and health(sock)["app/a1"]["weight_pct"] == 75
              and not health(sock)["app/a1"]["drain"],
              "agent: \"up 75%\" brings it back with a weight of 75%",
              health(sock).get("app/a1"))
        p = subprocess.run([LBCTL, "-s", sock, "--json", "show", "stat"],
                           capture_output=True, text=True, timeout=10)
        st = {b["backend"]: b for b in json.loads(p.stdout)["backends"]}
        check(st["app/a1"]["weight"] == 1 and st["app/a1"]["state"] == "up",
              "the agent's 75% scales the effective weight (1 x 75% rounds to 1)",
              st["app/a1"])
        Agent.reply = b"sleepy\n"
        time.sleep(0.6)
        check("agent: bad reply" in health(sock)["app/a1"]["reason"],
              "agent: a reply it does not understand is a failure",
              health(sock).get("app/a1"))

        open(flag, "w").close()
        check(wait_for(sock, "job/j1", "up", 3) is not None
              and health(sock)["job/j1"]["reason"] == "exit=0: ready on 127.0.0.1:9000",
              "script: exit 0 is up; the backend is in its environment",
              health(sock).get("job/j1"))
        kids = children_of(proc.pid)
        check(not any(" Z" in k or "defunct" in k for k in kids) and len(kids) <= 2,
              "scripts leave no zombies and no strays behind", "\n".join(kids))
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(10)
        check(rc == 0, "lbd stops cleanly with scripts running")
        time.sleep(0.2)
        # Only the scripts this test's lbd started: each wrote its pid.
        started = open(pids).read().split() if os.path.exists(pids) else []
        strays = [p for p in started if alive_sleep(p)]
        check(started != [] and strays == [], "no script survives lbd's stop",
              f"{len(started)} started, alive: {strays}")
        stop.set()
        for t in threads:
            t.join(2)
        udp.close()
        agent.close()


CONF3 = """\
global {{ control-socket {sock} }}
service a {{ listen 192.0.2.10 tcp 1
  check tls {{ interval 300ms timeout 250ms rise 1 fall 1 }}
  backend plain 127.0.0.1:{p1} }}
service b {{ listen 192.0.2.10 tcp 2
  check https {{ path / expect 200 host backend.test verify on ca-file {ca}
                interval 300ms timeout 250ms rise 1 fall 1 }}
  backend good 127.0.0.1:{p1} }}
service c {{ listen 192.0.2.10 tcp 3
  check https {{ host wrong.test verify on ca-file {ca} interval 300ms timeout 250ms
                rise 1 fall 1 }}
  backend badname 127.0.0.1:{p1} }}
service d {{ listen 192.0.2.10 tcp 4
  check tls {{ verify on interval 300ms timeout 250ms rise 1 fall 1 }}
  backend untrusted 127.0.0.1:{p1} }}
service e {{ listen 192.0.2.10 tcp 5
  check tls {{ tls-min 1.3 interval 300ms timeout 250ms rise 1 fall 1 }}
  backend old 127.0.0.1:{p2} }}
"""


def tls_checks(tmp):
    """tls and https checks against openssl s_server, with a CA made here."""
    run = lambda *a: subprocess.run(list(a), cwd=tmp, capture_output=True, timeout=30)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=lbd test CA")
    run("openssl", "req", *ec, "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=backend.test")
    with open(os.path.join(tmp, "ext"), "w") as f:
        f.write("subjectAltName=DNS:backend.test\n")
    run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext")
    p1, p2 = free_port(), free_port()
    servers = [subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                                 "-cert", "srv.pem", "-key", "srv.key", "-www",
                                 "-quiet"] + extra, cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for port, extra in ((p1, []), (p2, ["-tls1_2"]))]
    sock = os.path.join(tmp, "lbd3.sock")
    conf = os.path.join(tmp, "lbd3.conf")
    log = os.path.join(tmp, "lbd3.log")
    with open(conf, "w") as f:
        f.write(CONF3.format(sock=sock, p1=p1, p2=p2, ca=os.path.join(tmp, "ca.pem")))
    proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)
        h = health(sock)
        want = {
            "a/plain": ("up", "handshake ok (TLSv1.3)", "tls: a handshake with a "
                        "self-signed server passes when verify is off"),
            "b/good": ("up", "status=200", "https: verified against the CA file, "
                       "right name, status 200"),
            "c/badname": ("down", "certificate: hostname mismatch",
                          "https: a certificate for another name fails"),
            "d/untrusted": ("down", "certificate: unable to get local issuer certificate",
                            "tls: a certificate the system does not trust fails"),
            "e/old": ("down", "tls handshake: tlsv1 alert protocol version",
                      "tls: tls-min 1.3 against a TLS 1.2 server fails"),
        }
        for name, (state, reason, title) in want.items():
            got = h.get(name, {})
            check(got.get("state") == state and got.get("reason") == reason, title, got)
    finally:
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(10) == 0, "lbd stops cleanly with tls checks")
        for s in servers:
            s.kill()
            s.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-health.")
    # The scripts run as script-user (nobody): they look for a flag and
    # write their pids here.
    os.chmod(tmp, 0o755)
    srv = hang = proc = None
    try:
        good, hang_port, closed = free_port(), free_port(), free_port()
        srv = QuietServer(("127.0.0.1", good), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        hang = socket.socket()
        hang.bind(("127.0.0.1", hang_port))
        hang.listen(64)         # accepts (the kernel does), never answers

        sock = os.path.join(tmp, "lbd.sock")
        conf = os.path.join(tmp, "lbd.conf")
        log = os.path.join(tmp, "lbd.log")
        text = CONF.format(sock=sock, good=good, hang=hang_port, closed=closed)
        with open(conf, "w") as f:
            f.write(text)
        logf = open(log, "w")
        proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                                stdout=logf, stderr=logf)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)

        def logtext():
            with open(log) as f:
                return f.read()


        check(wait_for(sock, "web/closed", "down", 3) is not None,
              "a backend nobody listens on goes down")
        h = health(sock)
        check(h.get("web/closed", {}).get("reason") == "connect refused",
              "... with reason connect refused", h.get("web/closed"))
        check(wait_for(sock, "web/hang", "down", 3) is not None
              and health(sock)["web/hang"]["reason"] == "timeout",
              "a backend that accepts and never answers goes down: timeout",
              health(sock).get("web/hang"))
        time.sleep(0.6)
        h = health(sock)
        check(h["web/good"]["state"] == "up" and h["web/good"]["reason"] == "status=200"
              and h["web/good"]["checks"] >= 3 and h["web/good"]["failures"] == 0,
              "the healthy backend stays up, status=200", h["web/good"])
        check(Health.src_seen == {"127.0.0.2"} and h["src/s1"]["state"] == "up",
              "source: the check comes from the configured address",
              f"{Health.src_seen} {h.get('src/s1')}")
        check(h["nosrc/n1"]["state"] == "down" and h["nosrc/n1"]["reason"].startswith(
              "cannot use source address"),
              "source: an address this host does not have is a clear failure",
              h.get("nosrc/n1"))
        check(h["ssh/local"]["state"] == "up" and h["ssh/local"]["reason"] == "connected",
              "a tcp check passes on a listening port", h["ssh/local"])
        check(h["tls/x"]["state"] == "down"
              and h["tls/x"]["reason"].startswith("tls handshake:"),
              "a tls check against a server that speaks no TLS fails", h["tls/x"])

        # The transitions, counted in checks (fall 2, rise 2), not in
        # time: the log line of each says the counts it happened at.
        watch = subprocess.Popen([LBCTL, "-s", sock, "watch", "--json"],
                                 stdout=subprocess.PIPE, text=True)
        events = []
        threading.Thread(target=lambda: [events.append(json.loads(x))
                                         for x in watch.stdout],
                         daemon=True).start()
        Health.status = 503
        t = wait_for(sock, "web/good", "down", 30)
        down = re.findall(r'backend=web/good check=http UP->DOWN '
                          r'reason="status=503" checks=(\d+) failures=(\d+)',
                          logtext())
        check(t is not None and len(down) == 1 and down[0][1] == "2",
              "503 takes a backend down at its second failed check (fall 2), "
              "logged once with its reason and counts", down)
        Health.status = 200
        t = wait_for(sock, "web/good", "up", 30)
        up = re.findall(r'backend=web/good check=http DOWN->UP '
                        r'reason="status=200" checks=(\d+) failures=(\d+)',
                        logtext())
        check(t is not None and len(up) == 1 and down and
              (int(up[0][0]) - int(down[0][0])) -
              (int(up[0][1]) - int(down[0][1])) == 2,
              "200 brings it back after two good checks (rise 2)", (down, up))
        # (src/s1 checks the same server: its transitions come too.)
        def hev():
            return [(e.get("backend"), e.get("state"), e.get("reason"))
                    for e in list(events) if e.get("event") == "health" and
                    e.get("backend") == "web/good"]
        deadline = time.time() + 30
        while time.time() < deadline and len(hev()) < 2:
            time.sleep(0.05)
        watch.terminate()
        watch.wait(10)
        hev = hev()
        check(hev == [("web/good", "down", "status=503"),
                      ("web/good", "up", "status=200")],
              "lbctl watch --json streams both transitions with their "
              "reasons", events)

        # Admin state overrides health; health shows through when enabled.
        def stat():
            p = subprocess.run([LBCTL, "-s", sock, "--json", "show", "stat"],
                               capture_output=True, text=True, timeout=10)
            return {b["backend"]: b for b in json.loads(p.stdout)["backends"]}
        st = stat()
        check(st["web/good"]["state"] == "up" and st["web/good"]["health"] == "up"
              and st["web/closed"]["state"] == "down" and not st["web/closed"]["takes_new"],
              "show stat: a down backend takes no new connections", st)
        subprocess.run([LBCTL, "-s", sock, "disable", "web/good"], capture_output=True, timeout=10)
        st = stat()
        check(st["web/good"]["state"] == "disabled" and st["web/good"]["health"] == "up",
              "disable overrides a healthy check", st["web/good"])
        subprocess.run([LBCTL, "-s", sock, "enable", "web/good"], capture_output=True, timeout=10)
        check(stat()["web/good"]["state"] == "up", "enable gives it back to health")

        # A reload with the same checks keeps their state and counters.
        before = health(sock)
        os.kill(proc.pid, signal.SIGHUP)
        time.sleep(0.3)
        after = health(sock)
        check(after["web/closed"]["state"] == "down"
              and after["web/closed"]["checks"] >= before["web/closed"]["checks"]
              and after["web/good"]["checks"] >= before["web/good"]["checks"],
              "a reload keeps the state of unchanged checks (no flap)",
              f"{before}\n{after}")
        check(logtext().count("backend=web/closed check=http UP->DOWN") == 1,
              "no second transition logged for it after the reload")
        # Changing one backend's check recreates that one only.
        with open(conf, "w") as f:
            f.write(text.replace("rise 1 fall 1", "rise 1 fall 2"))
        p = subprocess.run([LBCTL, "-s", sock, "reload"], capture_output=True,
                           text=True, timeout=10)
        time.sleep(0.1)
        after2 = health(sock)
        check(p.returncode == 0 and after2["ssh/local"]["checks"] < after["ssh/local"]["checks"]
              and after2["web/good"]["checks"] >= after["web/good"]["checks"],
              "a changed check starts afresh, the others carry on",
              f"{after}\n{after2}")

        srv.shutdown()
        srv.server_close()
        srv = None
        t = wait_for(sock, "web/good", "down", 5)
        check(t is not None and health(sock)["web/good"]["reason"] == "connect refused",
              "a stopped server takes its backend down: connect refused")

        p = subprocess.run([LBCTL, "-s", sock, "show", "health"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 0 and "web/good" in p.stdout and "BACKEND" in p.stdout,
              "lbctl show health prints a table", p.stdout)

        proc.send_signal(signal.SIGTERM)
        check(proc.wait(10) == 0, "lbd stops cleanly with checks running")
        proc = None

        other_checks(tmp)
        tls_checks(tmp)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if srv is not None:
            srv.shutdown()
            srv.server_close()
        if hang is not None:
            hang.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
