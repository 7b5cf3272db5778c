#!/usr/bin/env python3
"""Generate a large cluster for the fake API server (benchmarks, scale tests).

  gen_cluster.py N ENDPOINTS OUTDIR
writes OUTDIR/services.json and OUTDIR/endpointslices.json: N Services
default/svc-<i> with ClusterIP 10.<96 + i / 65536>.<...> (inside
10.96.0.0/12), port 80 -> 8080, each with one EndpointSlice of ENDPOINTS
ready pod addresses from 10.128.0.0/9.
"""
import json
import sys


def ip(base, i):
    n = base + i
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def main():
    count, endpoints, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    services, slices = [], []
    svc_base, pod_base = 10 << 24 | 96 << 16, 10 << 24 | 128 << 16
    for i in range(count):
        name = f"svc-{i}"
        services.append({
            "metadata": {"name": name, "namespace": "default",
                         "resourceVersion": str(1000 + i)},
            "spec": {"clusterIP": ip(svc_base, i + 1),
                     "clusterIPs": [ip(svc_base, i + 1)], "type": "ClusterIP",
                     "sessionAffinity": "None",
                     "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                                "targetPort": 8080}]}})
        slices.append({
            "metadata": {"name": f"{name}-abcde", "namespace": "default",
                         "resourceVersion": str(1000 + count + i),
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip(pod_base, i * endpoints + e)],
                           "conditions": {"ready": True, "serving": True,
                                          "terminating": False}}
                          for e in range(endpoints)],
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]})
    rv = str(1000 + 2 * count + 1)
    json.dump({"kind": "ServiceList", "apiVersion": "v1",
               "metadata": {"resourceVersion": rv}, "items": services},
              open(f"{out}/services.json", "w"))
    json.dump({"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1",
               "metadata": {"resourceVersion": rv}, "items": slices},
              open(f"{out}/endpointslices.json", "w"))


if __name__ == "__main__":
    main()
