/*
 * From the catalog to desired state: Services x EndpointSlices ->
 * struct nat_services (kube-proxy's endpoint semantics), Nodes -> struct
 * cg_node_info list.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_catalog.h"
#include "gateway/k8s_catalog_private.h"
#include "gateway/k8s_objects.h"
#include "gateway/k8s_store.h"
#include "gateway/log.h"

static int compare_endpoints(const void *a, const void *b)
{
	const struct nat_endpoint *x = a, *y = b;
	uint32_t xa = ntohl(x->address.s_addr), ya = ntohl(y->address.s_addr);

	if (xa != ya)
		return xa < ya ? -1 : 1;
	return (int)x->port - (int)y->port;
}

static const struct k8s_slice_port *
slice_port_named(const struct k8s_slice *slice, const char *name,
		 uint8_t protocol)
{
	for (size_t i = 0; i < slice->port_count; i++)
		if (slice->ports[i].protocol == protocol &&
		    strcmp(slice->ports[i].name, name) == 0)
			return &slice->ports[i];
	return NULL;
}

/*
 * The slice port serving service_port. The EndpointSlice controller names
 * slice ports after the Service port, so that is matched first; slices
 * written by other controllers may name them after a named targetPort
 * instead, which is matched second.
 */
static const struct k8s_slice_port *
slice_port_for(const struct k8s_slice *slice,
	       const struct k8s_service_port *service_port)
{
	const struct k8s_slice_port *port =
		slice_port_named(slice, service_port->name,
				 service_port->protocol);

	if (!port && *service_port->target_port_name)
		port = slice_port_named(slice, service_port->target_port_name,
					service_port->protocol);
	return port;
}

/*
 * Endpoints of one Service port: ready ones, else serving+terminating ones
 * (kube-proxy's fallback so a rollout never blackholes). Sorted, no
 * duplicates (an endpoint can sit in two slices while they are updated).
 */
static int select_endpoints(const struct k8s_slice_group *group,
			    const struct k8s_service_port *service_port,
			    struct nat_service_port *out)
{
	size_t total = 0, ready = 0, count = 0;
	bool use_ready;

	for (size_t s = 0; group && s < group->count; s++) {
		const struct k8s_slice *slice = group->slices[s];

		if (!slice_port_for(slice, service_port))
			continue;
		total += slice->endpoint_count;
		for (size_t e = 0; e < slice->endpoint_count; e++)
			ready += slice->endpoints[e].ready;
	}
	if (!total)
		return 0;	/* calloc'ed: no endpoints */
	use_ready = ready > 0;
	out->endpoints = calloc(total, sizeof(*out->endpoints));
	if (!out->endpoints)
		return -ENOMEM;
	for (size_t s = 0; s < group->count; s++) {
		const struct k8s_slice *slice = group->slices[s];
		const struct k8s_slice_port *port =
			slice_port_for(slice, service_port);

		for (size_t e = 0; port && e < slice->endpoint_count; e++) {
			const struct k8s_slice_endpoint *endpoint =
				&slice->endpoints[e];
			bool chosen = use_ready ? endpoint->ready :
				endpoint->serving && endpoint->terminating;

			if (!chosen)
				continue;
			out->endpoints[count].address = endpoint->address;
			out->endpoints[count].port = port->port;
			count++;
		}
	}
	qsort(out->endpoints, count, sizeof(*out->endpoints),
	      compare_endpoints);
	out->endpoint_count = 0;
	for (size_t i = 0; i < count; i++)
		if (!out->endpoint_count ||
		    compare_endpoints(&out->endpoints[i],
				      &out->endpoints[out->endpoint_count - 1]))
			out->endpoints[out->endpoint_count++] =
				out->endpoints[i];
	return 0;
}

static const char *protocol_label(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return "tcp";
	}
}

int k8s_service_ports_build(const struct k8s_service *service,
			    const struct k8s_slice_group *group,
			    struct nat_service_port **ports, size_t *count)
{
	struct nat_service_port *out;
	char name[K8S_NAME_MAX + 16];
	int err = 0;

	*ports = NULL;
	*count = 0;
	if (!service->has_cluster_ip || !service->port_count)
		return 0;
	out = calloc(service->port_count, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < service->port_count && !err; i++) {
		const struct k8s_service_port *service_port =
			&service->ports[i];
		struct nat_service_port *port = &out[i];

		snprintf(name, sizeof(name), "%s/%s:%u/%s", service->namespace,
			 service->name, service_port->port,
			 protocol_label(service_port->protocol));
		port->name = strdup(name);
		if (!port->name) {
			err = -ENOMEM;
			break;
		}
		port->cluster_ip = service->cluster_ip;
		port->protocol = service_port->protocol;
		port->port = service_port->port;
		port->affinity_client_ip = service->affinity_client_ip;
		port->affinity_timeout_s = service->affinity_timeout_s;
		err = select_endpoints(group, service_port, port);
	}
	if (err) {
		k8s_service_ports_free(out, service->port_count);
		return err;
	}
	*ports = out;
	*count = service->port_count;
	return 0;
}

void k8s_service_ports_free(struct nat_service_port *ports, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(ports[i].name);
		free(ports[i].endpoints);
	}
	free(ports);
}

int k8s_service_port_compare(const void *a, const void *b)
{
	const struct nat_service_port *x = a, *y = b;
	uint32_t xa = ntohl(x->cluster_ip.s_addr), ya = ntohl(y->cluster_ip.s_addr);

	if (xa != ya)
		return xa < ya ? -1 : 1;
	if (x->protocol != y->protocol)
		return (int)x->protocol - (int)y->protocol;
	if (x->port != y->port)
		return (int)x->port - (int)y->port;
	return strcmp(x->name, y->name);
}

struct node_build {
	struct cg_node_info *nodes;
	size_t count;
	int error;
};

static void copy_node(const char *key, void *value, void *data)
{
	const struct cg_node_info *node = value;
	struct node_build *build = data;
	struct cg_node_info *copy = &build->nodes[build->count];

	(void)key;
	if (build->error)
		return;
	*copy = *node;
	copy->name = strdup(node->name);
	if (!copy->name) {
		build->error = -ENOMEM;
		return;
	}
	build->count++;
}

static int compare_nodes(const void *a, const void *b)
{
	const struct cg_node_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int k8s_catalog_build_nodes(const struct k8s_catalog *catalog,
			    struct cg_node_info **nodes, size_t *count)
{
	const struct k8s_store *store = k8s_catalog_store(catalog, K8S_NODES);
	struct node_build build = { 0 };

	build.nodes = calloc(k8s_store_count(store) + 1, sizeof(*build.nodes));
	if (!build.nodes)
		return -ENOMEM;
	k8s_store_foreach(store, copy_node, &build);
	if (build.error) {
		k8s_node_list_free(build.nodes, build.count);
		return build.error;
	}
	qsort(build.nodes, build.count, sizeof(*build.nodes), compare_nodes);
	*nodes = build.nodes;
	*count = build.count;
	return 0;
}

void k8s_node_list_free(struct cg_node_info *nodes, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(nodes[i].name);
	free(nodes);
}
