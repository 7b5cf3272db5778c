/*
 * nat/: clustergate's nftables table.
 *
 * One table, "inet clustergate", owned by this module and nothing else. It
 * holds the forward access policy for tunnel traffic, SNAT of office
 * traffic to the gateway's VPC address, TCP MSS clamping, and the
 * proxy-mode service DNAT maps. nat/README.md shows the ruleset as
 * `nft list table inet clustergate` prints it.
 *
 * The caller describes the desired state in plain structs; nat_apply()
 * compares it with what the kernel holds and sends the difference as one
 * atomic nfnetlink batch (libnftnl + libmnl, never the nft binary). The
 * module never touches another table.
 *
 * Ownership: struct nat is created by nat_open() and freed by nat_close().
 * Everything passed to nat_apply() is borrowed for the duration of the call.
 */
#ifndef CLUSTERGATE_NAT_H
#define CLUSTERGATE_NAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nat/nat_services.h"

#define NAT_TABLE_NAME "clustergate"
#define NAT_DEFAULT_DNAT_BUCKETS 12

/* An IPv4 prefix; address in network byte order. */
struct nat_cidr {
	struct in_addr address;
	uint8_t prefix_len;
};

/*
 * Narrows what one office subnet may reach. When any allow rule names an
 * office subnet (or part of one), traffic from that subnet is forwarded
 * only if it matches one of the rules for it; other office subnets keep
 * access to every cluster destination.
 */
struct nat_allow_rule {
	struct nat_cidr office_subnet;
	const struct nat_cidr *destinations;	/* none: all cluster CIDRs */
	size_t destination_count;
	const uint16_t *ports;			/* none: all ports and ICMP */
	size_t port_count;			/* TCP, UDP or SCTP ports */
};

/* Everything in the table except the service DNAT maps. */
struct nat_policy {
	/*
	 * How traffic from the office is recognised: the TUN device of
	 * strongSwan's kernel-libipsec ("ipsec0"), or NULL for the kernel
	 * XFRM data path (the packet was decrypted by an inbound IPsec SA,
	 * `meta ipsec exists`).
	 */
	const char *tunnel_interface;
	const char *vpc_interface;		/* SNAT egress, e.g. "eth0" */
	struct in_addr vpc_address;		/* SNAT source; not 0.0.0.0 */
	bool snat;				/* SNAT office sources */
	uint16_t tunnel_mtu;			/* 0: no MSS clamping */
	const struct nat_cidr *office_subnets;	/* at least one */
	size_t office_subnet_count;
	/* Service CIDR, pod CIDRs and, if allowed, node CIDRs. */
	const struct nat_cidr *cluster_destinations;	/* at least one */
	size_t cluster_destination_count;
	const struct nat_allow_rule *allow;
	size_t allow_count;
	uint32_t dnat_buckets;			/* 0: NAT_DEFAULT_DNAT_BUCKETS */
	/*
	 * Proxy mode: the gateway is the authority for this service CIDR.
	 * Traffic to an address . port in it that is not a known service
	 * port is rejected here instead of being forwarded into the VPC
	 * (where a route might send it to a node: the incident). Off in
	 * route mode, where the nodes do the DNAT.
	 */
	bool owns_service_cidr;
	struct nat_cidr service_cidr;		/* when owns_service_cidr */
};

/* What one nat_apply() call did. */
struct nat_apply_stats {
	bool kernel_changed;		/* a batch was committed */
	bool table_rebuilt;		/* layout differed: table recreated */
	bool read_back;			/* elements read from the kernel */
	size_t chains_rewritten;	/* chains whose rules were replaced */
	size_t elements_added;
	size_t elements_deleted;
	size_t service_ports;		/* service ports now programmed */
	size_t netlink_messages;
	double duration_ms;
};

/* Named counters in the table. */
struct nat_counters {
	uint64_t snat_packets;		/* office -> cluster, SNATed */
	uint64_t snat_bytes;
	uint64_t policy_drop_packets;	/* dropped by the access policy */
	uint64_t policy_drop_bytes;
	uint64_t service_reject_packets;	/* services without endpoints */
	uint64_t service_reject_bytes;
};

struct nat;

/*
 * Open a netfilter netlink socket. Touches no kernel state. Returns NULL
 * with errno set on failure.
 */
struct nat *nat_open(void);

/* Close the socket and free. The table stays in the kernel. */
void nat_close(struct nat *nat);

/*
 * Make the table match policy and services. services NULL keeps the
 * service maps as they are; an empty nat_services removes every service.
 * Returns 0, or -errno with nat_error() describing the problem. A desired
 * state that is not valid (e.g. vpc_address 0.0.0.0) gives -EINVAL and the
 * kernel is not touched. stats may be NULL.
 */
int nat_apply(struct nat *nat, const struct nat_policy *policy,
	      const struct nat_services *services,
	      struct nat_apply_stats *stats);

/* Read the named counters. Returns 0, -ENOENT if the table is missing. */
int nat_read_counters(struct nat *nat, struct nat_counters *counters);

/*
 * Delete the table (`clustergate cleanup`). Returns 0, also when there was
 * no table, or -errno. removed (may be NULL) says whether it existed.
 */
int nat_cleanup(struct nat *nat, bool *removed);

/* The last error message of this handle ("" if none). */
const char *nat_error(const struct nat *nat);

#endif
