# Tunnel test topology and charon helpers (sourced after tests/lib.sh).
#
#   client 172.16.0.50 -- 172.16.0.1 [office] 198.51.100.10
#                                        |  IKE/ESP-in-UDP 4500
#                                     203.0.113.10 [gw] 10.0.0.1 -- pod 10.0.0.13
#
# [gw] runs charon with our plugin (loaded through an overlay over
# /usr/lib/ipsec/plugins inside charon's private mount namespace) and a
# clustergated; [office] runs a stock charon loaded with the swanctl.conf
# that `clustergate office-config` generates. Both use kernel-libipsec: ESP
# in UDP 4500, TUN device ipsec0, routes in table 220.
#
# kernel-libipsec fails a CHILD_SA unless every local selector holds one of
# the host's own addresses (its route source; the XFRM data path has no
# such rule). So the gateway sits in the pod subnet (10.0.0.1) and holds
# 10.0.56.1 of the service CIDR; the office gateway's LAN is 172.16.0.1.
#
# Defines GW OFFICE CLIENT POD, T (= $CG_TMP), BIN.
BIN=build/bin
T=$CG_TMP
TUNNEL_PLUGINS="random nonce aes sha1 sha2 hmac gcm curve25519 openssl pem \
pkcs1 pkcs8 pubkey x509 revocation constraints kdf kernel-libipsec \
kernel-netlink socket-default vici updown"
# Short DPD and retransmissions so failures show within seconds.
DPD_DELAY=2

tunnel_topology_up() {
	GW=$(cg_ns gw) && OFFICE=$(cg_ns office) && CLIENT=$(cg_ns client) &&
	POD=$(cg_ns pod) || return 1
	cg_link "$OFFICE" wan0 "$GW" wan0 || return 1
	ip -n "$OFFICE" addr add 198.51.100.10/24 dev wan0
	ip -n "$OFFICE" route add 203.0.113.0/24 dev wan0
	ip -n "$GW" addr add 203.0.113.10/24 dev wan0
	ip -n "$GW" route add 198.51.100.0/24 dev wan0

	cg_link "$CLIENT" eth0 "$OFFICE" lan0 || return 1
	ip -n "$CLIENT" addr add 172.16.0.50/24 dev eth0
	ip -n "$CLIENT" route add default via 172.16.0.1
	ip -n "$OFFICE" addr add 172.16.0.1/24 dev lan0

	cg_link "$POD" eth0 "$GW" vpc0 || return 1
	ip -n "$POD" addr add 10.0.0.13/20 dev eth0
	ip -n "$POD" route add default via 10.0.0.1
	ip -n "$GW" addr add 10.0.0.1/20 dev vpc0
	ip -n "$GW" addr add 10.0.56.1/32 dev lo

	for ns in "$GW" "$OFFICE"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
	done
	mkdir -p "$T/plugins" "$T/www"
	cp build/libstrongswan-clustergate.so "$T/plugins/"
	echo "hello through the tunnel" > "$T/www/hello.txt"
}

# tunnel_config FILE AUTH: the gateway's clustergate.json. AUTH is "psk"
# (psk file $T/psk) or "cert" ($T/pki/*).
tunnel_config() {
	python3 - "$1" "$2" "$T" "$DPD_DELAY" <<'PY'
import json, sys
path, auth, tmp, dpd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = {
    "gateway": {"public_address": "203.0.113.10", "id": "gw.cloud.example",
                "vpc_address": "10.0.0.1", "vpc_interface": "vpc0",
                "tunnel_interface": "ipsec0"},
    "office": {"address": "198.51.100.10", "id": "office.example",
               "subnets": ["172.16.0.0/24"]},
    "ike": {"dpd_delay": dpd, "dpd_timeout": 3 * dpd},
    "cluster": {"service_cidr": "10.0.56.0/21", "pod_cidrs": ["10.0.0.0/20"]},
    "services": {"mode": "proxy"},
    "nat": {"snat": False},
    "control": {"socket": tmp + "/cg.sock"},
    "metrics": {"listen": "127.0.0.1:9469"},
}
if auth == "psk":
    config["auth"] = {"psk_file": tmp + "/psk"}
else:
    config["auth"] = {"cert_file": tmp + "/pki/gw.crt",
                      "key_file": tmp + "/pki/gw.key",
                      "ca_file": tmp + "/pki/ca.crt"}
json.dump(config, open(path, "w"), indent=1)
PY
}

# tunnel_strongswan_conf SIDE [PLUGIN_SETTINGS]: strongswan.conf for one
# charon; with settings, the clustergate plugin is loaded too.
tunnel_strongswan_conf() {
	cat <<-EOF
	charon {
		load_modular = no
		load = $TUNNEL_PLUGINS${2:+ clustergate}
		install_virtual_ip = no
		retransmit_timeout = 1.0
		retransmit_base = 1.2
		retransmit_tries = 3
		plugins {
			vici {
				socket = unix://$T/$1.vici
			}
			${2:-}
		}
		filelog {
			test {
				path = $T/charon-$1.log
				time_format = %H:%M:%S
				flush_line = yes
				default = 1
			}
		}
	}
	EOF
}

# tunnel_charon_start SIDE NS [PLUGIN_SETTINGS]: start charon in NS with a
# private /run; sets CHARON_PID_<SIDE>.
tunnel_charon_start() {
	_side=$1 _ns=$2 _settings=${3:-} _overlay=""
	tunnel_strongswan_conf "$_side" "$_settings" > "$T/strongswan-$_side.conf"
	rm -f "$T/$_side.vici"
	if [ -n "$_settings" ]; then
		_overlay="mount -t overlay overlay -o lowerdir=$T/plugins:/usr/lib/ipsec/plugins /usr/lib/ipsec/plugins &&"
	fi
	cg_bg "$_ns" unshare -m sh -c "mount -t tmpfs none /run && $_overlay \
		STRONGSWAN_CONF=$T/strongswan-$_side.conf exec /usr/lib/ipsec/charon" \
		>>"$T/charon-$_side.out" 2>&1
	eval "CHARON_PID_$_side=$CG_LAST_PID"
	wait_for 10 test -S "$T/$_side.vici"
}

# tunnel_charon_kill SIDE [SIGNAL]: stop one charon by its PID, wait.
tunnel_charon_kill() {
	eval "_pid=\${CHARON_PID_$1:-}"
	[ -n "$_pid" ] || return 0
	kill "-${2:-TERM}" "$_pid" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $_pid" || kill -9 "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	eval "CHARON_PID_$1="
	rm -f "$T/$1.vici"
}

tunnel_charon_alive() {
	eval "_pid=\${CHARON_PID_$1:-}"
	[ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null
}

swanctl_at() {
	_side=$1; shift
	swanctl "$@" --uri "unix://$T/$_side.vici"
}

# tunnel_office_start [-o] [office-config options]: stock charon on the
# office side, loaded with what `clustergate office-config` prints (one
# file: connections, then secrets) or, with -o, writes into $T/office.
tunnel_office_start() {
	mkdir -p "$T/office"
	if [ "${1:-}" = -o ]; then
		shift
		$BIN/clustergate office-config -c "$T/gw.json" -o "$T/office" "$@" \
			> "$T/office-config.out" 2>&1 || return 1
		printf 'include %s/clustergate.conf\ninclude %s/clustergate-secrets.conf\n' \
			"$T/office" "$T/office" > "$T/office/swanctl.conf"
	else
		$BIN/clustergate office-config -c "$T/gw.json" "$@" \
			> "$T/office/swanctl.conf" 2> "$T/office-config.out" || return 1
	fi
	tunnel_charon_start office "$OFFICE" &&
	swanctl_at office --load-all --noprompt --file "$T/office/swanctl.conf" \
		>> "$T/swanctl-office.out" 2>&1
}

tunnel_gw_start() {
	tunnel_charon_start gw "$GW" "clustergate {
				config = $T/gw.json
				sync_interval = 1
			}"
}

# An INSTALLED CHILD_SA "clustergate" as swanctl on SIDE lists it.
child_installed() {
	swanctl_at "$1" --list-sas --raw 2>/dev/null |
		grep -q 'name=clustergate uniqueid=[0-9]* reqid=[0-9]* state=INSTALLED'
}

# Inbound SPIs of the installed CHILD_SAs on SIDE, one a line. There can
# be two for a few seconds: when both sides initiate at once, charon keeps
# the newer IKE_SA and deletes the duplicate 10 s later.
child_spis() {
	swanctl_at "$1" --list-sas --raw 2>/dev/null |
		grep -o 'state=INSTALLED [^}]*' | grep -o 'spi-in=[0-9a-f]*' |
		cut -d= -f2
}

# Bytes received over all CHILD_SAs on SIDE.
child_bytes_in() {
	swanctl_at "$1" --list-sas --raw 2>/dev/null |
		grep -o 'bytes-in=[0-9]*' | cut -d= -f2 | awk '{ n += $1 } END { print n + 0 }'
}

client_reaches_pod() {
	ip netns exec "$CLIENT" ping -c 1 -W 1 10.0.0.13 >/dev/null 2>&1
}

status_field() {
	$BIN/clustergate status --json -s "$T/cg.sock" 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin)['tunnel']; v=d['$1']; print(', '.join(v) if isinstance(v, list) else v)"
}

# status_is KEY VALUE: the tunnel section's KEY (lists joined by ", ").
status_is() {
	[ "$(status_field "$1")" = "$2" ]
}

# not CMD...: succeeds when CMD fails (for check/wait_for).
not() {
	! "$@"
}
