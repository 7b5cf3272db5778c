# The incident's topology in network namespaces (DESIGN.md, "The machines
# here, and the lab"). Sourced by tests/lab/lab.sh after tests/lib.sh.
#
#  client 172.16.0.50 -- office gw 172.16.0.1 | 198.51.100.10
#        -- internet 198.51.100.1 | 203.0.113.1 --
#  cloud gw 203.0.113.10 | eth0 10.0.16.5 (NAT/LB subnet)
#                        | eth1 10.0.32.5 (node subnet, route mode only)
#  VPC router: one veth port per VM NIC, per-subnet route tables, and the
#  cloud's per-NIC session tables that drop replies to unseen requests
#  node A eth0 10.0.32.23, eth1 10.0.0.10 (pod ENI) -- pod 10.0.0.13
#  node B eth0 10.0.32.24
#
# Interface names inside the VPC router are the VM NIC they face:
#   gw0 = cloud gw eth0, gw1 = cloud gw eth1, a0 = node A eth0,
#   b0 = node B eth0, a1 = node A eth1 (the pod's ENI).

LAB_SERVICE_IP=10.0.58.158
LAB_SERVICE_CIDR=10.0.56.0/21
LAB_POD_IP=10.0.0.13
LAB_NODE_A=10.0.32.23
LAB_NODE_B=10.0.32.24
LAB_CLIENT_IP=172.16.0.50
LAB_OFFICE_CIDR=172.16.0.0/24
LAB_GW_VPC_IP=10.0.16.5
LAB_GW_NODE_IP=10.0.32.5

# VPC route tables, one per subnet, and two that stand for "a frame sent
# to node A's / node B's MAC" on the cloud gateway's node-subnet port.
LAB_TABLE_NATLB=16
LAB_TABLE_NODES=32
LAB_TABLE_PODS=10
LAB_TABLE_TO_A=123
LAB_TABLE_TO_B=124

LAB_PYTHON=/usr/bin/python3
[ -x "$LAB_PYTHON" ] || LAB_PYTHON=python3

# lab_names: the namespace names for this run (tests/lib.sh prefix).
lab_names() {
	NS_CLIENT=${CG_PREFIX}client
	NS_OFFICE=${CG_PREFIX}office
	NS_INET=${CG_PREFIX}inet
	NS_GW=${CG_PREFIX}gw
	NS_VPC=${CG_PREFIX}vpc
	NS_NODEA=${CG_PREFIX}nodea
	NS_NODEB=${CG_PREFIX}nodeb
	NS_POD=${CG_PREFIX}pod
	LAB_NAMESPACES="$NS_CLIENT $NS_OFFICE $NS_INET $NS_GW $NS_VPC $NS_NODEA $NS_NODEB $NS_POD"
}

# lab_sysctl NS KEY=VALUE...
lab_sysctl() {
	_ns=$1; shift
	ip netns exec "$_ns" sysctl -qw "$@" >/dev/null
}

# A router namespace: forwarding on, no reverse-path filter (the VPC and
# the pod's source routing are asymmetric by design), no redirects.
lab_router() {
	lab_sysctl "$1" net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0
}

lab_make_namespaces() {
	for _n in client office inet gw vpc nodea nodeb pod; do
		cg_ns "$_n" >/dev/null || return 1
	done
	for _ns in $LAB_NAMESPACES; do
		lab_router "$_ns"
	done
}

lab_office_side() {
	cg_link "$NS_CLIENT" eth0 "$NS_OFFICE" lan || return 1
	cg_link "$NS_OFFICE" wan "$NS_INET" office || return 1
	ip -n "$NS_CLIENT" addr add 172.16.0.50/24 dev eth0
	ip -n "$NS_CLIENT" route add default via 172.16.0.1
	ip -n "$NS_OFFICE" addr add 172.16.0.1/24 dev lan
	ip -n "$NS_OFFICE" addr add 198.51.100.10/24 dev wan
	ip -n "$NS_OFFICE" route add default via 198.51.100.1
	ip -n "$NS_INET" addr add 198.51.100.1/24 dev office
}

lab_cloud_gateway() {
	cg_link "$NS_GW" pub "$NS_INET" cloud || return 1
	cg_link "$NS_GW" eth0 "$NS_VPC" gw0 || return 1
	cg_link "$NS_GW" eth1 "$NS_VPC" gw1 || return 1
	ip -n "$NS_INET" addr add 203.0.113.1/24 dev cloud
	ip -n "$NS_GW" addr add 203.0.113.10/24 dev pub
	ip -n "$NS_GW" route add default via 203.0.113.1
	ip -n "$NS_GW" addr add "$LAB_GW_VPC_IP/20" dev eth0
	ip -n "$NS_GW" addr add "$LAB_GW_NODE_IP/20" dev eth1
	# eth1 (node subnet) exists only in the route-mode rows.
	ip -n "$NS_GW" link set eth1 down
	lab_gateway_vpc_via eth0
}

# lab_gateway_vpc_via eth0|eth1: which NIC the cloud gateway uses for the
# VPC (10.0.0.0/16). Route mode uses the node-subnet NIC, so that nodes
# answer it on-link and the VPC sees both directions on one port.
lab_gateway_vpc_via() {
	if [ "$1" = eth1 ]; then
		ip -n "$NS_GW" link set eth1 up
		ip -n "$NS_GW" route replace 10.0.0.0/16 via 10.0.32.1 dev eth1
	else
		ip -n "$NS_GW" route replace 10.0.0.0/16 via 10.0.16.1 dev eth0
		ip -n "$NS_GW" link set eth1 down
	fi
}

lab_nodes_and_pod() {
	cg_link "$NS_NODEA" eth0 "$NS_VPC" a0 || return 1
	cg_link "$NS_NODEA" eth1 "$NS_VPC" a1 || return 1
	cg_link "$NS_NODEB" eth0 "$NS_VPC" b0 || return 1
	cg_link "$NS_POD" eth0 "$NS_NODEA" veth-pod || return 1

	ip -n "$NS_NODEA" addr add "$LAB_NODE_A/20" dev eth0
	ip -n "$NS_NODEA" route add default via 10.0.32.1
	ip -n "$NS_NODEB" addr add "$LAB_NODE_B/20" dev eth0
	ip -n "$NS_NODEB" route add default via 10.0.32.1

	# The pod: its own namespace behind a veth, as VPC-native CNIs do.
	ip -n "$NS_POD" addr add "$LAB_POD_IP/32" dev eth0
	ip -n "$NS_POD" route add 169.254.1.1 dev eth0 scope link
	ip -n "$NS_POD" route add default via 169.254.1.1 dev eth0
	ip -n "$NS_NODEA" addr add 169.254.1.1/32 dev veth-pod
	ip -n "$NS_NODEA" route add "$LAB_POD_IP/32" dev veth-pod scope link

	# Node A's eth1 is the pod's ENI. Traffic the pod starts is
	# source-routed out eth1 into the pod subnet; replies to connections
	# that came in on eth0 go back out eth0 (connmark 0x80, as the AWS VPC
	# CNI does), so the backend node's own service traffic is symmetric.
	ip -n "$NS_NODEA" addr add 10.0.0.10/20 dev eth1
	ip -n "$NS_NODEA" route add default via 10.0.0.1 dev eth1 table 100
	ip -n "$NS_NODEA" rule add pref 1024 fwmark 0x80/0x80 lookup main
	ip -n "$NS_NODEA" rule add pref 1536 from "$LAB_POD_IP" lookup 100
	ip netns exec "$NS_NODEA" nft -f - <<-EOF || return 1
	table ip cni {
		chain prerouting {
			type filter hook prerouting priority mangle; policy accept;
			iifname "eth0" ct state new ct mark set ct mark | 0x80
			iifname "veth-pod" meta mark set ct mark
		}
	}
	EOF
	for _ns in "$NS_NODEA" "$NS_NODEB"; do
		lab_kube_proxy "$_ns" || return 1
	done
}

# kube-proxy, emulated: the ClusterIP is held on a port-less bridge (IPVS
# mode's kube-ipvs0), so the node answers ping for it; TCP to it is DNATed
# to the pod. Masquerading is off until lab_kube_proxy_masquerade on.
lab_kube_proxy() {
	ip -n "$1" link add kube-ipvs0 type bridge || return 1
	ip -n "$1" addr add "$LAB_SERVICE_IP/32" dev kube-ipvs0
	ip -n "$1" link set kube-ipvs0 up
	ip netns exec "$1" nft -f - <<-EOF
	table ip kube-proxy {
		chain services {
			type nat hook prerouting priority dstnat; policy accept;
			ip daddr $LAB_SERVICE_IP tcp dport 80 dnat to $LAB_POD_IP:80
		}
		chain masquerading {
			type nat hook postrouting priority srcnat; policy accept;
		}
	}
	EOF
}

# lab_kube_proxy_masquerade on|off: kube-proxy masqueradeAll on both nodes.
lab_kube_proxy_masquerade() {
	for _ns in "$NS_NODEA" "$NS_NODEB"; do
		ip netns exec "$_ns" nft flush chain ip kube-proxy masquerading
		if [ "$1" = on ]; then
			ip netns exec "$_ns" nft add rule ip kube-proxy \
				masquerading ct status dnat masquerade
		fi
	done
}

# Servers: nginx stand-in on the pod, kube-proxy healthz on the nodes.
lab_servers() {
	cg_bg "$NS_POD" "$LAB_PYTHON" "$LAB_DIR/responder.py" \
		"nginx pod $LAB_POD_IP" 80 "$LAB_POD_IP" \
		>>"$LAB_LOGS/pod-http.log" 2>&1
	for _ns in "$NS_NODEA" "$NS_NODEB"; do
		cg_bg "$_ns" "$LAB_PYTHON" "$LAB_DIR/responder.py" \
			"kube-proxy healthz" 10256 >/dev/null 2>&1
	done
	wait_for 10 ip netns exec "$NS_POD" sh -c "ss -ltn | grep -q ':80 '" &&
	wait_for 10 ip netns exec "$NS_NODEB" sh -c "ss -ltn | grep -q ':10256 '"
}

# lab_topology_up: every namespace, link, route and server, no tunnel.
lab_topology_up() {
	lab_names
	lab_make_namespaces &&
	lab_office_side &&
	lab_cloud_gateway &&
	lab_nodes_and_pod &&
	lab_vpc_router &&
	lab_servers
}
