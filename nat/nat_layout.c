/*
 * The clustergate table's counters, sets and chains, and the batch
 * messages that create them or change their elements. The rules are in
 * nat_rules.c. nat/README.md shows the result as `nft list table inet
 * clustergate` prints it; keep the two in step.
 *
 * Sets and maps carry the same user data nft writes for them, so nft
 * prints their types (and `typeof` for service_backends) in its own
 * syntax.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_expr.h"
#include "nat/nat_layout.h"

const char *const nat_counter_names[3] = {
	"office_snat", "policy_drop", "service_reject",
};

#define IPV4_TYPE 7			/* nft datatype ipv4_addr */
#define SERVICE_KEY_TYPE 0x730d		/* ipv4_addr . inet_proto . inet_service */

const struct nat_set_def nat_set_defs[NAT_SET_COUNT] = {
	[NAT_SET_OFFICE_SUBNETS] = { NFT_SET_INTERVAL, IPV4_TYPE, 4, 0, 0 },
	[NAT_SET_CLUSTER_DESTINATIONS] = { NFT_SET_INTERVAL, IPV4_TYPE, 4, 0, 0 },
	[NAT_SET_NARROWED_SUBNETS] = { NFT_SET_INTERVAL, IPV4_TYPE, 4, 0, 0 },
	[NAT_SET_SERVICE_IPS] = { 0, IPV4_TYPE, 4, 0, 0 },
	[NAT_SET_REJECTED_SERVICES] = { 0, SERVICE_KEY_TYPE, 12, 0, 0 },
	[NAT_SET_SERVICE_DISPATCH] = { NFT_SET_MAP, SERVICE_KEY_TYPE, 12,
				       NFT_DATA_VERDICT, 16 },
	[NAT_SET_SERVICE_BACKENDS] = { NFT_SET_MAP, 0x1cc344, 16, 0x1cd, 8 },
};

/* ipv4_addr . ipv4_addr . inet_proto . inet_service : mark (a token) */
const struct nat_set_def nat_affinity_clients_def = {
	NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL, 0x1c730d, 16, 19, 4,
};

/* nft's set user data: key byte order, and typeof descriptions. */
static const uint8_t udata_ipv4[] = { 0x00, 0x04, 0x02, 0x00, 0x00, 0x00 };
static const uint8_t udata_service_key[] = {
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x04, 0x0d,
	0x00, 0x00, 0x00, 0x01, 0x00,
};
static const uint8_t udata_dispatch[] = {
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
	0x00, 0x03, 0x08, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};
/*
 * typeof ip daddr . meta l4proto . th dport . numgen random mod 12 :
 * ip daddr . tcp dport
 * (the data is any protocol's port; "tcp dport" rather than "th dport"
 * because nft 1.0.6 cannot parse its own listing of the latter)
 */
static const uint8_t udata_backends[] = {
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
	0x00, 0x03, 0x60, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x58,
	0x00, 0x14, 0x00, 0x04, 0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00,
	0x04, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x04, 0x0c, 0x00, 0x00, 0x00,
	0x01, 0x0e, 0x00, 0x04, 0x09, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00,
	0x04, 0x10, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00, 0x04, 0x07, 0x00,
	0x00, 0x00, 0x01, 0x0c, 0x00, 0x04, 0x0b, 0x00, 0x00, 0x00, 0x01,
	0x04, 0x02, 0x00, 0x00, 0x00, 0x03, 0x1a, 0x00, 0x04, 0x17, 0x00,
	0x00, 0x00, 0x01, 0x12, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x04, 0x0c, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x34, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x2c, 0x00,
	0x14, 0x00, 0x04, 0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x04,
	0x0c, 0x00, 0x00, 0x00, 0x01, 0x04, 0x0c, 0x00, 0x00, 0x00, 0x01,
	0x14, 0x00, 0x04, 0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x04,
	0x08, 0x00, 0x00, 0x00, 0x01, 0x04, 0x02, 0x00, 0x00, 0x00, 0x06,
	0x04, 0x00, 0x00, 0x00, 0x00,
};
#define UDATA_BACKENDS_MODULUS 100	/* u32, host order */

/* ---- batch builders ---------------------------------------------------- */

void nat_put_table(struct nat_batch *b, struct nat_netlink *nl, bool add)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->error = -ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NAT_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = nat_batch_add(b, nl, add ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE,
			    add ? NLM_F_CREATE : 0, NAT_TABLE_NAME, 256);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nat_batch_close(b, nlh);
	}
	nftnl_table_free(t);
}

void nat_put_counters(struct nat_batch *b, struct nat_netlink *nl)
{
	for (size_t i = 0; i < 3; i++) {
		struct nftnl_obj *o = nftnl_obj_alloc();
		struct nlmsghdr *nlh;

		if (!o) {
			b->error = -ENOMEM;
			return;
		}
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NAT_TABLE_NAME);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, nat_counter_names[i]);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
		nlh = nat_batch_add(b, nl, NFT_MSG_NEWOBJ,
				    NLM_F_CREATE | NLM_F_EXCL,
				    nat_counter_names[i], 256);
		if (nlh) {
			nftnl_obj_nlmsg_build_payload(nlh, o);
			nat_batch_close(b, nlh);
		}
		nftnl_obj_free(o);
	}
}

static void set_udata(struct nftnl_set *s, enum nat_set_index i,
		      uint32_t buckets)
{
	uint8_t backends[sizeof(udata_backends)];

	switch (i) {
	case NAT_SET_REJECTED_SERVICES:
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, udata_service_key,
				   sizeof(udata_service_key));
		break;
	case NAT_SET_SERVICE_DISPATCH:
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, udata_dispatch,
				   sizeof(udata_dispatch));
		break;
	case NAT_SET_SERVICE_BACKENDS:
		memcpy(backends, udata_backends, sizeof(backends));
		memcpy(backends + UDATA_BACKENDS_MODULUS, &buckets, 4);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, backends,
				   sizeof(backends));
		break;
	default:
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, udata_ipv4,
				   sizeof(udata_ipv4));
	}
}

static void put_set(struct nat_batch *b, struct nat_netlink *nl,
		    const char *name, uint32_t id, const struct nat_set_def *d,
		    int udata_index, uint32_t buckets)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s) {
		b->error = -ENOMEM;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NAT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	if (d->flags & NFT_SET_EVAL)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE,
				  NAT_AFFINITY_CLIENTS_SIZE);
	if (udata_index >= 0)
		set_udata(s, (enum nat_set_index)udata_index, buckets);
	nlh = nat_batch_add(b, nl, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL,
			    name, 1024);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nat_batch_close(b, nlh);
	}
	nftnl_set_free(s);
}

void nat_put_sets(struct nat_batch *b, struct nat_netlink *nl,
		  uint32_t buckets)
{
	for (int i = 0; i < NAT_SET_COUNT; i++)
		put_set(b, nl, nat_set_names[i], (uint32_t)i + 1,
			&nat_set_defs[i], i, buckets);
	put_set(b, nl, NAT_AFFINITY_CLIENTS, NAT_SET_COUNT + 1,
		&nat_affinity_clients_def, -1, buckets);
}

void nat_put_chains(struct nat_batch *b, struct nat_netlink *nl,
		    const struct nat_layout *layout)
{
	for (size_t i = 0; i < layout->chain_count; i++) {
		const struct nat_chain_def *d = &layout->chains[i];
		struct nftnl_chain *c = nftnl_chain_alloc();
		struct nlmsghdr *nlh;

		if (!c) {
			b->error = -ENOMEM;
			return;
		}
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NAT_TABLE_NAME);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		if (d->type) {
			nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
			nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
			nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->priority);
			nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		}
		nlh = nat_batch_add(b, nl, NFT_MSG_NEWCHAIN,
				    NLM_F_CREATE | NLM_F_EXCL, d->name, 512);
		if (nlh) {
			nftnl_chain_nlmsg_build_payload(nlh, c);
			nat_batch_close(b, nlh);
		}
		nftnl_chain_free(c);
	}
}

void nat_put_rule(struct nat_batch *b, struct nat_netlink *nl,
		  const struct nat_rule *rule)
{
	struct nlmsghdr *nlh = nat_batch_add(b, nl, NFT_MSG_NEWRULE,
					     NLM_F_CREATE | NLM_F_APPEND,
					     rule->chain, 8192);

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rule->rule);
		nat_batch_close(b, nlh);
	}
}

void nat_put_rule_delete(struct nat_batch *b, struct nat_netlink *nl,
			 const char *chain, uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r) {
		b->error = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NAT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = nat_batch_add(b, nl, NFT_MSG_DELRULE, 0, chain, 256);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nat_batch_close(b, nlh);
	}
	nftnl_rule_free(r);
}

#define ELEMENTS_PER_MESSAGE 400
#define ELEMENT_ROOM 128	/* nested key, data and verdict attributes */

static struct nftnl_set_elem *make_elem(enum nat_set_index set,
					const struct nat_elem *e)
{
	struct nftnl_set_elem *elem = nftnl_set_elem_alloc();
	char chain[NAT_CHAIN_NAME_SIZE];

	if (!elem)
		return NULL;
	nftnl_set_elem_set(elem, NFTNL_SET_ELEM_KEY, e->key, e->key_len);
	if (e->interval_end)
		nftnl_set_elem_set_u32(elem, NFTNL_SET_ELEM_FLAGS,
				       NFT_SET_ELEM_INTERVAL_END);
	if (e->data_len)
		nftnl_set_elem_set(elem, NFTNL_SET_ELEM_DATA, e->data,
				   e->data_len);
	if (set == NAT_SET_SERVICE_DISPATCH) {
		nat_dnat_chain_name(e->verdict_mode, e->verdict_buckets,
				    e->verdict_timeout, chain, sizeof(chain));
		nftnl_set_elem_set_u32(elem, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(elem, NFTNL_SET_ELEM_CHAIN, chain);
	}
	return elem;
}

void nat_put_elements(struct nat_batch *b, struct nat_netlink *nl,
		      enum nat_set_index set, const struct nat_elem_list *list,
		      bool add)
{
	for (size_t start = 0; start < list->count;
	     start += ELEMENTS_PER_MESSAGE) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		size_t end = start + ELEMENTS_PER_MESSAGE;

		if (!s) {
			b->error = -ENOMEM;
			return;
		}
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NAT_TABLE_NAME);
		nftnl_set_set_str(s, NFTNL_SET_NAME, nat_set_names[set]);
		if (end > list->count)
			end = list->count;
		for (size_t i = start; i < end; i++) {
			struct nftnl_set_elem *elem =
				make_elem(set, &list->items[i]);

			if (!elem) {
				b->error = -ENOMEM;
				break;
			}
			nftnl_set_elem_add(s, elem);
		}
		nlh = nat_batch_add(b, nl,
				    add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				    add ? NLM_F_CREATE | NLM_F_EXCL : 0,
				    nat_set_names[set],
				    256 + (end - start) * ELEMENT_ROOM);
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			nat_batch_close(b, nlh);
		}
		nftnl_set_free(s);
	}
}
