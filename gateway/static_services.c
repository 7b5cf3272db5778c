/* services.static -> struct nat_services (see static_services.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/static_services.h"

static uint8_t protocol_number(enum cg_protocol protocol)
{
	switch (protocol) {
	case CG_PROTO_UDP:
		return IPPROTO_UDP;
	case CG_PROTO_SCTP:
		return IPPROTO_SCTP;
	default:
		return IPPROTO_TCP;
	}
}

static int build_port(const struct cg_static_service *service,
		      const struct cg_static_port *port,
		      struct nat_service_port *out)
{
	char name[256];

	if (port->name && *port->name)
		snprintf(name, sizeof(name), "%s/%s:%s",
			 service->namespace ? service->namespace : "default",
			 service->name, port->name);
	else
		snprintf(name, sizeof(name), "%s/%s:%u",
			 service->namespace ? service->namespace : "default",
			 service->name, port->port);
	out->cluster_ip = service->cluster_ip;
	out->protocol = protocol_number(port->protocol);
	out->port = port->port;
	out->affinity_client_ip = service->affinity_client_ip;
	out->affinity_timeout_s = service->affinity_timeout_s;
	out->name = strdup(name);
	out->endpoints = calloc(service->endpoint_count + 1,
				sizeof(*out->endpoints));
	if (!out->name || !out->endpoints)
		return -ENOMEM;
	for (size_t i = 0; i < service->endpoint_count; i++) {
		out->endpoints[i].address = service->endpoints[i];
		out->endpoints[i].port = port->target_port ? port->target_port :
					 port->port;
	}
	out->endpoint_count = service->endpoint_count;
	return 0;
}

int static_services_build(const struct cg_config *config,
			  struct nat_services *out)
{
	const struct cg_services *services = &config->services;
	size_t total = 0;
	int err = 0;

	for (size_t i = 0; i < services->static_count; i++)
		total += services->static_services[i].port_count;
	out->count = 0;
	out->ports = calloc(total + 1, sizeof(*out->ports));
	if (!out->ports)
		return -ENOMEM;
	for (size_t i = 0; !err && i < services->static_count; i++) {
		const struct cg_static_service *s = &services->static_services[i];

		for (size_t p = 0; !err && p < s->port_count; p++)
			err = build_port(s, &s->ports[p],
					 &out->ports[out->count++]);
	}
	if (err)
		static_services_free(out);
	return err;
}

int nat_services_copy(const struct nat_services *from, struct nat_services *to)
{
	to->count = 0;
	to->ports = calloc(from->count + 1, sizeof(*to->ports));
	if (!to->ports)
		return -ENOMEM;
	for (size_t i = 0; i < from->count; i++) {
		const struct nat_service_port *src = &from->ports[i];
		struct nat_service_port *dst = &to->ports[to->count++];

		*dst = *src;
		dst->name = src->name ? strdup(src->name) : NULL;
		dst->endpoints = calloc(src->endpoint_count + 1,
					sizeof(*dst->endpoints));
		if ((src->name && !dst->name) || !dst->endpoints) {
			static_services_free(to);
			return -ENOMEM;
		}
		memcpy(dst->endpoints, src->endpoints,
		       src->endpoint_count * sizeof(*dst->endpoints));
	}
	return 0;
}

void static_services_free(struct nat_services *services)
{
	for (size_t i = 0; services->ports && i < services->count; i++) {
		free(services->ports[i].name);
		free(services->ports[i].endpoints);
	}
	free(services->ports);
	services->ports = NULL;
	services->count = 0;
}
