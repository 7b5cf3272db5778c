#!/usr/bin/env python3
"""Inputs for tests/bench/nat_bench.sh.

  nat_bench_gen.py N BUCKETS OUTDIR
writes, for N services of 3 endpoints each (TCP port 80 -> 8080):
  state.json          desired state for nat_apply_tool (nat.dnat_buckets)
  state_changed.json  the same with one endpoint of service 0 replaced
  kube.nft            kube-proxy's nftables layout for the same services:
                      a chain per service with a numgen vmap, a chain per
                      endpoint (pkg/proxy/nftables/proxier.go)
  kube_change.nft     the transaction kube-proxy sends for that one
                      endpoint change
"""
import hashlib
import json
import os
import sys

count, buckets, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def ip(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def cluster_ip(i):
    return ip((10 << 24) + (100 << 16) + i + 1)     # 10.100.0.0/16


def pod_ip(i, k):
    return ip((10 << 24) + (128 << 16) + 3 * i + k + 1)  # 10.128.0.0/10


def endpoints(i, changed=False):
    eps = [pod_ip(i, k) for k in range(3)]
    if changed and i == 0:
        eps[2] = ip((10 << 24) + (127 << 16) + 1)
    return eps


policy = {
    "tunnel_interface": "ipsec0", "vpc_interface": "eth0",
    "vpc_address": "10.0.16.5", "snat": True, "tunnel_mtu": 1400,
    "office_subnets": ["172.16.0.0/24"],
    "cluster_destinations": ["10.100.0.0/16", "10.128.0.0/10"],
    "dnat_buckets": buckets,
}


def state(changed):
    return {"policy": policy, "services": [
        {"cluster_ip": cluster_ip(i), "protocol": "tcp", "port": 80,
         "endpoints": ["%s:8080" % e for e in endpoints(i, changed)]}
        for i in range(count)]}


for name, changed in (("state.json", False), ("state_changed.json", True)):
    with open(os.path.join(out, name), "w") as f:
        json.dump(state(changed), f, separators=(",", ":"))


def short(text):
    return hashlib.sha256(text.encode()).hexdigest()[:8].upper()


def service_chain(i):
    name = "ns%d/svc%d/tcp/p80" % (i // 1000, i)
    return "service-%s-%s" % (short(name), name)


def endpoint_chain(i, address):
    name = "ns%d/svc%d/tcp/p80__%s/8080" % (i // 1000, i, address)
    return "endpoint-%s-%s" % (short(name), name)


def service_rules(i, eps):
    chains = [endpoint_chain(i, e) for e in eps]
    vmap = ", ".join("%d : goto %s" % (k, c) for k, c in enumerate(chains))
    return [
        "ip daddr %s tcp dport 80 ip saddr != 10.128.0.0/10 "
        "jump mark-for-masquerade" % cluster_ip(i),
        "numgen random mod %d vmap { %s }" % (len(chains), vmap),
    ]


def endpoint_rules(address):
    return ["ip saddr %s jump mark-for-masquerade" % address,
            "meta l4proto tcp dnat to %s:8080" % address]


with open(os.path.join(out, "kube.nft"), "w") as f:
    w = f.write
    w("add table ip kube-proxy\n")
    w("add chain ip kube-proxy mark-for-masquerade\n")
    w("add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000\n")
    w("add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . "
      "inet_service : verdict ; }\n")
    w("add chain ip kube-proxy services\n")
    w("add rule ip kube-proxy services ip daddr . meta l4proto . th dport "
      "vmap @service-ips\n")
    w("add chain ip kube-proxy nat-prerouting { type nat hook prerouting "
      "priority dstnat ; }\n")
    w("add rule ip kube-proxy nat-prerouting jump services\n")
    for i in range(count):
        eps = endpoints(i)
        for e in eps:
            c = endpoint_chain(i, e)
            w("add chain ip kube-proxy %s\n" % c)
            for r in endpoint_rules(e):
                w("add rule ip kube-proxy %s %s\n" % (c, r))
        c = service_chain(i)
        w("add chain ip kube-proxy %s\n" % c)
        for r in service_rules(i, eps):
            w("add rule ip kube-proxy %s %s\n" % (c, r))
        w("add element ip kube-proxy service-ips { %s . tcp . 80 : goto %s }\n"
          % (cluster_ip(i), c))

with open(os.path.join(out, "kube_change.nft"), "w") as f:
    old, new = endpoints(0), endpoints(0, True)
    c = endpoint_chain(0, new[2])
    f.write("add chain ip kube-proxy %s\n" % c)
    for r in endpoint_rules(new[2]):
        f.write("add rule ip kube-proxy %s %s\n" % (c, r))
    f.write("flush chain ip kube-proxy %s\n" % service_chain(0))
    for r in service_rules(0, new):
        f.write("add rule ip kube-proxy %s %s\n" % (service_chain(0), r))
    f.write("flush chain ip kube-proxy %s\n" % endpoint_chain(0, old[2]))
    f.write("delete chain ip kube-proxy %s\n" % endpoint_chain(0, old[2]))
