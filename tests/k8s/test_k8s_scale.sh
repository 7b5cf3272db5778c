#!/bin/bash
# Paged lists: 2000 Services and 2000 EndpointSlices come in pages of 500
# (limit + continue); a continue token that expires mid-list restarts the
# list without losing or duplicating anything; all 2000 ClusterIPs are
# programmed once, with their 3 endpoints each.
. "$(dirname "$0")/../lib.sh"
BIN=build/bin
K8S=tests/k8s

NS=$(cg_ns scale)
printf 'not-a-secret' > "$CG_TMP/psk"
chmod 600 "$CG_TMP/psk"
SOCK="$CG_TMP/cg.sock"
python3 $K8S/gen_cluster.py 2000 3 "$CG_TMP"
python3 - "$CG_TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
c = json.load(open("etc/clustergate.json"))
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/cg.sock"
del c["metrics"]
c["cluster"]["service_cidr"] = "10.96.0.0/12"
c["cluster"]["api"] = {"server": "http://127.0.0.1:6443", "timeout": 5}
c["nodes"] = {"from_api": False, "static": [{"name": "a", "address": "10.0.32.23"}]}
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY
cg_bg "$NS" python3 $K8S/fake_apiserver.py --port 6443 --control-port 6444 \
	--services "$CG_TMP/services.json" --endpointslices "$CG_TMP/endpointslices.json" \
	2>"$CG_TMP/api.log"
wait_for 10 ip netns exec "$NS" python3 $K8S/ctl.py state 6444 >/dev/null
# The first list's second page finds its continue token expired.
ip netns exec "$NS" python3 $K8S/ctl.py post 6444 /continue410 '{"count": 1}' >/dev/null
ip netns exec "$NS" $BIN/clustergated -c "$CG_TMP/clustergate.json" 2>"$CG_TMP/daemon.log" &
DAEMON=$!
cg_track_pid $DAEMON
st() { python3 $K8S/ctl.py get "$SOCK" "$1"; }

check "connected" wait_for 30 sh -c \
	"test \"\$(python3 $K8S/ctl.py get $SOCK kubernetes.state)\" = connected"
check "lists were paged (limit=500, continue)" sh -c \
	"ip netns exec $NS python3 $K8S/ctl.py state 6444 | grep -q 'services?limit=500&continue='"
check "an expired continue token restarts the list" grep -q \
	"list: HTTP 410: The provided continue parameter is too old.*; listing again" "$CG_TMP/daemon.log"
check "2000 Services, 2000 EndpointSlices" test \
	"$(st kubernetes.services) $(st kubernetes.endpoint_slices)" = "2000 2000"
check "2000 ports programmed with 6000 endpoints" test \
	"$(st kubernetes.service_ports_programmed) $(st kubernetes.endpoints_programmed)" = "2000 6000"
python3 $K8S/ctl.py services "$SOCK" > "$CG_TMP/services.txt"
check "each ClusterIP once" test "$(cut -d' ' -f1 "$CG_TMP/services.txt" | sort -u | wc -l)" = 2000
check "the last Service has its three endpoints" grep -qx \
	"10.96.7.208:80/tcp 10.128.23.109:8080 10.128.23.110:8080 10.128.23.111:8080" "$CG_TMP/services.txt"
kill -TERM $DAEMON; wait $DAEMON; rc=$?
check "clustergated stops cleanly (exit $rc)" test "$rc" -eq 0
finish
