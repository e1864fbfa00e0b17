#!/usr/bin/env python3
"""Admission on one node (tests/netns/single.py), real connections through
the VIP in snat mode:

  * max-conns: two backends with `max-conns 5` each hold 10 long-lived
    connections; an eleventh connection is refused with a RST (counted as
    backends_full), `show stat` says 5 open on each; once they close, new
    connections are taken again;
  * backup and quorum: be3 marked `backup` gets nothing while be1 or be2
    is up; with both failing their checks it takes every request; a reload
    to `quorum 2` with one primary up puts it to work beside that one;
  * allow and limit, from two client addresses: a service that allows one
    of them drops the other's connections (not_allowed, no RST); with
    `limit new-conns 5/s per-source burst 5` a burst of 15 connections
    from one address gets its 5 and what the rate gave back while it ran,
    the rest dropped (rate_limited), and the other address still gets its
    own 5;
  * slow-start: be2 comes back from a failed check and ramps: while
    `show stat` says it is at p% of its weight it gets at most its share
    of p / (100 + p) of new connections (with slack for a request or two),
    and once at 100% the two split evenly.

usage: test_admission.py BUILD_DIR"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single, HEALTH_PORT, ECHO_PORT  # noqa: E402
from topo import V4, be4  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CHECK = (f"check http {{ port {HEALTH_PORT} interval 200ms timeout 150ms "
         f"rise 1 fall 1 }}")
SLOW_S = 6
OTHER = "10.91.0.3"        # the client's second address


def config(sock, quorum=""):
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
service capped {{
    listen {V4['vip']} tcp {ECHO_PORT}
    mode snat
    snat-pool {V4['snat']}
    backend be1 {be4(11)}:{ECHO_PORT} max-conns 5
    backend be2 {be4(12)}:{ECHO_PORT} max-conns 5
}}
service web {{
    listen {V4['vip']} tcp 8080
    mode snat
    snat-pool {V4['snat']}
    {quorum}
    {CHECK}
    backend be1 {be4(11)}:80
    backend be2 {be4(12)}:80
    backend be3 {be4(13)}:80 backup
}}
service guarded {{
    listen {V4['vip']} tcp 8082
    mode snat
    snat-pool {V4['snat']}
    allow {V4['c']}/32
    backend be1 {be4(11)}:80
}}
service limited {{
    listen {V4['vip']} tcp 8083
    mode snat
    snat-pool {V4['snat']}
    limit new-conns 5/s per-source burst 5
    backend be1 {be4(11)}:80
}}
service ramp {{
    listen {V4['vip']} tcp 8081
    mode snat
    snat-pool {V4['snat']}
    scheduler wrr
    slow-start {SLOW_S}s
    {CHECK}
    backend be1 {be4(11)}:80
    backend be2 {be4(12)}:80
}}
"""


def connect_once(n):
    """One connection to the capped service: "ok", "refused" or an error."""
    r = n.t.nsx("client", "python3 -c \"import socket\n"
                "try:\n"
                f"    socket.create_connection(('{V4['vip']}', {ECHO_PORT}), 3)"
                ".close(); print('ok')\n"
                "except ConnectionRefusedError: print('refused')\n"
                "except OSError as e: print(e)\"", check=False)
    return r.stdout.strip()


def requests(n, port, count):
    return Single.result(n.client("client.py", "requests", V4["vip"], port,
                                  count))


def web_drops(n, svc):
    for s in n.json("show", "stat").get("services", []):
        if s.get("service") == svc:
            return s.get("drops", {})
    return {}


def max_conns(n):
    hold = n.client("holdconns.py", V4["vip"], ECHO_PORT, 10, 30, 200)
    rows = {}
    full = n.wait(lambda: rows.update(n.backends()) or (
        rows.get("capped/be1", {}).get("open") == 5 and
        rows.get("capped/be2", {}).get("open") == 5), 15)
    first = connect_once(n)
    drops = web_drops(n, "capped")
    check(full is not None and first == "refused" and
          drops.get("backends_full", 0) >= 1 and
          rows["capped/be1"].get("max_conns") == 5 and
          rows["capped/be1"].get("state") == "full",
          "max-conns 5 on two backends: 10 connections held, 5 open on "
          "each, shown full; the 11th is refused with a RST, counted as "
          "backends_full",
          (first, drops, {k: (v.get("open"), v.get("active"), v.get("state"))
                          for k, v in rows.items() if k.startswith("capped")}))
    hold.terminate()
    res = Single.result(hold)
    room = n.wait(lambda: connect_once(n) == "ok", 15)
    check(res.get("conns") == 10 and not res.get("errors") and
          room is not None,
          "the held connections all answered; once closed, a new one is "
          "taken again", res)


def backup_quorum(n):
    n.clear_seen()
    r = requests(n, 8080, 30)
    state = n.backends().get("web/be3", {}).get("state")
    check(r.get("ok") == 30 and n.seen("be3") == 0 and state == "standby",
          "backup be3 gets no request while the primaries are up (shown "
          "standby)", (r, state))

    for b in ("be1", "be2"):
        n.stop_health(b)
    n.wait(lambda: all(n.backends().get(f"web/{b}", {}).get("state") ==
                       "down" for b in ("be1", "be2")), 15)
    n.clear_seen()
    r = requests(n, 8080, 30)
    state = n.backends().get("web/be3", {}).get("state")
    check(r.get("ok") == 30 and n.seen("be3") == 30 and state == "up",
          "both primaries failing their checks: backup be3 takes every "
          "request (shown up)", (r, n.seen("be3"), state))

    n.start_health("be1")
    n.wait(lambda: n.backends().get("web/be1", {}).get("state") == "up", 15)
    n.clear_seen()
    r = requests(n, 8080, 30)
    check(r.get("ok") == 30 and n.seen("be1") == 30,
          "one primary back (quorum 1): it takes them all again",
          (r, {b: n.seen(b) for b in ("be1", "be2", "be3")}))

    n.write_conf(config(n.sock, quorum="quorum 2"))
    out = n.ctl("reload", stderr=True)
    n.clear_seen()
    r = requests(n, 8080, 40)
    seen = {b: n.seen(b) for b in ("be1", "be2", "be3")}
    check("changed" in out and r.get("ok") == 40 and seen["be2"] == 0 and
          seen["be1"] > 0 and seen["be3"] > 0,
          "quorum 2 with one primary up: the backup works beside it",
          (out, r, seen))
    n.start_health("be2")
    n.wait(lambda: n.backends().get("web/be2", {}).get("state") == "up", 15)


def connects(n, src, port, count, timeout):
    return Single.result(n.client("connects.py", src, V4["vip"], port, count,
                                  timeout))


def allow_limit(n):
    n.t.nsx("client", f"ip addr add {OTHER}/24 dev c0")
    mine = connects(n, V4["c"], 8082, 3, 2)
    other = connects(n, OTHER, 8082, 3, 0.5)
    drops = web_drops(n, "guarded")
    check(mine.get("ok") == 3 and other.get("fail") == 3 and
          drops.get("not_allowed", 0) >= 3,
          "allow: the allowed address connects, the other's SYNs are "
          "dropped (not_allowed)", (mine, other, drops))

    burst = connects(n, V4["c"], 8083, 15, 0.3)
    after = connects(n, OTHER, 8083, 5, 2)
    drops = web_drops(n, "limited")
    # 5 at once, then 5/s for as long as the burst took (each refused
    # attempt waits its 0.3 s), and one for rounding.
    most = 5 + 5 * burst.get("s", 0) + 1
    check(5 <= burst.get("ok", 0) <= most and burst.get("fail", 0) >= 1 and
          drops.get("rate_limited", 0) == burst.get("fail") and
          after.get("ok") == 5,
          f"limit 5/s burst 5: {burst.get('ok')} of 15 rapid connections "
          f"from one address in {burst.get('s')} s (at most {most:.1f}), the "
          "rest dropped as rate_limited; the other address still gets its 5",
          (burst, after, drops))


def slow_start(n):
    n.stop_health("be2")
    n.wait(lambda: n.backends().get("ramp/be2", {}).get("state") == "down",
           15)
    n.start_health("be2")
    n.wait(lambda: n.backends().get("ramp/be2", {}).get("state") == "up", 15)
    n.clear_seen()
    r = requests(n, 8081, 20)
    pct = n.backends().get("ramp/be2", {}).get("slow_start_pct", 100)
    got = n.seen("be2")
    # A weighted round robin at be2's final ramp point would give it at
    # most this share; allow two requests over it for rounding.
    bound = 20 * pct / (100 + pct) + 2
    check(r.get("ok") == 20 and pct < 100 and got <= bound,
          f"slow-start: be2 back from a failed check got {got} of 20 new "
          f"connections while ramping (at {pct}% of its weight at the end, "
          f"at most {bound:.1f})", (r, pct, got))
    done = n.wait(lambda: n.backends().get("ramp/be2", {})
                  .get("slow_start_pct") == 100, SLOW_S + 10)
    n.clear_seen()
    r = requests(n, 8081, 40)
    seen = {b: n.seen(b) for b in ("be1", "be2")}
    check(done is not None and r.get("ok") == 40 and
          18 <= seen["be2"] <= 22,
          "slow-start done: full weight, the two split new connections "
          "evenly", (r, seen))


def main():
    n = Single(BUILD)
    try:
        n.build()
        check(n.start(config(n.sock)),
              "lbd starts with max-conns, backup, quorum, allow, limit and slow-start",
              n.log()[-2000:])
        n.wait(lambda: all(v.get("state") in ("up", "standby") for v in
                           n.backends().values()), 15)
        max_conns(n)
        backup_quorum(n)
        allow_limit(n)
        slow_start(n)
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
