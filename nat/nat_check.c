/*
 * Is a desired policy one nat_apply() can program? Checked before the
 * kernel is touched, so a bad state never replaces a good table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nat/nat_internal.h"

static int check_cidr(char *error, size_t size, const char *what,
		      const struct nat_cidr *cidr)
{
	if (cidr->prefix_len > 32) {
		snprintf(error, size, "%s: prefix length %u is over 32", what,
			 cidr->prefix_len);
		return -EINVAL;
	}
	return 0;
}

static int check_ifname(char *error, size_t size, const char *what,
			const char *name)
{
	if (!name || !*name) {
		snprintf(error, size, "%s is empty", what);
		return -EINVAL;
	}
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(error, size, "%s '%s' is longer than %d characters",
			 what, name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	return 0;
}

static bool cidr_inside(const struct nat_cidr *inner,
			const struct nat_cidr *outer)
{
	uint32_t mask = outer->prefix_len ?
			~0U << (32 - outer->prefix_len) : 0;

	return inner->prefix_len >= outer->prefix_len &&
	       ((ntohl(inner->address.s_addr) ^
		 ntohl(outer->address.s_addr)) & mask) == 0;
}

static int check_allow(const struct nat_policy *p, char *error, size_t size)
{
	char what[64];

	for (size_t i = 0; i < p->allow_count; i++) {
		const struct nat_allow_rule *a = &p->allow[i];
		bool inside = false;

		snprintf(what, sizeof(what), "allow[%zu].office_subnet", i);
		if (check_cidr(error, size, what, &a->office_subnet))
			return -EINVAL;
		for (size_t j = 0; j < p->office_subnet_count; j++)
			inside |= cidr_inside(&a->office_subnet,
					      &p->office_subnets[j]);
		if (!inside) {
			char ip[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &a->office_subnet.address, ip,
				  sizeof(ip));
			snprintf(error, size, "%s %s/%u is not inside any "
				 "office subnet", what, ip,
				 a->office_subnet.prefix_len);
			return -EINVAL;
		}
		for (size_t j = 0; j < a->destination_count; j++) {
			snprintf(what, sizeof(what),
				 "allow[%zu].destinations[%zu]", i, j);
			if (check_cidr(error, size, what, &a->destinations[j]))
				return -EINVAL;
		}
		for (size_t j = 0; j < a->port_count; j++) {
			if (!a->ports[j]) {
				snprintf(error, size,
					 "allow[%zu].ports[%zu] is 0", i, j);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int nat_check_policy(const struct nat_policy *p, char *error, size_t size)
{
	char what[64];

	if (!p->vpc_address.s_addr) {
		snprintf(error, size, "vpc_address is empty (0.0.0.0); SNAT "
			 "and ClusterIP ping replies need the gateway's VPC "
			 "address");
		return -EINVAL;
	}
	if (p->snat && check_ifname(error, size, "vpc_interface",
				    p->vpc_interface))
		return -EINVAL;
	if (p->tunnel_interface &&
	    check_ifname(error, size, "tunnel_interface", p->tunnel_interface))
		return -EINVAL;
	if (p->tunnel_mtu && (p->tunnel_mtu < 576 || p->tunnel_mtu > 9000)) {
		snprintf(error, size, "tunnel_mtu %u is outside 576-9000",
			 p->tunnel_mtu);
		return -EINVAL;
	}
	if (p->dnat_buckets > 256) {
		snprintf(error, size, "dnat_buckets %u is over 256",
			 p->dnat_buckets);
		return -EINVAL;
	}
	if (!p->office_subnet_count) {
		snprintf(error, size, "no office subnets");
		return -EINVAL;
	}
	if (!p->cluster_destination_count) {
		snprintf(error, size, "no cluster destinations");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->office_subnet_count; i++) {
		snprintf(what, sizeof(what), "office_subnets[%zu]", i);
		if (check_cidr(error, size, what, &p->office_subnets[i]))
			return -EINVAL;
	}
	for (size_t i = 0; i < p->cluster_destination_count; i++) {
		snprintf(what, sizeof(what), "cluster_destinations[%zu]", i);
		if (check_cidr(error, size, what,
			       &p->cluster_destinations[i]))
			return -EINVAL;
	}
	return check_allow(p, error, size);
}
