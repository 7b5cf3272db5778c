/*
 * Reading our table back from the kernel (netlink dumps filtered to the
 * clustergate table).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_readback.h"

static void *grow(void *array, size_t count, size_t size)
{
	return realloc(array, (count + 1) * size);
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nat_kernel *k = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nat_kernel_chain *chains, *out;

	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), NAT_TABLE_NAME) ||
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) != NFPROTO_INET) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	chains = grow(k->chains, k->chain_count, sizeof(*chains));
	if (!chains) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	k->chains = chains;
	out = &chains[k->chain_count++];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s",
		 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)) {
		snprintf(out->type, sizeof(out->type), "%s",
			 nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE));
		out->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		out->priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nat_kernel *k = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nat_kernel_set *sets, *out;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), NAT_TABLE_NAME) ||
	    nftnl_set_get_u32(s, NFTNL_SET_FAMILY) != NFPROTO_INET) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	sets = grow(k->sets, k->set_count, sizeof(*sets));
	if (!sets) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	k->sets = sets;
	out = &sets[k->set_count++];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s",
		 nftnl_set_get_str(s, NFTNL_SET_NAME));
	out->def.flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	out->def.key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	out->def.key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	if (out->def.flags & NFT_SET_MAP) {
		out->def.data_type = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE);
		out->def.data_len = nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int object_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nat_kernel *k = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    !strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), NAT_TABLE_NAME) &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_FAMILY) == NFPROTO_INET) {
		k->object_count++;
		for (size_t i = 0; i < 3; i++) {
			if (nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) ==
			    NFT_OBJECT_COUNTER &&
			    !strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_NAME),
				    nat_counter_names[i]))
				k->counter_count++;
		}
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static int hash_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NAT_UDATA_RULE_HASH &&
	    nftnl_udata_len(attr) == sizeof(uint64_t))
		memcpy(data, nftnl_udata_get(attr), sizeof(uint64_t));
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nat_kernel *k = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nat_kernel_rule *rules, *out;
	const void *udata;
	uint32_t udata_len = 0;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NAT_TABLE_NAME) ||
	    nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) != NFPROTO_INET) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	rules = grow(k->rules, k->rule_count, sizeof(*rules));
	if (!rules) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	k->rules = rules;
	out = &rules[k->rule_count++];
	memset(out, 0, sizeof(*out));
	snprintf(out->chain, sizeof(out->chain), "%s",
		 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	out->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	udata = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udata_len);
	if (udata)
		nftnl_udata_parse(udata, udata_len, hash_cb, &out->hash);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	*(bool *)data = true;
	return MNL_CB_OK;
}

/* A dump of one object type, filtered to our table by the kernel. */
static int dump(struct nat_netlink *nl, uint16_t type, mnl_cb_t cb,
		void *data)
{
	char buffer[512] = { 0 };
	struct nlmsghdr *nlh;
	uint16_t flags = type == NFT_MSG_GETTABLE ? NLM_F_ACK : NLM_F_DUMP;

	nlh = nftnl_nlmsg_build_hdr(buffer, type, NFPROTO_INET, flags,
				    nat_netlink_next_seq(nl));
	mnl_attr_put_strz(nlh, type == NFT_MSG_GETTABLE ? NFTA_TABLE_NAME :
			  type == NFT_MSG_GETCHAIN ? NFTA_CHAIN_TABLE :
			  type == NFT_MSG_GETSET ? NFTA_SET_TABLE :
			  type == NFT_MSG_GETOBJ ? NFTA_OBJ_TABLE :
			  NFTA_RULE_TABLE, NAT_TABLE_NAME);
	return nat_netlink_dump(nl, nlh, cb, data);
}

int nat_read_kernel(struct nat_netlink *nl, struct nat_kernel *kernel)
{
	int err;

	memset(kernel, 0, sizeof(*kernel));
	err = dump(nl, NFT_MSG_GETTABLE, table_cb, &kernel->table_exists);
	if (err == -ENOENT)
		return 0;
	if (!err)
		err = dump(nl, NFT_MSG_GETCHAIN, chain_cb, kernel);
	if (!err)
		err = dump(nl, NFT_MSG_GETSET, set_cb, kernel);
	if (!err)
		err = dump(nl, NFT_MSG_GETOBJ, object_cb, kernel);
	if (!err)
		err = dump(nl, NFT_MSG_GETRULE, rule_cb, kernel);
	if (err)
		nat_kernel_free(kernel);
	return err;
}

void nat_kernel_free(struct nat_kernel *kernel)
{
	free(kernel->chains);
	free(kernel->sets);
	free(kernel->rules);
	memset(kernel, 0, sizeof(*kernel));
}

struct elements_read {
	enum nat_set_index set;
	struct nat_elem_list *out;
	int error;
};

int nat_parse_dnat_chain(const char *chain, enum nat_dnat_mode *mode,
			 uint32_t *buckets, uint32_t *timeout_s)
{
	unsigned int count, timeout = 0;
	char name[16];
	int fields;

	*mode = NAT_MODE_NONE;
	if (!chain)
		return -EINVAL;
	fields = sscanf(chain, "dnat_%15[a-z]_%u_%u", name, &count, &timeout);
	if (fields < 2 || !count || count > NAT_MAX_BUCKETS)
		return -EINVAL;
	if (fields == 2 && !strcmp(name, "random"))
		*mode = NAT_MODE_RANDOM;
	else if (fields == 3 && timeout && !strcmp(name, "affinity"))
		*mode = NAT_MODE_AFFINITY;
	else
		return -EINVAL;
	*buckets = count;
	*timeout_s = timeout;
	return 0;
}

/* "dnat_random_12" -> mode and buckets; anything else -> NAT_MODE_NONE */
static void parse_dispatch_chain(const char *chain, struct nat_elem *e)
{
	enum nat_dnat_mode mode;
	uint32_t buckets, timeout;

	if (!nat_parse_dnat_chain(chain, &mode, &buckets, &timeout)) {
		e->verdict_mode = mode;
		e->verdict_buckets = (uint16_t)buckets;
		e->verdict_timeout = timeout;
	}
}

static int element_cb(struct nftnl_set_elem *elem, void *data)
{
	struct elements_read *read = data;
	struct nat_elem e = { 0 };
	const void *value;
	uint32_t len = 0;

	value = nftnl_set_elem_get(elem, NFTNL_SET_ELEM_KEY, &len);
	if (!value || len > sizeof(e.key))
		return 0;
	memcpy(e.key, value, len);
	e.key_len = (uint8_t)len;
	if (nftnl_set_elem_is_set(elem, NFTNL_SET_ELEM_FLAGS))
		e.interval_end = nftnl_set_elem_get_u32(elem,
			NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END;
	value = nftnl_set_elem_get(elem, NFTNL_SET_ELEM_DATA, &len);
	if (value && len <= sizeof(e.data)) {
		memcpy(e.data, value, len);
		e.data_len = (uint8_t)len;
	}
	if (read->set == NAT_SET_SERVICE_DISPATCH &&
	    nftnl_set_elem_is_set(elem, NFTNL_SET_ELEM_CHAIN))
		parse_dispatch_chain(nftnl_set_elem_get_str(elem,
				     NFTNL_SET_ELEM_CHAIN), &e);
	if (nat_elem_list_push(read->out, &e) < 0)
		read->error = -ENOMEM;
	return 0;
}

static int elements_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elements_read *read = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, element_cb, read);
	nftnl_set_free(s);
	return read->error ? MNL_CB_ERROR : MNL_CB_OK;
}

int nat_read_elements(struct nat_netlink *nl, enum nat_set_index set,
		      struct nat_elem_list *out)
{
	struct elements_read read = { .set = set, .out = out };
	struct nftnl_set *s = nftnl_set_alloc();
	char buffer[512] = { 0 };
	struct nlmsghdr *nlh;
	int err;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NAT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, nat_set_names[set]);
	nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_DUMP, nat_netlink_next_seq(nl));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	err = nat_netlink_dump(nl, nlh, elements_cb, &read);
	return err ? err : read.error;
}
