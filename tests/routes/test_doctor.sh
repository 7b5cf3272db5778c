#!/bin/bash
# clustergate doctor in route mode, run in the gateway namespace. Node n3
# plays a node without a local backend: it DNATs the ClusterIP to n1
# without SNAT, so n1 answers the gateway directly and the handshake
# through n3 never completes (the incident). With masquerading on n3 it
# does. doctor must say which node fails and what to do.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/config.sh"
BIN=build/bin
CONF="$CG_TMP/clustergate.json"

topology_up || { fail "topology"; finish; }
route_config "$CONF"
doctor() { ip netns exec "$GW" $BIN/clustergate doctor -c "$CONF" --timeout 1000 "$@"; }

out=$(doctor); rc=$?
echo "$out" | sed 's/^/# /'
check "every node answers: exit 0" test $rc -eq 0
check "it tested the config's nodes" grep -q "^nodes: 3 from the config" <<<"$out"
check "it tested nginx through n3" \
	grep -q "^  via n3 (10.0.32.25): ok: handshake completed" <<<"$out"
check "verdict OK" grep -qx "verdict: OK: 1 service port(s) answer symmetrically through every node" <<<"$out"

# n3 loses its local backend: DNAT to n1, no SNAT (kube-proxy without
# masquerading).
N3=${NODE_NS[3]}
ip -n "$N3" addr del "$SERVICE_IP/32" dev lo
ip netns exec "$N3" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$N3" nft -f - <<NFT
table ip kp {
	chain pre { type nat hook prerouting priority dstnat;
		ip daddr $SERVICE_IP tcp dport 80 dnat to 10.0.32.23:80; }
	chain post { type nat hook postrouting priority srcnat; }
}
NFT
# Office traffic through the gateway (conntrack on, the service CIDR
# routed over the three nodes): the attempts that the multipath hash sends
# via n3 never see a reply.
ip netns exec "$GW" build/tests/routes_tool sync 254 \
	10.0.56.0/21=10.0.32.23,10.0.32.24,10.0.32.25 >/dev/null
ip netns exec "$GW" nft add table ip track
ip netns exec "$GW" nft add chain ip track seen '{ type filter hook forward priority 0; }'
ip netns exec "$GW" nft add rule ip track seen ct state new counter
for i in $(seq 1 20); do
	ip netns exec "$CLIENT" curl -s -o /dev/null --max-time 0.5 "http://$SERVICE_IP/"
done
out=$(doctor --service "$SERVICE_IP:80"); rc=$?
echo "$out" | sed 's/^/# /'
check "doctor counts the office's unanswered connections" grep -Eq \
	"^conntrack: [1-9][0-9]* of 2[0-9] connections to 10.0.56.0/21 never saw a reply \[UNREPLIED\]$" <<<"$out"
check "asymmetric return: exit 1" test $rc -eq 1
check "n1 and n2 answer" test "$(grep -c '^  via n[12] .*: ok: ' <<<"$out")" = 2
check "n3 fails with no answer" \
	grep -qx "  via n3 (10.0.32.25): FAIL: no answer within 1000 ms" <<<"$out"
check "the verdict names the problem" \
	grep -qx "verdict: ASYMMETRIC: 1 service port(s) do not answer through every node." <<<"$out"
check "and tells the operator to use proxy mode" \
	grep -q 'set services.mode to "proxy"' <<<"$out"
check "or to enable kube-proxy masquerading" \
	grep -q "masqueradeAll: true, or set" <<<"$out"
check "the probe's rule is gone" \
	test "$(ip -n "$GW" -j rule | jq '[.[] | select(.priority == 97)] | length')" = 0
check "the probe's pinned route is gone" \
	test "$(ip -n "$GW" -j route show table 9797 | jq length)" = 0

# kube-proxy masquerades on n3: the return path is symmetric again.
ip netns exec "$N3" nft add rule ip kp post ip daddr 10.0.32.23 masquerade
out=$(doctor --service "$SERVICE_IP:80"); rc=$?
check "with masquerading on n3 the verdict is OK" test $rc -eq 0 -a \
	"$(tail -1 <<<"$out")" = "verdict: OK: 1 service port(s) answer symmetrically through every node"

# Nothing answers at all: not a return-path problem.
out=$(doctor --service 10.0.58.159:81); rc=$?
check "a dead service is UNREACHABLE, not ASYMMETRIC" test $rc -eq 1 -a \
	"$(tail -1 <<<"$out")" = "verdict: UNREACHABLE: 1 service port(s) answer through no node and no endpoint"
finish
