/*
 * `clustergate doctor`: count the gateway's conntrack entries towards a
 * prefix that never saw a reply (what `conntrack -L` prints as
 * [UNREPLIED]). In route mode these are the office's connections whose
 * replies took another path: the incident's failure, seen on live traffic.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/doctor.h"

struct count {
	const struct cg_cidr *prefix;
	struct doctor_conntrack *out;
};

static bool orig_destination(const struct nlattr *tuple, struct in_addr *dst)
{
	const struct nlattr *attr, *inner;

	mnl_attr_for_each_nested(attr, tuple) {
		if (mnl_attr_get_type(attr) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(inner, attr) {
			if (mnl_attr_get_type(inner) == CTA_IP_V4_DST) {
				dst->s_addr = mnl_attr_get_u32(inner);
				return true;
			}
		}
	}
	return false;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count *count = data;
	const struct nlattr *attr;
	struct in_addr dst = { 0 };
	bool have_dst = false;
	uint32_t status = 0;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(attr)) {
		case CTA_TUPLE_ORIG:
			have_dst = orig_destination(attr, &dst);
			break;
		case CTA_STATUS:
			status = ntohl(mnl_attr_get_u32(attr));
			break;
		}
	}
	if (!have_dst || !cg_cidr_contains(count->prefix, dst))
		return MNL_CB_OK;
	count->out->total++;
	if (!(status & IPS_SEEN_REPLY))
		count->out->unreplied++;
	return MNL_CB_OK;
}

int doctor_conntrack_count(const struct cg_cidr *prefix,
			   struct doctor_conntrack *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct count count = { prefix, out };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, entry_cb, &count);
		if (ret < 0)
			ret = -errno;
	} while (ret > 0);
	mnl_socket_close(nl);
	return ret < 0 ? ret : 0;
}
