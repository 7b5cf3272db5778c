#!/usr/bin/env python3
"""flow_client.py HOST PORT SECONDS: one long TCP flow through the gateway.

Reads the serving node's name, then sends a numbered line every 50 ms for
SECONDS and expects each echoed back within 1 s. Prints
"node=NAME lines=N max_gap_ms=G" and exits 0, or prints the error and
exits 1 if the flow breaks.
"""
import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
try:
    s = socket.create_connection((host, port), timeout=2)
    s.settimeout(1.0)
    f = s.makefile("rwb")
    f.write(b"FLOW\n")
    f.flush()
    node = f.readline().decode().strip()
    print("node=" + node, flush=True)
    end = time.monotonic() + seconds
    n, last, max_gap = 0, time.monotonic(), 0.0
    while time.monotonic() < end:
        f.write(b"%d\n" % n)
        f.flush()
        if f.readline() != b"%d\n" % n:
            raise RuntimeError("line %d: wrong or missing echo" % n)
        now = time.monotonic()
        max_gap, last, n = max(max_gap, now - last), now, n + 1
        time.sleep(0.05)
    print("node=%s lines=%d max_gap_ms=%d" % (node, n, max_gap * 1000))
except Exception as e:
    print("flow broken: %s" % e)
    sys.exit(1)
