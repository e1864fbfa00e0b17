#!/usr/bin/env python3
"""Passive health on one node (tests/netns/single.py): two services on the
same three backends, each checked over HTTP on port 81 (every 1 s, fall 3),
one with `observe on` (3 errors in 10 s), one without.

Under a client's requests, be2's service (port 8090) is killed while its
health server goes on answering (rise 4, so a backend taken out stays out
for a few seconds):

  * the observing service takes be2 out on what the data plane saw (the
    backend's RSTs to new connections), with the reason; the test prints
    how long that took;
  * the other service still has it up: its active check passes, so it would
    never have noticed;
  * be2's service back, the active check brings it back in the observing
    service (rise), and it takes requests again.

usage: test_observe.py BUILD_DIR"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single, HEALTH_PORT  # noqa: E402
from topo import BACKENDS, V4, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
PORT = 8090


def config(sock):
    def svc(name, port, observe):
        bes = "\n".join(f"    backend {b} {be4(n)}:{PORT}"
                        for b, n in BACKENDS)
        return f"""service {name} {{
    listen {V4['vip']} tcp {port}
    mode snat
    snat-pool {V4['snat']}
    check http {{ port {HEALTH_PORT} interval 1s timeout 500ms rise 4 fall 3
                 {"observe on observe-errors 3 observe-window 10s"
                  if observe else ""} }}
{bes}
}}
"""
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
""" + svc("web", 8080, True) + svc("plain", 8081, False)


def main():
    n = Single(BUILD)
    servers = {}

    def serve(b):
        servers[b] = n.t.popen(b, ["python3", os.path.join(HERE, "httpd.py"),
                                   b, "/dev/null", str(PORT)],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        n.build()
        for b, _ in BACKENDS:
            serve(b)
        check(n.start(config(n.sock)), "lbd starts with observe on",
              n.log()[-2000:])
        n.wait(lambda: n.ctl("show", "stat").count(" up ") >= 6, 10)
        load = n.client("client.py", "for", V4["vip"], 8080, 3)
        time.sleep(0.5)
        os.killpg(servers["be2"].pid, signal.SIGKILL)
        servers["be2"].wait()
        t_kill = time.monotonic()
        row = {}
        took = n.wait(lambda: row.update(n.backends().get("web/be2", {})) or
                      row.get("state") == "down", 10, step=0.01)
        ms = took is not None and round((time.monotonic() - t_kill) * 1000)
        plain = n.backends().get("plain/be2", {})
        said = [ln for ln in n.log().splitlines()
                if "backend=web/be2" in ln and "UP->DOWN" in ln]
        reason = said[0] if said else ""
        res = Single.result(load)
        check(took is not None and 'reason="observed: 3 connections' in reason,
              f"observe on: be2 refusing connections is out in {ms} ms, on "
              "what the data plane saw", (row, reason, res))
        check(plain.get("state") == "up" and plain.get("health") == "up",
              "without observe the same backend is still up (its health "
              "port answers)", plain)
        # Out, it stays out until 4 good checks (rise): what comes now
        # goes to be1 and be3 only.
        n.clear_seen()
        after = Single.result(n.client("client.py", "requests", V4["vip"],
                                       8080, 30))
        check(after.get("ok") == 30 and n.seen("be2") == 0,
              f"once be2 is out every request is answered (before: "
              f"{res.get('ok')} answered, {res.get('fail')} refused while "
              "the errors added up)", (after, res))

        serve("be2")
        back = n.wait(lambda: n.backends().get("web/be2", {})
                      .get("state") == "up", 15)
        n.clear_seen()
        r = Single.result(n.client("client.py", "requests", V4["vip"], 8080,
                                   30))
        check(back is not None and r.get("ok") == 30 and
              r.get("by", {}).get("be2", 0) > 0,
              "be2 serving again: the active check brings it back and it "
              "takes requests", (back, r))
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
