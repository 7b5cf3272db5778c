#!/bin/bash
# Route-mode failover with the default probe settings (interval 2000 ms,
# timeout 1000 ms, rise 2, fall 3): a client loop sends HTTP requests to
# the ClusterIP through the gateway, spread over three nodes; one node then
# stops answering entirely (all its input dropped). Reports the time from
# that moment to the kernel's group change (seen by `ip monitor nexthop`),
# the requests that failed meanwhile, and what the probe settings allow.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../routes/topology.sh"
. "$(dirname "$0")/../routes/config.sh"
BIN=build/bin
CONF="$CG_TMP/clustergate.json"
INTERVAL=2000 TIMEOUT=1000 RISE=2 FALL=3
now_ms() { date +%s%3N; }

topology_up || { echo "route_failover: topology failed" >&2; exit 1; }
route_config "$CONF" $INTERVAL $TIMEOUT $RISE $FALL
cg_bg "$GW" $BIN/clustergated -c "$CONF" 2> "$CG_TMP/daemon.log"
members_are() { test "$(group_members)" = "$*"; }
wait_for 20 members_are "10.0.32.23 10.0.32.24 10.0.32.25 " ||
	{ echo "route_failover: the group never formed" >&2; exit 1; }

# Every group change, stamped when it is seen.
ip -n "$GW" monitor nexthop 2>/dev/null | while read -r line; do
	echo "$(now_ms) $line"; done > "$CG_TMP/monitor" &
cg_track_pid $!
cg_bg "$CLIENT" python3 "$(dirname "$0")/route_client.py" "$SERVICE_IP" 20 \
	"$CG_TMP/requests"
CLIENT_PID=$CG_LAST_PID
sleep 4
victim=2
t0=$(now_ms)
ip netns exec "${NODE_NS[$victim]}" nft -f - <<'NFT'
table ip blackhole {
	chain in { type filter hook input priority -300; policy drop; }
}
NFT
leaves() { ! group_members | grep -q "${NODE_IP[$victim]} "; }
wait_for 20 leaves || { echo "route_failover: n$victim never left the group" >&2; exit 1; }
sleep 1
t1=$(awk -v t0="$t0" '$1 >= t0 && /group/ { print $1; exit }' "$CG_TMP/monitor")
wait "$CLIENT_PID" 2>/dev/null

awk -v t0="$t0" -v t1="$t1" -v victim="n$victim" '
	{ total++ }
	$1 < t0 && $2 == "ok" { before_ok++ }
	$1 < t0 && $3 == victim { before_victim++ }
	$1 >= t0 && $1 <= t1 { during++; if ($2 == "fail") failed++ }
	$1 > t1 { after++; if ($2 == "fail") failed_after++ }
	END {
		printf "requests: %d in total; before the failure %d ok (%d served by %s)\n",
			total, before_ok, before_victim, victim
		printf "requests during failover: %d, failed: %d\n", during, failed
		printf "requests after the group change: %d, failed: %d\n", after, failed_after
	}' "$CG_TMP/requests" > "$CG_TMP/summary"

failover=$(( t1 - t0 ))
echo "route failover (interval ${INTERVAL} ms, timeout ${TIMEOUT} ms, rise $RISE, fall $FALL)"
echo "failover time (node stops answering -> kernel group change): ${failover} ms"
echo "allowed by the probe settings: $(( (FALL - 1) * INTERVAL + TIMEOUT ))-$(( FALL * INTERVAL + TIMEOUT )) ms" \
	"((fall-1..fall) x interval + timeout; interval x fall = $(( INTERVAL * FALL )) ms)"
cat "$CG_TMP/summary"
grep "is down" "$CG_TMP/daemon.log" | sed 's/^/log: /'
