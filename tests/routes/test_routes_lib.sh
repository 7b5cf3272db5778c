#!/bin/bash
# routes/ against a real kernel, driven by build/tests/routes_tool: nexthop
# objects and one resilient group per destination, updated in place; our
# protocol only; foreign routes and nexthops untouched; cleanup.
. "$(dirname "$0")/../lib.sh"
TOOL=build/tests/routes_tool

GW=$(cg_ns gw); PEER=$(cg_ns peer)
cg_link "$GW" eth1 "$PEER" eth0
ip -n "$GW" addr add 10.0.32.5/20 dev eth1
ip -n "$GW" route add 10.9.0.0/16 via 10.0.32.1
# Someone else's nexthop and route, which must survive everything below.
ip -n "$GW" nexthop add id 5 via 10.0.32.99 dev eth1
ip -n "$GW" route add 10.0.60.0/24 nhid 5 table 100
tool() { ip netns exec "$GW" "$TOOL" "$@"; }
nh() { ip -n "$GW" -j nexthop show "$@"; }
route() { ip -n "$GW" -j route show table 100 "$@"; }

out=$(tool sync 100 10.0.56.0/21=10.0.32.23,10.0.32.24,10.0.32.25 10.0.0.0/24=10.0.32.23)
check "first sync creates 3 nexthops, 2 groups, 2 routes" \
	test "$out" = "nexthops +3 -0, groups +2 ~0 -0, routes ~2 -0, rules -0"
gid=$(route 10.0.56.0/21 | jq -r '.[0].nhid')
check "service route points at a group" test -n "$gid" -a "$gid" != null
check "the route's nexthops are exactly the three nodes" test \
	"$(route 10.0.56.0/21 | jq -r '[.[0].nexthops[].gateway] | sort | join(" ")')" = \
	"10.0.32.23 10.0.32.24 10.0.32.25"
check "the group is resilient" test "$(nh id "$gid" | jq -r '.[0].type')" = resilient
check "route carries protocol clustergate (97)" \
	test "$(route 10.0.56.0/21 | jq -r '.[0].protocol')" = 97
check "group and nexthops carry protocol 97" \
	test "$(nh | jq '[.[] | select(.protocol == "97")] | length')" = 5
check "pod CIDR route goes to its node" \
	test "$(route 10.0.0.0/24 | jq -r '.[0].nexthops[0].gateway // .[0].gateway')" = 10.0.32.23

ids_before=$(nh | jq -c '[.[].id] | sort')
out=$(tool sync 100 10.0.56.0/21=10.0.32.25,10.0.32.23,10.0.32.24 10.0.0.0/24=10.0.32.23)
check "the same state again changes nothing" \
	test "$out" = "nexthops +0 -0, groups +0 ~0 -0, routes ~0 -0, rules -0"
check "nexthop ids unchanged" test "$(nh | jq -c '[.[].id] | sort')" = "$ids_before"

# A node leaving is one group replace; the route is not rewritten.
out=$(tool sync 100 10.0.56.0/21=10.0.32.23,10.0.32.25 10.0.0.0/24=10.0.32.23)
check "a node leaving is one group replace" \
	test "$out" = "nexthops +0 -1, groups +0 ~1 -0, routes ~0 -0, rules -0"
check "the route keeps its group id" test "$(route 10.0.56.0/21 | jq -r '.[0].nhid')" = "$gid"
check "the route now holds the two remaining nodes" test \
	"$(route 10.0.56.0/21 | jq -r '[.[0].nexthops[].gateway] | sort | join(" ")')" = \
	"10.0.32.23 10.0.32.25"

out=$(tool current 100 10.0.56.0/21 | sort | tr '\n' ' ')
check "routes_current reads the group back" test "$out" = "10.0.32.23 10.0.32.25 "

tool sync 100 10.0.56.0/21=10.0.32.23,10.9.1.1 >/dev/null 2>"$CG_TMP/err"; rc=$?
check "a node behind a router is refused with a clear message" test $rc -ne 0 -a \
	"$(cat "$CG_TMP/err")" = "routes_tool: node 10.9.1.1 is not on-link: the gateway reaches it through a router, so it cannot be a nexthop (give the gateway a NIC in the nodes' subnet)"
check "the other node is still routed" test \
	"$(route 10.0.56.0/21 | jq -r '.[0].gateway')" = 10.0.32.23
check "the pod route was dropped with its destination" test "$(route 10.0.0.0/24)" = "[]"

# Pinned path for doctor: a rule and a host route, both ours.
check "pin adds a fwmark rule and a host route" tool pin 0x4347 9701 100 10.0.58.158 10.0.32.24
check "the pinned route goes via that node" test \
	"$(ip -n "$GW" -j route show table 9701 | jq -r '.[0].gateway')" = 10.0.32.24
check "the rule matches the mark" test \
	"$(ip -n "$GW" -j rule | jq -r '.[] | select(.priority == 100) | .fwmark')" = 0x4347
out=$(tool sync 100 10.0.56.0/21=10.0.32.23)
check "a sync leaves the pin alone" test "$(ip -n "$GW" -j route show table 9701 | jq length)" = 1
check "unpin removes both" tool unpin 0x4347 9701 100 10.0.58.158
check "no rule left" test "$(ip -n "$GW" -j rule | jq '[.[] | select(.priority == 100)] | length')" = 0

tool pin 0x4347 9701 100 10.0.58.158 10.0.32.24
out=$(tool cleanup)
check "cleanup removes route, group, nexthop, pin route and rule" test "$out" = "removed 5"
check "no nexthop of ours left" test "$(nh | jq '[.[] | select(.protocol == "97")] | length')" = 0
check "no route of ours left" test "$(ip -n "$GW" -j route show table all | jq '[.[] | select(.protocol == "97")] | length')" = 0
check "the foreign nexthop survived" test "$(nh id 5 | jq -r '.[0].gateway')" = 10.0.32.99
check "the foreign route survived" test "$(route 10.0.60.0/24 | jq -r '.[0].nhid')" = 5
finish
