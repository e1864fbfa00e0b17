#!/usr/bin/env python3
"""A flood from spoofed sources, for the table-flood tests: each flow is a
new (source address, source port), sent from a raw socket at a bounded
rate for SECONDS. Prints one JSON line: {"sent": packets, "flows": n}.

  spoof.py KIND SRC_NET DST PORT SECONDS PPS
      KIND  synack  a SYN, then a bare ACK whose sequence number follows
                    the SYN's (what a client's ACK would carry) and whose
                    acknowledgment is a guess: the backend's SYN-ACK went
                    to the spoofed address, never to us;
            syn     one SYN per flow;
            ack     one bare ACK (a mid-stream segment) per flow;
            udp     one datagram per flow.
      SRC_NET  the first three octets of the spoofed sources (.64 to .127
               are used: no host there answers).
"""
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from junk import csum  # noqa: E402


def ip4(src, dst, proto, l4):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def tcp(src, dst, sport, dport, seq, ack, flags):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                    64240, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]


def udp(src, dst, sport, dport, payload):
    h = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(src + dst + struct.pack("!BBH", 0, 17, len(h)) + h) or 0xffff
    return h[:6] + struct.pack("!H", c) + h[8:]


def packets(kind, src, dst, dport):
    """The frames of one flow."""
    sport = random.randrange(1024, 65536)
    isn = random.getrandbits(32)
    if kind == "synack":
        return [ip4(src, dst, 6, tcp(src, dst, sport, dport, isn, 0, 0x02)),
                ip4(src, dst, 6, tcp(src, dst, sport, dport, (isn + 1) %
                                     2**32, random.getrandbits(32), 0x10))]
    if kind == "syn":
        return [ip4(src, dst, 6, tcp(src, dst, sport, dport, isn, 0, 0x02))]
    if kind == "ack":
        return [ip4(src, dst, 6, tcp(src, dst, sport, dport, isn,
                                     random.getrandbits(32), 0x10))]
    return [ip4(src, dst, 17, udp(src, dst, sport, dport, os.urandom(16)))]


def main():
    kind, net, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    port, seconds, pps = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    d = socket.inet_aton(dst)
    srcs = [socket.inet_aton(f"{net}.{h}") for h in range(64, 128)]
    sent = flows = 0
    t0 = time.monotonic()
    while True:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        # Keep to the rate: catch up in bursts, sleep when ahead.
        if sent > now * pps:
            time.sleep(0.001)
            continue
        for _ in range(64):
            for p in packets(kind, random.choice(srcs), d, port):
                try:
                    s.sendto(p, (dst, 0))
                    sent += 1
                except OSError:
                    pass
            flows += 1
    print(json.dumps({"sent": sent, "flows": flows,
                      "pps": round(sent / seconds)}))


if __name__ == "__main__":
    main()
