"""One lbd node on the topology of topo.py, with handles for the tests that
drive it under traffic (health, reload): backends whose servers each run as
their own process, so a test can stop one, and lbd with its control socket.

Per backend: httpd.py on ports 80 and 9090 (the service; its log says who
asked), httpd.py on port 81 (what the health checks ask; stop it and the
backend fails its check while its service goes on) and echod.py on ports
7000 and 7003 (long-lived connections, tests/netns/holdconns.py). A DSR
service gets ports of its own: the engine refuses a connection whose
backend-side tuple another mode's connection already has."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check, done  # noqa: E402
from topo import Topo, BACKENDS, be4  # noqa: E402

HEALTH_PORT, ECHO_PORT, DSR_HTTP_PORT, DSR_ECHO_PORT = 81, 7000, 9090, 7003


class Single:
    def __init__(self, build):
        self.lbd_bin = os.path.join(build, "lbd", "lbd")
        self.lbctl_bin = os.path.join(build, "lbd", "lbctl")
        self.t = Topo()
        self.tmp = tempfile.mkdtemp(prefix="lbd-netns-")
        self.sock = os.path.join(self.tmp, "lbd.sock")
        self.conf = os.path.join(self.tmp, "lbd.conf")
        self.logf = open(os.path.join(self.tmp, "lbd.log"), "w")
        self.lbd = None
        self.health = {}         # backend -> its port-81 server
        self.logs = {}           # backend -> the port-80 server's log

    def build(self):
        self.t.build()
        for b, _ in BACKENDS:
            self.logs[b] = os.path.join(self.tmp, f"{b}.log")
            open(self.logs[b], "w").close()
            self.t.popen(b, ["python3", os.path.join(HERE, "httpd.py"), b,
                             self.logs[b], "80", str(DSR_HTTP_PORT)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for port in (ECHO_PORT, DSR_ECHO_PORT):
                self.t.popen(b, ["python3", os.path.join(HERE, "echod.py"), b,
                                 str(port)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            self.start_health(b)
        for b, n in BACKENDS:
            for port in (80, DSR_HTTP_PORT, HEALTH_PORT, ECHO_PORT,
                         DSR_ECHO_PORT):
                self.wait(lambda: self.t.nsx(
                    b, f"python3 -c \"import socket;socket.create_connection("
                    f"('{be4(n)}',{port}),1)\"", check=False).returncode == 0, 10)

    def start_health(self, b):
        self.health[b] = self.t.popen(
            b, ["python3", os.path.join(HERE, "httpd.py"), b, "/dev/null",
                str(HEALTH_PORT)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def stop_health(self, b):
        p = self.health.pop(b)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, text):
        self.write_conf(text)
        self.lbd = self.t.popen("lbd", [self.lbd_bin, "-d", "-f", self.conf],
                                stdout=self.logf, stderr=subprocess.STDOUT)
        return self.wait(lambda: self.lbd.poll() is not None or (
            os.path.exists(self.sock) and
            "data-plane" in self.ctl("show", "info")), 10) is not None and \
            self.lbd.poll() is None

    def ctl(self, *args, stderr=False):
        r = self.t.nsx("lbd", f"{self.lbctl_bin} -s {self.sock} " +
                       " ".join(args), check=False)
        return r.stdout + (r.stderr if stderr else "")

    def json(self, *args):
        try:
            return json.loads(self.ctl(*args, "--json"))
        except ValueError:
            return {}

    def backends(self):
        """show stat: {"service/backend": its row}."""
        return {b["backend"]: b for b in self.json("show", "stat")
                .get("backends", [])}

    def log(self):
        with open(self.logf.name) as f:
            return f.read()

    def seen(self, b):
        """Requests backend b's service got since the log was cleared."""
        with open(self.logs[b]) as f:
            return sum(1 for _ in f)

    def clear_seen(self):
        for f in self.logs.values():
            open(f, "w").close()

    def client(self, script, *args, **kw):
        """A tests/netns script in the client namespace, in the background;
        its one JSON line is read by result()."""
        return self.t.popen("client", ["python3", os.path.join(HERE, script)] +
                            [str(a) for a in args], stdout=subprocess.PIPE,
                            text=True, **kw)

    @staticmethod
    def result(p, timeout=120):
        try:
            out, _ = p.communicate(timeout=timeout)
            return json.loads(out)
        except (ValueError, subprocess.TimeoutExpired):
            return {}

    @staticmethod
    def rss_kb(pid):
        """A process's resident memory, kB."""
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    @staticmethod
    def wait(cond, timeout, step=0.02):
        """Seconds until cond() held, or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if cond():
                return time.monotonic() - t0
            time.sleep(step)
        return None

    def cleanup(self):
        if self.lbd is not None and self.lbd.poll() is None:
            self.lbd.send_signal(signal.SIGTERM)
            try:
                self.lbd.wait(10)
            except subprocess.TimeoutExpired:
                self.lbd.kill()
        self.t.cleanup()
        self.logf.close()
        subprocess.run(["rm", "-rf", self.tmp])

    def finish(self):
        """After cleanup(): nothing of ours is left. Ends the TAP output."""
        left = self.t.leftover()
        check(not left, "every namespace is removed", left)
        return done()
