/*
 * Small builders for nftables expressions, each appending one expression
 * to a libnftnl rule. Register numbers follow nft: NFT_REG_1 for a 16-byte
 * value, NFT_REG32_xx for the fields of a concatenation.
 */
#ifndef CLUSTERGATE_NAT_EXPR_H
#define CLUSTERGATE_NAT_EXPR_H

#include <libnftnl/rule.h>
#include <stdint.h>

void expr_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
void expr_cmp(struct nftnl_rule *r, uint32_t op, uint32_t sreg,
	      const void *data, uint32_t len);
void expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
		  uint32_t len, uint32_t dreg);
/* dreg < 0: a plain membership test. */
void expr_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg,
		 int dreg, int invert);
/* NF_ACCEPT, NF_DROP, NFT_JUMP or NFT_GOTO (with chain). */
void expr_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void expr_immediate(struct nftnl_rule *r, uint32_t dreg, const void *data,
		    uint32_t len);
void expr_counter_ref(struct nftnl_rule *r, const char *counter);
/* proto_reg 0: address only. */
void expr_nat(struct nftnl_rule *r, uint32_t type, uint32_t addr_reg,
	      uint32_t proto_reg);
void expr_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t len,
		  const void *mask, const void *xor_value);
/* direction < 0: none. */
void expr_ct(struct nftnl_rule *r, uint32_t key, int direction,
	     uint32_t dreg);
void expr_tcp_mss_load(struct nftnl_rule *r, uint32_t dreg);
void expr_tcp_mss_store(struct nftnl_rule *r, uint32_t sreg);
void expr_numgen_random(struct nftnl_rule *r, uint32_t modulus,
			uint32_t dreg);
/* meta KEY set from sreg */
void expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);
void expr_jhash(struct nftnl_rule *r, uint32_t sreg, uint32_t len,
		uint32_t modulus, uint32_t dreg);
/*
 * op: NFT_DYNSET_OP_UPDATE (add, or refresh the timeout of an element
 * that exists) or NFT_DYNSET_OP_DELETE. sreg_data 0: none.
 * timeout_ms 0: none.
 */
void expr_dynset(struct nftnl_rule *r, const char *set, uint32_t op,
		 uint32_t sreg_key, uint32_t sreg_data, uint64_t timeout_ms);
void expr_reject(struct nftnl_rule *r, uint32_t type, uint8_t code);

/* Composites. */
void match_ipv4(struct nftnl_rule *r);
void match_u8(struct nftnl_rule *r, uint32_t meta_key, uint8_t value);
/* iifname / oifname equals name. */
void match_ifname(struct nftnl_rule *r, uint32_t meta_key, const char *name);
/* ip saddr (offset 12) or ip daddr (16) in set; includes match_ipv4. */
void match_ip_in_set(struct nftnl_rule *r, uint32_t offset, const char *set,
		     int invert);
/* ip daddr . meta l4proto . th dport into NFT_REG_1 (3 words). */
void load_service_key(struct nftnl_rule *r);
/* tcp flags & (syn|rst) == syn */
void match_tcp_syn(struct nftnl_rule *r);

#endif
