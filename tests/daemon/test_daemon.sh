#!/bin/bash
# clustergated core: status over the control socket, SIGHUP with a broken
# file keeps the running config, SIGTERM removes the socket. The daemon
# runs under valgrind, which must report no errors and no leaks.
. "$(dirname "$0")/../lib.sh"
BIN=build/bin

printf 'not-a-secret' > "$CG_TMP/psk"
chmod 600 "$CG_TMP/psk"
SOCK="$CG_TMP/run/cg.sock"
python3 - "$CG_TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
c = json.load(open("etc/clustergate.json"))
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/run/cg.sock"
del c["cluster"]["api"]
c["metrics"]["listen"] = "127.0.0.1:9469"
c["services"]["static"] = [{"name": "nginx", "cluster_ip": "10.0.58.158",
                            "ports": [{"port": 80}], "endpoints": ["10.0.0.13"]}]
json.dump(c, open(tmp + "/clustergate.json", "w"), indent=1)
PY
CONF="$CG_TMP/clustergate.json"

# Run in a namespace of our own so components touch nothing on the host.
NS=$(cg_ns daemon)
VG=""
command -v valgrind >/dev/null && VG="valgrind -q --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite"
ip netns exec "$NS" $VG $BIN/clustergated -c "$CONF" 2> "$CG_TMP/daemon.log" &
DAEMON=$!
cg_track_pid $DAEMON

check "control socket appears" wait_for 30 test -S "$SOCK"
check "control socket is mode 0600" \
	test "$(stat -c %a "$SOCK")" = 600
status=$($BIN/clustergate status --json -s "$SOCK")
check "status --json reports the running config" \
	test "$(echo "$status" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config"]["service_cidr"], d["config"]["vpc_address"], d["config"]["static_services"])')" = "10.0.56.0/21 10.0.16.5 1"
check "status finds the socket from the config file" \
	sh -c "$BIN/clustergate status -c '$CONF' | grep -q '^  service_cidr: 10.0.56.0/21$'"

metrics=$(ip netns exec "$NS" curl -sf http://127.0.0.1:9469/metrics)
check "metrics endpoint serves status gauges" sh -c \
	"echo '$metrics' | grep -qx 'clustergate_config_static_services 1'"
check "metrics answers 404 elsewhere" test \
	"$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9469/other)" = 404

# A good change is picked up on SIGHUP.
sed -i 's#"10.0.16.5"#"10.0.16.6"#' "$CONF"
kill -HUP $DAEMON
check "SIGHUP applies a valid new config" wait_for 10 sh -c \
	"$BIN/clustergate status --json -s '$SOCK' | grep -q '\"vpc_address\": \"10.0.16.6\"'"

# A broken file is refused and the old config keeps being served.
cp "$CONF" "$CG_TMP/good.json"
sed -i 's#"10.0.56.0/21"#"10.0.56.0/33"#' "$CONF"
kill -HUP $DAEMON
check "SIGHUP with a broken file logs why" wait_for 10 grep -q \
	"cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR" "$CG_TMP/daemon.log"
check "and says it keeps the running configuration" grep -q \
	"keeping the running configuration" "$CG_TMP/daemon.log"
status=$($BIN/clustergate status --json -s "$SOCK")
check "the old config is still served after a bad reload" \
	test "$(echo "$status" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config"]["service_cidr"], d["daemon"]["last_reload_error"])')" = "10.0.56.0/21 cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR"
out=$($BIN/clustergate reload -s "$SOCK" 2>&1); rc=$?
check "clustergate reload fails with the message" \
	test "$rc" -ne 0 -a "$out" = "clustergate reload: cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR"

# Garbage on the control socket gets an error reply, and the daemon lives.
reply=$(printf 'this is not json\n' | python3 -c '
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(4096).decode().strip())' "$SOCK")
check "garbage request gets a JSON error" \
	test "$reply" = '{"ok":false,"error":"request is not a JSON object"}'
check "daemon still answers after garbage" sh -c "$BIN/clustergate status -s '$SOCK' >/dev/null"

kill -TERM $DAEMON
wait $DAEMON; rc=$?
check "SIGTERM stops cleanly (valgrind clean: exit $rc)" test "$rc" -eq 0
check "SIGTERM removes the socket" test ! -e "$SOCK"

# check-config prints every problem and exits non-zero.
out=$($BIN/clustergate check-config "$CONF" 2>&1); rc=$?
check "check-config names the field and the problem" test "$rc" -ne 0 -a \
	"$out" = "$CONF: cluster.service_cidr: '10.0.56.0/33' is not an IPv4 CIDR"
check "check-config prints OK for a good file" \
	test "$($BIN/clustergate check-config "$CG_TMP/good.json")" = OK
[ "$CG_FAILURES" -eq 0 ] || cat "$CG_TMP/daemon.log"
finish
