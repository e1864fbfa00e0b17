#!/usr/bin/env python3
"""lbctl show pair and lbctl ha handover on a real pair (pair.py): n1
master at priority 150, n2 backup at 100, connection sync on hb0, a
health-checked web service and an echo service, both snat.

  * show pair on n1: both nodes, the group master here and backup there
    with their priorities, sync ready, no section and no backend differing;
  * a backend disabled on n2 only: show pair names it, and a handover is
    refused with it as the reason, nothing changed;
  * a configuration that differs on n2 (a backend's port): show pair names
    the service, a handover is refused for it;
  * both put right: with 40 long-lived connections through the VIP, the
    handover passes its checks, resigns, and answers once n2 holds the
    group, with the time it took; n1 is backup, n2 master, and every
    connection went on (no reset, no lost answer, same backend and SNAT
    port); `lbctl watch` on n2 saw the transition; a second handover from
    the now-backup n1 is refused;
  * the undo the handover printed takes the group back, and the
    connections go on again.

usage: test_handover.py BUILD_DIR"""
import json
import os
import re
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import check  # noqa: E402
from pair import finish, master_both, Net, VIP  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CONNS = 40


def pair_json(net, node):
    try:
        return json.loads(net.ctl(node, "show", "pair", "--json"))
    except ValueError:
        return {}


def ctl_rc(net, node, *args):
    """lbctl on `node`: (exit status, stdout + stderr)."""
    sock = os.path.join(net.tmp, f"{node}.sock")
    r = net.t.nsx(node, f"{net.lbctl} -s {sock} " + " ".join(args),
                  check=False)
    return r.returncode, r.stdout + r.stderr


def main():
    net = Net(BUILD, prefix="lho")
    procs = []
    try:
        net.build()
        check(net.start_sync_pair(), "two lbd nodes start",
              net.log("n1") + net.log("n2"))
        procs.append(net.health)

        def settled():
            p = pair_json(net, "n1")
            g = (p.get("groups") or [{}])[0]
            return (p.get("fresh") and p.get("sync_ready") and
                    g.get("state") == "master" and
                    g.get("peer_state") == "backup" and
                    '"health":"up"' in net.ctl("n1", "show", "stat", "--json"))
        net.wait(settled, 30, step=0.1)

        # ---- show pair ----------------------------------------------------
        p = pair_json(net, "n1")
        text = net.ctl("n1", "show", "pair")
        check(p.get("node") == "n1" and (p.get("peer") or {}).get("node") ==
              "n2" and p.get("groups") == [{"group": "edge",
                                            "state": "master",
                                            "priority": 150,
                                            "peer_state": "backup",
                                            "peer_priority": 100}] and
              p.get("sync_ready") is True and p.get("config_differs") == []
              and p.get("backends_differ") == [] and
              re.search(r"group edge\s+master, priority 150\s+backup, "
                        r"priority 100", text) is not None,
              "show pair: n1 master at 150, n2 backup at 100, sync ready, "
              "nothing differs", text)

        # ---- a backend out on the peer only ---------------------------------
        net.ctl("n2", "disable", "web/be1")
        net.wait(lambda: pair_json(net, "n1").get("backends_differ"), 10,
                 step=0.1)
        p = pair_json(net, "n1")
        rc, out = ctl_rc(net, "n1", "ha", "handover", "edge")
        check(p.get("backends_differ") == [{"backend": "web/be1",
                                             "where": "peer",
                                             "why": "admin"}] and rc == 1 and
              "handover refused, nothing changed: backends out on the peer "
              "but taking connections here: web/be1" in out and
              master_both(net, "n1"),
              "web/be1 disabled on n2 only: show pair names it; the handover "
              "is refused for it and n1 stays master", (p, out))
        net.ctl("n2", "enable", "web/be1")
        net.wait(lambda: pair_json(net, "n1").get("backends_differ") == [], 10,
                 step=0.1)

        # ---- a configuration that differs --------------------------------
        conf2 = os.path.join(net.tmp, "n2.conf")
        with open(conf2) as f:
            good = f.read()
        with open(conf2, "w") as f:
            f.write(good.replace(":7\n", ":17\n"))
        net.ctl("n2", "reload")
        net.wait(lambda: pair_json(net, "n1").get("config_differs"), 10,
                 step=0.1)
        p = pair_json(net, "n1")
        rc, out = ctl_rc(net, "n1", "ha", "handover")
        check(p.get("config_differs") == [{"section": "service",
                                            "name": "echo",
                                            "difference": "differs"}] and
              rc == 1 and "runs a different configuration" in out and
              master_both(net, "n1"),
              "echo's backend port changed on n2: show pair names the "
              "service; the handover is refused", (p, out))
        with open(conf2, "w") as f:
            f.write(good)
        net.ctl("n2", "reload")
        net.wait(lambda: pair_json(net, "n1").get("config_differs") == [] and
                 pair_json(net, "n1").get("sync_ready"), 10, step=0.1)

        # ---- the handover, under long-lived connections --------------------
        hold = net.t.popen("client", ["python3", os.path.join(
            HERE, "holdconns.py"), VIP, "7", str(CONNS), "60", "50"],
            stdout=subprocess.PIPE, text=True)
        procs.append(hold)
        net.wait(lambda: net.ctl("n2", "show", "sync", "--json").count(
            '"applied":') and json.loads(net.ctl(
                "n2", "show", "sync", "--json"))["sync"]["applied"] >= CONNS,
            20, step=0.1)
        watch = net.t.popen("n2", [net.lbctl, "-s", os.path.join(
            net.tmp, "n2.sock"), "watch", "--json"], stdout=subprocess.PIPE,
            text=True)
        procs.append(watch)
        events = []
        threading.Thread(target=lambda: [events.append(ln) for ln in
                                         watch.stdout], daemon=True).start()
        rc, out = ctl_rc(net, "n1", "ha", "handover", "edge")
        m = re.search(r"group edge: the peer is master (\d+) ms after the "
                      r"resign; this node is backup", out)
        undo = re.search(r"to take it back: (.*)", out)
        check(rc == 0 and "group edge: checks passed" in out and m and undo
              and master_both(net, "n2") and
              set(net.states("n1").values()) == {"backup"},
              f"lbctl ha handover edge: checks pass, n1 resigns, the answer "
              f"comes once n2 is master ({m and m.group(1)} ms)", out)
        net.wait(lambda: any('"instance":"front"' in e and
                             '"state":"master"' in e for e in events), 10,
                 step=0.05)
        check(any('"instance":"front"' in e and '"state":"master"' in e
                  for e in events),
              "lbctl watch on n2 streams its transition to master", events)
        rc2, out2 = ctl_rc(net, "n1", "ha", "handover", "edge")
        check(rc2 == 1 and "group edge is backup here" in out2,
              "a handover from the backup is refused", out2)

        # ---- and back ---------------------------------------------------------
        for cmd in (undo.group(1).split("; ") if undo else []):
            net.ctl("n1", *cmd.split()[1:])
        back = net.wait(lambda: master_both(net, "n1"), 20, step=0.05)
        check(back is not None and net.states("n2").get("front") == "backup",
              "the printed undo takes the group back to n1", net.states("n1"))
        net.wait(lambda: False, 1.0)
        hold.send_signal(signal.SIGTERM)
        try:
            r = json.loads(hold.communicate(timeout=60)[0])
        except (ValueError, subprocess.TimeoutExpired):
            r = {}
        check(r.get("conns") == CONNS and r.get("errors") == {} and
              r.get("ok") == r.get("lines") and r.get("lines", 0) > 0 and
              r.get("moved") == 0,
              f"{CONNS} connections through the handover and back: every "
              f"line answered, none reset or moved (longest wait "
              f"{r.get('gap_ms')} ms)", r)
    finally:
        net.end(procs)
    return finish(net)


if __name__ == "__main__":
    sys.exit(main())
