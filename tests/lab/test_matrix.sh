#!/bin/bash
# The incident's case matrix, end to end (tests/lab/README.md): every
# cell of every row whose parts are built is asserted; a FAIL cell must
# fail because the VPC dropped a reply whose request it never saw.
. "$(dirname "$0")/common.sh"

if ! lab_topology_up; then
	fail "the lab topology comes up (see $LAB_LOGS)"
	cat "$LAB_LOGS"/*.out 2>/dev/null | tail -n 40
	finish
fi
lab_matrix_run
lab_matrix_print
echo
lab_matrix_details
echo
for row in $LAB_ROWS; do
	eval "status=\$LAB_${row}_STATUS note=\${LAB_${row}_NOTE:-}"
	case $status in
	notrun)
		echo "not run: $(row_${row}_title): $note"
		continue ;;
	broken)
		fail "$(row_${row}_title): setup ($note)"
		for f in "$LAB_LOGS"/*.out "$LAB_LOGS"/charon-*.log; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }
		done
		continue ;;
	esac
	for col in $LAB_COLUMNS; do
		eval "r=\$LAB_${row}_${col}_RESULT d=\$LAB_${row}_${col}_DROPS det=\$LAB_${row}_${col}_DETAIL"
		exp=$(row_${row}_expect "$col")
		check "$(row_${row}_title) / $(lab_column_title "$col"): $(lab_expected_text "$exp") (got $(lab_cell_text "$r" "$d"): $det)" \
			lab_cell_matches "$exp" "$r" "$d"
	done
	row_check=$(type -t row_${row}_check)
	[ "$row_check" = function ] && row_${row}_check
done
finish
