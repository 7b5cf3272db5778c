#!/bin/bash
# make image-smoke: the appliance image without a cloud.
#
# 1. debootstrap a Debian 12 root file system (minbase; cached in
#    build/image/bookworm-base, from this machine's Debian mirror);
# 2. copy it and run packer/provision.sh in it (chroot, the source tree
#    bind-mounted read-only at /src), exactly as the Packer template does;
# 3. in that root, inside a network namespace of our own plus private mount
#    and PID namespaces: the units are enabled and verify; the sysctl
#    snippet applies as at boot; `clustergate check-config` accepts the
#    example config and rejects a broken one; clustergated, bounded to
#    CAP_NET_ADMIN, answers `status` and programs its nftables table;
#    charon-systemd (the image's charon) reports the clustergate plugin
#    loaded, on the kernel-netlink (XFRM) data path, without
#    kernel-libipsec; the plugin reports to clustergated.
#
# Needs root and network access to the Debian mirror. About 5-7 minutes
# (plus about a minute for the first debootstrap), which is why it is not
# part of `make check`.
. "$(dirname "$0")/../tests/lib.sh"
cd "$(dirname "$0")/.." || exit 1

image=$PWD/build/image
base=$image/bookworm-base
root=$image/root
archives=$image/apt-archives
started=$(date +%s)

step() { echo "== $* (at $(( $(date +%s) - started ))s)"; }
die() { echo "image-smoke: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v debootstrap >/dev/null || die "debootstrap is not installed (make deps)"

# Never delete through a mount point a crashed run may have left behind.
mounted_under() { awk -v r="$1" '$5 == r || index($5, r "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# --- 1. base root file system (cached) -----------------------------------
if [ ! -e "$base/.clustergate-base-complete" ]; then
	mirror=$(packer/debian-mirror.sh) || exit 1
	step "debootstrap bookworm (minbase) from $mirror"
	mounted_under "$base.tmp" && die "something is mounted under $base.tmp"
	rm -rf --one-file-system "$base.tmp"
	mkdir -p "$image"
	if ! debootstrap --variant=minbase --include=ca-certificates bookworm \
			"$base.tmp" "$mirror" >"$image/debootstrap.log" 2>&1; then
		tail -n 20 "$image/debootstrap.log"
		die "debootstrap failed (log: $image/debootstrap.log)"
	fi
	touch "$base.tmp/.clustergate-base-complete"
	mv "$base.tmp" "$base"
fi

# --- 2. provision a fresh copy --------------------------------------------
# IMAGE_SMOKE_REUSE=1 skips this when a provisioned root is already there
# (to iterate on the checks only).
provision_seconds=0
if [ "${IMAGE_SMOKE_REUSE:-0}" = 1 ] && [ -x "$root/usr/sbin/clustergated" ]; then
	step "reusing the provisioned root in $root"
else
step "fresh root from the cached base"
mounted_under "$root" && die "something is still mounted under $root"
rm -rf --one-file-system "$root"
cp -a "$base" "$root"
rm -f "$root/.clustergate-base-complete"
# apt as on this machine (the mirror is never written into the repository).
rm -f "$root/etc/apt/sources.list"
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
else
	cp /etc/apt/sources.list "$root/etc/apt/sources.list"
fi
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# A chroot starts no services.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/src" "$archives/partial"

step "packer/provision.sh in the chroot"
provision_started=$(date +%s)
if ! unshare --mount --propagation private sh -ec '
	mount --bind "$1" "$2/src"
	mount -o remount,bind,ro "$2/src"
	mount -t proc proc "$2/proc"
	mount --rbind /dev "$2/dev"
	mount -t sysfs -o ro sysfs "$2/sys"
	mount --bind "$3" "$2/var/cache/apt/archives"
	exec chroot "$2" /usr/bin/env MAKE_JOBS=2 KEEP_APT_CACHE=1 \
		sh /src/packer/provision.sh /src' \
		sh "$PWD" "$root" "$archives" >"$image/provision.log" 2>&1; then
	tail -n 40 "$image/provision.log"
	die "provision.sh failed (log: $image/provision.log)"
fi
sed 's/^/  /' "$image/provision.log"
rm -f "$root/usr/sbin/policy-rc.d"
provision_seconds=$(( $(date +%s) - provision_started ))
fi

# --- 3. checks inside the provisioned root -------------------------------
step "checks"
# The config as cloud-init's write_files leaves it before services start.
(
	umask 077
	echo "smoke-test-psk-not-a-secret" >"$root/etc/clustergate/psk"
	cat >"$root/etc/clustergate/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters:
- name: k8s
  cluster:
    server: https://10.0.32.10:6443
users:
- name: clustergate
  user:
    token: smoke-test-token
contexts:
- name: clustergate
  context:
    cluster: k8s
    user: clustergate
current-context: clustergate
EOF
	cp "$root/etc/clustergate/clustergate.json.example" "$root/etc/clustergate/clustergate.json"
)
# charon-systemd logs to the journal only; add a file log for this run.
cat >"$root/etc/strongswan.d/zz-image-smoke.conf" <<'EOF'
charon-systemd {
    filelog {
        smoke {
            path = /tmp/charon.log
            default = 1
            flush_line = yes
        }
    }
}
EOF

ns=$(cg_ns smoke) || die "cannot create a network namespace"
# A holder process: a PID namespace whose init is chrooted into the image,
# and private mounts: the image read-only (like ProtectSystem=strict), a
# fresh /run and /tmp. --kill-child tears it all down (charon and
# clustergated included) when lib.sh kills the recorded PID at exit.
ip netns exec "$ns" unshare --mount --propagation private --pid --fork --kill-child \
	sh -ec '
	mount --bind "$1" "$1"
	mount -o remount,bind,ro "$1"
	mount -t proc proc "$1/proc"
	mount -t tmpfs -o mode=0755 tmpfs "$1/run"
	mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
	mount --rbind /dev "$1/dev"
	exec chroot "$1" sleep infinity' sh "$root" &
holder=$!
cg_track_pid "$holder"
disown "$holder"
# Its init, once it has chrooted into the image.
holder_init() {
	pid=$(cat "/proc/$holder/task/$holder/children") && pid=${pid%% *} &&
	[ -n "$pid" ] && [ "$(readlink "/proc/$pid/root")" = "$root" ] && echo "$pid"
}
wait_for 10 holder_init >/dev/null || die "the namespace holder did not start"
init=$(holder_init)
# in_root CMD...: run CMD in the image, inside the holder's namespaces.
in_root() { nsenter --target "$init" --mount --net --pid --root --wd -- "$@"; }
wait_for 10 in_root test -d /proc/1 || die "cannot enter the image's namespaces"
read_only() { ! in_root touch /etc/clustergate/probe 2>/dev/null; }
check "the image is mounted read-only for the checks" read_only

log=$CG_TMP/log
quiet_ok() {
	"$@" >"$log" 2>&1; rc=$?
	[ "$rc" -eq 0 ] && [ ! -s "$log" ] && return 0
	echo "  exit $rc:"; sed 's/^/  | /' "$log"; return 1
}

# Units, as systemd will see them at boot.
enabled() { [ "$(in_root systemctl --root=/ is-enabled "$1" 2>&1)" = enabled ]; }
check "strongswan.service (charon-systemd) is enabled" enabled strongswan.service
check "clustergated.service is enabled" enabled clustergated.service
check "clustergated.path is enabled" enabled clustergated.path
check "no second charon: strongswan-starter is not installed" \
	in_root test ! -e /lib/systemd/system/strongswan-starter.service
check "only charon-systemd: no /usr/lib/ipsec/charon" in_root test ! -e /usr/lib/ipsec/charon
check "units verify in the image, without warnings" quiet_ok in_root \
	systemd-analyze verify /lib/systemd/system/strongswan.service \
	/lib/systemd/system/clustergated.service /lib/systemd/system/clustergated.path
check "build dependencies are gone (no gcc)" in_root test ! -e /usr/bin/gcc

# sysctl, applied by systemd-sysctl as at boot: every file, in order, but
# only net.ipv4 keys, which belong to our network namespace.
check "sysctl files apply (net.ipv4)" quiet_ok in_root /lib/systemd/systemd-sysctl --prefix=/net/ipv4
check "ip_forward = 1" test "$(in_root cat /proc/sys/net/ipv4/ip_forward)" = 1
check "rp_filter = 2" test "$(in_root cat /proc/sys/net/ipv4/conf/all/rp_filter)" = 2

check_config_ok() {
	out=$(in_root clustergate check-config /etc/clustergate/clustergate.json.example 2>&1)
	[ "$out" = OK ] || { echo "  | $out"; return 1; }
}
check "clustergate check-config accepts the example config" check_config_ok
in_root sh -c "sed 's|\"10.0.56.0/21\"|\"10.0.56.0/33\"|' \
	/etc/clustergate/clustergate.json.example >/tmp/broken.json"
check_config_rejects() {
	out=$(in_root clustergate check-config /tmp/broken.json 2>&1) && return 1
	echo "$out" | grep -q "cluster.service_cidr: '10.0.56.0/33'" ||
		{ echo "  | $out"; return 1; }
}
check "clustergate check-config rejects service_cidr 10.0.56.0/33" check_config_rejects
# The office side, generated in the image from the same file.
office_says() { in_root clustergate office-config -c /etc/clustergate/clustergate.json 2>&1 | grep -qx "[[:space:]]*$1"; }
check "office-config: the office peers with 203.0.113.10" office_says 'remote_addrs = 203.0.113.10'
check "office-config: office subnet <-> service, pod, node CIDRs" \
	eval 'office_says "local_ts = 172.16.0.0/24" && office_says "remote_ts = 10.0.56.0/21,10.0.0.0/20,10.0.32.0/20"'

# clustergated as its unit runs it: capabilities bounded to CAP_NET_ADMIN,
# no new privileges, nothing writable but /run/clustergate (RuntimeDirectory).
in_root install -d -m 0750 /run/clustergate
in_root setpriv --bounding-set=-all,+net_admin --inh-caps=-all --no-new-privs \
	/usr/sbin/clustergated -c /etc/clustergate/clustergate.json \
	>"$CG_TMP/clustergated.log" 2>&1 &
cg_track_pid $!
disown $!
check "clustergated (CAP_NET_ADMIN only) opens its control socket" \
	wait_for 10 in_root test -S /run/clustergate/clustergated.sock
status_says() { in_root clustergate status 2>/dev/null | grep -qE "$1"; }
check "clustergate status answers" \
	status_says '^  config_path: /etc/clustergate/clustergate.json$'
# With CAP_NET_ADMIN alone it programs the kernel: SNAT to the VPC address.
snat_programmed() { in_root nft list table inet clustergate 2>/dev/null | grep -q 'snat ip to 10.0.16.5'; }
check "clustergated programs table inet clustergate (snat to 10.0.16.5)" \
	wait_for 10 snat_programmed

in_root /usr/sbin/charon-systemd >/dev/null 2>&1 &
cg_track_pid $!
disown $!
check "charon-systemd opens its vici socket" wait_for 20 in_root test -S /run/charon.vici
in_root swanctl --stats >"$CG_TMP/stats" 2>&1
plugins=$(sed -n 's/^loaded plugins: //p' "$CG_TMP/stats")
echo "  loaded plugins: $plugins"
has_plugin() { case " $plugins " in *" $1 "*) return 0 ;; esac; return 1; }
lacks_plugin() { ! has_plugin "$1"; }
check "charon reports the clustergate plugin loaded" has_plugin clustergate
check "charon uses kernel-netlink (XFRM data path)" has_plugin kernel-netlink
check "charon does not load kernel-libipsec" lacks_plugin kernel-libipsec
check "the plugin reports to clustergated (tunnel last_report set)" \
	wait_for 15 status_says '^  last_report: [0-9]{4}-'
if [ "$CG_FAILURES" -ne 0 ]; then
	echo "  charon log:"; in_root tail -n 40 /tmp/charon.log | sed 's/^/  | /'
	echo "  clustergated log:"; tail -n 20 "$CG_TMP/clustergated.log" | sed 's/^/  | /'
fi

echo "image-smoke: provision ${provision_seconds}s, total $(( $(date +%s) - started ))s"
finish
