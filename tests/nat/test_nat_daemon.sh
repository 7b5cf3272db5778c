#!/bin/bash
# clustergated's nat component: static services in proxy mode (no API),
# status counters, reload, hitless stop, `clustergate cleanup`.
#
#   office 172.16.0.50 --ipsec0-- gw (clustergated, 10.0.16.5) --eth0--
#   router 10.0.16.1 --- ep1 (pod 10.0.0.13), ep2 (pod 10.0.0.14)
. "$(dirname "$0")/../lib.sh"

BIN=build/bin
HERE=$(dirname "$0")
. tests/nat/topology.sh
proxy_topology 10.0.0.13 10.0.0.14

printf 'not-a-secret' > "$CG_TMP/psk"
chmod 600 "$CG_TMP/psk"
SOCK="$CG_TMP/run/cg.sock"
CONF="$CG_TMP/clustergate.json"
# config SNAT ENDPOINTS_JSON
config() {
	python3 - "$CG_TMP" "$1" "$2" <<'PY'
import json, sys
tmp, snat, endpoints = sys.argv[1], sys.argv[2] == "true", json.loads(sys.argv[3])
c = json.load(open("etc/clustergate.json"))
c["gateway"]["tunnel_interface"] = "ipsec0"
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/run/cg.sock"
del c["cluster"]["api"]
del c["metrics"]
c["nat"]["snat"] = snat
c["services"] = {"mode": "proxy", "static": [
    {"name": "web", "cluster_ip": "10.0.58.158",
     "ports": [{"name": "http", "port": 80, "target_port": 8080}],
     "endpoints": endpoints},
    {"name": "empty", "cluster_ip": "10.0.58.159",
     "ports": [{"port": 443}], "endpoints": []}]}
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY
}
status() { $BIN/clustergate status --json -s "$SOCK"; }
nat_field() { status | python3 -c "import json,sys; d=json.load(sys.stdin)['nat']; print(eval('d' + sys.argv[1]))" "$1"; }
get() { ip netns exec "$OFFICE" curl -s --max-time 3 http://10.0.58.158/; }

config true '["10.0.0.13", "10.0.0.14"]'
ip netns exec "$GW" $BIN/clustergated -c "$CONF" 2> "$CG_TMP/daemon.log" &
DAEMON=$!
cg_track_pid $DAEMON
check "clustergated starts (control socket)" wait_for 30 test -S "$SOCK"
check "static service is served through the gateway's DNAT" wait_for 10 sh -c "ip netns exec $OFFICE curl -s --max-time 2 http://10.0.58.158/ | grep -q server="

for i in $(seq 1 20); do get; done > "$CG_TMP/spread.txt"
check "both static endpoints serve ($(sort "$CG_TMP/spread.txt" | uniq -c | tr -s ' \n' ' '))" \
	test "$(sort -u "$CG_TMP/spread.txt" | wc -l)" = 2
check "status nat: 2 service ports from static config" \
	test "$(nat_field "['service_ports']") $(nat_field "['services']")" = "2 static"
check "status nat: SNAT counter counts the traffic ($(nat_field "['counters']['snat_packets']"))" \
	test "$(nat_field "['counters']['snat_packets']")" -ge 100
check "status nat: last sync duration is reported ($(nat_field "['last_sync_ms']") ms)" \
	python3 -c "import sys; sys.exit(not 0 < float(sys.argv[1]) < 10000)" "$(nat_field "['last_sync_ms']")"
ip netns exec "$OFFICE" curl -s --max-time 2 http://10.99.0.1/ >/dev/null
check "status nat: policy drops counted ($(nat_field "['counters']['policy_drop_packets']"))" \
	test "$(nat_field "['counters']['policy_drop_packets']")" -ge 1

$BIN/clustergate status -s "$SOCK" > "$CG_TMP/status.txt"
check "clustergate status shows SNATed packets and bytes and policy drops" \
	sh -c "grep -Eq '^    snat_packets: [1-9]' '$CG_TMP/status.txt' &&
	       grep -Eq '^    snat_bytes: [1-9]' '$CG_TMP/status.txt' &&
	       grep -Eq '^    policy_drop_packets: [1-9]' '$CG_TMP/status.txt'"

# Reload: one endpoint and snat=false.
config false '["10.0.0.14"]'
ip -n "$EP2" route add 172.16.0.0/24 via 10.0.16.1 dev eth0
ip -n "$ROUTER" route add 172.16.0.0/24 via 10.0.16.5
kill -HUP $DAEMON
check "reload: only the remaining endpoint serves, seeing the office address" \
	wait_for 10 sh -c "ip netns exec $OFFICE curl -s --max-time 2 http://10.0.58.158/ | grep -qx 'peer=172.16.0.50 server=10.0.0.14'"
for i in $(seq 1 10); do get; done > "$CG_TMP/one.txt"
check "reload: all 10 requests go to 10.0.0.14" \
	test "$(grep -c 'server=10.0.0.14' "$CG_TMP/one.txt")" = 10

# A config the file checks accept but nat/ cannot program: refused, and the
# running table and traffic stay.
cp "$CONF" "$CG_TMP/good.json"
python3 - "$CONF" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["gateway"]["vpc_address"] = "0.0.0.0"
json.dump(c, open(sys.argv[1], "w"))
PY
ip netns exec "$GW" nft list table inet clustergate | grep -v packets > "$CG_TMP/table.before"
kill -HUP $DAEMON
check "reload nat cannot program: the log says why and that the table stays" \
	wait_for 10 grep -q "nat: vpc_address is empty (0.0.0.0); SNAT and ClusterIP ping replies need the gateway's VPC address; the running table was not changed" "$CG_TMP/daemon.log"
ip netns exec "$GW" nft list table inet clustergate | grep -v packets > "$CG_TMP/table.after"
check "... the table is unchanged" cmp -s "$CG_TMP/table.before" "$CG_TMP/table.after"
check "... status still shows nat, with the error ($(nat_field "['last_error']" | cut -c1-40)...)" \
	sh -c "$BIN/clustergate status --json -s '$SOCK' | grep -q 'vpc_address is empty'"
check "... and the service still answers" test -n "$(get)"
cp "$CG_TMP/good.json" "$CONF"
kill -HUP $DAEMON
check "a good reload clears the error" \
	wait_for 10 sh -c "test \"\$($BIN/clustergate status --json -s '$SOCK' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"nat\"][\"last_error\"])')\" = None"

# Stop: the table stays, traffic keeps flowing.
kill $DAEMON
wait $DAEMON
check "after clustergated stops, table inet clustergate is still there" \
	ip netns exec "$GW" nft list table inet clustergate >/dev/null
check "... and the service still answers" test -n "$(get)"

# Restart: the new clustergated finds its table in place and changes
# nothing (nft monitor stays silent), while a TCP connection stays open.
ip netns exec "$OFFICE" python3 "$HERE/long_client.py" 10.0.58.158 80 4 \
	> "$CG_TMP/long.txt" 2>&1 &
LONG=$!
ip netns exec "$GW" nft monitor > "$CG_TMP/monitor.txt" 2>&1 &
MONITOR=$!
cg_track_pid $MONITOR
sleep 0.5
ip netns exec "$GW" $BIN/clustergated -c "$CONF" 2> "$CG_TMP/daemon2.log" &
DAEMON=$!
cg_track_pid $DAEMON
check "restarted clustergated answers" wait_for 30 test -S "$SOCK"
sleep 1
kill $MONITOR
check "restart: no ruleset change ($(grep -vc '^#' "$CG_TMP/monitor.txt") events)" \
	test "$(grep -vc '^#' "$CG_TMP/monitor.txt")" = 0
wait $LONG
check "restart: an open TCP connection kept working ($(tail -1 "$CG_TMP/long.txt"))" \
	test $? -eq 0
kill $DAEMON
wait $DAEMON

out=$(ip netns exec "$GW" $BIN/clustergate cleanup -s "$SOCK" 2>&1)
check "clustergate cleanup reports the table ($(grep nat <<<"$out"))" \
	grep -q '^nat: removed 1 object(s)$' <<<"$out"
check "... and it is gone" \
	bash -c "! ip netns exec $GW nft list table inet clustergate 2>/dev/null"
finish
