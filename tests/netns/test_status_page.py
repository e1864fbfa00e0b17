#!/usr/bin/env python3
"""The status page in a real browser: two lbd nodes (pair.py) with VRRP,
connection sync and a health-checked service, each serving its page at /
of `metrics listen`. Headless Chromium (Debian's `chromium`) loads n1's
page in n1's namespace, lets it refresh from /status.json, and the test
reads the DOM it rendered:

  * at first: the group master here and backup on the peer, the sync peer
    up, the backend up and healthy, nothing dropped;
  * after the backend's health server is stopped: the backend down with
    its check's reason, and the health event in the event list;
  * after n1 is killed: n2's page shows the group master here with the
    peer not heard, the sync peer down, the VRRP transitions as events.

It also checks that the page is one self-contained file (no script, style,
font or image from anywhere: the appliance may be offline; a Content-
Security-Policy says so to the browser), saves a screenshot of each state
(one at a phone's width too), and checks that every metric the Grafana
dashboard in packaging/ queries is in a scrape of the pair.

usage: test_status_page.py BUILD_DIR   (LBD_SCREENSHOT=FILE keeps the
first screenshot, e.g. for the README)"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, METRICS, Net  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))


class Browser:
    """Headless Chromium in a node's namespace, one page load per look."""

    def __init__(self, net, tmp):
        self.net, self.tmp = net, tmp
        self.profile = os.path.join(tmp, "chromium")

    def run(self, node, *args, size="1280,1000"):
        cmd = ["ip", "netns", "exec", self.net.t.ns(node), "chromium",
               "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", f"--user-data-dir={self.profile}",
               "--hide-scrollbars", f"--window-size={size}",
               # Time runs as fast as the page allows; a fetch in flight
               # holds it. 4 s of it: the first fetch and a few refreshes.
               "--virtual-time-budget=4000", *args,
               f"http://127.0.0.1:{METRICS}/"]
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=120, start_new_session=True)

    def dom(self, node):
        return self.run(node, "--dump-dom").stdout

    def screenshot(self, node, path, size="1280,1000"):
        self.run(node, f"--screenshot={path}", size=size)
        return os.path.exists(path) and os.path.getsize(path) > 10000


def attrs(dom, tag_attr, value):
    """The data-* attributes of the first element whose `tag_attr` is
    `value`, as a dict."""
    m = re.search(rf'<[a-z0-9]+ [^>]*{tag_attr}="{re.escape(value)}"[^>]*>', dom)
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', m.group(0))) if m else {}


def fetch(net, node, path):
    r = net.t.nsx(node, f"curl -s -D - --max-time 10 "
                  f"http://127.0.0.1:{METRICS}{path}", check=False)
    # (text mode has turned the header's CRLFs into newlines)
    head, _, body = r.stdout.partition("\n\n")
    return head, body


def main():
    net = Net(BUILD, prefix="lsp")
    procs = []
    try:
        net.build()
        tmp = net.tmp
        # Each page load starts a Chromium, several processes on this
        # 2-core machine: long enough to starve both nodes past the
        # default 100 ms heartbeat timeout, and the page would rightly
        # show the peer as not heard. The page is under test here, not
        # the heartbeat's timing: give it a timeout a busy machine keeps.
        started = net.start_sync_pair(
            sync_extra="\n    heartbeat-timeout 3s")
        health = net.health
        procs.append(health)
        check(started, "two lbd nodes start", net.log("n1") + net.log("n2"))

        def settled():
            try:
                s = json.loads(fetch(net, "n1", "/status.json")[1])
                be = {b["backend"]: b for b in s["stat"]["backends"]}
                return (s["vrrp"]["groups"][0]["state"] == "master" and
                        s["vrrp"]["groups"][0]["heartbeat"] and
                        s["sync"]["sync"]["peer_up"] and
                        be["web/be1"]["health"] == "up")
            except (ValueError, KeyError, IndexError, TypeError):
                return False
        check(net.wait(settled, 30, step=0.2) is not None,
              "n1 is master, hears n2 over the heartbeat, the backend is up "
              "(status.json)", fetch(net, "n1", "/status.json")[1][:1500])

        # ---- the page itself: one file, nothing from elsewhere ---------
        head, html = fetch(net, "n1", "/")
        refs = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)=[^>]*>',
                          html, re.I) + re.findall(r'url\(|@import|https?://[a-z]',
                                                   html.replace(
                                                       "http://www.w3.org/2000/svg",
                                                       ""), re.I)
        check(head.startswith("HTTP/1.0 200") and "text/html" in head and
              "Content-Security-Policy: default-src 'none'" in head and
              "<script>" in html and not refs,
              "GET / is the page: HTML, self-contained (no external script, "
              "style, font or image), with a CSP that forbids any", (head, refs))

        b = Browser(net, tmp)
        shots = []

        # ---- 1. everything up ----------------------------------------------
        dom = b.dom("n1")
        ref = attrs(dom, "id", "refreshed")
        grp = attrs(dom, "data-group", "edge")
        be = attrs(dom, "data-backend", "web/be1")
        sync = attrs(dom, "id", "sync-state")
        check(int(ref.get("data-refreshes", "0")) >= 1 and
              grp.get("data-state") == "master" and
              grp.get("data-peer") == "backup" and
              be.get("data-state") == "up" and be.get("data-health") == "up"
              and sync.get("data-peer-up") == "true" and
              sync.get("data-config-agrees") == "true" and
              'id="no-drops"' in dom,
              "Chromium renders n1's page: group edge master here, backup on "
              "the peer; sync up and agreeing; web/be1 up and healthy; no "
              "drops", (ref, grp, be, sync))
        shot = os.path.join(tmp, "status-1-up.png")
        shots.append(b.screenshot("n1", shot))
        # A phone's width: the cards stack, the tables scroll sideways.
        shots.append(b.screenshot("n1", os.path.join(tmp, "status-phone.png"),
                                  size="390,844"))
        if os.environ.get("LBD_SCREENSHOT") and shots[-1]:
            shutil.copy(shot, os.environ["LBD_SCREENSHOT"])

        # ---- 2. the backend's health server stops --------------------------
        os.killpg(health.pid, signal.SIGKILL)
        health.wait()
        net.wait(lambda: '"health":"down"' in net.ctl("n1", "show", "stat",
                                                      "--json"), 30, step=0.1)
        dom = b.dom("n1")
        be = attrs(dom, "data-backend", "web/be1")
        row = re.search(r'<tr [^>]*data-backend="web/be1".*?</tr>', dom, re.S)
        check(be.get("data-state") == "down" and
              be.get("data-health") == "down" and row is not None and
              "connect refused" in row.group(0) and
              re.search(r'<li data-event="health">[^<]*backend=web/be1[^<]*'
                        r'state=down', dom) is not None,
              "after its health server stops: web/be1 down on the page, with "
              "the check's reason, and the health event listed",
              (be, row and row.group(0)[:600]))
        shots.append(b.screenshot("n1", os.path.join(tmp, "status-2-down.png")))

        # ---- 3. n1 dies: n2's page ------------------------------------------
        net.stop("n1", signal.SIGKILL)
        net.wait(lambda: net.states("n2").get("front") == "master", 30,
                 step=0.05)
        net.wait(lambda: '"peer_up":false' in net.ctl("n2", "show", "sync",
                                                      "--json"), 30, step=0.1)

        def unheard():
            try:
                s = json.loads(fetch(net, "n2", "/status.json")[1])
                return not s["vrrp"]["groups"][0]["heartbeat"]
            except (ValueError, KeyError, IndexError, TypeError):
                return False
        net.wait(unheard, 30, step=0.1)
        dom = b.dom("n2")
        grp = attrs(dom, "data-group", "edge")
        sync = attrs(dom, "id", "sync-state")
        front = attrs(dom, "data-instance", "front")
        check(grp.get("data-state") == "master" and
              grp.get("data-peer") == "unknown" and
              front.get("data-state") == "master" and
              sync.get("data-peer-up") == "false" and
              re.search(r'<li data-event="vrrp">[^<]*instance=front[^<]*'
                        r'state=master', dom) is not None,
              "after n1 is killed, n2's page: group edge master here, the "
              "peer not heard, sync down, the transition in the events",
              (grp, front, sync))
        shots.append(b.screenshot("n2", os.path.join(tmp, "status-3-failover.png")))
        check(all(shots), "a screenshot of each state, and at a phone's width", shots)

        # ---- the Grafana dashboard queries what lbd exports ---------------
        _, scrape = fetch(net, "n2", "/metrics")
        have = set(re.findall(r"^(lbd_[a-z0-9_]+)", scrape, re.M))
        with open(os.path.join(SRC, "packaging", "grafana-lbd.json")) as f:
            dash = json.load(f)
        exprs = []

        def walk(o):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k in ("expr", "query") and isinstance(v, str):
                        exprs.append(v)
                    else:
                        walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk(dash)
        used = set()
        for e in exprs:
            used |= set(re.findall(r"\blbd_[a-z0-9_]+", e))
        check(len(exprs) >= 10 and used and not used - have,
              f"the Grafana dashboard's {len(exprs)} queries use "
              f"{len(used)} metrics, each in a scrape", sorted(used - have))
    finally:
        net.end(procs)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
