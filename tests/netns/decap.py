#!/usr/bin/env python3
"""The backend side of a tunnelled dsr service, for a kernel built without
ipip, ip6_tunnel and fou (this machine's: CONFIG_NET_IPIP, CONFIG_IPV6_TUNNEL
and CONFIG_NET_FOU are off, and modules are off too). It does what an ipip
or ip6tnl device and a `fou ... gue` socket do on a backend, in a process:

  * IPv4 in IPv4 from a raw socket of protocol 4,
  * IPv6 in IPv6 from a raw IPv6 socket of protocol 41,
  * GUE variant 1 (the inner IP packet right after the UDP header) from a
    UDP socket on GUE_PORT,

each inner packet written into a TUN device; the backend's own stack takes
it there (the VIP on its loopback) and answers the client straight from
the VIP. A GSO packet arrives whole, its inner TCP/UDP checksum only
partial (the kernel would finish it): it is completed before it goes in.

Every 200 ms, when something changed, STATS_FILE gets a JSON object:
{"ipip": N, "ip6ip6": N, "gue": N, "bad": N, "sources": {outer source: N},
 "sports": [GUE source ports seen]}.

usage: decap.py TUN_NAME GUE_PORT STATS_FILE"""
import fcntl
import json
import os
import selectors
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def finish(pkt):
    """The packet with its IPv4 header and TCP/UDP checksums complete, or
    None when it is not one."""
    pkt = bytearray(pkt)
    if len(pkt) < 20:
        return None
    if pkt[0] >> 4 == 4:
        hl = (pkt[0] & 15) * 4
        tot = struct.unpack("!H", pkt[2:4])[0]
        proto = pkt[9]
        pkt = pkt[:tot]
        pkt[10:12] = b"\0\0"
        pkt[10:12] = struct.pack("!H", ~csum(bytes(pkt[:hl])) & 0xffff)
        pseudo = csum(bytes(pkt[12:20]) + struct.pack("!BBH", 0, proto,
                                                      tot - hl))
    elif pkt[0] >> 4 == 6 and len(pkt) >= 40:
        hl = 40
        tot = 40 + struct.unpack("!H", pkt[4:6])[0]
        proto = pkt[6]
        pkt = pkt[:tot]
        pseudo = csum(bytes(pkt[8:40]) + struct.pack("!IxxxB", tot - 40,
                                                     proto))
    else:
        return None
    off = {6: 16, 17: 6}.get(proto)
    if off is not None and len(pkt) >= hl + off + 2:
        pkt[hl + off:hl + off + 2] = b"\0\0"
        c = ~csum(bytes(pkt[hl:]), pseudo) & 0xffff
        pkt[hl + off:hl + off + 2] = struct.pack("!H", c or 0xffff)
    return bytes(pkt)


def main():
    name, gue_port, stats_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(),
                                            IFF_TUN | IFF_NO_PI))
    r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 41)
    gue = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gue.bind(("0.0.0.0", gue_port))
    for s in (r4, r6, gue):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sel = selectors.DefaultSelector()
    for s, kind in ((r4, "ipip"), (r6, "ip6ip6"), (gue, "gue")):
        sel.register(s, selectors.EVENT_READ, kind)
    st = {"ipip": 0, "ip6ip6": 0, "gue": 0, "bad": 0, "sources": {},
          "sports": []}
    dirty, last = True, 0.0
    while True:
        for key, _ in sel.select(0.2):
            data, peer = key.fileobj.recvfrom(1 << 17)
            kind = key.data
            if kind == "ipip":
                inner = data[(data[0] & 15) * 4:]
            else:
                inner = data
            pkt = finish(inner)
            if pkt is None:
                st["bad"] += 1
            else:
                st[kind] += 1
                st["sources"][peer[0]] = st["sources"].get(peer[0], 0) + 1
                if kind == "gue" and peer[1] not in st["sports"]:
                    st["sports"].append(peer[1])
                try:
                    os.write(tun, pkt)
                except OSError:
                    st["bad"] += 1
            dirty = True
        if dirty and time.monotonic() - last > 0.2:
            with open(stats_file + ".tmp", "w") as f:
                json.dump(st, f)
            os.rename(stats_file + ".tmp", stats_file)
            dirty, last = False, time.monotonic()


if __name__ == "__main__":
    main()
