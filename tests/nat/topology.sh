# The proxy-mode test topology shared by the nat/ and Kubernetes tests.
# Source it after tests/lib.sh, then call:
#
#   proxy_topology EP1_ADDRESS EP2_ADDRESS
#
# office (172.16.0.50) --ipsec0-- gw (172.16.0.1 | 10.0.16.5 on eth0)
#   --eth0-- router (10.0.16.1) --ep1/ep2-- two endpoint namespaces, each
#   serving tests/nat/echo_server.py on :8080 from its address.
# The gateway's office side is a veth named like kernel-libipsec's TUN
# device, so no strongSwan is needed. Sets OFFICE GW ROUTER EP1 EP2.
proxy_topology() {
	OFFICE=$(cg_ns office)
	GW=$(cg_ns gw)
	ROUTER=$(cg_ns router)
	EP1=$(cg_ns ep1)
	EP2=$(cg_ns ep2)
	cg_link "$OFFICE" eth0 "$GW" ipsec0
	cg_link "$GW" eth0 "$ROUTER" eth0
	cg_link "$ROUTER" ep1 "$EP1" eth0
	cg_link "$ROUTER" ep2 "$EP2" eth0
	ip -n "$OFFICE" addr add 172.16.0.50/24 dev eth0
	ip -n "$OFFICE" route add default via 172.16.0.1
	ip -n "$GW" addr add 172.16.0.1/24 dev ipsec0
	ip -n "$GW" addr add 10.0.16.5/20 dev eth0
	ip -n "$GW" route add default via 10.0.16.1
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$ROUTER" addr add 10.0.16.1/20 dev eth0
	ip -n "$ROUTER" route add "$1/32" dev ep1
	ip -n "$ROUTER" route add "$2/32" dev ep2
	ip netns exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1
	_topology_endpoint "$EP1" "$1"
	_topology_endpoint "$EP2" "$2"
}

_topology_endpoint() {
	ip -n "$1" addr add "$2/32" dev eth0
	ip -n "$1" route add 10.0.16.1/32 dev eth0
	ip -n "$1" route add default via 10.0.16.1 dev eth0
	cg_bg "$1" python3 tests/nat/echo_server.py "$2" 8080
}
