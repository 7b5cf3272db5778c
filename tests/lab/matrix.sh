# The incident's case matrix: rows are gateway configurations, columns
# are what the office client tries. Sourced by lab.sh and test_matrix.sh.
#
# Columns (every case runs from the office client, through the tunnel):
#   backend     curl http://10.0.58.158/, service traffic steered to node A
#               (the node that hosts the nginx pod)
#   nonbackend  curl http://10.0.58.158/, steered to node B (no backend)
#   pod         curl http://10.0.0.13/ and ping 10.0.0.13, steered to B
#   ping        ping 10.0.58.158, steered to node B
# "Steered" is the NAT/LB subnet's VPC route in the plain and proxy rows,
# and the route manager's node list in the route-mode rows.
#
# Expected cells: "pass" (and the VPC dropped none of the case's
# replies), or "vpcdrop": the case fails, and it fails because the VPC
# dropped a reply of its flow whose request it never saw.

LAB_COLUMNS="backend nonbackend pod ping"
LAB_ROWS="plain route_nomasq route_masq proxy"

lab_column_title() {
	case $1 in
	backend) echo "svc via backend node" ;;
	nonbackend) echo "svc via non-backend node" ;;
	pod) echo "pod direct" ;;
	ping) echo "ping svc" ;;
	esac
}

lab_column_steer() {
	case $1 in backend) echo a ;; *) echo b ;; esac
}

# lab_http URL: one real HTTP request from the office client; prints the
# response body (the pod says who it is and whom it saw).
lab_http() {
	ip netns exec "$NS_CLIENT" curl -sS --max-time 4 \
		--local-port "$LAB_CASE_PORT" "$1" 2>&1
}

# Each case's HTTP request leaves from its own client port, which the
# VPC's case_ports set watches (SNAT keeps the port).
LAB_CASE_PORT=40000

lab_ping() {
	ip netns exec "$NS_CLIENT" ping -n -c 1 -W 3 "$1" >/dev/null 2>&1
}

# lab_case COLUMN: run one case. Sets LAB_RESULT (pass|fail),
# LAB_DROPS (replies of this case the VPC dropped) and LAB_DETAIL (what
# was seen).
lab_case() {
	# Let the previous case's connection finish closing before the flush.
	sleep 0.3
	lab_forget_flows
	LAB_CASE_PORT=$((LAB_CASE_PORT + 1))
	lab_vpc_case_port "$LAB_CASE_PORT"
	_before=$(lab_vpc_drops case_replies_dropped)
	LAB_RESULT=fail
	case $1 in
	backend|nonbackend)
		LAB_DETAIL=$(lab_http "http://$LAB_SERVICE_IP/")
		case $LAB_DETAIL in "nginx pod $LAB_POD_IP:"*) LAB_RESULT=pass ;; esac
		;;
	pod)
		LAB_DETAIL=$(lab_http "http://$LAB_POD_IP/")
		case $LAB_DETAIL in "nginx pod $LAB_POD_IP:"*)
			if lab_ping "$LAB_POD_IP"; then
				LAB_RESULT=pass
			else
				LAB_DETAIL="$LAB_DETAIL; ping $LAB_POD_IP: no reply"
			fi ;;
		esac
		;;
	ping)
		if lab_ping "$LAB_SERVICE_IP"; then
			LAB_RESULT=pass LAB_DETAIL="ping $LAB_SERVICE_IP: reply"
		else
			LAB_DETAIL="ping $LAB_SERVICE_IP: no reply"
		fi
		;;
	esac
	LAB_DROPS=$(( $(lab_vpc_drops case_replies_dropped) - _before ))
}

# lab_cell_text RESULT DROPS: how a cell reads in the table.
lab_cell_text() {
	if [ "$1" = pass ] && [ "$2" -gt 0 ]; then
		echo "pass, VPC drop x$2"
	elif [ "$1" = pass ]; then
		echo "pass"
	elif [ "$2" -gt 0 ]; then
		echo "FAIL: VPC drop x$2"
	else
		echo "FAIL (no VPC drop)"
	fi
}

# lab_cell_matches EXPECTED RESULT DROPS
lab_cell_matches() {
	case $1 in
	pass) [ "$2" = pass ] && [ "$3" -eq 0 ] ;;
	vpcdrop) [ "$2" = fail ] && [ "$3" -gt 0 ] ;;
	esac
}

lab_expected_text() {
	case $1 in pass) echo "pass" ;; vpcdrop) echo "FAIL at VPC" ;; esac
}

# lab_row_run ROW: set the row up, run its four cases, tear it down.
# Records LAB_<ROW>_STATUS (ran|notrun|broken), LAB_<ROW>_NOTE and per
# column LAB_<ROW>_<COLUMN>_{RESULT,DROPS,DETAIL}.
lab_row_run() {
	_row=$1
	_missing=$(row_${_row}_missing)
	if [ -n "$_missing" ]; then
		eval "LAB_${_row}_STATUS=notrun"
		eval "LAB_${_row}_NOTE=\$_missing"
		lab_log "row $_row: not run: $_missing"
		return 0
	fi
	lab_log "row $_row: setting up"
	if ! row_${_row}_setup; then
		eval "LAB_${_row}_STATUS=broken"
		eval "LAB_${_row}_NOTE=\"setup failed, see $LAB_LOGS\""
		lab_log "row $_row: setup failed"
		row_${_row}_teardown
		return 1
	fi
	eval "LAB_${_row}_STATUS=ran"
	for _col in $LAB_COLUMNS; do
		if ! row_${_row}_steer "$(lab_column_steer "$_col")"; then
			LAB_RESULT=fail LAB_DROPS=0
			LAB_DETAIL="could not steer service traffic to node $(lab_column_steer "$_col")"
		else
			lab_case "$_col"
		fi
		eval "LAB_${_row}_${_col}_RESULT=\$LAB_RESULT"
		eval "LAB_${_row}_${_col}_DROPS=\$LAB_DROPS"
		eval "LAB_${_row}_${_col}_DETAIL=\$LAB_DETAIL"
		lab_log "row $_row, $_col: $LAB_RESULT, VPC drops $LAB_DROPS: $LAB_DETAIL"
	done
	# Not in a subshell: a row's note may record results of its own.
	row_${_row}_note > "$LAB_LOGS/note-$_row"
	eval "LAB_${_row}_NOTE=\$(cat \"\$LAB_LOGS/note-\$_row\")"
	row_${_row}_teardown
}

lab_log() {
	echo "$(date +%H:%M:%S) $*" >> "$LAB_LOGS/matrix.log"
	[ "${LAB_VERBOSE:-0}" = 1 ] && echo "  .. $*" >&2
	return 0
}

# lab_matrix_print: the table, one explanation line per row, and a
# mismatch line for every cell that differs from what is expected.
# Returns 1 if any cell of a row that ran differs.
lab_matrix_print() {
	_bad=0
	_fmt="%-34s| %-22s| %-26s| %-20s| %-18s\n"
	printf "$_fmt" "config" "$(lab_column_title backend)" \
		"$(lab_column_title nonbackend)" "$(lab_column_title pod)" \
		"$(lab_column_title ping)"
	_rule="----------------------------------+-----------------------+---------------------------+---------------------+-------------------"
	printf '%s\n' "$_rule"
	for _row in $LAB_ROWS; do
		eval "_status=\$LAB_${_row}_STATUS _note=\${LAB_${_row}_NOTE:-}"
		if [ "$_status" = broken ]; then
			printf "%-34s| BROKEN: %s\n" "$(row_${_row}_title)" "$_note"
			printf "    %s\n" "$(row_${_row}_explain)"
			printf '%s\n' "$_rule"
			_bad=1
			continue
		fi
		if [ "$_status" != ran ]; then
			printf "%-34s| not run: %s\n" "$(row_${_row}_title)" "$_note"
			printf "    %s\n" "$(row_${_row}_explain)"
			printf '%s\n' "$_rule"
			continue
		fi
		set --
		for _col in $LAB_COLUMNS; do
			eval "_r=\$LAB_${_row}_${_col}_RESULT _d=\$LAB_${_row}_${_col}_DROPS"
			_text=$(lab_cell_text "$_r" "$_d")
			_exp=$(row_${_row}_expect "$_col")
			if ! lab_cell_matches "$_exp" "$_r" "$_d"; then
				_text="$_text !!"
			fi
			set -- "$@" "$_text"
		done
		printf "$_fmt" "$(row_${_row}_title)" "$@"
		set --
		for _col in $LAB_COLUMNS; do
			set -- "$@" "$(lab_expected_text "$(row_${_row}_expect "$_col")")"
		done
		printf "$_fmt" "  expected" "$@"
		printf "    %s\n" "$(row_${_row}_explain)"
		[ -n "$_note" ] && printf '%s\n' "$_note" | sed 's/^/    /'
		printf '%s\n' "$_rule"
		for _col in $LAB_COLUMNS; do
			eval "_r=\$LAB_${_row}_${_col}_RESULT _d=\$LAB_${_row}_${_col}_DROPS _det=\$LAB_${_row}_${_col}_DETAIL"
			_exp=$(row_${_row}_expect "$_col")
			if ! lab_cell_matches "$_exp" "$_r" "$_d"; then
				printf "    !! %s: expected %s, got %s (%s)\n" \
					"$(lab_column_title "$_col")" \
					"$(lab_expected_text "$_exp")" \
					"$(lab_cell_text "$_r" "$_d")" "$_det"
				_bad=1
			fi
		done
	done
	cat <<-EOF
	"FAIL: VPC drop xN": the case failed, and the VPC router dropped N of its
	replies as replies whose request it never saw (nft counters
	reply_without_request, and case_replies_dropped for this case's flow).
	"!!" marks a cell that differs from what is expected.
	EOF
	return $_bad
}

# lab_matrix_details: what the pod saw in each HTTP case (who connected).
lab_matrix_details() {
	for _row in $LAB_ROWS; do
		eval "_status=\$LAB_${_row}_STATUS"
		[ "$_status" = ran ] || continue
		for _col in $LAB_COLUMNS; do
			eval "_det=\$LAB_${_row}_${_col}_DETAIL"
			eval "_d=\$LAB_${_row}_${_col}_DROPS"
			printf "  %-13s %-25s VPC drops %-2s %s\n" "$_row" \
				"$(lab_column_title "$_col")" "$_d" "$_det"
		done
	done
}

lab_matrix_run() {
	for _row in ${LAB_ONLY_ROWS:-$LAB_ROWS}; do
		lab_row_run "$_row"
	done
	for _row in $LAB_ROWS; do
		eval "[ -n \"\${LAB_${_row}_STATUS:-}\" ]" ||
			eval "LAB_${_row}_STATUS=notrun LAB_${_row}_NOTE='not selected (LAB_ONLY_ROWS)'"
	done
}
