#!/usr/bin/env python3
"""lbd as a router hop sends the ICMP errors a router sends (topo.py, routed
mode, kernel datapath, every offload on):

  * the front link (lbd f0 -- wan w1) at MTU 1400, everything else 1500:
    the backend's 1500-byte segments do not fit lbd's way out. lbd answers
    them with "fragmentation needed" (IPv4) / "packet too big" (IPv6), the
    backend learns the path MTU (its route cache says 1400) and a 20 MB
    download through the VIP completes over each family; without the
    errors it would hang (a PMTU black hole);
  * traceroute -T to the VIP from the client names lbd's front address
    for the hop where TTL runs out in lbd, between the wan router and the
    VIP;
  * a dsr service on a VIP no data interface's subnet covers: lbd says at
    start that replies passing back through the node would be dropped as
    martians, and which sysctl lets them through.

usage: test_icmp.py BUILD_DIR"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from single import Single  # noqa: E402
from topo import V4, V6, be4, be6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def config(sock):
    return f"""global {{
    control-socket {sock}
    interface f0
    interface b0
}}
service web {{
    listen {V4['vip']} tcp 80
    backend be1 {be4(11)}:80
}}
service web6 {{
    listen {V6['vip']} tcp 80
    backend be1 [{be6(11)}]:80
}}
service outside {{
    listen 10.99.0.1 tcp 80
    mode dsr
    backend be1 {be4(11)}:80
}}
"""


def main():
    n = Single(BUILD)
    t = n.t
    try:
        n.build()
        t.nsx("lbd", "ip link set f0 mtu 1400")
        t.nsx("wan", "ip link set w1 mtu 1400")
        check(n.start(config(n.sock)), "lbd starts", n.log()[-2000:])
        for fam, vip in ((4, V4["vip"]), (6, f"[{V6['vip']}]")):
            r = t.nsx("client", "curl -s -o /dev/null -w '%{http_code} "
                      f"%{{size_download}}' --max-time 30 "
                      f"http://{vip}/big?n=20000000", check=False)
            cache = t.nsx("be1", f"ip -{fam} route get "
                          f"{V4['c'] if fam == 4 else V6['c']}",
                          check=False).stdout
            e = n.json("show", "errors")
            check(r.stdout == "200 20000000" and "mtu 1400" in cache and
                  e.get("too_big", 0) > 0 and e.get("icmp_sent", 0) > 0,
                  f"IPv{fam}, lbd's way out at MTU 1400: the backend is told "
                  "(its route cache says mtu 1400) and a 20 MB download "
                  "through the VIP completes",
                  (r.stdout, cache.strip(), e.get("too_big"),
                   e.get("icmp_sent")))

        r = t.nsx("client", f"traceroute -n -T -p 80 -q 1 -w 2 -m 5 "
                  f"{V4['vip']}", check=False)
        hops = [ln.split()[1] for ln in r.stdout.splitlines()[1:]
                if len(ln.split()) > 1]
        check(hops[:3] == [V4["w0"], V4["f0"], V4["vip"]],
              "traceroute -T to the VIP: the wan router, then lbd (its front "
              "address: TTL ran out there), then the VIP",
              (hops, r.stdout, r.stderr))
        check("service outside: dsr VIP 10.99.0.1 is on no data interface's "
              "subnet" in n.log() and "accept_local=1" in n.log(),
              "a dsr VIP outside every data interface's subnet: lbd says the "
              "backends' replies through this node would be martians, and "
              "the sysctl", n.log()[-1500:])
        check(n.lbd.poll() is None, "lbd is still running", n.log()[-1000:])
    finally:
        n.cleanup()
    return n.finish()


if __name__ == "__main__":
    sys.exit(main())
