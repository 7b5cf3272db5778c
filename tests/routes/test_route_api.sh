#!/bin/bash
# Route mode with nodes from the Kubernetes API (tests/k8s/fake_apiserver.py)
# and nodes.pod_cidr_routes: ready, schedulable nodes carry the service
# CIDR; a cordoned node is drained, a not-ready one excluded, both keep
# their pod CIDR route; a deleted node loses it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/config.sh"
BIN=build/bin
K8S=tests/k8s
SOCK="$CG_TMP/run/cg.sock"
CONF="$CG_TMP/clustergate.json"

topology_up || { fail "topology"; [ "$CG_FAILURES" -eq 0 ] || sed 's/^/# daemon: /' "$CG_TMP/daemon.log"
finish; }
route_config "$CONF"
sh $K8S/make_certs.sh "$CG_TMP" >/dev/null 2>&1
printf 'token-one\n' > "$CG_TMP/token"
python3 - "$CG_TMP" "$CONF" <<'PY'
import json, sys
tmp, conf = sys.argv[1:3]
c = json.load(open(conf))
c["cluster"]["api"] = {"server": "https://127.0.0.1:6443", "ca_file": tmp + "/ca.crt",
                       "token_file": tmp + "/token", "timeout": 2}
c["nodes"].pop("static")
c["nodes"]["pod_cidr_routes"] = True
json.dump(c, open(conf, "w"), indent=1)

def node(i, ready=True, unschedulable=False):
    return {"kind": "Node", "metadata": {"name": "n%d" % i},
            "spec": {"podCIDR": "10.244.%d.0/24" % i, "unschedulable": unschedulable},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.32.%d" % (22 + i)}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
json.dump({"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
           "items": [node(i) for i in (1, 2, 3)]}, open(tmp + "/nodes.json", "w"))
for name, obj in (("cordon2", node(2, unschedulable=True)), ("uncordon2", node(2)),
                  ("notready3", node(3, ready=False)), ("n3", node(3))):
    json.dump(obj, open("%s/%s.json" % (tmp, name), "w"))
json.dump({"kind": "List", "metadata": {"resourceVersion": "1"}, "items": []},
          open(tmp + "/empty.json", "w"))
json.dump({"kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"clusterIP": "10.0.58.158", "clusterIPs": ["10.0.58.158"],
                    "type": "ClusterIP",
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}},
          open(tmp + "/svc.json", "w"))
json.dump({"kind": "EndpointSlice",
           "metadata": {"name": "web-1", "namespace": "shop",
                        "labels": {"kubernetes.io/service-name": "web"}},
           "addressType": "IPv4",
           "endpoints": [{"addresses": ["10.0.32.23"],
                          "conditions": {"ready": True, "serving": True, "terminating": False}}],
           "ports": [{"name": "http", "protocol": "TCP", "port": 80}]},
          open(tmp + "/slice.json", "w"))
c["services"]["mode"] = "proxy"
c["services"].pop("static")
c["nodes"]["pod_cidr_routes"] = False
json.dump(c, open(tmp + "/proxy.json", "w"), indent=1)
PY
cg_bg "$GW" python3 $K8S/fake_apiserver.py --port 6443 --control-port 6444 \
	--tls-cert "$CG_TMP/server.crt" --tls-key "$CG_TMP/server.key" \
	--token-file "$CG_TMP/token" --services "$CG_TMP/empty.json" \
	--endpointslices "$CG_TMP/empty.json" --nodes "$CG_TMP/nodes.json" \
	--bookmark-interval 1 2>"$CG_TMP/api.log"
wait_for 10 ip netns exec "$GW" python3 $K8S/ctl.py state 6444 >/dev/null
cg_bg "$GW" $BIN/clustergated -c "$CONF" 2>"$CG_TMP/daemon.log"
DAEMON=$CG_LAST_PID
apictl() { ip netns exec "$GW" python3 $K8S/ctl.py event 6444 "$@" >/dev/null; }
status() { $BIN/clustergate status --json -s "$SOCK"; }
members_are() { test "$(group_members)" = "$*"; }
pod_route() { ip -n "$GW" -j route show "10.244.$1.0/24" | jq -r '.[0].gateway // empty'; }
state_of() { status | jq -r ".nodes.nodes[] | select(.name == \"$1\") | .state"; }

check "nodes from the API: the group holds all three" \
	wait_for 40 members_are "10.0.32.23 10.0.32.24 10.0.32.25 "
check "status says the nodes come from kubernetes" \
	test "$(status | jq -r .nodes.source)" = kubernetes
check "each node's pod CIDR is routed to it" \
	test "$(pod_route 1) $(pod_route 2) $(pod_route 3)" = "10.0.32.23 10.0.32.24 10.0.32.25"

apictl MODIFIED "$CG_TMP/cordon2.json"
check "a cordoned node is drained from the group" \
	wait_for 10 members_are "10.0.32.23 10.0.32.25 "
check "  status shows it drained" test "$(state_of n2)" = drained
check "  its pod CIDR route stays (its pods still run there)" test "$(pod_route 2)" = 10.0.32.24

apictl MODIFIED "$CG_TMP/notready3.json"
check "a not-ready node leaves the group" wait_for 10 members_are "10.0.32.23 "
check "  status shows it not-ready" test "$(state_of n3)" = not-ready

apictl MODIFIED "$CG_TMP/uncordon2.json"
check "an uncordoned node comes back after its probe" \
	wait_for 10 members_are "10.0.32.23 10.0.32.24 "

apictl DELETED "$CG_TMP/n3.json"
check "a deleted node loses its pod CIDR route" wait_for 10 test -z "$(pod_route 3)"
check "  and is gone from the status" test -z "$(state_of n3)"

# Restart with nodes from the API: nothing changes in the kernel, pod CIDR
# routes included, while the new daemon waits for its first node list.
before=$(ip -n "$GW" -j nexthop | jq -c 'sort_by(.id)')
ip -n "$GW" monitor nexthop route > "$CG_TMP/monitor" 2>&1 &
MON=$!; cg_track_pid $MON
sleep 0.3
kill -TERM "$DAEMON"; wait "$DAEMON"
cg_bg "$GW" $BIN/clustergated -c "$CONF" 2>>"$CG_TMP/daemon.log"
DAEMON=$CG_LAST_PID
wait_for 10 test -S "$SOCK"
wait_for 10 sh -c "$BIN/clustergate status --json -s $SOCK | jq -e '.nodes.nodes | length == 2' >/dev/null"
sleep 3
kill "$MON"
check "restart (API nodes): ip monitor saw no change" test ! -s "$CG_TMP/monitor"
check "restart (API nodes): nexthops unchanged" \
	test "$(ip -n "$GW" -j nexthop | jq -c 'sort_by(.id)')" = "$before"
check "restart (API nodes): pod CIDR routes still there" \
	test "$(pod_route 1) $(pod_route 2)" = "10.0.32.23 10.0.32.24"

# Switching to proxy mode removes every route of ours; doctor then tests
# the Services clustergated learns from the API, through its own DNAT.
apictl ADDED "$CG_TMP/svc.json"
apictl ADDED "$CG_TMP/slice.json"
cp "$CG_TMP/proxy.json" "$CONF"
kill -HUP "$DAEMON"
ours() { ip -n "$GW" -j route show table all | jq '[.[] | select(.protocol == "97")] | length'; }
check "proxy mode: the route component removes its routes" wait_for 10 test "$(ours)" = 0
check "  and its nexthops" test "$(ip -n "$GW" -j nexthop | jq length)" = 0
wait_for 20 sh -c "$BIN/clustergate status --json -s $SOCK | jq -e '.kubernetes.state == \"connected\"' >/dev/null"
sleep 2
out=$(ip netns exec "$GW" $BIN/clustergate doctor -c "$CONF" --timeout 1000); rc=$?
echo "$out" | sed 's/^/# /'
check "doctor in proxy mode tests the API's services (exit $rc)" test $rc -eq 0
check "  it tests shop/web's endpoint" \
	grep -qx "  endpoint 10.0.32.23:80 directly: ok: handshake completed in [0-9]* ms" <<<"$out"
check "  verdict OK" test "$(tail -1 <<<"$out")" = "verdict: OK: 1 service port(s) answer"
[ "$CG_FAILURES" -eq 0 ] || sed 's/^/# daemon: /' "$CG_TMP/daemon.log"
finish
