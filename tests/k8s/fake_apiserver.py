#!/usr/bin/env python3
"""A test Kubernetes API server: the list and watch wire format for
Services, EndpointSlices and Nodes, controllable by the test.

API side (HTTP, or HTTPS with --tls-cert/--tls-key):
  GET /api/v1/services, /apis/discovery.k8s.io/v1/endpointslices,
      /api/v1/nodes                     list (limit + continue paging)
  same with ?watch=1&resourceVersion=RV chunked watch stream: ADDED,
      MODIFIED, DELETED, BOOKMARK (allowWatchBookmarks) and ERROR events;
      an RV older than the compaction point gets an ERROR 410 event (or
      HTTP 410 when so told); the stream ends after timeoutSeconds.
  Authentication: --token-file (re-read on every request: the test can
  rotate it) and/or --client-ca (TLS client certificates required).

Control side (plain HTTP on 127.0.0.1:--control-port), JSON bodies:
  POST /apply   {"type": "ADDED"|"MODIFIED"|"DELETED", "object": {...}}
                resource from object.kind; sets metadata.resourceVersion
  POST /expire  compact history and send ERROR 410 to open watches
  POST /compact compact history only (the next watch from an old RV: 410)
  POST /drop    cut every open watch connection (no terminating chunk)
  POST /slow    {"seconds": N}: delay every API response by N s (0: off)
  POST /fail    {"status": 403|500, "count": N}: the next N API requests
                fail with that status and a Status body
  POST /http410 {"count": N}: the next N watches get HTTP 410 instead of
                an ERROR event when their RV is too old
  POST /continue410 {"count": N}: the next N list pages asked for with a
                continue token get 410 (the token expired)
  GET  /state   counts, current RV, open watches, requests seen

Initial objects come from list files (--services, --endpointslices,
--nodes), e.g. tests/k8s/fixtures/*.json.
"""
import argparse
import copy
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RESOURCES = {
    "/api/v1/services": ("services", "Service", "v1", "ServiceList"),
    "/apis/discovery.k8s.io/v1/endpointslices":
        ("endpointslices", "EndpointSlice", "discovery.k8s.io/v1",
         "EndpointSliceList"),
    "/api/v1/nodes": ("nodes", "Node", "v1", "NodeList"),
}
BY_KIND = {v[1]: v for v in RESOURCES.values()}


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def key_of(obj):
    md = obj.get("metadata", {})
    ns = md.get("namespace")
    return f"{ns}/{md['name']}" if ns else md["name"]


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 1
        self.objects = {name: {} for name, _, _, _ in RESOURCES.values()}
        self.history = []          # (rv, resource, type, object)
        self.compacted = 0         # watches from an RV below this get 410
        self.generation = 0        # bumped by /drop and /expire
        self.expire_generation = 0
        self.slow = 0.0
        self.fail_status = 0
        self.fail_count = 0
        self.http410_count = 0
        self.continue410_count = 0
        self.watches = 0
        self.requests = []
        self.snapshots = {}

    def load(self, resource, path):
        with open(path) as f:
            lst = json.load(f)
        for item in lst.get("items", []):
            self.objects[resource][key_of(item)] = item
        self.rv = max(self.rv, int(lst["metadata"]["resourceVersion"]))
        self.compacted = self.rv

    def apply(self, typ, obj):
        resource, kind, api_version, _ = BY_KIND[obj["kind"]]
        obj = copy.deepcopy(obj)
        with self.lock:
            self.rv += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
            obj["apiVersion"] = api_version
            key = key_of(obj)
            if typ == "DELETED":
                obj = copy.deepcopy(self.objects[resource].pop(key, obj))
                obj["metadata"]["resourceVersion"] = str(self.rv)
                obj["kind"], obj["apiVersion"] = kind, api_version
            else:
                obj["kind"] = kind
                self.objects[resource][key] = obj
            self.history.append((self.rv, resource, typ, obj))
            self.lock.notify_all()
            return self.rv


STATE = State()
ARGS = None


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("api: " + (fmt % args) + "\n")

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        if not ARGS.token_file:
            return True
        with open(ARGS.token_file) as f:
            token = f.read().strip()
        return self.headers.get("Authorization") == "Bearer " + token

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with STATE.lock:
            STATE.requests.append({
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "client_cert": bool(getattr(self.connection, "getpeercert",
                                            lambda: None)())})
            slow = STATE.slow
            failing = STATE.fail_count > 0
            if failing:
                STATE.fail_count -= 1
                fail_status = STATE.fail_status
        if slow:
            time.sleep(slow)
        if url.path not in RESOURCES:
            return self.send_json(404, status_body(404, "NotFound",
                                                   "the server could not find the requested resource"))
        if not self.authorized():
            return self.send_json(401, status_body(401, "Unauthorized",
                                                   "Unauthorized"))
        resource = RESOURCES[url.path]
        if failing:
            if fail_status == 403:
                body = status_body(403, "Forbidden",
                                   f'{resource[0]} is forbidden: User "system:serviceaccount:kube-system:clustergate" cannot list resource "{resource[0]}" at the cluster scope')
            else:
                body = status_body(fail_status, "InternalError",
                                   "an error on the server has prevented the request from succeeding")
            return self.send_json(fail_status, body)
        if query.get("watch") in ("1", "true"):
            return self.watch(resource, query)
        return self.list(resource, query)

    def list(self, resource, query):
        name, kind, api_version, list_kind = resource
        limit = int(query.get("limit", "0"))
        token = query.get("continue")
        with STATE.lock:
            if token:
                snap = STATE.snapshots.get(token)
                if STATE.continue410_count > 0:
                    STATE.continue410_count -= 1
                    snap = None
                if snap is None:
                    return self.send_json(410, status_body(
                        410, "Expired",
                        "The provided continue parameter is too old to display a consistent list result."))
                rv, items = snap
            else:
                rv = STATE.rv
                items = [STATE.objects[name][k]
                         for k in sorted(STATE.objects[name])]
        page, rest = (items[:limit], items[limit:]) if limit else (items, [])
        metadata = {"resourceVersion": str(rv)}
        if rest:
            next_token = f"{name}-{rv}-{len(STATE.snapshots)}"
            with STATE.lock:
                STATE.snapshots[next_token] = (rv, rest)
            metadata["continue"] = next_token
        # Items of a list carry no kind/apiVersion, as from a real server.
        out = []
        for item in page:
            item = dict(item)
            item.pop("kind", None)
            item.pop("apiVersion", None)
            out.append(item)
        self.send_json(200, {"kind": list_kind, "apiVersion": api_version,
                             "metadata": metadata, "items": out})

    def chunk(self, obj):
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        # Split each event in two chunks: readers must reassemble lines.
        half = len(data) // 2
        for part in (data[:half], data[half:]):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.flush()

    def watch(self, resource, query):
        name, kind, api_version, _ = resource
        rv = int(query.get("resourceVersion") or "0")
        timeout = float(query.get("timeoutSeconds", "1800"))
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        with STATE.lock:
            too_old = rv < STATE.compacted
            if too_old and STATE.http410_count > 0:
                STATE.http410_count -= 1
                return self.send_json(410, status_body(
                    410, "Expired",
                    f"too old resource version: {rv} ({STATE.compacted})"))
            generation = STATE.generation
            expire_generation = STATE.expire_generation
            STATE.watches += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + ARGS.bookmark_interval
        sent = rv
        try:
            if too_old:
                self.chunk({"type": "ERROR", "object": status_body(
                    410, "Expired",
                    f"too old resource version: {rv} ({STATE.compacted})")})
                return self.end_stream()
            while True:
                with STATE.lock:
                    events = [(r, t, o) for r, res, t, o in STATE.history
                              if res == name and r > sent]
                    if not events and STATE.generation == generation:
                        now = time.monotonic()
                        STATE.lock.wait(max(0.01, min(deadline, next_bookmark) - now))
                        events = [(r, t, o) for r, res, t, o in STATE.history
                                  if res == name and r > sent]
                    current_rv = STATE.rv
                    dropped = STATE.generation != generation
                    expired = STATE.expire_generation != expire_generation
                for r, t, o in events:
                    self.chunk({"type": t, "object": o})
                    sent = r
                if expired:
                    self.chunk({"type": "ERROR", "object": status_body(
                        410, "Expired",
                        f"too old resource version: {sent} ({current_rv})")})
                    return self.end_stream()
                if dropped:
                    # Cut the connection: no terminating chunk.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                now = time.monotonic()
                if bookmarks and now >= next_bookmark:
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api_version,
                        "metadata": {"resourceVersion": str(current_rv)}}})
                    sent = max(sent, current_rv)
                    next_bookmark = now + ARGS.bookmark_interval
                if now >= deadline:
                    return self.end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with STATE.lock:
                STATE.watches -= 1

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with STATE.lock:
            self.reply({
                "resourceVersion": STATE.rv,
                "counts": {k: len(v) for k, v in STATE.objects.items()},
                "watches": STATE.watches,
                "requests": STATE.requests[-200:]})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        path = urlparse(self.path).path
        result = {"ok": True}
        with STATE.lock:
            if path == "/apply":
                pass
            elif path == "/expire":
                STATE.compacted = STATE.rv + 1
                STATE.expire_generation += 1
                STATE.snapshots.clear()
            elif path == "/compact":
                STATE.compacted = STATE.rv + 1
                STATE.snapshots.clear()
            elif path == "/drop":
                STATE.generation += 1
            elif path == "/slow":
                STATE.slow = float(body.get("seconds", 0))
            elif path == "/fail":
                STATE.fail_status = int(body.get("status", 500))
                STATE.fail_count = int(body.get("count", 1))
            elif path == "/http410":
                STATE.http410_count = int(body.get("count", 1))
            elif path == "/continue410":
                STATE.continue410_count = int(body.get("count", 1))
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            STATE.lock.notify_all()
        if path == "/apply":
            result["resourceVersion"] = STATE.apply(body["type"],
                                                    body["object"])
        self.reply(result)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--control-port", type=int, required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca")
    p.add_argument("--token-file")
    p.add_argument("--services")
    p.add_argument("--endpointslices")
    p.add_argument("--nodes")
    p.add_argument("--bookmark-interval", type=float, default=5.0)
    p.add_argument("--start-rv", type=int, default=0,
                   help="start at this resourceVersion (a restarted server: "
                        "older versions are too old)")
    ARGS = p.parse_args()
    for resource in ("services", "endpointslices", "nodes"):
        path = getattr(ARGS, resource)
        if path:
            STATE.load(resource, path)
    STATE.rv = STATE.compacted = max(STATE.rv, ARGS.start_rv)

    api = ThreadingHTTPServer((ARGS.listen, ARGS.port), ApiHandler)
    api.daemon_threads = True
    if ARGS.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        if ARGS.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(ARGS.client_ca)
        api.socket = context.wrap_socket(api.socket, server_side=True)
    control = ThreadingHTTPServer(("127.0.0.1", ARGS.control_port),
                                  ControlHandler)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"fake apiserver on {ARGS.listen}:{ARGS.port}, control on "
          f"127.0.0.1:{ARGS.control_port}", file=sys.stderr, flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
