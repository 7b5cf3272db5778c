/*
 * Expression builders; see nat_expr.h. Each matches what nft itself
 * generates for the same statement (checked with `nft --debug=netlink`),
 * so `nft list table` prints our rules in nft's own syntax.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <net/if.h>
#include <string.h>

#include "nat/nat_expr.h"

static struct nftnl_expr *add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	/* allocation failure surfaces as a rule the kernel rejects */
	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

void expr_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

void expr_cmp(struct nftnl_rule *r, uint32_t op, uint32_t sreg,
	      const void *data, uint32_t len)
{
	struct nftnl_expr *e = add(r, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
		  uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

void expr_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg,
		 int dreg, int invert)
{
	struct nftnl_expr *e = add(r, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

void expr_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = add(r, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

void expr_immediate(struct nftnl_rule *r, uint32_t dreg, const void *data,
		    uint32_t len)
{
	struct nftnl_expr *e = add(r, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

void expr_counter_ref(struct nftnl_rule *r, const char *counter)
{
	struct nftnl_expr *e = add(r, "objref");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
}

void expr_nat(struct nftnl_rule *r, uint32_t type, uint32_t addr_reg,
	      uint32_t proto_reg)
{
	struct nftnl_expr *e = add(r, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, addr_reg);
	if (proto_reg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, proto_reg);
}

void expr_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t len,
		  const void *mask, const void *xor_value)
{
	struct nftnl_expr *e = add(r, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor_value, len);
}

void expr_ct(struct nftnl_rule *r, uint32_t key, int direction,
	     uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	if (direction >= 0)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, (uint8_t)direction);
}

/* tcp option maxseg size: option kind 2, 2 bytes at offset 2 */
static struct nftnl_expr *tcp_mss(struct nftnl_rule *r)
{
	struct nftnl_expr *e = add(r, "exthdr");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
	nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, 2);
	return e;
}

void expr_tcp_mss_load(struct nftnl_rule *r, uint32_t dreg)
{
	struct nftnl_expr *e = tcp_mss(r);

	if (e)
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, dreg);
}

void expr_tcp_mss_store(struct nftnl_rule *r, uint32_t sreg)
{
	struct nftnl_expr *e = tcp_mss(r);

	if (e)
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_SREG, sreg);
}

void expr_numgen_random(struct nftnl_rule *r, uint32_t modulus,
			uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "numgen");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, modulus);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
}

void expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = add(r, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
}

void expr_jhash(struct nftnl_rule *r, uint32_t sreg, uint32_t len,
		uint32_t modulus, uint32_t dreg)
{
	struct nftnl_expr *e = add(r, "hash");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, modulus);
	/*
	 * A fixed seed keeps token -> bucket stable when the rule is
	 * rewritten; a kernel-chosen seed would move every client.
	 */
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, 0x636c6774);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_OFFSET, 0);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
}

void expr_dynset(struct nftnl_rule *r, const char *set, uint32_t op,
		 uint32_t sreg_key, uint32_t sreg_data, uint64_t timeout_ms)
{
	struct nftnl_expr *e = add(r, "dynset");

	if (!e)
		return;
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, op);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg_key);
	if (sreg_data)
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, sreg_data);
	if (timeout_ms)
		nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, timeout_ms);
}

void expr_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = add(r, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

void match_u8(struct nftnl_rule *r, uint32_t meta_key, uint8_t value)
{
	expr_meta(r, meta_key, NFT_REG_1);
	expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &value, 1);
}

void match_ipv4(struct nftnl_rule *r)
{
	match_u8(r, NFT_META_NFPROTO, NFPROTO_IPV4);
}

void match_ifname(struct nftnl_rule *r, uint32_t meta_key, const char *name)
{
	char padded[IFNAMSIZ] = { 0 };

	strncpy(padded, name, IFNAMSIZ - 1);
	expr_meta(r, meta_key, NFT_REG_1);
	expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, padded, IFNAMSIZ);
}

void match_ip_in_set(struct nftnl_rule *r, uint32_t offset, const char *set,
		     int invert)
{
	match_ipv4(r);
	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1);
	expr_lookup(r, set, NFT_REG_1, -1, invert);
}

void load_service_key(struct nftnl_rule *r)
{
	match_ipv4(r);
	expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	expr_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
}

void match_tcp_syn(struct nftnl_rule *r)
{
	uint8_t mask[4] = { 0x06 }, zero[4] = { 0 }, syn = 0x02;

	match_u8(r, NFT_META_L4PROTO, IPPROTO_TCP);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1);
	expr_bitwise(r, NFT_REG_1, 1, mask, zero);
	expr_cmp(r, NFT_CMP_EQ, NFT_REG_1, &syn, 1);
}
