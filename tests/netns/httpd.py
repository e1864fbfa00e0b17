#!/usr/bin/env python3
"""A small HTTP server for the end-to-end tests: answers GET / with its own
name, GET /big?n=BYTES with that many bytes, and logs every client address
(one line per request) so a test can see who the backend saw.

usage: httpd.py [--tls CERT KEY] NAME LOGFILE PORT [PORT...]
(listens on :: dual-stack; with --tls, HTTPS on every port)"""
import http.server
import socket
import socketserver
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        with LOCK:
            LOG.write(self.client_address[0] + "\n")
            LOG.flush()
        if self.path.startswith("/big"):
            n = int(self.path.split("n=")[1]) if "n=" in self.path else 1 << 20
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= min(n, len(chunk))
            return
        body = (NAME + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


args = sys.argv[1:]
tls = None
if args[0] == "--tls":
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args[1], args[2])
    args = args[3:]
NAME, LOGPATH = args[0], args[1]
LOG = open(LOGPATH, "a")
LOCK = threading.Lock()
servers = [Server(("::", int(p)), Handler) for p in args[2:]]
for s in servers if tls else ():
    s.socket = tls.wrap_socket(s.socket, server_side=True)
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
