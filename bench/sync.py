#!/usr/bin/env python3
"""bench-sync: how fast ha-sync mirrors new connections, with what lag, at
how many bytes each. Two parts:

  pipeline  build/bench/sync: two engines and two sync links on two
            threads, real UDP over loopback with HMAC-SHA256; connections
            made by SYN/ACK frames through the master's engine. Saturation
            rate, then the lag (established on the master -> entry on the
            standby) at 200,000 connections/s. The data plane cannot make
            that many real connections on this 2-core VM; this is how much
            sync itself carries.
  daemons   two lbd nodes (tests/netns/pair.py) with the heartbeat link;
            bench/connrate opens real TCP connections (one request each,
            100 in flight) through the master's routed VIP for SECONDS.
            Figures from `lbctl show sync`: records applied per second on
            the standby (an UPSERT per connection, and a CLOSE when lbd
            frees an entry -- here mostly when connrate reuses a client
            port), the link's lag (a record entering a datagram -> the
            peer's acknowledgement) and bytes sent per connection made.

Last line:
  sync: mirrored_conn_per_s=… lag_p50_ms=… lag_p99_ms=… bytes_per_conn=…
        daemons_conn_per_s=… daemons_records_per_s=… daemons_lag_p50_ms=…
        daemons_lag_p99_ms=… daemons_bytes_per_conn=…
(the first four from the pipeline)

usage: sync.py BUILD_DIR [SECONDS]"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "tests", "netns")
sys.path.insert(0, NETNS)
from pair import Net, master_both, VIP, BE  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
CONNRATE = os.path.join(BUILD, "bench", "connrate")
PORT = 8081


def pipeline():
    r = subprocess.run([os.path.join(BUILD, "bench", "sync")],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout, end="")
    if r.returncode != 0:
        print(r.stderr, end="")
        sys.exit("bench-sync: the pipeline run failed")
    m = re.search(r"^sync-pipeline: (.*)$", r.stdout, re.M)
    return dict(kv.split("=") for kv in m.group(1).split())


def sync_info(net, node):
    try:
        return json.loads(net.ctl(node, "show", "sync", "--json"))["sync"]
    except (ValueError, KeyError, TypeError):
        return {}


def daemons():
    net = Net(BUILD, prefix="lbb")
    tail = """sync {{
    interface hb0
    peer {peer}
    key-file {key}
}}
service bench {{
    listen {vip} tcp {port}
    mode routed
    backend be1 {be}:{port}
}}"""
    try:
        net.build()
        key = os.path.join(net.tmp, "sync.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(32))
        net.t.popen("be1", [CONNRATE, "server", str(PORT)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for node, prio, peer in (("n1", 150, "169.254.77.2"),
                                 ("n2", 100, "169.254.77.1")):
            if not net.start(node, prio, glob=f"node-id {node}",
                             tail=tail.format(peer=peer, key=key, vip=VIP,
                                              port=PORT, be=BE)):
                sys.exit(f"bench-sync: lbd on {node} did not start:\n"
                         + net.log(node))
        if net.wait(lambda: master_both(net, "n1") and
                    sync_info(net, "n2").get("synced"), 10, step=0.1) is None:
            sys.exit("bench-sync: the nodes did not meet")
        s1a, s2a = sync_info(net, "n1"), sync_info(net, "n2")
        r = net.t.nsx("client", f"timeout {SECONDS + 20} {CONNRATE} client "
                      f"{VIP} {PORT} {SECONDS} 100", check=False)
        t_end = time.time()
        j = json.loads(r.stdout or "{}")
        ok = j.get("ok", 0)
        # The last connections' records: on the standby within a second.
        net.wait(lambda: sync_info(net, "n2").get("applied", 0) -
                 s2a.get("applied", 0) >= ok and
                 sync_info(net, "n1").get("in_flight") == 0, 5, step=0.05)
        s1b, s2b = sync_info(net, "n1"), sync_info(net, "n2")
        applied = s2b.get("applied", 0) - s2a.get("applied", 0)
        sent = s1b.get("bytes_sent", 0) - s1a.get("bytes_sent", 0)
        dgrams = s1b.get("dgrams_sent", 0) - s1a.get("dgrams_sent", 0)
        res = {
            "conn_per_s": j.get("cps", 0),
            "records_per_s": applied / SECONDS,
            "lag_p50_ms": s1b.get("lag_p50_ms"),
            "lag_p99_ms": s1b.get("lag_p99_ms"),
            "bytes_per_conn": sent / ok if ok else 0,
        }
        print(f"two lbd nodes, routed VIP, bench/connrate (one request per "
              f"connection, 100 in flight), {SECONDS} s")
        print(f"  {'connections through the master':40} {res['conn_per_s']:10.0f} /s"
              f"   ({ok} ok, {j.get('fail')} failed)")
        print(f"  {'records applied on the standby':40} {res['records_per_s']:10.0f} /s"
              f"   ({applied} applied, {s2b.get('refused', 0)} refused, "
              f"{time.time() - t_end:.1f} s after the client ended)")
        print(f"  {'link lag (record -> acknowledged)':40} "
              f"{res['lag_p50_ms']:>10} ms p50, {res['lag_p99_ms']} ms p99 "
              f"(histogram buckets: 0, 1, 3, 7, 15 ms ...)")
        print(f"  {'bytes per connection (UDP payload)':40} "
              f"{res['bytes_per_conn']:10.1f} B    ({dgrams} datagrams, "
              f"{s1b.get('retransmits', 0) - s1a.get('retransmits', 0)} "
              f"retransmitted, {s1b.get('window_full', 0)} records given up)")
        for n in ("n1", "n2"):
            net.stop(n, signal.SIGTERM)
        return res
    finally:
        net.cleanup()


def main():
    p = pipeline()
    print()
    d = daemons()
    print(f"sync: mirrored_conn_per_s={p['mirrored_conn_per_s']} "
          f"lag_p50_ms={p['lag_p50_ms']} lag_p99_ms={p['lag_p99_ms']} "
          f"bytes_per_conn={p['bytes_per_conn']} "
          f"daemons_conn_per_s={d['conn_per_s']:.0f} "
          f"daemons_records_per_s={d['records_per_s']:.0f} "
          f"daemons_lag_p50_ms={d['lag_p50_ms']} "
          f"daemons_lag_p99_ms={d['lag_p99_ms']} "
          f"daemons_bytes_per_conn={d['bytes_per_conn']:.1f}")


if __name__ == "__main__":
    main()
