# The matrix rows. Sourced by lab.sh and test_matrix.sh.
#
# Every row provides:
#   row_R_title           the config column of the table
#   row_R_explain         one line: why the row comes out as it does
#   row_R_expect COLUMN   pass | vpcdrop
#   row_R_missing         prints why the row cannot run here (empty: it can)
#   row_R_setup           bring the row's gateway configuration up
#   row_R_steer a|b       send service traffic towards node A or node B
#   row_R_note            an extra line for the table, after the cases ran
#   row_R_teardown        undo row_R_setup, leaving the bare topology

# lab_need_file PATH WHAT: print a "not run" reason when PATH is missing.
lab_need_file() {
	[ -e "$1" ] || echo "$2 ($1) is not built"
}

# ---- plain tunnel: stock strongSwan on both sides, no clustergate ----

row_plain_title() { echo "plain tunnel, no clustergate NAT"; }
row_plain_explain() {
	echo "the incident: node B DNATs to the pod without SNAT, the pod answers from its own IP by another VPC port, the VPC drops the reply"
}
row_plain_expect() {
	case $1 in nonbackend) echo vpcdrop ;; *) echo pass ;; esac
}
row_plain_missing() { :; }
row_plain_setup() {
	lab_gateway_vpc_via eth0
	lab_vpc_office_route on
	lab_tunnel_stock_up
}
row_plain_steer() { lab_vpc_service_route "$1"; }
row_plain_note() { :; }
row_plain_teardown() {
	lab_tunnel_down
	lab_vpc_office_route off
	lab_vpc_service_route none
	return 0
}
