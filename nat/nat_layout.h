/*
 * The shape of the clustergate table for a policy: counters, sets, chains
 * and every rule, as libnftnl objects ready to be put in a batch.
 */
#ifndef CLUSTERGATE_NAT_LAYOUT_H
#define CLUSTERGATE_NAT_LAYOUT_H

#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stdint.h>

#include "nat/nat.h"
#include "nat/nat_internal.h"
#include "nat/nat_netlink.h"

#define NAT_CHAIN_NAME_SIZE 32
#define NAT_MAX_CHAINS 96

/* Rule user data: a hash of the rule, to recognise it when read back. */
#define NAT_UDATA_RULE_HASH 200

extern const char *const nat_counter_names[3];	/* office_snat, ... */

struct nat_chain_def {
	char name[NAT_CHAIN_NAME_SIZE];
	const char *type;		/* "filter" / "nat"; NULL: regular */
	uint32_t hook;
	int32_t priority;
};

struct nat_set_def {
	uint32_t flags;
	uint32_t key_type;
	uint32_t key_len;
	uint32_t data_type;
	uint32_t data_len;
};

struct nat_rule {
	char chain[NAT_CHAIN_NAME_SIZE];
	struct nftnl_rule *rule;
	uint64_t hash;
};

struct nat_layout {
	struct nat_chain_def chains[NAT_MAX_CHAINS];
	size_t chain_count;
	struct nat_rule *rules;
	size_t rule_count;
	uint32_t buckets;		/* base bucket count */
	uint32_t affinity_timeouts[NAT_MAX_AFFINITY_TIMEOUTS];	/* seconds */
	size_t affinity_timeout_count;
};

extern const struct nat_set_def nat_set_defs[NAT_SET_COUNT];
/* The dynamic map NAT_AFFINITY_CLIENTS (not one of the diffed sets). */
extern const struct nat_set_def nat_affinity_clients_def;

/*
 * Build every chain and rule for policy, with the ClientIP affinity
 * chains for each of timeouts (seconds, distinct, at most
 * NAT_MAX_AFFINITY_TIMEOUTS). Returns 0 or -ENOMEM.
 */
int nat_layout_build(const struct nat_policy *policy,
		     const uint32_t *timeouts, size_t timeout_count,
		     struct nat_layout *out);
void nat_layout_free(struct nat_layout *layout);

/* Batch builders. */
void nat_put_table(struct nat_batch *b, struct nat_netlink *nl, bool add);
void nat_put_counters(struct nat_batch *b, struct nat_netlink *nl);
void nat_put_sets(struct nat_batch *b, struct nat_netlink *nl,
		  uint32_t buckets);
void nat_put_chains(struct nat_batch *b, struct nat_netlink *nl,
		    const struct nat_layout *layout);
void nat_put_rule(struct nat_batch *b, struct nat_netlink *nl,
		  const struct nat_rule *rule);
void nat_put_rule_delete(struct nat_batch *b, struct nat_netlink *nl,
			 const char *chain, uint64_t handle);
/* Element changes for one set, in messages of a few hundred elements. */
void nat_put_elements(struct nat_batch *b, struct nat_netlink *nl,
		      enum nat_set_index set, const struct nat_elem_list *list,
		      bool add);

#endif
