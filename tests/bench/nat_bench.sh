#!/bin/bash
# nat/ benchmark (make bench): our DNAT sync vs. `nft -f` of kube-proxy's
# nftables layout, for the same Services (3 endpoints each), each in a
# fresh network namespace.
#
#   - full sync of 1k, 10k and 30k Services (the 30k baseline takes about
#     5 minutes, so it runs only with BENCH_FULL=1)
#   - one endpoint replaced, at 10k Services
#   - RSS at 10k Services: the test driver, and clustergated itself with
#     10k static Services in its config
#   - the bucket count trade-off: full sync at 10k with 4, 12 and 48 buckets
# Targets (issue 5): 10k full sync >= 50x faster than the baseline, 30k
# full sync < 2 s, one-endpoint change <= 5 ms, RSS at 10k <= 32 MiB.
. "$(dirname "$0")/../lib.sh"

TOOL=build/bin/nat_apply_tool
GEN="python3 $(dirname "$0")/nat_bench_gen.py"
SIZES="1000 10000 30000"
RESULTS="$CG_TMP/results"
: > "$RESULTS"

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readlines()[$2])['$1'])" < "$3"; }
# median/maximum duration of the applies from line FIRST on (the changes)
median() { python3 -c "import json,sys,statistics; print(statistics.median(json.loads(l)['duration_ms'] for l in sys.stdin.readlines()[$1:]))" < "$2"; }
maximum() { python3 -c "import json,sys; print(max(json.loads(l)['duration_ms'] for l in sys.stdin.readlines()[$1:]))" < "$2"; }
seconds() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1])/1000))" "$1"; }
now_ms() { date +%s%3N; }
record() { echo "$*" >> "$RESULTS"; }

for n in $SIZES; do
	dir="$CG_TMP/$n"
	mkdir -p "$dir"
	$GEN "$n" 12 "$dir"

	ns=$(cg_ns "ours$n")
	start=$(now_ms)
	ip netns exec "$ns" "$TOOL" --rss --cycle 20 apply "$dir/state.json" \
		"$dir/state_changed.json" > "$dir/ours.txt" || exit 1
	wall=$(( $(now_ms) - start ))
	record "ours_full_$n $(field duration_ms 0 "$dir/ours.txt")"
	record "ours_wall_$n $wall"
	record "ours_change_$n $(median 1 "$dir/ours.txt")"
	record "ours_change_max_$n $(maximum 1 "$dir/ours.txt")"
	record "ours_rss_$n $(field rss_kib 21 "$dir/ours.txt")"
	record "ours_hwm_$n $(field hwm_kib 21 "$dir/ours.txt")"
	record "ours_elements_$n $(field elements_added 0 "$dir/ours.txt")"
	ip netns del "$ns"

	if [ "$n" -le 10000 ] || [ "${BENCH_FULL:-0}" = 1 ]; then
		ns=$(cg_ns "kube$n")
		start=$(now_ms)
		ip netns exec "$ns" nft -f "$dir/kube.nft" || exit 1
		record "kube_full_$n $(( $(now_ms) - start ))"
		start=$(now_ms)
		ip netns exec "$ns" nft -f "$dir/kube_change.nft" || exit 1
		record "kube_change_$n $(( $(now_ms) - start ))"
		ip netns del "$ns"
	fi
	rm -f "$dir/kube.nft"
done

for b in 4 48; do
	dir="$CG_TMP/b$b"
	mkdir -p "$dir"
	$GEN 10000 "$b" "$dir"
	ns=$(cg_ns "buckets$b")
	ip netns exec "$ns" "$TOOL" --cycle 20 apply "$dir/state.json" \
		"$dir/state_changed.json" > "$dir/ours.txt" || exit 1
	record "buckets_full_$b $(field duration_ms 0 "$dir/ours.txt")"
	record "buckets_change_$b $(median 1 "$dir/ours.txt")"
	record "buckets_elements_$b $(field elements_added 0 "$dir/ours.txt")"
	ip netns del "$ns"
done

# clustergated itself with 10k static Services (3 endpoints each).
dir="$CG_TMP/daemon"
mkdir -p "$dir/run"
printf 'bench' > "$dir/psk"
chmod 600 "$dir/psk"
python3 - "$dir" 10000 <<'PY'
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
c = json.load(open("etc/clustergate.json"))
c["gateway"]["tunnel_interface"] = "ipsec0"
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/run/cg.sock"
del c["cluster"]["api"]
del c["metrics"]
c["cluster"]["service_cidr"] = "10.96.0.0/12"
def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)
c["services"] = {"mode": "proxy", "static": [
    {"name": "svc%d" % i, "cluster_ip": ip((10 << 24) + (100 << 16) + i + 1),
     "ports": [{"port": 80, "target_port": 8080}],
     "endpoints": [ip((10 << 24) + 3 * i + k + 1) for k in range(3)]}
    for i in range(n)]}
json.dump(c, open(tmp + "/clustergate.json", "w"))
PY
ns=$(cg_ns daemon)
cg_bg "$ns" sh -c "exec build/bin/clustergated -c '$dir/clustergate.json' 2> '$dir/daemon.log'"
DAEMON=$CG_LAST_PID
synced() {
	build/bin/clustergate status --json -s "$dir/run/cg.sock" 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin)['nat']; sys.exit(not (d['synced'] and d['service_ports'] == 10000))"
}
wait_for 120 synced || { echo "clustergated did not sync 10k services"; exit 1; }
sleep 1
record "daemon_rss_10000 $(awk '/^VmRSS/ {print $2}' /proc/$DAEMON/status)"
record "daemon_hwm_10000 $(awk '/^VmHWM/ {print $2}' /proc/$DAEMON/status)"
record "daemon_sync_10000 $(build/bin/clustergate status --json -s "$dir/run/cg.sock" | python3 -c "import json,sys; print(json.load(sys.stdin)['nat']['last_sync_ms'])")"
kill "$DAEMON"

python3 - "$RESULTS" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    r[k] = float(v)

def ms(v):
    return "%.1f ms" % v if v < 1000 else "%.2f s" % (v / 1000)

print("nat/ benchmark: Services with 3 endpoints each, TCP port 80")
print("%-34s %12s %16s %9s" % ("", "clustergate", "kube-proxy nft -f", "ratio"))
for n in (1000, 10000, 30000):
    ours, kube = r["ours_full_%d" % n], r.get("kube_full_%d" % n)
    print("%-34s %12s %16s %9s" % (
        "full sync, %dk Services" % (n // 1000), ms(ours),
        ms(kube) if kube else "(BENCH_FULL=1)",
        "%.0fx" % (kube / ours) if kube else "-"))
ours, kube = r["ours_change_10000"], r["kube_change_10000"]
print("%-34s %12s %16s %9s" % ("one endpoint replaced, 10k", ms(ours),
                               ms(kube), "%.0fx" % (kube / ours)))
print("  (ours: median of 21 alternating changes, max %s; nft -f: one run)"
      % ms(r["ours_change_max_10000"]))
print()
print("nat_apply_tool wall time (parsing both JSON states + 22 applies): "
      + ", ".join("%dk %s" % (n // 1000, ms(r["ours_wall_%d" % n]))
                  for n in (1000, 10000, 30000)))
print("map elements written: " + ", ".join(
    "%dk -> %d" % (n // 1000, r["ours_elements_%d" % n])
    for n in (1000, 10000, 30000)))
print("RSS of nat_apply_tool after the 10k sync and 21 changes: %.1f MiB "
      "(peak %.1f MiB; includes the tool's two parsed 10k-Service states)" % (
          r["ours_rss_10000"] / 1024, r["ours_hwm_10000"] / 1024))
print("clustergated with 10k static Services: RSS %.1f MiB after its sync "
      "(%s), peak %.1f MiB (includes loading the 1.6 MB config file)" % (
          r["daemon_rss_10000"] / 1024, ms(r["daemon_sync_10000"]),
          r["daemon_hwm_10000"] / 1024))
print()
print("bucket count trade-off at 10k Services (nat.dnat_buckets):")
for b in (4, 12, 48):
    full = r["ours_full_10000"] if b == 12 else r["buckets_full_%d" % b]
    change = r["ours_change_10000"] if b == 12 else r["buckets_change_%d" % b]
    elems = r["ours_elements_10000"] if b == 12 else r["buckets_elements_%d" % b]
    print("  B=%-3d full sync %9s  one-endpoint change (median) %8s  elements %7d"
          % (b, ms(full), ms(change), elems))
print()
checks = [
    ("10k full sync >= 50x faster than baseline",
     r["kube_full_10000"] / r["ours_full_10000"] >= 50),
    ("30k full sync < 2 s", r["ours_full_30000"] < 2000),
    ("one-endpoint change at 10k <= 5 ms (median)",
     r["ours_change_10000"] <= 5),
    ("clustergated RSS at 10k <= 32 MiB", r["daemon_rss_10000"] <= 32 * 1024),
    ("clustergated peak RSS at 10k <= 32 MiB",
     r["daemon_hwm_10000"] <= 32 * 1024),
]
for name, ok in checks:
    print("%s %s" % ("MET    " if ok else "MISSED ", name))
PY
