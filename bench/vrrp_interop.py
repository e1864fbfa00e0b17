#!/usr/bin/env python3
"""bench-vrrp-interop: lbd as keepalived's VRRP peer, against keepalived as
its own peer, on one segment (tests/netns/pair.py's front bridge: the
client, n1, n2).

keepalived (2.2.x) runs on n2 at priority 200; on n1 runs either lbd or
keepalived, at 150. The client pings the VIP every 10 ms throughout. Two
moments, each measured as the client's longest time without a reply:

  takeover    n2's keepalived frozen, killed and its switch port downed
              (a node death); n1 takes over. Also how long n1 waited
              after n2's last advert, against RFC 5798's
              Master_Down_Interval (3 x interval + skew) -- "late" when it
              waited a whole advert interval more.
  preemption  n2's port back up, keepalived started again at 200; it
              preempts n1.

Settings: VRRPv3 100 ms over IPv4 and IPv6, both with a virtual MAC
(keepalived's use_vmac; lbd always has one), and VRRPv2 1 s without
(keepalived's real MAC; lbd's virtual MAC against it).

Last line per setting:
  vrrp-interop SETTING: lbd_takeover_ms=… keepalived_takeover_ms=…
      lbd_wait_ms=… keepalived_wait_ms=… lbd_wait_max_ms=…
      keepalived_wait_max_ms=… master_down_ms=…
      lbd_preempt_ms=… keepalived_preempt_ms=…
(medians over ROUNDS rounds, 3 by default; the waits' worst too).

usage: vrrp_interop.py BUILD_DIR [ROUNDS]"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "tests", "netns")
sys.path.insert(0, NETNS)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from pair import Net, VIP, VIP6  # noqa: E402
# The interop test's configs: one instance on f0, vrid 51 (its `auth`
# slot in keepalived's takes use_vmac here).
from test_vrrp_keepalived import KEEPALIVED, LBD  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3

# name, VRRP version, advert ms, address, prefix length, virtual MAC
SETTINGS = (("v3-ipv4-vmac", 3, 100, VIP, 24, True),
            ("v3-ipv6-vmac", 3, 100, VIP6, 64, True),
            ("v2-ipv4", 2, 1000, VIP, 24, False))

def master_down_ms(adv, prio=150):
    return 3 * adv + (256 - prio) * adv / 256


def keepalived(net, node, tag, prio, ver, adv, addr, plen, vmac):
    conf = os.path.join(net.tmp, f"k-{node}-{tag}.conf")
    with open(conf, "w") as f:
        f.write(KEEPALIVED.format(prio=prio, adv=adv / 1000, ver=ver,
                                  addr=addr, plen=plen,
                                  auth="use_vmac" if vmac else ""))
    log = open(os.path.join(net.tmp, f"k-{node}.log"), "a")
    return net.t.popen(node, [
        "keepalived", "-n", "-l", "-D", "-P", "-f", conf,
        "-p", os.path.join(net.tmp, f"k-{node}-{tag}.pid"),
        "-r", os.path.join(net.tmp, f"k-{node}-{tag}.vpid")],
        stdout=log, stderr=log)


def holds(net, node, addr):
    out = net.t.nsx(node, "ip -o addr show", check=False).stdout
    return f" {addr}/" in out


def ping(net, addr, seconds):
    return subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "ping", "-D", "-n",
         "-i", "0.01", "-W", "0.5", "-w", str(seconds), addr],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def adverts(net):
    """tshark on the client: VRRP adverts with their times and sources."""
    f = os.path.join(net.tmp, "vrrp.txt")
    p = subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "tshark", "-l", "-n",
         "-i", "c0", "-f", "ip proto 112 or ip6 proto 112", "-T", "fields",
         "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src"],
        stdout=open(f, "w"), stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    return p, f


def gap_ms(out, t0, t1):
    """The longest time without a reply between t0 and t1 (epoch s)."""
    times = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\].*bytes from",
                                          out, re.M)]
    times = [t for t in times if t0 - 1 <= t <= t1]
    if len(times) < 2:
        return None
    return round(max(b - a for a, b in zip(times, times[1:])) * 1000)


def advert_wait_ms(path, t_kill):
    """From the dead master's last advert before t_kill to the first one
    after it from anyone else (n1's)."""
    seen = []
    for ln in open(path):
        f = ln.rstrip("\n").split("\t")
        if len(f) >= 3:
            seen.append((float(f[0]), f[1] or f[2]))
    before = [x for x in seen if x[0] <= t_kill]
    if not before:
        return None
    last, dead = before[-1]
    after = [t for t, src in seen if t > t_kill and src != dead]
    return round((after[0] - last) * 1000) if after else None


def cleanup_node(net, node, addr, plen):
    net.t.nsx(node, f"ip addr del {addr}/{plen} dev f0", check=False)
    out = net.t.nsx(node, "ip -o link show", check=False).stdout
    for ln in out.splitlines():
        name = ln.split(":")[1].strip().split("@")[0]
        if name.startswith("vrrp"):
            net.t.nsx(node, f"ip link del {name}", check=False)


def one_round(net, who, setting, rnd):
    name, ver, adv, addr, plen, vmac = setting
    tag = f"{name}-{who}-{rnd}"
    k2 = keepalived(net, "n2", tag, 200, ver, adv, addr, plen, vmac)
    if who == "lbd":
        net.start("n1", 150, text=LBD.format(ver=ver, prio=150, adv_ms=adv,
                                             addr=addr, plen=plen, auth=""))
        k1 = None
    else:
        k1 = keepalived(net, "n1", tag, 150, ver, adv, addr, plen, vmac)
    settle = 2 * master_down_ms(adv) / 1000 + 2
    net.wait(lambda: holds(net, "n2", addr), settle, step=0.05)
    time.sleep(1)
    cap, capf = adverts(net)
    pg = ping(net, addr, 12 if adv == 100 else 20)
    time.sleep(1)
    # Takeover: n2 frozen, its port down, killed.
    t_kill = time.time()
    os.killpg(k2.pid, signal.SIGSTOP)
    net.t.nsx("swf", "ip link set p2 down")
    os.killpg(k2.pid, signal.SIGKILL)
    k2.wait()
    net.wait(lambda: holds(net, "n1", addr), master_down_ms(adv) / 1000 + 3,
             step=0.01)
    t_took = time.time()
    time.sleep(1.5)
    cleanup_node(net, "n2", addr, plen)
    # Preemption: n2 back at 200.
    net.t.nsx("swf", "ip link set p2 up")
    t_back = time.time()
    k2 = keepalived(net, "n2", tag + "-b", 200, ver, adv, addr, plen, vmac)
    net.wait(lambda: holds(net, "n2", addr) and not holds(net, "n1", addr),
             2 * master_down_ms(adv) / 1000 + 3, step=0.01)
    time.sleep(1.5)
    t_end = time.time()
    pg.send_signal(signal.SIGINT)
    out, _ = pg.communicate(timeout=10)
    cap.send_signal(signal.SIGINT)
    cap.wait(10)
    r = {"takeover": gap_ms(out, t_kill, t_took + 1),
         "wait": advert_wait_ms(capf, t_kill),
         "preempt": gap_ms(out, t_back, t_end)}
    if who == "lbd":
        net.stop("n1")
    else:
        os.killpg(k1.pid, signal.SIGTERM)
        k1.wait(10)
    os.killpg(k2.pid, signal.SIGTERM)
    k2.wait(10)
    for n in ("n1", "n2"):
        cleanup_node(net, n, addr, plen)
    time.sleep(0.5)
    return r


def med(rs, key):
    v = [r[key] for r in rs if r[key] is not None]
    return round(statistics.median(v)) if v else None


def worst(rs, key):
    v = [r[key] for r in rs if r[key] is not None]
    return max(v) if v else None


def main():
    net = Net(BUILD, prefix="lbi")
    lines = []
    try:
        net.build()
        for s in SETTINGS:
            res = {"lbd": [], "keepalived": []}
            for rnd in range(ROUNDS):
                for who in ("lbd", "keepalived"):
                    r = one_round(net, who, s, rnd)
                    print(f"# {s[0]} round {rnd} {who}: {r}", flush=True)
                    res[who].append(r)
            lines.append(
                f"vrrp-interop {s[0]}: "
                f"lbd_takeover_ms={med(res['lbd'], 'takeover')} "
                f"keepalived_takeover_ms={med(res['keepalived'], 'takeover')} "
                f"lbd_wait_ms={med(res['lbd'], 'wait')} "
                f"keepalived_wait_ms={med(res['keepalived'], 'wait')} "
                f"lbd_wait_max_ms={worst(res['lbd'], 'wait')} "
                f"keepalived_wait_max_ms={worst(res['keepalived'], 'wait')} "
                f"master_down_ms={master_down_ms(s[2]):.0f} "
                f"lbd_preempt_ms={med(res['lbd'], 'preempt')} "
                f"keepalived_preempt_ms={med(res['keepalived'], 'preempt')}")
            print(lines[-1], flush=True)
    finally:
        net.cleanup()
    for ln in lines:
        print(ln)
    return 0


if __name__ == "__main__":
    sys.exit(main())
