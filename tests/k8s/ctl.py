#!/usr/bin/env python3
"""Test helper: talk to clustergated's control socket or the fake API server.

  ctl.py get SOCK PATH          print status field PATH ("kubernetes.state")
  ctl.py services SOCK          one line per ClusterIP port:
                                "10.0.58.158:80/tcp 10.0.0.13:80 10.0.0.15:80"
  ctl.py post PORT PATH [JSON]  POST to the fake API server's control port
  ctl.py event PORT TYPE FILE   POST /apply with the object in FILE
  ctl.py state PORT             the fake API server's /state
"""
import json
import socket
import sys
import urllib.request


def request(sock_path, command):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(json.dumps({"command": command}).encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data)


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 data=json.dumps(body).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def main():
    cmd = sys.argv[1]
    if cmd == "get":
        value = request(sys.argv[2], "status")
        for part in sys.argv[3].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        print(json.dumps(value) if isinstance(value, (dict, list)) else
              ("null" if value is None else value))
    elif cmd == "services":
        reply = request(sys.argv[2], "kubernetes-services")
        for port in reply["services"]:
            line = f'{port["cluster_ip"]}:{port["port"]}/{port["protocol"]}'
            line += " " + (" ".join(port["endpoints"]) or "reject")
            if port["affinity_client_ip"]:
                line += f' affinity={port["affinity_timeout"]}'
            print(line)
    elif cmd == "post":
        body = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
        print(json.dumps(post(sys.argv[2], sys.argv[3], body)))
    elif cmd == "event":
        with open(sys.argv[4]) as f:
            obj = json.load(f)
        print(json.dumps(post(sys.argv[2], "/apply",
                              {"type": sys.argv[3], "object": obj})))
    elif cmd == "state":
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[2]}/state",
                                    timeout=10) as r:
            print(json.dumps(json.load(r)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
