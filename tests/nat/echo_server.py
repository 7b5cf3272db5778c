#!/usr/bin/env python3
"""Test server for nat/ tests: reports the peer address it sees.

  echo_server.py ADDRESS PORT
HTTP: every GET is answered with "peer=<client address> server=<ADDRESS>".
A line-based TCP client (first bytes not "GET") gets each line echoed back.
"""
import socket
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        peer = self.client_address[0]
        first = self.rfile.readline()
        if first.startswith(b"GET"):
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            body = f"peer={peer} server={sys.argv[1]}\n".encode()
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n" % len(body) + body)
            return
        line = first
        while line:
            self.wfile.write(line)
            self.wfile.flush()
            line = self.rfile.readline()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
