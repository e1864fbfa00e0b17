#!/usr/bin/env python3
"""Run in the client's namespace by bench/failover.py: wait for the next
VRRP advertisement of VRID on the segment, then SIGKILL the given process
groups at once. Killing right after an advert is the worst moment for the
backup (a whole Master_Down_Interval to wait), and the same moment for
every system measured, so rounds are comparable.

With --down NETNS:IF[,IF...] first, it then also sets those interfaces
down (ip -n): the whole node dies, its kernel included, not only the
daemons.

usage: advert_kill.py [--down NETNS:IFS] IFNAME VRID PGID..."""
import os
import signal
import socket
import subprocess
import sys

ETH_P_ALL = 0x0003


def main():
    args = sys.argv[1:]
    down = None
    if args[0] == "--down":
        down, args = args[1], args[2:]
    ifname, vrid, pgids = args[0], int(args[1]), args[2:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.settimeout(5)
    while True:
        f = s.recv(2048)
        # IPv4 (no options in VRRP), protocol 112, VRRP byte 1 = VRID
        if (len(f) >= 36 and f[12:14] == b"\x08\x00" and f[23] == 112
                and f[14 + (f[14] & 15) * 4 + 1] == vrid):
            break
    for pg in pgids:
        os.killpg(int(pg), signal.SIGKILL)
    if down:
        ns, ifs = down.split(":")
        for dev in ifs.split(","):
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "down"],
                           check=True)


if __name__ == "__main__":
    main()
