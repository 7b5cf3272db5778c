#!/bin/bash
# The incident lab: the incident's topology in network namespaces, the
# case matrix, and the commands behind `make demo`. Run as root.
#
#   lab.sh run-matrix     bring the lab up, run every row, print the table,
#                         tear everything down (exit 1 if a cell of a row
#                         that ran differs from what is expected)
#   lab.sh demo           the same; with KEEP=1 the lab stays up afterwards
#                         in the default configuration, with instructions
#   lab.sh up [ROW]       bring the lab up in one row's configuration
#                         (default: proxy, else plain) and leave it up
#   lab.sh down [PREFIX]  tear down a lab left up (every one, if no prefix)
#
# Environment: LAB_ONLY_ROWS="plain proxy" runs a subset; LAB_VERBOSE=1
# narrates each step. Rows: plain route_nomasq route_masq proxy.
# Ctrl-C tears everything down (tests/lib.sh's exit trap).
set -u
LAB_STATE_DIR=/run/clustergate-lab

lab_usage() {
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

# lab_down [PREFIX]: remove what a kept lab left: its processes (by the
# PIDs it recorded), its namespaces (by its prefix) and its files.
lab_down() {
	_found=0
	for _state in "$LAB_STATE_DIR"/${1:-*}; do
		[ -f "$_state" ] || continue
		_found=1
		(
			. "$_state"
			for _pid in $(cat "$CG_TMP/pids" 2>/dev/null); do
				kill "$_pid" 2>/dev/null
			done
			sleep 0.5
			for _pid in $(cat "$CG_TMP/pids" 2>/dev/null); do
				kill -9 "$_pid" 2>/dev/null
			done
			for _ns in $(ip netns list | awk '{print $1}' | grep "^$CG_PREFIX"); do
				ip netns del "$_ns"
			done
			rm -rf "$CG_TMP"
			echo "lab $CG_PREFIX: torn down"
		)
		rm -f "$_state"
	done
	[ "$_found" = 1 ] || echo "no lab is up${1:+ with prefix $1}"
}

case ${1:-} in
down) lab_down "${2:-}"; exit 0 ;;
run-matrix|demo|up) ;;
-h|--help|help) lab_usage; exit 0 ;;
*) lab_usage >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (network namespaces)" >&2; exit 1; }
. "$(dirname "$0")/common.sh"

# lab_keep ROW: leave the lab up in ROW's configuration, steered to node B
# (the incident's route), and say how to look at it.
lab_keep() {
	_row=$1
	if ! row_${_row}_setup || ! row_${_row}_steer b; then
		echo "lab.sh: could not set up row $_row; see $LAB_LOGS" >&2
		return 1
	fi
	mkdir -p "$LAB_STATE_DIR"
	printf 'CG_PREFIX=%s\nCG_TMP=%s\n' "$CG_PREFIX" "$CG_TMP" \
		> "$LAB_STATE_DIR/$CG_PREFIX"
	trap - EXIT INT TERM
	cat <<-EOF

	The lab is up in the "$(row_${_row}_title)" configuration,
	service traffic steered to node B (the node without the backend).

	  namespace              what
	  $NS_CLIENT$(printf '%*s' $((23 - ${#NS_CLIENT})) '')office client 172.16.0.50
	  $NS_OFFICE$(printf '%*s' $((23 - ${#NS_OFFICE})) '')office gateway (stock strongSwan)
	  $NS_INET$(printf '%*s' $((23 - ${#NS_INET})) '')the internet link
	  $NS_GW$(printf '%*s' $((23 - ${#NS_GW})) '')cloud gateway 203.0.113.10 / 10.0.16.5
	  $NS_VPC$(printf '%*s' $((23 - ${#NS_VPC})) '')VPC router (route tables, session tables)
	  $NS_NODEA$(printf '%*s' $((23 - ${#NS_NODEA})) '')node A 10.0.32.23 (hosts the nginx pod)
	  $NS_NODEB$(printf '%*s' $((23 - ${#NS_NODEB})) '')node B 10.0.32.24
	  $NS_POD$(printf '%*s' $((23 - ${#NS_POD})) '')nginx pod 10.0.0.13

	Try:
	  ip netns exec $NS_CLIENT curl http://$LAB_SERVICE_IP/
	  ip netns exec $NS_CLIENT curl http://$LAB_POD_IP/
	  ip netns exec $NS_CLIENT ping -c 1 $LAB_SERVICE_IP
	  ip netns exec $NS_VPC nft list counter inet vpc reply_without_request
	  ip netns exec $NS_VPC conntrack -L
	  ip -n $NS_VPC route show table $LAB_TABLE_NATLB     # NAT/LB subnet's route table
	  ip -n $NS_VPC route replace $LAB_SERVICE_CIDR via $LAB_NODE_A dev a0 table $LAB_TABLE_NATLB
	  ip netns exec $NS_GW nft list ruleset
	  swanctl --list-sas --uri unix://$LAB_LOGS/gw.vici
	  swanctl --list-sas --uri unix://$LAB_LOGS/office.vici
	EOF
	if [ -S "$LAB_LOGS/clustergated.sock" ]; then
		cat <<-EOF
		  $LAB_BIN/clustergate status -c $LAB_LOGS/clustergate.json
		  ip netns exec $NS_GW $LAB_BIN/clustergate doctor -c $LAB_LOGS/clustergate.json
		  ip netns exec $NS_GW nft list table inet clustergate
		  ip -n $NS_GW route get $LAB_SERVICE_IP       # route mode: via the node
		EOF
	fi
	cat <<-EOF

	Logs and configs: $LAB_LOGS
	Tear down:        make demo-down   (or: tests/lab/lab.sh down $CG_PREFIX)
	EOF
}

lab_default_row() {
	if [ -z "$(row_proxy_missing)" ]; then echo proxy; else echo plain; fi
}

lab_banner() {
	cat <<-EOF
	clustergate incident lab: office client $LAB_CLIENT_IP -> IPsec tunnel -> cloud gateway -> VPC
	nginx Service $LAB_SERVICE_IP:80 -> pod $LAB_POD_IP on node A; node B has no backend.
	Namespaces: ${CG_PREFIX}*   logs: $LAB_LOGS

	EOF
}

echo "lab: bringing up the topology (namespaces ${CG_PREFIX}*)"
if ! lab_topology_up; then
	echo "lab.sh: the topology did not come up; see $LAB_LOGS" >&2
	exit 1
fi

case $1 in
up)
	lab_keep "${2:-$(lab_default_row)}" || exit 1
	;;
run-matrix|demo)
	lab_banner
	lab_matrix_run
	lab_matrix_print
	status=$?
	echo
	echo "What the pod saw (who connected) in each case:"
	lab_matrix_details
	if [ "$1" = demo ] && [ "${KEEP:-0}" = 1 ]; then
		lab_keep "$(lab_default_row)" || exit 1
	fi
	exit $status
	;;
esac
