#!/usr/bin/env python3
"""Announcements on the wire, for the GARP tests.

  garp_sniff.py sniff PORT...
      Record every gratuitous ARP (a request whose sender and target
      address are the same) and every unsolicited neighbour advertisement
      (to ff02::1) arriving on the ports, with the kernel's receive time,
      until SIGTERM; then print one JSON list of
      {"t": seconds, "port": p, "addr": a, "mac": m, "router": bool}.
      Prints "ready" first.

  garp_sniff.py advert IFACE SRC VRID PRIO ADDR
      Send one VRRPv3 advertisement (IPv4, TTL 255, 1 s interval) for VRID
      from SRC with priority PRIO listing ADDR, as a node that believes it
      is master would."""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from junk import csum  # noqa: E402
from vmac_sniff import capture  # noqa: E402


def parse(f):
    """(addr, mac, router) of an announcement, or None."""
    et = int.from_bytes(f[12:14], "big")
    if et == 0x0806 and len(f) >= 42 and f[20:22] == b"\0\1" and \
            f[28:32] == f[38:42]:
        return socket.inet_ntoa(f[28:32]), f[22:28].hex(":"), False
    if et == 0x86DD and len(f) >= 78 and f[20] == 58 and f[54] == 136 and \
            f[38:54] == bytes.fromhex("ff020000000000000000000000000001"):
        return (socket.inet_ntop(socket.AF_INET6, f[62:78]),
                f[6:12].hex(":"), bool(f[58] & 0x80))
    return None


def sniff(ports):
    seen = []

    def frame(port, f, t):
        a = parse(f)
        if a is not None:
            seen.append({"t": t, "port": port, "addr": a[0], "mac": a[1],
                         "router": a[2]})
    capture(ports, frame)
    print(json.dumps(seen), flush=True)


def advert(iface, src, vrid, prio, addr):
    body = struct.pack("!BBBBHH", 0x31, vrid, prio, 1, 100, 0) + \
        socket.inet_aton(addr)
    pseudo = socket.inet_aton(src) + socket.inet_aton("224.0.0.18") + \
        struct.pack("!BBH", 0, 112, len(body))
    body = body[:6] + struct.pack("!H", csum(pseudo + body)) + body[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xc0, 20 + len(body), 0, 0, 255,
                     112, 0, socket.inet_aton(src),
                     socket.inet_aton("224.0.0.18"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    own = s.getsockname()[4]
    s.send(bytes.fromhex("01005e000012") + own + b"\x08\x00" + ip + body)


def main():
    if sys.argv[1] == "sniff":
        sniff(sys.argv[2:])
    else:
        advert(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
               sys.argv[6])


if __name__ == "__main__":
    main()
