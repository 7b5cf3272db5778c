/*
 * Pinned diagnostic paths (routes_pin/unpin) and the cleanup of our policy
 * rules. A pin is "fwmark M lookup T" plus "D/32 via N table T": only
 * packets that carry mark M (set with SO_MARK by `clustergate doctor`)
 * take it, so real traffic keeps following the service route.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "routes/netlink.h"

#define MSG_BUF_SIZE 4096

int routes_rules_cleanup(struct routes *r, unsigned *removed);

static struct nlmsghdr *rule_message(char *buf, uint16_t type,
				     uint16_t flags, uint32_t mark,
				     uint32_t table, uint32_t priority)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;

	memset(buf, 0, MSG_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, ROUTES_PROTOCOL);
	return nlh;
}

static struct nlmsghdr *host_route(char *buf, uint16_t type, uint16_t flags,
				   uint32_t table, struct in_addr destination)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, MSG_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = ROUTES_PROTOCOL;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, 4, &destination);
	return nlh;
}

int routes_pin(struct routes *r, uint32_t mark, uint32_t table,
	       uint32_t priority, struct in_addr destination,
	       struct in_addr node)
{
	char buf[MSG_BUF_SIZE], text[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	uint32_t ifindex;
	int err;

	err = routes_resolve_link(r, node, &ifindex);
	if (err)
		return err;
	nlh = host_route(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
			 table, destination);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, &node);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (err)
		return routes_fail(r, err, "pinning route via %s in table %u: %s",
				   inet_ntop(AF_INET, &node, text, sizeof(text)),
				   table, r->error[0] ? r->error : strerror(-err));
	nlh = rule_message(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, mark,
			   table, priority);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (err && err != -EEXIST)
		return routes_fail(r, err, "adding rule fwmark 0x%x lookup %u: %s",
				   mark, table,
				   r->error[0] ? r->error : strerror(-err));
	return 0;
}

int routes_unpin(struct routes *r, uint32_t mark, uint32_t table,
		 uint32_t priority, struct in_addr destination)
{
	char buf[MSG_BUF_SIZE];
	struct nlmsghdr *nlh;
	int err, rule_err;

	nlh = rule_message(buf, RTM_DELRULE, 0, mark, table, priority);
	rule_err = routes_nl_talk(r, nlh, NULL, NULL);
	nlh = host_route(buf, RTM_DELROUTE, 0, table, destination);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (rule_err && rule_err != -ENOENT)
		return routes_fail(r, rule_err, "removing rule fwmark 0x%x: %s",
				   mark, strerror(-rule_err));
	if (err && err != -ESRCH && err != -ENOENT)
		return routes_fail(r, err, "removing pinned route: %s",
				   strerror(-err));
	return 0;
}

struct rule_list {
	char (*messages)[MSG_BUF_SIZE];
	size_t count;
	size_t capacity;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	struct rule_list *list = data;
	const struct nlattr *attr;
	bool ours = false;

	if (nlh->nlmsg_type != RTM_NEWRULE || frh->family != AF_INET)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*frh))
		if (mnl_attr_get_type(attr) == FRA_PROTOCOL &&
		    mnl_attr_get_u8(attr) == ROUTES_PROTOCOL)
			ours = true;
	if (!ours || list->count == list->capacity ||
	    nlh->nlmsg_len > MSG_BUF_SIZE)
		return 0;
	memcpy(list->messages[list->count++], nlh, nlh->nlmsg_len);
	return 0;
}

int routes_rules_cleanup(struct routes *r, unsigned *removed)
{
	static char messages[32][MSG_BUF_SIZE];
	struct rule_list list = { messages, 0, 32 };
	char buf[MSG_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	int err;

	*removed = 0;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	err = routes_nl_talk(r, nlh, rule_cb, &list);
	if (err)
		return routes_fail(r, err, "dumping rules: %s", strerror(-err));
	/* A dumped rule, sent back as RTM_DELRULE, deletes exactly it. */
	for (size_t i = 0; i < list.count; i++) {
		nlh = (struct nlmsghdr *)messages[i];
		nlh->nlmsg_type = RTM_DELRULE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		err = routes_nl_talk(r, nlh, NULL, NULL);
		if (err && err != -ENOENT)
			return routes_fail(r, err, "deleting rule: %s",
					   strerror(-err));
		(*removed)++;
	}
	return 0;
}
