/*
 * The "kubernetes" component of clustergated (see k8s_component.c).
 * Active when cluster.api is configured: Services and EndpointSlices are
 * watched in proxy mode, Nodes when nodes.from_api is set. It publishes
 * through daemon_publish_services() and daemon_publish_nodes(), and
 * answers {"command": "kubernetes-services"} with the service state it
 * derives from the API.
 */
#ifndef CLUSTERGATE_K8S_COMPONENT_H
#define CLUSTERGATE_K8S_COMPONENT_H

#include "gateway/daemon.h"

extern const struct component_ops k8s_component;

#endif
