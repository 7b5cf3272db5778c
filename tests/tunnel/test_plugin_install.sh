#!/bin/bash
# The installed layout works with Debian's stock strongswan.conf: `make
# install-charon-plugin` puts the plugin and its strongswan.d snippet in
# place (here under a DESTDIR, overlaid on the system paths inside charon's
# private mount namespace), load_modular picks the plugin up through the
# snippet's `load = yes`, and swanctl lists the connection it provides.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tunnel_lib.sh"

tunnel_topology_up || { fail "topology"; finish; }
printf 'install-test-psk\n' > "$T/psk"
chmod 600 "$T/psk"
tunnel_config "$T/gw.json" psk

system_plugin() { ls -l /usr/lib/ipsec/plugins/libstrongswan-clustergate.so 2>&1; }
system_before=$(system_plugin)
check "make install-charon-plugin installs into DESTDIR" \
	make -s --no-print-directory install-charon-plugin DESTDIR="$T/root"
check "plugin installed where charon looks" \
	test -f "$T/root/usr/lib/ipsec/plugins/libstrongswan-clustergate.so"
check "snippet installed into strongswan.d/charon" grep -q '^    load = yes' \
	"$T/root/etc/strongswan.d/charon/clustergate.conf"

# Test-only settings on top: where the config, log and vici socket are.
mkdir -p "$T/sd/charon"
cp "$T/root/etc/strongswan.d/charon/clustergate.conf" "$T/sd/charon/"
printf 'clustergate {\n    config = %s\n}\n' "$T/gw.json" > "$T/sd/charon/zz-test.conf"
cat > "$T/sd/zz-test.conf" <<EOC
charon {
	plugins {
		vici {
			socket = unix://$T/gw.vici
		}
	}
	filelog {
		test {
			path = $T/charon-gw.log
			default = 1
			flush_line = yes
		}
	}
}
EOC
cg_bg "$GW" unshare -m sh -c "mount -t tmpfs none /run &&
	mount -t overlay overlay -o lowerdir=$T/root/usr/lib/ipsec/plugins:/usr/lib/ipsec/plugins /usr/lib/ipsec/plugins &&
	mount -t overlay overlay -o lowerdir=$T/sd:/etc/strongswan.d /etc/strongswan.d &&
	exec /usr/lib/ipsec/charon" > "$T/charon-gw.out" 2>&1
CHARON_PID_gw=$CG_LAST_PID
check "stock charon starts" wait_for 10 test -S "$T/gw.vici"
check "it loads the plugin through the snippet" wait_for 5 grep -q \
	'loaded plugins: .* clustergate' "$T/charon-gw.log"
check "the plugin read its config" grep -qF "clustergate: loaded $T/gw.json" \
	"$T/charon-gw.log"
conns=$(swanctl --list-conns --uri "unix://$T/gw.vici" 2>&1)
check "swanctl lists the clustergate connection" sh -c \
	"echo '$conns' | grep -q '^clustergate: IKEv2, no reauthentication, rekeying every 14400s'"
check "  with the office as remote" sh -c \
	"echo '$conns' | grep -q '^  remote: 198.51.100.10$'"
check "  and our selectors" sh -c \
	"echo '$conns' | grep -q '^    local:  10.0.56.0/21 10.0.0.0/20$' &&
	 echo '$conns' | grep -q '^    remote: 172.16.0.0/24$'"
echo "$conns" | sed 's/^/# /'
tunnel_charon_kill gw
check "the system's plugin directory is untouched" \
	test "$(system_plugin)" = "$system_before"
finish
