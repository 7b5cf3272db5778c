/* IPv4 prefix helpers shared by every part. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"

static uint32_t prefix_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : htonl(~0u << (32 - prefix_len));
}

/*
 * Parse "a.b.c.d/len". Host bits must be zero, so a typo such as
 * 10.0.58.0/21 is caught rather than silently widened.
 * Returns 0, -EINVAL for malformed text, -EDOM for set host bits.
 */
int cg_cidr_parse(const char *text, struct cg_cidr *out)
{
	char address[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	char *end;
	long len;

	if (!slash || (size_t)(slash - text) >= sizeof(address))
		return -EINVAL;
	memcpy(address, text, slash - text);
	address[slash - text] = '\0';
	if (inet_pton(AF_INET, address, &out->address) != 1)
		return -EINVAL;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > 32)
		return -EINVAL;
	out->prefix_len = (uint8_t)len;
	if (out->address.s_addr & ~prefix_mask(out->prefix_len))
		return -EDOM;
	return 0;
}

const char *cg_cidr_format(const struct cg_cidr *cidr, char *buf)
{
	char address[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &cidr->address, address, sizeof(address));
	snprintf(buf, CG_CIDR_STRLEN, "%s/%u", address, cidr->prefix_len);
	return buf;
}

bool cg_cidr_contains(const struct cg_cidr *cidr, struct in_addr address)
{
	uint32_t mask = prefix_mask(cidr->prefix_len);

	return (address.s_addr & mask) == cidr->address.s_addr;
}

bool cg_cidr_overlaps(const struct cg_cidr *a, const struct cg_cidr *b)
{
	uint8_t shorter = a->prefix_len < b->prefix_len ? a->prefix_len
							 : b->prefix_len;
	uint32_t mask = prefix_mask(shorter);

	return (a->address.s_addr & mask) == (b->address.s_addr & mask);
}

const char *cg_protocol_name(enum cg_protocol protocol)
{
	switch (protocol) {
	case CG_PROTO_TCP:
		return "tcp";
	case CG_PROTO_UDP:
		return "udp";
	case CG_PROTO_SCTP:
		return "sctp";
	}
	return "?";
}
