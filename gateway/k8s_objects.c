/* Decoders for the Kubernetes objects clustergate reads (jansson). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/k8s_objects.h"

#define DEFAULT_AFFINITY_TIMEOUT_S 10800

static int decode_error(char *error, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int decode_error(char *error, size_t size, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(error, size, fmt, args);
	va_end(args);
	return -EINVAL;
}

uint8_t k8s_protocol_from_name(const char *name)
{
	if (!name || strcmp(name, "TCP") == 0)
		return IPPROTO_TCP;
	if (strcmp(name, "UDP") == 0)
		return IPPROTO_UDP;
	if (strcmp(name, "SCTP") == 0)
		return IPPROTO_SCTP;
	return 0;
}

const char *k8s_resource_version(json_t *object)
{
	json_t *metadata = json_object_get(object, "metadata");

	return json_string_value(json_object_get(metadata,
						 "resourceVersion"));
}

const char *k8s_object_key(json_t *object, char *buf, size_t size)
{
	json_t *metadata = json_object_get(object, "metadata");
	const char *name = json_string_value(json_object_get(metadata, "name"));
	const char *ns = json_string_value(json_object_get(metadata,
							   "namespace"));
	int len;

	if (!name || !*name)
		return NULL;
	if (ns && *ns)
		len = snprintf(buf, size, "%s/%s", ns, name);
	else
		len = snprintf(buf, size, "%s", name);
	return len < 0 || (size_t)len >= size ? NULL : buf;
}

/* metadata.name and metadata.namespace (namespace may be absent). */
static int decode_metadata(json_t *object, char **ns, char **name,
			   char *error, size_t size)
{
	json_t *metadata = json_object_get(object, "metadata");
	const char *name_text, *ns_text;

	if (!json_is_object(object))
		return decode_error(error, size, "not a JSON object");
	if (!json_is_object(metadata))
		return decode_error(error, size, "metadata: missing");
	name_text = json_string_value(json_object_get(metadata, "name"));
	if (!name_text || !*name_text)
		return decode_error(error, size, "metadata.name: missing");
	ns_text = json_string_value(json_object_get(metadata, "namespace"));
	*name = strdup(name_text);
	*ns = strdup(ns_text ? ns_text : "");
	if (!*name || !*ns) {
		free(*name);
		free(*ns);
		return decode_error(error, size, "out of memory");
	}
	return 0;
}

/* A port number 1-65535. */
static bool decode_port(json_t *value, uint16_t *port)
{
	json_int_t number;

	if (!json_is_integer(value))
		return false;
	number = json_integer_value(value);
	if (number < 1 || number > 65535)
		return false;
	*port = (uint16_t)number;
	return true;
}

/* An optional string field: absent or null is "", other types fail. */
static int optional_string(json_t *object, const char *field, char **out)
{
	json_t *value = json_object_get(object, field);

	if (value && !json_is_null(value) && !json_is_string(value))
		return -EINVAL;
	*out = strdup(json_is_string(value) ? json_string_value(value) : "");
	return *out ? 0 : -ENOMEM;
}

/* Protocol of a port entry; absent means TCP. */
static int decode_protocol(json_t *port, uint8_t *protocol)
{
	json_t *value = json_object_get(port, "protocol");

	if (value && !json_is_string(value))
		return -EINVAL;
	*protocol = k8s_protocol_from_name(json_string_value(value));
	return *protocol ? 0 : -EINVAL;
}

/* ---- Service ---- */

/* The Service's IPv4 ClusterIP, looking at clusterIPs for dual-stack. */
static int decode_cluster_ip(json_t *spec, struct k8s_service *out,
			     char *error, size_t size)
{
	json_t *type = json_object_get(spec, "type");
	json_t *ips = json_object_get(spec, "clusterIPs");
	json_t *single = json_object_get(spec, "clusterIP");
	json_t *ip;
	size_t i;

	if (json_is_string(type) &&
	    strcmp(json_string_value(type), "ExternalName") == 0)
		return 0;
	if (single && !json_is_string(single))
		return decode_error(error, size, "spec.clusterIP: not a string");
	if (ips && !json_is_array(ips))
		return decode_error(error, size,
				    "spec.clusterIPs: not a list");
	if (!json_array_size(ips))
		ips = NULL;
	for (i = 0; i < (ips ? json_array_size(ips) : 1); i++) {
		const char *text;

		ip = ips ? json_array_get(ips, i) : single;
		if (!ip)
			break;
		text = json_string_value(ip);
		if (!text)
			return decode_error(error, size,
					    "spec.clusterIPs[%zu]: not a string",
					    i);
		if (!*text || strcmp(text, "None") == 0)
			return 0;	/* headless */
		if (inet_pton(AF_INET, text, &out->cluster_ip) == 1) {
			out->has_cluster_ip = true;
			return 0;
		}
		if (!strchr(text, ':'))
			return decode_error(error, size,
					    "spec.clusterIP: '%s' is not an IP address",
					    text);
	}
	return 0;			/* IPv6 only */
}

static int decode_service_ports(json_t *spec, struct k8s_service *out,
				char *error, size_t size)
{
	json_t *ports = json_object_get(spec, "ports");
	json_t *port, *target;
	size_t i;

	if (!ports || json_is_null(ports))
		return 0;
	if (!json_is_array(ports))
		return decode_error(error, size, "spec.ports: not a list");
	out->ports = calloc(json_array_size(ports) + 1, sizeof(*out->ports));
	if (!out->ports)
		return decode_error(error, size, "out of memory");
	json_array_foreach(ports, i, port) {
		struct k8s_service_port *entry = &out->ports[i];

		if (!json_is_object(port))
			return decode_error(error, size,
					    "spec.ports[%zu]: not an object", i);
		if (optional_string(port, "name", &entry->name))
			return decode_error(error, size,
					    "spec.ports[%zu].name: not a string",
					    i);
		out->port_count++;
		if (decode_protocol(port, &entry->protocol))
			return decode_error(error, size,
					    "spec.ports[%zu].protocol: not TCP, UDP or SCTP",
					    i);
		if (!decode_port(json_object_get(port, "port"), &entry->port))
			return decode_error(error, size,
					    "spec.ports[%zu].port: not a port number",
					    i);
		target = json_object_get(port, "targetPort");
		entry->target_port_name = strdup(json_is_string(target) ?
						 json_string_value(target) : "");
		if (!entry->target_port_name)
			return decode_error(error, size, "out of memory");
	}
	return 0;
}

static int decode_affinity(json_t *spec, struct k8s_service *out,
			   char *error, size_t size)
{
	json_t *affinity = json_object_get(spec, "sessionAffinity");
	json_t *config, *timeout;

	out->affinity_timeout_s = DEFAULT_AFFINITY_TIMEOUT_S;
	if (!affinity || json_is_null(affinity))
		return 0;
	if (!json_is_string(affinity))
		return decode_error(error, size,
				    "spec.sessionAffinity: not a string");
	if (strcmp(json_string_value(affinity), "ClientIP") != 0)
		return 0;
	out->affinity_client_ip = true;
	config = json_object_get(json_object_get(spec, "sessionAffinityConfig"),
				 "clientIP");
	timeout = json_object_get(config, "timeoutSeconds");
	if (!timeout || json_is_null(timeout))
		return 0;
	if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
	    json_integer_value(timeout) > 86400)
		return decode_error(error, size,
				    "spec.sessionAffinityConfig.clientIP.timeoutSeconds: not 1-86400");
	out->affinity_timeout_s = (uint32_t)json_integer_value(timeout);
	return 0;
}

int k8s_service_decode(json_t *object, struct k8s_service *out,
		       char *error, size_t size)
{
	json_t *spec;
	int err;

	memset(out, 0, sizeof(*out));
	err = decode_metadata(object, &out->namespace, &out->name, error, size);
	if (err)
		return err;
	spec = json_object_get(object, "spec");
	if (!json_is_object(spec))
		err = decode_error(error, size, "spec: missing");
	if (!err)
		err = decode_cluster_ip(spec, out, error, size);
	if (!err)
		err = decode_service_ports(spec, out, error, size);
	if (!err)
		err = decode_affinity(spec, out, error, size);
	if (err)
		k8s_service_clear(out);
	return err;
}

void k8s_service_clear(struct k8s_service *service)
{
	for (size_t i = 0; i < service->port_count; i++) {
		free(service->ports[i].name);
		free(service->ports[i].target_port_name);
	}
	free(service->ports);
	free(service->namespace);
	free(service->name);
	memset(service, 0, sizeof(*service));
}

/* ---- EndpointSlice ---- */

/* A condition: absent or null gives fallback. */
static int decode_condition(json_t *conditions, const char *field,
			    bool fallback, bool *out)
{
	json_t *value = json_object_get(conditions, field);

	if (!value || json_is_null(value)) {
		*out = fallback;
		return 0;
	}
	if (!json_is_boolean(value))
		return -EINVAL;
	*out = json_is_true(value);
	return 0;
}

static int decode_slice_endpoint(json_t *endpoint, size_t i,
				 struct k8s_slice_endpoint *out,
				 char *error, size_t size)
{
	json_t *addresses = json_object_get(endpoint, "addresses");
	json_t *conditions = json_object_get(endpoint, "conditions");
	const char *address;

	if (!json_is_object(endpoint))
		return decode_error(error, size, "endpoints[%zu]: not an object",
				    i);
	if (!json_is_array(addresses) || !json_array_size(addresses))
		return decode_error(error, size,
				    "endpoints[%zu].addresses: missing", i);
	address = json_string_value(json_array_get(addresses, 0));
	if (!address || inet_pton(AF_INET, address, &out->address) != 1)
		return decode_error(error, size,
				    "endpoints[%zu].addresses[0]: not an IPv4 address",
				    i);
	if (conditions && !json_is_null(conditions) &&
	    !json_is_object(conditions))
		return decode_error(error, size,
				    "endpoints[%zu].conditions: not an object", i);
	if (decode_condition(conditions, "ready", true, &out->ready) ||
	    decode_condition(conditions, "serving", out->ready,
			     &out->serving) ||
	    decode_condition(conditions, "terminating", false,
			     &out->terminating))
		return decode_error(error, size,
				    "endpoints[%zu].conditions: not true/false",
				    i);
	return 0;
}

static int decode_slice_endpoints(json_t *object, struct k8s_slice *out,
				  char *error, size_t size)
{
	json_t *endpoints = json_object_get(object, "endpoints");
	json_t *endpoint;
	size_t i;
	int err;

	if (!endpoints || json_is_null(endpoints))
		return 0;
	if (!json_is_array(endpoints))
		return decode_error(error, size, "endpoints: not a list");
	out->endpoints = calloc(json_array_size(endpoints) + 1,
				sizeof(*out->endpoints));
	if (!out->endpoints)
		return decode_error(error, size, "out of memory");
	json_array_foreach(endpoints, i, endpoint) {
		err = decode_slice_endpoint(endpoint, i, &out->endpoints[i],
					    error, size);
		if (err)
			return err;
		out->endpoint_count++;
	}
	return 0;
}

static int decode_slice_ports(json_t *object, struct k8s_slice *out,
			      char *error, size_t size)
{
	json_t *ports = json_object_get(object, "ports");
	json_t *port;
	size_t i;

	if (!ports || json_is_null(ports))
		return 0;
	if (!json_is_array(ports))
		return decode_error(error, size, "ports: not a list");
	out->ports = calloc(json_array_size(ports) + 1, sizeof(*out->ports));
	if (!out->ports)
		return decode_error(error, size, "out of memory");
	json_array_foreach(ports, i, port) {
		struct k8s_slice_port *entry = &out->ports[out->port_count];

		if (!json_is_object(port))
			return decode_error(error, size,
					    "ports[%zu]: not an object", i);
		/* A nil port means "all ports"; no Service port can use it. */
		if (json_is_null(json_object_get(port, "port")) ||
		    !json_object_get(port, "port"))
			continue;
		if (optional_string(port, "name", &entry->name))
			return decode_error(error, size,
					    "ports[%zu].name: not a string", i);
		out->port_count++;
		if (decode_protocol(port, &entry->protocol))
			return decode_error(error, size,
					    "ports[%zu].protocol: not TCP, UDP or SCTP",
					    i);
		if (!decode_port(json_object_get(port, "port"), &entry->port))
			return decode_error(error, size,
					    "ports[%zu].port: not a port number",
					    i);
	}
	return 0;
}

int k8s_slice_decode(json_t *object, struct k8s_slice *out,
		     char *error, size_t size)
{
	json_t *labels, *service, *type;
	int err;

	memset(out, 0, sizeof(*out));
	err = decode_metadata(object, &out->namespace, &out->name, error, size);
	if (err)
		return err;
	labels = json_object_get(json_object_get(object, "metadata"),
				 "labels");
	service = json_object_get(labels, "kubernetes.io/service-name");
	type = json_object_get(object, "addressType");
	if (service && !json_is_string(service)) {
		err = decode_error(error, size,
				   "metadata.labels.kubernetes.io/service-name: not a string");
	} else if (service && !(out->service_name =
				strdup(json_string_value(service)))) {
		err = decode_error(error, size, "out of memory");
	} else if (!json_is_string(type)) {
		err = decode_error(error, size, "addressType: missing");
	} else {
		out->ipv4 = strcmp(json_string_value(type), "IPv4") == 0;
		if (out->ipv4)
			err = decode_slice_endpoints(object, out, error, size);
	}
	if (!err)
		err = decode_slice_ports(object, out, error, size);
	if (err)
		k8s_slice_clear(out);
	return err;
}

void k8s_slice_clear(struct k8s_slice *slice)
{
	for (size_t i = 0; i < slice->port_count; i++)
		free(slice->ports[i].name);
	free(slice->ports);
	free(slice->endpoints);
	free(slice->service_name);
	free(slice->namespace);
	free(slice->name);
	memset(slice, 0, sizeof(*slice));
}

/* ---- Node ---- */

static int decode_node_address(json_t *status, struct cg_node_info *out,
			       char *error, size_t size)
{
	json_t *addresses = json_object_get(status, "addresses");
	json_t *entry;
	size_t i;

	if (addresses && !json_is_array(addresses))
		return decode_error(error, size,
				    "status.addresses: not a list");
	json_array_foreach(addresses, i, entry) {
		const char *type = json_string_value(json_object_get(entry,
								     "type"));
		const char *text = json_string_value(json_object_get(entry,
								     "address"));

		if (!type || strcmp(type, "InternalIP") != 0 || !text)
			continue;
		/* Dual-stack nodes list an IPv6 InternalIP too. */
		if (inet_pton(AF_INET, text, &out->address) == 1)
			return 0;
		if (!strchr(text, ':'))
			return decode_error(error, size,
					    "status.addresses[%zu].address: '%s' is not an IP address",
					    i, text);
	}
	return decode_error(error, size,
			    "status.addresses: no IPv4 InternalIP");
}

static void decode_node_ready(json_t *status, struct cg_node_info *out)
{
	json_t *conditions = json_object_get(status, "conditions");
	json_t *condition;
	size_t i;

	json_array_foreach(conditions, i, condition) {
		const char *type = json_string_value(
			json_object_get(condition, "type"));
		const char *value = json_string_value(
			json_object_get(condition, "status"));

		if (type && value && strcmp(type, "Ready") == 0)
			out->ready = strcmp(value, "True") == 0;
	}
}

int k8s_node_decode(json_t *object, struct cg_node_info *out,
		    char *error, size_t size)
{
	json_t *spec, *status, *metadata, *pod_cidr, *unschedulable;
	char *ns = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	err = decode_metadata(object, &ns, &out->name, error, size);
	free(ns);
	if (err)
		return err;
	metadata = json_object_get(object, "metadata");
	spec = json_object_get(object, "spec");
	status = json_object_get(object, "status");
	pod_cidr = json_object_get(spec, "podCIDR");
	unschedulable = json_object_get(spec, "unschedulable");
	if (!json_is_object(status))
		err = decode_error(error, size, "status: missing");
	else
		err = decode_node_address(status, out, error, size);
	if (!err && unschedulable && !json_is_boolean(unschedulable))
		err = decode_error(error, size,
				   "spec.unschedulable: not true/false");
	if (!err && json_is_string(pod_cidr) && *json_string_value(pod_cidr)) {
		/* An IPv6-only pod range is simply not routable here. */
		out->has_pod_cidr = cg_cidr_parse(json_string_value(pod_cidr),
						  &out->pod_cidr) == 0;
		if (!out->has_pod_cidr &&
		    !strchr(json_string_value(pod_cidr), ':'))
			err = decode_error(error, size,
					   "spec.podCIDR: '%s' is not an IPv4 CIDR",
					   json_string_value(pod_cidr));
	}
	if (err) {
		k8s_node_info_clear(out);
		return err;
	}
	decode_node_ready(status, out);
	out->schedulable = !json_is_true(unschedulable);
	out->deleting = json_is_string(json_object_get(metadata,
						       "deletionTimestamp"));
	return 0;
}

void k8s_node_info_clear(struct cg_node_info *node)
{
	free(node->name);
	memset(node, 0, sizeof(*node));
}
