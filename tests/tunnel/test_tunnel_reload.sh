#!/bin/bash
# Reloading charon's settings (swanctl --reload-settings, or SIGHUP) re-reads
# clustergate.json: unchanged leaves the tunnel alone, invalid keeps the
# running configuration, changed re-establishes the tunnel with it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tunnel_lib.sh"

tunnel_topology_up || { fail "topology"; finish; }
printf 'reload-test-psk\n' > "$T/psk"
chmod 600 "$T/psk"
tunnel_config "$T/gw.json" psk
cg_bg "$GW" $BIN/clustergated -c "$T/gw.json"
check "clustergated is up" wait_for 10 test -S "$T/cg.sock"
check "gateway charon starts" tunnel_gw_start
# The office only responds here, so exactly one IKE_SA exists (when both
# sides initiate at once, a duplicate lives for 10 s).
office_respond_only() {
	$BIN/clustergate office-config -c "$T/gw.json" |
		sed 's/start_action = start/start_action = none/' > "$T/office/swanctl.conf"
	swanctl_at office --load-all --noprompt --file "$T/office/swanctl.conf" \
		>> "$T/swanctl-office.out" 2>&1
}
mkdir -p "$T/office"
check "office charon starts" tunnel_charon_start office "$OFFICE"
check "office responds only" office_respond_only
check "tunnel comes up" wait_for 20 child_installed gw
check "client reaches the pod" wait_for 10 client_reaches_pod
spi=$(child_spis gw)
check "one CHILD_SA" test "$(echo "$spi" | wc -l)" = 1

reload_gw() {
	swanctl_at gw --reload-settings > /dev/null
}

check "reload with nothing changed" reload_gw
check "log says unchanged" wait_for 5 grep -q \
	'clustergate: tunnel configuration unchanged' "$T/charon-gw.log"
sleep 1
check "the CHILD_SA is untouched" test "$(child_spis gw)" = "$spi"

cp "$T/gw.json" "$T/good.json"
sed -i 's#"10.0.56.0/21"#"10.0.56.0/33"#' "$T/gw.json"
check "reload with an invalid file" reload_gw
check "log names the problem" wait_for 5 grep -qF \
	"clustergate: $T/gw.json: cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR" \
	"$T/charon-gw.log"
check "log says the running configuration stays" grep -q \
	'clustergate: keeping the running tunnel configuration' "$T/charon-gw.log"
sleep 1
check "the CHILD_SA is untouched" test "$(child_spis gw)" = "$spi"
check "gateway charon is alive" tunnel_charon_alive gw

# A second office subnet, on both sides.
python3 - "$T/good.json" "$T/gw.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["office"]["subnets"].append("172.16.1.0/24")
json.dump(c, open(sys.argv[2], "w"))
PY
ip -n "$OFFICE" addr add 172.16.1.1/24 dev lan0
office_respond_only
# clustergated's forward policy admits office subnets too: reload it as well.
check "clustergated reloads the new subnet" \
	sh -c "$BIN/clustergate reload -s $T/cg.sock >/dev/null"
check "reload with a new office subnet" reload_gw
check "log says the tunnel is re-established" wait_for 5 grep -q \
	'clustergate: tunnel configuration changed, re-establishing the tunnel' \
	"$T/charon-gw.log"
check "status shows the new selectors" wait_for 20 \
	status_is remote_ts "172.16.0.0/24, 172.16.1.0/24"
check "swanctl shows them" sh -c "swanctl --list-sas --uri unix://$T/gw.vici |
	grep -q '^    remote 172.16.0.0/24 172.16.1.0/24\$'"
check "client reaches the pod" wait_for 10 client_reaches_pod
from_new_subnet() {
	ip netns exec "$OFFICE" ping -q -c 1 -W 1 -I 172.16.1.1 10.0.0.13 >/dev/null
}
check "the pod answers the new subnet" wait_for 10 from_new_subnet
check "gateway charon is alive" tunnel_charon_alive gw

tunnel_charon_kill office
tunnel_charon_kill gw
finish
