/*
 * Kubernetes API objects, decoded from the API's JSON wire format into the
 * few fields clustergate uses: core/v1 Service and Node, and
 * discovery.k8s.io/v1 EndpointSlice.
 *
 * Decoding is all or nothing per object: a malformed object is rejected
 * with a message naming the offending field ("spec.ports[1].port: not a
 * port number"), and the caller skips it. Nothing here logs.
 *
 * Ownership: a decoder fills a caller-provided struct whose strings and
 * arrays are owned by it; release them with the matching *_clear().
 */
#ifndef CLUSTERGATE_K8S_OBJECTS_H
#define CLUSTERGATE_K8S_OBJECTS_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/daemon.h"

/* Room for "namespace/name" of any valid object, with a margin. */
#define K8S_NAME_MAX 512

struct k8s_service_port {
	char *name;			/* "" when the port is unnamed */
	uint8_t protocol;		/* IPPROTO_TCP, _UDP or _SCTP */
	uint16_t port;			/* the ClusterIP's port */
	char *target_port_name;		/* targetPort when a name, else "" */
};

struct k8s_service {
	char *namespace;
	char *name;
	/*
	 * false for Services the gateway does not program: headless
	 * (clusterIP None), ExternalName, and IPv6-only ones.
	 */
	bool has_cluster_ip;
	struct in_addr cluster_ip;
	struct k8s_service_port *ports;
	size_t port_count;
	bool affinity_client_ip;	/* sessionAffinity: ClientIP */
	uint32_t affinity_timeout_s;	/* default 10800, as in Kubernetes */
};

/* One endpoint of a slice, with its conditions (nil read as in kube-proxy). */
struct k8s_slice_endpoint {
	struct in_addr address;		/* addresses[0] */
	bool ready;			/* nil: true */
	bool serving;			/* nil: same as ready */
	bool terminating;		/* nil: false */
};

struct k8s_slice_port {
	char *name;			/* "" when unnamed */
	uint8_t protocol;
	uint16_t port;			/* the endpoints' (target) port */
};

struct k8s_slice {
	char *namespace;
	char *name;
	char *service_name;		/* kubernetes.io/service-name, or NULL */
	/*
	 * false for IPv6 and FQDN slices, which an IPv4 gateway ignores;
	 * their endpoints are then not decoded (endpoint_count 0).
	 */
	bool ipv4;
	struct k8s_slice_endpoint *endpoints;
	size_t endpoint_count;
	struct k8s_slice_port *ports;
	size_t port_count;
};

/*
 * Decode a Service / EndpointSlice / Node. Returns 0, or -EINVAL with a
 * message in error (error_size bytes) naming the bad field; out is then
 * left empty (nothing to clear).
 */
int k8s_service_decode(json_t *object, struct k8s_service *out,
		       char *error, size_t error_size);
int k8s_slice_decode(json_t *object, struct k8s_slice *out,
		     char *error, size_t error_size);
int k8s_node_decode(json_t *object, struct cg_node_info *out,
		    char *error, size_t error_size);

void k8s_service_clear(struct k8s_service *service);
void k8s_slice_clear(struct k8s_slice *slice);
void k8s_node_info_clear(struct cg_node_info *node);

/*
 * The store key of an object: "namespace/name", or "name" when it has no
 * namespace. Returns buf, or NULL when metadata.name is missing or the key
 * does not fit in size bytes.
 */
const char *k8s_object_key(json_t *object, char *buf, size_t size);

/* metadata.resourceVersion of an object or list, or NULL. Borrowed. */
const char *k8s_resource_version(json_t *object);

/* "TCP" -> IPPROTO_TCP; NULL (absent) is TCP. 0 for an unknown name. */
uint8_t k8s_protocol_from_name(const char *name);

#endif
