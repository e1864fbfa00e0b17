#!/usr/bin/env python3
"""Health checks driving the data plane, with real servers in namespaces.

One lbd node (tests/netns/single.py), three backends, each checked over
HTTP on a port of its own. Under traffic, be2's health server is killed
while its service keeps running:
  - be2 is down within fall x interval + timeout;
  - from then on no request through the VIP reaches it (the engine is told
    at the transition, not at a timer's next tick), and none fails;
  - long-lived connections of a service with `on-backend-down keep` go on
    through be2; those of a service with `on-backend-down reset` on be2
    are reset at their next line (the client sees an RST, not a hang),
    and the others go on untouched;
  - when the health server is back, be2 is up within rise x interval and
    takes requests again.

usage: test_health_dp.py BUILD_DIR"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single, HEALTH_PORT, ECHO_PORT  # noqa: E402
from topo import V4, BACKENDS, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
INTERVAL, TIMEOUT, RISE, FALL = 0.3, 0.2, 2, 2
HOLD_N, HOLD_S = 30, 8


def service(name, port, bport, mode, extra=""):
    check_ = (f"check http {{ port {HEALTH_PORT} interval "
              f"{int(INTERVAL * 1000)}ms timeout {int(TIMEOUT * 1000)}ms "
              f"rise {RISE} fall {FALL} }}")
    bes = "\n".join(f"    backend {b} {be4(n)}:{bport}" for b, n in BACKENDS)
    snat = f"snat-pool {V4['snat']}" if mode == "snat" else ""
    return f"""
service {name} {{
    listen {V4['vip']} tcp {port}
    mode {mode}
    {snat}
    scheduler rr
    {extra}
    {check_}
{bes}
}}"""


def config(sock):
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}""" + service("web", 80, 80, "routed") + \
        service("keep", 7000, ECHO_PORT, "routed") + \
        service("reset", 7001, ECHO_PORT, "snat", "on-backend-down reset")


def fastpath(n):
    """The kernel fast path's counters (show info)."""
    return (n.json("show", "info").get("data_plane") or {}).get("fastpath") or {}


def main():
    n = Single(BUILD)
    holds = []
    try:
        n.build()
        check(n.start(config(n.sock)), "lbd starts", n.log()[-2000:])
        up = n.wait(lambda: all(b.get("state") == "up" for b in
                                n.backends().values()) and
                    len(n.backends()) == 9, 10)
        check(up is not None, "every backend of the three services is up",
              n.ctl("show", "stat"))

        keep = n.client("holdconns.py", V4["vip"], 7000, HOLD_N, HOLD_S)
        reset = n.client("holdconns.py", V4["vip"], 7001, HOLD_N, HOLD_S)
        holds += [keep, reset]
        n.wait(lambda: n.json("show", "stat").get("errors") is not None and
               sum(b.get("active", 0) for k, b in n.backends().items()
                   if k.startswith(("keep/", "reset/"))) >= 2 * HOLD_N, 10)
        n.wait(lambda: False, 1.5)     # lines flow for a while
        fp0 = fastpath(n)
        check(fp0.get("flows", 0) >= 4 * HOLD_N and fp0.get("forwarded", 0) > 0,
              f"the {2 * HOLD_N} long-lived connections are in the kernel's "
              f"flow table ({fp0.get('flows')} flows, two per connection; "
              f"{fp0.get('forwarded')} packets forwarded there)", fp0)

        n.stop_health("be2")
        down = n.wait(lambda: all(n.backends().get(f"{s}/be2", {})
                                  .get("state") == "down"
                                  for s in ("web", "keep", "reset")), 30)
        # Counted in checks, not seconds: each service's check of be2 had
        # failed none before, so its transition came at failure FALL.
        trans = re.findall(r"backend=(\w+)/be2 check=http UP->DOWN "
                           r"reason=\"[^\"]*\" checks=(\d+) failures=(\d+)",
                           n.log())
        check(down is not None and sorted(s for s, _, _ in trans) ==
              ["keep", "reset", "web"] and
              all(int(f) == FALL for _, _, f in trans),
              f"health server of be2 killed: down in every service at its "
              f"check's failure {FALL} (fall), after "
              f"{(down or 0) * 1000:.0f} ms", (trans, n.ctl("show", "health")))
        fpd = fastpath(n)

        n.clear_seen()
        r = Single.result(n.client("client.py", "requests", V4["vip"], 80, 300))
        check(r.get("ok") == 300 and r.get("fail") == 0 and
              n.seen("be2") == 0 and set(r.get("by", {})) == {"be1", "be3"},
              f"300 requests after detection: all answered, none reached be2 "
              f"(split {r.get('by')})", (r, n.seen("be2"), n.log()[-3000:]))

        rk, rr = Single.result(keep), Single.result(reset)
        holds.clear()
        check(rk.get("errors") == {} and rk.get("ok") == rk.get("lines") and
              rk.get("by", {}).get("be2") == HOLD_N // 3 and
              rk.get("lines", 0) > HOLD_N * (HOLD_S * 10 - 10),
              f"on-backend-down keep: all {HOLD_N} connections went on, "
              f"{HOLD_N // 3} of them through be2 ({rk.get('ok')} of "
              f"{rk.get('lines')} lines)", rk)
        errs = rr.get("errors", {})
        check(rr.get("failed_by") == {"be2": HOLD_N // 3} and
              set(errs) <= {"recv: Connection reset by peer",
                            "send: Connection reset by peer"},
              f"on-backend-down reset: be2's {HOLD_N // 3} connections were "
              f"reset ({errs}), the other {HOLD_N - HOLD_N // 3} untouched",
              rr)
        bad = n.json("show", "errors")
        dropped = (bad.get("drops") or bad).get("backend_down", 0)
        check(dropped >= HOLD_N // 3, f"show errors counts backend_down "
              f"({dropped})", bad)
        st = n.backends()
        check(st.get("reset/be2", {}).get("active") == 0,
              "the reset connections left the table", st.get("reset/be2"))
        gone = fp0.get("flows", 0) - fpd.get("flows", 0)
        check(gone >= 2 * (HOLD_N // 3) and
              fpd.get("unloaded", 0) - fp0.get("unloaded", 0) >= HOLD_N // 3,
              f"and the kernel's: {gone} flows removed as be2 went down (two "
              f"for each of its {HOLD_N // 3} reset connections; their "
              "packets since then reached the engine, which reset them)",
              (fp0, fpd))

        n.start_health("be2")
        back = n.wait(lambda: n.backends().get("web/be2", {}).get("state") ==
                      "up", 30)
        up = re.findall(r"backend=web/be2 check=http DOWN->UP reason=\"[^\"]*\" "
                        r"checks=(\d+) failures=(\d+)", n.log())
        wd = [(int(c), int(f)) for s, c, f in trans if s == "web"]
        check(back is not None and len(up) == 1 and wd and
              (int(up[0][0]) - wd[0][0]) - (int(up[0][1]) - wd[0][1]) == RISE,
              f"health server back: be2 up after {RISE} good checks (rise), "
              f"{(back or 0) * 1000:.0f} ms", (wd, up))
        n.clear_seen()
        r = Single.result(n.client("client.py", "requests", V4["vip"], 80, 300))
        check(r.get("ok") == 300 and abs(n.seen("be2") - 100) <= 1,
              f"be2 takes its share again ({n.seen('be2')} of 300)", r)
    finally:
        for p in holds:
            p.kill()
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
