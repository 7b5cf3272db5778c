#!/bin/bash
# The office tunnel with a PSK: our charon + plugin on the gateway, a stock
# charon with the generated office config. Traffic crosses it, clustergated
# shows it, and it comes back on its own after the office restarts and
# after clustergated restarts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tunnel_lib.sh"

tunnel_topology_up || { fail "topology"; finish; }
printf 'tunnel-test-psk "quoted" \\ secret\n' > "$T/psk"
chmod 600 "$T/psk"
tunnel_config "$T/gw.json" psk

cg_bg "$GW" $BIN/clustergated -c "$T/gw.json"
CLUSTERGATED=$CG_LAST_PID
check "clustergated is up" wait_for 10 test -S "$T/cg.sock"
check "gateway charon starts with the plugin" tunnel_gw_start
check "plugin loaded the config" wait_for 5 grep -q \
	"clustergate: loaded $T/gw.json" "$T/charon-gw.log"
check "office-config output loads into a stock charon" tunnel_office_start
check "office-config prints the PSK hex-encoded" grep -q \
	"secret = 0x$(tr -d '\n' < "$T/psk" | od -An -tx1 | tr -d ' \n')\$" "$T/office/swanctl.conf"
check "office-config selectors mirror ours" sh -c \
	"grep -q 'local_ts = 172.16.0.0/24\$' $T/office/swanctl.conf &&
	 grep -q 'remote_ts = 10.0.56.0/21,10.0.0.0/20\$' $T/office/swanctl.conf"

start=$(date +%s)
check "tunnel comes up (gateway side)" wait_for 20 child_installed gw
check "tunnel comes up (office side)" wait_for 5 child_installed office
echo "# tunnel up after $(( $(date +%s) - start )) s"
check "swanctl --list-sas on the gateway shows our selectors" sh -c \
	"swanctl --list-sas --uri unix://$T/gw.vici | grep -q '^    local  10.0.0.0/20 10.0.56.0/21\$'"

# Traffic: ping and HTTP from the office client to the pod, through ipsec0.
cg_bg "$POD" python3 -m http.server 8080 --bind 10.0.0.13 --directory "$T/www" \
	2> "$T/http.log"
check "client pings the pod across the tunnel" wait_for 10 client_reaches_pod
body=$(ip netns exec "$CLIENT" curl -s --max-time 5 --retry 5 --retry-connrefused \
	--retry-delay 1 http://10.0.0.13:8080/hello.txt)
check "HTTP request crosses the tunnel" test "$body" = "hello through the tunnel"
check "the pod saw the office client's own address" \
	grep -q '^172.16.0.50 .*"GET /hello.txt HTTP/1.1" 200' "$T/http.log"
bytes=$(child_bytes_in gw)
check "the gateway's CHILD_SA counted the traffic (bytes-in $bytes)" test "${bytes:-0}" -gt 0

# clustergated learned it from the plugin.
check "status: tunnel up" wait_for 5 status_is state up
check "status: peer is the office" test "$(status_field peer)" = 198.51.100.10
check "status: peer id" test "$(status_field peer_id)" = office.example
check "status: local selectors (as charon narrowed them)" \
	test "$(status_field local_ts)" = "10.0.0.0/20, 10.0.56.0/21"
check "status: remote selectors" test "$(status_field remote_ts)" = "172.16.0.0/24"
spi_is_installed() {
	child_spis gw | grep -qx "$(status_field spi_in)"
}
check "status: inbound SPI is one charon has installed" spi_is_installed
check "status text shows the tunnel section" sh -c \
	"$BIN/clustergate status -s $T/cg.sock | grep -A1 '^tunnel:' | grep -q '^  state: up$'"
check "metrics: clustergate_tunnel_up 1" sh -c \
	"ip netns exec $GW curl -sf http://127.0.0.1:9469/metrics | grep -qx 'clustergate_tunnel_up 1'"

# clustergated restarts: it learns the state again without charon acting.
kill "$CLUSTERGATED"; wait "$CLUSTERGATED" 2>/dev/null
check "clustergated stopped" wait_for 5 sh -c "! test -S $T/cg.sock"
sleep 1.5
check "charon keeps running without clustergated" tunnel_charon_alive gw

# Worse than absent: something accepts on the socket and never answers.
# The plugin's own thread waits (500 ms at most per try); charon does not.
cg_bg "$GW" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
' "$T/cg.sock"
STUCK=$CG_LAST_PID
check "a stuck listener holds the socket" wait_for 5 test -S "$T/cg.sock"
spis_before=$(child_spis gw | tr '\n' ' ')
rekeyed() {
	for spi in $(child_spis gw); do
		case " $spis_before " in *" $spi "*) ;; *) return 0;; esac
	done
	return 1
}
check "charon rekeys the CHILD_SA meanwhile" sh -c \
	"swanctl --rekey --child clustergate --uri unix://$T/gw.vici >/dev/null"
check "  and the new CHILD_SA is installed at once" wait_for 3 rekeyed
t0=$(date +%s%N)
swanctl_at gw --list-sas > /dev/null
check "  vici answers promptly ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" \
	test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000
kill "$STUCK"; wait "$STUCK" 2>/dev/null
rm -f "$T/cg.sock"
cg_bg "$GW" $BIN/clustergated -c "$T/gw.json"
CLUSTERGATED=$CG_LAST_PID
if wait_for 15 status_is state up; then
	pass "restarted clustergated learns the tunnel is up"
else
	fail "restarted clustergated learns the tunnel is up"
	$BIN/clustergate status --json -s "$T/cg.sock"
	grep clustergate: "$T/charon-gw.log" | tail
fi
check "  with the rekeyed CHILD_SA" wait_for 5 spi_is_installed
check "plugin logged the outage and the return" sh -c \
	"grep -q 'clustergated at $T/cg.sock unreachable' $T/charon-gw.log &&
	 grep -q 'reached clustergated at $T/cg.sock' $T/charon-gw.log"

# The office side crashes and comes back: nothing is done on the gateway.
old_spis=$(child_spis gw | tr '\n' ' ')
gw_pid=$CHARON_PID_gw
tunnel_charon_kill office KILL
sleep 1
start=$(date +%s)
check "office charon restarts" tunnel_office_start
tunnel_replaced() {
	for spi in $(child_spis gw); do
		case " $old_spis " in *" $spi "*) ;; *) child_installed office; return;; esac
	done
	return 1
}
check "tunnel is back within DPD delay + a few seconds" \
	wait_for $(( DPD_DELAY + 8 )) tunnel_replaced
echo "# tunnel back $(( $(date +%s) - start )) s after the office restarted"
check "client reaches the pod again" wait_for 10 client_reaches_pod
status_new_spi() {
	case " $old_spis " in *" $(status_field spi_in) "*) return 1;; esac
	spi_is_installed
}
check "status follows the new CHILD_SA" wait_for 5 status_new_spi
check "gateway charon never restarted" test "$CHARON_PID_gw" = "$gw_pid"
check "gateway charon is alive" tunnel_charon_alive gw

# The link drops for longer than DPD and comes back: both sides keep
# trying (DPD restart, unlimited keying tries), nobody does anything.
ip -n "$GW" link set wan0 down
check "DPD takes the tunnel down while the link is down" wait_for 30 \
	status_is state down
ip -n "$GW" link set wan0 up
ip -n "$GW" route replace 198.51.100.0/24 dev wan0
start=$(date +%s)
check "tunnel is back after the link returns" wait_for 30 status_is state up
echo "# tunnel back $(( $(date +%s) - start )) s after the link returned"
check "client reaches the pod again" wait_for 10 client_reaches_pod

# The office goes away for good: DPD takes the tunnel down, status says so.
tunnel_charon_kill office KILL
start=$(date +%s)
check "DPD notices the dead office, status says down" wait_for 30 \
	status_is state down
echo "# down $(( $(date +%s) - start )) s after the office died (DPD every ${DPD_DELAY} s, 3 retransmits)"
check "gateway charon is alive" tunnel_charon_alive gw

# An office on a dynamic address ("any"): the gateway only responds.
tunnel_charon_kill gw
python3 - "$T/gw.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["office"]["address"] = "any"
json.dump(c, open(sys.argv[1], "w"))
PY
: > "$T/charon-gw.log"
check "gateway charon starts for a dynamic office" tunnel_gw_start
check "gateway waits for the office" wait_for 5 grep -qF \
	'clustergate: office.address is "any", waiting for the office to initiate' \
	"$T/charon-gw.log"
check "office-config uses %any as the office address" tunnel_office_start -o
check "  (local_addrs = %any)" grep -q 'local_addrs = %any$' "$T/office/clustergate.conf"
check "office-config writes the secrets file mode 0600" \
	test "$(stat -c %a "$T/office/clustergate-secrets.conf")" = 600
check "the office's tunnel comes up" wait_for 15 child_installed gw
check "client pings the pod across it" wait_for 10 client_reaches_pod
check "gateway never initiated" not grep -q 'initiating IKE_SA' "$T/charon-gw.log"

tunnel_charon_kill office
tunnel_charon_kill gw
finish
