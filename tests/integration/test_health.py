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

from tap import check, done  # noqa: E402


class Health:
    status = 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = Health.status if self.path == "/healthz" else 404
        body = b"fine\n" if code == 200 else b"not fine\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


CONF = """\
global {{ control-socket {sock} }}
service web {{
    listen 192.0.2.10 tcp 80
    check http {{ path /healthz expect 200 interval 200ms timeout 150ms rise 2 fall 2 }}
    backend good 127.0.0.1:{good}
    backend hang 127.0.0.1:{hang}
    backend closed 127.0.0.1:{closed}
}}
service ssh {{
    listen 192.0.2.10 tcp 22
    check tcp {{ interval 200ms timeout 150ms rise 1 fall 1 }}
    backend local 127.0.0.1:{good}
}}
service tls {{
    listen 192.0.2.10 tcp 443
    check https
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


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-health.")
    srv = hang = proc = None
    try:
        good, hang_port, closed = free_port(), free_port(), free_port()
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", good), Handler)
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

        # fall 2 x interval 200ms + timeout 150ms, and some slack
        down_bound = 2 * 0.2 + 0.15 + 0.6
        up_bound = 2 * 0.2 + 0.6

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
        check(h["ssh/local"]["state"] == "up" and h["ssh/local"]["reason"] == "connected",
              "a tcp check passes on a listening port", h["ssh/local"])
        check(h["tls/x"]["checked"] is False and "not implemented" in h["tls/x"]["reason"]
              and "check=https is not implemented yet" in logtext(),
              "a check type not implemented yet says so (and is logged)", h["tls/x"])

        Health.status = 503
        t = wait_for(sock, "web/good", "down", 5)
        check(t is not None and t <= down_bound,
              f"503 takes a backend down within fall x interval + timeout "
              f"({t and round(t, 2)}s, bound {down_bound}s)")
        check('backend=web/good check=http UP->DOWN reason="status=503"' in logtext(),
              "the transition is logged once with its reason")
        Health.status = 200
        t = wait_for(sock, "web/good", "up", 5)
        check(t is not None and t <= up_bound,
              f"200 brings it back within rise x interval ({t and round(t, 2)}s, "
              f"bound {up_bound}s)")

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
