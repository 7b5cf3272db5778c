#!/usr/bin/env python3
"""A cluster node's stand-in for the route-mode tests.

  node_server.py health PORT          HTTP: GET /healthz -> 200 "ok"
  node_server.py service NAME PORT    TCP: HTTP requests get "NAME\\n";
                                      any other first line gets "NAME\\n",
                                      then an echo of every further line
"""
import socketserver
import sys


class Health(socketserver.StreamRequestHandler):
    def handle(self):
        request = self.rfile.readline().decode(errors="replace")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if request.startswith("GET /healthz "):
            body, status = b"ok", "200 OK"
        else:
            body, status = b"not found", "404 Not Found"
        self.wfile.write(("HTTP/1.1 %s\r\nContent-Length: %d\r\n"
                          "Connection: close\r\n\r\n" % (status, len(body)))
                         .encode() + body)


class Service(socketserver.StreamRequestHandler):
    def handle(self):
        name = self.server.node_name.encode()
        first = self.rfile.readline()
        if first.startswith(b"GET "):
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            body = name + b"\n"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (len(body), body))
            return
        self.wfile.write(name + b"\n")
        self.wfile.flush()
        line = self.rfile.readline()
        while line:
            self.wfile.write(line)
            self.wfile.flush()
            line = self.rfile.readline()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if sys.argv[1] == "health":
        server = Server(("0.0.0.0", int(sys.argv[2])), Health)
    else:
        server = Server(("0.0.0.0", int(sys.argv[3])), Service)
        server.node_name = sys.argv[2]
    server.serve_forever()


if __name__ == "__main__":
    main()
