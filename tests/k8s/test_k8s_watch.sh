#!/bin/bash
# The Kubernetes client against the fake API server (tests/k8s/
# fake_apiserver.py) over HTTPS: clustergated lists and watches Services,
# EndpointSlices and Nodes, and the service state it derives (the
# "kubernetes-services" control command) follows ADDED / MODIFIED /
# DELETED / BOOKMARK events, 410 Gone (ERROR event and HTTP), dropped
# connections, HTTP errors, slow responses, token rotation and the API
# dying and coming back. A second run uses a kubeconfig with an embedded
# client certificate and CA.
. "$(dirname "$0")/../lib.sh"
BIN=build/bin
K8S=tests/k8s
FIX=tests/k8s/fixtures

NS=$(cg_ns k8s)
sh $K8S/make_certs.sh "$CG_TMP"
printf 'token-one\n' > "$CG_TMP/token"
printf 'not-a-secret' > "$CG_TMP/psk"
chmod 600 "$CG_TMP/psk"
SOCK="$CG_TMP/cg.sock"

api() {	# api ARGS...: start the fake API server in the namespace
	cg_bg "$NS" python3 $K8S/fake_apiserver.py --port 6443 --control-port 6444 \
		--tls-cert "$CG_TMP/server.crt" --tls-key "$CG_TMP/server.key" \
		--services $FIX/services.json --endpointslices $FIX/endpointslices.json \
		--nodes $FIX/nodes.json --bookmark-interval 1 "$@" 2>>"$CG_TMP/api.log"
	API_PID=$CG_LAST_PID
	wait_for 10 ip netns exec "$NS" python3 $K8S/ctl.py state 6444 >/dev/null
}
apictl() { ip netns exec "$NS" python3 $K8S/ctl.py "$@" >/dev/null; }
st() { python3 $K8S/ctl.py get "$SOCK" "$1"; }
services() { python3 $K8S/ctl.py services "$SOCK"; }
has_line() { services | grep -qx -- "$1"; }
lacks() { ! services | grep -q -- "$1"; }
state_is() { test "$(st kubernetes.state)" = "$1"; }

# The watch stream sample, one object file per event.
python3 - "$CG_TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
for i, line in enumerate(open("tests/k8s/fixtures/watch-endpointslices.jsonl")):
    json.dump(json.loads(line)["object"], open(f"{tmp}/event{i}.json", "w"))
json.dump({"kind": "Service", "metadata": {"name": "redis", "namespace": "dev"},
           "spec": {"clusterIP": "10.0.57.30", "type": "ClusterIP",
                    "ports": [{"name": "redis", "protocol": "TCP", "port": 6379,
                               "targetPort": "redis"}]}},
          open(f"{tmp}/redis.json", "w"))
json.dump({"kind": "Service", "metadata": {"name": "broken", "namespace": "dev"},
           "spec": {"clusterIP": "10.0.57.31", "ports": [{"port": "eighty"}]}},
          open(f"{tmp}/broken.json", "w"))
c = json.load(open("etc/clustergate.json"))
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/cg.sock"
del c["metrics"]
c["cluster"]["api"] = {"server": "https://127.0.0.1:6443",
                       "ca_file": tmp + "/ca.crt",
                       "token_file": tmp + "/token", "timeout": 2}
c["log"] = {"level": "debug"}
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY

# K8S_VALGRIND=1 runs the daemon under valgrind (slower; for leak hunts).
VG=""
[ -n "${K8S_VALGRIND:-}" ] && VG="valgrind -q --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite"
api --token-file "$CG_TMP/token"
ip netns exec "$NS" $VG $BIN/clustergated -c "$CG_TMP/clustergate.json" 2>"$CG_TMP/daemon.log" &
DAEMON=$!
cg_track_pid $DAEMON
if ! wait_for 20 test -S "$SOCK"; then
	fail "clustergated did not start"; cat "$CG_TMP/daemon.log"; finish
fi
check "lists over HTTPS with the bearer token: connected" wait_for 20 state_is connected
TABLE="10.0.56.1:443/tcp 10.0.32.10:6443
10.0.56.10:53/tcp 10.0.0.21:53
10.0.56.10:9153/tcp 10.0.0.21:9153
10.0.56.10:53/udp 10.0.0.21:53
10.0.57.20:8080/tcp 10.0.0.31:8081 10.0.0.32:8081 affinity=10800
10.0.58.158:80/tcp 10.0.0.13:80
10.0.60.80:3306/tcp 10.0.0.14:3306
10.0.62.200:80/tcp reject"
check "the service state is the samples' table" test "$(services)" = "$TABLE"
check "status counts Services, EndpointSlices, Nodes, ports" test \
	"$(st kubernetes.services) $(st kubernetes.endpoint_slices) $(st kubernetes.nodes) $(st kubernetes.service_ports_programmed)" = "8 8 4 8"
check "status shows the resourceVersions" test \
	"$(st kubernetes.resource_versions.services)" = 123470
check "watches ask for bookmarks from the list's resourceVersion" sh -c \
	"ip netns exec $NS python3 $K8S/ctl.py state 6444 | grep -q 'endpointslices?watch=1&allowWatchBookmarks=true&resourceVersion=123470&timeoutSeconds='"

apictl event 6444 MODIFIED "$CG_TMP/event0.json"
check "MODIFIED: a not-ready endpoint is not chosen" wait_for 5 sh -c \
	"ip netns exec $NS python3 $K8S/ctl.py state 6444 | grep -q '\"resourceVersion\": 123471'"
sleep 0.5
check "  nginx still has one endpoint" has_line "10.0.58.158:80/tcp 10.0.0.13:80"
apictl event 6444 MODIFIED "$CG_TMP/event1.json"
check "MODIFIED: once ready, both endpoints serve" wait_for 5 has_line \
	"10.0.58.158:80/tcp 10.0.0.13:80 10.0.0.15:80"
apictl event 6444 ADDED "$CG_TMP/event2.json"
apictl event 6444 DELETED "$CG_TMP/event4.json"
check "DELETED: mysql's slice is gone, mysql rejects" wait_for 5 has_line \
	"10.0.60.80:3306/tcp reject"
check "a slice without its Service programs nothing" lacks 10.0.0.50
apictl event 6444 ADDED "$CG_TMP/redis.json"
check "ADDED Service: redis uses its slice (named port)" wait_for 5 has_line \
	"10.0.57.30:6379/tcp 10.0.0.50:6379"
# The last EndpointSlice event was before the redis Service: only a
# BOOKMARK can bring the slices' resourceVersion up to the Service's.
check "BOOKMARKs move the resourceVersion on" wait_for 5 sh -c \
	"test \$(python3 $K8S/ctl.py get $SOCK kubernetes.resource_versions.endpointslices) = \$(python3 $K8S/ctl.py get $SOCK kubernetes.resource_versions.services)"
apictl event 6444 ADDED "$CG_TMP/broken.json"
check "a malformed object is skipped with a log line naming it" wait_for 5 grep -q \
	"skipping malformed Service dev/broken: spec.ports\[0\].port: not a port number" "$CG_TMP/daemon.log"
check "  and the daemon keeps serving" has_line "10.0.57.30:6379/tcp 10.0.0.50:6379"

# 410 Gone as an ERROR event on the open watches: relist.
apictl post 6444 /expire
check "ERROR 410 event: every resource is relisted" wait_for 10 sh -c \
	"test \$(python3 $K8S/ctl.py get $SOCK kubernetes.watches.services.relists) -ge 1 -a \$(python3 $K8S/ctl.py get $SOCK kubernetes.watches.endpointslices.relists) -ge 1"
check "  the relist keeps the same state" wait_for 5 has_line "10.0.57.30:6379/tcp 10.0.0.50:6379"
check "  and watching resumes" wait_for 10 state_is connected

# HTTP 410 on a watch whose resourceVersion was compacted away.
apictl post 6444 /compact
apictl post 6444 /http410 '{"count": 3}'
apictl post 6444 /drop
check "HTTP 410 on re-watch after a dropped connection: relist" wait_for 10 grep -q \
	"resourceVersion .* is too old; listing again" "$CG_TMP/daemon.log"
apictl event 6444 DELETED "$CG_TMP/redis.json"
check "after the relist, events flow again (Service deleted)" wait_for 10 lacks 10.0.57.30

# A dropped connection: reconnect from the last resourceVersion.
apictl post 6444 /drop
apictl event 6444 ADDED "$CG_TMP/redis.json"
check "dropped watch: reconnect and catch up on missed events" wait_for 10 has_line \
	"10.0.57.30:6379/tcp 10.0.0.50:6379"

# HTTP errors: stale, with the API's message, then recovery.
apictl post 6444 /fail '{"status": 403, "count": 12}'
apictl post 6444 /drop
check "HTTP 403: status says stale" wait_for 10 state_is stale
check "  with the API's message as last_error" sh -c \
	"python3 $K8S/ctl.py get $SOCK kubernetes.last_error | grep -q '^HTTP 403: .* is forbidden: User \"system:serviceaccount:kube-system:clustergate\"'"
check "  stale_since is set" test "$(st kubernetes.stale_since)" != null
check "  the last state is kept" has_line "10.0.57.30:6379/tcp 10.0.0.50:6379"
check "  recovers after the errors (backoff)" wait_for 40 state_is connected
check "  reconnects are counted" test "$(st kubernetes.reconnects)" -ge 1
check "  stale_since is cleared" test "$(st kubernetes.stale_since)" = null

# Slow responses: the request times out (timeout 2 s) and is retried.
apictl post 6444 /slow '{"seconds": 8}'
apictl post 6444 /drop
check "slow API: requests time out, status says stale" wait_for 20 state_is stale
check "  last_error says it timed out" wait_for 15 sh -c \
	"python3 $K8S/ctl.py get $SOCK kubernetes.last_error | grep -q 'timed out after 4 s waiting for the response headers'"
apictl post 6444 /slow '{"seconds": 0}'
check "  recovers when the API answers again" wait_for 40 state_is connected

# Token rotation: the file changes, the next request uses the new token.
printf 'token-two\n' > "$CG_TMP/token.new"; mv "$CG_TMP/token.new" "$CG_TMP/token"
apictl post 6444 /drop
check "rotated token file: re-read and used" wait_for 20 sh -c \
	"ip netns exec $NS python3 $K8S/ctl.py state 6444 | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"requests\"]; sys.exit(r[-1][\"authorization\"] != \"Bearer token-two\")'"
check "  still connected with it" wait_for 10 state_is connected

# A reload that changes the API settings restarts the watches; the state
# is kept meanwhile and relisted.
lists_before=$(grep -c 'listed [0-9]* Services' "$CG_TMP/daemon.log")
sed -i 's/"timeout": 2/"timeout": 3/' "$CG_TMP/clustergate.json"
kill -HUP $DAEMON
check "reload with new API settings: relisted" wait_for 10 sh -c \
	"test \$(grep -c 'listed [0-9]* Services' $CG_TMP/daemon.log) -gt $lists_before"
check "  connected, same state" wait_for 10 has_line "10.0.57.30:6379/tcp 10.0.0.50:6379"

# The API dies: the last state is kept, status says stale and since when.
kill "$API_PID"; wait "$API_PID" 2>/dev/null
check "API dead: status says stale" wait_for 10 state_is stale
check "  stale_since is an ISO time" sh -c \
	"python3 $K8S/ctl.py get $SOCK kubernetes.stale_since | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'"
check "  last_error names the connection failure" sh -c \
	"python3 $K8S/ctl.py get $SOCK kubernetes.last_error | grep -Eqi 'connect|closed|recv'"
check "  the service state is kept" has_line "10.0.58.158:80/tcp 10.0.0.13:80 10.0.0.15:80"
api --token-file "$CG_TMP/token" --start-rv 200000
check "API back: connected again after relist" wait_for 40 state_is connected
check "  state now follows the restarted API (its initial lists)" wait_for 5 has_line \
	"10.0.60.80:3306/tcp 10.0.0.14:3306"

kill -TERM $DAEMON; wait $DAEMON; rc=$?
check "clustergated stops cleanly (exit $rc)" test "$rc" -eq 0
kill "$API_PID"; wait "$API_PID" 2>/dev/null

# kubeconfig: embedded CA and client certificate (TLS client auth).
python3 - "$CG_TMP" <<'PY'
import base64, json, sys
tmp = sys.argv[1]
b64 = lambda f: base64.b64encode(open(f"{tmp}/{f}", "rb").read()).decode()
open(f"{tmp}/kubeconfig", "w").write(f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: {b64("ca.crt")}
users:
- name: gateway
  user:
    client-certificate-data: {b64("client.crt")}
    client-key-data: {b64("client.key")}
contexts:
- name: lab-gateway
  context: {{cluster: lab, user: gateway}}
current-context: lab-gateway
""")
c = json.load(open(tmp + "/clustergate.json"))
c["cluster"]["api"] = {"kubeconfig": tmp + "/kubeconfig", "timeout": 2}
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY
chmod 600 "$CG_TMP/kubeconfig"
api --client-ca "$CG_TMP/ca.crt"
ip netns exec "$NS" $BIN/clustergated -c "$CG_TMP/clustergate.json" 2>"$CG_TMP/daemon2.log" &
DAEMON=$!
cg_track_pid $DAEMON
check "kubeconfig with client certificate data: connected" wait_for 20 state_is connected
check "  the server saw a client certificate" sh -c \
	"ip netns exec $NS python3 $K8S/ctl.py state 6444 | grep -q '\"client_cert\": true'"
check "  the service state is the samples' table" test "$(services)" = "$TABLE"
check "  status shows the kubeconfig and counts" sh -c \
	"$BIN/clustergate status -s $SOCK | grep -A3 '^kubernetes:' | grep -q 'state: connected'"
kill -TERM $DAEMON; wait $DAEMON; rc=$?
check "clustergated (kubeconfig) stops cleanly (exit $rc)" test "$rc" -eq 0
[ "$CG_FAILURES" -eq 0 ] || { echo "--- daemon log"; tail -n 40 "$CG_TMP/daemon.log"; tail -n 20 "$CG_TMP/daemon2.log"; }
finish
