#!/bin/bash
# nat/: SNAT, access policy, MSS clamping, diffs and atomic applies, in
# network namespaces. The tunnel is simulated by a veth named ipsec0 (the
# name of strongSwan's kernel-libipsec TUN device), so no IKE is needed.
#
#   office (172.16.0.50, 192.168.50.5) --ipsec0-- gw --eth0 10.0.16.5--
#   cluster (10.0.16.1; pod 10.0.0.13, non-cluster 10.99.0.1 on lo)
. "$(dirname "$0")/../lib.sh"

TOOL=build/bin/nat_apply_tool
HERE=$(dirname "$0")
OFFICE=$(cg_ns office)
GW=$(cg_ns gw)
CLUSTER=$(cg_ns cluster)

cg_link "$OFFICE" eth0 "$GW" ipsec0
cg_link "$GW" eth0 "$CLUSTER" eth0
ip -n "$OFFICE" addr add 172.16.0.50/24 dev eth0
ip -n "$OFFICE" addr add 192.168.50.5/24 dev eth0
ip -n "$OFFICE" route add default via 172.16.0.1
ip -n "$GW" addr add 172.16.0.1/24 dev ipsec0
ip -n "$GW" addr add 192.168.50.1/24 dev ipsec0
ip -n "$GW" addr add 10.0.16.5/20 dev eth0
ip -n "$GW" route add default via 10.0.16.1
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
ip -n "$CLUSTER" addr add 10.0.16.1/20 dev eth0
ip -n "$CLUSTER" addr add 10.0.0.13/32 dev lo
ip -n "$CLUSTER" addr add 10.99.0.1/32 dev lo
# Only for snat=false: the VPC routes office subnets to the gateway.
ip -n "$CLUSTER" route add 172.16.0.0/24 via 10.0.16.5
ip -n "$CLUSTER" route add 192.168.50.0/24 via 10.0.16.5

cg_bg "$CLUSTER" python3 "$HERE/echo_server.py" 10.0.0.13 8080
cg_bg "$CLUSTER" python3 "$HERE/echo_server.py" 10.99.0.1 8080
cg_bg "$OFFICE" python3 "$HERE/echo_server.py" 172.16.0.50 8080

# state FILE SNAT OFFICE_SUBNETS [EXTRA_POLICY_JSON]
state() {
	cat > "$1" <<JSON
{"policy": {"tunnel_interface": "ipsec0", "vpc_interface": "eth0",
  "vpc_address": "${VPC_ADDRESS-10.0.16.5}", "snat": $2, "tunnel_mtu": 1400,
  "office_subnets": [$3],
  "cluster_destinations": ["10.0.56.0/21", "10.0.0.0/20"]${4:-}},
 "services": []}
JSON
}
apply() { ip netns exec "$GW" "$TOOL" apply "$@"; }
counter() {
	ip netns exec "$GW" "$TOOL" counters |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
curl_from() { ip netns exec "$1" curl -s --max-time "${3:-3}" "${@:4}" "$2"; }
rules_with_handles() {
	ip netns exec "$GW" nft -a list table inet clustergate |
		grep -v -e 'packets' -e 'elements' -e '^\s*[0-9]'
}

wait_for 5 ip netns exec "$CLUSTER" ss -ltn 'sport = :8080' | grep -q 10.0.0.13 || true
wait_for 5 curl_from "$CLUSTER" http://10.0.0.13:8080/ 1 >/dev/null

# An unrelated table in the same namespace, with a set and a counter.
ip netns exec "$GW" nft -f - <<'NFT'
table ip operator {
	set blocked {
		type ipv4_addr
		elements = { 198.18.0.1 }
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @blocked counter drop
	}
}
NFT
ip netns exec "$GW" nft list table ip operator > "$CG_TMP/operator.before"

state "$CG_TMP/a.json" true '"172.16.0.0/24"'
check "first apply creates the table" apply "$CG_TMP/a.json" >/dev/null

# --- SNAT ---------------------------------------------------------------
body=$(curl_from "$OFFICE" http://10.0.0.13:8080/)
check "office -> pod arrives from the VPC address (receiver: '$body')" \
	test "$body" = "peer=10.0.16.5 server=10.0.0.13"
snat=$(counter snat_packets)
check "SNAT counter counts the flow's packets ($snat)" test "$snat" -ge 5

# --- MSS clamping, both directions ---------------------------------------
ip netns exec "$CLUSTER" timeout 5 tcpdump -l -c 1 -nn -v -i eth0 \
	'tcp[tcpflags] == tcp-syn and port 8080' > "$CG_TMP/syn.txt" 2>/dev/null &
SYNDUMP=$!
ip netns exec "$OFFICE" timeout 5 tcpdump -l -c 1 -nn -v -i eth0 \
	'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' > "$CG_TMP/synack.txt" 2>/dev/null &
ACKDUMP=$!
sleep 1
curl_from "$OFFICE" http://10.0.0.13:8080/ >/dev/null
wait $SYNDUMP $ACKDUMP
check "SYN to the cluster carries MSS 1360 ($(grep -o 'mss [0-9]*' "$CG_TMP/syn.txt"))" \
	grep -q 'mss 1360' "$CG_TMP/syn.txt"
check "SYN-ACK to the office carries MSS 1360 ($(grep -o 'mss [0-9]*' "$CG_TMP/synack.txt"))" \
	grep -q 'mss 1360' "$CG_TMP/synack.txt"

# --- access policy ----------------------------------------------------------
drops=$(counter policy_drop_packets)
check "office -> non-cluster address is dropped" \
	bash -c "! ip netns exec $OFFICE curl -s --max-time 2 http://10.99.0.1:8080/"
drops2=$(counter policy_drop_packets)
check "... and counted ($drops -> $drops2)" test "$drops2" -gt "$drops"

check "non-office source on the tunnel side is dropped" \
	bash -c "! ip netns exec $OFFICE curl -s --max-time 2 --interface 192.168.50.5 http://10.0.0.13:8080/"
drops3=$(counter policy_drop_packets)
check "... and counted ($drops2 -> $drops3)" test "$drops3" -gt "$drops2"

check "a new connection from the cluster to the office is dropped" \
	bash -c "! ip netns exec $CLUSTER curl -s --max-time 2 http://172.16.0.50:8080/"
drops4=$(counter policy_drop_packets)
check "... and counted ($drops3 -> $drops4)" test "$drops4" -gt "$drops3"

# --- same state twice: no kernel change --------------------------------------
ip netns exec "$GW" nft monitor > "$CG_TMP/monitor.same" 2>&1 &
MONITOR=$!
cg_track_pid $MONITOR
sleep 0.5
rules_with_handles > "$CG_TMP/rules.before"
out=$(apply "$CG_TMP/a.json")
sleep 0.5
kill $MONITOR
check "same state again: tool reports no kernel change" \
	grep -q '"kernel_changed": false' <<<"$out"
check "same state again: nft monitor saw no event ($(wc -l < "$CG_TMP/monitor.same") lines)" \
	test ! -s "$CG_TMP/monitor.same"
rules_with_handles > "$CG_TMP/rules.after"
check "same state again: rules and handles unchanged" \
	cmp -s "$CG_TMP/rules.before" "$CG_TMP/rules.after"

# --- a different state: only the difference ----------------------------------
state "$CG_TMP/b.json" true '"172.16.0.0/24", "172.16.5.0/24"'
ip netns exec "$GW" nft monitor > "$CG_TMP/monitor.diff" 2>&1 &
MONITOR=$!
cg_track_pid $MONITOR
sleep 0.5
out=$(apply "$CG_TMP/b.json")
sleep 0.5
kill $MONITOR
grep -v '^#' "$CG_TMP/monitor.diff" > "$CG_TMP/monitor.events"
check "new office subnet: exactly one change ($(tr '\n' ' ' < "$CG_TMP/monitor.events"))" \
	test "$(grep -c . "$CG_TMP/monitor.events")" = 1
check "... adding 172.16.5.0/24 to office_subnets" \
	grep -q 'element inet clustergate office_subnets { 172.16.5.0/24 }' "$CG_TMP/monitor.events"
rules_with_handles > "$CG_TMP/rules.after"
check "... no rule was touched (handles unchanged)" \
	cmp -s "$CG_TMP/rules.before" "$CG_TMP/rules.after"

# --- an open TCP connection survives applies (a diff and a full rebuild) ------
ip netns exec "$OFFICE" python3 "$HERE/long_client.py" 10.0.0.13 8080 4 \
	> "$CG_TMP/long.txt" 2>&1 &
LONG=$!
sleep 1
state "$CG_TMP/c.json" true '"172.16.0.0/24"' ', "dnat_buckets": 6'
apply "$CG_TMP/a.json" > /dev/null
sleep 0.5
apply "$CG_TMP/c.json" > "$CG_TMP/rebuild.txt"
sleep 0.5
apply "$CG_TMP/a.json" > /dev/null
wait $LONG
check "open TCP connection kept working across 3 applies ($(tail -1 "$CG_TMP/long.txt"))" \
	test $? -eq 0 -a -n "$(grep -x 'echoed \([0-9]*\) of \1' "$CG_TMP/long.txt")"
check "... one of which rebuilt the whole table" \
	grep -q '"table_rebuilt": true' "$CG_TMP/rebuild.txt"

# --- a bad desired state is refused, the table stays ---------------------------
ip netns exec "$GW" nft list table inet clustergate | grep -v packets > "$CG_TMP/table.before"
VPC_ADDRESS="" state "$CG_TMP/bad.json" true '"172.16.0.0/24"'
err=$(apply "$CG_TMP/bad.json" 2>&1)
check "empty vpc_address refused with a clear message: $err" \
	grep -q 'vpc_address is empty (0.0.0.0).*the running table was not changed' <<<"$err"
ip netns exec "$GW" nft list table inet clustergate | grep -v packets > "$CG_TMP/table.after"
check "... and the table is unchanged" cmp -s "$CG_TMP/table.before" "$CG_TMP/table.after"
body=$(curl_from "$OFFICE" http://10.0.0.13:8080/)
check "... and traffic still flows ('$body')" test "$body" = "peer=10.0.16.5 server=10.0.0.13"

# --- snat=false keeps the office address ------------------------------------
state "$CG_TMP/nosnat.json" false '"172.16.0.0/24"'
apply "$CG_TMP/nosnat.json" > /dev/null
body=$(curl_from "$OFFICE" http://10.0.0.13:8080/)
check "snat=false: the receiver sees the office address ('$body')" \
	test "$body" = "peer=172.16.0.50 server=10.0.0.13"

# --- allow list narrows one office subnet to a port ----------------------------
ip -n "$OFFICE" addr add 172.16.0.60/24 dev eth0
cg_bg "$CLUSTER" python3 "$HERE/echo_server.py" 10.0.0.13 9090
state "$CG_TMP/allow.json" true '"172.16.0.0/24"' \
	', "allow": [{"office_subnet": "172.16.0.60/32", "ports": [9090]}]'
apply "$CG_TMP/allow.json" > /dev/null
wait_for 5 curl_from "$OFFICE" http://10.0.0.13:9090/ 1 --interface 172.16.0.60 >/dev/null
check "allow list: 172.16.0.60 reaches port 9090" \
	test -n "$(curl_from "$OFFICE" http://10.0.0.13:9090/ 3 --interface 172.16.0.60)"
check "allow list: 172.16.0.60 no longer reaches port 8080" \
	test -z "$(curl_from "$OFFICE" http://10.0.0.13:8080/ 2 --interface 172.16.0.60)"
check "allow list: other office hosts keep every port" \
	test -n "$(curl_from "$OFFICE" http://10.0.0.13:8080/ 3 --interface 172.16.0.50)"

# --- XFRM data path: tunnel traffic recognised by its IPsec policy ------------
XFRM=$(cg_ns xfrm)
sed 's/"tunnel_interface": "ipsec0"/"tunnel_interface": null/' "$CG_TMP/a.json" > "$CG_TMP/xfrm.json"
ip netns exec "$XFRM" "$TOOL" apply "$CG_TMP/xfrm.json" > /dev/null
check "tunnel_interface null matches 'meta ipsec exists'" \
	bash -c "ip netns exec $XFRM nft list chain inet clustergate forward | grep -q 'meta ipsec exists jump from_office'"

# --- cleanup removes only our table ----------------------------------------
check "cleanup succeeds" ip netns exec "$GW" "$TOOL" cleanup
check "cleanup removed table inet clustergate" \
	bash -c "! ip netns exec $GW nft list table inet clustergate 2>/dev/null"
ip netns exec "$GW" nft list table ip operator > "$CG_TMP/operator.after"
check "the unrelated table is untouched ($(grep -c . "$CG_TMP/operator.after") lines)" \
	test -s "$CG_TMP/operator.before" -a -s "$CG_TMP/operator.after"
check "... byte for byte" cmp -s "$CG_TMP/operator.before" "$CG_TMP/operator.after"
finish
