#!/usr/bin/env python3
"""Announcements on the wire (pair.py's topology): group edge with a front
instance of 30 IPv4 addresses and `use-vmac off`, an IPv6 front instance,
and a back instance with its own `garp count 1` and `garp lower-prio 2`;
globally `garp count 3`, `garp interval 100ms`, `garp rate 200`. Frames
are captured on the bridge ports facing the nodes, with kernel times.

  * n1 takes the group: each address is announced its count of times, at
    least the interval apart; every address's first announcement goes
    before any address's second; no 100 ms holds more than the rate's
    share (the whole lasts at least what the rate makes it), and lbd
    counts the announcements that waited; IPv4 front addresses come from
    the interface's own MAC (use-vmac off), the others from their virtual
    MACs; the IPv6 NA carries the router flag (RFC 5798 6.4.2).
  * use-vmac off, end to end: n1 is killed; n2's announcements move the
    client's neighbour entry for the VIP to n2's MAC without the client
    asking, and requests through the VIP are answered.
  * a lower priority's advert reaches the master (n2): it announces the
    group again, the back address its `lower-prio` 2 times; a second such
    advert within a second adds nothing.

usage: test_garp.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import BE, finish, master_both, Net, SNAT, VIP  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FRONT = [VIP] + [f"10.92.0.{i}" for i in range(120, 149)]     # 30
VIP6 = "fd92::100"
COUNT, INTERVAL_MS, RATE = 3, 100, 200
BACK_COUNT, BACK_LOWER = 1, 2


def conf(node, prio):
    front = "\n".join(f"        virtual-address {a}/24" for a in FRONT)
    return f"""global {{{{
    node-id {node}
    control-socket {{sock}}
    interface f0
    interface b0
    garp count {COUNT}
    garp interval {INTERVAL_MS}ms
    garp rate {RATE}
}}}}
vrrp-group edge {{{{
    instance front {{{{
        interface f0
        vrid 51
        priority {prio}
        advert-interval 100ms
        use-vmac off
{front}
    }}}}
    instance front6 {{{{
        interface f0
        vrid 53
        priority {prio}
        advert-interval 100ms
        virtual-address {VIP6}/64
    }}}}
    instance back {{{{
        interface b0
        vrid 52
        priority {prio}
        advert-interval 100ms
        virtual-address {SNAT}/24
        garp count {BACK_COUNT}
        garp lower-prio {BACK_LOWER}
    }}}}
}}}}
service web {{{{
    listen {VIP} tcp 80
    mode snat
    snat-pool {SNAT}
    backend be1 {BE}:80
}}}}
"""


def sniff(net, sw, ports):
    p = net.t.popen(sw, ["python3", os.path.join(HERE, "garp_sniff.py"),
                         "sniff"] + ports, stdout=subprocess.PIPE, text=True)
    p.stdout.readline()         # "ready"
    return p


def sniffed(p):
    p.send_signal(signal.SIGTERM)
    try:
        return json.loads(p.communicate(timeout=30)[0].strip()
                          .splitlines()[-1])
    except (ValueError, IndexError, subprocess.TimeoutExpired):
        return []


def mac_of(net, node, dev):
    out = net.t.nsx(node, f"cat /sys/class/net/{dev}/address").stdout
    return out.strip()


def announcements(net, node):
    try:
        dp = json.loads(net.ctl(node, "show", "info", "--json"))["data_plane"]
        return dp.get("announcements", 0), dp.get("announcements_paced", 0)
    except (ValueError, KeyError, TypeError):
        return 0, 0


def main():
    net = Net(BUILD, prefix="lga")
    procs = []
    try:
        net.build()
        f1 = mac_of(net, "n1", "f0")

        # ---- n1 takes the group --------------------------------------------
        sw_f = sniff(net, "swf", ["p1"])
        sw_b = sniff(net, "swb", ["q1"])
        procs += [sw_f, sw_b]
        check(net.start("n1", 150, text=conf("n1", 150)), "n1 starts",
              net.log("n1"))
        want = len(FRONT) * COUNT + COUNT + BACK_COUNT
        net.wait(lambda: master_both(net, "n1") and
                 announcements(net, "n1")[0] >= want, 30, step=0.05)
        net.wait(lambda: False, 0.5)    # nothing more may come
        seen = sniffed(sw_f) + sniffed(sw_b)
        by = {}
        for f in sorted(seen, key=lambda f: f["t"]):
            by.setdefault(f["addr"], []).append(f)
        counts = {a: len(v) for a, v in by.items()}
        check(all(counts.get(a) == COUNT for a in FRONT + [VIP6]) and
              counts.get(SNAT) == BACK_COUNT and len(seen) == want,
              f"each address announced its count: {COUNT} (global), "
              f"{BACK_COUNT} for the back instance's; {len(seen)} frames",
              counts)
        gaps = [round((v[i + 1]["t"] - v[i]["t"]) * 1000) for v in
                by.values() for i in range(len(v) - 1)]
        check(gaps and min(gaps) >= INTERVAL_MS - 5,
              f"an address's announcements at least {INTERVAL_MS} ms apart "
              f"(shortest {min(gaps) if gaps else None} ms)", sorted(gaps)[:10])
        firsts = [v[0]["t"] for v in by.values()]
        seconds = [v[1]["t"] for v in by.values() if len(v) > 1]
        check(seconds and max(firsts) <= min(seconds),
              "every address's first announcement before any second one")
        ts = sorted(f["t"] for f in seen)
        busiest = max(sum(1 for u in ts if t <= u < t + 0.1) for t in ts)
        span = ts[-1] - ts[0]
        paced = announcements(net, "n1")[1]
        check(busiest <= RATE * 0.1 + 3 and span >= (len(ts) - 3) / RATE
              and paced > 0,
              f"garp rate {RATE}: at most {busiest} frames in any 100 ms, "
              f"{len(ts)} frames over {span:.2f} s, {paced} waited (counted)",
              (busiest, span, paced))
        macs = {a: {f["mac"] for f in v} for a, v in by.items()}
        check(all(macs[a] == {f1} for a in FRONT) and
              macs.get(VIP6) == {"00:00:5e:00:02:35"} and
              macs.get(SNAT) == {"00:00:5e:00:01:34"},
              "use-vmac off: the front addresses from f0's own MAC; the "
              "others from their virtual MACs", macs)
        check(by.get(VIP6) and all(f["router"] for f in by[VIP6]) and
              not any(f["router"] for a in FRONT for f in by[a]),
              "the IPv6 address's NAs carry the router flag", by.get(VIP6))

        # ---- use-vmac off: a failover moves the client's neighbour entry ---
        check(net.start("n2", 100, text=conf("n2", 100)), "n2 starts as "
              "backup", net.log("n2"))
        r = net.requests(10)
        neigh = net.t.nsx("client", f"ip neigh show {VIP}").stdout
        check(r.get("ok") == 10 and f1 in neigh,
              "the client reaches the VIP at n1's MAC", (r, neigh))
        net.wait(lambda: False, 1.2)    # past the neighbour locktime
        f2 = mac_of(net, "n2", "f0")
        net.stop("n1", signal.SIGKILL)
        net.wait(lambda: f2 in net.t.nsx("client", f"ip neigh show {VIP}")
                 .stdout, 10, step=0.02)
        neigh = net.t.nsx("client", f"ip neigh show {VIP}").stdout
        r = net.requests(20)
        check(master_both(net, "n2") and f2 in neigh and r.get("ok") == 20,
              "n1 killed: n2's announcements move the client's entry for "
              "the VIP to n2's MAC; 20 requests answered", (neigh, r))

        # ---- a lower priority's advert -------------------------------------
        # The takeover's own announcements first (91 frames at 200/s: the
        # requests above can be done well before they are), so that the
        # sniffer sees only what the advert brings.
        takeover = len(FRONT) * COUNT + COUNT + BACK_COUNT
        done = net.wait(lambda: announcements(net, "n2")[0] >= takeover, 10,
                        step=0.05)
        check(done is not None, f"n2's takeover announcements all sent "
              f"({takeover})", announcements(net, "n2"))
        before = announcements(net, "n2")[0]
        sw_b = sniff(net, "swb", ["q2"])
        procs.append(sw_b)
        adv = ["python3", os.path.join(HERE, "garp_sniff.py"), "advert",
               "e0", "10.92.1.50", "52", "50", SNAT]
        net.t.nsx("be1", " ".join(adv))
        net.wait(lambda: announcements(net, "n2")[0] >= before +
                 len(FRONT) * COUNT + COUNT + BACK_LOWER, 10, step=0.05)
        net.t.nsx("be1", " ".join(adv))
        net.wait(lambda: False, 1.0)
        seen = sniffed(sw_b)
        back = [f for f in seen if f["addr"] == SNAT]
        check(len(back) == BACK_LOWER and master_both(net, "n2") and
              "advertises priority 50, lower" in net.log("n2"),
              f"a priority-50 advert: n2 stays master and announces the back "
              f"address {BACK_LOWER} times (its lower-prio), the second advert "
              f"within a second adds none", (back, net.log("n2")[-500:]))
    finally:
        net.end(procs)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
