#!/usr/bin/env python3
"""Connection sync (ha-sync) end to end: two lbd nodes (pair.py) with a
heartbeat link hb0, echo services on the VIP in snat mode (port 7),
routed mode (port 8, the backend routes replies through the back
instance's floating address) and dsr mode (port 9, the backend answers
the client directly), a client holding long-lived connections through
all three.

Checked: the nodes find each other and complete a bulk resync; the
standby mirrors every established connection (show sync); after SIGKILL
of the master every connection goes on through the new master -- no
reset, no lost answer, the same backend and the same SNAT address and
port; the old master returns, resyncs before it preempts, and the
connections go on through it again; the node that gave them back keeps
them as the peer's mirrored copies; the sync port cannot be shared by a
local unprivileged socket; a key roll by reloads (accept-key-file, then
the new key-file) keeps the peers up throughout with no datagram refused;
a peer with the wrong key is refused and counted, nothing applied.

usage: test_sync.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import BE, finish, lbd_conf, Net, master_both, VIP  # noqa: E402
from scrape import check_scrape  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CONNS = 200         # snat mode, port 7
ROUTED = 100        # routed mode, port 8
DSR = 100           # dsr mode, port 9
MODES = (("snat", "7", CONNS), ("routed", "8", ROUTED), ("dsr", "9", DSR))
ALL = CONNS + ROUTED + DSR
METRICS = 9180      # each node's metrics, on its own loopback

DSR_SERVICE = f"""service echo-dsr {{
    listen {VIP} tcp 9
    mode dsr
    check tcp {{ interval 1s }}
    backend be1 {BE}:9
}}"""


def sync_block(peer, key, accept=None):
    acc = f"    accept-key-file {accept}\n" if accept else ""
    return f"""sync {{
    interface hb0
    peer {peer}
    key-file {key}
{acc}}}
{DSR_SERVICE}"""


def sync_info(net, node):
    try:
        return json.loads(net.ctl(node, "show", "sync", "--json"))["sync"] or {}
    except (ValueError, KeyError):
        return {}


def conn_table(net, node):
    """The echo services' entries in `node`'s connection table."""
    try:
        j = json.loads(net.ctl(node, "show", "conn", "100000", "--json"))
        return [c for c in j["connections"]
                if c["service"].startswith("echo")]
    except (ValueError, KeyError):
        return []


def hold_results(p):
    """The JSON line of a holdconns.py process, once it has ended."""
    out, _ = p.communicate(timeout=30)
    try:
        return json.loads(out or "{}")
    except ValueError:
        return {}


def start(net, node, prio, key):
    peer = "169.254.77.2" if node == "n1" else "169.254.77.1"
    return net.start(node, prio, tail=sync_block(peer, key),
                     glob=f"node-id {node} metrics listen 127.0.0.1:{METRICS}")


def reconf(net, node, prio, key, accept=None):
    """Rewrite `node`'s config with these keys and reload it."""
    peer = "169.254.77.2" if node == "n1" else "169.254.77.1"
    sock = os.path.join(net.tmp, f"{node}.sock")
    with open(os.path.join(net.tmp, f"{node}.conf"), "w") as f:
        f.write(lbd_conf(sock, prio, tail=sync_block(peer, key, accept),
                         glob=f"node-id {node} metrics listen "
                         f"127.0.0.1:{METRICS}"))
    return net.ctl(node, "reload")


def key_roll(net, key):
    """Both nodes up: accept the new key, sign with it one node at a time,
    drop the old one. The peers must hear each other throughout."""
    new = new_key(net, "new.key")
    failed0 = {n: sync_info(net, n).get("dropped", {}).get("auth_failed", 0)
               for n in ("n1", "n2")}
    steps = [("n1", 150, key, new), ("n2", 100, key, new),
             ("n1", 150, new, key), ("n2", 100, new, key),
             ("n1", 150, new, None), ("n2", 100, new, None)]
    downs, replies, accepted = 0, [], 0
    for node, prio, k, acc in steps:
        replies.append(reconf(net, node, prio, k, acc))
        for _ in range(10):     # a second of samples after each step
            downs += sum(not sync_info(net, n).get("peer_up")
                         for n in ("n1", "n2"))
            time.sleep(0.1)
        accepted = max(accepted, sync_info(net, "n2").get("accept_key", 0))
    failed = {n: sync_info(net, n).get("dropped", {}).get("auth_failed", 0)
              - failed0[n] for n in ("n1", "n2")}
    check(all("reload ok" in r for r in replies) and downs == 0 and
          failed == {"n1": 0, "n2": 0} and accepted > 0,
          f"a key roll by six reloads: the peers hear each other "
          f"throughout ({downs} samples down), no datagram refused "
          f"({failed}), {accepted} authenticated by accept-key-file "
          "meanwhile", (replies, sync_info(net, "n1"), sync_info(net, "n2")))
    return new


def hold(net, port, n, seconds, host=VIP):
    """holdconns.py from the client: n connections to host:port."""
    return subprocess.Popen(
        ["ip", "netns", "exec", net.t.ns("client"), "python3",
         os.path.join(HERE, "holdconns.py"), host, port, str(n),
         str(seconds)], stdout=subprocess.PIPE, text=True)


def kill_and_check(net, holds):
    """SIGKILL the master n1: n2 takes over, and every group of `holds`
    ((what, n, process)) goes on through it without a fault. Ends with
    `holds` empty and n2 stopped."""
    net.stop("n1", signal.SIGKILL)
    took = net.wait(lambda: master_both(net, "n2"), 3)
    check(took is not None, f"SIGKILL of the master: n2 takes over "
          f"({(took or 0) * 1000:.0f} ms)")
    for what, n, p in holds:
        r = hold_results(p)
        check(r.get("errors") == {} and r.get("ok") == r.get("lines") and
              r.get("moved") == 0 and r.get("lines", 0) > n * 40,
              f"{n} connections opened {what} went on through n2: "
              f"{r.get('ok')} of {r.get('lines')} lines answered, errors "
              f"{r.get('errors')}, {r.get('moved')} moved",
              (r, net.ctl("n2", "show", "sync")))
    holds.clear()
    net.stop("n2")


def cleanup(net, holds):
    """After a test, also a failed one: its clients and its namespaces."""
    for _, _, p in holds:
        p.kill()
        p.wait()
    net.cleanup()


def new_key(net, name):
    path = os.path.join(net.tmp, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(os.urandom(32))
    return path


def start_pair(net):
    """n1 (150) and n2 (100) with a sync block and a fresh key; n1 is
    master. Returns the key's path."""
    key = new_key(net, "sync.key")
    ok = start(net, "n1", 150, key) and start(net, "n2", 100, key)
    check(ok, "two nodes start with a sync block",
          net.log("n1") + net.log("n2"))
    net.wait(lambda: master_both(net, "n1"), 5)
    return key


def main():
    net = Net(BUILD, prefix="lbs")
    t = net.t
    try:
        net.build()
        net.dsr_backend(9)
        key = start_pair(net)
        took = net.wait(lambda: sync_info(net, "n1").get("synced") and
                        sync_info(net, "n2").get("synced"), 5, step=0.1)
        s2 = sync_info(net, "n2")
        check(took is not None and s2.get("peer_up") and
              s2.get("config_agrees"),
              "the nodes find each other over hb0, agree on the config and "
              "complete a bulk resync", (s2, net.ctl("n1", "show", "sync")))

        # Long-lived connections through the master.
        holds = [subprocess.Popen(
            ["ip", "netns", "exec", t.ns("client"), "python3",
             os.path.join(HERE, "holdconns.py"), VIP, port, str(n), "14"],
            stdout=subprocess.PIPE, text=True)
            for _, port, n in MODES]
        got = net.wait(lambda: sync_info(net, "n2").get("applied", 0) >=
                       ALL, 6, step=0.2)
        s2 = sync_info(net, "n2")
        check(got is not None, f"the standby mirrors all {ALL} "
              f"established connections ({s2.get('applied')} applied, lag p99 "
              f"{s2.get('lag_p99_ms')} ms)", (s2, net.ctl("n1", "show", "sync")))
        # A node with VRRP, sync and a data plane carrying connections:
        # the scrape has every family lbctl has.
        check_scrape(net, "n1", METRICS, ("show info", "show stat",
                     "show errors", "show vrrp", "show sync", "show health"))
        time.sleep(1)
        fp1 = net.fastpath("n1")
        check(fp1.get("flows", 0) >= ALL and net.fastpath("n2").get(
              "flows", -1) == 0,
              f"the master runs the {ALL} connections in its kernel fast path "
              f"({fp1.get('flows')} flows), the standby none", fp1)
        t0 = time.time()
        net.stop("n1", signal.SIGKILL)
        took = net.wait(lambda: master_both(net, "n2"), 3)
        check(took is not None, f"SIGKILL of the master: n2 takes over "
              f"({(took or 0) * 1000:.0f} ms)")
        time.sleep(1.5)
        served = sync_info(net, "n2")
        fp2 = net.fastpath("n2")
        check(fp2.get("offloaded", 0) >= ALL and fp2.get("flows", 0) >= ALL,
              f"n2 put the mirrored connections in its fast path as their "
              f"packets came ({fp2.get('offloaded')} offloaded, "
              f"{fp2.get('flows')} flows)", fp2)

        # Failback: n1 returns (higher priority, preempt on). It takes the
        # group back only once n2's bulk resync has given it every
        # connection, and they go on again.
        check(start(net, "n1", 150, key), "n1 restarts", net.log("n1"))
        took = net.wait(lambda: master_both(net, "n1"), 10, step=0.05)
        s1 = sync_info(net, "n1")
        log1 = net.log("n1")
        i_sync = log1.find("the peer's connections are here")
        i_master = log1.find("group=edge state=master")
        check(took is not None and 0 <= i_sync < i_master and
              s1.get("applied", 0) >= ALL,
              f"n1 resyncs ({s1.get('applied')} connections from n2), then "
              f"preempts ({(took or 0) * 1000:.0f} ms after its start)",
              (s1, log1[-1500:]))
        # n1 runs them in its kernel again; n2 took its flows out when n1's
        # word made the connections n1's.
        back = net.wait(lambda: net.fastpath("n1").get("offloaded", 0) >= ALL
                        and net.fastpath("n2").get("flows", -1) == 0, 3,
                        step=0.1)
        fp1 = net.fastpath("n1")
        check(back is not None,
              f"after the failback n1 runs the connections in its fast path "
              f"({fp1.get('offloaded')} offloaded), n2's flows are gone",
              (fp1, net.fastpath("n2")))

        for (mode, _, n), hold in zip(MODES, holds):
            r = hold_results(hold)
            check(r.get("errors") == {} and r.get("ok") == r.get("lines") and
                  r.get("moved") == 0 and r.get("lines", 0) > n * 100,
                  f"{mode} mode: every connection went on through n2 after "
                  f"the kill and through n1 after the failback: {r.get('ok')} "
                  f"of {r.get('lines')} lines answered, errors "
                  f"{r.get('errors')}, {r.get('moved')} moved to another "
                  f"backend/address/port ({time.time() - t0:.1f} s after the "
                  f"kill)", (r, served, net.ctl("n2", "show", "sync"),
                             net.ctl("n1", "show", "errors")))

        # n2 gave the connections back: n1's word on them made n2's own
        # entries n1's mirrored copies again (to be renewed and closed by
        # n1), not leftovers of n2's that time out on their own.
        # The sync port is lbd's alone: a local unprivileged socket
        # cannot bind it beside ours (SO_REUSEADDR or not).
        r = t.nsx("n1", "setpriv --reuid=nobody --regid=nogroup "
                  "--clear-groups python3 -c \"import socket; "
                  "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                  "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                  "s.bind(('0.0.0.0', 7788)); print('bound')\"",
                  check=False)
        check(r.returncode != 0 and "bound" not in r.stdout and
              "Address already in use" in r.stderr,
              "a local unprivileged socket cannot bind the sync port beside "
              "lbd's", r.stdout + r.stderr[-300:])
        key = key_roll(net, key)

        conns = conn_table(net, "n2")
        mine = [c for c in conns if not c["mirrored"]]
        check(len(conns) >= ALL and not mine,
              f"after the failback n2 keeps the {len(conns)} connections as "
              f"n1's mirrored copies ({len(mine)} still its own)",
              mine[:5])
        net.stop("n1")

        # A peer with the wrong key: refused and counted, nothing applied.
        wrong = new_key(net, "wrong.key")
        net.wait(lambda: not sync_info(net, "n2").get("peer_up"), 5, step=0.1)
        before = sync_info(net, "n2").get("applied", 0)
        start(net, "n1", 50, wrong)
        net.wait(lambda: sync_info(net, "n2").get("dropped", {})
                 .get("auth_failed", 0) >= 5, 5, step=0.2)
        s2 = sync_info(net, "n2")
        check(s2.get("dropped", {}).get("auth_failed", 0) >= 5 and
              s2.get("applied") == before and not s2.get("peer_up"),
              f"a peer with the wrong key: {s2.get('dropped', {}).get('auth_failed')} "
              f"datagrams refused (auth_failed), nothing applied, not a peer",
              s2)
        net.stop("n1")
        net.stop("n2")
    finally:
        net.cleanup()
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
