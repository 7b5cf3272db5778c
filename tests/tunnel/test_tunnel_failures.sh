#!/bin/bash
# What goes wrong must say so and break nothing: an invalid clustergate.json
# or proposal disables the plugin with its message while charon keeps
# serving; a wrong PSK gives no tunnel and a clear log line on both sides.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tunnel_lib.sh"

tunnel_topology_up || { fail "topology"; finish; }
printf 'the-gateway-psk\n' > "$T/psk"
chmod 600 "$T/psk"

charon_serves_vici() {
	swanctl_at gw --stats >/dev/null 2>&1
}

# gw_start_with_config FILE: fresh gateway charon on that config.
gw_start_with_config() {
	: > "$T/charon-gw.log"
	tunnel_charon_start gw "$GW" "clustergate {
				config = $1
			}"
}

# 1. A config the shared validator rejects: one log line per problem with
#    its JSON path, then "plugin disabled"; charon stays up.
tunnel_config "$T/gw.json" psk
python3 - "$T/gw.json" "$T/bad.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["cluster"]["service_cidr"] = "10.0.56.0/33"
c["office"]["subnets"] = ["172.16.0.0/24", "bogus"]
json.dump(c, open(sys.argv[2], "w"))
PY
check "charon starts with an invalid clustergate.json" gw_start_with_config "$T/bad.json"
check "log names the bad service CIDR" wait_for 5 grep -qF \
	"clustergate: $T/bad.json: cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR" \
	"$T/charon-gw.log"
check "log names the bad office subnet" grep -qF \
	"clustergate: $T/bad.json: office.subnets[1]:" "$T/charon-gw.log"
check "log says the plugin is disabled" grep -qF \
	"clustergate: plugin disabled, no tunnel configured: fix $T/bad.json and restart charon" \
	"$T/charon-gw.log"
sleep 1
check "charon is still running" tunnel_charon_alive gw
check "charon still answers over vici" charon_serves_vici
check "no clustergate connection is configured" sh -c \
	"! swanctl --list-conns --uri unix://$T/gw.vici | grep -q clustergate"
check "no IKE_SA was initiated" sh -c \
	"! grep -q 'initiating IKE_SA' $T/charon-gw.log"
tunnel_charon_kill gw
$BIN/clustergate office-config -c "$T/bad.json" > "$T/office-bad.out" 2> "$T/office-bad.err"
check "office-config refuses the same file" test $? = 1
check "  naming the problem" grep -qF \
	"$T/bad.json: cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR" \
	"$T/office-bad.err"
check "  and prints no config" test ! -s "$T/office-bad.out"

# 2. A file that is not there, and one that is not JSON.
check "charon starts without its clustergate.json" gw_start_with_config "$T/missing.json"
check "log says the file cannot be read" wait_for 5 grep -qF \
	"clustergate: $T/missing.json: " "$T/charon-gw.log"
sleep 1
check "charon is still running" tunnel_charon_alive gw
check "charon still answers over vici" charon_serves_vici
tunnel_charon_kill gw
printf '{"gateway": {' > "$T/truncated.json"
check "charon starts with a truncated clustergate.json" gw_start_with_config "$T/truncated.json"
check "log points at the JSON syntax error" wait_for 5 grep -qF \
	"clustergate: $T/truncated.json: (file): invalid JSON at line 1" "$T/charon-gw.log"
check "charon still answers over vici" charon_serves_vici
tunnel_charon_kill gw

# 3. A proposal strongSwan cannot parse: the plugin's own check.
python3 - "$T/gw.json" "$T/badprop.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ike"]["esp_proposals"] = ["aes256gcm16-x25519", "aes999-sha7"]
json.dump(c, open(sys.argv[2], "w"))
PY
check "charon starts with an unknown ESP proposal" gw_start_with_config "$T/badprop.json"
check "log names the bad proposal" wait_for 5 grep -qF \
	"clustergate: ike.esp_proposals[1]: 'aes999-sha7' is not a valid ESP proposal" \
	"$T/charon-gw.log"
check "log says the plugin is disabled" grep -qF \
	"clustergate: plugin disabled, no tunnel configured" "$T/charon-gw.log"
check "charon still answers over vici" charon_serves_vici
tunnel_charon_kill gw

# 4. Wrong PSK: the office config comes from a file with another secret.
printf 'not-the-gateway-psk\n' > "$T/office.psk"
chmod 600 "$T/office.psk"
sed "s#\"$T/psk\"#\"$T/office.psk\"#" "$T/gw.json" > "$T/office-view.json"
check "gateway charon starts" gw_start_with_config "$T/gw.json"
mkdir -p "$T/office"
$BIN/clustergate office-config -c "$T/office-view.json" -o "$T/office" > /dev/null
printf 'include %s/clustergate.conf\ninclude %s/clustergate-secrets.conf\n' \
	"$T/office" "$T/office" > "$T/office/swanctl.conf"
check "office charon starts" tunnel_charon_start office "$OFFICE"
swanctl_at office --load-all --noprompt --file "$T/office/swanctl.conf" \
	>> "$T/swanctl-office.out" 2>&1
check "gateway log says the PSK did not match" wait_for 15 grep -qF \
	"tried 1 shared key for 'gw.cloud.example' - 'office.example', but MAC mismatched" \
	"$T/charon-gw.log"
check "office log says authentication failed" wait_for 10 grep -q \
	"received AUTHENTICATION_FAILED notify error" "$T/charon-office.log"
sleep 3
check "no CHILD_SA on the gateway" not child_installed gw
check "no CHILD_SA on the office" not child_installed office
check "gateway charon is alive" tunnel_charon_alive gw
check "office charon is alive" tunnel_charon_alive office
check "client cannot reach the pod" not client_reaches_pod

tunnel_charon_kill office
tunnel_charon_kill gw
finish
