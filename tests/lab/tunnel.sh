# The IPsec tunnel between the office gateway and the cloud gateway.
# Sourced by lab.sh.
#
# The kernel here has no XFRM data path, so both sides use strongSwan's
# kernel-libipsec (ESP in UDP 4500, TUN device ipsec0, routes in table
# 220). Each charon runs in its own namespace with a private /run (its pid
# file) and its own vici socket under the lab's log directory, which
# swanctl reaches with --uri.

LAB_PSK="clustergate-lab-psk-not-secret"
LAB_CHARON=/usr/lib/ipsec/charon
LAB_CHARON_PLUGINS="random nonce aes sha1 sha2 hmac gcm curve25519 openssl \
pem pkcs1 pubkey x509 kdf kernel-libipsec kernel-netlink socket-default vici \
updown"
# The stock row's cloud-side selector is the whole VPC: kernel-libipsec
# installs its TUN route only for a local selector that holds one of the
# gateway's own addresses (here 10.0.16.5). The XFRM data path has no
# such rule.
LAB_VPC_CIDR=10.0.0.0/16

# lab_strongswan_conf SIDE [EXTRA]: strongswan.conf for one charon.
# EXTRA is inserted into the charon section (e.g. a plugin's settings).
lab_strongswan_conf() {
	cat <<-EOF
	charon {
		load_modular = no
		load = $LAB_CHARON_PLUGINS${2:+ clustergate}
		install_virtual_ip = no
		retransmit_timeout = 1.0
		retransmit_tries = 3
		plugins {
			vici {
				socket = unix://$LAB_LOGS/$1.vici
			}
			${2:-}
		}
		filelog {
			lab {
				path = $LAB_LOGS/charon-$1.log
				time_format = %H:%M:%S
				flush_line = yes
				default = 1
				ike = 1
				knl = 1
			}
		}
	}
	EOF
}

# lab_charon_start SIDE NS [PLUGIN_DIR PLUGIN_SETTINGS]: start charon in NS.
# With PLUGIN_DIR, an overlay mount over /usr/lib/ipsec/plugins inside
# charon's private mount namespace adds the clustergate plugin from there.
# Sets LAB_CHARON_PID_<SIDE>.
lab_charon_start() {
	_side=$1 _ns=$2 _plugdir=${3:-} _settings=${4:-}
	lab_strongswan_conf "$_side" "$_settings" > "$LAB_LOGS/strongswan-$_side.conf"
	rm -f "$LAB_LOGS/$_side.vici"
	_overlay=""
	if [ -n "$_plugdir" ]; then
		_overlay="mount -t overlay overlay -o lowerdir=$_plugdir:/usr/lib/ipsec/plugins /usr/lib/ipsec/plugins &&"
	fi
	cg_bg "$_ns" unshare -m sh -c "mount -t tmpfs none /run && $_overlay \
		STRONGSWAN_CONF=$LAB_LOGS/strongswan-$_side.conf exec $LAB_CHARON" \
		>>"$LAB_LOGS/charon-$_side.out" 2>&1
	eval "LAB_CHARON_PID_$_side=$CG_LAST_PID"
	wait_for 10 test -S "$LAB_LOGS/$_side.vici"
}

# lab_charon_stop SIDE: stop one charon (by its recorded PID) and wait.
lab_charon_stop() {
	eval "_pid=\${LAB_CHARON_PID_$1:-}"
	[ -n "$_pid" ] || return 0
	kill "$_pid" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $_pid" || kill -9 "$_pid" 2>/dev/null
	eval "LAB_CHARON_PID_$1="
	rm -f "$LAB_LOGS/$1.vici"
}

lab_swanctl() {
	_side=$1; shift
	swanctl "$@" --uri "unix://$LAB_LOGS/$_side.vici"
}

# Stock swanctl.conf for one side. Used for the plain-tunnel row, which
# needs no clustergate code at all.
lab_stock_swanctl_conf() {
	if [ "$1" = office ]; then
		_local=198.51.100.10 _remote=203.0.113.10
		_lid=office.example _rid=gw.cloud.example
		_lts=$LAB_OFFICE_CIDR _rts=$LAB_VPC_CIDR
	else
		_local=203.0.113.10 _remote=198.51.100.10
		_lid=gw.cloud.example _rid=office.example
		_lts=$LAB_VPC_CIDR _rts=$LAB_OFFICE_CIDR
	fi
	cat <<-EOF
	connections {
		lab {
			version = 2
			local_addrs = $_local
			remote_addrs = $_remote
			proposals = aes256gcm16-prfsha384-x25519
			dpd_delay = 10s
			local {
				auth = psk
				id = $_lid
			}
			remote {
				auth = psk
				id = $_rid
			}
			children {
				cluster {
					local_ts = $_lts
					remote_ts = $_rts
					esp_proposals = aes256gcm16-x25519
					dpd_action = restart
					close_action = start
				}
			}
		}
	}
	secrets {
		ike-lab {
			id-1 = office.example
			id-2 = gw.cloud.example
			secret = "$LAB_PSK"
		}
	}
	EOF
}

# lab_swanctl_load SIDE FILE: load a swanctl.conf into that side's charon.
lab_swanctl_load() {
	lab_swanctl "$1" --load-all --noprompt --file "$2" \
		>>"$LAB_LOGS/swanctl-$1.out" 2>&1
}

# lab_tunnel_established SIDE: one CHILD_SA installed.
lab_tunnel_established() {
	lab_swanctl "$1" --list-sas 2>/dev/null | grep -q INSTALLED
}

# lab_tunnel_stock_up: both sides stock strongSwan, office initiates.
lab_tunnel_stock_up() {
	lab_stock_swanctl_conf office > "$LAB_LOGS/swanctl-office.conf"
	lab_stock_swanctl_conf cloud > "$LAB_LOGS/swanctl-cloud.conf"
	lab_charon_start office "$NS_OFFICE" &&
	lab_charon_start cloud "$NS_GW" || return 1
	lab_swanctl_load cloud "$LAB_LOGS/swanctl-cloud.conf" &&
	lab_swanctl_load office "$LAB_LOGS/swanctl-office.conf" || return 1
	lab_swanctl office --initiate --child cluster --timeout 10 \
		>>"$LAB_LOGS/swanctl-office.out" 2>&1
	wait_for 15 lab_tunnel_established office &&
	wait_for 5 lab_tunnel_established cloud
}

lab_tunnel_down() {
	lab_charon_stop office
	lab_charon_stop cloud
}
