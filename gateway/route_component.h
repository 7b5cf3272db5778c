/*
 * The route component of clustergated ("nodes" in `clustergate status`).
 *
 * In services.mode "route" it steers the service CIDR to the healthy,
 * schedulable, ready nodes through a route target (routes/target.h); with
 * nodes.pod_cidr_routes it also routes each node's pod CIDR to that node.
 * Nodes come from nodes.static or from the Kubernetes watcher
 * (nodes_changed). Each node is probed (gateway/health.h); every state
 * change is logged and becomes one group update. When no node is healthy
 * the last group stays, and the log says so.
 *
 * At start it reads the group the kernel already holds and counts those
 * nodes as up, so a restart changes nothing. On stop it leaves the kernel
 * as it is; `clustergate cleanup` removes it.
 */
#ifndef CLUSTERGATE_ROUTE_COMPONENT_H
#define CLUSTERGATE_ROUTE_COMPONENT_H

#include "gateway/daemon.h"

extern const struct component_ops route_component;

#endif
