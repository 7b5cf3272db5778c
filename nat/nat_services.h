/*
 * Desired state of the proxy-mode service DNAT, as plain structs.
 *
 * Producers (the Kubernetes watcher, static services from the config) fill
 * these; nat/ programs them. Nothing here knows Kubernetes or JSON.
 */
#ifndef CLUSTERGATE_NAT_SERVICES_H
#define CLUSTERGATE_NAT_SERVICES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nat_endpoint {
	struct in_addr address;
	uint16_t port;			/* host byte order */
};

/* One ClusterIP . protocol . port and the endpoints it balances over. */
struct nat_service_port {
	struct in_addr cluster_ip;
	uint8_t protocol;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;			/* host byte order */
	struct nat_endpoint *endpoints;	/* empty: the service rejects */
	size_t endpoint_count;
	bool affinity_client_ip;	/* sessionAffinity: ClientIP */
	uint32_t affinity_timeout_s;
	char *name;			/* "namespace/name:port" for logs */
};

struct nat_services {
	struct nat_service_port *ports;
	size_t count;
};

#endif
