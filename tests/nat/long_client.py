#!/usr/bin/env python3
"""Keeps one TCP connection open and checks it keeps working.

  long_client.py ADDRESS PORT SECONDS
Sends a numbered line every 0.1 s for SECONDS over one connection and
expects each echoed back within 2 s. Prints "echoed N of N" and exits 0
only if every line came back on the same connection.
"""
import socket
import sys
import time

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
sock.settimeout(2)
reader = sock.makefile("rb")
sent = echoed = 0
deadline = time.time() + float(sys.argv[3])
try:
    while time.time() < deadline:
        sent += 1
        sock.sendall(b"line %d\n" % sent)
        if reader.readline() == b"line %d\n" % sent:
            echoed += 1
        time.sleep(0.1)
except OSError as error:
    print(f"connection failed after {echoed} lines: {error}")
print(f"echoed {echoed} of {sent}")
sys.exit(0 if sent and echoed == sent else 1)
