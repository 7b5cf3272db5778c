#!/usr/bin/env python3
"""route_client.py HOST SECONDS OUT: HTTP GETs to HOST:80 back to back, a
new connection each (so the gateway's L4 multipath hash spreads them over
the nodes), 1 s timeout. Writes "epoch_ms ok|fail node-or-error" lines."""
import socket
import sys
import time

host, seconds, out = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], "w")
end = time.time() + seconds
while time.time() < end:
    start = time.time()
    try:
        s = socket.create_connection((host, 80), timeout=1.0)
        s.settimeout(1.0)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        node = data.rsplit(b"\r\n\r\n", 1)[-1].strip().decode()
        out.write("%d ok %s\n" % (start * 1000, node))
    except OSError as e:
        out.write("%d fail %s\n" % (start * 1000, type(e).__name__))
        time.sleep(0.01)
    out.flush()
    time.sleep(0.02)
