#!/usr/bin/env python3
"""lbd with 1 worker against 2 workers, same run, same topology: the netns
topology of the tests with veths of three queues (tests/netns/topo.py;
flows land on the first two, as with a NIC's RSS). For routed and snat
over IPv4: four-stream iperf3 throughput (the connection rate is
bench-e2e's). Prints a table, then one line
  workers: routed_gbps_2v1=... snat_gbps_2v1=...
On a 2-core machine the client, the servers and lbd share the cores: the
ratio says what the hand-off costs and what a second thread buys there,
not what 2 workers do on a machine with cores to spare.

usage: workers.py BUILD_DIR [SECONDS]"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
sys.argv = [sys.argv[0], BUILD]
import test_workers as tw  # noqa: E402
from topo import Topo, V4  # noqa: E402



def main():
    t = Topo(queues=3)
    tmp = tempfile.mkdtemp(prefix="lbd-bench-workers-")
    sock, conf = os.path.join(tmp, "s"), os.path.join(tmp, "c")
    res = {}
    lbd = None
    try:
        t.build()
        t.start_backends()
        for w in (1, 2):
            with open(conf, "w") as f:
                f.write(tw.config(sock, w))
            lbd = t.popen("lbd", [tw.LBD, "-f", conf], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
            time.sleep(2)
            for mode, port in (("routed", 5201), ("snat", 5202)):
                r = t.nsx("client", f"timeout {SECONDS + 15} iperf3 -c {V4['vip']} "
                          f"-p {port} -t {SECONDS} -P 4 -J", check=False)
                try:
                    gbps = json.loads(r.stdout)["end"]["sum_received"][
                        "bits_per_second"] / 1e9
                except (ValueError, KeyError):
                    gbps = 0.0
                res[(w, mode)] = gbps
                time.sleep(1)
            lbd.terminate()
            lbd.wait(10)
    finally:
        if lbd is not None and lbd.poll() is None:
            lbd.kill()
        t.cleanup()
    print(f"{'workers':>8} {'mode':>7} {'Gbit/s (4 streams)':>20}")
    for (w, mode), g in sorted(res.items()):
        print(f"{w:>8} {mode:>7} {g:>20.2f}")

    def ratio(mode):
        a, b = res.get((2, mode), 0), res.get((1, mode), 0)
        return f"{a / b:.2f}" if b else "n/a"
    print(f"workers: routed_gbps_2v1={ratio('routed')} "
          f"snat_gbps_2v1={ratio('snat')}")


if __name__ == "__main__":
    main()
