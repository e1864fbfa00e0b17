#!/usr/bin/env python3
"""A UDP server for the tests: on each PORT, a socket per ADDRESS given
(the backend's own, and the VIP for dsr, so that a reply leaves from the
address the request went to), answering each datagram with
"NAME PEER_ADDRESS:PEER_PORT PAYLOAD".

usage: udpd.py NAME ADDRESS[,ADDRESS...] PORT[,PORT...]"""
import selectors
import socket
import sys


def main():
    name = sys.argv[1].encode()
    sel = selectors.DefaultSelector()
    for port in sys.argv[3].split(","):
        for addr in sys.argv[2].split(","):
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, int(port)))
            sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                data, peer = s.recvfrom(2048)
                who = f" {peer[0]}:{peer[1]} ".encode()
                s.sendto(name + who + data, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
