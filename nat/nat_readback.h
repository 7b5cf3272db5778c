/*
 * What the kernel holds in our table now: its chains, sets, counters and
 * rules, and on request the elements of each set.
 */
#ifndef CLUSTERGATE_NAT_READBACK_H
#define CLUSTERGATE_NAT_READBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "nat/nat_internal.h"
#include "nat/nat_layout.h"
#include "nat/nat_netlink.h"

struct nat_kernel_chain {
	char name[NAT_CHAIN_NAME_SIZE];
	char type[16];			/* "" for a regular chain */
	uint32_t hook;
	int32_t priority;
};

struct nat_kernel_set {
	char name[NAT_CHAIN_NAME_SIZE];
	struct nat_set_def def;
};

struct nat_kernel_rule {
	char chain[NAT_CHAIN_NAME_SIZE];
	uint64_t handle;
	uint64_t hash;			/* 0: not one of ours */
};

struct nat_kernel {
	bool table_exists;
	struct nat_kernel_chain *chains;
	size_t chain_count;
	struct nat_kernel_set *sets;
	size_t set_count;
	size_t counter_count;		/* of ours, by name */
	size_t object_count;		/* all objects */
	struct nat_kernel_rule *rules;
	size_t rule_count;
};

/* Table, chains, sets, objects and rules. Returns 0 or -errno. */
int nat_read_kernel(struct nat_netlink *nl, struct nat_kernel *kernel);
void nat_kernel_free(struct nat_kernel *kernel);
/*
 * "dnat_random_12" -> NAT_MODE_RANDOM, 12; "dnat_affinity_12_10800" ->
 * NAT_MODE_AFFINITY, 12, 10800. Returns 0, or -EINVAL for another name.
 */
int nat_parse_dnat_chain(const char *chain, enum nat_dnat_mode *mode,
			 uint32_t *buckets, uint32_t *timeout_s);
/* Elements of one of our sets. */
int nat_read_elements(struct nat_netlink *nl, enum nat_set_index set,
		      struct nat_elem_list *out);

#endif
