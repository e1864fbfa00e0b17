#!/usr/bin/env python3
"""`make demo`, part 2: packets. Builds the namespace topology of the
end-to-end tests (tests/netns/topo.py: client, router, lbd, switch, three
backends), starts lbd with XDP on its two interfaces and one service per
mode, sends requests through each, and shows what lbctl says. Everything is
removed at the end, also on failure or Ctrl-C.

usage: dataplane.py BUILD_DIR"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
from topo import Topo, V4, V6, BACKENDS, be4, be6  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def say(s):
    print(f"\n\033[1m== {s}\033[0m", flush=True)


def conf(sock):
    def bes(port, v6=False):
        return "\n".join(f"    backend {b} {'[' + be6(n) + ']' if v6 else be4(n)}:{port}"
                         for b, n in BACKENDS)
    return f"""global {{
    node-id demo
    control-socket {sock}
    interface f0        # front: clients
    interface b0        # back: backends
}}
service web {{
    listen {V4['vip']} tcp 80
    mode routed
    scheduler rr
    check tcp {{ interval 500ms timeout 300ms }}
{bes(80)}
}}
service web6 {{
    listen {V6['vip']} tcp 80
    mode routed
{bes(80, True)}
}}
service onearm {{
    listen {V4['vip']} tcp 8080
    mode snat
    snat-pool {V4['snat']}
    scheduler wrr
{bes(80)}
}}
service direct {{
    listen {V4['vip']} tcp 9090
    mode dsr
    scheduler maglev
{bes(9090)}
}}
"""


def main():
    t = Topo(prefix="lbdemo")
    tmp = tempfile.mkdtemp(prefix="lbd-demo-dp-")
    sock, cf = os.path.join(tmp, "lbd.sock"), os.path.join(tmp, "lbd.conf")
    log = open(os.path.join(tmp, "lbd.log"), "w")

    def lbctl(*a):
        cmd = f"{BUILD}/lbd/lbctl -s {sock} " + " ".join(a)
        print(f"$ lbctl {' '.join(a)}")
        print(t.nsx("lbd", cmd, check=False).stdout, end="", flush=True)

    try:
        say("9. a demo network in namespaces: client - router - lbd - switch - 3 backends")
        t.build()
        t.start_backends(iperf=False)
        with open(cf, "w") as f:
            f.write(conf(sock))
        print(open(cf).read())
        say("10. lbd attaches its XDP classifier to f0 and b0 and takes the VIPs")
        lbd = t.popen("lbd", [f"{BUILD}/lbd/lbd", "-f", cf, "--foreground-log"],
                      stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        time.sleep(1)
        if lbd.poll() is not None:
            print(open(log.name).read())
            print("lbd did not start")
            return 1
        lbctl("show", "info")
        for name, host, port in (("routed IPv4", V4["vip"], 80),
                                 ("routed IPv6", V6["vip"], 80),
                                 ("one-arm SNAT", V4["vip"], 8080),
                                 ("direct server return", V4["vip"], 9090)):
            say(f"11. {name}: 300 requests from the client to {host}:{port}")
            r = t.nsx("client", f"python3 {HERE}/../netns/client.py requests "
                      f"{host} {port} 300", check=False)
            j = json.loads(r.stdout or "{}")
            print(f"ok {j.get('ok')}, failed {j.get('fail')}, answered by "
                  f"{json.dumps(j.get('by'), sort_keys=True)}")
        say("12. what lbd counted")
        lbctl("show", "stat")
        lbctl("show", "conn", "onearm", "5")
        lbctl("show", "errors")
        say("13. stop: the classifier and the VIPs go away")
        lbd.terminate()
        lbd.wait(10)
        print(t.nsx("lbd", "ip -br addr show dev f0").stdout, end="")
        print("XDP attached: " + ("yes" if "xdp" in t.nsx(
            "lbd", "ip link show f0").stdout else "no"))
        return 0
    finally:
        t.cleanup()
        log.close()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
