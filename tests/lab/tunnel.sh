# The IPsec tunnel between the office gateway and the cloud gateway.
# Sourced by lab.sh.
#
# The kernel here has no XFRM data path, so both sides use strongSwan's
# kernel-libipsec (ESP in UDP 4500, TUN device ipsec0, routes in table
# 220). Each charon runs in its own namespace with a private /run (its pid
# file) and its own vici socket under the lab's log directory, which
# swanctl reaches with --uri.

LAB_PSK="clustergate-lab-psk-not-secret"

# Starting and stopping charon is shared with the tunnel tests:
# tunnel_charon_start SIDE NS [PLUGIN_SETTINGS] (private /run, vici socket
# $T/SIDE.vici, log $T/charon-SIDE.log, the plugin from $T/plugins through
# an overlay mount), tunnel_charon_kill SIDE, swanctl_at SIDE ARGS...
. "$LAB_REPO/tests/tunnel/tunnel_lib.sh"

# The stock row's cloud-side selector is the whole VPC: kernel-libipsec
# installs its TUN route only for a local selector that holds one of the
# gateway's own addresses (here 10.0.16.5). The XFRM data path has no
# such rule.
LAB_VPC_CIDR=10.0.0.0/16

lab_charon_start() { tunnel_charon_start "$@"; }
lab_charon_stop() { tunnel_charon_kill "$1"; }
lab_swanctl() { swanctl_at "$@"; }

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
				clustergate {
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

# lab_tunnel_established SIDE: the CHILD_SA "clustergate" is installed.
lab_tunnel_established() { child_installed "$1"; }

# lab_tunnel_stock_up: both sides stock strongSwan, office initiates.
lab_tunnel_stock_up() {
	lab_stock_swanctl_conf office > "$LAB_LOGS/swanctl-office.conf"
	lab_stock_swanctl_conf gw > "$LAB_LOGS/swanctl-gw.conf"
	lab_charon_start office "$NS_OFFICE" &&
	lab_charon_start gw "$NS_GW" || return 1
	lab_swanctl_load gw "$LAB_LOGS/swanctl-gw.conf" &&
	lab_swanctl_load office "$LAB_LOGS/swanctl-office.conf" || return 1
	lab_swanctl office --initiate --child clustergate --timeout 10 \
		>>"$LAB_LOGS/swanctl-office.out" 2>&1
	wait_for 15 lab_tunnel_established office &&
	wait_for 5 lab_tunnel_established gw
}

lab_tunnel_down() {
	lab_charon_stop office
	lab_charon_stop gw
}
