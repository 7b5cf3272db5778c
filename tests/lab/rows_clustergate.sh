# The matrix rows that run clustergate on the cloud gateway: charon with
# the clustergate plugin, clustergated, and the office side configured
# with the output of `clustergate office-config`. Sourced by common.sh.

LAB_CG_JSON=$LAB_LOGS/clustergate.json

# lab_cg_json MODE VPC_INTERFACE VPC_ADDRESS NODE: the cloud gateway's
# clustergate.json. NODE (a|b) is the one node the route manager is given.
lab_cg_json() {
	if [ "$4" = a ]; then _node='{ "name": "node-a", "address": "10.0.32.23" }'
	else _node='{ "name": "node-b", "address": "10.0.32.24" }'
	fi
	cat <<-EOF
	{
	  "gateway": {
	    "public_address": "203.0.113.10",
	    "id": "gw.cloud.example",
	    "vpc_address": "$3",
	    "vpc_interface": "$2",
	    "tunnel_interface": "ipsec0"
	  },
	  "office": {
	    "address": "198.51.100.10",
	    "id": "office.example",
	    "subnets": ["$LAB_OFFICE_CIDR"]
	  },
	  "auth": { "psk_file": "$LAB_LOGS/psk" },
	  "ike": { "dpd_delay": 5, "dpd_timeout": 15 },
	  "cluster": {
	    "service_cidr": "$LAB_SERVICE_CIDR",
	    "pod_cidrs": ["10.0.0.0/20"],
	    "node_cidrs": ["10.0.32.0/20"]$(lab_cg_json_api)
	  },
	  "services": {
	    "mode": "$1"$(lab_cg_json_services)
	  },
	  "nodes": {
	    "static": [ $_node ],
	    "health": { "method": "http", "port": 10256, "path": "/healthz",
	                "interval_ms": 300, "timeout_ms": 250, "rise": 1, "fall": 2 }
	  },
	  "nat": { "snat": ${LAB_SNAT:-true} },
	  "control": { "socket": "$LAB_LOGS/clustergated.sock" },
	  "log": { "level": "info", "target": "stderr" }
	}
	EOF
}

# Where clustergated learns Services from: LAB_SERVICES_FROM=api (the
# test Kubernetes API server, tests/k8s/fake_apiserver.py, whose samples
# hold nginx 10.0.58.158:80 -> 10.0.0.13:80) or static (services.static).
lab_cg_json_services() {
	[ "${LAB_SERVICES_FROM:-static}" = static ] || return 0
	cat <<-EOF
	,
	    "static": [
	      { "name": "nginx", "cluster_ip": "$LAB_SERVICE_IP",
	        "ports": [ { "port": 80 } ], "endpoints": ["$LAB_POD_IP"] }
	    ]
	EOF
}

lab_cg_json_api() {
	[ "${LAB_SERVICES_FROM:-static}" = api ] || return 0
	cat <<-EOF
	,
	    "api": { "server": "https://127.0.0.1:6443", "ca_file": "$T/ca.crt",
	             "token_file": "$T/token", "timeout": 2 }
	EOF
}

LAB_K8S=$LAB_REPO/tests/k8s

# lab_apiserver_up: the test API server in the cloud gateway's namespace
# (HTTPS on 127.0.0.1:6443, bearer token), loaded with the API samples.
lab_apiserver_up() {
	sh "$LAB_K8S/make_certs.sh" "$T" || return 1
	printf 'lab-token\n' > "$T/token"
	cg_bg "$NS_GW" "$LAB_PYTHON" "$LAB_K8S/fake_apiserver.py" \
		--port 6443 --control-port 6444 \
		--tls-cert "$T/server.crt" --tls-key "$T/server.key" \
		--token-file "$T/token" \
		--services "$LAB_K8S/fixtures/services.json" \
		--endpointslices "$LAB_K8S/fixtures/endpointslices.json" \
		--nodes "$LAB_K8S/fixtures/nodes.json" \
		> "$T/apiserver.log" 2>&1
	LAB_APISERVER_PID=$CG_LAST_PID
	wait_for 10 ip netns exec "$NS_GW" "$LAB_PYTHON" "$LAB_K8S/ctl.py" \
		state 6444 >/dev/null
}

lab_apiserver_down() {
	[ -n "${LAB_APISERVER_PID:-}" ] || return 0
	kill "$LAB_APISERVER_PID" 2>/dev/null
	LAB_APISERVER_PID=
}

lab_cg() {
	ip netns exec "$NS_GW" "$LAB_BIN/clustergate" "$@"
}

# lab_cg_has_command NAME: the clustergate CLI knows NAME.
lab_cg_has_command() {
	[ -x "$LAB_BIN/clustergate" ] &&
		"$LAB_BIN/clustergate" --help 2>&1 | grep -q "^ *$1 "
}

# lab_cg_missing [COMPONENT]: why clustergate rows cannot run here.
lab_cg_missing() {
	lab_need_file "$LAB_BIN/clustergated" "clustergated"
	lab_need_file "$LAB_PLUGIN" "the charon plugin"
	lab_cg_has_command office-config ||
		echo "clustergate office-config is missing"
	if [ -n "${1:-}" ] && ! grep -q "&${1}_component" \
			"$LAB_REPO/gateway/components.c"; then
		echo "clustergated has no $1 component yet"
	fi
}

# kernel-libipsec installs its TUN route for a CHILD_SA only when the
# gateway holds an address inside every local traffic selector. The
# gateway's own addresses lie in the NAT/LB subnet (and the node subnet,
# in route mode only), so the lab parks one unused address of each
# selector (service, pod and node CIDR) on a port-less bridge. The
# appliance's XFRM data path needs none of this.
lab_libipsec_anchors() {
	ip -n "$NS_GW" link add ts-anchor type bridge 2>/dev/null || return 0
	ip -n "$NS_GW" addr add 10.0.63.254/32 dev ts-anchor
	ip -n "$NS_GW" addr add 10.0.15.254/32 dev ts-anchor
	ip -n "$NS_GW" addr add 10.0.47.254/32 dev ts-anchor
	ip -n "$NS_GW" link set ts-anchor up
}

# lab_clustergate_up MODE VPC_INTERFACE VPC_ADDRESS NODE: clustergated,
# charon with the plugin on the cloud gateway, and a stock charon on the
# office gateway loaded with `clustergate office-config`.
lab_clustergate_up() {
	umask 077
	printf '%s\n' "$LAB_PSK" > "$LAB_LOGS/psk"
	umask 022
	lab_cg_json "$@" > "$LAB_CG_JSON"
	if ! "$LAB_BIN/clustergate" check-config "$LAB_CG_JSON" \
			>> "$LAB_LOGS/clustergated.out" 2>&1; then
		lab_log "clustergate check-config refused $LAB_CG_JSON"
		return 1
	fi
	lab_libipsec_anchors
	cg_bg "$NS_GW" "$LAB_BIN/clustergated" -c "$LAB_CG_JSON" \
		>> "$LAB_LOGS/clustergated.out" 2>&1
	LAB_CLUSTERGATED_PID=$CG_LAST_PID
	wait_for 10 test -S "$LAB_LOGS/clustergated.sock" || return 1

	# tunnel_charon_start overlays $T/plugins on charon's plugin directory.
	mkdir -p "$T/plugins"
	cp "$LAB_PLUGIN" "$T/plugins/"
	lab_charon_start gw "$NS_GW" "clustergate {
			config = $LAB_CG_JSON
		}" || return 1

	"$LAB_BIN/clustergate" office-config -c "$LAB_CG_JSON" \
		> "$LAB_LOGS/swanctl-office.conf" 2>> "$LAB_LOGS/swanctl-office.out" ||
		return 1
	lab_charon_start office "$NS_OFFICE" &&
	lab_swanctl_load office "$LAB_LOGS/swanctl-office.conf" || return 1
	wait_for 20 lab_tunnel_established office
}

lab_clustergate_down() {
	lab_tunnel_down
	if [ -n "${LAB_CLUSTERGATED_PID:-}" ]; then
		kill "$LAB_CLUSTERGATED_PID" 2>/dev/null
		wait_for 10 sh -c "! kill -0 $LAB_CLUSTERGATED_PID"
		LAB_CLUSTERGATED_PID=
	fi
	# clustergated leaves its rules and routes in place on stop (hitless
	# restart); the next row starts from a bare gateway. Whatever cleanup
	# left behind is logged, then removed anyway.
	if lab_cg_has_command cleanup; then
		lab_cg cleanup -c "$LAB_CG_JSON" --force >> "$LAB_LOGS/clustergated.out" 2>&1
	fi
	_left="$(ip netns exec "$NS_GW" nft list tables) $(ip -n "$NS_GW" nexthop show)"
	[ -n "${_left## }" ] && lab_log "left after clustergate cleanup: $_left"
	ip netns exec "$NS_GW" nft flush ruleset
	ip -n "$NS_GW" route flush "$LAB_SERVICE_CIDR" >/dev/null 2>&1
	ip -n "$NS_GW" nexthop flush >/dev/null 2>&1
	return 0
}

# lab_gw_route_via NODE_ADDRESS: the gateway routes the ClusterIP to NODE.
lab_gw_route_via() {
	ip -n "$NS_GW" route get "$LAB_SERVICE_IP" 2>/dev/null | grep -q "via $1 "
}

# ---- route mode: the route manager steers the service CIDR to nodes ----

# Route mode runs with the default nat.snat=true once nat/ is built.
# Before that it runs with nat.snat=false, and the VPC routes the office
# CIDR to the gateway's node-subnet NIC, as in the incident.
lab_route_snat() {
	if [ -z "$(lab_cg_missing nat)" ]; then echo true; else echo false; fi
}

lab_route_setup() {
	lab_vpc_service_route none
	LAB_SNAT=$(lab_route_snat)
	if [ "$LAB_SNAT" = true ]; then
		lab_vpc_office_route off
	else
		lab_vpc_office_route on gw1
	fi
	lab_gateway_vpc_via eth1
	lab_kube_proxy_masquerade "$1"
	lab_clustergate_up route eth1 "$LAB_GW_NODE_IP" a
}

# Give the route manager only node A or only node B, and wait until the
# kernel route follows.
lab_route_steer() {
	lab_cg_json route eth1 "$LAB_GW_NODE_IP" "$1" > "$LAB_CG_JSON"
	kill -HUP "$LAB_CLUSTERGATED_PID"
	if [ "$1" = a ]; then _via=$LAB_NODE_A; else _via=$LAB_NODE_B; fi
	wait_for 10 lab_gw_route_via "$_via"
}

lab_route_teardown() {
	lab_clustergate_down
	lab_vpc_office_route off
	LAB_SNAT=true
	lab_kube_proxy_masquerade off
	lab_gateway_vpc_via eth0
}

# lab_doctor ROW: run `clustergate doctor` on the gateway (the route
# manager has node B only by now). Records LAB_<ROW>_DOCTOR_RC and prints
# its verdict for the table; the full text is in doctor-ROW.out.
lab_doctor() {
	if ! lab_cg_has_command doctor; then
		eval "LAB_${1}_DOCTOR_RC=missing"
		echo "clustergate doctor: not built yet"
		return 0
	fi
	lab_cg doctor -c "$LAB_CG_JSON" > "$LAB_LOGS/doctor-$1.out" 2>&1
	eval "LAB_${1}_DOCTOR_RC=$?"
	echo "clustergate doctor: $(grep -m 1 '^verdict' "$LAB_LOGS/doctor-$1.out")"
	# Its fixes: "  - text" lines and their indented continuations.
	awk '/^ *- / { if (fix) print fix; sub(/^ *- /, ""); fix = "  fix: " $0; next }
	     fix && /^    / && !/^ *- / { sub(/^ */, " "); fix = fix $0; next }
	     { if (fix) print fix; fix = "" }
	     END { if (fix) print fix }' "$LAB_LOGS/doctor-$1.out"
}

# lab_doctor_check ROW EXPECTED_RC DESCRIPTION PATTERN...: assert what
# doctor said in that row (test_matrix.sh).
lab_doctor_check() {
	_row=$1 _want=$2 _desc=$3; shift 3
	eval "_rc=\${LAB_${_row}_DOCTOR_RC:-missing}"
	if [ "$_rc" = missing ]; then
		echo "not run: $(row_${_row}_title): clustergate doctor is not built"
		return 0
	fi
	_ok=true
	[ "$_rc" = "$_want" ] || _ok=false
	for _pattern in "$@"; do
		grep -qi -- "$_pattern" "$LAB_LOGS/doctor-$_row.out" || _ok=false
	done
	check "$(row_${_row}_title): clustergate doctor $_desc (exit $_rc)" $_ok
	[ "$_ok" = true ] || cat "$LAB_LOGS/doctor-$_row.out"
}

row_route_nomasq_title() { echo "route mode, kube-proxy no masq"; }
row_route_nomasq_explain() {
	echo "the gateway SNATs and routes on-link to the node; node B DNATs without SNAT, the pod answers the gateway by another VPC port, the VPC drops it"
}
row_route_nomasq_expect() {
	case $1 in nonbackend) echo vpcdrop ;; *) echo pass ;; esac
}
row_route_nomasq_missing() { lab_cg_missing route | head -n 1; }
row_route_nomasq_setup() { lab_route_setup off; }
row_route_nomasq_steer() { lab_route_steer "$1"; }
row_route_nomasq_note() {
	echo "nat.snat=$LAB_SNAT; the route manager is given node A or node B only"
	lab_doctor route_nomasq
}
row_route_nomasq_check() {
	lab_doctor_check route_nomasq 1 "reports the asymmetric return and both fixes" \
		ASYMMETRIC '"proxy"' masquerade
}
row_route_nomasq_teardown() { lab_route_teardown; }

row_route_masq_title() { echo "route mode, kube-proxy masq"; }
row_route_masq_explain() {
	echo "kube-proxy masqueradeAll: node B SNATs to itself, the reply returns through node B by the port the request came in"
}
row_route_masq_expect() { echo pass; }
row_route_masq_missing() { lab_cg_missing route | head -n 1; }
row_route_masq_setup() { lab_route_setup on; }
row_route_masq_steer() { lab_route_steer "$1"; }
row_route_masq_note() {
	echo "nat.snat=$LAB_SNAT; the route manager is given node A or node B only"
	lab_doctor route_masq
}
row_route_masq_check() {
	lab_doctor_check route_masq 0 "finds no problem"
}
row_route_masq_teardown() { lab_route_teardown; }

# ---- proxy mode (the default): the gateway DNATs to the pod itself ----

row_proxy_title() { echo "proxy mode (default)"; }
row_proxy_explain() {
	echo "the gateway DNATs ClusterIP -> pod and SNATs to 10.0.16.5; the VPC route for the service CIDR is never used, so no node's NAT is involved"
}
row_proxy_expect() { echo pass; }
row_proxy_missing() { lab_cg_missing nat | head -n 1; }
# The proxy row learns its Services from the test API server when that
# is in the tree, else from services.static.
lab_proxy_services_from() {
	if [ -f "$LAB_K8S/fake_apiserver.py" ]; then echo api; else echo static; fi
}

row_proxy_setup() {
	lab_vpc_office_route off
	lab_gateway_vpc_via eth0
	lab_kube_proxy_masquerade off
	LAB_SERVICES_FROM=$(lab_proxy_services_from)
	if [ "$LAB_SERVICES_FROM" = api ]; then
		lab_apiserver_up || return 1
	fi
	lab_clustergate_up proxy eth0 "$LAB_GW_VPC_IP" b || return 1
	wait_for 15 sh -c "ip netns exec $NS_GW nft list ruleset | grep -q $LAB_SERVICE_IP"
}
row_proxy_steer() { lab_vpc_service_route "$1"; }
# With no VPC route for the service CIDR at all, a ping to the ClusterIP
# can only be answered by the gateway itself.
lab_proxy_gateway_ping() {
	lab_vpc_service_route none
	lab_forget_flows
	if lab_ping "$LAB_SERVICE_IP"; then
		LAB_proxy_GATEWAY_PING=pass
		echo "ping $LAB_SERVICE_IP with no VPC route for the service CIDR: the gateway answers"
	else
		LAB_proxy_GATEWAY_PING=fail
		echo "ping $LAB_SERVICE_IP with no VPC route for the service CIDR: no reply"
	fi
}

row_proxy_check() {
	check "proxy mode: the gateway itself answers ping for the ClusterIP" \
		test "${LAB_proxy_GATEWAY_PING:-}" = pass
}

row_proxy_note() {
	lab_proxy_gateway_ping
	if [ "$LAB_SERVICES_FROM" = api ]; then
		echo "Services from the test Kubernetes API server (list + watch over HTTPS); nat.snat=true"
	else
		echo "Services from services.static in clustergate.json; nat.snat=true"
	fi
}
row_proxy_teardown() {
	lab_clustergate_down
	lab_apiserver_down
	lab_vpc_service_route none
	LAB_SERVICES_FROM=static
	return 0
}
