#!/usr/bin/env python3
"""Hostile traffic for the flood tests: as many bad packets of one family as
it can send in SECONDS, cycling through kinds. Prints one JSON line:
{"sent": N, "kinds": {kind: n}}.

  junk.py frames IFACE DSTMAC SRC DST SECONDS
      Ethernet frames to DST:80 (TCP) that are broken in the ways the engine
      must count: a bad IPv4 header checksum, a total length longer than
      the frame, a TCP header length under 20, a TCP header cut short, an
      IPv4 fragment, garbage after the Ethernet header.
  junk.py vrrp IFACE SRC SECONDS
      VRRP advertisements to 224.0.0.18 for VRID 51 that must be refused: a
      bad checksum, TTL 64, version 5, type 2, an address count that does
      not match the length, a cut header; and some for VRID 99 (not ours).
  junk.py sync HOST PORT SECONDS
      UDP datagrams to the ha-sync port: random bytes, the right magic with a
      wrong HMAC, and a truncated header.
"""
import json
import os
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ttl=64, frag=0, tot=None, ihl=5):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot or 20 + len(payload),
                    0x1234, frag, ttl, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:], payload


def tcp(sport, doff=5):
    return struct.pack("!HHIIBBHHH", sport, 80, 1, 0, doff << 4, 0x02,
                       65535, 0, 0)


def frame_kinds(src, dst):
    def build(n):
        sport = 1024 + n % 60000
        k = n % 6
        if k == 0:      # bad IPv4 header checksum
            h, p = ipv4(src, dst, 6, tcp(sport))
            return "bad_ip_csum", h[:10] + b"\xde\xad" + h[12:] + p
        if k == 1:      # total length past the frame's end
            h, p = ipv4(src, dst, 6, tcp(sport), tot=400)
            return "bad_ip_len", h + p
        if k == 2:      # TCP data offset 2 (8 bytes)
            h, p = ipv4(src, dst, 6, tcp(sport, doff=2))
            return "bad_tcp_hlen", h + p
        if k == 3:      # TCP header cut after the ports
            h, p = ipv4(src, dst, 6, tcp(sport)[:6])
            return "short_l4", h + p
        if k == 4:      # a middle fragment
            h, p = ipv4(src, dst, 6, tcp(sport), frag=0x2000 | 100)
            return "fragment", h + p
        return "garbage", os.urandom(30)
    return build


def vrrp_kinds(src):
    def adv(vrid=51, prio=250, ver=3, typ=1, n=1, ttl=255, bad_sum=False,
            cut=False):
        body = struct.pack("!BBBBH", (ver << 4) | typ, vrid, prio, n, 100) + \
            socket.inet_aton("10.91.1.100")
        pseudo = socket.inet_aton(src) + socket.inet_aton("224.0.0.18") + \
            struct.pack("!BBH", 0, 112, len(body))
        c = csum(pseudo + body[:6] + b"\0\0" + body[8:])
        body = body[:6] + struct.pack("!H", c ^ (0xffff if bad_sum else 0)) + \
            body[8:]
        if cut:
            body = body[:5]
        h, p = ipv4(src, "224.0.0.18", 112, body, ttl=ttl)
        return h + p

    kinds = [("checksum", dict(bad_sum=True)), ("ttl", dict(ttl=64)),
             ("version", dict(ver=5)), ("type", dict(typ=2)),
             ("length", dict(n=3)), ("short", dict(cut=True)),
             ("vrid", dict(vrid=99))]

    def build(n):
        name, kw = kinds[n % len(kinds)]
        return name, adv(**kw)
    return build


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def main():
    mode = sys.argv[1]
    sent, kinds = 0, {}
    if mode in ("frames", "vrrp"):
        iface = sys.argv[2]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((iface, 0))
        own = s.getsockname()[4]
        if mode == "frames":
            dst, build = mac(sys.argv[3]), frame_kinds(sys.argv[4], sys.argv[5])
            seconds = float(sys.argv[6])
        else:
            dst, build = mac("01:00:5e:00:00:12"), vrrp_kinds(sys.argv[3])
            seconds = float(sys.argv[4])
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(256):
                kind, pkt = build(sent)
                try:
                    s.send(dst + own + b"\x08\x00" + pkt)
                except OSError:
                    continue
                sent += 1
                kinds[kind] = kinds.get(kind, 0) + 1
    else:
        host, port, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(256):
                k = sent % 3
                if k == 0:
                    kind, d = "random", os.urandom(200)
                elif k == 1:    # the right magic, a plausible header, bad HMAC
                    kind, d = "bad_hmac", b"LBS\x01" + bytes([2, 0, 0, 0]) + \
                        os.urandom(64) + os.urandom(32)
                else:
                    kind, d = "short", b"LBS\x01\x01"
                try:
                    s.sendto(d, (host, port))
                except OSError:
                    continue
                sent += 1
                kinds[kind] = kinds.get(kind, 0) + 1
    print(json.dumps({"sent": sent, "kinds": kinds}))


if __name__ == "__main__":
    main()
