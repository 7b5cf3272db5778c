#!/usr/bin/env python3
"""Tiny HTTP responder for the incident lab.

In the pod namespace it stands in for nginx: GET / answers
"nginx pod <address>: request from <client address>", so a test can see both
which backend answered and which source address reached it (SNAT or not).
On the nodes it stands in for kube-proxy's health endpoint: GET /healthz
answers "ok".

usage: responder.py NAME PORT [BIND_ADDRESS]
"""
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
        else:
            body = ("%s: request from %s\n"
                    % (self.server.name, self.client_address[0])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    bind = sys.argv[3] if len(sys.argv) > 3 else ""
    server = Server((bind, port), Handler)
    server.name = name
    server.serve_forever()


if __name__ == "__main__":
    main()
