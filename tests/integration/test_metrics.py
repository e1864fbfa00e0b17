#!/usr/bin/env python3
"""The Prometheus endpoint of the real lbd: GET /metrics in the text format
(validated by promtool from Debian's prometheus package), values that follow
reloads and admin changes, and a responder that answers bad requests with the
right status and never stalls. Prints TAP.

usage: test_metrics.py BUILD_DIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from tap import check, done, free_port

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LBD = os.path.join(BUILD, "lbd", "lbd")
LBCTL = os.path.join(BUILD, "lbd", "lbctl")


def fetch(port, path="/metrics", method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""
    except OSError as e:          # refused, reset, closed without a word
        return 0, "", str(e)


def raw(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except socket.timeout:
        pass
    s.close()
    return out


def value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-metrics.")
    proc = None
    try:
        port = free_port()
        sock = os.path.join(tmp, "lbd.sock")
        conf = os.path.join(tmp, "lbd.conf")
        text = (f"global {{ control-socket {sock} node-id m1 "
                f"metrics listen 127.0.0.1:{port} }}\n"
                "service web { listen 192.0.2.10 tcp 80\n"
                "  check tcp { interval 200ms timeout 150ms fall 1 }\n"
                f"  backend a 127.0.0.1:{free_port()} weight 4\n"
                "  backend b 127.0.0.1:9 }\n")
        with open(conf, "w") as f:
            f.write(text)
        proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(0.5)

        status, ctype, body = fetch(port)
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
              "GET /metrics answers 200 in the text format", f"{status} {ctype}")
        p = subprocess.run(["promtool", "check", "metrics"], input=body,
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "promtool check metrics accepts it", p.stdout + p.stderr)
        check('lbd_info{version="' in body and 'node_id="m1"} 1' in body,
              "lbd_info carries version and node", body[:300])
        check(value(body, 'lbd_backend_weight{service="web",backend="a"}') == 4
              and value(body, 'lbd_backend_up{service="web",backend="a"}') == 0
              and value(body, 'lbd_health_up{service="web",backend="a"}') == 0,
              "per-backend state, weight and health are there", body)
        check((value(body, 'lbd_health_checks_total{service="web",backend="a"}') or 0) >= 1,
              "health check counters are there")

        subprocess.run([LBCTL, "-s", sock, "reload"], capture_output=True, timeout=10)
        subprocess.run([LBCTL, "-s", sock, "set", "weight", "web/a", "9"],
                       capture_output=True, timeout=10)
        _, _, body = fetch(port)
        check(value(body, "lbd_reloads_total") == 1
              and value(body, 'lbd_backend_weight{service="web",backend="a"}') == 9
              and (value(body, "lbd_control_commands_total") or 0) >= 2,
              "values follow reloads and admin changes", body)

        code, head, body = fetch(port, "/")
        check(code == 200 and "<title>lbd status</title>" in body,
              "/ is the status page", (code, head))
        code, _, body = fetch(port, "/status.json")
        try:
            st = json.loads(body)
        except ValueError:
            st = {}
        check(code == 200 and st.get("stat", {}).get("backends") and
              "vrrp" in st and "events" in st,
              "/status.json has lbctl's show JSON and the events", body[:300])
        check(fetch(port, "/nothing")[0] == 404, "another path is 404")
        check(fetch(port, "/metrics", "POST")[0] == 405, "another method is 405")
        check(raw(port, b"garbage\r\n\r\n").startswith(b"HTTP/1.0 400"),
              "a malformed request is 400")
        check(raw(port, b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 10000).startswith(
              b"HTTP/1.0 431"), "an oversized request is refused (431)")

        # A client that connects and says nothing stalls nobody.
        silent = socket.create_connection(("127.0.0.1", port))
        results = []
        def one():
            results.append(fetch(port)[0])
        ts = [threading.Thread(target=one) for _ in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        check(results.count(200) == 20,
              "20 concurrent scrapes beside a silent client all succeed", results)
        silent.close()

        # Every place taken by silent clients (64, lbd's limit, and more):
        # the oldest idle one makes room, a scrape still gets through.
        silent = [socket.create_connection(("127.0.0.1", port))
                  for _ in range(80)]
        check(fetch(port)[0] == 200, "80 silent clients holding every place: "
              "a scrape still gets through (the oldest idle one is evicted)")
        for s in silent:
            s.close()

        with open(conf, "w") as f:
            f.write(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"))
        p = subprocess.run([LBCTL, "-s", sock, "reload"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 1 and "metrics listen cannot change on reload" in p.stderr,
              "moving the endpoint on reload is refused", p.stderr)
        check(fetch(port)[0] == 200, "... and it keeps serving where it was")
        big_status(tmp)
    finally:
        if proc is not None:
            proc.terminate()
            check(proc.wait(10) == 0, "lbd stops cleanly")
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def big_status(tmp):
    """150 services: the status page's JSON holds 100 of them, those with
    a backend out first, and says how many there are."""
    port = free_port()
    sock = os.path.join(tmp, "big.sock")
    conf = os.path.join(tmp, "big.conf")
    with open(conf, "w") as f:
        f.write(f"global {{ control-socket {sock} "
                f"metrics listen 127.0.0.1:{port} }}\n")
        for i in range(150):
            f.write(f"service s{i} {{ listen 192.0.2.{i + 1} tcp 80 "
                    f"backend a 10.0.{i}.1:80 backend b 10.0.{i}.2:80 }}\n")
    proc = subprocess.Popen([LBD, "-f", conf, "--foreground-log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if subprocess.run([LBCTL, "-s", sock, "show", "info"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        for b in ("s149/b", "s120/a"):
            subprocess.run([LBCTL, "-s", sock, "disable", b],
                           capture_output=True, timeout=10)
        code, _, body = fetch(port, "/status.json")
        try:
            st = json.loads(body)
        except ValueError:
            st = {}
        rows = {b["backend"]: b["state"] for b in
                (st.get("stat") or {}).get("backends", [])}
        svcs = {n.split("/")[0] for n in rows}
        check(code == 200 and st.get("services_total") == 150 and
              st.get("services_shown") == 100 and len(svcs) == 100 and
              rows.get("s149/b") == "disabled" and
              rows.get("s120/a") == "disabled" and "s0" in svcs and
              "s148" not in svcs and st.get("services_hidden_out") == 0,
              "150 services: /status.json holds 100, those with a backend "
              "out first", {k: st.get(k) for k in ("services_total",
                                                     "services_shown")})
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
