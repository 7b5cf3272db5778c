# route_config FILE [INTERVAL TIMEOUT RISE FALL]: a route-mode config for
# the topology in topology.sh, control socket under $CG_TMP/run.
route_config() {
	printf 'not-a-secret' > "$CG_TMP/psk"
	chmod 600 "$CG_TMP/psk"
	python3 - "$CG_TMP" "$1" "${2:-500}" "${3:-300}" "${4:-2}" "${5:-3}" <<'PY'
import json, sys
tmp, out, interval, timeout, rise, fall = sys.argv[1:7]
c = json.load(open("etc/clustergate.json"))
c["auth"]["psk_file"] = tmp + "/psk"
c["control"]["socket"] = tmp + "/run/cg.sock"
c["gateway"]["vpc_interface"] = "br0"
c["gateway"]["vpc_address"] = "10.0.32.5"
c["cluster"].pop("api", None)
c.pop("metrics", None)
c["services"] = {"mode": "route", "static": [
    {"name": "nginx", "cluster_ip": "10.0.58.158", "ports": [{"port": 80}],
     "endpoints": ["10.0.0.13"]}]}
c["nodes"] = {
    "static": [{"name": "n1", "address": "10.0.32.23"},
               {"name": "n2", "address": "10.0.32.24"},
               {"name": "n3", "address": "10.0.32.25"}],
    "health": {"method": "http", "port": 10256, "path": "/healthz",
               "interval_ms": int(interval), "timeout_ms": int(timeout),
               "rise": int(rise), "fall": int(fall)}}
json.dump(c, open(out, "w"), indent=1)
PY
}
