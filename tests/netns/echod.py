#!/usr/bin/env python3
"""A line echo server for long-lived connections: every line received is
answered with "NAME PEER-ADDRESS PEER-PORT LINE", so the client sees which
backend answers and from which address and port the backend saw it (in
snat mode, lbd's SNAT address and port).

usage: echod.py NAME PORT"""
import socket
import sys
import threading


def serve(c, addr, name):
    f = c.makefile("rb")
    try:
        for line in f:
            c.sendall(f"{name} {addr[0]} {addr[1]} ".encode() + line)
    except OSError:
        pass
    finally:
        c.close()


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(1024)
    while True:
        c, addr = s.accept()
        if addr[0].startswith("::ffff:"):
            addr = (addr[0][7:],) + addr[1:]
        threading.Thread(target=serve, args=(c, addr, name), daemon=True).start()


if __name__ == "__main__":
    main()
