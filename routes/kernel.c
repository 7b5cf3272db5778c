/*
 * routes/ kernel objects: dump nexthops and our routes, and the single
 * netlink operations a plan is made of. One message per operation, each
 * acknowledged before the next, so an error names the object it hit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/netlink.h"

#define MSG_BUF_SIZE 8192

static struct nlmsghdr *new_request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, MSG_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* ---- dumps ---- */

static int parse_group(struct routes_kernel_nexthop *nh,
		       const struct nlattr *attr)
{
	const struct nexthop_grp *grp = mnl_attr_get_payload(attr);
	size_t count = mnl_attr_get_payload_len(attr) / sizeof(*grp);

	nh->is_group = true;
	nh->members = calloc(count + 1, sizeof(*nh->members));
	if (!nh->members)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		nh->members[i] = grp[i].id;
	nh->member_count = count;
	return 0;
}

static int nexthop_cb(const struct nlmsghdr *nlh, void *data)
{
	struct routes_kernel_state *state = data;
	const struct nhmsg *nhm = mnl_nlmsg_get_payload(nlh);
	struct routes_kernel_nexthop *grown, *nh;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP)
		return 0;
	grown = realloc(state->nexthops,
			(state->nexthop_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	state->nexthops = grown;
	nh = &grown[state->nexthop_count++];
	memset(nh, 0, sizeof(*nh));
	nh->protocol = nhm->nh_protocol;
	mnl_attr_for_each(attr, nlh, sizeof(*nhm)) {
		switch (mnl_attr_get_type(attr)) {
		case NHA_ID:
			nh->id = mnl_attr_get_u32(attr);
			break;
		case NHA_GATEWAY:
			if (mnl_attr_get_payload_len(attr) == 4)
				memcpy(&nh->gateway,
				       mnl_attr_get_payload(attr), 4);
			break;
		case NHA_OIF:
			nh->ifindex = mnl_attr_get_u32(attr);
			break;
		case NHA_GROUP_TYPE:
			nh->group_type = mnl_attr_get_u16(attr);
			break;
		case NHA_GROUP:
			if (parse_group(nh, attr))
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

static uint32_t route_table(const struct nlmsghdr *nlh,
			    const struct rtmsg *rtm)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(attr) == RTA_TABLE)
			return mnl_attr_get_u32(attr);
	return rtm->rtm_table;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct routes_kernel_state *state = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct routes_kernel_route *grown, *route;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
	    rtm->rtm_protocol != ROUTES_PROTOCOL)
		return 0;
	grown = realloc(state->routes, (state->route_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	state->routes = grown;
	route = &grown[state->route_count++];
	memset(route, 0, sizeof(*route));
	route->table = route_table(nlh, rtm);
	route->prefix.prefix_len = rtm->rtm_dst_len;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(attr)) {
		case RTA_DST:
			memcpy(&route->prefix.address,
			       mnl_attr_get_payload(attr), 4);
			break;
		case RTA_NH_ID:
			route->nhid = mnl_attr_get_u32(attr);
			break;
		}
	}
	return 0;
}

int routes_kernel_read(struct routes *r, struct routes_kernel_state *state)
{
	char buf[MSG_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct nhmsg *nhm;
	struct rtmsg *rtm;
	int err;

	memset(state, 0, sizeof(*state));
	nlh = new_request(buf, RTM_GETNEXTHOP, NLM_F_DUMP);
	nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	nhm->nh_family = AF_UNSPEC;
	err = routes_nl_talk(r, nlh, nexthop_cb, state);
	if (err) {
		routes_kernel_state_free(state);
		return routes_fail(r, err, "dumping nexthops: %s",
				   strerror(-err));
	}
	nlh = new_request(buf, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	err = routes_nl_talk(r, nlh, route_cb, state);
	if (err) {
		routes_kernel_state_free(state);
		return routes_fail(r, err, "dumping routes: %s",
				   strerror(-err));
	}
	return 0;
}

/* ---- operations ---- */

int routes_nexthop_add(struct routes *r, uint32_t id, struct in_addr gateway,
		       uint32_t ifindex)
{
	char buf[MSG_BUF_SIZE], text[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct nhmsg *nhm;
	int err;

	nlh = new_request(buf, RTM_NEWNEXTHOP, NLM_F_ACK | NLM_F_CREATE |
			  NLM_F_EXCL);
	nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	nhm->nh_family = AF_INET;
	nhm->nh_protocol = ROUTES_PROTOCOL;
	mnl_attr_put_u32(nlh, NHA_ID, id);
	mnl_attr_put(nlh, NHA_GATEWAY, 4, &gateway);
	mnl_attr_put_u32(nlh, NHA_OIF, ifindex);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (err)
		return routes_fail(r, err, "adding nexthop %u via %s: %s", id,
				   inet_ntop(AF_INET, &gateway, text,
					     sizeof(text)),
				   r->error[0] ? r->error : strerror(-err));
	return 0;
}

static void put_resilient_args(struct nlmsghdr *nlh, bool replace)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NHA_RES_GROUP);
	long ticks = sysconf(_SC_CLK_TCK);

	/* The bucket count of an existing group cannot change. */
	if (!replace)
		mnl_attr_put_u16(nlh, NHA_RES_GROUP_BUCKETS,
				 ROUTES_RES_BUCKETS);
	mnl_attr_put_u32(nlh, NHA_RES_GROUP_IDLE_TIMER,
			 (uint32_t)(ROUTES_RES_IDLE_TIMER_S *
				    (ticks > 0 ? ticks : 100)));
	mnl_attr_nest_end(nlh, nest);
}

int routes_group_set(struct routes *r, uint32_t id, uint16_t type,
		     const uint32_t *members, size_t count, bool replace)
{
	struct nexthop_grp *grp;
	struct nlmsghdr *nlh;
	struct nhmsg *nhm;
	char *buf;
	int err;

	if (count == 0 || (type == NEXTHOP_GRP_TYPE_RES &&
			   count > ROUTES_RES_BUCKETS))
		return routes_fail(r, -EINVAL, "nexthop group %u: %zu members "
				   "(1 to %u)", id, count, ROUTES_RES_BUCKETS);
	buf = malloc(MSG_BUF_SIZE + count * sizeof(*grp));
	grp = calloc(count, sizeof(*grp));
	if (!buf || !grp) {
		free(buf);
		free(grp);
		return routes_fail(r, -ENOMEM, "nexthop group %u: out of memory",
				   id);
	}
	for (size_t i = 0; i < count; i++)
		grp[i].id = members[i];		/* weight 0 means 1 */
	memset(buf, 0, MSG_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEXTHOP;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			   (replace ? NLM_F_REPLACE : NLM_F_EXCL);
	nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	nhm->nh_family = AF_UNSPEC;
	nhm->nh_protocol = ROUTES_PROTOCOL;
	mnl_attr_put_u32(nlh, NHA_ID, id);
	mnl_attr_put(nlh, NHA_GROUP, count * sizeof(grp[0]), grp);
	mnl_attr_put_u16(nlh, NHA_GROUP_TYPE, type);
	if (type == NEXTHOP_GRP_TYPE_RES)
		put_resilient_args(nlh, replace);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	free(buf);
	free(grp);
	if (err)
		return routes_fail(r, err, "%s nexthop group %u: %s",
				   replace ? "replacing" : "adding", id,
				   r->error[0] ? r->error : strerror(-err));
	return 0;
}

int routes_nexthop_delete(struct routes *r, uint32_t id)
{
	char buf[MSG_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct nhmsg *nhm;
	int err;

	nlh = new_request(buf, RTM_DELNEXTHOP, NLM_F_ACK);
	nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	nhm->nh_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NHA_ID, id);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	/* Already gone (e.g. removed with its device) is what we wanted. */
	if (err && err != -ENOENT)
		return routes_fail(r, err, "deleting nexthop %u: %s", id,
				   r->error[0] ? r->error : strerror(-err));
	return 0;
}

static struct nlmsghdr *route_message(char *buf, uint16_t type,
				      uint16_t flags, uint32_t table,
				      const struct cg_cidr *prefix)
{
	struct nlmsghdr *nlh = new_request(buf, type, NLM_F_ACK | flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = prefix->prefix_len;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = ROUTES_PROTOCOL;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (prefix->prefix_len)
		mnl_attr_put(nlh, RTA_DST, 4, &prefix->address);
	return nlh;
}

int routes_route_replace(struct routes *r, uint32_t table,
			 const struct cg_cidr *prefix, uint32_t nhid)
{
	char buf[MSG_BUF_SIZE], text[CG_CIDR_STRLEN + 4];
	struct nlmsghdr *nlh;
	int err;

	nlh = route_message(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
			    table, prefix);
	mnl_attr_put_u32(nlh, RTA_NH_ID, nhid);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (err) {
		inet_ntop(AF_INET, &prefix->address, text, sizeof(text));
		return routes_fail(r, err, "route %s/%u table %u nhid %u: %s",
				   text, prefix->prefix_len, table, nhid,
				   r->error[0] ? r->error : strerror(-err));
	}
	return 0;
}

int routes_route_delete(struct routes *r, uint32_t table,
			const struct cg_cidr *prefix)
{
	char buf[MSG_BUF_SIZE], text[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	int err;

	nlh = route_message(buf, RTM_DELROUTE, 0, table, prefix);
	err = routes_nl_talk(r, nlh, NULL, NULL);
	if (err && err != -ESRCH && err != -ENOENT) {
		inet_ntop(AF_INET, &prefix->address, text, sizeof(text));
		return routes_fail(r, err, "deleting route %s/%u table %u: %s",
				   text, prefix->prefix_len, table,
				   r->error[0] ? r->error : strerror(-err));
	}
	return 0;
}

struct link_lookup {
	uint32_t ifindex;
	bool via_gateway;
	uint8_t type;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct link_lookup *lookup = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	lookup->type = rtm->rtm_type;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(attr) == RTA_OIF)
			lookup->ifindex = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == RTA_GATEWAY ||
			 mnl_attr_get_type(attr) == RTA_MULTIPATH ||
			 mnl_attr_get_type(attr) == RTA_VIA)
			lookup->via_gateway = true;
	}
	return 0;
}

int routes_resolve_link(struct routes *r, struct in_addr address,
			uint32_t *ifindex)
{
	char buf[MSG_BUF_SIZE], text[INET_ADDRSTRLEN];
	struct link_lookup lookup = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	inet_ntop(AF_INET, &address, text, sizeof(text));
	nlh = new_request(buf, RTM_GETROUTE, NLM_F_ACK);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put(nlh, RTA_DST, 4, &address);
	err = routes_nl_talk(r, nlh, link_cb, &lookup);
	if (err)
		return routes_fail(r, err, "node %s: no route to it: %s", text,
				   r->error[0] ? r->error : strerror(-err));
	if (lookup.type == RTN_LOCAL)
		return routes_fail(r, -EADDRNOTAVAIL,
				   "node %s is an address of this gateway",
				   text);
	if (lookup.via_gateway || !lookup.ifindex)
		return routes_fail(r, -ENETUNREACH,
				   "node %s is not on-link: the gateway reaches "
				   "it through a router, so it cannot be a "
				   "nexthop (give the gateway a NIC in the "
				   "nodes' subnet)", text);
	*ifindex = lookup.ifindex;
	return 0;
}
