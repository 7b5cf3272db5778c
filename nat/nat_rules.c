/*
 * The rules of the clustergate table for a policy (see nat/README.md for
 * the ruleset they print as). Each rule carries a hash of itself in its
 * user data, so a read back can tell which rules are already in place.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <stdlib.h>
#include <string.h>

#include "nat/nat_expr.h"
#include "nat/nat_layout.h"

struct builder {
	struct nat_layout *layout;
	const struct nat_policy *policy;
	int error;
};

static struct nftnl_rule *rule_in(struct builder *b, const char *chain)
{
	struct nat_layout *l = b->layout;
	struct nat_rule *grown;
	struct nftnl_rule *r;

	grown = realloc(l->rules, (l->rule_count + 1) * sizeof(*grown));
	r = nftnl_rule_alloc();
	if (!grown || !r) {
		if (grown)
			l->rules = grown;
		nftnl_rule_free(r);
		b->error = -ENOMEM;
		return NULL;
	}
	l->rules = grown;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NAT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	snprintf(l->rules[l->rule_count].chain, NAT_CHAIN_NAME_SIZE, "%s",
		 chain);
	l->rules[l->rule_count].rule = r;
	l->rules[l->rule_count].hash = 0;
	l->rule_count++;
	return r;
}

static void add_chain(struct nat_layout *l, const char *name,
		      const char *type, uint32_t hook, int32_t priority)
{
	struct nat_chain_def *c = &l->chains[l->chain_count++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	c->type = type;
	c->hook = hook;
	c->priority = priority;
}

/* The office side: a TUN device, or packets an IPsec SA decrypted. */
static void match_tunnel(struct builder *b, struct nftnl_rule *r)
{
	if (b->policy->tunnel_interface)
		match_ifname(r, NFT_META_IIFNAME, b->policy->tunnel_interface);
	else
		match_u8(r, NFT_META_SECPATH, 1);
}

/* ip saddr . ip daddr . meta l4proto . th dport into NFT_REG32_00..03 */
static void load_client_key(struct nftnl_rule *r)
{
	match_ipv4(r);
	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_01);
	expr_meta(r, NFT_META_L4PROTO, NFT_REG32_02);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_03);
}

/*
 * ClientIP affinity for one bucket tier and timeout. @affinity_clients
 * maps client . service to a random 32-bit token; the client's bucket is
 * jhash(token) mod N, so it is valid in every tier, and when an endpoint
 * goes its buckets (and so its clients) move to the others at once
 * (sticky assignment). Registers: client key NFT_REG32_00..03 (the
 * service key is 01..03, the bucket lands in 04: together the
 * @service_backends key), token 07, endpoint 08/09.
 *
 * nft 1.0.6 cannot print a rule that uses a map's result inside a
 * concatenation or as set data, so rule 1 passes the token through the
 * packet mark, saved in 06 and restored before the rule ends (nothing
 * else runs in between, and nothing in the rule can fail once the mark
 * is set: every bucket of a dispatched service has an endpoint).
 *
 * 1. A client with an entry: refresh its timeout, DNAT to its bucket.
 * 2. Otherwise (new, or expired): draw a token, remember it for
 *    timeout_s, DNAT to its bucket.
 * 3. The map is full: as dnat_random_N, without remembering.
 */
static void build_affinity_chain(struct builder *b, uint32_t buckets,
				 uint32_t timeout_s)
{
	uint64_t timeout_ms = (uint64_t)timeout_s * 1000;
	char chain[NAT_CHAIN_NAME_SIZE];
	struct nftnl_rule *r;

	nat_dnat_chain_name(NAT_MODE_AFFINITY, buckets, timeout_s, chain,
			    sizeof(chain));
	add_chain(b->layout, chain, NULL, 0, 0);
	if ((r = rule_in(b, chain))) {
		load_client_key(r);
		expr_meta(r, NFT_META_MARK, NFT_REG32_06);
		expr_lookup(r, NAT_AFFINITY_CLIENTS, NFT_REG32_00,
			    NFT_REG32_07, 0);
		expr_meta_set(r, NFT_META_MARK, NFT_REG32_07);
		expr_meta(r, NFT_META_MARK, NFT_REG32_07);
		expr_jhash(r, NFT_REG32_07, 4, buckets, NFT_REG32_04);
		expr_lookup(r, "service_backends", NFT_REG32_01, NFT_REG32_08,
			    0);
		expr_dynset(r, NAT_AFFINITY_CLIENTS, NFT_DYNSET_OP_UPDATE,
			    NFT_REG32_00, NFT_REG32_07, timeout_ms);
		expr_meta_set(r, NFT_META_MARK, NFT_REG32_06);
		expr_nat(r, NFT_NAT_DNAT, NFT_REG32_08, NFT_REG32_09);
	}
	if ((r = rule_in(b, chain))) {
		load_client_key(r);
		expr_numgen_random(r, UINT32_MAX, NFT_REG32_07);
		expr_jhash(r, NFT_REG32_07, 4, buckets, NFT_REG32_04);
		expr_lookup(r, "service_backends", NFT_REG32_01, NFT_REG32_08,
			    0);
		expr_dynset(r, NAT_AFFINITY_CLIENTS, NFT_DYNSET_OP_UPDATE,
			    NFT_REG32_00, NFT_REG32_07, timeout_ms);
		expr_nat(r, NFT_NAT_DNAT, NFT_REG32_08, NFT_REG32_09);
	}
	/* 3. The map is full (the dynset failed): balance, unremembered. */
	if ((r = rule_in(b, chain))) {
		load_service_key(r);
		expr_numgen_random(r, buckets, NFT_REG32_03);
		expr_lookup(r, "service_backends", NFT_REG_1, NFT_REG_1, 0);
		expr_nat(r, NFT_NAT_DNAT, NFT_REG_1, NFT_REG32_01);
	}
}

/*
 * ip daddr <service CIDR> counter name "service_reject" goto reject_service:
 * a service port the dispatch map does not know (deleted, never existed).
 */
static void reject_unknown_service(struct nftnl_rule *r,
				   const struct nat_cidr *cidr)
{
	uint32_t mask = cidr->prefix_len ?
		htonl(~0u << (32 - cidr->prefix_len)) : 0, zero = 0;

	match_ipv4(r);
	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	expr_bitwise(r, NFT_REG_1, 4, &mask, &zero);
	expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &cidr->address.s_addr, 4);
	expr_counter_ref(r, "service_reject");
	expr_verdict(r, NFT_GOTO, "reject_service");
}

static void build_prerouting(struct builder *b)
{
	struct nftnl_rule *r;
	uint8_t echo_request = 8;
	uint32_t tiers[8];
	size_t tier_count;
	char chain[NAT_CHAIN_NAME_SIZE];

	if ((r = rule_in(b, "prerouting"))) {
		match_tunnel(b, r);
		expr_verdict(r, NFT_JUMP, "services");
	}
	/* Ping a known ClusterIP: the gateway answers, from that address. */
	if ((r = rule_in(b, "services"))) {
		match_ipv4(r);
		match_u8(r, NFT_META_L4PROTO, IPPROTO_ICMP);
		expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &echo_request, 1);
		expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
		expr_lookup(r, "service_ips", NFT_REG_1, -1, 0);
		expr_immediate(r, NFT_REG_1, &b->policy->vpc_address, 4);
		expr_nat(r, NFT_NAT_DNAT, NFT_REG_1, 0);
	}
	if ((r = rule_in(b, "services"))) {
		load_service_key(r);
		expr_lookup(r, "rejected_services", NFT_REG_1, -1, 0);
		expr_counter_ref(r, "service_reject");
		expr_verdict(r, NFT_GOTO, "reject_service");
	}
	if ((r = rule_in(b, "services"))) {
		load_service_key(r);
		expr_lookup(r, "service_dispatch", NFT_REG_1, NFT_REG_VERDICT, 0);
	}
	if (b->policy->owns_service_cidr && (r = rule_in(b, "services")))
		reject_unknown_service(r, &b->policy->service_cidr);
	if ((r = rule_in(b, "reject_service"))) {
		match_u8(r, NFT_META_L4PROTO, IPPROTO_TCP);
		expr_reject(r, NFT_REJECT_TCP_RST, 0);
	}
	if ((r = rule_in(b, "reject_service")))
		expr_reject(r, NFT_REJECT_ICMPX_UNREACH,
			    NFT_REJECT_ICMPX_PORT_UNREACH);

	tier_count = nat_bucket_tiers(b->layout->buckets, tiers, 8);
	for (size_t i = 0; i < tier_count; i++) {
		nat_dnat_chain_name(NAT_MODE_RANDOM, tiers[i], 0, chain,
				    sizeof(chain));
		add_chain(b->layout, chain, NULL, 0, 0);
		if ((r = rule_in(b, chain))) {
			load_service_key(r);
			expr_numgen_random(r, tiers[i], NFT_REG32_03);
			expr_lookup(r, "service_backends", NFT_REG_1,
				    NFT_REG_1, 0);
			expr_nat(r, NFT_NAT_DNAT, NFT_REG_1, NFT_REG32_01);
		}
		for (size_t t = 0; t < b->layout->affinity_timeout_count; t++)
			build_affinity_chain(b, tiers[i],
					     b->layout->affinity_timeouts[t]);
	}
}

static void build_mss_clamp(struct builder *b, bool from_office)
{
	uint16_t mss = htons((uint16_t)(b->policy->tunnel_mtu - 40));
	struct nftnl_rule *r = rule_in(b, "forward");

	if (!r)
		return;
	if (from_office)
		match_tunnel(b, r);
	else
		match_ip_in_set(r, 16, "office_subnets", 0);
	match_tcp_syn(r);
	expr_tcp_mss_load(r, NFT_REG_1);
	expr_cmp(r, NFT_CMP_GT, NFT_REG_1, &mss, 2);
	expr_immediate(r, NFT_REG_1, &mss, 2);
	expr_tcp_mss_store(r, NFT_REG_1);
}

static void drop_counted(struct nftnl_rule *r)
{
	expr_counter_ref(r, "policy_drop");
	expr_verdict(r, NF_DROP, NULL);
}

static void match_cidr(struct nftnl_rule *r, uint32_t offset,
		       const struct nat_cidr *cidr)
{
	uint32_t mask = htonl(cidr->prefix_len ?
			      ~0U << (32 - cidr->prefix_len) : 0);
	uint32_t value = cidr->address.s_addr & mask, zero = 0;

	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1);
	if (cidr->prefix_len < 32)
		expr_bitwise(r, NFT_REG_1, 4, &mask, &zero);
	expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &value, 4);
}

/* One accept rule of the allow list; port 0 means any. */
static void build_allow(struct builder *b, const struct nat_allow_rule *a,
			const struct nat_cidr *destination, uint8_t protocol,
			uint16_t port)
{
	struct nftnl_rule *r = rule_in(b, "allow_list");
	uint16_t port_be = htons(port);

	if (!r)
		return;
	match_ipv4(r);
	match_cidr(r, 12, &a->office_subnet);
	if (destination) {
		match_cidr(r, 16, destination);
	} else {
		expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
		expr_lookup(r, "cluster_destinations", NFT_REG_1, -1, 0);
	}
	if (protocol) {
		match_u8(r, NFT_META_L4PROTO, protocol);
		expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
		expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &port_be, 2);
	}
	expr_verdict(r, NF_ACCEPT, NULL);
}

static void build_allow_list(struct builder *b)
{
	static const uint8_t protocols[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP,
	};
	struct nftnl_rule *r;

	for (size_t i = 0; i < b->policy->allow_count; i++) {
		const struct nat_allow_rule *a = &b->policy->allow[i];
		size_t dests = a->destination_count ? a->destination_count : 1;

		for (size_t d = 0; d < dests; d++) {
			const struct nat_cidr *dest = a->destination_count ?
				&a->destinations[d] : NULL;

			if (!a->port_count)
				build_allow(b, a, dest, 0, 0);
			for (size_t p = 0; p < a->port_count; p++)
				for (size_t k = 0; k < 3; k++)
					build_allow(b, a, dest, protocols[k],
						    a->ports[p]);
		}
	}
	if ((r = rule_in(b, "allow_list")))
		drop_counted(r);
}

static void build_forward(struct builder *b)
{
	uint8_t mask[4] = { 0x06 }, zero[4] = { 0 };
	struct nftnl_rule *r;

	if (b->policy->tunnel_mtu) {
		build_mss_clamp(b, true);
		build_mss_clamp(b, false);
	}
	if ((r = rule_in(b, "forward"))) {	/* established,related */
		expr_ct(r, NFT_CT_STATE, -1, NFT_REG_1);
		expr_bitwise(r, NFT_REG_1, 4, mask, zero);
		expr_cmp(r, NFT_CMP_NEQ, NFT_REG_1, zero, 4);
		expr_verdict(r, NF_ACCEPT, NULL);
	}
	if ((r = rule_in(b, "forward"))) {
		match_tunnel(b, r);
		expr_verdict(r, NFT_JUMP, "from_office");
	}
	/* A new connection from the cluster side to the office. */
	if ((r = rule_in(b, "forward"))) {
		match_ip_in_set(r, 16, "office_subnets", 0);
		drop_counted(r);
	}

	if ((r = rule_in(b, "from_office"))) {
		match_ip_in_set(r, 12, "office_subnets", 1);
		drop_counted(r);
	}
	if (b->policy->allow_count && (r = rule_in(b, "from_office"))) {
		match_ip_in_set(r, 12, "narrowed_office_subnets", 0);
		expr_verdict(r, NFT_GOTO, "allow_list");
	}
	if ((r = rule_in(b, "from_office"))) {
		match_ip_in_set(r, 16, "cluster_destinations", 0);
		expr_verdict(r, NF_ACCEPT, NULL);
	}
	if ((r = rule_in(b, "from_office")))
		drop_counted(r);
	build_allow_list(b);
}

static void build_postrouting(struct builder *b)
{
	const struct nat_policy *p = b->policy;
	uint8_t snat_bit[4] = { 0x10 }, zero[4] = { 0 }, original = 0;
	struct nftnl_rule *r;

	if (!p->snat)
		return;
	if ((r = rule_in(b, "postrouting"))) {
		match_ifname(r, NFT_META_OIFNAME, p->vpc_interface);
		match_ip_in_set(r, 12, "office_subnets", 0);
		expr_immediate(r, NFT_REG_1, &p->vpc_address, 4);
		expr_nat(r, NFT_NAT_SNAT, NFT_REG_1, 0);
	}
	/* The nat chain sees only first packets; count every packet here. */
	if ((r = rule_in(b, "snat_accounting"))) {
		match_ifname(r, NFT_META_OIFNAME, p->vpc_interface);
		expr_ct(r, NFT_CT_STATUS, -1, NFT_REG_1);
		expr_bitwise(r, NFT_REG_1, 4, snat_bit, zero);
		expr_cmp(r, NFT_CMP_NEQ, NFT_REG_1, zero, 4);
		expr_ct(r, NFT_CT_DIRECTION, -1, NFT_REG_1);
		expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &original, 1);
		expr_ct(r, NFT_CT_SRC_IP, 0 /* original */, NFT_REG_1);
		expr_lookup(r, "office_subnets", NFT_REG_1, -1, 0);
		expr_counter_ref(r, "office_snat");
	}
}

/* FNV-1a over the rule as sent (without its user data). */
static uint64_t rule_hash(struct nftnl_rule *r)
{
	static char buffer[16384];
	struct nlmsghdr *nlh;
	uint64_t hash = 0xcbf29ce484222325ULL;
	const uint8_t *p;

	/* libmnl 1.0.4 leaves attribute padding as it finds it */
	memset(buffer, 0, sizeof(buffer));
	nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWRULE, NFPROTO_INET,
				    0, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	p = mnl_nlmsg_get_payload(nlh);
	for (size_t i = 0; i < mnl_nlmsg_get_payload_len(nlh); i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ULL;
	}
	return hash ? hash : 1;
}

static int seal_rules(struct nat_layout *l)
{
	for (size_t i = 0; i < l->rule_count; i++) {
		struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(32);

		if (!udata)
			return -ENOMEM;
		l->rules[i].hash = rule_hash(l->rules[i].rule);
		nftnl_udata_put(udata, NAT_UDATA_RULE_HASH,
				sizeof(l->rules[i].hash), &l->rules[i].hash);
		nftnl_rule_set_data(l->rules[i].rule, NFTNL_RULE_USERDATA,
				    nftnl_udata_buf_data(udata),
				    nftnl_udata_buf_len(udata));
		nftnl_udata_buf_free(udata);
	}
	return 0;
}

int nat_layout_build(const struct nat_policy *policy,
		     const uint32_t *timeouts, size_t timeout_count,
		     struct nat_layout *out)
{
	struct builder b = { .layout = out, .policy = policy };

	memset(out, 0, sizeof(*out));
	if (timeout_count > NAT_MAX_AFFINITY_TIMEOUTS)
		timeout_count = NAT_MAX_AFFINITY_TIMEOUTS;
	memcpy(out->affinity_timeouts, timeouts,
	       timeout_count * sizeof(*timeouts));
	out->affinity_timeout_count = timeout_count;
	out->buckets = policy->dnat_buckets ? policy->dnat_buckets :
		       NAT_DEFAULT_DNAT_BUCKETS;
	add_chain(out, "prerouting", "nat", NF_INET_PRE_ROUTING, -100);
	add_chain(out, "services", NULL, 0, 0);
	add_chain(out, "reject_service", NULL, 0, 0);
	add_chain(out, "forward", "filter", NF_INET_FORWARD, 0);
	add_chain(out, "from_office", NULL, 0, 0);
	add_chain(out, "allow_list", NULL, 0, 0);
	add_chain(out, "postrouting", "nat", NF_INET_POST_ROUTING, 100);
	add_chain(out, "snat_accounting", "filter", NF_INET_POST_ROUTING, 110);
	build_prerouting(&b);
	build_forward(&b);
	build_postrouting(&b);
	if (!b.error)
		b.error = seal_rules(out);
	if (b.error)
		nat_layout_free(out);
	return b.error;
}

void nat_layout_free(struct nat_layout *layout)
{
	for (size_t i = 0; i < layout->rule_count; i++)
		nftnl_rule_free(layout->rules[i].rule);
	free(layout->rules);
	memset(layout, 0, sizeof(*layout));
}
