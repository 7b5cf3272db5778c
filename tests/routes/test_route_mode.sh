#!/bin/bash
# clustergated in services.mode "route": a gateway and three nodes serving
# /healthz. The service CIDR's group holds exactly the healthy nodes; a node
# whose healthz stops leaves within interval x fall + one interval while a
# long TCP flow to another node carries on; it rejoins after `rise` good
# probes; a restart changes nothing in the kernel; with no healthy node the
# last group stays; `clustergate cleanup` removes only what is ours.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/config.sh"
BIN=build/bin
INTERVAL=500 TIMEOUT=300 RISE=2 FALL=3
SOCK="$CG_TMP/run/cg.sock"
CONF="$CG_TMP/clustergate.json"
now_ms() { date +%s%3N; }

topology_up || { fail "topology"; finish; }
route_config "$CONF" $INTERVAL $TIMEOUT $RISE $FALL
# A route that is not ours, in the same table: it must survive everything.
ip -n "$GW" route add 10.0.60.0/24 via 10.0.32.99 proto static

start_daemon() {
	cg_bg "$GW" $BIN/clustergated -c "$CONF"
	DAEMON=$CG_LAST_PID
}
start_daemon 2>> "$CG_TMP/daemon.log"
status() { $BIN/clustergate status --json -s "$SOCK"; }
node_field() { status | jq -r ".nodes.nodes[] | select(.name == \"$1\") | $2"; }
members_are() { test "$(group_members)" = "$*"; }

check "the group holds the three healthy nodes" \
	wait_for 10 members_are "10.0.32.23 10.0.32.24 10.0.32.25 "
gid=$(group_id)
check "the service route points at a resilient group" \
	test "$(ip -n "$GW" -j nexthop show id "$gid" | jq -r '.[0].type')" = resilient
check "route and group carry protocol 97 (clustergate)" test \
	"$(ip -n "$GW" -j route show 10.0.56.0/21 | jq -r '.[0].protocol')/$(ip -n "$GW" -j nexthop show id "$gid" | jq -r '.[0].protocol')" = 97/97
check "status shows each node up with its last probe" test \
	"$(status | jq -r '[.nodes.nodes[] | "\(.name):\(.state):\(.last_probe.result):\(.in_group)"] | join(" ")')" = \
	"n1:up:HTTP 200:true n2:up:HTTP 200:true n3:up:HTTP 200:true"
check "the client reaches the service through the gateway" \
	ip netns exec "$CLIENT" curl -sf -m 2 -o /dev/null "http://$SERVICE_IP/"

# A long flow, then stop the healthz of a node that does not carry it.
ip netns exec "$CLIENT" python3 "$TOPO_DIR/flow_client.py" "$SERVICE_IP" 80 9 \
	> "$CG_TMP/flow" 2>&1 &
FLOW=$!; cg_track_pid $FLOW
wait_for 5 grep -q '^node=' "$CG_TMP/flow"
flow_node=$(head -1 "$CG_TMP/flow" | sed -n "s/^node=n\([0-9]\)$/\1/p")
cat "$CG_TMP/flow"
victim=$(( flow_node % 3 + 1 ))
victim_ip=${NODE_IP[$victim]}
echo "# flow runs via n$flow_node; stopping the healthz of n$victim"
sleep 1
t0=$(now_ms)
health_stop "$victim"
leaves() { ! group_members | grep -q "$victim_ip "; }
wait_for 10 leaves
left_ms=$(( $(now_ms) - t0 ))
bound=$(( INTERVAL * FALL + INTERVAL ))
check "n$victim left the group after ${left_ms} ms (bound ${bound} ms)" \
	test "$left_ms" -le "$bound"
check "the route kept its group id (one group update)" test "$(group_id)" = "$gid"
check "the log names the transition" \
	grep -q "node n$victim ($victim_ip) is down: Connection refused (up -> down after $FALL bad probes)" "$CG_TMP/daemon.log"
check "status shows n$victim down with the probe error" test \
	"$(node_field "n$victim" '"\(.state):\(.last_probe.result):\(.in_group)"')" = "down:Connection refused:false"
wait $FLOW; rc=$?
check "the long flow via n$flow_node was not interrupted ($(tail -1 "$CG_TMP/flow"))" \
	test $rc -eq 0

health_start "$victim"
# Count from the moment the node's healthz answers again.
wait_for 10 ip netns exec "$GW" curl -sf -m 1 -o /dev/null "http://$victim_ip:10256/healthz"
t1=$(now_ms)
joined() { group_members | grep -q "$victim_ip "; }
wait_for 10 joined
join_ms=$(( $(now_ms) - t1 ))
check "n$victim rejoined after ${join_ms} ms (rise $RISE x ${INTERVAL} ms = $(( RISE * INTERVAL )) ms)" \
	test "$join_ms" -le $(( RISE * INTERVAL + 100 ))
check "it rejoined after $RISE good probes" \
	grep -q "node n$victim ($victim_ip) is up: HTTP 200 (down -> up after $RISE good probes)" "$CG_TMP/daemon.log"

out=$(ip netns exec "$GW" $BIN/clustergate doctor -c "$CONF" --timeout 1000)
check "doctor takes the nodes from clustergated's group" \
	grep -qx "nodes: 3 in clustergated's group" <<<"$out"
check "doctor: every node answers" \
	test "$(tail -1 <<<"$out")" = "verdict: OK: 1 service port(s) answer symmetrically through every node"
out=$(ip netns exec "$GW" $BIN/clustergate cleanup -c "$CONF" 2>&1); rc=$?
check "cleanup refuses while clustergated runs" test $rc -eq 1 -a \
	"$out" = "clustergate cleanup: clustergated is running ($SOCK) and would put everything back; stop it first, or pass --force"

# Restart: the kernel must not see a single change.
before=$(ip -n "$GW" -j nexthop | jq -c 'sort_by(.id)')
ip -n "$GW" monitor nexthop route > "$CG_TMP/monitor" 2>&1 &
MON=$!; cg_track_pid $MON
sleep 0.3
kill -TERM "$DAEMON"; wait "$DAEMON"
check "clustergated left the routes in place when it stopped" \
	members_are "10.0.32.23 10.0.32.24 10.0.32.25 "
start_daemon 2>> "$CG_TMP/daemon.log"
wait_for 10 test -S "$SOCK"
sleep $(( (INTERVAL * (FALL + 2)) / 1000 + 1 ))
kill "$MON"
check "restart: ip monitor saw no nexthop or route change" test ! -s "$CG_TMP/monitor"
check "restart: nexthop ids and groups unchanged" \
	test "$(ip -n "$GW" -j nexthop | jq -c 'sort_by(.id)')" = "$before"
check "restart: status shows the kernel's group" test \
	"$(status | jq -r '.nodes.group | join(" ")')" = "10.0.32.23 10.0.32.24 10.0.32.25"

# No healthy node at all: keep the last group and say so.
for i in 1 2 3; do health_stop $i; done
check "with every node down the log says so loudly" wait_for 10 \
	grep -q "NO HEALTHY NODE for 10.0.56.0/21: keeping the last group" "$CG_TMP/daemon.log"
check "status reports no healthy nodes" test "$(status | jq -r .nodes.no_healthy_nodes)" = true
check "the route still has a group to send to" test -n "$(group_members)"
for i in 1 2 3; do health_start $i; done
check "nodes come back into the group" \
	wait_for 10 members_are "10.0.32.23 10.0.32.24 10.0.32.25 "

# A reload that moves the route to another table leaves nothing behind.
python3 - "$CONF" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["nodes"]["route_table"] = 100
json.dump(c, open(sys.argv[1], "w"))
PY
kill -HUP "$DAEMON"
check "reload: the route moves to table 100 with all three nodes" wait_for 10 \
	sh -c "test \"\$(ip -n $GW -j route show table 100 10.0.56.0/21 | jq -r '[.[0].nexthops[].gateway] | join(\" \")')\" = '10.0.32.23 10.0.32.24 10.0.32.25'"
check "reload: no route of ours is left in the main table" \
	test "$(ip -n "$GW" -j route show table main | jq '[.[] | select(.protocol == "97")] | length')" = 0

kill -TERM "$DAEMON"; wait "$DAEMON"
out=$(ip netns exec "$GW" $BIN/clustergate cleanup -c "$CONF" 2>&1); rc=$?
check "clustergate cleanup succeeds" test $rc -eq 0
check "cleanup reports the routes part" grep -qx "routes: removed 5 object(s)" <<<"$out"
check "no route or nexthop of ours is left" test \
	"$(ip -n "$GW" -j route show table all | jq '[.[] | select(.protocol == "97")] | length')/$(ip -n "$GW" -j nexthop | jq length)" = 0/0
check "the foreign route survived" \
	test "$(ip -n "$GW" -j route show 10.0.60.0/24 | jq -r '.[0].gateway')" = 10.0.32.99
[ "$CG_FAILURES" -eq 0 ] || sed 's/^/# daemon: /' "$CG_TMP/daemon.log"
finish
