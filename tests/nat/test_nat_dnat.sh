#!/bin/bash
# nat/: proxy-mode service DNAT in network namespaces.
#
#   office 172.16.0.50 --ipsec0-- gw (10.0.16.5) --eth0-- router 10.0.16.1
#   router --veth-- ep1 (pod 10.0.0.13), router --veth-- ep2 (pod 10.0.0.14)
# Services: 10.0.58.158:80 random over both pods, 10.0.58.160:80 with
# ClientIP affinity (timeout 10800 s), 10.0.58.161:80 with ClientIP affinity
# timing out after 2 s, 10.0.58.159:443 without endpoints.
. "$(dirname "$0")/../lib.sh"

TOOL=build/bin/nat_apply_tool
. tests/nat/topology.sh
proxy_topology 10.0.0.13 10.0.0.14

# state FILE SERVICES_JSON
state() {
	cat > "$1" <<JSON
{"policy": {"tunnel_interface": "ipsec0", "vpc_interface": "eth0",
  "vpc_address": "10.0.16.5", "snat": true, "tunnel_mtu": 1400,
  "office_subnets": ["172.16.0.0/24"],
  "cluster_destinations": ["10.0.56.0/21", "10.0.0.0/20"]},
 "services": [$2]}
JSON
}
both='"10.0.0.13:8080", "10.0.0.14:8080"'
random_svc() { echo "{\"name\": \"default/web:http\", \"cluster_ip\": \"10.0.58.158\", \"protocol\": \"tcp\", \"port\": 80, \"endpoints\": [$1]}"; }
affinity_svc='{"name": "default/sticky:http", "cluster_ip": "10.0.58.160", "protocol": "tcp", "port": 80, "affinity": true, "endpoints": ['"$both"']}'
short_svc='{"name": "default/brief:http", "cluster_ip": "10.0.58.161", "protocol": "tcp", "port": 80, "affinity": true, "affinity_timeout": 2, "endpoints": ['"$both"']}'
empty_svc='{"name": "default/empty:https", "cluster_ip": "10.0.58.159", "protocol": "tcp", "port": 443, "endpoints": []}'
apply() { ip netns exec "$GW" "$TOOL" apply "$@"; }
get() { ip netns exec "$OFFICE" curl -s --max-time 3 "$1"; }

wait_for 5 ip netns exec "$EP1" curl -s --max-time 1 http://10.0.0.13:8080/ >/dev/null
wait_for 5 ip netns exec "$EP2" curl -s --max-time 1 http://10.0.0.14:8080/ >/dev/null

state "$CG_TMP/a.json" "$(random_svc "$both"), $affinity_svc, $short_svc, $empty_svc"
check "apply three services" apply "$CG_TMP/a.json" >/dev/null

# --- random balancing ------------------------------------------------------
for i in $(seq 1 20); do get http://10.0.58.158/; done > "$CG_TMP/random.txt"
n13=$(grep -c 'server=10.0.0.13' "$CG_TMP/random.txt")
n14=$(grep -c 'server=10.0.0.14' "$CG_TMP/random.txt")
check "20 requests to the ClusterIP all answered ($((n13 + n14)))" test $((n13 + n14)) = 20
check "both endpoints serve within 20 tries ($n13 / $n14)" test "$n13" -gt 0 -a "$n14" -gt 0
check "endpoints see the gateway's VPC address" \
	test "$(grep -c 'peer=10.0.16.5 ' "$CG_TMP/random.txt")" = 20

# --- ClientIP affinity -------------------------------------------------------
for i in $(seq 1 12); do get http://10.0.58.160/; done > "$CG_TMP/sticky.txt"
check "affinity: 12 requests answered" test "$(grep -c server= "$CG_TMP/sticky.txt")" = 12
check "affinity: one client stays on one endpoint ($(sort "$CG_TMP/sticky.txt" | uniq -c | tr -s ' \n' ' '))" \
	test "$(sort -u "$CG_TMP/sticky.txt" | wc -l)" = 1

# --- ClientIP affinity with a timeout ---------------------------------------------
for i in $(seq 1 12); do get http://10.0.58.161/; done > "$CG_TMP/brief.txt"
check "affinity 2 s: 12 quick requests stay on one endpoint ($(sort "$CG_TMP/brief.txt" | uniq -c | tr -s ' \n' ' '))" \
	test "$(grep -c server= "$CG_TMP/brief.txt")" = 12 -a "$(sort -u "$CG_TMP/brief.txt" | wc -l)" = 1
check "... the client's entry is in affinity_clients, expiring within 2 s" \
	bash -c "ip netns exec $GW nft list map inet clustergate affinity_clients | grep -q '172.16.0.50 . 10.0.58.161 . tcp . 80 timeout 2s expires [0-9.]*m*s'"
# after the timeout, a new connection is a fresh random choice: a few
# rounds of (wait past the timeout, connect) see both endpoints
cp "$CG_TMP/brief.txt" "$CG_TMP/expired.txt"
for i in $(seq 1 20); do
	test "$(sort -u "$CG_TMP/expired.txt" | wc -l)" = 2 && break
	sleep 2.3
	get http://10.0.58.161/ >> "$CG_TMP/expired.txt"
done
check "... after the timeout new connections spread: both endpoints within $i rounds ($(sort "$CG_TMP/expired.txt" | uniq -c | tr -s ' \n' ' '))" \
	test "$(sort -u "$CG_TMP/expired.txt" | wc -l)" = 2

# --- no endpoints: rejected, fast -------------------------------------------
start=$(date +%s%N)
err=$(ip netns exec "$OFFICE" curl -sS --max-time 5 https://10.0.58.159/ 2>&1)
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "service without endpoints: curl cannot connect, exit 7 ($status: $err)" \
	test "$status" = 7
check "... within a second (${ms} ms)" test "$ms" -lt 1000
err=$(ip netns exec "$OFFICE" python3 -c '
import socket
try:
    socket.create_connection(("10.0.58.159", 443), 5)
except OSError as e:
    print(e)' 2>&1)
check "... the connect() error is Connection refused ($err)" \
	grep -q 'Connection refused' <<<"$err"
rejects=$(ip netns exec "$GW" "$TOOL" counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["service_reject_packets"])')
check "... and counted in service_reject ($rejects)" test "$rejects" -ge 1

# --- ping ---------------------------------------------------------------------
out=$(ip netns exec "$OFFICE" ping -c 2 -W 1 10.0.58.158 2>&1)
check "ping to a known ClusterIP is answered by it" \
	grep -q 'bytes from 10.0.58.158' <<<"$out"
out=$(ip netns exec "$OFFICE" ping -c 2 -W 1 10.0.58.159 2>&1)
check "ping to a ClusterIP without endpoints is answered too" \
	grep -q 'bytes from 10.0.58.159' <<<"$out"
out=$(ip netns exec "$OFFICE" ping -c 2 -W 1 10.0.58.200 2>&1)
check "ping to an unknown address in the service CIDR is not answered" \
	bash -c "! grep -q 'bytes from' <<<'$out'"

# --- one endpoint change touches only that service's elements --------------------
state "$CG_TMP/b.json" "$(random_svc '"10.0.0.13:8080"'), $affinity_svc, $short_svc, $empty_svc"
ip netns exec "$GW" nft monitor > "$CG_TMP/monitor.txt" 2>&1 &
MONITOR=$!
cg_track_pid $MONITOR
sleep 0.5
out=$(apply "$CG_TMP/b.json")
sleep 0.5
kill $MONITOR
grep -v '^#' "$CG_TMP/monitor.txt" > "$CG_TMP/events.txt"
check "endpoint removed: 6 buckets moved = 6 deletes + 6 adds ($(grep -o '"elements_[a-z]*": [0-9]*' <<<"$out" | tr '\n' ' '))" \
	test "$(grep -c . "$CG_TMP/events.txt")" = 12
check "... all in service_backends, all for 10.0.58.158 . tcp . 80" \
	test "$(grep -c 'service_backends { 10.0.58.158 . tcp . 80 \. [0-9]* : 10.0.0.1[34] . 8080 }' "$CG_TMP/events.txt")" = 12
for i in $(seq 1 10); do get http://10.0.58.158/; done > "$CG_TMP/one.txt"
check "... and every request now goes to 10.0.0.13" \
	test "$(grep -c 'server=10.0.0.13' "$CG_TMP/one.txt")" = 10
for i in $(seq 1 6); do get http://10.0.58.160/; done > "$CG_TMP/sticky2.txt"
check "... the affinity service still answers from the same endpoint" \
	test "$(sort -u "$CG_TMP/sticky.txt" "$CG_TMP/sticky2.txt" | wc -l)" = 1

# --- the same services again: no kernel change ----------------------------------
out=$(apply "$CG_TMP/b.json")
check "same services again: no kernel change" grep -q '"kernel_changed": false' <<<"$out"

# --- endpoints come back; a service gains endpoints ------------------------------
state "$CG_TMP/c.json" "$(random_svc "$both"), $affinity_svc, $short_svc, $(sed 's/"endpoints": \[\]/"endpoints": ["10.0.0.14:8080"]/' <<<"$empty_svc")"
apply "$CG_TMP/c.json" > /dev/null
wait_for 5 get http://10.0.58.159:443/ > /dev/null 2>&1 || true
body=$(ip netns exec "$OFFICE" curl -s --max-time 3 http://10.0.58.159:443/)
check "a service that gains an endpoint is served ('$body')" \
	test "$body" = "peer=10.0.16.5 server=10.0.0.14"
check "... and is no longer in rejected_services" \
	bash -c "! ip netns exec $GW nft list set inet clustergate rejected_services | grep -q 10.0.58.159"

# --- affinity: the pinned endpoint goes, the client moves at once ---------------
pinned=$(sort -u "$CG_TMP/sticky.txt" | grep -o 'server=[0-9.]*' | cut -d= -f2)
other=10.0.0.13; test "$pinned" = 10.0.0.13 && other=10.0.0.14
state "$CG_TMP/d.json" "$(random_svc "$both"), $(sed "s/$both/\"$other:8080\"/" <<<"$affinity_svc"), $short_svc"
# the affinity rule passes a token through the packet mark: a packet
# must leave it with the mark it came with (0x42, set by our probe table)
ip netns exec "$GW" nft -f - <<'NFT'
table inet cgprobe {
	counter kept { }
	counter changed { }
	chain mark_in { type filter hook prerouting priority -150; iifname "ipsec0" meta mark set 0x42; }
	chain seen { type filter hook forward priority 10; iifname "ipsec0" meta mark 0x42 counter name kept; iifname "ipsec0" meta mark != 0x42 counter name changed; }
}
NFT
apply "$CG_TMP/d.json" > /dev/null
for i in $(seq 1 6); do get http://10.0.58.160/; done > "$CG_TMP/moved.txt"
check "affinity: pinned endpoint $pinned removed: every request at once goes to $other" \
	test "$(grep -c "server=$other" "$CG_TMP/moved.txt")" = 6
kept=$(ip netns exec "$GW" nft list counter inet cgprobe kept | grep -o 'packets [0-9]*')
changed=$(ip netns exec "$GW" nft list counter inet cgprobe changed | grep -o 'packets [0-9]*')
check "... and the packets keep their own mark (kept: $kept, changed: $changed)" \
	test "$changed" = "packets 0" -a "$kept" != "packets 0"
out=$(apply "$CG_TMP/d.json")
check "... the same services again: no kernel change" grep -q '"kernel_changed": false' <<<"$out"

# --- too many different affinity timeouts: refused, table kept --------------------
many=""
for t in 1 2 3 4 5 6 7 8; do
	many="$many, $(sed "s/10.0.58.161/10.0.59.$t/; s/brief/t$t/; s/\"affinity_timeout\": 2/\"affinity_timeout\": $t/" <<<"$short_svc")"
done
state "$CG_TMP/many.json" "$(random_svc "$both")$many"
ip netns exec "$GW" nft list table inet clustergate | grep -v "expires\|packets" > "$CG_TMP/table.before"
err=$(apply "$CG_TMP/many.json" 2>&1)
check "a ninth affinity timeout is refused, naming the service: $err" \
	grep -q 'service default/t8:http: sessionAffinity timeout 8 s would make more than 8 different affinity timeouts; the running table was not changed' <<<"$err"
ip netns exec "$GW" nft list table inet clustergate | grep -v "expires\|packets" > "$CG_TMP/table.after"
check "... and the table is unchanged" cmp -s "$CG_TMP/table.before" "$CG_TMP/table.after"
finish
