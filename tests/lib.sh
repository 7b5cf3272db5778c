# Shared helpers for network-namespace tests. Source it from a test:
#   . "$(dirname "$0")/../lib.sh"    (adjust the path)
#
# - cg_ns NAME: creates namespace "${CG_PREFIX}NAME" and prints its name.
#   Every namespace made this way is deleted at exit, even on failure.
# - cg_bg NS CMD...: starts CMD in namespace NS in the background; its PID
#   is recorded and killed at exit (by PID, never by name).
# - cg_track_pid PID: record another PID to kill at exit.
# - cg_on_exit CMD: run CMD at exit (before namespaces are removed).
# - pass MSG / fail MSG / check DESC CMD...: assertions.
set -u
CG_PREFIX="cg$(printf '%x' $$)$(tr -dc a-z </dev/urandom 2>/dev/null | head -c 3)"
CG_EXIT_CMDS=""
CG_FAILURES=0
CG_TMP=$(mktemp -d /tmp/cgtest.XXXXXX)

# PIDs and namespaces are recorded in files, so helpers called in a
# subshell ($(cg_ns x)) still register what they create.
cg_cleanup() {
	set +e
	eval "$CG_EXIT_CMDS"
	_pids=$(cat "$CG_TMP/pids" 2>/dev/null)
	for pid in $_pids; do kill "$pid" 2>/dev/null; done
	sleep 0.2
	for pid in $_pids; do kill -9 "$pid" 2>/dev/null; done
	# Every namespace of this run carries the per-run prefix.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CG_PREFIX"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$CG_TMP"
}
trap 'cg_cleanup' EXIT
trap 'exit 130' INT TERM

cg_ns() {
	_ns="${CG_PREFIX}$1"
	ip netns add "$_ns" || return 1
	ip -n "$_ns" link set lo up
	echo "$_ns"
}

cg_track_pid() { echo "$1" >> "$CG_TMP/pids"; }
cg_on_exit() { CG_EXIT_CMDS="$1; $CG_EXIT_CMDS"; }

cg_bg() {
	_ns=$1; shift
	ip netns exec "$_ns" "$@" &
	cg_track_pid $!
	CG_LAST_PID=$!
}

# cg_link NS1 IF1 NS2 IF2: a veth pair between two namespaces, up.
cg_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; CG_FAILURES=$((CG_FAILURES + 1)); }
check() {
	_desc=$1; shift
	if "$@"; then pass "$_desc"; else fail "$_desc"; fi
}
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	_deadline=$(( $(date +%s) + $1 )); shift
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s)" -ge "$_deadline" ] && return 1
		sleep 0.1
	done
}
# finish: exit non-zero if any check failed.
finish() {
	if [ "$CG_FAILURES" -eq 0 ]; then echo "all checks passed"; exit 0; fi
	echo "$CG_FAILURES check(s) failed"; exit 1
}
