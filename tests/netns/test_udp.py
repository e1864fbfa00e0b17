#!/usr/bin/env python3
"""UDP through lbd on one node (tests/netns/single.py), in every mode and
family, with udpd.py on the backends:

  * DNS-like: 30 requests, each from a new source port, all answered from
    the VIP, spread over the backends (rr);
  * a long-lived flow: 40 datagrams from one port over 2 s, all answered
    from the VIP by one backend, which saw one client address and port
    throughout;
  * `one-packet on` (dsr): one socket's datagrams are scheduled one
    by one, over every backend, and leave no entry in the table;
  * `timeout udp 2s` in a service: its flow's entry goes after 2 s idle
    while another service's (the global 300 s) stays.

usage: test_udp.py BUILD_DIR"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single  # noqa: E402
from topo import BACKENDS, V4, V6, be4, be6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
MODES = {"routed": 5301, "snat": 5302, "dsr": 5303}
OPS_PORT, SHORT_PORT = 5304, 5305


def service(name, vip, port, mode, fam, extra=""):
    snat = f"snat-pool {(V4 if fam == 4 else V6)['snat']}" \
        if mode == "snat" else ""
    bes = "\n".join(
        f"    backend {b} {be4(n) if fam == 4 else '[' + be6(n) + ']'}:{port}"
        for b, n in BACKENDS)
    return f"""service {name} {{
    listen {vip} udp {port}
    mode {mode}
    {snat}
    {extra}
{bes}
}}
"""


def config(sock):
    text = f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
"""
    for fam, v in ((4, V4), (6, V6)):
        for mode, port in MODES.items():
            text += service(f"udp-{mode}{fam}", v["vip"], port, mode, fam)
    text += service("ops4", V4["vip"], OPS_PORT, "dsr", 4,
                    "one-packet on")
    text += service("short4", V4["vip"], SHORT_PORT, "routed", 4,
                    "timeout udp 2s")
    return text


def udp(n, *args):
    return Single.result(n.client("udp_client.py", *args), timeout=60)


def entries(n, svc):
    return n.json("show", "conn", svc).get("total", -1)


def main():
    n = Single(BUILD)
    try:
        n.build()
        ports = ",".join(str(p) for p in
                         list(MODES.values()) + [OPS_PORT, SHORT_PORT])
        for b, i in BACKENDS:
            n.t.popen(b, ["python3", os.path.join(HERE, "udpd.py"), b,
                          f"{be4(i)},{be6(i)},{V4['vip']},{V6['vip']}",
                          ports], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
        check(n.start(config(n.sock)), "lbd starts with UDP services in "
              "every mode and family", n.log()[-2000:])
        for fam, v in ((4, V4), (6, V6)):
            for mode, port in MODES.items():
                d = udp(n, "dns", v["vip"], port, 30)
                f = udp(n, "flow", v["vip"], port, 40, 0.05)
                check(d.get("ok") == 30 and d.get("wrong_source") == 0 and
                      len(d.get("by", {})) == 3 and
                      f.get("ok") == 40 and f.get("wrong_source") == 0 and
                      len(f.get("by", {})) == 1 and
                      len(f.get("seen_as", [])) == 1,
                      f"UDP {mode} IPv{fam}: 30 DNS-like requests answered "
                      f"from the VIP by all three backends; a 40-datagram "
                      f"flow answered by one, which saw one address:port",
                      (d, f))

        o = udp(n, "flow", V4["vip"], OPS_PORT, 30, 0.01)
        by = o.get("by", {})
        check(o.get("ok") == 30 and o.get("wrong_source") == 0 and
              len(by) == 3 and min(by.values()) >= 9 and
              entries(n, "ops4") == 0,
              "one-packet on: one socket's 30 datagrams go round all "
              "three backends, no entry kept", (o, entries(n, "ops4")))

        udp(n, "flow", V4["vip"], SHORT_PORT, 1, 0)
        udp(n, "flow", V4["vip"], MODES["routed"], 1, 0)
        had = entries(n, "short4")
        gone = n.wait(lambda: entries(n, "short4") == 0, 15)
        check(had == 1 and gone is not None and
              entries(n, "udp-routed4") >= 1,
              f"timeout udp 2s in a service: its idle flow's entry goes "
              f"(after {gone and round(gone, 1)} s) while the other "
              "service's stays", (had, gone, entries(n, "udp-routed4")))
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
