# Route-mode test topology (sourced after tests/lib.sh).
#
#   client 172.16.0.50 --- 172.16.0.1 [gw] br0 10.0.32.5/20 --+-- n1 10.0.32.23
#                                                              +-- n2 10.0.32.24
#                                                              +-- n3 10.0.32.25
#
# Each node serves /healthz on 10256 (node_server.py health) and answers
# on the ClusterIP 10.0.58.158:80 (held on its lo) with its own name, like
# kube-proxy sending the Service to a local backend. Defines GW, CLIENT,
# NODE_NS[1..3], NODE_IP[1..3], HEALTH_PID[1..3], SERVICE_IP.
TOPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVICE_IP=10.0.58.158
NODE_IP=( "" 10.0.32.23 10.0.32.24 10.0.32.25 )
NODE_NS=( "" )
HEALTH_PID=( "" )

topology_up() {
	GW=$(cg_ns gw) && CLIENT=$(cg_ns client) || return 1
	ip -n "$GW" link add br0 type bridge && ip -n "$GW" link set br0 up
	ip -n "$GW" addr add 10.0.32.5/20 dev br0
	cg_link "$CLIENT" eth0 "$GW" office0
	ip -n "$CLIENT" addr add 172.16.0.50/24 dev eth0
	ip -n "$CLIENT" route add default via 172.16.0.1
	ip -n "$GW" addr add 172.16.0.1/24 dev office0
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
	# Spread flows by ports too, so one client's requests reach every node.
	ip netns exec "$GW" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	for i in 1 2 3; do
		NODE_NS[$i]=$(cg_ns "n$i") || return 1
		cg_link "$GW" "vn$i" "${NODE_NS[$i]}" eth0
		ip -n "$GW" link set "vn$i" master br0
		ip -n "${NODE_NS[$i]}" addr add "${NODE_IP[$i]}/20" dev eth0
		ip -n "${NODE_NS[$i]}" addr add "$SERVICE_IP/32" dev lo
		ip -n "${NODE_NS[$i]}" route add 172.16.0.0/24 via 10.0.32.5
		cg_bg "${NODE_NS[$i]}" python3 "$TOPO_DIR/node_server.py" service "n$i" 80
		health_start "$i"
	done
	for i in 1 2 3; do
		wait_for 10 ip netns exec "${NODE_NS[$i]}" \
			curl -sf -o /dev/null "http://${NODE_IP[$i]}:10256/healthz" || return 1
	done
}

health_start() {
	cg_bg "${NODE_NS[$1]}" python3 "$TOPO_DIR/node_server.py" health 10256
	HEALTH_PID[$1]=$CG_LAST_PID
}

health_stop() {
	kill "${HEALTH_PID[$1]}" 2>/dev/null
	wait "${HEALTH_PID[$1]}" 2>/dev/null
}

# group_members: the gateway addresses of the service route's group, sorted.
group_members() {
	ip -n "$GW" -j route show table "${ROUTE_TABLE:-254}" "10.0.56.0/21" |
		jq -r '.[0].nexthops[]?.gateway // empty, .[0].gateway // empty' | sort | tr '\n' ' '
}

# group_id: the nexthop id the service route points at.
group_id() {
	ip -n "$GW" -j route show table "${ROUTE_TABLE:-254}" "10.0.56.0/21" | jq -r '.[0].nhid // empty'
}
