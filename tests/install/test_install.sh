#!/bin/bash
# `make install` into a DESTDIR gives the appliance layout, with the right
# modes; the systemd units pass `systemd-analyze verify` against the
# installed binaries; the sysctl snippet, applied the way systemd does at
# boot, turns on forwarding and loose rp_filter; the Packer template passes
# `packer validate` offline.
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.." || exit 1

dest=$CG_TMP/root
log=$CG_TMP/log

# mode_is PATH MODE: PATH (under the DESTDIR) exists with octal MODE.
mode_is() {
	[ -e "$dest$1" ] || { echo "  $1: missing"; return 1; }
	got=$(stat -c %a "$dest$1")
	[ "$got" = "$2" ] || { echo "  $1: mode $got, want $2"; return 1; }
}

# quiet_ok CMD...: CMD exits 0 and prints nothing (systemd-analyze verify
# reports many problems as warnings, "ignoring", and still exits 0).
quiet_ok() {
	"$@" >"$log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && [ ! -s "$log" ] && return 0
	echo "  exit $rc:"; sed 's/^/  | /' "$log"
	return 1
}

# --- make install --------------------------------------------------------
if make --no-print-directory install DESTDIR="$dest" >"$CG_TMP/install.log" 2>&1; then
	pass "make install DESTDIR=... succeeds"
else
	fail "make install DESTDIR=... succeeds"; tail -n 30 "$CG_TMP/install.log"
	finish
fi

check "clustergated in /usr/sbin, 0755" mode_is /usr/sbin/clustergated 755
check "clustergate CLI in /usr/bin, 0755" mode_is /usr/bin/clustergate 755
check "charon plugin in /usr/lib/ipsec/plugins, 0644" \
	mode_is /usr/lib/ipsec/plugins/libstrongswan-clustergate.so 644
check "strongswan.d snippet, 0644" mode_is /etc/strongswan.d/charon/clustergate.conf 644
check "iproute2 protocol name, 0644" mode_is /etc/iproute2/rt_protos.d/clustergate.conf 644
check "/etc/clustergate is 0750 (the real config points at secrets)" \
	mode_is /etc/clustergate 750
check "example config, 0644" mode_is /etc/clustergate/clustergate.json.example 644
check "sysctl snippet, 0644" mode_is /etc/sysctl.d/60-clustergate.conf 644
check "clustergated.service, 0644" mode_is /lib/systemd/system/clustergated.service 644
check "clustergated.path, 0644" mode_is /lib/systemd/system/clustergated.path 644
check "strongswan.service drop-in, 0644" \
	mode_is /lib/systemd/system/strongswan.service.d/clustergate.conf 644
check "example config is etc/clustergate.json" \
	cmp -s etc/clustergate.json "$dest/etc/clustergate/clustergate.json.example"

# charon finds a plugin by its <name>_plugin_create symbol.
exports_create() {
	nm -D --defined-only "$dest/usr/lib/ipsec/plugins/libstrongswan-clustergate.so" |
		grep -qw clustergate_plugin_create
}
check "plugin exports clustergate_plugin_create" exports_create
runs_help() { "$1" --help >/dev/null; }
check "installed CLI runs (--help)" runs_help "$dest/usr/bin/clustergate"
check "installed daemon runs (--help)" runs_help "$dest/usr/sbin/clustergated"

# Anything outside the expected layout is a surprise.
expected="./etc/clustergate/clustergate.json.example
./etc/iproute2/rt_protos.d/clustergate.conf
./etc/strongswan.d/charon/clustergate.conf
./etc/sysctl.d/60-clustergate.conf
./lib/systemd/system/clustergated.path
./lib/systemd/system/clustergated.service
./lib/systemd/system/strongswan.service.d/clustergate.conf
./usr/bin/clustergate
./usr/lib/ipsec/plugins/libstrongswan-clustergate.so
./usr/sbin/clustergated"
same_files() {
	got=$(cd "$dest" && find . -type f | sort)
	[ "$got" = "$expected" ] || { diff <(echo "$expected") <(echo "$got") | sed 's/^/  /'; return 1; }
}
check "DESTDIR holds exactly the expected files" same_files

# --- systemd units -------------------------------------------------------
# verify checks that ExecStart= binaries exist, so lay the DESTDIR's /usr
# over the real one in a private mount namespace: the units are verified
# against the installed binaries and the machine's own targets.
verify_units() {
	quiet_ok unshare --mount --propagation private sh -c '
		mount -t overlay overlay -o lowerdir="$1/usr":/usr /usr &&
		systemd-analyze verify "$1/lib/systemd/system/clustergated.service" \
			"$1/lib/systemd/system/clustergated.path"' sh "$dest"
}
check "units pass systemd-analyze verify, without warnings" verify_units

# The same check must notice a broken unit, or it proves nothing.
cp "$dest/lib/systemd/system/clustergated.service" "$CG_TMP/broken.service"
sed -i 's/^Restart=on-failure/Restart=on-failur/' "$CG_TMP/broken.service"
broken_unit_rejected() {
	! quiet_ok unshare --mount --propagation private sh -c '
		mount -t overlay overlay -o lowerdir="$1/usr":/usr /usr &&
		systemd-analyze verify "$2"' sh "$dest" "$CG_TMP/broken.service" >/dev/null &&
	grep -q "Failed to parse service restart specifier" "$log"
}
check "verify reports a misspelt Restart= value" broken_unit_rejected

# Hardening: systemd's own review scores the service "OK" (<= 2.0 of 10).
exposure_ok() {
	systemd-analyze security --offline=true --threshold=20 \
		"$dest/lib/systemd/system/clustergated.service" >"$log" 2>&1 ||
		{ grep 'Overall' "$log"; return 1; }
}
check "clustergated.service exposure level <= 2.0" exposure_ok
echo "  $(grep -o 'Overall exposure level.*' "$log")"

# The unit gets exactly the capability it needs.
caps_ok() {
	grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' \
		"$dest/lib/systemd/system/clustergated.service"
}
check "clustergated is bounded to CAP_NET_ADMIN" caps_ok

# A different PREFIX is carried into the units.
prefix_dest=$CG_TMP/prefix
make --no-print-directory install DESTDIR="$prefix_dest" PREFIX=/usr/local >"$CG_TMP/install2.log" 2>&1
check "PREFIX=/usr/local: ExecStart follows" grep -qx \
	'ExecStart=/usr/local/sbin/clustergated -c /etc/clustergate/clustergate.json' \
	"$prefix_dest/lib/systemd/system/clustergated.service"
check "PREFIX=/usr/local: daemon installed there" test -x "$prefix_dest/usr/local/sbin/clustergated"

# --- sysctl --------------------------------------------------------------
# Applied by systemd-sysctl, as at boot, inside a namespace of our own that
# already has a NIC (eth0), like a VM when sysctl runs.
ns=$(cg_ns sysctl)
peer=$(cg_ns sysctlpeer)
cg_link "$ns" eth0 "$peer" eth0
sysctl_in_ns() { ip netns exec "$ns" cat "/proc/sys/net/ipv4/$1"; }
check "sysctl snippet applies cleanly" quiet_ok ip netns exec "$ns" \
	/lib/systemd/systemd-sysctl "$dest/etc/sysctl.d/60-clustergate.conf"
check "ip_forward = 1" test "$(sysctl_in_ns ip_forward)" = 1
check "rp_filter = 2 (loose): all, default, eth0" test \
	"$(sysctl_in_ns conf/all/rp_filter)$(sysctl_in_ns conf/default/rp_filter)$(sysctl_in_ns conf/eth0/rp_filter)" = 222
check "send_redirects = 0: all, default, eth0" test \
	"$(sysctl_in_ns conf/all/send_redirects)$(sysctl_in_ns conf/default/send_redirects)$(sysctl_in_ns conf/eth0/send_redirects)" = 000
check "accept_redirects = 0 on eth0" test "$(sysctl_in_ns conf/eth0/accept_redirects)" = 0
check "fib_multipath_hash_policy = 1 (L4)" test "$(sysctl_in_ns fib_multipath_hash_policy)" = 1

# --- packer --------------------------------------------------------------
# Packer 1.6.6 has qemu and amazon-ebs built in, so validate needs no
# plugins; with a "file:" checksum URL it would download the list, so pass
# none and cut the network to prove nothing is fetched.
packer_validate() {
	CHECKPOINT_DISABLE=1 unshare --net packer validate \
		-var qemu_image_checksum=none "$1" >"$log" 2>&1 ||
		{ sed 's/^/  | /' "$log"; return 1; }
}
check "packer validate packer/clustergate.pkr.hcl (offline)" \
	packer_validate packer/clustergate.pkr.hcl
sed 's/^  ssh_username = "admin"/  ssh_usernme = "admin"/' packer/clustergate.pkr.hcl \
	>"$CG_TMP/broken.pkr.hcl"
rejects_broken() {
	! packer_validate "$CG_TMP/broken.pkr.hcl" >/dev/null &&
	grep -q 'ssh_usernme' "$log"
}
check "packer validate rejects a misspelt attribute" rejects_broken

finish
