#!/usr/bin/env python3
"""Count the frames a switch port receives from a VRRP virtual MAC
(00:00:5e:00:01:xx, IPv6 00:00:5e:00:02:xx), per port, until SIGTERM;
then print one JSON object: {port: {"frames": n, "kinds": {kind: n}}}.

Run in the switch's namespace on the ports facing a node: a frame
arriving there was sent by that node.

usage: vmac_sniff.py PORT..."""
import json
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def kind(f):
    """What the frame is, for the report: 'arp', 'vrrp', 'mld', 'nd',
    'ipv6', 'ipv4' or the ethertype."""
    et = int.from_bytes(f[12:14], "big")
    if et == 0x0806:
        return "arp"
    if et == 0x0800:
        return "vrrp" if len(f) > 23 and f[23] == 112 else "ipv4"
    if et == 0x86DD and len(f) > 54:
        nh = f[20]
        if nh == 112:
            return "vrrp"
        if nh == 0:             # hop-by-hop: MLD rides behind it
            return "mld"
        if nh == 58:
            t = f[54]
            return "mld" if t in (130, 131, 132, 143) else \
                "nd" if 133 <= t <= 137 else "icmpv6"
        return "ipv6"
    return hex(et)


SO_TIMESTAMPNS = 35


def capture(ports, frame):
    """Every frame arriving on `ports` (not those sent from them), until
    SIGTERM: frame(port, bytes, kernel receive time in seconds). Prints
    "ready" once listening."""
    socks = {}
    for p in ports:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((p, 0))
        socks[s] = p
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    while not stop:
        try:
            r, _, _ = select.select(list(socks), [], [], 0.2)
        except InterruptedError:
            continue
        for s in r:
            f, anc, _, addr = s.recvmsg(65535, 64)
            if addr[2] == PACKET_OUTGOING or len(f) < 14:
                continue
            t = None
            for lvl, typ, data in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, ns = struct.unpack("qq", data[:16])
                    t = sec + ns / 1e9
            frame(socks[s], f, t)


def main():
    ports = sys.argv[1:]
    seen = {p: {"frames": 0, "kinds": {}} for p in ports}

    def frame(port, f, t):
        src = f[6:12]
        if src[:4] == b"\x00\x00\x5e\x00" and src[4] in (1, 2):
            e = seen[port]
            e["frames"] += 1
            k = kind(f)
            e["kinds"][k] = e["kinds"].get(k, 0) + 1
    capture(ports, frame)
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
