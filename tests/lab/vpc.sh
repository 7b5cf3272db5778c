# The cloud VPC, emulated in one router namespace. Sourced by lab.sh.
#
# Each VM NIC has its own veth port here, named after the NIC it faces
# (gw0, gw1, a0, b0, a1). Three things make it behave like the VPC of the
# incident:
#
# 1. Per-subnet route tables: `ip rule iif PORT lookup TABLE`. The NAT/LB
#    subnet's table (16) is where the incident's route for the service CIDR
#    lives; the office route (rows without SNAT) is in every subnet table.
#
# 2. On-link delivery by MAC on the node subnet. A VM that routes via a
#    node's address on-link sends the frame to that node's NIC, whatever
#    the destination IP. The cloud gateway's node-subnet port (gw1) has a
#    macvlan per node (gw1a, gw1b) that answers ARP for that node only, and
#    frames addressed to it follow a table that sends everything to that
#    node (tables 123, 124). Other ports answer ARP by proxy.
#
# 3. Per-NIC session tables. A real VPC drops a reply whose request its NIC
#    never saw. Here each pair of ports gets its own conntrack zone (the
#    packet's ingress port and the egress port the route tables pick), with
#    nf_conntrack_tcp_loose=0, "ct state invalid drop" and a drop of non-SYN
#    TCP in ct state new, both counted in the named counter
#    reply_without_request. A reply that leaves by another port than its
#    request came in by meets an empty zone and is dropped and counted.
#    nftables' fib ignores `ip rule iif`, so each port also marks its
#    packets with its table number and an equal fwmark rule points at the
#    same table; fib then finds the egress port the real routing will use.

# port -> route table (also its fwmark) and port -> session-table number.
LAB_VPC_PORTS="gw0:16:1 gw1:32:2 gw1a:123:2 gw1b:124:2 a0:32:3 b0:32:4 a1:10:5"
LAB_VPC_EGRESS="gw0:1 gw1:2 a0:3 b0:4 a1:5"

lab_vpc_addresses() {
	ip -n "$NS_VPC" addr add 10.0.16.1/20 dev gw0
	for _p in gw1 a0 b0; do
		ip -n "$NS_VPC" addr add 10.0.32.1/32 dev "$_p"
	done
	ip -n "$NS_VPC" addr add 10.0.0.1/32 dev a1
	# Each NIC's address is reachable through its own port only.
	ip -n "$NS_VPC" route add "$LAB_GW_NODE_IP/32" dev gw1
	ip -n "$NS_VPC" route add "$LAB_NODE_A/32" dev a0
	ip -n "$NS_VPC" route add "$LAB_NODE_B/32" dev b0
	ip -n "$NS_VPC" route add 10.0.0.10/32 dev a1
	# The pod's address is a secondary address of node A's eth1 (ENI).
	ip -n "$NS_VPC" route add "$LAB_POD_IP/32" via 10.0.0.10 dev a1
	for _p in a0 b0; do
		lab_sysctl "$NS_VPC" "net.ipv4.conf.$_p.proxy_arp=1" \
			"net.ipv4.neigh.$_p.proxy_delay=0"
	done
}

# The cloud gateway's node-subnet port delivers by destination MAC.
lab_vpc_onlink_nodes() {
	ip -n "$NS_VPC" link add gw1a link gw1 type macvlan mode bridge &&
	ip -n "$NS_VPC" link add gw1b link gw1 type macvlan mode bridge ||
		return 1
	for _p in gw1a gw1b; do
		ip -n "$NS_VPC" link set "$_p" up
		lab_sysctl "$NS_VPC" "net.ipv4.conf.$_p.proxy_arp=1" \
			"net.ipv4.neigh.$_p.proxy_delay=0" \
			"net.ipv4.conf.$_p.rp_filter=0"
	done
	ip -n "$NS_VPC" route add default via "$LAB_NODE_A" dev a0 \
		table "$LAB_TABLE_TO_A"
	ip -n "$NS_VPC" route add default via "$LAB_NODE_B" dev b0 \
		table "$LAB_TABLE_TO_B"
	ip netns exec "$NS_VPC" nft -f - <<-EOF
	table arp vpc_arp {
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "gw1a" arp daddr ip != $LAB_NODE_A drop
			iifname "gw1b" arp daddr ip != $LAB_NODE_B drop
		}
	}
	EOF
}

lab_vpc_rules() {
	for _e in $LAB_VPC_PORTS; do
		_port=${_e%%:*}; _rest=${_e#*:}; _table=${_rest%%:*}
		ip -n "$NS_VPC" rule add pref 100 iif "$_port" lookup "$_table"
	done
	for _t in $LAB_TABLE_NATLB $LAB_TABLE_NODES $LAB_TABLE_PODS \
		  $LAB_TABLE_TO_A $LAB_TABLE_TO_B; do
		ip -n "$NS_VPC" rule add pref 200 fwmark "$_t" lookup "$_t"
	done
}

# The nftables ruleset of the session tables, generated from the port list.
lab_vpc_ruleset() {
	echo "table inet vpc {"
	echo "	counter reply_without_request {"
	echo "		comment \"forwarded packets of flows whose request this port pair never saw\""
	echo "	}"
	# The lab's own view: drops of the running case's replies (its client
	# port, or an echo reply), so a late packet of an earlier case's flow
	# is not counted against this one.
	echo "	set case_ports { type inet_service; }"
	echo "	counter case_replies_dropped { }"
	for _out in $LAB_VPC_EGRESS; do
		_oport=${_out%%:*}; _onum=${_out#*:}
		printf '\tchain to_%s {\n\t\tct zone set iifname map { ' "$_oport"
		_sep=""
		for _e in $LAB_VPC_PORTS; do
			_iport=${_e%%:*}; _inum=${_e##*:}
			[ "$_inum" = "$_onum" ] && continue
			if [ "$_inum" -lt "$_onum" ]; then
				_zone=$((_inum * 10 + _onum))
			else
				_zone=$((_onum * 10 + _inum))
			fi
			printf '%s"%s" : %s' "$_sep" "$_iport" "$_zone"
			_sep=", "
		done
		printf ' }\n\t}\n'
	done
	echo "	chain prerouting {"
	echo "		type filter hook prerouting priority raw; policy accept;"
	printf '\t\tmeta mark set iifname map { '
	_sep=""
	for _e in $LAB_VPC_PORTS; do
		_port=${_e%%:*}; _rest=${_e#*:}; _table=${_rest%%:*}
		printf '%s"%s" : %s' "$_sep" "$_port" "$_table"; _sep=", "
	done
	printf ' }\n\t\tfib daddr . mark oifname vmap { '
	_sep=""
	for _out in $LAB_VPC_EGRESS; do
		_oport=${_out%%:*}
		printf '%s"%s" : jump to_%s' "$_sep" "$_oport" "$_oport"; _sep=", "
	done
	printf ' }\n\t}\n'
	cat <<-'EOF'
		chain forward {
			type filter hook forward priority filter; policy accept;
			ct state invalid jump reply_without_request
			ct state new tcp flags & (syn | ack | fin | rst) != syn jump reply_without_request
		}
		chain reply_without_request {
			th dport @case_ports counter name case_replies_dropped
			icmp type echo-reply counter name case_replies_dropped
			counter name reply_without_request drop
		}
	}
	EOF
}

lab_vpc_router() {
	lab_vpc_addresses &&
	lab_vpc_onlink_nodes &&
	lab_vpc_rules || return 1
	lab_vpc_ruleset > "$LAB_LOGS/vpc.nft"
	ip netns exec "$NS_VPC" nft -f "$LAB_LOGS/vpc.nft" || return 1
	lab_sysctl "$NS_VPC" net.netfilter.nf_conntrack_tcp_loose=0
}

# lab_vpc_service_route a|b|none: the NAT/LB subnet's route for the
# service CIDR (the incident's route), to node A, node B, or absent.
lab_vpc_service_route() {
	case $1 in
	a) ip -n "$NS_VPC" route replace "$LAB_SERVICE_CIDR" via "$LAB_NODE_A" \
		dev a0 table "$LAB_TABLE_NATLB" ;;
	b) ip -n "$NS_VPC" route replace "$LAB_SERVICE_CIDR" via "$LAB_NODE_B" \
		dev b0 table "$LAB_TABLE_NATLB" ;;
	none) ip -n "$NS_VPC" route del "$LAB_SERVICE_CIDR" \
		table "$LAB_TABLE_NATLB" 2>/dev/null ;;
	esac
}

# lab_vpc_office_route on|off [gw0|gw1]: the VPC route for the office
# CIDR to one of the cloud gateway's NICs (default its NAT/LB subnet NIC),
# in every subnet table. Needed only without SNAT.
lab_vpc_office_route() {
	_port=${2:-gw0}
	_via=$LAB_GW_VPC_IP
	[ "$_port" = gw1 ] && _via=$LAB_GW_NODE_IP
	for _t in $LAB_TABLE_NATLB $LAB_TABLE_NODES $LAB_TABLE_PODS; do
		if [ "$1" = on ]; then
			ip -n "$NS_VPC" route replace "$LAB_OFFICE_CIDR" \
				via "$_via" dev "$_port" table "$_t"
		else
			ip -n "$NS_VPC" route del "$LAB_OFFICE_CIDR" \
				table "$_t" 2>/dev/null
		fi
	done
	return 0
}

# lab_vpc_drops [COUNTER]: packets counted so far by reply_without_request
# (every drop) or case_replies_dropped (the running case's replies).
lab_vpc_drops() {
	ip netns exec "$NS_VPC" nft list counter inet vpc "${1:-reply_without_request}" |
		sed -n "s/.*packets \\([0-9][0-9]*\\) bytes.*/\\1/p"
}

# lab_vpc_case_port PORT: the client port of the case about to run.
lab_vpc_case_port() {
	ip netns exec "$NS_VPC" nft flush set inet vpc case_ports &&
	ip netns exec "$NS_VPC" nft add element inet vpc case_ports "{ $1 }"
}

# Forget every flow (VPC session tables and the nodes' conntrack), so one
# case cannot ride on a session another case opened.
lab_forget_flows() {
	for _ns in "$NS_VPC" "$NS_NODEA" "$NS_NODEB"; do
		ip netns exec "$_ns" conntrack -F >/dev/null 2>&1
	done
	return 0
}
