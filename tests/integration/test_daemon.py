#!/usr/bin/env python3
"""Integration tests of the real lbd daemon and lbctl.

Starts lbd on a temporary config and control socket (in a temporary
directory, nothing outside it), drives it through lbctl and raw sockets, and
prints TAP. Every process it starts is stopped by PID at the end, also when a
test fails.

usage: test_daemon.py BUILD_DIR
"""
import json
import os
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
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tap import check, done  # noqa: E402

procs = []


CONF_V1 = """\
global {{
    node-id itest
    control-socket {sock}
    control-socket-readonly {sock}.ro
}}
service web {{
    listen 127.0.0.1 tcp 8080
    mode routed
    scheduler rr
    backend web1 127.0.0.11:80 weight 10
    backend web2 127.0.0.12:80 weight 10
}}
"""

CONF_V2 = CONF_V1 + """\
service dns {{
    listen 127.0.0.1 udp 53
    backend ns1 127.0.0.21
}}
"""

CONF_BAD = """\
global {{
    node-id itest
    control-socket {sock}
}}
service web {{
    listen 127.0.0.1 tcp 8080
    mode routd
    backend web1 127.0.0.11:80 weight 300
}}
"""


class Lbd:
    def __init__(self, tmp, conf_text, name="lbd"):
        self.tmp = tmp
        self.sock = os.path.join(tmp, name + ".sock")
        self.conf = os.path.join(tmp, name + ".conf")
        self.pidfile = os.path.join(tmp, name + ".pid")
        self.log = os.path.join(tmp, name + ".log")
        self.write(conf_text)
        self.proc = None

    def write(self, text):
        with open(self.conf, "w") as f:
            f.write(text.format(sock=self.sock))

    def start(self, wait=True, env=None):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [LBD, "-f", self.conf, "--pidfile", self.pidfile, "--foreground-log"],
            stdout=logf, stderr=logf,
            env=None if env is None else dict(os.environ, **env))
        procs.append(self.proc)
        if wait:
            deadline = time.time() + 10
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    return False
                if os.path.exists(self.sock) and ctl(self, "show", "info")[0] == 0:
                    return True
                time.sleep(0.05)
            return False
        return True

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def ctl(d, *args, json_out=False, sock=None):
    cmd = [LBCTL, "-s", sock or d.sock] + (["--json"] if json_out else []) + \
        list(args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 124, "", "lbctl got no answer in 60 s"
    return p.returncode, p.stdout, p.stderr


def raw(d, data, timeout=5.0):
    """Send raw bytes on a new connection; return everything read until the
    server closes or the timeout passes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(d.sock)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if out.endswith(b".ok\n") or out.endswith(b".error\n"):
                # Give a closing server the chance to close.
                s.settimeout(0.5)
    except socket.timeout:
        pass
    s.close()
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="lbd-itest.")
    try:
        run(tmp)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def run(tmp):
    # ---- the command line -----------------------------------------------
    p = subprocess.run([LBD, "--version"], capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.startswith("lbd "), "lbd --version")
    p = subprocess.run([LBD, "-h"], capture_output=True, text=True)
    check(p.returncode == 0 and "-t, --test" in p.stdout, "lbd -h")
    p = subprocess.run([LBD, "--bogus"], capture_output=True, text=True)
    check(p.returncode == 2, "lbd rejects an unknown option with exit 2")
    # A copy of the examples: git keeps no file modes, and lbd refuses a
    # sync key that other users can read.
    exdir = os.path.join(tmp, "examples")
    shutil.copytree(os.path.join(SRC, "conf", "examples"), exdir)
    os.chmod(os.path.join(exdir, "sync.key"), 0o600)
    for ex in sorted(os.listdir(exdir)):
        if not ex.endswith(".conf"):
            continue
        path = os.path.join(exdir, ex)
        p = subprocess.run([LBD, "-t", "-f", path], capture_output=True, text=True)
        check(p.returncode == 0 and "configuration OK" in p.stdout,
              f"lbd -t accepts conf/examples/{ex}", p.stderr)

    d = Lbd(tmp, CONF_BAD)
    p = subprocess.run([LBD, "-t", "-f", d.conf], capture_output=True, text=True)
    check(p.returncode == 1 and f"{d.conf}:7:10: error: unknown mode \"routd\"" in p.stderr
          and f"{d.conf}:8:39: error: backend \"web1\": weight 300" in p.stderr
          and "2 errors" in p.stderr,
          "lbd -t reports every error as FILE:LINE:COL and exits 1", p.stderr)

    rc = d.start()
    check(not rc and d.proc.returncode == 1, "lbd refuses to start on a bad config")

    code, out, err = ctl(d, "show", "info")
    check(code == 2 and "cannot reach lbd" in err, "lbctl without lbd exits 2", err)

    # ---- running ---------------------------------------------------------
    d = Lbd(tmp, CONF_V1)
    check(d.start(), "lbd starts and serves its control socket", d.logtext())
    st = os.stat(d.sock)
    check(oct(st.st_mode & 0o777) == "0o660", "control socket mode is 0660",
          oct(st.st_mode))
    with open(d.pidfile) as f:
        check(int(f.read()) == d.proc.pid, "pidfile holds the pid")

    # ---- the read-only socket, and who changed what -------------------
    ro = d.sock + ".ro"
    st = os.stat(ro)
    code, out, err = ctl(d, "show", "info", sock=ro)
    check(oct(st.st_mode & 0o777) == "0o666" and code == 0 and
          f"pid              {d.proc.pid}" in out,
          "control-socket-readonly: mode 0666, answers show commands",
          (oct(st.st_mode), out, err))
    code, out, err = ctl(d, "help", sock=ro)
    firsts = {ln.split()[0] for ln in out.splitlines() if ln.strip()
              and not ln.startswith("reload --dry-run")}
    check(code == 0 and "show" in firsts and not firsts & {"drain", "reload",
          "set", "enable", "disable", "ha", "vrrp"},
          "its help lists only what it allows (a dry run changes nothing)", out)
    for words in (["drain", "web/web1"], ["reload"], ["set", "weight",
                  "web/web1", "1"]):
        code, out, err = ctl(d, *words, sock=ro)
        check(code == 1 and "read-only control socket" in err,
              f"lbctl {' '.join(words)} on it is refused", out + err)
    code, out, err = ctl(d, "show", "stat", json_out=True)
    be = {b["backend"]: b for b in json.loads(out or "{}").get("backends", [])}
    check(be.get("web/web1", {}).get("state") == "up" and
          be["web/web1"]["weight"] == 10 and "reload" not in d.logtext(),
          "... and nothing changed", be)
    p = subprocess.Popen([LBCTL, "-s", d.sock, "drain", "web/web1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.communicate(timeout=60)
    ctl(d, "enable", "web/web1")
    check(p.returncode == 0 and f'ctl: "drain web/web1" from uid {os.getuid()} '
          f'pid {p.pid}' in d.logtext(),
          "a change through the control socket is logged with the caller's "
          "uid and pid", d.logtext()[-600:])

    code, out, err = ctl(d, "show", "info")
    check(code == 0 and f"pid              {d.proc.pid}" in out
          and "node-id          itest" in out
          and f"config-file      {d.conf}" in out
          and "reloads          0" in out and "services         1" in out,
          "show info", out + err)

    code, out, err = ctl(d, "show", "info", json_out=True)
    try:
        info = json.loads(out)
    except ValueError:
        info = {}
    check(code == 0 and info.get("pid") == d.proc.pid and info.get("reloads") == 0
          and info.get("config_file") == d.conf and info.get("last_reload") is None,
          "show info --json", out + err)

    code, out, err = ctl(d, "help")
    check(code == 0 and "show info" in out and "reload" in out, "help lists commands")

    # Without a daemon: help from lbctl itself, errors on lines of their own.
    nosock = os.path.join(tmp, "no-such.sock")
    for args in (["help"], ["--help"]):
        p = subprocess.run([LBCTL, "-s", nosock] + args, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0 and "show info" in p.stdout and
              "set weight SERVICE/BACKEND" in p.stdout,
              f"lbctl {args[0]} with no lbd lists the commands", p.stdout + p.stderr)
    p = subprocess.run([LBCTL, "-s", nosock, "show", "info"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and p.stdout == "" and
          p.stderr == f"lbctl: cannot reach lbd at {nosock}: "
          "No such file or directory\n",
          "lbctl with no lbd: one error line, exit 2", p.stderr)

    code, out, err = ctl(d, "show", "config")
    check(code == 0 and 'service "web"' in out and 'backend "web2" 127.0.0.12:80 weight 10' in out,
          "show config", out + err)
    code, out, err = ctl(d, "show", "config", json_out=True)
    try:
        cfg = json.loads(out)
    except ValueError:
        cfg = {}
    check(code == 0 and [s["name"] for s in cfg.get("services", [])] == ["web"],
          "show config --json", out + err)

    # ---- good reload through the socket ----------------------------------
    d.write(CONF_V2)
    code, out, err = ctl(d, "reload")
    check(code == 0 and "reload ok" in out and "service dns: added" in out,
          "lbctl reload applies a good file and lists the change", out + err)
    code, out, err = ctl(d, "show", "config")
    check('service "dns"' in out, "show config has the new service", out)
    code, out, err = ctl(d, "show", "info", json_out=True)
    info = json.loads(out)
    check(info["reloads"] == 1 and info["last_reload"]["result"] == "ok",
          "reload count is 1 after a good reload", out)

    # ---- bad reload: errors reported, old config still served ------------
    d.write(CONF_BAD)
    code, out, err = ctl(d, "reload")
    check(code == 1 and f"{d.conf}:7:10: error: unknown mode" in err
          and "previous configuration is still running" in err,
          "a bad reload reports its errors and exits 1", out + err)
    code, out, err = ctl(d, "show", "config")
    check(code == 0 and 'service "dns"' in out and "mode routed" in out,
          "after a bad reload the old config is still served", out)
    code, out, err = ctl(d, "show", "info")
    check("reload-failures  1" in out and "last-reload-errors" in out
          and "unknown mode \"routd\"" in out,
          "show info shows the failed reload and its errors", out)
    check("unknown mode" in d.logtext() and "reload failed" in d.logtext(),
          "the failed reload is logged with its errors")

    # ---- SIGHUP ----------------------------------------------------------
    d.write(CONF_V1)
    os.kill(d.proc.pid, signal.SIGHUP)
    ok = False
    for _ in range(100):
        code, out, err = ctl(d, "show", "info", json_out=True)
        if code == 0 and json.loads(out)["reloads"] == 2:
            ok = True
            break
        time.sleep(0.05)
    check(ok, "SIGHUP reloads the file")
    code, out, err = ctl(d, "show", "config")
    check('service "dns"' not in out, "SIGHUP reload removed the service", out)
    check("config change: service dns: removed" in d.logtext(),
          "the reload's changes are logged")

    # ---- admin state -----------------------------------------------------
    def stat():
        code, out, err = ctl(d, "show", "stat", json_out=True)
        return {b["backend"]: b for b in json.loads(out)["backends"]} if code == 0 else {}

    st = stat()
    check(st.get("web/web1", {}).get("state") == "up"
          and st["web/web1"]["weight"] == 10 and st["web/web1"]["health"] == "-",
          "show stat: an unchecked backend is up with its configured weight", st)
    code, out, err = ctl(d, "drain", "web/web1")
    check(code == 0 and "backend web/web1: drain (was enabled); existing connections "
          "continue" in out and stat()["web/web1"]["state"] == "drain"
          and not stat()["web/web1"]["takes_new"], "drain takes no new connections", out + err)
    code, out, err = ctl(d, "set", "weight", "web/web1", "5")
    check(code == 0 and stat()["web/web1"]["weight"] == 5
          and stat()["web/web1"]["config_weight"] == 10
          and stat()["web/web1"]["state"] == "drain",
          "set weight overrides the weight, the admin state stays", out + err)
    code, out, err = ctl(d, "enable", "web/web1")
    check(code == 0 and stat()["web/web1"]["state"] == "up" and stat()["web/web1"]["weight"] == 5,
          "enable brings it back with the override", out + err)
    code, out, err = ctl(d, "set", "weight", "web/web1", "0")
    check(code == 0 and stat()["web/web1"]["state"] == "drain",
          "weight 0 drains", out + err)
    code, out, err = ctl(d, "set", "weight", "web/web1", "reset")
    check(code == 0 and "weight 10 (the configured one)" in out
          and stat()["web/web1"]["weight"] == 10 and stat()["web/web1"]["state"] == "up",
          "set weight ... reset goes back to the configured weight", out + err)
    code, out, err = ctl(d, "disable", "web/web2")
    check(code == 0 and stat()["web/web2"]["state"] == "disabled", "disable", out + err)
    code, out, err = ctl(d, "drain", "web/nope")
    check(code == 1 and 'no backend "web/nope"' in err, "an unknown backend is an error", err)
    code, out, err = ctl(d, "set", "weight", "web/web1", "999")
    check(code == 1 and "out of range 0..256" in err, "a weight out of range is refused", err)
    code, out, err = ctl(d, "disable")
    check(code == 1 and "which backend" in err, "disable without a backend asks which", err)
    os.kill(d.proc.pid, signal.SIGHUP)
    time.sleep(0.3)
    check(stat().get("web/web2", {}).get("state") == "disabled",
          "the admin state survives a reload", stat())
    check("admin: backend=web/web2 enabled->disabled" in d.logtext(),
          "admin changes are logged")
    ctl(d, "enable", "web/web2")

    # control-socket cannot move on reload: refused, old config kept
    d.write(CONF_V1.replace("{sock}", "{sock}.new"))
    code, out, err = ctl(d, "reload", "--dry-run")
    check(code == 1 and "control-socket-readonly cannot change on reload" in err
          and "a reload would be REFUSED" in err,
          "reload --dry-run says a moved control socket needs a restart", err)
    code, out, err = ctl(d, "reload")
    check(code == 1 and "control-socket-readonly cannot change on reload" in err,
          "a reload that moves the control socket is refused", err)

    # ---- dry runs: nothing applied, the verdict in the exit status -------
    info0 = json.loads(ctl(d, "show", "info", json_out=True)[1])
    d.write(CONF_BAD)
    code, out, err = ctl(d, "reload", "--dry-run")
    check(code == 1 and ':7:10: error: unknown mode "routd"' in err and
          "a reload would be REFUSED: 2 errors" in err,
          "reload --dry-run of a bad file: its errors, REFUSED, exit 1", err)
    d.write(CONF_V2)
    code, out, err = ctl(d, "reload", "--dry-run")
    check(code == 0 and "service dns: added\n    -> takes new connections" in out
          and out.rstrip().endswith("a reload would apply 1 change: 0 "
                                    "connections would end, 0 would drain"),
          "reload --dry-run of a good file: each change with its impact",
          out + err)
    p = subprocess.run([LBD, "-t", "--diff", "-f", d.conf], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and "configuration OK" in p.stdout and
          "service dns: added" in p.stdout,
          "lbd -t --diff -f FILE: the check, then the running lbd's dry run",
          p.stdout + p.stderr)
    other = os.path.join(tmp, "other.conf")
    shutil.copy(d.conf, other)
    p = subprocess.run([LBD, "-t", "--diff", "-f", other], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 1 and f"reads {os.path.realpath(d.conf)}, not "
          f"{other}" in p.stderr,
          "lbd -t --diff of another file than the running lbd reads: refused",
          p.stderr)
    info1 = json.loads(ctl(d, "show", "info", json_out=True)[1])
    check(info1.get("reloads") == info0.get("reloads") and
          info1.get("reload_failures") == info0.get("reload_failures") and
          'service "dns"' not in ctl(d, "show", "config")[1],
          "dry runs applied nothing and counted no reload", (info0, info1))
    d.write(CONF_V1)

    # ---- lbctl watch: the events, as they happen ------------------------
    watchers = {}
    for form in ("text", "json"):
        w = subprocess.Popen([LBCTL, "-s", d.sock, "watch"] +
                             (["--json"] if form == "json" else []),
                             stdout=subprocess.PIPE, text=True)
        procs.append(w)
        lines = []
        threading.Thread(target=lambda f=w.stdout, l=lines: [
            l.append(x.rstrip("\n")) for x in f], daemon=True).start()
        watchers[form] = (w, lines)
    deadline = time.time() + 30
    while time.time() < deadline and not all(l for _, l in watchers.values()):
        time.sleep(0.05)
    ctl(d, "drain", "web/web2")
    ctl(d, "set", "weight", "web/web1", "7")
    d.write(CONF_BAD)
    ctl(d, "reload")
    d.write(CONF_V1)
    ctl(d, "reload")
    ctl(d, "enable", "web/web2")
    ctl(d, "set", "weight", "web/web1", "reset")
    # Both watchers: each is its own client, read on its own thread.
    while time.time() < deadline and any(len(l) < 7 for _, l in
                                         watchers.values()):
        time.sleep(0.05)
    evs = []
    for ln in watchers["json"][1][1:]:
        try:
            e = json.loads(ln)
        except ValueError:
            e = {"bad": ln}
        evs.append({k: v for k, v in e.items() if k != "time"})
    check(json.loads(watchers["json"][1][0] or "{}").get("event") == "watching"
          and evs == [
              {"event": "admin", "backend": "web/web2", "admin": "drain",
               "was": "enabled"},
              {"event": "admin", "backend": "web/web1", "weight": "7"},
              {"event": "reload", "result": "failed", "errors": "2",
               "file": d.conf},
              {"event": "reload", "result": "ok", "changes": "0",
               "ms": evs[3].get("ms") if len(evs) > 3 else None,
               "file": d.conf},
              {"event": "admin", "backend": "web/web2", "admin": "enabled",
               "was": "drain"},
              {"event": "admin", "backend": "web/web1", "weight": "reset"}],
          "lbctl watch --json: one JSON line per event, in order", watchers[
              "json"][1])
    text = watchers["text"][1]
    check(len(text) == 7 and text[0].startswith("watching node itest") and
          re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z admin "
                       r"backend=web/web2 admin=drain was=enabled", text[1]) and
          text[3].endswith(f" reload result=failed errors=2 file={d.conf}"),
          "lbctl watch: the same events as key=value lines", text)
    code, out, err = ctl(d, "show", "info", json_out=True)
    check(code == 0 and '"watching":2' in out.replace(" ", ""),
          "show info counts the watchers", out)
    for w, _ in watchers.values():
        w.terminate()
        w.wait(10)

    # ---- every command, both output forms ----------------------------------
    code, out, err = ctl(d, "help", json_out=True)
    usages = [c["usage"] for c in json.loads(out)["commands"]]
    for usage in usages:
        # Fill in arguments: a real backend, a weight.
        # Optional arguments ([...]) are left out here; show conn gets
        # them below.
        words = usage.replace("SERVICE/BACKEND", "web/web1").replace("N|reset", "7").split()
        words = [w for w in words if not w.startswith("[")]
        if words == ["watch"]:
            continue    # a stream, never a whole reply: tested below
        if words == ["ha", "handover"]:
            # No VRRP here: refused with a reason, nothing changed
            # (tests/netns/test_handover.py hands a group over for real).
            code, out, err = ctl(d, *words)
            check(code == 1 and "no VRRP here" in err,
                  "lbctl ha handover without VRRP: an error line", out + err)
            continue
        if "GROUP" in words:
            # Without `vrrp external`, lbctl ha is refused with a reason
            # (tests/netns/test_vrrp_track.py drives it for real).
            code, out, err = ctl(d, "ha", "master", "edge")
            check(code == 1 and "vrrp external" in out + err,
                  "lbctl ha without vrrp external: an error line", out + err)
            continue
        if words[0] == "cluster":
            # No cluster block here: refused with a reason
            # (tests/netns/test_cluster.py drains a node for real).
            code, out, err = ctl(d, *words)
            check(code == 1 and "not a cluster node" in out + err,
                  f"lbctl {' '.join(words)} outside a cluster: an error line",
                  out + err)
            continue
        if "INSTANCE" in words:
            # No vrrp-group here: an unknown instance is an error line
            # (tests/netns/test_vrrp.py sets a real one).
            code, out, err = ctl(d, *words)
            check(code == 1 and "no VRRP instance" in out + err,
                  f"lbctl {' '.join(words)} without VRRP: an error line",
                  out + err)
            continue
        for as_json in (False, True):
            code, out, err = ctl(d, *words, json_out=as_json)
            ok = code == 0 and out.strip() != ""
            if ok and as_json:
                try:
                    json.loads(out)
                except ValueError:
                    ok = False
            check(ok, f"lbctl {'--json ' if as_json else ''}{' '.join(words)} answers"
                  + (" with valid JSON" if as_json else ""), out + err)
    code, out, err = ctl(d, "show", "conn", "web", "5", json_out=True)
    check(code == 0 and json.loads(out or "{}").get("total") == 0,
          "show conn SERVICE MAX without a data plane: no connections", out + err)
    code, out, err = ctl(d, "show", "conn", "nosuch")
    check(code == 1 and "no service" in out + err,
          "show conn with an unknown service is an error", out + err)
    ctl(d, "enable", "web/web1")
    ctl(d, "set", "weight", "web/web1", "reset")

    # ---- protocol robustness ---------------------------------------------
    code, out, err = ctl(d, "frobnicate", "now")
    check(code == 1 and 'unknown command "frobnicate now"' in err,
          "unknown command gets an error reply", err)
    code, out, err = ctl(d, "show", "info", "extra")
    check(code == 1 and "usage: show info" in err, "extra arguments get usage", err)

    out = raw(d, b"show info\nhelp\nnope\n")
    replies = out.split(b"\n.")
    check(out.count(b"\n.ok\n") == 2 and out.endswith(b".error\n")
          and out.index(b"version") < out.index(b"reload "),
          "several commands on one connection are answered in order", out[:400])

    out = raw(d, b"x" * 5000 + b"\n")
    check(b"line longer than 4096 bytes" in out and out.endswith(b".error\n"),
          "an overlong line gets an error and the connection is closed", out[:200])
    code, out, err = ctl(d, "show", "info")
    check(code == 0, "lbd still serves after an overlong line")

    out = raw(d, b"\x00\xff\x01garbage\n")
    check(out.endswith(b".error\n"), "binary garbage gets an error reply", out)

    # A client that connects and says nothing, and one that floods commands
    # but never reads its replies, must not stall anyone else.
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(d.sock)
    hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hog.connect(d.sock)
    hog.setblocking(False)
    sent = 0
    try:
        for _ in range(20000):
            sent += hog.send(b"show config\n" * 50)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    code, out, err = ctl(d, "show", "info")
    check(code == 0,
          "a silent client and a client that never reads stall nobody",
          f"code={code} sent={sent} {err}")
    silent.close()
    hog.close()

    # 100 clients at once.
    socks = []
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(d.sock)
        socks.append(s)
    for s in socks:
        s.sendall(b"show info\n")
    good = 0
    for s in socks:
        buf = b""
        try:
            while not buf.endswith(b".ok\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except socket.timeout:
            pass
        if buf.endswith(b".ok\n") and f"pid              {d.proc.pid}".encode() in buf:
            good += 1
        s.close()
    check(good == 100, "100 concurrent clients all get their reply", f"good={good}")

    # 100 concurrent lbctl processes.
    ps = [subprocess.Popen([LBCTL, "-s", d.sock, "show", "info"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(100)]
    codes = [p.wait(30) for p in ps]
    for p in ps:
        p.stdout.close()
        p.stderr.close()
    check(codes.count(0) == 100, "100 concurrent lbctl processes succeed",
          f"codes={set(codes)}")

    # ---- a second lbd must not steal the socket ---------------------------
    d2 = Lbd(tmp, CONF_V1)
    d2.sock = d.sock
    d2.write(CONF_V1.replace("{sock}", d.sock))
    d2.start(wait=False)
    rc = d2.proc.wait(10)
    check(rc == 1 and "is in use" in d2.logtext(),
          "a second lbd on the same socket refuses to start", d2.logtext())
    code, out, err = ctl(d, "show", "info")
    check(code == 0 and f"pid              {d.proc.pid}" in out,
          "the first lbd still owns its socket")

    # ---- systemd: READY=1, then WATCHDOG=1 from the loop -------------------
    # What systemd passes a Type=notify unit with WatchdogSec=400ms.
    note = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(tmp, "notify.sock")
    note.bind(npath)
    note.settimeout(10)
    w = Lbd(tmp, CONF_V1, name="watchdog")
    started = w.start(env={"NOTIFY_SOCKET": npath, "WATCHDOG_USEC": "400000"})
    msgs = []
    try:
        while sum(m == "WATCHDOG=1" for m in msgs) < 3:
            msgs.append(note.recv(512).decode())
    except socket.timeout:
        pass
    check(started and msgs and msgs[0].startswith("READY=1\nSTATUS=running")
          and sum(m == "WATCHDOG=1" for m in msgs) == 3,
          "under systemd: READY=1, then WATCHDOG=1 again and again (WatchdogSec)",
          msgs)
    w.stop()
    note.close()

    # ---- SIGTERM: orderly stop --------------------------------------------
    rc = d.stop(signal.SIGTERM)
    check(rc == 0, "SIGTERM exits 0", f"rc={rc}")
    check(not os.path.exists(d.sock) and not os.path.exists(d.pidfile),
          "socket and pidfile are removed on stop")
    check("stopped" in d.logtext(), "the stop is logged")

    # ---- after a crash the stale socket is replaced -----------------------
    d = Lbd(tmp, CONF_V1, name="crash")
    check(d.start(), "lbd starts (before a crash)")
    d.stop(signal.SIGKILL)
    check(os.path.exists(d.sock), "a killed lbd leaves its socket file behind")
    check(d.start(), "a restarted lbd replaces the stale socket", d.logtext())
    rc = d.stop(signal.SIGINT)
    check(rc == 0, "SIGINT exits 0", f"rc={rc}")


if __name__ == "__main__":
    sys.exit(main())
