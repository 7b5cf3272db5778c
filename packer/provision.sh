#!/bin/sh
# Turns a Debian 12 system into a clustergate appliance. Used by the Packer
# template (on the build VM) and by `make image-smoke` (in a chroot).
#
#   packer/provision.sh [SOURCE_DIR]     (as root; default: this checkout)
#
# Environment:
#   MAKE_JOBS=N          parallel make jobs (default: number of CPUs)
#   KEEP_BUILD_DEPS=1    keep compilers and -dev packages installed
#   KEEP_APT_CACHE=1     leave downloaded .debs in /var/cache/apt/archives
#
# What it does:
#   1. installs the build dependencies and the runtime packages: charon from
#      Debian's charon-systemd package (strongswan.service), nftables;
#   2. builds a copy of SOURCE_DIR (the source stays untouched, it may be
#      read-only) and runs `make install`: binaries, charon plugin,
#      strongswan.d snippet, sysctl snippet, systemd units;
#   3. pins charon to the kernel XFRM data path (kernel-netlink, never
#      kernel-libipsec);
#   4. enables strongswan.service, clustergated.service and
#      clustergated.path, which starts the daemon once
#      /etc/clustergate/clustergate.json exists (cloud-init user data or a
#      file dropped there later);
#   5. removes the build dependencies again.
set -eu

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
jobs=${MAKE_JOBS:-$(nproc)}

die() { echo "provision: $*" >&2; exit 1; }
started=$(date +%s)
say() { echo "provision: [$(( $(date +%s) - started ))s] $*"; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
if [ ! -f "$src/Makefile" ] || [ ! -f "$src/packer/provision.sh" ]; then
	die "$src is not a clustergate source tree"
fi
# shellcheck disable=SC1091
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] ||
	die "this provisions Debian 12 (bookworm), found '${PRETTY_NAME:-unknown}'"

# strongswan-charon is build-only: the plugin build compares its version
# with the strongSwan source it fetches. It pulls in strongswan-starter (the
# ipsec.conf flavour, a second charon); both go with the build tools, so
# the image runs charon-systemd only.
BUILD_PACKAGES="build-essential pkg-config dpkg-dev bzip2 strongswan-charon
	libjansson-dev libmnl-dev libnftnl-dev libcurl4-openssl-dev
	libyaml-dev libmicrohttpd-dev"
# procps: /bin/kill, clustergated.service's ExecReload.
RUNTIME_PACKAGES="systemd procps charon-systemd strongswan-swanctl
	libstrongswan-standard-plugins nftables iproute2 ca-certificates
	libjansson4 libmnl0 libnftnl11 libcurl4 libyaml-0-2 libmicrohttpd12"

export DEBIAN_FRONTEND=noninteractive
say "installing packages"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $RUNTIME_PACKAGES $BUILD_PACKAGES >/dev/null ||
	die "apt-get install failed"
# Installed by name, so autoremove keeps them when the build tools go.
# shellcheck disable=SC2086
apt-mark manual $RUNTIME_PACKAGES >/dev/null

# The plugin build adds a deb-src stanza to fetch strongSwan's source;
# remove it afterwards unless it was already there.
deb_src=/etc/apt/sources.list.d/clustergate-src.sources
had_deb_src=no
[ -e "$deb_src" ] && had_deb_src=yes

work=$(mktemp -d /tmp/clustergate-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
say "building $src in $work"
tar -C "$src" --exclude=./build --exclude=./.git -cf - . | tar -C "$work" -xf -
make -C "$work" -j"$jobs" all >"$work.log" 2>&1 ||
	{ tail -n 40 "$work.log" >&2; die "build failed (log: $work.log)"; }
make -C "$work" install PREFIX=/usr >>"$work.log" 2>&1 ||
	{ tail -n 40 "$work.log" >&2; die "make install failed (log: $work.log)"; }
rm -f "$work.log"
if [ "$had_deb_src" = no ]; then rm -f "$deb_src"; fi

# Kernel XFRM data path: charon installs SAs and policies through
# kernel-netlink. kernel-libipsec (the user-space ESP used by the tests on
# machines without XFRM) is not even installed here; refuse it if present.
say "configuring charon for the kernel XFRM data path"
cat > /etc/strongswan.d/charon/clustergate-datapath.conf <<'EOF'
# Written by clustergate's packer/provision.sh: the appliance uses the
# kernel's XFRM data path, never strongSwan's user-space kernel-libipsec.
kernel-netlink {
    load = yes
}
kernel-libipsec {
    load = no
}
EOF
[ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-netlink.so ] ||
	die "kernel-netlink plugin missing from /usr/lib/ipsec/plugins"
[ -f /usr/lib/ipsec/plugins/libstrongswan-clustergate.so ] ||
	die "make install did not install the clustergate plugin"

# Debian's charon-systemd AppArmor profile (complain mode in Debian 12)
# does not know clustergate's files; allow them so enforce mode works too.
if [ -d /etc/apparmor.d ]; then
	mkdir -p /etc/apparmor.d/local
	local_profile=/etc/apparmor.d/local/usr.sbin.charon-systemd
	touch "$local_profile"
	grep -q 'clustergate' "$local_profile" || cat >> "$local_profile" <<'EOF'
# clustergate plugin: gateway config, secrets, clustergated's socket
/etc/clustergate/ r,
/etc/clustergate/** r,
/run/clustergate/clustergated.sock rw,
EOF
fi

say "enabling strongswan.service, clustergated.service, clustergated.path"
# Only one charon: the ipsec.conf flavour must not run next to it.
if [ -f /lib/systemd/system/strongswan-starter.service ]; then
	systemctl disable strongswan-starter.service >/dev/null 2>&1
fi
systemctl enable strongswan.service clustergated.service clustergated.path

if [ "${KEEP_BUILD_DEPS:-0}" != 1 ]; then
	say "removing build dependencies"
	# shellcheck disable=SC2086
	apt-get purge -y -qq --auto-remove $BUILD_PACKAGES >/dev/null ||
		die "apt-get purge of the build dependencies failed"
fi
if [ "${KEEP_APT_CACHE:-0}" != 1 ]; then
	apt-get clean
fi

for file in /usr/sbin/clustergated /usr/bin/clustergate \
		/usr/lib/ipsec/plugins/libstrongswan-clustergate.so; do
	if ldd "$file" | grep -q 'not found'; then
		die "$file: libraries missing after cleanup: $(ldd "$file" | grep 'not found')"
	fi
done
say "done"
