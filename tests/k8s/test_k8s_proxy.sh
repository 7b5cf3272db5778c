#!/bin/bash
# Proxy mode end to end: clustergated learns Services and EndpointSlices
# from the fake API server and the kernel ruleset and real traffic follow
# the watch events.
#
#   office 172.16.0.50 --ipsec0-- gw 10.0.16.5 (clustergated, fake API on
#   its 127.0.0.1:6443) --eth0-- router 10.0.16.1 --- ep1 pod 10.0.0.13
#                                                  \-- ep2 pod 10.0.0.15
# Each pod answers HTTP on 8080 with "peer=<client> server=<pod>".
. "$(dirname "$0")/../lib.sh"
BIN=build/bin
K8S=tests/k8s
FIX=tests/k8s/fixtures

. tests/nat/topology.sh
proxy_topology 10.0.0.13 10.0.0.15

sh $K8S/make_certs.sh "$CG_TMP"
printf 'token-one\n' > "$CG_TMP/token"
printf 'not-a-secret' > "$CG_TMP/psk"
chmod 600 "$CG_TMP/psk"
SOCK="$CG_TMP/cg.sock"

# The web Service and its slice, in the states the test moves through.
python3 - "$CG_TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
def slice_(eps):
    return {"kind": "EndpointSlice",
            "metadata": {"name": "web-x1", "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [a], "conditions": {"ready": r, "serving": r,
                                                            "terminating": False}}
                          for a, r in eps],
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]}
json.dump({"kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"clusterIP": "10.0.58.170", "clusterIPs": ["10.0.58.170"],
                    "type": "ClusterIP", "ports": [{"name": "http", "protocol": "TCP",
                    "port": 80, "targetPort": "http"}]}}, open(f"{tmp}/svc.json", "w"))
json.dump(slice_([("10.0.0.13", True)]), open(f"{tmp}/one.json", "w"))
json.dump(slice_([("10.0.0.13", True), ("10.0.0.15", True)]), open(f"{tmp}/two.json", "w"))
json.dump(slice_([("10.0.0.13", True), ("10.0.0.15", False)]), open(f"{tmp}/notready.json", "w"))
c = json.load(open("etc/clustergate.json"))
c["gateway"]["tunnel_interface"] = "ipsec0"
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/cg.sock"
del c["metrics"]
c["cluster"]["api"] = {"server": "https://127.0.0.1:6443", "ca_file": tmp + "/ca.crt",
                       "token_file": tmp + "/token", "timeout": 2}
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY

cg_bg "$GW" python3 $K8S/fake_apiserver.py --port 6443 --control-port 6444 \
	--tls-cert "$CG_TMP/server.crt" --tls-key "$CG_TMP/server.key" \
	--token-file "$CG_TMP/token" --services $FIX/services.json \
	--endpointslices $FIX/endpointslices.json --nodes $FIX/nodes.json \
	--bookmark-interval 1 2>"$CG_TMP/api.log"
API_PID=$CG_LAST_PID
wait_for 10 ip netns exec "$GW" python3 $K8S/ctl.py state 6444 >/dev/null
ip netns exec "$GW" $BIN/clustergated -c "$CG_TMP/clustergate.json" 2>"$CG_TMP/daemon.log" &
DAEMON=$!
cg_track_pid $DAEMON
cg_on_exit "ip netns exec $GW nft delete table inet clustergate 2>/dev/null"

apictl() { ip netns exec "$GW" python3 $K8S/ctl.py "$@" >/dev/null; }
st() { python3 $K8S/ctl.py get "$SOCK" "$1"; }
get() { ip netns exec "$OFFICE" curl -s --max-time 2 "$1"; }
ruleset() { ip netns exec "$GW" nft list table inet clustergate; }
# tries N URL: N requests, the answering pods one per line
tries() { for i in $(seq 1 "$1"); do get "$2"; done | sed -n 's/.*server=//p'; }
answered_by() { get http://10.0.58.170/ | grep -q "server=$1"; }
answered() { get http://10.0.58.170/ | grep -q "server=10.0.0.1[35]$"; }

check "clustergated connects to the API" wait_for 20 \
	sh -c "test \"\$(python3 $K8S/ctl.py get $SOCK kubernetes.state)\" = connected"
check "before the Service exists, its ClusterIP does not answer" \
	sh -c "! ip netns exec $OFFICE curl -s --max-time 1 http://10.0.58.170/"

# Adding a Service makes it reachable.
apictl event 6444 ADDED "$CG_TMP/svc.json"
apictl event 6444 ADDED "$CG_TMP/one.json"
check "added Service: reachable, answered by its endpoint" wait_for 10 answered_by 10.0.0.13
check "  the ruleset maps 10.0.58.170 . 80 to 10.0.0.13 . 8080" sh -c \
	"ip netns exec $GW nft list table inet clustergate | grep -q '10.0.58.170 . tcp . 80 . [0-9]* : 10.0.0.13 . 8080'"
check "  the pod sees the gateway's VPC address" sh -c \
	"ip netns exec $OFFICE curl -s --max-time 2 http://10.0.58.170/ | grep -q '^peer=10.0.16.5 '"

# Scaling the endpoints spreads the load.
apictl event 6444 MODIFIED "$CG_TMP/two.json"
check "scaled to two: the ruleset has 10.0.0.15 . 8080" wait_for 10 sh -c \
	"ip netns exec $GW nft list table inet clustergate | grep -q '10.0.58.170 . tcp . 80 . [0-9]* : 10.0.0.15 . 8080'"
tries 20 http://10.0.58.170/ > "$CG_TMP/two.txt"
n13=$(grep -c 10.0.0.13 "$CG_TMP/two.txt"); n15=$(grep -c 10.0.0.15 "$CG_TMP/two.txt")
check "  20 requests answered ($((n13 + n15)))" test $((n13 + n15)) = 20
check "  both endpoints serve within 20 tries ($n13 / $n15)" test "$n13" -gt 0 -a "$n15" -gt 0

# An endpoint that is not ready is no longer chosen.
apictl event 6444 MODIFIED "$CG_TMP/notready.json"
check "not ready: 10.0.0.15 leaves the ruleset" wait_for 10 sh -c \
	"! ip netns exec $GW nft list table inet clustergate | grep -q ': 10.0.0.15 . 8080'"
tries 20 http://10.0.58.170/ > "$CG_TMP/notready.txt"
check "  20 requests all answered by 10.0.0.13" test \
	"$(grep -c 10.0.0.13 "$CG_TMP/notready.txt")" = 20

# Deleting the Service makes it rejected.
apictl event 6444 DELETED "$CG_TMP/svc.json"
check "deleted Service: gone from the ruleset" wait_for 10 sh -c \
	"! ip netns exec $GW nft list table inet clustergate | grep -q '10.0.58.170'"
# Its ClusterIP is now unknown: in proxy mode the gateway owns the service
# CIDR and rejects it itself (TCP reset, counted), rather than forwarding
# it into the VPC where a route could send it to a node.
rejects_before=$(ip netns exec "$GW" nft list counter inet clustergate service_reject | awk '/packets/ {print $2}')
start=$(date +%s%N)
out=$(ip netns exec "$OFFICE" curl -sS --max-time 3 http://10.0.58.170/ 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
rejects_after=$(ip netns exec "$GW" nft list counter inet clustergate service_reject | awk '/packets/ {print $2}')
check "  and rejected at once by the gateway (curl rc $rc in $ms ms: $out)" \
	test "$rc" = 7 -a "$ms" -lt 1000
check "  the gateway counted the reject ($rejects_before -> $rejects_after)" \
	test "$rejects_after" -gt "$rejects_before"
check "  a ping to it gets no echo reply" \
	sh -c "! ip netns exec $OFFICE ping -c 1 -W 1 10.0.58.170 >/dev/null"
# A Service left with no ready endpoint rejects at once (TCP reset).
apictl event 6444 ADDED "$CG_TMP/svc.json"
apictl event 6444 DELETED "$CG_TMP/one.json"
wait_for 10 sh -c "ip netns exec $GW nft list table inet clustergate | grep -q '10.0.58.170'"
check "  its ClusterIP is in the rejected set" sh -c \
	"ip netns exec $GW nft list set inet clustergate rejected_services | grep -q '10.0.58.170 . tcp . 80'"
start=$(date +%s%N)
out=$(ip netns exec "$OFFICE" curl -sS --max-time 3 http://10.0.58.170/ 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "Service without endpoints: refused at once by a reset (curl rc $rc in $ms ms: $out)" \
	test "$rc" = 7 -a "$ms" -lt 1000
check "  counted as a service reject" sh -c \
	"ip netns exec $GW nft list counter inet clustergate service_reject | grep -qv 'packets 0 '"

# When the API dies, traffic keeps working and status says stale.
apictl event 6444 ADDED "$CG_TMP/two.json"
check "endpoints back" wait_for 10 answered
kill "$API_PID"; wait "$API_PID" 2>/dev/null
check "API dead: status says stale" wait_for 10 sh -c \
	"test \"\$(python3 $K8S/ctl.py get $SOCK kubernetes.state)\" = stale"
check "  stale_since is set" test "$(st kubernetes.stale_since)" != null
tries 10 http://10.0.58.170/ > "$CG_TMP/dead.txt"
check "  traffic keeps working: 10 of 10 answered" test "$(grep -c '^10.0.0.1[35]$' "$CG_TMP/dead.txt")" = 10
check "  the ruleset still holds both endpoints" sh -c \
	"ip netns exec $GW nft list table inet clustergate | grep -q ': 10.0.0.13 . 8080' &&
	 ip netns exec $GW nft list table inet clustergate | grep -q ': 10.0.0.15 . 8080'"

kill -TERM $DAEMON; wait $DAEMON; rc=$?
check "clustergated stops cleanly (exit $rc)" test "$rc" -eq 0
[ "$CG_FAILURES" -eq 0 ] || { echo "--- daemon log"; tail -n 40 "$CG_TMP/daemon.log"; }
finish
