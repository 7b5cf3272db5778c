/*
 * Set element encodings and element change lists.
 *
 * nftables concatenations put each field in its own 32-bit register, so a
 * key "ipv4_addr . inet_proto . inet_service . bucket" is 16 bytes: the
 * address (network order), the protocol byte plus 3 zero bytes, the port
 * (network order) plus 2 zero bytes, and the bucket in host order (numgen
 * and jhash write a host-order u32).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_internal.h"

const char *const nat_set_names[NAT_SET_COUNT] = {
	[NAT_SET_OFFICE_SUBNETS] = "office_subnets",
	[NAT_SET_CLUSTER_DESTINATIONS] = "cluster_destinations",
	[NAT_SET_NARROWED_SUBNETS] = "narrowed_office_subnets",
	[NAT_SET_SERVICE_IPS] = "service_ips",
	[NAT_SET_REJECTED_SERVICES] = "rejected_services",
	[NAT_SET_SERVICE_DISPATCH] = "service_dispatch",
	[NAT_SET_SERVICE_BACKENDS] = "service_backends",
};

void nat_elem_ipv4(struct nat_elem *e, uint32_t ip, bool interval_end)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->key, &ip, 4);
	e->key_len = 4;
	e->interval_end = interval_end;
}

void nat_elem_service(struct nat_elem *e, uint32_t ip, uint8_t protocol,
		      uint16_t port)
{
	uint16_t port_be = htons(port);

	memset(e, 0, sizeof(*e));
	memcpy(e->key, &ip, 4);
	e->key[4] = protocol;
	memcpy(e->key + 8, &port_be, 2);
	e->key_len = 12;
}

void nat_elem_backend(struct nat_elem *e, uint32_t ip, uint8_t protocol,
		      uint16_t port, uint32_t bucket, uint32_t endpoint_ip,
		      uint16_t endpoint_port)
{
	uint16_t port_be = htons(endpoint_port);

	nat_elem_service(e, ip, protocol, port);
	memcpy(e->key + 12, &bucket, 4);
	e->key_len = 16;
	memcpy(e->data, &endpoint_ip, 4);
	memcpy(e->data + 4, &port_be, 2);
	e->data_len = 8;
}

void nat_dnat_chain_name(enum nat_dnat_mode mode, uint32_t buckets,
			 uint32_t timeout_s, char *buf, size_t size)
{
	if (mode == NAT_MODE_AFFINITY)
		snprintf(buf, size, "dnat_affinity_%u_%u", buckets, timeout_s);
	else
		snprintf(buf, size, "dnat_random_%u", buckets);
}

int nat_elem_list_push(struct nat_elem_list *list, const struct nat_elem *e)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 64;
		struct nat_elem *items;

		items = realloc(list->items, capacity * sizeof(*items));
		if (!items)
			return -ENOMEM;
		list->items = items;
		list->capacity = capacity;
	}
	list->items[list->count++] = *e;
	return 0;
}

void nat_changes_free(struct nat_changes *changes)
{
	for (int i = 0; i < NAT_SET_COUNT; i++) {
		free(changes->del[i].items);
		free(changes->add[i].items);
	}
	memset(changes, 0, sizeof(*changes));
}

size_t nat_changes_count(const struct nat_changes *changes, bool adds)
{
	size_t total = 0;

	for (int i = 0; i < NAT_SET_COUNT; i++)
		total += adds ? changes->add[i].count : changes->del[i].count;
	return total;
}
