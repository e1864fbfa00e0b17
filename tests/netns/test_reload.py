#!/usr/bin/env python3
"""Hitless reload: while clients run short HTTP requests through a routed,
a snat and a dsr service and hold long-lived connections through all three
modes, lbd is reloaded six times (five good files, one bad):

  1. be3 removed from every service       (its connections drain; a dry
                                           run first says how many)
  2. be3 back with weight 2, wrr           (weights, scheduler)
  3. a new service on port 8082, the checks' interval changed
  4. the new service removed, rr again
  5. a file with an error                  (nothing changes)
  6. weights 1 again, SIGHUP instead of lbctl

Each change is checked where it shows (which backends get new requests,
the new service answering, the error reported); at the end not one request
failed, not one long-lived connection was reset, moved or left unanswered,
and no health check flapped.

usage: test_reload.py BUILD_DIR"""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import (Single, HEALTH_PORT, ECHO_PORT, DSR_HTTP_PORT,  # noqa: E402
                    DSR_ECHO_PORT)
from topo import V4, BACKENDS, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LOAD_S = 14          # the clients' time; the reloads fit inside it
HOLD_N = 15
# (name, VIP port, backend port, mode): HTTP and echo in each mode. DSR
# keeps the port, so it has the backends' own.
SERVICES = [("http-routed", 80, 80, "routed"), ("http-snat", 8080, 80, "snat"),
            ("http-dsr", DSR_HTTP_PORT, DSR_HTTP_PORT, "dsr"),
            ("echo-routed", 7001, ECHO_PORT, "routed"),
            ("echo-snat", 7002, ECHO_PORT, "snat"),
            ("echo-dsr", DSR_ECHO_PORT, DSR_ECHO_PORT, "dsr")]


def config(sock, weights=(1, 1, 1), sched="rr", interval="300ms", extra=False,
           broken=False):
    out = [f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}"""]
    # snat: a second routed service on the same backend port would refuse
    # a client port the first one has in use (tuple_conflict), as the
    # backend could not tell the two connections apart either.
    svcs = SERVICES + ([("added", 8082, 80, "snat")] if extra else [])
    for name, port, bport, mode in svcs:
        bes = "\n".join(f"    backend {b} {be4(n)}:{bport} weight {w}"
                        for (b, n), w in zip(BACKENDS, weights) if w > 0)
        out.append(f"""
service {name} {{
    listen {V4['vip']} tcp {port}
    mode {mode}
    {f"snat-pool {V4['snat']}" if mode == "snat" else ""}
    scheduler {sched if name.startswith("http") else "rr"}
    check http {{ port {HEALTH_PORT} interval {interval} timeout 250ms }}
{bes}
}}""")
    if broken:
        out.append("service broken { listen 10.91.1.100 tcp 9999 mode fast }")
    return "\n".join(out) + "\n"


def main():
    n = Single(BUILD)
    procs = []
    try:
        n.build()
        check(n.start(config(n.sock)), "lbd starts", n.log()[-2000:])
        up = n.wait(lambda: len(n.backends()) == 18 and all(
            b.get("state") == "up" for b in n.backends().values()), 10)
        check(up is not None, "every backend is up", n.ctl("show", "stat"))

        loads = {name: n.client("client.py", "for", V4["vip"], port, LOAD_S)
                 for name, port, _, _ in SERVICES if name.startswith("http")}
        holds = {name: n.client("holdconns.py", V4["vip"], port, HOLD_N,
                                LOAD_S - 2)
                 for name, port, _, _ in SERVICES if name.startswith("echo")}
        procs += list(loads.values()) + list(holds.values())
        n.wait(lambda: False, 1.5)
        fp = (n.json("show", "info").get("data_plane") or {}).get("fastpath") or {}
        check(fp.get("flows", 0) >= len(holds) * HOLD_N,
              f"the long-lived connections are in the kernel's flow table "
              f"({fp.get('flows')} flows) before the reloads", fp)

        def reload(text, via_signal=False):
            n.write_conf(text)
            if via_signal:
                before = n.json("show", "info").get("reloads")
                n.lbd.send_signal(signal.SIGHUP)
                n.wait(lambda: n.json("show", "info").get("reloads") !=
                       before, 5)
                return n.json("show", "info").get("last_reload") or {}
            return n.ctl("reload", stderr=True)

        def window(seconds=1.0):
            """Requests each backend's HTTP server got in the next
            `seconds`."""
            n.clear_seen()
            time.sleep(seconds)
            return {b: n.seen(b) for b, _ in BACKENDS}

        # First a dry run of that file: it names what would drain and how
        # many connections each held, and applies nothing.
        n.write_conf(config(n.sock, weights=(1, 1, 0)))
        before = n.json("show", "info").get("reloads")
        act = {k: b.get("active") for k, b in n.backends().items()}
        plan = n.json("reload", "--dry-run")
        act2 = {k: b.get("active") for k, b in n.backends().items()}
        imp = {c["change"]: c["impact"] for c in plan.get("changes", [])}
        echo_be3 = [f"echo-{m}/be3" for m in ("routed", "snat", "dsr")]
        want = {f"backend {b}: removed":
                f"DRAINS: its {act[b]} connection{'s' if act[b] != 1 else ''}"
                " go on until they end; no new ones" for b in echo_be3}
        check(plan.get("would_apply") is True and
              all(act[b] == act2[b] for b in echo_be3) and
              all(act[b] > 0 for b in echo_be3) and
              all(imp.get(k) == v for k, v in want.items()) and
              plan.get("connections_draining", 0) >= sum(act[b] for b in
                                                          echo_be3),
              "reload --dry-run: be3 would drain, with the connections it "
              "holds in each echo service", (want, plan))
        check(n.json("show", "info").get("reloads") == before and
              "be3" in n.ctl("show", "config") and
              all(b.get("state") == "up" for b in n.backends().values()),
              "... and nothing was applied")
        out = reload(config(n.sock, weights=(1, 1, 0)))
        got = window()
        check("removed" in out and got["be3"] == 0 and got["be1"] > 0 and
              got["be2"] > 0, f"reload 1: be3 removed, gets no new request "
              f"({got})", out)

        out = reload(config(n.sock, weights=(1, 1, 2), sched="wrr"))
        got = window(1.5)
        share = got["be3"] / max(1, sum(got.values()))
        check("added" in out and "scheduler" in out and 0.4 < share < 0.6,
              f"reload 2: be3 back with weight 2 under wrr takes about half "
              f"({got})", out)

        out = reload(config(n.sock, weights=(1, 1, 2), sched="wrr",
                            interval="500ms", extra=True))
        r = Single.result(n.client("client.py", "requests", V4["vip"], 8082, 30))
        check("added" in out and r.get("ok") == 30,
              "reload 3: a new service answers at once", (out, r))
        h = n.json("show", "health").get("checks", [])
        check(h and all(c.get("state") == "up" for c in h),
              "reload 3: changed checks start up, not down", h)

        out = reload(config(n.sock, weights=(1, 1, 2), interval="500ms"))
        got = window(1.5)
        check("removed" in out and all(abs(got[b] - sum(got.values()) / 3) <=
                                       sum(got.values()) / 6 for b in got),
              f"reload 4: the service is gone, rr splits evenly again "
              f"({got})", out)

        before = n.json("show", "info").get("reloads")
        out = reload(config(n.sock, broken=True))
        info = n.json("show", "info")
        got = window(0.5)
        check("unknown mode" in out and info.get("reloads") == before and
              all(got[b] > 0 for b in got),
              "reload 5: a bad file is refused with its error; the old "
              "config keeps serving", (out, info))

        last = reload(config(n.sock), via_signal=True)
        check(last.get("result") == "ok", "reload 6 (SIGHUP) applies", last)

        for name, p in loads.items():
            r = Single.result(p)
            check(r.get("fail") == 0 and r.get("ok", 0) > 500,
                  f"{name}: {r.get('ok')} requests during six reloads, "
                  f"{r.get('fail')} failed", r)
        for name, p in holds.items():
            r = Single.result(p)
            check(r.get("errors") == {} and r.get("ok") == r.get("lines") and
                  r.get("moved") == 0 and r.get("lines", 0) > HOLD_N * 80 and
                  r.get("by", {}).get("be3", 0) > 0,
                  f"{name}: {HOLD_N} connections through six reloads, be3's "
                  f"drained: {r.get('ok')} of {r.get('lines')} lines, "
                  f"errors {r.get('errors')}, {r.get('moved')} moved", r)
        procs.clear()
        log = n.log()
        check("UP->DOWN" not in log, "no health check flapped",
              [x for x in log.splitlines() if "->" in x][:10])
        errs = n.json("show", "errors")
        check(errs.get("no_conn", 0) == 0 and errs.get("tuple_conflict", 0) == 0,
              "the engine dropped nothing for a missing connection", errs)
    finally:
        for p in procs:
            p.kill()
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
