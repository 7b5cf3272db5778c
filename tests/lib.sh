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
CG_NAMESPACES=""
CG_PIDS=""
CG_EXIT_CMDS=""
CG_FAILURES=0
CG_TMP=$(mktemp -d /tmp/cgtest.XXXXXX)

cg_cleanup() {
	set +e
	eval "$CG_EXIT_CMDS"
	for pid in $CG_PIDS; do kill "$pid" 2>/dev/null; done
	sleep 0.2
	for pid in $CG_PIDS; do kill -9 "$pid" 2>/dev/null; done
	for ns in $CG_NAMESPACES; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$CG_TMP"
}
trap 'cg_cleanup' EXIT
trap 'exit 130' INT TERM

cg_ns() {
	_ns="${CG_PREFIX}$1"
	ip netns add "$_ns" || return 1
	CG_NAMESPACES="$_ns $CG_NAMESPACES"
	ip -n "$_ns" link set lo up
	echo "$_ns"
}

cg_track_pid() { CG_PIDS="$1 $CG_PIDS"; }
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
